"""Diagrams of the model's structure: causal-loop and stock-and-flow diagrams.

The diagrams are built from the causal graph of :mod:`debtloops.loops.graph`, written as Graphviz
DOT text with the ``graphviz`` package (:class:`graphviz.Digraph`), and rendered to SVG and PNG by
Graphviz ``dot`` or ``graphviz-pure``. One module per concern:

``dot_style``   fonts, colours, the signs on links and the shape of each kind of variable
``cld``         :func:`cld_dot`, the causal-loop diagram: every link with its polarity, and a
                marker for each principal mechanism (or, with ``highlight``, one loop drawn over a
                faint copy of the whole model)
``overview``    :func:`overview_dot`, the principal loops over about twenty variables on one A4
                page; the graph it draws is :func:`debtloops.loops.overview.overview_graph`
``stock_flow``  :func:`stock_flow_dot`: stocks, their in- and outflows as pipes through valves,
                and the information links that drive the flows
``flowchart``   :func:`mermaid`, the causal-loop diagram as Mermaid text for Markdown
``renderer``    :func:`find_renderer` and :func:`render`: Graphviz run on DOT files, with straight
                edges when its spline router fails
``staging``     files rendered beside their targets and moved in place together

This module writes the full set (:func:`write_all`). Every file is written under a temporary name
in its folder and renamed when complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx

from debtloops.errors import unknown_name
from debtloops.figures.diagrams.cld import CLD_TITLE, cld_dot, marker_id, mechanism_name
from debtloops.figures.diagrams.dot_style import (
    BALANCING_COLOUR,
    FAINT,
    MINUS,
    REINFORCING_COLOUR,
    SIGN_TEXT,
)
from debtloops.figures.diagrams.flowchart import mermaid
from debtloops.figures.diagrams.overview import A4_PRINTABLE_INCHES, drawn_signs, overview_dot
from debtloops.figures.diagrams.renderer import RenderError, find_renderer, render, render_jobs
from debtloops.figures.diagrams.staging import Staging
from debtloops.figures.diagrams.stock_flow import cloud_id, stock_flow_dot
from debtloops.figures.style import DIAGRAM_DPI
from debtloops.io import prepare_output_folder
from debtloops.loops.inventory import NamedLoop
from debtloops.loops.overview import overview_graph, principal_loops

__all__ = [
    "A4_PRINTABLE_INCHES",
    "BALANCING_COLOUR",
    "CLD_TITLE",
    "DIAGRAM_EXTENSIONS",
    "FAINT",
    "MERMAID_NAME",
    "MINUS",
    "OVERVIEW_STEM",
    "REINFORCING_COLOUR",
    "SIGN_TEXT",
    "RenderError",
    "cld_dot",
    "cloud_id",
    "drawn_signs",
    "file_names",
    "find_renderer",
    "marker_id",
    "mechanism_name",
    "mermaid",
    "overview_dot",
    "overview_graph",
    "principal_loops",
    "render",
    "select_loop",
    "stock_flow_dot",
    "write_all",
]

#: The overview's file names, before the suffix.
OVERVIEW_STEM = "overview"
#: Each diagram of :func:`write_all` is written as DOT source and drawn in these formats.
DIAGRAM_EXTENSIONS = ("dot", "svg", "png")
#: The Mermaid text of the causal-loop diagram, beside the drawings.
MERMAID_NAME = "cld.mmd"


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
    of the principal loops, :func:`debtloops.loops.overview.overview_graph`), then
    ``cld.dot/.svg/.png`` (the causal-loop diagram of the whole model),
    ``stock_flow.dot/.svg/.png``, ``cld.mmd`` (Mermaid) and ``loop_<id>.dot/.svg/.png`` with each
    loop highlighted. The arguments and the folder are checked before anything is written, and
    the files are moved into place only once all are rendered.

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
    command = find_renderer()  # looked up here, so a test can stand in for the renderer
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
    with Staging(out_dir) as staging:
        written = render_jobs(staging, diagrams, DIAGRAM_DPI, command)
        text = mermaid(graph, polarities, loops)
        staging.path(MERMAID_NAME).write_text(text, encoding="utf-8")
        written.append(out_dir / MERMAID_NAME)
    return written
