"""Goal-seek: the policy effort that meets a goal, found by rerunning the model.

``debtloops target`` solves for it.

Two goals, each solved for one lever of the .mdl with :func:`scipy.optimize.brentq` on a bracket
that is the lever's valid range in ``models/parameters.toml``:

- **debt/GDP by a year**: the permanent change in the primary balance (``primary_balance_effort``,
  a share of GDP, phased in linearly from ``--from`` over ``--phase-in`` years) that brings debt
  held by the public at the end of fiscal year ``--by`` over that year's GDP (CBO's ratio,
  :func:`debtloops.validation.backtest.fiscal_year_value` with ``"end_to_gdp"``) to the target;
- **the sale's peak extra 10-year**: the smallest Fed backstop purchase rate
  (``fed_backstop_maximum_rate``, with ``fed_backstop_switch = 1``) that holds the largest excess of
  the 10-year over the baseline's (both runs with the same settings, as ``debtloops run --set``)
  at or under a level.

Each goal is solved twice: with every feedback on (the scenario as it stands) and with the market
feedbacks off (:data:`MARKET_FEEDBACKS_OFF`, the backtest's switches). The solver assumes the
outcome falls as the lever rises (more effort, less debt; more purchases, a lower peak), which
holds over the valid ranges; the answer is rerun and checked against the target before it is
reported. No equation of the model is written here: every number comes from a run of the .mdl.

The goal is checked in :mod:`debtloops.target.goal` and solved in :mod:`debtloops.target.solve`;
the two answers are gathered and written here.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import xarray as xr

from debtloops.model.parameters import Value, load_parameters
from debtloops.outputs import BASIS_POINTS
from debtloops.target.goal import (
    BACKSTOP_RATE,
    BACKSTOP_SWITCH,
    BASELINE_WORD,
    DEBT_TOLERANCE,
    EFFORT,
    EFFORT_AMOUNT,
    EFFORT_PHASE_IN,
    EFFORT_START,
    EFFORT_XTOL,
    FISCAL_YEAR,
    RATE_XTOL,
    YIELD_TOLERANCE,
    Goal,
    make_goal,
)
from debtloops.target.solve import MAX_HALVINGS, Answer, Model, answer, outcome_path, solve
from debtloops.units import PERCENT
from debtloops.validation.backtest import FEEDBACKS_OFF

__all__ = [
    "BACKSTOP_RATE",
    "BACKSTOP_SWITCH",
    "BASELINE_WORD",
    "DEBT_TOLERANCE",
    "EFFORT",
    "EFFORT_AMOUNT",
    "EFFORT_PHASE_IN",
    "EFFORT_START",
    "EFFORT_XTOL",
    "FISCAL_YEAR",
    "MAX_HALVINGS",
    "PERCENT",
    "RATE_XTOL",
    "YIELD_TOLERANCE",
    "Answer",
    "Goal",
    "Model",
    "answer",
    "format_table",
    "make_goal",
    "outcome_path",
    "paths",
    "seek",
    "solve",
    "table",
    "write_outputs",
]

#: What ``debtloops target --out DIR`` writes: the table, the paths with and without the effort
#: (CF-1.10 netCDF) and their chart.
OUTPUT_NAME = "target.csv"
OUTPUT_NAMES = (OUTPUT_NAME, "target.nc", "target.png")
#: The two cases of each answer's path: the lever at its solution and at its default.
CASES = ("with_lever", "without_lever")
#: The market feedbacks switched off for the second answer: the backtest's set, less the switch
#: that replays history's yields (a projection has no observed yields).
MARKET_FEEDBACKS_OFF: dict[str, Value] = {
    name: value for name, value in FEEDBACKS_OFF.items() if name != "observed_yields_switch"
}


def seek(scenario: str, goal: Goal) -> tuple[pd.DataFrame, xr.Dataset, float]:
    """Solve a goal with every feedback on, then with the market feedbacks off.

    Parameters
    ----------
    scenario : str
        The scenario's name or file.
    goal : Goal
        What to solve for (:func:`make_goal`).

    Returns
    -------
    table : pandas.DataFrame
        One row per feedback setting (see :func:`table`).
    paths : xarray.Dataset
        The outcome's paths with and without the lever, for each feedback setting (see
        :func:`paths`).
    seconds : float
        Wall time of the searches [s].
    """
    began = time.perf_counter()
    answers = [
        answer(Model(scenario, goal, dict(fixed)), name)
        for name, fixed in (("on", {}), ("off", MARKET_FEEDBACKS_OFF))
    ]
    seconds = time.perf_counter() - began
    return table(scenario, goal, answers), paths(scenario, goal, answers), seconds


def paths(scenario: str, goal: Goal, answers: list[Answer]) -> xr.Dataset:
    """Gather the answers' outcome paths and levers, as ``target.nc`` holds them.

    Returns
    -------
    xarray.Dataset
        ``debt_to_gdp`` [1] on (``feedbacks``, ``case``, ``fiscal_year``) for the debt goal, or
        ``extra_ten_year_yield`` [1/year] on (``feedbacks``, ``case``, ``time``) for the yield
        goal, ``case`` being the lever at its solution or at its default (:data:`CASES`); the
        lever's value on ``feedbacks`` [its units]; the target [1 or 1/year] and the run's
        settings in the attributes.
    """
    name = "debt_to_gdp" if goal.kind == "debt" else "extra_ten_year_yield"
    stacked = xr.concat(
        [xr.concat([a.path, a.path_without], dim="case") for a in answers], dim="feedbacks"
    )
    stacked = stacked.assign_coords(feedbacks=[a.feedbacks for a in answers], case=list(CASES))
    parameter = load_parameters()[goal.lever]
    lever = xr.DataArray(
        [a.value for a in answers],
        coords={"feedbacks": stacked["feedbacks"]},
        dims="feedbacks",
        attrs={"units": parameter.units, "long_name": f"{goal.lever} that meets the target"},
    )
    if goal.kind == "debt":
        attrs = {
            "units": "1",
            "long_name": "debt held by the public at the end of the fiscal year over the "
            "fiscal year's GDP",
        }
    else:
        attrs = {"units": "1/year", "long_name": "10-year yield less the baseline's"}
    dataset = xr.Dataset({name: stacked.assign_attrs(attrs), "lever": lever})
    dataset["case"].attrs["long_name"] = "the lever at its solution or at its default"
    dataset["feedbacks"].attrs["long_name"] = "every feedback on, or the market feedbacks off"
    if "fiscal_year" in dataset.coords:
        dataset["fiscal_year"].attrs["long_name"] = "fiscal year (ending 30 September)"
    dataset.attrs.update(
        {
            "title": f"debtloops target: the {goal.lever} that meets the goal in {scenario}",
            "scenario": scenario,
            "goal": goal.kind,
            "lever": goal.lever,
            "target": goal.target,
            "target_units": "1" if goal.kind == "debt" else "1/year",
            "last_year": goal.by,
            "start_year": goal.start,
        }
    )
    if goal.cbo is not None:
        dataset.attrs["cbo_vintage"] = str(goal.cbo)
    return dataset


def table(scenario: str, goal: Goal, answers: list[Answer]) -> pd.DataFrame:
    """Tabulate the answers, in the units of ``target.csv`` (named in each column)."""
    rows = []
    for item in answers:
        row: dict[str, object] = {"scenario": scenario, "feedbacks": item.feedbacks}
        if goal.kind == "debt":
            row.update(
                {
                    "target_year": int(goal.by),
                    "target_debt_to_gdp_percent": PERCENT * goal.target,
                    "debt_to_gdp_without_percent": PERCENT * item.without,
                    "debt_to_gdp_achieved_percent": PERCENT * item.achieved,
                    "effort_percent_of_gdp": PERCENT * item.value,
                    "effort_start_year": int(goal.start),
                    "phase_in_years": goal.settings[EFFORT_PHASE_IN],
                    "effort_target_year_billion_usd": item.effort_year,
                    "effort_summed_billion_usd": item.effort_sum,
                }
            )
        else:
            row.update(
                {
                    "last_year": int(goal.by),
                    "target_peak_extra_yield_bp": BASIS_POINTS * goal.target,
                    "peak_extra_yield_without_bp": BASIS_POINTS * item.without,
                    "peak_extra_yield_achieved_bp": BASIS_POINTS * item.achieved,
                    "fed_backstop_maximum_rate_billion_usd_per_year": item.value,
                }
            )
        row["interest_saved_billion_usd"] = item.interest_saved
        row["lever_values_run"] = item.runs
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(result: pd.DataFrame) -> str:
    """Return the table to print: one column per feedback setting."""
    shown = result.drop(columns=["scenario", "feedbacks"]).T
    shown.columns = [f"feedbacks {name}" for name in result["feedbacks"]]
    return shown.to_string(float_format=lambda x: f"{x:.3f}")


def write_outputs(out_dir: Path, result: pd.DataFrame, dataset: xr.Dataset) -> list[Path]:
    """Write ``target.csv``, ``target.nc`` and ``target.png`` into ``out_dir``, each atomically.

    Every target must be absent or debtloops' own (:func:`debtloops.io.check_targets`), checked
    before the first is written.
    """
    from debtloops.cf import write_netcdf
    from debtloops.figures.target import plot_target
    from debtloops.io import atomic_file, check_targets

    check_targets(out_dir, OUTPUT_NAMES)
    table_path, netcdf, chart = (Path(out_dir) / name for name in OUTPUT_NAMES)
    buffer = io.StringIO()
    result.to_csv(buffer, index=False)
    text = buffer.getvalue()
    atomic_file(table_path, lambda path: path.write_text(text))
    atomic_file(
        netcdf, lambda path: write_netcdf(dataset, path, "debtloops target wrote target.nc")
    )
    atomic_file(chart, lambda path: plot_target(dataset, path))
    return [table_path, netcdf, chart]
