"""Interactive Bokeh charts shared by the explorer and the HTML report.

Titles, units and scales come from :mod:`debtloops.figures.labels`, as on the dashboard; every chart
has hover, pan, box zoom, wheel zoom and reset, and a legend whose entries hide their lines when
clicked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from bokeh.models import ColumnDataSource, CustomJSTickFormatter, HoverTool, Range1d
from bokeh.models.annotations.labels import Title
from bokeh.plotting import figure

from debtloops.figures.dashboard import LARGE_HOLDERS, SELLERS
from debtloops.figures.labels import HOLDER_NAMES, LABELS, PER_THOUSAND, Label
from debtloops.figures.style import CATEGORY_CYCLE, COLOURS, holder_colour, value_limits
from debtloops.model.contract import HOLDINGS
from debtloops.model.holders import HOLDINGS_WORDS

#: Size of one chart [screen pixels].
CHART_WIDTH, CHART_HEIGHT = 430, 260
#: Size of a chart's title [CSS font size].
TITLE_FONT_SIZE = "11pt"
TOOLS = "pan,box_zoom,wheel_zoom,reset,save"
#: The baseline's line: dashed, in the baseline's colour (:mod:`debtloops.figures.style`).
BASELINE_COLOUR, BASELINE_DASH = COLOURS["baseline"], "dashed"
SCENARIO_COLOUR = COLOURS["scenario"]
#: Several scenarios in one chart: the first in the scenario's colour, the others as categories.
SCENARIO_COLOURS = (SCENARIO_COLOUR, *(c for c in CATEGORY_CYCLE if c != SCENARIO_COLOUR))
#: A time tick in decimal fiscal years labelled as the fiscal year that ends there (JavaScript).
FISCAL_YEAR_TICK = "return Number.isInteger(tick) ? 'FY' + tick : '';"
#: How many time ticks a stretched explorer chart aims for (FY labels are wide).
TIME_TICKS = 4
#: Opacity of the uncertainty band's shading [1].
BAND_ALPHA = 0.2
#: Legend columns under a stretched explorer chart.
LEGEND_COLUMNS = 2
#: Line width [screen pixels].
LINE_WIDTH = 2.0
#: Suffix of a baseline column in the explorer's data source.
BASELINE_SUFFIX = "__baseline"


@dataclass(frozen=True)
class ChartPanel:
    """One chart: the variables it draws and how they are shown.

    Attributes
    ----------
    key : str
        A short identifier.
    label : Label
        Title, units and scale of the chart's axis.
    variables : tuple of str
        The model variables drawn, each as a line.
    """

    key: str
    label: Label
    variables: tuple[str, ...]


def _single(name: str) -> ChartPanel:
    return ChartPanel(name, LABELS[name], (name,))


#: The explorer's charts: debt/GDP, the 10-year yield, interest/revenue, holdings by holder (the
#: two sellers in billions, the others in trillions, as on the dashboard) and the dollar.
EXPLORER_PANELS: tuple[ChartPanel, ...] = (
    _single("debt_to_gdp"),
    _single("market_yield"),
    _single("interest_to_revenue"),
    ChartPanel("sellers", Label(HOLDINGS_WORDS, "billion USD"), SELLERS),
    ChartPanel(
        "other_holders", Label("Other holders", "trillion USD", PER_THOUSAND), LARGE_HOLDERS
    ),
    _single("dollar_index"),
)

#: The report's charts: one variable each, every scenario a line.
REPORT_VARIABLES = (
    "debt_to_gdp",
    "market_yield",
    "interest_to_revenue",
    "net_interest",
    *HOLDINGS,
    "dollar_index",
    "bond_price_index",
    "output_gap",
    "inflation",
)


def _new_figure(label: Label, x_range=None):
    chart = figure(
        title=Title(text=label.title, text_font_size=TITLE_FONT_SIZE),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        tools=TOOLS,
        active_scroll=None,
        x_axis_label="end of fiscal year",
        y_axis_label=label.units,
        **({"x_range": x_range} if x_range is not None else {}),
    )
    return chart


def _hover(label: Label, renderers) -> HoverTool:
    return HoverTool(
        renderers=renderers,
        tooltips=[("", "$name"), ("year", "@time{0.00}"), (label.units, "$y{0,0.00}")],
        mode="mouse",
    )


def _holder_colour(variable: str) -> str:
    return holder_colour(variable)


def explorer_columns(scenario: xr.Dataset, baseline: xr.Dataset) -> dict[str, np.ndarray]:
    """Return the explorer's chart data: time, and each variable scaled, scenario and baseline.

    Parameters
    ----------
    scenario, baseline : xarray.Dataset
        The current run and its reference, over the same ``time`` [year].

    Returns
    -------
    dict
        ``time`` [year], ``<variable>`` and ``<variable>__baseline`` [the chart's units].
    """
    columns = {"time": scenario["time"].to_numpy()}
    for panel in EXPLORER_PANELS:
        for name in panel.variables:
            columns[name] = scenario[name].to_numpy() * panel.label.scale
            columns[name + BASELINE_SUFFIX] = baseline[name].to_numpy() * panel.label.scale
    return columns


def band_columns(band) -> dict[str, np.ndarray]:
    """Return the band's chart data: ``time`` and ``<variable>__low``/``__high`` [chart units].

    ``band`` is a :class:`debtloops.app.band.Band`, or None for no band (empty columns).
    """
    columns = {"time": np.empty(0) if band is None else band.time}
    for panel in EXPLORER_PANELS:
        for name in panel.variables:
            if len(panel.variables) > 1:
                continue
            for side in ("low", "high"):
                values = None if band is None else getattr(band, side).get(name)
                columns[f"{name}__{side}"] = (
                    np.full(len(columns["time"]), np.nan)
                    if values is None
                    else values * panel.label.scale
                )
    return columns


def explorer_figures(source: ColumnDataSource, band: ColumnDataSource | None = None) -> list:
    """Draw the explorer's charts from a data source of :func:`explorer_columns`.

    Updating ``source.data`` redraws every chart. Each stretches to the width it is given, its
    legend below it. Single-variable charts show the settings as a solid line and the baseline
    dashed; holdings charts show each holder in its colour, solid
    for the settings and dashed for the baseline. With a ``band`` source of :func:`band_columns`,
    single-variable charts shade the 5-95% band of the settings' path under it.
    """
    charts = []
    shared_x = None
    for panel in EXPLORER_PANELS:
        chart = _new_figure(panel.label, shared_x)
        shared_x = chart.x_range
        renderers = []
        if band is not None and len(panel.variables) == 1:
            name = panel.variables[0]
            chart.varea(
                "time",
                f"{name}__low",
                f"{name}__high",
                source=band,
                color=SCENARIO_COLOUR,
                alpha=BAND_ALPHA,
                legend_label="5-95% band",
            )
        for name in panel.variables:
            several = len(panel.variables) > 1
            colour = _holder_colour(name) if several else SCENARIO_COLOUR
            shown = HOLDER_NAMES[name] if several else "settings"
            renderers.append(
                chart.line(
                    "time",
                    name,
                    source=source,
                    color=colour,
                    line_width=LINE_WIDTH,
                    legend_label=shown,
                    name=shown,
                )
            )
            renderers.append(
                chart.line(
                    "time",
                    name + BASELINE_SUFFIX,
                    source=source,
                    color=colour if several else BASELINE_COLOUR,
                    line_dash=BASELINE_DASH,
                    line_width=LINE_WIDTH,
                    legend_label="baseline (dashed)" if several else "baseline",
                    name=f"{shown}, baseline",
                )
            )
        chart.add_tools(_hover(panel.label, renderers))
        chart.xaxis.formatter = CustomJSTickFormatter(code=FISCAL_YEAR_TICK)
        chart.xaxis.ticker.desired_num_ticks = TIME_TICKS
        _legend_below(chart)
        chart.legend[0].ncols = LEGEND_COLUMNS  # fits a phone's width
        chart.sizing_mode = "stretch_width"  # as wide as the page gives it
        charts.append(chart)
    return charts


def comparison_figure(
    variable: str, runs: Mapping[str, xr.Dataset], baseline: xr.Dataset, x_range=None
) -> figure:
    """Draw one variable for several scenarios and the baseline, for the report.

    Parameters
    ----------
    variable : str
        A model variable, e.g. ``market_yield``; its label comes from the label table.
    runs : mapping
        Runs by scenario name, over ``time`` [year].
    baseline : xarray.Dataset
        The reference run, drawn dashed.
    x_range : bokeh Range, optional
        A range to share with other charts, so that zooming one zooms all.

    Returns
    -------
    bokeh.plotting.figure
        The chart; a click on a legend entry hides that scenario.
    """
    shown = LABELS[variable]
    chart = _new_figure(shown, x_range)
    renderers = []
    lines = {name: run for name, run in runs.items() if name != baseline.attrs.get("scenario")}
    for index, (name, run) in enumerate(lines.items()):
        source = ColumnDataSource(
            {"time": run["time"].to_numpy(), "y": run[variable].to_numpy() * shown.scale}
        )
        colour = SCENARIO_COLOURS[index % len(SCENARIO_COLOURS)]
        renderers.append(
            chart.line(
                "time", "y", source=source, color=colour, line_width=LINE_WIDTH,
                legend_label=name, name=name,
            )
        )  # fmt: skip
    source = ColumnDataSource(
        {"time": baseline["time"].to_numpy(), "y": baseline[variable].to_numpy() * shown.scale}
    )
    renderers.append(
        chart.line(
            "time", "y", source=source, color=BASELINE_COLOUR, line_dash=BASELINE_DASH,
            line_width=LINE_WIDTH, legend_label="baseline", name="baseline",
        )
    )  # fmt: skip
    chart.add_tools(_hover(shown, renderers))
    limits = value_limits(
        [run[variable].to_numpy() * shown.scale for run in (*lines.values(), baseline)]
    )
    if limits is not None:  # headroom above the peak; a flat series on an axis from zero
        chart.y_range = Range1d(start=limits[0], end=limits[1])
    chart.xaxis.formatter = CustomJSTickFormatter(code=FISCAL_YEAR_TICK)
    _legend_below(chart)
    return chart


def _legend_below(chart) -> None:
    """Move a chart's legend below it, off the data; a click on an entry hides its line."""
    legend = chart.legend[0]
    chart.center = [item for item in chart.center if item is not legend]
    chart.add_layout(legend, "below")
    legend.orientation = "horizontal"
    legend.click_policy = "hide"
    legend.label_text_font_size = "8pt"


#: The compare charts: the extra over the baseline of three key paths, each with its units and
#: the factor from the model's units to them.
EXTRA_PANELS: tuple[ChartPanel, ...] = (
    ChartPanel("debt_to_gdp", Label("Extra debt/GDP", "percentage points of GDP", 100.0), ()),
    ChartPanel("market_yield", Label("Extra 10-year yield", "basis points", 10_000.0), ()),
    ChartPanel(
        "interest_to_revenue", Label("Extra net interest / revenue", "points of revenue", 100.0), ()
    ),
)


def extra_columns(runs: Mapping[str, tuple[xr.Dataset, xr.Dataset]]) -> dict[str, np.ndarray]:
    """Return the compare charts' data: each run's extra over its own baseline.

    Parameters
    ----------
    runs : mapping
        Name -> (run, its baseline), each over ``time`` [year]; the first run's times are the
        charts' (the others are interpolated onto them).

    Returns
    -------
    dict
        ``time`` [year] and ``<variable>__<index>`` [the panel's units], index in the order given.
    """
    first = next(iter(runs.values()))[0]
    times = first["time"].to_numpy()
    columns = {"time": times}
    for index, (run, baseline) in enumerate(runs.values()):
        for panel in EXTRA_PANELS:
            extra = (run[panel.key] - baseline[panel.key]).to_numpy() * panel.label.scale
            columns[f"{panel.key}__{index}"] = np.interp(times, run["time"].to_numpy(), extra)
    return columns


def compare_figures(source: ColumnDataSource, names: Sequence[str]) -> list:
    """Draw the compare charts from a data source of :func:`extra_columns`, one line a run.

    The first name is the current settings, drawn in the scenario's colour; pinned settings
    follow in the category colours. Each chart stretches to its width, its legend below it.
    """
    figures = []
    for panel in EXTRA_PANELS:
        chart = _new_figure(panel.label)
        renderers = [
            chart.line(
                "time",
                f"{panel.key}__{index}",
                source=source,
                color=SCENARIO_COLOURS[index % len(SCENARIO_COLOURS)],
                line_width=LINE_WIDTH,
                legend_label=name,
                name=name,
            )
            for index, name in enumerate(names)
        ]
        chart.add_tools(_hover(panel.label, renderers))
        chart.xaxis.formatter = CustomJSTickFormatter(code=FISCAL_YEAR_TICK)
        chart.xaxis.ticker.desired_num_ticks = TIME_TICKS
        _legend_below(chart)
        chart.legend[0].orientation = "vertical"  # pinned names are long
        chart.sizing_mode = "stretch_width"
        figures.append(chart)
    return figures
