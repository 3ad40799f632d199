"""``debtloops analyze DIR``: sensitivity indices and figures of a finished sweep.

Checks ``DIR/sweep.zarr`` against its checksums (:func:`debtloops.sweeps.store.check_whole`),
opens it lazily (:func:`debtloops.sweeps.store.open_sweep`; it must be complete),
takes the design from the sweep's own record (:func:`debtloops.sweeps.store.read_design`), reduces
each sample to scalar outcomes (:mod:`debtloops.sweeps.outcomes`), computes the indices the sampler
supports (:mod:`debtloops.sweeps.indices`) and draws the figures
(:mod:`debtloops.figures.sweeps`). It writes ``DIR/analysis.nc``, one Dataset holding:

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

The attributes copy the sweep's (its design record, provenance) and add ``notes``. Beside
``analysis.nc`` go the figures ``fan_<variable>.png``, the sampler's own chart if it has indices
of its own (``sobol.png``, ``morris.png``; see :mod:`debtloops.sweeps.samplers`), ``tornado.png``
and ``scatter.png``. With ``netcdf=True`` (``debtloops analyze --netcdf``), the
sweep itself is also written as ``DIR/sweep.nc`` for netCDF tools (:func:`sweep_netcdf`): every
outcome over (scenario, sample, time), ``error`` and the input coordinates, without the store's
bookkeeping (``chunk_done``, ``chunk_checksum``). Both files are CF-1.10
(:func:`debtloops.cf.write_netcdf`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.errors import InputError
from debtloops.figures import sweeps as figures
from debtloops.io import atomic_file, check_targets
from debtloops.sweeps import indices as si
from debtloops.sweeps.design import Design
from debtloops.sweeps.outcomes import (
    is_constant,
    outcome_variables,
    percentile_bands,
    scalar_outcomes,
)
from debtloops.sweeps.samplers import REGISTRY, Sampler, sampler
from debtloops.sweeps.store import (
    CHECKSUM,
    DONE,
    ERROR,
    STORE_NAME,
    check_whole,
    open_sweep,
    read_design,
)

#: The time series drawn as fan charts by ``analyze``, when present.
FAN_VARIABLES = ("debt_to_gdp", "market_yield", "interest_to_revenue")
ANALYSIS_NAME = "analysis.nc"
#: The sweep written as netCDF by ``debtloops analyze --netcdf``.
SWEEP_NETCDF = "sweep.nc"


def _prefixed(indices: xr.Dataset, prefix: str, suffix: str = "") -> xr.Dataset:
    renamed = indices.rename({name: f"{prefix}{name}{suffix}" for name in indices.data_vars})
    renamed.attrs = {}
    return renamed


def _ranking_gaps(measure: xr.DataArray, scalars: xr.Dataset, used: xr.DataArray) -> list[str]:
    """Say which outcomes the tornado and scatter charts cannot rank, and why.

    Both charts show the first scenario and lever combination, as drawn by
    :mod:`debtloops.figures.sweeps`.
    """
    first = {
        "scenario": 0,
        **({"lever_combination": 0} if "lever_combination" in measure.dims else {}),
    }
    shown, ran = measure.isel(first), int(used.isel(first))
    scenario = str(shown["scenario"].values)
    if ran == 0:
        return [f"tornado.png or scatter.png for scenario '{scenario}': no sample ran"]
    symbol = measure.attrs["measure"]
    gaps = []
    for outcome in shown["outcome"].values:
        if not np.isnan(shown.sel(outcome=outcome).values).all():
            continue
        values = scalars[str(outcome)].isel(scenario=0).values
        if symbol == "rho" and ran < si.MIN_RANK_PAIRS:
            why = f"a rank correlation needs {si.MIN_RANK_PAIRS} samples that ran, {ran} did"
        elif is_constant(values[np.isfinite(values)]):
            why = "it does not vary across the samples"
        else:
            why = f"its {symbol} is undefined (see the notes in {ANALYSIS_NAME})"
        gaps.append(f"tornado.png bars for {outcome} in scenario '{scenario}': {why}")
    return gaps


def sweep_netcdf(ds: xr.Dataset) -> xr.Dataset:
    """Return a sweep store's data as netCDF keeps them: text as Python strings, no bookkeeping.

    Parameters
    ----------
    ds : xarray.Dataset
        The store, as :func:`debtloops.sweeps.store.open_sweep` returns it (dask-backed).

    Returns
    -------
    xarray.Dataset
        Every variable but ``chunk_done`` and ``chunk_checksum``, still lazy.
    """
    data = ds.drop_vars([DONE, CHECKSUM], errors="ignore")
    data[ERROR] = data[ERROR].compute().astype(object)  # small; netCDF text is Python strings
    return data.assign_coords(scenario=[str(s) for s in data["scenario"].values])


def analyze(sweep_dir: Path, over_time: Sequence[str] = (), netcdf: bool = False) -> Path:
    """Analyse a sweep: scalar outcomes, sensitivity indices and figures, written beside it.

    Reads ``sweep_dir/sweep.zarr`` and writes ``sweep_dir/analysis.nc`` (layout in the module's
    docstring), ``fan_<variable>.png`` for each of :data:`FAN_VARIABLES` present, ``sobol.png``
    (Sobol sweeps) or ``morris.png`` (Morris sweeps), ``tornado.png`` and ``scatter.png``, each
    through a temporary file renamed into place. Everything is checked before anything is written.
    The sweep is read lazily: the time series are reduced chunk by chunk, and percentiles are
    taken a few saved times at a time.

    Parameters
    ----------
    sweep_dir : Path
        The folder holding ``sweep.zarr``.
    over_time : sequence of str
        Time-series outcomes whose Sobol indices are wanted at every saved time; Sobol sweeps only.
    netcdf : bool
        Also write the sweep as ``sweep_dir/sweep.nc`` (:func:`sweep_netcdf`).

    Returns
    -------
    Path
        The path of ``analysis.nc``.

    Raises
    ------
    InputError
        If ``sweep.zarr`` is missing, unreadable, incomplete, damaged (a chunk file or array
        that differs from the store's checksums) or lacks its design record, if a
        name in ``over_time`` is not a time-series outcome, or if ``over_time`` is given for a
        sweep that is not a Sobol sweep.
    """
    sweep_dir = Path(sweep_dir)
    ds, design, method = _checked(sweep_dir, over_time, netcdf)
    scalars = scalar_outcomes(ds).compute()
    parts, notes, indices = _indices(ds, scalars, method, over_time)
    correlations = si.rank_correlations(ds, scalars)
    parts.append(_prefixed(correlations, "spearman_"))
    notes.append(f"Spearman: {correlations.attrs['notes']}")
    analysis = _dataset([scalars, ds[[ERROR]].compute(), *parts], ds, design, notes)
    gaps = _draw(sweep_dir, ds, design, method, scalars, indices or correlations, correlations)
    for gap in gaps:
        print(f"debtloops: cannot draw {gap}", file=sys.stderr)
    if gaps:
        analysis.attrs["notes"] += " | cannot draw: " + "; ".join(gaps)
    if netcdf:
        whole = sweep_netcdf(ds)
        atomic_file(
            sweep_dir / SWEEP_NETCDF,
            lambda scratch: write_netcdf(whole, scratch, f"debtloops analyze wrote {SWEEP_NETCDF}"),
        )
    target = sweep_dir / ANALYSIS_NAME
    atomic_file(
        target,
        lambda scratch: write_netcdf(analysis, scratch, "debtloops analyze wrote analysis.nc"),
    )
    return target


def _checked(
    sweep_dir: Path, over_time: Sequence[str], netcdf: bool
) -> tuple[xr.Dataset, Design, Sampler]:
    """Open a sweep and check everything ``analyze`` needs before it writes anything."""
    if (sweep_dir / STORE_NAME).is_dir():
        check_whole(sweep_dir / STORE_NAME)  # before anything is read
    ds = open_sweep(sweep_dir / STORE_NAME)
    design = read_design(ds)
    valid = outcome_variables(ds)
    for variable in over_time:
        if variable not in valid:
            raise InputError(
                f"unknown over-time variable '{variable}'; valid: {', '.join(sorted(valid))}"
            )
    method = sampler(design.spec.method)
    if over_time and method.over_time is None:
        timed = "' or '".join(name for name, entry in REGISTRY.items() if entry.over_time)
        raise InputError(
            f"Sobol indices over time need a sweep sampled with '{timed}', not '{method.name}'"
        )
    if not os.access(sweep_dir, os.W_OK):
        raise InputError(f"sweep folder {sweep_dir} is not writable")
    charts = [f"fan_{name}.png" for name in FAN_VARIABLES if name in ds.data_vars]
    charts += [f"{method.name}.png"] if method.plot is not None else []
    extra = [SWEEP_NETCDF] if netcdf else []
    check_targets(sweep_dir, [ANALYSIS_NAME, *charts, "tornado.png", "scatter.png", *extra])
    return ds, design, method


def _indices(
    ds: xr.Dataset, scalars: xr.Dataset, method: Sampler, over_time: Sequence[str]
) -> tuple[list[xr.Dataset], list[str], xr.Dataset | None]:
    """Compute the sampler's own indices, and over time those of each variable asked for.

    Returns the parts of ``analysis.nc`` (prefixed with the sampler's name), their notes, and the
    indices themselves (None for a sampler without indices of its own).
    """
    if method.indices is None:
        return [], [], None
    indices = method.indices(ds, scalars)
    parts = [_prefixed(indices, f"{method.name}_")]
    notes = [f"{method.title}: {indices.attrs['notes']}"]
    for variable in dict.fromkeys(over_time):
        if method.over_time is not None:  # else refused by _checked
            timed = method.over_time(ds, variable)
            parts.append(_prefixed(timed, f"{method.name}_{variable}_"))
            notes.append(f"{method.title} of {variable} over time: {timed.attrs['notes']}")
    return parts, notes, indices


def _dataset(
    parts: list[xr.Dataset], ds: xr.Dataset, design: Design, notes: list[str]
) -> xr.Dataset:
    """Merge the parts of ``analysis.nc``, with the sweep's inputs and attributes."""
    analysis = xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="drop")
    for name in design.names:  # the inputs, loaded, with their units and descriptions
        analysis = analysis.assign_coords({name: ds[name].compute()})
    # netCDF keeps text as variable-length strings of Python objects.
    analysis[ERROR] = analysis[ERROR].astype(object)
    analysis = analysis.assign_coords(scenario=[str(s) for s in analysis["scenario"].values])
    analysis.attrs = {
        **{key: value for key, value in ds.attrs.items() if value is not None},
        "source": STORE_NAME,
        "notes": " | ".join(notes),
    }
    return analysis


def _draw(
    sweep_dir: Path,
    ds: xr.Dataset,
    design: Design,
    method: Sampler,
    scalars: xr.Dataset,
    indices: xr.Dataset,
    correlations: xr.Dataset,
) -> list[str]:
    """Draw the fan charts, the sampler's own chart, the tornado and scatter charts.

    Returns what could not be drawn, and why.
    """
    inputs = {name: dict(ds[name].attrs) for name in design.names}
    gaps = []
    for variable in FAN_VARIABLES:
        if variable in ds.data_vars:
            bands = percentile_bands(ds, variable)
            figures.plot_fan_chart(bands, sweep_dir / f"fan_{variable}.png", design.has_levers)
            gaps += [
                f"fan_{variable}.png: no bands for scenario '{scenario}': no sample ran"
                for scenario, used in zip(
                    design.spec.scenarios, bands.attrs["n_samples"], strict=True
                )
                if not used
            ]
    if method.plot is not None:
        method.plot(indices, sweep_dir / f"{method.name}.png", scalars, inputs=inputs)
    measure = si.ranking(ds, scalars, indices)
    figures.plot_tornado(measure, scalars, sweep_dir / "tornado.png", inputs=inputs)
    figures.plot_scatter(ds, scalars, measure, correlations["rho"], sweep_dir / "scatter.png")
    return gaps + _ranking_gaps(measure, scalars, correlations["n_samples"])
