"""The sweep store: one chunked zarr store per sweep, ``DIR/sweep.zarr``, and its schema.

:func:`create` lays the whole store out before any sample runs, with its full shape; each chunk of
samples is then written into its own region by :func:`write_chunk`, from whichever process ran it,
so a sweep is never assembled in memory; :func:`open_sweep` reads it back lazily (dask-backed
xarray). The layout:

- dimensions ``scenario`` x ``sample`` x ``time`` (``scenario`` always present, in the
  specification's order), and ``chunk``;
- one coordinate on ``sample`` per sampled input, named as in the parameter table, with its units
  and the .mdl's description as ``long_name``;
- each outcome of the specification named as in ``debtloops run``, float64, with units and long
  names, and ``extra_interest`` [billion USD], interest paid since the start less the baseline's
  for the same sample;
- ``error`` (``scenario`` x ``sample``, text): empty for a sample that ran, else why it failed (an
  exception, a NaN, a negative stock); a failed sample's outcomes are NaN;
- ``chunk_done`` (``chunk``): set once a chunk's samples are all written. **A sweep is complete
  when every chunk is done**; :func:`open_sweep` refuses an incomplete store unless asked. zarr
  writes each of its files under a temporary name and renames it into place, and the store itself
  is laid out in a scratch folder renamed into place, so a killed sweep leaves whole files: a chunk
  not marked done is simply run again;
- ``chunk_checksum`` (``chunk``, text): written after a chunk's data and before its done flag, a
  JSON record of the SHA-256 of each zarr chunk file the chunk wrote (zarr 3 keys such as
  ``debt_to_gdp/c/0/3/1``: scenario, sample and time chunk), ``null`` for a file zarr left out
  because it held only fill values. Both arrays have one zarr chunk per sweep chunk, so workers
  writing at once never share a file. The attribute ``layout_sha256`` records the same for every
  file :func:`create` laid out (each array's metadata, the coordinates), and ``spec_path`` the
  specification's path. :func:`verify` checks a store against these records;
- consolidated metadata: the root's ``zarr.json`` (outside the records, as it holds the
  attributes) also holds a copy of every array's metadata, so ``xr.open_zarr`` opens the store
  without a warning; debtloops itself reads the arrays' own, checked metadata;
- attributes: the design as written by :meth:`debtloops.sweeps.design.Design.to_attrs` (the spec's
  text and a JSON record of the checked specification and layout), the chunk size, the git commit
  and package versions.

Outcomes are stored in zarr chunks of one sweep chunk of samples by :data:`TIME_CHUNK` saved times,
so a reader wanting every sample at a few times (percentiles) reads each file once.
"""

from __future__ import annotations

import json
import shlex
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from debtloops.errors import InputError
from debtloops.io import atomic_folder
from debtloops.sweeps.design import Design
from debtloops.sweeps.zarr_files import chunk_files, open_arrays, read_item, sha256

STORE_NAME = "sweep.zarr"
ERROR = "error"
DONE = "chunk_done"
CHECKSUM = "chunk_checksum"
#: Group attribute: JSON ``{"files": {key: sha256}, "chunked": [array names]}`` of the layout.
LAYOUT_ATTR = "layout_sha256"
#: Group attribute: the absolute path of the specification the sweep was started from.
SPEC_PATH_ATTR = "spec_path"
#: The group's own metadata file, which holds the attributes and so is not in the layout record.
METADATA = "zarr.json"
EXTRA_INTEREST = "extra_interest"
CHUNK_SIZE_ATTR = "chunk_size"
#: Saved times per zarr chunk of an outcome.
TIME_CHUNK = 16
#: Text as the store keeps it: numpy's variable-length strings (zarr's ``string`` type).
TEXT = np.dtypes.StringDType()
#: zarr's ``consolidated`` option on every write and read. debtloops reads each array's own
#: metadata, the files the layout record checks; the consolidated copy in the root's metadata
#: (:func:`create`) is for other readers (``xr.open_zarr`` without options), and zarr 3 has no
#: standard for it yet.
_CONSOLIDATED = False
#: The warning zarr 3 gives on consolidating metadata, which is not in its format's standard.
_CONSOLIDATION_WARNING = "Consolidated metadata is currently not part in the Zarr format 3"


def store_path(out_dir: Path) -> Path:
    """Return the store of the sweep whose output folder is ``out_dir``."""
    return Path(out_dir) / STORE_NAME


def n_chunks(n_samples: int, chunk_size: int) -> int:
    """Return the number of chunks of ``chunk_size`` samples covering ``n_samples`` [1]."""
    return -(-n_samples // chunk_size)


def create(
    path: Path,
    design: Design,
    times: np.ndarray,
    variables: Mapping[str, Mapping[str, str]],
    chunk_size: int,
    inputs: Mapping[str, Mapping[str, str]] | None = None,
    attrs: Mapping[str, object] | None = None,
) -> None:
    """Lay out an empty store with its full shape; no outcome is written yet.

    The store is built under a temporary name and renamed into place, so ``path`` either does not
    exist or is a whole empty store. Hold the output folder's lock.

    Parameters
    ----------
    path : Path
        The store to create (``DIR/sweep.zarr``); it must not exist.
    design : Design
        The sweep's design; it becomes the attributes and the input coordinates.
    times : numpy.ndarray
        The saved times of every run [year].
    variables : mapping of str to mapping
        The outcome variables in order, each with its ``units`` and ``long_name``.
    chunk_size : int
        Samples per chunk, the unit of writing and of resuming.
    inputs : mapping of str to mapping, optional
        Attributes (``units``, ``long_name``) of each input coordinate.
    attrs : mapping, optional
        Further attributes (provenance).
    """
    dataset = _layout(design, times, variables, chunk_size, inputs or {})
    dataset.attrs.update(attrs or {})
    chunked = [str(name) for name in dataset.data_vars if "sample" in dataset[name].dims]
    # Owned whole, since chunks are rewritten in place; the root's metadata, written here once,
    # pins it.
    with atomic_folder(Path(path), keystone=METADATA) as scratch:
        dataset.to_zarr(scratch, mode="w", compute=False, consolidated=_CONSOLIDATED)
        files = {
            file.relative_to(scratch).as_posix(): sha256(file)
            for file in sorted(scratch.rglob("*"))
            if file.is_file() and file != scratch / METADATA
        }
        group = zarr.open_group(scratch, mode="r+")
        group.attrs[LAYOUT_ATTR] = json.dumps({"files": files, "chunked": chunked})
        # A copy of every array's metadata in the root's, which the layout record leaves out, so
        # that ``xr.open_zarr`` finds it without a warning; no array's shape changes after this.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_CONSOLIDATION_WARNING)
            zarr.consolidate_metadata(scratch)


def _layout(
    design: Design,
    times: np.ndarray,
    variables: Mapping[str, Mapping[str, str]],
    chunk_size: int,
    inputs: Mapping[str, Mapping[str, str]],
) -> xr.Dataset:
    """Return the empty store as a lazy Dataset: every array full of fill values, chunked."""
    scenarios = np.asarray(design.spec.scenarios, dtype=TEXT)
    n_scenarios, n_samples, n_times = len(scenarios), design.n_samples, len(times)
    sample_chunk = min(chunk_size, max(1, n_samples))
    time_chunk = min(TIME_CHUNK, max(1, n_times))
    shape = (n_scenarios, n_samples, n_times)
    data = {
        name: xr.Variable(
            ("scenario", "sample", "time"),
            da.full(shape, np.nan, chunks=(n_scenarios, sample_chunk, time_chunk)),
            attrs=dict(info),
        )
        for name, info in variables.items()
    }
    data[ERROR] = xr.Variable(
        ("scenario", "sample"),
        da.full(shape[:2], "", dtype=TEXT, chunks=(n_scenarios, sample_chunk)),
        attrs={"long_name": "Why the sample failed; empty if it ran."},
    )
    data[DONE] = xr.Variable(
        ("chunk",),
        da.zeros(n_chunks(n_samples, chunk_size), dtype=bool, chunks=1),
        attrs={"long_name": "True once every sample of the chunk is written."},
    )
    data[CHECKSUM] = xr.Variable(
        ("chunk",),
        da.full(n_chunks(n_samples, chunk_size), "", dtype=TEXT, chunks=1),
        attrs={"long_name": "SHA-256 of each zarr chunk file the chunk wrote (JSON)."},
    )
    coords: dict[str, object] = {
        "scenario": scenarios,
        "sample": np.arange(n_samples),
        "time": xr.Variable("time", np.asarray(times, dtype=np.float64), {"units": "year"}),
    }
    for j, name in enumerate(design.names):
        coords[name] = xr.Variable("sample", design.values[:, j], attrs=dict(inputs.get(name, {})))
    dataset = xr.Dataset(data, coords=coords)
    dataset.attrs = {
        "title": f"debtloops sweep: {design.spec.name}",
        **design.to_attrs(),
        CHUNK_SIZE_ATTR: int(chunk_size),
    }
    return dataset


def write_chunk(
    path: Path,
    index: int,
    start: int,
    outcomes: Mapping[str, np.ndarray],
    errors: Sequence[Sequence[str]],
) -> None:
    """Write one chunk's samples, then its checksum record, then mark the chunk done.

    The record holds the SHA-256 of each zarr file the samples went to, read back from disk.

    Parameters
    ----------
    path : Path
        The store.
    index : int
        The chunk's number, from 0.
    start : int
        The chunk's first sample.
    outcomes : mapping of str to numpy.ndarray
        Every outcome variable of the store, shape ``(scenario, samples, time)`` [its units].
    errors : sequence of sequence of str
        Per scenario and sample, why the sample failed ("" if it ran).
    """
    message = np.asarray(errors, dtype=TEXT)
    stop = start + message.shape[1]
    region = xr.Dataset(
        {
            **{name: (("scenario", "sample", "time"), values) for name, values in outcomes.items()},
            ERROR: (("scenario", "sample"), message),
        }
    )
    region.to_zarr(
        path,
        region={"scenario": slice(None), "sample": slice(start, stop), "time": slice(None)},
        consolidated=_CONSOLIDATED,
    )
    path = Path(path)
    arrays = open_arrays(path, [str(name) for name in region])
    record = {key: sha256(path / key) for key in chunk_files(arrays, start)}
    _mark(path, index, True, json.dumps(record))


def _mark(path: Path, index: int, done: bool, record: str) -> None:
    """Write chunk ``index``'s checksum record, then its done flag (each its own zarr file)."""
    where = {"chunk": slice(index, index + 1)}
    checksum = xr.Dataset({CHECKSUM: (("chunk",), np.array([record], dtype=TEXT))})
    checksum.to_zarr(path, region=where, consolidated=_CONSOLIDATED)
    flag = xr.Dataset({DONE: (("chunk",), np.array([done]))})
    flag.to_zarr(path, region=where, consolidated=_CONSOLIDATED)


def done_chunks(path: Path) -> np.ndarray:
    """Return which chunks of a store are written (bool per chunk); empty if there is no store.

    A flag that cannot be read counts as not done.
    """
    try:
        flags = zarr.open_array(Path(path) / DONE, mode="r")
    except Exception:  # noqa: BLE001 - no store, or its flags' metadata is gone or damaged
        return np.zeros(0, dtype=bool)
    return np.array([read_item(flags, i) is True for i in range(flags.shape[0])], dtype=bool)


@dataclass(frozen=True)
class Damage:
    """A part of a sweep store that does not match the store's record of it.

    Attributes
    ----------
    chunks : range
        The sweep chunks affected; empty if the store's own metadata cannot be read.
    samples : range
        The samples those chunks hold.
    what : str
        What is wrong, in a few words.
    layout : bool
        True if the damage is in what :func:`create` laid out (an array's metadata, a
        coordinate): the store must be laid out again and every chunk run.
    """

    chunks: range
    samples: range
    what: str
    layout: bool = False

    def __str__(self) -> str:
        if not self.chunks:
            return self.what
        return f"{_span('chunk', self.chunks)} ({_span('sample', self.samples)}): {self.what}"


def _span(word: str, numbers: range) -> str:
    if len(numbers) == 1:
        return f"{word} {numbers[0]}"
    return f"{word}s {numbers[0]}-{numbers[-1]}"


def verify(path: Path) -> list[Damage]:
    """Check a store against its records: the layout first, then every chunk marked done.

    A file is damaged if it is missing, has other bytes than recorded (truncated or overwritten)
    or exists where zarr wrote none. A chunk marked done without a checksum record is damaged too.
    The data files are hashed, not decoded: a damaged one never reaches a codec.

    Parameters
    ----------
    path : Path
        The store (``DIR/sweep.zarr``); it must exist.

    Returns
    -------
    list of Damage
        Empty if the store is whole. Damage to the layout is reported alone, as one entry
        covering every chunk.
    """
    path = Path(path)
    try:
        attrs = dict(zarr.open_group(path, mode="r").attrs)
        size = int(attrs[CHUNK_SIZE_ATTR])  # type: ignore[arg-type]  # checked by the except
    except Exception:  # noqa: BLE001 - a missing or damaged group metadata file, of any kind
        return [Damage(range(0), range(0), f"its metadata ({METADATA}) cannot be read", True)]
    try:
        n_samples = int(zarr.open_array(path / "sample", mode="r").shape[0])
    except Exception:  # noqa: BLE001 - the layout check below names the damaged file
        n_samples = 0
    try:
        layout = json.loads(str(attrs[LAYOUT_ATTR]))
        files, chunked = dict(layout["files"]), list(layout["chunked"])
    except (KeyError, TypeError, ValueError):
        files, chunked = None, []
    every = range(n_chunks(n_samples, size)) if n_samples else range(0)
    if files is None:
        what = "it has no checksum record (written by an older debtloops, or damaged)"
        return [Damage(every, range(n_samples), what, True)]
    for key, digest in files.items():
        found = sha256(path / key)
        if found != digest:
            array, _, rest = key.partition("/")
            if found is None:
                what = (
                    f"the array '{array}' is missing" if rest == METADATA else f"{key} is missing"
                )
            else:
                part = f"the metadata of the array '{array}'" if rest == METADATA else key
                what = f"{part} differs from its checksum"
            return [Damage(every, range(n_samples), what, True)]
    flags = zarr.open_array(path / DONE, mode="r")
    records = zarr.open_array(path / CHECKSUM, mode="r")
    arrays = open_arrays(path, chunked)
    damage = []
    for index in every:
        samples = range(index * size, min((index + 1) * size, n_samples))
        problem = _chunk_problem(path, arrays, index * size, flags, records, index)
        if problem:
            damage.append(Damage(range(index, index + 1), samples, problem))
    return damage


def _chunk_problem(
    path: Path,
    arrays: Mapping[str, zarr.Array],
    start: int,
    flags: zarr.Array,
    records: zarr.Array,
    index: int,
) -> str:
    """Return what is wrong with one chunk of a store, or "" if it is whole or not yet done."""
    done = read_item(flags, index)
    if done is None:
        return "its done flag cannot be read"
    if not done:
        return ""
    text = read_item(records, index)
    if not text:
        what = "cannot be read" if text is None else "is missing"
        return f"it is marked done but its checksum record {what}"
    try:
        record = dict(json.loads(str(text)))
    except (ValueError, TypeError):
        return "its checksum record cannot be read"
    expected = chunk_files(arrays, start)
    if sorted(record) != sorted(expected):
        return "its checksum record lists other files than the store's layout"
    for key in expected:
        found = sha256(path / key)
        if found != record[key]:
            if found is None:
                return f"{key} is missing"
            if record[key] is None:
                return f"{key} should not exist"
            return f"{key} differs from its checksum"
    return ""


def mark_not_done(path: Path, chunks: Sequence[int]) -> None:
    """Mark chunks of a store as not done, clearing their checksum records, to run them again."""
    for index in chunks:
        _mark(Path(path), index, False, "")


def repair_command(path: Path) -> str:
    """Return the command that recomputes a store's damaged or missing chunks.

    It names the specification by the path the store records (the file is not read: nothing
    outside the folder is), else ``SPEC``; and the chunk size, which must match the store's.
    """
    path = Path(path)
    spec, size = "SPEC", None
    try:
        attrs = dict(zarr.open_group(path, mode="r").attrs)
        size = int(attrs[CHUNK_SIZE_ATTR])  # type: ignore[arg-type]  # checked by the except
        recorded = str(attrs[SPEC_PATH_ATTR])
        if recorded.isprintable():  # a one-line message, with no terminal escapes
            spec = shlex.quote(recorded)
    except Exception:  # noqa: BLE001 - any unreadable record leaves the placeholders
        pass
    command = f"debtloops sweep {spec} --out {shlex.quote(str(path.parent))}"
    return command + (f" --chunk-size {size}" if size else "")


def check_whole(path: Path) -> None:
    """Refuse a damaged store, naming its first damaged part and the command that mends it.

    Raises
    ------
    InputError
        If :func:`verify` finds damage.
    """
    damage = verify(path)
    if damage:
        more = f" (and {len(damage) - 1} more damaged chunk(s))" if len(damage) > 1 else ""
        raise InputError(
            f"{path} is damaged: {damage[0]}{more}; `{repair_command(path)}` recomputes exactly "
            "the damaged chunks"
        )


def open_sweep(path: Path, complete: bool = True) -> xr.Dataset:
    """Open a sweep store lazily (dask-backed), checking its layout.

    Parameters
    ----------
    path : Path
        The store (``DIR/sweep.zarr``).
    complete : bool
        Refuse a store with chunks still to run.

    Returns
    -------
    xarray.Dataset
        The store, every variable a dask array read on demand.

    Raises
    ------
    InputError
        If the store is missing, unreadable, incomplete or lacks a variable of the schema.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"no sweep to analyse: {path} does not exist")
    try:
        dataset = xr.open_zarr(path, consolidated=_CONSOLIDATED)
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    absent = [name for name in (ERROR, DONE) if name not in dataset.variables]
    if absent or "sample" not in dataset.dims or "scenario" not in dataset.dims:
        raise InputError(f"{path} is not a sweep store (it lacks {', '.join(absent) or 'dims'})")
    if complete:
        done = np.asarray(dataset[DONE].values, dtype=bool)
        if not done.all():
            raise InputError(
                f"{path} is incomplete: {int(done.sum())} of {done.size} chunks written; run the "
                "same sweep command again to finish it"
            )
    return dataset


def read_design(dataset: xr.Dataset) -> Design:
    """Return the design recorded in a sweep (see :meth:`Design.from_attrs`).

    Raises
    ------
    InputError
        If the design attributes or an input coordinate are missing or malformed, or the
        scenarios do not match the ``scenario`` coordinate.
    """
    try:
        record = json.loads(str(dataset.attrs.get("design", "{}")))
        names = [str(name) for name in record.get("names", [])]
    except (TypeError, ValueError, AttributeError):
        names = []
    columns = {name: dataset[name].values for name in names if name in dataset.coords}
    design = Design.from_attrs(dataset.attrs, columns)
    if "scenario" in dataset.dims and [str(s) for s in dataset["scenario"].values] != list(
        design.spec.scenarios
    ):
        raise InputError("sweep's 'scenario' coordinate differs from its design")
    return design
