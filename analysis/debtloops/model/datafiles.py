"""The dataset's files: where they are, which ``--data DIR`` may move, and their checked readers.

The history (``history_2000_2025.csv``), the monthly layer (``markets_monthly.csv`` and its
catalogue ``markets_series.csv``) and the debt's structure (``debt_structure_fy.csv``) are read
from :data:`DATA_DIR` unless :func:`use_dataset` points the readers at another folder; CBO's
vintages are folders of :data:`CBO_DIR` (:mod:`debtloops.model.vintages`). Every reader checks
the file's shape and names the file and line of the first fault. Readers of values computed from
these files register with :func:`forgotten_when_moved`, so that moving the files forgets them too.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol, TypeVar

import pandas as pd

from debtloops.errors import InputError, unknown_name
from debtloops.paths import DATA_DIR

#: The shipped CBO vintages, one folder each (:mod:`debtloops.model.vintages`).
CBO_DIR = DATA_DIR / "cbo"
HISTORY_FILE = DATA_DIR / "history_2000_2025.csv"
MONTHLY_FILE = DATA_DIR / "markets_monthly.csv"
MONTHLY_COLUMNS = ("series", "month", "value", "status", "note")
#: The catalogue of the monthly series: one row each, with its units, publisher and copy.
MONTHLY_CATALOGUE = DATA_DIR / "markets_series.csv"
STRUCTURE_FILE = DATA_DIR / "debt_structure_fy.csv"
#: Its columns: one row per series and fiscal year, as in the monthly file.
STRUCTURE_COLUMNS = ("series", "fiscal_year", "value", "status", "note")
CBO_COLUMNS = ("series", "fiscal_year", "value", "units", "publication", "source")
HISTORY_COLUMNS = ("series", "fiscal_year", "value", "units", "basis", "source")
#: The first and last fiscal years of the historical dataset [year].
FIRST_YEAR, LAST_YEAR = 2000, 2025
#: The module's names that say where the files are: :func:`use_dataset` rebinds them, so read
#: them here at call time (``datafiles.HISTORY_FILE``), never from a copy made at import.
LOCATIONS = ("HISTORY_FILE", "MONTHLY_FILE", "MONTHLY_CATALOGUE", "STRUCTURE_FILE", "CBO_DIR")


@dataclass(frozen=True)
class Dataset:
    """One of the data files, read and checked.

    Attributes
    ----------
    path : Path
        The CSV file.
    frame : pandas.DataFrame
        Its rows, ``fiscal_year`` as int and ``value`` as float, and ``line``, each row's line in
        the file.
    """

    path: Path
    frame: pd.DataFrame

    def series(self, name: str, publication: str | None = None) -> pd.Series:
        """Return one series by fiscal year.

        Parameters
        ----------
        name : str
            The series' name in the file.
        publication : str, optional
            For CBO's file: the publication to take it from (``"LTBO 2025"`` or
            ``"BEO Jan 2025"``); by default every row of the series (a year that both give
            takes the later row).

        Returns
        -------
        pandas.Series
            Values [the series' units] indexed by fiscal year [year], sorted.

        Raises
        ------
        InputError
            If the file has no such series.
        """
        rows = self.frame[self.frame["series"] == name]
        if publication is not None:
            rows = rows[rows["publication"] == publication]
        if rows.empty:
            raise unknown_name(f"series in {self.path.name}", name, set(self.frame["series"]))
        values = rows.groupby("fiscal_year")["value"].last()
        return values.sort_index()

    def units(self, name: str) -> str:
        """Return the units of a series, as the file states them."""
        return str(self.frame.loc[self.frame["series"] == name, "units"].iloc[0])


def csv_rows(path: Path, columns: tuple[str, ...]) -> list[list[str]]:
    """Read a shipped data file's rows, after checking that it exists and has the expected shape.

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : tuple of str
        The header it must have; every row must have as many fields.

    Returns
    -------
    list of list of str
        The rows after the header, as text.

    Raises
    ------
    InputError
        If the file is missing, unreadable or not UTF-8, its header differs or a row has another
        number of fields.
    """
    if not path.is_file():
        where = "it ships with debtloops in models/data/"
        if path.parent != DATA_DIR:
            where = "a dataset given with --data needs the shipped file names"
        raise InputError(f"data file {path} is missing; {where}")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = tuple(next(reader, ()))
            if header != columns:
                raise InputError(
                    f"data file {path}: the header is {', '.join(header) or 'empty'}; "
                    f"expected {', '.join(columns)}"
                )
            rows = list(reader)
    except UnicodeDecodeError as error:
        raise InputError(f"data file {path} is not UTF-8 text (byte {error.start})") from None
    except (OSError, csv.Error) as error:
        raise InputError(
            f"cannot read data file {path}: {getattr(error, 'strerror', None) or error}"
        ) from None
    for number, row in enumerate(rows, start=2):
        if len(row) != len(columns):
            raise InputError(
                f"data file {path}, line {number}: {len(row)} fields, expected {len(columns)}"
            )
    return rows


def read_dataset(path: Path, columns: tuple[str, ...]) -> Dataset:
    """Read a data file and check it.

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : tuple of str
        The header it must have.

    Returns
    -------
    Dataset
        The checked rows.

    Raises
    ------
    InputError
        If the file is missing, its header differs, a year or value is not a number, a series has
        more than one unit, or a series gives a year twice (for one publication).
    """
    rows = []
    for number, row in enumerate(csv_rows(path, columns), start=2):
        record: dict[str, object] = dict(zip(columns, row, strict=True))
        try:
            record["fiscal_year"] = int(row[1])
            record["value"] = value = float(row[2])
        except ValueError:
            raise InputError(
                f"data file {path}, line {number}: year '{row[1]}' or value '{row[2]}' "
                "is not a number"
            ) from None
        if not math.isfinite(value):
            raise InputError(f"data file {path}, line {number}: the value is not finite")
        record["line"] = number
        rows.append(record)
    frame = pd.DataFrame(rows, columns=[*columns, "line"])
    units = frame.groupby("series")["units"].nunique()
    if (units > 1).any():
        name = units[units > 1].index[0]
        rows = frame[frame["series"] == name]
        other = rows[rows["units"] != rows["units"].iloc[0]].iloc[0]
        raise InputError(
            f"data file {path}, line {other['line']}: series {name} has two units, "
            f"'{other['units']}' here and '{rows['units'].iloc[0]}' on line {rows['line'].iloc[0]}"
        )
    key = ["series", "fiscal_year"] + (["publication"] if "publication" in columns else [])
    twice = frame.duplicated(key)
    if twice.any():
        first = frame[twice].iloc[0]
        raise InputError(
            f"data file {path}, line {first['line']}: series {first['series']} gives "
            f"FY{first['fiscal_year']} twice"
        )
    return Dataset(path=path, frame=frame)


#: The files of the historical dataset that ``--data DIR`` replaces, by their shipped names;
#: ``debtloops data refresh`` writes a folder of them (:mod:`debtloops.model.refresh`).
DATASET_FILES = (
    HISTORY_FILE.name,
    HISTORY_FILE.with_suffix(".md").name,
    MONTHLY_FILE.name,
    MONTHLY_FILE.with_suffix(".md").name,
    MONTHLY_CATALOGUE.name,
    STRUCTURE_FILE.name,
    STRUCTURE_FILE.with_suffix(".md").name,
)


class _Cached(Protocol):
    def cache_clear(self) -> None: ...


Reader = TypeVar("Reader", bound=_Cached)
#: Cached readers of values computed from the files, forgotten when :func:`use_dataset` moves them.
_DERIVED: list[_Cached] = []


def forgotten_when_moved(reader: Reader) -> Reader:
    """Register a cached reader (``functools.cache``) of values computed from the dataset's files.

    :func:`use_dataset` clears its cache with the files' own readers', so that nothing read from
    the old files outlives them.
    """
    _DERIVED.append(reader)
    return reader


def use_dataset(folder: Path | None) -> None:
    """Read the history, the monthly data and their catalogue from ``folder`` from now on.

    The folder holds files named as the shipped ones (:data:`DATASET_FILES`), as ``debtloops data
    refresh`` writes them. They are read and checked at once, so a bad file stops a command before
    anything runs; CBO's files stay the shipped ones (or ``--cbo``'s).

    Parameters
    ----------
    folder : Path or None
        The dataset's folder; None goes back to the shipped files.

    Raises
    ------
    InputError
        If the folder is missing, a file is missing or fails the readers' checks (naming the file
        and line), or a series of the shipped file is absent from it.
    """
    base = DATA_DIR if folder is None else Path(folder)
    if not base.is_dir():
        raise InputError(
            f"dataset folder {base} is missing; write one with `debtloops data refresh --out DIR`"
        )
    shipped = {
        "history": set(read_dataset(DATA_DIR / HISTORY_FILE.name, HISTORY_COLUMNS).frame["series"]),
        "monthly": {row[0] for row in csv_rows(DATA_DIR / MONTHLY_FILE.name, MONTHLY_COLUMNS)},
    }
    before = HISTORY_FILE.parent
    _point_at(base)
    try:
        found = {
            "history": set(history().frame["series"]),
            "monthly": set(markets_monthly().columns),
        }
        for kind, path in (("history", HISTORY_FILE), ("monthly", MONTHLY_FILE)):
            missing = sorted(shipped[kind] - found[kind])
            if missing:
                raise InputError(f"data file {path} lacks the series {', '.join(missing[:3])}")
        csv_rows(STRUCTURE_FILE, STRUCTURE_COLUMNS)
        for series in found["monthly"]:
            monthly_units(series)
    except BaseException:
        _point_at(before)
        raise


def _point_at(folder: Path) -> None:
    """Take the dataset's files from ``folder`` and forget what was read from the old ones."""
    global HISTORY_FILE, MONTHLY_FILE, MONTHLY_CATALOGUE, STRUCTURE_FILE
    HISTORY_FILE = folder / HISTORY_FILE.name
    MONTHLY_FILE = folder / MONTHLY_FILE.name
    MONTHLY_CATALOGUE = folder / MONTHLY_CATALOGUE.name
    STRUCTURE_FILE = folder / STRUCTURE_FILE.name
    for reader in (history, markets_monthly, markets_monthly_notes, monthly_units, *_DERIVED):
        reader.cache_clear()


@cache
def history() -> Dataset:
    """Return the historical dataset, FY2000-FY2025 (``models/data/history_2000_2025.csv``)."""
    return read_dataset(HISTORY_FILE, HISTORY_COLUMNS)


@cache
def markets_monthly() -> pd.DataFrame:
    """Return the monthly market data (``models/data/markets_monthly.csv``), one column a series.

    Returns
    -------
    pandas.DataFrame
        Values [each series' units, see ``markets_series.csv``] indexed by month
        (``pandas.Period``, monthly); a row marked ``missing`` is NaN.

    Raises
    ------
    InputError
        If the file is missing, its header differs, or a value that is not missing is not a finite
        number.
    """
    path = MONTHLY_FILE
    rows = csv_rows(path, MONTHLY_COLUMNS)
    frame = pd.DataFrame(rows, columns=list(MONTHLY_COLUMNS))
    given = frame["status"] != "missing"
    values = pd.to_numeric(frame["value"].where(given), errors="coerce")
    bad = given & ~values.apply(lambda v: math.isfinite(v) if v == v else False)
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise InputError(f"data file {path}, line {line}: the value is not a finite number")
    try:
        months = pd.PeriodIndex(frame["month"], freq="M")
    except (ValueError, TypeError):
        raise InputError(f"data file {path}: a month is not written YYYY-MM") from None
    frame = frame.assign(value=values, month=months)
    twice = frame.duplicated(["series", "month"])
    if twice.any():
        first = frame[twice].iloc[0]
        raise InputError(f"data file {path}: series {first['series']} gives {first['month']} twice")
    return frame.pivot(index="month", columns="series", values="value")


@cache
def markets_monthly_notes() -> pd.DataFrame:
    """Return the monthly market data's notes, laid out as :func:`markets_monthly`.

    The notes say why a value is missing and flag series breaks (``markets_monthly.md``);
    :func:`markets_monthly` checks the file first.
    """
    months = markets_monthly().index
    frame = pd.read_csv(MONTHLY_FILE, dtype=str, keep_default_na=False)
    frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
    return frame.pivot(index="month", columns="series", values="note").reindex(months)


@cache
def monthly_units(series: str) -> str:
    """Return the units of a monthly series as its catalogue (``markets_series.csv``) states them.

    Raises
    ------
    InputError
        If the catalogue is missing, lacks a ``units`` column or does not list the series.
    """
    if not MONTHLY_CATALOGUE.is_file():
        raise InputError(f"data file {MONTHLY_CATALOGUE} is missing; it ships with debtloops")
    with MONTHLY_CATALOGUE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    units = {row.get("series"): row.get("units") for row in rows}
    if series not in units or not units[series]:
        known = {name for name in units if name is not None}
        raise unknown_name(f"series in {MONTHLY_CATALOGUE.name}", series, known)
    return str(units[series])


def debt_structure() -> pd.DataFrame:
    """Return the debt's structure by fiscal year (``debt_structure_fy.csv``), one row a value.

    Returns
    -------
    pandas.DataFrame
        The file's columns (:data:`STRUCTURE_COLUMNS`), ``value`` as float [each series' units].
    """
    return pd.read_csv(STRUCTURE_FILE, dtype={"value": float})
