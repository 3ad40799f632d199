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

DPI = 120
BACKTEST_SIZE = (12.0, 6.5)  # [inch]
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
        The six variables to show, in reading order.
    """
    figure = Figure(figsize=BACKTEST_SIZE, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 3)
    for axis, variable in zip(axes.flat, variables, strict=True):
        rows = table[table["variable"] == variable]
        axis.plot(rows["year"], rows["actual"], "ko-", ms=3, label="actual")
        axis.plot(rows["year"], rows["model"], color="C0", label="debtloops")
        axis.set_title(label(variable).title, fontsize=10)
        axis.set_ylabel(rows["units"].iloc[0], fontsize=8)
        axis.set_xlabel("fiscal year", fontsize=8)
        axis.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    first, last = int(table["year"].min()), int(table["year"].max())
    figure.suptitle(f"Backtest FY{first}-FY{last} with the drivers as they happened ({how})")
    figure.savefig(path, dpi=DPI, format="png")


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
        years, cbo_debt - debt_band, cbo_debt + debt_band, color="0.85", label="tolerance"
    )
    debt.plot(years, cbo_debt, "k--", label="CBO, long-term outlook 2025")
    debt.plot(years, comparison["debt_model"], color="C0", label="debtloops baseline")
    debt.set_title("Debt held by the public")
    debt.set_ylabel("% of the fiscal year's GDP (debt at its end)")
    interest.plot(years, comparison["interest_model"], color="C0", label="debtloops baseline")
    known = comparison["interest_cbo"].dropna()
    bands = ", ".join(f"±{band:g}" for band in dict.fromkeys(interest_band[known.index]))
    interest.errorbar(
        known.index,
        known,
        yerr=interest_band[known.index],
        fmt="ko",
        ms=4,
        capsize=3,
        label=f"CBO ({bands} points)",
    )
    interest.set_title("Net interest")
    interest.set_ylabel("% of the fiscal year's GDP")
    for axis in (debt, interest):
        axis.set_xlabel("fiscal year")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("The baseline against CBO's long-term projection, every market feedback on")
    figure.savefig(path, dpi=DPI, format="png")
