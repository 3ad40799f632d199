"""The diagrams' house style in DOT: fonts, colours, signs on links and the shape of each kind.

Every diagram of :mod:`debtloops.figures.diagrams` starts from :func:`digraph` and draws its
variables with :func:`node_style` and its links with :func:`edge_style`, so the causal-loop
diagrams, the overview and the stock-and-flow diagram read alike.
"""

from __future__ import annotations

import graphviz

from debtloops.loops.graph import CONSTANT, FLOW, STOCK

MINUS = "\u2212"
#: How each measured polarity is printed on a link.
SIGN_TEXT = {"+": "+", "-": MINUS, "?": "?", "0": "0"}
FONT = "Helvetica"
#: Largest drawing of a whole-model diagram, width and height [inch]; larger ones are scaled down.
PAGE_INCHES = (20, 20)
REINFORCING_COLOUR = "#c0392b"
BALANCING_COLOUR = "#1f5fa8"
FAINT = "#c8c8c8"
#: The word for each loop polarity letter of the inventory.
POLARITY_WORDS = {"R": "reinforcing", "B": "balancing"}


def html_text(text: str) -> str:
    """Return ``text`` escaped for an HTML-like label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_label(inner: str) -> str:
    """Return an HTML-like label: the ``graphviz`` package writes ``<...>`` unquoted."""
    return f"<{inner}>"


def wrap(text: str, width: int) -> list[str]:
    """Return ``text`` in lines of at most ``width`` characters, broken between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def loop_colour(polarity: str) -> str:
    """Return the colour of a reinforcing (``R``) or balancing loop."""
    return REINFORCING_COLOUR if polarity == "R" else BALANCING_COLOUR


def polarity_word(polarity: str) -> str:
    """Return ``reinforcing`` or ``balancing`` for a loop's polarity letter."""
    return POLARITY_WORDS.get(polarity, polarity)


def digraph(name: str, **graph_attrs: str | None) -> graphviz.Digraph:
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


#: How each kind of variable is drawn; any other kind (an auxiliary) as :data:`AUXILIARY_STYLE`.
NODE_STYLES: dict[str, dict[str, str]] = {
    STOCK: {"shape": "box", "penwidth": "1.4", "margin": "0.12,0.06"},
    FLOW: {"shape": "ellipse", "penwidth": "0.8", "margin": "0.06,0.02"},
    CONSTANT: {"shape": "plaintext", "fontsize": "8", "fontcolor": "grey45"},
}
AUXILIARY_STYLE = {"shape": "plaintext", "margin": "0.04,0.02"}
#: How a link of each polarity is drawn, beyond its sign as the label.
SIGN_STYLES: dict[str, dict[str, str]] = {
    "+": {},
    "-": {"fontcolor": REINFORCING_COLOUR},
    "0": {"style": "dashed", "color": "grey55", "fontcolor": "grey45"},
    "?": {"fontcolor": "#b9770e"},
}
#: Size of a link's sign [point].
SIGN_POINTS = 16


def node_style(kind: str) -> dict[str, str]:
    """Return the DOT attributes of a variable of ``kind`` (stock, flow, constant, auxiliary)."""
    return dict(NODE_STYLES.get(kind, AUXILIARY_STYLE))


def edge_style(sign: str) -> dict[str, str]:
    """Return the DOT attributes of a link of polarity ``sign``, labelled with the sign."""
    return {
        "label": SIGN_TEXT.get(sign, "?"),
        "fontsize": str(SIGN_POINTS),
        **SIGN_STYLES.get(sign, {}),
    }
