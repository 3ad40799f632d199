"""The fan chart: 5-95% and 25-75% bands, median and unshocked path, with and without the sale."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.style import (
    COLOURS,
    fiscal_year_axis,
    legend_outside,
    meaningful_limits,
    save_figure,
)
from debtloops.units import PERCENT

#: Size of each panel [inch].
PANEL_WIDTH, PANEL_HEIGHT = 4.8, 3.6
#: The cases drawn, each in its meaning's colour, and the opacity of the outer and inner bands [1].
CASES = ("scenario", "baseline")
OUTER, INNER = 0.15, 0.3
#: The bands drawn: (lower, upper) quantiles [1] and the opacity of each.
BANDS = (((0.05, 0.95), OUTER), ((0.25, 0.75), INNER))
PANELS = {
    "debt_to_gdp": "Debt held by the public, % of GDP",
    "ten_year_yield": "10-year yield, %",
    "interest_to_revenue": "Net interest, % of revenue",
}


def plot_fan(dataset: xr.Dataset, path: Path, panels: Sequence[str] = tuple(PANELS)) -> None:
    """Draw the fans of :func:`debtloops.fan.fan` and save them as PNG.

    Parameters
    ----------
    dataset : xarray.Dataset
        As :func:`debtloops.fan.fan` returns it.
    path : Path
        The PNG file to write.
    panels : sequence of str
        The outcomes drawn, keys of :data:`PANELS`, one panel each (all by default).
    """
    chosen = {name: PANELS[name] for name in panels}
    figure = Figure(figsize=(PANEL_WIDTH * len(chosen), PANEL_HEIGHT))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(chosen), squeeze=False)[0]
    years = dataset["year"].to_numpy()
    for ax, (name, title) in zip(axes, chosen.items(), strict=True):
        shown = []
        for case in CASES:
            colour = COLOURS[case]
            fan = PERCENT * dataset[name].sel(case=case)
            label = "with the sale" if case == "scenario" else "baseline (no sale)"
            for (low, high), alpha in BANDS:
                ax.fill_between(
                    years,
                    fan.sel(quantile=low),
                    fan.sel(quantile=high),
                    color=colour,
                    alpha=alpha,
                    linewidth=0,
                )
            ax.plot(years, fan.sel(quantile=0.5), color=colour, label=f"{label}, median")
            deterministic = PERCENT * dataset[f"{name}_deterministic"].sel(case=case)
            ax.plot(years, deterministic, color=colour, linestyle="--", linewidth=0.8)
            shown += [fan.sel(quantile=0.05).to_numpy(), fan.sel(quantile=0.95).to_numpy()]
        ax.set_title(title, fontsize="medium")
        fiscal_year_axis(ax)
        meaningful_limits(ax, shown)
        ax.grid(alpha=0.3)
    figure.suptitle(
        f"{dataset.attrs['scenario']}: 5-95% and 25-75% of {dataset.attrs['draws']:,} draws; "
        "dashed: no shocks",
        fontsize="medium",
    )
    figure.tight_layout()
    legend_outside(axes[0])
    source = (
        f"debtloops fan of {dataset.attrs['scenario']} and its baseline, "
        f"{dataset.attrs['draws']:,} paired draws of shocks from a VAR(1) on FY2001-2024 history"
    )
    save_figure(figure, path, source)
