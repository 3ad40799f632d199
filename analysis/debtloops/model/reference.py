"""The model's variables as the .mdl states them, for the documentation site.

Each variable's name, kind, units, equation and one-line comment are read from the .mdl by pysd's
own Vensim parser (the one the translation uses), and each constant is joined to its row of the
parameter table (value, plausible range, source). Nothing here restates an equation: the page is
made from the .mdl every time the site is built (``docs/hooks.py``), so it cannot drift from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.vensim.vensim_file import VensimFile

from debtloops.model.contract import OUTPUT_UNITS, display_units
from debtloops.model.parameters import ParameterTable, load_parameters
from debtloops.paths import MODEL_FILE, PARAMETER_TABLE

#: The kinds of variable, in the order the page lists them, with a heading for each.
KINDS = {
    "stock": "Stocks",
    "flow": "Flows",
    "auxiliary": "Auxiliaries",
    "constant": "Constants and drivers",
}


@dataclass(frozen=True)
class Variable:
    """One variable of the .mdl.

    Attributes
    ----------
    name : str
        The .mdl name, e.g. ``debt held by public``.
    py_name : str
        The name in results files and in pysd, e.g. ``debt_held_by_public``.
    kind : str
        One of :data:`KINDS`: a stock (INTEG), a flow (a rate of a stock), a constant (a number in
        the .mdl, set from the parameter table) or an auxiliary (anything else).
    units : str
        The .mdl's units, e.g. ``billion_USD/year``.
    equation : str
        The equation's right-hand side as written in the .mdl.
    comment : str
        The .mdl's one-line comment.
    """

    name: str
    py_name: str
    kind: str
    units: str
    equation: str
    comment: str


def _references(node: object) -> Iterator[str]:
    """Yield the pysd names that an expression of pysd's abstract syntax refers to."""
    if isinstance(node, ae.ReferenceStructure):
        yield node.reference
    elif dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            yield from _references(getattr(node, field.name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _references(item)


def read_variables(mdl: Path = MODEL_FILE) -> list[Variable]:
    """Return every variable of the .mdl (its control section aside), in the file's order.

    Parameters
    ----------
    mdl : Path
        The Vensim model file.

    Returns
    -------
    list of Variable
    """
    parsed = VensimFile(mdl)
    parsed.parse()
    (main, *_) = parsed.get_abstract_model().sections
    elements = [element for element in main.elements if element.components]
    flows: set[str] = set()
    for element in elements:
        ast = element.components[0].ast
        if isinstance(ast, ae.IntegStructure):
            flows.update(_references(ast.flow))
    texts = {component.name: component for component in parsed.sections[0].elements}
    variables = []
    for element in elements:
        ast = element.components[0].ast
        py_name = _py_name(element.name)
        if isinstance(ast, ae.IntegStructure):
            kind = "stock"
        elif py_name in flows:
            kind = "flow"
        elif isinstance(ast, int | float):
            kind = "constant"
        else:
            kind = "auxiliary"
        text = texts[element.name]
        variables.append(
            Variable(
                name=element.name,
                py_name=py_name,
                kind=kind,
                units=str(element.units or ""),
                equation=" ".join(text.expression.split()),
                comment=" ".join(str(element.documentation or "").split()),
            )
        )
    return variables


def _py_name(name: str) -> str:
    """Return pysd's name for a .mdl name (lower case, words joined by ``_``)."""
    return "_".join(name.lower().split())


def _number(value: float) -> str:
    return f"{value:g}"


def _constant_lines(variable: Variable, table: ParameterTable) -> list[str]:
    """Return the parameter table's row of a constant as Markdown lines."""
    if variable.py_name not in table:
        return []
    row = table[variable.py_name]
    lines = [
        f"Default {_number(row.value)} [{row.units}], plausible range "
        f"[{_number(row.low)}, {_number(row.high)}], valid [{_number(row.valid_min)}, "
        f"{_number(row.valid_max)}]; kind `{row.kind}`"
        + (" (a scenario may give it year by year)." if row.kind == "driver" else "."),
        "",
        f"Source: {' '.join(row.source.split())}",
    ]
    return lines


def markdown(mdl: Path = MODEL_FILE, parameters: Path = PARAMETER_TABLE) -> str:
    """Return the Markdown page of every variable: meaning, units and equation, grouped by kind.

    Parameters
    ----------
    mdl : Path
        The Vensim model file.
    parameters : Path
        The parameter table that describes the .mdl's constants.

    Returns
    -------
    str
        The page, one section per kind of :data:`KINDS` and one heading per variable, named by
        its name in results files.
    """
    variables = read_variables(mdl)
    table = load_parameters(parameters)
    counts = ", ".join(
        f"{sum(v.kind == kind for v in variables)} {title.lower()}" for kind, title in KINDS.items()
    )
    lines = [
        "# Variables",
        "",
        f"Every variable of `{mdl.name}`, made from the .mdl when this site was built: "
        f"{len(variables)} in all ({counts}). Each heading is the name in `results.nc` and "
        "`results.csv`; below it are the .mdl's own name, the units, the one-line comment and "
        "the equation as written in the .mdl. Names marked *output contract* keep their name "
        "and units from release to release (see "
        "[Output names](../reference/outputs.md#output-names)). "
        "Constants also show their row of `models/parameters.toml`.",
        "",
    ]
    for kind, title in KINDS.items():
        lines += [f"## {title}", ""]
        for variable in (v for v in variables if v.kind == kind):
            contract = " · *output contract*" if variable.py_name in OUTPUT_UNITS else ""
            units = display_units(variable.units) if variable.units else "no units"
            lines += [
                f"### {variable.py_name}",
                "",
                f"**{variable.name}** · {variable.kind} · [{units}]{contract}",
                "",
                variable.comment or "(no comment in the .mdl)",
                "",
                "```",
                variable.equation,
                "```",
                "",
            ]
            if kind == "constant":
                lines += [*_constant_lines(variable, table), ""]
    return "\n".join(lines)
