"""Diagrams of the model's structure: causal-loop and stock-and-flow diagrams.

The diagrams are built from the causal graph of :mod:`debtloops.loops.graph`, written as Graphviz
DOT text with the ``graphviz`` package (:class:`graphviz.Digraph`), and rendered to SVG and PNG by
Graphviz ``dot`` or, when no system Graphviz is installed, by the ``graphviz-pure`` command
(``pip install graphviz-pure``), which takes the same command line.

* :func:`overview_dot` draws the overview: the principal loops over about twenty variables,
  contracted from the causal graph (:func:`overview_graph`), to be read on one A4 page.
* :func:`cld_dot` draws the causal-loop diagram: every link with its polarity, and a marker for
  each principal mechanism of the loop inventory (or, with ``highlight``, one loop drawn over a
  faint copy of the whole model).
* :func:`stock_flow_dot` draws the stocks, their in- and outflows as pipes through valves, and the
  information links that drive the flows.
* :func:`mermaid` gives the causal-loop diagram as Mermaid text for Markdown.
* :func:`render` runs the renderer and :func:`write_all` writes the full set of files.

Every file is written under a temporary name in its folder and renamed when complete.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import graphviz
import networkx as nx

from debtloops.errors import (
    WRITE_ERRNOS,
    DebtloopsError,
    InputError,
    WriteError,
    disk_full,
    unknown_name,
)
from debtloops.figures.style import DIAGRAM_DPI
from debtloops.io import install_files, prepare_output_folder, scratch_prefix
from debtloops.loops.graph import (
    CONSTANT,
    FLOW,
    STOCK,
    contract,
    contracted_loop,
    loop_cut,
    measure_polarities,
)
from debtloops.loops.inventory import NamedLoop

MINUS = "\u2212"
#: How each measured polarity is printed on a link.
SIGN_TEXT = {"+": "+", "-": MINUS, "?": "?", "0": "0"}
#: Ids of the principal mechanisms: a polarity letter and a number, no suffix.
PRINCIPAL_ID = re.compile(r"[RB]\d+")
#: Prefix of the node ids of loop markers, which no .mdl name starts with.
MARKER_PREFIX = "loop "
#: Prefix of the node ids of the clouds of the stock-and-flow diagram.
CLOUD_PREFIX = "cloud, "
FONT = "Helvetica"
#: Largest drawing of a whole-model diagram, width and height [inch]; larger ones are scaled down.
PAGE_INCHES = (20, 20)
REINFORCING_COLOUR = "#c0392b"
BALANCING_COLOUR = "#1f5fa8"
FAINT = "#c8c8c8"
SAFE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_DPI = DIAGRAM_DPI
#: Output formats drawn in pixels, which take the resolution; the others are drawn in points.
RASTER_FORMATS = {"png", "jpg", "jpeg", "jpe", "gif", "bmp", "tif", "tiff", "webp"}
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
#: The printable part of an A4 page, width and height [inch]: 210 x 297 mm less 1 cm margins.
A4_PRINTABLE_INCHES = (7.48, 10.91)
#: The title of the causal-loop diagram of the whole model.
CLD_TITLE = (
    "The whole model: every variable, every causal link with its sign, and the principal loops"
)
#: The overview's title and the line under it.
OVERVIEW_TITLE = "How a sale of Treasuries feeds back: the model's principal loops"
OVERVIEW_NOTE = (
    "Each arrow is a chain of the model's equations: + when its two ends move the same way, "
    "\u2212 when they move opposite ways. Boxes are stocks, amounts that build up over time. Drawn "
    "from the model itself; every variable and link is in cld.svg."
)
OVERVIEW_DORMANT_NOTE = "A dashed 0 is a chain that none of the runs measured set in motion."
#: Longest line of the note under the overview's title [characters].
OVERVIEW_NOTE_CHARACTERS = 80
#: Longest line of a variable's name in the overview [characters]; longer names are wrapped.
OVERVIEW_NAME_CHARACTERS = 14
#: The overview's file names, before the suffix.
OVERVIEW_STEM = "overview"
#: Each diagram of :func:`write_all` is written as DOT source and drawn in these formats.
DIAGRAM_EXTENSIONS = ("dot", "svg", "png")
#: The Mermaid text of the causal-loop diagram, beside the drawings.
MERMAID_NAME = "cld.mmd"
#: Size of the overview's variable names [point] before it is fitted to the page.
OVERVIEW_FONT_POINTS = 16


def find_renderer() -> list[str]:
    """Return the command that renders DOT text.

    A system Graphviz ``dot`` on the PATH comes first; otherwise the ``graphviz-pure`` command
    installed beside the running Python (in its virtual environment) or on the PATH.

    Returns
    -------
    list of str
        The command, to be followed by its options.

    Raises
    ------
    InputError
        If neither is installed.
    """
    system = shutil.which("dot")
    if system:
        return [system]
    beside = Path(sys.executable).parent / "graphviz-pure"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    on_path = shutil.which("graphviz-pure")
    if on_path:
        return [on_path]
    raise InputError(
        "no diagram renderer found: neither Graphviz 'dot' nor 'graphviz-pure' is on the PATH "
        f"or beside {sys.executable}; install one with 'pip install graphviz-pure' "
        "(or a system Graphviz package)"
    )


def principal_loops(loops: Iterable[NamedLoop]) -> list[NamedLoop]:
    """Return the loops whose id has no letter suffix (R1, R2, ..., B15): one per mechanism."""
    return [loop for loop in loops if PRINCIPAL_ID.fullmatch(loop.id)]


def mechanism_name(loop: NamedLoop) -> str:
    """Return a loop's name without its closing parenthesis, e.g. ``interest snowball``."""
    return re.sub(r"\s*\([^()]*\)$", "", loop.name)


def marker_id(loop: NamedLoop) -> str:
    """Return the DOT node id of a loop's marker."""
    return f"{MARKER_PREFIX}{loop.id}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _html_label(inner: str) -> str:
    """Return an HTML-like label: the ``graphviz`` package writes ``<...>`` unquoted."""
    return f"<{inner}>"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _loop_colour(polarity: str) -> str:
    return REINFORCING_COLOUR if polarity == "R" else BALANCING_COLOUR


def _links(loop: NamedLoop) -> list[tuple[str, str]]:
    v = loop.variables
    return list(zip(v, [*v[1:], v[0]], strict=True))


def _marker_label(loop: NamedLoop, name: str) -> str:
    """Return a marker's label: the id large and bold, the name below it over short lines."""
    lines = "<BR/>".join(_html(line) for line in _wrap(name, 16))
    return _html_label(
        f'<FONT POINT-SIZE="16"><B>{_html(loop.id)}</B></FONT><BR/>'
        f'<FONT POINT-SIZE="11">{lines}</FONT>'
    )


def _anchors(graph: nx.DiGraph, markers: Sequence[NamedLoop]) -> dict[str, str]:
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


def _digraph(name: str, **graph_attrs: str | None) -> graphviz.Digraph:
    """Return an empty diagram with the project's fonts and spacing, ``graph_attrs`` on top."""
    settings: dict[str, str | None] = {
        "fontname": FONT,
        "rankdir": "TB",
        "splines": "true",
        "overlap": "false",
        "forcelabels": "true",
        "nodesep": "0.29",
        "ranksep": "0.42",
        "pad": "0.2",
        "size": f"{PAGE_INCHES[0]},{PAGE_INCHES[1]}",
    }
    settings.update(graph_attrs)
    return graphviz.Digraph(
        name,
        graph_attr={key: value for key, value in settings.items() if value is not None},
        node_attr={"fontname": FONT, "fontsize": "11"},
        edge_attr={"fontname": FONT, "fontsize": "11", "arrowsize": "0.7"},
    )


def _node_style(kind: str) -> dict[str, str]:
    if kind == STOCK:
        return {"shape": "box", "penwidth": "1.4", "margin": "0.12,0.06"}
    if kind == FLOW:
        return {"shape": "ellipse", "penwidth": "0.8", "margin": "0.06,0.02"}
    if kind == CONSTANT:
        return {"shape": "plaintext", "fontsize": "8", "fontcolor": "grey45"}
    return {"shape": "plaintext", "margin": "0.04,0.02"}


def _edge_style(sign: str) -> dict[str, str]:
    style: dict[str, str] = {
        "label": SIGN_TEXT.get(sign, "?"),
        "fontsize": "16",
    }
    if sign == "-":
        style["fontcolor"] = REINFORCING_COLOUR
    elif sign == "0":
        style.update(style="dashed", color="grey55", fontcolor="grey45")
    elif sign == "?":
        style["fontcolor"] = "#b9770e"
    return style


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
    if highlight is None:
        dot = _digraph(
            "causal loop diagram", label=CLD_TITLE, labelloc="t", fontsize="32", fontcolor="black"
        )
    else:
        title = f"{highlight.id}  {highlight.name}  ({_polarity_word(highlight.polarity)})"
        dot = _digraph(
            f"loop {highlight.id}", label=title, labelloc="t", fontsize="40", fontcolor="black"
        )
    on_loop = set(highlight.variables) if highlight else set()
    loop_links = set(_links(highlight)) if highlight else set()
    colour = _loop_colour(highlight.polarity) if highlight else "black"
    for name, data in sorted(graph.nodes(data=True)):
        style = _node_style(data.get("kind", ""))
        if highlight is not None:
            if name in on_loop:
                style.update(color=colour, fontcolor=colour, penwidth="3.5", fontsize="15")
                if style["shape"] == "plaintext":
                    style.update(shape="box", style="rounded")
            else:
                style.update(color=FAINT, fontcolor="grey65", penwidth="0.6")
        dot.node(name, **style)
    for source, target in sorted(graph.edges):
        sign = polarities.get((source, target), "?")
        style = _edge_style(sign)
        if highlight is not None:
            if (source, target) in loop_links:
                style.update(
                    color=colour, fontcolor=colour, penwidth="4", fontsize="20", arrowsize="1"
                )
            else:
                style.update(color=FAINT, fontcolor="grey70", penwidth="0.5")
        dot.edge(source, target, **style)
    markers = principal_loops(loops) if highlight is None else [highlight]
    markers = [m for m in markers if all(v in graph for v in m.variables)]
    anchors = _anchors(graph, markers)
    for loop in markers:
        name = mechanism_name(loop) if highlight is None else loop.name
        loop_colour = _loop_colour(loop.polarity)
        dot.node(
            marker_id(loop),
            shape="circle",
            label=_marker_label(loop, name),
            color=loop_colour,
            fontcolor=loop_colour,
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
    return dot.source


def _polarity_word(polarity: str) -> str:
    return {"R": "reinforcing", "B": "balancing"}.get(polarity, polarity)


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


def drawn_signs(signs: Iterable[str]) -> list[str]:
    """Return the arrows a contracted link is drawn with: one per sign of its active paths.

    Parallel paths whose signs disagree are both drawn, one arrow each, so that every loop shows
    its own sign; a link whose every path is dormant is one dashed ``0`` arrow.

    Parameters
    ----------
    signs : iterable of str
        The signs of a link's paths (``+``, ``-``, ``?``, ``0``).

    Returns
    -------
    list of str
        The signs to draw, in the order ``+``, ``-``, ``?``; ``["0"]`` if there is no other.
    """
    found = set(signs)
    return [sign for sign in ("+", "-", "?") if sign in found] or ["0"]


def overview_dot(overview: nx.DiGraph) -> str:
    """Return the overview causal-loop diagram as DOT text, sized to be read on an A4 page.

    Stocks are boxes and other variables plain text, every name in 14-point type. Each link is
    drawn once per sign of its paths (:func:`drawn_signs`), labelled ``+``, ``−``, ``?`` or a
    dashed ``0``. The title and a note say, in plain words, what the diagram shows.

    Parameters
    ----------
    overview : networkx.DiGraph
        From :func:`overview_graph`.

    Returns
    -------
    str
        The diagram in the DOT language.
    """
    edges = overview.edges
    signs = {sign for edge in edges for sign in drawn_signs(edges[edge]["signs"])}
    text = OVERVIEW_NOTE + (" " + OVERVIEW_DORMANT_NOTE if "0" in signs else "")
    note = "<BR/>".join(_html(line) for line in _wrap(text, OVERVIEW_NOTE_CHARACTERS))
    label = _html_label(
        f'<FONT POINT-SIZE="{OVERVIEW_FONT_POINTS + 4}"><B>{_html(OVERVIEW_TITLE)}</B></FONT>'
        f'<BR/><FONT POINT-SIZE="{OVERVIEW_FONT_POINTS}">{note}</FONT>'
    )
    dot = _digraph(
        "overview",
        label=label,
        labelloc="t",
        fontsize=str(OVERVIEW_FONT_POINTS),
        size=None,
        nodesep="0.2",
        ranksep="0.3",
    )
    dot.attr("node", fontsize=str(OVERVIEW_FONT_POINTS))
    dot.attr("edge", fontsize=str(OVERVIEW_FONT_POINTS), arrowsize="0.8")
    for name, kind in sorted(overview.nodes(data="kind")):
        style = _node_style(kind)
        style.pop("fontsize", None)
        dot.node(name, label="\\n".join(_wrap(name, OVERVIEW_NAME_CHARACTERS)), **style)
    for source, target, data in sorted(overview.edges(data=True)):
        for sign in drawn_signs(data["signs"]):
            style = _edge_style(sign)
            style["fontsize"] = str(OVERVIEW_FONT_POINTS + 2)
            dot.edge(source, target, **style)
    return dot.source


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
    dot = _digraph(
        "stock and flow diagram",
        rankdir="LR",
        nodesep="0.22",
        ranksep="0.5",
        label=(
            "boxes: stocks    triangles on double pipes: flows    clouds: outside the model    "
            "grey arrows: information links"
        ),
        labelloc="b",
        fontsize="12",
        fontcolor="grey30",
    )
    pipe = {"color": "black:white:black", "penwidth": "1.4", "arrowsize": "0.9", "weight": "8"}
    info = {"color": "grey60", "penwidth": "0.7", "arrowsize": "0.5"}
    valve = {
        "shape": "invtriangle",
        "label": "",
        "width": "0.26",
        "height": "0.22",
        "fixedsize": "true",
        "style": "filled",
        "fillcolor": "white",
        "penwidth": "1.4",
    }
    cloud = {
        "shape": "egg",
        "label": "",
        "width": "0.42",
        "height": "0.28",
        "style": "filled",
        "fillcolor": "#e4ebf3",
        "color": "grey50",
    }
    for name in sorted(n for n, kind in kinds.items() if kind == STOCK):
        dot.node(name, shape="box", penwidth="1.8", fontsize="12", margin="0.14,0.08")
    for name in sorted(drivers):
        dot.node(name, **_node_style(kinds[name]))
    for flow, (drains, fills) in pipes.items():
        caption = f"{flow} (name)"
        dot.node(flow, **valve)
        dot.node(caption, shape="plaintext", label=flow, margin="0")
        with dot.subgraph() as row:
            row.attr(rank="same")
            row.node(flow)
            row.node(caption)
        dot.edge(flow, caption, style="invis")
        sources = drains or [cloud_id("source", flow)]
        sinks = fills or [cloud_id("sink", flow)]
        for end in sources + sinks:
            if end.startswith(CLOUD_PREFIX):
                dot.node(end, **cloud)
        for source in sources:
            dot.edge(source, flow, arrowhead="none", **pipe)
        for sink in sinks:
            dot.edge(flow, sink, **pipe)
    for source, target in links:
        # A stock's links to flows close loops; leaving them out of the ranking keeps every pipe
        # running from left to right.
        loose = "false" if kinds.get(source) == STOCK else None
        dot.edge(source, target, constraint=loose, **info)
    return dot.source


def cloud_id(end: str, flow: str) -> str:
    """Return the node id of the cloud at one end of a flow, e.g. ``cloud, sink of japan sales``.

    A colon would make DOT read the rest as a port, so the id has none; it shares its prefix with
    no .mdl name.
    """
    return f"{CLOUD_PREFIX}{end} of {flow}"


def _mermaid_ids(graph: nx.DiGraph) -> dict[str, str]:
    """Return a Mermaid-safe, unique id for each variable, from its Python name."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name, data in sorted(graph.nodes(data=True)):
        base = re.sub(r"\W", "_", str(data.get("py_name") or name), flags=re.ASCII)
        if not SAFE_ID.fullmatch(base) or base.lower() in _MERMAID_RESERVED:
            base = f"v_{base}"
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        taken.add(candidate)
        ids[name] = candidate
    return ids


_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef"}


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
    anchors = _anchors(graph, markers)
    for loop in markers:
        node = f"loop_{loop.id}"
        lines.append(f'    {node}(("{_mermaid_text(f"{loop.id} {mechanism_name(loop)}")}"))')
        lines.append(f"    {node} -.- {ids[anchors[loop.id]]}")
        lines.append(f"    class {node} {_polarity_word(loop.polarity)}")
    lines.append(f"    classDef reinforcing stroke:{REINFORCING_COLOUR},color:{REINFORCING_COLOUR}")
    lines.append(f"    classDef balancing stroke:{BALANCING_COLOUR},color:{BALANCING_COLOUR}")
    return "\n".join(lines) + "\n"


class RenderError(DebtloopsError):
    """The renderer failed on a diagram."""


#: Words in Graphviz's error when its spline router fails, and the option that draws the edges
#: straight instead (some single-loop diagrams of ``japan_full`` need it with Graphviz 2.43-12).
ROUTING_FAILURES = ("routesplines", "Pshortestpath")
STRAIGHT_EDGES = "-Gsplines=line"


def _run(command: Sequence[str], dot_file: Path, target: Path, fmt: str, dpi: int) -> None:
    """Render ``dot_file`` to ``target`` in format ``fmt`` (PNG at ``dpi`` dots per inch)."""
    options = [f"-T{fmt}"]
    if fmt in RASTER_FORMATS:
        options.append(f"-Gdpi={dpi}")
    result = subprocess.run(
        [*command, *options, "-o", str(target), str(dot_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and any(word in result.stderr for word in ROUTING_FAILURES):
        # Graphviz's spline router can fail on a layout it made itself; straight edges always route
        result = subprocess.run(
            [*command, *options, STRAIGHT_EDGES, "-o", str(target), str(dot_file)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        detail = result.stderr.strip().splitlines()[-3:] if result.stderr else []
        refused = [os.strerror(code) for code in WRITE_ERRNOS if os.strerror(code) in result.stderr]
        if refused or disk_full(target.parent):
            reason = refused[0] if refused else "the disk is full"
            raise WriteError(f"{command[0]} could not write {target.name}: {reason}")
        raise RenderError(
            f"{command[0]} could not render {target.name} (exit status {result.returncode})"
            + (": " + " ".join(detail) if detail else "")
        )


class _Staging:
    """Files rendered into a hidden folder beside their targets, moved in place when all are done.

    Each file is renamed into its folder only once every file has been rendered, so a failure
    leaves the targets as they were and no partial file behind; the files are checked against,
    and recorded in, the folder's manifest (:func:`debtloops.io.install_files`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()  # renderers must not expand a leading ~
        self.names: list[str] = []

    def __enter__(self) -> _Staging:
        # Named after this process, so a writer taking the folder's lock leaves it alone.
        prepare_output_folder(self.folder)
        self.scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix("diagrams"), dir=self.folder))
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                install_files(self.folder, {name: self.scratch / name for name in self.names})
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def path(self, name: str) -> Path:
        """Return where to write ``name`` for now, and remember to move it in place."""
        self.names.append(name)
        return self.scratch / name


def _render_jobs(
    staging: _Staging,
    diagrams: Sequence[tuple[str, str, Sequence[str]]],
    dpi: int,
    command: Sequence[str],
) -> list[Path]:
    """Write each ``(stem, dot_text, formats)`` as ``stem.dot`` and render it into ``staging``."""
    jobs = []
    written = []
    for stem, text, formats in diagrams:
        dot_file = staging.path(f"{stem}.dot")
        dot_file.write_text(text, encoding="utf-8")
        written.append(staging.folder / dot_file.name)
        for fmt in formats:
            target = staging.path(f"{stem}.{fmt}")
            jobs.append((dot_file, target, fmt))
            written.append(staging.folder / target.name)
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(_run, command, d, t, f, dpi) for d, t, f in jobs]:
            future.result()
    return written


def render(
    dot_text: str,
    stem: Path,
    formats: Sequence[str] = ("svg", "png"),
    dpi: int = DEFAULT_DPI,
) -> list[Path]:
    """Write ``stem.dot`` and render it to ``stem.<format>`` for each format.

    Every file is rendered under a temporary name in the same folder and renamed when all are
    complete, so a failure leaves nothing half-written.

    Parameters
    ----------
    dot_text : str
        A diagram in the DOT language.
    stem : Path
        The output path without a suffix; its folder is created if missing.
    formats : sequence of str
        Graphviz output formats, e.g. ``svg``, ``png`` or ``pdf``.
    dpi : int
        Resolution of raster formats such as PNG [1/inch].

    Returns
    -------
    list of Path
        The files written: the .dot first, then one per format.

    Raises
    ------
    InputError
        If no renderer is installed or the folder cannot be written.
    RenderError
        If the renderer fails.
    """
    stem = Path(stem)
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if dpi <= 0:
        raise InputError(f"the resolution must be a positive number of dots per inch, not {dpi}")
    command = find_renderer()
    prepare_output_folder(stem.parent)
    with _Staging(stem.parent) as staging:
        return _render_jobs(staging, [(stem.name, dot_text, formats)], dpi, command)


def select_loop(loops: Sequence[NamedLoop], wanted: str) -> NamedLoop:
    """Return the loop with id or name ``wanted`` (case-insensitive), or raise InputError."""
    key = wanted.strip().casefold()
    for loop in loops:
        if key in (loop.id.casefold(), loop.name.casefold()):
            return loop
    raise unknown_name("loop", wanted, [loop.id for loop in loops] + [loop.name for loop in loops])


def _stems(loops: Sequence[NamedLoop], only_loop: str | None) -> list[str]:
    """Return the diagrams' file stems, the overview's first."""
    chosen = [select_loop(loops, only_loop)] if only_loop is not None else list(loops)
    return [OVERVIEW_STEM, "cld", "stock_flow", *(f"loop_{loop.id}" for loop in chosen)]


def file_names(loops: Sequence[NamedLoop], only_loop: str | None = None) -> list[str]:
    """Return the names of the files :func:`write_all` writes, for checking them beforehand."""
    return [f"{stem}.{ext}" for stem in _stems(loops, only_loop) for ext in DIAGRAM_EXTENSIONS] + [
        MERMAID_NAME
    ]


def write_all(
    out_dir: Path,
    graph: nx.DiGraph,
    polarities: Mapping[tuple[str, str], str],
    loops: Sequence[NamedLoop],
    only_loop: str | None = None,
) -> list[Path]:
    """Write every diagram of the model to ``out_dir``.

    The files are, first, ``overview.dot``, ``overview.svg`` and ``overview.png`` (the overview
    of the principal loops, :func:`overview_graph`), then ``cld.dot/.svg/.png`` (the causal-loop
    diagram of the whole model), ``stock_flow.dot/.svg/.png``, ``cld.mmd`` (Mermaid) and
    ``loop_<id>.dot/.svg/.png`` with each loop highlighted. The arguments and the folder are
    checked before anything is written, and the files are moved into place only once all are
    rendered.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing.
    graph : networkx.DiGraph
        The causal graph from :func:`debtloops.loops.graph.causal_graph`.
    polarities : mapping
        ``(source, target) -> "+" | "-" | "?" | "0"`` for every link of ``graph``.
    loops : sequence of NamedLoop
        The loop inventory.
    only_loop : str, optional
        Draw only this loop, by id (``R1b``) or name; by default every loop.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        If ``only_loop`` is unknown, no renderer is installed or the folder cannot be written.
    RenderError
        If the renderer fails.
    """
    out_dir = Path(out_dir)
    chosen = [select_loop(loops, only_loop)] if only_loop is not None else list(loops)
    command = find_renderer()
    prepare_output_folder(out_dir)
    images = DIAGRAM_EXTENSIONS[1:]
    overview = overview_dot(overview_graph(graph, polarities, loops))
    texts = [
        overview,
        cld_dot(graph, polarities, loops),
        stock_flow_dot(graph, polarities),
        *(cld_dot(graph, polarities, loops, highlight=loop) for loop in chosen),
    ]
    diagrams: list[tuple[str, str, Sequence[str]]] = [
        (stem, text, images) for stem, text in zip(_stems(loops, only_loop), texts, strict=True)
    ]
    with _Staging(out_dir) as staging:
        written = _render_jobs(staging, diagrams, DEFAULT_DPI, command)
        text = mermaid(graph, polarities, loops)
        staging.path(MERMAID_NAME).write_text(text, encoding="utf-8")
        written.append(out_dir / MERMAID_NAME)
    return written
