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

The loop inventory of ``models/README.md`` (named loops and families) is read and matched in
:mod:`debtloops.loops.inventory`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np

from debtloops.model import engine as model_module
from debtloops.model.parameters import CONTROLS, Value
from debtloops.model.run import prepare

STOCK, FLOW, AUXILIARY, CONSTANT = "stock", "flow", "auxiliary", "constant"
# Relative nudge of a source, and the smallest relative change of the target counted as an effect.
NUDGE = 1e-6
EFFECT_TOLERANCE = 1e-9
# Operating points: every this many saved steps of a run (yearly at the default quarterly output).
POINT_STRIDE = 4


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
