"""The overview graph: the model's principal loops over about twenty variables.

The overview causal-loop diagram (:func:`debtloops.figures.diagrams.overview_dot`) draws this
graph; which variables and links it holds is decided here, from the causal graph and the loop
inventory, so the overview follows the .mdl as it changes.

* :func:`principal_loops` picks the loop inventory's principal mechanisms (ids without a suffix).
* :func:`overview_graph` keeps :data:`OVERVIEW_VARIABLES` and the stocks that cut every loop,
  contracts the chains between them, and keeps the links that carry a principal loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx

from debtloops.loops.graph import contract, contracted_loop, loop_cut
from debtloops.loops.inventory import NamedLoop

#: Ids of the principal mechanisms: a polarity letter and a number, no suffix.
PRINCIPAL_ID = re.compile(r"[RB]\d+")
#: The variables the overview keeps first, in the order of the seed article's chain: the sale, the
#: fiscal risk premium, the 10-year yield, interest, the deficit and the debt; then the dollar, the
#: Fed's responses, fiscal consolidation and the economy. :func:`overview_graph` adds the stocks
#: needed so that every loop of the model passes through a kept variable: the traded premium
#: (``market premium``), the Fed's smoothed rule, the holders' stocks, the debt segments and their
#: interest, demand and potential output. The fiscal risk premium is kept so that the debt reaches
#: the yield through it (debt/GDP, R4, +); the only other route from the debt to the yield, the
#: benchmark of the level branch (B2c, -), is not a principal loop.
OVERVIEW_VARIABLES = (
    "japan sales",
    "recent official sales",
    "fiscal risk premium",
    "market yield",
    "interest on bills",
    "net interest",
    "deficit",
    "debt held by public",
    "bills outstanding",
    "dollar index",
    "yield spike",
    "fed policy rate",
    "recent fed purchases",
    "fiscal consolidation",
    "inflation",
    "real GDP deviation",
)


def principal_loops(loops: Iterable[NamedLoop]) -> list[NamedLoop]:
    """Return the loops whose id has no letter suffix (R1, R2, ..., B15): one per mechanism."""
    return [loop for loop in loops if PRINCIPAL_ID.fullmatch(loop.id)]


def overview_graph(
    graph: nx.DiGraph, polarities: Mapping[tuple[str, str], str], loops: Sequence[NamedLoop]
) -> nx.DiGraph:
    """Return the overview of the model: its principal loops over a few variables.

    The variables of :data:`OVERVIEW_VARIABLES` are kept, with the stocks that
    :func:`debtloops.loops.graph.loop_cut` adds so that every loop passes through a kept variable;
    every chain of other variables between two kept ones is contracted into one link
    (:func:`debtloops.loops.graph.contract`) whose signs are the products along its paths. Of the
    contracted graph, the overview keeps the links that carry a principal loop of the inventory
    (:func:`principal_loops`) and the variables they join, so it follows the .mdl as it changes.

    Parameters
    ----------
    graph : networkx.DiGraph
        The causal graph from :func:`debtloops.loops.graph.causal_graph`.
    polarities : mapping
        ``(source, target) -> "+" | "-" | "?" | "0"`` for every link of ``graph``.
    loops : sequence of NamedLoop
        The loop inventory.

    Returns
    -------
    networkx.DiGraph
        The overview's variables (with their attributes from ``graph``) and links, each link with
        the ``signs`` of all its paths and the ``loops``, the ids of the principal loops it carries.

    Raises
    ------
    ValueError
        If a variable of :data:`OVERVIEW_VARIABLES` is not in ``graph``.
    """
    kept = loop_cut(graph, OVERVIEW_VARIABLES)
    contracted = contract(graph, polarities, kept)
    carried: dict[tuple[str, str], list[str]] = {}
    for loop in principal_loops(loops):
        for source, target, _ in contracted_loop(loop.variables, kept, polarities):
            carried.setdefault((source, target), []).append(loop.id)
    overview: nx.DiGraph[str] = nx.DiGraph(contracted.edge_subgraph(carried))
    for link, ids in carried.items():
        overview.edges[link]["loops"] = ids
    return overview
