"""The extra over the baseline: what a scenario changes, panel by panel, with its sales shaded.

Each panel draws the scenario less its baseline (the same vintage and years,
:func:`debtloops.model.run.reference_for`), so a flat line at zero means "no change" and the axis
is read in the change's own units (basis points, billions, points of GDP). Every axis holds zero,
and spans at least the panel's smallest meaningful change (:data:`PANELS`), so a change of a
billionth is not drawn as a swing from edge to edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from debtloops.figures.labels import HOLDER_NAMES
from debtloops.figures.style import (
    COLOURS,
    RULE_COLOUR,
    fiscal_year_axis,
    holder_colour,
    legend_outside,
    meaningful_limits,
    run_source,
    save_figure,
)
from debtloops.model.contract import HOLDINGS
from debtloops.model.holders import FOREIGN
from debtloops.units import BASIS_POINTS, PERCENT

#: Size of the figure: two columns of three panels, to fit an A4 page's width [inch].
FIGURE_SIZE = (8.0, 9.0)
#: Opacity of a sale window's shading [1].
WINDOW_OPACITY = 0.15
#: The sellers: their sale parameters' prefix, the holdings variable and the words for them.
SELLERS = {holder.key: (holder.holdings, holder.name) for holder in FOREIGN}


@dataclass(frozen=True)
class Panel:
    """One panel: a variable's change over the baseline, scaled.

    Attributes
    ----------
    title : str
        What is drawn, in plain words.
    units : str
        The axis units after scaling.
    scale : float
        From the model's units to ``units`` [1].
    floor : float
        The smallest change worth an axis of its own, in ``units``: the axis spans at least
        ``-floor`` to ``floor``.
    variables : tuple of str
        The model variables drawn; several are the holders, each in its colour.
    """

    title: str
    units: str
    scale: float
    floor: float
    variables: tuple[str, ...]


#: The panels in reading order. Floors: 1 bp, $1bn a year, 0.1 point of GDP, $1bn, 0.1 index
#: point, 0.01% of GDP.
PANELS = (
    Panel("Extra 10-year yield", "basis points", BASIS_POINTS, 1.0, ("market_yield",)),
    Panel("Extra net interest", "billion USD per year", 1.0, 1.0, ("net_interest",)),
    Panel("Extra debt / GDP", "points of GDP (annual rate)", PERCENT, 0.1, ("debt_to_gdp",)),
    Panel("Who holds the debt: change", "billion USD", 1.0, 1.0, tuple(HOLDINGS)),
    Panel("Broad dollar index: change", "index points", 1.0, 0.1, ("dollar_index",)),
    Panel("Real GDP against the baseline", "%", PERCENT, 0.01, ("output_gap",)),
)


@dataclass(frozen=True)
class SaleWindow:
    """A scheduled official sale.

    Attributes
    ----------
    seller : str
        A key of :data:`SELLERS`, e.g. ``japan``.
    amount : float
        The amount sold [billion USD].
    start, end : float
        When it starts and ends [decimal fiscal year].
    """

    seller: str
    amount: float
    start: float
    end: float

    @property
    def name(self) -> str:
        """The seller in words, e.g. ``Japan``."""
        return SELLERS[self.seller][1]


def sale_windows(values: Mapping[str, object]) -> list[SaleWindow]:
    """Return the sales a run's parameter values schedule: those of a positive amount.

    Parameters
    ----------
    values : mapping
        A run's parameter values (``PreparedRun.values``): ``<seller>_sale_amount`` [billion
        USD], ``<seller>_sale_start`` and ``<seller>_sale_duration`` [year].

    Returns
    -------
    list of SaleWindow
        In :data:`SELLERS`' order; empty when nothing is sold.
    """
    found = []
    for seller in SELLERS:
        amount = float(values.get(f"{seller}_sale_amount", 0.0))  # type: ignore[arg-type]
        if amount > 0:
            start = float(values[f"{seller}_sale_start"])  # type: ignore[arg-type]
            duration = float(values[f"{seller}_sale_duration"])  # type: ignore[arg-type]
            found.append(SaleWindow(seller, amount, start, start + duration))
    return found


def extras_figure(
    scenario: xr.Dataset, baseline: xr.Dataset, windows: Sequence[SaleWindow]
) -> Figure:
    """Return the panels of :data:`PANELS`: the scenario less its baseline, sales shaded.

    Parameters
    ----------
    scenario, baseline : xarray.Dataset
        Two runs over the same times [year], holding the panels' variables.
    windows : sequence of SaleWindow
        The sales to shade (:func:`sale_windows`).

    Returns
    -------
    matplotlib.figure.Figure
        With an Agg canvas, not yet saved.
    """
    name = scenario.attrs.get("scenario", "scenario")
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(3, 2)
    times = scenario["time"].to_numpy()
    for ax, panel in zip(axes.flat, PANELS, strict=True):
        for window in windows:
            colour = to_rgba(holder_colour(SELLERS[window.seller][0]), WINDOW_OPACITY)
            ax.axvspan(window.start, window.end, color=colour, linewidth=0, label=None)
        ax.axhline(0.0, color=RULE_COLOUR, linewidth=0.6)
        drawn = []
        for variable in panel.variables:
            change = (scenario[variable] - baseline[variable]).to_numpy() * panel.scale
            several = len(panel.variables) > 1
            ax.plot(
                times,
                change,
                color=holder_colour(variable) if several else COLOURS["scenario"],
                label=HOLDER_NAMES[variable] if several else None,
            )
            drawn.append(change)
        if max(float(np.nanmax(np.abs(v))) for v in drawn) < panel.floor:
            drawn.append(np.array([-panel.floor, panel.floor]))
        meaningful_limits(ax, [*drawn, np.zeros(1)])
        ax.set_title(panel.title, fontsize="medium")
        ax.set_ylabel(panel.units)
        fiscal_year_axis(ax)
        ax.grid(alpha=0.3)
    first = axes.flat[0]
    first.plot([], [], color=COLOURS["scenario"], label=f"{name} less the baseline")
    for window in windows:
        colour = to_rgba(holder_colour(SELLERS[window.seller][0]), WINDOW_OPACITY)
        first.fill_between([], [], color=colour, label=f"{window.name}'s sale")
    figure.suptitle(f"{name}: the change from the baseline", fontsize="large")
    figure.draw_without_rendering()
    for ax in axes.flat:
        legend_outside(ax)
    return figure


def plot_extras(
    scenario: xr.Dataset, baseline: xr.Dataset, windows: Sequence[SaleWindow], path: Path
) -> None:
    """Draw :func:`extras_figure` and save it as a PNG with its source line.

    Parameters
    ----------
    scenario, baseline, windows
        As for :func:`extras_figure`.
    path : Path
        The PNG to write.
    """
    save_figure(extras_figure(scenario, baseline, windows), path, run_source(scenario, baseline))
