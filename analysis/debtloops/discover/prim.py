"""PRIM (Friedman and Fisher 1999), peeling only, and the pruning of the box it chooses.

See :mod:`debtloops.discover` for the method; these are pure functions of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Share of the box's samples cut off in one peel [1].
PEEL_ALPHA = 0.05
#: Peeling stops before the box holds fewer than this share of all samples [1].
MIN_MASS = 0.05
#: A restriction of the chosen box whose quasi-p-value is above this is dropped [1].
QP_LIMIT = 0.05


@dataclass(frozen=True)
class Peeling:
    """A PRIM peeling trajectory: one box per step, step 0 the full box.

    Attributes
    ----------
    low, high : numpy.ndarray
        (step, parameter): each box's limits [each parameter's units].
    coverage, density, mass : numpy.ndarray
        (step,): each box's coverage, density and mass [1].
    """

    low: np.ndarray
    high: np.ndarray
    coverage: np.ndarray
    density: np.ndarray
    mass: np.ndarray


def prim(
    x: np.ndarray,
    y: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    alpha: float = PEEL_ALPHA,
    min_mass: float = MIN_MASS,
) -> Peeling:
    """Peel a box around the cases of interest (PRIM's top-down peeling, without pasting).

    Each step tries, for every parameter, cutting the samples below its ``alpha`` quantile in the
    box, or above its ``1 - alpha`` quantile, and keeps the cut that leaves the highest density
    (ties: the one that removes fewest samples). A cut that removes nothing or everything is not
    a candidate. Peeling stops when the next box would hold fewer than ``min_mass`` of the samples.

    Parameters
    ----------
    x : numpy.ndarray
        (sample, parameter) inputs [each parameter's units].
    y : numpy.ndarray
        (sample,) bool: the cases of interest; at least one.
    low, high : numpy.ndarray
        (parameter,) the full ranges [each parameter's units].
    alpha : float
        The share of the box's samples each peel cuts [1].
    min_mass : float
        The smallest mass of a box [1].

    Returns
    -------
    Peeling
        The trajectory.
    """
    n = len(y)
    interest = int(y.sum())
    inside = np.ones(n, bool)
    box_low, box_high = np.array(low, float), np.array(high, float)
    steps = []

    def record() -> None:
        held = int(y[inside].sum())
        count = int(inside.sum())
        steps.append((box_low.copy(), box_high.copy(), held / interest, held / count, count / n))

    record()
    while True:
        best = None
        xs, ys = x[inside], y[inside]
        for j in range(x.shape[1]):
            lower, upper = np.quantile(xs[:, j], [alpha, 1.0 - alpha])
            for side, keep in (("low", xs[:, j] >= lower), ("high", xs[:, j] <= upper)):
                kept = int(keep.sum())
                if kept == len(ys) or kept < min_mass * n:
                    continue
                key = (ys[keep].mean(), kept)
                if best is None or key > best[0]:
                    best = (key, j, side, lower if side == "low" else upper, keep)
        if best is None:
            break
        _, j, side, cut, keep = best
        if side == "low":
            box_low[j] = cut
        else:
            box_high[j] = cut
        inside[np.flatnonzero(inside)[~keep]] = False
        record()
    low_s, high_s, coverage, density, mass = (np.array(part) for part in zip(*steps, strict=True))
    return Peeling(low_s, high_s, coverage, density, mass)


def choose_box(peeling: Peeling) -> int:
    """Return the step whose box balances coverage and density best (their harmonic mean)."""
    c, d = peeling.coverage, peeling.density
    score = np.where(c + d > 0, 2.0 * c * d / np.maximum(c + d, np.finfo(float).tiny), 0.0)
    return int(np.argmax(score))


def in_box(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Return whether each sample (a row of ``x``) lies inside the box from ``low`` to ``high``."""
    return np.all((x >= low) & (x <= high), axis=1)


def quasi_p_values(
    x: np.ndarray,
    y: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    full_low: np.ndarray,
    full_high: np.ndarray,
) -> np.ndarray:
    """Return each restriction's quasi-p-value: how likely the box's density is without it.

    For a restricted parameter, the box without that restriction has density ``p``; the
    quasi-p-value is the chance of at least the box's count of cases of interest among the box's
    samples, drawn with probability ``p`` (a one-sided binomial test).

    Returns
    -------
    numpy.ndarray
        (parameter,) [1]; NaN for a parameter not restricted.
    """
    from scipy.stats import binom

    inside = in_box(x, low, high)
    count, hits = int(inside.sum()), int(y[inside].sum())
    values = np.full(x.shape[1], np.nan)
    for j in np.flatnonzero((low > full_low) | (high < full_high)):
        wider_low, wider_high = low.copy(), high.copy()
        wider_low[j], wider_high[j] = full_low[j], full_high[j]
        wider = in_box(x, wider_low, wider_high)
        values[j] = float(binom.sf(hits - 1, count, y[wider].mean()))
    return values


def prune(
    x: np.ndarray,
    y: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    full_low: np.ndarray,
    full_high: np.ndarray,
    limit: float = QP_LIMIT,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop a box's restrictions that the data do not support, the least supported first.

    Returns
    -------
    tuple of numpy.ndarray
        The box's new lower and upper limits, and the quasi-p-values of the restrictions kept
        (:func:`quasi_p_values`).
    """
    low, high = np.array(low, float), np.array(high, float)
    while True:
        values = quasi_p_values(x, y, low, high, full_low, full_high)
        if np.all(np.isnan(values)) or np.nanmax(values) <= limit:
            return low, high, values
        j = int(np.nanargmax(values))
        low[j], high[j] = full_low[j], full_high[j]
