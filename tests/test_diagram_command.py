"""``debtloops diagram``: loop tables, dominance and diagrams, and its bad input."""

import csv
import json

import pytest
import xarray as xr

from debtloops import cli
from debtloops.loops import read_inventory
from debtloops.results import LOCK_NAME


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("diagram")
    assert cli.main(["diagram", "--scenario", "japan_full", "--loop", "R1", "--out", str(out)]) == 0
    return out


def test_the_command_writes_tables_dominance_and_diagrams(report):
    names = {p.name for p in report.iterdir()}
    expected = {
        "loops.csv",
        "loops.json",
        "dominance.nc",
        "dominance.csv",
        "dominance.png",
        "polarity_check.csv",
        "cld.dot",
        "cld.svg",
        "cld.png",
        "cld.mmd",
        "stock_flow.dot",
        "stock_flow.svg",
        "stock_flow.png",
        "loop_R1.dot",
        "loop_R1.svg",
        "loop_R1.png",
    }
    assert expected <= names
    assert not [n for n in names if n.startswith(".") and n != LOCK_NAME]


def test_loops_csv_and_json_describe_every_inventory_loop(report):
    with (report / "loops.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    inventory = {entry.id: entry for entry in read_inventory()}
    assert {row["id"] for row in rows} == set(inventory)
    for row in rows:
        entry = inventory[row["id"]]
        assert row["name"] == entry.name and row["polarity"] == entry.polarity
        assert row["measured_polarity"] in {"R", "B", "0", "?"}
        assert int(row["length"]) == len(entry.variables)
        assert float(row["peak_abs_score"]) >= float(row["mean_abs_score"]) >= 0.0
    snowball = next(row for row in rows if row["id"] == "R1")
    assert snowball["measured_polarity"] == "R"
    data = json.loads((report / "loops.json").read_text())
    assert data["scenario"] == "japan_full" and len(data["loops"]) == len(rows)


def test_dominance_is_a_loop_by_time_dataset(report):
    with xr.open_dataset(report / "dominance.nc") as ds:
        assert ds["score"].dims == ("loop", "time")
        assert set(ds["loop"].values) == {entry.id for entry in read_inventory()}
        assert bool(abs(ds["score"]).max() <= 1.0)
    table = (report / "dominance.csv").read_text().splitlines()
    assert table[0].startswith("start,end,loop")
    assert len(table) > 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "japan_fll"], "unknown scenario 'japan_fll'; did you mean: japan_full"),
        (["--loop", "interest snowbal"], "unknown loop 'interest snowbal'; did you mean:"),
    ],
)
def test_unknown_names_exit_2_and_write_nothing(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["diagram", *args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_unwritable_folder_exits_2_and_writes_nothing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cli.main(["diagram", "--loop", "R1", "--out", str(blocker / "sub")]) == 2
    assert "cannot create output folder" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"
