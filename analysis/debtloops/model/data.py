"""The data the model is anchored to: CBO's projections (one folder a vintage) and the history.

CSV files in ``models/data/`` hold the series, one row per series and fiscal year, each with its
units and source (described in the ``.md`` file beside each):

* ``cbo/VINTAGE/projections.csv``: one CBO *vintage*, a ten-year Budget and Economic Outlook and
  optionally the Long-Term Budget Outlook of the same year: the inputs of the baseline (primary
  deficit, revenue, GDP, rates) and its targets (debt, net interest, the average rate). Its
  ``vintage.toml`` names the publications, the last actual fiscal year (where runs start) and the
  last years projected (:class:`Vintage`); ``projections.md`` gives every series' source. A folder
  of the same layout elsewhere is a user's own vintage, checked as strictly
  (:func:`vintage`);
* ``history_2000_2025.csv``: what happened: debt held by the public, interest, deficits, GDP,
  holdings by holder, yields, the dollar.

This module turns them into parameter values for the model, a *data layer* that a scenario names
with ``data = "cbo"`` (with ``cbo = "VINTAGE"``, or the default vintage) or ``data = "history"``;
``data = "cbo_2025"``, the name before vintages, is the vintage ``2025-01``. No equation of the
model is written here: the conversions are of units and of timing only.

Timing. Fiscal year (FY) t runs from t-1 to t on the model's clock (2025.0 is the end of FY2025).
A flow of FY t becomes a driver that holds its value from t-1 to just before t (a step); a stock
or ratio at the end of FY t is a point at t, interpolated linearly between year ends.

GDP, CBO's way. The model's GDP is an annual rate at each instant; a fiscal year's GDP, as CBO and
the Bureau of Economic Analysis count it, is the integral of that rate over the year (t-1 to t).
:func:`gdp_path` aligns the rate with the data: exponential within each half year, its integral
over every fiscal year is the data's GDP for the year (exactly, to rounding), and among such paths
it is the one whose growth changes least (an area-preserving spline of the log rate), so the rate
at the end of a year lies between that year's GDP and the next's. A flow F_t given as a share s of
that rate adds up over the year to s times FY t's GDP: the share is simply F_t over FY t's GDP, as
CBO states it. A ratio at an instant (``debt to GDP`` in the model: debt over the annual rate)
differs from CBO's (debt at the end of FY t over FY t's GDP) by FY t's GDP over the rate at t:
:func:`instantaneous_ratio` converts the expected debt/GDP with it. After the last year with GDP
in the data (FY2035 for CBO) the growth holds its last value, as every driver does, and CBO's
long-term shares of GDP are shares of that path's fiscal years. The model compounds the path's
growth and averages the rate over each time step exactly (``GDP step mean factor`` in the
``.mdl``), so a run with the feedbacks off adds up each fiscal year's GDP to rounding at any step.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from debtloops.errors import InputError, closest, unknown_name
from debtloops.limits import read_toml
from debtloops.paths import DATA_DIR

#: The shipped CBO vintages, one folder each, and the files a vintage folder holds.
CBO_DIR = DATA_DIR / "cbo"
PROJECTIONS_NAME, SOURCES_NAME, VINTAGE_NAME = "projections.csv", "projections.md", "vintage.toml"
#: The vintage a run uses unless a scenario or ``--cbo`` names another.
DEFAULT_VINTAGE = "2025-01"
#: The data layer names a scenario may give before vintages: each is a CBO vintage.
LEGACY_LAYERS = {"cbo_2025": DEFAULT_VINTAGE}
HISTORY_FILE = DATA_DIR / "history_2000_2025.csv"
MONTHLY_FILE = DATA_DIR / "markets_monthly.csv"
MONTHLY_COLUMNS = ("series", "month", "value", "status", "note")
#: The catalogue of the monthly series: one row each, with its units, publisher and copy.
MONTHLY_CATALOGUE = DATA_DIR / "markets_series.csv"
#: Months in a year; on the model's clock month m of calendar year y starts at
#: y + (m - FISCAL_YEAR_START_MONTH) / MONTHS_PER_YEAR [year] (1 October 2024 is 2024.0).
MONTHS_PER_YEAR = 12
FISCAL_YEAR_START_MONTH = 10
STRUCTURE_FILE = DATA_DIR / "debt_structure_fy.csv"
#: Its columns: one row per series and fiscal year, as in the monthly file.
STRUCTURE_COLUMNS = ("series", "fiscal_year", "value", "status", "note")
#: Shares of nominal notes by original term: 2-3, 5-7 and 10 years, from the amount auctioned a
#: year times maturity at Treasury's 2025 sizes (the parameter table's source for the segment
#: shares); notes by original term are missing from the data, so history splits notes the same way.
NOTE_SPLIT = {
    "short_note_share_of_debt": 0.228,
    "medium_note_share_of_debt": 0.480,
    "ten_year_note_share_of_debt": 0.292,
}
#: Fiscal years over which a run from history averages the funds rate for its starting long-run
#: policy rate, and the ACM term premium for an unanchored term premium [year].
EXPECTATION_WINDOW = 10
CBO_COLUMNS = ("series", "fiscal_year", "value", "units", "publication", "source")
HISTORY_COLUMNS = ("series", "fiscal_year", "value", "units", "basis", "source")
#: The first and last fiscal years of the historical dataset [year].
FIRST_YEAR, LAST_YEAR = 2000, 2025
#: The most digits of a number that a message repeats [characters].
SHOWN_DIGITS = 20
#: The fiscal year whose end is the default vintage's starting point [year]; each vintage gives its
#: own (:attr:`Vintage.start_year`).
CBO_START = 2025
#: A step driver holds FY t's value up to this long before t [year]; much less than a time step.
STEP_EDGE = 1e-6
PERCENT = 100.0
#: The data layers a scenario may name (and the legacy names of :data:`LEGACY_LAYERS`).
LAYERS = ("cbo", "history", *LEGACY_LAYERS)
#: The series the model takes from a vintage's ten-year publication, each for every fiscal year
#: from the start to the end of the ten-year window.
TEN_YEAR_SERIES = (
    "nominal_gdp",
    "debt_held_by_public",
    "net_interest",
    "primary_deficit",
    "revenue",
    "total_deficit",
    "fed_funds_rate_pct",
    "ten_year_yield_pct",
    "bill_rate_3m_pct",
    "gdp_price_index_pct_change",
)
#: The series CBO's debt path comes from: the long-term publication's, the ten-year one's for the
#: years it lacks, for every fiscal year from the start to the last year projected.
DEBT_RATIO_SERIES = "debt_held_by_public_pct_gdp"
#: The series the long-term publication continues year by year after the ten-year window, where
#: it gives them: from the year after the window to its last year, without a gap.
CONTINUED_SERIES = ("nominal_gdp", "ten_year_yield_pct", "gdp_price_index_pct_change")
#: The long-term publication's shares of GDP that extend the drivers after the ten-year window;
#: each optional, any years.
LONG_TERM_SERIES = ("primary_deficit_pct_gdp", "revenue_pct_gdp", "net_interest_pct_gdp")
#: A vintage's name: letters, digits, '.', '_' or '-', as a folder name anywhere.
VINTAGE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: The keys of ``vintage.toml``: required ones with their types, then optional ones.
VINTAGE_KEYS = {
    "name": str,
    "title": str,
    "ten_year_publication": str,
    "start_year": int,
    "ten_year_end": int,
}
OPTIONAL_VINTAGE_KEYS = {"long_term_publication": str, "long_term_end": int}


@dataclass(frozen=True)
class Vintage:
    """One CBO vintage: its folder and what its ``vintage.toml`` says.

    Attributes
    ----------
    name : str
        The vintage's name, e.g. ``"2025-01"`` (the folder's name, for a shipped vintage).
    title : str
        The publications' full titles.
    folder : Path
        The folder holding ``projections.csv``, ``projections.md`` and ``vintage.toml``.
    ten_year_publication : str
        The ``publication`` of the ten-year outlook's rows, e.g. ``"BEO Jan 2025"``.
    long_term_publication : str
        The ``publication`` of the long-term outlook's rows; the ten-year one's if it has none.
    start_year : int
        The last actual fiscal year: runs on this vintage start at its end [year].
    ten_year_end, long_term_end : int
        The last fiscal years of the ten-year window and of the whole projection [year].
    shipped : bool
        Whether it ships in ``models/data/cbo/``.
    """

    name: str
    title: str
    folder: Path
    ten_year_publication: str
    long_term_publication: str
    start_year: int
    ten_year_end: int
    long_term_end: int
    shipped: bool

    @property
    def projections(self) -> Path:
        """The vintage's data file."""
        return self.folder / PROJECTIONS_NAME


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
    for reader in (history, markets_monthly, markets_monthly_notes, monthly_units):
        reader.cache_clear()
    history_gdp_path.cache_clear()
    _history_then_cbo_gdp_path.cache_clear()


def list_vintages() -> list[str]:
    """Return the names of the shipped CBO vintages: the folders of ``models/data/cbo/``, sorted."""
    if not CBO_DIR.is_dir():
        return []
    return sorted(p.name for p in CBO_DIR.iterdir() if (p / VINTAGE_NAME).is_file())


def is_vintage_path(choice: str | Path) -> bool:
    """Whether ``--cbo`` names a folder (a user's own vintage) rather than a shipped vintage."""
    text = str(choice)
    return isinstance(choice, Path) or "/" in text or "\\" in text or text.startswith(".")


def vintage(choice: str | Path = DEFAULT_VINTAGE) -> Vintage:
    """Return a CBO vintage, checked: a shipped one by name or a user's folder by path.

    A user's folder is read as strictly as a shipped one, and only inside itself: its three files
    must be regular files in it (not symbolic links), and it may not lie in the system's device
    trees. Every series and unit is checked (:func:`check_projections`).

    Parameters
    ----------
    choice : str or Path
        A name from :func:`list_vintages`, or the path of a folder holding ``vintage.toml``,
        ``projections.csv`` and ``projections.md``.

    Returns
    -------
    Vintage
        The vintage, its data checked.

    Raises
    ------
    InputError
        If the name is unknown (naming the nearest), or the folder or one of its files is missing
        or wrong: one line naming the file, the row and what would be valid.
    """
    if is_vintage_path(choice):
        return _user_vintage(Path(choice).absolute())
    name = str(choice)
    if name not in list_vintages():
        error = unknown_name("CBO vintage", name, list_vintages())
        raise InputError(f"{error} (shipped: {', '.join(list_vintages())}; or give a folder path)")
    return _checked_vintage(CBO_DIR / name, True)


def _user_vintage(folder: Path) -> Vintage:
    from debtloops.io import DEVICE_TREES

    resolved = folder.resolve()
    if any(resolved.is_relative_to(tree) for tree in DEVICE_TREES):
        raise InputError(f"CBO vintage folder {folder} is inside the system's device folders")
    if not resolved.is_dir():
        raise InputError(
            f"CBO vintage folder {folder} does not exist or is not a folder; give a folder "
            f"holding {VINTAGE_NAME}, {PROJECTIONS_NAME} and {SOURCES_NAME}, or one of "
            f"{', '.join(list_vintages())}"
        )
    return _checked_vintage(resolved, False)


@cache
def _checked_vintage(folder: Path, shipped: bool) -> Vintage:
    for name in (VINTAGE_NAME, PROJECTIONS_NAME, SOURCES_NAME):
        path = folder / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise InputError(
                f"CBO vintage file {path} is a symbolic link or not a regular file; copy the file "
                "into the folder instead"
            )
        if not path.is_file():
            raise InputError(
                f"CBO vintage folder {folder} has no {name}; a vintage folder holds "
                f"{VINTAGE_NAME}, {PROJECTIONS_NAME} and {SOURCES_NAME} (see models/data/cbo/"
                f"{DEFAULT_VINTAGE}/)"
            )
    found = _read_vintage_toml(folder / VINTAGE_NAME, folder, shipped)
    check_projections(found, read_dataset(found.projections, CBO_COLUMNS))
    return found


def _read_vintage_toml(path: Path, folder: Path, shipped: bool) -> Vintage:
    """Read and check a vintage's ``vintage.toml``."""
    where = f"CBO vintage file {path}"
    raw, _, _ = read_toml(path, where)
    allowed = {**VINTAGE_KEYS, **OPTIONAL_VINTAGE_KEYS}
    for key in raw:
        if key not in allowed:
            raise InputError(f"{where}: {unknown_name('key', str(key), allowed)}")
    for key, kind in allowed.items():
        if key not in raw:
            if key in VINTAGE_KEYS:
                raise InputError(f"{where}: the key '{key}' is missing ({kind.__name__})")
            continue
        value = raw[key]
        if not isinstance(value, kind) or isinstance(value, bool) or value == "":
            raise InputError(
                f"{where}: {key} = {value!r} must be a{' non-empty' if kind is str else 'n'} "
                f"{'string' if kind is str else 'integer year'}"
            )
    name = raw["name"]
    if not VINTAGE_PATTERN.fullmatch(name):
        raise InputError(f"{where}: name = {name!r} must be letters, digits, '.', '_' or '-'")
    if shipped and name != folder.name:
        raise InputError(f"{where}: name = {name!r} differs from its folder's name {folder.name}")
    start, ten_end = raw["start_year"], raw["ten_year_end"]
    if not FIRST_YEAR <= start <= LAST_YEAR:
        nearest = min(max(start, FIRST_YEAR), LAST_YEAR)
        raise InputError(
            f"{where}: start_year = {start} is outside the history, FY{FIRST_YEAR}-FY{LAST_YEAR}, "
            f"that a run starts from; nearest valid value: {nearest}"
        )
    if ten_end <= start:
        raise InputError(f"{where}: ten_year_end = {ten_end} is not after start_year = {start}")
    long_end = raw.get("long_term_end", ten_end)
    if long_end < ten_end:
        raise InputError(f"{where}: long_term_end = {long_end} is before ten_year_end = {ten_end}")
    ten_year = raw["ten_year_publication"]
    return Vintage(
        name=name,
        title=raw["title"],
        folder=folder,
        ten_year_publication=ten_year,
        long_term_publication=raw.get("long_term_publication", ten_year),
        start_year=start,
        ten_year_end=ten_end,
        long_term_end=long_end,
        shipped=shipped,
    )


def _shipped_units() -> dict[str, str]:
    """Return the units of every series of the default vintage: a user's vintage must match."""
    frame = read_dataset(CBO_DIR / DEFAULT_VINTAGE / PROJECTIONS_NAME, CBO_COLUMNS).frame
    return dict(zip(frame["series"], frame["units"], strict=True))


def check_projections(found: Vintage, dataset: Dataset) -> None:
    """Check a vintage's projections against its ``vintage.toml`` and the default vintage's units.

    Parameters
    ----------
    found : Vintage
        The vintage.
    dataset : Dataset
        Its ``projections.csv``, read by :func:`read_dataset`.

    Raises
    ------
    InputError
        Naming the file and row where: a publication is neither of the vintage's, a series has
        other units than the default vintage's, a series' years do not increase, or a series the
        model needs is missing or lacks a year (:data:`TEN_YEAR_SERIES`, :data:`DEBT_RATIO_SERIES`).
        The debt at the end of the year before the start, for the initial effective rate, is the
        history's when the vintage does not give it.
    """
    path, frame = found.projections, dataset.frame
    publications = (found.ten_year_publication, found.long_term_publication)
    units = _shipped_units()
    last: dict[tuple[str, str], int] = {}
    for row in frame.itertuples(index=False):
        where = f"CBO vintage file {path}, line {row.line}"
        if row.publication not in publications:
            nearest = ", ".join(closest(row.publication, set(publications)))
            raise InputError(
                f"{where}: publication '{row.publication}' is neither of {VINTAGE_NAME}'s; "
                f"nearest: {nearest}"
            )
        if row.series in units and row.units != units[row.series]:
            raise InputError(
                f"{where}: {row.series} is in '{row.units}'; the model reads it in "
                f"'{units[row.series]}'"
            )
        key = (row.series, row.publication)
        if key in last and row.fiscal_year <= last[key]:
            raise InputError(
                f"{where}: {row.series} FY{row.fiscal_year} follows FY{last[key]}; the years of "
                "a series must increase"
            )
        last[key] = row.fiscal_year
    ten_year = ((found.ten_year_publication,), found.start_year, found.ten_year_end)
    needed: list[tuple[str, tuple[str, ...], int, int]] = [
        (name, *ten_year) for name in TEN_YEAR_SERIES
    ]
    needed.append((DEBT_RATIO_SERIES, publications, found.start_year, found.long_term_end))
    long_term = (found.long_term_publication,)
    for name in CONTINUED_SERIES:  # continued past the ten-year window: no gap after it
        rows = frame[(frame["series"] == name) & frame["publication"].isin(long_term)]
        if found.long_term_publication != found.ten_year_publication and not rows.empty:
            last_year = int(rows["fiscal_year"].max())
            needed.append((name, long_term, found.ten_year_end + 1, last_year))
    for name, given_by, first, end in needed:
        rows = frame[(frame["series"] == name) & frame["publication"].isin(given_by)]
        years = set(rows["fiscal_year"])
        missing = [year for year in range(first, end + 1) if year not in years]
        named = " or ".join(f"'{p}'" for p in dict.fromkeys(given_by))
        if rows.empty:
            raise InputError(
                f"CBO vintage file {path}: no series {name} of {named}; the model needs it "
                f"for FY{first}-FY{end} (see {DEFAULT_VINTAGE}'s {PROJECTIONS_NAME})"
            )
        if missing:
            after = rows[rows["fiscal_year"] < missing[0]]
            line = int(after["line"].iloc[-1] if not after.empty else rows["line"].iloc[0])
            raise InputError(
                f"CBO vintage file {path}, line {line}: series {name} of {named} lacks "
                f"FY{missing[0]}; the model needs every year FY{first}-FY{end}"
            )


def vintage_digest(found: Vintage) -> str:
    """Return the SHA-256 of a vintage's ``projections.csv``, for the results' provenance."""
    return hashlib.sha256(found.projections.read_bytes()).hexdigest()


def cbo(choice: str | Path = DEFAULT_VINTAGE) -> Dataset:
    """Return a CBO vintage's projections (``models/data/cbo/VINTAGE/projections.csv``), checked.

    Parameters
    ----------
    choice : str or Path
        The vintage (see :func:`vintage`); the default vintage by default.
    """
    return _projections(vintage(choice))


@cache
def _projections(found: Vintage) -> Dataset:
    return read_dataset(found.projections, CBO_COLUMNS)


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


def steps(values: pd.Series) -> dict[float, float]:
    """Turn fiscal-year values into a step driver.

    Parameters
    ----------
    values : pandas.Series
        One value per fiscal year [any units], indexed by fiscal year.

    Returns
    -------
    dict
        Year [year] -> value: FY t's value holds from t-1 to ``STEP_EDGE`` before t.
    """
    points: dict[float, float] = {}
    for year, value in values.sort_index().items():
        points[float(year) - 1.0] = float(value)
        points[float(year) - STEP_EDGE] = float(value)
    return points


def year_ends(values: pd.Series) -> dict[float, float]:
    """Turn end-of-fiscal-year values into a driver interpolated between year ends."""
    return {float(year): float(value) for year, value in values.sort_index().items()}


#: The GDP path's growth changes every half year [year]: two rates a fiscal year let the path be
#: smooth and still match each year's GDP exactly (one rate a year cannot: any turn in growth
#: leaves the rate zigzagging from year to year ever after).
HALF_YEAR = 0.5
#: Below this change of log GDP over a half year [1], (e^d - 1) / d is taken from its series.
SMALL_CHANGE = 1e-8
#: The alignment stops when every year's log integral is this close to its data [1], or after
#: ``MAX_NEWTON_STEPS`` steps.
ALIGN_TOLERANCE, MAX_NEWTON_STEPS = 1e-13, 50


def _phi(change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (e^d - 1) / d and its derivative, elementwise, for log changes d [1]."""
    small = np.abs(change) < SMALL_CHANGE
    d = np.where(small, 1.0, change)
    value = np.where(small, 1.0 + change / 2.0, np.expm1(d) / d)
    slope = np.where(small, 0.5 + change / 3.0, (np.exp(d) * d - np.expm1(d)) / d**2)
    return value, slope


def _log_integrals(log_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each year's log integral of a path given at half-year nodes, and its Jacobian.

    The path grows exponentially between nodes; year k is the two half years from node 2k.
    """
    years = (len(log_rate) - 1) // 2
    start, end = log_rate[:-1], log_rate[1:]
    value, slope = _phi(end - start)
    half = HALF_YEAR * np.exp(start) * value  # each half year's integral [billion USD]
    d_end = HALF_YEAR * np.exp(start) * slope
    d_start = half - d_end
    whole = half[0::2] + half[1::2]
    jacobian = np.zeros((years, len(log_rate)))
    rows = np.arange(years)
    for offset, part in ((0, 0), (1, 1)):
        jacobian[rows, 2 * rows + offset] += d_start[part::2]
        jacobian[rows, 2 * rows + offset + 1] += d_end[part::2]
    return np.log(whole), jacobian / whole[:, None]


@dataclass(frozen=True)
class GdpPath:
    """An annual rate of GDP whose integral over each fiscal year is that year's GDP.

    Attributes
    ----------
    nodes : pandas.Series
        The annual rate every half year from the end of the first fiscal year [billion USD/year],
        indexed by time [year]; it grows exponentially between nodes.
    fiscal_years : pandas.Series
        The fiscal years' GDP it was aligned with [billion USD], the first year included.
    """

    nodes: pd.Series
    fiscal_years: pd.Series

    @property
    def rate(self) -> pd.Series:
        """The annual rate at the end of each fiscal year [billion USD/year], by fiscal year."""
        ends = self.nodes[self.nodes.index == np.round(self.nodes.index)]
        return pd.Series(ends.to_numpy(), index=ends.index.astype(int))

    @property
    def growth(self) -> pd.Series:
        """The continuous growth rate over each half year [1/year], by the half year's start."""
        logs = np.log(self.nodes)
        return pd.Series(np.diff(logs.to_numpy()) / HALF_YEAR, index=self.nodes.index[:-1])

    def rate_at(self, times: np.ndarray) -> np.ndarray:
        """Return the annual rate at some times within the path [billion USD/year]."""
        logs = np.log(self.nodes.to_numpy())
        return np.exp(np.interp(times, self.nodes.index.to_numpy(dtype=float), logs))

    def growth_steps(self, first: int, last: int) -> dict[float, float]:
        """Return the growth of FY``first`` to FY``last`` as a step driver [year -> 1/year]."""
        points: dict[float, float] = {}
        for start, value in self.growth.items():
            if first - 1 <= start < last:
                points[float(start)] = float(value)
                points[float(start) + HALF_YEAR - STEP_EDGE] = float(value)
        return points

    def year_over_end_rate(self, year: int) -> float:
        """Return FY``year``'s GDP over the annual rate at its end [1].

        After the path's last year the growth holds its last value: the ratio is (1 - e^-g) / g.
        """
        rate = self.rate
        if year in rate.index:
            return float(self.fiscal_years[year] / rate[year])
        growth = float(self.growth.iloc[-1])
        value, _ = _phi(np.array([-growth]))
        return float(value[0])


def gdp_path(gdp: pd.Series, first: int) -> GdpPath:
    """Align the model's annual rate of GDP with fiscal-year GDP (see the module's docstring).

    Parameters
    ----------
    gdp : pandas.Series
        Fiscal-year GDP [billion USD] by fiscal year, from ``first`` on, without gaps, at least
        two years.
    first : int
        The fiscal year at whose end the path starts [year].

    Returns
    -------
    GdpPath
        The path, exponential over each half year, whose integral over each fiscal year from
        FY``first`` is the year's GDP and whose growth changes least from one half year to the
        next (least squares of the changes, each year's integral held exact by Newton's method):
        an area-preserving spline of the log rate.

    Raises
    ------
    InputError
        If the data are not positive or the alignment does not converge.
    """
    years = gdp[gdp.index >= first].sort_index()
    if (years <= 0).any() or len(years) < 2:
        raise InputError(f"fiscal-year GDP from FY{first} must be positive and span two years")
    target = np.log(years.to_numpy(dtype=float))
    n_nodes = 2 * len(years) + 1
    # Start from the log of each year's GDP at its middle, interpolated between the middles.
    middles = np.arange(len(years)) + HALF_YEAR
    log_rate = np.interp(np.arange(n_nodes) * HALF_YEAR, middles, target)
    second = np.diff(np.eye(n_nodes), n=2, axis=0)  # second differences: changes of growth
    smooth = second.T @ second
    for _ in range(MAX_NEWTON_STEPS):
        value, jacobian = _log_integrals(log_rate)
        if np.max(np.abs(value - target)) < ALIGN_TOLERANCE:
            break
        k = len(target)
        system = np.block([[smooth, jacobian.T], [jacobian, np.zeros((k, k))]])
        rhs = np.concatenate([-smooth @ log_rate, target - value])
        log_rate = log_rate + np.linalg.solve(system, rhs)[:n_nodes]
    else:
        raise InputError(f"fiscal-year GDP from FY{first} could not be matched by a GDP path")
    times = first - 1 + np.arange(n_nodes) * HALF_YEAR
    nodes = pd.Series(np.exp(log_rate), index=times)
    return GdpPath(nodes=nodes[nodes.index >= first], fiscal_years=years)


@cache
def history_gdp_path() -> GdpPath:
    """Return the GDP path aligned with the whole history, FY2000-FY2025 (:func:`gdp_path`).

    Every run from history starts on it and follows it, whatever its start year.
    """
    return gdp_path(history().series("gdp_fy"), FIRST_YEAR)


def ten_then_long(name: str, choice: str | Path = DEFAULT_VINTAGE) -> pd.Series:
    """Return a CBO series from the ten-year outlook, then the long-term outlook's later years.

    Parameters
    ----------
    name : str
        A series of the vintage's ten-year publication (the long-term one may give it too).
    choice : str or Path
        The vintage (:func:`vintage`).

    Returns
    -------
    pandas.Series
        The ten-year outlook's values [the series' units] to their last fiscal year, then the
        long-term outlook's for the fiscal years after it, indexed by fiscal year.
    """
    return _ten_then_long(vintage(choice), name)


def _ten_then_long(found: Vintage, name: str) -> pd.Series:
    data = _projections(found)
    ten = data.series(name, found.ten_year_publication)
    long = _optional(data, name, found.long_term_publication)
    return pd.concat([ten, long[long.index > ten.index.max()]])


def debt_ratio(choice: str | Path = DEFAULT_VINTAGE) -> pd.Series:
    """Return CBO's debt held by the public over the fiscal year's GDP, from the vintage's start.

    The long-term outlook's values, and the ten-year outlook's for the years the long-term one
    lacks (:data:`DEBT_RATIO_SERIES`) [percent of GDP], by fiscal year.
    """
    return _debt_ratio(vintage(choice))


def _debt_ratio(found: Vintage) -> pd.Series:
    data = _projections(found)
    long = _optional(data, DEBT_RATIO_SERIES, found.long_term_publication)
    ratio = long.combine_first(_optional(data, DEBT_RATIO_SERIES, found.ten_year_publication))
    return ratio[ratio.index >= found.start_year]


def history_then_cbo_gdp_path(choice: str | Path = DEFAULT_VINTAGE) -> GdpPath:
    """Return the GDP path aligned with the history to a vintage's start and its GDP after it."""
    return _history_then_cbo_gdp_path(vintage(choice))


@cache
def _history_then_cbo_gdp_path(found: Vintage) -> GdpPath:
    cbo_gdp = _ten_then_long(found, "nominal_gdp")
    past = history().series("gdp_fy")
    start = found.start_year
    return gdp_path(
        pd.concat([past[past.index <= start], cbo_gdp[cbo_gdp.index > start]]), FIRST_YEAR
    )


def instantaneous_ratio(ratio: pd.Series, path: GdpPath) -> pd.Series:
    """Turn end-of-year ratios to fiscal-year GDP (CBO's) into ratios to the annual rate at t [1].

    Parameters
    ----------
    ratio : pandas.Series
        A stock at the end of FY t over FY t's GDP [1], by fiscal year from the path's first.
    path : GdpPath
        The aligned GDP path.

    Returns
    -------
    pandas.Series
        The same stock over the annual rate at t: ``ratio`` times FY t's GDP over the rate at t
        (:meth:`GdpPath.year_over_end_rate`).
    """
    factors = pd.Series({year: path.year_over_end_rate(int(year)) for year in ratio.index})
    return ratio * factors


def flow_shares(flow: pd.Series, gdp: pd.Series) -> pd.Series:
    """Express fiscal-year flows as shares of the aligned GDP rate [1].

    Parameters
    ----------
    flow : pandas.Series
        The flow of each fiscal year [billion USD].
    gdp : pandas.Series
        Fiscal-year GDP [billion USD].

    Returns
    -------
    pandas.Series
        F_t over FY t's GDP, for the years both give: the share of the aligned annual rate that
        adds up to F_t over the year (see :func:`gdp_path`).
    """
    return (flow / gdp).dropna()


def _continuous(percent: float) -> float:
    """Turn a yearly growth rate in percent into a continuous rate [1/year]."""
    return math.log1p(percent / PERCENT)


def _span(values: pd.Series, first: int, last: int) -> pd.Series:
    return values[(values.index >= first) & (values.index <= last)]


def cbo_layer(choice: str | Path = DEFAULT_VINTAGE) -> dict[str, object]:
    """Parameter values that make the model run a CBO vintage's baseline from its start year.

    The years below are the default vintage's (``2025-01``: its start FY2025, its ten-year window
    to FY2035 and the long-term outlook to FY2055); another vintage has its own
    (:class:`Vintage`). The drivers take CBO's paths for FY2026-FY2055 where CBO publishes them:
    the ten-year outlook's to FY2035, then the LTBO's year by year (the primary deficit, revenue,
    other means of financing, GDP, the 10-year yield, inflation and the expected interest burden).
    CBO's long-term outlook publishes no bill or federal funds rate, so those two hold their FY2035
    values. GDP is aligned CBO's way (:func:`gdp_path`): its annual rate starts at the end of
    FY2025 between CBO's FY2025 and FY2026 GDP, and its integral over each of FY2026-FY2055 is
    CBO's GDP for the year; after FY2055 it grows at FY2055's rate. The initial
    debt is CBO's for the end of FY2025, and the initial effective rate is CBO's FY2025 net
    interest over the mean of the debt at the ends of FY2024 and FY2025. CBO's debt/GDP, the
    expected path, is turned into debt over the annual rate at each year's end
    (:func:`instantaneous_ratio`), the ratio the model compares it with.

    Parameters
    ----------
    choice : str or Path
        The vintage (:func:`vintage`).

    Returns
    -------
    dict
        ``initial_time`` and ``final_time`` (the vintage's start and last year projected) [year]
        and parameter name -> number or year -> value series, in the model's units.
    """
    found = vintage(choice)
    data = _projections(found)
    beo, ltbo, start = found.ten_year_publication, found.long_term_publication, found.start_year
    gdp = data.series("nominal_gdp", beo)
    debt = data.series("debt_held_by_public", beo)
    interest = data.series("net_interest", beo)
    primary = data.series("primary_deficit", beo)
    revenue = data.series("revenue", beo)
    funds = data.series("fed_funds_rate_pct", beo) / PERCENT
    other = (debt - debt.shift(1)) - data.series("total_deficit", beo)
    years = (start + 1, int(gdp.index.max()))
    path = gdp_path(_ten_then_long(found, "nominal_gdp"), start)
    whole = (start + 1, int(path.rate.index.max()))
    long_other = _optional(data, "other_means_of_financing_pct_gdp", ltbo) / PERCENT
    long_primary, long_revenue, long_interest = (
        _optional(data, name, ltbo) / PERCENT for name in LONG_TERM_SERIES
    )
    primary_share = _span(flow_shares(primary, gdp), *years)
    revenue_share = _span(flow_shares(revenue, gdp), *years)
    burden = _span(interest / revenue, start, years[1])
    later = long_primary.index[long_primary.index > years[1]]
    # After the ten-year window: the LTBO's figures are shares of the year's GDP, and so are the
    # drivers (the aligned path's fiscal years).
    primary_share = pd.concat([primary_share, long_primary[later]])
    revenue_share = pd.concat([revenue_share, long_revenue[long_revenue.index > years[1]]])
    long_burden = long_interest / long_revenue.reindex(long_interest.index)
    burden = pd.concat([burden, long_burden[long_burden.index > years[1]].dropna()])
    burden = burden.astype(float)
    other_share = _span(flow_shares(other, gdp), *years)
    other_share = pd.concat([other_share, long_other[long_other.index > years[1]]])
    return {
        "initial_time": float(start),
        "final_time": float(found.long_term_end),
        "initial_debt_held_by_public": float(debt[start]),
        "initial_nominal_gdp": float(path.rate[start]),
        "initial_effective_interest_rate": float(
            interest[start] / ((debt[start] + _debt_before(debt, start)) / 2)
        ),
        "primary_deficit_share_of_gdp": steps(primary_share),
        "revenue_share_of_gdp": steps(revenue_share),
        "other_means_of_financing_share_of_gdp": steps(other_share),
        "nominal_gdp_growth_path": path.growth_steps(*whole),
        "fed_policy_rate_path": steps(_span(funds, *years)),
        "bill_spread": steps(_span(data.series("bill_rate_3m_pct", beo) / PERCENT - funds, *years)),
        "expected_long_yield": steps(
            _span(_ten_then_long(found, "ten_year_yield_pct") / PERCENT, *whole)
        ),
        "expected_inflation": steps(
            _span(_ten_then_long(found, "gdp_price_index_pct_change").apply(_continuous), *whole)
        ),
        "expected_debt_to_gdp": year_ends(instantaneous_ratio(_debt_ratio(found) / PERCENT, path)),
        "expected_interest_to_revenue": year_ends(burden),
    }


def _debt_before(debt: pd.Series, start: int) -> float:
    """Return the debt at the end of FY``start - 1`` [billion USD]: CBO's, else the history's."""
    if start - 1 in debt.index:
        return float(debt[start - 1])
    past = history().series("debt_held_by_public")
    if start - 1 not in past.index:
        raise InputError(f"neither the CBO vintage nor the history gives the debt of FY{start - 1}")
    return float(past[start - 1])


def _optional(data: Dataset, name: str, publication: str) -> pd.Series:
    """Return a series of one publication, or an empty one if the vintage does not give it."""
    rows = data.frame[(data.frame["series"] == name) & (data.frame["publication"] == publication)]
    return rows.groupby("fiscal_year")["value"].last().sort_index().astype(float)


def initial_state(year: int) -> dict[str, float]:
    """Return the model's initial state at the end of a fiscal year, from the historical dataset.

    Parameters
    ----------
    year : int
        A fiscal year from FY2000 to FY2025 [year].

    Returns
    -------
    dict
        The ``initial_*`` parameters, the bill share and the dollar index, in the model's units.
        GDP is the annual rate at the end of the year on the path aligned with the history's
        fiscal-year GDP (:func:`gdp_path`). Holdings are TIC's September values (foreign) and the
        Fed's at the end of the fiscal year; whatever the debt exceeds them by is domestic private
        holdings, by the model's definition.

    Raises
    ------
    InputError
        If the year is outside the dataset.
    """
    _check_year(year, "start year")
    data = history()

    def at(name: str) -> float:
        values = data.series(name)
        if year not in values.index:
            raise InputError(f"the historical dataset has no {name} for FY{year}")
        return float(values[year])

    # The Treasury's statement copy starts in January 2001: FY2000 keeps the table's bill share.
    shares = data.series("bill_share_marketable")
    bill_share = (
        {"bill_share_of_debt": at("bill_share_marketable") / PERCENT} if year in shares else {}
    )
    return {
        "initial_debt_held_by_public": at("debt_held_by_public"),
        "initial_nominal_gdp": float(history_gdp_path().rate[year]),
        "initial_japan_holdings": at("japan_holdings"),
        "initial_china_holdings": at("china_holdings"),
        "initial_total_foreign_holdings": at("foreign_holdings_total"),
        "initial_fed_holdings": at("fed_treasury_holdings"),
        "initial_effective_interest_rate": at("avg_rate_on_dhp") / PERCENT,
        "initial_dollar_index": at("dollar_broad_spliced_sep"),
        **bill_share,
    }


def _check_year(year: float, what: str) -> None:
    # Compared before any conversion: an integer of 400 digits does not fit in a float.
    inside = FIRST_YEAR <= year <= LAST_YEAR
    if not inside or not float(year).is_integer():
        nearest = LAST_YEAR if year > LAST_YEAR else FIRST_YEAR if not inside else round(year)
        shown = f"{year:g}" if inside else "outside the data" if year != year else f"{year}"
        shown = shown if len(shown) <= SHOWN_DIGITS else f"{shown[:SHOWN_DIGITS]}..."
        raise InputError(
            f"{what} {shown} is not a fiscal year of the historical dataset "
            f"(FY{FIRST_YEAR}-FY{LAST_YEAR}); nearest valid value: {nearest}"
        )


def history_layer(start: int, end: int = LAST_YEAR) -> dict[str, object]:
    """Parameter values that replay history from the end of FY``start`` to the end of FY``end``.

    The drivers are what happened in FY``start``+1 to FY``end``: the primary deficit, revenue and
    other means of financing as shares of GDP, GDP growth, the federal funds rate, the 10-year
    yield's spread over it, net purchases by Japan, China, other foreign holders and the Fed, and
    debt/GDP and interest/revenue as the path markets saw. The foreign holders' net purchases are
    their net transactions: the change in TIC's holdings (at market value) less its valuation
    change and survey revisions. The model's foreign holdings therefore start at TIC's and then
    move by transactions only (at cost, roughly); the debt they do not hold is domestic private.
    GDP is aligned with the history's fiscal-year GDP (:func:`gdp_path`), and debt/GDP is turned
    into debt over its annual rate (:func:`instantaneous_ratio`).

    Parameters
    ----------
    start, end : int
        First and last fiscal years [year]; ``start`` < ``end``.

    Returns
    -------
    dict
        Parameter name -> number or year -> value series, in the model's units.
    """
    _check_year(start, "start year")
    _check_year(end, "end year")
    if end <= start:
        raise InputError(f"end year {end} is not after the start year {start}")
    data = history()
    years = (start + 1, end)
    gdp = data.series("gdp_fy")
    debt = data.series("debt_held_by_public")
    revenue = data.series("revenue")
    # Sales and purchases are net transactions, not changes in TIC's market values: a price fall
    # is not a sale (markets_monthly.md, "Net transactions and valuation changes").
    japan, china = data.series("japan_net_transactions"), data.series("china_net_transactions")
    others = data.series("foreign_net_transactions_total") - japan - china
    funds = data.series("fedfunds_fy_avg") / PERCENT
    ten_year = data.series("gs10_fy_avg") / PERCENT
    path = history_gdp_path()
    layer: dict[str, object] = {
        **initial_state(start),
        "initial_time": float(start),
        "final_time": float(end),
        "primary_deficit_share_of_gdp": steps(
            _span(flow_shares(data.series("primary_deficit"), gdp), *years)
        ),
        "revenue_share_of_gdp": steps(_span(flow_shares(revenue, gdp), *years)),
        "other_means_of_financing_share_of_gdp": steps(
            _span(flow_shares(data.series("other_means_of_financing"), gdp), *years)
        ),
        "nominal_gdp_growth_path": path.growth_steps(*years),
        "fed_policy_rate_path": steps(_span(funds, *years)),
        "bill_spread": steps(_span(data.series("tb3m_fy_avg") / PERCENT - funds, *years)),
        "expected_long_yield": steps(_span(ten_year, *years)),
        "cpi_inflation_path": steps(_span(cpi_inflation(), *years)),
        **_start_year_rates(start),
        **start_year_coupons(start),
        **{name: steps(_span(values, *years)) for name, values in observed_yields().items()},
        "initial_long_run_policy_rate": window_mean(funds, start),
        **segment_shares(start, end),
        "japan_baseline_net_purchases": steps(_span(japan, *years)),
        "china_baseline_net_purchases": steps(_span(china, *years)),
        "other_foreign_purchase_share": steps(_span(flow_shares(others, gdp), *years)),
        "fed_baseline_net_purchases": steps(
            _span(data.series("fed_treasury_holdings").diff(), *years)
        ),
        "expected_debt_to_gdp": year_ends(instantaneous_ratio(_span(debt / gdp, start, end), path)),
        "expected_interest_to_revenue": year_ends(
            _span(data.series("net_interest") / revenue, start, end)
        ),
    }
    return layer


def _start_year_rates(start: int) -> dict[str, float]:
    """Return the start year's bill rate and CPI inflation, which the debt outstanding then carried.

    The monthly data start in January 2000, so FY2000 has neither: the table's defaults stand.
    """
    rates = {
        "initial_cpi_inflation": cpi_inflation(),
        "initial_bill_rate": observed_yields()["observed_bill_yield"],
    }
    return {name: float(values[start]) for name, values in rates.items() if start in values.index}


#: Treasury's average interest rates on the marketable securities outstanding at the end of
#: September [percent a year], in the historical dataset: the whole, bills, notes, bonds and TIPS.
SEPTEMBER_RATES = {
    "total": "avg_rate_marketable_sep",
    "bills": "avg_rate_bills_sep",
    "notes": "avg_rate_notes_sep",
    "bonds": "avg_rate_bonds_sep",
    "tips": "avg_rate_tips_sep",
}


def start_year_coupons(start: int) -> dict[str, float]:
    """Return the coupons the debt outstanding carried at the end of FY``start``, from Treasury.

    The interest bill at the start is the start year's net interest moved from the year's average
    to its end: net interest times the interest Treasury's average rates imply at the end of
    September over what they imply on average over the year (the mean of the two Septembers'
    rates times marketable debt held by the public, each at its date, plus TIPS' inflation
    compensation at the year's CPI inflation). Bills and TIPS start at Treasury's September
    rates, the bonds at the notes' coupon plus Treasury's September spread of bonds over notes;
    the model leaves the rest of the bill to the notes.

    Parameters
    ----------
    start : int
        The start year [year].

    Returns
    -------
    dict
        ``initial_effective_interest_rate``, ``initial_bill_rate``, ``initial_tips_real_coupon``
        and ``initial_bond_coupon_spread`` [1/year]; empty if the data lack a September of
        FY``start`` - 1 or FY``start`` (the run keeps the year's average rate and the table's
        coupons).
    """
    data = history()
    rates = {key: data.series(name) / PERCENT for key, name in SEPTEMBER_RATES.items()}
    marketable = data.series("marketable_debt_held_by_public")
    years = (start - 1, start)
    needed = [*rates.values(), marketable]
    if not all(year in values.index for values in needed for year in years):
        return {}
    structure = pd.read_csv(STRUCTURE_FILE, dtype={"value": float})
    tips_share = (
        structure[structure["series"] == "tips_share_of_marketable"]
        .set_index("fiscal_year")["value"]
        .reindex(list(years))
        / PERCENT
    )
    inflation = float(cpi_inflation()[start])
    tips = {year: float(tips_share[year]) * float(marketable[year]) for year in years}
    at_end = float(rates["total"][start] * marketable[start]) + tips[start] * inflation
    on_average = (
        sum(float(rates["total"][year] * marketable[year]) for year in years) / len(years)
        + sum(tips.values()) / len(years) * inflation
    )
    interest = float(data.series("net_interest")[start]) * at_end / on_average
    return {
        "initial_effective_interest_rate": interest
        / float(data.series("debt_held_by_public")[start]),
        "initial_bill_rate": float(rates["bills"][start]),
        "initial_tips_real_coupon": float(rates["tips"][start]),
        "initial_bond_coupon_spread": float(rates["bonds"][start] - rates["notes"][start]),
    }


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


def fiscal_year_end(year: int) -> pd.Period:
    """Return the first month after fiscal year ``year`` (October of ``year``)."""
    return pd.Period(year=year, month=FISCAL_YEAR_START_MONTH, freq="M")


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


def segment_shares(start: int, end: int) -> dict[str, dict[float, float]]:
    """Return the debt's composition at each fiscal year's end as the six segments' target shares.

    From Treasury's Monthly Statement of the Public Debt, Table I (``debt_structure_fy.csv``):
    bills with floating-rate notes, nominal notes split by :data:`NOTE_SPLIT`, nominal bonds and
    TIPS, each as a share of marketable debt outstanding [1].

    Parameters
    ----------
    start, end : int
        First and last fiscal years [year]; years the statement copy lacks are left out.

    Returns
    -------
    dict
        Parameter name -> year-end driver.
    """
    frame = pd.read_csv(STRUCTURE_FILE, dtype={"value": float})
    table = frame.pivot(index="fiscal_year", columns="series", values="value").fillna(
        {"frn_share_of_marketable": 0.0}
    )
    table = table.loc[(table.index >= start) & (table.index <= end)] / PERCENT
    notes = table["notes_share_of_marketable"]
    shares = {
        "bill_share_of_debt": table["bills_share_of_marketable"] + table["frn_share_of_marketable"],
        **{name: notes * weight for name, weight in NOTE_SPLIT.items()},
        "long_bond_share_of_debt": table["bonds_share_of_marketable"],
        "tips_share_of_debt": table["tips_share_of_marketable"],
    }
    return {name: year_ends(values.dropna()) for name, values in shares.items()}


#: Drivers that only the history gives; after FY2025 they return to the table's default.
HISTORY_ONLY = (
    "japan_baseline_net_purchases",
    "china_baseline_net_purchases",
    "other_foreign_purchase_share",
    "fed_baseline_net_purchases",
)


def history_then_cbo(
    start: int, defaults: Mapping[str, float], choice: str | Path = DEFAULT_VINTAGE
) -> dict[str, object]:
    """Parameter values that replay history from FY``start`` to a vintage's start, then follow CBO.

    The years below are the default vintage's, which starts at the end of FY2025.

    Parameters
    ----------
    start : int
        The first fiscal year [year], before the vintage's start.
    defaults : mapping
        The parameter table's default values: the drivers that only the history gives return to
        them after FY2025.
    choice : str or Path
        The vintage (:func:`vintage`).

    Returns
    -------
    dict
        The historical initial state and, for each driver, the history's steps up to the end of
        FY2025 followed by CBO's; the expected path is the actual one, then CBO's. GDP is aligned
        with the history's fiscal years to FY2025 and CBO's after, as one path from the start
        (:func:`gdp_path`), and the expected debt/GDP is converted along it.
    """
    found = vintage(choice)
    cbo_start = found.start_year
    if start >= cbo_start:
        raise InputError(
            f"start year {start} is not before CBO vintage {found.name}'s start, FY{cbo_start}; "
            f"nearest valid value: {cbo_start - 1}"
        )
    past_layer = history_layer(start, cbo_start)
    projected = cbo_layer(choice)
    actual = history()
    path = history_then_cbo_gdp_path(choice)
    debt_ratio = actual.series("debt_held_by_public") / actual.series("gdp_fy")
    projected_ratio = _debt_ratio(found)
    debt_ratio = pd.concat(
        [
            _span(debt_ratio, start, cbo_start - 1),
            projected_ratio[projected_ratio.index >= cbo_start] / PERCENT,
        ]
    )
    layer: dict[str, object] = {
        name: value for name, value in past_layer.items() if name not in ("final_time",)
    }
    layer["final_time"] = projected["final_time"]
    for name, series in projected.items():
        if isinstance(series, dict):
            past = past_layer.get(name, {})
            assert isinstance(past, dict)
            layer[name] = {**past, **{year: v for year, v in series.items() if year >= cbo_start}}
    for name in HISTORY_ONLY:
        past = past_layer[name]
        assert isinstance(past, dict)
        layer[name] = {**past, float(cbo_start): float(defaults[name])}
    layer["initial_nominal_gdp"] = float(path.rate[start])
    layer["nominal_gdp_growth_path"] = path.growth_steps(start + 1, int(path.rate.index.max()))
    layer["expected_debt_to_gdp"] = year_ends(instantaneous_ratio(debt_ratio, path))
    return layer


def layer(
    name: str,
    initial_time: float | None = None,
    defaults: Mapping[str, float] | None = None,
    cbo_vintage: str | Path | None = None,
) -> Mapping[str, object]:
    """Return a named data layer.

    Parameters
    ----------
    name : str
        ``"cbo"``: a CBO vintage's baseline, replayed from history when the run starts before the
        vintage's start (see :func:`history_then_cbo`); ``"cbo_2025"``: the same on the vintage
        ``2025-01`` (:data:`LEGACY_LAYERS`); or ``"history"``: history from the start to FY2025.
    initial_time : float, optional
        The start year [year]; the vintage's start (for ``history``: FY2025) by default.
    defaults : mapping, optional
        The parameter table's defaults, needed when a CBO layer starts before the vintage's start.
    cbo_vintage : str or Path, optional
        The vintage of a CBO layer (:func:`vintage`): by default ``cbo_2025``'s, or the default
        vintage.

    Returns
    -------
    mapping
        Parameter name -> value.
    """
    if name in ("cbo", *LEGACY_LAYERS):
        choice = cbo_vintage or LEGACY_LAYERS.get(name, DEFAULT_VINTAGE)
        start = vintage(choice).start_year
        if initial_time is None or initial_time == start:
            return cbo_layer(choice)
        return history_then_cbo(int(initial_time), defaults or {}, choice)
    if name == "history":
        return history_layer(int(LAST_YEAR if initial_time is None else initial_time))
    raise unknown_name("data layer", name, LAYERS)
