"""The comparison of refreshed values with the shipped ones, and the table of what changed.

:func:`replace_rows` writes refreshed values into the shipped rows, refusing one beyond its
:class:`~debtloops.model.refresh_sources.Tolerance` and counting each change in a :class:`Change`;
:func:`format_changes` prints the table ``debtloops data refresh`` shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from debtloops.errors import DownloadError
from debtloops.model.refresh_sources import CBO_NOTE, Tolerance

#: A refreshed value within this many units of the shipped value's last decimal is the same
#: number rounded (a mean recomputed from the same months may round either way at a half) [1].
ROUNDING = 0.5 + 1e-9
#: A refreshed value more than this many times the shipped one (or less than its inverse) is
#: reported as a change of units rather than a revision [1].
UNITS_RATIO = 2.0


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


def replace_rows(
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
