"""What a sweep's samples gave: scalar outcomes per sample and percentile bands over time.

Every function takes a sweep as :func:`debtloops.sweeps.store.open_sweep` returns it (dims
``scenario``, ``sample``, ``time``; dask-backed) and stays lazy or works through bounded slices,
so a sweep of a million samples is never loaded whole. Samples whose ``error`` is not empty are
failed runs and are left out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr

from debtloops.errors import InputError
from debtloops.model.outcomes import PER_SAMPLE
from debtloops.model.outcomes import REDUCTIONS as REDUCTIONS  # the reductions, named here too
from debtloops.sweeps.store import ERROR
from debtloops.units import PERCENT

#: Units shown in percent: ratios [1] and rates [1/year].
PERCENT_UNITS = frozenset({"1", "1/year"})
#: Percentiles of the fan charts' bands and median line [%].
FAN_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
#: The largest slice of one variable loaded at once to compute percentiles [bytes].
SLAB_BYTES = 128 * 2**20
#: Bytes per value of a float64 [bytes].
FLOAT_BYTES = 8
#: An outcome whose standard deviation across a block is below this share of its magnitude is
#: treated as constant: its variance-based indices and rank correlations are undefined.
RELATIVE_SPREAD = 1e-12


#: The scalar outcomes computed per sample, by name: those of the one registry
#: (:data:`debtloops.model.outcomes.OUTCOMES`) marked ``per_sample``, read live, so an entry added
#: there is computed here and reported by ``analyze``, ``discover`` and ``compare-policies``.
SCALAR_OUTCOMES = PER_SAMPLE


def shown(values: np.ndarray, units: str) -> tuple[np.ndarray, str]:
    """Return values in the units shown and compared: percent for ratios and rates.

    Parameters
    ----------
    values : numpy.ndarray
        Values in ``units``.
    units : str
        Their units, as the model gives them.

    Returns
    -------
    values : numpy.ndarray
        ``values`` times 100 for a ratio [1] or a rate [1/year], else unchanged.
    units : str
        ``percent``, ``percent/year`` or ``units``.
    """
    if units in PERCENT_UNITS:
        return values * PERCENT, "percent" if units == "1" else "percent/year"
    return values, units


def succeeded(ds: xr.Dataset) -> xr.DataArray:
    """Return True where a sample ran (its ``error`` is empty), over ``scenario`` and ``sample``."""
    return ds[ERROR] == ""


def outcome_variables(ds: xr.Dataset) -> list[str]:
    """Return the time-series outcomes of the sweep (data variables over sample and time)."""
    return [
        str(name)
        for name, variable in ds.data_vars.items()
        if "sample" in variable.dims and "time" in variable.dims
    ]


def check_variable(ds: xr.Dataset, variable: str) -> None:
    """Refuse a name that is not a time-series outcome of the sweep, listing the valid ones."""
    valid = outcome_variables(ds)
    if variable not in valid:
        raise InputError(
            f"unknown time-series variable '{variable}'; valid: {', '.join(sorted(valid))}"
        )


def scalar_outcomes(ds: xr.Dataset) -> xr.Dataset:
    """Reduce each sample's time series to the scalar outcomes of ``SCALAR_OUTCOMES``.

    Only the outcomes whose source variable is in the sweep are computed; the result is lazy when
    the sweep is. Failed samples (non-empty ``error``) give NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep, over ``scenario``, ``sample`` and ``time`` [year].

    Returns
    -------
    xarray.Dataset
        One variable per scalar outcome over ``scenario``, ``sample``, in the units of its source
        (debt/GDP [1], yield [1/year], extra interest [billion USD], dollar [index]), with the
        sweep's sample coordinates, and ``units``, ``long_name``, ``source`` (the series) and
        ``reduction`` (``final``, ``max`` or ``min``; empty for another measure) attributes.
    """
    if ERROR not in ds.data_vars:
        raise InputError("sweep lacks the 'error' variable")
    ok = succeeded(ds)
    result = {}
    for name, spec in SCALAR_OUTCOMES.items():
        if not all(source in ds.data_vars for source in spec.sources):
            continue
        value = spec.measure(ds, None, spec.time(ds)).where(ok)
        value.attrs = {
            "units": spec.units,
            "long_name": spec.long_name,
            "source": spec.source,
            "reduction": spec.reduction,
        }
        result[name] = value
    if not result:
        sources = ", ".join(spec.source for spec in SCALAR_OUTCOMES.values())
        raise InputError(f"sweep holds none of the outcomes {sources}")
    return xr.Dataset(result)


def percentile_bands(
    ds: xr.Dataset, variable: str, percentiles: Sequence[float] = FAN_PERCENTILES
) -> xr.DataArray:
    """Return percentiles across samples of a time series, leaving out failed samples.

    All lever combinations are pooled. The variable is read a few saved times at a time (at most
    :data:`SLAB_BYTES` per slice), so memory stays bounded at any sample count.

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
    check_variable(ds, variable)
    ok = succeeded(ds).compute()
    values = ds[variable].where(ok)
    n_samples, n_times = ds.sizes["sample"], ds.sizes["time"]
    step = max(1, min(n_times, SLAB_BYTES // (FLOAT_BYTES * max(1, n_samples))))
    q = np.asarray(percentiles, dtype=float) / PERCENT
    slabs = []
    for first in range(0, n_times, step):
        slab = values.isel(time=slice(first, first + step)).load()
        with warnings.catch_warnings():
            # A time at which every sample failed has no percentile: NaN is the answer.
            warnings.filterwarnings("ignore", message="All-NaN slice", category=RuntimeWarning)
            slabs.append(slab.quantile(q, dim="sample", skipna=True))
    bands = xr.concat(slabs, dim="time") if len(slabs) > 1 else slabs[0]
    bands = bands.rename(quantile="percentile").assign_coords(
        percentile=np.asarray(percentiles, dtype=float)
    )
    bands = bands.transpose("scenario", "percentile", "time")
    bands.name = variable
    bands.attrs = {**ds[variable].attrs, "n_samples": [int(n) for n in ok.sum("sample").values]}
    return bands


def is_constant(values: np.ndarray) -> bool:
    """Say whether values do not vary: a spread below 1e-12 of their magnitude (or of 1)."""
    spread = float(np.std(values))
    return spread <= RELATIVE_SPREAD * max(1.0, float(np.max(np.abs(values))))
