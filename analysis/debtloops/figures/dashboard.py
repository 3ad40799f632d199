"""The dashboard: one scenario against the baseline, eight panels, saved as a PNG.

Uses matplotlib's object-oriented API with the Agg canvas, so no display or pyplot state is needed.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.model.contract import HOLDINGS

PERCENT = 100.0
THOUSAND = 1000.0
FIGURE_SIZE = (17.0, 7.5)  # [inch]
DPI = 150

#: (variable, title, scale applied to the values, axis label)
_PANELS = (
    ("debt_to_gdp", "Debt held by the public / GDP", PERCENT, "% of GDP"),
    ("market_yield", "10-year market yield", PERCENT, "% per year"),
    ("interest_to_revenue", "Net interest / revenue", PERCENT, "% of revenue"),
    (None, "Holdings by holder", 1.0 / THOUSAND, "trillion USD"),
    ("dollar_index", "Broad dollar index", 1.0, "index"),
    ("bond_price_index", "Bond price index (10-year)", 1.0, "index, start = 100"),
    ("output_gap", "Real GDP against the baseline's path", PERCENT, "%"),
    ("inflation", "Inflation (GDP prices)", PERCENT, "% per year"),
)

_HOLDER_LABELS = {
    "japan_holdings": "Japan",
    "china_holdings": "China",
    "other_foreign_holdings": "other foreign",
    "fed_holdings": "Federal Reserve",
    "domestic_private_holdings": "domestic private",
}


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
    axes = figure.subplots(2, 4)
    for ax, (variable, panel_title, scale, label) in zip(axes.flat, _PANELS, strict=True):
        if variable is None:
            for index, holder in enumerate(HOLDINGS):
                color = f"C{index}"
                ax.plot(
                    scenario["time"],
                    scenario[holder] * scale,
                    color=color,
                    label=_HOLDER_LABELS[holder],
                )
                ax.plot(baseline["time"], baseline[holder] * scale, color=color, linestyle="--")
            ax.legend(fontsize="small", loc="upper left")
        else:
            ax.plot(scenario["time"], scenario[variable] * scale, color="C3", label=name)
            ax.plot(
                baseline["time"],
                baseline[variable] * scale,
                color="0.35",
                linestyle="--",
                label="baseline",
            )
            if variable == "debt_to_gdp":
                ax.legend(fontsize="small", loc="upper left")
        ax.set_title(panel_title, fontsize="medium")
        ax.set_ylabel(label)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
    figure.suptitle(title or f"{name} (solid) against the baseline (dashed)")
    figure.savefig(path, dpi=DPI, format="png")
