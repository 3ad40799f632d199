"""The waterfall chart of an attribution: from every mechanism off to the scenario's full extra."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 130
#: Width, and height per mechanism of each panel [inch].
PANEL_WIDTH, ROW_HEIGHT, BASE_HEIGHT = 5.5, 0.38, 1.6
RAISES, LOWERS, ENDS = "#c0392b", "#1f5fa8", "#7f7f7f"
#: Room left beside the longest bar for its label [fraction of the axis].
MARGIN = 0.15


def plot_waterfall(
    dataset: xr.Dataset, outcomes: dict[str, tuple[str, str, float]], path: Path
) -> None:
    """Draw one waterfall panel per scalar outcome of an attribution and save it as PNG.

    Parameters
    ----------
    dataset : xarray.Dataset
        As :func:`debtloops.attribution.attribute` returns it.
    outcomes : dict
        Outcome name -> (long name, units, scale), as :data:`debtloops.attribution.OUTCOMES`.
    path : Path
        The PNG file to write.
    """
    names = dataset["mechanism"].to_numpy().tolist()
    labels = ["all mechanisms off", *names, "scenario"]
    height = BASE_HEIGHT + ROW_HEIGHT * len(labels)
    figure = Figure(figsize=(PANEL_WIDTH * len(outcomes), height))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(outcomes), sharey=True, squeeze=False)[0]
    rows = np.arange(len(labels))[::-1]
    for ax, (outcome, (long_name, units, _)) in zip(axes, outcomes.items(), strict=True):
        rest = float(dataset[f"remainder_{outcome}"])
        shares = dataset[f"share_{outcome}"].to_numpy()
        total = float(dataset[f"total_{outcome}"])
        starts = np.concatenate([[0.0], rest + np.cumsum(shares) - shares, [0.0]])
        widths = np.concatenate([[rest], shares, [total]])
        colours = [ENDS] + [RAISES if s >= 0 else LOWERS for s in shares] + [ENDS]
        ax.barh(rows, widths, left=starts, color=colours)
        for row, left, width in zip(rows, starts, widths, strict=True):
            ax.annotate(
                f"{width:+,.1f}",
                (left + max(width, 0.0), row),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
            )
        ax.axvline(0.0, color="black", linewidth=0.6)
        ax.margins(x=MARGIN)
        ax.set_title(long_name, fontsize="medium")
        ax.set_xlabel(units)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(rows, labels)
    figure.suptitle(f"{dataset.attrs.get('title', 'Attribution')} ({dataset.attrs['method']})")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, format="png")
