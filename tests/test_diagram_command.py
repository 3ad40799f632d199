"""``debtloops diagram``: loop tables, dominance and diagrams, and its bad input."""

import contextlib
import csv
import io
import json

import pytest
import xarray as xr
from cf_checks import cf_problems

from debtloops import cli
from debtloops.io import OWN_NAMES
from debtloops.loops.inventory import loop_key, read_families, read_inventory


@pytest.fixture(scope="module")
def printed_and_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("diagram")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["diagram", "--scenario", "japan_full", "--loop", "R1", "--out", str(out)])
    assert code == 0
    return printed.getvalue(), out


@pytest.fixture(scope="module")
def report(printed_and_report):
    return printed_and_report[1]


def test_the_overview_is_named_first(printed_and_report):
    printed, out = printed_and_report
    first = printed.splitlines()[0]
    assert (
        first
        == f"overview of the feedback loops: {out / 'overview.svg'} and {out / 'overview.png'}"
    )
    assert (out / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_writes_tables_dominance_and_diagrams(report):
    names = {p.name for p in report.iterdir()}
    expected = {
        "overview.dot",
        "overview.svg",
        "overview.png",
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
    assert not [n for n in names if n.startswith(".") and n not in OWN_NAMES]


def test_loops_csv_and_json_describe_every_loop_of_the_model(report):
    with (report / "loops.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    inventory = {entry.id: entry for entry in read_inventory()}
    families = read_families()
    # every loop once: the named loops by their ids, then each family's loops numbered from 1
    expected = [*sorted(inventory)]
    expected += [f"{f.id}.{i}" for f in families for i in range(1, f.loops + 1)]
    assert [row["id"] for row in rows] == expected
    assert len({row["variables"] for row in rows}) == len(rows)
    for row in rows:
        assert row["measured_polarity"] in {"R", "B", "0", "?"}
        assert int(row["length"]) == len(row["variables"].split(" -> "))
        if row["mean_abs_score"]:
            assert float(row["peak_abs_score"]) >= float(row["mean_abs_score"]) >= 0.0
        entry = inventory.get(row["id"])
        if entry is not None:
            assert row["family"] == "" and row["name"] == entry.name
            assert row["polarity"] == entry.polarity
            assert row["variables"] == " -> ".join(entry.variables)
            assert row["mean_abs_score"] != ""  # every named loop is scored
        else:
            family = next(f for f in families if f.id == row["family"])
            assert row["id"].startswith(f"{family.id}.") and row["name"] == family.name
            assert row["polarity"] == ""
            assert set(family.links) <= loop_key(row["variables"].split(" -> "))
    snowball = next(row for row in rows if row["id"] == "R1")
    assert snowball["measured_polarity"] == "R"
    data = json.loads((report / "loops.json").read_text())
    assert data["scenario"] == "japan_full" and len(data["loops"]) == len(rows)
    assert [f["id"] for f in data["families"]] == [f.id for f in families]


def test_dominance_is_a_loop_by_time_dataset(report):
    with (report / "loops.csv").open() as handle:
        scored = {row["id"] for row in csv.DictReader(handle) if row["mean_abs_score"]}
    with xr.open_dataset(report / "dominance.nc") as ds:
        assert ds["score"].dims == ("loop", "time")
        assert set(ds["loop"].values) == scored
        assert {entry.id for entry in read_inventory()} <= scored
        assert bool(abs(ds["score"]).max() <= 1.0)
        assert ds["fiscal_year"].attrs["units"] == "year"  # beside the CF time axis
    assert cf_problems(report / "dominance.nc") == []
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "portfolio_balance_sensitivty=0.5"],
            "did you mean: portfolio_balance_sensitivity",
        ),
        (["--final-time", "1990"], "final_time"),
    ],
)
def test_bad_overrides_exit_2_before_anything_is_written(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["diagram", "--scenario", "article", "--loop", "R1", *args, "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_overrides_and_the_final_time_reach_every_run_the_report_measures(tmp_path, monkeypatch):
    """--set and --final-time change the scored run and the runs that measure the polarities."""
    from debtloops import loop_report

    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    def polarities(graph, scenarios, overrides=None, cbo=None):
        seen.setdefault("polarities", []).append((tuple(scenarios), dict(overrides or {})))
        return {edge: "+" for edge in graph.edges}

    def dominance(values, loops):
        seen["values"] = dict(values)
        raise Stop

    monkeypatch.setattr(loop_report, "measure_polarities", polarities)
    monkeypatch.setattr(loop_report, "loop_dominance", dominance)
    wanted = {"portfolio_balance_sensitivity": 0.5}
    with pytest.raises(Stop):
        loop_report.write_loop_report(tmp_path, "article", "R1", None, wanted, 2031.0)
    assert seen["values"]["final_time"] == 2031.0
    assert seen["values"]["portfolio_balance_sensitivity"] == 0.5
    assert [s for s, _ in seen["polarities"]][0] == ("article",)
    assert len(seen["polarities"]) == 2
    assert all(o == {**wanted, "final_time": 2031.0} for _, o in seen["polarities"])
