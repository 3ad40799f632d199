"""Bond arithmetic: the seed article's worked example and the model's representative bond.

The seed article explains the sell-off with a one-year bond: $100 face value, a 3% coupon, so
$103 at maturity. Bought at $100 it yields 3%; dumped down to $90 it yields 13/90, about 14.4%.
It then prices the damage as the yearly interest on $10bn of new debt: $0.3bn at 3% and $1.44bn
at 14.4%. :func:`one_year_bond_yield`, :func:`one_year_bond_price` and
:func:`annual_interest_cost` reproduce those numbers.

The model's ``bond price index`` is the price of a representative 10-year bond with annual
coupons, marked at the market yield. :func:`coupon_bond_price` gives that price independently of
the .mdl and :func:`coupon_bond_yield` inverts it (with :func:`scipy.optimize.brentq`); the tests
check the model's index against both (``tests/test_model.py``, ``tests/test_bonds.py``).

Every function is pure and raises ``ValueError`` naming the offending argument and its valid
range when an input is outside that range.

Conventions: rates and yields are fractions per year (0.03 is 3%), compounded once a year;
prices and face values are in USD per bond; maturities and durations are in years.
"""

import math
import sys
from numbers import Integral

from scipy.optimize import brentq

__all__ = [
    "annual_interest_cost",
    "coupon_bond_price",
    "coupon_bond_yield",
    "one_year_bond_price",
    "one_year_bond_yield",
]

# Bracket searched for a yield to maturity [fraction per year].
_YIELD_BRACKET_LOW = -0.99
_YIELD_BRACKET_HIGH = 10.0
# The yield search stops once the yield is known this closely [fraction per year]; at 1e-15 a
# 30-year bond's price is matched to about 1e-12 USD per bond.
_YIELD_TOLERANCE = 1e-15
# Iterations allowed to brentq, which needs about 50 at the tolerance above.
_MAX_ITERATIONS = 200
# Below this |yield| [fraction per year] the annuity factor uses its Taylor expansion around 0.
_SMALL_YIELD = 1e-12


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _require_finite(name: str, value: float, unit: str) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number [{unit}], got {value!r}")


def _require_positive(name: str, value: float, unit: str) -> None:
    _require_finite(name, value, unit)
    if value <= 0:
        raise ValueError(f"{name} must be > 0 [{unit}], got {value!r}")


def _require_coupon_rate(coupon_rate: float) -> None:
    _require_finite("coupon_rate", coupon_rate, "fraction per year")
    if coupon_rate < 0:
        raise ValueError(f"coupon_rate must be >= 0 [fraction per year], got {coupon_rate!r}")


def _require_yield(yield_: float) -> None:
    _require_finite("yield_", yield_, "fraction per year")
    if yield_ <= -1:
        raise ValueError(f"yield_ must be > -1 [fraction per year], got {yield_!r}")


def _require_years(years: int) -> None:
    is_integer = isinstance(years, Integral) and not isinstance(years, bool)
    if not is_integer or years < 1:
        raise ValueError(f"years must be an integer >= 1 [years], got {years!r}")


def _require_bond(coupon_rate: float, years: int, face: float) -> None:
    _require_coupon_rate(coupon_rate)
    _require_years(years)
    _require_positive("face", face, "USD per bond")


# --------------------------------------------------------------------------------------------
# The article's one-year bond and interest bill
# --------------------------------------------------------------------------------------------


def one_year_bond_yield(price: float, face: float = 100.0, coupon_rate: float = 0.03) -> float:
    """Return the holding-period yield of a one-year bond bought at ``price``.

    The bond pays ``face * (1 + coupon_rate)`` at maturity and nothing before, so the yield is
    the gain over the price paid divided by that price. With the article's bond ($100 face, 3%
    coupon) a price of $100 gives 0.03 and a price of $90 gives 13/90, about 0.144.

    Parameters
    ----------
    price : float
        Price paid [USD per bond]; must be > 0.
    face : float
        Face value repaid at maturity [USD per bond]; must be > 0.
    coupon_rate : float
        Coupon as a share of face value [fraction per year]; must be >= 0.

    Returns
    -------
    float
        Holding-period yield over the year [fraction per year]; always > -1.

    Raises
    ------
    ValueError
        If an argument is not finite or is outside its valid range.
    """
    _require_positive("price", price, "USD per bond")
    _require_positive("face", face, "USD per bond")
    _require_coupon_rate(coupon_rate)
    payoff = face * (1 + coupon_rate)
    return (payoff - price) / price


def one_year_bond_price(yield_: float, face: float = 100.0, coupon_rate: float = 0.03) -> float:
    """Return the price at which a one-year bond yields ``yield_``.

    Inverse of :func:`one_year_bond_yield`: the payoff ``face * (1 + coupon_rate)`` discounted
    over one year at ``yield_``.

    Parameters
    ----------
    yield_ : float
        Annual yield [fraction per year]; must be > -1.
    face : float
        Face value repaid at maturity [USD per bond]; must be > 0.
    coupon_rate : float
        Coupon as a share of face value [fraction per year]; must be >= 0.

    Returns
    -------
    float
        Price [USD per bond].

    Raises
    ------
    ValueError
        If an argument is not finite or is outside its valid range.
    """
    _require_yield(yield_)
    _require_positive("face", face, "USD per bond")
    _require_coupon_rate(coupon_rate)
    return face * (1 + coupon_rate) / (1 + yield_)


def annual_interest_cost(principal: float, rate: float) -> float:
    """Return one year of simple interest on ``principal`` at ``rate``.

    The article's example: $10bn of new debt costs $0.3bn a year at 3% and $1.44bn at 14.4%.
    The result is in the same currency unit as ``principal`` (USD, USD bn, ...).

    Parameters
    ----------
    principal : float
        Amount borrowed [USD, or any currency unit].
    rate : float
        Interest rate [fraction per year].

    Returns
    -------
    float
        Interest paid over one year [same unit as ``principal`` per year].

    Raises
    ------
    ValueError
        If ``principal`` or ``rate`` is not finite.
    """
    _require_finite("principal", principal, "USD")
    _require_finite("rate", rate, "fraction per year")
    return principal * rate


# --------------------------------------------------------------------------------------------
# Annual-coupon bonds
# --------------------------------------------------------------------------------------------


def _discount(yield_: float, years: int) -> float:
    """(1 + yield_) ** -years, accurate for small yields; may raise OverflowError."""
    return math.exp(-years * math.log1p(yield_))


def _annuity_factor(yield_: float, years: int) -> float:
    """Present value of 1 paid at the end of each of ``years`` years; may raise OverflowError."""
    if abs(yield_) < _SMALL_YIELD:
        # (1 - (1+y)^-n) / y = n - n(n+1)/2 * y + O(n^3 y^2); exactly n at y == 0.
        return years - years * (years + 1) / 2 * yield_
    return -math.expm1(-years * math.log1p(yield_)) / yield_


def _price(yield_: float, coupon_rate: float, years: int, face: float) -> float:
    """Unchecked closed-form price; may raise OverflowError when yield_ is close to -1."""
    coupon = coupon_rate * face
    return coupon * _annuity_factor(yield_, years) + face * _discount(yield_, years)


def _overflow_error(yield_: float, years: int) -> ValueError:
    return ValueError(
        f"yield_ = {yield_!r} is too close to -1 for a {years}-year bond: its discounted cash "
        "flows overflow a float; use a yield_ further above -1 [fraction per year]"
    )


def coupon_bond_price(yield_: float, coupon_rate: float, years: int, face: float = 100.0) -> float:
    """Return the price of a bond with annual coupons at a given yield to maturity.

    ``P = C * (1 - (1 + y)**-n) / y + F * (1 + y)**-n`` with ``C = coupon_rate * face``. At
    ``y == 0`` this is ``C * n + F`` exactly, and the price stays accurate for yields close to 0.

    Parameters
    ----------
    yield_ : float
        Annual yield to maturity, compounded yearly [fraction per year]; must be > -1.
    coupon_rate : float
        Coupon as a share of face value, paid at the end of each year [fraction per year];
        must be >= 0.
    years : int
        Years to maturity; the last coupon and the face value are paid at the end of year
        ``years`` [years]; an integer >= 1.
    face : float
        Face value repaid at maturity [USD per bond]; must be > 0.

    Returns
    -------
    float
        Price [USD per bond].

    Raises
    ------
    ValueError
        If an argument is not finite or is outside its valid range, or if ``yield_`` is so close
        to -1 that the price overflows.
    """
    _require_yield(yield_)
    _require_bond(coupon_rate, years, face)
    try:
        result = _price(yield_, coupon_rate, years, face)
    except OverflowError:
        raise _overflow_error(yield_, years) from None
    if not math.isfinite(result):
        raise _overflow_error(yield_, years)
    return result


def coupon_bond_yield(price: float, coupon_rate: float, years: int, face: float = 100.0) -> float:
    """Return the yield to maturity at which an annual-coupon bond is worth ``price``.

    Solves ``coupon_bond_price(y, coupon_rate, years, face) == price`` for ``y`` in [-0.99, 10]
    with Brent's method (:func:`scipy.optimize.brentq`), to within 1e-15 in the yield. With
    non-negative coupons the price falls strictly as the yield rises, so the root is unique.

    Parameters
    ----------
    price : float
        Price paid [USD per bond]; must be > 0 and reachable with a yield in the bracket.
    coupon_rate : float
        Coupon as a share of face value, paid at the end of each year [fraction per year];
        must be >= 0.
    years : int
        Years to maturity [years]; an integer >= 1.
    face : float
        Face value repaid at maturity [USD per bond]; must be > 0.

    Returns
    -------
    float
        Annual yield to maturity, compounded yearly [fraction per year].

    Raises
    ------
    ValueError
        If an argument is not finite or is outside its valid range, or if no yield in
        [-0.99, 10] gives ``price``.
    """
    _require_positive("price", price, "USD per bond")
    _require_bond(coupon_rate, years, face)

    def excess(yield_: float) -> float:
        # Model price minus target; an overflowing price counts as the largest float, above any
        # finite target, so the bracket keeps its sign change.
        try:
            return _price(yield_, coupon_rate, years, face) - price
        except OverflowError:
            return sys.float_info.max

    low, high = _YIELD_BRACKET_LOW, _YIELD_BRACKET_HIGH
    excess_low, excess_high = excess(low), excess(high)
    if excess_low < 0 or excess_high > 0:
        raise ValueError(
            f"price = {price!r} [USD per bond] is not reachable: with yield_ in "
            f"[{low}, {high}] [fraction per year] this bond is worth between "
            f"{excess_high + price!r} and {excess_low + price!r} [USD per bond]"
        )
    if excess_low == 0:
        return low
    if excess_high == 0:
        return high
    return float(
        brentq(excess, low, high, xtol=_YIELD_TOLERANCE, maxiter=_MAX_ITERATIONS, full_output=False)
    )
