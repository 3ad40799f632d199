"""Foreign holders' net transactions in Treasuries, separated from valuation changes, by month.

TIC's "Major Foreign Holders" table (``tic_<holder>_holdings`` in
``models/data/markets_monthly.csv``) gives holdings at market value at the end of each month. Their
change from one month to the next is three things: the holder's net purchases (its *net
transactions*), the change in the price of what it holds (its *valuation change*) and, in the June
of 2002-2011, the revision to the annual survey benchmark (a *benchmark revision*, neither a flow
nor a price change). Only the first is a sale or a purchase that the market has to absorb; the
backtests replay it.

For each holder, month by month [billion USD]::

    change in holdings = net transactions + valuation change + benchmark revision   (exactly)

* The **benchmark revision** is the gap between the two values that the table gives for a break
  month (``markets_monthly.md``: the file keeps the new basis and writes the previous one in
  ``note``); zero in every other month.
* The **valuation change** is the published one where TIC publishes it for long-term Treasuries
  (``tic_<holder>_lt_valuation_change``: TIC SLT Table 1 from February 2023; the Federal Reserve
  Board's Bertaut-Judson estimates from June 2011 to December 2020; for foreign official holders,
  the Bertaut-Tryon estimates before). Elsewhere it is estimated as
  ``-D * H[t-1] * (y[t] - y[t-1]) / 100``: the holdings at the start of the month times the price
  change of a portfolio of effective duration ``D`` when the 10-year constant-maturity yield ``y``
  [% a year] moves. ``D`` is the holder's own: the least-squares fit (through the origin) of that
  formula to the holder's published months. It is an effective duration of the whole holding,
  bills included, against the monthly average of the 10-year yield, so it is lower than the
  duration of the bonds alone.
* The **net transactions** are what is left.

Bills have (almost) no valuation change, so a published long-term valuation change is the whole
holding's. The net transactions are therefore those of all Treasuries, bills included, and they
differ from TIC's published net transactions in long-term Treasuries
(``tic_<holder>_lt_net_transactions``) by the holder's net purchases of bills.
"""

from __future__ import annotations

import re

import pandas as pd

from debtloops.model import data
from debtloops.model.holders import KEYS

#: The holders split here (``tic_<holder>_holdings`` in the monthly file).
HOLDERS = (*KEYS, "grand_total", "foreign_official")
#: The yield whose change prices the holdings where no valuation change is published.
YIELD = "gs10"
#: Decimals kept [billion USD]: the monthly file's precision.
DECIMALS = 6
#: The value a break month's ``note`` gives on the previous basis [billion USD].
PREVIOUS_BASIS = re.compile(r"([-+]?\d+(?:\.\d+)?) on the previous basis")


def benchmark_revision(holdings: pd.Series, notes: pd.Series) -> pd.Series:
    """Return the survey-benchmark revision in each month [billion USD].

    Parameters
    ----------
    holdings : pandas.Series
        Holdings at the end of each month, on the new basis [billion USD].
    notes : pandas.Series
        The monthly file's notes of the holdings series.

    Returns
    -------
    pandas.Series
        New basis less previous basis in a break month, zero otherwise.
    """
    previous = notes.str.extract(PREVIOUS_BASIS, expand=False).astype(float)
    return (holdings - previous).fillna(0.0).round(DECIMALS)


def priced_change(holdings: pd.Series, yields: pd.Series) -> pd.Series:
    """Return ``-H[t-1] * (y[t] - y[t-1]) / 100``: the valuation change per unit of duration.

    Parameters
    ----------
    holdings : pandas.Series
        Holdings at the end of each month [billion USD].
    yields : pandas.Series
        The yield in each month [% a year].

    Returns
    -------
    pandas.Series
        [billion USD per year of duration]
    """
    return -holdings.shift(1) * yields.diff() / data.PERCENT


def effective_duration(holdings: pd.Series, yields: pd.Series, published: pd.Series) -> float:
    """Fit the effective duration that best reproduces the published valuation changes.

    Parameters
    ----------
    holdings, yields : pandas.Series
        As in :func:`priced_change`.
    published : pandas.Series
        Published valuation changes [billion USD], NaN where none is published.

    Returns
    -------
    float
        ``D`` [year] minimising the squared gap between ``D * priced_change`` and the published
        changes over the months that have both.
    """
    unit = priced_change(holdings, yields)
    both = unit.notna() & published.notna()
    return float((unit[both] * published[both]).sum() / (unit[both] ** 2).sum())


def split_changes(
    holdings: pd.Series, notes: pd.Series, yields: pd.Series, published: pd.Series
) -> pd.DataFrame:
    """Split a holder's monthly change in holdings into its three parts.

    Parameters
    ----------
    holdings, notes : pandas.Series
        The holder's holdings [billion USD] and their notes, by month.
    yields : pandas.Series
        The yield that prices the holdings [% a year], by month.
    published : pandas.Series
        Published valuation changes [billion USD], NaN where none is published.

    Returns
    -------
    pandas.DataFrame
        By month: ``change``, ``revision``, ``valuation``, ``transactions`` [billion USD],
        ``published`` (whether the valuation change is the published one) and, in ``attrs``,
        the fitted ``duration`` [year]. A month without the previous month's holdings has NaN.
    """
    duration = effective_duration(holdings, yields, published)
    estimated = (duration * priced_change(holdings, yields)).round(DECIMALS)
    change = holdings.diff().round(DECIMALS)
    known = change.notna()
    has_published = published.notna() & known
    valuation = estimated.where(~has_published, published).where(known)
    revision = benchmark_revision(holdings, notes).where(known)
    transactions = (change - revision - valuation).round(DECIMALS)
    split = pd.DataFrame(
        {
            "change": change,
            "revision": revision,
            "valuation": valuation,
            "transactions": transactions,
            "published": has_published,
        }
    )
    split.attrs["duration"] = duration
    return split


def fiscal_year_sums(monthly: pd.Series) -> pd.Series:
    """Sum a monthly flow over each fiscal year that it covers whole.

    Parameters
    ----------
    monthly : pandas.Series
        A flow by month (``pandas.Period``) [billion USD]; NaN where unknown.

    Returns
    -------
    pandas.Series
        The sum over October t-1 to September t, indexed by t [year], for the years whose twelve
        months are all known.
    """
    years = [data.fiscal_year(month) for month in monthly.index]
    grouped = monthly.groupby(years)
    complete = grouped.count() == data.MONTHS_PER_YEAR
    return grouped.sum()[complete].round(DECIMALS)
