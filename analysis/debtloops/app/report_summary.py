"""The report's summary: a paragraph per scenario, written from its own headline numbers.

Each number in the paragraph is a :class:`Number` tied to the headline table's cell it shows, so
that a test can hold the words to the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import xarray as xr

from debtloops.figures.extras import SELLERS, SaleWindow, sale_windows
from debtloops.model.run import PreparedRun
from debtloops.model.scenarios import REFERENCE, describe
from debtloops.outputs import HEADLINE_DECIMALS

#: Mechanisms the summary names: the largest shares of the extra interest; none when every
#: share is below the smallest amount it writes ($1bn) [billion USD].
SUMMARY_MECHANISMS = 2
SMALLEST_SHARE = 0.5
#: Months in a year, and the month that starts a fiscal year (October) less one: time ``Y.0`` is
#: the end of September of ``Y``.
MONTHS, FISCAL_YEAR_END_MONTH = 12, 9
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: Whole numbers of years written as words in the summary.
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: A sale within this much of the seller's holdings is "all" of them [billion USD].
ALL_HOLDINGS_SLACK = 0.05
#: Billions in a trillion.
BILLIONS_PER_TRILLION = 1000.0


@dataclass(frozen=True)
class Number:
    """A number in the summary, as shown, and the headline cell (column, scenario) it comes from.

    ``value`` is the headline table's value as ``headlines.csv`` writes it (rounded to
    :data:`~debtloops.outputs.HEADLINE_DECIMALS`, signed); ``text`` may drop the sign when the
    wording carries it ("saves $5bn").
    """

    text: str
    column: str
    value: str
    scenario: str


def month_of(time: float) -> str:
    """Return the month that starts at a decimal fiscal year, e.g. 2026.0 -> ``October 2026``."""
    months = FISCAL_YEAR_END_MONTH + round(MONTHS * (time - math.floor(time)))
    year = math.floor(time) + months // MONTHS
    return f"{MONTH_NAMES[months % MONTHS]} {year}"


def duration_words(years: float) -> str:
    """Return a span in words: ``one year``, ``two years``, ``18 months``, ``12.5 years``."""
    if float(years).is_integer() and 0 < years < len(NUMBER_WORDS):
        count = int(years)
        return f"{NUMBER_WORDS[count]} year{'s' if count > 1 else ''}"
    months = MONTHS * years
    if float(months).is_integer() and years < 2:
        return f"{int(months)} months"
    return f"{years:g} years"


def money(billions: float) -> str:
    """Return an amount in words: ``$1.19T`` from a trillion up, else ``$120bn``."""
    if abs(billions) >= BILLIONS_PER_TRILLION:
        return f"${billions / BILLIONS_PER_TRILLION:,.2f}T"
    return f"${billions:,.0f}bn"


def _sale_words(window: SaleWindow, run: xr.Dataset) -> str:
    holdings = float(run[f"{window.seller}_holdings"].isel(time=0))
    whole = window.amount >= holdings - ALL_HOLDINGS_SLACK
    amount = f"all {money(window.amount)} of its Treasuries" if whole else money(window.amount)
    return (
        f"{window.name} selling {amount} over {duration_words(window.end - window.start)} "
        f"from {month_of(window.start)}"
    )


def _number(
    table_row: pd.Series, column: str, before: str = "", after: str = "", signed: bool = True
) -> Number:
    """Return a headline number as the summary shows it, with its units around it."""
    value = float(table_row[column])
    shown = f"{value if signed else abs(value):,.{HEADLINE_DECIMALS}f}"
    rounded = f"{value:.{HEADLINE_DECIMALS}f}"
    return Number(f"{before}{shown}{after}", column, rounded, str(table_row.name))


def _column(frame: pd.DataFrame, start: str) -> str:
    """Return the headline column whose name starts with ``start`` (names carry the years)."""
    return next(c for c in frame.columns if c.startswith(start))


def summary(
    name: str,
    prepared: PreparedRun,
    run: xr.Dataset,
    headlines: pd.DataFrame,
    attribution: xr.Dataset | None = None,
    reference: PreparedRun | None = None,
) -> list[str | Number]:
    """Write a scenario's summary paragraph from its headline numbers.

    Parameters
    ----------
    name : str
        The scenario's name, a row of ``headlines``.
    prepared : PreparedRun
        The scenario's values: its sales (:func:`debtloops.figures.extras.sale_windows`).
    run : xarray.Dataset
        Its run: the sellers' holdings at the start.
    headlines : pandas.DataFrame
        :func:`debtloops.outputs.headline_table` of the report's scenarios.
    attribution : xarray.Dataset, optional
        Its attribution: the summary then names the mechanisms that carry most of the interest.
    reference : PreparedRun, optional
        Its baseline: a scenario that changes more than its sales is then named with its
        description before the sale ("In fiscal_reform (...), Japan selling ...").

    Returns
    -------
    list of str and Number
        The paragraph's text, with each number a :class:`Number` tied to its headline column.
    """
    row = headlines.loc[name]
    if name == REFERENCE:
        return [
            "The baseline has no sale: every holder keeps to its path and the drivers follow "
            "CBO's projections. Debt held by the public reaches ",
            *_debt_path(row, headlines),
            ", and the 10-year yield peaks at ",
            _number(row, _column(headlines, "peak 10y yield"), after="%"),
            ".",
        ]
    windows = sale_windows(prepared.values)
    ending = "" if len(windows) > 1 else "s"  # "Japan selling ... lifts", "Japan and China lift"
    parts: list[str | Number] = [_lead(name, prepared, run, windows, reference)]
    parts += _effect(row, headlines, ending)
    if REFERENCE in headlines.index:
        parts += [" (baseline ", *_debt_path(headlines.loc[REFERENCE], headlines), ")"]
    parts.append(".")
    if attribution is not None:
        parts.append(_mechanism_sentence(attribution))
    return parts


def _debt_path(of: pd.Series, headlines: pd.DataFrame) -> list[str | Number]:
    """Say debt/GDP at the horizon and at the end (once, when the run ends at the horizon)."""
    debt = [c for c in headlines.columns if c.startswith("debt/GDP")]  # the horizon, the end
    said: list[str | Number] = []
    for i, column in enumerate(debt):
        said += [" and " if i else "", _number(of, column, after="%")]
        said.append(f"{' of GDP' if not i else ''} in FY{column.split()[1]}")
    return said


def _lead(
    name: str,
    prepared: PreparedRun,
    run: xr.Dataset,
    windows: list[SaleWindow],
    reference: PreparedRun | None,
) -> str:
    """Say what the scenario does: its sales, or its own change when it has none."""
    if not windows:
        return f"With no scheduled sale, {name} ({description(prepared, first_sentence=True)})"
    lead = " and ".join(_sale_words(w, run) for w in windows)
    if reference is not None and _changes_more_than_sales(prepared, reference):
        lead = f"In {name} ({description(prepared, first_sentence=True)}), {lead}"
    return lead


def _effect(row: pd.Series, headlines: pd.DataFrame, ending: str) -> list[str | Number]:
    """Say what the scenario does to the 10-year yield, the interest paid and debt/GDP."""
    extra_yield = _column(headlines, "peak extra yield")
    interest = _column(headlines, "extra interest")
    start, end = interest.split()[2].split("-")
    parts: list[str | Number] = []
    if float(row[extra_yield]) > 0:
        parts += [f" lift{ending} the 10-year yield by at most "]
        parts += [_number(row, extra_yield, after=" bp")]
    else:
        parts += [f" never lift{ending} the 10-year yield above the baseline's"]
    cost = float(row[interest])
    years = int(end) - int(start)
    return [
        *parts,
        f" and cost{ending} " if cost >= 0 else f" and save{ending} ",
        _number(row, interest, "$", "bn", signed=False),
        " of extra interest" if cost >= 0 else " of interest",
        f" over the {duration_words(years)} from FY{int(start) + 1} to FY{end}. "
        "Debt held by the public reaches ",
        *_debt_path(row, headlines),
    ]


def _changes_more_than_sales(prepared: PreparedRun, reference: PreparedRun) -> bool:
    """Whether a scenario sets anything besides its sales differently from its baseline."""
    sales = tuple(f"{seller}_sale_" for seller in SELLERS)
    return any(
        value != reference.values.get(key)
        for key, value in prepared.values.items()
        if not key.startswith(sales)
    )


def _mechanism_sentence(attribution: xr.Dataset) -> str:
    """Name the mechanisms with the largest shares of the extra interest, if any is $1bn."""
    shares = attribution["share_extra_interest"].to_series()
    if shares.abs().max() < SMALLEST_SHARE:
        return ""
    top = shares.reindex(shares.abs().sort_values(ascending=False).index)[:SUMMARY_MECHANISMS]
    named = [f"{name.replace('_', ' ')} ({money(value)})" for name, value in top.items()]
    return f" Of the extra interest, the largest shares come from {' and '.join(named)}."


def description(prepared: PreparedRun, first_sentence: bool = False) -> str:
    """Return the scenario file's summary line without its name, or only its first sentence."""
    path = prepared.scenario.path
    if path is None:  # a scenario built in code (a backtest's) has no file to describe
        raise ValueError(f"scenario {prepared.scenario.name!r} has no file")
    text = describe(path.stem, path.parent).split(":", 1)[-1].strip()
    return text.split(". ")[0].rstrip(".") if first_sentence else text
