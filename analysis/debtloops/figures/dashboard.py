"""The dashboard: one scenario against the baseline, nine panels, saved as a PNG.

Uses matplotlib's object-oriented API with the Agg canvas, so no display or pyplot state is needed.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.labels import HOLDER_NAMES, LABELS, PER_THOUSAND, Label
from debtloops.model.contract import HOLDINGS

FIGURE_SIZE = (15.0, 10.5)  # [inch]
DPI = 150

#: The two official foreign holders the scenarios are about, shown in billions on their own axis:
#: on the axis of all holdings, Japan's $1.2T would be a line along the bottom.
SELLERS = ("japan_holdings", "china_holdings")
#: The other holders, in trillions.
LARGE_HOLDERS = tuple(holder for holder in HOLDINGS if holder not in SELLERS)

#: The panels in reading order: a variable, or a group of holders with its label.
_PANELS: tuple[str | tuple[tuple[str, ...], Label], ...] = (
    "debt_to_gdp",
    "market_yield",
    "interest_to_revenue",
    (SELLERS, Label("Japan's and China's holdings", "billion USD")),
    (LARGE_HOLDERS, Label("Other holders", "trillion USD", PER_THOUSAND)),
    "dollar_index",
    "bond_price_index",
    "output_gap",
    "inflation",
)


def plot_dashboard(
    scenario: xr.Dataset, baseline: xr.Dataset, path: Path, title: str | None = None
) -> None:
    """Draw the scenario (solid) against the baseline (dashed) and save the figure.

    Parameters
    ----------
    scenario, baseline : xarray.Dataset
        Runs over ``time`` [year] holding the contract variables.
    path : Path
        The PNG to write.
    title : str, optional
        The figure title; by default the dataset's ``scenario`` attribute against the baseline.
    """
    name = scenario.attrs.get("scenario", "scenario")
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(3, 3)
    for ax, panel in zip(axes.flat, _PANELS, strict=True):
        if isinstance(panel, tuple):
            holders, shown = panel
            for holder in holders:
                color = f"C{HOLDINGS.index(holder)}"
                ax.plot(
                    scenario["time"],
                    scenario[holder] * shown.scale,
                    color=color,
                    label=HOLDER_NAMES[holder],
                )
                ax.plot(
                    baseline["time"], baseline[holder] * shown.scale, color=color, linestyle="--"
                )
            ax.legend(fontsize="small", loc="best")
        else:
            shown = LABELS[panel]
            ax.plot(scenario["time"], scenario[panel] * shown.scale, color="C3", label=name)
            ax.plot(
                baseline["time"],
                baseline[panel] * shown.scale,
                color="0.35",
                linestyle="--",
                label="baseline",
            )
            if panel == "debt_to_gdp":
                ax.legend(fontsize="small", loc="upper left")
        ax.set_title(shown.title, fontsize="medium")
        ax.set_ylabel(shown.units)
        ax.set_xlabel("end of fiscal year")
        ax.grid(alpha=0.3)
    figure.suptitle(title or f"{name} (solid) against the baseline (dashed)")
    figure.savefig(path, dpi=DPI, format="png")
