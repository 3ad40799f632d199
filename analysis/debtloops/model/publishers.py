"""Readers of the publishers' files that ``debtloops data refresh`` downloads.

Each reader takes a response's body and returns its numbers in the dataset's units, or raises a
:class:`~debtloops.errors.DownloadError` naming the file, the line or field, and what was expected:
a renamed row, field or column, a file cut short, text that is not the publisher's format. They do
no network themselves (:func:`debtloops.model.web.fetch` does) and write nothing.

* **FRED** (:data:`FRED_URL`): one series as CSV, ``observation_date,<id>`` (older files ``DATE``)
  and one line a date; a value FRED does not publish is ``.`` or empty.
* **Treasury, TIC** (:data:`TIC_URL`): the history of the "Major Foreign Holders of Treasury
  Securities" table, ``mfhhis01.txt``: tab-separated blocks of twelve months (or thirteen, when a
  month is given twice across a survey-benchmark break), newest first, each under a line of month
  names and a ``Country`` line of years. A break month's first column is on the basis of the later
  months, its second on the previous basis (``markets_monthly.md``).
* **Treasury, MSPD** (:data:`MSPD_URL`): Table I of the Monthly Statement of the Public Debt from
  the Fiscal Data API (``mspd_table_1``, JSON: ``data`` rows with ``record_date``,
  ``security_type_desc``, ``security_class_desc``, ``debt_held_public_mil_amt`` and
  ``total_mil_amt`` in $mn; ``meta`` with ``total-pages``), the statements of 30 September. The
  segments are ``Marketable`` lines by class; the total is the line of type ``Total Marketable``.
* **The Fed, SOMA** (:data:`SOMA_URL`): the Federal Reserve Bank of New York's weekly summary of
  the System Open Market Account (JSON: ``soma.summary`` rows with ``asOfDate`` and the par
  holdings in dollars by type), whose Treasury total is the H.4.1 line "U.S. Treasury securities
  held outright", TIPS inflation compensation included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re

import pandas as pd

from debtloops.errors import DownloadError
from debtloops.model.holders import FOREIGN

#: FRED's CSV download of one series, all observations.
FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"
#: FRED's text for a value it does not publish (older files "."; newer ones an empty field).
FRED_MISSING = frozenset({".", ""})
#: The first column of FRED's CSV files (older files: ``DATE``).
FRED_DATE_COLUMNS = ("observation_date", "DATE")
#: Treasury's history of the Major Foreign Holders table (TIC).
TIC_URL = (
    "https://ticdata.treasury.gov/resource-center/data-chart-center/tic/Documents/mfhhis01.txt"
)
#: Table I of the MSPD, every statement of a September, from the Fiscal Data API.
MSPD_URL = (
    "https://api.fiscaldata.treasury.gov/services/api/fiscal_service/v1/debt/mspd/mspd_table_1"
    "?filter=record_calendar_month:eq:09&page%5Bsize%5D=10000&format=json"
)
#: The New York Fed's weekly SOMA holdings summary.
SOMA_URL = "https://markets.newyorkfed.org/api/soma/summary.json"

#: The rows of the TIC table the dataset keeps: the table's label -> the dataset's holder.
TIC_ROWS = {
    **{holder.tic_label: holder.key for holder in FOREIGN},
    "Grand Total": "grand_total",
    "For. Official": "foreign_official",
}
#: A footnote marker after a TIC row's label (``United Kingdom 2/``).
_FOOTNOTE = re.compile(r"\s+\d+/$")
#: Month names of the TIC table's header line.
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}

#: MSPD Table I lines the dataset keeps: (security type, security class) -> segment. Before
#: FY2004 TIPS were two lines, summed here as in the shipped file.
MSPD_LINES = {
    ("Marketable", "Bills"): "bills",
    ("Marketable", "Notes"): "notes",
    ("Marketable", "Bonds"): "bonds",
    ("Marketable", "Treasury Inflation-Protected Securities"): "tips",
    ("Marketable", "Inflation-Indexed Notes"): "tips",
    ("Marketable", "Inflation-Indexed Bonds"): "tips",
    ("Marketable", "Floating Rate Notes"): "frn",
    ("Marketable", "Federal Financing Bank"): "ffb",
}
#: MSPD Table I's total lines, which are security types of their own (their class is null).
MSPD_TOTALS = {"Total Marketable": "marketable"}
#: The MSPD fields read: the row's date, its line, and the two columns [$mn].
MSPD_FIELDS = (
    "record_date",
    "security_type_desc",
    "security_class_desc",
    "debt_held_public_mil_amt",
    "total_mil_amt",
)
#: The SOMA summary's Treasury holdings by type, whose sum is the H.4.1 Treasury line [USD].
SOMA_TREASURY_FIELDS = ("bills", "notesbonds", "frn", "tips", "tipsInflationCompensation")
#: Dollars in a billion, and millions in a billion.
DOLLARS_PER_BILLION, MILLIONS_PER_BILLION = 1e9, 1e3


def _text(body: bytes, where: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DownloadError(f"{where} is not text; nothing was written") from None


def _json(body: bytes, where: str) -> object:
    try:
        return json.loads(_text(body, where))
    except json.JSONDecodeError as error:
        raise DownloadError(
            f"{where} is not complete JSON ({error.msg} at character {error.pos}: a truncated "
            "file?); nothing was written"
        ) from None


def check_order(where: str, dates: list[pd.Timestamp], date: pd.Timestamp) -> None:
    """Refuse a date that repeats or goes back before the dates read so far (``dates``, in order).

    Raises
    ------
    DownloadError
        Naming ``where`` (the file and its line or row), the date and the one before it.
    """
    if dates and date <= dates[-1]:
        raise DownloadError(f"{where}: {date:%F} does not follow {dates[-1]:%F}")


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
        check_order(f"{where}, line {number}", dates, date)
        dates.append(date)
        values.append(value)
    if not dates:
        raise DownloadError(f"{where} holds no observations; nothing was written")
    return pd.Series(values, index=pd.DatetimeIndex(dates), name=fred_id)


def parse_tic(body: bytes) -> dict[str, dict[str, tuple[float, float | None]]]:
    """Read TIC's ``mfhhis01.txt``: the kept rows' holdings by month.

    Returns
    -------
    dict
        Holder (:data:`TIC_ROWS`) -> ``"YYYY-MM"`` -> (holdings at the end of the month [$bn],
        the value on the previous basis in a break month or None).

    Raises
    ------
    DownloadError
        If no block is found, a block lacks a kept row (renamed?) or a row has fewer numbers than
        the block has months (a truncated file?).
    """
    where = "TIC's mfhhis01.txt"
    lines = _text(body, where).splitlines()
    found: dict[str, dict[str, tuple[float, float | None]]] = {h: {} for h in TIC_ROWS.values()}
    columns: list[str] = []
    seen: set[str] = set()
    blocks = 0

    def close(number: int) -> None:
        missing = [label for label in TIC_ROWS if label not in seen]
        if columns and missing:
            raise DownloadError(
                f"{where}, the block ending before line {number}: no row '{missing[0]}' "
                "(a renamed row, or a truncated file?); nothing was written"
            )

    for number, line in enumerate(lines, start=1):
        fields = [field.strip().strip('"').strip() for field in line.split("\t")]
        if fields[0] == "Country":
            close(number)
            names = [f for f in lines[number - 2].split("\t")[1:] if f.strip()]
            years = [f for f in fields[1:] if f]
            if len(names) != len(years) or any(n.strip() not in _MONTHS for n in names):
                raise DownloadError(
                    f"{where}, line {number - 1}: '{lines[number - 2].strip()[:60]}' is not a "
                    "line of month names above the Country line; nothing was written"
                )
            columns = [f"{y}-{_MONTHS[n.strip()]:02d}" for n, y in zip(names, years, strict=True)]
            seen = set()
            blocks += 1
            continue
        label = _FOOTNOTE.sub("", fields[0])
        if not columns or label not in TIC_ROWS:
            continue
        numbers = fields[1 : 1 + len(columns)]
        try:
            if len(numbers) < len(columns) or not all(numbers):
                raise ValueError
            values = [float(text) for text in numbers]
        except ValueError:
            raise DownloadError(
                f"{where}, line {number}: '{line.strip()[:60]}' does not hold a number for each "
                f"of the block's {len(columns)} months (a truncated file?); nothing was written"
            ) from None
        seen.add(label)
        holder = found[TIC_ROWS[label]]
        for month, value in zip(columns, values, strict=True):
            if month in holder:  # the second column of a break month: the previous basis
                holder[month] = (holder[month][0], value)
            else:
                holder[month] = (value, None)
    close(len(lines) + 1)
    if not blocks:
        raise DownloadError(
            f"{where} holds no block with a 'Country' line (a renamed column, or not TIC's "
            "table); nothing was written"
        )
    return found


def parse_mspd(body: bytes) -> dict[str, dict[int, tuple[float, float]]]:
    """Read MSPD Table I from the Fiscal Data API: the kept lines at each 30 September.

    Returns
    -------
    dict
        Segment (:data:`MSPD_LINES`) -> fiscal year -> (all holders, held by the public) [$bn].

    Raises
    ------
    DownloadError
        If the answer is not complete JSON, spans more than one page, lacks a field of
        :data:`MSPD_FIELDS` (renamed?) or holds an amount that is not a number.
    """
    where = "Fiscal Data's mspd_table_1"
    answer = _json(body, where)
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise DownloadError(f"{where} holds no 'data' list; nothing was written")
    pages = (answer.get("meta") or {}).get("total-pages", 1)
    if pages != 1:
        raise DownloadError(f"{where} came in {pages} pages, expected one; nothing was written")
    found: dict[str, dict[int, tuple[float, float]]] = {}
    for index, row in enumerate(answer["data"]):
        missing = [name for name in MSPD_FIELDS if name not in row]
        if missing:
            raise DownloadError(
                f"{where}, row {index}: no field '{missing[0]}' (a renamed field?); nothing was "
                "written"
            )
        line = (row["security_type_desc"], row["security_class_desc"])
        kept = MSPD_LINES.get(line) or MSPD_TOTALS.get(line[0])
        if kept is None:
            continue
        try:
            date = dt.date.fromisoformat(row["record_date"])
            total = float(row["total_mil_amt"]) / MILLIONS_PER_BILLION
            public = float(row["debt_held_public_mil_amt"]) / MILLIONS_PER_BILLION
        except (TypeError, ValueError):
            raise DownloadError(
                f"{where}, row {index}: {row['record_date']!r}, {kept}: an amount or date "
                "that does not parse; nothing was written"
            ) from None
        segment = found.setdefault(kept, {})
        before = segment.get(date.year, (0.0, 0.0))
        segment[date.year] = (before[0] + total, before[1] + public)
    if "marketable" not in found:
        raise DownloadError(f"{where} holds no 'Total Marketable' line; nothing was written")
    return found


def parse_soma(body: bytes) -> pd.Series:
    """Read the New York Fed's SOMA summary: Treasury holdings at each Wednesday [$bn].

    Returns
    -------
    pandas.Series
        The sum of :data:`SOMA_TREASURY_FIELDS` by ``asOfDate`` (``pandas.Timestamp``) [$bn]; an
        empty field (FRNs before 2014) counts as zero, as the Fed publishes none.

    Raises
    ------
    DownloadError
        If the answer is not complete JSON, lacks ``soma.summary``, a row lacks a field (renamed?)
        or holds text that is not a number, or dates repeat or go backwards.
    """
    where = "the New York Fed's SOMA summary"
    answer = _json(body, where)
    try:
        rows = answer["soma"]["summary"]  # type: ignore[index]
    except (KeyError, TypeError):
        raise DownloadError(f"{where} holds no 'soma.summary' list; nothing was written") from None
    dates: list[pd.Timestamp] = []
    values: list[float] = []
    for index, row in enumerate(rows):
        missing = [name for name in ("asOfDate", *SOMA_TREASURY_FIELDS) if name not in row]
        if missing:
            raise DownloadError(
                f"{where}, row {index}: no field '{missing[0]}' (a renamed field?); nothing was "
                "written"
            )
        try:
            date = pd.Timestamp(dt.date.fromisoformat(row["asOfDate"]))
            total = sum(float(row[name] or 0.0) for name in SOMA_TREASURY_FIELDS)
        except (TypeError, ValueError):
            raise DownloadError(
                f"{where}, row {index} ({row.get('asOfDate')!r}): a date or amount that does not "
                "parse; nothing was written"
            ) from None
        check_order(f"{where}, row {index}", dates, date)
        dates.append(date)
        values.append(total / DOLLARS_PER_BILLION)
    if not dates:
        raise DownloadError(f"{where} holds no rows; nothing was written")
    return pd.Series(values, index=pd.DatetimeIndex(dates), name="soma_treasury")
