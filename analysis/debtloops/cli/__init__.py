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

Each command is one entry of the registry :data:`debtloops.cli.commands.COMMANDS`: its name, help,
arguments (the options several commands share come from :mod:`debtloops.cli.options`) and handler.

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
import importlib
import os
import sys
import traceback
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from debtloops.cli.commands import COMMANDS, Handler, Kept
from debtloops.entry import refused_start
from debtloops.errors import DebtloopsError, InputError, printable, write_refusal
from debtloops.io import check_output_place, set_command
from debtloops.paths import MODEL_FILE, SHORT_HASH, model_hash
from debtloops.provenance import package_version

if TYPE_CHECKING:
    from debtloops.model.data import Vintage

__all__ = ["BROKEN_PIPE", "INTERRUPTED", "LIST_WIDTH", "USAGE_ERROR", "main", "version_text"]

#: Exit statuses of Ctrl-C and of a closed standard output (128 + SIGINT, 128 + SIGPIPE).
INTERRUPTED, BROKEN_PIPE = 130, 141
#: Exit status of a usage error, as argparse exits.
USAGE_ERROR = 2
#: The top-level help's description and epilog.
DESCRIPTION = "What happens when a large foreign holder sells US Treasuries."
EPILOG = (
    "Exit status: 0 done, 1 a failed fidelity check or a bug, 2 bad input or usage, "
    "3 a failed run, 4 a sweep's cluster lost, 5 a write refused (disk full, read-only), "
    "6 a download failed (data refresh), 130 interrupted. `debtloops COMMAND --help` "
    "describes a command."
)

#: The commands of :data:`~debtloops.cli.commands.COMMANDS` by name.
_BY_NAME = {command.name: command for command in COMMANDS}
#: The handler :func:`main` runs for each command, as the registry gives it (imported when run).
_COMMANDS: dict[str, Handler] = {command.name: command.run for command in COMMANDS}
#: The modules of the commands, imported on first use (``cli.runs``): see :func:`__getattr__`.
_MODULES = ("analyses", "history", "modelfile", "options", "runs", "sweeps", "web")


def __getattr__(name: str) -> object:
    """Import a command's module, or ``LIST_WIDTH`` (of ``list``'s module), on first use."""
    if name in _MODULES:
        return importlib.import_module(f"debtloops.cli.{name}")
    if name == "LIST_WIDTH":
        from debtloops.cli.modelfile import LIST_WIDTH

        return LIST_WIDTH
    raise AttributeError(f"module 'debtloops.cli' has no attribute '{name}'")


def version_text() -> str:
    """Return the package's version and the model file's short SHA-256, as ``--version`` prints."""
    short = model_hash(MODEL_FILE)[:SHORT_HASH]
    return f"debtloops {package_version()}, model {MODEL_FILE.name} {short}"


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors escape control characters (see ``printable``)."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def _parser(only: Collection[str] | None = None) -> argparse.ArgumentParser:
    """Return the command line's parser: each command of the registry with its arguments.

    Parameters
    ----------
    only : collection of str, optional
        The commands whose arguments to add (importing their modules); every command by default.
        Every command is offered either way, with its help.
    """
    parser = _Parser(prog="debtloops", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument(
        "--version",
        action="version",
        version=version_text(),
        help="print the package's version and the model file's short SHA-256, then exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help)
        arguments = command.arguments if only is None or command.name in only else None
        if arguments is not None:
            arguments(sub)
    return parser


def _load(argv: Sequence[str] | None) -> argparse.ArgumentParser:
    """Import the modules of the command that ``argv`` names; return the parser for it.

    The command is the first word that is not an option; with none, or one that is not a
    command, no command module is imported and argparse answers the command line.
    """
    words = sys.argv[1:] if argv is None else argv
    command = _BY_NAME.get(next((word for word in words if not word.startswith("-")), ""))
    if command is None:
        return _parser(())
    command.load()
    return _parser((command.name,))


def _check_out_outside(out: Path, found: Vintage) -> None:
    """Refuse an output folder inside a user's vintage folder: debtloops only reads there."""
    if not found.shipped and out.resolve().is_relative_to(found.folder):
        raise InputError(
            f"output folder {out} is inside the CBO vintage folder {found.folder}, which "
            "debtloops only reads; choose another --out"
        )


def _kept(args: argparse.Namespace) -> str:
    """Say what an interrupted command kept."""
    command = _BY_NAME.get(args.command)
    kept = command.kept if command is not None else Kept.NOTHING
    if kept is Kept.CHUNKS:
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
    if kept is Kept.FILES and folder is not None:
        return f"files in {folder}/ are each complete, old or new; nothing half-written was kept"
    return "nothing was written"


def _check_shared_options(args: argparse.Namespace) -> None:
    """Check the shared options before any work: ``--out``, ``--cbo`` and ``--data``."""
    target = getattr(args, "out", None) or getattr(args, "folder", None)
    if target is not None:
        check_output_place(target, export=_BY_NAME[args.command].out_is_file)
    if getattr(args, "cbo", None) is not None:  # every command's --cbo, before any work
        from debtloops.model.data import vintage

        found = vintage(args.cbo)
        if target is not None:
            _check_out_outside(target, found)
    if getattr(args, "data", None) is not None:
        from debtloops.model.data import use_dataset

        use_dataset(args.data)


def _quiet_broken_pipe() -> int:
    """Point standard output at /dev/null so that the final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return BROKEN_PIPE


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
        parser = _load(argv)
    except (KeyboardInterrupt, DebtloopsError) as error:  # a Ctrl-C or a bad holder list
        return refused_start(error)
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, or a usage error that argparse has reported
        return done.code if isinstance(done.code, int) else 2
    try:
        handler = _COMMANDS.get(args.command)
        if handler is None:  # no command: the help, as a usage error
            _parser(()).print_help(sys.stderr)
            return USAGE_ERROR
        set_command(args.command)
        _check_shared_options(args)
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
