"""Solving a goal: the model rerun with the lever at each trial value, and Brent's search.

:func:`answer` solves one :class:`~debtloops.target.goal.Goal` with one set of feedbacks
(:func:`solve`) and measures the solution by rerunning it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy.optimize import brentq

from debtloops.errors import InputError, SimulationError
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import execute, prepare, reference_for
from debtloops.outputs import BASIS_POINTS
from debtloops.target.goal import EFFORT_AMOUNT, FISCAL_YEAR, Goal
from debtloops.units import PERCENT
from debtloops.validation.backtest import fiscal_year_value

#: Times a bracket end that fails to run is moved halfway toward the lever's default.
MAX_HALVINGS = 8


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
            overrides = {
                **self.goal.overrides,
                **self.fixed,
                **self.goal.settings,
                self.goal.lever: value,
            }
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
