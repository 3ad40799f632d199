"""Figures of the model against its references: the baseline against CBO, and the backtest.

Both use matplotlib's object-oriented API with the Agg canvas and take their titles from
:mod:`debtloops.figures.labels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.figures.labels import label
from debtloops.figures.style import (
    COLOURS,
    fiscal_year_axis,
    legend_outside,
    meaningful_limits,
    save_figure,
)
from debtloops.model.datafiles import CBO_DIR, HISTORY_FILE

#: Where the compared numbers come from.
BACKTEST_SOURCE = (
    f"debtloops backtest (model run from history's drivers); actual values: models/data/"
    f"{HISTORY_FILE.name}"
)
CBO_SOURCE = (
    "debtloops model run baseline; CBO's projections of the vintage run "
    f"(models/data/{CBO_DIR.name}/<vintage>/projections.csv)"
)
#: The backtest's panels a row, the figure's width and the height of a row of panels [inch].
BACKTEST_COLUMNS = 3
BACKTEST_WIDTH, BACKTEST_ROW_HEIGHT = 12.0, 3.25
CBO_SIZE = (11.0, 4.2)  # [inch]


def plot_backtest(table: pd.DataFrame, path: Path, how: str, variables: Sequence[str]) -> None:
    """Draw each compared variable, model against actual, one panel each, and save a PNG.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`debtloops.validation.backtest.compare`: columns ``variable``, ``year``,
        ``model``, ``actual`` and ``units``.
    path : Path
        The PNG to write.
    how : str
        How the run got its 10-year yield, for the title, e.g. ``historical 10-year yield``.
    variables : sequence of str
        The variables to show, in reading order, :data:`BACKTEST_COLUMNS` a row (one more row
        for each foreign holder beyond the three panels' room).
    """
    rows = -(-len(variables) // BACKTEST_COLUMNS)
    figure = Figure(figsize=(BACKTEST_WIDTH, rows * BACKTEST_ROW_HEIGHT), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, BACKTEST_COLUMNS, squeeze=False)
    for spare in axes.flat[len(variables) :]:
        spare.set_visible(False)
    for axis, variable in zip(axes.flat, variables, strict=False):
        rows = table[table["variable"] == variable]
        axis.plot(
            rows["year"], rows["actual"], "o-", color=COLOURS["observed"], ms=3, label="actual"
        )
        axis.plot(rows["year"], rows["model"], color=COLOURS["scenario"], label="debtloops")
        meaningful_limits(axis, [rows["actual"].to_numpy(), rows["model"].to_numpy()])
        axis.set_title(label(variable).title, fontsize=10)
        axis.set_ylabel(rows["units"].iloc[0], fontsize=8)
        fiscal_year_axis(axis, "fiscal year")
        axis.grid(alpha=0.3)
    legend_outside(axes.flat[0])
    first, last = int(table["year"].min()), int(table["year"].max())
    figure.suptitle(f"Backtest FY{first}-FY{last} with the drivers as they happened ({how})")
    save_figure(figure, path, BACKTEST_SOURCE)


def plot_cbo(
    comparison: pd.DataFrame,
    path: Path,
    debt_band: pd.Series,
    interest_band: pd.Series,
) -> None:
    """Draw the baseline against CBO's debt and net interest paths, with the tolerance bands.

    Parameters
    ----------
    comparison : pandas.DataFrame
        From :func:`debtloops.validation.fidelity.cbo_comparison`, indexed by fiscal year, with
        ``debt_model``, ``debt_cbo`` [% of the fiscal year's GDP: debt at its end] and
        ``interest_model``, ``interest_cbo`` [% of the fiscal year's GDP], CBO's definitions.
    path : Path
        The PNG to write.
    debt_band : pandas.Series
        The debt tolerance for each year [percentage points of GDP].
    interest_band : pandas.Series
        The net interest tolerance for each year CBO publishes [percentage points of GDP].
    """
    figure = Figure(figsize=CBO_SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    debt, interest = figure.subplots(1, 2)
    years = comparison.index.to_numpy()
    cbo_debt = comparison["debt_cbo"]
    debt.fill_between(
        years,
        cbo_debt - debt_band,
        cbo_debt + debt_band,
        color=COLOURS["observed"],
        alpha=0.25,
        label="tolerance",
    )
    debt.plot(years, cbo_debt, "--", color=COLOURS["observed"], label="CBO, long-term outlook 2025")
    debt.plot(
        years, comparison["debt_model"], color=COLOURS["baseline"], label="debtloops baseline"
    )
    debt.set_title("Debt held by the public")
    debt.set_ylabel("% of the fiscal year's GDP (debt at its end)")
    interest.plot(
        years, comparison["interest_model"], color=COLOURS["baseline"], label="debtloops baseline"
    )
    known = comparison["interest_cbo"].dropna()
    bands = ", ".join(f"±{band:g}" for band in dict.fromkeys(interest_band[known.index]))
    interest.errorbar(
        known.index,
        known,
        yerr=interest_band[known.index],
        fmt="o",
        color=COLOURS["observed"],
        ms=4,
        capsize=3,
        label=f"CBO ({bands} points)",
    )
    interest.set_title("Net interest")
    interest.set_ylabel("% of the fiscal year's GDP")
    meaningful_limits(debt, [cbo_debt + debt_band, cbo_debt - debt_band, comparison["debt_model"]])
    meaningful_limits(
        interest,
        [
            comparison["interest_model"],
            known + interest_band[known.index],
            known - interest_band[known.index],
        ],
    )
    for axis in (debt, interest):
        fiscal_year_axis(axis, "fiscal year")
        axis.grid(alpha=0.3)
        legend_outside(axis)
    figure.suptitle("The baseline against CBO's long-term projection, every market feedback on")
    save_figure(figure, path, CBO_SOURCE)
