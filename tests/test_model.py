"""Behaviour of the model: stock-flow consistency, extreme conditions, calibration, regression."""

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import overrides_that_empty_private_holdings, run

from debtloops import SimulationError, list_scenarios, run_scenario
from debtloops.model import data
from debtloops.model.contract import HOLDINGS, NON_NEGATIVE_STOCKS, SIGNED_STOCKS
from debtloops.model.engine import describe, load
from debtloops.validation.backtest import fiscal_year_value
from debtloops.validation.bonds import coupon_bond_price, one_year_bond_yield

EXPECTED = Path(__file__).parent / "expected"
JAPAN = 1189.3  # initial_japan_holdings in the table; checked below
CHINA = 683.5

EXTREMES = {
    "zero debt": dict(
        initial_debt_held_by_public=0.0,
        initial_japan_holdings=0.0,
        initial_china_holdings=0.0,
        initial_total_foreign_holdings=0.0,
        initial_fed_holdings=0.0,
    ),
    "yields at 0%": dict(stress_yield=0.0, stress_start=2025.0, stress_duration=31.0),
    "yields at 50%": dict(stress_yield=0.5, stress_start=2025.0, stress_duration=31.0),
    "policy rate at 0%": dict(
        fed_policy_rate_path=0.0,
        initial_long_run_policy_rate=0.0,
        expected_long_yield=0.0,
        bill_spread=0.0,
    ),
    "Japan sells everything at once": dict(japan_sale_amount=JAPAN, japan_sale_duration=0.0625),
    "Japan and China sell everything at once": dict(
        japan_sale_amount=JAPAN,
        japan_sale_duration=0.0625,
        china_sale_amount=CHINA,
        china_sale_duration=0.0625,
    ),
    "every lever on during a full sale": dict(
        japan_sale_amount=JAPAN,
        fed_backstop_switch=1.0,
        fiscal_consolidation_switch=1.0,
        diversification_switch=1.0,
        fed_tightening_strength=0.5,
    ),
}


def test_named_initial_holdings_match_the_table(table):
    assert table["initial_japan_holdings"].value == JAPAN
    assert table["initial_china_holdings"].value == CHINA


def test_every_stock_is_declared_signed_or_non_negative():
    stocks = set(describe(load()).stocks)
    assert stocks == set(NON_NEGATIVE_STOCKS) | set(SIGNED_STOCKS)


@pytest.mark.parametrize("name", list_scenarios())
def test_holdings_add_up_to_the_debt(name):
    ds = run(name)
    total = sum(ds[holder] for holder in HOLDINGS)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9, atol=0)


@pytest.mark.parametrize("case", sorted(EXTREMES))
def test_extreme_conditions_keep_stocks_non_negative_and_finite(case):
    ds = run("baseline", **EXTREMES[case])
    for stock in NON_NEGATIVE_STOCKS:
        assert float(ds[stock].min()) >= 0.0, f"{case}: {stock} went negative"
    for name, variable in ds.data_vars.items():
        assert np.isfinite(variable).all(), f"{case}: {name} is not finite"
    total = sum(ds[holder] for holder in HOLDINGS)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9, atol=1e-9)


def test_a_zero_sale_reproduces_the_baseline_exactly():
    # Bit for bit, on one machine: the docs promise it (a zero sale adds exact zeros).
    baseline = run("baseline")
    zero = run("japan_full", japan_sale_amount=0.0)
    for name in baseline.data_vars:
        np.testing.assert_array_equal(zero[name], baseline[name], err_msg=name)


def test_a_sale_of_everything_at_once_empties_japan_without_overshooting():
    ds = run("baseline", **EXTREMES["Japan sells everything at once"])
    japan = ds["japan_holdings"]
    assert float(japan.sel(time=2027.0)) < 0.01 * JAPAN
    assert float(japan.min()) >= 0.0


def test_zero_debt_grows_only_by_deficits():
    ds = run("baseline", **EXTREMES["zero debt"])
    assert float(ds["debt_held_by_public"][0]) == 0.0
    assert float(ds["net_interest"][0]) == 0.0
    # CBO's primary deficits create the debt; later the premia priced on a debt far below the
    # expected path lower yields, output outgrows the baseline and deficits can turn to surplus
    first_decade = ds["debt_held_by_public"].sel(time=slice(2025.0, 2035.0))
    assert (first_decade.diff("time") > 0).all()


#: The nominal note and bond segments, which the stress yield prices (bills follow the policy rate).
NOMINAL_COUPONS = ("short_notes", "medium_notes", "ten_year_notes", "long_bonds")


def _coupon_rate(ds):
    """Average coupon of the nominal notes and bonds outstanding [1/year]."""
    interest = sum(ds[f"interest_on_{name}"] for name in NOMINAL_COUPONS)
    return interest / sum(ds[f"{name}_outstanding"] for name in NOMINAL_COUPONS)


def test_yields_at_zero_cost_nothing_on_new_notes_and_bonds():
    ds = run("baseline", **EXTREMES["yields at 0%"])
    assert float(abs(ds["market_yield"]).max()) == 0.0
    # with every new note and bond at 0% their interest only runs off: little is left after 30 years
    assert float(_coupon_rate(ds)[-1]) < 0.2 * float(_coupon_rate(ds)[0])


def test_yields_at_fifty_percent_drive_the_coupon_rate_to_fifty_percent():
    ds = run("baseline", **EXTREMES["yields at 50%"])
    assert float(ds["market_yield"].min()) == pytest.approx(0.5, abs=1e-12)
    assert float(_coupon_rate(ds)[-1]) == pytest.approx(0.5, abs=0.05)


def test_bond_price_index_is_the_coupon_bond_price_at_the_market_yield():
    for ds in (run("japan_full"), run("baseline", **EXTREMES["yields at 0%"])):
        coupon = float(ds["market_yield"][0])  # the representative bond is at par at the start
        expected = [coupon_bond_price(float(y), coupon, 10) for y in ds["market_yield"]]
        np.testing.assert_allclose(ds["bond_price_index"], expected, rtol=1e-12)


def test_the_article_stress_forces_fourteen_point_four_percent_for_one_year():
    ds = run("article_stress")
    in_2026 = ds["market_yield"].sel(time=slice(2026.0, 2026.75))
    assert np.all(in_2026 == pytest.approx(0.144, abs=1e-15))
    assert float(ds["market_yield"].sel(time=2027.0)) < 0.144
    assert round(one_year_bond_yield(90.0), 3) == 0.144  # the article's bond, rounded as it does


def test_a_driver_given_as_a_time_series_is_interpolated():
    series = {2025.0: 0.02, 2055.0: 0.05}
    ds = run("baseline", primary_deficit_share_of_gdp=series)
    assert float(ds["primary_deficit_share_of_gdp"].sel(time=2040.0)) == pytest.approx(0.035)
    assert float(ds["primary_deficit_share_of_gdp"].sel(time=2030.0)) == pytest.approx(0.025)


def test_the_article_sale_moves_yields_as_the_literature_says():
    # Beltran et al. (2013): $100bn sold within a month lifts yields 40-60bp at first and about
    # 20bp once private investors respond; $120bn spread over a year should lie between the two
    # scaled by 1.2: 20-72bp.
    extra = run("article")["market_yield"] - run("baseline")["market_yield"]
    assert 0.002 < float(extra.max()) < 0.0072
    assert float(extra.sel(time=2035.0)) < 0.25 * float(extra.max())


def test_without_market_feedbacks_the_baseline_is_near_cbo():
    # CBO Long-Term Budget Outlook 2025-2055: debt held by the public 156.3% of GDP in 2055.
    # Switching off the yield feedbacks leaves the model's debt arithmetic on CBO's year-by-year
    # drivers, which should land near CBO's path.
    ds = run(
        "baseline",
        portfolio_balance_sensitivity=0.0,
        flow_effect_sensitivity=0.0,
        risk_premium_debt_sensitivity=0.0,
        risk_premium_interest_sensitivity=0.0,
    )
    # CBO's ratio: debt at the end of FY2055 over FY2055's GDP (not debt_to_gdp, over the rate)
    debt = fiscal_year_value(ds, "debt_held_by_public", "end_to_gdp", 2055)
    cbo = (
        data.cbo().series("debt_held_by_public_pct_gdp", data.vintage().long_term_publication)[2055]
        / data.PERCENT
    )
    assert debt == pytest.approx(cbo, abs=0.06)


def test_a_negative_stock_stops_the_run_with_its_name_and_time():
    # the caps on private investors' outflows do not share: at their valid extremes together
    # they take more than private investors hold (conftest.overrides_that_empty_private_holdings)
    overrides = overrides_that_empty_private_holdings()
    with pytest.raises(
        SimulationError, match=r"domestic_private_holdings went negative .* at time 202\d"
    ):
        run_scenario("baseline", overrides=overrides)


def test_foreign_buying_beyond_what_private_investors_hold_is_met_by_new_debt():
    # Japan buying $10T a year (its planned purchases at their valid maximum) from domestic
    # private investors, who hold about $17T, would empty their holdings within two years; the
    # Treasury then sells Japan what it buys, so their holdings stay positive and the debt grows
    ds = run_scenario("baseline", overrides={"japan_baseline_net_purchases": 10000.0})
    base = run_scenario("baseline")
    assert float(ds["domestic_private_holdings"].min()) > 0.0
    total = sum(ds[holder] for holder in HOLDINGS)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9)
    assert float(ds["debt_held_by_public"][-1]) > float(base["debt_held_by_public"][-1]) + 10000.0


def test_japans_private_sales_move_holdings_and_yields_but_not_the_flow_effect():
    # Japan selling $100bn a year: as the Ministry of Finance's, its sales weigh on the market as
    # official selling (the flow effect's memory); as its private investors', they do not, while
    # Japan's holdings fall the same and the debt shifted to US private investors still lifts
    # the portfolio-balance premium above the baseline's
    official = run("baseline", japan_baseline_net_purchases=-100.0)
    private = run("baseline", japan_baseline_net_purchases=-100.0, japan_private_net_sales=100.0)
    base = run("baseline")
    assert float(official["recent_official_sales"].max()) > 50.0
    assert float(private["recent_official_sales"].max()) == 0.0
    np.testing.assert_allclose(private["japan_holdings"], official["japan_holdings"], rtol=1e-12)
    first_years = slice(0, 8)
    extra = {
        name: float((ds["market_yield"] - base["market_yield"]).isel(time=first_years).max())
        for name, ds in (("official", official), ("private", private))
    }
    assert 0.0 < extra["private"] < extra["official"]


def test_a_surplus_retires_only_what_private_investors_hold():
    # a primary surplus of 20% of GDP, far outside the table's range: the debt falls until private
    # investors hold none, and the rest of the surplus stays with the Treasury as cash
    base = run("baseline")
    ds = run("baseline", primary_deficit_share_of_gdp=-0.2)
    private = ds["domestic_private_holdings"]
    assert float(private.isel(time=-1)) < 0.1 * float(private.isel(time=0))
    for stock in NON_NEGATIVE_STOCKS:
        assert float(ds[stock].min()) >= 0.0, stock
    total = sum(ds[holder] for holder in HOLDINGS)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9)
    # the holders on a fixed plan keep theirs: the surplus shrinks auctions and buys back from
    # private investors (other foreign buying follows yields, so it is not compared)
    for holder in ("japan_holdings", "china_holdings", "fed_holdings"):
        np.testing.assert_allclose(ds[holder], base[holder], rtol=1e-12)
    # while private holdings last, the debt falls by the whole surplus
    early = ds.sel(time=slice(2025.0, 2027.0))
    assert float(early["domestic_private_holdings"].min()) > 0.0
    assert float(early["net_borrowing"].max()) < 0.0


def test_the_feds_run_off_stops_at_zero():
    ds = run("baseline", fed_baseline_net_purchases=-10000.0)
    assert float(ds["fed_holdings"].min()) == 0.0
    assert float(ds["fed_holdings"].sel(time=2025.25)) < float(ds["fed_holdings"].sel(time=2025.0))


CASES = tomllib.loads((EXPECTED / "cases.toml").read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_regression_against_stored_results(name):
    case = CASES[name]
    stored = pd.read_csv(EXPECTED / f"{name}.csv", index_col="time")
    fresh = run(name)[case["variables"]].sel(time=stored.index.to_numpy()).to_dataframe()
    assert list(stored.columns) == case["variables"]
    np.testing.assert_allclose(fresh[stored.columns], stored, rtol=case["rtol"], atol=0)


def test_every_variable_has_units_and_a_comment():
    info = describe(load())
    for name, units in info.units.items():
        if name == "time":
            continue
        assert units and units != "nan", f"{name} has no units"
        assert len(info.comments[name]) > 10, f"{name} has no comment"


def test_runs_reach_2100():
    ds = run_scenario("japan_full", final_time=2100.0)
    assert float(ds["time"][-1]) == 2100.0
    total = sum(ds[holder] for holder in HOLDINGS)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9, atol=0)
