"""The public output contract: the names and units that every ``results.nc`` carries.

The names are the pysd names of .mdl variables, so the contract is kept by the .mdl itself; a test
checks that each name exists with these units. Units are written as in the .mdl with ``billion_USD``
spelt ``billion USD`` and the dimensionless ``dmnl`` spelt ``1``.
"""

from collections.abc import Mapping

import numpy as np

from debtloops.model import holders

OUTPUT_UNITS: dict[str, str] = {
    "debt_held_by_public": "billion USD",
    **dict.fromkeys(holders.HOLDINGS, "billion USD"),
    "other_foreign_holdings": "billion USD",
    "fed_holdings": "billion USD",
    "domestic_private_holdings": "billion USD",
    "market_yield": "1/year",
    "yield_3m": "1/year",
    "yield_2y": "1/year",
    "yield_5y": "1/year",
    "yield_30y": "1/year",
    "expected_short_rate_10y": "1/year",
    "term_premium": "1/year",
    "average_maturity": "month",
    "effective_interest_rate": "1/year",
    "fed_policy_rate": "1/year",
    "dollar_index": "index",
    "net_interest": "billion USD/year",
    "primary_deficit": "billion USD/year",
    "deficit": "billion USD/year",
    "gross_issuance": "billion USD/year",
    "nominal_gdp": "billion USD/year",
    "revenue": "billion USD/year",
    "debt_to_gdp": "1",
    "interest_to_revenue": "1",
    "bond_price_index": "index",
    "em_stress_index": "1",
    "real_gdp_growth": "1/year",
    "inflation": "1/year",
    "price_level": "index",
    "output_gap": "1",
}

#: The holders whose stocks add up to the debt held by the public.
HOLDINGS = (
    *holders.HOLDINGS,
    "other_foreign_holdings",
    "fed_holdings",
    "domestic_private_holdings",
)

#: Stages of the 10-year note ladder in the .mdl (``ten_year_note_stages``): each is two stocks, the
#: notes in the stage and their interest.
TEN_YEAR_NOTE_STAGES = 10

#: Stocks that can never be negative: a run in which one is stops with an error.
NON_NEGATIVE_STOCKS = (
    "debt_held_by_public",
    "bills_outstanding",
    "short_notes_outstanding",
    "medium_notes_outstanding",
    "long_bonds_outstanding",
    "tips_outstanding",
    *HOLDINGS,
    "baseline_nominal_gdp",
    "cumulative_nominal_gdp",
    "price_level",
    "baseline_price_level",
    "perceived_dollar_index",
    "dollar_index",
    "recent_official_sales",
    "recent_fed_purchases",
    "qe_stimulus",
)

#: Sums of signed stocks that can never be negative: the 10-year notes outstanding, whose stages
#: may go below zero in a large surplus while the segment cannot. A run in which one is stops with
#: an error, as for a stock.
NON_NEGATIVE_TOTALS = ("ten_year_notes_outstanding",)

#: Everything a run's values are checked to keep at or above zero.
NON_NEGATIVE = (*NON_NEGATIVE_STOCKS, *NON_NEGATIVE_TOTALS)

#: Stocks that may legitimately be negative: yields, and the interest that follows them, turn
#: negative when rates do; consolidation is signed. Every stock is in one list or the other.
SIGNED_STOCKS = (
    "market_premium",
    "reference_yield",
    "policy_rate_deviation",
    "long_run_real_policy_rate",
    "expected_long_run_inflation",
    "interest_on_bills",
    "interest_on_short_notes",
    "interest_on_medium_notes",
    *(f"interest_on_ten_year_notes_stage_{k}" for k in range(1, TEN_YEAR_NOTE_STAGES + 1)),
    # New 10-year notes enter the first stage net of buybacks (a surplus retires the newest notes,
    # as the one-stock segment did), so in a large surplus a stage may hold a negative amount
    # while the segment as a whole does not.
    *(f"ten_year_notes_stage_{k}" for k in range(1, TEN_YEAR_NOTE_STAGES + 1)),
    "interest_on_long_bonds",
    "interest_on_tips",
    "cumulative_net_interest",
    "fiscal_consolidation",
    "private_absorption_beyond_baseline",
    "potential_output_deviation",
    "output_gap",
)


def display_units(mdl_units: str) -> str:
    """Return the units of a .mdl variable as written in results files.

    Parameters
    ----------
    mdl_units : str
        Units as written in the .mdl, e.g. ``billion_USD/year``.

    Returns
    -------
    str
        E.g. ``billion USD/year``; ``dmnl`` becomes ``1``.
    """
    if mdl_units.strip().lower() == "dmnl":
        return "1"
    return mdl_units.replace("billion_USD", "billion USD")


def value_problems(values: Mapping[str, np.ndarray], times: np.ndarray) -> list[str]:
    """Name each run's earliest impossible value: NaN, infinite, or a negative that cannot be.

    The one check of a run's values, for single runs and for every sample of an ensemble: the
    stocks and totals of ``NON_NEGATIVE`` may not go below zero.

    Parameters
    ----------
    values : mapping of str to numpy.ndarray
        Each variable's values, shape (runs, times) [its units].
    times : numpy.ndarray
        The saved times [year].

    Returns
    -------
    list of str
        One entry per run: ``''`` when every value is possible, else the variable, what is wrong
        and the earliest time at which it is (the first variable given wins a tie).
    """
    n_runs = len(next(iter(values.values())))
    earliest = np.full(n_runs, len(times))
    problems = [""] * n_runs
    for name, data in values.items():
        data = np.asarray(data, dtype=float).reshape(n_runs, -1)
        bad = ~np.isfinite(data)
        if name in NON_NEGATIVE:
            with np.errstate(invalid="ignore"):
                bad |= data < 0
        step = np.where(bad.any(axis=1), bad.argmax(axis=1), len(times))
        for run in np.flatnonzero(step < earliest):
            earliest[run] = step[run]
            value = data[run, step[run]]
            what = f"went negative ({value:g})" if np.isfinite(value) else f"is {value}"
            kind = "stock " if np.isfinite(value) and name in NON_NEGATIVE_STOCKS else ""
            problems[run] = f"{kind}{name} {what} at time {times[step[run]]:g}"
    return problems
