"""What ``debtloops target`` solves for: the goal, its lever and its tolerance, checked.

:func:`make_goal` checks the command line's goal and builds a :class:`Goal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from debtloops.errors import InputError
from debtloops.limits import MAX_INTEGER
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import PreparedRun, execute, prepare, reference_for
from debtloops.outputs import BASIS_POINTS
from debtloops.units import PERCENT
from debtloops.validation.backtest import fiscal_year_value

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
    overrides : dict
        Parameter values the user set on every run, the baseline's too (``--set``); the
        market feedbacks' switches of the second answer and :attr:`settings` take precedence.
    """

    kind: str
    lever: str
    target: float
    settings: dict[str, Value]
    by: float
    start: float
    cbo: str | Path | None = None
    overrides: dict[str, Value] = field(default_factory=dict)

    @property
    def tolerance(self) -> float:
        """How close the outcome must come to the target [its units]."""
        return DEBT_TOLERANCE if self.kind == "debt" else YIELD_TOLERANCE

    @property
    def xtol(self) -> float:
        """The lever's step at which the search stops [its units]."""
        return EFFORT_XTOL if self.kind == "debt" else RATE_XTOL


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
    overrides: Mapping[str, Value] | None = None,
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
    overrides : mapping, optional
        Parameter values set on every run, the baseline's too (``--set``); not the lever nor a
        setting that an option of ``target`` makes.

    Returns
    -------
    Goal
        The goal.

    Raises
    ------
    InputError
        On an unknown scenario or parameter, an override of the lever or of a setting, or a value
        out of range, naming the nearest valid choice.
    """
    overrides = dict(overrides or {})
    _check_overrides(overrides, "yield" if peak_extra_yield is not None else "debt")
    # an unknown scenario, parameter or invalid value fails here, with the nearest names
    plan = prepare(scenario, overrides, cbo=cbo)
    first = plan.constant("initial_time") + FISCAL_YEAR
    horizon = _horizon(plan, debt_to_gdp, by, first)
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
            overrides=overrides,
        )
    settings = _effort_settings(start, phase_in, first, horizon)  # checked before any run
    return Goal(
        kind="debt",
        lever=EFFORT,
        target=_debt_target(plan, debt_to_gdp, horizon, overrides),
        settings=settings,
        by=horizon,
        start=float(start),
        cbo=cbo,
        overrides=overrides,
    )


def _effort_settings(start: int, phase_in: float, first: float, horizon: float) -> dict[str, Value]:
    """Check ``--phase-in`` [year] and ``--from`` [fiscal year]; return the effort's settings."""
    phase = load_parameters()[EFFORT_PHASE_IN]
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
    return {EFFORT_START: start - FISCAL_YEAR, EFFORT_PHASE_IN: phase_in}


#: The parameters each goal sets itself, with the option that sets each (None: the solver).
OWN_SETTINGS: dict[str, dict[str, str | None]] = {
    "debt": {EFFORT: None, EFFORT_START: "--from", EFFORT_PHASE_IN: "--phase-in"},
    "yield": {BACKSTOP_RATE: None, BACKSTOP_SWITCH: "--peak-extra-yield"},
}


def _check_overrides(overrides: Mapping[str, Value], kind: str) -> None:
    """Refuse ``--set`` of a parameter that the goal sets itself, naming what sets it."""
    for name in overrides:
        if name not in OWN_SETTINGS[kind]:
            continue
        option = OWN_SETTINGS[kind][name]
        if option is None:
            raise InputError(f"--set {name}: target solves for {name}; leave it out of --set")
        raise InputError(f"--set {name}: target sets it from {option}; use {option} instead")


def _horizon(plan: PreparedRun, debt_to_gdp: str | None, by: int | None, first: float) -> float:
    """Return the last year to simulate [year]: ``by``, checked, or the run's final year."""
    last = plan.constant("final_time")
    if by is None and debt_to_gdp is not None:
        raise InputError("--debt-to-gdp needs --by YEAR, the fiscal year of the target")
    if by is not None and not first <= by <= last:  # compared as given: float() may overflow
        shown = f"{by}" if abs(by) <= MAX_INTEGER else "a number that large"
        raise InputError(
            f"--by {shown} is outside the run's fiscal years {first:.0f}-{last:.0f}; the "
            f"nearest valid is {_nearest(by, first, last):.0f}"
        )
    return float(by) if by is not None else last


def _debt_target(
    plan: PreparedRun,
    debt_to_gdp: str | None,
    horizon: float,
    overrides: Mapping[str, Value],
) -> float:
    """Return the debt goal's target [1]: a percent of GDP read, or the baseline's own ratio.

    The baseline has the user's ``overrides`` (``--set``), as every baseline of ``target`` has.
    """
    if debt_to_gdp is None or not debt_to_gdp.strip():
        raise InputError(
            f"--debt-to-gdp is empty; give a percent of GDP, e.g. 100, or '{BASELINE_WORD}'"
        )
    if debt_to_gdp.strip().lower() == BASELINE_WORD:
        reference = execute(reference_for(plan, overrides))  # on its vintage and years
        return fiscal_year_value(reference, "debt_held_by_public", "end_to_gdp", int(horizon))
    try:
        target = float(debt_to_gdp) / PERCENT
    except ValueError:
        raise InputError(
            f"--debt-to-gdp '{debt_to_gdp}' is not a number of percent of GDP nor "
            f"'{BASELINE_WORD}'; e.g. --debt-to-gdp 100"
        ) from None
    if not np.isfinite(target) or target <= 0:
        raise InputError(f"--debt-to-gdp {debt_to_gdp} must be a positive percent of GDP; e.g. 100")
    return target
