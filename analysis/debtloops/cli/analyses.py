"""The commands that analyse one scenario: ``attribute``, ``diagram``, ``fan`` and ``target``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from debtloops.attribution import DEFAULT_PERMUTATIONS, DEFAULT_SEED, EXACT_LIMIT
from debtloops.attribution import OUTPUT_NAMES as ATTRIBUTION_NAMES
from debtloops.cli.options import (
    _names,
    add_cbo,
    add_final_time,
    add_out,
    add_scenario,
    add_seed,
    add_set,
    set_values,
)
from debtloops.fan import DEFAULT_SEED as FAN_SEED
from debtloops.fan import DEFAULT_THRESHOLDS as FAN_THRESHOLDS
from debtloops.fan import DEFAULT_YEARS as FAN_YEARS
from debtloops.io import check_targets, output_lock
from debtloops.outputs import HEADLINE_DECIMALS

if TYPE_CHECKING:
    import xarray as xr

#: The attribute of a result file that records the command's ``--set`` items.
OVERRIDES_ATTRIBUTE = "overrides"
#: ``target``'s default first fiscal year of the effort [year].
TARGET_START = 2027
#: ``target``'s default phase-in of the effort [years].
TARGET_PHASE_IN = 5.0


def _record_overrides(dataset: xr.Dataset, items: list[str]) -> None:
    """Record the command line's ``--set NAME=VALUE`` items, as typed, in a result's attributes."""
    if items:
        dataset.attrs[OVERRIDES_ATTRIBUTE] = "; ".join(items)


def attribute_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops attribute``."""
    add_scenario(command)
    add_out(command, "output folder for attribution.nc, attribution.csv and attribution.png")
    command.add_argument(
        "--mechanisms",
        type=_names,
        metavar="A,B,...",
        help="attribute only these mechanisms of models/mechanisms.toml (default: all); the "
        "others stay as the scenario has them",
    )
    command.add_argument(
        "--permutations",
        type=int,
        default=DEFAULT_PERMUTATIONS,
        metavar="N",
        help=f"orders sampled beyond {EXACT_LIMIT} mechanisms (default: {DEFAULT_PERMUTATIONS})",
    )
    add_seed(command, "seed of that sample", DEFAULT_SEED)
    add_cbo(command)
    add_final_time(command, "last year simulated (default: 2055)")
    add_set(
        command,
        "override a parameter of the scenario and of the baseline it is compared with; "
        "drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )


def attribute_command(args: argparse.Namespace) -> None:
    """Split a scenario's extra into mechanisms; write and print the table."""
    from debtloops.attribution import attribute, attribution_table, write_attribution
    from debtloops.cli.runs import prepare_one

    check_targets(args.out, ATTRIBUTION_NAMES)
    run, reference = prepare_one(args)
    started = time.perf_counter()
    dataset = attribute(run, args.mechanisms, args.permutations, args.seed, baseline=reference)
    _record_overrides(dataset, args.set)
    elapsed = time.perf_counter() - started
    written = write_attribution(args.out, dataset)
    table = attribution_table(dataset)
    shown = table[[c for c in table.columns if not c.startswith("standard error")]]
    print(shown.to_string(float_format=lambda x: f"{x:,.{HEADLINE_DECIMALS}f}"))
    print(f"\n{dataset.attrs['method']} in {elapsed:.1f} s; {', '.join(map(str, written))}")


def diagram_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops diagram``."""
    command.add_argument("--scenario", default="baseline", metavar="S", help="default: baseline")
    command.add_argument("--loop", metavar="NAME", help="draw only this loop (id or name)")
    add_out(command, "output folder for the report")
    add_cbo(command)
    add_final_time(command, "last year simulated and scored (default: 2055)")
    add_set(
        command,
        "override a parameter of the scenario's run and of the runs that measure the links' "
        "polarities; drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )


def diagram_command(args: argparse.Namespace) -> None:
    """Write the loop report and diagrams of a scenario."""
    from debtloops.loop_report import write_loop_report

    overrides = set_values(args)
    started = time.perf_counter()
    written = write_loop_report(
        args.out, args.scenario, args.loop, args.cbo, overrides, args.final_time
    )
    elapsed = time.perf_counter() - started
    overview = [path for path in written if path.stem == "overview" and path.suffix != ".dot"]
    print("overview of the feedback loops: " + " and ".join(str(path) for path in overview))
    print(f"{len(written)} files in {args.out}/ in {elapsed:.1f} s (scenario {args.scenario})")


def fan_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops fan``."""
    add_scenario(command)
    command.add_argument(
        "--draws", type=int, required=True, metavar="N", help="shocked runs of each case (>= 2)"
    )
    add_out(command, "output folder for fan.nc, fan.csv and fan.png")
    add_seed(command, f"seed (default: {FAN_SEED})", FAN_SEED)
    command.add_argument(
        "--thresholds",
        default=",".join(f"{t:g}" for t in FAN_THRESHOLDS),
        metavar="P,P,...",
        help="debt/GDP thresholds [percent] (default: %(default)s)",
    )
    command.add_argument(
        "--years",
        metavar="Y,Y,...",
        help="fiscal years of the probabilities (default: those of "
        f"{','.join(str(y) for y in FAN_YEARS)} the run reaches, else its last year)",
    )
    command.add_argument(
        "--parameters",
        default="none",
        metavar="none|ranges",
        help="also draw the behavioural parameters uniformly over their ranges (default: none)",
    )
    add_cbo(command)
    add_final_time(command, "last year simulated (default: 2055)")
    add_set(
        command,
        "override a parameter of the scenario and of its baseline, in every draw; drivers "
        "also take NAME=YEAR:VALUE,YEAR:VALUE",
    )


def fan_command(args: argparse.Namespace) -> None:
    """Draw the shocked runs of a scenario and its baseline; write and print the fan."""
    from debtloops.cli.runs import prepare_one
    from debtloops.fan import (
        OUTPUT_NAMES,
        fan,
        parse_thresholds,
        parse_years,
        probability_text,
        write_fan,
    )

    thresholds = parse_thresholds(args.thresholds)
    years = None if args.years is None else parse_years(args.years)
    check_targets(args.out, OUTPUT_NAMES)
    run, reference = prepare_one(args)
    dataset = fan(
        run,
        args.draws,
        args.seed,
        thresholds,
        years,
        parameters=args.parameters,
        baseline=reference,
    )
    _record_overrides(dataset, args.set)
    with output_lock(args.out):
        written = write_fan(args.out, dataset)
    print(probability_text(dataset))
    print(
        f"\n{dataset.attrs['draws']:,} draws of {dataset.attrs['scenario']} and its baseline in "
        f"{dataset.attrs['seconds']:.1f} s ({dataset.attrs['draws_dropped']} dropped for an "
        f"impossible state); {', '.join(map(str, written))}"
    )


def target_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops target``."""
    add_scenario(command)
    goal = command.add_mutually_exclusive_group(required=True)
    goal.add_argument(
        "--debt-to-gdp",
        metavar="PERCENT",
        help="debt/GDP at the end of fiscal year --by over that year's GDP [percent], or "
        "'baseline' for the baseline's own ratio that year",
    )
    goal.add_argument(
        "--peak-extra-yield",
        type=float,
        metavar="BP",
        help="the highest the 10-year may rise above the baseline's [basis points]; solves for "
        "the Fed backstop's purchase rate",
    )
    command.add_argument(
        "--by",
        type=int,
        metavar="YEAR",
        help="the target fiscal year (debt goal), or the last year simulated (yield goal)",
    )
    command.add_argument(
        "--from",
        dest="start",
        type=int,
        default=TARGET_START,
        metavar="YEAR",
        help=f"fiscal year in which the effort starts (default: {TARGET_START})",
    )
    command.add_argument(
        "--phase-in",
        type=float,
        default=TARGET_PHASE_IN,
        metavar="YEARS",
        help=f"years over which the effort phases in linearly (default: {TARGET_PHASE_IN:g})",
    )
    add_out(
        command,
        "also write DIR/target.csv, target.nc and target.png (default: print only)",
        required=False,
    )
    add_cbo(command)
    add_set(
        command,
        "override a parameter of every run, the baseline's too (not the lever solved for nor "
        "what --from, --phase-in or --peak-extra-yield set; --by is the last year simulated); "
        "drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )


def target_command(args: argparse.Namespace) -> None:
    """Solve for the lever's value that meets the goal; print it, and write it with ``--out``."""
    from debtloops.target import (
        MARKET_FEEDBACKS_OFF,
        OUTPUT_NAMES,
        format_table,
        make_goal,
        seek,
        write_outputs,
    )

    if args.out is not None:
        check_targets(args.out, OUTPUT_NAMES)
    goal = make_goal(
        args.scenario,
        args.debt_to_gdp,
        args.peak_extra_yield,
        args.by,
        args.start,
        args.phase_in,
        args.cbo,
        set_values(args),
    )
    result, dataset, seconds = seek(args.scenario, goal)
    _record_overrides(dataset, args.set)
    written = []
    if args.out is not None:
        with output_lock(args.out):
            written = write_outputs(args.out, result, dataset)
    print(format_table(result))
    where = f"; {', '.join(map(str, written))}" if written else ""
    off = ", ".join(sorted(MARKET_FEEDBACKS_OFF))
    print(f"\nsolved in {seconds:.1f} s (feedbacks off: {off}){where}")
