"""The commands of sweeps: ``sweep``, ``analyze``, ``discover`` and ``compare-policies``."""

from __future__ import annotations

import argparse
import time

from debtloops.cli.options import (
    _names,
    _scheduler_address,
    add_cbo,
    add_chunk_size,
    add_final_time,
    add_out,
    add_quiet,
    add_set,
    add_spec,
    add_sweep_folder,
    add_workers,
    set_values,
)
from debtloops.io import check_targets, output_lock
from debtloops.model.data import vintage
from debtloops.model.outcomes import PER_SAMPLE
from debtloops.policies import NO_POLICY, SHIPPED_POLICIES


def sweep_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops sweep``."""
    add_spec(command, "sweep specification (TOML)")
    add_out(command, "output folder for the sweep")
    add_workers(
        command,
        "local Dask worker processes (default: one per core, at most one per chunk; "
        "1 runs in this process)",
    )
    command.add_argument(
        "--scheduler",
        type=_scheduler_address,
        metavar="ADDRESS",
        help="a dask.distributed scheduler, tcp://HOST:PORT; the sweep stops, keeping its chunks, "
        "after 60 s without any worker",
    )
    add_quiet(command)
    add_chunk_size(
        command,
        "samples per chunk, the unit kept when a sweep is interrupted (default: 10,000; "
        "a smaller sweep is one chunk)",
    )
    add_cbo(command)
    _add_settings(command)


def _add_settings(command: argparse.ArgumentParser) -> None:
    """Add ``--final-time`` and ``--set`` of a sweep: part of the folder's claim, like the spec."""
    add_final_time(
        command, "last year simulated, instead of the spec's final_time; a resume gives the same"
    )
    add_set(
        command,
        "override a parameter in every run, the baseline's too, but not one the spec varies; a "
        "resume gives the same; drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )


def sweep_command(args: argparse.Namespace) -> None:
    """Run a sweep into ``--out``, resuming its finished chunks."""
    from debtloops.sweeps.execute import run_sweep

    report = run_sweep(
        args.spec,
        args.out,
        args.workers,
        args.scheduler,
        args.quiet,
        args.chunk_size,
        args.cbo,
        set_values(args),
        args.final_time,
    )
    print(
        f"{report.samples} samples ({report.computed} computed now) in {report.seconds:.1f} s; "
        f"{report.failed} failed; results in {report.path}"
    )


def analyze_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops analyze``."""
    add_sweep_folder(command)
    command.add_argument(
        "--over-time",
        action="append",
        default=[],
        metavar="VARIABLE",
        help="also compute Sobol indices of VARIABLE at every saved time (Sobol sweeps)",
    )
    command.add_argument(
        "--netcdf",
        action="store_true",
        help="also write the sweep as DIR/sweep.nc (CF-1.10) for netCDF tools",
    )


def analyze_command(args: argparse.Namespace) -> None:
    """Write the sensitivity indices and charts of a finished sweep into its folder."""
    from debtloops.sweeps.analysis import analyze

    if not (args.folder / "sweep.zarr").is_dir():
        path = analyze(args.folder, args.over_time, args.netcdf)  # refuses, writing nothing
    else:
        with output_lock(args.folder):
            path = analyze(args.folder, args.over_time, args.netcdf)
    copy = f", the sweep in {args.folder / 'sweep.nc'}" if args.netcdf else ""
    print(f"analysis in {path}{copy} and PNG figures in {args.folder}/")


def discover_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops discover``."""
    add_sweep_folder(command)
    command.add_argument(
        "--where",
        required=True,
        metavar="EXPR",
        help="the cases of interest, e.g. 'debt_to_gdp_2055 > 170 and peak_market_yield >= 6' "
        "(ratios and rates in percent; >, >=, <, <=, and, or, parentheses); the scalar "
        f"outcomes: {', '.join(PER_SAMPLE)}; and any series at a whole year, SERIES_YEAR",
    )
    command.add_argument(
        "--scenario", metavar="S", help="the sweep's scenario to use (default: its first)"
    )
    add_out(command, "output folder (default: DIR/discover)", required=False)


def discover_command(args: argparse.Namespace) -> None:
    """Find where a condition holds in a finished sweep; write and print the boxes."""
    from debtloops.discover import (
        FOLDER_NAME,
        OUTPUT_NAMES,
        discover,
        format_discovery,
        write_discovery,
    )

    out = args.out if args.out is not None else args.folder / FOLDER_NAME
    check_targets(out, OUTPUT_NAMES)
    started = time.perf_counter()
    found = discover(args.folder, args.where, args.scenario)  # refuses, writing nothing
    elapsed = time.perf_counter() - started
    with output_lock(out):
        written = write_discovery(out, found)
    print(format_discovery(found))
    print(f"found in {elapsed:.1f} s; {', '.join(map(str, written))}")


def compare_policies_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops compare-policies``."""
    add_spec(command, "sweep specification (TOML): the uncertainties")
    add_out(command, "output folder for sweep.zarr, policies.nc, policies.csv and policies.png")
    command.add_argument(
        "--policies",
        type=_names,
        metavar="A,B,...",
        help=f"shipped scenarios whose lever settings to compare besides {NO_POLICY} "
        f"(default: {','.join(SHIPPED_POLICIES)})",
    )
    add_workers(command, "local Dask worker processes, as for sweep (1 runs in this process)")
    add_chunk_size(command, "experiments per chunk, as for sweep")
    add_quiet(command)
    add_cbo(command)
    _add_settings(command)


def compare_policies_command(args: argparse.Namespace) -> None:
    """Run every policy over a sweep's experiments; write and print outcomes and regret."""
    from debtloops.policies import (
        ALL_NAMES,
        compare,
        format_table,
        load_policies,
        policy_plan,
        policy_table,
        write_policies,
    )
    from debtloops.sweeps.execute import check_workers, run_plan

    check_targets(args.out, ALL_NAMES)
    if args.workers is not None:
        check_workers(args.workers, 1)
    started = time.perf_counter()
    policies = load_policies(args.policies)
    plan_ = policy_plan(  # refuses, writing nothing
        args.spec, policies, args.chunk_size, args.cbo, set_values(args), args.final_time
    )
    found = vintage(args.cbo) if args.cbo is not None else None
    report = run_plan(plan_, args.spec, args.out, args.workers, None, args.quiet, started, found)
    dataset = compare(args.out, policies)
    with output_lock(args.out):
        written = write_policies(args.out, dataset)
    print(format_table(policy_table(dataset)))
    print(
        f"\n{report.samples:,} experiments x {len(policies)} policies ({report.computed:,} "
        f"computed now, {report.failed} failed) in {time.perf_counter() - started:.1f} s; "
        f"{', '.join(map(str, written))} and the runs in {report.path}"
    )
