"""One house style for every matplotlib figure: colours, resolution, time axes, legends, sources.

Every figure module draws with these helpers, so the rules hold everywhere:

- one colour-blind-safe palette (Okabe and Ito's, plus one colour of Paul Tol's), one meaning per
  colour (:data:`COLOURS`): the scenario is never drawn in the Federal Reserve's colour;
- legends sit outside the axes (:func:`legend_outside`), never on the data;
- headroom above the highest point (:func:`value_limits`), so no peak touches the frame;
- time axes ticked at whole fiscal years and labelled ``FY2030`` (:func:`fiscal_year_axis`), not
  decimal years;
- a series whose range is tiny beside its level is drawn on an axis from zero
  (:func:`value_limits`, :func:`meaningful_limits`), not on an axis of a unit or two around a flat
  line;
- one resolution (:data:`DPI`) and one save function (:func:`save_figure`), which writes the source
  line under the figure; :func:`run_source` words it from a run's own attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation

from debtloops.model.holders import FOREIGN

#: Resolution of every PNG chart [dots per inch].
DPI = 150
#: Resolution of the Graphviz diagrams' PNGs [dots per inch]: twice :data:`DPI`, so that the
#: whole-model diagram's 11-point names stay legible when zoomed.
DIAGRAM_DPI = 2 * DPI
#: The formats :func:`save_figure` writes: PNG at :data:`DPI`, and SVG, drawn in points.
SAVE_FORMATS = ("png", "svg")

#: Okabe and Ito's colour-blind-safe palette (Color Universal Design, 2008) by colour name, and
#: Tol's indigo (Tol 2021, "muted") as a ninth colour; yellow is kept for filled areas of
#: categories, as a line it is too light on white.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#8C8C8C"
YELLOW = "#F0E442"
INDIGO = "#332288"

#: One colour per meaning, and one meaning per colour. Japan and China have theirs here, chosen by
#: hand; a foreign holder without one (:data:`debtloops.model.holders.FOREIGN`) is given one of
#: :data:`SPARE_HOLDER_COLOURS` instead (:data:`HOLDER_COLOURS`).
COLOURS: dict[str, str] = {
    "baseline": BLACK,
    "scenario": VERMILLION,
    "japan": BLUE,
    "china": ORANGE,
    "other_foreign": SKY_BLUE,
    "fed": REDDISH_PURPLE,
    "domestic_private": BLUISH_GREEN,
    "observed": GREY,  # history, CBO's projections: what the model is compared with
    "calibrated": INDIGO,  # the model with calibrated parameters (posterior, least squares)
}

#: Line colours for the foreign holders that have none in :data:`COLOURS`, in the list's order
#: (cycled beyond six): Tol's "muted" rose, teal, olive, wine, green and purple (Tol 2021), none of
#: which means anything else here.
SPARE_HOLDER_COLOURS = ("#CC6677", "#44AA99", "#999933", "#882255", "#117733", "#AA4499")

#: Each holder's holdings variable and its meaning in :data:`COLOURS`.
HOLDER_MEANINGS: dict[str, str] = {
    **{holder.holdings: holder.key for holder in FOREIGN},
    "other_foreign_holdings": "other_foreign",
    "fed_holdings": "fed",
    "domestic_private_holdings": "domestic_private",
}
_UNCOLOURED = [meaning for meaning in HOLDER_MEANINGS.values() if meaning not in COLOURS]
#: Each holder's holdings variable and its line colour.
HOLDER_COLOURS: dict[str, str] = {
    holder: COLOURS.get(meaning)
    or SPARE_HOLDER_COLOURS[_UNCOLOURED.index(meaning) % len(SPARE_HOLDER_COLOURS)]
    for holder, meaning in HOLDER_MEANINGS.items()
}

#: Categories that are named in a chart's own legend and mean nothing beyond it (the loops of the
#: dominance chart, as filled areas): the palette in Okabe and Ito's order, then Tol's indigo.
CATEGORY_CYCLE = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, SKY_BLUE, REDDISH_PURPLE, YELLOW, INDIGO)
#: The rest of the categories, summed ("all other loops").
REST_COLOUR = "#D9D9D9"

#: How the baseline is drawn beside a scenario.
BASELINE_STYLE = {"color": COLOURS["baseline"], "linestyle": "--", "linewidth": 1.2}
#: Fraction of the data's range left free above its highest point (and below its lowest) [1].
HEADROOM = 0.08
#: A series whose range is below this fraction of its largest magnitude is drawn from zero [1].
FLAT_FRACTION = 0.01
#: Most whole-year ticks on a time axis.
MAX_YEAR_TICKS = 6
#: Font size of the source line [points], its gap below the lowest thing drawn [inch], and its
#: grey (matplotlib's grey level, 0 black to 1 white).
SOURCE_POINTS = 7.5
SOURCE_GAP_INCHES = 0.08
SOURCE_GREY = "0.3"
#: Reference lines (zero, the end of a fit), in matplotlib's grey level: they mean no series.
RULE_COLOUR = "0.3"
#: Gap between a legend below its axes and the axes' labels [inch].
LEGEND_GAP_INCHES = 0.04
#: Most columns of a legend below its axes.
LEGEND_COLUMNS = 3
#: Margin around a saved figure [inch].
PAD_INCHES = 0.15
#: Text of the source line's start, which tests look for.
SOURCE_PREFIX = "Source: "
#: The data layer of a run on history (``data = "history"``), in words; a run on CBO's data names
#: its vintage in its ``cbo_vintage`` attribute.
HISTORY_WORDS = "historical data (models/data)"
#: Gid attached to the source line's text artist, to find it in a saved figure.
SOURCE_GID = "source-line"


def holder_colour(holder: str) -> str:
    """Return the colour of a holder's holdings variable, e.g. ``japan_holdings``."""
    return HOLDER_COLOURS[holder]


def fiscal_year_axis(ax: Axes, label: str = "end of fiscal year") -> None:
    """Tick a time axis in decimal fiscal years at whole years, labelled ``FY2030``.

    Time ``Y.0`` is the end of fiscal year ``Y`` (30 September of ``Y``), so the tick at ``Y`` is
    labelled ``FY<Y>``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose x values are decimal fiscal years [year].
    label : str
        The axis label.
    """
    ax.xaxis.set_major_locator(MaxNLocator(nbins=MAX_YEAR_TICKS, integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"FY{round(value)}"))
    ax.set_xlabel(label)


def value_limits(values: Iterable[np.ndarray]) -> tuple[float, float] | None:
    """Return the y limits that show series without blowing up a flat one, headroom included.

    When every series' range is below :data:`FLAT_FRACTION` of its largest magnitude, the axis
    starts at zero (ends at zero for negative data), so a constant $683.5bn reads as constant
    rather than as a wiggle on an axis of 682.5-684.5; otherwise the range is widened by
    :data:`HEADROOM` above the highest point and below the lowest.

    Parameters
    ----------
    values : iterable of numpy.ndarray
        The series drawn on one axis, in the axis units.

    Returns
    -------
    tuple of float, or None
        ``(low, high)`` in the axis units; None when there is no finite value.
    """
    data = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values])
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    low, high = float(data.min()), float(data.max())
    magnitude = max(abs(low), abs(high))
    if magnitude > 0 and high - low < FLAT_FRACTION * magnitude:
        return (0.0, high * (1.0 + HEADROOM)) if low >= 0 else (low * (1.0 + HEADROOM), 0.0)
    span = high - low or magnitude or 1.0
    return low - HEADROOM * span, high + HEADROOM * span


def meaningful_limits(ax: Axes, values: Iterable[np.ndarray]) -> None:
    """Set the y axis of ``ax`` to :func:`value_limits` of the series drawn on it."""
    limits = value_limits(values)
    if limits is not None:
        ax.set_ylim(*limits)


def legend_outside(ax: Axes, **options: object) -> None:
    """Put the axes' legend below it, under its tick labels and axis label, outside the data.

    Call it once the axes' x label and ticks are set: the legend hangs :data:`LEGEND_GAP_INCHES`
    below them, a distance in inches that no layout engine changes.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    figure = ax.get_figure(root=True)
    tight = ax.get_tightbbox()  # drawn with the figure's own renderer
    assert figure is not None and tight is not None, "the axes belong to a drawn figure"
    below = (ax.bbox.y0 - tight.y0) / figure.dpi  # [inch]
    drop = ScaledTranslation(0.0, -(below + LEGEND_GAP_INCHES), figure.dpi_scale_trans)
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + drop,
        ncols=min(len(handles), LEGEND_COLUMNS),
        frameon=False,
        fontsize="small",
        **options,
    )


def data_layer(scenario_text: str) -> str | None:
    """Return the data layer a scenario chain runs on (its last ``data = "..."`` line), if any."""
    found = re.findall(r'^\s*data\s*=\s*"([^"]+)"', scenario_text, flags=re.MULTILINE)
    return found[-1] if found else None


def _drivers(run: xr.Dataset) -> str | None:
    """Return where a run's drivers come from, in words, from its attributes."""
    if "cbo_vintage" in run.attrs:
        return f"CBO vintage {run.attrs['cbo_vintage']}"
    if data_layer(str(run.attrs.get("scenario_text", ""))) == "history":
        return HISTORY_WORDS
    return None


def run_source(*runs: xr.Dataset) -> str:
    """Return the source line of a figure drawn from model runs, from the runs' own attributes.

    Parameters
    ----------
    *runs : xarray.Dataset
        Runs from :func:`debtloops.model.run.execute`: their ``scenario``, ``model_sha256``,
        ``cbo_vintage`` and ``scenario_text`` attributes are used when present.

    Returns
    -------
    str
        E.g. ``Source: debtloops model runs japan_full, baseline (model ea92c1456bf8); drivers
        from CBO vintage 2025-01``.
    """
    names = list(dict.fromkeys(str(run.attrs.get("scenario", "unnamed")) for run in runs))
    word = "run" if len(names) == 1 else "runs"
    text = f"{SOURCE_PREFIX}debtloops model {word} {', '.join(names)}"
    hashes = {str(run.attrs["model_sha256"])[:12] for run in runs if "model_sha256" in run.attrs}
    if hashes:
        text += f" (model {', '.join(sorted(hashes))})"
    words = list(dict.fromkeys(x for x in map(_drivers, runs) if x))
    if words:
        text += f"; drivers from {' and '.join(words)}"
    return text


def save_figure(figure: Figure, path: Path | BinaryIO, source: str, fmt: str = "png") -> None:
    """Write the source line under the figure and save it: a PNG at :data:`DPI`, or an SVG.

    The one way every chart is saved, to a file or, for a download, to a buffer in memory.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure, with an Agg canvas.
    path : Path or binary file
        Where to write (callers that need it atomic pass a temporary path of
        :func:`debtloops.io.atomic_file`), or an open binary buffer such as ``io.BytesIO``.
    source : str
        Where the figure's numbers come from; prefixed with :data:`SOURCE_PREFIX` if it lacks it.
    fmt : str
        One of :data:`SAVE_FORMATS`.

    Raises
    ------
    ValueError
        If ``fmt`` is not one of :data:`SAVE_FORMATS`.
    """
    if fmt not in SAVE_FORMATS:
        raise ValueError(
            f"cannot save a figure as {fmt!r}; choose one of {', '.join(SAVE_FORMATS)}"
        )
    if not source.startswith(SOURCE_PREFIX):
        source = SOURCE_PREFIX + source
    add_source(figure, source)
    figure.savefig(path, dpi=DPI, format=fmt, bbox_inches="tight", pad_inches=PAD_INCHES)


def add_source(figure: Figure, source: str) -> None:
    """Fix the figure's layout and write ``source`` under everything drawn, at its left edge."""
    figure.draw_without_rendering()  # runs the layout engine once
    figure.set_layout_engine("none")  # and keeps that layout, so the line can go below it
    figure.draw_without_rendering()  # places what the engine had placed (figure legends)
    drawn = figure.get_tightbbox()  # [inch]
    width, height = figure.get_size_inches()
    figure.text(
        drawn.x0 / width,
        (drawn.y0 - SOURCE_GAP_INCHES) / height,
        source,
        ha="left",
        va="top",
        fontsize=SOURCE_POINTS,
        color=SOURCE_GREY,
        gid=SOURCE_GID,
    )
