"""The fan chart: 5-95% and 25-75% bands, median and unshocked path, with and without the sale."""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 130
#: Size of each panel [inch].
PANEL_WIDTH, PANEL_HEIGHT = 4.8, 3.6
#: Colour of each case, and the opacity of the outer and inner bands [1].
COLOURS = {"scenario": "#c0392b", "baseline": "#1f5fa8"}
OUTER, INNER = 0.15, 0.3
#: Percent per unit of a ratio.
PERCENT = 100.0
PANELS = {
    "debt_to_gdp": "Debt held by the public, % of GDP",
    "ten_year_yield": "10-year yield, %",
    "interest_to_revenue": "Net interest, % of revenue",
}


def plot_fan(dataset: xr.Dataset, path: Path) -> None:
    """Draw the fans of :func:`debtloops.fan.fan` and save them as PNG.

    Parameters
    ----------
    dataset : xarray.Dataset
        As :func:`debtloops.fan.fan` returns it.
    path : Path
        The PNG file to write.
    """
    figure = Figure(figsize=(PANEL_WIDTH * len(PANELS), PANEL_HEIGHT))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(PANELS), squeeze=False)[0]
    years = dataset["year"].to_numpy()
    for ax, (name, title) in zip(axes, PANELS.items(), strict=True):
        for case, colour in COLOURS.items():
            fan = PERCENT * dataset[name].sel(case=case)
            label = "with the sale" if case == "scenario" else "baseline (no sale)"
            ax.fill_between(
                years,
                fan.sel(quantile=0.05),
                fan.sel(quantile=0.95),
                color=colour,
                alpha=OUTER,
                linewidth=0,
            )
            ax.fill_between(
                years,
                fan.sel(quantile=0.25),
                fan.sel(quantile=0.75),
                color=colour,
                alpha=INNER,
                linewidth=0,
            )
            ax.plot(years, fan.sel(quantile=0.5), color=colour, label=f"{label}, median")
            deterministic = PERCENT * dataset[f"{name}_deterministic"].sel(case=case)
            ax.plot(years, deterministic, color=colour, linestyle="--", linewidth=0.8)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("fiscal year")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="x-small", loc="upper left")
    figure.suptitle(
        f"{dataset.attrs['scenario']}: 5-95% and 25-75% of {dataset.attrs['draws']:,} draws; "
        "dashed: no shocks",
        fontsize="medium",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, format="png")
