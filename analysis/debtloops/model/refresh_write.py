"""Writing a refreshed dataset into a folder of the shipped layout, all files or none.

The CSV files, their ``.md`` files with a section on the refresh, and the catalogue.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import urllib.parse
from pathlib import Path

from debtloops.io import install_files, prepare_output_folder, scratch_prefix
from debtloops.model import data, datafiles, publishers
from debtloops.model.publishers import FRED_URL
from debtloops.model.refresh_changes import Refresh
from debtloops.model.refresh_sources import MSPD_SOURCE, SOMA_SOURCE, TIC_SOURCE


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
    with (data.DATA_DIR / datafiles.MONTHLY_CATALOGUE.name).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    columns = [header.index(name) for name in COPY_COLUMNS]
    missing = header.index(MISSING_COLUMN)
    published = {SOMA_SOURCE: publishers.SOMA_URL, TIC_SOURCE: publishers.TIC_URL}
    published[MSPD_SOURCE] = publishers.MSPD_URL
    refreshed = {
        c.series: published.get(c.source) or FRED_URL.format(series=c.source)
        for c in result.changes
        if c.file != datafiles.HISTORY_FILE.name and c.source != "derived"
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
            datafiles.HISTORY_FILE.name: result.history,
            datafiles.MONTHLY_FILE.name: result.monthly,
            datafiles.STRUCTURE_FILE.name: result.structure,
            datafiles.MONTHLY_CATALOGUE.name: _catalogue(result),
        }
        for name, rows in tables.items():
            with (scratch / name).open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(rows)
        for csv_name in (
            datafiles.HISTORY_FILE.name,
            datafiles.MONTHLY_FILE.name,
            datafiles.STRUCTURE_FILE.name,
        ):
            md = Path(csv_name).with_suffix(".md").name
            text = (data.DATA_DIR / md).read_text(encoding="utf-8")
            (scratch / md).write_text(text + _markdown(result, csv_name), encoding="utf-8")
        install_files(out, {name: scratch / name for name in data.DATASET_FILES})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [out / name for name in data.DATASET_FILES]
