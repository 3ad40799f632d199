"""Diagram export: the DOT read back by the renderer, the rendered files, Mermaid, write_all."""

import collections
import html
import itertools
import json
import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import matplotlib.image as mpimg
import networkx as nx
import pydot
import pytest
from dormant_links import measure_dormant_links

from debtloops import list_scenarios
from debtloops.errors import InputError
from debtloops.figures import diagrams
from debtloops.figures.diagrams.renderer import render_file
from debtloops.figures.style import DIAGRAM_DPI
from debtloops.io import OWN_NAMES
from debtloops.loops.graph import FLOW, STOCK, causal_graph, measure_polarities
from debtloops.loops.inventory import read_inventory

# The overview: at most this many variables, names at least this large on an A4 page [point].
OVERVIEW_MOST_VARIABLES = 25
A4_SMALLEST_FONT_POINTS = 10
# What the seed article's chain and its responses need in the overview: the sale, the yield, the
# interest, the deficit and the debt, the dollar, the Fed and fiscal consolidation.
ARTICLE_CHAIN = [
    "japan sales",
    "market yield",
    "net interest",
    "deficit",
    "debt held by public",
    "dollar index",
    "fed policy rate",
    "recent fed purchases",
    "fiscal consolidation",
]

SVG = "{http://www.w3.org/2000/svg}"
# The named loops of the inventory (models/README.md), each drawn on its own.
NAMED_LOOPS = 128
# The principal mechanisms, in the inventory's order: those of the financial model (R1 to R16) and
# those of the economy (growth drag R17 to imported inflation on debt/GDP B24). The
# supply pressure offset (B2c) is a variant: drawn on its own it would show the debt lowering the
# yield.
PRINCIPAL_IDS = [
    *(f"R{i}" for i in range(1, 8)),
    *(f"B{i}" for i in range(8, 13)),
    "B14",
    "B15",
    "R16",
    "R17",
    "R18",
    "B19",
    "B20",
    "B21",
    "R22",
    "R23",
    "B24",
]


@pytest.fixture(scope="module")
def graph():
    return causal_graph()


@pytest.fixture(scope="module")
def polarities(graph):
    return measure_polarities(graph, ["baseline"])


@pytest.fixture(scope="module")
def loops():
    return read_inventory()


@pytest.fixture(scope="module")
def principal(loops):
    return diagrams.principal_loops(loops)


@pytest.fixture(scope="module")
def renderer():
    return diagrams.find_renderer()


@pytest.fixture(scope="module")
def cld(graph, polarities, loops):
    return diagrams.cld_dot(graph, polarities, loops)


def run_renderer(renderer, dot_text, fmt):
    done = subprocess.run(
        [*renderer, f"-T{fmt}"], input=dot_text, capture_output=True, text=True, check=True
    )
    return done.stdout


# --- reading DOT back, with pydot ---------------------------------------------------------------


def _unquote(text):
    """Return a DOT id or value as written: quotes and an HTML label's outer brackets removed."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    if len(text) >= 2 and text[0] == "<" and text[-1] == ">":
        return text[1:-1]
    return text


def parse_dot(text):
    """Return the nodes (name -> attributes), the edges (tail, head, attributes) and the
    top-level graph attributes of a DOT graph, with the nodes and edges of its subgraphs."""
    graphs = pydot.graph_from_dot_data(text)
    assert graphs and len(graphs) == 1, "not one DOT graph"
    top = graphs[0]
    nodes, edges = {}, []
    graph_attrs = {k: _unquote(v) for d in top.get_graph_defaults() for k, v in d.items()}

    def walk(graph):
        for node in graph.get_nodes():
            if node.get_name() in ("graph", "node", "edge"):  # defaults, not nodes
                continue
            attrs = {k: _unquote(v) for k, v in node.get_attributes().items()}
            nodes.setdefault(_unquote(node.get_name()), {}).update(attrs)
        for edge in graph.get_edges():
            tail, head = _unquote(edge.get_source()), _unquote(edge.get_destination())
            nodes.setdefault(tail, {})
            nodes.setdefault(head, {})
            edges.append((tail, head, {k: _unquote(v) for k, v in edge.get_attributes().items()}))
        for sub in graph.get_subgraphs():
            walk(sub)

    walk(top)
    return nodes, edges, graph_attrs


def label_text(label):
    """Return the visible text of a label, HTML-like or plain, with single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", label)).split())


@pytest.fixture(scope="module")
def canon(renderer, cld):
    """The causal-loop diagram as the renderer reads it back (``-Tcanon``) and as pydot reads it."""
    assert run_renderer(renderer, cld, "canon").startswith('digraph "causal loop diagram"')
    return parse_dot(cld)


def test_dot_parses_back_with_every_variable_link_and_sign(graph, polarities, principal, canon):
    nodes, edges, graph_attrs = canon
    assert graph_attrs["label"] == diagrams.CLD_TITLE  # a title in plain words
    markers = {diagrams.marker_id(loop) for loop in principal}
    assert len(markers) == len(PRINCIPAL_IDS)
    assert set(nodes) == set(graph.nodes) | markers
    signs = {(a, b): attrs.get("label") for a, b, attrs in edges if a in graph and b in graph}
    assert set(signs) == set(graph.edges)
    for link in graph.edges:
        assert signs[link] == diagrams.SIGN_TEXT[polarities[link]], link
    assert {"+", "\u2212", "0"} <= set(signs.values())
    for a, b, attrs in edges:
        if a in markers or b in markers:
            assert attrs.get("style") == "invis"
        if attrs.get("label") == "0":
            assert attrs.get("style") == "dashed"


def test_stocks_are_boxes_and_every_mechanism_has_a_named_marker(graph, principal, canon):
    nodes, edges, _ = canon
    for name, kind in graph.nodes(data="kind"):
        shape = nodes[name].get("shape")
        assert (shape == "box") == (kind == STOCK), (name, shape)
    assert [loop.id for loop in principal] == PRINCIPAL_IDS
    for loop in principal:
        marker = nodes[diagrams.marker_id(loop)]
        assert marker["shape"] == "circle"
        assert label_text(marker["label"]) == f"{loop.id} {diagrams.mechanism_name(loop)}"
        tied = {a for a, b, _ in edges if b == diagrams.marker_id(loop)}
        assert tied and tied <= set(loop.variables)
    r1 = nodes[diagrams.marker_id(principal[0])]
    assert label_text(r1["label"]) == "R1 interest snowball"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, cld):
    folder = tmp_path_factory.mktemp("cld")
    files = diagrams.render(cld, folder / "cld")
    assert [f.name for f in files] == ["cld.dot", "cld.svg", "cld.png"]
    return {f.suffix: f for f in files}


def _svg_size(path):
    root = ElementTree.parse(path).getroot()
    return [float(root.get(side).removesuffix("pt")) for side in ("width", "height")]


def test_svg_is_xml_with_the_variable_names(graph, principal, rendered):
    root = ElementTree.parse(rendered[".svg"]).getroot()
    assert root.tag == f"{SVG}svg"
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    assert set(graph.nodes) <= set(texts)
    assert {loop.id for loop in principal} <= set(texts)
    assert "\u2212" in texts


def test_png_has_the_svg_size_at_300_dpi(rendered):
    image = mpimg.imread(rendered[".png"])
    height, width = image.shape[:2]
    del image
    svg_width, svg_height = _svg_size(rendered[".svg"])
    assert width > 1000 and height > 1000
    # The SVG gives whole points (half a point is 2.1 pixels at 300 dpi), the PNG whole pixels.
    tolerance = 0.5 * 300 / 72 + 1
    assert abs(width - svg_width * 300 / 72) <= tolerance
    assert abs(height - svg_height * 300 / 72) <= tolerance


def _label_boxes(layout):
    """Return (owner, text, x0, y0, x1, y1) for every text the renderer draws, in points."""
    boxes = []

    def scan(item, owner):
        for key in ("_ldraw_", "_hldraw_", "_tldraw_", "_xldraw_"):
            size = 14.0
            for op in item.get(key, []):
                if op["op"] == "F":
                    size = op["size"]
                elif op["op"] == "T":
                    x, y = op["pt"]
                    # A renderer without metrics for a character outside ASCII may measure it
                    # as a space: count each such character at least 0.6 em wide.
                    wide = sum(1 for c in op["text"] if ord(c) > 127)
                    width = max(op["width"], 0.6 * size * wide)
                    left = {"l": x, "c": x - width / 2, "r": x - width}[op["align"]]
                    boxes.append((owner, op["text"], left, y - 0.25 * size, left + width, y + size))

    scan(layout, "graph")
    for node in layout.get("objects", []):
        scan(node, f"node {node['name']}")
    for edge in layout.get("edges", []):
        scan(edge, f"edge {edge['_gvid']}")
    return boxes


@pytest.fixture(scope="module")
def layout(renderer, cld):
    return json.loads(run_renderer(renderer, cld, "json"))


def test_no_two_labels_of_the_whole_model_overlap(graph, principal, layout):
    boxes = _label_boxes(layout)
    drawn = {text for owner, text, *_ in boxes if owner.startswith("node ")}
    assert set(graph.nodes) <= drawn
    assert sum(owner.startswith("edge ") for owner, *_ in boxes) == graph.number_of_edges()
    clashes = [
        (a[:2], b[:2])
        for a, b in itertools.combinations(boxes, 2)
        if a[0] != b[0] and a[2] < b[4] and b[2] < a[4] and a[3] < b[5] and b[3] < a[5]
    ]
    assert clashes == []


def test_each_marker_sits_next_to_a_variable_of_its_loop(graph, principal, layout):
    boxes = {}
    for node in layout["objects"]:
        if "pos" in node:
            x, y = (float(v) for v in node["pos"].split(","))
            half_w, half_h = 36 * float(node["width"]), 36 * float(node["height"])  # inch -> pt
            boxes[node["name"]] = (x, y, half_w, half_h)

    def gap(a, b):
        (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[a], boxes[b]
        return math.hypot(max(0, abs(ax - bx) - aw - bw), max(0, abs(ay - by) - ah - bh))

    nodesep = 72 * float(layout["nodesep"])
    for loop in principal:
        marker = diagrams.marker_id(loop)
        closest = min(gap(marker, name) for name in graph.nodes)
        on_loop = min(gap(marker, name) for name in loop.variables)
        # A marker touches one of its loop's variables: nothing else is nearer.
        assert on_loop <= closest + 1.0 and on_loop <= 2 * nodesep, (loop.id, on_loop, closest)


def test_highlighted_loop_is_bold_over_a_faint_model(graph, polarities, loops):
    loop = next(entry for entry in loops if entry.id == "B10b")
    nodes, edges, graph_attrs = parse_dot(
        diagrams.cld_dot(graph, polarities, loops, highlight=loop)
    )
    assert label_text(graph_attrs["label"]).startswith(f"B10b {loop.name}")
    links = set(itertools.pairwise([*loop.variables, loop.variables[0]]))
    colour = diagrams.BALANCING_COLOUR
    for a, b, attrs in edges:
        if (a, b) in links:
            assert attrs["color"] == colour and float(attrs["penwidth"]) >= 3
        elif a in graph and b in graph:
            assert attrs["color"] == diagrams.FAINT and float(attrs["penwidth"]) < 1
    for name in graph.nodes:
        expected = colour if name in loop.variables else diagrams.FAINT
        assert nodes[name]["color"] == expected
    assert set(nodes) == set(graph.nodes) | {diagrams.marker_id(loop)}


SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def drawn_texts(svg):
    """Return how often each text is drawn in an SVG, with single spaces."""
    root = ElementTree.fromstring(svg)
    return collections.Counter(" ".join("".join(t.itertext()).split()) for t in root.iter(SVG_TEXT))


@pytest.mark.parametrize("loop_id", [None, "B10b"])
def test_each_diagram_draws_its_title_once(renderer, graph, polarities, loops, loop_id):
    # Graphviz gives every cluster the graph's label unless the cluster sets its own: the
    # whole model drew its title once per marker cluster (24 times), a single loop twice.
    loop = next((entry for entry in loops if entry.id == loop_id), None)
    dot = diagrams.cld_dot(graph, polarities, loops, highlight=loop)
    title = label_text(parse_dot(dot)[2]["label"])
    expected = diagrams.CLD_TITLE if loop is None else f"{loop.id} {loop.name}"
    assert title.startswith(expected)
    assert "cluster_marker_0" in dot  # the markers' clusters, which repeated the title, are drawn
    assert drawn_texts(run_renderer(renderer, dot, "svg"))[title] == 1


def test_stock_flow_diagram_has_pipes_valves_and_clouds(graph, polarities):
    nodes, edges, _ = parse_dot(diagrams.stock_flow_dot(graph, polarities))
    pipes = {(a, b) for a, b, attrs in edges if attrs.get("color") == "black:white:black"}
    kinds = dict(graph.nodes(data="kind"))
    for name, kind in kinds.items():
        if kind == STOCK:
            assert nodes[name]["shape"] == "box"
        if kind == FLOW:
            assert nodes[name]["shape"] == "invtriangle"
    clouds = [name for name, attrs in nodes.items() if attrs.get("shape") == "egg"]
    for flow in (n for n, kind in kinds.items() if kind == FLOW):
        stocks = [s for s in graph.successors(flow) if kinds[s] == STOCK]
        for stock in stocks:
            pipe = (stock, flow) if polarities[(flow, stock)] == "-" else (flow, stock)
            assert pipe in pipes, pipe
        # A flow that moves one stock has a cloud at its other end; one that carries a stock into
        # the next (the 10-year ladder's ageing) has a stock at each end and no cloud.
        ends = {a for a, b in pipes if b == flow} | {b for a, b in pipes if a == flow}
        assert len(ends & set(clouds)) == 2 - len(stocks), flow
    drained = [("japan holdings", "japan sales"), ("japan sales", "cloud, sink of japan sales")]
    filled = [("cloud, source of net borrowing", "net borrowing")]
    assert {*drained, *filled, ("net borrowing", "debt held by public")} <= pipes
    info = [(a, b) for a, b, attrs in edges if attrs.get("color") == "grey60"]
    assert ("deficit", "net borrowing") in info
    assert all(kinds.get(b) == FLOW for _, b in info)


def test_mermaid_flowchart(graph, polarities, loops, principal):
    text = diagrams.mermaid(graph, polarities, loops)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    ids = {name: data["py_name"] for name, data in graph.nodes(data=True)}
    edge_lines = [line.strip() for line in lines if re.search(r"-\.?->\|", line)]
    expected = set()
    for a, b in graph.edges:
        arrow = "-.->" if polarities[(a, b)] == "0" else "-->"
        expected.add(f"{ids[a]} {arrow}|{diagrams.SIGN_TEXT[polarities[(a, b)]]}| {ids[b]}")
    assert len(edge_lines) == graph.number_of_edges()
    assert set(edge_lines) == expected
    defined = re.findall(r'^    (\S+?)(?:\[|\(\(|\()"', text, flags=re.MULTILINE)
    assert len(defined) == len(set(defined)) == graph.number_of_nodes() + len(principal)
    used = {word for line in edge_lines for word in (line.split()[0], line.split()[-1])}
    assert used <= set(defined)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node) for node in defined)
    for name, data in graph.nodes(data=True):
        bracket = f'["{name}"]' if data["kind"] == STOCK else f'("{name}")'
        assert f"    {data['py_name']}{bracket}" in lines
    for loop in principal:
        marker = f"loop_{loop.id}"
        assert f'    {marker}(("{loop.id} {diagrams.mechanism_name(loop)}"))' in lines
        tied = [line.split()[-1] for line in lines if line.strip().startswith(f"{marker} -.- ")]
        assert len(tied) == 1 and tied[0] in {ids[v] for v in loop.variables}


def _names(folder):
    """The files in ``folder``, less debtloops' lock file and manifest."""
    return {path.name for path in folder.iterdir() if path.name not in OWN_NAMES}


OVERVIEW = {"overview.dot", "overview.svg", "overview.png"}
FIXED = {"cld.dot", "cld.svg", "cld.png", "stock_flow.dot", "stock_flow.svg", "stock_flow.png"}
FIXED |= {"cld.mmd"} | OVERVIEW


def _loop_files(loop_id):
    return {f"loop_{loop_id}.{suffix}" for suffix in ("dot", "svg", "png")}


@pytest.fixture
def fake_renderer(tmp_path, monkeypatch):
    """A stand-in renderer that writes a placeholder to the -o file (layout is tested above)."""
    script = tmp_path / "fake_dot.py"
    script.write_text(
        "import sys\nargs = sys.argv[1:]\n"
        "open(args[args.index('-o') + 1], 'w').write('rendered')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(diagrams, "find_renderer", lambda: [sys.executable, str(script)])


def test_write_all_writes_every_diagram(tmp_path, graph, polarities, loops, fake_renderer):
    out = tmp_path / "diagrams"
    written = diagrams.write_all(out, graph, polarities, loops)
    expected = FIXED.union(*(_loop_files(loop.id) for loop in loops))
    # one diagram per named loop of the inventory; the loops of the families get none
    assert len(loops) == NAMED_LOOPS
    assert _names(out) == expected
    assert sorted(p.name for p in written) == sorted(expected)
    assert set(diagrams.file_names(loops)) == expected  # what is checked beforehand
    assert [p.name for p in written[:3]] == ["overview.dot", "overview.svg", "overview.png"]
    assert all(p.parent == out for p in written)
    assert (out / "cld.mmd").read_text(encoding="utf-8").startswith("flowchart LR")


def test_write_all_one_loop_by_id_and_by_name(tmp_path, graph, polarities, loops):
    by_id = tmp_path / "by_id"
    diagrams.write_all(by_id, graph, polarities, loops, only_loop="R1")
    assert _names(by_id) == FIXED | _loop_files("R1")
    root = ElementTree.parse(by_id / "loop_R1.svg").getroot()
    titles = [t.text for t in root.iter(f"{SVG}text") if t.text and "interest snowball" in t.text]
    assert titles and "R1" in titles[0]
    header = (by_id / "stock_flow.png").read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    svg_width, svg_height = _svg_size(by_id / "stock_flow.svg")
    assert abs(width - svg_width * 300 / 72) <= 3 and abs(height - svg_height * 300 / 72) <= 3

    by_name = tmp_path / "by_name"
    diagrams.write_all(
        by_name, graph, polarities, loops, only_loop="interest snowball (short notes)"
    )
    assert _names(by_name) == FIXED | _loop_files("R1b")


def test_unknown_loop_names_close_ones_and_writes_nothing(tmp_path, graph, polarities, loops):
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"unknown loop 'intrest snowball \(bills\)'") as caught:
        diagrams.write_all(out, graph, polarities, loops, only_loop="intrest snowball (bills)")
    assert "interest snowball (bills)" in str(caught.value)
    with pytest.raises(InputError, match="R1b"):
        diagrams.write_all(out, graph, polarities, loops, only_loop="R1bb")
    assert not out.exists()


def test_unwritable_folder_is_refused_before_anything_is_written(
    tmp_path, graph, polarities, loops
):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "diagrams"
    with pytest.raises(InputError, match=re.escape(str(out))):
        diagrams.write_all(out, graph, polarities, loops, only_loop="R1")
    with pytest.raises(InputError, match=re.escape(str(out))):
        diagrams.render("digraph { a -> b }", out / "tiny")
    assert _names(tmp_path) == {"a file"}
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_failed_render_leaves_nothing_behind(tmp_path):
    (tmp_path / "keep.svg").write_text("earlier", encoding="utf-8")
    with pytest.raises(diagrams.RenderError, match="keep"):
        diagrams.render("digraph { a -> ", tmp_path / "keep")
    assert _names(tmp_path) == {"keep.svg"}
    assert (tmp_path / "keep.svg").read_text(encoding="utf-8") == "earlier"
    written = diagrams.render("digraph { a -> b }", tmp_path / "small", formats=["svg"])
    assert [p.name for p in written] == ["small.dot", "small.svg"]
    assert _names(tmp_path) == {"keep.svg", "small.dot", "small.svg"}


def test_renderer_prefers_system_dot_then_graphviz_pure(tmp_path, monkeypatch):
    found = diagrams.find_renderer()
    assert Path(found[0]).name in ("dot", "graphviz-pure")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(InputError, match="pip install graphviz-pure"):
        diagrams.find_renderer()
    beside = tmp_path / "graphviz-pure"
    beside.write_text("#!/bin/sh\n", encoding="utf-8")
    beside.chmod(0o755)
    assert diagrams.find_renderer() == [str(beside)]
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert diagrams.find_renderer() == ["/usr/bin/dot"]


# --- the overview -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def completed(graph):
    """Polarities over the shipped scenarios, with the dormant links measured where they act."""
    return {**measure_polarities(graph, list_scenarios()), **measure_dormant_links(graph)}


@pytest.fixture(scope="module")
def overview(graph, completed, loops):
    return diagrams.overview_graph(graph, completed, loops)


@pytest.fixture(scope="module")
def overview_text(overview):
    return diagrams.overview_dot(overview)


def _stretches(loop, kept, polarities):
    """Cut a loop at its kept variables: (from, to, sign of the stretch) in the loop's order."""
    start = next(i for i, name in enumerate(loop) if name in kept)
    ordered = [*loop[start:], *loop[:start]]
    found, source, minus = [], ordered[0], 0
    for a, b in itertools.pairwise([*ordered, ordered[0]]):
        minus += polarities[(a, b)] == "-"
        if b in kept:
            found.append((source, b, "-" if minus % 2 else "+"))
            source, minus = b, 0
    return found


def test_the_overview_shows_every_principal_loop_with_its_polarity(
    graph, completed, principal, overview, overview_text
):
    nodes, edges, _ = parse_dot(overview_text)
    assert set(nodes) == set(overview.nodes)
    assert len(nodes) <= OVERVIEW_MOST_VARIABLES < graph.number_of_nodes() / 4
    assert set(ARTICLE_CHAIN) <= set(nodes)
    drawn = {(a, b, attrs["label"]) for a, b, attrs in edges}
    assert len(drawn) == len(edges)  # one arrow per sign of a link
    assert len(principal) == len(PRINCIPAL_IDS)
    for loop in principal:
        links = itertools.pairwise([*loop.variables, loop.variables[0]])
        assert all(completed[link] in "+-" for link in links), loop.id
        stretches = _stretches(loop.variables, set(nodes), completed)
        for a, b, sign in stretches:
            assert (a, b, diagrams.SIGN_TEXT[sign]) in drawn, (loop.id, a, b, sign)
        minus = sum(sign == "-" for _, _, sign in stretches)
        assert ("B" if minus % 2 else "R") == loop.polarity, loop.id
    # every arrow drawn is a stretch of some principal loop, with one of its link's signs
    for a, b, attrs in edges:
        assert attrs["label"] in {diagrams.SIGN_TEXT[s] for s in overview.edges[a, b]["signs"]}
        assert overview.edges[a, b]["loops"]
    # the stocks are boxes, the other variables are not
    for name, kind in overview.nodes(data="kind"):
        assert (nodes[name].get("shape") == "box") == (kind == STOCK), name


def test_the_overview_shows_the_snowball_reinforcing_and_more_debt_raising_the_yield(
    completed, loops, overview, overview_text
):
    _, edges, _ = parse_dot(overview_text)
    drawn = {(a, b, attrs["label"]) for a, b, attrs in edges}
    # the interest snowball: interest, the deficit and new issues, every arrow +
    snowball = next(loop for loop in loops if loop.id == "R1")
    assert snowball.name.startswith("interest snowball") and snowball.polarity == "R"
    stretches = _stretches(snowball.variables, set(overview.nodes), completed)
    assert len(stretches) >= 2
    assert all(sign == "+" and (a, b, "+") in drawn for a, b, sign in stretches), stretches
    # every arrow out of the debt is +, and a chain of + arrows leads from the debt to the 10-year
    # yield; no arrow from the debt to the premia or the yield is drawn with a minus
    leaving = [(b, label) for a, b, label in drawn if a == "debt held by public"]
    assert leaving and all(label == "+" for _, label in leaving), leaving
    plus = nx.DiGraph([(a, b) for a, b, label in drawn if label == "+"])
    assert nx.has_path(plus, "debt held by public", "market yield")
    minus_only = nx.DiGraph([(a, b) for a, b, label in drawn if label == diagrams.MINUS])
    assert "debt held by public" not in minus_only


def test_parallel_paths_of_both_signs_are_drawn_as_two_arrows(overview, overview_text):
    _, edges, _ = parse_dot(overview_text)
    both = [(a, b) for a, b, signs in overview.edges(data="signs") if {"+", "-"} <= signs]
    assert both  # bills rolled over (+) and retired (-)
    for a, b in both:
        assert sorted(attrs["label"] for x, y, attrs in edges if (x, y) == (a, b))[:2] == sorted(
            ["+", diagrams.MINUS]
        )
    assert diagrams.drawn_signs({"0", "+"}) == ["+"] and diagrams.drawn_signs({"0"}) == ["0"]


def test_the_overview_reads_on_one_a4_page(renderer, overview_text):
    layout = json.loads(run_renderer(renderer, overview_text, "json"))
    left, bottom, right, top = (float(v) for v in layout["bb"].split(","))
    width, height = right - left, top - bottom
    page = [72 * side for side in diagrams.A4_PRINTABLE_INCHES]  # inch -> pt
    # the drawing printed as large as fits, upright or turned, never enlarged
    fit = min(
        1.0, max(min(page[0] / width, page[1] / height), min(page[1] / width, page[0] / height))
    )
    boxes = _label_boxes(layout)
    sizes = [size for *_, size in _font_sizes(layout)]
    assert sizes and min(sizes) * fit >= A4_SMALLEST_FONT_POINTS, (min(sizes), fit)
    drawn = {text for owner, text, *_ in boxes if owner.startswith("node ")}
    assert {name.split()[0] for name in ARTICLE_CHAIN} <= {t.split()[0] for t in drawn}
    clashes = [
        (a[:2], b[:2])
        for a, b in itertools.combinations(boxes, 2)
        if a[0] != b[0] and a[2] < b[4] and b[2] < a[4] and a[3] < b[5] and b[3] < a[5]
    ]
    assert clashes == []


def _font_sizes(layout):
    """Return (owner, size) for every text the renderer draws, in points."""
    found = []
    items = [("graph", layout)] + [(f"item {i}", item) for i, item in enumerate(layout["objects"])]
    items += [(f"edge {edge['_gvid']}", edge) for edge in layout.get("edges", [])]
    for owner, item in items:
        for key in ("_ldraw_", "_hldraw_", "_tldraw_", "_xldraw_"):
            ops = item.get(key, [])
            size = None
            for op in ops:
                if op["op"] == "F":
                    size = op["size"]
                elif op["op"] == "T":
                    found.append((owner, size))
    return found


def test_a_diagram_the_spline_router_fails_on_is_drawn_with_straight_edges(
    graph, loops, renderer, tmp_path
):
    # B11f highlighted with japan_full's polarities makes Graphviz's router fail ("routesplines");
    # the render falls back to straight edges rather than stopping the whole export
    loop = next(entry for entry in loops if entry.id == "B11f")
    dot_file = tmp_path / "b11f.dot"
    dot_file.write_text(
        diagrams.cld_dot(graph, measure_polarities(graph, ["japan_full"]), loops, highlight=loop)
    )
    target = tmp_path / "b11f.svg"
    render_file(renderer, dot_file, target, "svg", DIAGRAM_DPI)
    assert target.stat().st_size > 0
    assert loop.id in drawn_texts(target.read_text())
