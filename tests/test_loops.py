"""The causal graph, measured link polarities and the loop inventory."""

import re

import pytest

from debtloops import list_scenarios
from debtloops.loops import (
    CONSTANT,
    STOCK,
    causal_graph,
    find_loops,
    loop_key,
    loop_polarity,
    match_inventory,
    measure_polarities,
    read_inventory,
)
from debtloops.model import describe, load
from debtloops.parameters import CONTROLS


@pytest.fixture(scope="module")
def graph():
    return causal_graph()


@pytest.fixture(scope="module")
def pooled(graph):
    return measure_polarities(graph, list_scenarios())


# Links that no shipped scenario activates: the bill-share gap stays at zero while the target share
# is constant; other foreign holders never become net sellers nor reach the cap at their holdings.
DORMANT_IN_SCENARIOS = {
    ("bill share gap", "bill issuance"),
    ("other foreign net demand", "other foreign sales"),
    ("other foreign holdings", "other foreign sales"),
}
# A run that activates them: the target bill share moves, and other foreign demand is negative
# enough for other foreign holders to sell out.
ACTIVATING_RUN = (
    "baseline",
    {
        "bill_share_of_debt": {2026.0: 0.2154, 2030.0: 0.25, 2040.0: 0.2},
        "other_foreign_purchase_share": -0.1,
    },
)


@pytest.fixture(scope="module")
def activated(graph):
    scenario, overrides = ACTIVATING_RUN
    return measure_polarities(graph, [scenario], overrides)


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
    # debt -> interest: more debt means more coupons rolled over at the market yield, and more
    # bills mean more bills rolled over at the bill rate, so more interest
    coupons = [
        "debt held by public",
        "coupon debt outstanding",
        "coupon redemptions",
        "coupon issuance",
        "coupon interest added",
        "interest on coupons",
        "net interest",
    ]
    bills = [
        "bills outstanding",
        "bill redemptions",
        "bill issuance",
        "bill interest added",
        "interest on bills",
        "net interest",
    ]
    for path in (coupons, bills):
        assert {measured[(a, b)] for a, b in zip(path, path[1:], strict=False)} == {"+"}


def test_a_dormant_link_is_reported_as_such(graph):
    measured = measure_polarities(graph, ["baseline"])
    # the Fed backstop is off in the baseline, so the yield spike moves no purchases
    assert measured[("yield spike", "fed backstop purchases")] == "0"


def test_the_inventory_names_every_loop_and_no_other(graph):
    check = match_inventory(find_loops(graph), read_inventory())
    assert check.unnamed == [], f"loops the inventory does not name: {check.unnamed}"
    assert check.missing == [], f"inventory loops not in the model: {check.missing}"
    ids = [entry.id for entry in read_inventory()]
    assert len(ids) == len(set(ids))


def test_the_inventory_classifies_every_loop_as_measured(graph, pooled, activated):
    check = match_inventory(find_loops(graph), read_inventory())
    wrong = [
        (entry.id, entry.polarity, loop_polarity(loop, pooled))
        for loop, entry in check.matched.items()
        if loop_polarity(loop, pooled) in ("R", "B")
        and loop_polarity(loop, pooled) != entry.polarity
    ]
    assert wrong == []
    # every link of every loop is active, with one sign, somewhere in the shipped scenarios, except
    # exactly the links listed as dormant there, which the activating run measures instead
    on_loops = set().union(*(loop_key(loop) for loop in check.matched))
    assert {link for link in on_loops if pooled[link] not in "+-"} == DORMANT_IN_SCENARIOS
    assert all(activated[link] in "+-" for link in DORMANT_IN_SCENARIOS)
    completed = {**pooled, **{link: activated[link] for link in DORMANT_IN_SCENARIOS}}
    classes = {e.id: loop_polarity(loop, completed) for loop, e in check.matched.items()}
    unclassified = [loop_id for loop_id, polarity in classes.items() if polarity not in "RB"]
    assert unclassified == []
    wrong = [
        (e.id, e.polarity, classes[e.id])
        for e in check.matched.values()
        if classes[e.id] != e.polarity
    ]
    assert wrong == []


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
    ],
)
def test_the_required_loops_are_named_and_classified(name, polarity, graph, pooled):
    check = match_inventory(find_loops(graph), read_inventory())
    pattern = re.compile(rf"^{re.escape(name)}( \(|$)")
    named = [(loop, e) for loop, e in check.matched.items() if pattern.match(e.name)]
    assert named, f"no loop named {name}"
    principal = [(loop, e) for loop, e in named if e.id[1:].isdigit()]
    assert principal and all(e.polarity == polarity for _, e in principal)
    assert all(loop_polarity(loop, pooled) == polarity for loop, _ in principal)
