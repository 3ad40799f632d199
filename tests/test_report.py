"""The self-contained HTML report: its content, its bad input, and offline in a real browser."""

import base64
import re

import pytest

from debtloops.cli import main
from debtloops.io import SCRATCH_PREFIX
from debtloops.loops.inventory import NamedLoop
from debtloops.model.run import run_scenarios
from debtloops.outputs import HEADLINE_DECIMALS, headline, headline_table
from debtloops.provenance import git_commit

pytest.importorskip("bokeh")

from debtloops.app.report import REPORT_NAME, check_sweep_folder  # noqa: E402

SCENARIOS = ["article", "japan_full"]
#: A sweep small enough for a test: 16 Latin-hypercube samples of two parameters in one scenario.
TINY_SWEEP = """\
# tiny: a small Latin hypercube for the report's tests.
scenarios = ["article"]
outcomes = ["debt_to_gdp", "market_yield", "interest_to_revenue", "cumulative_net_interest"]

[sampler]
method = "lhs"
samples = 16
seed = 7

[uncertainties.portfolio_balance_sensitivity]
distribution = "uniform"

[uncertainties.flow_effect_sensitivity]
distribution = "uniform"
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "tiny.toml"
    spec.write_text(TINY_SWEEP, encoding="utf-8")
    out = folder / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    assert main(["analyze", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory, sweep_dir):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", *SCENARIOS, "--sweep", str(sweep_dir), "--out", str(out)]) == 0
    return out / REPORT_NAME


@pytest.mark.slow
def test_report_holds_the_headlines_of_debtloops_run(report):
    text = report.read_text(encoding="utf-8")
    runs = run_scenarios([*SCENARIOS, "baseline"])
    baseline = runs.sel(scenario="baseline")
    rows = [headline(name, runs.sel(scenario=name), baseline) for name in SCENARIOS]
    table = headline_table(rows)
    for name in SCENARIOS:
        cells = "".join(f"<td>{value:,.{HEADLINE_DECIMALS}f}</td>" for value in table.loc[name])
        assert f'<td class="text">{name}</td>{cells}' in text


@pytest.mark.slow
def test_report_is_self_contained_and_complete(report, sweep_dir):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=\"(?!data:)", text)
    assert "Bokeh" in text and text.count("<svg") >= 2
    assert git_commit() in text
    for section in ("Headlines", "Charts", "Dashboards", "Feedback loops", "Validation"):
        assert f"<h2>{section}</h2>" in text
    embedded = set(re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text))
    for path in sweep_dir.glob("*.png"):
        assert base64.b64encode(path.read_bytes()).decode("ascii") in embedded, path.name
    assert "R1 " in text or ">R1<" in text
    assert not [p for p in report.parent.iterdir() if p.name.startswith(SCRATCH_PREFIX)]


def test_report_refuses_bad_input_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", "japan_fll", "--out", str(out)]) == 2
    assert "japan_full" in capsys.readouterr().err
    assert not out.exists()
    assert main(["report", "article", "--sweep", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "no such folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "sweep.zarr").mkdir()
    assert main(["report", "article", "--sweep", str(empty), "--out", str(out)]) == 2
    assert f"debtloops analyze {empty}" in capsys.readouterr().err
    assert not out.exists()


def test_a_loop_inventory_out_of_date_with_the_model_is_named_not_a_traceback(
    tmp_path, capsys, monkeypatch
):
    from debtloops.app import report as report_module

    gone = NamedLoop("R99", "a link the model lacks", "R", ("debt held by public", "nope"))
    monkeypatch.setattr(report_module, "read_inventory", lambda: [gone])
    out = tmp_path / "out"
    assert main(["report", "article", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "models/README.md is out of date with the model" in err and "R99" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_sweep_folder_lists_what_analyze_wrote_not_the_store(tmp_path):
    (tmp_path / "sweep.zarr").mkdir()
    (tmp_path / "sweep.zarr" / "zarr.json").write_bytes(b"")
    for name in ("analysis.nc", "fan_debt_to_gdp.png", "table.csv", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in check_sweep_folder(tmp_path)] == [
        "analysis.nc",
        "fan_debt_to_gdp.png",
        "table.csv",
    ]


@pytest.mark.slow
def test_report_opens_offline_without_requests_or_errors(browser, report, artefact):
    url = report.resolve().as_uri()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requested, problems = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    def only_the_file(route):
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_the_file)
    page.goto(url)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
    plots = page.evaluate(
        "() => Bokeh.documents[0].roots().flatMap(root => root.children ? root.children : [root])"
        ".length"
    )
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artefact("report.png"))
    page.close()
    assert requested == [url]
    assert problems == []
    assert plots >= 1


def test_inline_bokeh_loads_nothing_even_after_panel_is_imported():
    from debtloops.app.report import inline_bokeh

    pytest.importorskip("panel")
    text = inline_bokeh()
    assert "Bokeh" in text and len(text) > 100_000
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)
