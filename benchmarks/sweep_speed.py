"""Compare the sweep path with a plain loop of pysd runs, in one run, and print the figures.

Measured in one run on the same machine:

* the plain loop: the translated model loaded once, then one ``model.run`` per sample;
* the project's sweep path (``debtloops.sweeps.execute.run_sweep`` into a zarr store) at each size
  asked for, of the full model over 30 years. Each sample is run in ``japan_full`` and, as the
  reference for the extra interest, in the baseline: two simulations per sample, against one in
  the plain loop. Each size runs in a fresh process, so that its peak memory is its own; with
  ``--workers N`` (N > 1) the chunks run on a local ``dask.distributed`` cluster of N worker
  processes, whose peak memory is read from the workers themselves.
* with ``--analyze``, ``debtloops analyze`` on each store, in a fresh process too.

The ensemble translation for the chunk size is made (and cached) before the clock starts.

Goals: 100,000 samples at no less than 300 times the plain loop's samples per second
with a peak under 1 GB; 1,000,000 samples on a local cluster of 2 workers with under 1.5 GB per
process, and ``analyze`` on that store under 2 GB; 10,000 samples no slower than 2,500 samples/s.

Examples::

    python benchmarks/sweep_speed.py                                # 10,000 and 100,000 samples
    python benchmarks/sweep_speed.py --samples 1000000 --workers 2 --analyze
    python benchmarks/sweep_speed.py --samples 10000 --chunk-size 2500
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

from debtloops.model import engine
from debtloops.model.run import prepare

PLAIN_LOOP_SAMPLES = 40
DEFAULT_SIZES = (10_000, 100_000)
KIB_PER_MIB = 1024
SPEC = """\
# speed: Latin hypercube over the yield-impact and risk-premium parameters in japan_full
# Intent: benchmark the sweep path.
# Source: ranges from models/parameters.toml.
scenarios = ["japan_full"]
outcomes = ["debt_to_gdp", "market_yield", "interest_to_revenue", "dollar_index"]

[sampler]
method = "lhs"
samples = {samples}
seed = 1

[uncertainties.portfolio_balance_sensitivity]
[uncertainties.flow_effect_sensitivity]
[uncertainties.risk_premium_debt_sensitivity]
[uncertainties.ten_year_note_maturity]
"""


def peak_mib() -> float:
    """Return this process's peak resident memory [MiB] (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB


def plain_loop_rate() -> float:
    """Return the samples per second of one pysd run per sample, model loaded once."""
    values = dict(prepare("japan_full").values)
    pysd_model = engine.load()
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for _ in range(PLAIN_LOOP_SAMPLES):
        values["portfolio_balance_sensitivity"] = float(rng.uniform(0.3, 0.6))
        engine.run_loaded(pysd_model, values)
    return PLAIN_LOOP_SAMPLES / (time.perf_counter() - started)


def one_sweep(samples: int, workers: int, chunk_size: int | None, folder: Path) -> dict:
    """Run one sweep in this process and return its figures (called in a child process)."""
    from distributed import Client, LocalCluster

    from debtloops.model import ensemble
    from debtloops.sweeps.execute import default_chunk_size, run_sweep

    spec = folder / f"speed_{samples}.toml"
    spec.write_text(textwrap.dedent(SPEC.format(samples=samples)))
    size = chunk_size or default_chunk_size(samples)
    ensemble.build(size)  # the one-off translation, cached, outside the clock
    out = folder / f"sweep_{samples}"
    workers_peak: list[float] = []
    if workers > 1:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                memory_limit=0,
            ) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            report = run_sweep(
                spec, out, scheduler=cluster.scheduler_address, quiet=True, chunk_size=size
            )
            workers_peak = list(client.run(peak_mib).values())
    else:
        report = run_sweep(spec, out, quiet=True, chunk_size=size)
    return {
        "samples": samples,
        "chunk_size": size,
        "seconds": report.seconds,
        "failed": report.failed,
        "peak_mib": peak_mib(),
        "workers_peak_mib": workers_peak,
        "store": str(report.path),
    }


def one_analysis(folder: Path) -> dict:
    """Run ``analyze`` on a sweep folder and return its time and peak memory (in a child)."""
    from debtloops.sweeps.analysis import analyze

    started = time.perf_counter()
    analyze(folder)
    return {"seconds": time.perf_counter() - started, "peak_mib": peak_mib()}


def _child(*args: str) -> dict:
    """Run this script in a fresh process for one measurement; return its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Time the sweep path (japan_full and its baseline per sample, 30 years, into a zarr "
            "store) against a plain loop of pysd runs measured in the same run; print samples/s, "
            "the ratio to the loop and peak memory. Each size runs in its own process."
        ),
        epilog=(
            "Goals: 100,000 samples at >= 300x the plain loop, peak < 1 GB; 1,000,000 samples "
            "with --workers 2 at < 1.5 GB per process and --analyze < 2 GB; 10,000 samples at "
            ">= 2,500 samples/s."
        ),
    )
    parser.add_argument(
        "--samples",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        metavar="N",
        help="sweep sizes to time, each in its own process (default: 10000 100000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="W",
        help="1: one worker thread in the sweep's process (default); W > 1: a dask.distributed "
        "LocalCluster of W worker processes",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="shorthand for --workers 2",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        metavar="C",
        help="samples per chunk (default: the sweep's own, 10,000 or the whole sweep)",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="also time `analyze` on each store (fan charts, rank correlations), in its own "
        "process",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="write the stores here and keep them"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--analyze-one", type=Path, help=argparse.SUPPRESS)
    return parser


def main() -> None:
    warnings.simplefilter("error")
    args = _parser().parse_args()
    workers = 2 if args.cluster else args.workers
    if args.one is not None:
        print(json.dumps(one_sweep(args.one, workers, args.chunk_size, args.keep)))
        return
    if args.analyze_one is not None:
        print(json.dumps(one_analysis(args.analyze_one)))
        return
    one, five, _ = os.getloadavg()
    print(f"machine load (1 and 5 min averages): {one:.2f} {five:.2f} on {os.cpu_count()} CPUs")
    loop = plain_loop_rate()
    print(f"plain loop, one model.run per sample:  {loop:10.1f} samples/s")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for samples in args.samples:
            extra = ["--workers", str(workers), "--keep", str(folder)]
            if args.chunk_size:
                extra += ["--chunk-size", str(args.chunk_size)]
            result = _child("--one", str(samples), *extra)
            rate = samples / result["seconds"]
            where = f"{workers} worker processes" if workers > 1 else "one process"
            print(
                f"sweep, {samples:>9,} samples ({where}, chunks of {result['chunk_size']:,}): "
                f"{rate:10.1f} samples/s, {result['seconds']:.1f} s, {result['failed']} failed"
            )
            print(f"  ratio to the plain loop:             {rate / loop:10.1f} x")
            print(f"  peak memory, sweep process:          {result['peak_mib']:10.0f} MiB")
            for k, worker in enumerate(result["workers_peak_mib"]):
                print(f"  peak memory, worker {k}:               {worker:10.0f} MiB")
            if args.analyze:
                analysis = _child("--analyze-one", str(Path(result["store"]).parent))
                print(
                    f"  analyze: {analysis['seconds']:.1f} s, peak memory "
                    f"{analysis['peak_mib']:.0f} MiB"
                )


if __name__ == "__main__":
    main()
