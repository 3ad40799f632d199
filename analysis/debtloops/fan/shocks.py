"""The fan's shocks: a VAR(1) fitted to FY2000-2025 history, draws from it, and where they enter.

See :mod:`debtloops.fan` for the method. Nothing here runs the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from debtloops.errors import InputError
from debtloops.model import data
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import PreparedRun
from debtloops.units import PERCENT

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
