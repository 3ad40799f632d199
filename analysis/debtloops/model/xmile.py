"""Export the model as XMILE, the open format that Stella, Simlin and pysd's ``read_xmile`` read.

Simlin (``pysimlin``) reads ``models/treasury_dumping.mdl`` and writes it as XMILE; the equations,
units and comments come from the .mdl, so nothing here restates an equation. The scenario's values
are written into the file (the ``baseline`` unless another is named): each constant's equation
becomes its value, each driver given as a year -> value series becomes a graphical function of
``TIME`` (as :func:`debtloops.model.simlin.simulate` runs it), and the run's start, stop, step and
save step become the file's sim specs. Opened in Stella, Simlin or pysd, the file then runs that
scenario as ``debtloops run`` does.

Four changes make Simlin's document one that every reader accepts:

- a stock's ``<inflow>`` and ``<outflow>`` name the flow by its identifier
  (``baseline_gdp_growth``); XMILE treats spaces and underscores alike, pysd does not;
- the builtin ``DT``, which pysd's reader lacks, is replaced by the variable
  :data:`STEP_VARIABLE`, whose equation is the sim specs' ``<dt>``;
- a graphical function with ``<xpts>`` loses its ``<xscale>``, which XMILE makes optional
  there and which pysd reads in preference to the points (spacing them evenly);
- the model's view gets a stock-and-flow diagram (:func:`_diagram`): stocks in a grid with their
  flows' pipes, auxiliaries in a grid below. Simlin's own view of the .mdl is empty.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from simlin import Aux

from debtloops.io import atomic_file
from debtloops.model.parameters import Value
from debtloops.model.run import prepare

# Simlin's loading of a run's values, shared with the Simlin engine rather than repeated here.
from debtloops.model.simlin import prepared_model

#: The scenario written when none is named.
DEFAULT_SCENARIO = "baseline"
#: XMILE 1.0's namespace, and the vendor namespaces Simlin writes.
XMILE_NS = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
_PREFIXES = {
    "": XMILE_NS,
    "isee": "http://iseesystems.com/XMILE",
    "simlin": "https://simlin.com/XMILE/v1.0",
}
#: The variable that stands for the builtin ``DT`` in equations [year].
STEP_VARIABLE = "simulation_time_step"
#: ``DT`` as a whole word in an equation (identifiers hold letters, digits and underscores).
_DT = re.compile(r"(?<![\w.])DT(?![\w.])")
#: Stocks per row of the diagram, and auxiliaries per row below them.
STOCKS_PER_ROW = 6
AUXES_PER_ROW = 12
#: Grid spacing of the diagram [XMILE view units, about a pixel]: stock columns and rows, and
#: the auxiliaries' columns and rows.
STOCK_SPACING_X = 300.0
STOCK_SPACING_Y = 200.0
AUX_SPACING_X = 150.0
AUX_SPACING_Y = 60.0
#: Margin around the drawing, and half the width and height of a stock's box [view units].
MARGIN = 100.0
STOCK_HALF_WIDTH = 22.5
STOCK_HALF_HEIGHT = 17.5
#: Length of a pipe from a cloud (a flow with a stock at one end only) [view units].
PIPE_LENGTH = 110.0
#: Vertical distance between the pipes of one stock that end in clouds [view units].
PIPE_OFFSET = 30.0


def _tag(name: str) -> str:
    return f"{{{XMILE_NS}}}{name}"


def _ident(name: str) -> str:
    """Return an XMILE name as the identifier Simlin gives variables (spaces as underscores)."""
    return "_".join(name.split())


def _replace_dt(model: ET.Element, dt_text: str, time_units: str) -> None:
    """Replace ``DT`` in every equation with :data:`STEP_VARIABLE`, defined when used."""
    variables = model.find(_tag("variables"))
    if variables is None:
        raise RuntimeError("Simlin's XMILE has no <variables>")  # not expected
    used = False
    for eqn in variables.iter(_tag("eqn")):
        if eqn.text and _DT.search(eqn.text):
            eqn.text = _DT.sub(STEP_VARIABLE, eqn.text)
            used = True
    if not used:
        return
    aux = ET.SubElement(variables, _tag("aux"), name=STEP_VARIABLE)
    ET.SubElement(aux, _tag("eqn")).text = dt_text
    ET.SubElement(aux, _tag("doc")).text = (
        "The simulation's time step, DT, as a variable (pysd's XMILE reader has no DT builtin); "
        "keep it equal to the sim specs' DT."
    )
    ET.SubElement(aux, _tag("units")).text = time_units


def _diagram(model: ET.Element) -> ET.Element:
    """Return a ``<view>`` drawing every stock, flow and auxiliary of ``model`` on a grid.

    Stocks sit in rows of :data:`STOCKS_PER_ROW`. A flow between two stocks is a pipe from one to
    the other, straight between neighbours in a row; otherwise it leaves one box's bottom (or top)
    for the lane half a row away, runs along it and enters the other box, with its name on the
    lane. A flow with one stock runs from,
    or to, a cloud :data:`PIPE_LENGTH` to the stock's left, or right (a stock's second such pipe
    :data:`PIPE_OFFSET` below the first); a flow of no stock and every auxiliary sit in rows below
    the stocks.
    """
    variables = model.find(_tag("variables"))
    assert variables is not None
    stocks = [v.get("name", "") for v in variables.findall(_tag("stock"))]
    place = {
        name: (
            MARGIN + PIPE_LENGTH + STOCK_SPACING_X * (i % STOCKS_PER_ROW),
            MARGIN + STOCK_SPACING_Y * (i // STOCKS_PER_ROW),
        )
        for i, name in enumerate(stocks)
    }
    ends: dict[str, dict[str, str]] = {}  # flow -> {"from": stock, "to": stock}
    for stock in variables.findall(_tag("stock")):
        for kind, side in (("outflow", "from"), ("inflow", "to")):
            for ref in stock.findall(_tag(kind)):
                ends.setdefault(ref.text or "", {})[side] = stock.get("name", "")
    view = ET.Element(_tag("view"), type="stock_flow")
    for name in stocks:
        x, y = place[name]
        ET.SubElement(view, _tag("stock"), name=name, x=f"{x:g}", y=f"{y:g}")
    loose: list[str] = []
    clouds: dict[str, int] = {}  # pipes from or to a cloud drawn so far, by stock
    for flow in variables.findall(_tag("flow")):
        name = flow.get("name", "")
        end = ends.get(name, {})
        if not end:
            loose.append(name)
            continue
        if "from" in end and "to" in end:
            (x0, y0), (x1, y1) = place[end["from"]], place[end["to"]]
            sign = 1.0 if x1 >= x0 else -1.0
            points = [(x0 + sign * STOCK_HALF_WIDTH, y0), (x1 - sign * STOCK_HALF_WIDTH, y1)]
            if y0 != y1 or abs(x1 - x0) > STOCK_SPACING_X:  # not next to each other: by a lane
                down = 1.0 if y1 >= y0 else -1.0
                lane = y0 + down * STOCK_SPACING_Y / 2
                points = [
                    (x0, y0 + down * STOCK_HALF_HEIGHT),
                    (x0, lane),
                    (x1, lane),
                    (x1, y1 - down * STOCK_HALF_HEIGHT),
                ]
        else:
            attached = end.get("from") or end["to"]
            x, y = place[attached]
            y += PIPE_OFFSET * clouds.get(attached, 0)  # the next pipe of this stock lower down
            clouds[attached] = clouds.get(attached, 0) + 1
            if "from" in end:
                points = [(x + STOCK_HALF_WIDTH, y), (x + PIPE_LENGTH, y)]
            else:
                points = [(x - PIPE_LENGTH, y), (x - STOCK_HALF_WIDTH, y)]
        # the name sits mid-pipe: on the lane between rows when the pipe bends
        (ax, ay), (bx, by) = points[len(points) // 2 - 1], points[len(points) // 2]
        element = ET.SubElement(
            view, _tag("flow"), name=name, x=f"{(ax + bx) / 2:g}", y=f"{(ay + by) / 2:g}"
        )
        pts = ET.SubElement(element, _tag("pts"))
        for x, y in points:
            ET.SubElement(pts, _tag("pt"), x=f"{x:g}", y=f"{y:g}")
    top = MARGIN + STOCK_SPACING_Y * (-(-len(stocks) // STOCKS_PER_ROW))
    auxes = [v.get("name", "") for v in variables.findall(_tag("aux"))]
    for i, name in enumerate(loose + auxes):
        kind = "flow" if i < len(loose) else "aux"
        x = MARGIN + AUX_SPACING_X * (i % AUXES_PER_ROW)
        y = top + AUX_SPACING_Y * (i // AUXES_PER_ROW)
        element = ET.SubElement(view, _tag(kind), name=name, x=f"{x:g}", y=f"{y:g}")
        if kind == "flow":
            pts = ET.SubElement(element, _tag("pts"))
            for dx in (-PIPE_LENGTH / 2, PIPE_LENGTH / 2):
                ET.SubElement(pts, _tag("pt"), x=f"{x + dx:g}", y=f"{y:g}")
    return view


def portable(document: bytes) -> bytes:
    """Return Simlin's XMILE with flows named by identifier, no ``DT`` and a diagram.

    Parameters
    ----------
    document : bytes
        XMILE as Simlin's ``Project.to_xmile`` writes it.

    Returns
    -------
    bytes
        The document, which pysd's ``read_xmile`` and Simlin both read (UTF-8 XML).
    """
    for prefix, uri in _PREFIXES.items():
        ET.register_namespace(prefix, uri)
    root = ET.fromstring(document)
    specs = root.find(_tag("sim_specs"))
    model = root.find(_tag("model"))
    if specs is None or model is None:
        raise RuntimeError("Simlin's XMILE has no <sim_specs> or <model>")  # not expected
    for kind in ("inflow", "outflow"):
        for ref in model.iter(_tag(kind)):
            ref.text = _ident(ref.text or "")
    for table in model.iter(_tag("gf")):
        scale = table.find(_tag("xscale"))
        if scale is not None and table.find(_tag("xpts")) is not None:
            table.remove(scale)  # the points place themselves; pysd would space them evenly
    _replace_dt(model, specs.findtext(_tag("dt"), "1"), specs.get("time_units", ""))
    views = model.find(_tag("views"))
    if views is None:
        views = ET.SubElement(model, _tag("views"))
    views.insert(0, _diagram(model))
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def xmile_bytes(
    scenario: str = DEFAULT_SCENARIO,
    final_time: float | None = None,
    cbo: str | Path | None = None,
    overrides: Mapping[str, Value] | None = None,
) -> bytes:
    """Return the model, with a scenario's values, as an XMILE document.

    Parameters
    ----------
    scenario : str
        A scenario name or ``.toml`` path whose values are written into the model.
    final_time : float, optional
        The last year simulated [year]; the scenario's own if omitted.
    cbo : str or Path, optional
        The CBO vintage whose drivers are written in (``--cbo``); the scenario's own by default.
    overrides : mapping, optional
        Parameter values that replace the scenario's (``--set``).

    Returns
    -------
    bytes
        The XMILE document (UTF-8 XML).

    Raises
    ------
    InputError
        On an unknown scenario or an invalid value.
    """
    values = prepare(scenario, overrides, final_time, cbo=cbo).values
    model, constants = prepared_model(values)
    with model.edit() as (current, patch):
        for name, value in constants.items():
            variable = current[name]
            assert isinstance(variable, Aux), f"{name}: a constant is an auxiliary in Simlin"
            patch.upsert(dataclasses.replace(variable, equation=repr(value)))
    if model.project is None:
        raise RuntimeError("Simlin loaded the model without a project")  # not expected
    return portable(model.project.to_xmile())


def write_xmile(
    path: Path,
    scenario: str = DEFAULT_SCENARIO,
    final_time: float | None = None,
    cbo: str | Path | None = None,
    overrides: Mapping[str, Value] | None = None,
) -> Path:
    """Write the model, with a scenario's values, as XMILE to ``path``, atomically.

    Parameters
    ----------
    path : Path
        The file to write, e.g. ``treasury_dumping.stmx`` (Stella's extension) or ``.xmile``.
    scenario : str
        A scenario whose values are written into the model (see :func:`xmile_bytes`).
    final_time : float, optional
        The last year simulated [year].
    cbo : str or Path, optional
        The CBO vintage (see :func:`xmile_bytes`).
    overrides : mapping, optional
        Parameter values that replace the scenario's (``--set``).

    Returns
    -------
    Path
        The file written; its folder is created if missing.
    """
    document = xmile_bytes(scenario, final_time, cbo, overrides)  # inputs checked before writing

    def write(scratch: Path) -> None:
        scratch.write_bytes(document)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_file(path, write)
    return path
