"""CBO's vintages: the shipped folders and a user's own, each checked as strictly, and their series.

A vintage is a folder holding ``projections.csv`` (one CBO ten-year Budget and Economic Outlook
and optionally the Long-Term Budget Outlook of the same year), ``projections.md`` (every series'
source) and ``vintage.toml`` (the publications, the last actual fiscal year and the last years
projected: :class:`Vintage`). The shipped ones are the folders of
:data:`~debtloops.model.datafiles.CBO_DIR`; a folder of the same layout elsewhere is a user's
(:func:`vintage`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from debtloops.errors import InputError, closest, unknown_name
from debtloops.limits import read_toml
from debtloops.model import datafiles
from debtloops.model.datafiles import CBO_COLUMNS, FIRST_YEAR, LAST_YEAR, Dataset, read_dataset

#: The files a vintage folder holds.
PROJECTIONS_NAME, SOURCES_NAME, VINTAGE_NAME = "projections.csv", "projections.md", "vintage.toml"
#: The vintage a run uses unless a scenario or ``--cbo`` names another.
DEFAULT_VINTAGE = "2025-01"
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


def list_vintages() -> list[str]:
    """Return the names of the shipped CBO vintages: the folders of ``models/data/cbo/``, sorted."""
    if not datafiles.CBO_DIR.is_dir():
        return []
    return sorted(p.name for p in datafiles.CBO_DIR.iterdir() if (p / VINTAGE_NAME).is_file())


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
    return _checked_vintage(datafiles.CBO_DIR / name, True)


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
    frame = read_dataset(datafiles.CBO_DIR / DEFAULT_VINTAGE / PROJECTIONS_NAME, CBO_COLUMNS).frame
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
    return projections_of(vintage(choice))


@cache
def projections_of(found: Vintage) -> Dataset:
    """Return a checked vintage's ``projections.csv`` (read once per vintage)."""
    return read_dataset(found.projections, CBO_COLUMNS)


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
    return ten_then_long_of(vintage(choice), name)


def ten_then_long_of(found: Vintage, name: str) -> pd.Series:
    """Return :func:`ten_then_long` of a checked vintage."""
    data = projections_of(found)
    ten = data.series(name, found.ten_year_publication)
    long = optional_series(data, name, found.long_term_publication)
    return pd.concat([ten, long[long.index > ten.index.max()]])


def debt_ratio(choice: str | Path = DEFAULT_VINTAGE) -> pd.Series:
    """Return CBO's debt held by the public over the fiscal year's GDP, from the vintage's start.

    The long-term outlook's values, and the ten-year outlook's for the years the long-term one
    lacks (:data:`DEBT_RATIO_SERIES`) [percent of GDP], by fiscal year.
    """
    return debt_ratio_of(vintage(choice))


def debt_ratio_of(found: Vintage) -> pd.Series:
    """Return :func:`debt_ratio` of a checked vintage."""
    data = projections_of(found)
    long = optional_series(data, DEBT_RATIO_SERIES, found.long_term_publication)
    ratio = long.combine_first(optional_series(data, DEBT_RATIO_SERIES, found.ten_year_publication))
    return ratio[ratio.index >= found.start_year]


def optional_series(data: Dataset, name: str, publication: str) -> pd.Series:
    """Return a series of one publication, or an empty one if the vintage does not give it."""
    rows = data.frame[(data.frame["series"] == name) & (data.frame["publication"] == publication)]
    return rows.groupby("fiscal_year")["value"].last().sort_index().astype(float)
