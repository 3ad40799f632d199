"""History replayed: the model's state at the end of any fiscal year and the drivers after it.

:func:`history_layer` is the data layer ``data = "history"``: what happened from FY``start`` to
FY``end``, from the historical dataset and the monthly data, as the model's parameters.
"""

from __future__ import annotations

import math
from functools import cache

import pandas as pd

from debtloops.errors import InputError
from debtloops.model.contract import TEN_YEAR_NOTE_STAGES
from debtloops.model.datafiles import (
    FIRST_YEAR,
    LAST_YEAR,
    debt_structure,
    forgotten_when_moved,
    history,
)
from debtloops.model.drivers import (
    PERCENT,
    GdpPath,
    flow_shares,
    gdp_path,
    instantaneous_ratio,
    span,
    steps,
    year_ends,
)
from debtloops.model.holders import FOREIGN
from debtloops.model.monthly import (
    MONTHS_PER_YEAR,
    cpi_inflation,
    cpi_inflation_before,
    fiscal_year_end,
    fiscal_year_mean,
    observed_yields,
    window_mean,
)

#: Shares of nominal notes by original term: 2-3, 5-7 and 10 years, from the amount auctioned a
#: year times maturity at Treasury's 2025 sizes (the parameter table's source for the segment
#: shares); notes by original term are missing from the data, so history splits notes the same way.
NOTE_SPLIT = {
    "short_note_share_of_debt": 0.228,
    "medium_note_share_of_debt": 0.480,
    "ten_year_note_share_of_debt": 0.292,
}
#: Term of the 10-year note [year]: its stock at the end of FY t holds notes sold in FY t-9 to t.
TEN_YEAR_TERM = 10
#: How the 10-year notes outstanding at the start are split by the year they were sold, since the
#: amounts are not in the data: "equal" (the same amount each year), "notes" (in proportion to the
#: nominal notes outstanding at the end of that year, MSPD Table I), or "none" (one coupon for all).
COHORT_SIZES = "notes"
#: The parameter names of the 10-year notes' starting stages: share of the stock, coupon [1/year].
COHORT_SHARE, COHORT_COUPON = "ten_year_cohort_share_{}", "ten_year_cohort_coupon_{}"
#: The switch that gives each starting stage its own coupon (1) or the notes' one coupon (0).
COHORT_SWITCH = "ten_year_cohort_coupons_observed"
#: The driver that replays net interest beyond what the debt's coupons pay [1, of GDP].
BEYOND_COUPONS = "interest_beyond_coupons_share_of_gdp"
#: The driver that replays the part of Japan's net sales its private investors made [billion
#: USD/year], and the monthly series of the dollars Japan's Ministry of Finance sold [$bn].
JAPAN_PRIVATE = "japan_private_net_sales"
MOF_DOLLARS_SOLD = "mof_intervention_usd"
#: The most digits of a number that a message repeats [characters].
SHOWN_DIGITS = 20


@forgotten_when_moved
@cache
def history_gdp_path() -> GdpPath:
    """Return the GDP path aligned with the whole history, FY2000-FY2025 (:func:`gdp_path`).

    Every run from history starts on it and follows it, whatever its start year.
    """
    return gdp_path(history().series("gdp_fy"), FIRST_YEAR)


def initial_state(year: int) -> dict[str, float]:
    """Return the model's initial state at the end of a fiscal year, from the historical dataset.

    Parameters
    ----------
    year : int
        A fiscal year from FY2000 to FY2025 [year].

    Returns
    -------
    dict
        The ``initial_*`` parameters, the bill share and the dollar index, in the model's units.
        GDP is the annual rate at the end of the year on the path aligned with the history's
        fiscal-year GDP (:func:`gdp_path`). Holdings are TIC's September values (foreign) and the
        Fed's at the end of the fiscal year; whatever the debt exceeds them by is domestic private
        holdings, by the model's definition.

    Raises
    ------
    InputError
        If the year is outside the dataset.
    """
    _check_year(year, "start year")
    data = history()

    def at(name: str) -> float:
        values = data.series(name)
        if year not in values.index:
            raise InputError(f"the historical dataset has no {name} for FY{year}")
        return float(values[year])

    # The Treasury's statement copy starts in January 2001: FY2000 keeps the table's bill share.
    shares = data.series("bill_share_marketable")
    bill_share = (
        {"bill_share_of_debt": at("bill_share_marketable") / PERCENT} if year in shares else {}
    )
    return {
        "initial_debt_held_by_public": at("debt_held_by_public"),
        "initial_nominal_gdp": float(history_gdp_path().rate[year]),
        **{holder.initial_holdings: at(holder.holdings) for holder in FOREIGN},
        "initial_total_foreign_holdings": at("foreign_holdings_total"),
        "initial_fed_holdings": at("fed_treasury_holdings"),
        "initial_effective_interest_rate": at("avg_rate_on_dhp") / PERCENT,
        "initial_dollar_index": at("dollar_broad_spliced_sep"),
        **bill_share,
    }


def _check_year(year: float, what: str) -> None:
    # Compared before any conversion: an integer of 400 digits does not fit in a float.
    inside = FIRST_YEAR <= year <= LAST_YEAR
    if not inside or not float(year).is_integer():
        nearest = LAST_YEAR if year > LAST_YEAR else FIRST_YEAR if not inside else round(year)
        shown = f"{year:g}" if inside else "outside the data" if year != year else f"{year}"
        shown = shown if len(shown) <= SHOWN_DIGITS else f"{shown[:SHOWN_DIGITS]}..."
        raise InputError(
            f"{what} {shown} is not a fiscal year of the historical dataset "
            f"(FY{FIRST_YEAR}-FY{LAST_YEAR}); nearest valid value: {nearest}"
        )


def history_layer(start: int, end: int = LAST_YEAR) -> dict[str, object]:
    """Parameter values that replay history from the end of FY``start`` to the end of FY``end``.

    The drivers are what happened in FY``start``+1 to FY``end``: the primary deficit, revenue and
    other means of financing as shares of GDP, GDP growth, the federal funds rate, the 10-year
    yield's spread over it, net purchases by Japan, China, other foreign holders and the Fed, and
    debt/GDP and interest/revenue as the path markets saw. The foreign holders' net purchases are
    their net transactions: the change in TIC's holdings (at market value) less its valuation
    change and survey revisions. The model's foreign holdings therefore start at TIC's and then
    move by transactions only (at cost, roughly); the debt they do not hold is domestic private.
    GDP is aligned with the history's fiscal-year GDP (:func:`gdp_path`), and debt/GDP is turned
    into debt over its annual rate (:func:`instantaneous_ratio`).

    Parameters
    ----------
    start, end : int
        First and last fiscal years [year]; ``start`` < ``end``.

    Returns
    -------
    dict
        Parameter name -> number or year -> value series, in the model's units.
    """
    _check_year(start, "start year")
    _check_year(end, "end year")
    if end <= start:
        raise InputError(f"end year {end} is not after the start year {start}")
    data = history()
    years = (start + 1, end)
    gdp = data.series("gdp_fy")
    debt = data.series("debt_held_by_public")
    revenue = data.series("revenue")
    funds = data.series("fedfunds_fy_avg") / PERCENT
    ten_year = data.series("gs10_fy_avg") / PERCENT
    path = history_gdp_path()
    layer: dict[str, object] = {
        **initial_state(start),
        "initial_time": float(start),
        "final_time": float(end),
        "primary_deficit_share_of_gdp": steps(
            span(flow_shares(data.series("primary_deficit"), gdp), *years)
        ),
        "revenue_share_of_gdp": steps(span(flow_shares(revenue, gdp), *years)),
        "other_means_of_financing_share_of_gdp": steps(
            span(flow_shares(data.series("other_means_of_financing"), gdp), *years)
        ),
        "nominal_gdp_growth_path": path.growth_steps(*years),
        "fed_policy_rate_path": steps(span(funds, *years)),
        "bill_spread": steps(span(data.series("tb3m_fy_avg") / PERCENT - funds, *years)),
        "expected_long_yield": steps(span(ten_year, *years)),
        "cpi_inflation_path": steps(span(cpi_inflation(), *years)),
        **_start_year_rates(start),
        **start_year_coupons(start),
        BEYOND_COUPONS: steps(span(interest_beyond_coupons_shares(), *years)),
        **ten_year_cohorts(start),
        **{name: steps(span(values, *years)) for name, values in observed_yields().items()},
        "initial_long_run_policy_rate": window_mean(funds, start),
        "initial_expected_long_run_inflation": cpi_inflation_before(fiscal_year_end(start)),
        **segment_shares(start, end),
        **_holders_flows(*years),
        "expected_debt_to_gdp": year_ends(instantaneous_ratio(span(debt / gdp, start, end), path)),
        "expected_interest_to_revenue": year_ends(
            span(data.series("net_interest") / revenue, start, end)
        ),
    }
    layer.update(_start_without_september(start, layer))
    return layer


def _holders_flows(first: int, last: int) -> dict[str, object]:
    """Return the holders' net purchases from FY``first`` to FY``last``, as history's drivers.

    Sales and purchases are net transactions, not changes in TIC's market values: a price fall is
    not a sale (markets_monthly.md, "Net transactions and valuation changes"). Japan's net sales
    beyond its Ministry of Finance's are its private investors' (:func:`japan_private_net_sales`).
    """
    data = history()
    bought = {holder: data.series(holder.net_transactions) for holder in FOREIGN}
    others = data.series("foreign_net_transactions_total")
    for net in bought.values():
        others = others - net
    return {
        **{
            holder.baseline_net_purchases: steps(span(net, first, last))
            for holder, net in bought.items()
        },
        JAPAN_PRIVATE: steps(span(japan_private_net_sales(), first, last)),
        "other_foreign_purchase_share": steps(
            span(flow_shares(others, data.series("gdp_fy")), first, last)
        ),
        "fed_baseline_net_purchases": steps(
            span(data.series("fed_treasury_holdings").diff(), first, last)
        ),
    }


def _start_without_september(start: int, layer: dict[str, object]) -> dict[str, float]:
    """Return the start's rate without Treasury's September rates: net interest less the replay.

    A start year without them (FY2000) keeps its net interest over the debt as the rate, less the
    part the layer replays as ``interest_beyond_coupons_share_of_gdp``, which the coupons do not
    carry; otherwise nothing.
    """
    if start_year_coupons(start):
        return {}
    data = history()
    outlays = float(data.series("net_interest")[start])
    beyond = interest_beyond_coupons_shares()[start] * data.series("gdp_fy")[start]
    coupons_part = 1.0 - float(beyond) / outlays
    rate = float(layer["initial_effective_interest_rate"])  # type: ignore[arg-type]
    return {"initial_effective_interest_rate": rate * coupons_part}


def japan_private_net_sales() -> pd.Series:
    """Return the part of Japan's net sales that its private investors made, per year [$bn/year].

    Japan's net sales (its TIC net transactions, ``japan_net_transactions``, when negative) beyond
    the dollars the Ministry of Finance sold in yen-buying interventions over the fiscal year
    (``mof_intervention_usd``, summed): what is left once the Ministry's sales are counted as
    official. MoF made no yen-buying intervention between April 1998 and September 2022, so until
    FY2022 every sale is private.

    Returns
    -------
    pandas.Series
        By fiscal year, for the years both series cover (FY2001-FY2025) [billion USD/year], >= 0.
    """
    data = history()
    sales = (-data.series("japan_net_transactions")).clip(lower=0.0)
    official = fiscal_year_mean(MOF_DOLLARS_SOLD) * MONTHS_PER_YEAR
    return (sales - official).clip(lower=0.0).dropna()


def interest_beyond_coupons_shares() -> pd.Series:
    """Return net interest beyond what Treasury's rates give on the debt, per year [1, of GDP].

    Net interest outlays (``net_interest``, OMB function 900) less what Treasury's average rates
    give on the whole debt held by the public (``marketable_interest_at_treasury_rates``, the
    marketable debt held by the public at those rates, times the year's mean debt held by the
    public over its mean marketable debt held by the public), over the fiscal year's GDP: less the
    interest the Treasury earns on its loans (OMB 908 and 909), plus what nonmarketable debt's own
    rates add, and the like. Years the rates do not cover (FY2000-2001, FY2025) hold the nearest
    year's share.

    Returns
    -------
    pandas.Series
        The share for every fiscal year of the dataset, FY2000-FY2025 [1].
    """
    data = history()
    debt, marketable = (
        data.series("debt_held_by_public"),
        data.series("marketable_debt_held_by_public"),
    )
    # The model prices the whole debt held by the public (nonmarketable and agency debt included)
    # as marketable debt: what Treasury's rates give on the marketable part is scaled to the whole.
    whole = (debt + debt.shift(1)) / (marketable + marketable.shift(1))
    at_rates = data.series("marketable_interest_at_treasury_rates") * whole
    shares = flow_shares(data.series("net_interest") - at_rates, data.series("gdp_fy"))
    every = pd.Series(float("nan"), index=range(FIRST_YEAR, LAST_YEAR + 1))
    every.update(shares)
    return every.ffill().bfill()


def _start_year_rates(start: int) -> dict[str, float]:
    """Return the start year's bill rate and CPI inflation, which the debt outstanding then carried.

    The monthly data start in January 2000, so FY2000 has neither: the table's defaults stand.
    """
    rates = {
        "initial_cpi_inflation": cpi_inflation(),
        "initial_bill_rate": observed_yields()["observed_bill_yield"],
    }
    return {name: float(values[start]) for name, values in rates.items() if start in values.index}


#: Treasury's average interest rates on the marketable securities outstanding at the end of
#: September [percent a year], in the historical dataset: the whole, bills, notes, bonds and TIPS.
SEPTEMBER_RATES = {
    "total": "avg_rate_marketable_sep",
    "bills": "avg_rate_bills_sep",
    "notes": "avg_rate_notes_sep",
    "bonds": "avg_rate_bonds_sep",
    "tips": "avg_rate_tips_sep",
}


def start_year_coupons(start: int) -> dict[str, float]:
    """Return the coupons the debt outstanding carried at the end of FY``start``, from Treasury.

    The whole debt held by the public starts at Treasury's average rate on marketable debt at the
    end of September, plus TIPS' share of marketable debt times the year's CPI inflation (their
    inflation compensation): the model prices all of it as marketable debt. The rest of net
    interest (the interest the Treasury earns, nonmarketable debt's own rates) is not the coupons':
    the history layer replays it as ``interest_beyond_coupons_share_of_gdp``. Bills and TIPS start
    at Treasury's September rates, the bonds at the notes' coupon plus Treasury's September spread
    of bonds over notes; the model leaves the rest of the bill to the notes.

    Parameters
    ----------
    start : int
        The start year [year].

    Returns
    -------
    dict
        ``initial_effective_interest_rate``, ``initial_bill_rate``, ``initial_tips_real_coupon``
        and ``initial_bond_coupon_spread`` [1/year]; empty if the data lack September of FY``start``
        (the run keeps the year's average rate and the table's coupons).
    """
    data = history()
    rates = {key: data.series(name) / PERCENT for key, name in SEPTEMBER_RATES.items()}
    marketable = data.series("marketable_debt_held_by_public")
    if not all(start in values.index for values in [*rates.values(), marketable]):
        return {}
    structure = debt_structure()
    tips_share = structure[structure["series"] == "tips_share_of_marketable"].set_index(
        "fiscal_year"
    )["value"]
    inflation = float(cpi_inflation()[start])
    return {
        "initial_effective_interest_rate": float(rates["total"][start])
        + float(tips_share[start]) / PERCENT * inflation,
        "initial_bill_rate": float(rates["bills"][start]),
        "initial_tips_real_coupon": float(rates["tips"][start]),
        "initial_bond_coupon_spread": float(rates["bonds"][start] - rates["notes"][start]),
    }


def ten_year_cohorts(start: int, sizes: str = COHORT_SIZES) -> dict[str, float]:
    """Return the 10-year notes outstanding at the end of FY``start``, stage by stage.

    Stage k of n holds the notes sold between (k - 1) * 10 / n and k * 10 / n years before the
    start. Each year's notes carry that fiscal year's mean 10-year yield (``gs10_fy_avg``, FRED
    GS10). How much was sold each year is not in the data: :data:`COHORT_SIZES` says what is
    assumed.

    Parameters
    ----------
    start : int
        The start year [year].
    sizes : str
        "equal", "notes" or "none" (:data:`COHORT_SIZES`).

    Returns
    -------
    dict
        Each stage's share of the stock [dmnl] and coupon [1/year], and the switch that uses the
        coupons; with "none", or without a yield or size for one of the ten years, equal shares and
        the switch off (every stage then starts at the notes' one coupon).
    """
    stages = TEN_YEAR_NOTE_STAGES
    years = range(start - TEN_YEAR_TERM + 1, start + 1)
    yields = history().series("gs10_fy_avg") / PERCENT
    structure = debt_structure()
    notes = structure[structure["series"] == "notes_outstanding"].set_index("fiscal_year")["value"]
    size = {year: 1.0 if sizes == "equal" else notes.get(year, float("nan")) for year in years}
    known = all(year in yields.index and not math.isnan(size[year]) for year in years)
    if sizes == "none" or not known:
        return {
            COHORT_SWITCH: 0.0,
            **{COHORT_SHARE.format(k): 1.0 / stages for k in range(1, stages + 1)},
        }
    width = TEN_YEAR_TERM / stages
    layer = {COHORT_SWITCH: 1.0}
    for k in range(1, stages + 1):
        young, old = (k - 1) * width, k * width
        weight = {
            year: size[year] * max(0.0, min(old, start - year + 1) - max(young, start - year))
            for year in years
        }
        total = sum(weight.values())
        layer[COHORT_SHARE.format(k)] = total / sum(size.values())
        coupons = sum(w * float(yields[year]) for year, w in weight.items())
        layer[COHORT_COUPON.format(k)] = coupons / total
    return layer


def segment_shares(start: int, end: int) -> dict[str, dict[float, float]]:
    """Return the debt's composition at each fiscal year's end as the six segments' target shares.

    From Treasury's Monthly Statement of the Public Debt, Table I (``debt_structure_fy.csv``):
    bills with floating-rate notes, nominal notes split by :data:`NOTE_SPLIT`, nominal bonds and
    TIPS, each as a share of marketable debt outstanding [1].

    Parameters
    ----------
    start, end : int
        First and last fiscal years [year]; years the statement copy lacks are left out.

    Returns
    -------
    dict
        Parameter name -> year-end driver.
    """
    frame = debt_structure()
    table = frame.pivot(index="fiscal_year", columns="series", values="value").fillna(
        {"frn_share_of_marketable": 0.0}
    )
    table = table.loc[(table.index >= start) & (table.index <= end)] / PERCENT
    notes = table["notes_share_of_marketable"]
    shares = {
        "bill_share_of_debt": table["bills_share_of_marketable"] + table["frn_share_of_marketable"],
        **{name: notes * weight for name, weight in NOTE_SPLIT.items()},
        "long_bond_share_of_debt": table["bonds_share_of_marketable"],
        "tips_share_of_debt": table["tips_share_of_marketable"],
    }
    return {name: year_ends(values.dropna()) for name, values in shares.items()}
