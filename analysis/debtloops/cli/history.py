"""The commands that use history: backtest, episodes, validate, calibrate and data refresh."""

from __future__ import annotations

import argparse
import sys

from debtloops.cli.options import (
    add_cbo,
    add_data,
    add_out,
    add_seed,
    add_set,
    add_spec,
    set_values,
)
from debtloops.io import check_targets
from debtloops.model.data import DEFAULT_VINTAGE

#: ``backtest``'s default first and last fiscal years [year].
BACKTEST_START, BACKTEST_END = 2015, 2025
#: The ``--yields`` of ``backtest``: the 10-year as it happened, or the model's own.
BACKTEST_YIELDS = ("historical", "endogenous")
#: The engines ``calibrate --engine`` takes.
CALIBRATION_ENGINES = ("simlin", "ensemble")


def backtest_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops backtest``."""
    command.add_argument(
        "--start",
        type=int,
        default=BACKTEST_START,
        metavar="YEAR",
        help="first fiscal year (2000-2024)",
    )
    command.add_argument(
        "--end",
        type=int,
        default=BACKTEST_END,
        metavar="YEAR",
        help=f"last fiscal year (up to {BACKTEST_END})",
    )
    command.add_argument(
        "--yields",
        choices=BACKTEST_YIELDS,
        default=BACKTEST_YIELDS[0],
        help="the 10-year yield as it happened over the funds rate, or the model's own "
        f"(default: {BACKTEST_YIELDS[0]})",
    )
    add_out(command, "output folder for the backtest")
    add_data(command)
    add_set(
        command,
        "override a parameter of the run, not one the backtest sets (history's drivers and "
        "years, the policy rate, the switches of --yields); drivers also take "
        "NAME=YEAR:VALUE,YEAR:VALUE",
    )


def backtest_command(args: argparse.Namespace) -> None:
    """Run the backtest; write it, and print the table and how well the 10-year tracks."""
    from debtloops.validation.backtest import (
        OUTPUT_NAMES,
        format_backtest,
        tracking,
        write_backtest,
    )

    check_targets(args.out, OUTPUT_NAMES)
    overrides = set_values(args)
    table = write_backtest(args.out, args.start, args.end, args.yields, overrides)
    print(format_backtest(table))
    rms, worst = tracking(table, "market_yield")
    print(
        f"\n10-year yield ({args.yields}): root-mean-square gap {rms:.2f} points, "
        f"largest {worst:.2f}; results in {args.out}/backtest.csv and backtest.png"
    )


def episodes_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops episodes``."""
    from debtloops.validation.episodes import EPISODES

    command.add_argument(
        "episodes",
        nargs="*",
        metavar="EPISODE",
        help=f"episodes to run: {', '.join(EPISODES)} (default: all)",
    )
    add_out(command, "output folder for episodes.csv")
    add_data(command)
    add_set(
        command,
        "override a parameter of every run, not one the episode sets from history; drivers "
        "also take NAME=YEAR:VALUE,YEAR:VALUE",
    )


def episodes_command(args: argparse.Namespace) -> None:
    """Run the chosen market episodes month by month; write and print the table."""
    from debtloops.validation.episodes import (
        OUTPUT_NAMES,
        format_episodes,
        select,
        write_episodes,
    )

    chosen = select(args.episodes)
    check_targets(args.out, OUTPUT_NAMES)
    overrides = set_values(args)
    table = write_episodes(args.out, chosen, overrides)
    print(format_episodes(table))
    print(f"\n10-year yield, end month's average less start month's; in {args.out}/episodes.csv")


def validate_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops validate``."""
    add_out(command, "output folder for the report")
    add_cbo(
        command,
        "check the baseline against this CBO vintage, shipped or a folder "
        f"(default: {DEFAULT_VINTAGE})",
    )
    add_data(command)


def validate_command(args: argparse.Namespace) -> int:
    """Write the fidelity report; exit status 1 when a check fails."""
    import pandas as pd

    from debtloops.validation.fidelity import (
        OUTPUT_NAMES,
        format_checks,
        format_decompositions,
        write_report,
    )

    check_targets(args.out, OUTPUT_NAMES)
    checks = write_report(args.out, args.cbo)
    print(format_checks(checks))
    print()
    print(format_decompositions(pd.read_csv(args.out / "decomposition.csv")))
    print(f"report in {args.out}/: {', '.join(OUTPUT_NAMES)}")
    return 0 if all(check.passed for check in checks) else 1


def calibrate_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops calibrate``."""
    add_spec(
        command,
        "calibration specification (TOML), e.g. models/calibrations/history_2000_2019.toml",
    )
    add_out(
        command,
        "output folder: calibration.nc, figures, calibrated.toml, holdout.csv, projections.csv",
    )
    for name, text in (
        ("--walkers", "MCMC walkers (default: the spec's [sampler])"),
        ("--steps", "MCMC steps per walker (default: the spec's)"),
        ("--burn", "steps dropped as burn-in (default: the spec's)"),
    ):
        command.add_argument(name, type=int, metavar="N", help=text)
    add_seed(command, "seed of the MCMC and the draws (default: the spec's)")
    command.add_argument(
        "--engine",
        choices=CALIBRATION_ENGINES,
        help="simlin: one ~1 ms Simlin run per walker; ensemble: one vectorised pysd run per "
        "batch of walkers (default: the spec's)",
    )
    command.add_argument(
        "--scenario",
        metavar="SCENARIO",
        help="scenario projected under prior and posterior draws (default: the spec's "
        "[projection], else japan_full)",
    )
    command.add_argument(
        "--draws",
        type=int,
        metavar="N",
        help="draws from the prior and from the posterior for the projections (default: the "
        "spec's, else 1000)",
    )
    command.add_argument(
        "--no-projections", action="store_true", help="skip the prior/posterior projections"
    )
    add_cbo(command)
    add_data(command)


def calibrate_command(args: argparse.Namespace) -> None:
    """Fit and sample the parameters of a calibration spec; write and print the report."""
    from debtloops.calibration.calibrate import (
        OUTPUT_NAMES,
        PROJECTIONS_FILE,
        calibrate,
        format_report,
        write_calibration,
    )

    keys = ("walkers", "steps", "burn", "seed", "engine")
    sampler = {key: getattr(args, key) for key in keys if getattr(args, key) is not None}
    projection_keys = ("scenario", "draws")
    projection = {
        key: getattr(args, key) for key in projection_keys if getattr(args, key) is not None
    }
    if args.no_projections:
        projection["scenario"] = None
    skipped = {PROJECTIONS_FILE} if args.no_projections else set()
    check_targets(args.out, [name for name in OUTPUT_NAMES if name not in skipped])
    result = calibrate(args.spec, sampler, projection, args.cbo)
    written = write_calibration(result, args.out)
    print(format_report(result))
    for problem in result.posterior.problems:
        print(f"debtloops: warning: MCMC diagnostic: {problem}", file=sys.stderr)
    print(f"\n{len(written)} files in {args.out}/")


def data_arguments(command: argparse.ArgumentParser) -> None:
    """Add the actions of ``debtloops data``: ``refresh`` and its arguments."""
    actions = command.add_subparsers(dest="data_command", metavar="ACTION")
    actions.required = True
    refresh = actions.add_parser(
        "refresh",
        help="download the history's public series (FRED: yields, funds rate, CPI, GDP, budget "
        "totals; Treasury: TIC holdings, MSPD; the New York Fed: SOMA) into a new dataset folder "
        "for --data; CBO vintages are added as folders (docs/howto/cbo-vintage.md); the only "
        "command that uses the network",
    )
    add_out(refresh, "the dataset folder to write (the shipped files are never touched)")


def data_command(args: argparse.Namespace) -> None:
    """Download the history's public series into a new dataset folder."""
    from debtloops.model.refresh import format_changes, refresh

    result = refresh(args.out)
    print(format_changes(result))
    print(f"\ndataset in {args.out}/; use it with --data {args.out}")
