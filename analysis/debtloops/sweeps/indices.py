"""Sensitivity indices of a sweep's scalar outcomes: Sobol, Morris, Spearman, and the ranking.

- Sobol first-order and total indices (``sampler = "sobol"``), with SALib's bootstrap confidence
  intervals, for the scalar outcomes and, on request, for a time series at every saved time;
- Morris elementary-effect statistics (``sampler = "morris"``);
- Spearman rank correlations (:func:`scipy.stats.spearmanr`) of each uncertainty with each scalar
  outcome, for any sampler.

Every index is computed per scenario and, when the sweep has levers, per lever combination (the
full factorial of the lever values, first lever outermost; dim ``lever_combination`` with integer
labels and one coordinate ``lever_<name>`` per lever giving its value). The design comes from the
sweep's own record (:func:`debtloops.sweeps.store.read_design`). Failed samples are left out of
rank correlations, make the Sobol indices of their block NaN (the Saltelli design cannot lose
rows), and drop their trajectory from Morris; each such case is described in the ``notes``
attribute. The bootstrap resamples are seeded with the sweep's seed (seed 0 included, which
SALib's Sobol analysis would otherwise take for "no seed").
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import xarray as xr
from SALib.analyze import morris as salib_morris
from SALib.analyze import sobol as salib_sobol
from scipy.stats import spearmanr

from debtloops.errors import InputError
from debtloops.sweeps.design import Design
from debtloops.sweeps.outcomes import SCALAR_OUTCOMES, check_variable, is_constant, succeeded
from debtloops.sweeps.store import read_design

#: Bootstrap resamples for the confidence intervals of Sobol and Morris indices.
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95
#: Spearman's rho needs at least this many finite pairs.
MIN_RANK_PAIRS = 3
SOBOL_METHOD = "Sobol (SALib.analyze.sobol, Saltelli 2010 estimators)"
#: How a sampler without indices of its own ranks the inputs: the measure and its chart label.
SPEARMAN_MEASURE = ("rho", "Spearman rank correlation [1]")


def lever_coords(design: Design) -> dict[str, tuple[str, np.ndarray]]:
    """Return the ``lever_combination`` coordinate and one ``lever_<name>`` per lever."""
    coords: dict[str, tuple[str, np.ndarray]] = {
        "lever_combination": ("lever_combination", np.arange(len(design.lever_values)))
    }
    for position, name in enumerate(design.spec.levers):
        values = np.asarray([combo[position] for combo in design.lever_values])
        coords[f"lever_{name}"] = ("lever_combination", values)
    return coords


def _index_dataset(
    design: Design,
    arrays: dict[str, np.ndarray],
    last: tuple[str, np.ndarray],
    attrs: dict,
    units: dict[str, str],
) -> xr.Dataset:
    """Wrap arrays of shape (scenario, lever_combination, parameter, last) into a Dataset.

    The ``lever_combination`` dim is dropped when the sweep has no levers.
    """
    dims = ("scenario", "lever_combination", "parameter", last[0])
    coords = {
        "scenario": list(design.spec.scenarios),
        "parameter": list(design.parameters),
        last[0]: last[1],
        **lever_coords(design),
    }
    data = {
        name: xr.Variable(dims, values, attrs={"units": units[name]})
        for name, values in arrays.items()
    }
    result = xr.Dataset(data, coords=coords, attrs=attrs)
    if not design.has_levers:
        result = result.isel(lever_combination=0, drop=True)
    return result


def _notes_attr(notes: list[str]) -> str:
    return "; ".join(notes) if notes else "none"


def _where(design: Design, scenario: str, block: int) -> str:
    return scenario + (f" ({design.describe(block)})" if design.has_levers else "")


def _scalar_table(scalars: xr.Dataset) -> tuple[list[str], np.ndarray]:
    """Return the scalar outcomes' names and their values, shape (scenario, sample, outcome)."""
    outcomes = [str(name) for name in scalars.data_vars if name in SCALAR_OUTCOMES]
    table = np.stack(
        [scalars[name].transpose("scenario", "sample").values for name in outcomes], axis=-1
    )
    return outcomes, table


# --- Sobol ----------------------------------------------------------------------------------------


def _check_sampler(design: Design, wanted: str) -> None:
    if design.spec.method != wanted:
        raise InputError(
            f"{wanted} indices need a sweep sampled with '{wanted}', not '{design.spec.method}'"
        )


def _sobol_block(design: Design, y: np.ndarray, num_resamples: int) -> dict[str, np.ndarray]:
    """Run SALib's Sobol analysis on one block."""
    problem = {
        "num_vars": len(design.parameters),
        "names": list(design.parameters),
        "bounds": [list(b) for b in design.bounds],
    }
    # A Generator seeded with the sweep's seed gives the same resamples as the integer seed, and
    # keeps them reproducible for seed 0, which SALib would otherwise treat as "no seed".
    result = salib_sobol.analyze(
        problem,
        y,
        calc_second_order=design.spec.calc_second_order,
        num_resamples=num_resamples,
        conf_level=CONF_LEVEL,
        seed=np.random.default_rng(design.spec.seed),
        print_to_console=False,
    )
    return {key: np.asarray(result[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")}


def _check_sobol_size(design: Design) -> None:
    step = len(design.parameters) * (2 if design.spec.calc_second_order else 1) + 2
    if design.n_design % step:
        raise InputError(
            f"n_design = {design.n_design} is not a multiple of {step}, the Saltelli block size "
            f"for {len(design.parameters)} uncertainties"
            + (" with second-order indices" if design.spec.calc_second_order else "")
        )


def _sobol_table(
    design: Design,
    ok: np.ndarray,
    series: Callable[[int], np.ndarray],
    n_columns: int,
    column_label: Callable[[int], str],
    num_resamples: int,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Compute Sobol indices for every scenario, lever block and output column.

    ``series(s)`` returns the outputs of scenario ``s`` as (sample, column); ``ok`` is True where a
    sample ran, shape (scenario, sample).
    """
    scenarios = design.spec.scenarios
    shape = (len(scenarios), len(design.lever_values), len(design.parameters), n_columns)
    arrays = {key: np.full(shape, np.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    notes: list[str] = []
    for s, scenario in enumerate(scenarios):
        outputs = series(s)
        for b in range(len(design.lever_values)):
            rows = design.block(b)
            where = _where(design, scenario, b)
            failed = int((~ok[s, rows]).sum())
            if failed:
                notes.append(f"{where}: {failed} failed samples, Sobol indices set to NaN")
                continue
            for c in range(n_columns):
                y = outputs[rows, c]
                if not np.isfinite(y).all():
                    notes.append(f"{where}, {column_label(c)}: non-finite outcomes, indices NaN")
                    continue
                if is_constant(y):
                    continue
                for key, values in _sobol_block(design, y, num_resamples).items():
                    arrays[key][s, b, :, c] = values
    return arrays, notes


def sobol_indices(
    ds: xr.Dataset, scalars: xr.Dataset, num_resamples: int = NUM_RESAMPLES
) -> xr.Dataset:
    """Compute Sobol first-order and total indices of the scalar outcomes.

    Uses ``SALib.analyze.sobol.analyze`` on each scenario, lever combination and outcome, with the
    sweep's seed and a 95% confidence level. A block with a failed sample gets NaN indices and a
    note; an outcome constant across a block gets NaN (its variance is zero).

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep sampled with ``"sobol"``.
    scalars : xarray.Dataset
        Its scalar outcomes, from :func:`debtloops.sweeps.outcomes.scalar_outcomes`.
    num_resamples : int
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` [1] over ``scenario``, ``lever_combination`` (only
        if the sweep has levers), ``parameter`` and ``outcome``; the ``*_conf`` variables are the
        half-widths of the 95% intervals. The ``notes`` attribute lists the blocks left NaN.
    """
    design = read_design(ds)
    _check_sampler(design, "sobol")
    _check_sobol_size(design)
    outcomes, table = _scalar_table(scalars)
    ok = succeeded(ds).values
    arrays, notes = _sobol_table(
        design, ok, lambda s: table[s], len(outcomes), lambda c: outcomes[c], num_resamples
    )
    attrs = {
        "method": SOBOL_METHOD,
        "conf_level": CONF_LEVEL,
        "num_resamples": num_resamples,
        "seed": design.spec.seed,
        "notes": _notes_attr(notes),
    }
    return _index_dataset(
        design, arrays, ("outcome", np.asarray(outcomes)), attrs, dict.fromkeys(arrays, "1")
    )


def sobol_indices_over_time(
    ds: xr.Dataset, variable: str, num_resamples: int = NUM_RESAMPLES
) -> xr.Dataset:
    """Compute the Sobol indices of a time series at every saved time.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep sampled with ``"sobol"``.
    variable : str
        One of its time-series outcomes, e.g. ``"market_yield"``.
    num_resamples : int
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` [1] over ``scenario``, ``lever_combination`` (only
        if the sweep has levers), ``parameter`` and ``time`` [year]. Times at which the variable
        does not vary across samples (the initial state, say) are NaN.
    """
    design = read_design(ds)
    _check_sampler(design, "sobol")
    check_variable(ds, variable)
    _check_sobol_size(design)
    ok = succeeded(ds).values
    times = ds["time"].values

    def series(s: int) -> np.ndarray:
        return ds[variable].isel(scenario=s).transpose("sample", "time").values

    arrays, notes = _sobol_table(
        design, ok, series, times.size, lambda c: f"time {times[c]:g}", num_resamples
    )
    attrs = {
        "method": SOBOL_METHOD,
        "variable": variable,
        "conf_level": CONF_LEVEL,
        "num_resamples": num_resamples,
        "seed": design.spec.seed,
        "notes": _notes_attr(notes),
    }
    result = _index_dataset(design, arrays, ("time", times), attrs, dict.fromkeys(arrays, "1"))
    result["time"].attrs = dict(ds["time"].attrs)
    return result


# --- Morris ---------------------------------------------------------------------------------------


def _morris_table(
    design: Design, ok: np.ndarray, table: np.ndarray, outcomes: list[str], num_resamples: int
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Compute Morris statistics for every scenario, lever block and outcome.

    ``table`` holds the outcomes, shape (scenario, sample, outcome); ``ok`` is True where a sample
    ran, shape (scenario, sample). A trajectory with a failed or non-finite sample is left out.
    """
    n_vars = len(design.parameters)
    x_all = design.values[:, :n_vars]
    shape = (len(design.spec.scenarios), len(design.lever_values), n_vars, len(outcomes))
    arrays = {key: np.full(shape, np.nan) for key in ("mu_star", "mu_star_conf", "sigma")}
    notes: list[str] = []
    problem = {
        "num_vars": n_vars,
        "names": list(design.parameters),
        "bounds": [list(b) for b in design.bounds],
    }
    for s, scenario in enumerate(design.spec.scenarios):
        for b in range(len(design.lever_values)):
            rows = design.block(b)
            where = _where(design, scenario, b)
            x = x_all[rows].reshape(-1, n_vars + 1, n_vars)
            good = ok[s, rows].reshape(-1, n_vars + 1).all(axis=1)
            for c, name in enumerate(outcomes):
                y = table[s, rows, c].reshape(-1, n_vars + 1)
                keep = good & np.isfinite(y).all(axis=1)
                if (~keep).any():
                    notes.append(
                        f"{where}, {name}: {int((~keep).sum())} trajectories with failed samples "
                        "left out"
                    )
                if keep.sum() < 2:
                    notes.append(f"{where}, {name}: fewer than two trajectories, indices NaN")
                    continue
                result = salib_morris.analyze(
                    problem,
                    x[keep].reshape(-1, n_vars),
                    y[keep].reshape(-1),
                    num_resamples=num_resamples,
                    conf_level=CONF_LEVEL,
                    num_levels=design.spec.morris_levels,
                    seed=design.spec.seed,
                )
                for key in arrays:
                    arrays[key][s, b, :, c] = np.asarray(result[key], dtype=float)
    return arrays, notes


def morris_indices(
    ds: xr.Dataset, scalars: xr.Dataset, num_resamples: int = NUM_RESAMPLES
) -> xr.Dataset:
    """Compute Morris elementary-effect statistics of the scalar outcomes.

    Uses ``SALib.analyze.morris.analyze`` with the sampled values as ``X``, the uncertainties'
    low/high as bounds, the sweep's ``morris_levels`` and seed. A trajectory holding a failed sample
    is left out; with fewer than two trajectories left the statistics are NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep sampled with ``"morris"``.
    scalars : xarray.Dataset
        Its scalar outcomes.
    num_resamples : int
        Bootstrap resamples for the confidence interval of ``mu_star``.

    Returns
    -------
    xarray.Dataset
        ``mu_star`` (mean absolute elementary effect), ``mu_star_conf`` (half-width of its 95%
        interval) and ``sigma`` (standard deviation of the effects), over ``scenario``,
        ``lever_combination`` (only if the sweep has levers), ``parameter`` and ``outcome``. An
        effect is the outcome's change scaled to a step across the input's whole range, so the
        statistics are in the outcome's units (listed in the ``outcome_units`` attribute).
    """
    design = read_design(ds)
    _check_sampler(design, "morris")
    n_vars = len(design.parameters)
    if design.n_design % (n_vars + 1):
        raise InputError(
            f"n_design = {design.n_design} is not a multiple of the Morris trajectory length "
            f"{n_vars + 1}"
        )
    outcomes, table = _scalar_table(scalars)
    arrays, notes = _morris_table(design, succeeded(ds).values, table, outcomes, num_resamples)
    units = {name: str(scalars[name].attrs.get("units", "")) for name in outcomes}
    attrs = {
        "method": "Morris elementary effects (SALib.analyze.morris)",
        "num_levels": design.spec.morris_levels,
        "conf_level": CONF_LEVEL,
        "num_resamples": num_resamples,
        "seed": design.spec.seed,
        "outcome_units": json.dumps(units),
        "notes": _notes_attr(notes),
    }
    return _index_dataset(
        design,
        arrays,
        ("outcome", np.asarray(outcomes)),
        attrs,
        dict.fromkeys(arrays, "units of the outcome"),
    )


# --- Rank correlations ----------------------------------------------------------------------------


def _spearman_row(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each column of ``x`` with ``y`` over the finite rows; NaN if constant."""
    rho = np.full(x.shape[1], np.nan)
    keep = np.isfinite(y) & np.isfinite(x).all(axis=1)
    if keep.sum() < MIN_RANK_PAIRS or is_constant(y[keep]):
        return rho
    varying = [p for p in range(x.shape[1]) if not is_constant(x[keep, p])]
    if not varying:
        return rho
    statistic = spearmanr(np.column_stack([x[keep][:, varying], y[keep]])).statistic
    # Two columns (one varying input) give a single coefficient, more give the whole matrix.
    rho[varying] = statistic if np.ndim(statistic) == 0 else statistic[-1, :-1]
    return rho


def rank_correlations(ds: xr.Dataset, scalars: xr.Dataset) -> xr.Dataset:
    """Compute Spearman's rank correlation of each uncertainty with each scalar outcome.

    Failed samples are left out. Works for any sampler.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    scalars : xarray.Dataset
        Its scalar outcomes.

    Returns
    -------
    xarray.Dataset
        ``rho`` [1] over ``scenario``, ``lever_combination`` (only if the sweep has levers),
        ``parameter`` and ``outcome``, and ``n_samples`` (the samples used) over ``scenario``
        (and ``lever_combination``). NaN where an input or outcome does not vary.
    """
    design = read_design(ds)
    outcomes, table = _scalar_table(scalars)
    ok = succeeded(ds).values
    x_all = design.values[:, : len(design.parameters)]
    scenarios = design.spec.scenarios
    shape = (len(scenarios), len(design.lever_values), len(design.parameters), len(outcomes))
    rho = np.full(shape, np.nan)
    used = np.zeros(shape[:2], dtype=np.int64)
    for s in range(len(scenarios)):
        for b in range(len(design.lever_values)):
            rows = design.block(b)
            good = ok[s, rows]
            used[s, b] = int(good.sum())
            for c in range(len(outcomes)):
                rho[s, b, :, c] = _spearman_row(x_all[rows][good], table[s, rows, c][good])
    result = _index_dataset(
        design,
        {"rho": rho},
        ("outcome", np.asarray(outcomes)),
        {
            "method": "Spearman rank correlation (scipy.stats.spearmanr)",
            "notes": "failed samples left out",
        },
        {"rho": "1"},
    )
    n_samples = xr.DataArray(
        used, dims=("scenario", "lever_combination"), attrs={"units": "1"}
    ).assign_coords(scenario=list(scenarios))
    if not design.has_levers:
        n_samples = n_samples.isel(lever_combination=0, drop=True)
    result["n_samples"] = n_samples
    return result


# --- Ranking --------------------------------------------------------------------------------------


def ranking(ds: xr.Dataset, scalars: xr.Dataset, indices: xr.Dataset | None = None) -> xr.DataArray:
    """Return the measure by which inputs are ranked: ST, mu_star or Spearman's rho.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    scalars : xarray.Dataset
        Its scalar outcomes.
    indices : xarray.Dataset, optional
        Already computed Sobol or Morris indices (or rank correlations), to avoid recomputing.

    Returns
    -------
    xarray.DataArray
        Over ``scenario``, (``lever_combination``,) ``parameter`` and ``outcome``; its ``measure``
        attribute is ``"ST"`` [1], ``"mu_star"`` [units of the outcome] or ``"rho"`` [1].
    """
    # The registry names this module's functions, so it is looked up when called.
    from debtloops.sweeps.samplers import sampler

    method = sampler(read_design(ds).spec.method)
    compute: Callable[[xr.Dataset, xr.Dataset], xr.Dataset] = rank_correlations
    measure, label = SPEARMAN_MEASURE
    if method.indices is not None and method.measure and method.measure_label:
        measure, compute, label = method.measure, method.indices, method.measure_label
    if indices is None or measure not in indices:
        indices = compute(ds, scalars)
    result = indices[measure].copy()
    result.attrs = {"measure": measure, "long_name": label}
    return result
