"""``debtloops data refresh``: the history's public series, downloaded again from their publishers.

The shipped history (``history_2000_2025.csv``), monthly layer (``markets_monthly.csv``) and debt
structure (``debt_structure_fy.csv``) were compiled once. This module downloads their public series
again from the publishers: FRED's CSV endpoint (:data:`FRED_URL`, the :data:`SOURCES` table),
Treasury's TIC table and the MSPD from the Fiscal Data API, and the New York Fed's SOMA summary
(:mod:`debtloops.model.publishers`). It turns them into the shipped files' units and fiscal years,
checks them, and writes a new dataset folder in the shipped layout, which ``--data DIR`` then uses
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
before the dataset's window ends; a value outside the tolerance of its :class:`Tolerance` from the
shipped one (a revision that large is a broken series or a change of units, which the message
names).
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import math
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from debtloops.errors import DownloadError, InputError
from debtloops.io import check_targets, install_files, prepare_output_folder, scratch_prefix
from debtloops.model import data, publishers

#: FRED's CSV download of one series, all observations.
FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"
#: The longest a request may wait for FRED to connect or to send more data [s].
TIMEOUT = 30.0
#: FRED's text for a value it does not publish (older files "."; newer ones an empty field).
FRED_MISSING = frozenset({".", ""})
#: The first column of FRED's CSV files (older files: ``DATE``).
FRED_DATE_COLUMNS = ("observation_date", "DATE")
#: Millions in a billion: FRED gives budget totals and SOMA holdings in $mn, the dataset in $bn.
MILLIONS_PER_BILLION = 1000.0
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
#: A refreshed value within this many units of the shipped value's last decimal is the same
#: number rounded (a mean recomputed from the same months may round either way at a half) [1].
ROUNDING = 0.5 + 1e-9
#: A refreshed value more than this many times the shipped one (or less than its inverse) is
#: reported as a change of units rather than a revision [1].
UNITS_RATIO = 2.0


@dataclass(frozen=True)
class Tolerance:
    """How far a refreshed value may lie from the shipped one: ``absolute + relative * |shipped|``.

    Attributes
    ----------
    name : str
        The constant's name, for messages.
    absolute : float
        [the series' units]
    relative : float
        [1]
    """

    name: str
    absolute: float
    relative: float

    def allows(self, new: float, old: float) -> bool:
        """Tell whether ``new`` is within the tolerance of ``old``."""
        return abs(new - old) <= self.absolute + self.relative * abs(old)


#: H.15 rates are published to 0.01 percentage point and not revised; the shipped copies were
#: rounded once more: two rounding steps [percentage points].
RATES = Tolerance("RATES", absolute=0.02, relative=0.0)
#: CPI-U, seasonally adjusted: BLS revises five years of seasonal factors each February, by well
#: under 1% of the index; a change of base year would move it by far more.
CPI = Tolerance("CPI", absolute=0.0, relative=0.01)
#: Nominal GDP: BEA's comprehensive revisions move levels by up to about 3% (the 2023 one raised
#: recent years by 1-2%; OMB's published FY GDP differs from the shipped by up to 2.3%).
GDP = Tolerance("GDP", absolute=0.0, relative=0.05)
#: Budget totals: the Monthly Treasury Statement's year-end figures are revised by OMB by well
#: under 2%; $2bn covers rounding of the small ones (a surplus year's deficit near zero).
BUDGET = Tolerance("BUDGET", absolute=2.0, relative=0.02)
#: H.4.1 holdings are not revised; 0.1% covers the shipped copies' rounding of $mn to $bn.
SOMA = Tolerance("SOMA", absolute=0.01, relative=0.001)
#: TIC holdings: each year's survey benchmark revises the past year or so of the table, by a few
#: percent of a holder's holdings (the 2010 one raised China's by a third, but that is in the
#: shipped vintage already); 10% and $0.1bn (the table's rounding) allow the next ones.
TIC = Tolerance("TIC", absolute=0.1, relative=0.10)
#: MSPD amounts at a statement date are final when published; $0.001bn covers the shipped
#: copies' rounding of $mn to $bn.
MSPD = Tolerance("MSPD", absolute=0.001, relative=0.0)


@dataclass(frozen=True)
class Source:
    """One FRED series and the shipped series it refreshes.

    Attributes
    ----------
    fred_id : str
        FRED's series id.
    frequency : str
        ``"monthly"``, ``"weekly"``, ``"quarterly"`` or ``"annual"``. FRED dates a period by its
        first day, but a fiscal-year series by the FY's last (30 September of the year it ends
        in): the year of the date is the fiscal year either way.
    tolerance : Tolerance
        Of the shipped series it refreshes.
    scale : float
        FRED's value times this is the dataset's [dataset units / FRED units].
    """

    fred_id: str
    frequency: str
    tolerance: Tolerance
    scale: float = 1.0


#: FRED's millions of dollars in the dataset's billions [$bn / $mn].
_MN = 1.0 / MILLIONS_PER_BILLION
#: Every series refreshed, by FRED id.
SOURCES = {
    source.fred_id: source
    for source in (
        *(Source(i, "monthly", RATES) for i in ("TB3MS", "GS2", "GS3", "GS5", "GS7", "GS10")),
        *(Source(i, "monthly", RATES) for i in ("GS20", "GS30", "FEDFUNDS")),
        Source("CPIAUCSL", "monthly", CPI),
        Source("GDP", "quarterly", GDP),
        Source("GDPA", "annual", GDP),
        Source("FYOINT", "annual", BUDGET, _MN),
        Source("FYFR", "annual", BUDGET, _MN),
        Source("FYONET", "annual", BUDGET, _MN),
        Source("FYFSD", "annual", BUDGET, -_MN),
    )
}
#: Monthly series copied from FRED month by month: dataset name -> FRED id.
MONTHLY_COPIES = {
    name: name.upper() for name in ("tb3ms", "gs2", "gs3", "gs5", "gs7", "gs10", "gs20", "gs30")
} | {"fedfunds": "FEDFUNDS", "cpiaucsl": "CPIAUCSL"}
#: Fiscal-year totals copied from FRED: dataset name -> FRED id (sign and units in SOURCES).
FY_COPIES = {
    "net_interest": "FYOINT",
    "revenue": "FYFR",
    "outlays": "FYONET",
    "total_deficit": "FYFSD",
    "gdp_calendar_year": "GDPA",
}
#: The first fiscal year whose ``fed_treasury_holdings`` is the H.4.1 level on the last Wednesday
#: of September (``history_2000_2025.md``; earlier years are OMB's Table 7.1, and FY2023 a week
#: average): from it on, the refresh takes the SOMA summary's level that day [year].
H41_FISCAL_YEARS_FROM = 2024
#: The Fed's SOMA, as a source name in the change table and the rows it writes.
SOMA_SOURCE = "NY Fed SOMA"
#: TIC's table and the MSPD, as source names.
TIC_SOURCE, MSPD_SOURCE = "TIC mfhhis01", "MSPD Table I"
#: The monthly SOMA rows, from the weekly summary: name -> how a month's Wednesdays are reduced.
SOMA_MONTHLY = {"treast_last_wednesday": "last", "treast_month_mean": "mean"}
#: TIC holdings by fiscal year in the history: name -> (holder, month of the year's end value;
#: September ends the fiscal year t, ``_dec`` rows are December of calendar year t).
TIC_YEARLY = {
    "japan_holdings": ("japan", 9),
    "china_holdings": ("china", 9),
    "foreign_holdings_total": ("grand_total", 9),
    "japan_holdings_dec": ("japan", 12),
    "china_holdings_dec": ("china", 12),
    "foreign_holdings_total_dec": ("grand_total", 12),
}
#: The history's fiscal-year sums of the split of TIC's changes: holder -> the rows' prefix and
#: suffix (``japan_net_transactions``, ``foreign_net_transactions_total``).
FLOW_ROWS = {
    "japan": ("japan_", ""),
    "china": ("china_", ""),
    "grand_total": ("foreign_", "_total"),
}
#: The parts of a split (:func:`debtloops.model.flows.split_changes`): row name -> column.
FLOW_PARTS = {
    "net_transactions": "transactions",
    "valuation_change": "valuation",
    "benchmark_revision": "revision",
}
#: MSPD segments in ``debt_structure_fy.csv``: segment -> row prefix; ``*_outstanding`` is all
#: holders, ``*_held_by_public`` the public's, ``*_share_of_marketable`` derived.
MSPD_SEGMENTS = ("marketable", "bills", "notes", "bonds", "tips", "frn", "ffb")
#: History rows copied from the MSPD: name -> (segment, column: 0 all holders, 1 the public's).
MSPD_HISTORY = {
    "bills_held_by_public": ("bills", 1),
    "marketable_debt_held_by_public": ("marketable", 1),
}
#: What the refresh says about CBO: its projections are vintages added as folders by hand.
CBO_NOTE = (
    "CBO's projections are not downloaded: each vintage is a folder of models/data/cbo/ built "
    "from CBO's workbooks by hand (docs/howto/cbo-vintage.md); use --cbo PATH for your own"
)
#: Rows of the history dated by calendar year, not fiscal year.
CALENDAR_YEARS = ("gdp_calendar_year",)
#: Fiscal-year means and September values of refreshed months: dataset name -> (monthly series,
#: kind).
FY_FROM_MONTHS = {
    "gs10_fy_avg": ("gs10", "mean"),
    "gs10_sep": ("gs10", "september"),
    "tb3m_fy_avg": ("tb3ms", "mean"),
    "tb3m_sep": ("tb3ms", "september"),
    "fedfunds_fy_avg": ("fedfunds", "mean"),
}
#: Rows derived from refreshed ones by the formulas of ``history_2000_2025.md``.
DERIVED = ("primary_deficit", "other_means_of_financing", "avg_rate_on_dhp")

#: ``opener(url, timeout [s])`` returns a response's body, raising what :mod:`urllib` raises.
Opener = Callable[[str, float], bytes]


def fetch_url(url: str, timeout: float = TIMEOUT) -> bytes:
    """Download ``url`` with :mod:`urllib`, waiting at most ``timeout`` seconds at a time.

    Returns
    -------
    bytes
        The response's body.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "debtloops-data-refresh"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def download(fred_id: str, opener: Opener) -> bytes:
    """Download one FRED series as CSV (see :func:`fetch`)."""
    return fetch(FRED_URL.format(series=fred_id), "FRED", f"series {fred_id}", opener)


def fetch(url: str, publisher: str, what: str, opener: Opener) -> bytes:
    """Download one publisher's file, turning every failure into one line.

    Parameters
    ----------
    url : str
        The file's address.
    publisher, what : str
        Who publishes it and what it is, for messages (``"FRED"``, ``"series GS10"``).
    opener : callable
        ``opener(url, timeout)`` returns the body.

    Raises
    ------
    DownloadError
        On an HTTP error, a timeout, no network, or a response cut short.
    """
    host = urllib.parse.urlsplit(url).hostname
    try:
        return opener(url, TIMEOUT)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"{publisher} answered HTTP {error.code} ({error.reason}) for {what} ({url}); "
            "nothing was written"
        ) from None
    except TimeoutError as error:
        raise _timeout(what, host) from error
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _timeout(what, host) from None
        raise DownloadError(
            f"cannot reach {host} ({error.reason}): is this machine offline? nothing was written"
        ) from None
    except http.client.IncompleteRead as error:
        raise DownloadError(
            f"{publisher}'s file for {what} was cut short after {len(error.partial)} bytes; "
            "try again; nothing was written"
        ) from None
    except (OSError, http.client.HTTPException) as error:  # a connection reset mid-transfer
        raise DownloadError(
            f"the download of {what} from {host} failed ({error}); try again; nothing was written"
        ) from None


def _timeout(what: str, host: str | None) -> DownloadError:
    return DownloadError(
        f"{host} did not answer within {TIMEOUT:g} s ({what}): offline or slow; try again "
        "later; nothing was written"
    )


def parse_fred(fred_id: str, body: bytes) -> pd.Series:
    """Read FRED's CSV of one series and check its shape.

    Parameters
    ----------
    fred_id : str
        The series asked for: the value column must carry its name.
    body : bytes
        The response.

    Returns
    -------
    pandas.Series
        Values [FRED's units] by date (``pandas.Timestamp``), NaN where FRED publishes none.

    Raises
    ------
    DownloadError
        If the header is not ``observation_date,<id>``, a line does not parse (a truncated file),
        or dates repeat or go backwards.
    """
    where = f"FRED's file for series {fred_id}"
    try:
        lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        raise DownloadError(f"{where} is not CSV text; nothing was written") from None
    header = tuple(lines[0]) if lines else ()
    if len(header) != 2 or header[0] not in FRED_DATE_COLUMNS or header[1] != fred_id:
        raise DownloadError(
            f"{where}: the header is '{','.join(header)[:80]}', expected "
            f"'observation_date,{fred_id}' (a renamed column or not FRED's CSV); nothing was "
            "written"
        )
    dates: list[pd.Timestamp] = []
    values: list[float] = []
    for number, row in enumerate(lines[1:], start=2):
        try:
            if len(row) != 2:
                raise ValueError
            date = pd.Timestamp(dt.date.fromisoformat(row[0]))
            value = math.nan if row[1].strip() in FRED_MISSING else float(row[1])
        except ValueError:
            raise DownloadError(
                f"{where}, line {number}: '{','.join(row)[:60]}' is not a date and a number "
                "(a truncated file?); nothing was written"
            ) from None
        if dates and date <= dates[-1]:
            raise DownloadError(f"{where}, line {number}: {row[0]} does not follow {dates[-1]:%F}")
        dates.append(date)
        values.append(value)
    if not dates:
        raise DownloadError(f"{where} holds no observations; nothing was written")
    return pd.Series(values, index=pd.DatetimeIndex(dates), name=fred_id)


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


@dataclass
class Change:
    """What a refresh changed in one shipped series."""

    series: str
    file: str
    source: str
    periods: int = 0
    changed: int = 0
    first: str = ""
    last: str = ""
    largest: float = 0.0
    largest_at: str = ""
    old: str = ""
    new: str = ""
    units: str = ""


@dataclass
class Refresh:
    """The refreshed files' rows and what changed.

    Attributes
    ----------
    history, monthly, structure : list of list of str
        The rows of ``history_2000_2025.csv``, ``markets_monthly.csv`` and
        ``debt_structure_fy.csv``, header first.
    changes : list of Change
        One per refreshed series.
    kept : list of str
        The shipped series not refreshed.
    """

    history: list[list[str]]
    monthly: list[list[str]]
    structure: list[list[str]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    fetched: str = ""


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


#: The key of a refreshed value: a fiscal year, or a month's date.
Key = TypeVar("Key")


def _replace(
    rows: list[list[str]],
    name: str,
    key: Callable[[list[str]], Key],
    values: dict[Key, float],
    change: Change,
    tolerance: Tolerance | None,
    label: str,
    source: str | None = None,
) -> None:
    """Write refreshed ``values`` into the rows of series ``name``, checking and counting them.

    ``source``, if given, replaces the ``source`` field (the history's last column) of each row
    written.
    """
    for row in rows:
        if row[0] != name or key(row) not in values:
            continue
        new = values[key(row)]
        if math.isnan(new):
            continue
        where = label.format(key(row))
        old_text = row[2]
        if old_text.strip():
            old = float(old_text)
            if tolerance is not None and not tolerance.allows(new, old):
                raise _beyond(f"{name} for {where}", new, old_text, tolerance)
            digits = _decimals(old_text)
            # the shipped value is a rounding of the refreshed one: no revision, keep its text
            same = abs(new - old) <= ROUNDING * 10.0**-digits
            text = old_text if same else f"{new:.{digits}f}"
        else:
            old = math.nan
            text = f"{new:.6g}"
        change.periods += 1
        if old_text != text and not (old_text.strip() and float(text) == old):
            change.changed += 1
            change.first = change.first or where
            change.last = where
            size = abs(float(text) - old) if not math.isnan(old) else math.inf
            if size > change.largest or not change.largest_at:
                change.largest, change.largest_at = size, where
                change.old, change.new = old_text or "missing", text
        row[2] = text
        if source is not None:
            row[-1] = source


def _beyond(what: str, new: float, old_text: str, tolerance: Tolerance) -> DownloadError:
    """Return the error for a refreshed value too far from the shipped one, naming units if so."""
    old = float(old_text)
    ratio = new / old if old else math.inf
    if 1 / UNITS_RATIO < abs(ratio) < UNITS_RATIO:
        why = (
            f"beyond the tolerance {tolerance.name} ({tolerance.absolute:g} + "
            f"{tolerance.relative:.1%} of the value)"
        )
    else:
        why = f"about {ratio:.3g} times the shipped value: a change of units?"
    return DownloadError(
        f"the refreshed {what} is {new:.6g}, the shipped {old_text}: {why}; nothing was written"
    )


def refresh_rows(opener: Opener | None = None, today: dt.date | None = None) -> Refresh:
    """Download every publisher's series and build the refreshed files' rows; write nothing.

    FRED's :data:`SOURCES` first, then TIC's table, the MSPD and the SOMA summary
    (:mod:`debtloops.model.publishers`); every download and check passes before any row is built.

    Parameters
    ----------
    opener : callable, optional
        ``opener(url, timeout)`` returns the body; :func:`fetch_url` by default (looked up when
        called, so that tests can serve recorded responses in its place).
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
    opener = opener or fetch_url
    fetched = {fred_id: parse_fred(fred_id, download(fred_id, opener)) for fred_id in SOURCES}
    tic = publishers.parse_tic(fetch(publishers.TIC_URL, "Treasury", "TIC's mfhhis01.txt", opener))
    mspd = publishers.parse_mspd(
        fetch(publishers.MSPD_URL, "Fiscal Data", "MSPD Table I (mspd_table_1)", opener)
    )
    soma = publishers.parse_soma(
        fetch(publishers.SOMA_URL, "the New York Fed", "the SOMA summary", opener)
    )
    history_rows = data.csv_rows(data.DATA_DIR / data.HISTORY_FILE.name, data.HISTORY_COLUMNS)
    monthly_rows = data.csv_rows(data.DATA_DIR / data.MONTHLY_FILE.name, data.MONTHLY_COLUMNS)
    structure_rows = data.csv_rows(data.DATA_DIR / data.STRUCTURE_FILE.name, data.STRUCTURE_COLUMNS)
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
    _check_tic(tic, monthly_rows)
    _check_mspd(mspd, structure_rows)
    result = Refresh(
        history=[list(data.HISTORY_COLUMNS), *history_rows],
        monthly=[list(data.MONTHLY_COLUMNS), *monthly_rows],
        structure=[list(data.STRUCTURE_COLUMNS), *structure_rows],
        fetched=f"{today or dt.datetime.now(dt.UTC).date():%Y-%m-%d}",
    )
    monthly = _monthly_values(fetched, soma)
    by_month = {name: _by_period(values) for name, values in monthly.items()}
    for name, values in by_month.items():
        source, tolerance = (
            (MONTHLY_COPIES[name], SOURCES[MONTHLY_COPIES[name]].tolerance)
            if name in MONTHLY_COPIES
            else (SOMA_SOURCE, SOMA)
        )
        change = Change(name, data.MONTHLY_FILE.name, source)
        _replace(result.monthly[1:], name, lambda row: row[1], values, change, tolerance, "{}")
        for row in result.monthly[1:]:
            if row[0] == name and row[3] == "missing" and row[2]:
                row[3] = "reported" if name in MONTHLY_COPIES else "derived"
        result.changes.append(change)
    _refresh_tic(result, tic)
    yearly = _fy_values(fetched, monthly)
    sources = {name: _fy_source(name) for name in yearly}
    for name, values in yearly.items():
        source, tolerance = sources[name]
        change = Change(name, data.HISTORY_FILE.name, source)
        note = (
            f"FRED series {source} (fred.stlouisfed.org/series/{source})"
            if source in SOURCES
            else f"{source} ({publishers.SOMA_URL})"
        )
        _replace(
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
    _refresh_mspd(result, mspd)
    _derive(result)
    refreshed = {change.series for change in result.changes}
    shipped = dict.fromkeys(row[0] for row in [*history_rows, *monthly_rows, *structure_rows])
    result.kept = [name for name in shipped if name not in refreshed]
    units = {row[0]: row[3] for row in history_rows}
    for change in result.changes:  # the catalogue gives the units of the other files' series
        change.units = units.get(change.series) or data.monthly_units(change.series)
    return result


def _check_tic(tic: dict, monthly_rows: list[list[str]]) -> None:
    """Refuse TIC's table if it lacks a month the shipped holdings have (a truncated file?)."""
    for holder, values in tic.items():
        name = f"tic_{holder}_holdings"
        needed = [row[1] for row in monthly_rows if row[0] == name and row[2]]
        missing = [month for month in needed if month not in values]
        if missing:
            raise DownloadError(
                f"TIC's mfhhis01.txt has no {missing[0]} value for {name} (of {len(missing)} "
                "months the shipped file has; a truncated file?); nothing was written"
            )


def _check_mspd(mspd: dict, structure_rows: list[list[str]]) -> None:
    """Refuse the MSPD if it lacks a September the shipped file has (a truncated answer?)."""
    for segment in MSPD_SEGMENTS:
        name = f"{segment}_outstanding"
        needed = [int(row[1]) for row in structure_rows if row[0] == name and row[2]]
        missing = [year for year in needed if year not in mspd.get(segment, {})]
        if missing:
            raise DownloadError(
                f"Fiscal Data's MSPD Table I has no 30 September {missing[0]} line for {name} "
                "(a truncated answer or a renamed line?); nothing was written"
            )


def _refresh_tic(result: Refresh, tic: dict) -> None:
    """Write TIC's holdings, their year-end values and their split into transactions."""
    source = f"{TIC_SOURCE} ({publishers.TIC_URL}), downloaded {result.fetched}"
    for holder, values in tic.items():
        name = f"tic_{holder}_holdings"
        change = Change(name, data.MONTHLY_FILE.name, TIC_SOURCE)
        current = {month: value for month, (value, _) in values.items()}
        _replace(result.monthly[1:], name, lambda row: row[1], current, change, TIC, "{}")
        for row in result.monthly[1:]:
            previous = values.get(row[1], (None, None))[1] if row[0] == name else None
            if previous is not None:
                row[4] = (
                    f"series break: the table gives this month twice; {previous:g} on the "
                    "previous basis"
                )
        result.changes.append(change)
    for name, (holder, month) in TIC_YEARLY.items():
        values = {
            int(key[:4]): value for key, (value, _) in tic[holder].items() if int(key[5:]) == month
        }
        change = Change(name, data.HISTORY_FILE.name, TIC_SOURCE)
        key = lambda row: int(row[1])  # noqa: E731
        _replace(result.history[1:], name, key, values, change, TIC, "FY{}", source)
        result.changes.append(change)
    _split_flows(result)


def _split_flows(result: Refresh) -> None:
    """Split the refreshed holdings' changes again (:func:`debtloops.model.flows.split_changes`).

    The monthly parts and their fiscal-year sums in the history follow the refreshed holdings
    and 10-year yields; where neither moved they come out as shipped.
    """
    from debtloops.model import flows

    values: dict[str, dict[str, float]] = {}
    notes: dict[str, dict[str, str]] = {}
    for row in result.monthly[1:]:
        values.setdefault(row[0], {})[row[1]] = float(row[2]) if row[2] else math.nan
        notes.setdefault(row[0], {})[row[1]] = row[4]

    def series(name: str, table: dict) -> pd.Series:
        months = sorted(table[name])
        return pd.Series([table[name][m] for m in months], index=pd.PeriodIndex(months, freq="M"))

    for holder in flows.HOLDERS:
        hold = f"tic_{holder}_holdings"
        split = flows.split_changes(
            series(hold, values),
            series(hold, notes),
            series(flows.YIELD, values),
            series(f"tic_{holder}_lt_valuation_change", values),
        )
        for part, column in FLOW_PARTS.items():
            name = f"tic_{holder}_{part}"
            by_month = {m.strftime("%Y-%m"): float(v) for m, v in split[column].items()}
            change = Change(name, data.MONTHLY_FILE.name, "derived")
            _replace(result.monthly[1:], name, lambda row: row[1], by_month, change, None, "{}")
            result.changes.append(change)
            if holder not in FLOW_ROWS:
                continue
            prefix, suffix = FLOW_ROWS[holder]
            history_name = f"{prefix}{part}{suffix}"
            sums = flows.fiscal_year_sums(split[column]).to_dict()
            change = Change(history_name, data.HISTORY_FILE.name, "derived")
            key = lambda row: int(row[1])  # noqa: E731
            _replace(result.history[1:], history_name, key, sums, change, None, "FY{}")
            result.changes.append(change)


def _refresh_mspd(result: Refresh, mspd: dict) -> None:
    """Write the MSPD's September lines into the debt's structure and the history's copies."""
    source = f"{MSPD_SOURCE} (Fiscal Data mspd_table_1), downloaded {result.fetched}"
    key = lambda row: int(row[1])  # noqa: E731
    marketable = {year: total for year, (total, _) in mspd["marketable"].items()}
    for segment in MSPD_SEGMENTS:
        found = mspd.get(segment, {})
        for suffix, column in (("outstanding", 0), ("held_by_public", 1)):
            name = f"{segment}_{suffix}"
            change = Change(name, data.STRUCTURE_FILE.name, MSPD_SOURCE)
            values = {year: pair[column] for year, pair in found.items()}
            _replace(result.structure[1:], name, key, values, change, MSPD, "FY{}", source)
            result.changes.append(change)
        if segment == "marketable":
            continue
        name = f"{segment}_share_of_marketable"
        shares = {
            year: data.PERCENT * total / marketable[year]
            for year, (total, _) in found.items()
            if marketable.get(year)
        }
        change = Change(name, data.STRUCTURE_FILE.name, "derived")
        note = f"derived from {MSPD_SOURCE}, downloaded {result.fetched}"
        _replace(result.structure[1:], name, key, shares, change, None, "FY{}", note)
        result.changes.append(change)
    for row in result.structure[1:]:  # a line the shipped copy lacked, now published
        if row[3] == "missing" and row[2] and row[0].split("_")[0] in MSPD_SEGMENTS:
            row[3] = "reported" if not row[0].endswith("_share_of_marketable") else "derived"
    for name, (segment, column) in MSPD_HISTORY.items():
        values = {year: pair[column] for year, pair in mspd[segment].items()}
        change = Change(name, data.HISTORY_FILE.name, MSPD_SOURCE)
        _replace(result.history[1:], name, key, values, change, MSPD, "FY{}", source)
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
        change = Change(name, data.HISTORY_FILE.name, "derived")
        key = lambda row: int(row[1])  # noqa: E731
        note = f"derived as above from rows refreshed from FRED on {result.fetched}"
        _replace(result.history[1:], name, key, derived[name], change, None, "FY{}", note)
        result.changes.append(change)


def format_changes(result: Refresh) -> str:
    """Return the table of what a refresh changed, and the series it kept, as text."""
    width = max(len(change.series) for change in result.changes)
    lines = [
        f"{'series':<{width}} {'file':<22} {'changed':>9}  {'first - last':<22} largest revision"
    ]
    for change in result.changes:
        span = f"{change.first} - {change.last}" if change.changed else ""
        largest = (
            f"{change.largest_at}: {change.old} -> {change.new} {change.units}"
            if change.changed
            else "none"
        )
        count = f"{change.changed}/{change.periods}"
        lines.append(f"{change.series:<{width}} {change.file:<22} {count:>9}  {span:<22} {largest}")
    lines.append("")
    lines.append(f"not refreshed (kept as shipped): {', '.join(result.kept)}")
    lines.append(CBO_NOTE)
    return "\n".join(lines)


def _markdown(result: Refresh, file: str) -> str:
    """Return the section appended to a shipped .md file: where its refreshed rows came from."""
    rows = [c for c in result.changes if c.file == file]
    lines = [
        "",
        f"## This copy: refreshed on {result.fetched}",
        "",
        "Written by `debtloops data refresh`, which downloaded the series below from their",
        f"publishers (FRED, `{FRED_URL}`; Treasury's TIC table, `{publishers.TIC_URL}`;",
        f"the MSPD from Fiscal Data, `{publishers.MSPD_URL}`; the New York Fed's SOMA",
        f"summary, `{publishers.SOMA_URL}`) and converted them as the sections above define;",
        "rows marked derived are recomputed from them by the formulas above; every other series",
        "is as shipped. The window is the shipped one.",
        "",
        "| series | source | values changed | largest revision |",
        "|---|---|---|---|",
    ]
    for change in rows:
        largest = f"{change.largest_at}: {change.old} -> {change.new}" if change.changed else "-"
        counted = f"{change.changed} of {change.periods}"
        lines.append(f"| `{change.series}` | {change.source} | {counted} | {largest} |")
    lines.append("")
    return "\n".join(lines)


#: The columns of ``markets_series.csv`` that name the copy a series was read from, and the count
#: of its missing months.
COPY_COLUMNS, MISSING_COLUMN = ("copy_repo", "copy_path", "copy_commit"), "missing_rows"


def _catalogue(result: Refresh) -> list[list[str]]:
    """Return ``markets_series.csv`` with the refreshed monthly series' copy named as FRED's."""
    with (data.DATA_DIR / data.MONTHLY_CATALOGUE.name).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    columns = [header.index(name) for name in COPY_COLUMNS]
    missing = header.index(MISSING_COLUMN)
    published = {SOMA_SOURCE: publishers.SOMA_URL, TIC_SOURCE: publishers.TIC_URL}
    published[MSPD_SOURCE] = publishers.MSPD_URL
    refreshed = {
        c.series: published.get(c.source) or FRED_URL.format(series=c.source)
        for c in result.changes
        if c.file != data.HISTORY_FILE.name and c.source != "derived"
    }
    counts: dict[str, int] = {}
    for row in [*result.monthly[1:], *result.structure[1:]]:
        counts[row[0]] = counts.get(row[0], 0) + (row[3] == "missing")
    for row in rows[1:]:
        if row[0] in refreshed:
            url = refreshed[row[0]]
            texts = (urllib.parse.urlsplit(url).hostname or "", url, f"downloaded {result.fetched}")
            for column, text in zip(columns, texts, strict=True):
                row[column] = text
            row[missing] = str(counts[row[0]])
    return rows


def write_dataset(out: Path, result: Refresh) -> list[Path]:
    """Write the refreshed dataset's files into ``out`` together, each atomic.

    The folder must hold none of :data:`debtloops.model.data.DATASET_FILES` that debtloops did
    not write (:func:`debtloops.io.check_targets`).

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out).absolute()
    prepare_output_folder(out)
    scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix("dataset"), dir=out))
    try:
        tables = {
            data.HISTORY_FILE.name: result.history,
            data.MONTHLY_FILE.name: result.monthly,
            data.STRUCTURE_FILE.name: result.structure,
            data.MONTHLY_CATALOGUE.name: _catalogue(result),
        }
        for name, rows in tables.items():
            with (scratch / name).open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(rows)
        for csv_name in (data.HISTORY_FILE.name, data.MONTHLY_FILE.name, data.STRUCTURE_FILE.name):
            md = Path(csv_name).with_suffix(".md").name
            text = (data.DATA_DIR / md).read_text(encoding="utf-8")
            (scratch / md).write_text(text + _markdown(result, csv_name), encoding="utf-8")
        install_files(out, {name: scratch / name for name in data.DATASET_FILES})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [out / name for name in data.DATASET_FILES]


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
