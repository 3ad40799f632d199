"""Stochastic fan charts: a scenario's debt under shocks drawn from FY2000-2025 history.

``debtloops fan`` runs them. The method follows the stochastic debt projections of the IMF's
sovereign-risk framework and of the European Commission's debt-sustainability monitor: estimate
how the macro-fiscal variables moved together in the past, draw many futures of shocks from
that, and read the spread of debt paths as fans and threshold probabilities.

Shocks
    Five annual fiscal-year series (:func:`history_series`): real growth (nominal GDP growth less
    CPI inflation), CPI inflation, the federal funds rate, the ACM 10-year term premium and the
    primary deficit over GDP. A VAR(1) with a constant is fitted to them by least squares
    (:func:`estimate`); its residual covariance is the covariance of one year's shocks. Each draw
    is a path of Gaussian innovations ``e_t ~ N(0, S)``, propagated by the VAR's dynamics
    ``d_t = A d_(t-1) + e_t`` from ``d = 0`` before the first projected year, so a shock persists
    as it did in history. The deviations ``d`` are added to the scenario's own driver paths; the
    VAR's constant (the historical means) is not used, so the median stays near the scenario.
    Gaussian draws were chosen over a bootstrap of the 24 residual vectors, which would repeat
    the same handful of years in every draw.

Where the shocks enter (:data:`SHOCK_DRIVERS`)
    As year-by-year step changes to the .mdl's drivers; every feedback of the scenario stays on,
    and no equation of the model is written here. Real growth and inflation shift the nominal
    growth path, inflation also the expected and the CPI inflation paths; the policy rate shifts
    the Fed's path (the policy rule still acts on top), the term premium the term premium shock,
    the primary deficit its share of GDP. A shocked driver is clipped to its valid range in
    ``models/parameters.toml``; the share of clipped values is recorded.

Parameter uncertainty
    With ``parameters="ranges"`` (``--parameters ranges``) each draw also takes every behavioural
    parameter (kind ``uncertainty`` in ``models/parameters.toml``) that the scenario leaves at its
    default, independently and uniformly from its plausible range (the sweeps' default bounds),
    from a random stream of its own, so the shocks are the same with and without it. The
    unshocked run keeps the defaults. The calibration's posterior is not offered yet.

Pairing
    The scenario and its own baseline (:func:`debtloops.model.run.reference_for`) run with the
    same draws, each as one pysd ensemble of the draws plus one unshocked run (the deterministic
    path), so "with and without the sale" differ only by the sale. Beyond 10,000 draws the runs
    are split into ensembles of :data:`CHUNK_RUNS`, to bound memory. A draw whose run reaches an
    impossible state (a negative stock, as :func:`debtloops.model.contract.value_problems` finds)
    in either case is dropped from both, and counted (``draws_dropped``); more than
    :data:`MAX_DROPPED_SHARE` of the draws fails the command, as does the unshocked run.

The shocks are in :mod:`debtloops.fan.shocks`, the summary and its files in
:mod:`debtloops.fan.summary`; the runs are here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from debtloops.errors import InputError, SimulationError
from debtloops.fan.shocks import (
    SHOCK_DRIVERS,
    SHOCKS,
    Var,
    draw_innovations,
    estimate,
    history_series,
    propagate,
    shocked_paths,
)
from debtloops.fan.summary import (
    CASES,
    FANNED,
    OUTCOMES,
    OUTPUT_NAMES,
    QUANTILES,
    fan_table,
    probability_text,
    summarise,
    write_fan,
)
from debtloops.limits import check_count, check_seed
from debtloops.model import ensemble
from debtloops.model.contract import NON_NEGATIVE, value_problems
from debtloops.model.outcomes import value
from debtloops.model.parameters import load_parameters
from debtloops.model.run import PreparedRun, prepare, reference_for, vintage_attrs
from debtloops.units import PERCENT

__all__ = [
    "CASES",
    "OUTCOMES",
    "OUTPUT_NAMES",
    "PERCENT",
    "QUANTILES",
    "SHOCK_DRIVERS",
    "SHOCKS",
    "Var",
    "draw_innovations",
    "estimate",
    "fan",
    "fan_table",
    "fiscal_year_outcomes",
    "history_series",
    "parameter_draws",
    "parse_thresholds",
    "parse_years",
    "probability_text",
    "propagate",
    "shocked_paths",
    "summarise",
    "write_fan",
]

#: Defaults of the command line: thresholds of debt/GDP [percent], years [fiscal year], seed.
DEFAULT_THRESHOLDS = (130.0, 150.0, 200.0)
DEFAULT_YEARS = (2035, 2040, 2055)
DEFAULT_SEED = 20
#: Draws of each scenario's fan in ``debtloops report`` [runs]: each threshold probability is
#: then within 2.3 points of its limit (one standard error, at most 0.5 / sqrt(draws)).
REPORT_DRAWS = 500
#: The fewest draws that give a spread, and the most, which keeps the outcomes held in memory
#: under about 300 MB (3 outcomes x 30 years x 8 bytes a draw and case) [runs].
MIN_DRAWS, MAX_DRAWS = 2, 200_000
#: The most runs in one pysd ensemble: 10,000 draws and the unshocked run. More draws run as
#: several ensembles of this size (one translation) and a last, smaller one, bounding the memory
#: of pysd's arrays (under 1 GB in all at this size) [runs].
CHUNK_RUNS = 10_001
#: The choices of ``--parameters``: the table's values, or uniform draws over the ranges.
PARAMETER_CHOICES = ("none", "ranges")
#: The second word of the parameter draws' seed, which keeps their stream apart from the shocks'.
PARAMETER_STREAM = 1
#: The largest share of draws that may be dropped for reaching an impossible state (a negative
#: stock) in either case [1]. The probabilities are over the draws kept, so a dropped share f
#: moves each by at most f; beyond this the command fails (exit 3).
MAX_DROPPED_SHARE = 0.01
#: The model variables read from every run.
VARIABLES = (
    "debt_held_by_public",
    "cumulative_nominal_gdp",
    "market_yield",
    "interest_to_revenue",
)


def fiscal_year_outcomes(
    times: np.ndarray, results: Mapping[str, np.ndarray], years: Sequence[int] | np.ndarray
) -> dict[str, np.ndarray]:
    """Return each of :data:`OUTCOMES` by run and fiscal year, shape (runs, years).

    Each is its outcome of the registry (:data:`~debtloops.fan.summary.FANNED`) at the end of
    each fiscal year.
    """
    runs = xr.Dataset(
        {name: (("sample", "time"), results[name]) for name in VARIABLES},
        coords={"time": times},
    )
    return {
        name: np.column_stack([value(outcome, runs, when=float(year)).to_numpy() for year in years])
        for name, outcome in FANNED.items()
    }


def parameter_draws(run: PreparedRun, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Draw the behavioural parameters the run leaves at their defaults, uniform on their ranges.

    Returns one value per draw and a last one, the default, for the unshocked run [units].
    """
    rng = np.random.default_rng([seed, PARAMETER_STREAM])
    chosen = [p for p in load_parameters().of_kind("uncertainty") if run.values[p.name] == p.value]
    return {p.name: np.append(rng.uniform(p.low, p.high, draws), p.value) for p in chosen}


def _simulate(
    run: PreparedRun, deviations: np.ndarray, sampled: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, dict, float, list[str]]:
    """Run one ensemble; return its times, results, clipped share and each run's problem."""
    paths, clipped = shocked_paths(run, deviations)
    read = tuple(dict.fromkeys([*VARIABLES, *NON_NEGATIVE]))
    times, results = ensemble.simulate(run.values, sampled, read, paths=paths)
    return times, results, clipped, value_problems(results, times)


def parse_thresholds(text: str) -> tuple[float, ...]:
    """Read ``--thresholds`` [percent of GDP]: positive numbers separated by commas."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise InputError(
            f"--thresholds '{text}' is not a list of percents of GDP; e.g. --thresholds 130,150,200"
        ) from None
    if not values or not all(np.isfinite(v) and v > 0 for v in values):
        raise InputError(
            f"--thresholds '{text}' must be positive percents of GDP; e.g. --thresholds 130,150,200"
        )
    return tuple(sorted(set(values)))


def parse_years(text: str) -> tuple[int, ...]:
    """Read ``--years`` [fiscal year]: whole years separated by commas (checked in :func:`fan`)."""
    try:
        return tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise InputError(
            f"--years '{text}' is not a list of fiscal years; e.g. --years 2035,2040,2055"
        ) from None


def fan(
    scenario: str | PreparedRun,
    draws: int,
    seed: int = DEFAULT_SEED,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    years: Sequence[int] | None = None,
    covariance: np.ndarray | None = None,
    parameters: str = "none",
    cbo: str | Path | None = None,
    baseline: PreparedRun | None = None,
) -> xr.Dataset:
    """Run a scenario and its baseline under the same shocks and summarise them.

    Parameters
    ----------
    scenario : str or PreparedRun
        A shipped scenario's name or a .toml file, or a scenario already prepared.
    draws : int
        Shocked runs of each [runs], at least :data:`MIN_DRAWS`.
    seed : int
        Seed of the draws; the same seed gives the same draws.
    thresholds : sequence of float
        Debt/GDP levels [percent].
    years : sequence of int, optional
        Fiscal years of the probabilities [year], within the run's projected years;
        :func:`default_years` by default.
    covariance : numpy.ndarray, optional
        Replaces the estimated covariance of the innovations (k x k) [units squared]; zeros give
        every draw the deterministic path.
    parameters : str
        ``"none"``, or ``"ranges"`` to draw the behavioural parameters too (see the module).
    cbo : str or Path, optional
        The CBO vintage, a shipped name or a folder (``--cbo``); the scenario's own by default.
        The baseline is on the same vintage.
    baseline : PreparedRun, optional
        The run without the sale; :func:`debtloops.model.run.reference_for` the scenario by
        default.

    Returns
    -------
    xarray.Dataset
        Quantiles by case and fiscal year, the deterministic paths, and the probabilities of
        exceeding each threshold in and by each chosen year.

    Raises
    ------
    InputError
        On bad draws, seed, thresholds or years, or an unknown scenario; nothing has run then.
    """
    draws, seed = _checked(draws, seed, parameters)
    prepared = scenario if isinstance(scenario, PreparedRun) else prepare(scenario, cbo=cbo)
    baseline = reference_for(prepared) if baseline is None else baseline
    years = default_years(prepared) if years is None else years
    fiscal_years = _fiscal_years(prepared, years)
    var = estimate(history_series())
    shock_covariance = var.covariance if covariance is None else np.asarray(covariance, float)
    started = time.perf_counter()
    stacked = _draw_deviations(var, shock_covariance, draws, len(fiscal_years), seed)
    drawn = parameter_draws(prepared, draws, seed) if parameters == "ranges" else {}
    by_case, clipped, problems = _run_cases((prepared, baseline), stacked, drawn, fiscal_years)
    by_case, dropped = _drop_failed(by_case, problems, prepared.scenario.name, draws)
    seconds = time.perf_counter() - started
    dataset = summarise(
        by_case,
        fiscal_years,
        thresholds,
        years,
        var,
        shock_covariance,
        draws,
        seed,
        seconds,
        clipped,
        prepared.scenario.name,
        sorted(drawn),
        dropped,
    )
    dataset.attrs.update(vintage_attrs(prepared.vintage))
    return dataset


def _draw_deviations(
    var: Var, covariance: np.ndarray, draws: int, years: int, seed: int
) -> np.ndarray:
    """Draw the deviations of each draw's drivers, year by year, and add an unshocked draw last.

    Returns
    -------
    numpy.ndarray
        Shape (draws + 1, years, shocks) [each shock's units].
    """
    innovations = draw_innovations(covariance, draws, years, seed)
    deviations = propagate(var.coefficients, innovations)
    return np.concatenate([deviations, np.zeros((1, *deviations.shape[1:]))])


def _checked(draws: int, seed: int, parameters: str) -> tuple[int, int]:
    """Return the draws and the seed, checked, refusing an unknown ``--parameters``."""
    draws = check_count(draws, "--draws", MIN_DRAWS, MAX_DRAWS)
    seed = check_seed(seed, "--seed")
    if parameters not in PARAMETER_CHOICES:
        raise InputError(
            f"--parameters '{parameters}' is not one of {', '.join(PARAMETER_CHOICES)}"
        )
    return draws, seed


def default_years(run: PreparedRun) -> tuple[int, ...]:
    """Return :data:`DEFAULT_YEARS` within the run's projected fiscal years, or its last year.

    Parameters
    ----------
    run : PreparedRun
        The scenario as it will run (its ``initial_time`` and ``final_time`` [year]).

    Returns
    -------
    tuple of int
        The fiscal years of the probabilities [year].
    """
    first, last = _projected_years(run)
    return tuple(y for y in DEFAULT_YEARS if first <= y <= last) or (last,)


def _projected_years(run: PreparedRun) -> tuple[int, int]:
    """Return the first and last whole fiscal years a run projects [year].

    Fiscal year Y ends at ``Y.0`` on the model's clock, so the last whole one is the final time
    rounded down; a run that ends before its first fiscal year is whole is refused.
    """
    first = int(round(run.constant("initial_time"))) + 1
    final = run.constant("final_time")
    last = math.floor(final)
    if last < first:
        raise InputError(
            f"final_time = {final:g} ends before fiscal year {first} is whole; a fan needs at "
            f"least one; nearest valid value: {first}"
        )
    return first, last


def _fiscal_years(run: PreparedRun, years: Sequence[int]) -> np.ndarray:
    """Return the run's projected fiscal years [year], refusing a chosen year outside them."""
    first, last = _projected_years(run)
    for year in years:
        if not first <= year <= last:
            nearest = min(max(year, first), last)
            raise InputError(
                f"--years: {year} is outside the run's fiscal years {first}-{last}; the nearest "
                f"valid is {nearest}"
            )
    return np.arange(first, last + 1)


def _run_cases(
    runs: Sequence[PreparedRun],
    stacked: np.ndarray,
    drawn: Mapping[str, np.ndarray],
    fiscal_years: np.ndarray,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float], list[str]]:
    """Run each case of :data:`CASES` over the deviations, in ensembles of :data:`CHUNK_RUNS`.

    Returns
    -------
    by_case : dict
        Case -> outcome -> values, shape (runs, fiscal years) (:func:`fiscal_year_outcomes`).
    clipped : dict
        Case -> the share of its driver values clipped to their valid range [1].
    problems : list of str
        Each run's impossible state, or an empty string: the first case's runs, then the next's.
    """
    by_case, clipped, problems = {}, {}, []
    for case, run in zip(CASES, runs, strict=True):
        parts, clipped_runs = [], 0.0
        for begin in range(0, len(stacked), CHUNK_RUNS):
            chunk = stacked[begin : begin + CHUNK_RUNS]
            sampled = {name: v[begin : begin + CHUNK_RUNS] for name, v in drawn.items()}
            times, results, share, found = _simulate(run, chunk, sampled)
            parts.append(fiscal_year_outcomes(times, results, fiscal_years))
            clipped_runs += share * len(chunk)
            problems.extend(found)
        by_case[case] = {name: np.concatenate([p[name] for p in parts]) for name in OUTCOMES}
        clipped[case] = clipped_runs / len(stacked)
    return by_case, clipped, problems


def _drop_failed(
    by_case: Mapping[str, Mapping[str, np.ndarray]],
    problems: Sequence[str],
    scenario: str,
    draws: int,
) -> tuple[dict[str, dict[str, np.ndarray]], int]:
    """Drop the draws that failed in either case; return the rest and how many were dropped.

    Raises
    ------
    SimulationError
        If the unshocked run failed, or more than :data:`MAX_DROPPED_SHARE` of the draws did.
    """
    failed = np.asarray(np.array([bool(p) for p in problems]).reshape(len(CASES), -1).any(axis=0))
    example = next(p for p in problems if p) if failed.any() else ""
    if failed[-1]:
        raise SimulationError(f"{scenario} without shocks failed: {example}")
    if failed.mean() > MAX_DROPPED_SHARE:
        raise SimulationError(
            f"{int(failed.sum())} of {draws} draws reached an impossible state (more than "
            f"{PERCENT * MAX_DROPPED_SHARE:g}%), e.g. {example}"
        )
    kept = ~failed
    kept_by_case = {
        case: {name: values[kept] for name, values in outcomes.items()}
        for case, outcomes in by_case.items()
    }
    return kept_by_case, int(failed.sum())
