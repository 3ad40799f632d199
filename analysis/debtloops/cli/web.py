"""The commands of the ``app`` extra: ``explore`` (a live explorer) and ``report`` (HTML)."""

from __future__ import annotations

import argparse
import importlib
import time
from types import ModuleType

from debtloops.cli.options import (
    _address,
    _path,
    _port,
    add_cbo,
    add_final_time,
    add_out,
    add_scenarios,
    add_set,
)
from debtloops.cli.runs import prepare_all
from debtloops.errors import InputError, unknown_name
from debtloops.fan import MAX_DRAWS as FAN_MAX_DRAWS
from debtloops.fan import MIN_DRAWS as FAN_MIN_DRAWS
from debtloops.fan import REPORT_DRAWS as REPORT_FAN_DRAWS
from debtloops.io import LOCK_TIMEOUT, check_targets
from debtloops.limits import check_count
from debtloops.model.scenarios import list_scenarios

#: The explorer's default TCP port (Bokeh's).
EXPLORE_PORT = 5006
#: The explorer's default interface: this machine only.
EXPLORE_ADDRESS = "127.0.0.1"
#: The scenario the explorer opens on by default.
EXPLORE_SCENARIO = "japan_full"
#: What to install when the web libraries are missing.
APP_EXTRA = "pip install -e '.[app]' (or make, which installs it)"
#: The top-level packages of the ``app`` extra, whose absence :func:`web_import` explains.
APP_PACKAGES = ("panel", "bokeh", "jinja2", "markupsafe")


def web_import(module: str) -> ModuleType:
    """Import a module of :mod:`debtloops.app`, saying how to install the extra if it fails."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in APP_PACKAGES:
            raise InputError(f"this command needs {error.name}: {APP_EXTRA}") from None
        raise


def explore_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops explore``."""
    command.add_argument(
        "--port",
        type=_port,
        default=EXPLORE_PORT,
        metavar="N",
        help=f"TCP port (default: {EXPLORE_PORT})",
    )
    command.add_argument(
        "--address",
        type=_address,
        default=EXPLORE_ADDRESS,
        metavar="IP",
        help=f"the interface to listen on (default: {EXPLORE_ADDRESS}, this machine only); "
        "another serves colleagues with no login, see the README",
    )
    command.add_argument(
        "--scenario",
        default=EXPLORE_SCENARIO,
        metavar="S",
        help=f"the shipped scenario the explorer opens on (default: {EXPLORE_SCENARIO})",
    )
    command.add_argument(
        "--show", action="store_true", help="open the page in the default web browser"
    )
    add_cbo(command)


def explore_command(args: argparse.Namespace) -> None:
    """Serve the live explorer until interrupted."""
    if args.scenario not in list_scenarios():
        raise unknown_name("scenario", args.scenario, list_scenarios())
    web_import("debtloops.app.explorer").serve(
        args.port, args.scenario, args.show, args.cbo, args.address
    )


def report_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops report``."""
    add_scenarios(command, "a shipped scenario name or the path of a .toml scenario file")
    command.add_argument(
        "--sweep",
        type=_path,
        metavar="DIR",
        help="a sweep folder after `debtloops analyze`: its tables and figures are included",
    )
    add_final_time(command, "last year simulated (default: 2055)")
    add_set(
        command,
        "override a parameter in every scenario, the baseline reference too (as in run)",
    )
    add_cbo(command)
    command.add_argument(
        "--fan-draws",
        type=int,
        default=REPORT_FAN_DRAWS,
        metavar="N",
        help=f"draws of each scenario's fan chart (default: {REPORT_FAN_DRAWS}; 0 leaves it out)",
    )
    command.add_argument(
        "--no-attribution",
        action="store_true",
        help="leave out the attribution of each scenario's change to the mechanisms",
    )
    add_out(command, f"output folder for report.html; a second writer waits {LOCK_TIMEOUT:g} s")


def report_command(args: argparse.Namespace) -> None:
    """Run the scenarios and write them, with their baseline, into one HTML report."""
    report = web_import("debtloops.app.report")
    prepared, references = prepare_all(args)
    if len({id(reference) for reference in references.values()}) > 1:
        raise InputError(
            "a report compares every scenario with one baseline: its scenarios must share one CBO "
            "vintage, start year and last year; write a report for each"
        )
    reference = next(iter(references.values()))
    if args.fan_draws:
        check_count(args.fan_draws, "--fan-draws", FAN_MIN_DRAWS, FAN_MAX_DRAWS)
    check_targets(args.out, [report.REPORT_NAME])
    started = time.perf_counter()
    path = report.write_report(
        args.out, prepared, reference, args.sweep, not args.no_attribution, args.fan_draws
    )
    print(f"report in {path} ({time.perf_counter() - started:.1f} s)")
