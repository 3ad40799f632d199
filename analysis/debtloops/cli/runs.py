"""``debtloops run``: run scenarios, each with its baseline reference, and write their results.

:func:`prepare_all` is shared with ``debtloops report``, which runs scenarios the same way.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from debtloops.cli.options import (
    add_cbo,
    add_data,
    add_final_time,
    add_out,
    add_scenarios,
    add_set,
    set_values,
)
from debtloops.errors import InputError
from debtloops.io import LOCK_TIMEOUT, check_targets
from debtloops.model.parameters import load_parameters
from debtloops.model.run import PreparedRun, execute, prepare, reference_for
from debtloops.model.scenarios import REFERENCE
from debtloops.outputs import HEADLINES_NAME, format_headlines, write_results
from debtloops.paths import SCENARIO_DIR

if TYPE_CHECKING:
    import xarray as xr

#: Where ``run`` writes when no ``--out`` is given (relative to the working folder).
DEFAULT_OUT = "outputs"


def run_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops run``."""
    add_scenarios(
        command,
        "a shipped scenario name (see `debtloops list`) or the path of a .toml scenario "
        "file; results go to DIR/<name or file stem>/",
    )
    add_final_time(command)
    add_set(
        command,
        "override a parameter in every scenario of the run (the baseline reference too); "
        "drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )
    add_cbo(command)
    add_out(
        command,
        f"output folder (default: {DEFAULT_OUT}); a second writer waits {LOCK_TIMEOUT:g} s",
        required=False,
        default=Path(DEFAULT_OUT),
    )
    add_data(command)


def run_command(args: argparse.Namespace) -> None:
    """Run the scenarios and their references; write results and print the headlines."""
    prepared, references = prepare_all(args)
    check_targets(args.out, [*prepared, HEADLINES_NAME])
    started = time.perf_counter()
    results = {name: execute(run) for name, run in prepared.items()}
    executed: dict[int, xr.Dataset] = {id(prepared[name]): results[name] for name in results}
    for reference in references.values():
        if id(reference) not in executed:
            executed[id(reference)] = execute(reference)
    baselines = {name: executed[id(reference)] for name, reference in references.items()}
    elapsed = time.perf_counter() - started
    rows = write_results(args.out, results, baselines)
    print(format_headlines(rows))
    count = len(executed)
    print(f"\n{count} runs in {elapsed:.2f} s; results in {args.out}/")


def prepare_all(
    args: argparse.Namespace,
) -> tuple[dict[str, PreparedRun], dict[str, PreparedRun]]:
    """Validate every scenario asked for, its reference and their output folder names.

    Each scenario's reference is the baseline on the same CBO vintage, from the same start year to
    the same last year; scenarios that share these share one reference run.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: ``scenarios``, ``set``, ``final_time``, ``cbo`` and ``out``.

    Returns
    -------
    tuple of dict
        The prepared scenarios by name, and the reference of each by the scenario's name.
    """
    overrides = set_values(args)
    table = load_parameters()
    prepared: dict[str, PreparedRun] = {}
    for scenario in dict.fromkeys(args.scenarios):
        run = prepare(scenario, overrides, args.final_time, table, args.cbo)
        name, path = run.scenario.name, run.scenario.path
        assert path is not None, "a scenario read from a name or a file has its path"
        earlier = prepared[name].scenario.path if name in prepared else None
        if earlier is not None and earlier.resolve() != path.resolve():
            raise InputError(
                f"scenarios {prepared[name].scenario.path} and {path} would both write to "
                f"{args.out}/{name}/; rename one of the files"
            )
        shipped = SCENARIO_DIR / f"{REFERENCE}.toml"
        if name == REFERENCE and path.resolve() != shipped.resolve():
            raise InputError(
                f"scenario file {path} is named '{REFERENCE}', like the shipped reference "
                "scenario every run is compared with; rename the file"
            )
        prepared[name] = run
    known = {_reference_key(r): r for r in prepared.values() if r.scenario.name == REFERENCE}
    references: dict[str, PreparedRun] = {}
    for name, run in prepared.items():
        key = _reference_key(run)
        if key not in known:
            known[key] = reference_for(run, overrides, table)
        references[name] = known[key]
    return prepared, references


def prepare_one(args: argparse.Namespace) -> tuple[PreparedRun, PreparedRun]:
    """Validate the one scenario of a command that analyses a scenario, and its reference.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: ``scenario``, ``set``, ``final_time`` and ``cbo``.

    Returns
    -------
    tuple of PreparedRun
        The scenario with ``--set`` and ``--final-time`` applied, and the baseline it is compared
        with: on its vintage and years, with the same ``--set``.
    """
    overrides = set_values(args)
    table = load_parameters()
    run = prepare(args.scenario, overrides, args.final_time, table, args.cbo)
    return run, reference_for(run, overrides, table)


def _reference_key(run: PreparedRun) -> tuple:
    """Return what a scenario's reference shares with it: the vintage, the first and last years."""
    vintage = None if run.vintage is None else run.vintage.folder
    return (vintage, run.values["initial_time"], run.values["final_time"])
