"""``debtloops data refresh``: the history's public series, downloaded again from their publishers.

The shipped history (``history_2000_2025.csv``), monthly layer (``markets_monthly.csv``) and debt
structure (``debt_structure_fy.csv``) were compiled once. This module downloads their public series
again from the publishers: FRED's CSV endpoint (:data:`~debtloops.model.publishers.FRED_URL`,
the :data:`~debtloops.model.refresh_sources.SOURCES` table), Treasury's TIC table and the MSPD
from the Fiscal Data API, and the New York Fed's SOMA summary (:mod:`debtloops.model.publishers`).
It turns them into the shipped files' units and fiscal years, checks them, and writes a new
dataset folder in the shipped layout, which ``--data DIR`` then uses
(:func:`debtloops.model.data.use_dataset`). The shipped files are never written.

What is refreshed, per row of the shipped files (the .md files define every series):

* monthly: the H.15 yields and the funds rate (``tb3ms``, ``gs2`` ... ``gs30``, ``fedfunds``) and
  CPI-U (``cpiaucsl``) from FRED; the Fed's Treasury holdings from the SOMA summary (weekly,
  Wednesday levels in $, to $bn): the month's last Wednesday and the mean of its Wednesdays
  (``treast_*``, from August 2003: the summary starts on 9 July 2003); TIC's holdings of Japan,
  China, all foreign holders and foreign official holders (``tic_*_holdings``, with the previous
  basis of each break month in ``note``), and their split into net transactions, valuation
  changes and benchmark revisions, recomputed (:func:`debtloops.model.flows.split_changes`);
* fiscal years: ``net_interest``, ``revenue``, ``outlays`` and ``total_deficit`` (FRED ``FYOINT``,
  ``FYFR``, ``FYONET``, ``-FYFSD``, $mn, to $bn), ``gdp_fy`` (the mean of FRED ``GDP``'s quarters
  Q4 of t-1 to Q3 of t), ``gdp_calendar_year`` (``GDPA``), the yields' FY means and September
  values from the refreshed months, ``fed_treasury_holdings`` from FY2024 (the SOMA's last
  Wednesday of September, as the shipped rows), TIC's September and December holdings and the
  fiscal-year sums of the split, ``bills_held_by_public`` and ``marketable_debt_held_by_public``
  (MSPD), and the rows derived by the formulas of ``history_2000_2025.md``
  (``primary_deficit``, ``other_means_of_financing``, ``avg_rate_on_dhp``);
* the debt's structure: every MSPD line of ``debt_structure_fy.csv`` at 30 September, all
  holders and the public's, and the shares of marketable debt derived from them.

Everything else (TIC's published long-term net transactions and valuation changes, the Fed's
fiscal-year holdings to FY2023 (OMB's, and a week average), the ACM term premium, the dollar
index, auction sizes, the Ministry of Finance's interventions, the series no public copy had) is
kept as shipped and listed as not refreshed. CBO's projections are not downloaded
(:data:`CBO_NOTE`): CBO publishes each outlook as workbooks whose layout changes from one to the
next, so a vintage is added as a folder by hand (``docs/howto/cbo-vintage.md``). The dataset
keeps the shipped window (FY2000-FY2025, January 2000 to September 2025): newer periods are not
written, since the series that are not refreshed could not cover them.

Checks, each a :class:`~debtloops.errors.DownloadError` with nothing written: an HTTP error, a
timeout or no network; a response that is not the publisher's format (a renamed column, row or
field); a line that does not parse, or JSON cut short (a truncated file); a hole between the first
and last observation, a month or year the shipped file has and the response lacks, or an end
before the dataset's window ends; a value outside the tolerance of its
:class:`~debtloops.model.refresh_sources.Tolerance` from the shipped one (a revision that large
is a broken series or a change of units, which the message names).

The parts: :mod:`~debtloops.model.web` downloads, :mod:`~debtloops.model.publishers` parses,
:mod:`~debtloops.model.refresh_sources` maps the series onto the shipped rows with their
tolerances, this module and :mod:`~debtloops.model.refresh_treasury` build the rows,
:mod:`~debtloops.model.refresh_changes` compares them with the shipped ones and
:mod:`~debtloops.model.refresh_write` writes the folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from debtloops.errors import DownloadError, InputError
from debtloops.io import check_targets
from debtloops.model import data, datafiles, publishers
from debtloops.model.publishers import FRED_URL, parse_fred
from debtloops.model.refresh_changes import Change, Refresh, format_changes, replace_rows
from debtloops.model.refresh_sources import (
    CALENDAR_YEARS,
    DERIVED,
    FY_COPIES,
    FY_FROM_MONTHS,
    H41_FISCAL_YEARS_FROM,
    MONTHLY_COPIES,
    SOMA,
    SOMA_MONTHLY,
    SOMA_SOURCE,
    SOURCES,
    Tolerance,
)
from debtloops.model.refresh_treasury import check_mspd, check_tic, refresh_mspd, refresh_tic
from debtloops.model.refresh_write import write_dataset
from debtloops.model.web import TIMEOUT, Opener, download, fetch, fetch_url

#: The names other modules and the tests read here; each lives in the module named above.
__all__ = [
    "FRED_URL",
    "TIMEOUT",
    "Change",
    "Opener",
    "Refresh",
    "fetch",
    "fetch_url",
    "format_changes",
    "parse_fred",
    "refresh",
    "refresh_rows",
    "write_dataset",
]

#: Days between FRED's weekly observations [day].
DAYS_PER_WEEK = 7
#: The months of a fiscal year [months], and September, the month of ``_sep`` rows.
MONTHS_PER_FY = data.MONTHS_PER_YEAR
SEPTEMBER = data.FISCAL_YEAR_START_MONTH - 1
#: Quarters in a fiscal year: Q4 of t-1 and Q1-Q3 of t make FY t's GDP.
QUARTERS_PER_FY = 4
#: End-FY1999 debt held by the public [$bn], OMB Historical Tables, Table 7.1 (FY2024 Budget),
#: the starting stock of ``other_means_of_financing`` and ``avg_rate_on_dhp`` for FY2000, as
#: ``history_2000_2025.md`` states.
DEBT_END_FY1999 = 3632.363


def _check_span(
    where: str, frequency: str, series: pd.Series, first: pd.Timestamp, last_needed: pd.Timestamp
) -> None:
    """Refuse a hole between observations from ``first`` on, or an end before ``last_needed``.

    Earlier observations are not checked: FRED's fiscal-year series jump from June 1976 to
    September 1977 (the fiscal year's start moved from July to October).
    """
    dates = series.index[series.index >= first]
    if frequency == "weekly":
        gaps = dates[1:][(dates[1:] - dates[:-1]).days != DAYS_PER_WEEK]
    else:
        step = {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]
        months = dates.year * 12 + dates.month
        gaps = dates[1:][(months[1:] - months[:-1]) != step]
    if dates.empty:
        raise DownloadError(f"{where} has no observation after {first:%F}; nothing was written")
    if len(gaps):
        raise DownloadError(f"{where} has a gap before {gaps[0]:%F}; nothing was written")
    if dates[-1] < last_needed:
        raise DownloadError(
            f"{where} ends on {dates[-1]:%F}; the dataset needs it to {last_needed:%F} "
            "(a truncated file?); nothing was written"
        )


def refresh_rows(opener: Opener | None = None, today: dt.date | None = None) -> Refresh:
    """Download every publisher's series and build the refreshed files' rows; write nothing.

    FRED's :data:`~debtloops.model.refresh_sources.SOURCES` first, then TIC's table, the MSPD and
    the SOMA summary (:mod:`debtloops.model.publishers`); every download and check passes before
    any row is built.

    Parameters
    ----------
    opener : callable, optional
        ``opener(url, timeout)`` returns the body; :func:`fetch_url` by default (looked up here
        when called, so that tests can serve recorded responses in its place).
    today : datetime.date, optional
        The date recorded as the download's.

    Returns
    -------
    Refresh
        The rows and the changes.

    Raises
    ------
    DownloadError
        On the first download or check that fails.
    """
    fetched, tic, mspd, soma = _download_all(opener or fetch_url)
    history_rows = data.csv_rows(data.DATA_DIR / datafiles.HISTORY_FILE.name, data.HISTORY_COLUMNS)
    monthly_rows = data.csv_rows(data.DATA_DIR / datafiles.MONTHLY_FILE.name, data.MONTHLY_COLUMNS)
    structure_rows = data.csv_rows(
        data.DATA_DIR / datafiles.STRUCTURE_FILE.name, data.STRUCTURE_COLUMNS
    )
    _check_spans(fetched, soma, monthly_rows)
    check_tic(tic, monthly_rows)
    check_mspd(mspd, structure_rows)
    result = Refresh(
        history=[list(data.HISTORY_COLUMNS), *history_rows],
        monthly=[list(data.MONTHLY_COLUMNS), *monthly_rows],
        structure=[list(data.STRUCTURE_COLUMNS), *structure_rows],
        fetched=f"{today or dt.datetime.now(dt.UTC).date():%Y-%m-%d}",
    )
    monthly = _monthly_values(fetched, soma)
    _refresh_months(result, monthly)
    refresh_tic(result, tic)
    _refresh_fiscal_years(result, _fy_values(fetched, monthly))
    refresh_mspd(result, mspd)
    _derive(result)
    refreshed = {change.series for change in result.changes}
    shipped = dict.fromkeys(row[0] for row in [*history_rows, *monthly_rows, *structure_rows])
    result.kept = [name for name in shipped if name not in refreshed]
    units = {row[0]: row[3] for row in history_rows}
    for change in result.changes:  # the catalogue gives the units of the other files' series
        change.units = units.get(change.series) or data.monthly_units(change.series)
    return result


def _download_all(opener: Opener) -> tuple[dict[str, pd.Series], dict, dict, pd.Series]:
    """Download and parse FRED's series, TIC's table, the MSPD and the SOMA summary, in order."""
    fetched = {fred_id: parse_fred(fred_id, download(fred_id, opener)) for fred_id in SOURCES}
    tic = publishers.parse_tic(fetch(publishers.TIC_URL, "Treasury", "TIC's mfhhis01.txt", opener))
    mspd = publishers.parse_mspd(
        fetch(publishers.MSPD_URL, "Fiscal Data", "MSPD Table I (mspd_table_1)", opener)
    )
    soma = publishers.parse_soma(
        fetch(publishers.SOMA_URL, "the New York Fed", "the SOMA summary", opener)
    )
    return fetched, tic, mspd, soma


def _check_spans(
    fetched: dict[str, pd.Series], soma: pd.Series, monthly_rows: list[list[str]]
) -> None:
    """Refuse a downloaded series with a hole, or ending before the shipped window does."""
    months = pd.PeriodIndex(sorted({row[1] for row in monthly_rows}), freq="M")
    last_month = months.max().to_timestamp()
    ends = {
        "monthly": last_month,
        "weekly": last_month,
        "quarterly": (months.max() - 2).to_timestamp(),
        "annual": pd.Timestamp(year=data.LAST_YEAR, month=1, day=1),
    }
    # the window's first fiscal year starts in October of the year before
    first = pd.Timestamp(year=data.FIRST_YEAR - 1, month=data.FISCAL_YEAR_START_MONTH, day=1)
    for fred_id, series in fetched.items():
        frequency = SOURCES[fred_id].frequency
        _check_span(f"FRED's series {fred_id}", frequency, series, first, ends[frequency])
    _check_span("the New York Fed's SOMA summary", "weekly", soma, soma.index[0], ends["weekly"])


def _refresh_months(result: Refresh, monthly: dict[str, pd.Series]) -> None:
    """Write the monthly series copied from FRED and the SOMA summary into the monthly rows."""
    for name, values in monthly.items():
        source, tolerance = (
            (MONTHLY_COPIES[name], SOURCES[MONTHLY_COPIES[name]].tolerance)
            if name in MONTHLY_COPIES
            else (SOMA_SOURCE, SOMA)
        )
        change = Change(name, datafiles.MONTHLY_FILE.name, source)
        by_month = _by_period(values)
        replace_rows(
            result.monthly[1:], name, lambda row: row[1], by_month, change, tolerance, "{}"
        )
        for row in result.monthly[1:]:
            if row[0] == name and row[3] == "missing" and row[2]:
                row[3] = "reported" if name in MONTHLY_COPIES else "derived"
        result.changes.append(change)


def _refresh_fiscal_years(result: Refresh, yearly: dict[str, dict]) -> None:
    """Write the fiscal-year series, FRED's and those made of refreshed months, into the history."""
    for name, values in yearly.items():
        source, tolerance = _fy_source(name)
        change = Change(name, datafiles.HISTORY_FILE.name, source)
        note = (
            f"FRED series {source} (fred.stlouisfed.org/series/{source})"
            if source in SOURCES
            else f"{source} ({publishers.SOMA_URL})"
        )
        replace_rows(
            result.history[1:],
            name,
            lambda row: int(row[1]),
            values,
            change,
            tolerance,
            "{}" if name in CALENDAR_YEARS else "FY{}",
            f"{note}, downloaded {result.fetched} by debtloops data refresh",
        )
        result.changes.append(change)


def _by_period(values: pd.Series) -> dict[object, float]:
    return {period.strftime("%Y-%m"): float(value) for period, value in values.items()}


def _monthly_values(fetched: dict[str, pd.Series], soma: pd.Series) -> dict[str, pd.Series]:
    """Return the monthly series in the dataset's units, by month (``pandas.Period``).

    The SOMA rows start with the first month whose every Wednesday the summary holds.
    """
    monthly = {}
    for name, fred_id in MONTHLY_COPIES.items():
        series = fetched[fred_id] * SOURCES[fred_id].scale
        monthly[name] = pd.Series(series.to_numpy(), index=series.index.to_period("M"))
    weekly = soma.dropna()
    if weekly.index[0].day > DAYS_PER_WEEK:  # a month begun before the first Wednesday held
        weekly = weekly[weekly.index.to_period("M") > weekly.index[0].to_period("M")]
    grouped = weekly.groupby(weekly.index.to_period("M"))
    for name, how in SOMA_MONTHLY.items():
        monthly[name] = getattr(grouped, how)()
    return monthly


def _fiscal_years(index: pd.PeriodIndex) -> pd.Index:
    return pd.Index(index.year + (index.month >= data.FISCAL_YEAR_START_MONTH))


def _fy_values(fetched: dict[str, pd.Series], monthly: dict[str, pd.Series]) -> dict[str, dict]:
    """Return the fiscal-year series in the dataset's units, by fiscal year [year]."""
    yearly: dict[str, dict] = {}
    for name, fred_id in FY_COPIES.items():
        series = fetched[fred_id] * SOURCES[fred_id].scale
        yearly[name] = dict(zip(series.index.year, series.to_numpy(), strict=True))
    quarters = fetched["GDP"]
    groups = quarters.groupby(_fiscal_years(quarters.index.to_period("M")))
    whole = groups.count() == QUARTERS_PER_FY
    yearly["gdp_fy"] = groups.mean()[whole].to_dict()
    september = monthly["treast_last_wednesday"]
    september = september[(september.index.month == SEPTEMBER)]
    yearly["fed_treasury_holdings"] = {
        int(month.year): float(value)
        for month, value in september.items()
        if month.year >= H41_FISCAL_YEARS_FROM
    }
    for name, (monthly_name, kind) in FY_FROM_MONTHS.items():
        series = monthly[monthly_name]
        if kind == "september":
            september = series[series.index.month == SEPTEMBER]
            yearly[name] = dict(zip(september.index.year, september.to_numpy(), strict=True))
            continue
        groups = series.groupby(_fiscal_years(series.index))
        whole = groups.count() == MONTHS_PER_FY
        yearly[name] = groups.mean()[whole].to_dict()
    return yearly


def _fy_source(name: str) -> tuple[str, Tolerance]:
    if name == "fed_treasury_holdings":
        return SOMA_SOURCE, SOMA
    fred_id = FY_COPIES.get(name) or {"gdp_fy": "GDP"}.get(name)
    fred_id = fred_id or MONTHLY_COPIES[FY_FROM_MONTHS[name][0]]
    return fred_id, SOURCES[fred_id].tolerance


def _derive(result: Refresh) -> None:
    """Recompute the rows derived from refreshed ones by ``history_2000_2025.md``'s formulas."""
    table: dict[str, dict[int, float]] = {}
    for row in result.history[1:]:
        table.setdefault(row[0], {})[int(row[1])] = float(row[2])
    deficit, interest = table["total_deficit"], table["net_interest"]
    debt = {data.FIRST_YEAR - 1: DEBT_END_FY1999, **table["debt_held_by_public"]}
    derived = {
        "primary_deficit": {y: deficit[y] - interest[y] for y in deficit if y in interest},
        "other_means_of_financing": {
            y: debt[y] - debt[y - 1] - deficit[y] for y in deficit if y in debt and y - 1 in debt
        },
        "avg_rate_on_dhp": {
            y: data.PERCENT * interest[y] / ((debt[y - 1] + debt[y]) / 2)
            for y in interest
            if y in debt and y - 1 in debt
        },
    }
    for name in DERIVED:
        change = Change(name, datafiles.HISTORY_FILE.name, "derived")
        key = lambda row: int(row[1])  # noqa: E731
        note = f"derived as above from rows refreshed from FRED on {result.fetched}"
        replace_rows(result.history[1:], name, key, derived[name], change, None, "FY{}", note)
        result.changes.append(change)


def refresh(out: Path, opener: Opener | None = None) -> Refresh:
    """Download, check and write a refreshed dataset into ``out``; see the module's docstring.

    Parameters
    ----------
    out : Path
        The dataset folder to write (``--out``); the shipped files are only read.
    opener : callable, optional
        ``opener(url, timeout)`` returns a response's body; :func:`fetch_url` by default.

    Returns
    -------
    Refresh
        What was written and what changed.

    Raises
    ------
    InputError
        If ``out`` holds a file of the dataset's names that debtloops did not write (exit 2).
    DownloadError
        If a download or a check fails; nothing is written then.
    """
    if Path(out).resolve() == data.DATA_DIR.resolve():
        raise InputError(
            f"--out {out} is the shipped data folder, which data refresh never writes; choose "
            "another folder, e.g. data/refreshed"
        )
    check_targets(out, data.DATASET_FILES)
    result = refresh_rows(opener)
    write_dataset(out, result)
    return result
