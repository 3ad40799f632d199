"""``debtloops calibrate``: fit, sample, check out of sample, project, and write it all.

:func:`calibrate` runs the whole calibration in memory; :func:`write_calibration` writes it into
an output folder, each file atomically under the folder's lock:

``calibration.nc``
    The posterior draws (burn-in dropped) and the whole chain, the log-likelihood and log
    posterior of each draw, the point fit with its standard errors and correlation matrix, the
    noise scales, the priors, the diagnostics, and the fit to each series: the data, the model
    with the table's defaults, with the point fit, and the posterior median with its 5-95% band,
    over the fit period and the held-out years
    (:func:`debtloops.calibration.dataset.build_dataset`).
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
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.calibration.dataset import BAND, build_dataset, holdout_table, spread_benchmark
from debtloops.calibration.estimate import PointFit, Posterior, point_fit, sample_posterior
from debtloops.calibration.posterior import (
    CALIBRATION_FILE,
    draw_prior,
    projected_names,
    projection_bands,
    uniform_draws,
)
from debtloops.calibration.problem import CalibrationProblem
from debtloops.calibration.spec import CalibrationSpec, load_spec
from debtloops.errors import exact
from debtloops.figures import calibration as figures

__all__ = [
    "OUTPUT_NAMES",
    "PROJECTIONS_FILE",
    "CalibrationResult",
    "calibrate",
    "calibrated_scenario",
    "format_report",
    "holdout_table",
    "spread_benchmark",
    "write_calibration",
]

#: netCDF compression of every variable (zlib level): the chain repeats rejected states.
COMPRESSION = {"zlib": True, "complevel": 4}
#: The projections under prior and posterior draws, written unless they are switched off.
PROJECTIONS_FILE = "projections.csv"
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
    dataset = build_dataset(problem, fit, posterior, rng)
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
