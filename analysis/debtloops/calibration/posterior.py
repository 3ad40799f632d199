"""Using a calibration: prior and posterior draws, and projections under each.

:func:`posterior_matrix` is the hook for sensitivity sweeps (``[sampler] method = "posterior"``):
it returns posterior draws of the calibrated behavioural parameters as a parameter matrix.
:func:`projection_bands` runs a scenario (``japan_full`` by default) over sets of draws (prior and
posterior, with or without other uncertain parameters drawn from their ranges), in Simlin, and
returns the 5-95% bands of debt/GDP at the end and of the peak 10-year yield.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from debtloops.calibration.spec import Prior
from debtloops.errors import InputError
from debtloops.figures.labels import PERCENT
from debtloops.model.parameters import load_parameters

CALIBRATION_FILE = "calibration.nc"
#: The quantiles of the bands [1].
BAND = (0.05, 0.5, 0.95)


def projected_names(names: Sequence[str]) -> list[str]:
    """Return the estimated parameters that carry into projections: all but the drivers.

    A driver estimated as a constant over the fit period (the other foreign holders' steady
    buying, say) describes the past, not the projection, which takes the driver's own path.
    """
    table = load_parameters()
    return [name for name in names if table[name].kind != "driver"]


def draw_prior(priors: Sequence[Prior], count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw from the priors, each truncated to its support.

    Parameters
    ----------
    priors : sequence of Prior
        The priors.
    count : int
        Draws.
    rng : numpy.random.Generator
        The random source.

    Returns
    -------
    numpy.ndarray
        Shape (count, priors) [the parameters' units].
    """
    columns = []
    for prior in priors:
        if prior.kind == "uniform":
            columns.append(rng.uniform(prior.low, prior.high, count))
            continue
        if prior.kind == "normal":
            dist = stats.norm(prior.centre, prior.spread)
        else:
            dist = stats.lognorm(prior.spread, scale=prior.centre)
        lo, hi = dist.cdf(prior.low), dist.cdf(prior.high)
        columns.append(dist.ppf(rng.uniform(lo, hi, count)))
    return np.column_stack(columns)


def read_calibration(folder: Path) -> xr.Dataset:
    """Open a finished calibration's ``calibration.nc``.

    Raises
    ------
    InputError
        If the folder holds no calibration.
    """
    path = Path(folder) / CALIBRATION_FILE
    if not path.is_file():
        raise InputError(
            f"no calibration in {folder}: {CALIBRATION_FILE} is missing; run "
            "`debtloops calibrate SPEC --out DIR` first"
        )
    with xr.open_dataset(path) as dataset:
        return dataset.load()


def posterior_matrix(
    folder: Path, count: int | None = None, seed: int = 0
) -> tuple[list[str], np.ndarray]:
    """Return posterior draws of the calibrated behavioural parameters as a parameter matrix.

    Parameters
    ----------
    folder : Path
        A calibration's output folder (holding ``calibration.nc``).
    count : int, optional
        How many draws; all of them by default, else drawn with replacement when more are
        asked than the chain holds, without replacement otherwise.
    seed : int
        Seeds the choice of draws.

    Returns
    -------
    names : list of str
        The parameters (drivers estimated as constants over the fit period are left out).
    matrix : numpy.ndarray
        Shape (draws, parameters) [the parameters' units].
    """
    dataset = read_calibration(folder)
    names = projected_names([str(n) for n in dataset["parameter"].values])
    draws = dataset["posterior"].sel(quantity=names).values
    if count is None:
        return names, draws
    if count < 1:
        raise InputError(f"posterior draws: count = {count} must be at least 1")
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(draws), size=count, replace=count > len(draws))
    return names, draws[rows]


def projection_bands(
    scenario: str,
    draws: Mapping[str, tuple[Sequence[str], np.ndarray]],
    cbo: str | Path | None = None,
) -> pd.DataFrame:
    """Run a scenario over sets of parameter draws and return the bands of two outcomes.

    Parameters
    ----------
    scenario : str
        A scenario name or file (see :func:`debtloops.model.run.prepare`).
    draws : mapping
        A label (e.g. ``"posterior"``) -> (the parameters drawn, their draws of shape
        (draws, parameters) [the parameters' units]); every other value is the scenario's. A
        driver drawn is held constant, as in a sweep.
    cbo : str or Path, optional
        The CBO vintage of the runs (see :func:`debtloops.model.run.prepare`).

    Returns
    -------
    pandas.DataFrame
        Rows ``(outcome, draws)``; columns ``p5, p50, p95`` and ``runs`` (the runs that
        finished); outcomes ``debt/GDP <final year> [%]`` and ``peak 10y yield [%]``.
    """
    from debtloops.model.run import prepare
    from debtloops.model.simlin import prepared_model

    prepared = prepare(scenario, cbo=cbo)
    table = load_parameters()
    values = dict(prepared.values)
    for names, _ in draws.values():
        for name in names:
            if isinstance(values[name], Mapping):  # a driver's path becomes a constant
                values[name] = float(table[name].value)
    model, overrides = prepared_model(values)
    final = float(values["final_time"])  # type: ignore[arg-type]
    rows = []
    for label_, (names, matrix) in draws.items():
        debt, peak = [], []
        for theta in matrix:
            changes = dict(zip(names, map(float, theta), strict=True))
            try:
                run = model.simulate(overrides={**overrides, **changes})
                run.run_to_end()
                end = float(run.get_series("debt_to_gdp")[-1]) * PERCENT
                top = float(np.max(run.get_series("market_yield"))) * PERCENT
            except Exception:  # noqa: BLE001 - a failed run is counted, not fatal
                continue
            if np.isfinite(end) and np.isfinite(top):
                debt.append(end)
                peak.append(top)
        for outcome, values_ in ((f"debt/GDP {final:g} [%]", debt), ("peak 10y yield [%]", peak)):
            quantiles = np.quantile(values_, BAND) if values_ else [np.nan] * len(BAND)
            rows.append((outcome, label_, *quantiles, len(values_)))
    frame = pd.DataFrame(rows, columns=["outcome", "draws", "p5", "p50", "p95", "runs"])
    return frame.set_index(["outcome", "draws"]).sort_index(level=0, sort_remaining=False)


def uniform_draws(names: Sequence[str], count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw parameters uniformly on the table's ranges, shape (count, names) [their units]."""
    table = load_parameters()
    lows = np.array([table[name].low for name in names])
    highs = np.array([table[name].high for name in names])
    return lows + (highs - lows) * rng.uniform(size=(count, len(names)))
