"""The command registry (debtloops.cli.commands): it alone decides the commands the parser offers,
and the options several commands share keep one spelling, type and default everywhere."""

import argparse
import json
import subprocess
import sys

import pytest

from debtloops import cli
from debtloops.cli.commands import COMMANDS, Kept

#: The shared options: each is added by one helper of debtloops.cli.options.
SHARED = ("--out", "--cbo", "--data", "--final-time", "--set", "--seed", "--workers", "--quiet")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
        found |= {name: action for name in action.option_strings}
    return found


def test_the_parser_offers_the_registered_commands_in_their_order():
    assert list(_subparsers(cli._parser())) == [command.name for command in COMMANDS]
    assert len({command.name for command in COMMANDS}) == len(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_a_command_that_keeps_files_when_interrupted_has_a_folder_to_keep(command):
    parser = _subparsers(cli._parser())[command.name]
    options = _options(parser)
    if command.kept is not Kept.NOTHING:
        positional = [action.dest for action in parser._actions]
        assert "--out" in options or "folder" in positional
    if command.out_is_file:
        assert options["--out"].metavar == "FILE"


@pytest.mark.parametrize("option", SHARED)
def test_a_shared_option_has_one_type_and_metavar_in_every_command(option):
    kinds = set()
    for name, sub in _subparsers(cli._parser()).items():
        action = _options(sub).get(option)
        if action is not None and not (option == "--out" and name == "export"):
            kinds.add((type(action).__name__, action.type, action.metavar, action.nargs))
    assert len(kinds) == 1, kinds


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_every_entry_names_a_handler_and_arguments_that_exist(command):
    assert callable(command.handler)
    assert command.arguments is None or callable(command.arguments)


#: The command modules of debtloops.cli, and the libraries a command may not need.
COMMAND_MODULES = {f"debtloops.cli.{m}" for m in cli._MODULES}
HEAVY = ("numpy", "pandas", "xarray", "scipy", "matplotlib", "pysd", "dask", "zarr")


def _loaded_by(argv: list[str]) -> set[str]:
    """Run the command line in a fresh Python; return the modules it imported."""
    code = (
        "import json, sys; from debtloops.cli import main; status = main(sys.argv[1:]); "
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    return set(json.loads(done.stderr.splitlines()[-1]))


def test_the_help_imports_no_command_module_and_no_numerical_library():
    loaded = _loaded_by(["--help"])
    assert not loaded & COMMAND_MODULES
    assert not loaded & set(HEAVY)


def test_a_command_imports_only_its_own_module_and_what_it_uses():
    loaded = _loaded_by(["list"])
    assert loaded & COMMAND_MODULES == {"debtloops.cli.modelfile", "debtloops.cli.options"}
    assert not loaded & {"pysd", "matplotlib", "scipy", "dask", "zarr"}


def test_ctrl_c_while_a_command_s_module_loads_exits_130_in_one_line(
    monkeypatch, capsys, interrupt_import
):
    monkeypatch.delattr(cli, "modelfile", raising=False)
    interrupt_import("debtloops.cli.modelfile")
    assert cli.main(["list"]) == 130
    assert capsys.readouterr().err.strip() == (
        "debtloops: interrupted while starting; nothing was run or written"
    )
