"""The ``debtloops`` command line.

``debtloops run``      run scenarios and write results, dashboards and a headline table
``debtloops attribute`` split a scenario's extra into mechanisms (Shapley values)
``debtloops sweep``    run a sensitivity sweep (see :mod:`debtloops.sweeps.execute`)
``debtloops analyze``  sensitivity indices and charts of a finished sweep
``debtloops discover`` the parameter ranges of a sweep where a condition holds (PRIM, a tree)
``debtloops compare-policies`` each policy's outcomes and regret over a sweep's experiments
``debtloops diagram``  loops, their measured polarity and dominance, and diagrams
``debtloops backtest`` run from a past fiscal year with the drivers as they happened
``debtloops episodes`` the backtest's monthly mode: three market episodes with monthly drivers
``debtloops target``   the policy effort that meets a goal (debt/GDP by a year, or the peak yield)
``debtloops fan``      fan charts of debt under shocks drawn from history, with and without the sale
``debtloops validate`` the fidelity report: CBO, the backtest, price impact, the article
``debtloops calibrate`` estimate parameters from history (least squares and MCMC)
``debtloops explore``  a live explorer in the browser (needs the ``app`` extra)
``debtloops report``   one self-contained HTML report of scenarios (needs the ``app`` extra)
``debtloops list``     show the scenarios, the CBO vintages and the parameter table
``debtloops build``    translate the .mdl with pysd (``run`` does this itself when it changed)
``debtloops export``   write the model as XMILE, for Stella, Simlin and pysd
``debtloops data refresh`` download the history's public series again into a new dataset folder

``debtloops --version`` prints the package's version and the model file's short hash; ``debtloops``
with no command prints the help on standard error and exits with status 2, as for any usage error.

Bad input exits with status 2 before anything runs or is written; a run that reaches an impossible
state (a negative stock, NaN) exits with status 3 and writes nothing; a sweep whose Dask cluster has
lost every worker or its scheduler exits with status 4, keeping its finished chunks; a write the
system refuses (a full disk or quota, a read-only file system, no permission) exits with status 5
and one line, each file being old or new, never half-written; ``data refresh`` exits with status 6
when a download fails or its data fail a check, writing nothing. Ctrl-C exits with status 130 and
one line saying what was kept; a closed pipe (``debtloops list | head -1``) exits quietly with 141.
Anything else is a bug: it shows a traceback, asks for a report, and exits with status 1.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from debtloops.attribution import DEFAULT_PERMUTATIONS, DEFAULT_SEED, EXACT_LIMIT
from debtloops.attribution import OUTPUT_NAMES as ATTRIBUTION_NAMES
from debtloops.errors import (
    DebtloopsError,
    InputError,
    printable,
    unknown_name,
    write_refusal,
)
from debtloops.fan import DEFAULT_SEED as FAN_SEED
from debtloops.fan import DEFAULT_THRESHOLDS as FAN_THRESHOLDS
from debtloops.fan import DEFAULT_YEARS as FAN_YEARS
from debtloops.fan import MAX_DRAWS as FAN_MAX_DRAWS
from debtloops.fan import MIN_DRAWS as FAN_MIN_DRAWS
from debtloops.fan import REPORT_DRAWS as REPORT_FAN_DRAWS
from debtloops.io import (
    LOCK_TIMEOUT,
    check_export_file,
    check_output_place,
    check_targets,
    output_lock,
    set_command,
)
from debtloops.limits import check_count
from debtloops.model import engine
from debtloops.model.data import DEFAULT_VINTAGE, Vintage, list_vintages, vintage
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import PreparedRun, execute, prepare, reference_for
from debtloops.model.scenarios import REFERENCE, describe, list_scenarios, parse_assignment
from debtloops.outputs import HEADLINE_DECIMALS, HEADLINES_NAME, format_headlines, write_results
from debtloops.paths import MODEL_FILE, SCENARIO_DIR, SHORT_HASH, model_hash
from debtloops.policies import NO_POLICY, SHIPPED_POLICIES
from debtloops.provenance import package_version

if TYPE_CHECKING:
    import xarray as xr

#: The longest file name and path that the command line accepts [bytes].
NAME_MAX, PATH_MAX = 255, 4096
INTERRUPTED, BROKEN_PIPE = 130, 141
USAGE_ERROR = 2
#: The formats ``debtloops export`` writes.
EXPORT_FORMATS = ("xmile",)
#: The widest line that ``debtloops list`` prints [characters].
LIST_WIDTH = 100
#: Indentation of wrapped descriptions and sources in ``debtloops list`` [characters].
LIST_INDENT = 6
#: The explorer's default TCP port (Bokeh's), and the largest port number.
EXPLORE_PORT, PORT_MAX = 5006, 65535
#: The explorer's default interface: this machine only.
EXPLORE_ADDRESS = "127.0.0.1"
#: What to install when the web libraries are missing.
APP_EXTRA = "pip install -e '.[app]' (or make, which installs it)"


def _path(text: str) -> Path:
    """Check a folder or file given on the command line before anything uses it."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty; give a folder, e.g. outputs")
    if "\0" in text:
        raise argparse.ArgumentTypeError("the path holds a NUL character")
    size = len(os.fsencode(text))
    if size > PATH_MAX or any(len(os.fsencode(part)) > NAME_MAX for part in Path(text).parts):
        raise argparse.ArgumentTypeError(
            f"the path is too long (at most {NAME_MAX} bytes a name, {PATH_MAX} in all)"
        )
    return Path(text)


def _vintage(text: str) -> str:
    """Check a ``--cbo`` vintage, a name or a folder, as a path is checked (:func:`_path`)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the vintage is empty; give a name that `debtloops list` shows, or a folder"
        )
    _path(text)
    return text


def _scheduler_address(text: str) -> str:
    """Check that a scheduler address given on the command line is not empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the address is empty; give a scheduler, e.g. tcp://127.0.0.1:8786, or leave out "
            "--scheduler to run on this machine"
        )
    return text


def _names(text: str) -> list[str]:
    """Split a comma-separated list of names given on the command line."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no name given; list names separated by commas")
    return names


def version_text() -> str:
    """Return the package's version and the model file's short SHA-256, as ``--version`` prints."""
    short = model_hash(MODEL_FILE)[:SHORT_HASH]
    return f"debtloops {package_version()}, model {MODEL_FILE.name} {short}"


def _port(text: str) -> int:
    """Check a TCP port given on the command line."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (1-{PORT_MAX})") from None
    if not 1 <= port <= PORT_MAX:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-{PORT_MAX}")
    return port


def _address(text: str) -> str:
    """Check an interface address given on the command line: an IPv4 or IPv6 literal."""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an IP address; use 127.0.0.1 (this machine only), this machine's "
            "address on the network, or 0.0.0.0 (every interface)"
        ) from None


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors escape control characters (see ``printable``)."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="debtloops",
        description="What happens when a large foreign holder sells US Treasuries.",
        epilog="Exit status: 0 done, 1 a failed fidelity check or a bug, 2 bad input or usage, "
        "3 a failed run, 4 a sweep's cluster lost, 5 a write refused (disk full, read-only), "
        "6 a download failed (data refresh), 130 interrupted. `debtloops COMMAND --help` "
        "describes a command.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=version_text(),
        help="print the package's version and the model file's short SHA-256, then exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run scenarios and write their results")
    run.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help="a shipped scenario name (see `debtloops list`) or the path of a .toml scenario "
        "file; results go to DIR/<name or file stem>/",
    )
    run.add_argument("--final-time", type=float, metavar="YEAR", help="last year simulated")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter in every scenario of the run (the baseline reference too); "
        "drivers also take NAME=YEAR:VALUE,YEAR:VALUE",
    )
    _cbo_option(run)
    run.add_argument(
        "--out",
        type=_path,
        default=Path("outputs"),
        metavar="DIR",
        help=f"output folder (default: outputs); a second writer waits {LOCK_TIMEOUT:g} s",
    )

    _data_option(run)

    attribute = commands.add_parser(
        "attribute",
        help="split a scenario's extra over the baseline into mechanisms (Shapley values)",
    )
    attribute.add_argument(
        "scenario", metavar="SCENARIO", help="a shipped scenario name or a .toml scenario file"
    )
    attribute.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help="output folder for attribution.nc, attribution.csv and attribution.png",
    )
    attribute.add_argument(
        "--mechanisms",
        type=_names,
        metavar="A,B,...",
        help="attribute only these mechanisms of models/mechanisms.toml (default: all); the "
        "others stay as the scenario has them",
    )
    attribute.add_argument(
        "--permutations",
        type=int,
        default=DEFAULT_PERMUTATIONS,
        metavar="N",
        help=f"orders sampled beyond {EXACT_LIMIT} mechanisms (default: {DEFAULT_PERMUTATIONS})",
    )
    attribute.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="N", help="seed of that sample"
    )
    _cbo_option(attribute)

    commands.add_parser("list", help="show the scenarios, the CBO vintages and the parameters")
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of an input file, for editors to complete and check"
    )
    schema.add_argument("kind", metavar="KIND", help="scenario, sweep, calibration or parameters")

    sweep = commands.add_parser("sweep", help="run a sensitivity sweep into DIR/sweep.zarr")
    sweep.add_argument("spec", type=_path, metavar="SPEC", help="sweep specification (TOML)")
    sweep.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="output folder for the sweep"
    )
    sweep.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local Dask worker processes (default: one per core, at most one per chunk; "
        "1 runs in this process)",
    )
    sweep.add_argument(
        "--scheduler",
        type=_scheduler_address,
        metavar="ADDRESS",
        help="a dask.distributed scheduler, tcp://HOST:PORT; the sweep stops, keeping its chunks, "
        "after 60 s without any worker",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="samples per chunk, the unit kept when a sweep is interrupted (default: 10,000; "
        "a smaller sweep is one chunk)",
    )
    _cbo_option(sweep)

    analyze = commands.add_parser("analyze", help="sensitivity indices and charts of a sweep")
    analyze.add_argument("folder", type=_path, metavar="DIR", help="a folder holding sweep.zarr")
    analyze.add_argument(
        "--over-time",
        action="append",
        default=[],
        metavar="VARIABLE",
        help="also compute Sobol indices of VARIABLE at every saved time (Sobol sweeps)",
    )
    analyze.add_argument(
        "--netcdf",
        action="store_true",
        help="also write the sweep as DIR/sweep.nc (CF-1.10) for netCDF tools",
    )

    discover = commands.add_parser(
        "discover",
        help="scenario discovery: the parameter ranges (PRIM box, tree) where a condition holds",
    )
    discover.add_argument("folder", type=_path, metavar="DIR", help="a folder holding sweep.zarr")
    discover.add_argument(
        "--where",
        required=True,
        metavar="EXPR",
        help="the cases of interest, e.g. 'debt_to_gdp_2055 > 170 and peak_market_yield >= 6' "
        "(ratios and rates in percent; >, >=, <, <=, and, or, parentheses)",
    )
    discover.add_argument(
        "--scenario", metavar="S", help="the sweep's scenario to use (default: its first)"
    )
    discover.add_argument(
        "--out", type=_path, metavar="DIR", help="output folder (default: DIR/discover)"
    )

    compare = commands.add_parser(
        "compare-policies",
        help="run the policy levers over a sweep's experiments: outcomes and regret",
    )
    compare.add_argument(
        "spec", type=_path, metavar="SPEC", help="sweep specification (TOML): the uncertainties"
    )
    compare.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help="output folder for sweep.zarr, policies.nc, policies.csv and policies.png",
    )
    compare.add_argument(
        "--policies",
        type=_names,
        metavar="A,B,...",
        help=f"shipped scenarios whose lever settings to compare besides {NO_POLICY} "
        f"(default: {','.join(SHIPPED_POLICIES)})",
    )
    compare.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local Dask worker processes, as for sweep (1 runs in this process)",
    )
    compare.add_argument(
        "--chunk-size", type=int, metavar="N", help="experiments per chunk, as for sweep"
    )
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    _cbo_option(compare)

    diagram = commands.add_parser(
        "diagram", help="loop polarities, dominance and causal-loop diagrams for a scenario"
    )
    diagram.add_argument("--scenario", default="baseline", metavar="S", help="default: baseline")
    diagram.add_argument("--loop", metavar="NAME", help="draw only this loop (id or name)")
    diagram.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="output folder for the report"
    )
    _cbo_option(diagram)

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
    backtest.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="output folder for the backtest"
    )
    _data_option(backtest)

    from debtloops.validation.episodes import EPISODES

    episodes = commands.add_parser(
        "episodes",
        help="backtest month by month: the 10-year's change through market episodes, with the "
        "part official selling explains",
    )
    episodes.add_argument(
        "episodes",
        nargs="*",
        metavar="EPISODE",
        help=f"episodes to run: {', '.join(EPISODES)} (default: all)",
    )
    episodes.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="output folder for episodes.csv"
    )
    _data_option(episodes)

    fan = commands.add_parser(
        "fan",
        help="fan charts of debt/GDP, the 10-year and interest/revenue under shocks drawn from "
        "FY2000-2025 history, and the probability of debt/GDP crossing thresholds",
    )
    fan.add_argument(
        "scenario", metavar="SCENARIO", help="a shipped scenario name or a .toml scenario file"
    )
    fan.add_argument(
        "--draws", type=int, required=True, metavar="N", help="shocked runs of each case (>= 2)"
    )
    fan.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help="output folder for fan.nc, fan.csv and fan.png",
    )
    fan.add_argument(
        "--seed", type=int, default=FAN_SEED, metavar="N", help=f"seed (default: {FAN_SEED})"
    )
    fan.add_argument(
        "--thresholds",
        default=",".join(f"{t:g}" for t in FAN_THRESHOLDS),
        metavar="P,P,...",
        help="debt/GDP thresholds [percent] (default: %(default)s)",
    )
    fan.add_argument(
        "--years",
        default=",".join(str(y) for y in FAN_YEARS),
        metavar="Y,Y,...",
        help="fiscal years of the probabilities (default: %(default)s)",
    )
    fan.add_argument(
        "--parameters",
        default="none",
        metavar="none|ranges",
        help="also draw the behavioural parameters uniformly over their ranges (default: none)",
    )
    _cbo_option(fan)

    target = commands.add_parser(
        "target",
        help="solve for the primary-balance effort that brings debt/GDP to a target by a year, "
        "or for the Fed purchases that hold the sale's peak extra 10-year under a level",
    )
    target.add_argument(
        "scenario", metavar="SCENARIO", help="a shipped scenario name or a .toml scenario file"
    )
    goal = target.add_mutually_exclusive_group(required=True)
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
    target.add_argument(
        "--by",
        type=int,
        metavar="YEAR",
        help="the target fiscal year (debt goal), or the last year simulated (yield goal)",
    )
    target.add_argument(
        "--from",
        dest="start",
        type=int,
        default=2027,
        metavar="YEAR",
        help="fiscal year in which the effort starts (default: 2027)",
    )
    target.add_argument(
        "--phase-in",
        type=float,
        default=5.0,
        metavar="YEARS",
        help="years over which the effort phases in linearly (default: 5)",
    )
    target.add_argument(
        "--out",
        type=_path,
        metavar="DIR",
        help="also write DIR/target.csv, target.nc and target.png (default: print only)",
    )
    _cbo_option(target)

    validate = commands.add_parser(
        "validate", help="the fidelity report: CBO, backtest, price impact, the article"
    )
    validate.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="output folder for the report"
    )
    validate.add_argument(
        "--cbo",
        type=_vintage,
        metavar="VINTAGE",
        help="check the baseline against this CBO vintage, shipped or a folder (default: 2025-01)",
    )
    _data_option(validate)

    explore = commands.add_parser(
        "explore",
        help="serve a live explorer at http://127.0.0.1:PORT/ (see --address): sliders for the "
        "sale, the levers and the uncertain parameters, headlines and charts that follow them",
    )
    explore.add_argument(
        "--port",
        type=_port,
        default=EXPLORE_PORT,
        metavar="N",
        help=f"TCP port (default: {EXPLORE_PORT})",
    )
    explore.add_argument(
        "--address",
        type=_address,
        default=EXPLORE_ADDRESS,
        metavar="IP",
        help=f"the interface to listen on (default: {EXPLORE_ADDRESS}, this machine only); "
        "another serves colleagues with no login, see the README",
    )
    explore.add_argument(
        "--scenario",
        default="japan_full",
        metavar="S",
        help="the shipped scenario the explorer opens on (default: japan_full)",
    )
    explore.add_argument(
        "--show", action="store_true", help="open the page in the default web browser"
    )
    _cbo_option(explore)

    report = commands.add_parser(
        "report",
        help="write DIR/report.html: headlines, interactive charts, dashboards, loops, "
        "validation and provenance in one file that opens offline",
    )
    report.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help="a shipped scenario name or the path of a .toml scenario file",
    )
    report.add_argument(
        "--sweep",
        type=_path,
        metavar="DIR",
        help="a sweep folder after `debtloops analyze`: its tables and figures are included",
    )
    report.add_argument(
        "--final-time", type=float, metavar="YEAR", help="last year simulated (default: 2055)"
    )
    report.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter in every scenario, the baseline reference too (as in run)",
    )
    _cbo_option(report)
    report.add_argument(
        "--fan-draws",
        type=int,
        default=REPORT_FAN_DRAWS,
        metavar="N",
        help=f"draws of each scenario's fan chart (default: {REPORT_FAN_DRAWS}; 0 leaves it out)",
    )
    report.add_argument(
        "--no-attribution",
        action="store_true",
        help="leave out the attribution of each scenario's change to the mechanisms",
    )
    report.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help=f"output folder for report.html; a second writer waits {LOCK_TIMEOUT:g} s",
    )

    calibrate = commands.add_parser(
        "calibrate",
        help="estimate parameters from history: a least-squares fit and an MCMC posterior",
    )
    calibrate.add_argument(
        "spec",
        type=_path,
        metavar="SPEC",
        help="calibration specification (TOML), e.g. models/calibrations/history_2000_2019.toml",
    )
    calibrate.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help="output folder: calibration.nc, figures, calibrated.toml, holdout.csv, "
        "projections.csv",
    )
    calibrate.add_argument(
        "--walkers", type=int, metavar="N", help="MCMC walkers (default: the spec's [sampler])"
    )
    calibrate.add_argument(
        "--steps", type=int, metavar="N", help="MCMC steps per walker (default: the spec's)"
    )
    calibrate.add_argument(
        "--burn", type=int, metavar="N", help="steps dropped as burn-in (default: the spec's)"
    )
    calibrate.add_argument(
        "--seed", type=int, metavar="N", help="seed of the MCMC and the draws (default: the spec's)"
    )
    calibrate.add_argument(
        "--engine",
        choices=("simlin", "ensemble"),
        help="simlin: one ~1 ms Simlin run per walker; ensemble: one vectorised pysd run per "
        "batch of walkers (default: the spec's)",
    )
    calibrate.add_argument(
        "--scenario",
        metavar="SCENARIO",
        help="scenario projected under prior and posterior draws (default: the spec's "
        "[projection], else japan_full)",
    )
    calibrate.add_argument(
        "--draws",
        type=int,
        metavar="N",
        help="draws from the prior and from the posterior for the projections (default: the "
        "spec's, else 1000)",
    )
    calibrate.add_argument(
        "--no-projections", action="store_true", help="skip the prior/posterior projections"
    )
    _cbo_option(calibrate)
    _data_option(calibrate)

    build = commands.add_parser("build", help="translate the .mdl with pysd")
    build.add_argument("--force", action="store_true", help="translate even if up to date")

    export = commands.add_parser(
        "export", help="write the model as XMILE, for Stella, Simlin and pysd"
    )
    export.add_argument(
        "--format", choices=EXPORT_FORMATS, default="xmile", help="file format (default: xmile)"
    )
    export.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="FILE",
        help="the file to write, e.g. treasury_dumping.stmx (Stella) or .xmile",
    )
    export.add_argument(
        "--scenario",
        metavar="S",
        default="baseline",
        help="write this scenario's values into the model (default: baseline)",
    )
    export.add_argument("--final-time", type=float, metavar="YEAR", help="last year simulated")
    _cbo_option(export)
    data_command = commands.add_parser(
        "data", help="the historical dataset: `data refresh` downloads its public series again"
    )
    data_commands = data_command.add_subparsers(dest="data_command", metavar="ACTION")
    data_commands.required = True
    refresh = data_commands.add_parser(
        "refresh",
        help="download the history's public series (FRED: yields, funds rate, CPI, GDP, budget "
        "totals; Treasury: TIC holdings, MSPD; the New York Fed: SOMA) into a new dataset folder "
        "for --data; CBO vintages are added as folders (docs/howto/cbo-vintage.md); the only "
        "command that uses the "
        "network",
    )
    refresh.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help="the dataset folder to write (the shipped files are never touched)",
    )
    return parser


def _data_option(command: argparse.ArgumentParser) -> None:
    """Add ``--data DIR``: the historical dataset to use instead of the shipped one."""
    command.add_argument(
        "--data",
        type=_path,
        metavar="DIR",
        help="a dataset folder written by `debtloops data refresh` to use instead of the "
        "shipped history and monthly data (checked before anything runs)",
    )


def _cbo_option(command: argparse.ArgumentParser) -> None:
    """Add ``--cbo VINTAGE``: the CBO vintage the command's runs, and their baseline, are on."""
    command.add_argument(
        "--cbo",
        type=_vintage,
        metavar="VINTAGE",
        help="CBO's projections the scenarios run on, the baseline they are compared with too: "
        f"a shipped vintage (see `debtloops list`; default: {DEFAULT_VINTAGE}) or the path of a "
        f"folder of the same layout (models/data/cbo/{DEFAULT_VINTAGE}/)",
    )


def _prepare_all(
    args: argparse.Namespace,
) -> tuple[dict[str, PreparedRun], dict[str, PreparedRun]]:
    """Validate every scenario asked for, its reference and their output folder names.

    Each scenario's reference is the baseline on the same CBO vintage, from the same start year to
    the same last year; scenarios that share these share one reference run.

    Returns
    -------
    tuple of dict
        The prepared scenarios by name, and the reference of each by the scenario's name.
    """
    overrides: dict[str, Value] = dict(parse_assignment(item) for item in args.set)
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


def _reference_key(run: PreparedRun) -> tuple:
    """Return what a scenario's reference shares with it: the vintage, the first and last years."""
    vintage = None if run.vintage is None else run.vintage.folder
    return (vintage, run.values["initial_time"], run.values["final_time"])


def _check_out_outside(out: Path, found: Vintage) -> None:
    """Refuse an output folder inside a user's vintage folder: debtloops only reads there."""
    vintage = found
    if not vintage.shipped:
        if out.resolve().is_relative_to(vintage.folder):
            raise InputError(
                f"output folder {out} is inside the CBO vintage folder {vintage.folder}, which "
                "debtloops only reads; choose another --out"
            )


def _run(args: argparse.Namespace) -> None:
    prepared, references = _prepare_all(args)
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


def _attribute(args: argparse.Namespace) -> None:
    from debtloops.attribution import attribute, attribution_table, write_attribution

    check_targets(args.out, ATTRIBUTION_NAMES)
    started = time.perf_counter()
    dataset = attribute(args.scenario, args.mechanisms, args.permutations, args.seed, args.cbo)
    elapsed = time.perf_counter() - started
    written = write_attribution(args.out, dataset)
    table = attribution_table(dataset)
    shown = table[[c for c in table.columns if not c.startswith("standard error")]]
    print(shown.to_string(float_format=lambda x: f"{x:,.{HEADLINE_DECIMALS}f}"))
    print(f"\n{dataset.attrs['method']} in {elapsed:.1f} s; {', '.join(map(str, written))}")


def _sweep(args: argparse.Namespace) -> None:
    from debtloops.sweeps.execute import run_sweep

    report = run_sweep(
        args.spec, args.out, args.workers, args.scheduler, args.quiet, args.chunk_size, args.cbo
    )
    print(
        f"{report.samples} samples ({report.computed} computed now) in {report.seconds:.1f} s; "
        f"{report.failed} failed; results in {report.path}"
    )


def _analyze(args: argparse.Namespace) -> None:
    from debtloops.sweeps.analysis import analyze

    if not (args.folder / "sweep.zarr").is_dir():
        path = analyze(args.folder, args.over_time, args.netcdf)  # refuses, writing nothing
    else:
        with output_lock(args.folder):
            path = analyze(args.folder, args.over_time, args.netcdf)
    copy = f", the sweep in {args.folder / 'sweep.nc'}" if args.netcdf else ""
    print(f"analysis in {path}{copy} and PNG figures in {args.folder}/")


def _discover(args: argparse.Namespace) -> None:
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


def _compare_policies(args: argparse.Namespace) -> None:
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
    plan_ = policy_plan(args.spec, policies, args.chunk_size, args.cbo)  # refuses, writing nothing
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


def _diagram(args: argparse.Namespace) -> None:
    from debtloops.loop_report import write_loop_report

    started = time.perf_counter()
    written = write_loop_report(args.out, args.scenario, args.loop, args.cbo)
    elapsed = time.perf_counter() - started
    overview = [path for path in written if path.stem == "overview" and path.suffix != ".dot"]
    print("overview of the feedback loops: " + " and ".join(str(path) for path in overview))
    print(f"{len(written)} files in {args.out}/ in {elapsed:.1f} s (scenario {args.scenario})")


def _backtest(args: argparse.Namespace) -> None:
    from debtloops.validation.backtest import (
        OUTPUT_NAMES,
        format_backtest,
        tracking,
        write_backtest,
    )

    check_targets(args.out, OUTPUT_NAMES)
    table = write_backtest(args.out, args.start, args.end, args.yields)
    print(format_backtest(table))
    rms, worst = tracking(table, "market_yield")
    print(
        f"\n10-year yield ({args.yields}): root-mean-square gap {rms:.2f} points, "
        f"largest {worst:.2f}; results in {args.out}/backtest.csv and backtest.png"
    )


def _episodes(args: argparse.Namespace) -> None:
    from debtloops.validation.episodes import (
        OUTPUT_NAMES,
        format_episodes,
        select,
        write_episodes,
    )

    chosen = select(args.episodes)
    check_targets(args.out, OUTPUT_NAMES)
    table = write_episodes(args.out, chosen)
    print(format_episodes(table))
    print(f"\n10-year yield, end month's average less start month's; in {args.out}/episodes.csv")


def _fan(args: argparse.Namespace) -> None:
    from debtloops.fan import (
        OUTPUT_NAMES,
        fan,
        parse_thresholds,
        parse_years,
        probability_text,
        write_fan,
    )

    thresholds, years = parse_thresholds(args.thresholds), parse_years(args.years)
    check_targets(args.out, OUTPUT_NAMES)
    dataset = fan(
        args.scenario,
        args.draws,
        args.seed,
        thresholds,
        years,
        parameters=args.parameters,
        cbo=args.cbo,
    )
    with output_lock(args.out):
        written = write_fan(args.out, dataset)
    print(probability_text(dataset))
    print(
        f"\n{dataset.attrs['draws']:,} draws of {dataset.attrs['scenario']} and its baseline in "
        f"{dataset.attrs['seconds']:.1f} s ({dataset.attrs['draws_dropped']} dropped for an "
        f"impossible state); {', '.join(map(str, written))}"
    )


def _target(args: argparse.Namespace) -> None:
    from debtloops.target import OUTPUT_NAMES, format_table, make_goal, seek, write_outputs

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
    )
    result, dataset, seconds = seek(args.scenario, goal)
    written = []
    if args.out is not None:
        with output_lock(args.out):
            written = write_outputs(args.out, result, dataset)
    print(format_table(result))
    where = f"; {', '.join(map(str, written))}" if written else ""
    print(f"\nsolved in {seconds:.1f} s (feedbacks off: {', '.join(_off_names())}){where}")


def _off_names() -> list[str]:
    from debtloops.target import MARKET_FEEDBACKS_OFF

    return sorted(MARKET_FEEDBACKS_OFF)


def _validate(args: argparse.Namespace) -> int:
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


def _calibrate(args: argparse.Namespace) -> None:
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


def _data(args: argparse.Namespace) -> None:
    from debtloops.model.refresh import format_changes, refresh

    result = refresh(args.out)
    print(format_changes(result))
    print(f"\ndataset in {args.out}/; use it with --data {args.out}")


def _wrapped(text: str) -> str:
    """Wrap a description or source under its row, at most ``LIST_WIDTH`` characters a line."""
    indent = " " * LIST_INDENT
    return textwrap.fill(
        text,
        width=LIST_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def _web_import(module: str):
    """Import a module of :mod:`debtloops.app`, saying how to install the extra if it fails."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in ("panel", "bokeh", "jinja2", "markupsafe"):
            raise InputError(f"this command needs {error.name}: {APP_EXTRA}") from None
        raise


def _explore(args: argparse.Namespace) -> None:
    if args.scenario not in list_scenarios():
        raise unknown_name("scenario", args.scenario, list_scenarios())
    _web_import("debtloops.app.explorer").serve(
        args.port, args.scenario, args.show, args.cbo, args.address
    )


def _report(args: argparse.Namespace) -> None:
    report = _web_import("debtloops.app.report")
    prepared, references = _prepare_all(args)
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


def _schema(args: argparse.Namespace) -> None:
    from debtloops.schema import schema_text

    sys.stdout.write(schema_text(args.kind))


def _list(args: argparse.Namespace | None = None) -> None:
    print("Scenarios (models/scenarios/):")
    for name in list_scenarios():
        summary = describe(name).removeprefix(f"{name}:").strip()
        print(f"  {name}")
        print(_wrapped(summary))
    print('\nCBO vintages (models/data/cbo/; --cbo VINTAGE or cbo = "VINTAGE" in a scenario):')
    for name in list_vintages():
        found = vintage(name)
        default = ", the default" if name == DEFAULT_VINTAGE else ""
        print(
            f"  {name}  FY{found.start_year} start, ten years to FY{found.ten_year_end}, "
            f"projected to FY{found.long_term_end}{default}"
        )
        print(_wrapped(found.title))
    print("\nParameters (models/parameters.toml): name, value, units, range and kind; then source")
    params = list(load_parameters().values())
    rows = [
        (p.name, f"{p.value:g}", p.units, f"[{p.low:g}, {p.high:g}]", p.kind, p.source)
        for p in params
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for name, value, units, span, kind, source in rows:
        print(
            f"  {name:<{widths[0]}} {value:>{widths[1]}} {units:<{widths[2]}} "
            f"{span:<{widths[3]}} {kind}".rstrip()
        )
        print(_wrapped(source))


def _build(args: argparse.Namespace) -> None:
    print(engine.build(force=args.force))


def _export(args: argparse.Namespace) -> None:
    from debtloops.model.xmile import write_xmile

    check_export_file(args.out)
    path = write_xmile(args.out, args.scenario, args.final_time, args.cbo)
    print(f"scenario {args.scenario} written as {args.format.upper()} to {path}")


def _kept(args: argparse.Namespace) -> str:
    """Say what an interrupted command kept."""
    if args.command in ("sweep", "compare-policies"):
        from debtloops.sweeps.store import done_chunks, store_path

        try:
            chunks = int(done_chunks(store_path(args.out)).sum())
        except (OSError, ValueError):
            chunks = 0
        return (
            f"{chunks} finished chunk(s) kept in {store_path(args.out)}; run the same command "
            "again to resume"
        )
    folder = getattr(args, "out", None) or getattr(args, "folder", None)
    if (
        args.command in ("run", "attribute", "fan", "diagram", "analyze", "report", "calibrate")
        and folder is not None
    ):
        return f"files in {folder}/ are each complete, old or new; nothing half-written was kept"
    return "nothing was written"


def _quiet_broken_pipe() -> int:
    """Point standard output at /dev/null so that the final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return BROKEN_PIPE


#: Each command's handler; it returns an exit status, or None for success.
_COMMANDS: dict[str, Callable[[argparse.Namespace], int | None]] = {
    "run": _run,
    "attribute": _attribute,
    "sweep": _sweep,
    "analyze": _analyze,
    "discover": _discover,
    "compare-policies": _compare_policies,
    "diagram": _diagram,
    "backtest": _backtest,
    "episodes": _episodes,
    "validate": _validate,
    "target": _target,
    "fan": _fan,
    "calibrate": _calibrate,
    "explore": _explore,
    "report": _report,
    "list": _list,
    "schema": _schema,
    "build": _build,
    "export": _export,
    "data": _data,
}


def main(argv: Sequence[str] | None = None) -> int:
    r"""Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit status: 0 on success, 1 when a fidelity check fails or for an internal error
        (with a traceback), 2 for bad input, 3 for a failed run, 4 for a sweep whose cluster lost
        every worker or its scheduler, 5 for a write the system refused (a full disk or quota, a
        read-only file system, no permission), 130 on Ctrl-C, and 141 when standard output is
        closed early. Messages show control characters as escapes (``\x1b``).
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error that argparse has reported
        return done.code if isinstance(done.code, int) else 2
    try:
        handler = _COMMANDS.get(args.command)
        if handler is None:  # no command: the help, as a usage error
            _parser().print_help(sys.stderr)
            return USAGE_ERROR
        set_command(args.command)
        target = getattr(args, "out", None) or getattr(args, "folder", None)
        if target is not None:
            check_output_place(target, export=args.command == "export")
        if getattr(args, "cbo", None) is not None:  # every command's --cbo, before any work
            found = vintage(args.cbo)
            if target is not None:
                _check_out_outside(target, found)
        if getattr(args, "data", None) is not None:
            from debtloops.model.data import use_dataset

            use_dataset(args.data)
        status = handler(args)
        sys.stdout.flush()
        if status:
            return status
    except DebtloopsError as error:
        print(f"debtloops: error: {printable(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"\ndebtloops: interrupted; {_kept(args)}", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as error:
        refused = write_refusal(error, getattr(args, "out", None) or getattr(args, "folder", None))
        if refused is not None:  # a full disk, a quota, a read-only target: not a bug
            print(f"debtloops: error: {printable(str(refused))}; {_kept(args)}", file=sys.stderr)
            return refused.exit_code
        traceback.print_exc()
        print(
            "debtloops: internal error: this is a bug, not a mistake of yours; please report it "
            "with the command line and the traceback above",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
