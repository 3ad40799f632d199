"""Random parameter sets within the table's ranges never break the stocks.

At least 1,000 parameter sets, drawn uniformly within each parameter's plausible range (the
behavioural uncertainties, the drivers as constants, the levers and the initial state), are run
in every shipped scenario through the ensemble path, which matches single runs to 1e-9.
"""

import numpy as np
import pytest

from debtloops import list_scenarios, load_parameters, run_scenario
from debtloops.model import ensemble
from debtloops.model.contract import HOLDINGS, NON_NEGATIVE_STOCKS
from debtloops.model.run import prepare

DRAWS = 1_000
KINDS = ("uncertainty", "driver", "lever", "initial")
SEED = 20251130


def _draws_per_scenario() -> int:
    return -(-DRAWS // len(list_scenarios()))  # ceiling: at least DRAWS in all


def _sample(rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    table = load_parameters()
    return {
        p.name: rng.uniform(p.low, p.high, size) for p in table.of_kind(*KINDS) if p.high > p.low
    }


@pytest.fixture(scope="module")
def fuzzed():
    rng = np.random.default_rng(SEED)
    size = _draws_per_scenario()
    outcomes = sorted({"debt_held_by_public", *HOLDINGS, *NON_NEGATIVE_STOCKS})
    runs = {}
    for name in list_scenarios():
        values = prepare(name).values
        _, results = ensemble.simulate(values, _sample(rng, size), outcomes)
        runs[name] = results
    return runs


def test_at_least_1000_parameter_sets_are_drawn(fuzzed):
    drawn = sum(len(r["debt_held_by_public"]) for r in fuzzed.values())
    assert drawn >= DRAWS
    assert set(fuzzed) == set(list_scenarios())


def test_no_value_is_nan_or_infinite(fuzzed):
    for name, results in fuzzed.items():
        for variable, values in results.items():
            assert np.isfinite(values).all(), f"{name}: {variable} is not finite"


def test_no_stock_goes_negative(fuzzed):
    for name, results in fuzzed.items():
        for stock in NON_NEGATIVE_STOCKS:
            lowest = float(results[stock].min())
            assert lowest >= 0.0, f"{name}: {stock} reaches {lowest:g}"


def test_holdings_add_up_to_the_debt(fuzzed):
    for name, results in fuzzed.items():
        total = sum(results[holder] for holder in HOLDINGS)
        np.testing.assert_allclose(
            total, results["debt_held_by_public"], rtol=1e-9, atol=0, err_msg=name
        )


def test_a_lasting_primary_surplus_leaves_every_stock_non_negative():
    # a planned effort of 5% of GDP (the top of its valid range) from FY2027: the surplus retires
    # what domestic private investors hold, and no faster than the shortest paydown time
    ds = run_scenario("baseline", {"primary_balance_effort": 0.05})
    for stock in NON_NEGATIVE_STOCKS:
        assert float(ds[stock].min()) >= 0.0, stock
