"""The self-contained HTML report: its content, its bad input, and offline in a real browser."""

import base64
import csv
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from debtloops.cli import main
from debtloops.io import SCRATCH_PREFIX
from debtloops.loops.inventory import NamedLoop
from debtloops.model.run import execute, prepare, reference_for
from debtloops.outputs import HEADLINE_DECIMALS, HEADLINES_NAME, headline, headline_table
from debtloops.provenance import git_commit

pytest.importorskip("bokeh")

from debtloops.app.report import (  # noqa: E402
    REPORT_NAME,
    TEMPLATE_NAME,
    check_sweep_folder,
    duration_words,
    environment,
    money,
    month_of,
)
from debtloops.figures.extras import PANELS, extras_figure, sale_windows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: A scenario file whose header and name carry markup: the report must show it as text.
HOSTILE = """\
# hostile: Japan sells <script>window.hostile = 1</script> & "more" over one year.
# Intent: a scenario text with markup in it, for the report's escaping.
base = "article"
"""
#: Draws of each fan in the report under test: a few, for speed (the fan's own tests check it).
FAN_DRAWS = 20
#: The printable width of an A4 page with the report's @page margins (210 mm less 2 x 12 mm) at
#: CSS's 96 pixels per inch [CSS pixel].
A4_PRINT_WIDTH = round((210 - 2 * 12) / 25.4 * 96)
#: Its printable height (297 mm less the 14 mm and 16 mm margins) [CSS pixel].
A4_PRINT_HEIGHT = round((297 - 14 - 16) / 25.4 * 96)

SCENARIO_NAMES = ["baseline", "hostile", "japan_full"]
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
def scenarios(tmp_path_factory):
    """The report's scenarios: the baseline, a file with markup in its text, japan_full."""
    folder = tmp_path_factory.mktemp("scenarios")
    hostile = folder / "hostile.toml"
    hostile.write_text(HOSTILE, encoding="utf-8")
    return ["baseline", str(hostile), "japan_full"]


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
def report(tmp_path_factory, sweep_dir, scenarios):
    out = tmp_path_factory.mktemp("report")
    args = ["report", *scenarios, "--sweep", str(sweep_dir), "--fan-draws", str(FAN_DRAWS)]
    assert main([*args, "--out", str(out)]) == 0
    return out / REPORT_NAME


@pytest.fixture(scope="module")
def headlines_csv(tmp_path_factory, scenarios):
    """``headlines.csv`` as ``debtloops run`` writes it for the report's scenarios, by name."""
    out = tmp_path_factory.mktemp("run")
    assert main(["run", *scenarios, "--out", str(out)]) == 0
    with open(out / HEADLINES_NAME, encoding="utf-8", newline="") as stream:
        return {row["scenario"]: row for row in csv.DictReader(stream)}


@pytest.mark.slow
def test_report_holds_the_headlines_of_debtloops_run(report, scenarios):
    text = report.read_text(encoding="utf-8")
    prepared = [prepare(name) for name in scenarios]
    runs = {run.scenario.name: execute(run) for run in prepared}
    rows = [headline(name, runs[name], runs["baseline"]) for name in SCENARIO_NAMES]
    table = headline_table(rows)
    for name in SCENARIO_NAMES:
        cells = "".join(f"<td>{value:,.{HEADLINE_DECIMALS}f}</td>" for value in table.loc[name])
        assert f'<td class="text">{name}</td>{cells}' in text


@pytest.mark.slow
def test_report_is_self_contained_and_complete(report, sweep_dir):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=\"(?!data:)", text)
    assert "Bokeh" in text and text.count("<svg") >= 2
    assert git_commit() in text
    for section in ("Summary", "Interactive charts", "Feedback loops", "Validation", "Sources"):
        assert f"<h2>{section}</h2>" in text
    for name in ("hostile", "japan_full"):  # the baseline is not compared with itself
        assert f"<h2>{name}: the change from the baseline</h2>" in text
    assert "<h2>baseline: the change" not in text
    assert text.count("<h3>Which mechanisms carry it</h3>") == 2
    assert text.count("<h3>How likely: debt under historical shocks</h3>") == 2
    embedded = set(re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text))
    for path in sweep_dir.glob("*.png"):
        assert base64.b64encode(path.read_bytes()).decode("ascii") in embedded, path.name
    assert "R1 " in text or ">R1<" in text
    assert not [p for p in report.parent.iterdir() if p.name.startswith(SCRATCH_PREFIX)]


@pytest.mark.slow
def test_report_names_the_source_of_every_parameter_and_data_file(report):
    text = report.read_text(encoding="utf-8")
    text = re.search(r'<table class="sources">.*?</table>', text, flags=re.DOTALL).group(0)
    table = tomllib.loads((ROOT / "models" / "parameters.toml").read_text(encoding="utf-8"))
    env = environment()
    for name, entry in table.items():
        row = re.search(rf'<tr><td class="text">{name}</td>.*?</tr>', text)
        assert row, name
        assert str(env.from_string("{{ s }}").render(s=entry["source"])) in row.group(0), name
    whole = report.read_text(encoding="utf-8")
    for path in (ROOT / "models" / "data").glob("*.md"):
        assert f"<code>models/data/{path.name}</code>" in whole


@pytest.mark.slow
def test_report_escapes_the_text_of_a_scenario_file(report):
    text = report.read_text(encoding="utf-8")
    assert "<script>window.hostile" not in text
    assert "&lt;script&gt;window.hostile = 1&lt;/script&gt; &amp; &#34;more&#34;" in text


def test_the_template_is_package_data_and_autoescaped():
    found = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = found["tool"]["setuptools"]["package-data"]["debtloops.app.templates"]
    template = ROOT / "analysis" / "debtloops" / "app" / "templates" / TEMPLATE_NAME
    assert template.is_file()
    assert any(template.relative_to(template.parent).match(p) for p in patterns)
    assert environment().from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"
    modules = sorted(template.parents[1].glob("report*.py"))  # report.py and its parts
    assert len(modules) > 1
    assert all("escape(" not in path.read_text(encoding="utf-8") for path in modules)


def test_summary_words():
    assert month_of(2026.0) == "October 2026"
    assert month_of(2026.25) == "January 2027"
    assert month_of(2026.75) == "July 2027"
    assert [duration_words(y) for y in (1.0, 2.0, 0.25, 1.5, 12.5)] == [
        "one year",
        "two years",
        "3 months",
        "18 months",
        "12.5 years",
    ]
    assert money(1189.3) == "$1.19T" and money(120.0) == "$120bn" and money(-5.4) == "$-5bn"


@pytest.fixture(scope="module")
def japan_runs():
    scenario = prepare("japan_full")
    baseline = reference_for(scenario)
    return scenario, execute(scenario), execute(baseline)


def test_the_change_charts_shade_the_sale_and_keep_flat_lines_flat(japan_runs):
    scenario, run, baseline = japan_runs
    windows = sale_windows(scenario.values)
    assert [(w.seller, w.start, w.end) for w in windows] == [
        (
            "japan",
            scenario.values["japan_sale_start"],
            scenario.values["japan_sale_start"] + scenario.values["japan_sale_duration"],
        )
    ]
    figure = extras_figure(run, baseline, windows)
    axes = figure.axes[: len(PANELS)]
    figure.draw_without_rendering()
    for ax, panel in zip(axes, PANELS, strict=True):
        spans = [p for p in ax.patches if p.get_width() > 0]
        assert any(
            np.isclose(p.get_x(), windows[0].start)
            and np.isclose(p.get_width(), windows[0].end - windows[0].start)
            for p in spans
        ), panel.title
        low, high = ax.get_ylim()
        assert low <= 0 <= high and high - low >= 2 * panel.floor * 0.999, panel.title
        for line in ax.get_lines():
            values = np.asarray(line.get_ydata(), dtype=float)
            if values.size > 2:
                assert low < values.min() and values.max() < high, panel.title
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert labels and all(re.fullmatch(r"FY\d{4}", t) for t in labels), panel.title
        legend = ax.get_legend()
        if legend is not None:
            assert not legend.get_window_extent().overlaps(ax.get_window_extent()), panel.title
    # the baseline against itself: every change is zero, on an axis of the panel's floor
    alone = extras_figure(baseline, baseline, [])
    alone.draw_without_rendering()
    for ax, panel in zip(alone.axes[: len(PANELS)], PANELS, strict=True):
        low, high = ax.get_ylim()
        assert np.isclose(high, -low) and panel.floor <= high <= 2 * panel.floor, panel.title


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
    assert main(["report", "article", "--fan-draws", "1", "--out", str(out)]) == 2
    assert "--fan-draws = 1 is outside 2 to" in capsys.readouterr().err
    assert not out.exists()


def test_a_loop_inventory_out_of_date_with_the_model_is_named_not_a_traceback(
    tmp_path, capsys, monkeypatch
):
    from debtloops.app import report_appendices

    gone = NamedLoop("R99", "a link the model lacks", "R", ("debt held by public", "nope"))
    monkeypatch.setattr(report_appendices, "read_inventory", lambda: [gone])
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
def test_report_opens_offline_without_requests_or_errors(browser, report, artefact, headlines_csv):
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
    numbers = page.evaluate(
        """() => [...document.querySelectorAll('p.summary span.number')].map(span => ({
            paragraph: span.closest('p.summary').dataset.scenario,
            scenario: span.dataset.scenario,
            column: span.dataset.headline, value: span.dataset.value, text: span.textContent}))"""
    )
    paragraphs = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('p.summary')]"
        ".map(p => [p.dataset.scenario, p.textContent]))"
    )
    hostile = page.evaluate("() => window.hostile")
    page.close()
    assert requested == [url]
    assert problems == []
    assert plots >= 1
    assert hostile is None
    # every number of the summary is a cell of headlines.csv, and shown as that cell
    assert sorted(paragraphs) == sorted(SCENARIO_NAMES)
    assert {n["paragraph"] for n in numbers} == set(SCENARIO_NAMES)
    assert all(n["scenario"] in (n["paragraph"], "baseline") for n in numbers)
    for number in numbers:
        assert number["value"] == headlines_csv[number["scenario"]][number["column"]], number
        shown = f"{abs(float(number['value'])):,.{HEADLINE_DECIMALS}f}"
        assert shown in number["text"], number
    columns = {(n["paragraph"], n["column"].split(" [")[0]) for n in numbers}
    for name in ("hostile", "japan_full"):
        assert (name, "peak extra yield") in columns and any(
            c == (name, c[1]) and c[1].startswith("extra interest") for c in columns
        )
    assert "no sale" in paragraphs["baseline"]
    assert "Japan selling all $1.19T" in paragraphs["japan_full"]


@pytest.mark.slow
def test_report_prints_on_a4_without_cut_charts(browser, report):
    page = browser.new_page(viewport={"width": A4_PRINT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    page.goto(report.resolve().as_uri())
    page.wait_for_load_state("networkidle")
    cut = page.evaluate(
        """(width) => [...document.querySelectorAll('img, svg, table, figure, pre')]
            .filter(e => e.getClientRects().length && !e.closest('.screen-only'))
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .map(e => e.tagName + '.' + e.getAttribute('class'))""",
        A4_PRINT_WIDTH,
    )
    tall = page.evaluate(
        """(height) => [...document.querySelectorAll('img, figure.diagram svg')]
            .filter(e => e.getClientRects().length && !e.closest('.screen-only'))
            .filter(e => e.getBoundingClientRect().height > height)
            .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().height))""",
        A4_PRINT_HEIGHT,
    )
    breaks = page.evaluate(
        "() => [...document.querySelectorAll('section.chapter')]"
        ".map(s => getComputedStyle(s).breakBefore)"
    )
    hidden = page.evaluate("() => getComputedStyle(document.getElementById('interactive')).display")
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    assert cut == []
    assert tall == []  # a chart or diagram taller than the page would be cut across two
    assert breaks and set(breaks) == {"page"}
    assert hidden == "none"
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) > 1


def test_inline_bokeh_loads_nothing_even_after_panel_is_imported():
    from debtloops.app.report import inline_bokeh

    pytest.importorskip("panel")
    text = inline_bokeh()
    assert "Bokeh" in text and len(text) > 100_000
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("japan_china", ("Japan selling all $1.19T", "and China selling all", " lift the ")),
        ("yen_crisis", ("With no scheduled sale, yen_crisis (the yen comes under",)),
        ("fiscal_reform", ("In fiscal_reform (japan_full with fiscal consolidation",)),
    ],
)
def test_the_summary_is_written_from_the_headline_numbers_for_any_scenario(name, words):
    from debtloops.app.report import Number, summary

    scenario = prepare(name)
    reference = reference_for(scenario)
    run, baseline = execute(scenario), execute(reference)
    table = headline_table([headline(name, run, baseline)])
    parts = summary(name, scenario, run, table, None, reference)
    text = "".join(p if isinstance(p, str) else p.text for p in parts)
    for word in words:
        assert word in text
    numbers = [p for p in parts if isinstance(p, Number)]
    assert {n.column.split(" [")[0] for n in numbers} >= {"peak extra yield"}
    for number in numbers:
        assert number.scenario == name
        cell = float(table.loc[name, number.column])
        assert number.value == f"{cell:.{HEADLINE_DECIMALS}f}"
        assert f"{abs(cell):,.{HEADLINE_DECIMALS}f}" in number.text


def test_a_part_whose_runs_fail_is_left_out_with_its_reason(japan_runs, monkeypatch):
    from debtloops.app import report as report_module
    from debtloops.app import report_scenarios
    from debtloops.errors import SimulationError

    def failing(*args, **kwargs):
        raise SimulationError("12 of 20 draws reached an impossible state")

    monkeypatch.setattr(report_scenarios, "attribute", failing)
    monkeypatch.setattr(report_module.fan_module, "fan", failing)
    scenario, run, baseline_run = japan_runs
    reference = reference_for(scenario)
    table = headline_table([headline("japan_full", run, baseline_run)])
    section = report_module.scenario_section(
        scenario, run, reference, baseline_run, table, True, FAN_DRAWS
    )
    assert section.attribution is None and section.fan is None
    assert len(section.missing) == 2
    assert all("12 of 20 draws reached an impossible state" in m for m in section.missing)
    assert any(isinstance(p, report_module.Number) for p in section.summary)
