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
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import brentq

from debtloops.errors import InputError, SimulationError
from debtloops.limits import MAX_INTEGER
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import execute, prepare, reference_for
from debtloops.outputs import BASIS_POINTS
from debtloops.validation.backtest import FEEDBACKS_OFF, fiscal_year_value

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
#: The lever of the debt goal, its start [year on the model's clock] and phase-in [year].
EFFORT, EFFORT_START, EFFORT_PHASE_IN = (
    "primary_balance_effort",
    "primary_balance_effort_start",
    "primary_balance_effort_phase_in",
)
#: The effort in force in dollars, a .mdl output [billion USD/year].
EFFORT_AMOUNT = "primary_balance_effort_amount"
#: The lever of the yield goal [billion USD/year] and the switch that turns the backstop on.
BACKSTOP_RATE, BACKSTOP_SWITCH = "fed_backstop_maximum_rate", "fed_backstop_switch"
#: The debt goal is met when debt/GDP is within this of the target [1] (0.0001 percentage points).
DEBT_TOLERANCE = 1e-6
#: The lever's step at which the debt search stops [1, share of GDP]; with debt/GDP moving by
#: less than 10 points per point of effort, it keeps the answer well within DEBT_TOLERANCE.
EFFORT_XTOL = 1e-8
#: The yield goal is met when the peak extra 10-year is within this of the level [1/year] (0.01bp).
YIELD_TOLERANCE = 1e-6
#: The purchase rate's step at which the yield search stops [billion USD/year].
RATE_XTOL = 1e-3
#: Times a bracket end that fails to run is moved halfway toward the lever's default.
MAX_HALVINGS = 8
#: Percent per unit of a ratio.
PERCENT = 100.0
#: The fiscal year that ``--from`` starts in runs from this long before it on the model's clock
#: [year]: FY2027 starts at 2026.0.
FISCAL_YEAR = 1.0
#: The word for "the baseline's own debt/GDP in the target year" in ``--debt-to-gdp``.
BASELINE_WORD = "baseline"


@dataclass(frozen=True)
class Goal:
    """What to solve for.

    Attributes
    ----------
    kind : str
        ``"debt"`` (debt/GDP equal to the target) or ``"yield"`` (the peak extra 10-year at most
        the target).
    lever : str
        The parameter solved for.
    target : float
        Debt/GDP [1] or the peak extra 10-year [1/year].
    settings : dict
        Parameter values set with the lever (the phase-in, the backstop switch).
    by : float
        The last year simulated [year]; the target year of the debt goal.
    start : float
        The first fiscal year of the sums (effort, interest) [year].
    cbo : str or Path, optional
        The CBO vintage of every run (``--cbo``), the baseline's too; the scenario's by default.
    """

    kind: str
    lever: str
    target: float
    settings: dict[str, Value]
    by: float
    start: float
    cbo: str | Path | None = None

    @property
    def tolerance(self) -> float:
        """How close the outcome must come to the target [its units]."""
        return DEBT_TOLERANCE if self.kind == "debt" else YIELD_TOLERANCE

    @property
    def xtol(self) -> float:
        """The lever's step at which the search stops [its units]."""
        return EFFORT_XTOL if self.kind == "debt" else RATE_XTOL


@dataclass
class Model:
    """Runs of one scenario with fixed settings, cached by the lever's value."""

    scenario: str
    goal: Goal
    fixed: dict[str, Value]
    runs: dict[float, tuple[xr.Dataset, xr.Dataset | None]] = field(default_factory=dict)

    def run(self, value: float) -> tuple[xr.Dataset, xr.Dataset | None]:
        """Run the scenario (and the baseline, for the yield goal) with the lever at ``value``."""
        if value not in self.runs:
            overrides = {**self.fixed, **self.goal.settings, self.goal.lever: value}
            prepared = prepare(self.scenario, overrides, self.goal.by, cbo=self.goal.cbo)
            run = execute(prepared)
            reference = None
            if self.goal.kind == "yield":  # the baseline on the scenario's vintage and years
                reference = execute(reference_for(prepared, overrides))
            self.runs[value] = (run, reference)
        return self.runs[value]

    def outcome(self, value: float) -> float:
        """Return the goal's outcome with the lever at ``value`` [1 or 1/year]."""
        run, reference = self.run(value)
        if self.goal.kind == "debt":
            return fiscal_year_value(run, "debt_held_by_public", "end_to_gdp", int(self.goal.by))
        if reference is None:  # run() executes a reference for every goal but a debt one
            raise RuntimeError(f"a {self.goal.kind!r} goal has no reference run")
        return float((run["market_yield"] - reference["market_yield"]).max())


@dataclass(frozen=True)
class Answer:
    """One solution and what it does.

    Attributes
    ----------
    feedbacks : str
        ``"on"`` or ``"off"``.
    value : float
        The lever's value [its units].
    achieved : float
        The outcome on rerun [1 or 1/year].
    without : float
        The outcome with the lever at its default [1 or 1/year].
    effort_year, effort_sum : float
        The primary effort in the target year and summed from the start year [billion USD]; 0 for
        the yield goal.
    interest_saved : float
        Net interest from the start year to the target year, without the lever less with it
        [billion USD].
    runs : int
        Lever values run, the search's and the one without the lever (each a scenario run, and a
        baseline run too for the yield goal).
    path, path_without : xarray.DataArray
        The goal's outcome over the run with the lever at its solution and at its default: debt/GDP
        by fiscal year (CBO's ratio) [1], or the extra 10-year over the baseline's by time
        [1/year] (:func:`outcome_path`).
    """

    feedbacks: str
    value: float
    achieved: float
    without: float
    effort_year: float
    effort_sum: float
    interest_saved: float
    runs: int
    path: xr.DataArray
    path_without: xr.DataArray


def outcome_path(model: Model, value: float) -> xr.DataArray:
    """Return the goal's outcome over the run with the lever at ``value``.

    Returns
    -------
    xarray.DataArray
        For the debt goal, debt held by the public at the end of each fiscal year over the year's
        GDP, from the first whole fiscal year to the target year, on ``fiscal_year`` [1]; for the
        yield goal, the 10-year's excess over the baseline's at each saved time, on ``time``
        [1/year].
    """
    run, reference = model.run(value)
    if model.goal.kind == "debt":
        first = int(round(float(run["time"][0]))) + 1
        years = list(range(first, int(model.goal.by) + 1))
        ratios = [fiscal_year_value(run, "debt_held_by_public", "end_to_gdp", y) for y in years]
        return xr.DataArray(ratios, coords={"fiscal_year": years}, dims="fiscal_year")
    if reference is None:
        raise ValueError("the yield goal's runs carry their baseline")
    return run["market_yield"] - reference["market_yield"]


def _outcome_text(goal: Goal, value: float) -> str:
    if goal.kind == "debt":
        return f"debt/GDP of {PERCENT * value:.2f}% in {goal.by:.0f}"
    return f"a peak extra 10-year of {BASIS_POINTS * value:.2f}bp"


def _bracket_end(model: Model, end: float, default: float) -> float:
    """Return ``end``, or the nearest point toward ``default`` at which the model runs."""
    for _ in range(MAX_HALVINGS):
        try:
            model.outcome(end)
            return end
        except SimulationError:
            end = default + (end - default) / 2
    model.outcome(end)  # the last try: a failure here is the run's own error (exit 3)
    return end


def solve(model: Model) -> float:
    """Return the lever's value that meets the goal, by Brent's method on its valid range.

    Raises
    ------
    InputError
        When no value in the valid range reaches the target, naming the best reachable outcome.
    """
    goal = model.goal
    parameter = load_parameters()[goal.lever]
    low = _bracket_end(model, parameter.valid_min, parameter.value)
    high = _bracket_end(model, parameter.valid_max, parameter.value)

    def gap(value: float) -> float:
        return model.outcome(value) - goal.target

    low_gap, high_gap = gap(low), gap(high)
    if goal.kind == "yield" and low_gap <= 0:
        return low  # already under the level with the least of the lever
    if np.sign(low_gap) == np.sign(high_gap):
        best = high if abs(high_gap) < abs(low_gap) else low
        raise InputError(
            f"no {goal.lever} in its valid range [{low:g}, {high:g}] reaches "
            f"{_outcome_text(goal, goal.target)}; the best reachable is "
            f"{_outcome_text(goal, model.outcome(best))} (at {goal.lever} = {best:g})"
        )
    value = float(brentq(gap, low, high, xtol=goal.xtol))
    if goal.kind == "yield" and gap(value) > 0:
        value = min(high, value + goal.xtol)  # the side of the root that holds the level
    return value


def _interval(run: xr.Dataset, variable: str, start: float, end: float) -> float:
    """Integrate a flow over ``[start, end]`` from its saved points, trapezoids [units x year]."""
    times = run["time"].values
    inside = (times >= start) & (times <= end)
    return float(np.trapezoid(run[variable].values[inside], times[inside]))


def answer(model: Model, feedbacks: str) -> Answer:
    """Solve one goal with one set of feedbacks and measure the solution by rerunning it."""
    goal = model.goal
    try:
        value = solve(model)
    except InputError as error:
        raise InputError(f"with the market feedbacks {feedbacks}: {error}") from None
    default = load_parameters()[goal.lever].value
    if goal.kind == "yield":
        default = load_parameters()[goal.lever].valid_min
    run, _ = model.run(value)
    plain, _ = model.run(default)
    begin = goal.start - FISCAL_YEAR
    interest = "cumulative_net_interest"
    saved = float(
        plain[interest].sel(time=goal.by)
        - plain[interest].sel(time=begin)
        - run[interest].sel(time=goal.by)
        + run[interest].sel(time=begin)
    )
    effort_year = effort_sum = 0.0
    if goal.kind == "debt":
        effort_year = _interval(run, EFFORT_AMOUNT, goal.by - FISCAL_YEAR, goal.by)
        effort_sum = _interval(run, EFFORT_AMOUNT, begin, goal.by)
    achieved = model.outcome(value)
    miss = achieved - goal.target
    if miss > goal.tolerance or (goal.kind == "debt" and -miss > goal.tolerance):
        raise SimulationError(
            f"the search for {goal.lever} ended at {value:g}, whose rerun gives "
            f"{_outcome_text(goal, achieved)}, not {_outcome_text(goal, goal.target)}"
        )
    return Answer(
        feedbacks=feedbacks,
        value=value,
        achieved=achieved,
        without=model.outcome(default),
        effort_year=effort_year,
        effort_sum=effort_sum,
        interest_saved=saved,
        runs=len(model.runs),
        path=outcome_path(model, value),
        path_without=outcome_path(model, default),
    )


def _nearest(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


def make_goal(
    scenario: str,
    debt_to_gdp: str | None,
    peak_extra_yield: float | None,
    by: int | None,
    start: int,
    phase_in: float,
    cbo: str | Path | None = None,
) -> Goal:
    """Check the command line's goal and build it.

    Parameters
    ----------
    scenario : str
        The scenario's name or file.
    debt_to_gdp : str, optional
        The debt target [percent of the fiscal year's GDP], or ``"baseline"``: the baseline's own
        ratio in the target year.
    peak_extra_yield : float, optional
        The level the sale's peak extra 10-year must not pass [basis points].
    by : int, optional
        The target fiscal year (debt goal; required), or the last year simulated (yield goal;
        the run's final year by default) [year].
    start : int
        The fiscal year in which the effort starts [year].
    phase_in : float
        Years over which the effort phases in [year].
    cbo : str or Path, optional
        The CBO vintage, a shipped name or a folder (``--cbo``); the scenario's own by default.

    Returns
    -------
    Goal
        The goal.

    Raises
    ------
    InputError
        On an unknown scenario or a value out of range, naming the nearest valid choice.
    """
    table = load_parameters()
    plan = prepare(scenario, cbo=cbo)  # an unknown scenario fails here, with the nearest names
    first = plan.constant("initial_time") + FISCAL_YEAR
    last = plan.constant("final_time")
    if by is None and debt_to_gdp is not None:
        raise InputError("--debt-to-gdp needs --by YEAR, the fiscal year of the target")
    if by is not None and not first <= by <= last:  # compared as given: float() may overflow
        shown = f"{by}" if abs(by) <= MAX_INTEGER else "a number that large"
        raise InputError(
            f"--by {shown} is outside the run's fiscal years {first:.0f}-{last:.0f}; the "
            f"nearest valid is {_nearest(by, first, last):.0f}"
        )
    horizon = float(by) if by is not None else last
    if peak_extra_yield is not None:
        if not np.isfinite(peak_extra_yield) or peak_extra_yield < 0:
            raise InputError(
                f"--peak-extra-yield {peak_extra_yield:g} bp must be a number of at least 0; "
                "the nearest valid is 0"
            )
        return Goal(
            kind="yield",
            lever=BACKSTOP_RATE,
            target=peak_extra_yield / BASIS_POINTS,
            settings={BACKSTOP_SWITCH: 1.0},
            by=horizon,
            start=first,
            cbo=cbo,
        )
    phase = table[EFFORT_PHASE_IN]
    if not (np.isfinite(phase_in) and phase.valid_min <= phase_in <= phase.valid_max):
        raise InputError(
            f"--phase-in {phase_in:g} years is outside {phase.valid_min:g}-{phase.valid_max:g}; "
            f"the nearest valid is {_nearest(phase_in, phase.valid_min, phase.valid_max):g}"
        )
    if not first <= start <= horizon:
        raise InputError(
            f"--from {start} is outside the fiscal years {first:.0f}-{horizon:.0f} (the run's "
            f"first to --by); the nearest valid is {_nearest(start, first, horizon):.0f}"
        )
    if debt_to_gdp is None or not debt_to_gdp.strip():
        raise InputError(
            f"--debt-to-gdp is empty; give a percent of GDP, e.g. 100, or '{BASELINE_WORD}'"
        )
    settings: dict[str, Value] = {EFFORT_START: start - FISCAL_YEAR, EFFORT_PHASE_IN: phase_in}
    if debt_to_gdp.strip().lower() == BASELINE_WORD:
        reference = execute(reference_for(plan))  # on the scenario's vintage and years
        target = fiscal_year_value(reference, "debt_held_by_public", "end_to_gdp", int(horizon))
    else:
        try:
            target = float(debt_to_gdp) / PERCENT
        except ValueError:
            raise InputError(
                f"--debt-to-gdp '{debt_to_gdp}' is not a number of percent of GDP nor "
                f"'{BASELINE_WORD}'; e.g. --debt-to-gdp 100"
            ) from None
        if not np.isfinite(target) or target <= 0:
            raise InputError(
                f"--debt-to-gdp {debt_to_gdp} must be a positive percent of GDP; e.g. 100"
            )
    return Goal(
        kind="debt",
        lever=EFFORT,
        target=target,
        settings=settings,
        by=horizon,
        start=float(start),
        cbo=cbo,
    )


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
