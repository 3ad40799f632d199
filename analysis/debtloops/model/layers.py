"""The data layers a scenario names: a CBO vintage's baseline, history, or history then CBO.

:func:`layer` builds the one a scenario names (``data = "cbo"``, ``"history"`` or the legacy
``"cbo_2025"``) as parameter values; no equation of the model is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pandas as pd

from debtloops.errors import InputError, unknown_name
from debtloops.model.datafiles import (
    FIRST_YEAR,
    LAST_YEAR,
    Dataset,
    forgotten_when_moved,
    history,
)
from debtloops.model.drivers import (
    PERCENT,
    GdpPath,
    continuous_rate,
    flow_shares,
    gdp_path,
    instantaneous_ratio,
    span,
    steps,
    year_ends,
)
from debtloops.model.holders import FOREIGN
from debtloops.model.replay import history_layer
from debtloops.model.vintages import (
    DEFAULT_VINTAGE,
    Vintage,
    debt_ratio_of,
    optional_series,
    projections_of,
    ten_then_long_of,
    vintage,
)

#: The data layer names a scenario may give before vintages: each is a CBO vintage.
LEGACY_LAYERS = {"cbo_2025": DEFAULT_VINTAGE}
#: The fiscal year whose end is the default vintage's starting point [year]; each vintage gives its
#: own (:attr:`Vintage.start_year`).
CBO_START = 2025
#: The data layers a scenario may name (and the legacy names of :data:`LEGACY_LAYERS`).
LAYERS = ("cbo", "history", *LEGACY_LAYERS)
#: The long-term publication's shares of GDP that extend the drivers after the ten-year window;
#: each optional, any years.
LONG_TERM_SERIES = ("primary_deficit_pct_gdp", "revenue_pct_gdp", "net_interest_pct_gdp")
#: Drivers that only the history gives; after FY2025 they return to the table's default.
HISTORY_ONLY = (
    *(holder.baseline_net_purchases for holder in FOREIGN),
    "other_foreign_purchase_share",
    "fed_baseline_net_purchases",
)


def cbo_layer(choice: str | Path = DEFAULT_VINTAGE) -> dict[str, object]:
    """Parameter values that make the model run a CBO vintage's baseline from its start year.

    The years below are the default vintage's (``2025-01``: its start FY2025, its ten-year window
    to FY2035 and the long-term outlook to FY2055); another vintage has its own
    (:class:`Vintage`). The drivers take CBO's paths for FY2026-FY2055 where CBO publishes them:
    the ten-year outlook's to FY2035, then the LTBO's year by year (the primary deficit, revenue,
    other means of financing, GDP, the 10-year yield, inflation and the expected interest burden).
    CBO's long-term outlook publishes no bill or federal funds rate, so those two hold their FY2035
    values. GDP is aligned CBO's way (:func:`gdp_path`): its annual rate starts at the end of
    FY2025 between CBO's FY2025 and FY2026 GDP, and its integral over each of FY2026-FY2055 is
    CBO's GDP for the year; after FY2055 it grows at FY2055's rate. The initial
    debt is CBO's for the end of FY2025, and the initial effective rate is CBO's FY2025 net
    interest over the mean of the debt at the ends of FY2024 and FY2025. CBO's debt/GDP, the
    expected path, is turned into debt over the annual rate at each year's end
    (:func:`instantaneous_ratio`), the ratio the model compares it with.

    Parameters
    ----------
    choice : str or Path
        The vintage (:func:`vintage`).

    Returns
    -------
    dict
        ``initial_time`` and ``final_time`` (the vintage's start and last year projected) [year]
        and parameter name -> number or year -> value series, in the model's units.
    """
    found = vintage(choice)
    data = projections_of(found)
    beo, start = found.ten_year_publication, found.start_year
    debt = data.series("debt_held_by_public", beo)
    interest = data.series("net_interest", beo)
    funds = data.series("fed_funds_rate_pct", beo) / PERCENT
    years = (start + 1, int(data.series("nominal_gdp", beo).index.max()))
    path = gdp_path(ten_then_long_of(found, "nominal_gdp"), start)
    whole = (start + 1, int(path.rate.index.max()))
    shares = _budget_shares(found, data)
    return {
        "initial_time": float(start),
        "final_time": float(found.long_term_end),
        "initial_debt_held_by_public": float(debt[start]),
        "initial_nominal_gdp": float(path.rate[start]),
        "initial_effective_interest_rate": float(
            interest[start] / ((debt[start] + _debt_before(debt, start)) / 2)
        ),
        "primary_deficit_share_of_gdp": steps(shares["primary"]),
        "revenue_share_of_gdp": steps(shares["revenue"]),
        "other_means_of_financing_share_of_gdp": steps(shares["other"]),
        "nominal_gdp_growth_path": path.growth_steps(*whole),
        "fed_policy_rate_path": steps(span(funds, *years)),
        "bill_spread": steps(span(data.series("bill_rate_3m_pct", beo) / PERCENT - funds, *years)),
        "expected_long_yield": steps(
            span(ten_then_long_of(found, "ten_year_yield_pct") / PERCENT, *whole)
        ),
        "expected_inflation": steps(
            span(
                ten_then_long_of(found, "gdp_price_index_pct_change").apply(continuous_rate), *whole
            )
        ),
        "expected_debt_to_gdp": year_ends(
            instantaneous_ratio(debt_ratio_of(found) / PERCENT, path)
        ),
        "expected_interest_to_revenue": year_ends(shares["burden"]),
    }


def _budget_shares(found: Vintage, data: Dataset) -> dict[str, pd.Series]:
    """Return a vintage's budget as shares of GDP and its interest burden, by fiscal year [1].

    ``primary``, ``revenue`` and ``other`` (other means of financing) are shares of the fiscal
    year's GDP, from the ten-year outlook's flows to the end of its window and the long-term
    outlook's shares after it; ``burden`` is net interest over revenue from the start year.
    """
    beo, ltbo, start = found.ten_year_publication, found.long_term_publication, found.start_year
    gdp = data.series("nominal_gdp", beo)
    debt = data.series("debt_held_by_public", beo)
    interest = data.series("net_interest", beo)
    revenue = data.series("revenue", beo)
    other = (debt - debt.shift(1)) - data.series("total_deficit", beo)
    years = (start + 1, int(gdp.index.max()))
    long_other = optional_series(data, "other_means_of_financing_pct_gdp", ltbo) / PERCENT
    long_primary, long_revenue, long_interest = (
        optional_series(data, name, ltbo) / PERCENT for name in LONG_TERM_SERIES
    )
    primary_share = span(flow_shares(data.series("primary_deficit", beo), gdp), *years)
    revenue_share = span(flow_shares(revenue, gdp), *years)
    burden = span(interest / revenue, start, years[1])
    later = long_primary.index[long_primary.index > years[1]]
    # After the ten-year window: the LTBO's figures are shares of the year's GDP, and so are the
    # drivers (the aligned path's fiscal years).
    primary_share = pd.concat([primary_share, long_primary[later]])
    revenue_share = pd.concat([revenue_share, long_revenue[long_revenue.index > years[1]]])
    long_burden = long_interest / long_revenue.reindex(long_interest.index)
    burden = pd.concat([burden, long_burden[long_burden.index > years[1]].dropna()])
    other_share = span(flow_shares(other, gdp), *years)
    other_share = pd.concat([other_share, long_other[long_other.index > years[1]]])
    return {
        "primary": primary_share,
        "revenue": revenue_share,
        "other": other_share,
        "burden": burden.astype(float),
    }


def _debt_before(debt: pd.Series, start: int) -> float:
    """Return the debt at the end of FY``start - 1`` [billion USD]: CBO's, else the history's."""
    if start - 1 in debt.index:
        return float(debt[start - 1])
    past = history().series("debt_held_by_public")
    if start - 1 not in past.index:
        raise InputError(f"neither the CBO vintage nor the history gives the debt of FY{start - 1}")
    return float(past[start - 1])


def history_then_cbo_gdp_path(choice: str | Path = DEFAULT_VINTAGE) -> GdpPath:
    """Return the GDP path aligned with the history to a vintage's start and its GDP after it."""
    return _history_then_cbo_gdp_path(vintage(choice))


@forgotten_when_moved
@cache
def _history_then_cbo_gdp_path(found: Vintage) -> GdpPath:
    cbo_gdp = ten_then_long_of(found, "nominal_gdp")
    past = history().series("gdp_fy")
    start = found.start_year
    return gdp_path(
        pd.concat([past[past.index <= start], cbo_gdp[cbo_gdp.index > start]]), FIRST_YEAR
    )


def history_then_cbo(
    start: int, defaults: Mapping[str, float], choice: str | Path = DEFAULT_VINTAGE
) -> dict[str, object]:
    """Parameter values that replay history from FY``start`` to a vintage's start, then follow CBO.

    The years below are the default vintage's, which starts at the end of FY2025.

    Parameters
    ----------
    start : int
        The first fiscal year [year], before the vintage's start.
    defaults : mapping
        The parameter table's default values: the drivers that only the history gives return to
        them after FY2025.
    choice : str or Path
        The vintage (:func:`vintage`).

    Returns
    -------
    dict
        The historical initial state and, for each driver, the history's steps up to the end of
        FY2025 followed by CBO's; the expected path is the actual one, then CBO's. GDP is aligned
        with the history's fiscal years to FY2025 and CBO's after, as one path from the start
        (:func:`gdp_path`), and the expected debt/GDP is converted along it.
    """
    found = vintage(choice)
    cbo_start = found.start_year
    if start >= cbo_start:
        raise InputError(
            f"start year {start} is not before CBO vintage {found.name}'s start, FY{cbo_start}; "
            f"nearest valid value: {cbo_start - 1}"
        )
    past_layer = history_layer(start, cbo_start)
    projected = cbo_layer(choice)
    actual = history()
    path = history_then_cbo_gdp_path(choice)
    debt_ratio = actual.series("debt_held_by_public") / actual.series("gdp_fy")
    projected_ratio = debt_ratio_of(found)
    debt_ratio = pd.concat(
        [
            span(debt_ratio, start, cbo_start - 1),
            projected_ratio[projected_ratio.index >= cbo_start] / PERCENT,
        ]
    )
    layer: dict[str, object] = {
        name: value for name, value in past_layer.items() if name not in ("final_time",)
    }
    layer["final_time"] = projected["final_time"]
    for name, series in projected.items():
        if isinstance(series, dict):
            past = past_layer.get(name, {})
            assert isinstance(past, dict)
            layer[name] = {**past, **{year: v for year, v in series.items() if year >= cbo_start}}
    for name in HISTORY_ONLY:
        past = past_layer[name]
        assert isinstance(past, dict)
        layer[name] = {**past, float(cbo_start): float(defaults[name])}
    layer["initial_nominal_gdp"] = float(path.rate[start])
    layer["nominal_gdp_growth_path"] = path.growth_steps(start + 1, int(path.rate.index.max()))
    layer["expected_debt_to_gdp"] = year_ends(instantaneous_ratio(debt_ratio, path))
    return layer


def layer(
    name: str,
    initial_time: float | None = None,
    defaults: Mapping[str, float] | None = None,
    cbo_vintage: str | Path | None = None,
) -> Mapping[str, object]:
    """Return a named data layer.

    Parameters
    ----------
    name : str
        ``"cbo"``: a CBO vintage's baseline, replayed from history when the run starts before the
        vintage's start (see :func:`history_then_cbo`); ``"cbo_2025"``: the same on the vintage
        ``2025-01`` (:data:`LEGACY_LAYERS`); or ``"history"``: history from the start to FY2025.
    initial_time : float, optional
        The start year [year]; the vintage's start (for ``history``: FY2025) by default.
    defaults : mapping, optional
        The parameter table's defaults, needed when a CBO layer starts before the vintage's start.
    cbo_vintage : str or Path, optional
        The vintage of a CBO layer (:func:`vintage`): by default ``cbo_2025``'s, or the default
        vintage.

    Returns
    -------
    mapping
        Parameter name -> value.
    """
    if name in ("cbo", *LEGACY_LAYERS):
        choice = cbo_vintage or LEGACY_LAYERS.get(name, DEFAULT_VINTAGE)
        start = vintage(choice).start_year
        if initial_time is None or initial_time == start:
            return cbo_layer(choice)
        return history_then_cbo(int(initial_time), defaults or {}, choice)
    if name == "history":
        return history_layer(int(LAST_YEAR if initial_time is None else initial_time))
    raise unknown_name("data layer", name, LAYERS)
