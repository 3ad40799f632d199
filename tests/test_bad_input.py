"""Bad input: a clear error naming the problem and the nearest valid choice, exit status 2, and
nothing written. A run that reaches an impossible state exits with status 3 and writes nothing."""

import re
from pathlib import Path

import pytest
from conftest import overrides_that_empty_private_holdings

from debtloops import cli, io, outputs


def _files(folder):
    """Everything in ``folder`` but the lock file and the manifest that every writer leaves."""
    if not folder.exists():
        return []
    found = (p.relative_to(folder) for p in folder.rglob("*") if p.name not in io.OWN_NAMES)
    return sorted(found)


CASES = {
    "unknown scenario": (["japan_ful"], "unknown scenario 'japan_ful'; did you mean: japan_full"),
    "unknown parameter": (
        ["article", "--set", "japan_sale_amont=10"],
        "unknown parameter 'japan_sale_amont'; did you mean: japan_sale_amount",
    ),
    "negative sale": (
        ["article", "--set", "japan_sale_amount=-5"],
        r"japan_sale_amount = -5 .* outside its valid range .* nearest valid value: 0",
    ),
    "sale larger than the holdings": (
        ["article", "--set", "japan_sale_amount=2000"],
        r"more than Japan holds .* nearest valid value: 1189\.3",
    ),
    "China sells more than it holds": (
        ["japan_china", "--set", "china_sale_amount=700"],
        r"more than China holds .* nearest valid value: 683\.5",
    ),
    "time step not a power of two": (
        ["article", "--set", "time_step=0.05"],
        r"time_step = 0\.05 .* power of two .* nearest valid value: 0\.0625",
    ),
    "final time before the start": (
        ["article", "--final-time", "2020"],
        r"final_time = 2020 .* one saving interval .* nearest valid value: 2025\.25",
    ),
    "NaN in a time series": (
        ["article", "--set", "primary_deficit_share_of_gdp=2025:0.02,2030:nan"],
        r"primary_deficit_share_of_gdp: nan is not a finite number .* year 2030",
    ),
    "infinity in a time series": (
        ["article", "--set", "nominal_gdp_growth_path=2025:0.04,2040:inf"],
        r"nominal_gdp_growth_path: inf is not a finite number .* year 2040",
    ),
    "NaN constant": (
        ["article", "--set", "term_premium_level=nan"],
        "term_premium_level: nan is not a finite",
    ),
    "time series for a constant": (
        ["article", "--set", "foreign_official_share=2025:0.4,2030:0.5"],
        "foreign_official_share is a constant, not a driver",
    ),
    "malformed override": (["article", "--set", "term_premium_level"], "expected NAME=VALUE"),
    "time constant below its valid minimum": (
        ["article", "--set", "price_discovery_time=0.05"],
        r"price_discovery_time = 0\.05 .* nearest valid value: 0\.125",
    ),
    "saveper not a multiple of the step": (
        ["article", "--set", "saveper=0.3"],
        r"saveper = 0\.3 .* whole multiple .* nearest valid value: 0\.3125",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_and_writes_nothing(case, tmp_path, capsys):
    args, message = CASES[case]
    out = tmp_path / "out"
    status = cli.main(["run", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("debtloops: error: ")
    assert re.search(message, err), err
    assert _files(out) == []


def test_a_run_that_goes_negative_exits_3_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    # the Fed and other foreign holders buying their valid maximum from private investors, with the
    # largest valid surplus and the shortest valid times, take more than private investors hold
    extremes = overrides_that_empty_private_holdings()
    sets = [f"--set={name}={value}" for name, value in extremes.items()]
    status = cli.main(["run", "article", *sets, "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 3
    assert "domestic_private_holdings went negative" in err and "at time" in err
    assert _files(out) == []


def test_an_unwritable_output_folder_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status = cli.main(["run", "article", "--out", str(blocker / "sub")])
    assert status == 2
    assert "cannot create output folder" in capsys.readouterr().err


def test_a_crash_while_writing_leaves_no_half_result(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs, "plot_dashboard", explode)
    assert cli.main(["run", "article", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: disk full" in err and "please report it" in err
    assert _files(out) == []


def test_an_existing_result_survives_a_failed_rewrite(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", "article", "--final-time", "2030", "--out", str(out)]) == 0
    before = (out / "article" / "results.csv").read_bytes()
    before_names = sorted(p.name for p in (out / "article").iterdir())
    monkeypatch.setattr(outputs, "plot_dashboard", lambda *a, **k: 1 / 0)
    assert cli.main(["run", "article", "--out", str(out)]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    assert (out / "article" / "results.csv").read_bytes() == before
    assert _files(out) == sorted(
        [Path("article"), *(Path("article", n) for n in before_names), Path("headlines.csv")]
    )
