"""End to end: the command line and the Python API produce labelled, complete results."""

import json
import subprocess
import sys

import matplotlib.image
import PIL.Image
import pytest
import xarray as xr

from debtloops import cli, load_parameters, run_scenarios
from debtloops.figures.dashboard import FIGURE_SIZE
from debtloops.figures.style import DPI
from debtloops.model.contract import OUTPUT_UNITS


@pytest.fixture(scope="module")
def article_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    status = cli.main(["run", "article", "japan_full", "--out", str(out)])
    assert status == 0
    return out


def test_run_writes_netcdf_with_the_contract_names_and_units(article_run):
    with xr.open_dataset(article_run / "article" / "results.nc") as ds:
        for name, units in OUTPUT_UNITS.items():
            assert name in ds, name
            assert ds[name].attrs.get("debtloops_units", ds[name].attrs["units"]) == units, name
            assert ds[name].attrs["long_name"], name
            assert ds[name].dims == ("time",)
        assert float(ds["fiscal_year"][0]) == 2025.0 and float(ds["fiscal_year"][-1]) == 2055.0


def test_run_records_provenance(article_run):
    with xr.open_dataset(article_run / "article" / "results.nc") as ds:
        attrs = ds.attrs
    assert attrs["scenario"] == "article"
    assert attrs["scenario_chain"] == "baseline -> article"
    assert "japan_sale_amount = 120.0" in attrs["scenario_text"]
    parameters = json.loads(attrs["parameters"])
    assert set(parameters) == set(load_parameters())
    assert parameters["japan_sale_amount"] == 120.0
    assert len(attrs["git_commit"]) >= 7
    assert "pysd" in json.loads(attrs["package_versions"])
    assert len(attrs["model_sha256"]) == 64


def test_run_writes_csv_dashboard_and_headlines(article_run):
    csv = (article_run / "japan_full" / "results.csv").read_text().splitlines()
    assert csv[0].startswith("time [year],date,") and "debt_to_gdp [1]" in csv[0]
    assert len(csv) == 1 + 121  # 2025 to 2055 every quarter
    png = article_run / "japan_full" / "dashboard.png"
    with PIL.Image.open(png) as image:
        assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.5)
    # saved cropped to what is drawn, with the source line added: near the figure's size
    height, width = matplotlib.image.imread(png).shape[:2]
    assert (
        abs(width / (FIGURE_SIZE[0] * DPI) - 1) < 0.1
        and abs(height / (FIGURE_SIZE[1] * DPI) - 1) < 0.1
    )
    headlines = (article_run / "headlines.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in headlines[1:]] == ["article", "japan_full"]


def test_run_prints_the_headline_table(tmp_path, capsys):
    assert cli.main(["run", "japan_full", "--final-time", "2040", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in (
        "debt/GDP 2035",
        "debt/GDP 2040",
        "peak 10y yield",
        "peak extra yield",
        "extra interest 2025-2035",
        "dollar trough",
    ):
        assert column in header
    row = next(line for line in out.splitlines() if line.startswith("japan_full"))
    cells = row.split()
    peak_extra_bp, extra_interest = float(cells[4]), float(cells[5].replace(",", ""))
    assert peak_extra_bp > 10
    assert extra_interest > 0


def test_list_shows_scenarios_and_parameters(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "article_stress" in out and "japan_china" in out
    for param in load_parameters().values():
        assert param.name in out


def test_python_api_returns_scenarios_side_by_side():
    # a fixed term premium (not anchored to CBO's 10-year): at the start, before any market
    # premium, the 10-year is the expected policy rate over ten years plus that level
    overrides = {"anchored_term_premium_switch": 0.0, "term_premium_level": 0.008}
    ds = run_scenarios(["baseline", "article"], overrides=overrides, final_time=2035)
    assert ds["market_yield"].dims == ("scenario", "time")
    assert list(ds["scenario"].values) == ["baseline", "article"]
    start = ds.sel(scenario="baseline", time=2025.0)
    assert float(start["market_yield"]) == pytest.approx(
        float(start["expected_short_rate_10y"]) + 0.008
    )
    assert (
        json.loads(str(ds["parameters"].sel(scenario="article").item()))["japan_sale_amount"] == 120
    )


def test_the_console_script_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "debtloops.cli", "run", "nope", "--out", "unused"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "did you mean" in done.stderr


def test_ctrl_c_while_the_command_line_loads_exits_130(capsys, interrupt_import):
    from debtloops import entry

    interrupt_import("debtloops.cli")
    assert entry.main() == entry.INTERRUPTED
    assert capsys.readouterr().err.strip() == (
        "debtloops: interrupted while starting; nothing was run or written"
    )


# ---- debtloops export: the XMILE itself is tested in test_xmile.py -----------------------------


def test_a_bad_export_writes_nothing(tmp_path, capsys):
    target = tmp_path / "model.stmx"
    assert cli.main(["export", "--out", str(target), "--scenario", "artcle"]) == 2
    assert "article" in capsys.readouterr().err  # the nearest name
    assert cli.main(["export", "--out", str(target), "--final-time", "1990"]) == 2
    assert "final" in capsys.readouterr().err.lower()
    assert cli.main(["export", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
