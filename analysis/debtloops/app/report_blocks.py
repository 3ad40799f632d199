"""What the report's template is given: tables, embedded images, inline SVG and Bokeh.

The template (``templates/report.html.j2``) is autoescaped. The markup it is handed is marked safe
with :class:`markupsafe.Markup` where it is built: here an SVG drawing and Bokeh's library, and in
:mod:`debtloops.app.report` the interactive charts' script and element.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from bokeh.resources import Resources
from markupsafe import Markup

from debtloops.figures import diagrams

#: Bokeh's JavaScript and CSS, inline; only the core library (the charts use no widgets, tables,
#: WebGL or MathJax, which would add 3.7 MB).
BOKEH_RESOURCES = Resources(mode="inline", components=["bokeh"])


def inline_bokeh() -> Markup:
    """Return Bokeh's library as inline ``<script>`` and ``<style>`` elements.

    Written here rather than by ``Resources.render()``, whose template Panel replaces once it is
    imported (in a notebook, say) with one that also loads a script by URL.
    """
    styles = "".join(f"<style>{css}</style>" for css in BOKEH_RESOURCES.css_raw)
    scripts = "".join(
        f'<script type="text/javascript">{js}</script>' for js in BOKEH_RESOURCES.js_raw
    )
    return Markup(styles + scripts)


# ---- what the template is given ----


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and whether it is a number (right-aligned)."""

    text: str
    number: bool = False


@dataclass(frozen=True)
class Table:
    """A table for the template: header cells, then rows of cells (the first may be labels)."""

    head: list[str]
    rows: list[list[Cell]]
    labelled: bool = True


@dataclass(frozen=True)
class Image:
    """An embedded PNG: its alt text and ``data:`` URI."""

    alt: str
    uri: str


def _cell(value: object, digits: int) -> Cell:
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, int | float):
        return Cell(f"{value:,.{digits}f}", number=True)
    return Cell(str(value))


def table(frame: pd.DataFrame, index: bool = True, digits: int = 1) -> Table:
    """Return a DataFrame as a :class:`Table`: numbers with ``digits`` decimals, thousands split.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    index : bool
        Whether the index is shown, as the first (label) column.
    digits : int
        Decimals of every number.
    """
    head = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    rows = []
    for label, row in frame.iterrows():
        cells = [_cell(v, digits) for v in row.tolist()]
        rows.append(([Cell(str(label))] if index else []) + cells)
    return Table(head, rows, labelled=index)


def png_image(data: bytes, alt: str) -> Image:
    """Return PNG bytes as an embedded image, its ``data:`` URI and its alt text."""
    return Image(alt, "data:image/png;base64," + base64.b64encode(data).decode("ascii"))


def drawn(draw: Callable[[Path], object], suffix: str) -> bytes:
    """Return the bytes of a file that ``draw(path)`` writes, using a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="debtloops-report-") as folder:
        path = Path(folder) / f"figure{suffix}"
        draw(path)
        return path.read_bytes()


def _inline_svg(svg: str) -> Markup:
    """Return an SVG file's ``<svg>`` element, without the XML declaration and doctype."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document")
    return Markup(svg[start:])


def svg_drawing(dot: str) -> Markup:
    """Return a Graphviz ``dot`` text drawn as an inline ``<svg>`` element."""
    svg = drawn(lambda path: diagrams.render(dot, path.with_suffix(""), formats=("svg",)), ".svg")
    return _inline_svg(svg.decode("utf-8"))
