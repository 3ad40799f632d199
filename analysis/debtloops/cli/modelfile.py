"""The commands of the model file and its inputs: ``list``, ``schema``, ``build`` and ``export``."""

from __future__ import annotations

import argparse
import sys
import textwrap

from debtloops.cli.options import add_cbo, add_final_time, add_out, add_set, set_values
from debtloops.io import check_export_file
from debtloops.model.data import DEFAULT_VINTAGE, list_vintages, vintage
from debtloops.model.parameters import load_parameters
from debtloops.model.scenarios import describe, list_scenarios

#: The formats ``debtloops export`` writes.
EXPORT_FORMATS = ("xmile",)
#: The widest line that ``debtloops list`` prints [characters].
LIST_WIDTH = 100
#: Indentation of wrapped descriptions and sources in ``debtloops list`` [characters].
LIST_INDENT = 6
#: The columns of ``debtloops list``'s parameter rows that are padded to a common width.
LIST_PADDED = 4


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


def list_command(args: argparse.Namespace | None = None) -> None:
    """Print the scenarios, the CBO vintages and the parameter table."""
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
    widths = [max(len(row[column]) for row in rows) for column in range(LIST_PADDED)]
    for name, value, units, span, kind, source in rows:
        print(
            f"  {name:<{widths[0]}} {value:>{widths[1]}} {units:<{widths[2]}} "
            f"{span:<{widths[3]}} {kind}".rstrip()
        )
        print(_wrapped(source))


def schema_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops schema``."""
    command.add_argument("kind", metavar="KIND", help="scenario, sweep, calibration or parameters")


def schema_command(args: argparse.Namespace) -> None:
    """Print the JSON Schema of one kind of input file."""
    from debtloops.schema import schema_text

    sys.stdout.write(schema_text(args.kind))


def build_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops build``."""
    command.add_argument("--force", action="store_true", help="translate even if up to date")


def build_command(args: argparse.Namespace) -> None:
    """Translate the model file with pysd, unless its translation is up to date."""
    from debtloops.model import engine

    print(engine.build(force=args.force))


def export_arguments(command: argparse.ArgumentParser) -> None:
    """Add the arguments of ``debtloops export``."""
    command.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default=EXPORT_FORMATS[0],
        help=f"file format (default: {EXPORT_FORMATS[0]})",
    )
    add_out(
        command,
        "the file to write, e.g. treasury_dumping.stmx (Stella) or .xmile",
        metavar="FILE",
    )
    command.add_argument(
        "--scenario",
        metavar="S",
        default="baseline",
        help="write this scenario's values into the model (default: baseline)",
    )
    add_final_time(command)
    add_cbo(command)
    add_set(
        command,
        "override a parameter of the scenario written into the model; drivers also take "
        "NAME=YEAR:VALUE,YEAR:VALUE",
    )


def export_command(args: argparse.Namespace) -> None:
    """Write the model, with a scenario's values, as XMILE."""
    from debtloops.model.xmile import write_xmile

    check_export_file(args.out)
    overrides = set_values(args)
    path = write_xmile(args.out, args.scenario, args.final_time, args.cbo, overrides)
    print(f"scenario {args.scenario} written as {args.format.upper()} to {path}")
