"""The regret chart of ``debtloops compare-policies``: each policy's regret over the experiments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.labels import label
from debtloops.figures.style import CATEGORY_CYCLE, RULE_COLOUR, save_figure

#: Width of a panel, and height per policy plus a fixed part of each row of panels [inch].
PANEL_WIDTH, ROW_HEIGHT, BASE_HEIGHT = 3.6, 0.32, 1.1
#: Percentiles of the whiskers [%]; the box spans the quartiles.
WHISKERS = (5.0, 95.0)
#: Opacity of the boxes, each in its policy's colour [1].
BOX_OPACITY = 0.6
#: Height of a box, as a share of the gap between policies [1], and the mean's marker [points].
BOX_WIDTH, MEAN_MARKER = 0.6, 3.0


def plot_regret(dataset: xr.Dataset, path: Path, source: str) -> None:
    """Draw one panel per scenario and outcome: each policy's regret across experiments.

    Parameters
    ----------
    dataset : xarray.Dataset
        As :func:`debtloops.policies.compare` returns it.
    path : Path
        The PNG file to write.
    source : str
        The figure's source line.
    """
    names = [str(n) for n in dataset.data_vars]
    outcomes = [n.removeprefix("regret_") for n in names if n.startswith("regret_")]
    scenarios = [str(s) for s in dataset["scenario"].values]
    policies = [str(p) for p in dataset["policy"].values]
    rows = np.arange(len(policies))[::-1]
    height = len(scenarios) * (BASE_HEIGHT + ROW_HEIGHT * len(policies))
    figure = Figure(figsize=(PANEL_WIDTH * len(outcomes), height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(scenarios), len(outcomes), sharey=True, squeeze=False)
    colours = [CATEGORY_CYCLE[k % len(CATEGORY_CYCLE)] for k in range(len(policies))]
    for i, scenario in enumerate(scenarios):
        for ax, outcome in zip(axes[i], outcomes, strict=True):
            shown = label(str(dataset[outcome].attrs["source"]))
            values = dataset[f"regret_{outcome}"].values[i] * shown.scale
            ran = np.all(np.isfinite(values), axis=0)
            box = ax.boxplot(
                [values[j, ran] for j in range(len(policies))],
                positions=rows,
                orientation="horizontal",
                whis=WHISKERS,
                showfliers=False,
                patch_artist=True,
                widths=BOX_WIDTH,
            )
            for patch, colour in zip(box["boxes"], colours, strict=True):
                patch.set_facecolor(colour)
                patch.set_alpha(BOX_OPACITY)
            for median in box["medians"]:
                median.set_color(RULE_COLOUR)
            means = [float(np.mean(row[ran])) if ran.any() else np.nan for row in values]
            ax.plot(means, rows, "D", color=RULE_COLOUR, markersize=MEAN_MARKER)
            ax.axvline(0.0, color=RULE_COLOUR, linewidth=0.6)
            ax.set_xlim(left=0.0)
            ax.grid(axis="x", alpha=0.3)
            ax.set_title(f"{scenario}: {dataset[outcome].attrs['long_name']}", fontsize="small")
            ax.set_xlabel(f"regret [{shown.units}]", fontsize="small")
        axes[i][0].set_yticks(rows, policies)
    figure.suptitle(
        f"Regret: how much worse each policy does than the best one in the same experiment "
        f"(lower is better)\n{dataset.attrs['experiments']:,} experiments; box 25-75%, "
        f"whiskers {WHISKERS[0]:g}-{WHISKERS[1]:g}%, line the median, diamond the mean",
        fontsize="small",
    )
    save_figure(figure, path, source)
