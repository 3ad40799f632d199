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
- attributes: the design as written by :meth:`debtloops.sweeps.spec.Design.to_attrs` (the spec's
  text and a JSON record of the checked specification and layout), the chunk size, the git commit
  and package versions.

Outcomes are stored in zarr chunks of one sweep chunk of samples by :data:`TIME_CHUNK` saved times,
so a reader wanting every sample at a few times (percentiles) reads each file once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr

from debtloops.errors import InputError
from debtloops.io import atomic_folder
from debtloops.sweeps.spec import Design

STORE_NAME = "sweep.zarr"
ERROR = "error"
DONE = "chunk_done"
EXTRA_INTEREST = "extra_interest"
CHUNK_SIZE_ATTR = "chunk_size"
#: Saved times per zarr chunk of an outcome.
TIME_CHUNK = 16
#: Text as the store keeps it: numpy's variable-length strings (zarr's ``string`` type).
TEXT = np.dtypes.StringDType()
#: zarr options used on every write and read: zarr 3 has no standard for consolidated metadata.
_ZARR = {"consolidated": False}


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
    coords: dict[str, object] = {
        "scenario": scenarios,
        "sample": np.arange(n_samples),
        "time": xr.Variable("time", np.asarray(times, dtype=np.float64), {"units": "year"}),
    }
    inputs = inputs or {}
    for j, name in enumerate(design.names):
        coords[name] = xr.Variable("sample", design.values[:, j], attrs=dict(inputs.get(name, {})))
    dataset = xr.Dataset(data, coords=coords)
    dataset.attrs = {
        "title": f"debtloops sweep: {design.spec.name}",
        **design.to_attrs(),
        CHUNK_SIZE_ATTR: int(chunk_size),
        **(attrs or {}),
    }
    path = Path(path)
    with atomic_folder(path, whole=True) as scratch:  # owned whole: chunks are rewritten
        dataset.to_zarr(scratch, mode="w", compute=False, **_ZARR)


def write_chunk(
    path: Path,
    index: int,
    start: int,
    outcomes: Mapping[str, np.ndarray],
    errors: Sequence[Sequence[str]],
) -> None:
    """Write one chunk's samples into their region of the store, then mark the chunk done.

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
        **_ZARR,
    )
    flag = xr.Dataset({DONE: (("chunk",), np.array([True]))})
    flag.to_zarr(path, region={"chunk": slice(index, index + 1)}, **_ZARR)


def done_chunks(path: Path) -> np.ndarray:
    """Return which chunks of a store are written (bool per chunk); empty if there is no store."""
    if not Path(path).is_dir():
        return np.zeros(0, dtype=bool)
    with xr.open_zarr(path, **_ZARR) as dataset:
        return np.asarray(dataset[DONE].values, dtype=bool)


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
        dataset = xr.open_zarr(path, **_ZARR)
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
