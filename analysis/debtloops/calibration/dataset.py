"""What ``calibration.nc`` holds: the draws, the fits, the bands and the held-out check.

:func:`build_dataset` gathers a finished calibration into one dataset (its variables' meanings in
:data:`LONG_NAMES`); :func:`holdout_table` reads the held-out check back from it.
"""

from __future__ import annotations

import math

import emcee
import numpy as np
import pandas as pd
import xarray as xr

from debtloops.calibration.estimate import PointFit, Posterior
from debtloops.calibration.posterior import draw_prior
from debtloops.calibration.problem import CalibrationProblem
from debtloops.calibration.spec import HISTORY, CalibrationSpec
from debtloops.model import data
from debtloops.model.parameters import load_parameters
from debtloops.provenance import provenance_attrs

#: Posterior draws run over the whole period for the bands and the held-out check.
BAND_DRAWS = 200
#: The band's quantiles [1] and the predictive interval checked on the held-out years.
BAND = (0.05, 0.5, 0.95)
#: Prior draws kept in calibration.nc, at most (for the prior's figures and comparisons).
PRIOR_DRAWS = 10_000
#: The naive benchmark of the held-out check: the 10-year yield (this series of the historical
#: dataset) forecast as the funds rate (this one) plus a constant spread, the spread's mean over
#: the fit period's years, known before the held-out years [percent].
BENCHMARK_SERIES, BENCHMARK_FUNDS = "gs10_fy_avg", "fedfunds_fy_avg"


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


def build_dataset(
    problem: CalibrationProblem,
    fit: PointFit,
    posterior: Posterior,
    rng: np.random.Generator,
) -> xr.Dataset:
    """Return what ``calibration.nc`` holds (see :data:`LONG_NAMES`).

    Parameters
    ----------
    problem : CalibrationProblem
        The calibration's problem: its specification, data and model.
    fit : PointFit
        The least-squares fit.
    posterior : Posterior
        The MCMC run.
    rng : numpy.random.Generator
        Draws the posterior draws run for the bands, their noise and the prior draws kept.
    """
    spec = problem.spec
    names = spec.names
    draws = posterior.draws()
    log_post = posterior.draw_log_posterior()
    log_prior = np.array([problem.log_prior(theta) for theta in draws])
    chosen = rng.choice(len(draws), size=min(BAND_DRAWS, len(draws)), replace=False)
    model, predictive = _predictive(problem, draws[chosen], rng)
    defaults = np.array([problem.defaults[n] for n in names])
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
        **_parameter_variables(spec, fit, draws, defaults),
        **_series_variables(spec, fit),
        **_observation_variables(problem, fit, draws, defaults),
    }
    obs = ("obs",)
    for q, name in zip(BAND, ("q05", "q50", "q95"), strict=True):
        variables[f"band_{name}"] = (obs, np.quantile(model, q, axis=0))
        variables[f"predictive_{name}"] = (obs, np.quantile(predictive, q, axis=0))
    dataset = xr.Dataset(
        variables,
        coords={
            "quantity": posterior.names,
            "parameter": names,
            "parameter_b": names,
            "series": [item.series for item in spec.series],
        },
    )
    dataset["obs_fitted"] = dataset["obs_fitted"].astype(np.int8)
    for key, variable in dataset.variables.items():
        if key in LONG_NAMES:
            variable.attrs["long_name"] = LONG_NAMES[str(key)]
    dataset.attrs.update(_attributes(spec, fit, posterior))
    return dataset


def _parameter_variables(
    spec: CalibrationSpec, fit: PointFit, draws: np.ndarray, defaults: np.ndarray
) -> dict[str, tuple]:
    """Return the variables over ``parameter``: the point fit, the defaults and the priors."""
    table = load_parameters()
    count = len(spec.names)
    return {
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
        "parameter_units": (("parameter",), np.array([table[n].units for n in spec.names])),
    }


def _series_variables(spec: CalibrationSpec, fit: PointFit) -> dict[str, tuple]:
    """Return the variables over ``series``: the point fit's error model and each series' terms."""
    return {
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
    }


def _observation_variables(
    problem: CalibrationProblem, fit: PointFit, draws: np.ndarray, defaults: np.ndarray
) -> dict[str, tuple]:
    """Return the variables over ``obs``: the model at the defaults and fits, and the data."""
    count = len(problem.spec.names)
    obs = ("obs",)
    median = np.median(draws[:, :count], axis=0)[None]
    mean = np.mean(draws[:, :count], axis=0)[None]
    return {
        "model_default": (obs, _flat(problem.predict(defaults[None, :]))[0]),
        "model_point": (obs, _flat(problem.predict(fit.values[None, :]))[0]),
        "model_median": (obs, _flat(problem.predict(median))[0]),
        "model_mean": (obs, _flat(problem.predict(mean))[0]),
        "benchmark": (obs, spread_benchmark(problem)),
        **{key: (obs, value) for key, value in _observations(problem).items()},
    }


def _attributes(spec: CalibrationSpec, fit: PointFit, posterior: Posterior) -> dict[str, object]:
    """Return ``calibration.nc``'s global attributes: the specification and the runs' record."""
    return {
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
