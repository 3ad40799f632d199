"""The figures of scenario discovery: PRIM's peeling trajectory and the chosen box's ranges."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.style import CATEGORY_CYCLE, REST_COLOUR, save_figure

#: Size of the trajectory figure [inch].
TRAJECTORY_SIZE = (5.5, 4.5)
#: Width, and height per parameter and fixed part of the box figure [inch].
BOX_WIDTH, ROW_HEIGHT, BASE_HEIGHT = 7.0, 0.32, 1.4
#: The sampled range, and the box (a category that means nothing beyond these two charts).
FULL, BOX = REST_COLOUR, CATEGORY_CYCLE[0]
#: What the figures' source line says.
SOURCE = "debtloops discover: PRIM on a sweep's samples, {where}"


def plot_trajectory(dataset: xr.Dataset, chosen: int, path: Path) -> None:
    """Draw coverage against density along the peeling, marking the chosen box; save as PNG.

    The chosen step is circled; a star marks the box once its unsupported restrictions are
    dropped (:func:`debtloops.discover.prune`).

    Parameters
    ----------
    dataset : xarray.Dataset
        As :func:`debtloops.discover.discover` returns it.
    chosen : int
        The chosen step.
    path : Path
        The PNG file to write.
    """
    figure = Figure(figsize=TRAJECTORY_SIZE)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    coverage, density = dataset["coverage"].values, dataset["density"].values
    restricted = (dataset["box_low"] > dataset["full_low"]) | (
        dataset["box_high"] < dataset["full_high"]
    )
    dots = axes.scatter(
        coverage, density, c=restricted.sum("parameter").values, cmap="viridis", s=18
    )
    figure.colorbar(dots, ax=axes, label="restricted parameters")
    axes.plot(coverage[chosen], density[chosen], "o", mfc="none", mec=BOX, ms=12, mew=2)
    axes.annotate(
        f"chosen: step {chosen}", (coverage[chosen], density[chosen]), (8, -14),
        textcoords="offset points", color=BOX,
    )  # fmt: skip
    pruned = (dataset.attrs["chosen_coverage"], dataset.attrs["chosen_density"])
    axes.plot(*pruned, "*", color=BOX, ms=12)
    axes.annotate(
        "pruned box", pruned, (-8, -14), textcoords="offset points", color=BOX, ha="right"
    )
    axes.set_xlabel("coverage [share of the cases of interest in the box]")
    axes.set_ylabel("density [share of the box's cases of interest]")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.set_title(f"PRIM peeling: {dataset.attrs['where']}", fontsize=9)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path, SOURCE.format(where=dataset.attrs["where"]))


def plot_box(table: pd.DataFrame, attrs: Mapping[str, object], path: Path) -> None:
    """Draw each restricted parameter's box range against its full range; save as PNG.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`debtloops.discover.box_table` returns it.
    attrs : mapping
        The discovery's attributes (``where``).
    path : Path
        The PNG file to write.
    """
    shown = table[table["restricted"]] if table["restricted"].any() else table
    rows = np.arange(len(shown))[::-1]
    figure = Figure(figsize=(BOX_WIDTH, BASE_HEIGHT + ROW_HEIGHT * len(shown)))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    span = (shown["full_high"] - shown["full_low"]).to_numpy()
    span = np.where(span > 0, span, 1.0)
    low = (shown["box_low"] - shown["full_low"]).to_numpy() / span
    high = (shown["box_high"] - shown["full_low"]).to_numpy() / span
    axes.barh(rows, np.ones(len(rows)), color=FULL, height=0.6)
    axes.barh(rows, high - low, left=low, color=BOX, height=0.6)
    for row, (_, item) in zip(rows, shown.iterrows(), strict=True):
        axes.text(
            1.02, row, f"[{item['box_low']:.3g}, {item['box_high']:.3g}] of "
            f"[{item['full_low']:.3g}, {item['full_high']:.3g}] {item['units']}",
            va="center", fontsize=7,
        )  # fmt: skip
    axes.set_yticks(rows, shown.index.tolist(), fontsize=8)
    axes.set_xlim(0, 1)
    axes.set_xlabel("position in the sampled range (grey) of the box (blue) [share of the range]")
    axes.set_title(f"PRIM box: {attrs['where']}", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path, SOURCE.format(where=attrs["where"]))
