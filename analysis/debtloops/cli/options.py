"""The command line's argument types, and the options that several commands share.

Each argument type checks one kind of text before anything uses it and raises
:class:`argparse.ArgumentTypeError`, which argparse reports as a usage error (exit status 2); its
name is the one argparse shows should another error escape it, so it keeps the name it always had.
Each ``add_*`` function adds one shared option to a command's parser, so that an option several
commands take is spelled, typed and defaulted in one place; a command passes its own help text
where its wording differs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING

from debtloops.model.data import DEFAULT_VINTAGE

if TYPE_CHECKING:
    from debtloops.model.parameters import Value

#: The longest file name and path that the command line accepts [bytes].
NAME_MAX, PATH_MAX = 255, 4096
#: The largest TCP port number.
PORT_MAX = 65535
#: The help of ``--cbo`` for the commands whose runs, and their baseline, are on that vintage.
CBO_HELP = (
    "CBO's projections the scenarios run on, the baseline they are compared with too: "
    f"a shipped vintage (see `debtloops list`; default: {DEFAULT_VINTAGE}) or the path of a "
    f"folder of the same layout (models/data/cbo/{DEFAULT_VINTAGE}/)"
)
#: The help of a positional scenario that may be a name or a file.
SCENARIO_HELP = "a shipped scenario name or a .toml scenario file"


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


def add_out(
    command: argparse.ArgumentParser,
    help: str,
    *,
    required: bool = True,
    metavar: str = "DIR",
    default: Path | None = None,
) -> None:
    """Add ``--out DIR``: the folder (or, for ``export``, the file) the command writes."""
    command.add_argument(
        "--out", type=_path, required=required, default=default, metavar=metavar, help=help
    )


def add_cbo(command: argparse.ArgumentParser, help: str = CBO_HELP) -> None:
    """Add ``--cbo VINTAGE``: the CBO vintage the command's runs, and their baseline, are on."""
    command.add_argument("--cbo", type=_vintage, metavar="VINTAGE", help=help)


def add_data(command: argparse.ArgumentParser) -> None:
    """Add ``--data DIR``: the historical dataset to use instead of the shipped one."""
    command.add_argument(
        "--data",
        type=_path,
        metavar="DIR",
        help="a dataset folder written by `debtloops data refresh` to use instead of the "
        "shipped history and monthly data (checked before anything runs)",
    )


def add_final_time(command: argparse.ArgumentParser, help: str = "last year simulated") -> None:
    """Add ``--final-time YEAR``: the last year simulated."""
    command.add_argument("--final-time", type=float, metavar="YEAR", help=help)


def add_set(command: argparse.ArgumentParser, help: str) -> None:
    """Add ``--set NAME=VALUE``, repeatable: parameter overrides of every scenario run."""
    command.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=help)


def set_values(args: argparse.Namespace) -> dict[str, Value]:
    """Parse the command's ``--set NAME=VALUE`` items into parameter values, refusing a bad one."""
    from debtloops.model.scenarios import parse_assignment  # only when a command runs

    return dict(parse_assignment(item) for item in args.set)


def add_scenario(command: argparse.ArgumentParser) -> None:
    """Add the positional ``SCENARIO``: one shipped scenario name or scenario file."""
    command.add_argument("scenario", metavar="SCENARIO", help=SCENARIO_HELP)


def add_scenarios(command: argparse.ArgumentParser, help: str) -> None:
    """Add the positional ``SCENARIO ...``: one or more shipped scenario names or files."""
    command.add_argument("scenarios", nargs="+", metavar="SCENARIO", help=help)


def add_sweep_folder(command: argparse.ArgumentParser) -> None:
    """Add the positional ``DIR``: a finished sweep's folder."""
    command.add_argument("folder", type=_path, metavar="DIR", help="a folder holding sweep.zarr")


def add_spec(command: argparse.ArgumentParser, help: str) -> None:
    """Add the positional ``SPEC``: a TOML specification file."""
    command.add_argument("spec", type=_path, metavar="SPEC", help=help)


def add_seed(command: argparse.ArgumentParser, help: str, default: int | None = None) -> None:
    """Add ``--seed N``: the seed of the command's random draws."""
    command.add_argument("--seed", type=int, default=default, metavar="N", help=help)


def add_workers(command: argparse.ArgumentParser, help: str) -> None:
    """Add ``--workers N``: the local Dask worker processes of a sweep's runs."""
    command.add_argument("--workers", type=int, default=None, metavar="N", help=help)


def add_chunk_size(command: argparse.ArgumentParser, help: str) -> None:
    """Add ``--chunk-size N``: the runs of a sweep's chunk, the unit kept when interrupted."""
    command.add_argument("--chunk-size", type=int, metavar="N", help=help)


def add_quiet(command: argparse.ArgumentParser) -> None:
    """Add ``--quiet``: no progress bar."""
    command.add_argument("--quiet", action="store_true", help="no progress bar")
