"""The economy answers back: growth, inflation and the Fed's rule, against their documented ranges.

The ranges are the parameter table's sources (models/parameters.toml): the growth drag of a real
yield above the expected path, the inflation effect of Fed purchases and the dollar's pass-through.
"""

import numpy as np
import pytest
from tests.conftest import run

from debtloops.model import data

EDGE = data.STEP_EDGE
SHOCK_START = 2026.0


def _from(start: float, before: float, after: float) -> dict[float, float]:
    """A step driver: ``before`` until ``start``, ``after`` from it on."""
    return {start - 1.0: before, start - EDGE: before, start: after}


def _premium_up_one_point() -> dict[float, float]:
    """A term premium shock of one point from the shock's start: a yield rise nobody expected."""
    return _from(SHOCK_START, 0.0, 0.01)


@pytest.fixture(scope="module")
def rate_shock():
    return run("baseline", term_premium_shock=_premium_up_one_point())


# gdp_sensitivity_to_real_yield in [2, 8] log points per point of lasting real yield, reached over
# capital_adjustment_time in [8, 25] years; for a 1-point shock the table's corners give 0.3-3.5%
# after 5 years and 0.6-5.5% after 10 (CBO 2023: 5% by 2053 for 0.9 points).
@pytest.mark.parametrize(("year", "low", "high"), [(2031.0, 0.3, 3.5), (2036.0, 0.6, 5.5)])
def test_a_100bp_rate_shock_lowers_real_gdp_within_the_documented_range(
    rate_shock, year, low, high
):
    loss = -100 * float(
        rate_shock["real_gdp_deviation"].sel(time=year)
        - run("baseline")["real_gdp_deviation"].sel(time=year)
    )
    assert low <= loss <= high


def test_a_rate_shock_raises_debt_to_gdp_through_lower_gdp(rate_shock):
    no_drag = run(
        "baseline",
        term_premium_shock=_premium_up_one_point(),
        gdp_sensitivity_to_real_yield=0.0,
        demand_sensitivity_to_real_yield=0.0,
    )
    assert float(rate_shock["nominal_gdp"].sel(time=2036.0)) < float(
        no_drag["nominal_gdp"].sel(time=2036.0)
    )
    assert float(rate_shock["debt_to_gdp"].sel(time=2036.0)) > float(
        no_drag["debt_to_gdp"].sel(time=2036.0)
    )


def test_the_fed_cuts_when_the_output_gap_opens(rate_shock):
    base = run("baseline")
    assert float(rate_shock["output_gap"].sel(time=2031.0)) < 0
    assert float(rate_shock["fed_policy_rate"].sel(time=2031.0)) < float(
        base["fed_policy_rate"].sel(time=2031.0)
    )


def test_lost_capacity_alone_opens_no_gap_and_the_fed_does_not_ease():
    # A pure supply shock: crowding out lowers potential output, demand does not respond, so
    # output equals potential and the rule has nothing to answer. The dollar's pass-through is
    # off in both runs: a move of the dollar is a price shock, not lost capacity.
    supply_side = {"demand_sensitivity_to_real_yield": 0.0, "dollar_pass_through": 0.0}
    supply = run("baseline", term_premium_shock=_premium_up_one_point(), **supply_side)
    base = run("baseline", **supply_side)
    assert float(supply["potential_output_deviation"].sel(time=2036.0)) < -0.005
    assert float(np.abs(supply["output_gap"]).max()) < 1e-12
    np.testing.assert_allclose(supply["fed_policy_rate"], base["fed_policy_rate"], atol=1e-12)


def test_qe_inflation_builds_over_one_to_three_years():
    programme = run("baseline", fed_baseline_net_purchases=_qe(1000.0))
    extra = programme["inflation"] - run("baseline")["inflation"]
    peak = float(extra["time"][int(np.argmax(extra.values))]) - SHOCK_START
    assert 1.0 <= peak <= 3.0


def test_a_1tn_purchase_programme_raises_prices_within_the_documented_range():
    # Chung et al. (2012), Weale and Wieladek (2016), Kim, Laubach and Wei (2020): 0.3-1.6% of the
    # price level per $1T of purchases
    programme = run("baseline", fed_baseline_net_purchases=_qe(1000.0))
    rise = 100 * float(
        np.log(
            programme["price_level"].sel(time=2029.0)
            / run("baseline")["price_level"].sel(time=2029.0)
        )
    )
    assert 0.3 <= rise <= 1.6


def _qe(size: float) -> dict[float, float]:
    return {
        SHOCK_START - 1.0: 0.0,
        SHOCK_START - EDGE: 0.0,
        SHOCK_START: size,
        SHOCK_START + 1.0 - EDGE: size,
        SHOCK_START + 1.0: 0.0,
    }


def test_a_10_percent_depreciation_passes_into_prices_as_documented(table):
    # Diez and Gopinath (2015): 0.016 of a dollar move in consumer prices at once, 0.027 by 2 years
    shocked = run("baseline", dollar_shock=_from(SHOCK_START, 0.0, np.log(0.9)))
    base = run("baseline")
    year = 2031.0
    dollar = float(
        np.log(shocked["dollar_index"].sel(time=year) / base["dollar_index"].sel(time=year))
    )
    prices = float(
        np.log(shocked["price_level"].sel(time=year) / base["price_level"].sel(time=year))
    )
    assert dollar < -0.09  # the shock has moved the dollar by most of its 10.5 log points
    assert 0.016 <= -prices / dollar <= 0.045
    assert -prices / dollar == pytest.approx(table["dollar_pass_through"].value, rel=0.25)


def test_the_backstop_shows_the_inflation_cost_the_article_warns_of():
    # The backstop buys about $0.65T; at the documented 0.3-1.6% of the price level per $1T the
    # price level ends at least 0.2% higher than without it.
    backstop, without = run("fed_backstop"), run("japan_full")
    bought = float(backstop["fed_holdings"].max() - without["fed_holdings"].max())
    rise = float(
        np.log(backstop["price_level"].sel(time=2031.0) / without["price_level"].sel(time=2031.0))
    )
    assert bought > 300.0
    assert 0.003 * bought / 1000.0 <= rise <= 0.016 * bought / 1000.0


def test_every_new_channel_is_at_rest_in_the_baseline():
    base = run("baseline")
    assert float(np.abs(base["output_gap"]).max()) < 0.002  # under 0.2% of GDP over 30 years
    gap = base["inflation"] - base["expected_inflation"]
    assert float(np.abs(gap).max()) < 1e-4  # under 1bp a year


def test_inflation_lowers_debt_to_gdp_while_it_lasts():
    hot = run(
        "baseline", expected_inflation=0.022, dollar_shock=_from(SHOCK_START, 0.0, np.log(0.7))
    )
    calm = run("baseline", expected_inflation=0.022)
    assert float(hot["price_level"].sel(time=2030.0)) > float(calm["price_level"].sel(time=2030.0))
    assert float(hot["debt_to_gdp"].sel(time=2030.0)) < float(calm["debt_to_gdp"].sel(time=2030.0))


def test_the_fed_does_not_raise_its_rate_while_the_backstop_buys():
    backstop, base = run("fed_backstop"), run("baseline")
    buying = backstop["fed_backstop_purchases"] > 0
    assert int(buying.sum()) > 0
    above = (backstop["fed_policy_rate"] - base["fed_policy_rate"]).where(buying)
    assert float(above.max()) < 1e-4  # under 1bp above the planned path while it buys


def test_a_purchase_programme_never_raises_the_ten_year():
    programme = run("baseline", fed_baseline_net_purchases=_qe(1700.0))
    extra = programme["market_yield"] - run("baseline")["market_yield"]
    assert float(extra.sel(time=slice(SHOCK_START, None)).max()) <= 0.0
    assert float(extra.sel(time=SHOCK_START + 1.0)) < -0.005  # at least 50bp lower at its end
