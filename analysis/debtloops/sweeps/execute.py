"""Sensitivity sweeps: run a sweep specification's design through the ensemble model in chunks.

``debtloops sweep SPEC --out DIR`` validates the specification, builds its design, and runs the
design in chunks of samples, each chunk as one ensemble simulation per scenario
(:mod:`debtloops.model.ensemble`). Chunks run through Dask: in this process with one worker, in a
pool of
processes with ``--workers N``, or on an existing ``dask.distributed`` cluster with
``--scheduler ADDRESS``. Every chunk is written to ``DIR/chunks/`` as soon as it finishes, by a
temporary file and a rename, so an interrupted sweep keeps what it finished and running the same
command again computes only the missing chunks, with a result identical bit for bit to an
uninterrupted run. By default a sweep is split into at least :data:`MIN_CHUNKS` chunks (of
:data:`MIN_CHUNK_SIZE` to :data:`MAX_CHUNK_SIZE` samples), so a killed sweep loses at most about
5% of its samples. The folder is locked while the sweep runs
(:func:`debtloops.results.output_lock`). On a cluster, a sweep that has had no worker for
:data:`WORKER_TIMEOUT` seconds stops with a message, keeping its finished chunks. When all are
done they are joined into ``DIR/sweep.nc``:

- dimensions ``sample`` x ``time``, plus ``scenario`` when the specification names several;
- one coordinate on ``sample`` per sampled input, named as in the parameter table;
- the outcomes named as in ``debtloops run``, with units and long names; ``extra_interest``
  [billion USD], interest paid since the start less the baseline's for the same sample;
- ``error``: an empty string for a sample that ran, else why it failed (an exception, a NaN, a
  negative stock); a failed sample's outcomes are NaN;
- attributes: the specification's text, sampler, seed, uncertainties, levers and design layout,
  the git commit and the package versions.

The baseline is run alongside each chunk, with the same sampled values, to give ``extra_interest``.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from debtloops.errors import ExecutionError, InputError
from debtloops.io import LOCK_NAME, SCRATCH_PREFIX, atomic_file, output_lock, remove_stale_scratch
from debtloops.model import ensemble
from debtloops.model.contract import NON_NEGATIVE_STOCKS, display_units, value_problems
from debtloops.model.engine import describe, load
from debtloops.model.parameters import (
    CROSS_CHECKED,
    ParameterTable,
    Value,
    load_parameters,
    validate,
)
from debtloops.model.run import prepare
from debtloops.model.scenarios import REFERENCE, list_scenarios
from debtloops.provenance import provenance_attrs
from debtloops.sweeps.spec import Design, SweepSpec, design, load_spec

#: The default chunk size splits a sweep into at least this many chunks...
MIN_CHUNKS = 20
#: ... of at least this many samples (smaller sweeps are one chunk) ...
MIN_CHUNK_SIZE = 25
#: ... and at most this many.
MAX_CHUNK_SIZE = 2500
#: The address schemes of a scheduler on the network.
NETWORK_SCHEMES = ("tcp", "tls", "ws", "wss")
#: How long to connect to a Dask scheduler [s].
CONNECT_TIMEOUT = 10.0
#: How long a sweep on a cluster waits while the scheduler has no worker at all [s].
WORKER_TIMEOUT = 60.0
#: How often the cluster is checked for workers while chunks run [s].
POLL_INTERVAL = 1.0
INTEREST = "cumulative_net_interest"
EXTRA_INTEREST = "extra_interest"
SPEC_COPY = "sweep_spec.toml"
CHUNK_DIR = "chunks"


@dataclass(frozen=True)
class SweepPlan:
    """Everything a chunk needs, rebuilt identically in every worker from the specification.

    Attributes
    ----------
    spec : SweepSpec
        The checked specification.
    design : Design
        The sample design.
    runs : tuple of str
        The scenarios simulated: the specification's, and the baseline as reference.
    base_values : dict
        Each run's parameter values before sampling.
    chunk_size : int
        Samples per chunk.
    internal : tuple of str
        The model variables read from each run: the outcomes, cumulative interest and the
        stocks that may not go negative.
    """

    spec: SweepSpec
    design: Design
    runs: tuple[str, ...]
    base_values: dict[str, dict[str, Value]]
    chunk_size: int
    internal: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        """Number of samples in the design."""
        return self.design.values.shape[0]

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return math.ceil(self.n_samples / self.chunk_size)


def plan(spec_path: Path, chunk_size: int | None = None, table: ParameterTable | None = None):
    """Read and check a sweep specification and lay out its chunks; nothing runs.

    Parameters
    ----------
    spec_path : Path
        The sweep specification (TOML).
    chunk_size : int, optional
        Samples per chunk; by default :func:`default_chunk_size`.
    table : ParameterTable, optional
        The parameter table.

    Returns
    -------
    SweepPlan
        The plan.

    Raises
    ------
    InputError
        On any invalid part of the specification.
    """
    table = table or load_parameters()
    if not spec_path.is_file():
        raise InputError(f"no sweep specification at {spec_path}")
    kinds = describe(load()).kinds
    varying = [name for name, kind in kinds.items() if kind not in ("Constant", "None")]
    constants = [name for name, kind in kinds.items() if kind in ("Constant", "None")]
    spec = load_spec(spec_path, table, list_scenarios(), varying, constants)
    the_design = design(spec)
    runs = tuple(dict.fromkeys([*spec.scenarios, REFERENCE]))
    base_values = {
        name: prepare(name, final_time=spec.final_time, table=table).values for name in runs
    }
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"--chunk-size must be at least 1, got {chunk_size}")
    size = chunk_size or default_chunk_size(the_design.values.shape[0])
    internal = tuple(dict.fromkeys([*spec.outcomes, INTEREST, *NON_NEGATIVE_STOCKS]))
    return SweepPlan(spec, the_design, runs, base_values, size, internal)


def default_chunk_size(n_samples: int) -> int:
    """Return the default samples per chunk for a sweep of ``n_samples``.

    At least :data:`MIN_CHUNKS` chunks, each of :data:`MIN_CHUNK_SIZE` to :data:`MAX_CHUNK_SIZE`
    samples: a killed sweep loses at most one chunk per worker, about 5% of its samples, while
    each chunk stays large enough to run fast as one ensemble simulation.

    Parameters
    ----------
    n_samples : int
        Samples in the design.

    Returns
    -------
    int
        Samples per chunk, at least 1 and at most ``n_samples`` (or 1 if that is 0).
    """
    size = min(MAX_CHUNK_SIZE, max(MIN_CHUNK_SIZE, math.ceil(n_samples / MIN_CHUNKS)))
    return max(1, min(size, n_samples))


def _row_errors(plan_: SweepPlan, run: str, rows: np.ndarray) -> list[str]:
    """Check the samples whose values must agree with each other (a sale within the holdings)."""
    names = plan_.design.names
    if not set(names) & set(CROSS_CHECKED):
        return [""] * len(rows)
    table = load_parameters()
    errors = []
    for row in rows:
        try:
            validate(
                table, {**plan_.base_values[run], **dict(zip(names, map(float, row), strict=True))}
            )
            errors.append("")
        except InputError as error:
            errors.append(str(error))
    return errors


def _chunk_path(out_dir: Path, index: int) -> Path:
    return out_dir / CHUNK_DIR / f"chunk_{index:05d}.nc"


def run_chunk(spec_path: str, out_dir: str, index: int, chunk_size: int) -> str:
    """Run one chunk of a sweep and write it to ``out_dir/chunks/``; return the file's path.

    Every worker rebuilds the plan from the specification, so only paths and numbers travel.

    Parameters
    ----------
    spec_path : str
        The sweep specification.
    out_dir : str
        The sweep's output folder.
    index : int
        The chunk's number, from 0.
    chunk_size : int
        Samples per chunk.

    Returns
    -------
    str
        The chunk file written.
    """
    plan_ = plan(Path(spec_path), chunk_size)
    start = index * plan_.chunk_size
    stop = min(start + plan_.chunk_size, plan_.n_samples)
    rows = np.asarray(plan_.design.values[start:stop])
    # Pad the last chunk to the full size, so every chunk uses the same translated model.
    padded = np.concatenate([rows, np.repeat(rows[:1], plan_.chunk_size - len(rows), axis=0)])
    results: dict[str, dict[str, np.ndarray]] = {}
    errors: dict[str, list[str]] = {}
    times = None
    for run in plan_.runs:
        row_errors = _row_errors(plan_, run, rows) + [""] * (plan_.chunk_size - len(rows))
        ok_rows = padded.copy()
        for i, message in enumerate(row_errors):
            if message:
                ok_rows[i] = padded[0]  # a placeholder; its results are discarded
        sampled = {name: ok_rows[:, j] for j, name in enumerate(plan_.design.names)}
        try:
            times, values = ensemble.simulate(plan_.base_values[run], sampled, plan_.internal)
            found = value_problems(values, times)
        except Exception as error:  # noqa: BLE001 - a failed chunk is recorded, the sweep goes on
            found = [f"{type(error).__name__}: {error}"] * plan_.chunk_size
            values = None
        merged = [a or b for a, b in zip(row_errors, found, strict=True)][: len(rows)]
        errors[run] = merged
        results[run] = values
    if times is None:
        times = np.array([plan_.spec.final_time])
    n, n_times = len(rows), len(times)

    def series(run: str, name: str) -> np.ndarray:
        values = results[run]
        if values is None:
            return np.full((n, n_times), np.nan)
        out = values[name][:n].copy()
        out[[bool(e) for e in errors[run]]] = np.nan
        return out

    data = {}
    scenarios = list(plan_.spec.scenarios)
    for name in plan_.spec.outcomes:
        data[name] = (
            ("scenario", "sample", "time"),
            np.stack([series(s, name) for s in scenarios]),
        )
    reference = series(REFERENCE, INTEREST)
    extra = np.stack([series(s, INTEREST) - reference for s in scenarios])
    data[EXTRA_INTEREST] = (("scenario", "sample", "time"), extra)
    messages = [
        [
            e or (f"baseline reference: {r}" if r else "")
            for e, r in zip(errors[s], errors[REFERENCE], strict=True)
        ]
        for s in scenarios
    ]
    data["error"] = (("scenario", "sample"), np.array(messages, dtype=str))
    chunk = xr.Dataset(
        data,
        coords={"scenario": scenarios, "sample": np.arange(start, stop), "time": times},
    )
    target = _chunk_path(Path(out_dir), index)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_file(target, lambda path: chunk.to_netcdf(path))
    return str(target)


class Progress:
    """A one-line progress bar on standard error: samples done, rate and time left.

    Samples found done by an earlier call (``already``) count towards the bar but not the rate.
    """

    WIDTH = 30

    def __init__(self, total: int, quiet: bool, already: int = 0) -> None:
        self.total, self.quiet, self.done, self.already = total, quiet, already, already
        self.started = time.perf_counter()

    def advance(self, samples: int) -> None:
        """Count ``samples`` more as done and redraw the bar."""
        self.done += samples
        if self.quiet or samples == 0:
            return
        elapsed = time.perf_counter() - self.started
        rate = (self.done - self.already) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        filled = int(self.WIDTH * self.done / self.total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        sys.stderr.write(
            f"\r[{bar}] {self.done}/{self.total} samples, {rate:,.0f}/s, {left:,.0f} s left"
        )
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _check_folder(out_dir: Path, spec_text: str, chunk_size: int) -> bool:
    """Refuse an output folder that holds a different sweep; say whether it holds this one.

    Call it holding the folder's lock; the caller claims an empty folder with :func:`_claim`.
    """
    stored = out_dir / SPEC_COPY
    signature = f"# chunk_size = {chunk_size}\n{spec_text}"
    if stored.is_file():
        if stored.read_text(encoding="utf-8", errors="replace") != signature:
            raise InputError(
                f"{out_dir} holds a different sweep (its {SPEC_COPY} differs from this "
                "specification or chunk size); choose another --out folder or remove it"
            )
        return True
    ours = (LOCK_NAME, SCRATCH_PREFIX)
    if any(not p.name.startswith(ours) for p in out_dir.iterdir()):
        raise InputError(f"{out_dir} is not empty and holds no sweep; choose another --out folder")
    return False


def _claim(out_dir: Path, spec_text: str, chunk_size: int) -> None:
    signature = f"# chunk_size = {chunk_size}\n{spec_text}"
    atomic_file(out_dir / SPEC_COPY, lambda path: path.write_text(signature, encoding="utf-8"))


@contextlib.contextmanager
def _connect(scheduler: str) -> Iterator[object]:
    """Connect to a Dask scheduler, or refuse its address; nothing is written before this."""
    import socket

    from distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        # Check the address and that something listens there before Dask's client tries.
        scheme, location = parse_address(scheduler)
        get_backend(scheme)
        if scheme not in NETWORK_SCHEMES:
            raise ValueError(f"a scheduler is reached over {', '.join(NETWORK_SCHEMES)}")
        socket.create_connection(parse_host_port(location), timeout=CONNECT_TIMEOUT).close()
        # Not the process's default client: a failed one would be left behind for xarray to use.
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT:g}s", set_as_default=False)
    except (OSError, ValueError, TypeError) as error:
        raise InputError(
            f"cannot reach the Dask scheduler at '{scheduler}' within {CONNECT_TIMEOUT:g} s "
            f"({type(error).__name__}: {error}); give its address as tcp://HOST:PORT"
        ) from None
    with client:
        yield client


def _run_on_cluster(
    client, tasks: Sequence[int], call: Callable[[int], str], sizes: dict[int, int], progress
) -> None:
    """Run the chunks on a cluster; stop if it has had no worker for :data:`WORKER_TIMEOUT`."""
    futures = {client.submit(call, index, pure=False): index for index in tasks}
    pending = set(futures)
    idle_since: float | None = None
    checked = time.monotonic()
    while pending:
        done = [future for future in pending if future.done()]
        for future in done:
            pending.discard(future)
            future.result()
            progress.advance(sizes[futures[future]])
        if not pending:
            break
        if not done:
            time.sleep(0.05)
        if time.monotonic() - checked < POLL_INTERVAL:
            continue
        checked = time.monotonic()
        try:
            workers = len(client.nthreads())
        except OSError as error:
            raise ExecutionError(
                f"lost the Dask scheduler ({error}); the finished chunks are kept, run the same "
                "command again to resume"
            ) from None
        now = time.monotonic()
        idle_since = None if workers else (idle_since or now)
        if idle_since is not None and now - idle_since >= WORKER_TIMEOUT:
            raise ExecutionError(
                f"the Dask cluster has had no worker for {WORKER_TIMEOUT:g} s with "
                f"{len(pending)} chunk(s) left; the finished chunks are kept, run the same "
                "command again to resume"
            )


def _execute(
    tasks: Sequence[int],
    call: Callable[[int], str],
    sizes: dict[int, int],
    progress: Progress,
    workers: int,
    client: object | None,
) -> None:
    if client is not None:
        _run_on_cluster(client, tasks, call, sizes, progress)
        return
    if workers <= 1:
        for index in tasks:
            call(index)
            progress.advance(sizes[index])
        return
    from dask.callbacks import Callback

    class _Advance(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if isinstance(key, tuple) and key[0] == "chunk":
                progress.advance(sizes[key[1]])

    from dask.multiprocessing import get as multiprocessing_get

    graph = {("chunk", index): (call, index) for index in tasks}
    with _Advance():
        multiprocessing_get(graph, list(graph), num_workers=workers)


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    path : Path
        The ``sweep.nc`` written.
    samples : int
        Samples in the design.
    computed : int
        Samples computed by this call (the rest were found done).
    failed : int
        Samples that failed in at least one scenario.
    seconds : float
        Wall-clock time of this call [s].
    """

    path: Path
    samples: int
    computed: int
    failed: int
    seconds: float


def _assemble(plan_: SweepPlan, out_dir: Path) -> xr.Dataset:
    files = [_chunk_path(out_dir, i) for i in range(plan_.n_chunks)]
    parts = []
    for path in files:
        with xr.open_dataset(path) as part:
            parts.append(part.load())
    dataset = xr.concat(parts, dim="sample", data_vars="all")
    values = np.asarray(plan_.design.values)
    for j, name in enumerate(plan_.design.names):
        dataset = dataset.assign_coords({name: ("sample", values[:, j])})
    info = describe(load())
    for name in plan_.spec.outcomes:
        dataset[name].attrs = {
            "units": display_units(info.units[name]),
            "long_name": info.comments[name],
        }
    dataset[EXTRA_INTEREST].attrs = {
        "units": "billion USD",
        "long_name": "Interest paid since the start less the baseline's, same sample.",
    }
    dataset["error"].attrs = {"long_name": "Why the sample failed; empty if it ran."}
    dataset["time"].attrs = {"units": "year"}
    if len(plan_.spec.scenarios) == 1:
        dataset = dataset.isel(scenario=0, drop=True)
    spec = plan_.spec
    dataset.attrs = {
        "title": f"debtloops sweep: {spec.name}",
        "spec": spec.text,
        "scenarios": json.dumps(list(spec.scenarios)),
        "sampler": spec.method,
        "seed": spec.seed,
        "samples_setting": spec.samples,
        "uncertainties": json.dumps(
            [
                {"name": u.name, "low": u.low, "high": u.high, "distribution": u.distribution}
                for u in spec.uncertainties
            ]
        ),
        "levers": json.dumps({name: list(v) for name, v in spec.levers.items()}),
        "n_design": plan_.design.n_design,
        "calc_second_order": int(spec.calc_second_order),
        "morris_levels": spec.morris_levels,
        **provenance_attrs(),
    }
    return dataset


def run_sweep(
    spec_path: Path,
    out_dir: Path,
    workers: int = 1,
    scheduler: str | None = None,
    quiet: bool = False,
    chunk_size: int | None = None,
) -> SweepReport:
    """Run a sweep, resuming from the chunks already in ``out_dir``, and write ``sweep.nc``.

    Parameters
    ----------
    spec_path : Path
        The sweep specification.
    out_dir : Path
        The output folder: new or empty, or holding an unfinished run of the same sweep.
    workers : int
        Local worker processes; 1 runs in this process.
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler to run the chunks on instead.
    quiet : bool
        Hide the progress bar.
    chunk_size : int, optional
        Samples per chunk; :func:`default_chunk_size` by default.

    Returns
    -------
    SweepReport
        Where the result is and how many samples ran and failed.

    Raises
    ------
    InputError
        On an invalid specification, an output folder that is a file, holds another sweep or
        is in use, fewer than one worker, a chunk size below 1, or an unreachable scheduler;
        nothing is run or written then.
    ExecutionError
        If the cluster has had no worker for :data:`WORKER_TIMEOUT` seconds; the finished chunks
        are kept.
    """
    started = time.perf_counter()
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    plan_ = plan(spec_path, chunk_size)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output folder {out_dir} is a file; choose a folder for --out")
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_connect(scheduler)) if scheduler else None
        stack.enter_context(output_lock(out_dir))
        if not _check_folder(out_dir, plan_.spec.text, plan_.chunk_size):
            _claim(out_dir, plan_.spec.text, plan_.chunk_size)
        remove_stale_scratch(out_dir / CHUNK_DIR)
        target = out_dir / "sweep.nc"
        sizes = {
            i: min(plan_.chunk_size, plan_.n_samples - i * plan_.chunk_size)
            for i in range(plan_.n_chunks)
        }
        missing = [i for i in range(plan_.n_chunks) if not _chunk_path(out_dir, i).is_file()]
        computed = 0
        if not target.is_file():
            already = plan_.n_samples - sum(sizes[i] for i in missing)
            progress = Progress(plan_.n_samples, quiet, already)
            call = _ChunkCall(str(spec_path.resolve()), str(out_dir.resolve()), plan_.chunk_size)
            _execute(missing, call, sizes, progress, workers, client)
            computed = sum(sizes[i] for i in missing)
            dataset = _assemble(plan_, out_dir)
            atomic_file(target, lambda path: dataset.to_netcdf(path))
            shutil.rmtree(out_dir / CHUNK_DIR, ignore_errors=True)
    with xr.open_dataset(target) as result:
        failed_mask = result["error"] != ""
        if "scenario" in failed_mask.dims:
            failed_mask = failed_mask.any("scenario")
        failed = int(failed_mask.sum())
    return SweepReport(target, plan_.n_samples, computed, failed, time.perf_counter() - started)


@dataclass(frozen=True)
class _ChunkCall:
    """A picklable call of :func:`run_chunk` for one sweep, taking the chunk's number."""

    spec_path: str
    out_dir: str
    chunk_size: int

    def __call__(self, index: int) -> str:
        return run_chunk(self.spec_path, self.out_dir, index, self.chunk_size)
