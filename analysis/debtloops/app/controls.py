"""How the explorer's controls read to people, and how its settings travel in a link.

Each control of :func:`debtloops.app.session.control_names` has a label in plain words, units
written for people, a one-line help text and a step that suits the parameter (years in quarters,
amounts in $10bn). Its source is the parameter table's ``source``. No web library is imported here.

The settings live in the page's query string: ``?scenario=japan_full&japan_sale_amount=300``
reopens ``japan_full`` with a $300bn Japanese sale. :func:`read_query` checks such a query the way
``--set`` is checked and :func:`write_query` writes one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from debtloops.errors import InputError, unknown_name
from debtloops.model.holders import KEYS

#: Significant figures in a value read aloud or shown beside a control.
SIGNIFICANT = 4
#: The query key of the base scenario; every other key is a parameter.
SCENARIO_KEY = "scenario"
#: Decimals kept when a value is rounded to its step, beyond the step's own (float noise).
_STEP_DIGITS = 12


@dataclass(frozen=True)
class ControlText:
    """How one control reads.

    Attributes
    ----------
    label : str
        The control's name in plain words, e.g. ``Size of the sale``.
    units : str
        The units written for people, e.g. ``$ billion``; empty for an on/off switch.
    step : float
        The smallest move of the control [the parameter's units].
    help : str
        One line on what the control does.
    """

    label: str
    units: str
    step: float
    help: str


_SALE = {
    "sale_amount": ControlText(
        "Size of the sale", "$ billion", 10.0, "Treasuries the holder sells in all."
    ),
    "sale_start": ControlText(
        "Start of the sale", "fiscal year", 0.25, "When the selling begins, by quarter."
    ),
    "sale_duration": ControlText(
        "Length of the sale", "years", 0.25, "Over how long the selling is spread, by quarter."
    ),
}

#: Every control's text, by parameter name.
CONTROL_TEXT: dict[str, ControlText] = {
    **{f"{holder}_{field}": text for holder in KEYS for field, text in _SALE.items()},
    "fed_backstop_switch": ControlText(
        "Fed backstop", "", 1.0, "The Federal Reserve buys Treasuries when yields jump."
    ),
    "fed_tightening_strength": ControlText(
        "Fed tightening",
        "points of policy rate per point of yield spike",
        0.01,
        "How far the Fed raises its rate when the 10-year yield spikes.",
    ),
    "fiscal_consolidation_switch": ControlText(
        "Fiscal consolidation", "", 1.0, "Congress cuts the deficit when interest costs climb."
    ),
    "diversification_switch": ControlText(
        "Reserve diversification",
        "",
        1.0,
        "Central banks move their reserves away from Treasuries.",
    ),
    "yield_seeking_sensitivity": ControlText(
        "Yield-seeking buyers",
        "% of GDP bought a year per point of yield",
        0.05,
        "How strongly other buyers step in when the yield rises.",
    ),
    "portfolio_balance_sensitivity": ControlText(
        "Portfolio-balance effect",
        "points of yield per 1% of GDP moved to private hands, a year",
        0.01,
        "How much the yield rises as private investors must hold more debt.",
    ),
    "portfolio_market_depth": ControlText(
        "Market depth",
        "share of GDP (0.0033 is about $100bn)",
        0.0001,
        "How large a shift the market absorbs before the yield responds fully.",
    ),
    "flow_effect_sensitivity": ControlText(
        "Flow effect of selling",
        "yield per $ billion sold a year",
        1e-6,
        "The short-run jump in the yield while sales flow.",
    ),
    "gdp_sensitivity_to_real_yield": ControlText(
        "Crowding out",
        "% of GDP lost per point of real yield",
        0.1,
        "How much lasting higher real yields shrink the economy.",
    ),
    "risk_premium_debt_sensitivity": ControlText(
        "Fiscal risk premium",
        "points of yield per point of debt/GDP",
        0.001,
        "How much the yield rises as debt grows relative to the economy.",
    ),
}


def control_text(name: str) -> ControlText:
    """Return a control's text.

    Raises
    ------
    InputError
        If ``name`` is not a control of the explorer.
    """
    if name not in CONTROL_TEXT:
        raise unknown_name("explorer control", name, CONTROL_TEXT)
    return CONTROL_TEXT[name]


def label(name: str) -> str:
    """Return a control's label with its units, e.g. ``Size of the sale ($ billion)``."""
    text = control_text(name)
    return f"{text.label} ({text.units})" if text.units else text.label


def significant(value: float, figures: int = SIGNIFICANT) -> str:
    """Write a number with ``figures`` significant figures, never rounding a small one to zero.

    ``7e-05`` is written ``0.00007``, ``1189.3`` is ``1189``, ``0`` is ``0``.
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, figures - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


def step_decimals(step: float) -> int:
    """Return the decimals a step needs, e.g. 2 for 0.25, 0 for 10, 6 for 1e-6."""
    written = f"{step:.{_STEP_DIGITS}f}".rstrip("0")
    return len(written.split(".")[1])


def round_to_step(value: float, step: float, low: float, high: float) -> float:
    """Return a control's value on its grid of steps from ``low``, within ``[low, high]``.

    A slider in the browser adds steps in binary floating point (``5.390000000000001``); the value
    kept, shown and written to the scenario file is the nearest step, written with the step's
    decimals. The ends of the range stay reachable even when they are not on the grid (Japan's
    holdings, $1,189.3bn, with $10bn steps).

    Parameters
    ----------
    value, step, low, high : float
        The value, the step and the range [the parameter's units].
    """
    if value >= high:
        return float(high)
    if value <= low:
        return float(low)
    stepped = round(low + round((value - low) / step) * step, step_decimals(step))
    return float(min(max(stepped, low), high))


def read_query(
    arguments: Mapping[str, str], controls: list[str], scenarios: list[str]
) -> tuple[str | None, dict[str, float]]:
    """Read the settings from a page's query: the base scenario and the moved controls.

    Parameters
    ----------
    arguments : mapping
        Query keys to their (last) values, e.g. ``{"japan_sale_amount": "300"}``.
    controls : list of str
        The parameters the explorer can move.
    scenarios : list of str
        The scenarios it can start from.

    Returns
    -------
    tuple
        The base scenario (None when the query names none) and the values by parameter
        [their units], not yet checked against the parameter's valid range.

    Raises
    ------
    InputError
        For an unknown key or scenario, or a value that is not a finite number.
    """
    base = arguments.get(SCENARIO_KEY)
    if base is not None and base not in scenarios:
        raise unknown_name("scenario", base, scenarios)
    values = {}
    for key, text in arguments.items():
        if key == SCENARIO_KEY:
            continue
        if key not in controls:
            raise unknown_name("setting in the link", key, [SCENARIO_KEY, *controls])
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise InputError(f"{key}: {text!r} in the link is not a number")
        values[key] = number
    return base, values


def write_query(base: str, overrides: Mapping[str, float]) -> str:
    """Return the query string that reopens a view, e.g. ``?scenario=japan_full&...``.

    Values are written with :func:`repr` of the float, which reads back exactly.
    """
    pairs = [(SCENARIO_KEY, base), *((k, repr(float(v))) for k, v in sorted(overrides.items()))]
    return "?" + urlencode(pairs)
