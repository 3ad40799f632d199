"""CBO vintages as data: choosing one, bringing one's own, the checks.

The second vintage here is a test fixture, not CBO's: a copy of the shipped ``2025-01`` under
another name, with the funds rate and the 10-year yield one point higher in every projected year,
so that its baseline differs from the default one's. Tests that need it as a *shipped* vintage
point ``models/data/cbo/`` at a scratch copy holding both.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from debtloops import cli
from debtloops.model import data, datafiles
from debtloops.model.run import prepare
from debtloops.outputs import HEADLINES_NAME, VINTAGE_COLUMN

SHIPPED = datafiles.CBO_DIR / data.DEFAULT_VINTAGE
#: The fixture vintage's name, and the rate series it raises by :data:`RAISE` [percentage points].
FIXTURE = "2099-test"
RAISED = ("fed_funds_rate_pct", "ten_year_yield_pct")
RAISE = 1.0


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def make_vintage(folder: Path, name: str = FIXTURE, raise_rates: bool = True) -> Path:
    """Copy the shipped default vintage into ``folder`` under ``name``, its rates raised."""
    shutil.copytree(SHIPPED, folder)
    toml = folder / data.VINTAGE_NAME
    text = toml.read_text(encoding="utf-8").replace(
        f'name = "{data.DEFAULT_VINTAGE}"', f'name = "{name}"'
    )
    toml.write_text(text, encoding="utf-8")
    if raise_rates:
        rows = _rows(folder / data.PROJECTIONS_NAME)
        for row in rows[1:]:
            if row[0] in RAISED:
                row[2] = repr(float(row[2]) + RAISE)
        _write_rows(folder / data.PROJECTIONS_NAME, rows)
    return folder


@pytest.fixture
def shipped_two(tmp_path, monkeypatch):
    """``models/data/cbo/`` holding the default vintage and the fixture, as if both shipped."""
    root = tmp_path / "cbo"
    shutil.copytree(SHIPPED, root / data.DEFAULT_VINTAGE)
    make_vintage(root / FIXTURE)
    monkeypatch.setattr(datafiles, "CBO_DIR", root)
    return root


def _headlines(out: Path) -> dict[str, dict[str, float]]:
    with (out / HEADLINES_NAME).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row["scenario"]: row for row in rows}


def _extra_columns(row: dict[str, str]) -> dict[str, float]:
    """The headline columns that compare a scenario with its baseline."""
    return {k: float(v) for k, v in row.items() if "extra" in k or "vs baseline" in k}


def test_the_shipped_vintages_are_the_folders_listed(shipped_two):
    assert data.list_vintages() == [data.DEFAULT_VINTAGE, FIXTURE]
    found = data.vintage(FIXTURE)
    assert (found.name, found.start_year, found.ten_year_end) == (FIXTURE, 2025, 2035)
    assert found.ten_year_publication == "BEO Jan 2025"


def test_list_shows_every_vintage_with_its_title_and_years(shipped_two, capsys):
    assert cli.main(["list"]) == 0
    shown = capsys.readouterr().out
    section = shown[shown.index("CBO vintages") : shown.index("Parameters")]
    for name in (data.DEFAULT_VINTAGE, FIXTURE):
        assert f"  {name}  FY2025 start, ten years to FY2035, projected to FY2055" in section
    assert "The Long-Term Budget Outlook: 2025 to 2055" in section


def test_the_option_chooses_the_vintage_and_the_drivers_follow_it(shipped_two):
    default = prepare("baseline").values
    chosen = prepare("baseline", cbo=FIXTURE)
    assert chosen.vintage.name == FIXTURE
    funds = chosen.values["fed_policy_rate_path"]
    for year, value in default["fed_policy_rate_path"].items():
        assert funds[year] == pytest.approx(value + RAISE / data.PERCENT)


def test_a_scenario_file_chooses_the_vintage_and_its_children_inherit_it(shipped_two, tmp_path):
    (tmp_path / "parent.toml").write_text(f'base = "baseline"\ncbo = "{FIXTURE}"\n')
    (tmp_path / "child.toml").write_text('base = "parent"\n[set]\njapan_sale_amount = 100.0\n')
    assert prepare(str(tmp_path / "child.toml")).vintage.name == FIXTURE
    # the command line wins over the files, as --set does
    again = prepare(str(tmp_path / "child.toml"), cbo=data.DEFAULT_VINTAGE)
    assert again.vintage.name == data.DEFAULT_VINTAGE


def test_the_old_layer_name_is_the_default_vintage(tmp_path):
    (tmp_path / "old.toml").write_text('data = "cbo_2025"\n')
    old = prepare(str(tmp_path / "old.toml"))
    assert old.vintage.name == data.DEFAULT_VINTAGE
    assert old.values == prepare("baseline").values


def test_results_record_the_vintage_and_each_scenario_meets_its_own_baseline(shipped_two, tmp_path):
    """A scenario on the fixture, run beside the default baseline, is compared with its own."""
    (tmp_path / "same.toml").write_text(f'base = "baseline"\ncbo = "{FIXTURE}"\n')
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", str(tmp_path / "same.toml"), "--out", str(out)]) == 0
    with xr.open_dataset(out / "same" / "results.nc") as same:
        assert same.attrs["cbo_vintage"] == FIXTURE
        assert same.attrs["cbo_vintage_source"] == "shipped"
        assert len(same.attrs["cbo_vintage_sha256"]) == 64
        higher = float(same["market_yield"].max())
    with xr.open_dataset(out / "baseline" / "results.nc") as baseline:
        assert baseline.attrs["cbo_vintage"] == data.DEFAULT_VINTAGE
        assert higher > float(baseline["market_yield"].max())  # the runs do differ
    rows = _headlines(out)
    extra = _extra_columns(rows["same"])
    assert extra and all(value == 0.0 for value in extra.values()), extra
    # headlines.csv names the vintage of the baseline each row's extras are measured against
    assert rows["same"][VINTAGE_COLUMN] == FIXTURE
    assert rows["baseline"][VINTAGE_COLUMN] == data.DEFAULT_VINTAGE


def test_the_option_runs_the_reference_on_the_same_vintage(shipped_two, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", "--cbo", FIXTURE, "--out", str(out)]) == 0
    extra = _extra_columns(_headlines(out)["baseline"])
    assert all(value == 0.0 for value in extra.values()), extra


def test_a_users_folder_runs_and_is_recorded_by_its_path(tmp_path):
    folder = make_vintage(tmp_path / "mine", "mine-1")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", "japan_full", "--cbo", str(folder), "--out", str(out)]) == 0
    with xr.open_dataset(out / "japan_full" / "results.nc") as run:
        assert run.attrs["cbo_vintage"] == "mine-1"
        assert run.attrs["cbo_vintage_source"] == str(folder.resolve())
    assert all(value == 0.0 for value in _extra_columns(_headlines(out)["baseline"]).values())
    assert _headlines(out)["japan_full"][VINTAGE_COLUMN] == f"mine-1 ({folder.resolve()})"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # only read


def test_an_unknown_vintage_name_gives_the_list_and_the_nearest(capsys, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", "--cbo", "2025-1", "--out", str(out)]) == 2
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0
    assert "unknown CBO vintage '2025-1'" in message and data.DEFAULT_VINTAGE in message
    assert not out.exists()


def test_an_unknown_vintage_in_a_scenario_file_is_refused(tmp_path):
    (tmp_path / "s.toml").write_text('base = "baseline"\ncbo = "2025-O1"\n')
    with pytest.raises(data.InputError, match="unknown CBO vintage.*2025-01"):
        prepare(str(tmp_path / "s.toml"))


def test_the_option_is_refused_for_a_scenario_not_on_cbo_data(tmp_path, capsys):
    (tmp_path / "plain.toml").write_text("[set]\njapan_sale_amount = 10.0\n")
    out = tmp_path / "out"
    argv = ["run", str(tmp_path / "plain.toml"), "--cbo", data.DEFAULT_VINTAGE, "--out", str(out)]
    assert cli.main(argv) == 2
    assert "not on CBO's data" in capsys.readouterr().err
    assert not out.exists()


def _edit_rows(change):
    def edit(folder: Path) -> None:
        path = folder / data.PROJECTIONS_NAME
        _write_rows(path, change(_rows(path)))

    return edit


def _first(rows, series, year=None):
    """Index of the first row of a series (of a year, if given)."""
    return next(
        i
        for i, row in enumerate(rows)
        if row[0] == series and (year is None or row[1] == str(year))
    )


def _set(series, column, value, year=None):
    def change(rows):
        rows[_first(rows, series, year)][column] = value
        return rows

    return _edit_rows(change)


def _drop(series, year=None):
    return _edit_rows(
        lambda rows: [
            row for row in rows if not (row[0] == series and (year is None or row[1] == str(year)))
        ]
    )


def _swap_years(series):
    def change(rows):
        i = _first(rows, series)
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
        return rows

    return _edit_rows(change)


def _toml(old, new):
    def edit(folder: Path) -> None:
        path = folder / data.VINTAGE_NAME
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")

    return edit


def _remove(name):
    return lambda folder: (folder / name).unlink()


def _link_outside(folder: Path) -> None:
    outside = folder.parent / "elsewhere.csv"
    (folder / data.PROJECTIONS_NAME).rename(outside)
    (folder / data.PROJECTIONS_NAME).symlink_to(outside)


#: A broken user's vintage and what its one-line message must hold (the file and the row).
BAD_FOLDERS = {
    "missing vintage.toml": (_remove(data.VINTAGE_NAME), "has no vintage.toml"),
    "missing projections.csv": (_remove(data.PROJECTIONS_NAME), "has no projections.csv"),
    "missing projections.md": (_remove(data.SOURCES_NAME), "has no projections.md"),
    "missing series": (
        _drop("ten_year_yield_pct"),
        "projections.csv: no series ten_year_yield_pct",
    ),
    "wrong units": (
        _edit_rows(
            lambda rows: [r[:3] + ["million USD"] + r[4:] if r[0] == "revenue" else r for r in rows]
        ),
        r"projections.csv, line \d+: revenue is in 'million USD'; .*'billion USD'",
    ),
    "units changing within a series": (
        _set("nominal_gdp", 3, "million USD", 2030),
        r"projections.csv, line \d+: series nominal_gdp has two units, 'million USD' here",
    ),
    "a gap": (_drop("revenue", 2030), r"projections.csv, line \d+: .*revenue.* lacks FY2030"),
    "a gap in the debt path": (
        _drop("debt_held_by_public_pct_gdp", 2040),
        r"line \d+: series debt_held_by_public_pct_gdp of 'BEO Jan 2025' or 'LTBO 2025' "
        "lacks FY2040",
    ),
    "a gap in the long-term GDP": (
        _edit_rows(
            lambda rows: [r for r in rows if not (r[0] == "nominal_gdp" and r[1:2] == ["2040"])]
        ),
        r"line \d+: series nominal_gdp of 'LTBO 2025' lacks FY2040; .* every year FY2036-FY2055",
    ),
    "years not increasing": (
        _swap_years("net_interest"),
        r"projections.csv, line \d+: net_interest FY2024 follows FY2025",
    ),
    "a year given twice": (
        _set("net_interest", 1, "2024", 2025),
        r"projections.csv, line \d+: .*net_interest.*2024",
    ),
    "a value not a number": (
        _set("revenue", 2, "n/a", 2028),
        r"projections.csv, line \d+: year '2028' or value 'n/a' is not a number",
    ),
    "a year not a number": (_set("revenue", 1, "FY28", 2028), r"line \d+: year 'FY28'"),
    "an infinite value": (_set("revenue", 2, "inf", 2028), r"line \d+: the value is not finite"),
    "a short row": (
        _edit_rows(lambda rows: [*rows[:5], rows[5][:4], *rows[6:]]),
        r"projections.csv, line 6: 4 fields, expected 6",
    ),
    "a wrong header": (
        _edit_rows(lambda rows: [["series", "year", *rows[0][2:]], *rows[1:]]),
        r"projections.csv: the header is series, year",
    ),
    "an unknown publication": (
        _set("revenue", 4, "BEO Jan 2052", 2028),
        r"line \d+: publication 'BEO Jan 2052' is neither.*nearest: BEO Jan 2025",
    ),
    "vintage.toml not TOML": (
        _toml("start_year = 2025", "start_year = 2025 2025"),
        r"vintage.toml is not valid TOML",
    ),
    "vintage.toml lacks a key": (
        _toml("ten_year_end = 2035\n", ""),
        r"vintage.toml: the key 'ten_year_end' is missing",
    ),
    "vintage.toml unknown key": (
        _toml("ten_year_end", "ten_years_end"),
        r"vintage.toml: unknown key 'ten_years_end'; did you mean: ten_year_end",
    ),
    "vintage.toml year as text": (
        _toml("start_year = 2025", 'start_year = "2025"'),
        r"vintage.toml: start_year = '2025' must be an integer year",
    ),
    "vintage.toml start after the history": (
        _toml("start_year = 2025", "start_year = 2031"),
        r"start_year = 2031 is outside the history.*nearest valid value: 2025",
    ),
    "vintage.toml ends before it starts": (
        _toml("ten_year_end = 2035", "ten_year_end = 2020"),
        r"ten_year_end = 2020 is not after start_year = 2025",
    ),
    "a file that is a link": (_link_outside, r"projections.csv is a symbolic link"),
}


@pytest.mark.parametrize("case", list(BAD_FOLDERS))
def test_a_bad_users_folder_is_refused_in_one_line_writing_nothing(case, tmp_path, capsys):
    edit, expected = BAD_FOLDERS[case]
    folder = make_vintage(tmp_path / "mine", "mine-1", raise_rates=False)
    edit(folder)
    before = sorted(p.name for p in folder.iterdir())
    out = tmp_path / "out"
    assert cli.main(["run", "japan_full", "--cbo", str(folder), "--out", str(out)]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("debtloops: error: ") and "\n" not in message
    assert re.search(expected, message), message
    assert not out.exists()
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_missing_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", "--cbo", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "does not exist or is not a folder" in capsys.readouterr().err
    assert not out.exists()


def test_results_are_never_written_inside_a_users_vintage(tmp_path, capsys):
    folder = make_vintage(tmp_path / "mine", "mine-1", raise_rates=False)
    before = sorted(p.name for p in folder.iterdir())
    argv = ["run", "baseline", "--cbo", str(folder), "--out", str(folder / "out")]
    assert cli.main(argv) == 2
    assert "only reads" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_every_shipped_vintage_passes_its_own_checks_and_prepares_a_baseline():
    for name in data.list_vintages():
        found = data.vintage(name)
        assert found.name == name and found.shipped
        assert (found.folder / data.SOURCES_NAME).is_file()
        values = prepare("baseline", cbo=name).values
        assert values["initial_time"] == found.start_year
        assert values["final_time"] == found.long_term_end


def test_validate_refuses_a_bad_vintage_before_any_work(tmp_path, capsys):
    folder = make_vintage(tmp_path / "mine", "mine-1", raise_rates=False)
    _drop("revenue", 2030)(folder)
    out = tmp_path / "out"
    assert cli.main(["validate", "--cbo", str(folder), "--out", str(out)]) == 2
    assert "lacks FY2030" in capsys.readouterr().err
    assert not out.exists()


def test_the_cbo_checks_read_the_vintage_they_are_given(tmp_path):
    """A copy of the default vintage under another name checks the same; a raised one does not."""
    from debtloops.model.run import run_scenario
    from debtloops.validation import fidelity

    def checks(cbo):
        comparison = fidelity.cbo_comparison(run_scenario("baseline", cbo=cbo), cbo)
        return {
            c.check: (c.model, c.reference, c.source) for c in fidelity.cbo_checks(comparison, cbo)
        }

    default = checks(None)
    same = checks(make_vintage(tmp_path / "same", "same-1", raise_rates=False))
    assert same.keys() == default.keys()
    for name, (model, reference, source) in same.items():
        assert (model, reference) == pytest.approx(default[name][:2], rel=1e-12), name
        assert source.startswith("CBO vintage same-1: ")
    raised = checks(make_vintage(tmp_path / "raised"))
    assert any(raised[name][0] != pytest.approx(default[name][0]) for name in default)


@pytest.mark.parametrize("text", ["", "   ", "a\0b", "x" * 300, "../" * 2000])
def test_an_unusable_option_text_is_a_usage_error(text, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", "--cbo", text, "--out", str(out)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not out.exists()


def test_a_projections_file_not_utf8_is_refused(tmp_path, capsys):
    folder = make_vintage(tmp_path / "mine", "mine-1", raise_rates=False)
    path = folder / data.PROJECTIONS_NAME
    path.write_bytes(path.read_bytes().replace(b"billion USD", b"billion \xff USD", 1))
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", "--cbo", str(folder), "--out", str(out)]) == 2
    assert "projections.csv is not UTF-8 text" in capsys.readouterr().err
    assert not out.exists()


def test_a_scenario_starting_earlier_meets_the_baseline_from_its_own_start(tmp_path):
    (tmp_path / "early.toml").write_text('base = "baseline"\n[set]\ninitial_time = 2020.0\n')
    out = tmp_path / "out"
    assert cli.main(["run", "baseline", str(tmp_path / "early.toml"), "--out", str(out)]) == 0
    with xr.open_dataset(out / "early" / "results.nc") as early:
        assert float(early["fiscal_year"][0]) == 2020.0
        assert early.attrs["cbo_vintage"] == data.DEFAULT_VINTAGE
    extra = _extra_columns(_headlines(out)["early"])
    assert extra and all(value == 0.0 for value in extra.values()), extra


@settings(max_examples=25, deadline=None, database=None)
@given(
    row=st.integers(min_value=1, max_value=len(_rows(SHIPPED / data.PROJECTIONS_NAME)) - 1),
    change=st.sampled_from(["drop", "zero", "negative", "text", "year"]),
)
def test_a_damaged_row_is_run_or_refused_never_a_crash(tmp_path_factory, row, change):
    """Any one row dropped or changed: the vintage prepares a run or is refused with InputError."""
    folder = make_vintage(tmp_path_factory.mktemp("v") / "mine", "mine-1", raise_rates=False)
    path = folder / data.PROJECTIONS_NAME
    rows = _rows(path)
    if change == "drop":
        del rows[row]
    elif change == "year":
        rows[row][1] = str(int(rows[row][1]) + 1)
    else:
        rows[row][2] = {"zero": "0", "negative": "-1e6", "text": "1,5"}[change]
    _write_rows(path, rows)
    try:
        prepare("baseline", cbo=folder)
    except data.InputError as error:
        assert "\n" not in str(error)
