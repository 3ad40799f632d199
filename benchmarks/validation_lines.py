"""Count the code lines of the input files' validation, at any revision (issue 21, item 2).

"Validation code" is the code whose job is to check the four TOML input files (scenarios, sweep
and calibration specifications, the parameter table) and refuse a bad one: the schema layer's
models and messages, each reader's checking functions, the constants that list their valid keys,
choices and limits, and the samplers' own checks of ``[sampler]``, wherever a revision keeps them.
:data:`SELECTION` names it, file by file; a name a revision lacks counts nothing there.

Not counted: imports, the result types the readers build (``SweepSpec``, ``CalibrationSpec``...),
defaults, the JSON Schema export (``json_schema`` and its helpers), the checks of values that are
not read from a file (``parameters.validate``, ``Parameter.check``, ``series_from_pairs``, shared
with ``--set``), and a scenario's location on the command line (``scenarios.locate``).

A code line is a physical line holding a token other than a comment, a line break or an
indentation (found with :mod:`tokenize`), outside a docstring (found with :mod:`ast`).

Run from the repository's root::

    python benchmarks/validation_lines.py                 # the branch point 34bb3e2, main, here
    python benchmarks/validation_lines.py 5d3550d HEAD    # any revisions; "." is the work tree
"""

from __future__ import annotations

import argparse
import ast
import io
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "analysis/debtloops"
#: The revisions compared by default: before the schema layer, main, and the work tree.
DEFAULT_REVISIONS = ("34bb3e2", "main", ".")
#: A whole module except the names after it (and its imports).
ALL = "*"
#: What is counted, by file. A name is a top-level function, class or assigned constant;
#: ``Class.name`` a method or field; ``NAME(kw, ...)`` the keyword arguments ``kw`` given in the
#: calls inside the top-level statement ``NAME``; ``-name`` leaves a name out of :data:`ALL`.
SELECTION: dict[str, tuple[str, ...]] = {
    "schema.py": (
        ALL,
        "-MODELS",
        "-DIALECT",
        "-_without_null",
        "-json_schema",
        "-schema_text",
        "-DEFAULT_MORRIS_LEVELS",  # defaults, moved here from the readers, where they were not
        "-DEFAULT_STEPS",  # counted either (with DEFAULT_SEED, on the same line)
    ),
    "model/parameters.py": (
        "KINDS",
        "FIXED_KINDS",
        "ParameterTable.free",
        "_entry",
        "load_parameters",
    ),
    "model/scenarios.py": (
        "SECTIONS",
        "NAME_PATTERN",
        "_base",
        "_read",
        "_number",
        "_series",
        "load_scenario",
    ),
    "sweeps/spec.py": (
        "DISTRIBUTIONS",
        "SAMPLERS",
        "TOP_LEVEL_KEYS",
        "REQUIRED_KEYS",
        "SAMPLER_KEYS",
        "UNCERTAINTY_KEYS",
        "UNSWEEPABLE_KINDS",
        "MAX_GRID_POINTS",
        "MIN_SOBOL_SAMPLES",
        "DESIGN_COPIES",
        "_Where",
        "_is_number",
        "_is_integer",
        "_read",
        "_check_keys",
        "_names",
        "_final_time",
        "_nearest_power_of_two",
        "_sampler",
        "_sweepable",
        "_uncertainty",
        "_lever",
        "load_spec",
        "_checked",
        "_check_size",
        "_calibration_folder",
    ),
    "sweeps/samplers.py": (
        "MIN_SOBOL_SAMPLES",
        "MAX_GRID_POINTS",
        "Sampler.least",
        "Sampler.counted",
        "Sampler.options",
        "Sampler.check",
        "REGISTRY(least, counted, options, check)",
        "_grid_check",
        "_sobol_check",
        "check_settings",
    ),
    "calibration/spec.py": (
        "PRIORS",
        "MEASURES",
        "ENGINES",
        "ESTIMATE",
        "SOURCES",
        "ERROR_MODELS",
        "TOP_LEVEL_KEYS",
        "PERIOD_KEYS",
        "RUN_KEYS",
        "PARAMETER_KEYS",
        "SERIES_KEYS",
        "SAMPLER_KEYS",
        "PROJECTION_KEYS",
        "NOT_ESTIMABLE",
        "MIN_YEARS_FOR_NOISE",
        "CHAIN_COPIES",
        "PROJECTION_COPIES",
        "_table",
        "_number",
        "_year",
        "_period",
        "_estimable",
        "_prior",
        "_series",
        "_sampler",
        "_projection",
        "load_spec",
        "_checked",
    ),
}


def _source(revision: str, path: str) -> str | None:
    """Return a file's text at ``revision`` ("." is the work tree), or None if it has none."""
    if revision == ".":
        file = ROOT / path
        return file.read_text(encoding="utf-8") if file.is_file() else None
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def _code_lines(source: str) -> set[int]:
    """Return the numbers of the lines that hold code: not blank, comment or docstring."""
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            lines -= set(range(body[0].lineno, body[0].end_lineno + 1))  # type: ignore[operator]
    return lines


def _names(node: ast.stmt) -> list[str]:
    """Return the names a top-level statement defines."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return [n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)]


def _span(node: ast.AST) -> set[int]:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return set(range(start, node.end_lineno + 1))  # type: ignore[attr-defined]


def _selected(tree: ast.Module, selection: tuple[str, ...]) -> set[int]:
    """Return the lines of the statements (or keyword arguments) that ``selection`` names."""
    top = {name: node for node in tree.body for name in _names(node)}
    lines: set[int] = set()
    if ALL in selection:
        left_out = {s[1:] for s in selection if s.startswith("-")}
        for node in tree.body:
            if not isinstance(node, ast.Import | ast.ImportFrom) and not (
                set(_names(node)) & left_out
            ):
                lines |= _span(node)
    for item in selection:
        name, _, keywords = item.partition("(")
        owner, _, member = name.partition(".")
        node = top.get(owner)
        if node is None or item == ALL or item.startswith("-"):
            continue
        if keywords:
            wanted = {k.strip() for k in keywords.rstrip(")").split(",")}
            for keyword in ast.walk(node):
                if isinstance(keyword, ast.keyword) and keyword.arg in wanted:
                    lines |= _span(keyword)
        elif member:
            for child in getattr(node, "body", []):
                if member in _names(child):
                    lines |= _span(child)
        else:
            lines |= _span(node)
    return lines


def count(revision: str) -> dict[str, int]:
    """Return the validation code lines of each file of :data:`SELECTION` at ``revision``."""
    counts = {}
    for file, selection in SELECTION.items():
        source = _source(revision, f"{PACKAGE}/{file}")
        if source is None:
            counts[file] = 0
            continue
        counts[file] = len(_code_lines(source) & _selected(ast.parse(source), selection))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revisions", nargs="*", default=DEFAULT_REVISIONS, help="git revisions")
    revisions = parser.parse_args().revisions
    table = {revision: count(revision) for revision in revisions}
    width = max(map(len, SELECTION)) + 2
    print("file".ljust(width) + "".join(f"{r:>10}" for r in revisions))
    for file in SELECTION:
        print(file.ljust(width) + "".join(f"{table[r][file]:>10}" for r in revisions))
    totals = [sum(table[r].values()) for r in revisions]
    print("total".ljust(width) + "".join(f"{t:>10}" for t in totals))
    readers = [sum(v for f, v in table[r].items() if f != "schema.py") for r in revisions]
    print("readers (no schema.py)".ljust(width) + "".join(f"{t:>10}" for t in readers))
    first = totals[0]
    print("change".ljust(width) + "".join(f"{(t - first) / first:>10.0%}" for t in totals))


if __name__ == "__main__":
    main()
