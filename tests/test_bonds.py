"""Tests for debtloops.validation.bonds: the seed article's arithmetic, annual-coupon bond maths
and the model's bond price index."""

import itertools
import math
import re
from fractions import Fraction

import numpy as np
import pytest
from conftest import run

from debtloops.validation.bonds import (
    annual_interest_cost,
    coupon_bond_price,
    coupon_bond_yield,
    one_year_bond_price,
    one_year_bond_yield,
)

MATURITIES = (1, 2, 10, 30)
YIELD_GRID = (-0.005, 0.0, 1e-6, 0.01, 0.03, 0.04, 0.05, 0.1, 0.144, 0.25, 0.5)
COUPON_RATES = (0.0, 0.03, 0.04, 0.08)


def exact_price(yield_: Fraction, coupon_rate: Fraction, years: int, face: Fraction) -> Fraction:
    """Price by summing the discounted cash flows in exact rational arithmetic."""
    coupon = coupon_rate * face
    total = sum(coupon / (1 + yield_) ** t for t in range(1, years + 1))
    return total + face / (1 + yield_) ** years


# ---------------------------------------------------------------------------------------------
# The article
# ---------------------------------------------------------------------------------------------


def test_article_dumped_bond_yields_13_over_90():
    y = one_year_bond_yield(90.0)
    assert y == pytest.approx(13 / 90, rel=0, abs=1e-15)
    assert round(y, 3) == 0.144


def test_article_bond_at_par_yields_the_coupon():
    assert one_year_bond_yield(100.0) == pytest.approx(0.03, rel=0, abs=1e-15)


def test_article_defaults_are_the_articles_bond():
    assert one_year_bond_yield(90.0) == one_year_bond_yield(90.0, face=100.0, coupon_rate=0.03)
    assert one_year_bond_price(0.03) == pytest.approx(100.0, rel=0, abs=1e-12)


@pytest.mark.parametrize("price", [50.0, 90.0, 99.5, 100.0, 103.0, 120.0])
def test_one_year_price_yield_round_trip_from_price(price):
    y = one_year_bond_yield(price)
    assert one_year_bond_price(y) == pytest.approx(price, rel=1e-14, abs=0)


@pytest.mark.parametrize("yield_", [-0.5, -0.01, 0.0, 0.03, 13 / 90, 1.0, 9.0])
def test_one_year_price_yield_round_trip_from_yield(yield_):
    price = one_year_bond_price(yield_, face=1000.0, coupon_rate=0.05)
    assert one_year_bond_yield(price, face=1000.0, coupon_rate=0.05) == pytest.approx(
        yield_, rel=0, abs=1e-14
    )


def test_one_year_bond_matches_coupon_bond_of_one_year():
    for y in (-0.2, 0.0, 0.03, 0.144, 2.0):
        assert one_year_bond_price(y, 100.0, 0.03) == pytest.approx(
            coupon_bond_price(y, 0.03, 1, 100.0), rel=1e-14, abs=0
        )


def test_article_interest_bill_on_10bn():
    assert annual_interest_cost(10.0, 0.03) == pytest.approx(0.3, rel=0, abs=1e-12)
    assert annual_interest_cost(10.0, 0.144) == pytest.approx(1.44, rel=0, abs=1e-12)


def test_interest_bill_in_dollars():
    assert annual_interest_cost(10e9, 0.03) == pytest.approx(300e6, rel=1e-12, abs=0)


# ---------------------------------------------------------------------------------------------
# Bond and debt arithmetic: price and yield of annual-coupon bonds
# ---------------------------------------------------------------------------------------------


def test_facts_one_year_zero():
    assert one_year_bond_price(0.04, face=100.0, coupon_rate=0.0) == pytest.approx(
        96.154, rel=0, abs=5e-4
    )
    assert one_year_bond_price(0.05, face=100.0, coupon_rate=0.0) == pytest.approx(
        95.238, rel=0, abs=5e-4
    )
    assert coupon_bond_price(0.04, 0.0, 1) == pytest.approx(96.154, rel=0, abs=5e-4)
    assert coupon_bond_price(0.05, 0.0, 1) == pytest.approx(95.238, rel=0, abs=5e-4)


def test_facts_ten_year_bond_at_five_percent():
    assert coupon_bond_price(0.05, 0.04, 10) == pytest.approx(92.28, rel=0, abs=5e-3)


# ---------------------------------------------------------------------------------------------
# Coupon bond price
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("years", [1, 2, 5, 10, 30, 100])
@pytest.mark.parametrize("rate", [0.0, 0.01, 0.04, 0.144])
def test_par_bond_prices_at_face(years, rate):
    assert coupon_bond_price(rate, rate, years, face=100.0) == pytest.approx(
        100.0, rel=0, abs=1e-10
    )
    assert coupon_bond_price(rate, rate, years, face=1000.0) == pytest.approx(
        1000.0, rel=0, abs=1e-9
    )


@pytest.mark.parametrize("years", MATURITIES)
@pytest.mark.parametrize("coupon_rate", COUPON_RATES)
def test_price_falls_as_yield_rises(years, coupon_rate):
    grid = [-0.5 + 0.01 * k for k in range(151)]
    prices = [coupon_bond_price(y, coupon_rate, years) for y in grid]
    assert all(later < earlier for earlier, later in itertools.pairwise(prices))


@pytest.mark.parametrize("years", MATURITIES)
@pytest.mark.parametrize("coupon_rate", COUPON_RATES)
def test_zero_yield_price_is_undiscounted_cash(years, coupon_rate):
    assert coupon_bond_price(0.0, coupon_rate, years) == pytest.approx(
        coupon_rate * 100.0 * years + 100.0, rel=1e-15, abs=0
    )


@pytest.mark.parametrize("years", MATURITIES)
@pytest.mark.parametrize("tiny", [1e-10, -1e-10, 1e-13, -1e-13])
def test_price_is_continuous_at_zero_yield(years, tiny):
    coupon_rate = 0.04
    at_zero = coupon_bond_price(0.0, coupon_rate, years)
    # First order: P(y) = P(0) - y * sum(t * CF_t); the second-order term is below 1e-15 here.
    slope = sum(t * coupon_rate * 100.0 for t in range(1, years + 1)) + years * 100.0
    assert coupon_bond_price(tiny, coupon_rate, years) == pytest.approx(
        at_zero - tiny * slope, rel=0, abs=1e-11
    )


@pytest.mark.parametrize("years", MATURITIES)
def test_price_is_continuous_across_the_small_yield_switch(years):
    # Just below 1e-12 the annuity factor comes from its Taylor expansion, just above from the
    # closed form; both must sit on the same first-order line through P(0).
    slope = 0.04 * 100.0 * years * (years + 1) / 2 + 100.0 * years
    at_zero = coupon_bond_price(0.0, 0.04, years)
    for y in (0.999e-12, 1.001e-12, -0.999e-12, -1.001e-12):
        assert coupon_bond_price(y, 0.04, years) == pytest.approx(
            at_zero - y * slope, rel=0, abs=1e-12
        )


@pytest.mark.parametrize("years", MATURITIES)
@pytest.mark.parametrize("tiny", [1e-320, -1e-320, 1e-300, 5e-324])
def test_price_at_denormal_yields_equals_zero_yield_price(years, tiny):
    assert coupon_bond_price(tiny, 0.04, years) == pytest.approx(
        coupon_bond_price(0.0, 0.04, years), rel=1e-15, abs=0
    )


@pytest.mark.parametrize("yield_", [1e-14, -3e-13, 1e-12, 1e-10, 1e-6, 0.05, -0.005])
@pytest.mark.parametrize("years", [1, 10, 30])
def test_price_matches_exact_rational_sum(yield_, years):
    expected = exact_price(Fraction(yield_), Fraction(0.04), years, Fraction(100))
    assert coupon_bond_price(yield_, 0.04, years) == pytest.approx(float(expected), rel=1e-14)


# ---------------------------------------------------------------------------------------------
# Yield to maturity
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("years", MATURITIES)
@pytest.mark.parametrize("coupon_rate", COUPON_RATES)
def test_yield_inverts_price(years, coupon_rate):
    grid = [-0.005 + 0.0025 * k for k in range(203)]
    assert grid[-1] == pytest.approx(0.5, rel=0, abs=1e-12)
    for y in grid:
        price = coupon_bond_price(y, coupon_rate, years)
        assert coupon_bond_yield(price, coupon_rate, years) == pytest.approx(y, rel=0, abs=1e-9)


def test_yield_of_par_bond_is_its_coupon():
    for years in MATURITIES:
        assert coupon_bond_yield(100.0, 0.04, years) == pytest.approx(0.04, rel=0, abs=1e-12)


def test_yield_of_facts_bond():
    assert coupon_bond_yield(92.278265, 0.04, 10) == pytest.approx(0.05, rel=0, abs=1e-7)


def test_yield_matches_price_to_tolerance():
    price = 87.654321
    y = coupon_bond_yield(price, 0.035, 7)
    assert coupon_bond_price(y, 0.035, 7) == pytest.approx(price, rel=0, abs=1e-12)


def test_yield_of_article_bond_agrees_with_one_year_formula():
    assert coupon_bond_yield(90.0, 0.03, 1) == pytest.approx(13 / 90, rel=0, abs=1e-13)


def test_yield_near_bracket_edges():
    high_price = coupon_bond_price(-0.98, 0.04, 30)
    low_price = coupon_bond_price(9.5, 0.04, 30)
    assert coupon_bond_yield(high_price, 0.04, 30) == pytest.approx(-0.98, rel=0, abs=1e-9)
    assert coupon_bond_yield(low_price, 0.04, 30) == pytest.approx(9.5, rel=0, abs=1e-9)


def test_yield_for_long_bond_whose_bracket_price_overflows():
    price = coupon_bond_price(0.03, 0.02, 300)
    assert coupon_bond_yield(price, 0.02, 300) == pytest.approx(0.03, rel=0, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# The model's bond price index
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["japan_full", "article_stress"])
def test_the_yield_implied_by_the_bond_price_index_is_the_market_yield(scenario, table):
    ds = run(scenario)
    years = int(table["representative_bond_maturity"].value)
    base = float(table["bond_price_index_base"].value)
    coupon = float(ds["market_yield"][0])  # the representative bond is at par at the start
    implied = [
        coupon_bond_yield(float(index) / base * 100.0, coupon, years)
        for index in ds["bond_price_index"]
    ]
    # the index is computed in double precision; 1e-12 of a price is about 1e-13 of a yield
    np.testing.assert_allclose(implied, ds["market_yield"], rtol=0, atol=1e-11)
    # not only at par: the yield moves by more than half a point in both runs
    assert float(ds["market_yield"].max() - ds["market_yield"].min()) > 0.005


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

NOT_FINITE = [math.nan, math.inf, -math.inf]


#: Each function's arguments with one of them replaced by ``bad``, and that argument's units.
NON_FINITE_CALLS = [
    ("price", "USD per bond", lambda bad: one_year_bond_yield(bad)),
    ("face", "USD per bond", lambda bad: one_year_bond_yield(90.0, face=bad)),
    ("coupon_rate", "fraction per year", lambda bad: one_year_bond_yield(90.0, coupon_rate=bad)),
    ("yield_", "fraction per year", lambda bad: one_year_bond_price(bad)),
    ("principal", "USD", lambda bad: annual_interest_cost(bad, 0.03)),
    ("rate", "fraction per year", lambda bad: annual_interest_cost(10.0, bad)),
    ("yield_", "fraction per year", lambda bad: coupon_bond_price(bad, 0.04, 10)),
    ("coupon_rate", "fraction per year", lambda bad: coupon_bond_price(0.05, bad, 10)),
    ("face", "USD per bond", lambda bad: coupon_bond_price(0.05, 0.04, 10, face=bad)),
    ("price", "USD per bond", lambda bad: coupon_bond_yield(bad, 0.04, 10)),
]


@pytest.mark.parametrize("bad", NOT_FINITE)
@pytest.mark.parametrize(("name", "units", "call"), NON_FINITE_CALLS)
def test_non_finite_inputs_rejected_with_their_units(bad, name, units, call):
    with pytest.raises(ValueError) as caught:
        call(bad)
    assert str(caught.value) == f"{name} must be a finite number [{units}], got {bad!r}"


@pytest.mark.parametrize("bad", NOT_FINITE)
def test_non_finite_years_rejected(bad):
    with pytest.raises(ValueError, match=r"years must be an integer >= 1"):
        coupon_bond_yield(95.0, 0.04, bad)


@pytest.mark.parametrize("bad", [0.0, -0.0, -90.0])
def test_non_positive_price_rejected(bad):
    with pytest.raises(ValueError, match=r"price must be > 0 \[USD per bond\]"):
        one_year_bond_yield(bad)
    with pytest.raises(ValueError, match=r"price must be > 0 \[USD per bond\]"):
        coupon_bond_yield(bad, 0.04, 10)


@pytest.mark.parametrize("bad", [0.0, -100.0])
def test_non_positive_face_rejected(bad):
    with pytest.raises(ValueError, match=r"face must be > 0 \[USD per bond\]"):
        one_year_bond_yield(90.0, face=bad)
    with pytest.raises(ValueError, match=r"face must be > 0 \[USD per bond\]"):
        one_year_bond_price(0.05, face=bad)
    with pytest.raises(ValueError, match=r"face must be > 0 \[USD per bond\]"):
        coupon_bond_price(0.05, 0.04, 10, face=bad)
    with pytest.raises(ValueError, match=r"face must be > 0 \[USD per bond\]"):
        coupon_bond_yield(95.0, 0.04, 10, face=bad)


@pytest.mark.parametrize("bad", [0, -1, -30, 2.5, 10.0, True, "10", None])
def test_bad_years_rejected(bad):
    for call in (
        lambda: coupon_bond_price(0.05, 0.04, bad),
        lambda: coupon_bond_yield(95.0, 0.04, bad),
    ):
        with pytest.raises(ValueError, match=r"years must be an integer >= 1"):
            call()


@pytest.mark.parametrize("bad", [-1.0, -1.5, -100.0])
def test_yield_at_or_below_minus_one_rejected(bad):
    with pytest.raises(ValueError, match=r"yield_ must be > -1"):
        one_year_bond_price(bad)
    with pytest.raises(ValueError, match=r"yield_ must be > -1"):
        coupon_bond_price(bad, 0.04, 10)


def test_negative_coupon_rate_rejected():
    with pytest.raises(ValueError, match=r"coupon_rate must be >= 0"):
        one_year_bond_yield(90.0, coupon_rate=-0.01)
    with pytest.raises(ValueError, match=r"coupon_rate must be >= 0"):
        coupon_bond_price(0.05, -0.01, 10)
    with pytest.raises(ValueError, match=r"coupon_rate must be >= 0"):
        coupon_bond_yield(95.0, -0.01, 10)


@pytest.mark.parametrize(
    ("price", "years"),
    [(5.0, 1), (1e-3, 10), (1e-12, 30), (1e6, 1), (1e30, 10)],
)
def test_unreachable_price_rejected(price, years):
    with pytest.raises(ValueError, match=r"price = .* is not reachable: with yield_ in") as caught:
        coupon_bond_yield(price, 0.03, years)
    # The message gives the prices at the two ends of the yields tried: the price lies outside.
    found = re.search(r"worth between (\S+) and (\S+) \[USD per bond\]$", str(caught.value))
    assert found is not None
    cheapest, dearest = float(found[1]), float(found[2])
    assert 0 <= cheapest < dearest
    assert not cheapest <= price <= dearest


def test_overflowing_yield_rejected():
    with pytest.raises(ValueError) as caught:
        coupon_bond_price(-0.99, 0.04, 200)
    assert str(caught.value) == (
        "yield_ = -0.99 is too close to -1 for a 200-year bond: its discounted cash flows "
        "overflow a float; use a yield_ further above -1 [fraction per year]"
    )
