"""Sensitivity analysis of a parameter sweep: scalar outcomes, Sobol, Morris, rank correlations.

Reads the ``sweep.nc`` that a sweep writes (dims ``sample``, ``time`` and, when the sweep has
several scenarios, ``scenario``), reduces each sample's time series to a few scalar outcomes, and
computes the sensitivity indices that the sampler supports:

- Sobol first-order and total indices (``sampler = "sobol"``), with SALib's bootstrap confidence
  intervals, for the scalar outcomes and, on request, for a time series at every saved time;
- Morris elementary-effect statistics (``sampler = "morris"``);
- Spearman rank correlations of each uncertainty with each scalar outcome, for any sampler.

Every index is computed per scenario and, when the sweep has levers, per lever combination (the
full factorial of the lever values, first lever outermost; dim ``lever_combination`` with integer
labels and one coordinate ``lever_<name>`` per lever giving its value). Samples whose ``error`` is
not empty are failed runs: they are left out of percentiles and rank correlations, make the Sobol
indices of their block NaN (the Saltelli design cannot lose rows), and drop their trajectory from
Morris. Each such case is described in the ``notes`` attribute.

``analyze(sweep_dir)`` writes ``sweep_dir/analysis.nc``, one Dataset holding:

===============================  ===========================================================
variable                         dims
===============================  ===========================================================
``debt_to_gdp_final`` etc.       (scenario, sample): the scalar outcomes present [units of
                                 each], with the sweep's input coordinates on ``sample``
``error``                        (scenario, sample): the sweep's error messages, "" if ran
``sobol_S1``, ``sobol_S1_conf``  (scenario, [lever_combination,] parameter, outcome) [1]
``sobol_ST``, ``sobol_ST_conf``  same; only for a Sobol sweep
``morris_mu_star``,              (scenario, [lever_combination,] parameter, outcome) [units of
``morris_mu_star_conf``,         the outcome]; only for a Morris sweep
``morris_sigma``
``spearman_rho``                 (scenario, [lever_combination,] parameter, outcome) [1]
``spearman_n_samples``           (scenario, [lever_combination]): samples that ran [1]
``sobol_<variable>_S1`` etc.     (scenario, [lever_combination,] parameter, time) [1]: the
                                 Sobol indices over time of each variable asked for
===============================  ===========================================================

The ``scenario`` dim is always present in ``analysis.nc``, even for a one-scenario sweep. The
attributes copy the sweep's (spec, sampler, seed, provenance) and add ``notes``. The bootstrap
resamples of the confidence intervals are seeded with the sweep's seed (seed 0 included, which
SALib's Sobol analysis would otherwise take for "no seed"). Beside ``analysis.nc`` go the
figures ``fan_<variable>.png``, ``sobol.png`` or ``morris.png``, ``tornado.png`` and
``scatter.png``. Figures use matplotlib's object-oriented API with the Agg canvas.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from SALib.analyze import morris as salib_morris
from SALib.analyze import sobol as salib_sobol
from scipy.stats import rankdata

from debtloops.errors import DebtloopsError, InputError
from debtloops.io import atomic_file
from debtloops.model.parameters import load_parameters

DPI = 150
PERCENT = 100.0
#: Percentiles of the fan charts' bands and median line [%].
FAN_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
#: Bootstrap resamples for the confidence intervals of Sobol and Morris indices.
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95
#: The time series drawn as fan charts by ``analyze``, when present.
FAN_VARIABLES = ("debt_to_gdp", "market_yield", "interest_to_revenue")
SAMPLERS = ("grid", "monte_carlo", "lhs", "sobol", "morris")
_REQUIRED_ATTRS = ("scenarios", "sampler", "seed", "uncertainties", "levers", "n_design")
# An outcome whose standard deviation across a block is below this share of its magnitude is
# treated as constant: its variance-based indices are undefined.
_RELATIVE_SPREAD = 1e-12


@dataclass(frozen=True)
class ScalarOutcome:
    """How a scalar outcome is computed from a time series.

    Attributes
    ----------
    source : str
        The time-series variable it reduces.
    reduction : str
        ``"final"`` (value at the last saved time), ``"max"`` or ``"min"`` over time.
    units : str
        Its units, those of the source.
    long_name : str
        A readable name for tables and figures.
    """

    source: str
    reduction: str
    units: str
    long_name: str


#: The scalar outcomes computed per sample, by name.
SCALAR_OUTCOMES: dict[str, ScalarOutcome] = {
    "debt_to_gdp_final": ScalarOutcome("debt_to_gdp", "final", "1", "debt/GDP at the end"),
    "peak_market_yield": ScalarOutcome("market_yield", "max", "1/year", "peak 10-year yield"),
    "extra_interest_final": ScalarOutcome(
        "extra_interest", "final", "billion USD", "extra interest paid by the end"
    ),
    "dollar_trough": ScalarOutcome("dollar_index", "min", "index", "dollar index trough"),
}

# Short titles of the time series; other variables use their ``long_name``.
_TITLES = {
    "debt_to_gdp": "Debt held by the public / GDP",
    "market_yield": "10-year market yield",
    "interest_to_revenue": "Net interest / revenue",
    "dollar_index": "Broad dollar index",
    "cumulative_net_interest": "Cumulative net interest",
    "extra_interest": "Extra interest against the baseline",
}

# Variables shown in percent, with the axis label used.
_PERCENT_LABELS = {
    "1": "%",
    "1/year": "% per year",
}
_PERCENT_VARIABLES = {"debt_to_gdp", "interest_to_revenue", "market_yield"} | {
    name for name, spec in SCALAR_OUTCOMES.items() if spec.source in ("debt_to_gdp", "market_yield")
}


@dataclass(frozen=True)
class _Design:
    """The sweep's design, read from its attributes and checked against its dims."""

    sampler: str
    seed: int
    scenarios: tuple[str, ...]
    parameters: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    levers: dict[str, list]
    combinations: tuple[tuple, ...]
    n_design: int
    calc_second_order: bool
    morris_levels: int

    @property
    def has_levers(self) -> bool:
        return bool(self.levers)

    def block(self, index: int) -> slice:
        """Return the positions along ``sample`` of lever combination ``index``."""
        return slice(index * self.n_design, (index + 1) * self.n_design)

    def describe(self, index: int) -> str:
        """Return the lever settings of combination ``index`` as text ("" without levers)."""
        values = self.combinations[index]
        return ", ".join(
            f"{name} = {value}" for name, value in zip(self.levers, values, strict=True)
        )


def _json_attr(ds: xr.Dataset, name: str, kind: type):
    try:
        value = json.loads(ds.attrs[name])
    except (TypeError, ValueError):
        raise InputError(f"sweep attribute '{name}' is not valid JSON") from None
    if not isinstance(value, kind):
        raise InputError(f"sweep attribute '{name}' should be a JSON {kind.__name__}")
    return value


def _int_attr(ds: xr.Dataset, name: str, default: int | None = None) -> int:
    if name not in ds.attrs:
        if default is None:
            raise InputError(f"sweep attribute '{name}' is missing")
        return default
    try:
        return int(ds.attrs[name])
    except (TypeError, ValueError):
        raise InputError(f"sweep attribute '{name}' should be an integer") from None


def _design(ds: xr.Dataset) -> _Design:
    """Read and check the sweep's design attributes."""
    missing = [name for name in _REQUIRED_ATTRS if name not in ds.attrs]
    if missing:
        raise InputError(f"sweep lacks the attributes: {', '.join(missing)}")
    sampler = str(ds.attrs["sampler"])
    if sampler not in SAMPLERS:
        raise InputError(f"unknown sampler '{sampler}'; valid: {', '.join(SAMPLERS)}")
    scenarios = _json_attr(ds, "scenarios", list)
    uncertainties = _json_attr(ds, "uncertainties", list)
    levers = _json_attr(ds, "levers", dict)
    if not scenarios:
        raise InputError("sweep attribute 'scenarios' is empty")
    try:
        parameters = tuple(str(item["name"]) for item in uncertainties)
        bounds = tuple((float(item["low"]), float(item["high"])) for item in uncertainties)
    except (TypeError, KeyError, ValueError):
        raise InputError("each sweep uncertainty needs a name, a low and a high") from None
    if "sample" not in ds.dims:
        raise InputError("sweep has no 'sample' dimension")
    absent = [name for name in parameters if name not in ds.coords]
    if absent:
        raise InputError(f"sweep lacks the sample coordinates: {', '.join(absent)}")
    if "error" not in ds.data_vars:
        raise InputError("sweep lacks the 'error' variable")
    combinations = tuple(itertools.product(*levers.values()))
    n_design = _int_attr(ds, "n_design")
    if n_design < 1 or n_design * len(combinations) != ds.sizes["sample"]:
        raise InputError(
            f"sweep has {ds.sizes['sample']} samples, not n_design ({n_design}) times "
            f"{len(combinations)} lever combinations"
        )
    if "scenario" in ds.dims and [str(s) for s in ds["scenario"].values] != scenarios:
        raise InputError("sweep's 'scenario' coordinate differs from its 'scenarios' attribute")
    return _Design(
        sampler=sampler,
        seed=_int_attr(ds, "seed"),
        scenarios=tuple(str(s) for s in scenarios),
        parameters=parameters,
        bounds=bounds,
        levers={str(name): list(values) for name, values in levers.items()},
        combinations=combinations,
        n_design=n_design,
        calc_second_order=bool(_int_attr(ds, "calc_second_order", 0)),
        morris_levels=_int_attr(ds, "morris_levels", 4),
    )


def _with_scenario(ds: xr.Dataset, design: _Design) -> xr.Dataset:
    """Return the sweep with a ``scenario`` dim first on every data variable."""
    if "scenario" not in ds.dims:
        ds = ds.expand_dims(scenario=[design.scenarios[0]])
    return ds.transpose("scenario", "sample", ...)


def _succeeded(ds: xr.Dataset) -> xr.DataArray:
    """Return True where a sample ran (its ``error`` is empty)."""
    return ds["error"].astype(str) == ""


def _outcome_variables(ds: xr.Dataset) -> list[str]:
    """Return the time-series outcomes of the sweep (data variables over sample and time)."""
    return [
        str(name)
        for name, variable in ds.data_vars.items()
        if "sample" in variable.dims and "time" in variable.dims
    ]


def _lever_coords(design: _Design) -> dict[str, tuple[str, np.ndarray]]:
    coords: dict[str, tuple[str, np.ndarray]] = {
        "lever_combination": ("lever_combination", np.arange(len(design.combinations)))
    }
    for position, name in enumerate(design.levers):
        values = np.asarray([combo[position] for combo in design.combinations])
        coords[f"lever_{name}"] = ("lever_combination", values)
    return coords


def _index_dataset(
    design: _Design,
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
        "scenario": list(design.scenarios),
        "parameter": list(design.parameters),
        last[0]: last[1],
        **_lever_coords(design),
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


def _is_constant(values: np.ndarray) -> bool:
    spread = float(np.std(values))
    return spread <= _RELATIVE_SPREAD * max(1.0, float(np.max(np.abs(values))))


def _percent_scale(name: str, units: str) -> tuple[float, str]:
    """Return the factor applied for display and the axis units of a variable."""
    if name in _PERCENT_VARIABLES and units in _PERCENT_LABELS:
        return PERCENT, _PERCENT_LABELS[units]
    return 1.0, units


# --- Scalar outcomes ------------------------------------------------------------------------------


def scalar_outcomes(ds: xr.Dataset) -> xr.Dataset:
    """Reduce each sample's time series to the scalar outcomes of ``SCALAR_OUTCOMES``.

    Only the outcomes whose source variable is in the sweep are computed. Failed samples (non-empty
    ``error``) give NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep, over (``scenario``,) ``sample`` and ``time`` [year].

    Returns
    -------
    xarray.Dataset
        One variable per scalar outcome over (``scenario``,) ``sample``, in the units of its source
        (debt/GDP [1], yield [1/year], extra interest [billion USD], dollar [index]), with the
        sweep's sample coordinates, and ``units`` and ``long_name`` attributes.
    """
    if "error" not in ds.data_vars:
        raise InputError("sweep lacks the 'error' variable")
    ok = _succeeded(ds)
    result = {}
    for name, spec in SCALAR_OUTCOMES.items():
        if spec.source not in ds.data_vars:
            continue
        series = ds[spec.source]
        if spec.reduction == "final":
            value = series.isel(time=-1, drop=True)
        elif spec.reduction == "max":
            value = series.max("time", skipna=False)
        else:
            value = series.min("time", skipna=False)
        value = value.where(ok)
        value.attrs = {"units": spec.units, "long_name": spec.long_name}
        result[name] = value
    if not result:
        sources = ", ".join(spec.source for spec in SCALAR_OUTCOMES.values())
        raise InputError(f"sweep holds none of the outcomes {sources}")
    return xr.Dataset(result)


def percentile_bands(
    ds: xr.Dataset, variable: str, percentiles: Sequence[float] = FAN_PERCENTILES
) -> xr.DataArray:
    """Return percentiles across samples of a time series, leaving out failed samples.

    All lever combinations are pooled.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    variable : str
        A time-series outcome of the sweep.
    percentiles : sequence of float
        The percentiles wanted [%].

    Returns
    -------
    xarray.DataArray
        Over ``scenario``, ``percentile`` [%] and ``time`` [year], in the variable's units; NaN
        where no sample ran. The attribute ``n_samples`` is a list of the samples used per
        scenario.
    """
    design = _design(ds)
    _check_variable(ds, variable)
    full = _with_scenario(ds, design)
    ok = _succeeded(full).values
    values = full[variable].transpose("scenario", "sample", "time").values
    q = np.asarray(percentiles, dtype=float)
    bands = np.full((len(design.scenarios), q.size, full.sizes["time"]), np.nan)
    for s in range(len(design.scenarios)):
        rows = values[s][ok[s]]
        if rows.shape[0] == 0:
            continue
        if np.isfinite(rows).all():
            bands[s] = np.percentile(rows, q, axis=0)
        else:
            has_value = np.isfinite(rows).any(axis=0)
            bands[s][:, has_value] = np.nanpercentile(rows[:, has_value], q, axis=0)
    return xr.DataArray(
        bands,
        dims=("scenario", "percentile", "time"),
        coords={"scenario": list(design.scenarios), "percentile": q, "time": full["time"].values},
        name=variable,
        attrs={**full[variable].attrs, "n_samples": [int(n) for n in ok.sum(axis=1)]},
    )


def _check_variable(ds: xr.Dataset, variable: str) -> None:
    valid = _outcome_variables(ds)
    if variable not in valid:
        raise InputError(
            f"unknown time-series variable '{variable}'; valid: {', '.join(sorted(valid))}"
        )


# --- Sobol ----------------------------------------------------------------------------------------


def _check_sampler(design: _Design, wanted: str) -> None:
    if design.sampler != wanted:
        raise InputError(
            f"{wanted} indices need a sweep sampled with '{wanted}', not '{design.sampler}'"
        )


def _sobol_block(design: _Design, y: np.ndarray, num_resamples: int) -> dict[str, np.ndarray]:
    """Run SALib's Sobol analysis on one block, or return NaN if it cannot be done."""
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
        calc_second_order=design.calc_second_order,
        num_resamples=num_resamples,
        conf_level=CONF_LEVEL,
        seed=np.random.default_rng(design.seed),
        print_to_console=False,
    )
    return {key: np.asarray(result[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")}


def _check_sobol_size(design: _Design) -> None:
    step = len(design.parameters) * (2 if design.calc_second_order else 1) + 2
    if design.n_design % step:
        raise InputError(
            f"n_design = {design.n_design} is not a multiple of {step}, the Saltelli block size "
            f"for {len(design.parameters)} uncertainties"
            + (" with second-order indices" if design.calc_second_order else "")
        )


def _sobol_table(
    ds: xr.Dataset,
    design: _Design,
    series: Callable[[int], np.ndarray],
    n_columns: int,
    column_label: Callable[[int], str],
    num_resamples: int,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Compute Sobol indices for every scenario, lever block and output column.

    ``series(s)`` returns the outputs of scenario ``s`` as (sample, column).
    """
    shape = (len(design.scenarios), len(design.combinations), len(design.parameters), n_columns)
    arrays = {key: np.full(shape, np.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    notes: list[str] = []
    ok = _succeeded(ds).values
    for s, scenario in enumerate(design.scenarios):
        outputs = series(s)
        for b in range(len(design.combinations)):
            rows = design.block(b)
            where = scenario + (f" ({design.describe(b)})" if design.has_levers else "")
            failed = int((~ok[s, rows]).sum())
            if failed:
                notes.append(f"{where}: {failed} failed samples, Sobol indices set to NaN")
                continue
            for c in range(n_columns):
                y = outputs[rows, c]
                if not np.isfinite(y).all():
                    notes.append(f"{where}, {column_label(c)}: non-finite outcomes, indices NaN")
                    continue
                if _is_constant(y):
                    continue
                result = _sobol_block(design, y, num_resamples)
                for key, values in result.items():
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
        A sweep whose ``sampler`` attribute is ``"sobol"``.
    scalars : xarray.Dataset
        Its scalar outcomes, from ``scalar_outcomes``.
    num_resamples : int
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` [1] over ``scenario``, ``lever_combination`` (only
        if the sweep has levers), ``parameter`` and ``outcome``; the ``*_conf`` variables are the
        half-widths of the 95% intervals. The ``notes`` attribute lists the blocks left NaN.
    """
    design = _design(ds)
    _check_sampler(design, "sobol")
    _check_sobol_size(design)
    full = _with_scenario(ds, design)
    scalars = _with_scenario(scalars, design) if "scenario" not in scalars.dims else scalars
    outcomes = [str(name) for name in scalars.data_vars if name in SCALAR_OUTCOMES]
    table = np.stack(
        [scalars[name].transpose("scenario", "sample").values for name in outcomes], axis=-1
    )
    arrays, notes = _sobol_table(
        full, design, lambda s: table[s], len(outcomes), lambda c: outcomes[c], num_resamples
    )
    attrs = {
        "method": "Sobol (SALib.analyze.sobol, Saltelli 2010 estimators)",
        "conf_level": CONF_LEVEL,
        "num_resamples": num_resamples,
        "seed": design.seed,
        "notes": _notes_attr(notes),
    }
    return _index_dataset(
        design,
        arrays,
        ("outcome", np.asarray(outcomes)),
        attrs,
        dict.fromkeys(arrays, "1"),
    )


def sobol_indices_over_time(
    ds: xr.Dataset, variable: str, num_resamples: int = NUM_RESAMPLES
) -> xr.Dataset:
    """Compute the Sobol indices of a time series at every saved time.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep whose ``sampler`` attribute is ``"sobol"``.
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
    design = _design(ds)
    _check_sampler(design, "sobol")
    _check_variable(ds, variable)
    _check_sobol_size(design)
    full = _with_scenario(ds, design)
    values = full[variable].transpose("scenario", "sample", "time").values
    times = full["time"].values
    arrays, notes = _sobol_table(
        full,
        design,
        lambda s: values[s],
        times.size,
        lambda c: f"time {times[c]:g}",
        num_resamples,
    )
    attrs = {
        "method": "Sobol (SALib.analyze.sobol, Saltelli 2010 estimators)",
        "variable": variable,
        "conf_level": CONF_LEVEL,
        "num_resamples": num_resamples,
        "seed": design.seed,
        "notes": _notes_attr(notes),
    }
    result = _index_dataset(design, arrays, ("time", times), attrs, dict.fromkeys(arrays, "1"))
    result["time"].attrs = dict(full["time"].attrs)
    return result


# --- Morris ---------------------------------------------------------------------------------------


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
        A sweep whose ``sampler`` attribute is ``"morris"``.
    scalars : xarray.Dataset
        Its scalar outcomes, from ``scalar_outcomes``.
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
    design = _design(ds)
    _check_sampler(design, "morris")
    n_vars = len(design.parameters)
    if design.n_design % (n_vars + 1):
        raise InputError(
            f"n_design = {design.n_design} is not a multiple of the Morris trajectory length "
            f"{n_vars + 1}"
        )
    full = _with_scenario(ds, design)
    scalars = _with_scenario(scalars, design) if "scenario" not in scalars.dims else scalars
    outcomes = [str(name) for name in scalars.data_vars if name in SCALAR_OUTCOMES]
    x_all = np.stack([full[name].values.astype(float) for name in design.parameters], axis=-1)
    ok = _succeeded(full).values
    shape = (len(design.scenarios), len(design.combinations), n_vars, len(outcomes))
    arrays = {key: np.full(shape, np.nan) for key in ("mu_star", "mu_star_conf", "sigma")}
    notes: list[str] = []
    problem_bounds = [list(b) for b in design.bounds]
    for s, scenario in enumerate(design.scenarios):
        for b in range(len(design.combinations)):
            rows = design.block(b)
            where = scenario + (f" ({design.describe(b)})" if design.has_levers else "")
            x = x_all[rows].reshape(-1, n_vars + 1, n_vars)
            good = ok[s, rows].reshape(-1, n_vars + 1).all(axis=1)
            for c, name in enumerate(outcomes):
                y = scalars[name].transpose("scenario", "sample").values[s, rows]
                y = y.reshape(-1, n_vars + 1)
                keep = good & np.isfinite(y).all(axis=1)
                if (~keep).any():
                    notes.append(
                        f"{where}, {name}: {int((~keep).sum())} trajectories with failed samples "
                        "left out"
                    )
                if keep.sum() < 2:
                    notes.append(f"{where}, {name}: fewer than two trajectories, indices NaN")
                    continue
                problem = {
                    "num_vars": n_vars,
                    "names": list(design.parameters),
                    "bounds": problem_bounds,
                }
                result = salib_morris.analyze(
                    problem,
                    x[keep].reshape(-1, n_vars),
                    y[keep].reshape(-1),
                    num_resamples=num_resamples,
                    conf_level=CONF_LEVEL,
                    num_levels=design.morris_levels,
                    seed=design.seed,
                )
                for key in arrays:
                    arrays[key][s, b, :, c] = np.asarray(result[key], dtype=float)
    units = {name: str(scalars[name].attrs.get("units", "")) for name in outcomes}
    attrs = {
        "method": "Morris elementary effects (SALib.analyze.morris)",
        "num_levels": design.morris_levels,
        "conf_level": CONF_LEVEL,
        "num_resamples": num_resamples,
        "seed": design.seed,
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


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho over the pairs where both are finite; NaN if either is constant."""
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return math.nan
    rx = rankdata(x[keep])
    ry = rankdata(y[keep])
    rx -= rx.mean()
    ry -= ry.mean()
    norm = math.sqrt(float(np.dot(rx, rx)) * float(np.dot(ry, ry)))
    if norm == 0.0:
        return math.nan
    return float(np.dot(rx, ry)) / norm


def rank_correlations(ds: xr.Dataset, scalars: xr.Dataset) -> xr.Dataset:
    """Compute Spearman's rank correlation of each uncertainty with each scalar outcome.

    Failed samples are left out. Works for any sampler.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    scalars : xarray.Dataset
        Its scalar outcomes, from ``scalar_outcomes``.

    Returns
    -------
    xarray.Dataset
        ``rho`` [1] over ``scenario``, ``lever_combination`` (only if the sweep has levers),
        ``parameter`` and ``outcome``, and ``n_samples`` (the samples used) over ``scenario``
        (and ``lever_combination``). NaN where an input or outcome does not vary.
    """
    design = _design(ds)
    full = _with_scenario(ds, design)
    scalars = _with_scenario(scalars, design) if "scenario" not in scalars.dims else scalars
    outcomes = [str(name) for name in scalars.data_vars if name in SCALAR_OUTCOMES]
    ok = _succeeded(full).values
    x_all = np.stack([full[name].values.astype(float) for name in design.parameters], axis=-1)
    shape = (len(design.scenarios), len(design.combinations), len(design.parameters), len(outcomes))
    rho = np.full(shape, np.nan)
    used = np.zeros(shape[:2], dtype=np.int64)
    for s in range(len(design.scenarios)):
        for b in range(len(design.combinations)):
            rows = design.block(b)
            good = ok[s, rows]
            used[s, b] = int(good.sum())
            for c, name in enumerate(outcomes):
                y = scalars[name].transpose("scenario", "sample").values[s, rows][good]
                for p in range(len(design.parameters)):
                    rho[s, b, p, c] = _spearman(x_all[rows, p][good], y)
    result = _index_dataset(
        design,
        {"rho": rho},
        ("outcome", np.asarray(outcomes)),
        {"method": "Spearman rank correlation", "notes": "failed samples left out"},
        {"rho": "1"},
    )
    n_samples = xr.DataArray(
        used, dims=("scenario", "lever_combination"), attrs={"units": "1"}
    ).assign_coords(scenario=list(design.scenarios))
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
    design = _design(ds)
    if design.sampler == "sobol":
        measure = "ST"
        compute: Callable[[xr.Dataset, xr.Dataset], xr.Dataset] = sobol_indices
        label = "total Sobol index ST [1]"
    elif design.sampler == "morris":
        measure = "mu_star"
        compute = morris_indices
        label = "Morris mu* [units of the outcome]"
    else:
        measure = "rho"
        compute = rank_correlations
        label = "Spearman rank correlation [1]"
    if indices is None or measure not in indices:
        indices = compute(ds, scalars)
    result = indices[measure].copy()
    result.attrs = {"measure": measure, "long_name": label}
    return result


# --- Figures --------------------------------------------------------------------------------------


def _grid(n: int, columns: int) -> tuple[int, int]:
    cols = max(1, min(n, columns))
    return math.ceil(n / cols), cols


def _new_figure(n_panels: int, columns: int, panel: tuple[float, float]) -> tuple[Figure, list]:
    rows, cols = _grid(n_panels, columns)
    figure = Figure(figsize=(panel[0] * cols, panel[1] * rows + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return figure, axes[:n_panels]


def _save(figure: Figure, path: Path) -> None:
    """Save a figure as PNG through a temporary file in the same folder."""
    atomic_file(Path(path), lambda scratch: figure.savefig(scratch, dpi=DPI, format="png"))


def _pick_scenario(names: Sequence[str], scenario: str | None) -> str:
    if scenario is None:
        return str(names[0])
    if scenario not in names:
        raise InputError(f"unknown scenario '{scenario}'; valid: {', '.join(names)}")
    return scenario


def _select(
    data: xr.Dataset | xr.DataArray, scenario: str, lever_combination: int
) -> xr.Dataset | xr.DataArray:
    data = data.sel(scenario=scenario)
    if "lever_combination" in data.dims:
        data = data.isel(lever_combination=lever_combination)
    return data


def _outcome_label(name: str, scalars: xr.Dataset | None = None) -> tuple[str, float, str]:
    """Return a readable name, the display scale and the display units of a scalar outcome."""
    spec = SCALAR_OUTCOMES.get(name)
    long_name = spec.long_name if spec else name
    units = spec.units if spec else ""
    if scalars is not None and name in scalars:
        long_name = str(scalars[name].attrs.get("long_name", long_name))
        units = str(scalars[name].attrs.get("units", units))
    scale, shown = _percent_scale(name, units)
    return long_name, scale, shown


def _input_units(ds: xr.Dataset, name: str) -> str | None:
    """Return an input's units: its coordinate's ``units``, else the parameter table's."""
    units = ds[name].attrs.get("units")
    if units is None:
        try:
            table = load_parameters()
        except (DebtloopsError, OSError):
            return None
        if name not in table:
            return None
        units = table[name].units
    return str(units).replace("billion_USD", "billion USD").replace("dmnl", "1")


def _settings_text(design: _Design, lever_combination: int) -> str:
    return f"; levers: {design.describe(lever_combination)}" if design.has_levers else ""


def plot_fan_chart(ds: xr.Dataset, variable: str, path: Path) -> None:
    """Draw the 5-95% and 25-75% bands and the median of a time series, one panel per scenario.

    Failed samples are left out; all lever combinations are pooled. Ratios and yields are shown
    in percent.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    variable : str
        A time-series outcome, e.g. ``"debt_to_gdp"`` [1].
    path : Path
        The PNG to write (atomically).
    """
    bands = percentile_bands(ds, variable)
    units = str(ds[variable].attrs.get("units", ""))
    long_name = _TITLES.get(variable) or str(ds[variable].attrs.get("long_name", variable))
    long_name = long_name.rstrip(".")
    scale, shown = _percent_scale(variable, units)
    scenarios = [str(s) for s in bands["scenario"].values]
    figure, axes = _new_figure(len(scenarios), 3, (5.5, 4.0))
    time = bands["time"].values
    for ax, scenario, used in zip(axes, scenarios, bands.attrs["n_samples"], strict=True):
        band = bands.sel(scenario=scenario).values * scale
        if used == 0:
            ax.text(0.5, 0.5, "no sample ran", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.fill_between(time, band[0], band[4], color="C0", alpha=0.2, label="5-95%")
            ax.fill_between(time, band[1], band[3], color="C0", alpha=0.4, label="25-75%")
            ax.plot(time, band[2], color="C0", linewidth=1.8, label="median")
            ax.legend(fontsize="small", loc="best")
        ax.set_title(f"{scenario}: {long_name} ({used} samples)", fontsize="medium")
        ax.set_xlabel("year")
        ax.set_ylabel(f"{variable} [{shown}]")
        ax.grid(alpha=0.3)
    pooled = ", all lever settings pooled" if _design(ds).has_levers else ""
    figure.suptitle(f"{long_name}: spread across the sweep's samples{pooled}")
    _save(figure, path)


def plot_sobol(
    indices: xr.Dataset, path: Path, scenario: str | None = None, lever_combination: int = 0
) -> None:
    """Draw S1 and ST with their 95% intervals per parameter, one panel per outcome.

    Parameters
    ----------
    indices : xarray.Dataset
        The result of ``sobol_indices``.
    path : Path
        The PNG to write (atomically).
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    """
    name = _pick_scenario([str(s) for s in indices["scenario"].values], scenario)
    data = _select(indices, name, lever_combination)
    outcomes = [str(o) for o in data["outcome"].values]
    parameters = [str(p) for p in data["parameter"].values]
    figure, axes = _new_figure(len(outcomes), 2, (6.0, 0.5 * len(parameters) + 2.2))
    positions = np.arange(len(parameters))
    height = 0.38
    for ax, outcome in zip(axes, outcomes, strict=True):
        cell = data.sel(outcome=outcome)
        long_name, _, _ = _outcome_label(outcome)
        if np.isnan(cell["ST"].values).all():
            ax.text(
                0.5,
                0.5,
                "not available\n(failed samples or no variation)",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        else:
            for offset, key, color in ((-height / 2, "S1", "C0"), (height / 2, "ST", "C1")):
                ax.barh(
                    positions + offset,
                    np.nan_to_num(cell[key].values),
                    height=height,
                    xerr=np.nan_to_num(cell[f"{key}_conf"].values),
                    color=color,
                    capsize=3,
                    label=key,
                )
            ax.legend(fontsize="small", loc="best")
        ax.set_yticks(positions, parameters)
        ax.invert_yaxis()
        ax.axvline(0.0, color="0.3", linewidth=0.8)
        ax.set_xlabel("Sobol index [1]")
        ax.set_title(f"{name}: {long_name}", fontsize="medium")
        ax.grid(alpha=0.3, axis="x")
    levers = ""
    if "lever_combination" in indices.dims:
        settings = [
            f"{str(c)[len('lever_') :]} = {data[c].item()}"
            for c in data.coords
            if str(c).startswith("lever_") and c != "lever_combination"
        ]
        levers = "; levers: " + ", ".join(settings)
    figure.suptitle(f"Sobol indices (S1 first order, ST total, 95% intervals){levers}")
    _save(figure, path)


def plot_morris(
    indices: xr.Dataset, path: Path, scenario: str | None = None, lever_combination: int = 0
) -> None:
    """Draw Morris mu* against sigma, one labelled point per parameter, one panel per outcome.

    Parameters
    ----------
    indices : xarray.Dataset
        The result of ``morris_indices``.
    path : Path
        The PNG to write (atomically).
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    """
    name = _pick_scenario([str(s) for s in indices["scenario"].values], scenario)
    data = _select(indices, name, lever_combination)
    outcomes = [str(o) for o in data["outcome"].values]
    figure, axes = _new_figure(len(outcomes), 2, (6.0, 4.5))
    for ax, outcome in zip(axes, outcomes, strict=True):
        cell = data.sel(outcome=outcome)
        long_name, scale, shown = _outcome_label(outcome)
        mu_star = cell["mu_star"].values * scale
        sigma = cell["sigma"].values * scale
        if np.isnan(mu_star).all():
            ax.text(0.5, 0.5, "not available", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.errorbar(
                mu_star,
                sigma,
                xerr=np.nan_to_num(cell["mu_star_conf"].values * scale),
                fmt="o",
                color="C0",
                capsize=3,
            )
            for label, x, y in zip(cell["parameter"].values, mu_star, sigma, strict=True):
                if np.isfinite(x) and np.isfinite(y):
                    ax.annotate(
                        str(label), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8
                    )
        ax.set_xlabel(f"mu*, mean |effect| [{shown}]")
        ax.set_ylabel(f"sigma, spread of effects [{shown}]")
        ax.set_title(f"{name}: {long_name}", fontsize="medium")
        ax.grid(alpha=0.3)
    figure.suptitle(
        "Morris screening: elementary effects (outcome change over each input's full range), "
        "mean absolute value against spread"
    )
    _save(figure, path)


def _ranked(
    ds: xr.Dataset,
    scalars: xr.Dataset,
    scenario: str | None,
    lever_combination: int,
    indices: xr.Dataset | None,
) -> tuple[_Design, xr.DataArray, str, xr.DataArray]:
    """Return the design, the ranking measure, the scenario shown and its slice of the measure."""
    design = _design(ds)
    measure = ranking(ds, scalars, indices)
    name = _pick_scenario(list(design.scenarios), scenario)
    return design, measure, name, _select(measure, name, lever_combination)


def plot_tornado(
    ds: xr.Dataset,
    scalars: xr.Dataset,
    path: Path,
    scenario: str | None = None,
    lever_combination: int = 0,
    indices: xr.Dataset | None = None,
) -> None:
    """Draw the inputs' ranking measure as bars sorted by magnitude, one panel per outcome.

    The measure is ST for a Sobol sweep, mu* for a Morris sweep, otherwise Spearman's rho.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    scalars : xarray.Dataset
        Its scalar outcomes.
    path : Path
        The PNG to write (atomically).
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    indices : xarray.Dataset, optional
        Already computed indices, passed to ``ranking``.
    """
    design, measure, name, data = _ranked(ds, scalars, scenario, lever_combination, indices)
    outcomes = [str(o) for o in data["outcome"].values]
    parameters = [str(p) for p in data["parameter"].values]
    figure, axes = _new_figure(len(outcomes), 2, (6.0, 0.45 * len(parameters) + 2.0))
    for ax, outcome in zip(axes, outcomes, strict=True):
        values = data.sel(outcome=outcome).values
        long_name, scale, shown = _outcome_label(outcome, scalars)
        if measure.attrs["measure"] == "mu_star":
            values = values * scale
            xlabel = f"mu* [{shown}]"
        else:
            xlabel = measure.attrs["long_name"]
        order = np.argsort(-np.nan_to_num(np.abs(values), nan=-1.0), kind="stable")
        shown_values = np.nan_to_num(values[order])
        colors = ["C3" if v < 0 else "C0" for v in shown_values]
        ax.barh(np.arange(order.size), shown_values, color=colors)
        ax.set_yticks(np.arange(order.size), [parameters[i] for i in order])
        ax.invert_yaxis()
        ax.axvline(0.0, color="0.3", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_title(f"{name}: {long_name}", fontsize="medium")
        ax.grid(alpha=0.3, axis="x")
        if np.isnan(values).all():
            ax.text(0.5, 0.5, "not available", ha="center", va="center", transform=ax.transAxes)
    figure.suptitle(
        f"What drives each outcome: {measure.attrs['long_name']}"
        f"{_settings_text(design, lever_combination)}"
    )
    _save(figure, path)


def _most_influential(values: np.ndarray, fallback: np.ndarray) -> int:
    for candidate in (values, fallback):
        magnitude = np.abs(candidate)
        if np.isfinite(magnitude).any():
            return int(np.argmax(np.where(np.isfinite(magnitude), magnitude, -1.0)))
    return 0


def plot_scatter(
    ds: xr.Dataset,
    scalars: xr.Dataset,
    path: Path,
    scenario: str | None = None,
    lever_combination: int = 0,
    indices: xr.Dataset | None = None,
) -> None:
    """Plot each scalar outcome against its most influential input, one panel per outcome.

    The input is the one ranked first by ``ranking`` (ST, mu* or Spearman's rho); failed samples
    are left out.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep.
    scalars : xarray.Dataset
        Its scalar outcomes.
    path : Path
        The PNG to write (atomically).
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    indices : xarray.Dataset, optional
        Already computed indices, passed to ``ranking``.
    """
    design, measure, name, data = _ranked(ds, scalars, scenario, lever_combination, indices)
    full = _with_scenario(ds, design)
    scalars = _with_scenario(scalars, design) if "scenario" not in scalars.dims else scalars
    rows = design.block(lever_combination)
    ok = _succeeded(full).sel(scenario=name).values[rows]
    rho = None
    if measure.attrs["measure"] != "rho":
        rho = _select(rank_correlations(ds, scalars)["rho"], name, lever_combination)
    outcomes = [str(o) for o in data["outcome"].values]
    figure, axes = _new_figure(len(outcomes), 2, (5.5, 4.2))
    for ax, outcome in zip(axes, outcomes, strict=True):
        values = data.sel(outcome=outcome).values
        fallback = rho.sel(outcome=outcome).values if rho is not None else values
        top = design.parameters[_most_influential(values, fallback)]
        x = full[top].values[rows][ok]
        long_name, scale, shown = _outcome_label(outcome, scalars)
        y = scalars[outcome].sel(scenario=name).values[rows][ok] * scale
        ax.scatter(x, y, s=8, alpha=0.5, color="C0", edgecolors="none")
        x_units = _input_units(full, top)
        ax.set_xlabel(f"{top} [{x_units}]" if x_units else top)
        ax.set_ylabel(f"{outcome} [{shown}]")
        score = values[design.parameters.index(top)]
        ax.set_title(
            f"{name}: {long_name}\nagainst {top} ({measure.attrs['measure']} = {score:.2f})",
            fontsize="medium",
        )
        ax.grid(alpha=0.3)
    settings = _settings_text(design, lever_combination)
    figure.suptitle(f"Each outcome against its most influential input{settings}")
    _save(figure, path)


# --- The whole analysis ---------------------------------------------------------------------------


def _read_sweep(sweep_dir: Path) -> xr.Dataset:
    path = Path(sweep_dir) / "sweep.nc"
    if not path.is_file():
        raise InputError(f"no sweep to analyse: {path} does not exist")
    try:
        with xr.open_dataset(path) as opened:
            return opened.load()
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {path}: {error}") from None


def _prefixed(indices: xr.Dataset, prefix: str, suffix: str = "") -> xr.Dataset:
    renamed = indices.rename({name: f"{prefix}{name}{suffix}" for name in indices.data_vars})
    renamed.attrs = {}
    return renamed


def analyze(sweep_dir: Path, over_time: Sequence[str] = ()) -> Path:
    """Analyse a sweep: scalar outcomes, sensitivity indices and figures, written beside it.

    Reads ``sweep_dir/sweep.nc`` and writes ``sweep_dir/analysis.nc`` (layout in the module's
    docstring), ``fan_<variable>.png`` for each of ``FAN_VARIABLES`` present, ``sobol.png`` (Sobol
    sweeps) or ``morris.png`` (Morris sweeps), ``tornado.png`` and ``scatter.png``, each through a
    temporary file renamed into place. Everything is checked before anything is written.

    Parameters
    ----------
    sweep_dir : Path
        The folder holding ``sweep.nc``.
    over_time : sequence of str
        Time-series outcomes whose Sobol indices are wanted at every saved time; Sobol sweeps only.

    Returns
    -------
    Path
        The path of ``analysis.nc``.

    Raises
    ------
    InputError
        If ``sweep.nc`` is missing, unreadable or lacks required attributes, if a name in
        ``over_time`` is not a time-series outcome, or if ``over_time`` is given for a sweep
        that is not a Sobol sweep.
    """
    sweep_dir = Path(sweep_dir)
    ds = _read_sweep(sweep_dir)
    design = _design(ds)
    valid = _outcome_variables(ds)
    for variable in over_time:
        if variable not in valid:
            raise InputError(
                f"unknown over-time variable '{variable}'; valid: {', '.join(sorted(valid))}"
            )
    if over_time and design.sampler != "sobol":
        raise InputError(
            f"Sobol indices over time need a sweep sampled with 'sobol', not '{design.sampler}'"
        )
    if not os.access(sweep_dir, os.W_OK):
        raise InputError(f"sweep folder {sweep_dir} is not writable")

    full = _with_scenario(ds, design)
    scalars = scalar_outcomes(full)
    notes: list[str] = []
    parts = [scalars, full[["error"]]]
    indices: xr.Dataset | None = None
    if design.sampler == "sobol":
        indices = sobol_indices(full, scalars)
        parts.append(_prefixed(indices, "sobol_"))
        notes.append(f"Sobol: {indices.attrs['notes']}")
        for variable in dict.fromkeys(over_time):
            timed = sobol_indices_over_time(full, variable)
            parts.append(_prefixed(timed, f"sobol_{variable}_"))
            notes.append(f"Sobol of {variable} over time: {timed.attrs['notes']}")
    elif design.sampler == "morris":
        indices = morris_indices(full, scalars)
        parts.append(_prefixed(indices, "morris_"))
        notes.append(f"Morris: {indices.attrs['notes']}")
    correlations = rank_correlations(full, scalars)
    parts.append(_prefixed(correlations, "spearman_"))
    notes.append(f"Spearman: {correlations.attrs['notes']}")
    if indices is None:
        indices = correlations

    analysis = xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="drop")
    analysis.attrs = {
        **{key: value for key, value in ds.attrs.items() if value is not None},
        "source": "sweep.nc",
        "notes": " | ".join(notes),
    }

    for variable in FAN_VARIABLES:
        if variable in full.data_vars:
            plot_fan_chart(full, variable, sweep_dir / f"fan_{variable}.png")
    if design.sampler == "sobol":
        plot_sobol(indices, sweep_dir / "sobol.png")
    elif design.sampler == "morris":
        plot_morris(indices, sweep_dir / "morris.png")
    plot_tornado(full, scalars, sweep_dir / "tornado.png", indices=indices)
    plot_scatter(full, scalars, sweep_dir / "scatter.png", indices=indices)
    target = sweep_dir / "analysis.nc"
    atomic_file(target, lambda scratch: analysis.to_netcdf(scratch, format="NETCDF4"))
    return target
