"""The explorer's exports: the charted paths as CSV, the charts as a PNG or SVG image.

The image is the house-style dashboard of :mod:`debtloops.figures.dashboard`, with the explorer
named as its source line, saved into memory by :func:`debtloops.figures.style.save_figure`, the
one way every chart is saved, and sent to the browser without a file.
"""

from __future__ import annotations

import io

import pandas as pd

from debtloops.app import charts
from debtloops.figures.dashboard import dashboard_figure
from debtloops.figures.labels import LABELS
from debtloops.figures.style import save_figure

#: Where the chart export says its numbers come from, after the explorer's name.
EXPORT_SOURCE = "the current settings (solid) against the baseline (dashed)"


def results_frame(outcome) -> pd.DataFrame:
    """Return the charted paths of a run and its baseline, one column each, as the CSV export.

    Columns are named ``<title> [<units>], settings`` and ``..., baseline``, in the charts' units;
    the index is ``time [fiscal year]``.
    """
    columns = charts.explorer_columns(outcome.scenario, outcome.baseline)
    frame = pd.DataFrame(index=pd.Index(columns["time"], name="time [fiscal year]"))
    for panel in charts.EXPLORER_PANELS:
        for name in panel.variables:
            title = LABELS[name].title if name in LABELS else name
            shown = f"{title} [{panel.label.units}]"
            frame[f"{shown}, settings"] = columns[name]
            frame[f"{shown}, baseline"] = columns[name + charts.BASELINE_SUFFIX]
    return frame


def chart_file(outcome, kind: str) -> io.BytesIO:
    """Draw the run against its baseline in the house style, as a PNG or SVG file in memory.

    Parameters
    ----------
    outcome : Outcome
        The current update.
    kind : str
        ``"png"`` or ``"svg"``.
    """
    figure = dashboard_figure(outcome.scenario, outcome.baseline)
    buffer = io.BytesIO()
    save_figure(figure, buffer, f"debtloops explorer, {EXPORT_SOURCE}", fmt=kind)
    buffer.seek(0)
    return buffer
