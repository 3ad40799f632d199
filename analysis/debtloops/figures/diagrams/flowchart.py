"""The causal-loop diagram as a Mermaid flowchart, for Markdown.

:func:`mermaid` writes the same variables, links and loop markers as
:func:`debtloops.figures.diagrams.cld.cld_dot`, in Mermaid's ``flowchart`` language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import networkx as nx

from debtloops.figures.diagrams.cld import marker_anchors, mechanism_name
from debtloops.figures.diagrams.dot_style import (
    BALANCING_COLOUR,
    REINFORCING_COLOUR,
    SIGN_TEXT,
    polarity_word,
)
from debtloops.loops.graph import STOCK
from debtloops.loops.inventory import NamedLoop
from debtloops.loops.overview import principal_loops

#: A node id Mermaid takes as it is.
SAFE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Words of Mermaid's language that cannot be node ids (compared in lower case).
MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef"}


def _mermaid_ids(graph: nx.DiGraph) -> dict[str, str]:
    """Return a Mermaid-safe, unique id for each variable, from its Python name."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name, data in sorted(graph.nodes(data=True)):
        base = re.sub(r"\W", "_", str(data.get("py_name") or name), flags=re.ASCII)
        if not SAFE_ID.fullmatch(base) or base.lower() in MERMAID_RESERVED:
            base = f"v_{base}"
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(
    graph: nx.DiGraph, polarities: Mapping[tuple[str, str], str], loops: Sequence[NamedLoop]
) -> str:
    """Return the causal-loop diagram as a Mermaid ``flowchart LR`` for Markdown.

    Node ids are the variables' Python names and labels their .mdl names; stocks are boxes and
    other variables rounded. Each link is one line labelled with its polarity (a dotted arrow for
    a dormant ``0`` link). Each principal mechanism is a circle with its id and name, tied by a
    dotted line to a variable of its loop.

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
    str
        The Mermaid text, without a Markdown fence.
    """
    ids = _mermaid_ids(graph)
    lines = ["flowchart LR"]
    for name, kind in sorted(graph.nodes(data="kind")):
        label = _mermaid_text(name)
        shape = f'["{label}"]' if kind == STOCK else f'("{label}")'
        lines.append(f"    {ids[name]}{shape}")
    for source, target in sorted(graph.edges):
        sign = polarities.get((source, target), "?")
        arrow = "-.->" if sign == "0" else "-->"
        lines.append(f"    {ids[source]} {arrow}|{SIGN_TEXT.get(sign, '?')}| {ids[target]}")
    markers = [m for m in principal_loops(loops) if all(v in graph for v in m.variables)]
    anchors = marker_anchors(graph, markers)
    for loop in markers:
        node = f"loop_{loop.id}"
        lines.append(f'    {node}(("{_mermaid_text(f"{loop.id} {mechanism_name(loop)}")}"))')
        lines.append(f"    {node} -.- {ids[anchors[loop.id]]}")
        lines.append(f"    class {node} {polarity_word(loop.polarity)}")
    lines.append(f"    classDef reinforcing stroke:{REINFORCING_COLOUR},color:{REINFORCING_COLOUR}")
    lines.append(f"    classDef balancing stroke:{BALANCING_COLOUR},color:{BALANCING_COLOUR}")
    return "\n".join(lines) + "\n"
