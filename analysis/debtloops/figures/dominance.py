"""The loop dominance chart: which feedback loops drive the model over a run.

:func:`plot_dominance` draws the shares of the loops' activity from
:func:`debtloops.loops.dominance.loop_dominance` as a stacked area chart, the loops named as in the
inventory of ``models/README.md``; titles and units come from :mod:`debtloops.figures.labels`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.errors import InputError
from debtloops.figures.labels import label
from debtloops.figures.style import CATEGORY_CYCLE, REST_COLOUR, fiscal_year_axis, save_figure
from debtloops.io import atomic_file
from debtloops.loops.dominance import main_partition

#: Size of the figure [inch]: wide enough for the legend of loop names beside the chart.
FIGURE_INCHES = (11, 5.5)
#: Longest loop name in the legend [characters]; longer names are cut with an ellipsis.
LEGEND_NAME_CHARACTERS = 60
#: Longest line of the chart's subtitle [characters].
SUBTITLE_CHARACTERS = 110
SHARE = label("loop_share")
POLARITY_WORDS = {"R": "reinforcing", "B": "balancing"}


def legend_name(loop_id: str, name: str, polarity: str) -> str:
    """Return how a loop is named in the legend: its name, then its id and polarity in words.

    Parameters
    ----------
    loop_id : str
        The loop's id, e.g. ``R1`` or ``T.12``.
    name : str
        Its name in the inventory, e.g. ``interest snowball (bills)``.
    polarity : str
        ``R``, ``B``, or anything else for a loop whose polarity is not stated.

    Returns
    -------
    str
        E.g. ``interest snowball (bills): R1, reinforcing``.
    """
    if len(name) > LEGEND_NAME_CHARACTERS:
        name = name[: LEGEND_NAME_CHARACTERS - 1].rstrip() + "\u2026"
    word = POLARITY_WORDS.get(polarity)
    return f"{name}: {loop_id}, {word}" if word else f"{name}: {loop_id}"


def dominance_figure(
    ds: xr.Dataset, scenario: str, top: int = 8, partition: int | None = None
) -> Figure:
    """Return the loops' shares of activity over time as a stacked area chart.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`debtloops.loops.dominance.loop_dominance`.
    scenario : str
        The scenario that was run, named in the title.
    top : int
        How many loops to show, those with the largest mean share; the rest are summed as
        "all other loops".
    partition : int, optional
        The group of stocks joined by feedback (Simlin's cycle partition) whose loops are shown;
        by default the one with the most loops, whose shares sum to 100% at every active step.

    Returns
    -------
    matplotlib.figure.Figure
        The chart, titled in plain words, each loop named as in the inventory.

    Raises
    ------
    InputError
        If ``top`` is below 1 or no loop is in ``partition``.
    """
    if top < 1:
        raise InputError(f"top must be at least 1, got {top}")
    sub = main_partition(ds, partition)
    share = np.abs(sub["score"].to_numpy()) * SHARE.scale
    time = sub["time"].to_numpy()
    order = np.argsort(-share.mean(axis=1), kind="stable")
    shown, rest = order[:top], order[top:]
    layers = [share[i] for i in shown]
    names = [
        legend_name(
            str(sub["loop"].values[i]), str(sub["name"].values[i]), str(sub["polarity"].values[i])
        )
        for i in shown
    ]
    colours = [CATEGORY_CYCLE[k % len(CATEGORY_CYCLE)] for k in range(len(layers))]
    if rest.size:
        layers.append(share[rest].sum(axis=0))
        names.append(f"all {rest.size:,} other loops")
        colours.append(REST_COLOUR)
    figure = Figure(figsize=FIGURE_INCHES, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.stackplot(time, np.vstack(layers), labels=names, colors=colours, alpha=0.9)
    axes.set_xlim(time[0], time[-1])
    axes.set_ylim(0, max(SHARE.scale, float(np.vstack(layers).sum(axis=0).max())))
    fiscal_year_axis(axes)
    axes.set_ylabel(SHARE.with_units())
    left_out = ds.sizes["loop"] - sub.sizes["loop"]
    note = (
        f"Each loop's share of the activity of the {sub.sizes['loop']:,} loops that join the "
        "model's main stocks (Loops That Matter scores, computed by Simlin)"
    )
    if left_out:
        note += f"; {left_out:,} loops of smaller groups of stocks are not shown"
    figure.suptitle(
        f"Which feedback loops drive the model, {scenario}\n"
        + textwrap.fill(note, SUBTITLE_CHARACTERS),
        fontsize=11,
    )
    handles, legend_labels = axes.get_legend_handles_labels()
    axes.legend(
        handles[::-1],
        legend_labels[::-1],
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize=8,
    )
    return figure


def plot_dominance(
    ds: xr.Dataset, path: Path, scenario: str, top: int = 8, partition: int | None = None
) -> None:
    """Write :func:`dominance_figure` as a PNG with its source line, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`debtloops.loops.dominance.loop_dominance`.
    path : Path
        The PNG to write; written to a temporary file and renamed into place.
    scenario, top, partition
        As for :func:`dominance_figure`.
    """
    figure = dominance_figure(ds, scenario, top, partition)
    source = f"debtloops model run {scenario}; loop scores: Loops That Matter, computed by Simlin"
    atomic_file(Path(path), lambda target: save_figure(figure, target, source))
