"""The links dormant in every shipped scenario, and runs that set them in motion.

Shared by the tests of the loop inventory (``test_loops.py``) and of the diagrams
(``test_diagrams.py``), which need every loop's polarity, the dormant links' included.
"""

from debtloops.loops.graph import measure_polarities
from debtloops.model.holders import FOREIGN
from debtloops.model.parameters import load_parameters

# Links that no shipped scenario activates at its operating points: the bill-share gap stays at
# zero while the target share is constant; other foreign demand stays positive, so the net-selling
# branch of other foreign sales is flat; other foreign holders never reach the cap at their
# holdings; neither the Fed's nor other foreign holders' purchases come near the cap at what
# domestic private holders could sell within the private sale time.
DORMANT_IN_SCENARIOS = {
    ("bill share gap", "bill issuance"),
    ("other foreign net demand", "other foreign sales"),
    ("other foreign holdings", "other foreign sales"),
    ("domestic private holdings", "fed net purchases"),
    ("domestic private holdings", "other foreign purchases"),
    ("domestic private holdings", "net borrowing"),
}
# Runs that activate them, each with the links it is used for: the target bill share moves, and
# other foreign demand is negative enough for other foreign holders to sell, and sell out; the Fed
# buys $3T a year from private holders who are slow sellers; other foreign demand is high and
# private holders slow sellers.
ACTIVATING_RUNS = [
    (
        "baseline",
        {
            "bill_share_of_debt": {2026.0: 0.238, 2030.0: 0.28, 2040.0: 0.22},
            "other_foreign_purchase_share": -0.1,
        },
        {
            ("bill share gap", "bill issuance"),
            ("other foreign net demand", "other foreign sales"),
            ("other foreign holdings", "other foreign sales"),
        },
    ),
    (
        "baseline",
        {"fed_baseline_net_purchases": 3000.0, "private_sale_time": 10.0},
        {("domestic private holdings", "fed net purchases")},
    ),
    (
        "baseline",
        {"private_sale_time": 10.0, "other_foreign_purchase_share": 0.1},
        {("domestic private holdings", "other foreign purchases")},
    ),
    (
        "baseline",
        {"primary_deficit_share_of_gdp": -0.2},
        {("domestic private holdings", "net borrowing")},
    ),
]


# Each foreign holder's cap at its holdings (``<holder> holdings -> <holder> sales``) acts only when
# a sale empties it. A scenario sells Japan and China out, but a holder added to the list may have
# none, so one more run sells every holder out: each sells all it held at the start (the most its
# sale may be) in the shortest plausible time, from the start of the run, which
# empties its holdings.
HOLDER_CAPS = {(f"{holder.mdl_name} holdings", f"{holder.mdl_name} sales") for holder in FOREIGN}


def _sell_out_every_holder():
    table = load_parameters()
    overrides = {}
    for holder in FOREIGN:
        amount, start, duration = (table[name] for name in holder.sale_parameters)
        overrides[amount.name] = table[holder.initial_holdings].value
        overrides[start.name] = start.low
        overrides[duration.name] = duration.low
    return overrides


def measure_dormant_links(graph):
    """Return the polarity of each link of ``DORMANT_IN_SCENARIOS`` and ``HOLDER_CAPS``.

    Each is measured in a run that sets it in motion; the holders' caps in a run where every
    holder sells out. Only the links each run is for are measured (a link's sign does not depend on
    which other links are measured beside it: every input of its target is held at the run's
    values).
    """
    found = {}
    runs = [*ACTIVATING_RUNS, ("baseline", _sell_out_every_holder(), HOLDER_CAPS)]
    for scenario, overrides, links in runs:
        measured = measure_polarities(graph.edge_subgraph(links), [scenario], overrides)
        found.update({link: measured[link] for link in links})
    return found
