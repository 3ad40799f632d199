"""``debtloops calibrate``: fit, sample, check out of sample, project, and write it all.

:func:`calibrate` runs the whole calibration in memory; :func:`write_calibration` writes it into
an output folder, each file atomically under the folder's lock:

``calibration.nc``
    The posterior draws (burn-in dropped) and the whole chain, the log-likelihood and log
    posterior of each draw, the point fit with its standard errors and correlation matrix, the
    noise scales, the priors, the diagnostics, and the fit to each series: the data, the model
    with the table's defaults, with the point fit, and the posterior median with its 5-95% band,
    over the fit period and the held-out years.
``fit.png``, ``pairs.png``, ``prior_posterior.png``
    See :mod:`debtloops.figures.calibration`.
``calibrated.toml``
    A scenario holding the posterior medians of the behavioural parameters on top of the
    baseline: a scenario file beside it can say ``base = "calibrated"``.
``holdout.csv``
    The error on the held-out years, the defaults against the calibration (see
    :func:`holdout_table`).
``projections.csv``
    A scenario's debt/GDP at the end and peak yield under prior and posterior draws of the
    calibrated behavioural parameters, the others at the scenario's values, and again with the
    specification's ``[projection] others`` drawn uniformly on their ranges under both
    (:func:`debtloops.calibration.posterior.projection_bands`).
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import emcee
import numpy as np
import pandas as pd
import xarray as xr

from debtloops.calibration.estimate import PointFit, Posterior, point_fit, sample_posterior
from debtloops.calibration.posterior import (
    CALIBRATION_FILE,
    draw_prior,
    projected_names,
    projection_bands,
    uniform_draws,
)
from debtloops.calibration.problem import CalibrationProblem
from debtloops.calibration.spec import HISTORY, CalibrationSpec, load_spec
from debtloops.errors import exact
from debtloops.figures import calibration as figures
from debtloops.model import data
from debtloops.model.parameters import load_parameters
from debtloops.provenance import provenance_attrs

#: Posterior draws run over the whole period for the bands and the held-out check.
BAND_DRAWS = 200
#: The band's quantiles [1] and the predictive interval checked on the held-out years.
BAND = (0.05, 0.5, 0.95)
#: Prior draws kept in calibration.nc, at most (for the prior's figures and comparisons).
PRIOR_DRAWS = 10_000
#: netCDF compression of every variable (zlib level): the chain repeats rejected states.
COMPRESSION = {"zlib": True, "complevel": 4}
#: The projections under prior and posterior draws, written unless they are switched off.
PROJECTIONS_FILE = "projections.csv"
#: The naive benchmark of the held-out check: the 10-year yield (this series of the historical
#: dataset) forecast as the funds rate (this one) plus a constant spread, the spread's mean over
#: the fit period's years, known before the held-out years [percent].
BENCHMARK_SERIES, BENCHMARK_FUNDS = "gs10_fy_avg", "fedfunds_fy_avg"
#: Every file :func:`write_calibration` may write into its output folder.
OUTPUT_NAMES = (
    CALIBRATION_FILE,
    "fit.png",
    "pairs.png",
    "prior_posterior.png",
    "calibrated.toml",
    "holdout.csv",
    PROJECTIONS_FILE,
)


@dataclass
class CalibrationResult:
    """A finished calibration, in memory.

    Attributes
    ----------
    spec : CalibrationSpec
        The specification.
    fit : PointFit
        The weighted least-squares fit.
    posterior : Posterior
        The MCMC run.
    dataset : xarray.Dataset
        What ``calibration.nc`` holds.
    holdout : pandas.DataFrame
        The held-out check (:func:`holdout_table`).
    projections : pandas.DataFrame or None
        The bands under prior and posterior, unless skipped.
    seconds : dict of str to float
        Wall-clock time of each stage [s].
    """

    spec: CalibrationSpec
    fit: PointFit
    posterior: Posterior
    dataset: xr.Dataset
    holdout: pd.DataFrame
    projections: pd.DataFrame | None
    seconds: dict[str, float]


def _observations(problem: CalibrationProblem) -> dict[str, np.ndarray]:
    series = np.concatenate(
        [
            [item.series] * len(d.years)
            for item, d in zip(problem.spec.series, problem.data, strict=True)
        ]
    )
    return {
        "obs_series": series.astype(str),
        "obs_year": np.concatenate([d.years for d in problem.data]).astype(int),
        "obs_fitted": np.concatenate([d.fitted for d in problem.data]),
        "observed": np.concatenate([d.observed for d in problem.data]),
    }


def _flat(predictions: list[np.ndarray]) -> np.ndarray:
    """Join the series' predictions, (runs, years) each, into (runs, observations)."""
    return np.concatenate(predictions, axis=1)


def _predictive(
    problem: CalibrationProblem, draws: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return the model's values and the predictive values (model plus noise) of some draws."""
    count = len(problem.spec.priors)
    model = _flat(problem.predict(draws[:, :count]))
    lengths = [len(d.years) for d in problem.data]
    noise = np.stack([problem.unpack(theta)[1] for theta in draws])  # (draws, series)
    scales = np.repeat(noise, lengths, axis=1)
    return model, model + scales * rng.standard_normal(model.shape)


def spread_benchmark(problem: CalibrationProblem) -> np.ndarray:
    """Return the naive benchmark for every observation: the funds rate plus a constant spread.

    For the 10-year yield (:data:`BENCHMARK_SERIES`, from the historical dataset), each year's
    funds rate (:data:`BENCHMARK_FUNDS`) plus the mean of the yield less the funds rate over the
    series' fitted years [percent]; NaN for every other series.
    """
    funds = data.history().series(BENCHMARK_FUNDS)
    parts = []
    for item, series in zip(problem.spec.series, problem.data, strict=True):
        values = np.full(len(series.years), np.nan)
        if item.series == BENCHMARK_SERIES and item.source == HISTORY:
            rates = funds.reindex(series.years.astype(int)).to_numpy(dtype=float)
            spread = np.mean(series.observed[series.fitted] - rates[series.fitted])
            values = rates + spread
        parts.append(values)
    return np.concatenate(parts)


def holdout_table(dataset: xr.Dataset) -> pd.DataFrame:
    """Return the error on the held-out years, the uncalibrated model against the calibrated.

    Parameters
    ----------
    dataset : xarray.Dataset
        A calibration's dataset.

    Returns
    -------
    pandas.DataFrame
        One row per series: its units, the held-out years, the root-mean-square error of the
        model with the table's defaults, with the least-squares fit, with every parameter at its
        posterior median (what ``calibrated.toml`` holds) and of the median over posterior draws
        of the model's value each year ("median run"), and how many held-out years fall inside
        the 90% posterior predictive interval (parameters and noise); also with every parameter
        at its posterior mean, and, for the 10-year yield, the naive benchmark
        (:func:`spread_benchmark`; NaN for the other series). Empty when nothing is held out.
    """
    rows = []
    held = dataset["obs_fitted"].values == 0
    for name in dataset["series"].values:
        mask = held & (dataset["obs_series"].values == name)
        if not mask.any():
            continue
        observed = dataset["observed"].values[mask]

        def rmse(variable: str, mask=mask, observed=observed) -> float:
            if variable not in dataset:  # a calibration written before the column existed
                return math.nan
            return float(np.sqrt(np.mean((dataset[variable].values[mask] - observed) ** 2)))

        inside = (dataset["predictive_q05"].values[mask] <= observed) & (
            observed <= dataset["predictive_q95"].values[mask]
        )
        years = dataset["obs_year"].values[mask]
        rows.append(
            {
                "series": str(name),
                "units": str(dataset["series_units"].sel(series=name).item()),
                "years": f"FY{years.min()}-FY{years.max()}",
                "rmse defaults": rmse("model_default"),
                "rmse least squares": rmse("model_point"),
                "rmse posterior medians": rmse("model_median"),
                "rmse posterior means": rmse("model_mean"),
                "rmse median run": rmse("band_q50"),
                "in 90% band": f"{int(inside.sum())}/{int(mask.sum())}",
                "rmse funds + constant spread": rmse("benchmark"),
            }
        )
    return pd.DataFrame(rows)


#: What each variable of ``calibration.nc`` holds, written as its ``long_name`` (CF).
LONG_NAMES = {
    "posterior": "posterior draw of each estimated quantity (burn-in dropped)",
    "log_posterior": "log posterior density of each draw",
    "log_likelihood": "log likelihood of each draw",
    "chain": "every step of every walker of the MCMC chain",
    "chain_log_posterior": "log posterior density at every step of every walker",
    "prior_draws": "draws from the priors of the parameters",
    "tau": "integrated autocorrelation time of each quantity [steps]",
    "rhat": "split R-hat of each quantity",
    "point_fit": "least-squares point fit of each parameter",
    "point_error": "standard error of the point fit",
    "point_at_bound": "1 if the point fit lies at a bound of the prior's range",
    "point_correlation": "correlation of the point fit's errors between parameters",
    "default": "the parameter table's value",
    "posterior_median": "posterior median of each parameter",
    "prior_kind": "kind of each prior",
    "prior_low": "lower bound of each prior",
    "prior_high": "upper bound of each prior",
    "prior_centre": "centre of each prior",
    "prior_spread": "spread of each prior",
    "parameter_units": "units of each parameter",
    "noise_point": "standard deviation of each series' errors at the point fit",
    "rho_point": "lag-one autocorrelation of each series' errors at the point fit",
    "series_errors": "error model of each series",
    "noise_estimated": "1 if the series' noise scale is estimated",
    "series_units": "units of each series",
    "series_how": "how the model's variables are compared with each series",
    "series_variables": "model variables compared with each series",
    "model_default": "the model with the parameter table's values, per observation",
    "model_point": "the model at the point fit, per observation",
    "model_median": "the model at the posterior median, per observation",
    "model_mean": "the model at the posterior mean, per observation",
    "benchmark": "spread benchmark of each observation",
    "obs_series": "series of each observation",
    "obs_year": "fiscal year of each observation",
    "obs_fitted": "1 if the observation is in the fit period, 0 if held out",
    "observed": "observed value",
    "band_q05": "5th percentile of the model over posterior draws",
    "band_q50": "median of the model over posterior draws",
    "band_q95": "95th percentile of the model over posterior draws",
    "predictive_q05": "5th percentile of the posterior predictive (model and noise)",
    "predictive_q50": "median of the posterior predictive (model and noise)",
    "predictive_q95": "95th percentile of the posterior predictive (model and noise)",
    "quantity": "estimated quantity: a parameter or an error-model term",
    "parameter": "calibrated parameter",
    "parameter_b": "calibrated parameter (second axis of the correlation matrix)",
    "series": "data series fitted",
}


def _dataset(
    problem: CalibrationProblem,
    fit: PointFit,
    posterior: Posterior,
    rng: np.random.Generator,
) -> xr.Dataset:
    spec = problem.spec
    table = load_parameters()
    names = spec.names
    count = len(names)
    draws = posterior.draws()
    log_post = posterior.draw_log_posterior()
    log_prior = np.array([problem.log_prior(theta) for theta in draws])
    chosen = rng.choice(len(draws), size=min(BAND_DRAWS, len(draws)), replace=False)
    model, predictive = _predictive(problem, draws[chosen], rng)
    defaults = np.array([problem.defaults[n] for n in names])
    observations = _observations(problem)
    obs = ("obs",)
    series = [item.series for item in spec.series]
    prior_draws = draw_prior(spec.priors, min(PRIOR_DRAWS, len(draws)), rng)
    variables = {
        "posterior": (("draw", "quantity"), draws),
        "log_posterior": (("draw",), log_post),
        "log_likelihood": (("draw",), log_post - log_prior),
        "chain": (("step", "walker", "quantity"), posterior.chain),
        "chain_log_posterior": (("step", "walker"), posterior.log_posterior),
        "prior_draws": (("prior_draw", "parameter"), prior_draws),
        "tau": (("quantity",), posterior.tau),
        "rhat": (("quantity",), posterior.rhat),
        "point_fit": (("parameter",), fit.values),
        "point_error": (("parameter",), fit.errors),
        "point_at_bound": (("parameter",), fit.at_bound.astype(np.int8)),
        "point_correlation": (("parameter", "parameter_b"), fit.correlation),
        "default": (("parameter",), defaults),
        "posterior_median": (("parameter",), np.median(draws[:, :count], axis=0)),
        "prior_kind": (("parameter",), np.array([p.kind for p in spec.priors])),
        "prior_low": (("parameter",), np.array([p.low for p in spec.priors])),
        "prior_high": (("parameter",), np.array([p.high for p in spec.priors])),
        "prior_centre": (("parameter",), np.array([p.centre for p in spec.priors])),
        "prior_spread": (("parameter",), np.array([p.spread for p in spec.priors])),
        "parameter_units": (("parameter",), np.array([table[n].units for n in names])),
        "noise_point": (("series",), fit.noise),
        "rho_point": (("series",), fit.rho),
        "series_errors": (("series",), np.array([item.errors for item in spec.series])),
        "noise_estimated": (
            ("series",),
            np.array([item.estimated_noise for item in spec.series], dtype=np.int8),
        ),
        "series_units": (("series",), np.array([item.units for item in spec.series])),
        "series_how": (("series",), np.array([item.how for item in spec.series])),
        "series_variables": (
            ("series",),
            np.array([",".join(item.variables) for item in spec.series]),
        ),
        "model_default": (obs, _flat(problem.predict(defaults[None, :]))[0]),
        "model_point": (obs, _flat(problem.predict(fit.values[None, :]))[0]),
        "model_median": (obs, _flat(problem.predict(np.median(draws[:, :count], axis=0)[None]))[0]),
        "model_mean": (obs, _flat(problem.predict(np.mean(draws[:, :count], axis=0)[None]))[0]),
        "benchmark": (obs, spread_benchmark(problem)),
        **{key: (obs, value) for key, value in observations.items()},
    }
    for q, name in zip(BAND, ("q05", "q50", "q95"), strict=True):
        variables[f"band_{name}"] = (obs, np.quantile(model, q, axis=0))
        variables[f"predictive_{name}"] = (obs, np.quantile(predictive, q, axis=0))
    dataset = xr.Dataset(
        variables,
        coords={
            "quantity": posterior.names,
            "parameter": names,
            "parameter_b": names,
            "series": series,
        },
    )
    dataset["obs_fitted"] = dataset["obs_fitted"].astype(np.int8)
    for key, variable in dataset.variables.items():
        if key in LONG_NAMES:
            variable.attrs["long_name"] = LONG_NAMES[str(key)]
    dataset.attrs.update(
        {
            "title": f"debtloops calibration: {spec.path.name}",
            "spec": spec.text,
            "start": spec.start,
            "fit_end": spec.fit_end,
            "end": spec.end,
            "yields": spec.yields,
            "walkers": posterior.chain.shape[1],
            "steps": posterior.chain.shape[0],
            "burn": posterior.burn,
            "seed": spec.sampler.seed,
            "engine": spec.sampler.engine,
            "acceptance_fraction": posterior.acceptance,
            "diagnostic_problems": "\n".join(posterior.problems) or "none",
            "point_fit_message": fit.message,
            "model_evaluations": fit.evaluations + posterior.evaluations,
            "emcee_version": emcee.__version__,
            **provenance_attrs(),
        }
    )
    return dataset


def _projections(
    result_spec: CalibrationSpec,
    dataset: xr.Dataset,
    rng: np.random.Generator,
    cbo: str | Path | None = None,
):
    """Run the projection scenario under prior and posterior draws (see the module's doc)."""
    projection = result_spec.projection
    names = projected_names(result_spec.names)
    columns = [result_spec.names.index(n) for n in names]
    posterior = dataset["posterior"].values[:, columns]
    chosen = posterior[rng.choice(len(posterior), size=projection.draws)]
    prior = draw_prior([result_spec.priors[i] for i in columns], projection.draws, rng)
    draws = {"prior": (names, prior), "posterior": (names, chosen)}
    if projection.others:
        others = list(projection.others)
        extra = uniform_draws(others, projection.draws, rng)
        draws["prior, with others"] = (names + others, np.hstack([prior, extra]))
        draws["posterior, with others"] = (names + others, np.hstack([chosen, extra]))
    return projection_bands(str(projection.scenario), draws, cbo)


def calibrate(
    spec_path: Path,
    sampler: Mapping[str, object] | None = None,
    projection: Mapping[str, object] | None = None,
    cbo: str | Path | None = None,
) -> CalibrationResult:
    """Run a calibration: point fit, posterior, held-out check and projections, in memory.

    Parameters
    ----------
    spec_path : Path
        The specification (TOML).
    sampler, projection : mapping, optional
        Replace the specification's ``[sampler]`` keys (walkers, steps, burn, seed, engine) and
        ``[projection]`` keys (scenario, None to skip, draws, others); checked like the file's.
    cbo : str or Path, optional
        The CBO vintage the projection scenario runs on (``--cbo``); its own by default. The
        fit to history does not use CBO's data.

    Returns
    -------
    CalibrationResult
        Everything :func:`write_calibration` writes.

    Raises
    ------
    InputError
        On a bad specification, sampler setting or scenario, before any model run.
    """
    from debtloops.model.run import prepare, vintage_attrs

    spec = load_spec(spec_path, sampler_overrides=sampler, projection_overrides=projection)
    if spec.projection.scenario is not None:
        planned = prepare(spec.projection.scenario, cbo=cbo)  # refused before the long work
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    problem = CalibrationProblem(spec)
    fit = point_fit(problem)
    seconds["point fit"] = time.perf_counter() - started
    started = time.perf_counter()
    posterior = sample_posterior(problem, fit)
    seconds["mcmc"] = time.perf_counter() - started
    rng = np.random.default_rng(spec.sampler.seed)
    started = time.perf_counter()
    dataset = _dataset(problem, fit, posterior, rng)
    holdout = holdout_table(dataset)
    seconds["bands"] = time.perf_counter() - started
    projections = None
    if spec.projection.scenario is not None:
        started = time.perf_counter()
        projections = _projections(spec, dataset, rng, cbo)
        dataset.attrs["projection_scenario"] = spec.projection.scenario
        vintage = vintage_attrs(planned.vintage)
        dataset.attrs.update({f"projection_{key}": text for key, text in vintage.items()})
        seconds["projections"] = time.perf_counter() - started
    return CalibrationResult(spec, fit, posterior, dataset, holdout, projections, seconds)


def calibrated_scenario(result: CalibrationResult) -> str:
    """Return the text of ``calibrated.toml``: the posterior medians on top of the baseline."""
    dataset = result.dataset
    names = projected_names(result.spec.names)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    lines = [
        f"# calibrated: the baseline with the posterior medians of {result.spec.path.name}",
        f"# Intent: the behavioural parameters that FY{result.spec.start}-FY"
        f"{result.spec.fit_end} history supports",
        f"# (debtloops calibrate, {today}).",
        "# Source: calibration.nc in this folder; the 5-95% posterior interval is beside each",
        "# value. Drivers estimated as constants over the fit period are left out.",
        'base = "baseline"',
        "",
        "[set]",
    ]
    for name in names:
        draws = dataset["posterior"].sel(quantity=name).values
        low, median, high = np.quantile(draws, BAND)
        lines.append(f"{name} = {exact(float(median))}  # 5-95%: {low:.4g} to {high:.4g}")
    return "\n".join(lines) + "\n"


def write_calibration(result: CalibrationResult, out_dir: Path) -> list[Path]:
    """Write a calibration into ``out_dir`` (see the module's docstring).

    Parameters
    ----------
    result : CalibrationResult
        From :func:`calibrate`.
    out_dir : Path
        The output folder; created if missing and locked while the files are written.

    Returns
    -------
    list of Path
        The files written.
    """
    from debtloops.cf import write_netcdf
    from debtloops.io import atomic_file, output_lock

    dataset = result.dataset
    writers = {
        CALIBRATION_FILE: lambda path: write_netcdf(
            dataset,
            path,
            f"debtloops calibrate wrote {CALIBRATION_FILE}",
            encoding={str(name): dict(COMPRESSION) for name in dataset.data_vars},
        ),
        "fit.png": lambda path: figures.plot_fit(dataset, path),
        "pairs.png": lambda path: figures.plot_pairs(dataset, path),
        "prior_posterior.png": lambda path: figures.plot_prior_posterior(dataset, path),
        "calibrated.toml": lambda path: path.write_text(
            calibrated_scenario(result), encoding="utf-8"
        ),
        "holdout.csv": lambda path: result.holdout.to_csv(path, index=False),
    }
    if result.projections is not None:
        projections = result.projections
        writers[PROJECTIONS_FILE] = lambda path: projections.to_csv(path)
    written = []
    with output_lock(out_dir):
        for name, write in writers.items():
            atomic_file(out_dir / name, write)
            written.append(out_dir / name)
    return written


def format_report(result: CalibrationResult) -> str:
    """Format a calibration's results for printing: estimates, diagnostics, held-out errors."""
    fit, posterior, dataset = result.fit, result.posterior, result.dataset
    rows = []
    for i, name in enumerate(fit.names):
        draws = dataset["posterior"].sel(quantity=name).values
        low, middle, high = np.quantile(draws, BAND)
        prior_low = float(dataset["prior_low"].sel(parameter=name))
        prior_high = float(dataset["prior_high"].sel(parameter=name))
        rows.append(
            {
                "parameter": name,
                "default": float(dataset["default"].sel(parameter=name)),
                "prior": f"{result.spec.priors[i].kind} [{prior_low:g}, {prior_high:g}]",
                "least squares": f"{fit.values[i]:.4g} ± {fit.errors[i]:.2g}"
                + (" (at bound)" if fit.at_bound[i] else ""),
                "posterior 5%": low,
                "median": middle,
                "95%": high,
                "tau": posterior.tau[i],
                "R-hat": posterior.rhat[i],
            }
        )
    estimates = pd.DataFrame(rows).set_index("parameter")

    def median(prefix: str, series: str, given: float, transform=float) -> float:
        name = f"{prefix}_{series}"
        if name not in posterior.names:
            return given
        return transform(np.median(dataset["posterior"].sel(quantity=name).values))

    series = [str(s) for s in dataset["series"].values]
    noise = pd.DataFrame(
        {
            "units": dataset["series_units"].values,
            "least squares": fit.noise,
            "posterior median": [
                median("log_noise", s, float(fit.noise[i]), np.exp) for i, s in enumerate(series)
            ],
            "rho least squares": fit.rho,
            "rho posterior median": [
                median("rho", s, float(fit.rho[i])) for i, s in enumerate(series)
            ],
        },
        index=series,
    )
    parts = [
        "Estimates (5-95% posterior interval; least squares ± standard error):",
        estimates.to_string(float_format=lambda x: f"{x:.4g}"),
        "",
        "Error model (each series' standard deviation, and lag-one autocorrelation):",
        noise.to_string(float_format=lambda x: f"{x:.4g}"),
        "",
        f"MCMC: {posterior.chain.shape[1]} walkers x {posterior.chain.shape[0]} steps "
        f"({posterior.burn} burn-in), acceptance {posterior.acceptance:.2f}, "
        f"{int(dataset.attrs['model_evaluations']):,} model runs in all",
    ]
    if not result.holdout.empty:
        parts += [
            "",
            f"Held out (FY{result.spec.fit_end + 1}-FY{result.spec.end}), root-mean-square error:",
            result.holdout.to_string(index=False, float_format=lambda x: f"{x:.3g}"),
        ]
    if result.projections is not None:
        parts += [
            "",
            f"{dataset.attrs['projection_scenario']} under prior and posterior draws of "
            f"{', '.join(projected_names(result.spec.names))}; 'with others' also draws "
            f"{', '.join(result.spec.projection.others) or 'nothing'} from their ranges:",
            result.projections.to_string(float_format=lambda x: f"{x:.4g}"),
        ]
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    parts += ["", f"Time: {timing}"]
    return "\n".join(parts)
