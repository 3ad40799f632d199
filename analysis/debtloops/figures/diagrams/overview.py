"""The overview causal-loop diagram: the principal loops over about twenty variables, on A4.

Which variables and links the overview shows is decided in :mod:`debtloops.loops.overview`
(:func:`debtloops.loops.overview.overview_graph`); :func:`overview_dot` draws that graph.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from debtloops.figures.diagrams.dot_style import (
    digraph,
    edge_style,
    html_label,
    html_text,
    node_style,
    wrap,
)

#: The printable part of an A4 page, width and height [inch]: 210 x 297 mm less 1 cm margins.
A4_PRINTABLE_INCHES = (7.48, 10.91)
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
#: Size of the overview's variable names [point] before it is fitted to the page.
OVERVIEW_FONT_POINTS = 16


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
        From :func:`debtloops.loops.overview.overview_graph`.

    Returns
    -------
    str
        The diagram in the DOT language.
    """
    edges = overview.edges
    signs = {sign for edge in edges for sign in drawn_signs(edges[edge]["signs"])}
    text = OVERVIEW_NOTE + (" " + OVERVIEW_DORMANT_NOTE if "0" in signs else "")
    note = "<BR/>".join(html_text(line) for line in wrap(text, OVERVIEW_NOTE_CHARACTERS))
    label = html_label(
        f'<FONT POINT-SIZE="{OVERVIEW_FONT_POINTS + 4}"><B>{html_text(OVERVIEW_TITLE)}</B></FONT>'
        f'<BR/><FONT POINT-SIZE="{OVERVIEW_FONT_POINTS}">{note}</FONT>'
    )
    dot = digraph(
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
        style = node_style(kind)
        style.pop("fontsize", None)
        dot.node(name, label="\\n".join(wrap(name, OVERVIEW_NAME_CHARACTERS)), **style)
    for source, target, data in sorted(overview.edges(data=True)):
        for sign in drawn_signs(data["signs"]):
            style = edge_style(sign)
            style["fontsize"] = str(OVERVIEW_FONT_POINTS + 2)
            dot.edge(source, target, **style)
    return dot.source
