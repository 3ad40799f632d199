"""The Shapley values of a game, pure functions of its value table.

A coalition is a bit mask: bit ``i`` set when player ``i`` (here a mechanism) is in it. With every
coalition's value, :func:`shapley_exact` gives the exact shares; with sampled orders of the
players (:func:`sample_permutations`), :func:`shapley_sampled` estimates them with their standard
errors from the coalitions :func:`permutation_masks` names.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def shapley_exact(values: np.ndarray) -> np.ndarray:
    """Return every player's Shapley value from the value of every coalition.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(2^n, ...)``: ``values[mask]`` is the value of the coalition whose members are the
        set bits of ``mask`` (bit ``i`` for player ``i``); trailing axes are outcomes or times.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, ...)``: player ``i``'s share; the shares sum to ``values[-1] - values[0]``.
    """
    values = np.asarray(values, dtype=float)
    n = int(round(math.log2(len(values))))
    if len(values) != 1 << n:
        raise ValueError(f"{len(values)} coalition values, not a power of two")
    masks = np.arange(1 << n)
    sizes = np.array([bin(mask).count("1") for mask in masks])
    # weight of a coalition of s players that leaves out i: s! (n-s-1)! / n!
    weight = np.array(
        [
            math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) if s < n else 0.0
            for s in sizes
        ]
    )
    shares = np.empty((n, *values.shape[1:]))
    for player in range(n):
        bit = 1 << player
        without = masks[(masks & bit) == 0]
        gains = values[without | bit] - values[without]
        shares[player] = np.tensordot(weight[without], gains, axes=1)
    return shares


def sample_permutations(n: int, count: int, seed: int) -> np.ndarray:
    """Return ``count`` random orders of ``n`` players, shape ``(count, n)``."""
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(count)], dtype=int).reshape(count, n)


def permutation_masks(orders: np.ndarray) -> list[int]:
    """Return the coalitions (bit masks) whose values a set of orders needs, without repeats."""
    masks = {0}
    for order in orders:
        mask = 0
        for player in order:
            mask |= 1 << int(player)
            masks.add(mask)
    return sorted(masks)


def shapley_sampled(
    value: Callable[[int], np.ndarray], orders: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate Shapley values from players' marginal gains along sampled orders.

    Parameters
    ----------
    value : callable
        The value of a coalition given as a bit mask (see :func:`shapley_exact`).
    orders : numpy.ndarray
        Shape ``(m, n)``: orders in which the players join.

    Returns
    -------
    shares, standard_errors : numpy.ndarray
        Shape ``(n, ...)``: the mean marginal gain of each player, and its standard error (the
        standard deviation over orders over the square root of ``m``). The shares sum to
        ``value(all) - value(none)`` exactly, since each order's gains do.
    """
    m, n = orders.shape
    gains = []
    for order in orders:
        gain = [np.zeros_like(np.asarray(value(0), dtype=float))] * n
        mask, before = 0, np.asarray(value(0), dtype=float)
        for player in order:
            mask |= 1 << int(player)
            after = np.asarray(value(mask), dtype=float)
            gain[int(player)] = after - before
            before = after
        gains.append(np.stack(gain))
    stacked = np.stack(gains)
    spread = stacked.std(axis=0, ddof=1) if m > 1 else np.full(stacked.shape[1:], np.nan)
    return stacked.mean(axis=0), spread / math.sqrt(m)
