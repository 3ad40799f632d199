"""The model's causal structure, link polarities measured on runs, and its feedback loops.

* :func:`causal_graph` builds a networkx graph of the .mdl's variables from the dependencies pysd
  records for the translated model. pysd's internal objects are folded away: a stock's
  ``_integ_`` object becomes the stock, fed by the flows in its ``INTEG``; ``INITIAL()`` values and
  initial-value dependencies are constants after the start and carry no feedback.
* :func:`measure_polarities` gives each link the sign of the partial effect of its source on its
  target: at operating points along a run, the target's equation is evaluated with all its inputs
  held at their values from the run and the source nudged up and down. A link is ``+`` or ``-``
  when the sign never changes, ``?`` when it does, and ``0`` when the source has no effect at any
  operating point (the link is dormant in the runs measured, behind a switch or a MIN/MAX).
* :func:`find_loops` lists the simple cycles; :func:`loop_polarity` multiplies link signs.
* :func:`read_inventory` reads the named loops of ``models/README.md`` and :func:`match_inventory`
  compares them with the model's loops.
* :func:`read_families` reads the loop families of ``models/README.md``: rules that assign every
  loop the inventory does not name to one family (the first family whose rule matches), and
  :func:`assign_families` applies them; :func:`label_loops` gives every loop of the model an id,
  the named loop's or its family's id and an index (``T.12``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from debtloops.model import engine as model_module
from debtloops.model.parameters import CONTROLS, Value
from debtloops.model.run import prepare
from debtloops.paths import MODELS_DIR

INVENTORY = MODELS_DIR / "README.md"
STOCK, FLOW, AUXILIARY, CONSTANT = "stock", "flow", "auxiliary", "constant"
# Relative nudge of a source, and the smallest relative change of the target counted as an effect.
NUDGE = 1e-6
EFFECT_TOLERANCE = 1e-9
# Operating points: every this many saved steps of a run (yearly at the default quarterly output).
POINT_STRIDE = 4
_ARROW = " → "


def causal_graph(include_constants: bool = False) -> nx.DiGraph:
    """Return the causal graph of the model's variables, named as in the .mdl.

    Parameters
    ----------
    include_constants : bool
        Also include the constants (parameters and drivers) and their links.

    Returns
    -------
    networkx.DiGraph
        Nodes are .mdl variable names with attributes ``kind`` (stock, flow, auxiliary or
        constant), ``py_name``, ``units`` and ``comment``. An edge ``a -> b`` means ``b``'s
        equation uses ``a``; a stock's inputs are its flows.
    """
    pysd_model = model_module.load()
    info = model_module.describe(pysd_model)
    dependencies = pysd_model.dependencies
    stocks = set(info.stocks)
    inputs: dict[str, set[str]] = {}
    for name, deps in dependencies.items():
        if name.startswith("_") or name in CONTROLS or name == "time":
            continue
        if name in stocks:
            integ = dependencies[f"_integ_{name}"]
            inputs[name] = set(integ["step"])
        else:
            inputs[name] = {d for d in deps if not d.startswith("_")}
    flows = {d for stock in stocks for d in inputs[stock]} - stocks
    graph = nx.DiGraph()
    for name, kind in info.kinds.items():
        if name in CONTROLS or name == "time" or name not in inputs:
            continue
        if name in stocks:
            node_kind = STOCK
        elif kind == "Constant":
            # a constant in a stock's INTEG expression (baseline price level * expected inflation)
            # is still a constant
            node_kind = CONSTANT
        elif name in flows:
            node_kind = FLOW
        else:
            node_kind = AUXILIARY
        if node_kind == CONSTANT and not include_constants:
            continue
        graph.add_node(
            info.real_names[name],
            kind=node_kind,
            py_name=name,
            units=info.units[name],
            comment=info.comments[name],
        )
    py_to_real = {data["py_name"]: node for node, data in graph.nodes(data=True)}
    for target, sources in inputs.items():
        if target not in py_to_real:
            continue
        for source in sources:
            if source in py_to_real and source != target:
                graph.add_edge(py_to_real[source], py_to_real[target])
    return graph


def _sign(delta: float, scale: float) -> int:
    if not np.isfinite(delta) or abs(delta) <= EFFECT_TOLERANCE * max(scale, 1e-12):
        return 0
    return 1 if delta > 0 else -1


def _combine(signs: Iterable[int]) -> str:
    seen = {s for s in signs if s != 0}
    if not seen:
        return "0"
    if seen == {1}:
        return "+"
    if seen == {-1}:
        return "-"
    return "?"


class _Probe:
    """Evaluates one equation of a run's model with its inputs held at chosen values."""

    def __init__(self, scenario: str, overrides: Mapping[str, Value] | None = None) -> None:
        run = prepare(scenario, overrides)
        self.frame, _ = model_module.simulate(run.values)
        self.model = model_module.load()
        # simulate() ran a fresh copy; run this one too, so its INITIAL() values are the run's.
        model_module.run_loaded(self.model, run.values)
        self.components = self.model.components
        self.dependencies = self.model.dependencies

    def _raw(self, py_name: str):
        return inspect.unwrap(getattr(self.components, py_name))

    def _set(self, py_name: str, value: float) -> None:
        self.components._set_component(py_name, lambda v=value: v)

    def partial_signs(
        self, target: str, sources: Sequence[str], stocks: set[str], times: Sequence[float]
    ) -> dict[str, list[int]]:
        """Return, per source, the sign of d target / d source at each time."""
        if target in stocks:
            integ = getattr(self.components, f"_integ_{target}")
            evaluate = integ.ddt
            inputs = sorted(self.dependencies[f"_integ_{target}"]["step"])
        else:
            evaluate = self._raw(target)
            inputs = sorted(d for d in self.dependencies[target] if d != "time")
        originals = {name: getattr(self.components, name) for name in inputs}
        signs: dict[str, list[int]] = {source: [] for source in sources}
        try:
            for when in times:
                self.model.time.update(when)
                row = self.frame.loc[when]
                held = {n: float(row[n]) for n in inputs if not n.startswith("_")}
                for name, value in held.items():
                    self._set(name, value)
                self.model.cache.clean()
                base = float(np.asarray(evaluate()).sum())
                for source in sources:
                    value = held[source]
                    step = NUDGE * max(abs(value), 1.0)
                    self._set(source, value + step)
                    self.model.cache.clean()
                    up = float(np.asarray(evaluate()).sum())
                    self._set(source, value - step)
                    self.model.cache.clean()
                    down = float(np.asarray(evaluate()).sum())
                    self._set(source, value)
                    signs[source].append(_sign(up - down, abs(base) + abs(up) + abs(down)))
        finally:
            for name, function in originals.items():
                self.components._set_component(name, function)
            self.model.cache.clean()
        return signs


def measure_polarities(
    graph: nx.DiGraph,
    scenarios: Sequence[str] = ("baseline",),
    overrides: Mapping[str, Value] | None = None,
) -> dict[tuple[str, str], str]:
    """Measure the polarity of every link of ``graph`` along runs of the given scenarios.

    Parameters
    ----------
    graph : networkx.DiGraph
        A graph from :func:`causal_graph`.
    scenarios : sequence of str
        The scenarios whose runs give the operating points; signs are pooled over all of them.
    overrides : mapping, optional
        Parameter values applied to every one of those runs (numbers, or year -> value series for
        drivers), e.g. to reach an operating point that no shipped scenario reaches.

    Returns
    -------
    dict
        ``(source, target) -> "+" | "-" | "?" | "0"`` with .mdl names.
    """
    py = nx.get_node_attributes(graph, "py_name")
    stocks = {py[n] for n, kind in graph.nodes(data="kind") if kind == STOCK}
    pooled: dict[tuple[str, str], list[int]] = {edge: [] for edge in graph.edges}
    for scenario in scenarios:
        probe = _Probe(scenario, overrides)
        times = probe.frame.index.to_numpy()[::POINT_STRIDE]
        for target in graph.nodes:
            sources = [s for s in graph.predecessors(target)]
            if not sources:
                continue
            found = probe.partial_signs(py[target], [py[s] for s in sources], stocks, times)
            for source in sources:
                pooled[(source, target)].extend(found[py[source]])
    return {edge: _combine(signs) for edge, signs in pooled.items()}


def find_loops(graph: nx.DiGraph) -> list[tuple[str, ...]]:
    """Return every simple cycle, each starting at a stock where it has one (else its first name).

    The order is deterministic: by length, then by the names.
    """
    stocks = {n for n, kind in graph.nodes(data="kind") if kind == STOCK}
    loops = []
    for cycle in nx.simple_cycles(graph):
        starts = [i for i, n in enumerate(cycle) if n in stocks] or [cycle.index(min(cycle))]
        first = min(starts, key=lambda i: cycle[i])
        loops.append(tuple(cycle[first:] + cycle[:first]))
    return sorted(loops, key=lambda c: (len(c), c))


def loop_polarity(loop: Sequence[str], polarities: Mapping[tuple[str, str], str]) -> str:
    """Return ``R``, ``B``, ``?`` (a link changes sign) or ``0`` (a link is dormant)."""
    signs = [polarities[(a, b)] for a, b in zip(loop, [*loop[1:], loop[0]], strict=True)]
    if "?" in signs:
        return "?"
    if "0" in signs:
        return "0"
    return "B" if signs.count("-") % 2 else "R"


@dataclass(frozen=True)
class NamedLoop:
    """A loop of the inventory in ``models/README.md``.

    Attributes
    ----------
    id : str
        Short id, e.g. ``R1b``.
    name : str
        The loop's name.
    polarity : str
        ``R`` or ``B`` as the inventory states it.
    variables : tuple of str
        The variables in causal order.
    """

    id: str
    name: str
    polarity: str
    variables: tuple[str, ...]

    @property
    def key(self) -> frozenset[tuple[str, str]]:
        """The loop's links, which identify it whatever variable it is listed from."""
        v = self.variables
        return frozenset(zip(v, [*v[1:], v[0]], strict=True))


def loop_key(loop: Sequence[str]) -> frozenset[tuple[str, str]]:
    """Return the set of links of a loop, independent of where it is listed from."""
    return frozenset(zip(loop, [*loop[1:], loop[0]], strict=True))


def _table_rows(path: Path, header: re.Pattern[str]) -> list[list[str]]:
    """Return the cells of each row of the Markdown table whose header line matches ``header``."""
    rows = []
    in_table = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if header.match(line):
            in_table = True
            continue
        if in_table and line.startswith("|---"):
            continue
        if in_table and line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif in_table:
            break
    return rows


_INVENTORY_HEADER = re.compile(r"^\|\s*id\s*\|\s*name\s*\|\s*polarity\s*\|\s*variables\s*\|")


def read_inventory(path: Path = INVENTORY) -> list[NamedLoop]:
    """Read the ``| id | name | polarity | variables |`` table of the loop inventory."""
    return [
        NamedLoop(loop_id, name, polarity, tuple(variables.split(_ARROW)))
        for loop_id, name, polarity, variables in _table_rows(path, _INVENTORY_HEADER)
    ]


@dataclass(frozen=True)
class InventoryCheck:
    """How the model's loops compare with the inventory.

    Attributes
    ----------
    matched : dict
        Model loop -> the inventory entry naming it.
    unnamed : list
        Model loops the inventory does not name.
    missing : list
        Inventory entries that are not loops of the model.
    """

    matched: dict[tuple[str, ...], NamedLoop]
    unnamed: list[tuple[str, ...]]
    missing: list[NamedLoop]


def match_inventory(
    loops: Sequence[tuple[str, ...]], inventory: Sequence[NamedLoop]
) -> InventoryCheck:
    """Pair the model's loops with the inventory's entries by their links."""
    by_key = {entry.key: entry for entry in inventory}
    matched = {loop: by_key[loop_key(loop)] for loop in loops if loop_key(loop) in by_key}
    unnamed = [loop for loop in loops if loop_key(loop) not in by_key]
    found = {loop_key(loop) for loop in loops}
    missing = [entry for entry in inventory if entry.key not in found]
    return InventoryCheck(matched, unnamed, missing)


#: The links of a family rule: each written in backticks as ``source → target``.
_RULE_LINK = re.compile(r"`([^`]+?) → ([^`]+?)`")
_FAMILY_HEADER = re.compile(r"^\|\s*id\s*\|\s*name\s*\|\s*rule\s*\|\s*loops\s*\|\s*R\s*\|\s*B\s*\|")


@dataclass(frozen=True)
class Family:
    """A family of loops in ``models/README.md``: the loops through all of the rule's links.

    Attributes
    ----------
    id : str
        Short id, e.g. ``T``; its loops are labelled ``T.1``, ``T.2``, ...
    name : str
        The family's name.
    links : tuple of (str, str)
        The links of the rule: a loop belongs to the family when it passes through every one of
        them (and no named loop and no earlier family has it).
    loops : int
        The number of loops the inventory states the family has.
    reinforcing : int
        How many of them the inventory states are reinforcing (measured, not asserted per loop).
    balancing : int
        How many of them the inventory states are balancing.
    """

    id: str
    name: str
    links: tuple[tuple[str, str], ...]
    loops: int
    reinforcing: int
    balancing: int

    def matches(self, loop: Sequence[str]) -> bool:
        """Return whether ``loop`` passes through every link of the rule."""
        return set(self.links) <= loop_key(loop)


def read_families(path: Path = INVENTORY) -> list[Family]:
    """Read the ``| id | name | rule | loops | R | B |`` table of loop families, in rule order.

    Parameters
    ----------
    path : Path
        The inventory, ``models/README.md`` by default.

    Returns
    -------
    list of Family
        The families in the order of the table, which is the order their rules are tried.

    Raises
    ------
    ValueError
        If a rule names no link (written in backticks as ``source → target``) or a count is not
        a whole number.
    """
    families = []
    for family_id, name, rule, count, reinforcing, balancing in _table_rows(path, _FAMILY_HEADER):
        links = tuple((a.strip(), b.strip()) for a, b in _RULE_LINK.findall(rule))
        if not links:
            raise ValueError(f"family {family_id}: its rule names no link: {rule!r}")
        families.append(
            Family(family_id, name, links, int(count), int(reinforcing), int(balancing))
        )
    return families


@dataclass(frozen=True)
class Assignment:
    """Every loop of the model, named by the inventory or assigned to a family.

    Attributes
    ----------
    named : dict
        Model loop -> the inventory entry naming it.
    families : dict
        Family id -> its loops, in the order of :func:`find_loops`; every family appears.
    unassigned : list
        Model loops neither named nor matched by any family.
    missing : list
        Inventory entries that are not loops of the model.
    empty : list
        Families whose rule matches no loop left after the named loops and earlier families.
    """

    named: dict[tuple[str, ...], NamedLoop]
    families: dict[str, list[tuple[str, ...]]]
    unassigned: list[tuple[str, ...]]
    missing: list[NamedLoop]
    empty: list[Family]

    @property
    def complete(self) -> bool:
        """Whether every loop is named or in a family, and every entry and family is used."""
        return not (self.unassigned or self.missing or self.empty)


def assign_families(
    loops: Sequence[tuple[str, ...]],
    inventory: Sequence[NamedLoop],
    families: Sequence[Family],
) -> Assignment:
    """Name the model's loops from the inventory and put every other loop in one family.

    Parameters
    ----------
    loops : sequence of tuple of str
        The model's loops, from :func:`find_loops`.
    inventory : sequence of NamedLoop
        The named loops, from :func:`read_inventory`.
    families : sequence of Family
        The families, from :func:`read_families`, in the order their rules are tried: a loop
        the inventory does not name goes to the first family whose rule it matches.

    Returns
    -------
    Assignment
        The named loops, each family's loops, and what is left over or missing.

    Raises
    ------
    ValueError
        If two families have the same id, or a family id is also a named loop's id.
    """
    ids = [family.id for family in families]
    if len(ids) != len(set(ids)):
        raise ValueError(f"family ids repeat: {ids}")
    clashes = set(ids) & {entry.id for entry in inventory}
    if clashes:
        raise ValueError(f"ids used by both a family and a named loop: {sorted(clashes)}")
    check = match_inventory(loops, inventory)
    members: dict[str, list[tuple[str, ...]]] = {family.id: [] for family in families}
    unassigned = []
    for loop in check.unnamed:
        family = next((f for f in families if f.matches(loop)), None)
        if family is None:
            unassigned.append(loop)
        else:
            members[family.id].append(loop)
    empty = [family for family in families if not members[family.id]]
    return Assignment(check.matched, members, unassigned, check.missing, empty)


def label_loops(
    assignment: Assignment,
    families: Sequence[Family],
    polarities: Mapping[tuple[str, str], str],
) -> list[NamedLoop]:
    """Return every assigned loop as a :class:`NamedLoop`: named loops, then families' loops.

    Parameters
    ----------
    assignment : Assignment
        From :func:`assign_families`.
    families : sequence of Family
        The families of that assignment.
    polarities : mapping
        Link polarities, from :func:`measure_polarities`; a family loop's ``polarity`` is the one
        they give it (``R``, ``B``, ``?`` or ``0``), as the inventory states none.

    Returns
    -------
    list of NamedLoop
        Named loops as the inventory has them (sorted by id), then each family's loops in rule
        order, with id ``<family id>.<index>`` (from 1, in the order of :func:`find_loops`), the
        family's name, and variables as :func:`find_loops` lists them.
    """
    labelled = sorted(assignment.named.values(), key=lambda entry: entry.id)
    for family in families:
        for index, loop in enumerate(assignment.families.get(family.id, []), start=1):
            polarity = loop_polarity(loop, polarities)
            labelled.append(NamedLoop(f"{family.id}.{index}", family.name, polarity, loop))
    return labelled
