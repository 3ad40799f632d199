"""The waterfall chart of an attribution: from every mechanism off to the scenario's full extra."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from debtloops.figures.style import COLOURS, REST_COLOUR, RULE_COLOUR, save_figure

#: Width, and height per mechanism of each panel [inch].
PANEL_WIDTH, ROW_HEIGHT, BASE_HEIGHT = 5.5, 0.38, 1.6
#: Opacity of a mechanism's share, the scenario's colour made lighter [1].
SHARE_OPACITY = 0.55
#: The bars: what remains with every mechanism off, each mechanism's share of the scenario's extra
#: (its sign is the bar's direction), and the scenario's whole extra.
REMAINDER_COLOUR, TOTAL_COLOUR = REST_COLOUR, COLOURS["scenario"]
SHARE_COLOUR = to_rgba(COLOURS["scenario"], SHARE_OPACITY)
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
        colours = [REMAINDER_COLOUR] + [SHARE_COLOUR] * len(shares) + [TOTAL_COLOUR]
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
        ax.axvline(0.0, color=RULE_COLOUR, linewidth=0.6)
        ax.margins(x=MARGIN)
        ax.set_title(long_name, fontsize="medium")
        ax.set_xlabel(units)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(rows, labels)
    figure.suptitle(f"{dataset.attrs.get('title', 'Attribution')} ({dataset.attrs['method']})")
    figure.tight_layout()
    scenario = dataset.attrs.get("scenario", "")
    save_figure(figure, path, f"debtloops attribution {scenario} ({dataset.attrs['method']})")
