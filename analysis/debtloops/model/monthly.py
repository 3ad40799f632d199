"""The monthly market data on the model's clock: months, fiscal years and their averages.

Months are twelfths of the fiscal year (:func:`month_start`); the fiscal-year means, the observed
yields and the CPI inflation TIPS accrued are computed from
:func:`~debtloops.model.datafiles.markets_monthly`.
"""

from __future__ import annotations

import math

import pandas as pd

from debtloops.errors import InputError
from debtloops.model.datafiles import markets_monthly
from debtloops.model.drivers import PERCENT

#: Months in a year; on the model's clock month m of calendar year y starts at
#: y + (m - FISCAL_YEAR_START_MONTH) / MONTHS_PER_YEAR [year] (1 October 2024 is 2024.0).
MONTHS_PER_YEAR = 12
FISCAL_YEAR_START_MONTH = 10
#: Fiscal years over which a run from history averages the funds rate for its starting long-run
#: policy rate, CPI inflation for its long-run inflation expectation, and the ACM term premium
#: for an unanchored term premium [year].
EXPECTATION_WINDOW = 10


def month_start(month: pd.Period) -> float:
    """Return the time at which a calendar month begins on the model's clock [year].

    Months are taken as twelfths of the fiscal year: October 2024 begins at 2024.0 and January
    2025 at 2024.25 (the dates coordinate of results counts days, so these differ by up to a day
    or two from the true first of the month).
    """
    offset = month.month - FISCAL_YEAR_START_MONTH
    return month.year + offset / MONTHS_PER_YEAR


def fiscal_year(month: pd.Period) -> int:
    """Return the fiscal year a calendar month belongs to [year] (October 2024 is in FY2025)."""
    return month.year + (month.month >= FISCAL_YEAR_START_MONTH)


def fiscal_year_end(year: int) -> pd.Period:
    """Return the first month after fiscal year ``year`` (October of ``year``)."""
    return pd.Period(year=year, month=FISCAL_YEAR_START_MONTH, freq="M")


def window_mean(values: pd.Series, start: int) -> float:
    """Mean of a fiscal-year series over the :data:`EXPECTATION_WINDOW` years up to ``start``."""
    window = values[(values.index > start - EXPECTATION_WINDOW) & (values.index <= start)]
    return float(window.mean())


def mean_before(
    series: str, first: pd.Period, months: int = EXPECTATION_WINDOW * MONTHS_PER_YEAR
) -> float:
    """Mean of a monthly series over the months before ``first``, those the data give [1/year].

    Parameters
    ----------
    series : str
        A column of :func:`markets_monthly`, in percent a year.
    first : pandas.Period
        The first month of the run; the window ends the month before.
    months : int
        The window's length [months]; months before the data start are left out.

    Returns
    -------
    float
        The mean as a rate [1/year].

    Raises
    ------
    InputError
        If the data hold no month of the window.
    """
    window = markets_monthly()[series].loc[first - months : first - 1].dropna()
    if window.empty:
        raise InputError(f"the monthly data have no {series} in the {months} months before {first}")
    return float(window.mean()) / PERCENT


def cpi_inflation_before(
    first: pd.Period, months: int = EXPECTATION_WINDOW * MONTHS_PER_YEAR
) -> float:
    """Mean CPI-U inflation over the months before ``first``, a continuous rate [1/year].

    The log change of the CPI-U (FRED ``CPIAUCSL``) from the month ``months`` before the month
    before ``first`` to that month, per year; months before the data start are left out.

    Raises
    ------
    InputError
        If the data hold fewer than two months of the window.
    """
    cpi = markets_monthly()["cpiaucsl"].loc[first - months - 1 : first - 1].dropna()
    if len(cpi) < 2:
        raise InputError(f"the monthly data have no CPI-U change in the {months} months to {first}")
    span_months = (cpi.index[-1] - cpi.index[0]).n
    return math.log(cpi.iloc[-1] / cpi.iloc[0]) * MONTHS_PER_YEAR / span_months


def fiscal_year_mean(series: str) -> pd.Series:
    """Average a monthly series over each fiscal year (October to September).

    Parameters
    ----------
    series : str
        A column of :func:`markets_monthly`.

    Returns
    -------
    pandas.Series
        The mean of the fiscal year's months [the series' units], by fiscal year; years with a
        missing month are left out.
    """
    monthly = markets_monthly()[series]
    years = monthly.index.year + (monthly.index.month >= FISCAL_YEAR_START_MONTH)
    grouped = monthly.groupby(years)
    means = grouped.mean()[grouped.count() == 12]
    means.index = means.index.astype(int)
    return means


#: Days in a year and in a 3-month bill, for turning a bill's discount rate into a bond yield.
DAYS_IN_YEAR, BILL_DAYS, DISCOUNT_BASIS_DAYS = 365.0, 91.0, 360.0


def observed_yields() -> dict[str, pd.Series]:
    """Fiscal-year means of the observed yield of each segment [1/year].

    The 3-month bill's discount rate (FRED ``TB3MS``) becomes a bond-equivalent yield; each note
    and bond segment takes the mean of its constant-maturity points (2 and 3 years, 5 and 7, 10,
    20 and 30), skipping a point that is missing.

    Returns
    -------
    dict
        Parameter name (``observed_*_yield``) -> yield by fiscal year.
    """
    discount = fiscal_year_mean("tb3ms") / PERCENT
    bill = DAYS_IN_YEAR * discount / (DISCOUNT_BASIS_DAYS - BILL_DAYS * discount)
    points = {
        "observed_short_note_yield": ("gs2", "gs3"),
        "observed_medium_note_yield": ("gs5", "gs7"),
        "observed_ten_year_yield": ("gs10",),
        "observed_long_bond_yield": ("gs20", "gs30"),
    }
    yields = {"observed_bill_yield": bill}
    for name, series in points.items():
        means = pd.concat([fiscal_year_mean(s) for s in series], axis=1)
        yields[name] = means.mean(axis=1, skipna=True) / PERCENT
    return yields


#: TIPS principal follows the reference CPI, the CPI-U of three months before [months]: over a
#: fiscal year (1 October to 1 October) it moves as the CPI-U from July to July.
TIPS_INDEX_LAG_MONTHS = 3


def cpi_inflation() -> pd.Series:
    """CPI-U inflation that TIPS principal accrued in each fiscal year, a continuous rate [1/year].

    The log change of the reference CPI over the fiscal year: the CPI-U (FRED ``CPIAUCSL``) of
    the month :data:`TIPS_INDEX_LAG_MONTHS` before October of FY``t`` over the same month a year
    earlier (July to July), as Treasury indexes TIPS and as the budget records their inflation
    compensation. The fiscal-year means would lag it by about a quarter: 4.95% in FY2023 against
    the 3.23% TIPS accrued.
    """
    monthly = markets_monthly()["cpiaucsl"].dropna()
    month = FISCAL_YEAR_START_MONTH - TIPS_INDEX_LAG_MONTHS
    reference = monthly[monthly.index.month == month]
    reference.index = reference.index.year.astype(int)
    return (reference / reference.shift(1)).apply(math.log).dropna()
