"""The goal-seek chart of ``debtloops target``: the outcome with and without the lever."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.style import (
    COLOURS,
    RULE_COLOUR,
    fiscal_year_axis,
    legend_outside,
    meaningful_limits,
    save_figure,
)
from debtloops.units import BASIS_POINTS, PERCENT

#: Size of each panel [inch].
PANEL_WIDTH, PANEL_HEIGHT = 4.8, 3.6
#: The panels' titles, one per feedback setting of :func:`debtloops.target.seek`.
TITLES = {"on": "every feedback on", "off": "market feedbacks off"}
#: The target's marker size [points].
TARGET_MARKER = 7.0


def plot_target(dataset: xr.Dataset, path: Path) -> None:
    """Draw each feedback setting's outcome with the lever at its solution and without it.

    Parameters
    ----------
    dataset : xarray.Dataset
        As :func:`debtloops.target.paths` returns it.
    path : Path
        The PNG file to write.
    """
    debt = dataset.attrs["goal"] == "debt"
    name = "debt_to_gdp" if debt else "extra_ten_year_yield"
    scale, unit = (PERCENT, "% of GDP") if debt else (BASIS_POINTS, "bp")
    axis = "fiscal_year" if debt else "time"
    settings = [str(f) for f in dataset["feedbacks"].values]
    figure = Figure(figsize=(PANEL_WIDTH * len(settings), PANEL_HEIGHT))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(settings), squeeze=False)[0]
    target = scale * float(dataset.attrs["target"])
    lever = dataset.attrs["lever"]
    word = "primary effort" if debt else "Fed purchases"
    without_label = "without the effort" if debt else "without Fed purchases"
    for ax, setting in zip(axes, settings, strict=True):
        values = scale * dataset[name].sel(feedbacks=setting)
        x = values[axis].to_numpy().astype(float)  # fiscal years, or the model's clock
        with_lever = values.sel(case="with_lever").to_numpy()
        without = values.sel(case="without_lever").to_numpy()
        ax.plot(x, without, color=COLOURS["scenario"], linestyle="--", label=without_label)
        ax.plot(x, with_lever, color=COLOURS["scenario"], label=f"with the {word} solved for")
        if debt:  # a level to meet in the target year
            ax.axhline(target, color=RULE_COLOUR, linewidth=0.8, linestyle=":")
            ax.plot(
                [float(dataset.attrs["last_year"])],
                [target],
                marker="o",
                markersize=TARGET_MARKER,
                color=COLOURS["baseline"],
                linestyle="none",
                label=f"target: {target:.2f} {unit} in FY{int(dataset.attrs['last_year'])}",
            )
        else:  # a ceiling for the whole run
            ax.axhline(
                target,
                color=RULE_COLOUR,
                linewidth=1.0,
                linestyle=":",
                label=f"ceiling: {target:g} {unit}",
            )
        solved = float(dataset["lever"].sel(feedbacks=setting))
        amount = f"{PERCENT * solved:.3f}% of GDP" if debt else f"${solved:,.0f}bn a year"
        ax.set_title(f"{TITLES.get(setting, setting)}: {amount}", fontsize="medium")
        fiscal_year_axis(ax)
        meaningful_limits(ax, [with_lever, without, np.array([target])])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(
        "debt/GDP at the fiscal year's end [% of GDP]" if debt else "10-year less the baseline [bp]"
    )
    figure.suptitle(
        f"{dataset.attrs['scenario']}: {lever} that meets the target", fontsize="medium"
    )
    figure.tight_layout()
    legend_outside(axes[0])
    vintage = dataset.attrs.get("cbo_vintage")
    on = f" on CBO {vintage}" if vintage else ""
    scenario = dataset.attrs["scenario"]
    source = f"debtloops target, {lever} for {scenario}{on}; each line a run of the .mdl"
    save_figure(figure, path, source)
