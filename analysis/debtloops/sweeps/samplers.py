"""The samplers of a sweep, one registry entry each: how it draws, its size, its indices and chart.

Each sampling method is one :class:`Sampler` in :data:`REGISTRY`: the function that draws its
design, the rows that design has, and, if the method has indices of its own (Sobol, Morris), the
function that computes them, the measure that ranks the inputs and the chart that draws them.
Every other part of the sweep looks a method up here (:func:`sampler`) instead of testing its
name, so adding a sampler is one entry here plus its draw function (and its indices and chart,
if it has its own), and its name in :data:`debtloops.schema.Method`, which reads the files;
``tests/test_sweep_spec.py`` checks that the two agree.

The entries name functions of :mod:`debtloops.sweeps.indices` and :mod:`debtloops.figures.sweeps`,
so this module sits above them; the specification and the design, below, look a sampler up when
they are called.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from SALib.sample import latin as salib_latin
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol

from debtloops.errors import InputError, unknown_name
from debtloops.figures import sweeps as figures
from debtloops.limits import FLOAT_BYTES, MAX_SAMPLES, check_memory
from debtloops.schema import SweepFile
from debtloops.sweeps import indices
from debtloops.sweeps.design import unit_problem
from debtloops.sweeps.spec import DESIGN_COPIES, SweepSpec

#: The smallest Saltelli base sample that SALib's Sobol analysis handles sensibly [1].
MIN_SOBOL_SAMPLES = 16
#: The largest grid design (points per lever combination) [1].
MAX_GRID_POINTS = 100_000
#: Computes a sampler's own indices of a sweep's scalar outcomes: ``(sweep, scalars) -> indices``.
Indices = Callable[[xr.Dataset, xr.Dataset], xr.Dataset]


@dataclass(frozen=True)
class Sampler:
    """One sampling method of a sweep.

    Attributes
    ----------
    name : str
        The method's name, as ``[sampler] method`` gives it.
    draw : callable
        ``draw(spec)`` returns the uncertainty design, shape ``(n_design, d)`` for ``d``
        uncertainties, rows in the sampler's own order: on the unit hypercube [1] if ``unit``,
        else in each parameter's units.
    rows : callable
        ``rows(samples, factors, second_order)``: the rows ``draw`` gives for ``samples`` (the
        sampler's size parameter), ``factors`` uncertainties and Sobol's second-order option [1].
    unit : bool
        Whether ``draw`` gives unit values, mapped through each uncertainty's distribution.
    title : str
        The method's name in notes and messages, e.g. ``Sobol``.
    indices : callable, optional
        Its own indices of the scalar outcomes, written to ``analysis.nc`` with the prefix
        ``NAME_`` and drawn by ``plot`` as ``NAME.png``; None if it has none (the inputs are then
        ranked by Spearman's rho).
    measure : str, optional
        The variable of ``indices`` that ranks the inputs (tornado and scatter charts).
    measure_label : str, optional
        How charts name ``measure``, with its units.
    plot : callable, optional
        ``plot(indices, path, scalars, inputs=...)`` draws ``indices``.
    over_time : callable, optional
        ``over_time(sweep, variable)``: its indices of a time series at every saved time.
    least : int
        The fewest ``samples`` it takes [1].
    counted : str
        What its ``samples`` count, in messages, e.g. `` (trajectories)``; "" for samples.
    options : tuple of str
        The ``[sampler]`` keys that only this method takes.
    check : callable, optional
        ``check(samples, factors)`` raises :class:`~debtloops.errors.InputError` on a size the
        method cannot use (before the check against ``least``).
    """

    name: str
    draw: Callable[[SweepSpec], np.ndarray]
    rows: Callable[[int, int, bool], int]
    unit: bool = True
    title: str = ""
    indices: Indices | None = None
    measure: str | None = None
    measure_label: str | None = None
    plot: Callable[..., None] | None = None
    over_time: Callable[[xr.Dataset, str], xr.Dataset] | None = None
    least: int = 1
    counted: str = ""
    options: tuple[str, ...] = ()
    check: Callable[[int, int], None] | None = None


# ---- how each sampler draws ----------------------------------------------------------------------


def _samples(samples: int, factors: int, second_order: bool) -> int:
    return samples


def _grid_rows(samples: int, factors: int, second_order: bool) -> int:
    return samples**factors


def _grid(spec: SweepSpec) -> np.ndarray:
    """Draw a full factorial of ``samples`` levels per uncertainty, at the cells' midpoints."""
    d, n = len(spec.uncertainties), spec.samples
    levels = (np.arange(n, dtype=np.float64) + 0.5) / n
    mesh = np.meshgrid(*([levels] * d), indexing="ij")
    return np.stack([axis.ravel() for axis in mesh], axis=1)


def _grid_check(levels: int, factors: int) -> None:
    if levels**factors > MAX_GRID_POINTS:
        largest = 2
        while (largest + 1) ** factors <= MAX_GRID_POINTS:
            largest += 1
        raise InputError(
            f"a grid of {levels} levels over {factors} uncertainties has "
            f"{levels**factors:,} points, more than {MAX_GRID_POINTS:,}; use at most "
            f"{largest} levels, or lhs"
        )


def _monte_carlo(spec: SweepSpec) -> np.ndarray:
    return np.random.default_rng(spec.seed).random((spec.samples, len(spec.uncertainties)))


def _lhs(spec: SweepSpec) -> np.ndarray:
    return salib_latin.sample(unit_problem(spec), spec.samples, seed=spec.seed)


def _sobol_rows(samples: int, factors: int, second_order: bool) -> int:
    return samples * (2 * factors + 2 if second_order else factors + 2)


def _sobol_check(samples: int, factors: int) -> None:
    """Refuse a base sample that is not a power of two of at least :data:`MIN_SOBOL_SAMPLES`."""
    least = MIN_SOBOL_SAMPLES
    if samples < least or samples & (samples - 1):
        lower = 1 << max(samples.bit_length() - 1, 0)
        nearest = max(lower if samples - lower < 2 * lower - samples else 2 * lower, least)
        raise InputError(
            f"sampler: sobol needs samples (the base N) to be a power of two >= {least}, got "
            f"{samples}; nearest valid value: {nearest}"
        )


def _sobol(spec: SweepSpec) -> np.ndarray:
    """Draw Saltelli's design (scrambled Sobol' sequence), in the order SALib's analysis needs."""
    return salib_sobol.sample(
        unit_problem(spec),
        spec.samples,
        calc_second_order=spec.calc_second_order,
        scramble=True,
        seed=spec.seed,
    )


def _morris_rows(samples: int, factors: int, second_order: bool) -> int:
    return samples * (factors + 1)


def _morris(spec: SweepSpec) -> np.ndarray:
    """Draw ``samples`` Morris trajectories of ``d + 1`` rows on a grid of ``morris_levels``."""
    return salib_morris.sample(
        unit_problem(spec), spec.samples, num_levels=spec.morris_levels, seed=spec.seed
    )


def posterior_draws(spec: SweepSpec) -> np.ndarray:
    """Return ``spec.samples`` posterior draws of the uncertainties from ``spec.calibration``."""
    from debtloops.calibration import posterior_matrix

    names, draws = posterior_matrix(Path(str(spec.calibration)), spec.samples, spec.seed)
    if list(names) != [u.name for u in spec.uncertainties]:
        raise InputError(
            f"sweep {spec.name}: a posterior sweep's uncertainties must be the calibrated "
            f"parameters, in order: {', '.join(names)}"
        )
    return draws


# ---- the registry --------------------------------------------------------------------------------

#: Every sampling method, by name, in the order :data:`debtloops.schema.SAMPLERS` lists them.
REGISTRY: dict[str, Sampler] = {
    entry.name: entry
    for entry in (
        Sampler(
            "grid",
            _grid,
            _grid_rows,
            least=2,
            counted=" (levels per uncertainty)",
            check=_grid_check,
        ),
        Sampler("monte_carlo", _monte_carlo, _samples),
        Sampler("lhs", _lhs, _samples),
        Sampler(
            "sobol",
            _sobol,
            _sobol_rows,
            title="Sobol",
            indices=indices.sobol_indices,
            measure="ST",
            measure_label="Total Sobol index ST [1]",
            plot=figures.plot_sobol,
            over_time=indices.sobol_indices_over_time,
            least=MIN_SOBOL_SAMPLES,
            options=("calc_second_order",),
            check=_sobol_check,
        ),
        Sampler(
            "morris",
            _morris,
            _morris_rows,
            title="Morris",
            indices=indices.morris_indices,
            measure="mu_star",
            measure_label="Morris mu* [units of the outcome]",
            plot=figures.plot_morris,
            least=2,
            counted=" (trajectories)",
            options=("levels",),
        ),
        Sampler("posterior", posterior_draws, _samples, unit=False),
    )
}


def sampler(name: str) -> Sampler:
    """Return the registry's entry for a sampling method.

    Raises
    ------
    InputError
        If there is no such method; the message gives the nearest.
    """
    if name not in REGISTRY:
        raise unknown_name("sampler", name, REGISTRY)
    return REGISTRY[name]


def check_settings(raw: SweepFile) -> None:
    """Refuse ``[sampler]`` settings its method cannot use, and a design too large to draw.

    Parameters
    ----------
    raw : debtloops.schema.SweepFile
        The specification as the schema read it.

    Raises
    ------
    InputError
        On a key that only another method takes, or a size the method cannot use (the message
        starts with ``sampler:`` where it concerns that table alone); on a design of more than
        :data:`~debtloops.limits.MAX_SAMPLES` rows (model runs per scenario), or one that would
        not fit in memory.
    """
    given, factors = raw.sampler, len(raw.uncertainties)
    method = sampler(given.method)
    for other in REGISTRY.values():
        for key in other.options:
            if key in given.model_fields_set and other is not method:
                raise InputError(f"sampler: '{key}' applies only to method = \"{other.name}\"")
    if method.check is not None:
        method.check(given.samples, factors)
    if given.samples < method.least:
        raise InputError(
            f"sampler: {method.name} needs samples{method.counted} >= {method.least}, "
            f"got {given.samples}"
        )
    rows = method.rows(given.samples, factors, given.calc_second_order)
    rows *= math.prod(len(values) for values in raw.levers.values())
    if rows > MAX_SAMPLES:
        raise InputError(
            f"the design has {rows:,} rows (model runs per scenario), more than {MAX_SAMPLES:,}; "
            "lower [sampler] samples or the number of lever values"
        )
    columns = factors + len(raw.levers)
    check_memory(
        rows * columns * FLOAT_BYTES * DESIGN_COPIES,
        f"the design of {rows:,} rows by {columns} columns",
        "lower [sampler] samples",
    )
