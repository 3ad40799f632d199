"""The causal-loop diagram: every variable and link of the model, and its loops marked.

:func:`cld_dot` draws the whole model with a marker for each principal mechanism of the loop
inventory or, with ``highlight``, one loop drawn bold over a faint copy of the whole model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import graphviz
import networkx as nx

from debtloops.figures.diagrams.dot_style import (
    FAINT,
    digraph,
    edge_style,
    html_label,
    html_text,
    loop_colour,
    node_style,
    polarity_word,
    wrap,
)
from debtloops.loops.graph import STOCK
from debtloops.loops.inventory import NamedLoop
from debtloops.loops.overview import principal_loops

#: Prefix of the node ids of loop markers, which no .mdl name starts with.
MARKER_PREFIX = "loop "
#: The title of the causal-loop diagram of the whole model.
CLD_TITLE = (
    "The whole model: every variable, every causal link with its sign, and the principal loops"
)
#: Longest line of a mechanism's name on its marker [characters].
MARKER_NAME_CHARACTERS = 16


def mechanism_name(loop: NamedLoop) -> str:
    """Return a loop's name without its closing parenthesis, e.g. ``interest snowball``."""
    return re.sub(r"\s*\([^()]*\)$", "", loop.name)


def marker_id(loop: NamedLoop) -> str:
    """Return the DOT node id of a loop's marker."""
    return f"{MARKER_PREFIX}{loop.id}"


def loop_links(loop: NamedLoop) -> list[tuple[str, str]]:
    """Return the links of a loop, from each variable to the next and from the last to the first."""
    v = loop.variables
    return list(zip(v, [*v[1:], v[0]], strict=True))


def _marker_label(loop: NamedLoop, name: str) -> str:
    """Return a marker's label: the id large and bold, the name below it over short lines."""
    lines = "<BR/>".join(html_text(line) for line in wrap(name, MARKER_NAME_CHARACTERS))
    return html_label(
        f'<FONT POINT-SIZE="16"><B>{html_text(loop.id)}</B></FONT><BR/>'
        f'<FONT POINT-SIZE="11">{lines}</FONT>'
    )


def marker_anchors(graph: nx.DiGraph, markers: Sequence[NamedLoop]) -> dict[str, str]:
    """Pick, for each marker, the variable of its loop that the fewest other markers share."""
    shared: dict[str, int] = {}
    for loop in markers:
        for name in set(loop.variables):
            shared[name] = shared.get(name, 0) + 1
    used: dict[str, int] = {}
    chosen = {}
    for loop in markers:
        candidates = [v for v in loop.variables if v in graph]
        best = min(
            candidates,
            key=lambda v: (used.get(v, 0), shared[v], graph.nodes[v]["kind"] != STOCK),
        )
        used[best] = used.get(best, 0) + 1
        chosen[loop.id] = best
    return chosen


def _titled(highlight: NamedLoop | None) -> graphviz.Digraph:
    """Return the empty diagram with its title: the whole model's, or the highlighted loop's."""
    if highlight is None:
        return digraph(
            "causal loop diagram", label=CLD_TITLE, labelloc="t", fontsize="32", fontcolor="black"
        )
    title = f"{highlight.id}  {highlight.name}  ({polarity_word(highlight.polarity)})"
    return digraph(
        f"loop {highlight.id}", label=title, labelloc="t", fontsize="40", fontcolor="black"
    )


def _draw_model(
    dot: graphviz.Digraph,
    graph: nx.DiGraph,
    polarities: Mapping[tuple[str, str], str],
    highlight: NamedLoop | None,
) -> None:
    """Draw every variable and link, those of ``highlight`` bold and coloured, the rest faint."""
    on_loop = set(highlight.variables) if highlight else set()
    on_links = set(loop_links(highlight)) if highlight else set()
    colour = loop_colour(highlight.polarity) if highlight else "black"
    for name, data in sorted(graph.nodes(data=True)):
        style = node_style(data.get("kind", ""))
        if highlight is not None:
            if name in on_loop:
                style.update(color=colour, fontcolor=colour, penwidth="3.5", fontsize="15")
                if style["shape"] == "plaintext":
                    style.update(shape="box", style="rounded")
            else:
                style.update(color=FAINT, fontcolor="grey65", penwidth="0.6")
        dot.node(name, **style)
    for source, target in sorted(graph.edges):
        style = edge_style(polarities.get((source, target), "?"))
        if highlight is not None:
            if (source, target) in on_links:
                style.update(
                    color=colour, fontcolor=colour, penwidth="4", fontsize="20", arrowsize="1"
                )
            else:
                style.update(color=FAINT, fontcolor="grey70", penwidth="0.5")
        dot.edge(source, target, **style)


def _draw_markers(
    dot: graphviz.Digraph, graph: nx.DiGraph, markers: Sequence[NamedLoop], full_names: bool
) -> None:
    """Draw a circular marker for each loop, tied beside a variable of its loop."""
    anchors = marker_anchors(graph, markers)
    for loop in markers:
        name = loop.name if full_names else mechanism_name(loop)
        colour = loop_colour(loop.polarity)
        dot.node(
            marker_id(loop),
            shape="circle",
            label=_marker_label(loop, name),
            color=colour,
            fontcolor=colour,
            style="filled",
            fillcolor="white",
            penwidth="1.6",
            margin="0.02",
        )
        # minlen=0 and a heavy weight put the marker in its anchor's row, right beside it.
        dot.edge(anchors[loop.id], marker_id(loop), style="invis", weight="20", minlen="0")
    # An invisible cluster keeps each anchor and its markers together, so that no other variable
    # comes between them.
    for number, anchor in enumerate(dict.fromkeys(anchors[loop.id] for loop in markers)):
        with dot.subgraph(name=f"cluster_marker_{number}") as cluster:
            cluster.attr(peripheries="0", label="")  # a cluster would repeat the title
            for member in [anchor, *(marker_id(m) for m in markers if anchors[m.id] == anchor)]:
                cluster.node(member)


def cld_dot(
    graph: nx.DiGraph,
    polarities: Mapping[tuple[str, str], str],
    loops: Sequence[NamedLoop],
    highlight: NamedLoop | None = None,
) -> str:
    """Return the causal-loop diagram of the model as DOT text.

    Stocks are boxes, flows ellipses, auxiliaries plain text and constants (if the graph has them)
    small grey text. Every link carries its polarity: ``+``, ``−`` (a Unicode minus), ``?`` or a
    dashed ``0``. Without ``highlight`` the title is :data:`CLD_TITLE` and each principal
    mechanism (inventory ids without a suffix, R1 to B24) has a circular marker with its id and
    name, tied by an invisible link beside a variable of its loop. With ``highlight`` the model is
    drawn faint and that loop bold and coloured, with its id and name as the title.

    Parameters
    ----------
    graph : networkx.DiGraph
        The causal graph from :func:`debtloops.loops.graph.causal_graph`.
    polarities : mapping
        ``(source, target) -> "+" | "-" | "?" | "0"`` for every link of ``graph``.
    loops : sequence of NamedLoop
        The loop inventory, from :func:`debtloops.loops.inventory.read_inventory`.
    highlight : NamedLoop, optional
        A loop to show on its own.

    Returns
    -------
    str
        The diagram in the DOT language.
    """
    dot = _titled(highlight)
    _draw_model(dot, graph, polarities, highlight)
    markers = principal_loops(loops) if highlight is None else [highlight]
    markers = [m for m in markers if all(v in graph for v in m.variables)]
    _draw_markers(dot, graph, markers, full_names=highlight is not None)
    return dot.source
