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
  Each run's signs are kept in the loop cache (:mod:`debtloops.loops.cache`), keyed on the
  run's parameter values, the links, the .mdl and this code.
* :func:`find_loops` lists the simple cycles; :func:`loop_polarity` multiplies link signs.

The loop inventory of ``models/README.md`` (named loops and families) is read and matched in
:mod:`debtloops.loops.inventory`.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pysd

from debtloops.loops import cache
from debtloops.model import engine as model_module
from debtloops.model.parameters import CONTROLS, Value, load_parameters
from debtloops.model.run import prepare

STOCK, FLOW, AUXILIARY, CONSTANT = "stock", "flow", "auxiliary", "constant"
# Relative nudge of a source, and the smallest relative change of the target counted as an effect.
NUDGE = 1e-6
EFFECT_TOLERANCE = 1e-9
#: zlib's level for the cached list of loops: the fastest, which still shrinks its 28 MB of JSON
#: (long variable names, repeated) about tenfold.
LOOPS_COMPRESSION = 1
# Operating points: every this many saved steps of a run (yearly at the default quarterly output).
POINT_STRIDE = 4


def causal_graph(
    include_constants: bool = False, model: pysd.py_backend.model.Model | None = None
) -> nx.DiGraph:
    """Return the causal graph of the model's variables, named as in the .mdl.

    Parameters
    ----------
    include_constants : bool
        Also include the constants (parameters and drivers) and their links.
    model : pysd Model, optional
        The translated model to read, e.g. ``pysd.load(str(engine.build(mdl, build_dir=tmp)))``
        for another .mdl; the shipped model (:func:`debtloops.model.engine.load`) by default.

    Returns
    -------
    networkx.DiGraph
        Nodes are .mdl variable names with attributes ``kind`` (stock, flow, auxiliary or
        constant), ``py_name``, ``units`` and ``comment``. An edge ``a -> b`` means ``b``'s
        equation uses ``a``; a stock's inputs are its flows.
    """
    pysd_model = model_module.load() if model is None else model
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
    graph: nx.DiGraph[str] = nx.DiGraph()
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

    def __init__(self, values: Mapping[str, Value]) -> None:
        # One run of a fresh copy gives both the operating points and a model whose INITIAL()
        # values are the run's (model_module.simulate() would run another copy to the same end).
        self.model = model_module.load()
        frame = model_module.run_loaded(self.model, values)
        info = model_module.describe(self.model)
        self.frame = frame.rename(columns={real: py for py, real in info.real_names.items()})
        self.components = self.model.components
        self.dependencies = self.model.dependencies
        # the run's values at each operating point, by pysd name (one row read per time, not one
        # per equation and time)
        self._rows: dict[float, dict[str, Any]] = {}

    def _row(self, when: float) -> dict[str, Any]:
        if when not in self._rows:
            self._rows[when] = self.frame.loc[when].to_dict()
        return self._rows[when]

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
                row = self._row(when)
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
    cbo: str | Path | None = None,
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
    cbo : str or Path, optional
        The CBO vintage of those runs (see :func:`debtloops.model.run.prepare`).

    Returns
    -------
    dict
        ``(source, target) -> "+" | "-" | "?" | "0"`` with .mdl names.
    """
    py = nx.get_node_attributes(graph, "py_name")
    stocks = {py[n] for n, kind in graph.nodes(data="kind") if kind == STOCK}
    links = sorted((py[source], py[target]) for source, target in graph.edges)
    pooled: dict[tuple[str, str], set[int]] = {link: set() for link in links}
    table = load_parameters()  # read once, not once per scenario
    for scenario in scenarios:
        values = prepare(scenario, overrides, table=table, cbo=cbo).values
        found = cache.cached(
            "polarities",
            {"values": cache.plain_values(values), "links": links, "stocks": sorted(stocks)},
            [sys.modules[__name__], model_module],
            functools.partial(_run_signs, values, links, stocks),
            _encode_signs,
            lambda payload: _decode_signs(payload, links),
        )
        for link in links:
            pooled[link] |= _SIGNS[found[link]]
    return {(a, b): _combine(pooled[(py[a], py[b])]) for a, b in graph.edges}


#: The signs a polarity stands for: what the signs of one run add to those of another.
_SIGNS = {"0": frozenset(), "+": frozenset({1}), "-": frozenset({-1}), "?": frozenset({1, -1})}


def _run_signs(
    values: Mapping[str, Value], links: Sequence[tuple[str, str]], stocks: set[str]
) -> dict[tuple[str, str], str]:
    """Return the polarity of each link (pysd names) along one run with the given values."""
    probe = _Probe(values)
    times = probe.frame.index.to_numpy()[::POINT_STRIDE]
    sources: dict[str, list[str]] = {}
    for source, target in links:
        sources.setdefault(target, []).append(source)
    found: dict[tuple[str, str], str] = {}
    for target, inputs in sources.items():
        signs = probe.partial_signs(target, inputs, stocks, times)
        found.update({(source, target): _combine(signs[source]) for source in inputs})
    return found


def _encode_signs(found: Mapping[tuple[str, str], str]) -> bytes:
    return json.dumps(sorted([a, b, sign] for (a, b), sign in found.items())).encode()


def _decode_signs(payload: bytes, links: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    found = {(a, b): sign for a, b, sign in json.loads(payload)}
    if set(found) != set(links) or not set(found.values()) <= set(_SIGNS):
        raise ValueError("a cached entry that does not hold one polarity for each link")
    return found


def find_loops(graph: nx.DiGraph) -> list[tuple[str, ...]]:
    """Return every simple cycle, each starting at a stock where it has one (else its first name).

    The order is deterministic: by length, then by the names. The loops of a graph are kept in
    the loop cache (:mod:`debtloops.loops.cache`), keyed on its links and stocks.
    """
    stocks = sorted(n for n, kind in graph.nodes(data="kind") if kind == STOCK)
    return cache.cached(
        "loops",
        {"links": sorted(graph.edges), "stocks": stocks},
        [sys.modules[__name__]],
        functools.partial(_cycles, graph, set(stocks)),
        lambda loops: zlib.compress(json.dumps(loops).encode(), LOOPS_COMPRESSION),
        _decode_loops,
    )


def _cycles(graph: nx.DiGraph, stocks: set[str]) -> list[tuple[str, ...]]:
    loops = []
    for cycle in nx.simple_cycles(graph):
        starts = [i for i, n in enumerate(cycle) if n in stocks] or [cycle.index(min(cycle))]
        first = min(starts, key=lambda i: cycle[i])
        loops.append(tuple(cycle[first:] + cycle[:first]))
    return sorted(loops, key=lambda c: (len(c), c))


def _decode_loops(payload: bytes) -> list[tuple[str, ...]]:
    loops = [tuple(loop) for loop in json.loads(zlib.decompress(payload))]
    if not all(loop and all(isinstance(name, str) for name in loop) for loop in loops):
        raise ValueError("a cached entry that does not hold loops of variable names")
    return loops


def loop_polarity(loop: Sequence[str], polarities: Mapping[tuple[str, str], str]) -> str:
    """Return ``R``, ``B``, ``?`` (a link changes sign) or ``0`` (a link is dormant)."""
    signs = [polarities[(a, b)] for a, b in zip(loop, [*loop[1:], loop[0]], strict=True)]
    if "?" in signs:
        return "?"
    if "0" in signs:
        return "0"
    return "B" if signs.count("-") % 2 else "R"


def sign_product(first: str, second: str) -> str:
    """Return the sign of a path of two links: ``0`` if either is dormant, ``?`` if either is."""
    if "0" in (first, second):
        return "0"
    if "?" in (first, second):
        return "?"
    return "+" if first == second else "-"


def contract(
    graph: nx.DiGraph, polarities: Mapping[tuple[str, str], str], kept: Iterable[str]
) -> nx.DiGraph:
    """Contract every path through variables not kept into one link between kept variables.

    A link ``a -> b`` of the result stands for every path from ``a`` to ``b`` in ``graph`` whose
    inner variables are all outside ``kept``; its sign along one path is the product of the
    path's link signs (:func:`sign_product`). Every loop of ``graph`` through at least one kept
    variable becomes a closed walk of the result with the same polarity, provided each of its
    contracted links has one sign; a loop through one kept variable becomes a link from that
    variable to itself.

    Parameters
    ----------
    graph : networkx.DiGraph
        A causal graph, from :func:`causal_graph`.
    polarities : mapping
        ``(source, target) -> "+" | "-" | "?" | "0"`` for every link of ``graph``.
    kept : iterable of str
        The variables to keep. Every loop of ``graph`` must pass through one of them, so that no
        path between kept variables can go round a loop (:func:`loop_cut` finds such a set).

    Returns
    -------
    networkx.DiGraph
        The kept variables, with their attributes from ``graph``, and one link per pair joined
        by a path, with attributes ``signs`` (the set of the signs of its paths) and ``sign``:
        ``+`` or ``-`` when every path that is not dormant has that sign, ``±`` when such paths
        have both signs, ``?`` when one has an unknown sign, and ``0`` when every path is
        dormant.

    Raises
    ------
    ValueError
        If a kept variable is not in ``graph``, or a loop avoids every kept variable.
    """
    kept = set(kept)
    unknown = kept - set(graph)
    if unknown:
        raise ValueError(f"variables to keep that the graph does not have: {sorted(unknown)}")
    rest = graph.subgraph(set(graph) - kept)
    if not nx.is_directed_acyclic_graph(rest):
        cycle = [a for a, _ in nx.find_cycle(rest)]
        raise ValueError(f"a loop avoids every kept variable: {' -> '.join(cycle)}")
    result: nx.DiGraph[str] = nx.DiGraph()
    result.add_nodes_from((name, graph.nodes[name]) for name in kept)
    for source in sorted(kept):
        # (variable, sign of the path so far), over paths whose inner variables are not kept
        frontier = [(target, polarities[(source, target)]) for target in graph.successors(source)]
        seen = set(frontier)
        while frontier:
            name, sign = frontier.pop()
            if name in kept:
                if not result.has_edge(source, name):
                    result.add_edge(source, name, signs=set())
                result.edges[source, name]["signs"].add(sign)
                continue
            for target in graph.successors(name):
                state = (target, sign_product(sign, polarities[(name, target)]))
                if state not in seen:
                    seen.add(state)
                    frontier.append(state)
    for _, _, data in result.edges(data=True):
        data["signs"] = frozenset(data["signs"])
        data["sign"] = _path_signs(data["signs"])
    return result


def _path_signs(signs: frozenset[str]) -> str:
    active = signs - {"0"}
    if not active:
        return "0"
    if "?" in active:
        return "?"
    return next(iter(active)) if len(active) == 1 else "±"


def loop_cut(graph: nx.DiGraph, chosen: Iterable[str]) -> list[str]:
    """Return ``chosen`` and, after it, the stocks needed so that every loop passes through one.

    Every loop of a system-dynamics model passes through a stock, so adding the stocks of the
    loops that avoid ``chosen`` (in name order, one at a time, until none is left) always ends.

    Parameters
    ----------
    graph : networkx.DiGraph
        A causal graph, from :func:`causal_graph`.
    chosen : iterable of str
        The variables picked first.

    Returns
    -------
    list of str
        ``chosen`` in its order, then the stocks added.
    """
    kept = list(dict.fromkeys(chosen))
    stocks = sorted(n for n, kind in graph.nodes(data="kind") if kind == STOCK)
    while True:
        rest = graph.subgraph(set(graph) - set(kept))
        try:
            cycle = [a for a, _ in nx.find_cycle(rest)]
        except nx.NetworkXNoCycle:
            return kept
        kept.append(next(name for name in stocks if name in cycle))


def contracted_loop(
    loop: Sequence[str], kept: Iterable[str], polarities: Mapping[tuple[str, str], str]
) -> list[tuple[str, str, str]]:
    """Return the links a loop becomes in :func:`contract`'s graph, with the loop's own signs.

    Parameters
    ----------
    loop : sequence of str
        The loop's variables in causal order.
    kept : iterable of str
        The kept variables of the contraction; the loop must pass through one of them.
    polarities : mapping
        ``(source, target) -> sign`` for every link of the loop.

    Returns
    -------
    list of tuple
        ``(source, target, sign)`` for each stretch of the loop from one kept variable to the
        next, in the loop's order, ``sign`` being the product of the stretch's link signs; a loop
        through one kept variable gives one link from it to itself.

    Raises
    ------
    ValueError
        If the loop passes through no kept variable.
    """
    kept = set(kept)
    starts = [i for i, name in enumerate(loop) if name in kept]
    if not starts:
        raise ValueError(f"the loop passes through no kept variable: {' -> '.join(loop)}")
    ordered = [*loop[starts[0] :], *loop[: starts[0]]]
    stretches = []
    source, sign = ordered[0], "+"
    for name, target in zip(ordered, [*ordered[1:], ordered[0]], strict=True):
        sign = sign_product(sign, polarities[(name, target)])
        if target in kept:
            stretches.append((source, target, sign))
            source, sign = target, "+"
    return stretches
