"""Sensitivity sweeps: run a sweep specification's design through the ensemble model in chunks.

``debtloops sweep SPEC --out DIR`` plans the sweep once (:func:`debtloops.sweeps.plan.plan`: the
specification checked, its design drawn), lays out the result store ``DIR/sweep.zarr`` with its
full shape (:mod:`debtloops.sweeps.store`, which documents its layout) and runs the design in
chunks of samples, each chunk as one ensemble simulation per scenario
(:mod:`debtloops.sweeps.chunks`). Each chunk is shipped what it needs (a
:class:`~debtloops.sweeps.chunks.ChunkTask`) and writes its own region of the store, then marks
itself done; nothing is assembled in memory.

Chunks run through one path, a ``dask.distributed`` client: a cluster of ``--workers N`` local
processes (with one worker, a single worker thread inside this process), or an existing cluster
with ``--scheduler ADDRESS`` (its workers must see ``DIR``). A killed sweep keeps its finished
chunks; running the same command again runs only the chunks not marked done, with a result
identical bit for bit to an uninterrupted run. The store found there is checked first
(:func:`debtloops.sweeps.store.verify`): a chunk whose files differ from the checksums recorded
when it was written (deleted, truncated, overwritten) is run again, and so is every chunk if the
store's layout is damaged. The sweep is complete, and ``DIR/sweep.zarr`` its product, when every
chunk is marked done. By default a chunk is :data:`~debtloops.sweeps.plan.MAX_CHUNK_SIZE` samples
(a smaller sweep is one chunk), so a killed sweep loses at most one chunk per worker, a few
seconds of work. The folder is locked while the sweep runs (:func:`debtloops.io.output_lock`). On
a cluster, a sweep that has had no worker for :data:`WORKER_TIMEOUT` seconds stops with a
message, keeping its finished chunks.

The baseline is run alongside each chunk, with the same sampled values, to give ``extra_interest``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

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
from debtloops.limits import check_count, check_memory, memory_budget
from debtloops.model import data, ensemble
from debtloops.model.parameters import Value
from debtloops.model.run import vintage_attrs
from debtloops.provenance import provenance_attrs
from debtloops.sweeps import store
from debtloops.sweeps.chunks import ChunkTask, run_chunk
from debtloops.sweeps.plan import SweepPlan, chunk_bytes, plan

#: The most local worker processes a sweep starts; each loads the model and holds a chunk [1].
MAX_WORKERS = 64
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
SPEC_COPY = "sweep_spec.toml"


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


def _claim_folder(out_dir: Path, claim: str, chunk_size: int) -> None:
    """Refuse an output folder that holds a different sweep; claim it when it holds none.

    Call it holding the folder's lock. The claim (the specification's text, with the vintage and
    the chunk size) is written to :data:`SPEC_COPY`; a resume must bring the same.
    """
    stored = out_dir / SPEC_COPY
    signature = f"# chunk_size = {chunk_size}\n{claim}"
    if stored.is_file():
        if stored.read_text(encoding="utf-8", errors="replace") != signature:
            raise InputError(
                f"{out_dir} holds a different sweep (its {SPEC_COPY} differs from this "
                "specification, its --set, --final-time or --cbo, or chunk size); choose "
                "another --out folder or remove it"
            )
        return
    ours = (LOCK_NAME, MANIFEST_NAME, SCRATCH_PREFIX)
    if any(not p.name.startswith(ours) for p in out_dir.iterdir()):
        raise InputError(f"{out_dir} is not empty and holds no sweep; choose another --out folder")
    atomic_file(stored, lambda path: path.write_text(signature, encoding="utf-8"))


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
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
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
        than the memory holds (:data:`~debtloops.sweeps.plan.CHUNK_COPIES`); more than
        :data:`MAX_WORKERS` are refused and more than the chunks are not started.
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler to run the chunks on instead.
    quiet : bool
        Hide the progress bar.
    chunk_size : int, optional
        Samples per chunk; :func:`~debtloops.sweeps.plan.default_chunk_size` by default.
    cbo : str or Path, optional
        The CBO vintage of every run, the reference's too (``--cbo``). A sweep resumes only on
        the vintage it started on: the vintage is part of the folder's claim.
    overrides, final_time : optional
        ``--set`` and ``--final-time`` (:func:`~debtloops.sweeps.plan.plan`), also in the claim.

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
        plan(spec_path, chunk_size, None, cbo, overrides, final_time),
        spec_path,
        out_dir,
        workers,
        scheduler,
        quiet,
        started,
        found,
    )


def _local_fit(plan_: SweepPlan, workers: int | None) -> int:
    """Check local workers' memory before any starts; return how many workers it holds [1].

    The chunks' ensemble is translated here, once: a cache that cannot be written is refused
    before any worker starts, and the workers find the translation made.
    """
    per_chunk = chunk_bytes(
        plan_.chunk_size, len(plan_.runs), len(plan_.internal), len(plan_.times)
    )
    parallel = min(workers or 1, plan_.n_chunks)  # by default, as many as fit
    check_memory(
        parallel * per_chunk,
        f"{parallel} worker(s) each running a chunk of {plan_.chunk_size:,} samples",
        "give fewer --workers or a smaller --chunk-size",
    )
    ensemble.build(plan_.chunk_size)
    return max(1, memory_budget() // per_chunk)


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
    fit = _local_fit(plan_, workers) if scheduler is None else 1
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
        _claim_folder(out_dir, claim, plan_.chunk_size)
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
            attrs = {**vintage_attrs(vintage), store.SPEC_PATH_ATTR: str(spec_path.resolve())}
            store.create(
                target,
                plan_.design,
                plan_.times,
                plan_.variables,
                plan_.chunk_size,
                inputs=plan_.inputs,
                attrs={**provenance_attrs(), **attrs},
            )
        done = store.done_chunks(target)
        tasks = [plan_.task(i, target.absolute()) for i in range(plan_.n_chunks) if not done[i]]
        computed = sum(len(task.rows) for task in tasks)
        with progress_bar(plan_.n_samples, plan_.n_samples - computed, quiet) as progress:
            run_chunks(client, tasks, progress)
    with store.open_sweep(target) as result:
        failed = int((result[store.ERROR] != "").any("scenario").sum())
    return SweepReport(target, plan_.n_samples, computed, failed, time.perf_counter() - started)
