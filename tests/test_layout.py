"""The package's folders show its pipelines: each layer imports only from the layers below it.

Layers, from the bottom: the shared helpers (errors, paths, io, limits, provenance, and cf, the
one netCDF writer); ``model``
(parameters, scenarios, data, translation and runs); ``loops`` (the causal structure derived from
the model); ``figures`` (every plot and diagram, reading one table of labels); then the pipelines
``validation``, ``calibration`` (which runs the backtest), ``sweeps`` (which may sample a
calibration's posterior), ``outputs`` (what a run writes), ``loop_report`` (what ``debtloops
diagram`` writes), ``attribution`` (which splits a run's extras, as ``outputs`` defines
them), ``fan`` (stochastic fans around a run), ``target`` (goal-seek, measured as ``validation``
measures), ``discover`` (boxes in a sweep) and ``policies`` (policies compared over a sweep's
experiments); and at the top the command line and the apps.

No module holds more than 500 lines and no function more than 80.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analysis" / "debtloops"

SHARED = {"errors", "paths", "io", "limits", "provenance", "cf", "schema", "units"}
#: What each part may import from the package, besides itself and the shared helpers.
ALLOWED = {
    "model": set(),
    "loops": {"model"},
    "figures": {"model", "loops"},
    "validation": {"model", "figures"},
    "calibration": {"model", "figures", "validation"},
    "sweeps": {"model", "figures", "calibration"},
    "outputs": {"model", "figures"},
    "loop_report": {"model", "loops", "figures"},
    "attribution": {"model", "figures", "outputs"},
    "fan": {"model", "figures", "outputs"},
    "target": {"model", "figures", "outputs", "validation"},
    "discover": {"model", "figures", "sweeps"},
    "policies": {"model", "figures", "sweeps"},
}
#: The top: free to import any part.
TOP = {"cli", "entry", "__init__", "__main__", "app"}


def _part(module: Path) -> str:
    relative = module.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imported_parts(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    parts = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "debtloops" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts & ({path.stem for path in PACKAGE.iterdir()} | SHARED)


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _part(p) not in TOP)


def test_every_part_of_the_package_has_a_place_in_the_layers():
    parts = {_part(p) for p in PACKAGE.rglob("*.py")}
    assert parts <= SHARED | set(ALLOWED) | TOP, parts - (SHARED | set(ALLOWED) | TOP)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_from_the_layers_below_it(module):
    part = _part(module)
    allowed = SHARED | {part} | ALLOWED.get(part, set())
    if part in SHARED:
        allowed = SHARED
    assert _imported_parts(module) <= allowed, _imported_parts(module) - allowed


#: The most lines a module may hold, and a function (from its ``def`` to its last line): a module
#: over the first is cut along a seam, a function over the second split.
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 500, 80
ALL_MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(module: Path) -> str:
    return str(module.relative_to(PACKAGE))


@pytest.mark.parametrize("module", ALL_MODULES, ids=_name)
def test_a_module_holds_at_most_500_lines(module):
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(module)}: {lines} lines; cut it along a seam"


@pytest.mark.parametrize("module", ALL_MODULES, ids=_name)
def test_no_function_holds_more_than_80_lines(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    long = {f.name: f.end_lineno - f.lineno + 1 for f in functions}
    long = {name: lines for name, lines in long.items() if lines > MAX_FUNCTION_LINES}
    assert not long, f"{_name(module)}: {long} lines; split them"
