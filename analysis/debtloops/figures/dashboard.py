"""The dashboard: one scenario against the baseline, nine panels, saved as a PNG.

Uses matplotlib's object-oriented API with the Agg canvas, so no display or pyplot state is needed.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.labels import HOLDER_NAMES, LABELS, PER_THOUSAND, Label
from debtloops.figures.style import (
    BASELINE_STYLE,
    COLOURS,
    fiscal_year_axis,
    holder_colour,
    legend_outside,
    meaningful_limits,
    run_source,
    save_figure,
)
from debtloops.model import holders
from debtloops.model.contract import HOLDINGS

FIGURE_SIZE = (15.0, 10.5)  # [inch]

#: The official foreign holders the scenarios are about (:data:`debtloops.model.holders.FOREIGN`),
#: shown in billions on their own axis: on the axis of all holdings, Japan's $1.2T would be a line
#: along the bottom.
SELLERS = holders.HOLDINGS
#: The other holders, in trillions.
LARGE_HOLDERS = tuple(holder for holder in HOLDINGS if holder not in SELLERS)

#: The panels in reading order: a variable, or a group of holders with its label.
_PANELS: tuple[str | tuple[tuple[str, ...], Label], ...] = (
    "debt_to_gdp",
    "market_yield",
    "interest_to_revenue",
    (SELLERS, Label(holders.HOLDINGS_WORDS, "billion USD")),
    (LARGE_HOLDERS, Label("Other holders", "trillion USD", PER_THOUSAND)),
    "dollar_index",
    "bond_price_index",
    "output_gap",
    "inflation",
)


def is_self_comparison(scenario: xr.Dataset, baseline: xr.Dataset) -> bool:
    """Return whether ``scenario`` is the baseline run itself (the same name or object)."""
    name = scenario.attrs.get("scenario")
    return scenario is baseline or (name is not None and name == baseline.attrs.get("scenario"))


def dashboard_figure(
    scenario: xr.Dataset, baseline: xr.Dataset, title: str | None = None
) -> Figure:
    """Return the dashboard: the scenario (solid) against the baseline (dashed), nine panels.

    The baseline against itself is drawn once, as one solid line per series. Legends sit outside
    the panels, the y axes leave headroom above each peak (and start at zero for a nearly flat
    series), and time is ticked in fiscal years.

    Parameters
    ----------
    scenario, baseline : xarray.Dataset
        Runs over ``time`` [year] holding the contract variables.
    title : str, optional
        The figure title; by default the dataset's ``scenario`` attribute against the baseline.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with an Agg canvas, not yet saved.
    """
    name = scenario.attrs.get("scenario", "scenario")
    alone = is_self_comparison(scenario, baseline)
    runs = [(scenario, {})] if alone else [(scenario, {}), (baseline, BASELINE_STYLE)]
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(3, 3)
    for ax, panel in zip(axes.flat, _PANELS, strict=True):
        drawn = []
        if isinstance(panel, tuple):
            holders, shown = panel
            for holder in holders:
                for run, style in runs:
                    values = run[holder].to_numpy() * shown.scale
                    ax.plot(
                        run["time"],
                        values,
                        **{**style, "color": holder_colour(holder)},
                        label=None if style else HOLDER_NAMES[holder],
                    )
                    drawn.append(values)
        else:
            shown = LABELS[panel]
            for run, style in runs:
                values = run[panel].to_numpy() * shown.scale
                colour = COLOURS["baseline" if alone else "scenario"]
                ax.plot(run["time"], values, **(style or {"color": colour}))
                drawn.append(values)
        meaningful_limits(ax, drawn)
        ax.set_title(shown.title, fontsize="medium")
        ax.set_ylabel(shown.units)
        fiscal_year_axis(ax)
        ax.grid(alpha=0.3)
        legend_outside(ax)  # the holders' names; last, below the axis labels
    if alone:
        heading = f"{name}: the reference run"
    else:
        heading = f"{name} (solid) against the baseline (dashed)"
        first = axes.flat[0]
        first.plot([], [], color=COLOURS["scenario"], label=name)
        first.plot([], [], **BASELINE_STYLE, label="baseline")
        legend_outside(first)
    figure.suptitle(title or heading)
    return figure


def plot_dashboard(
    scenario: xr.Dataset, baseline: xr.Dataset, path: Path, title: str | None = None
) -> None:
    """Draw :func:`dashboard_figure` and save it as a PNG with its source line.

    Parameters
    ----------
    scenario, baseline : xarray.Dataset
        Runs over ``time`` [year] holding the contract variables.
    path : Path
        The PNG to write.
    title : str, optional
        As for :func:`dashboard_figure`.
    """
    figure = dashboard_figure(scenario, baseline, title)
    runs = (scenario,) if is_self_comparison(scenario, baseline) else (scenario, baseline)
    save_figure(figure, path, run_source(*runs))
