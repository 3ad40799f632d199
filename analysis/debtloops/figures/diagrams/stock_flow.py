"""The stock-and-flow diagram: stocks, the pipes and valves of their flows, and the flows' drivers.

:func:`stock_flow_dot` draws it; :func:`cloud_id` names the clouds where a flow leaves or enters
the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import graphviz
import networkx as nx

from debtloops.figures.diagrams.dot_style import digraph, node_style
from debtloops.loops.graph import FLOW, STOCK, measure_polarities

#: Prefix of the node ids of the clouds of the stock-and-flow diagram.
CLOUD_PREFIX = "cloud, "
#: The legend under the diagram.
STOCK_FLOW_LEGEND = (
    "boxes: stocks    triangles on double pipes: flows    clouds: outside the model    "
    "grey arrows: information links"
)
#: A stock's box.
STOCK_STYLE = {"shape": "box", "penwidth": "1.8", "fontsize": "12", "margin": "0.14,0.08"}
#: A double-line pipe from a stock (or cloud) through a valve to a stock (or cloud).
PIPE_STYLE = {"color": "black:white:black", "penwidth": "1.4", "arrowsize": "0.9", "weight": "8"}
#: An information link that drives a flow.
INFO_STYLE = {"color": "grey60", "penwidth": "0.7", "arrowsize": "0.5"}
#: A flow's valve, a small triangle on its pipe; the flow's name is a label beside it.
VALVE_STYLE = {
    "shape": "invtriangle",
    "label": "",
    "width": "0.26",
    "height": "0.22",
    "fixedsize": "true",
    "style": "filled",
    "fillcolor": "white",
    "penwidth": "1.4",
}
#: The outside of the model, where a flow starts or ends.
CLOUD_STYLE = {
    "shape": "egg",
    "label": "",
    "width": "0.42",
    "height": "0.28",
    "style": "filled",
    "fillcolor": "#e4ebf3",
    "color": "grey50",
}


def cloud_id(end: str, flow: str) -> str:
    """Return the node id of the cloud at one end of a flow, e.g. ``cloud, sink of japan sales``.

    A colon would make DOT read the rest as a port, so the id has none; it shares its prefix with
    no .mdl name.
    """
    return f"{CLOUD_PREFIX}{end} of {flow}"


def _flow_stocks(
    graph: nx.DiGraph, polarities: Mapping[tuple[str, str], str]
) -> dict[str, tuple[list[str], list[str]]]:
    """Return, for each flow, the stocks it drains and the stocks it fills."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for flow, kind in sorted(graph.nodes(data="kind")):
        if kind != FLOW:
            continue
        drains: list[str] = []
        fills: list[str] = []
        for stock in sorted(graph.successors(flow)):
            if graph.nodes[stock].get("kind") != STOCK:
                continue
            (drains if polarities.get((flow, stock)) == "-" else fills).append(stock)
        found[flow] = (drains, fills)
    return found


def _stock_signs(graph: nx.DiGraph) -> dict[tuple[str, str], str]:
    """Measure, in the baseline, the sign of each flow in its stocks' equations."""
    pipes: nx.DiGraph[str] = nx.DiGraph()
    for flow, stock in graph.edges:
        if graph.nodes[flow].get("kind") == FLOW and graph.nodes[stock].get("kind") == STOCK:
            pipes.add_node(flow, **graph.nodes[flow])
            pipes.add_node(stock, **graph.nodes[stock])
            pipes.add_edge(flow, stock)
    return measure_polarities(pipes, ["baseline"])


def _draw_pipe(
    dot: graphviz.Digraph, flow: str, drains: Sequence[str], fills: Sequence[str]
) -> None:
    """Draw a flow's valve with its name beside it, and its pipes from and to stocks or clouds."""
    caption = f"{flow} (name)"
    dot.node(flow, **VALVE_STYLE)
    dot.node(caption, shape="plaintext", label=flow, margin="0")
    with dot.subgraph() as row:
        row.attr(rank="same")
        row.node(flow)
        row.node(caption)
    dot.edge(flow, caption, style="invis")
    sources = list(drains) or [cloud_id("source", flow)]
    sinks = list(fills) or [cloud_id("sink", flow)]
    for end in sources + sinks:
        if end.startswith(CLOUD_PREFIX):
            dot.node(end, **CLOUD_STYLE)
    for source in sources:
        dot.edge(source, flow, arrowhead="none", **PIPE_STYLE)
    for sink in sinks:
        dot.edge(flow, sink, **PIPE_STYLE)


def stock_flow_dot(
    graph: nx.DiGraph, polarities: Mapping[tuple[str, str], str] | None = None
) -> str:
    """Return the stock-and-flow diagram of the model as DOT text.

    Stocks are boxes. Each flow is a valve (a small triangle, its name beside it) on a double-line
    pipe that runs out of the stock it drains and into the stock it fills; a cloud (an egg shape)
    stands for the outside of the model where a flow starts or ends. Thin grey arrows are the
    information links that drive the flows, from stocks, other flows and the auxiliaries that
    enter a flow's equation; the chains of auxiliaries behind them are in the causal-loop diagram.

    Parameters
    ----------
    graph : networkx.DiGraph
        The causal graph from :func:`debtloops.loops.graph.causal_graph`.
    polarities : mapping, optional
        Link polarities as from :func:`debtloops.loops.graph.measure_polarities`; a flow whose link
        to a stock is ``-`` drains it, any other fills it. Measured in the baseline if not given.

    Returns
    -------
    str
        The diagram in the DOT language.
    """
    if polarities is None:
        polarities = _stock_signs(graph)
    pipes = _flow_stocks(graph, polarities)
    kinds = dict(graph.nodes(data="kind"))
    piped = {(f, s) for f, (drains, fills) in pipes.items() for s in drains + fills}
    links = sorted((a, b) for a, b in graph.edges if kinds.get(b) == FLOW and (a, b) not in piped)
    drivers = {a for a, _ in links if kinds.get(a) not in (STOCK, FLOW)}
    dot = digraph(
        "stock and flow diagram",
        rankdir="LR",
        nodesep="0.22",
        ranksep="0.5",
        label=STOCK_FLOW_LEGEND,
        labelloc="b",
        fontsize="12",
        fontcolor="grey30",
    )
    for name in sorted(n for n, kind in kinds.items() if kind == STOCK):
        dot.node(name, **STOCK_STYLE)
    for name in sorted(drivers):
        dot.node(name, **node_style(kinds[name]))
    for flow, (drains, fills) in pipes.items():
        _draw_pipe(dot, flow, drains, fills)
    for source, target in links:
        # A stock's links to flows close loops; leaving them out of the ranking keeps every pipe
        # running from left to right.
        loose = "false" if kinds.get(source) == STOCK else None
        dot.edge(source, target, constraint=loose, **INFO_STYLE)
    return dot.source
