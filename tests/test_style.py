"""The house style of the figures (debtloops.figures.style): each rule checked on the dashboard."""

import io
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import matplotlib.colors
import numpy as np
import PIL.Image
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures import style
from debtloops.figures.dashboard import dashboard_figure, plot_dashboard
from debtloops.model.contract import HOLDINGS
from debtloops.model.run import execute, prepare

FIGURES = Path(style.__file__).parent
#: Modules that draw matplotlib or Bokeh charts, each of which must take its colours, resolution
#: and saving from the style module (diagrams.py draws Graphviz, with its own colours).
CHART_MODULES = [
    *(p for p in FIGURES.glob("*.py") if p.name not in ("style.py", "diagrams.py")),
    FIGURES.parent / "app" / "charts.py",
]


@pytest.fixture(scope="module")
def baseline():
    return execute(prepare("baseline"))


@pytest.fixture(scope="module")
def scenario():
    return execute(prepare("japan_full"))


@pytest.fixture(scope="module")
def dashboards(baseline, scenario):
    figures = {"japan_full": dashboard_figure(scenario, baseline)}
    figures["baseline"] = dashboard_figure(baseline, baseline)
    for figure in figures.values():
        figure.draw_without_rendering()
    return figures


def test_each_meaning_has_its_own_colour():
    colours = [matplotlib.colors.to_hex(c) for c in style.COLOURS.values()]
    assert len(set(colours)) == len(colours), style.COLOURS
    assert set(style.HOLDER_MEANINGS) == set(HOLDINGS) == set(style.HOLDER_COLOURS)
    holder_colours = list(style.HOLDER_COLOURS.values())
    assert len(set(holder_colours)) == len(holder_colours), style.HOLDER_COLOURS
    assert not set(style.SPARE_HOLDER_COLOURS) & set(style.COLOURS.values())
    assert style.COLOURS["scenario"] != style.COLOURS["fed"]


def test_chart_modules_take_colours_resolution_and_saving_from_the_style():
    for path in CHART_MODULES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""["']C\d["']|#[0-9A-Fa-f]{6}\b|Category10""", text), path.name
        assert ".savefig(" not in text and "dpi=" not in text, path.name


def _lines(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata())]


def test_legends_sit_outside_the_panels(dashboards):
    for figure in dashboards.values():
        for ax in figure.axes:
            legend = ax.get_legend()
            if legend is not None:
                box, panel = legend.get_window_extent(), ax.get_window_extent()
                assert not box.overlaps(panel), ax.get_title()
                assert box.y1 <= ax.xaxis.label.get_window_extent().y0, ax.get_title()


def test_every_peak_has_headroom(dashboards):
    for figure in dashboards.values():
        for ax in figure.axes:
            values = np.concatenate([line.get_ydata() for line in _lines(ax)])
            low, high = ax.get_ylim()
            assert high > values.max() and low <= values.min(), ax.get_title()


def test_time_axes_are_ticked_in_fiscal_years(dashboards):
    for figure in dashboards.values():
        for ax in figure.axes:
            labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
            assert labels and all(re.fullmatch(r"FY\d{4}", t) for t in labels), labels


def test_a_flat_series_is_drawn_from_zero_and_a_moving_one_is_not():
    figure = Figure()
    flat, moving = figure.subplots(1, 2)
    style.meaningful_limits(flat, [np.full(10, 683.5)])
    style.meaningful_limits(moving, [np.linspace(3.7, 4.7, 10)])
    assert flat.get_ylim()[0] == 0.0 and flat.get_ylim()[1] > 683.5
    assert 3.0 < moving.get_ylim()[0] < 3.7 and moving.get_ylim()[1] > 4.7


def test_the_baseline_is_not_compared_with_itself(dashboards, baseline):
    for ax in dashboards["baseline"].axes:
        lines = _lines(ax)
        # one line per variable drawn, solid: no dashed twin
        assert all(line.get_linestyle() == "-" for line in lines), ax.get_title()
        assert len({line.get_color() for line in lines}) == len(lines)
    assert "against" not in dashboards["baseline"].get_suptitle()
    assert sum(len(_lines(ax)) for ax in dashboards["japan_full"].axes) == 2 * sum(
        len(_lines(ax)) for ax in dashboards["baseline"].axes
    )


def test_scenario_and_holders_are_drawn_in_their_colours(dashboards):
    colours = {
        matplotlib.colors.to_hex(line.get_color())
        for line in _lines(dashboards["japan_full"].axes[0])
    }
    assert colours == {style.COLOURS["scenario"].lower(), style.COLOURS["baseline"].lower()}
    holders = dashboards["japan_full"].axes[3]
    assert {matplotlib.colors.to_hex(line.get_color()) for line in _lines(holders)} == {
        style.COLOURS["japan"].lower(),
        style.COLOURS["china"].lower(),
    }


def test_the_source_line_comes_from_the_runs(baseline, scenario):
    text = style.run_source(scenario, baseline)
    assert text.startswith(style.SOURCE_PREFIX)
    assert "japan_full" in text and "baseline" in text
    assert f"CBO vintage {scenario.attrs['cbo_vintage']}" in text
    assert baseline.attrs["model_sha256"][:12] in text
    renamed = scenario.copy()
    attrs = {k: v for k, v in scenario.attrs.items() if not k.startswith("cbo_vintage")}
    renamed.attrs = {**attrs, "scenario": "my_sale", "scenario_text": 'data = "history"'}
    other = style.run_source(renamed)
    assert "my_sale" in other and "CBO" not in other and "historical" in other


def test_a_saved_dashboard_carries_its_source_line(baseline, scenario, tmp_path, monkeypatch):
    saved = []
    original = Figure.savefig

    def spy(figure, path, **options):
        saved.append([t.get_text() for t in figure.texts if t.get_gid() == style.SOURCE_GID])
        original(figure, path, **options)

    monkeypatch.setattr(Figure, "savefig", spy)
    path = tmp_path / "dashboard.png"
    plot_dashboard(scenario, baseline, path)
    assert saved == [[style.run_source(scenario, baseline)]]
    with PIL.Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((style.DPI, style.DPI), abs=0.5)


def test_the_source_line_is_inside_the_saved_image(tmp_path):
    figure = Figure(figsize=(4, 3), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    style.legend_outside(ax)
    style.save_figure(figure, tmp_path / "f.png", "a test")
    (source,) = [t for t in figure.texts if t.get_gid() == style.SOURCE_GID]
    assert source.get_text() == style.SOURCE_PREFIX + "a test"
    # the line lies below the legend and the tick labels, and the saved image holds it
    renderer = figure.canvas.get_renderer()
    assert source.get_window_extent(renderer).y1 <= ax.get_legend().get_window_extent(renderer).y0
    image = np.asarray(PIL.Image.open(tmp_path / "f.png").convert("L"))
    assert (image[-int(0.25 * style.DPI) :] < 200).any()  # dark text in the bottom quarter inch


def test_one_save_function_writes_a_png_or_an_svg_to_a_file_or_a_buffer():
    def drawn():
        figure = Figure(figsize=(4, 3), layout="constrained")
        FigureCanvasAgg(figure)
        figure.subplots().plot([0, 1], [0, 1])
        return figure

    svg = io.BytesIO()
    style.save_figure(drawn(), svg, "a test", fmt="svg")
    root = ElementTree.fromstring(svg.getvalue())
    assert root.tag.endswith("svg")
    assert style.SOURCE_GID in {element.get("id") for element in root.iter()}
    png = io.BytesIO()
    style.save_figure(drawn(), png, "a test")
    png.seek(0)
    with PIL.Image.open(png) as image:
        assert image.format == "PNG"
        assert image.info["dpi"] == pytest.approx((style.DPI, style.DPI), abs=0.5)
    with pytest.raises(ValueError, match="png, svg"):
        style.save_figure(drawn(), io.BytesIO(), "a test", fmt="pdf")


def test_the_reports_charts_follow_the_same_rules(baseline, scenario):
    charts = pytest.importorskip("debtloops.app.charts")
    runs = {"japan_full": scenario}
    flat = charts.comparison_figure("china_holdings", runs, baseline)
    assert flat.y_range.start == 0.0 and flat.y_range.end > float(scenario["china_holdings"].max())
    peak = charts.comparison_figure("market_yield", runs, baseline)
    highest = float(scenario["market_yield"].max()) * charts.LABELS["market_yield"].scale
    assert peak.y_range.end > highest > peak.y_range.start > 0
    for chart in (flat, peak):
        assert chart.legend[0] in chart.below and chart.legend[0] not in chart.center
        assert "FY" in chart.xaxis[0].formatter.code
