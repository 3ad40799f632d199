"""The refresh of Treasury's series: TIC's holdings and their split, and the MSPD's debt structure.

Each checker refuses a table that lacks a period the shipped file has (a truncated answer); each
refresher writes the parsed table (:mod:`debtloops.model.publishers`) into the shipped rows
(:func:`~debtloops.model.refresh_changes.replace_rows`) and records what changed.
"""

from __future__ import annotations

import math

import pandas as pd

from debtloops.errors import DownloadError
from debtloops.model import data, datafiles, publishers
from debtloops.model.refresh_changes import Change, Refresh, replace_rows
from debtloops.model.refresh_sources import (
    FLOW_PARTS,
    FLOW_ROWS,
    MSPD,
    MSPD_HISTORY,
    MSPD_SEGMENTS,
    MSPD_SOURCE,
    TIC,
    TIC_SOURCE,
    TIC_YEARLY,
)


def check_tic(tic: dict, monthly_rows: list[list[str]]) -> None:
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


def check_mspd(mspd: dict, structure_rows: list[list[str]]) -> None:
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


def refresh_tic(result: Refresh, tic: dict) -> None:
    """Write TIC's holdings, their year-end values and their split into transactions."""
    source = f"{TIC_SOURCE} ({publishers.TIC_URL}), downloaded {result.fetched}"
    for holder, values in tic.items():
        name = f"tic_{holder}_holdings"
        change = Change(name, datafiles.MONTHLY_FILE.name, TIC_SOURCE)
        current = {month: value for month, (value, _) in values.items()}
        replace_rows(result.monthly[1:], name, lambda row: row[1], current, change, TIC, "{}")
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
        change = Change(name, datafiles.HISTORY_FILE.name, TIC_SOURCE)
        key = lambda row: int(row[1])  # noqa: E731
        replace_rows(result.history[1:], name, key, values, change, TIC, "FY{}", source)
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
            change = Change(name, datafiles.MONTHLY_FILE.name, "derived")
            replace_rows(result.monthly[1:], name, lambda row: row[1], by_month, change, None, "{}")
            result.changes.append(change)
            if holder not in FLOW_ROWS:
                continue
            prefix, suffix = FLOW_ROWS[holder]
            history_name = f"{prefix}{part}{suffix}"
            sums = flows.fiscal_year_sums(split[column]).to_dict()
            change = Change(history_name, datafiles.HISTORY_FILE.name, "derived")
            key = lambda row: int(row[1])  # noqa: E731
            replace_rows(result.history[1:], history_name, key, sums, change, None, "FY{}")
            result.changes.append(change)


def refresh_mspd(result: Refresh, mspd: dict) -> None:
    """Write the MSPD's September lines into the debt's structure and the history's copies."""
    source = f"{MSPD_SOURCE} (Fiscal Data mspd_table_1), downloaded {result.fetched}"
    key = lambda row: int(row[1])  # noqa: E731
    marketable = {year: total for year, (total, _) in mspd["marketable"].items()}
    for segment in MSPD_SEGMENTS:
        found = mspd.get(segment, {})
        for suffix, column in (("outstanding", 0), ("held_by_public", 1)):
            name = f"{segment}_{suffix}"
            change = Change(name, datafiles.STRUCTURE_FILE.name, MSPD_SOURCE)
            values = {year: pair[column] for year, pair in found.items()}
            replace_rows(result.structure[1:], name, key, values, change, MSPD, "FY{}", source)
            result.changes.append(change)
        if segment == "marketable":
            continue
        name = f"{segment}_share_of_marketable"
        shares = {
            year: data.PERCENT * total / marketable[year]
            for year, (total, _) in found.items()
            if marketable.get(year)
        }
        change = Change(name, datafiles.STRUCTURE_FILE.name, "derived")
        note = f"derived from {MSPD_SOURCE}, downloaded {result.fetched}"
        replace_rows(result.structure[1:], name, key, shares, change, None, "FY{}", note)
        result.changes.append(change)
    for row in result.structure[1:]:  # a line the shipped copy lacked, now published
        if row[3] == "missing" and row[2] and row[0].split("_")[0] in MSPD_SEGMENTS:
            row[3] = "reported" if not row[0].endswith("_share_of_marketable") else "derived"
    for name, (segment, column) in MSPD_HISTORY.items():
        values = {year: pair[column] for year, pair in mspd[segment].items()}
        change = Change(name, datafiles.HISTORY_FILE.name, MSPD_SOURCE)
        replace_rows(result.history[1:], name, key, values, change, MSPD, "FY{}", source)
        result.changes.append(change)
