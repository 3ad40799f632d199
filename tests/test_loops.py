"""The causal graph, measured link polarities and the loop inventory: named loops and families."""

import re
from collections import Counter

import networkx as nx
import pytest
from dormant_links import DORMANT_IN_SCENARIOS, HOLDER_CAPS, measure_dormant_links

from debtloops import list_scenarios
from debtloops.loops.graph import (
    CONSTANT,
    STOCK,
    causal_graph,
    contract,
    contracted_loop,
    find_loops,
    loop_cut,
    loop_polarity,
    measure_polarities,
    sign_product,
)
from debtloops.loops.inventory import (
    Family,
    NamedLoop,
    assign_families,
    label_loops,
    loop_key,
    read_families,
    read_inventory,
)
from debtloops.model.engine import describe, load
from debtloops.model.parameters import CONTROLS


@pytest.fixture(scope="module")
def graph():
    return causal_graph()


@pytest.fixture(scope="module")
def pooled(graph):
    return measure_polarities(graph, list_scenarios())


@pytest.fixture(scope="module")
def activated(graph):
    return measure_dormant_links(graph)


@pytest.fixture(scope="module")
def completed(pooled, activated):
    """Polarities over the shipped scenarios, with the dormant links from the activating runs."""
    return {**pooled, **activated}


@pytest.fixture(scope="module")
def assignment(graph):
    return assign_families(find_loops(graph), read_inventory(), read_families())


def test_the_graph_has_exactly_the_mdl_variables():
    info = describe(load())
    everything = {
        info.real_names[name] for name in info.units if name not in CONTROLS and name != "time"
    }
    full = causal_graph(include_constants=True)
    assert set(full.nodes) == everything
    constants = {n for n, kind in full.nodes(data="kind") if kind == CONSTANT}
    assert set(causal_graph().nodes) == everything - constants
    stocks = {info.real_names[name] for name in info.stocks}
    assert {n for n, kind in full.nodes(data="kind") if kind == STOCK} == stocks


def test_stocks_are_fed_by_their_flows(graph):
    assert set(graph.predecessors("debt held by public")) == {"net borrowing"}
    assert set(graph.predecessors("interest on bills")) == {
        "bill interest added",
        "bill interest retired",
    }


def test_known_link_polarities(graph):
    measured = measure_polarities(graph, ["baseline"])
    # yield -> bond price index is negative, directly and through the discount factor
    assert measured[("market yield", "bond price index")] == "-"
    assert measured[("market yield", "bond discount factor")] == "-"
    # d price / d discount factor = 1 - coupon / yield: positive while the yield is above the
    # starting yield that set the coupon. CBO's baseline yield dips below it, so measure this link
    # where the yield never does.
    rising = measure_polarities(graph, ["unanchored"])
    assert rising[("bond discount factor", "bond price index")] == "+"
    assert measured[("debt held by public", "debt to GDP")] == "+"
    assert measured[("bill interest retired", "interest on bills")] == "-"
    # debt -> interest: more debt means more new notes to keep each segment at its share of the
    # debt, more notes rolled over at the yield of the day, and likewise for bills, so more interest
    coupons = [
        "debt held by public",
        "ten year note issuance",
        "ten year note interest added",
        "interest on ten year notes stage 1",
        "interest on ten year notes",
        "net interest",
    ]
    rollover = [
        "ten year notes stage 10",
        "ten year note redemptions",
        "ten year note issuance",
    ]
    bills = [
        "bills outstanding",
        "bill redemptions",
        "bill issuance",
        "bill interest added",
        "interest on bills",
        "net interest",
    ]
    # the expectations channel: a higher policy rate raises the expected short rates and the yields
    expectations = ["fed policy rate", "expected short rate 10y", "curve yield 10y", "market yield"]
    for path in (coupons, rollover, bills, expectations):
        assert {measured[(a, b)] for a, b in zip(path, path[1:], strict=False)} == {"+"}


def test_a_dormant_link_is_reported_as_such(graph):
    measured = measure_polarities(graph, ["baseline"])
    # the Fed backstop is off in the baseline, so the yield spike moves no purchases
    assert measured[("yield spike", "fed backstop purchases")] == "0"


def test_every_loop_is_named_or_in_exactly_one_family(graph, assignment):
    loops = find_loops(graph)
    unassigned = assignment.unassigned
    assert unassigned == [], f"{len(unassigned)} loops neither named nor in a family: {unassigned}"
    assert assignment.missing == [], f"named loops not in the model: {assignment.missing}"
    assert assignment.empty == [], f"families that match no loop: {assignment.empty}"
    assert assignment.complete
    named = list(assignment.named)
    # with a holder that no named loop mentions, its copies of named loops (none when shipped)
    in_families = list(assignment.copies)
    in_families += [loop for members in assignment.families.values() for loop in members]
    assert sorted(named + in_families) == sorted(loops)
    assert len(set(named + in_families)) == len(loops)
    ids = [entry.id for entry in read_inventory()]
    assert len(ids) == len(set(ids)) == len(named)
    # the named set stays small enough to draw and read, one diagram per named loop
    assert len(named) <= 150


def test_each_family_loop_is_in_the_first_family_whose_rule_it_matches(assignment):
    families = read_families()
    for family in families:
        for loop in assignment.families[family.id]:
            first = next(f for f in families if f.matches(loop))
            assert first.id == family.id
    # no family's loop is a named loop
    named = {loop_key(loop) for loop in assignment.named}
    assert not any(
        loop_key(loop) in named for members in assignment.families.values() for loop in members
    )


def test_the_named_loops_have_the_measured_polarity(graph, pooled, activated, assignment):
    wrong = [
        (entry.id, entry.polarity, loop_polarity(loop, pooled))
        for loop, entry in assignment.named.items()
        if loop_polarity(loop, pooled) in ("R", "B")
        and loop_polarity(loop, pooled) != entry.polarity
    ]
    assert wrong == []
    # every link of every loop is active, with one sign, somewhere in the shipped scenarios, except
    # exactly the links listed as dormant there, which the activating runs measure instead
    loops = find_loops(graph)
    on_loops = set().union(*(loop_key(loop) for loop in loops))
    # (a holder's cap at its holdings may be dormant too, if no scenario sells that holder out)
    dormant = {link for link in on_loops if pooled[link] not in "+-"}
    assert dormant - HOLDER_CAPS == DORMANT_IN_SCENARIOS
    assert set(activated) == DORMANT_IN_SCENARIOS | HOLDER_CAPS
    assert all(sign in "+-" for sign in activated.values())
    completed = {**pooled, **activated}
    classes = {e.id: loop_polarity(loop, completed) for loop, e in assignment.named.items()}
    unclassified = [loop_id for loop_id, polarity in classes.items() if polarity not in "RB"]
    assert unclassified == []
    wrong = [
        (e.id, e.polarity, classes[e.id])
        for e in assignment.named.values()
        if classes[e.id] != e.polarity
    ]
    assert wrong == []


def test_the_family_counts_are_as_measured(assignment, completed):
    families = read_families()
    measured = {
        fid: Counter(loop_polarity(loop, completed) for loop in members)
        for fid, members in assignment.families.items()
    }
    # every family loop has one polarity once the dormant links are measured where active
    assert all(set(counts) <= {"R", "B"} for counts in measured.values()), measured
    stated = {f.id: (f.loops, f.reinforcing, f.balancing) for f in families}
    found = {
        fid: (len(assignment.families[fid]), counts["R"], counts["B"])
        for fid, counts in measured.items()
    }
    assert found == stated


def test_every_model_loop_gets_one_label(graph, assignment, completed):
    families = read_families()
    labelled = label_loops(assignment, families, completed)
    assert len(labelled) == len(find_loops(graph))
    assert len({loop.id for loop in labelled}) == len(labelled)
    assert {loop.key for loop in labelled} == {loop_key(loop) for loop in find_loops(graph)}
    by_id = {loop.id: loop for loop in labelled}
    assert by_id["R1"].name == "interest snowball (bills)"
    first_t = by_id["T.1"]
    assert first_t.name == next(f.name for f in families if f.id == "T")
    assert first_t.variables == assignment.families["T"][0]
    assert first_t.polarity == loop_polarity(first_t.variables, completed)


# --- the family rule on a small made-up model ---------------------------------------------------

_ABC = ("a", "b", "c")
_ABD = ("a", "b", "d")
_XY = ("x", "y")
_AE = ("a", "e")


def _family(family_id, *links):
    return Family(family_id, f"family {family_id}", tuple(links), 0, 0, 0)


def test_the_first_matching_family_wins_and_named_loops_are_left_out():
    named = [NamedLoop("R1", "one", "R", ("b", "c", "a"))]  # the loop a → b → c, listed from b
    families = [_family("F", ("a", "b")), _family("H", ("a", "b"), ("b", "d")), _family("K", _AE)]
    result = assign_families([_ABC, _ABD, _XY, _AE], named, families[:1] + families[2:])
    assert result.named == {_ABC: named[0]}
    assert result.families == {"F": [_ABD], "K": [_AE]}
    assert result.unassigned == [_XY]
    assert not result.complete
    # H's rule matches a → b → d, but F comes first and takes it, so H is empty
    result = assign_families([_ABC, _ABD, _AE], named, families)
    assert result.families == {"F": [_ABD], "H": [], "K": [_AE]}
    assert result.empty == [families[1]]
    assert not result.complete
    # in the other order H takes it, and F matches nothing
    result = assign_families([_ABC, _ABD, _AE], named, [families[1], families[0], families[2]])
    assert result.families["H"] == [_ABD] and result.empty == [families[0]]


def test_a_named_loop_that_does_not_exist_is_missing():
    ghost = NamedLoop("B9", "ghost", "B", ("a", "c"))
    result = assign_families([_ABC, _AE], [ghost], [_family("F", ("a", "b")), _family("K", _AE)])
    assert result.missing == [ghost]
    assert not result.complete
    result = assign_families([_ABC, _AE], [], [_family("F", ("a", "b")), _family("K", _AE)])
    assert result.complete


def test_family_ids_must_be_unique_and_not_named_ids():
    with pytest.raises(ValueError, match="repeat"):
        assign_families([_ABC], [], [_family("F", ("a", "b")), _family("F", ("b", "c"))])
    named = [NamedLoop("F", "one", "R", _ABC)]
    with pytest.raises(ValueError, match="both a family and a named loop"):
        assign_families([_ABC], named, [_family("F", ("a", "b"))])


def test_read_families_parses_rules_counts_and_order(tmp_path):
    text = (
        "# inventory\n\n| id | name | rule | loops | R | B |\n|---|---|---|---|---|---|\n"
        "| T | Taylor | every other loop through `inflation → fed policy rate` | 3 | 2 | 1 |\n"
        "| G | growth | through `a b → c` and `c → d e` | 1 | 0 | 1 |\n\nafter\n"
    )
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    families = read_families(path)
    assert [f.id for f in families] == ["T", "G"]
    assert families[0].links == (("inflation", "fed policy rate"),)
    assert families[1].links == (("a b", "c"), ("c", "d e"))
    assert (families[0].loops, families[0].reinforcing, families[0].balancing) == (3, 2, 1)
    assert families[1].matches(("a b", "c", "d e")) and not families[1].matches(("a b", "c"))
    path.write_text(text.replace("`a b → c` and `c → d e`", "anything"), encoding="utf-8")
    with pytest.raises(ValueError, match="names no link"):
        read_families(path)


@pytest.mark.parametrize(
    ("name", "polarity"),
    [
        ("interest snowball", "R"),
        ("supply pressure", "R"),
        ("dollar-dumping spiral", "R"),
        ("fiscal risk premium", "R"),
        ("yield attracts buyers", "B"),
        ("Fed backstop", "B"),
        ("fiscal consolidation", "B"),
        ("holdings run out", "B"),
        ("growth drag", "R"),
        ("real-rate spiral", "R"),
        ("Taylor rule on inflation", "B"),
        ("Taylor rule on the output gap", "B"),
        ("imported inflation", "B"),
        ("QE inflation", "R"),
    ],
)
def test_the_required_loops_are_named_and_classified(name, polarity, assignment, completed):
    pattern = re.compile(rf"^{re.escape(name)}( \(|$)")
    named = [(loop, e) for loop, e in assignment.named.items() if pattern.match(e.name)]
    assert named, f"no loop named {name}"
    principal = [(loop, e) for loop, e in named if e.id[1:].isdigit()]
    assert principal and all(e.polarity == polarity for _, e in principal)
    # measured over the shipped scenarios, with the activating runs for the dormant links (the Fed
    # backstop and QE inflation loops run through one)
    assert all(loop_polarity(loop, completed) == polarity for loop, _ in principal)


# --- contracting chains of variables, on a small made-up model ---------------------------------


def _toy(links, stocks=()):
    graph = nx.DiGraph()
    graph.add_edges_from((a, b) for a, b, _ in links)
    nx.set_node_attributes(graph, {n: STOCK if n in stocks else "auxiliary" for n in graph}, "kind")
    return graph, {(a, b): sign for a, b, sign in links}


# s -> a -> b is negative, s -> c -> b positive and s -> d -> b dormant; b -> s closes the loops.
_PARALLEL = [
    ("s", "a", "+"),
    ("a", "b", "-"),
    ("s", "c", "-"),
    ("c", "b", "-"),
    ("s", "d", "0"),
    ("d", "b", "+"),
    ("b", "s", "-"),
]


def test_contract_multiplies_signs_along_paths_and_keeps_every_sign_of_parallel_ones():
    graph, signs = _toy(_PARALLEL, stocks={"s"})
    contracted = contract(graph, signs, {"s", "b"})
    assert set(contracted.edges) == {("s", "b"), ("b", "s")}
    assert contracted.edges["s", "b"]["signs"] == {"+", "-", "0"}
    assert contracted.edges["s", "b"]["sign"] == "±"
    assert (
        contracted.edges["b", "s"]["signs"] == {"-"} and contracted.edges["b", "s"]["sign"] == "-"
    )
    assert contracted.nodes["s"]["kind"] == STOCK
    # kept alone, s closes every loop on itself
    alone = contract(graph, signs, {"s"})
    assert set(alone.edges) == {("s", "s")}
    assert alone.edges["s", "s"]["signs"] == {"+", "-", "0"}
    # the loops, as the contraction shows them, with their own signs
    assert contracted_loop(("s", "a", "b"), {"s", "b"}, signs) == [("s", "b", "-"), ("b", "s", "-")]
    assert contracted_loop(("b", "s", "c"), {"s"}, signs) == [("s", "s", "-")]
    assert contracted_loop(("s", "d", "b"), {"s"}, signs) == [("s", "s", "0")]
    with pytest.raises(ValueError, match="no kept variable"):
        contracted_loop(("s", "a", "b"), {"c"}, signs)


def test_a_link_whose_paths_are_all_dormant_or_unknown_says_so():
    graph, signs = _toy([("s", "a", "0"), ("a", "t", "+"), ("t", "u", "?"), ("u", "s", "+")])
    contracted = contract(graph, signs, {"s", "t"})
    assert contracted.edges["s", "t"]["sign"] == "0"
    assert contracted.edges["t", "s"]["sign"] == "?"
    assert [sign_product(a, b) for a, b in [("-", "-"), ("+", "-"), ("?", "-"), ("?", "0")]] == [
        "+",
        "-",
        "?",
        "0",
    ]


def test_loop_cut_adds_the_stocks_of_loops_that_avoid_the_chosen_variables():
    # x -> y -> x avoids s; y is its stock
    graph, signs = _toy(
        [("s", "x", "+"), ("x", "s", "+"), ("x", "y", "+"), ("y", "x", "-")], stocks={"s", "y"}
    )
    with pytest.raises(ValueError, match="a loop avoids every kept variable"):
        contract(graph, signs, {"s"})
    with pytest.raises(ValueError, match="does not have: \\['z'\\]"):
        contract(graph, signs, {"s", "z"})
    kept = loop_cut(graph, ["s"])
    assert kept == ["s", "y"]
    assert set(contract(graph, signs, kept).edges) == {
        ("s", "s"),
        ("s", "y"),
        ("y", "s"),
        ("y", "y"),
    }
