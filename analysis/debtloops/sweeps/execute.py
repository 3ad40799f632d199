"""Sensitivity sweeps: run a sweep specification's design through the ensemble model in chunks.

``debtloops sweep SPEC --out DIR`` validates the specification, builds its design once
(:func:`plan`), lays out the result store ``DIR/sweep.zarr`` with its full shape
(:mod:`debtloops.sweeps.store`, which documents its layout) and runs the design in chunks of
samples, each chunk as one ensemble simulation per scenario (:mod:`debtloops.model.ensemble`). Each
chunk is shipped what it needs (its rows of the design and the runs' parameter values, a
:class:`ChunkTask`) and writes its own region of the store, then marks itself done; nothing is
assembled in memory.

Chunks run through one path, a ``dask.distributed`` client: a cluster of ``--workers N`` local
processes (with one worker, a single worker thread inside this process), or an existing cluster
with ``--scheduler ADDRESS`` (its workers must see ``DIR``). A killed sweep keeps its finished
chunks; running the same command again runs only the chunks not marked done, with a result
identical bit for bit to an uninterrupted run. The store found there is checked first
(:func:`debtloops.sweeps.store.verify`): a chunk whose files differ from the checksums recorded
when it was written (deleted, truncated, overwritten) is run again, and so is every chunk if the
store's layout is damaged. The sweep is complete, and ``DIR/sweep.zarr`` its
product, when every chunk is marked done. By default a chunk is :data:`MAX_CHUNK_SIZE` samples (a
smaller sweep is one chunk), so a killed sweep loses at most one chunk per worker, a few seconds of
work. The folder is locked while the sweep runs (:func:`debtloops.io.output_lock`). On a cluster, a
sweep that has had no worker for :data:`WORKER_TIMEOUT` seconds stops with a message, keeping its
finished chunks.

The baseline is run alongside each chunk, with the same sampled values, to give ``extra_interest``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from debtloops.errors import ExecutionError, InputError
from debtloops.io import (
    LOCK_NAME,
    MANIFEST_NAME,
    SCRATCH_PREFIX,
    atomic_file,
    check_targets,
    output_lock,
    scratch_prefix,
)
from debtloops.limits import FLOAT_BYTES, check_count, check_memory, memory_budget
from debtloops.model import data, ensemble
from debtloops.model.contract import NON_NEGATIVE_STOCKS, display_units, value_problems
from debtloops.model.engine import describe, load, run_loaded
from debtloops.model.parameters import (
    CROSS_CHECKED,
    ParameterTable,
    Value,
    load_parameters,
    validate,
)
from debtloops.model.run import prepare, vintage_attrs
from debtloops.model.scenarios import REFERENCE, list_scenarios
from debtloops.provenance import provenance_attrs
from debtloops.sweeps import store
from debtloops.sweeps.design import Design, design
from debtloops.sweeps.spec import load_spec

#: Samples per chunk by default: one ensemble simulation of this many runs vectorises well (about
#: 9,000 runs/s on a quiet core, against 6,800 at 2,500 runs) and holds about 100 MB of outcomes
#: per scenario; a killed sweep loses at most one chunk per worker, a few seconds of work.
MAX_CHUNK_SIZE = 10_000
#: The fewest runs in one ensemble simulation [1]: pysd drops the subscript of a one-run ensemble.
MIN_ENSEMBLE = 2
#: The most local worker processes a sweep starts; each loads the model and holds a chunk [1].
MAX_WORKERS = 64
#: Copies of a chunk's kept values (samples x runs x variables x saved times, float64) that a
#: worker's memory grows by while it runs the chunk [1]: measured 1.2 (121 MiB at 2,000 samples,
#: 3 runs, 18 variables, 121 times), with a margin. By default a sweep starts no more workers
#: than the memory holds; more ``--workers`` than that are refused.
CHUNK_COPIES = 2
#: The address schemes of a scheduler on the network.
NETWORK_SCHEMES = ("tcp", "tls", "ws", "wss")
#: How long to connect to a Dask scheduler, and then how long it may take to say it is one [s];
#: a refused address exits within twice this.
CONNECT_TIMEOUT = 5.0
#: Where a local cluster's scheduler serves its HTTP routes: this machine only, any free port.
SCHEDULER_HTTP_ADDRESS = "127.0.0.1:0"
#: How long a sweep on a cluster waits while the scheduler has no worker at all [s].
WORKER_TIMEOUT = 60.0
#: How often the cluster is checked for workers while chunks run [s].
POLL_INTERVAL = 1.0
#: How long to sleep between looks at the running chunks [s].
WAIT_STEP = 0.05
INTEREST = "cumulative_net_interest"
SPEC_COPY = "sweep_spec.toml"


@dataclass(frozen=True)
class SweepPlan:
    """A sweep laid out once, in the process that starts it.

    Attributes
    ----------
    design : Design
        The sample design, with its specification.
    runs : tuple of str
        The scenarios simulated: the specification's, and the baseline as reference.
    base_values : dict
        Each run's parameter values before sampling.
    chunk_size : int
        Samples per chunk.
    internal : tuple of str
        The model variables read from each run: the outcomes, cumulative interest and the
        stocks that may not go negative.
    times : numpy.ndarray
        The saved times of every run [year].
    variables : dict
        The store's outcome variables in order, each with ``units`` and ``long_name``.
    inputs : dict
        Each sampled input's ``units`` and ``long_name`` (the .mdl's description).
    table : ParameterTable or None
        The parameter table when sampled values must be checked against each other, else None.
    """

    design: Design
    runs: tuple[str, ...]
    base_values: dict[str, dict[str, Value]]
    chunk_size: int
    internal: tuple[str, ...]
    times: np.ndarray
    variables: dict[str, dict[str, str]]
    inputs: dict[str, dict[str, str]]
    table: ParameterTable | None

    @property
    def n_samples(self) -> int:
        """Number of samples in the design."""
        return self.design.n_samples

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return store.n_chunks(self.n_samples, self.chunk_size)

    def task(self, index: int, path: Path) -> ChunkTask:
        """Return what chunk ``index`` needs to run and write itself into the store at ``path``."""
        start = index * self.chunk_size
        stop = min(start + self.chunk_size, self.n_samples)
        return ChunkTask(
            index=index,
            start=start,
            size=self.chunk_size,
            rows=np.array(self.design.values[start:stop]),
            names=self.design.names,
            scenarios=self.design.spec.scenarios,
            outcomes=self.design.spec.outcomes,
            runs=self.runs,
            base_values=self.base_values,
            internal=self.internal,
            n_times=len(self.times),
            table=self.table,
            store=str(path),
        )


def plan(
    spec_path: Path,
    chunk_size: int | None = None,
    table: ParameterTable | None = None,
    cbo: str | Path | None = None,
):
    """Read and check a sweep specification and lay out its chunks; nothing is written.

    Parameters
    ----------
    spec_path : Path
        The sweep specification (TOML).
    chunk_size : int, optional
        Samples per chunk; by default :func:`default_chunk_size`.
    table : ParameterTable, optional
        The parameter table.
    cbo : str or Path, optional
        The CBO vintage of every run, the reference's too (``--cbo``); each scenario's own by
        default.

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
    model = load()
    info = describe(model)
    varying = [name for name, kind in info.kinds.items() if kind not in ("Constant", "None")]
    constants = [name for name, kind in info.kinds.items() if kind in ("Constant", "None")]
    spec = load_spec(spec_path, table, list_scenarios(), varying, constants)
    the_design = design(spec)
    runs = tuple(dict.fromkeys([*spec.scenarios, REFERENCE]))
    base_values = {
        name: prepare(name, final_time=spec.final_time, table=table, cbo=cbo).values
        for name in runs
    }
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"--chunk-size must be at least 1, got {chunk_size}")
    if chunk_size is not None:
        check_count(chunk_size, "--chunk-size")
    size = chunk_size or default_chunk_size(the_design.n_samples)
    internal = tuple(dict.fromkeys([*spec.outcomes, INTEREST, *NON_NEGATIVE_STOCKS]))
    # The saved times, from one run of the reference with the same controls as every chunk.
    times = run_loaded(model, base_values[REFERENCE]).index.to_numpy(dtype=float)
    check_memory(  # every chunk's ensemble is padded to the chunk size
        chunk_bytes(size, len(runs), len(internal), len(times)),
        f"a chunk of {size:,} samples",
        "give a smaller --chunk-size",
    )
    variables = {
        name: {"units": display_units(info.units[name]), "long_name": info.comments[name]}
        for name in spec.outcomes
    }
    variables[store.EXTRA_INTEREST] = {
        "units": "billion USD",
        "long_name": "Interest paid since the start less the baseline's, same sample.",
    }
    inputs = {
        name: {"units": display_units(table[name].units), "long_name": info.comments[name]}
        for name in the_design.names
    }
    checked = table if set(the_design.names) & set(CROSS_CHECKED) else None
    return SweepPlan(
        the_design, runs, base_values, size, internal, times, variables, inputs, checked
    )


def chunk_bytes(samples: int, runs: int, variables: int, times: int) -> int:
    """Estimate the memory one worker fills while it runs a chunk [bytes].

    Parameters
    ----------
    samples : int
        Samples in the chunk [1].
    runs : int
        Scenarios simulated, the reference included [1].
    variables : int
        Model variables kept from each run [1].
    times : int
        Saved times of each run [1].
    """
    return CHUNK_COPIES * samples * runs * variables * times * FLOAT_BYTES


def check_workers(workers: int, chunks: int) -> int:
    """Return the local worker processes to start for ``workers`` asked and ``chunks`` to run.

    Raises
    ------
    InputError
        If ``workers`` is below 1 or above :data:`MAX_WORKERS`; nothing has started then.
    """
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    check_count(workers, "--workers", high=MAX_WORKERS)
    return max(1, min(workers, chunks))  # a worker without a chunk would idle


def auto_workers(chunks: int) -> int:
    """Return the local worker processes for ``chunks`` chunks: one per core, at most one a chunk.

    Parameters
    ----------
    chunks : int
        Chunks still to run.

    Returns
    -------
    int
        ``min(cores, chunks)``, at least 1; a single worker runs in this process.
    """
    return max(1, min(os.cpu_count() or 1, chunks))


def default_chunk_size(n_samples: int) -> int:
    """Return the default samples per chunk for a sweep of ``n_samples``.

    Parameters
    ----------
    n_samples : int
        Samples in the design.

    Returns
    -------
    int
        :data:`MAX_CHUNK_SIZE`, or ``n_samples`` for a smaller sweep (at least 1).
    """
    return max(1, min(n_samples, MAX_CHUNK_SIZE))


@dataclass(frozen=True)
class ChunkTask:
    """Everything one chunk needs, shipped to the worker that runs it.

    Attributes
    ----------
    index, start : int
        The chunk's number and its first sample.
    size : int
        The padded size of every chunk's ensemble (the chunk size) [1].
    rows : numpy.ndarray
        The chunk's rows of the design, shape ``(samples, len(names))``.
    names : tuple of str
        The design's columns.
    scenarios, outcomes : tuple of str
        The specification's scenarios and outcomes.
    runs : tuple of str
        The scenarios simulated, the reference included.
    base_values : dict
        Each run's parameter values before sampling.
    internal : tuple of str
        The model variables read from each run.
    n_times : int
        The saved times the store expects [1].
    table : ParameterTable or None
        Set when sampled values must be checked against each other.
    store : str
        The store to write into.
    """

    index: int
    start: int
    size: int
    rows: np.ndarray
    names: tuple[str, ...]
    scenarios: tuple[str, ...]
    outcomes: tuple[str, ...]
    runs: tuple[str, ...]
    base_values: dict[str, dict[str, Value]]
    internal: tuple[str, ...]
    n_times: int
    table: ParameterTable | None
    store: str


def _row_errors(task: ChunkTask, run: str) -> list[str]:
    """Check the samples whose values must agree with each other (a sale within the holdings)."""
    if task.table is None:
        return [""] * len(task.rows)
    errors = []
    for row in task.rows:
        try:
            sampled = dict(zip(task.names, map(float, row), strict=True))
            validate(task.table, {**task.base_values[run], **sampled})
            errors.append("")
        except InputError as error:
            errors.append(str(error))
    return errors


def _simulate(task: ChunkTask, run: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Run one scenario of a chunk.

    Returns
    -------
    values : dict of str to numpy.ndarray
        The outcomes and cumulative interest, shape ``(samples, times)`` [their units], NaN for a
        sample that failed; the other variables read for the checks are dropped at once.
    errors : list of str
        Per sample, why it failed ("" if it ran).
    """
    n = len(task.rows)
    # Pad the last chunk to the full size, so every chunk uses the same translated model.
    # An ensemble of one run is translated without its subscript and fails: pad that to two.
    width = max(task.size, MIN_ENSEMBLE)
    padded = np.concatenate([task.rows, np.repeat(task.rows[:1], width - n, axis=0)])
    row_errors = _row_errors(task, run) + [""] * (width - n)
    for i, message in enumerate(row_errors):
        if message:
            padded[i] = task.rows[0]  # a placeholder; its results are discarded
    sampled = {name: padded[:, j] for j, name in enumerate(task.names)}
    kept = dict.fromkeys([*task.outcomes, INTEREST])
    values: dict[str, np.ndarray] | None = None
    try:
        times, values = ensemble.simulate(task.base_values[run], sampled, task.internal)
        if len(times) != task.n_times:
            raise ExecutionError(f"the run saved {len(times)} times, the store {task.n_times}")
        found = value_problems(values, times)
        errors = [a or b for a, b in zip(row_errors, found, strict=True)][:n]
        failed = np.array([bool(e) for e in errors], dtype=bool)
        result = {name: np.array(values[name][:n], dtype=np.float64) for name in kept}
        for array in result.values():
            array[failed] = np.nan
    except Exception as error:  # noqa: BLE001 - a failed chunk is recorded, the sweep goes on
        errors = [f"{type(error).__name__}: {error}"] * n
        result = {name: np.full((n, task.n_times), np.nan) for name in kept}
    values = None  # every variable read for the checks, dropped before the next run
    # A loaded pysd model is a web of reference cycles holding the run's arrays; Python's cycle
    # collector counts objects, not bytes, so without this dead models pile up run after run.
    gc.collect()
    return result, errors


def run_chunk(task: ChunkTask) -> int:
    """Run one chunk of a sweep and write it into its region of the store.

    Parameters
    ----------
    task : ChunkTask
        The chunk.

    Returns
    -------
    int
        The number of samples that failed in at least one scenario [1].
    """
    results = {run: _simulate(task, run) for run in task.runs}

    def series(run: str, name: str) -> np.ndarray:
        return results[run][0][name]

    outcomes = {name: np.stack([series(s, name) for s in task.scenarios]) for name in task.outcomes}
    reference = series(REFERENCE, INTEREST)
    outcomes[store.EXTRA_INTEREST] = np.stack(
        [series(s, INTEREST) - reference for s in task.scenarios]
    )
    reference_errors = results[REFERENCE][1]
    messages = [
        [
            e or (f"baseline reference: {r}" if r else "")
            for e, r in zip(results[s][1], reference_errors, strict=True)
        ]
        for s in task.scenarios
    ]
    store.write_chunk(Path(task.store), task.index, task.start, outcomes, messages)
    return int(np.any(np.array(messages) != "", axis=0).sum())


def progress_bar(total: int, already: int, quiet: bool) -> tqdm:
    """Return the progress bar of a sweep on standard error: samples done, rate and time left.

    Samples found done by an earlier call (``already``) count towards the bar but not the rate.
    """
    return tqdm(
        total=total,
        initial=already,
        unit=" samples",
        disable=quiet,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.0,  # the average rate since the start of this call
    )


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
    ours = (LOCK_NAME, MANIFEST_NAME, SCRATCH_PREFIX)
    if any(not p.name.startswith(ours) for p in out_dir.iterdir()):
        raise InputError(f"{out_dir} is not empty and holds no sweep; choose another --out folder")
    return False


def _claim(out_dir: Path, spec_text: str, chunk_size: int) -> None:
    signature = f"# chunk_size = {chunk_size}\n{spec_text}"
    atomic_file(out_dir / SPEC_COPY, lambda path: path.write_text(signature, encoding="utf-8"))


def _identify(scheduler: str) -> None:
    """Ask the server at ``scheduler`` who it is, within :data:`CONNECT_TIMEOUT` seconds.

    Raises
    ------
    ValueError
        If it does not answer as a Dask scheduler in time (an HTTP server, say, never answers
        Dask's handshake, and Dask's own client would wait for it for ever).
    """
    import asyncio

    from distributed.comm import connect

    async def ask() -> object:
        comm = await connect(scheduler, timeout=CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    def in_own_loop() -> object:
        return asyncio.run(asyncio.wait_for(ask(), CONNECT_TIMEOUT))

    # In a thread of its own: the calling thread may already run an event loop (a notebook, a
    # browser driver), in which asyncio.run refuses to start.
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            reply = pool.submit(in_own_loop).result()
    except Exception as error:  # noqa: BLE001 - whatever fails, it is not a scheduler we can use
        raise ValueError(f"no Dask scheduler answered ({type(error).__name__})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError("the server there is not a Dask scheduler")


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
        _identify(scheduler)
        # Not the process's default client: a failed one would be left behind for xarray to use.
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT:g}s", set_as_default=False)
    except (OSError, ValueError, TypeError) as error:
        raise InputError(
            f"cannot reach the Dask scheduler at '{scheduler}' within {CONNECT_TIMEOUT:g} s "
            f"({type(error).__name__}: {error}); give its address as tcp://HOST:PORT"
        ) from None
    # Dask's client logs its own tracebacks when the scheduler goes away; the user gets this
    # command's one-line error instead.
    names = [name for name in logging.root.manager.loggerDict if name.startswith("distributed")]
    loggers = [logging.getLogger(name) for name in ["distributed", *names]]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with client:
            yield client
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def local_client(workers: int, scratch: Path) -> Iterator[object]:
    """Start a local Dask cluster: ``workers`` processes, or one worker thread in this process.

    The workers keep their files in ``scratch`` (inside the output folder, under the scratch
    prefix), so nothing is written outside it.
    """
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set({"temporary-directory": str(scratch)}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=workers > 1,
            dashboard_address=None,
            # The scheduler's HTTP routes (metrics, health) still listen; on a free local port,
            # so another Dask cluster on this machine (port 8787) neither clashes nor warns.
            scheduler_kwargs={"dashboard_address": SCHEDULER_HTTP_ADDRESS},
            # A chunk may hold several hundred MB at the largest chunk size; the nanny must not
            # pause or kill a worker for that.
            memory_limit=0,
            # Dask's own log lines (a worker losing its scheduler on Ctrl-C, say) are not the
            # user's to act on; what goes wrong reaches the user as this command's error.
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def run_chunks(client, tasks: list[ChunkTask], progress: tqdm) -> None:
    """Run chunks on a Dask client; stop if it has had no worker for :data:`WORKER_TIMEOUT`.

    Raises
    ------
    ExecutionError
        If the scheduler is lost or has had no worker for :data:`WORKER_TIMEOUT` seconds; the
        chunks finished so far are kept in the store.
    """
    from distributed.comm.core import CommClosedError

    futures = {
        client.submit(run_chunk, task, pure=False, key=f"sweep-chunk-{task.index}"): task
        for task in tasks
    }
    pending = set(futures)
    idle_since: float | None = None
    checked = time.monotonic()
    while pending:
        done = [future for future in pending if future.done()]
        for future in done:
            pending.discard(future)
            try:
                future.result()  # a chunk that raised stops the sweep, keeping the others' work
            # The scheduler is gone: the chunk was cancelled, or its result could not be fetched.
            except (concurrent.futures.CancelledError, CommClosedError) as error:
                raise ExecutionError(
                    f"lost the Dask scheduler ({str(error).splitlines()[0]}); the finished "
                    "chunks are kept, run the same command again to resume"
                ) from None
            progress.update(len(futures[future].rows))
        if not pending:
            break
        if not done:
            time.sleep(WAIT_STEP)
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
        idle_since = None if workers else (idle_since or checked)
        if idle_since is not None and checked - idle_since >= WORKER_TIMEOUT:
            raise ExecutionError(
                f"the Dask cluster has had no worker for {WORKER_TIMEOUT:g} s with "
                f"{len(pending)} chunk(s) left; the finished chunks are kept, run the same "
                "command again to resume"
            )


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    path : Path
        The store, ``sweep.zarr``.
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


def _mend(target: Path, quiet: bool) -> bool:
    """Check a store found in the output folder; say whether it must be laid out anew.

    Chunks whose files differ from their checksums are marked not done, so they run again; damage
    to the layout (an array's metadata, a coordinate) means every chunk runs again.
    """
    damage = store.verify(target)
    for part in damage if not quiet else ():
        print(f"debtloops: {target} is damaged: {part}; recomputing", file=sys.stderr)
    if any(part.layout for part in damage):
        return True
    store.mark_not_done(target, [index for part in damage for index in part.chunks])
    return False


def run_sweep(
    spec_path: Path,
    out_dir: Path,
    workers: int | None = 1,
    scheduler: str | None = None,
    quiet: bool = False,
    chunk_size: int | None = None,
    cbo: str | Path | None = None,
) -> SweepReport:
    """Run a sweep into ``out_dir/sweep.zarr``, resuming from the chunks already done there.

    Parameters
    ----------
    spec_path : Path
        The sweep specification.
    out_dir : Path
        The output folder: new or empty, or holding an unfinished run of the same sweep.
    workers : int or None
        Local worker processes; 1 runs in one worker thread of this process; None chooses
        :func:`auto_workers`: one per core, at most one per chunk still to run and no more
        than the memory holds (:data:`CHUNK_COPIES`); more than :data:`MAX_WORKERS` are refused
        and more than the chunks are not started.
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler to run the chunks on instead.
    quiet : bool
        Hide the progress bar.
    chunk_size : int, optional
        Samples per chunk; :func:`default_chunk_size` by default.
    cbo : str or Path, optional
        The CBO vintage of every run, the reference's too (``--cbo``). A sweep resumes only on
        the vintage it started on: the vintage is part of the folder's claim.

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
    if workers is not None:
        check_workers(workers, 1)
    found = data.vintage(cbo) if cbo is not None else None
    return run_plan(
        plan(spec_path, chunk_size, cbo=cbo),
        spec_path,
        out_dir,
        workers,
        scheduler,
        quiet,
        started,
        found,
    )


def run_plan(
    plan_: SweepPlan,
    spec_path: Path,
    out_dir: Path,
    workers: int | None = 1,
    scheduler: str | None = None,
    quiet: bool = False,
    started: float | None = None,
    vintage: data.Vintage | None = None,
) -> SweepReport:
    """Run a sweep laid out by :func:`plan` (or built from one) into ``out_dir/sweep.zarr``.

    :func:`run_sweep` is this with the plan of a specification file; ``debtloops compare-policies``
    (:mod:`debtloops.policies`) passes a plan whose runs are its scenarios under each policy. The
    parameters and errors are :func:`run_sweep`'s; ``started`` is when the call began, as
    :func:`time.perf_counter` gives it [s] (now by default); ``vintage`` is the CBO vintage the
    plan's runs were prepared on (``--cbo``), recorded in the store and in the folder's claim, so
    that a resume cannot switch it.
    """
    started = time.perf_counter() if started is None else started
    claim = plan_.design.spec.text
    if vintage is not None:  # the vintage is part of the claim: a resume may not switch it
        claim = f"# cbo = {vintage.name if vintage.shipped else vintage.folder}\n{claim}"
    per_chunk = chunk_bytes(
        plan_.chunk_size, len(plan_.runs), len(plan_.internal), len(plan_.times)
    )
    fit = max(1, memory_budget() // per_chunk)  # workers whose chunks the memory holds
    if scheduler is None:  # the workers' memory, before any starts
        parallel = min(workers or 1, plan_.n_chunks)  # by default, as many as fit
        check_memory(
            parallel * per_chunk,
            f"{parallel} worker(s) each running a chunk of {plan_.chunk_size:,} samples",
            "give fewer --workers or a smaller --chunk-size",
        )
        # The chunks' ensemble translated here, once: a cache that cannot be written is
        # refused before any worker starts, and the workers find the translation made.
        ensemble.build(plan_.chunk_size)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output folder {out_dir} is a file; choose a folder for --out")
    target = store.store_path(out_dir)
    check_targets(out_dir, [SPEC_COPY, target.name])  # again below, under the lock
    with contextlib.ExitStack() as stack:
        # A scheduler is reached before anything is written; a local cluster starts inside the
        # locked folder, its workers' files in a scratch folder there.
        client = stack.enter_context(_connect(scheduler)) if scheduler else None
        stack.enter_context(output_lock(out_dir))
        check_targets(out_dir, [SPEC_COPY, target.name])
        if not _check_folder(out_dir, claim, plan_.chunk_size):
            _claim(out_dir, claim, plan_.chunk_size)
        fresh = not target.is_dir() or _mend(target, quiet)
        if client is None:
            scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix("dask"), dir=out_dir))
            stack.callback(shutil.rmtree, scratch, ignore_errors=True)
            to_run = plan_.n_chunks
            if not fresh:
                to_run -= int(store.done_chunks(target).sum())
            if workers is None:
                workers = min(auto_workers(to_run), fit)
            else:
                workers = check_workers(workers, to_run)
            client = stack.enter_context(local_client(workers, scratch))
        if fresh:  # laid out anew, replacing a store whose layout is damaged
            store.create(
                target,
                plan_.design,
                plan_.times,
                plan_.variables,
                plan_.chunk_size,
                inputs=plan_.inputs,
                attrs={
                    **provenance_attrs(),
                    **vintage_attrs(vintage),
                    store.SPEC_PATH_ATTR: str(spec_path.resolve()),
                },
            )
        done = store.done_chunks(target)
        tasks = [plan_.task(i, target.absolute()) for i in range(plan_.n_chunks) if not done[i]]
        computed = sum(len(task.rows) for task in tasks)
        with progress_bar(plan_.n_samples, plan_.n_samples - computed, quiet) as progress:
            run_chunks(client, tasks, progress)
    with store.open_sweep(target) as result:
        failed = int((result[store.ERROR] != "").any("scenario").sum())
    return SweepReport(target, plan_.n_samples, computed, failed, time.perf_counter() - started)
