"""Interactive Bokeh charts shared by the explorer and the HTML report.

Titles, units and scales come from :mod:`debtloops.figures.labels`, as on the dashboard; every chart
has hover, pan, box zoom, wheel zoom and reset, and a legend whose entries hide their lines when
clicked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from bokeh.models import (
    ColumnDataSource,
    CustomJSTickFormatter,
    DataRange1d,
    FactorRange,
    HoverTool,
    Range1d,
)
from bokeh.models.annotations import Title
from bokeh.plotting import figure

from debtloops.figures.dashboard import LARGE_HOLDERS, SELLERS
from debtloops.figures.labels import HOLDER_NAMES, LABELS, PER_THOUSAND, Label
from debtloops.figures.style import CATEGORY_CYCLE, COLOURS, holder_colour, value_limits
from debtloops.model.contract import HOLDINGS

#: Size of one chart [screen pixels].
CHART_WIDTH, CHART_HEIGHT = 430, 260
TOOLS = "pan,box_zoom,wheel_zoom,reset,save"
#: The baseline's line: dashed, in the baseline's colour (:mod:`debtloops.figures.style`).
BASELINE_COLOUR, BASELINE_DASH = COLOURS["baseline"], "dashed"
SCENARIO_COLOUR = COLOURS["scenario"]
#: Several scenarios in one chart: the first in the scenario's colour, the others as categories.
SCENARIO_COLOURS = (SCENARIO_COLOUR, *(c for c in CATEGORY_CYCLE if c != SCENARIO_COLOUR))
#: A time tick in decimal fiscal years labelled as the fiscal year that ends there (JavaScript).
FISCAL_YEAR_TICK = "return Number.isInteger(tick) ? 'FY' + tick : '';"
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
    ChartPanel("sellers", Label("Japan's and China's holdings", "billion USD"), SELLERS),
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
        title=label.title,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        tools=TOOLS,
        active_scroll=None,
        x_axis_label="end of fiscal year",
        y_axis_label=label.units,
        **({"x_range": x_range} if x_range is not None else {}),
    )
    assert isinstance(chart.title, Title)  # figure(title=...) makes one
    chart.title.text_font_size = "11pt"
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


def explorer_figures(source: ColumnDataSource) -> list:
    """Draw the explorer's charts from a data source of :func:`explorer_columns`.

    Updating ``source.data`` redraws every chart. Single-variable charts show the settings as a
    solid red line and the baseline dashed; holdings charts show each holder in its colour, solid
    for the settings and dashed for the baseline.
    """
    charts = []
    shared_x = None
    for panel in EXPLORER_PANELS:
        chart = _new_figure(panel.label, shared_x)
        shared_x = chart.x_range
        renderers = []
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
        chart.legend.click_policy = "hide"
        chart.legend.label_text_font_size = "8pt"
        chart.legend.location = "top_left"
        charts.append(chart)
    return charts


def comparison_figure(
    variable: str, runs: Mapping[str, xr.Dataset], baseline: xr.Dataset, x_range=None
):
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
    legend = chart.legend[0]  # below the chart, off the data
    chart.center = [item for item in chart.center if item is not legend]
    chart.add_layout(legend, "below")
    legend.orientation = "horizontal"
    legend.click_policy = "hide"
    legend.label_text_font_size = "8pt"
    return chart


def dominance_figure(years: pd.Series, top: int):
    """Draw how many years each loop dominates, as horizontal bars (longest at the top).

    Parameters
    ----------
    years : pandas.Series
        Years dominant by loop label, from :func:`debtloops.app.session.dominant_years`.
    top : int
        How many loops to show.
    """
    data = dominance_source_data(years, top)
    chart = figure(
        y_range=FactorRange(factors=list(data["loop"])),
        width=2 * CHART_WIDTH,
        height=CHART_HEIGHT,
        tools="hover,reset,save",
        tooltips=[("loop", "@loop"), ("years dominant", "@years{0.00}")],
        title="Loop dominance: years in which each loop has the largest share of activity",
        x_axis_label="years dominant [year]",
    )
    source = ColumnDataSource(data)
    chart.hbar(y="loop", right="years", height=0.7, source=source, color=CATEGORY_CYCLE[0])
    chart.x_range = DataRange1d(start=0)
    chart.yaxis.major_label_text_font_size = "8pt"
    return chart


def dominance_source_data(years: pd.Series, top: int) -> dict[str, Sequence]:
    """Return the data of :func:`dominance_figure`'s bars, to update it in place."""
    shown = years.iloc[:top][::-1]
    return {"loop": [str(label) for label in shown.index], "years": shown.to_numpy(dtype=float)}
