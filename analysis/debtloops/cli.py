"""The ``debtloops`` command line.

``debtloops run``      run scenarios and write results, dashboards and a headline table
``debtloops sweep``    run a sensitivity sweep (see :mod:`debtloops.sweep`)
``debtloops analyze``  sensitivity indices and charts of a finished sweep
``debtloops diagram``  loops, their measured polarity and dominance, and diagrams
``debtloops backtest`` run from a past fiscal year with the drivers as they happened
``debtloops validate`` the fidelity report: CBO, the backtest, price impact, the article
``debtloops list``     show the scenarios and the parameter table
``debtloops build``    translate the .mdl with pysd (``run`` does this itself when it changed)

Bad input exits with status 2 before anything runs or is written; a run that reaches an impossible
state (a negative stock, NaN) exits with status 3 and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from debtloops import model
from debtloops.errors import DebtloopsError
from debtloops.parameters import Value, load_parameters
from debtloops.results import format_headlines, write_results
from debtloops.runner import execute, prepare
from debtloops.scenarios import describe, list_scenarios, parse_assignment

REFERENCE = "baseline"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="debtloops",
        description="What happens when a large foreign holder sells US Treasuries.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run scenarios and write their results")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario names")
    run.add_argument("--final-time", type=float, metavar="YEAR", help="last year simulated")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter in every scenario of the run (the baseline reference too); "
        "drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )
    run.add_argument("--out", type=Path, default=Path("outputs"), metavar="DIR")

    commands.add_parser("list", help="show the scenarios and the parameters")

    sweep = commands.add_parser("sweep", help="run a sensitivity sweep into DIR/sweep.nc")
    sweep.add_argument("spec", type=Path, metavar="SPEC", help="sweep specification (TOML)")
    sweep.add_argument("--out", type=Path, required=True, metavar="DIR")
    sweep.add_argument("--workers", type=int, default=1, metavar="N", help="local processes")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="a dask.distributed scheduler")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")

    analyze = commands.add_parser("analyze", help="sensitivity indices and charts of a sweep")
    analyze.add_argument("folder", type=Path, metavar="DIR", help="a folder holding sweep.nc")
    analyze.add_argument(
        "--over-time",
        action="append",
        default=[],
        metavar="VARIABLE",
        help="also compute Sobol indices of VARIABLE at every saved time (Sobol sweeps)",
    )

    diagram = commands.add_parser(
        "diagram", help="loop polarities, dominance and causal-loop diagrams for a scenario"
    )
    diagram.add_argument("--scenario", default="baseline", metavar="S", help="default: baseline")
    diagram.add_argument("--loop", metavar="NAME", help="draw only this loop (id or name)")
    diagram.add_argument("--out", type=Path, required=True, metavar="DIR")

    backtest = commands.add_parser(
        "backtest", help="run from a past fiscal year with historical drivers; compare with history"
    )
    backtest.add_argument(
        "--start", type=int, default=2015, metavar="YEAR", help="first fiscal year (2000-2024)"
    )
    backtest.add_argument(
        "--end", type=int, default=2025, metavar="YEAR", help="last fiscal year (up to 2025)"
    )
    backtest.add_argument(
        "--yields",
        choices=("historical", "endogenous"),
        default="historical",
        help="the 10-year yield as it happened over the funds rate, or the model's own "
        "(default: historical)",
    )
    backtest.add_argument("--out", type=Path, required=True, metavar="DIR")

    validate = commands.add_parser(
        "validate", help="the fidelity report: CBO, backtest, price impact, the article"
    )
    validate.add_argument("--out", type=Path, required=True, metavar="DIR")

    build = commands.add_parser("build", help="translate the .mdl with pysd")
    build.add_argument("--force", action="store_true", help="translate even if up to date")
    return parser


def _run(args: argparse.Namespace) -> None:
    overrides: dict[str, Value] = dict(parse_assignment(item) for item in args.set)
    table = load_parameters()
    names = list(dict.fromkeys(args.scenarios))
    prepared = {
        name: prepare(name, overrides, args.final_time, table)
        for name in dict.fromkeys([REFERENCE, *names])
    }
    started = time.perf_counter()
    results = {name: execute(run) for name, run in prepared.items()}
    elapsed = time.perf_counter() - started
    rows = write_results(args.out, {name: results[name] for name in names}, results[REFERENCE])
    print(format_headlines(rows))
    print(f"\n{len(prepared)} runs in {elapsed:.2f} s; results in {args.out}/")


def _sweep(args: argparse.Namespace) -> None:
    from debtloops.sweep import run_sweep

    report = run_sweep(args.spec, args.out, args.workers, args.scheduler, args.quiet)
    print(
        f"{report.samples} samples ({report.computed} computed now) in {report.seconds:.1f} s; "
        f"{report.failed} failed; results in {report.path}"
    )


def _analyze(args: argparse.Namespace) -> None:
    from debtloops.sweep_analysis import analyze

    path = analyze(args.folder, over_time=args.over_time)
    print(f"analysis in {path} and PNG figures in {args.folder}/")


def _diagram(args: argparse.Namespace) -> None:
    from debtloops.loop_report import write_loop_report

    started = time.perf_counter()
    written = write_loop_report(args.out, args.scenario, args.loop)
    elapsed = time.perf_counter() - started
    print(f"{len(written)} files in {args.out}/ in {elapsed:.1f} s (scenario {args.scenario})")


def _backtest(args: argparse.Namespace) -> None:
    from debtloops.backtest import format_backtest, tracking, write_backtest

    table = write_backtest(args.out, args.start, args.end, args.yields)
    print(format_backtest(table))
    rms, worst = tracking(table, "market_yield")
    print(
        f"\n10-year yield ({args.yields}): root-mean-square gap {rms:.2f} points, "
        f"largest {worst:.2f}; results in {args.out}/backtest.csv and backtest.png"
    )


def _validate(args: argparse.Namespace) -> int:
    from debtloops.fidelity import format_checks, write_report

    checks = write_report(args.out)
    print(format_checks(checks))
    print(f"report in {args.out}/validation.csv, cbo_baseline.png, backtest.png")
    return 0 if all(check.passed for check in checks) else 1


def _list() -> None:
    print("Scenarios (models/scenarios/):")
    for name in list_scenarios():
        print(f"  {name:<16} {describe(name)}")
    print("\nParameters (models/parameters.toml):")
    header = f"  {'name':<36} {'value':>10}  {'units':<22} {'range':<22} {'kind':<12} source"
    print(header)
    for param in load_parameters().values():
        span = f"[{param.low:g}, {param.high:g}]"
        source = textwrap.shorten(param.source, width=70, placeholder=" ...")
        print(
            f"  {param.name:<36} {param.value:>10g}  {param.units:<22} {span:<22} "
            f"{param.kind:<12} {source}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit status: 0 on success, 1 when a fidelity check fails, 2 for bad input, 3 for a
        failed run.
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            _run(args)
        elif args.command == "sweep":
            _sweep(args)
        elif args.command == "analyze":
            _analyze(args)
        elif args.command == "diagram":
            _diagram(args)
        elif args.command == "backtest":
            _backtest(args)
        elif args.command == "validate":
            return _validate(args)
        elif args.command == "list":
            _list()
        elif args.command == "build":
            print(model.build(force=args.force))
    except DebtloopsError as error:
        print(f"debtloops: error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
