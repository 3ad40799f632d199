"""Checks of the bond market and the Fed: price impact, yield and interest backtests, episodes.

Every tolerance is the reference's, fixed before the model's result was seen:

* **Price impact with every channel on** (the Fed's rule is not held still): $100bn sold by Japan
  within one month lifts the 10-year by 40-60bp at the peak and 10-30bp a year on, and it is still
  above the baseline two years on (Beltran, Kretchmer, Marquez and Thomas 2013); $1.7T of Fed
  purchases over a year lower it by 50-100bp at the programme's end and keep it below the baseline
  throughout (Gagnon, Raskin, Remache and Sack 2011).
* **The model's own yields**, with the policy rate held to history: the 10-year's root-mean-square
  error at most 0.75 points over FY2002-2025 and 0.60 over FY2016-2025, no year off by more than
  1.5 points, and the sign of the 10-year less the funds rate right in FY2007, FY2023 and FY2024.
  The naive benchmarks (the funds rate plus the spread of the ten years before the start; last
  year's yield) are printed beside them.
* **Historical yields**: net interest within 5% in every year FY2016-2025 and 3% summed, and every
  ten-year window starting FY2001-2015 within 10% summed; the policy rate within 1bp of history.
* **Debt structure at the start**: the average maturity within 3 months of Treasury's 72 months
  (June 2025) and each segment's share within 2 points of the MSPD's (September 2025).
* **Episodes** at monthly resolution: the 10-year's change within 50bp of the actual one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.model import data
from debtloops.model.outcomes import extra_interest
from debtloops.model.parameters import load_parameters
from debtloops.model.run import run_scenario
from debtloops.units import BASIS_POINTS
from debtloops.validation import backtest, episodes
from debtloops.validation.checks import Check

#: A sale within one month: one sixteenth of a year, a whole number of the largest time steps.
SALE_SIZE, SALE_DURATION, SALE_START = 100.0, 0.0625, 2026.0
#: A purchase programme [billion USD over one year] from the start of FY2027.
PROGRAMME_SIZE, PROGRAMME_START = 1700.0, 2026.0
#: The literature's estimate and range for each price-impact experiment [bp]: estimate, low, high.
SALE_PEAK = (50.0, 40.0, 60.0)
SALE_ONE_YEAR_ON = (20.0, 10.0, 30.0)
PROGRAMME_END = (-75.0, -100.0, -50.0)
#: "Above the baseline" and "below the baseline" as ranges [bp].
ABOVE, BELOW = (0.0, np.inf), (-np.inf, 0.0)
#: The endogenous-yield backtests: (start, end, largest RMSE [points]).
YIELD_BACKTESTS = ((2001, 2025, 0.75), (2015, 2025, 0.60))
#: The largest error of the 10-year in any year [points], and the years whose curve sign is checked.
WORST_YEAR_ERROR = 1.5
SIGN_YEARS = (2007, 2023, 2024)
#: The historical-yield interest backtests: years checked one by one, summed, and the windows.
INTEREST_YEARS = (2016, 2025)
INTEREST_YEAR_TOLERANCE, INTEREST_SUM_TOLERANCE, WINDOW_TOLERANCE = 0.05, 0.03, 0.10
WINDOW_STARTS, WINDOW_LENGTH = range(2001, 2016), 10
#: The policy rate's largest departure from history in a backtest [bp].
POLICY_TOLERANCE_BP = 1.0
#: Treasury's weighted average maturity of marketable debt, June 2025 [months], and the tolerance.
TREASURY_AVERAGE_MATURITY, MATURITY_TOLERANCE = 72.0, 3.0
#: Each segment's share of the debt at the start against the MSPD's [points].
SHARE_TOLERANCE = 2.0
#: The segments, by the prefix of their stock's name, and what the MSPD calls them.
SEGMENTS = {
    "bills": "bills and FRNs",
    "short_notes": "2-3-year notes",
    "medium_notes": "5-7-year notes",
    "ten_year_notes": "10-year notes",
    "long_bonds": "20-30-year bonds",
    "tips": "TIPS",
}
#: The target-share parameter of each segment.
SEGMENT_SHARE = {
    "bills": "bill_share_of_debt",
    "short_notes": "short_note_share_of_debt",
    "medium_notes": "medium_note_share_of_debt",
    "ten_year_notes": "ten_year_note_share_of_debt",
    "long_bonds": "long_bond_share_of_debt",
    "tips": "tips_share_of_debt",
}
#: The interest coflow of each segment.
SEGMENT_INTEREST = {
    "bills": "interest_on_bills",
    "short_notes": "interest_on_short_notes",
    "medium_notes": "interest_on_medium_notes",
    "ten_year_notes": "interest_on_ten_year_notes",
    "long_bonds": "interest_on_long_bonds",
    "tips": "interest_on_tips",
}
#: The span over which extra interest is decomposed [fiscal years, end of the first to the last].
DECOMPOSITION_SPAN = (2025.0, 2035.0)

BELTRAN = "Beltran, Kretchmer, Marquez and Thomas (2013); KC Fed Economic Bulletin (2025)"
GAGNON = "Gagnon, Raskin, Remache and Sack (2011); Ihrig et al. (2012) -34bp to -100bp"
HISTORY = "FRED GS10 and FEDFUNDS, fiscal-year means (models/data/history_2000_2025.csv)"
INTEREST_SOURCE = "Treasury net interest via FRED (models/data/history_2000_2025.csv)"
STRUCTURE = "Treasury MSPD Table I, 30 Sep 2025; JEC Monthly Debt Update (Treasury data), Jun 2025"
EPISODES_SOURCE = "FRED GS10 monthly means (models/data/markets_monthly.csv)"


def _extra(run: xr.Dataset, baseline: xr.Dataset, variable: str = "market_yield") -> xr.DataArray:
    return (run[variable] - baseline[variable]) * BASIS_POINTS


def _every_step() -> dict[str, float]:
    """Return the override that saves a run at every time step (the table's ``time_step``).

    The price-impact runs use it so that no peak falls between saved points, and the interest
    decomposition so that its parts add up to the model's own total.
    """
    return {"saveper": load_parameters()["time_step"].value}


def _programme() -> dict[float, float]:
    """Fed net purchases of :data:`PROGRAMME_SIZE` over one year, as a step driver."""
    end = PROGRAMME_START + 1.0
    return {
        PROGRAMME_START - 1.0: 0.0,
        PROGRAMME_START - data.STEP_EDGE: 0.0,
        PROGRAMME_START: PROGRAMME_SIZE,
        end - data.STEP_EDGE: PROGRAMME_SIZE,
        end: 0.0,
    }


def price_impact() -> dict[str, float]:
    """Run the literature's two experiments against the baseline, with every channel on.

    Returns
    -------
    dict
        The extra 10-year yield [bp] of a $100bn sale within a month at its peak
        (``sale_peak``), a year on (``sale_one_year``) and two years on (``sale_two_years``); of a
        $1.7T programme over a year at its end (``programme_end``) and its highest from the
        programme's start to the end of the run (``programme_highest``).
    """
    fine = _every_step()
    baseline = run_scenario("baseline", overrides=fine)
    sale = run_scenario(
        "baseline",
        overrides={
            **fine,
            "japan_sale_amount": SALE_SIZE,
            "japan_sale_start": SALE_START,
            "japan_sale_duration": SALE_DURATION,
        },
    )
    programme = run_scenario(
        "baseline", overrides={**fine, "fed_baseline_net_purchases": _programme()}
    )
    sale_extra = _extra(sale, baseline)
    programme_extra = _extra(programme, baseline).sel(time=slice(PROGRAMME_START, None))
    return {
        "sale_peak": float(sale_extra.max()),
        "sale_one_year": float(sale_extra.sel(time=SALE_START + 1.0)),
        "sale_two_years": float(sale_extra.sel(time=SALE_START + 2.0)),
        "programme_end": float(programme_extra.sel(time=PROGRAMME_START + 1.0)),
        "programme_highest": float(programme_extra.max()),
    }


def price_impact_rows(impact: dict[str, float]) -> list[Check]:
    """Check the price impact against the literature (see the module's docstring)."""
    return [
        Check("$100bn sold within a month: peak", impact["sale_peak"], *SALE_PEAK, "bp", BELTRAN),
        Check(
            "$100bn sold within a month: one year on",
            impact["sale_one_year"],
            *SALE_ONE_YEAR_ON,
            "bp",
            BELTRAN,
        ),
        Check(
            "$100bn sold within a month: two years on",
            impact["sale_two_years"],
            0.0,
            *ABOVE,
            "bp",
            f"{BELTRAN}: a lasting effect",
        ),
        Check(
            "$1.7T bought over a year: at the end",
            impact["programme_end"],
            *PROGRAMME_END,
            "bp",
            GAGNON,
        ),
        Check(
            "$1.7T bought over a year: highest from its start",
            impact["programme_highest"],
            0.0,
            *BELOW,
            "bp",
            f"{GAGNON}: QE lowers yields",
        ),
    ]


def decomposition(scenario: str) -> pd.DataFrame:
    """Split a scenario's extra 10-year and extra interest into their parts.

    Parameters
    ----------
    scenario : str
        A shipped scenario's name.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, part, value, units``: the extra 10-year yield at its peak [bp] and its
        expectations and term-premium parts at that time, on the saved output as the headlines
        measure it; the extra interest over FY2026-2035 [billion USD], the model's own
        ``cumulative_net_interest`` as in the headlines, and each segment's part of it (see
        :func:`_integrated`).
    """
    run, base = run_scenario(scenario), run_scenario("baseline")
    extra = _extra(run, base)
    peak = float(extra["time"][int(np.argmax(extra.values))])
    rows = [
        (scenario, "extra 10-year at its peak", float(extra.sel(time=peak)), "bp"),
        (
            scenario,
            "  expectations (expected policy rate over 10 years)",
            float(_extra(run, base, "expected_short_rate_10y").sel(time=peak)),
            "bp",
        ),
        (
            scenario,
            "  term premium",
            float(_extra(run, base, "term_premium").sel(time=peak)),
            "bp",
        ),
    ]
    first, last = DECOMPOSITION_SPAN
    stepped = run_scenario(scenario, _every_step())
    stepped_base = run_scenario("baseline", _every_step())
    parts = {
        segment: _integrated(stepped[variable] - stepped_base[variable], first, last)
        for segment, variable in SEGMENT_INTEREST.items()
    }
    accrual = stepped["tips_accrual"] - stepped_base["tips_accrual"]
    parts["tips"] += _integrated(accrual, first, last)
    total = extra_interest(stepped, stepped_base, last) - extra_interest(
        stepped, stepped_base, first
    )
    span = f"FY{int(first) + 1}-{int(last)}"
    rows.append((scenario, f"extra interest {span}", float(total), "billion USD"))
    rows += [(scenario, f"  {SEGMENTS[s]}", value, "billion USD") for s, value in parts.items()]
    return pd.DataFrame(rows, columns=["scenario", "part", "value", "units"])


def _integrated(flow: xr.DataArray, first: float, last: float) -> float:
    """Integrate a flow saved at every time step from ``first`` to ``last`` as the model does.

    The model's stocks grow by each step's flow times the step (Euler's method), so the sum of
    ``flow`` at each saved time from ``first`` up to, not including, ``last``, times the step to
    the next one, adds up exactly to what a stock fed by the flow gains over the span.

    Parameters
    ----------
    flow : xarray.DataArray
        A flow over ``time`` [year], in units a year, saved at every time step.
    first, last : float
        The span [year].

    Returns
    -------
    float
        The integral, in the flow's units times years.
    """
    span = flow.sel(time=slice(first, last))
    return float(np.sum(span.values[:-1] * np.diff(span["time"].values)))


def _yield_errors(table: pd.DataFrame) -> pd.Series:
    rows = table[table["variable"] == "market_yield"].set_index("year")
    return (rows["model"] - rows["actual"]).dropna()


def naive_benchmarks(start: int, end: int) -> dict[str, float]:
    """RMSE of two naive forecasts of the 10-year over FY``start``+1 to FY``end`` [points].

    ``funds + spread``: the funds rate as it happened plus the 10-year's mean spread over it in the
    ten fiscal years up to the start; ``last year``: the previous fiscal year's 10-year.
    """
    history = data.history()
    ten_year, funds = history.series("gs10_fy_avg"), history.series("fedfunds_fy_avg")
    years = list(range(start + 1, end + 1))
    spread = data.window_mean(ten_year - funds, start)
    naive = funds.loc[years] + spread
    previous = ten_year.shift(1).loc[years]
    return {
        "funds + spread": float(np.sqrt(((naive - ten_year.loc[years]) ** 2).mean())),
        "last year": float(np.sqrt(((previous - ten_year.loc[years]) ** 2).mean())),
    }


def yield_backtest_rows() -> list[Check]:
    """Check the model's own 10-year against history (see the module's docstring)."""
    rows = []
    for start, end, limit in YIELD_BACKTESTS:
        _, table = backtest.run_backtest(start, end, "endogenous")
        errors = _yield_errors(table).loc[start + 1 : end]
        label = f"own 10-year FY{start + 1}-{end}"
        rmse = float(np.sqrt((errors**2).mean()))
        rows.append(Check(f"{label}: RMSE", rmse, 0.0, 0.0, limit, "points", HISTORY))
        for name, value in naive_benchmarks(start, end).items():
            rows.append(
                Check(f"{label}: RMSE, naive {name}", value, 0.0, 0.0, np.inf, "points", HISTORY)
            )
        worst = int(errors.abs().idxmax())
        rows.append(
            Check(
                f"{label}: worst year (FY{worst})",
                float(errors[worst]),
                0.0,
                -WORST_YEAR_ERROR,
                WORST_YEAR_ERROR,
                "points",
                HISTORY,
            )
        )
        if start == YIELD_BACKTESTS[0][0]:
            rows += _sign_rows(table)
    return rows


def _sign_rows(table: pd.DataFrame) -> list[Check]:
    """Check that the 10-year less the funds rate has the actual sign in :data:`SIGN_YEARS`."""
    by = table.set_index(["variable", "year"])
    rows = []
    for year in SIGN_YEARS:
        model = by.loc[("market_yield", year), "model"] - by.loc[("fed_policy_rate", year), "model"]
        actual = (
            by.loc[("market_yield", year), "actual"] - by.loc[("fed_policy_rate", year), "actual"]
        )
        low, high = ABOVE if actual > 0 else BELOW
        rows.append(
            Check(
                f"own 10-year less funds FY{year}: sign",
                model,
                actual,
                low,
                high,
                "points",
                HISTORY,
            )
        )
    return rows


def interest_backtest_rows() -> list[Check]:
    """Check net interest with historical yields, and that the policy rate is history's."""
    first, last = INTEREST_YEARS
    _, table = backtest.run_backtest(first - 1, last, "historical")
    interest = table[table["variable"] == "net_interest"].set_index("year").loc[first:last]
    errors = interest["model"] / interest["actual"] - 1.0
    worst = int(errors.abs().idxmax())
    rows = [
        Check(
            f"net interest, historical yields: worst year FY{first}-{last} (FY{worst})",
            float(interest.loc[worst, "model"]),
            float(interest.loc[worst, "actual"]),
            float(interest.loc[worst, "actual"]) * (1 - INTEREST_YEAR_TOLERANCE),
            float(interest.loc[worst, "actual"]) * (1 + INTEREST_YEAR_TOLERANCE),
            "billion USD",
            INTEREST_SOURCE,
        ),
        _summed(
            interest,
            f"net interest, historical yields: summed FY{first}-{last}",
            INTEREST_SUM_TOLERANCE,
        ),
    ]
    windows = []
    for start in WINDOW_STARTS:
        end = start + WINDOW_LENGTH
        _, run_table = backtest.run_backtest(start, end, "historical")
        span = run_table[run_table["variable"] == "net_interest"].set_index("year")
        span = span.loc[start + 1 : end]
        windows.append((float(span["model"].sum() / span["actual"].sum() - 1.0), start, span))
    error, start, span = max(windows, key=lambda item: abs(item[0]))
    rows.append(
        _summed(
            span,
            f"net interest, ten-year windows from FY{WINDOW_STARTS[0]}-{WINDOW_STARTS[-1]}: "
            f"worst (FY{start + 1}-{start + WINDOW_LENGTH})",
            WINDOW_TOLERANCE,
        )
    )
    policy = table[table["variable"] == "fed_policy_rate"]
    departure = float((policy["model"] - policy["actual"]).abs().max()) * data.PERCENT
    rows.append(
        Check(
            f"policy rate in the backtest: largest departure FY{first}-{last}",
            departure,
            0.0,
            0.0,
            POLICY_TOLERANCE_BP,
            "bp",
            HISTORY,
        )
    )
    return rows


def _summed(rows: pd.DataFrame, label: str, tolerance: float) -> Check:
    model, actual = float(rows["model"].sum()), float(rows["actual"].sum())
    return Check(
        label,
        model,
        actual,
        actual * (1 - tolerance),
        actual * (1 + tolerance),
        "billion USD",
        INTEREST_SOURCE,
    )


def structure_rows(baseline: xr.Dataset) -> list[Check]:
    """Check the debt's structure at the start against Treasury's figures."""
    start = baseline.isel(time=0)
    rows = [
        Check(
            "average maturity of the debt at the start",
            float(start["average_maturity"]),
            TREASURY_AVERAGE_MATURITY,
            TREASURY_AVERAGE_MATURITY - MATURITY_TOLERANCE,
            TREASURY_AVERAGE_MATURITY + MATURITY_TOLERANCE,
            "months",
            STRUCTURE,
        )
    ]
    mspd = data.segment_shares(data.CBO_START, data.CBO_START)
    total = sum(float(values[float(data.CBO_START)]) for values in mspd.values())
    debt = float(start["debt_held_by_public"])
    for segment, label in SEGMENTS.items():
        share = mspd[SEGMENT_SHARE[segment]][float(data.CBO_START)]
        reference = data.PERCENT * float(share) / total
        model = data.PERCENT * float(start[f"{segment}_outstanding"]) / debt
        rows.append(
            Check(
                f"{label}: share of the debt at the start",
                model,
                reference,
                reference - SHARE_TOLERANCE,
                reference + SHARE_TOLERANCE,
                "%",
                STRUCTURE,
            )
        )
    return rows


def episode_rows() -> list[Check]:
    """Check each monthly episode's 10-year change against the actual one."""
    table = episodes.run_episodes(episodes.select(list(episodes.EPISODES)))
    return [
        Check(
            f"episode {row.episode} ({row.start} to {row.end}): 10-year change",
            float(row.model_change_bp),
            float(row.actual_change_bp),
            float(row.actual_change_bp) - episodes.TOLERANCE_BP,
            float(row.actual_change_bp) + episodes.TOLERANCE_BP,
            "bp",
            EPISODES_SOURCE,
        )
        for row in table.itertuples()
    ]
