"""The registry of the command line's commands: one entry each, in the order the help lists them.

An entry names the command, gives its one-line help, the function that adds its arguments (with
the shared options of :mod:`debtloops.cli.options`) and the handler that runs it, and says what an
interrupted run keeps and whether ``--out`` names a file. Adding a command is one entry here plus
its arguments and handler in the module of its kind.

An entry names its functions as ``"module.function"`` within :mod:`debtloops.cli`, and they are
imported when first used: ``debtloops --help`` imports none of the command modules, and a command
imports only its own, so that starting the command line does not load the numerical libraries of
every other command.
"""

from __future__ import annotations

import argparse
import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass

#: A command's handler: it returns an exit status, or None for success.
Handler = Callable[[argparse.Namespace], int | None]
#: A function that adds a command's arguments to its parser.
Arguments = Callable[[argparse.ArgumentParser], None]


class Kept(enum.Enum):
    """What a command keeps when it is interrupted (Ctrl-C) or a write is refused."""

    NOTHING = "nothing"
    #: each file in ``--out`` (or the sweep folder) is complete, old or new
    FILES = "files"
    #: the finished chunks of a sweep's store, which the same command resumes from
    CHUNKS = "chunks"


@dataclass(frozen=True)
class Command:
    """One command of the command line.

    Attributes
    ----------
    name : str
        What the user types, e.g. ``compare-policies``.
    help : str
        The one line that ``debtloops --help`` shows beside the name.
    handler_name : str
        Where the handler that runs the command on the parsed arguments is, as
        ``"module.function"`` in :mod:`debtloops.cli`; :attr:`handler` imports it.
    arguments_name : str or None
        Where the function that adds the command's arguments to its parser is, as
        ``"module.function"``; None for a command without any. :attr:`arguments` imports it.
    kept : Kept
        What an interrupted run of the command keeps.
    out_is_file : bool
        Whether ``--out`` names a file rather than a folder.
    """

    name: str
    help: str
    handler_name: str
    arguments_name: str | None = None
    kept: Kept = Kept.NOTHING
    out_is_file: bool = False

    @property
    def handler(self) -> Handler:
        """The command's handler, its module imported on first use."""
        handler: Handler = _resolve(self.handler_name)
        return handler

    @property
    def arguments(self) -> Arguments | None:
        """The function that adds the command's arguments, its module imported on first use."""
        if self.arguments_name is None:
            return None
        arguments: Arguments = _resolve(self.arguments_name)
        return arguments

    def load(self) -> None:
        """Import the command's module now (its handler's, and its arguments' if elsewhere)."""
        _resolve(self.handler_name)
        if self.arguments_name is not None:
            _resolve(self.arguments_name)

    def run(self, args: argparse.Namespace) -> int | None:
        """Run the command's handler, importing it now: the exit status, or None for success."""
        return self.handler(args)


def _resolve(where: str) -> Callable:
    """Import ``"module.function"`` of :mod:`debtloops.cli` and return the function."""
    module, function = where.split(".")
    found: Callable = getattr(importlib.import_module(f"debtloops.cli.{module}"), function)
    return found


COMMANDS: tuple[Command, ...] = (
    Command(
        "run",
        "run scenarios and write their results",
        "runs.run_command",
        "runs.run_arguments",
        Kept.FILES,
    ),
    Command(
        "attribute",
        "split a scenario's extra over the baseline into mechanisms (Shapley values)",
        "analyses.attribute_command",
        "analyses.attribute_arguments",
        Kept.FILES,
    ),
    Command(
        "list",
        "show the scenarios, the CBO vintages and the parameters",
        "modelfile.list_command",
    ),
    Command(
        "schema",
        "print the JSON Schema of an input file, for editors to complete and check",
        "modelfile.schema_command",
        "modelfile.schema_arguments",
    ),
    Command(
        "sweep",
        "run a sensitivity sweep into DIR/sweep.zarr",
        "sweeps.sweep_command",
        "sweeps.sweep_arguments",
        Kept.CHUNKS,
    ),
    Command(
        "analyze",
        "sensitivity indices and charts of a sweep",
        "sweeps.analyze_command",
        "sweeps.analyze_arguments",
        Kept.FILES,
    ),
    Command(
        "discover",
        "scenario discovery: the parameter ranges (PRIM box, tree) where a condition holds",
        "sweeps.discover_command",
        "sweeps.discover_arguments",
    ),
    Command(
        "compare-policies",
        "run the policy levers over a sweep's experiments: outcomes and regret",
        "sweeps.compare_policies_command",
        "sweeps.compare_policies_arguments",
        Kept.CHUNKS,
    ),
    Command(
        "diagram",
        "loop polarities, dominance and causal-loop diagrams for a scenario",
        "analyses.diagram_command",
        "analyses.diagram_arguments",
        Kept.FILES,
    ),
    Command(
        "backtest",
        "run from a past fiscal year with historical drivers; compare with history",
        "history.backtest_command",
        "history.backtest_arguments",
    ),
    Command(
        "episodes",
        "backtest month by month: the 10-year's change through market episodes, with the "
        "part official selling explains",
        "history.episodes_command",
        "history.episodes_arguments",
    ),
    Command(
        "fan",
        "fan charts of debt/GDP, the 10-year and interest/revenue under shocks drawn from "
        "FY2000-2025 history, and the probability of debt/GDP crossing thresholds",
        "analyses.fan_command",
        "analyses.fan_arguments",
        Kept.FILES,
    ),
    Command(
        "target",
        "solve for the primary-balance effort that brings debt/GDP to a target by a year, "
        "or for the Fed purchases that hold the sale's peak extra 10-year under a level",
        "analyses.target_command",
        "analyses.target_arguments",
    ),
    Command(
        "validate",
        "the fidelity report: CBO, backtest, price impact, the article",
        "history.validate_command",
        "history.validate_arguments",
    ),
    Command(
        "explore",
        "serve a live explorer at http://127.0.0.1:PORT/ (see --address): sliders for the "
        "sale, the levers and the uncertain parameters, headlines and charts that follow them",
        "web.explore_command",
        "web.explore_arguments",
    ),
    Command(
        "report",
        "write DIR/report.html: headlines, interactive charts, dashboards, loops, "
        "validation and provenance in one file that opens offline",
        "web.report_command",
        "web.report_arguments",
        Kept.FILES,
    ),
    Command(
        "calibrate",
        "estimate parameters from history: a least-squares fit and an MCMC posterior",
        "history.calibrate_command",
        "history.calibrate_arguments",
        Kept.FILES,
    ),
    Command(
        "build",
        "translate the .mdl with pysd",
        "modelfile.build_command",
        "modelfile.build_arguments",
    ),
    Command(
        "export",
        "write the model as XMILE, for Stella, Simlin and pysd",
        "modelfile.export_command",
        "modelfile.export_arguments",
        out_is_file=True,
    ),
    Command(
        "data",
        "the historical dataset: `data refresh` downloads its public series again",
        "history.data_command",
        "history.data_arguments",
    ),
)
