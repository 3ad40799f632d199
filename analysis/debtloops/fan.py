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
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.errors import InputError, SimulationError
from debtloops.io import atomic_file, check_targets
from debtloops.limits import check_count, check_seed
from debtloops.model import data, ensemble
from debtloops.model.contract import NON_NEGATIVE_STOCKS, value_problems
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import PreparedRun, prepare, reference_for, vintage_attrs
from debtloops.outputs import debt_to_year_gdp_of_runs
from debtloops.provenance import provenance_attrs

#: What ``debtloops fan --out DIR`` writes.
OUTPUT_NAMES = ("fan.nc", "fan.csv", "fan.png")
#: The shocked variables, in the VAR's order; all are rates [1/year] or shares of GDP [1].
SHOCKS = ("real_growth", "inflation", "policy_rate", "term_premium", "primary_deficit")
#: The drivers each shock is added to.
SHOCK_DRIVERS: dict[str, tuple[str, ...]] = {
    "real_growth": ("nominal_gdp_growth_path",),
    "inflation": ("nominal_gdp_growth_path", "expected_inflation", "cpi_inflation_path"),
    "policy_rate": ("fed_policy_rate_path",),
    "term_premium": ("term_premium_shock",),
    "primary_deficit": ("primary_deficit_share_of_gdp",),
}
#: Percent per unit of a rate or ratio.
PERCENT = 100.0
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
#: The fan's quantiles [1]: the 5-95% and 25-75% bands and the median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The choices of ``--parameters``: the table's values, or uniform draws over the ranges.
PARAMETER_CHOICES = ("none", "ranges")
#: The second word of the parameter draws' seed, which keeps their stream apart from the shocks'.
PARAMETER_STREAM = 1
#: The largest share of draws that may be dropped for reaching an impossible state (a negative
#: stock) in either case [1]. The probabilities are over the draws kept, so a dropped share f
#: moves each by at most f; beyond this the command fails (exit 3).
MAX_DROPPED_SHARE = 0.01
#: The runs: the scenario and its baseline.
CASES = ("scenario", "baseline")
#: The model variables read from every run.
VARIABLES = (
    "debt_held_by_public",
    "cumulative_nominal_gdp",
    "market_yield",
    "interest_to_revenue",
)
#: The outcomes fanned: name -> (long name, units on disk).
OUTCOMES = {
    "debt_to_gdp": ("debt held by the public at the fiscal year end over the year's GDP", "1"),
    "ten_year_yield": ("10-year market yield, mean of the fiscal year's saved points", "1/year"),
    "interest_to_revenue": ("net interest over revenue, mean of the fiscal year's points", "1"),
}


@dataclass(frozen=True)
class Var:
    """A VAR(1) with a constant, ``x_t = c + A x_(t-1) + e_t``, fitted by least squares.

    Attributes
    ----------
    names : tuple of str
        The variables, in order (:data:`SHOCKS`).
    constant : numpy.ndarray
        ``c``, shape (k,) [the variables' units].
    coefficients : numpy.ndarray
        ``A``, shape (k, k) [1].
    covariance : numpy.ndarray
        The residuals' covariance, shape (k, k), divided by the degrees of freedom (years less
        the k + 1 coefficients of each equation) [units squared].
    years : tuple of int
        The fiscal years of the left-hand side.
    """

    names: tuple[str, ...]
    constant: np.ndarray
    coefficients: np.ndarray
    covariance: np.ndarray
    years: tuple[int, ...]


def history_series() -> pd.DataFrame:
    """Return the five annual series of :data:`SHOCKS` by fiscal year, over the years all exist.

    Nominal growth is the log change of fiscal-year GDP and inflation the CPI-U's over the fiscal
    year (:func:`debtloops.model.data.cpi_inflation`); the funds rate and the ACM term premium
    are fiscal-year means; the primary deficit is over fiscal-year GDP. All [1/year] or [1].
    """
    history = data.history()
    gdp = history.series("gdp_fy")
    inflation = data.cpi_inflation()
    frame = pd.DataFrame(
        {
            "real_growth": np.log(gdp / gdp.shift(1)) - inflation,
            "inflation": inflation,
            "policy_rate": history.series("fedfunds_fy_avg") / PERCENT,
            "term_premium": data.fiscal_year_mean("acmtp10") / PERCENT,
            "primary_deficit": history.series("primary_deficit") / gdp,
        }
    )
    return frame[list(SHOCKS)].dropna()


def estimate(frame: pd.DataFrame) -> Var:
    """Fit a VAR(1) with a constant to consecutive years of ``frame`` by least squares."""
    values = frame.to_numpy(dtype=float)
    years = frame.index.to_numpy(dtype=int)
    consecutive = np.flatnonzero(np.diff(years) == 1)
    lagged, current = values[consecutive], values[consecutive + 1]
    design = np.column_stack([np.ones(len(lagged)), lagged])
    solution, *_ = np.linalg.lstsq(design, current, rcond=None)
    residuals = current - design @ solution
    freedom = len(current) - design.shape[1]
    if freedom < 1:
        raise InputError(f"the history has {len(current)} pairs of years, too few for a VAR(1)")
    return Var(
        names=tuple(frame.columns),
        constant=solution[0],
        coefficients=solution[1:].T,
        covariance=residuals.T @ residuals / freedom,
        years=tuple(int(y) for y in years[consecutive + 1]),
    )


def draw_innovations(covariance: np.ndarray, draws: int, years: int, seed: int) -> np.ndarray:
    """Draw Gaussian innovations of a covariance, shape (draws, years, k) [the variables' units].

    The covariance's symmetric square root (from its eigenvalues, negative rounding set to 0)
    is used, so a singular or zero covariance is allowed: zero gives zero innovations.
    """
    eigenvalues, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    normal = np.random.default_rng(seed).standard_normal((draws, years, len(covariance)))
    return normal @ root.T


def propagate(coefficients: np.ndarray, innovations: np.ndarray) -> np.ndarray:
    """Return deviations ``d_t = A d_(t-1) + e_t`` from ``d = 0``, shaped as ``innovations``."""
    deviations = np.zeros_like(innovations)
    previous = np.zeros(innovations.shape[::2])
    for year in range(innovations.shape[1]):
        previous = previous @ coefficients.T + innovations[:, year]
        deviations[:, year] = previous
    return deviations


def _base_path(value: Value, times: np.ndarray) -> np.ndarray:
    """Evaluate a driver (a number or a year -> value series) at ``times``, as the model does."""
    if isinstance(value, Mapping):
        years = np.array(list(value.keys()), dtype=float)
        levels = np.array(list(value.values()), dtype=float)
        return np.interp(times, years, levels)
    return np.full(len(times), float(value))


def shocked_paths(
    run: PreparedRun, deviations: np.ndarray
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    """Add the deviations, one step a fiscal year, to the run's drivers.

    Parameters
    ----------
    run : PreparedRun
        The prepared scenario or baseline.
    deviations : numpy.ndarray
        Shape (runs, fiscal years, k): the deviation in each projected fiscal year, the first
        the one after ``initial_time`` [the variables' units].

    Returns
    -------
    paths : dict
        Driver -> (years [year], levels (runs, years)), for
        :func:`debtloops.model.ensemble.simulate`.
    clipped : float
        The share of driver values clipped to their valid range [1].
    """
    table = load_parameters()
    start = run.constant("initial_time")
    count = deviations.shape[1]
    edges = start + np.arange(count, dtype=float)
    steps = np.concatenate([edges, edges + 1.0 - data.STEP_EDGE])
    paths: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    clipped = total = 0
    for driver in dict.fromkeys(d for names in SHOCK_DRIVERS.values() for d in names):
        value = run.values[driver]
        own: np.ndarray | list[float] = (
            np.array(list(value.keys()), dtype=float) if isinstance(value, Mapping) else []
        )
        inside = [t for t in own if start <= t <= start + count]
        times = np.unique(np.concatenate([steps, inside]))
        index = np.clip(np.floor(times - start + data.STEP_EDGE).astype(int), 0, count - 1)
        added = sum(
            (
                deviations[:, :, SHOCKS.index(shock)]
                for shock, names in SHOCK_DRIVERS.items()
                if driver in names
            ),
            start=np.zeros(deviations.shape[:2]),
        )
        levels = _base_path(value, times)[None, :] + added[:, index]
        low, high = table[driver].valid_min, table[driver].valid_max
        outside = (levels < low) | (levels > high)
        clipped, total = clipped + int(outside.sum()), total + outside.size
        paths[driver] = (times, np.clip(levels, low, high))
    return paths, clipped / total


def fiscal_year_outcomes(
    times: np.ndarray, results: Mapping[str, np.ndarray], years: Sequence[int] | np.ndarray
) -> dict[str, np.ndarray]:
    """Return each of :data:`OUTCOMES` by run and fiscal year, shape (runs, years)."""
    runs = xr.Dataset(
        {name: (("sample", "time"), results[name]) for name in VARIABLES},
        coords={"time": times},
    )
    debt = np.column_stack(
        [debt_to_year_gdp_of_runs(runs, float(year)).to_numpy() for year in years]
    )
    means = {}
    for name in ("market_yield", "interest_to_revenue"):
        columns = []
        for year in years:
            inside = (times > year - 1.0) & (times <= year)
            columns.append(results[name][:, inside].mean(axis=1))
        means[name] = np.column_stack(columns)
    return {
        "debt_to_gdp": debt,
        "ten_year_yield": means["market_yield"],
        "interest_to_revenue": means["interest_to_revenue"],
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
    read = tuple(dict.fromkeys([*VARIABLES, *NON_NEGATIVE_STOCKS]))
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
    years: Sequence[int] = DEFAULT_YEARS,
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
    years : sequence of int
        Fiscal years of the probabilities [year], within the run's projected years.
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
    draws = check_count(draws, "--draws", MIN_DRAWS, MAX_DRAWS)
    seed = check_seed(seed, "--seed")
    if parameters not in PARAMETER_CHOICES:
        raise InputError(
            f"--parameters '{parameters}' is not one of {', '.join(PARAMETER_CHOICES)}"
        )
    prepared = scenario if isinstance(scenario, PreparedRun) else prepare(scenario, cbo=cbo)
    if baseline is None:
        baseline = reference_for(prepared)
    first = int(round(prepared.constant("initial_time"))) + 1
    last = int(round(prepared.constant("final_time")))
    for year in years:
        if not first <= year <= last:
            nearest = min(max(year, first), last)
            raise InputError(
                f"--years: {year} is outside the run's fiscal years {first}-{last}; the nearest "
                f"valid is {nearest}"
            )
    var = estimate(history_series())
    shock_covariance = var.covariance if covariance is None else np.asarray(covariance, float)
    fiscal_years = np.arange(first, last + 1)
    started = time.perf_counter()
    innovations = draw_innovations(shock_covariance, draws, len(fiscal_years), seed)
    deviations = propagate(var.coefficients, innovations)
    unshocked = np.zeros((1, *deviations.shape[1:]))
    stacked = np.concatenate([deviations, unshocked])
    by_case, clipped, problems = {}, {}, []
    drawn = parameter_draws(prepared, draws, seed) if parameters == "ranges" else {}
    for case, run in zip(CASES, (prepared, baseline), strict=True):
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
    failed = np.asarray(np.array([bool(p) for p in problems]).reshape(len(CASES), -1).any(axis=0))
    example = next(p for p in problems if p) if failed.any() else ""
    if failed[-1]:
        raise SimulationError(f"{prepared.scenario.name} without shocks failed: {example}")
    if failed.mean() > MAX_DROPPED_SHARE:
        raise SimulationError(
            f"{int(failed.sum())} of {draws} draws reached an impossible state (more than "
            f"{PERCENT * MAX_DROPPED_SHARE:g}%), e.g. {example}"
        )
    kept = ~failed
    by_case = {
        case: {name: values[kept] for name, values in outcomes.items()}
        for case, outcomes in by_case.items()
    }
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
        int(failed.sum()),
    )
    dataset.attrs.update(vintage_attrs(prepared.vintage))
    return dataset


def summarise(
    by_case: Mapping[str, Mapping[str, np.ndarray]],
    fiscal_years: np.ndarray,
    thresholds: Sequence[float],
    years: Sequence[int],
    var: Var,
    covariance: np.ndarray,
    draws: int,
    seed: int,
    seconds: float,
    clipped: Mapping[str, float],
    scenario: str,
    drawn: Sequence[str] = (),
    dropped: int = 0,
) -> xr.Dataset:
    """Build the fan's dataset from the outcomes of each case (the last run unshocked)."""
    limits = np.asarray(thresholds, dtype=float) / PERCENT
    chosen = np.searchsorted(fiscal_years, np.asarray(years))
    variables: dict[str, tuple] = {}
    for name, (long_name, units) in OUTCOMES.items():
        stack = np.stack([by_case[case][name] for case in CASES])  # (case, runs, years)
        shocked = stack[:, :-1]
        variables[name] = (
            ("case", "quantile", "year"),
            np.quantile(shocked, QUANTILES, axis=1).transpose(1, 0, 2),
            {"long_name": f"{long_name}, quantiles over the draws", "units": units},
        )
        variables[f"{name}_deterministic"] = (
            ("case", "year"),
            stack[:, -1],
            {"long_name": f"{long_name}, the run without shocks", "units": units},
        )
    debt = np.stack([by_case[case]["debt_to_gdp"][:-1] for case in CASES])
    above = debt[:, :, None, :] > limits[None, None, :, None]  # (case, runs, threshold, year)
    ever = np.maximum.accumulate(above, axis=3)
    variables["probability_in_year"] = (
        ("case", "threshold", "by_year"),
        above.mean(axis=1)[:, :, chosen],
        {"long_name": "probability that debt/GDP exceeds the threshold in the year", "units": "1"},
    )
    variables["probability_by_year"] = (
        ("case", "threshold", "by_year"),
        ever.mean(axis=1)[:, :, chosen],
        {
            "long_name": "probability that debt/GDP exceeds the threshold in some projected "
            "fiscal year up to and including the year",
            "units": "1",
        },
    )
    variables["shock_covariance"] = (
        ("shock", "shock_"),
        covariance,
        {"long_name": "covariance of one year's innovations", "units": "1"},
    )
    variables["var_coefficients"] = (
        ("shock", "shock_"),
        var.coefficients,
        {"long_name": "VAR(1) coefficients: row's variable on last year's column", "units": "1"},
    )
    coords = {
        "case": ("case", list(CASES), {"long_name": "the scenario or its baseline"}),
        "quantile": ("quantile", list(QUANTILES), {"long_name": "quantile", "units": "1"}),
        "year": ("year", fiscal_years, {"long_name": "fiscal year (at its end)", "units": "1"}),
        "threshold": ("threshold", limits, {"long_name": "debt/GDP threshold", "units": "1"}),
        "by_year": ("by_year", list(years), {"long_name": "fiscal year", "units": "1"}),
        "shock": ("shock", list(SHOCKS), {"long_name": "shocked variable"}),
        "shock_": ("shock_", list(SHOCKS), {"long_name": "shocked variable"}),
    }
    attrs = {
        **provenance_attrs(),
        "title": f"debtloops fan chart of {scenario}",
        "scenario": scenario,
        "draws": draws,
        "seed": seed,
        "seconds": seconds,
        "method": "VAR(1) on FY"
        f"{var.years[0] - 1}-{var.years[-1]} history; Gaussian innovations with its residual "
        "covariance, propagated by its coefficients; added to the scenario's drivers",
        "clipped_share_scenario": clipped["scenario"],
        "clipped_share_baseline": clipped["baseline"],
        "parameters_drawn": ", ".join(drawn) or "none",
        "draws_dropped": dropped,
    }
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def fan_table(dataset: xr.Dataset) -> pd.DataFrame:
    """Return the fan as a long table: case, outcome, year, statistic, value (units as in .nc)."""
    rows = []
    for name in OUTCOMES:
        for case in CASES:
            for year in dataset["year"].to_numpy():
                cell = dataset[name].sel(case=case, year=year)
                for q in QUANTILES:
                    value = float(cell.sel(quantile=q))
                    rows.append((case, name, int(year), f"quantile {q:g}", value))
                value = float(dataset[f"{name}_deterministic"].sel(case=case, year=year))
                rows.append((case, name, int(year), "deterministic", value))
    for kind in ("in_year", "by_year"):
        probability = dataset[f"probability_{kind}"]
        for case in CASES:
            for limit in dataset["threshold"].to_numpy():
                for year in dataset["by_year"].to_numpy():
                    value = float(probability.sel(case=case, threshold=limit, by_year=year))
                    outcome = f"P(debt_to_gdp > {PERCENT * limit:g}%) {kind.replace('_', ' ')}"
                    rows.append((case, outcome, int(year), "probability", value))
    return pd.DataFrame(rows, columns=["case", "outcome", "fiscal_year", "statistic", "value"])


def probability_text(dataset: xr.Dataset) -> str:
    """Return the threshold probabilities as a table to print [percent]."""
    lines = []
    for kind, word in (("by_year", "ever by"), ("in_year", "in")):
        frame = (
            PERCENT
            * dataset[f"probability_{kind}"]
            .to_dataframe()[f"probability_{kind}"]
            .unstack("case")[list(CASES)]
        )
        frame.index = [f"> {PERCENT * t:g}% {word} {y}" for t, y in frame.index]
        lines.append(frame.to_string(float_format=lambda x: f"{x:.1f}%"))
    return "\n\n".join(lines)


def write_fan(out_dir: Path, dataset: xr.Dataset) -> list[Path]:
    """Write ``fan.nc``, ``fan.csv`` and ``fan.png`` into ``out_dir``, each atomically.

    Every target must be absent or debtloops' own (:func:`debtloops.io.check_targets`), checked
    before the first is written.
    """
    from debtloops.figures.fan import plot_fan

    check_targets(out_dir, OUTPUT_NAMES)
    netcdf, table, chart = (Path(out_dir) / name for name in OUTPUT_NAMES)
    atomic_file(netcdf, lambda path: write_netcdf(dataset, path, "debtloops fan wrote fan.nc"))
    buffer = io.StringIO()
    fan_table(dataset).to_csv(buffer, index=False)
    text = buffer.getvalue()
    atomic_file(table, lambda path: path.write_text(text))
    atomic_file(chart, lambda path: plot_fan(dataset, path))
    return [netcdf, table, chart]
