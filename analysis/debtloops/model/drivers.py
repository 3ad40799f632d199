"""Fiscal-year data as the model's drivers: steps, year-end points and the GDP path.

Timing. Fiscal year (FY) t runs from t-1 to t on the model's clock (2025.0 is the end of FY2025).
A flow of FY t becomes a driver that holds its value from t-1 to just before t (a step); a stock
or ratio at the end of FY t is a point at t, interpolated linearly between year ends.

GDP, CBO's way. The model's GDP is an annual rate at each instant; a fiscal year's GDP, as CBO and
the Bureau of Economic Analysis count it, is the integral of that rate over the year (t-1 to t).
:func:`gdp_path` aligns the rate with the data: exponential within each half year, its integral
over every fiscal year is the data's GDP for the year (exactly, to rounding), and among such paths
it is the one whose growth changes least (an area-preserving spline of the log rate), so the rate
at the end of a year lies between that year's GDP and the next's. A flow F_t given as a share s of
that rate adds up over the year to s times FY t's GDP: the share is simply F_t over FY t's GDP, as
CBO states it. A ratio at an instant (``debt to GDP`` in the model: debt over the annual rate)
differs from CBO's (debt at the end of FY t over FY t's GDP) by FY t's GDP over the rate at t:
:func:`instantaneous_ratio` converts the expected debt/GDP with it. After the last year with GDP
in the data (FY2035 for CBO) the growth holds its last value, as every driver does, and CBO's
long-term shares of GDP are shares of that path's fiscal years. The model compounds the path's
growth and averages the rate over each time step exactly (``GDP step mean factor`` in the
``.mdl``), so a run with the feedbacks off adds up each fiscal year's GDP to rounding at any step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from debtloops.errors import InputError
from debtloops.units import PERCENT

#: A step driver holds FY t's value up to this long before t [year]; much less than a time step.
STEP_EDGE = 1e-6


def steps(values: pd.Series) -> dict[float, float]:
    """Turn fiscal-year values into a step driver.

    Parameters
    ----------
    values : pandas.Series
        One value per fiscal year [any units], indexed by fiscal year.

    Returns
    -------
    dict
        Year [year] -> value: FY t's value holds from t-1 to ``STEP_EDGE`` before t.
    """
    points: dict[float, float] = {}
    for year, value in values.sort_index().items():
        points[float(year) - 1.0] = float(value)
        points[float(year) - STEP_EDGE] = float(value)
    return points


def year_ends(values: pd.Series) -> dict[float, float]:
    """Turn end-of-fiscal-year values into a driver interpolated between year ends."""
    return {float(year): float(value) for year, value in values.sort_index().items()}


#: The GDP path's growth changes every half year [year]: two rates a fiscal year let the path be
#: smooth and still match each year's GDP exactly (one rate a year cannot: any turn in growth
#: leaves the rate zigzagging from year to year ever after).
HALF_YEAR = 0.5
#: Below this change of log GDP over a half year [1], (e^d - 1) / d is taken from its series.
SMALL_CHANGE = 1e-8
#: The alignment stops when every year's log integral is this close to its data [1], or after
#: ``MAX_NEWTON_STEPS`` steps.
ALIGN_TOLERANCE, MAX_NEWTON_STEPS = 1e-13, 50


def _phi(change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (e^d - 1) / d and its derivative, elementwise, for log changes d [1]."""
    small = np.abs(change) < SMALL_CHANGE
    d = np.where(small, 1.0, change)
    value = np.where(small, 1.0 + change / 2.0, np.expm1(d) / d)
    slope = np.where(small, 0.5 + change / 3.0, (np.exp(d) * d - np.expm1(d)) / d**2)
    return value, slope


def _log_integrals(log_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each year's log integral of a path given at half-year nodes, and its Jacobian.

    The path grows exponentially between nodes; year k is the two half years from node 2k.
    """
    years = (len(log_rate) - 1) // 2
    start, end = log_rate[:-1], log_rate[1:]
    value, slope = _phi(end - start)
    half = HALF_YEAR * np.exp(start) * value  # each half year's integral [billion USD]
    d_end = HALF_YEAR * np.exp(start) * slope
    d_start = half - d_end
    whole = half[0::2] + half[1::2]
    jacobian = np.zeros((years, len(log_rate)))
    rows = np.arange(years)
    for offset, part in ((0, 0), (1, 1)):
        jacobian[rows, 2 * rows + offset] += d_start[part::2]
        jacobian[rows, 2 * rows + offset + 1] += d_end[part::2]
    return np.log(whole), jacobian / whole[:, None]


@dataclass(frozen=True)
class GdpPath:
    """An annual rate of GDP whose integral over each fiscal year is that year's GDP.

    Attributes
    ----------
    nodes : pandas.Series
        The annual rate every half year from the end of the first fiscal year [billion USD/year],
        indexed by time [year]; it grows exponentially between nodes.
    fiscal_years : pandas.Series
        The fiscal years' GDP it was aligned with [billion USD], the first year included.
    """

    nodes: pd.Series
    fiscal_years: pd.Series

    @property
    def rate(self) -> pd.Series:
        """The annual rate at the end of each fiscal year [billion USD/year], by fiscal year."""
        ends = self.nodes[self.nodes.index == np.round(self.nodes.index)]
        return pd.Series(ends.to_numpy(), index=ends.index.astype(int))

    @property
    def growth(self) -> pd.Series:
        """The continuous growth rate over each half year [1/year], by the half year's start."""
        logs = np.log(self.nodes)
        return pd.Series(np.diff(logs.to_numpy()) / HALF_YEAR, index=self.nodes.index[:-1])

    def rate_at(self, times: np.ndarray) -> np.ndarray:
        """Return the annual rate at some times within the path [billion USD/year]."""
        logs = np.log(self.nodes.to_numpy())
        return np.exp(np.interp(times, self.nodes.index.to_numpy(dtype=float), logs))

    def growth_steps(self, first: int, last: int) -> dict[float, float]:
        """Return the growth of FY``first`` to FY``last`` as a step driver [year -> 1/year]."""
        points: dict[float, float] = {}
        for start, value in self.growth.items():
            if first - 1 <= start < last:
                points[float(start)] = float(value)
                points[float(start) + HALF_YEAR - STEP_EDGE] = float(value)
        return points

    def year_over_end_rate(self, year: int) -> float:
        """Return FY``year``'s GDP over the annual rate at its end [1].

        After the path's last year the growth holds its last value: the ratio is (1 - e^-g) / g.
        """
        rate = self.rate
        if year in rate.index:
            return float(self.fiscal_years[year] / rate[year])
        growth = float(self.growth.iloc[-1])
        value, _ = _phi(np.array([-growth]))
        return float(value[0])


def gdp_path(gdp: pd.Series, first: int) -> GdpPath:
    """Align the model's annual rate of GDP with fiscal-year GDP (see the module's docstring).

    Parameters
    ----------
    gdp : pandas.Series
        Fiscal-year GDP [billion USD] by fiscal year, from ``first`` on, without gaps, at least
        two years.
    first : int
        The fiscal year at whose end the path starts [year].

    Returns
    -------
    GdpPath
        The path, exponential over each half year, whose integral over each fiscal year from
        FY``first`` is the year's GDP and whose growth changes least from one half year to the
        next (least squares of the changes, each year's integral held exact by Newton's method):
        an area-preserving spline of the log rate.

    Raises
    ------
    InputError
        If the data are not positive or the alignment does not converge.
    """
    years = gdp[gdp.index >= first].sort_index()
    if (years <= 0).any() or len(years) < 2:
        raise InputError(f"fiscal-year GDP from FY{first} must be positive and span two years")
    target = np.log(years.to_numpy(dtype=float))
    n_nodes = 2 * len(years) + 1
    # Start from the log of each year's GDP at its middle, interpolated between the middles.
    middles = np.arange(len(years)) + HALF_YEAR
    log_rate = np.interp(np.arange(n_nodes) * HALF_YEAR, middles, target)
    second = np.diff(np.eye(n_nodes), n=2, axis=0)  # second differences: changes of growth
    smooth = second.T @ second
    for _ in range(MAX_NEWTON_STEPS):
        value, jacobian = _log_integrals(log_rate)
        if np.max(np.abs(value - target)) < ALIGN_TOLERANCE:
            break
        k = len(target)
        system = np.block([[smooth, jacobian.T], [jacobian, np.zeros((k, k))]])
        rhs = np.concatenate([-smooth @ log_rate, target - value])
        log_rate = log_rate + np.linalg.solve(system, rhs)[:n_nodes]
    else:
        raise InputError(f"fiscal-year GDP from FY{first} could not be matched by a GDP path")
    times = first - 1 + np.arange(n_nodes) * HALF_YEAR
    nodes = pd.Series(np.exp(log_rate), index=times)
    return GdpPath(nodes=nodes[nodes.index >= first], fiscal_years=years)


def instantaneous_ratio(ratio: pd.Series, path: GdpPath) -> pd.Series:
    """Turn end-of-year ratios to fiscal-year GDP (CBO's) into ratios to the annual rate at t [1].

    Parameters
    ----------
    ratio : pandas.Series
        A stock at the end of FY t over FY t's GDP [1], by fiscal year from the path's first.
    path : GdpPath
        The aligned GDP path.

    Returns
    -------
    pandas.Series
        The same stock over the annual rate at t: ``ratio`` times FY t's GDP over the rate at t
        (:meth:`GdpPath.year_over_end_rate`).
    """
    factors = pd.Series({year: path.year_over_end_rate(int(year)) for year in ratio.index})
    return ratio * factors


def flow_shares(flow: pd.Series, gdp: pd.Series) -> pd.Series:
    """Express fiscal-year flows as shares of the aligned GDP rate [1].

    Parameters
    ----------
    flow : pandas.Series
        The flow of each fiscal year [billion USD].
    gdp : pandas.Series
        Fiscal-year GDP [billion USD].

    Returns
    -------
    pandas.Series
        F_t over FY t's GDP, for the years both give: the share of the aligned annual rate that
        adds up to F_t over the year (see :func:`gdp_path`).
    """
    return (flow / gdp).dropna()


def continuous_rate(percent: float) -> float:
    """Turn a yearly growth rate in percent into a continuous rate [1/year]."""
    return math.log1p(percent / PERCENT)


def span(values: pd.Series, first: int, last: int) -> pd.Series:
    """Return the values of fiscal years ``first`` to ``last``, both included."""
    return values[(values.index >= first) & (values.index <= last)]
