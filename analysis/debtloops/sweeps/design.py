"""The design of a sweep: the experiments sampled from its specification, and their record.

:func:`design` draws the uncertainty design with the specification's sampler (looked up in
:data:`debtloops.sweeps.samplers.REGISTRY`), maps each column through its uncertainty's
distribution and crosses the result with the lever combinations (:func:`with_levers`): row
``c * n_design + i`` holds lever combination ``c`` and design point ``i``. Within each lever block
the rows keep the sampler's own order, which Sobol and Morris analyses rely on.

Every distribution lives on ``[low, high]`` (see :mod:`debtloops.sweeps.spec`): ``uniform`` and
``triangular`` (mode at the table's default) through scipy's inverse CDFs; ``normal`` and
``lognormal`` truncated two standard deviations either side of the centre, in linear or log
space; ``posterior`` as the quantiles of the parameter's marginal posterior.

:class:`Design` is the one description of a sweep's layout: built here, written into a result's
attributes by :meth:`Design.to_attrs` and read back by :meth:`Design.from_attrs`, so nothing is
re-derived on reading.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from debtloops.errors import InputError
from debtloops.sweeps.spec import SAMPLERS, SweepSpec, Uncertainty

#: Where a unit value is moved off 0 and 1 before an unbounded inverse CDF sees it.
UNIT_EPSILON = 1e-12
#: Normal and lognormal are truncated this many standard deviations either side of the centre.
TRUNCATION_SDS = 2.0
#: The layout version of the ``design`` attribute written by :meth:`Design.to_attrs`.
DESIGN_VERSION = 1


@dataclass(frozen=True, eq=False)
class Design:
    """The sample design of a sweep, with the specification it was drawn from.

    This is the one description of a sweep's layout: :func:`design` builds it from a
    specification, :meth:`to_attrs` writes it into a result's attributes and
    :meth:`from_attrs` reads it back, so nothing is re-derived on reading.

    Attributes
    ----------
    spec : SweepSpec
        The specification: scenarios, outcomes, sampler settings, uncertainties and levers.
    names : tuple of str
        The column names: the uncertainties, then the levers.
    values : numpy.ndarray
        Shape ``(n_samples, len(names))``, float64, read-only [each parameter's units]. Row
        ``c * n_design + i`` is lever combination ``c`` with uncertainty design point ``i``.
    n_design : int
        Rows per lever combination.
    lever_values : tuple of tuple of float
        The lever combinations in row-block order, one value per lever; ``((),)`` with no levers.
    """

    spec: SweepSpec
    names: tuple[str, ...]
    values: np.ndarray
    n_design: int
    lever_values: tuple[tuple[float, ...], ...]

    @property
    def n_samples(self) -> int:
        """Rows of the design: model runs per scenario [1]."""
        return int(self.values.shape[0])

    @property
    def parameters(self) -> tuple[str, ...]:
        """The uncertainties' names, in the sampler's factor order."""
        return tuple(u.name for u in self.spec.uncertainties)

    @property
    def bounds(self) -> tuple[tuple[float, float], ...]:
        """Each uncertainty's ``(low, high)`` [its units]."""
        return tuple((u.low, u.high) for u in self.spec.uncertainties)

    @property
    def has_levers(self) -> bool:
        """Whether the sweep crosses its design with levers."""
        return bool(self.spec.levers)

    def block(self, index: int) -> slice:
        """Return the rows of lever combination ``index``."""
        return slice(index * self.n_design, (index + 1) * self.n_design)

    def describe(self, index: int) -> str:
        """Return the lever settings of combination ``index`` as text ("" without levers)."""
        values = self.lever_values[index]
        return ", ".join(
            f"{name} = {value:g}" for name, value in zip(self.spec.levers, values, strict=True)
        )

    def to_attrs(self) -> dict[str, str]:
        """Return the attributes that record this design in a result (see :meth:`from_attrs`).

        Returns
        -------
        dict of str to str
            ``spec`` (the file's text) and ``design`` (JSON: the checked specification, the
            sampler settings, the column names, ``n_design`` and the lever combinations). The
            values themselves travel as one coordinate per column on ``sample``.
        """
        spec = self.spec
        record = {
            "version": DESIGN_VERSION,
            "name": spec.name,
            "scenarios": list(spec.scenarios),
            "outcomes": list(spec.outcomes),
            "final_time": spec.final_time,
            "sampler": {
                "method": spec.method,
                "samples": spec.samples,
                "seed": spec.seed,
                "calc_second_order": spec.calc_second_order,
                "morris_levels": spec.morris_levels,
                "calibration": spec.calibration,
            },
            "uncertainties": [dataclasses.asdict(u) for u in spec.uncertainties],
            "levers": {name: list(values) for name, values in spec.levers.items()},
            "names": list(self.names),
            "n_design": self.n_design,
            "lever_values": [list(combination) for combination in self.lever_values],
        }
        return {"spec": spec.text, "design": json.dumps(record)}

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, object], columns: Mapping[str, np.ndarray]) -> Design:
        """Read a design written by :meth:`to_attrs`.

        Parameters
        ----------
        attrs : mapping
            A result's attributes, holding ``spec`` and ``design``.
        columns : mapping of str to numpy.ndarray
            The sampled values of each column, by name [each parameter's units].

        Returns
        -------
        Design
            The design as written.

        Raises
        ------
        InputError
            If an attribute or a column is missing or malformed, or the values do not have
            ``n_design`` rows per lever combination.
        """
        missing = [key for key in ("spec", "design") if key not in attrs]
        if missing:
            raise InputError(f"sweep lacks the attributes: {', '.join(missing)}")
        try:
            record = json.loads(str(attrs["design"]))
            sampler = record["sampler"]
            if record["version"] != DESIGN_VERSION:
                raise ValueError(f"version {record['version']}, expected {DESIGN_VERSION}")
            spec = SweepSpec(
                name=str(record["name"]),
                text=str(attrs["spec"]),
                scenarios=tuple(str(s) for s in record["scenarios"]),
                outcomes=tuple(str(s) for s in record["outcomes"]),
                final_time=float(record["final_time"]),
                method=str(sampler["method"]),
                samples=int(sampler["samples"]),
                seed=int(sampler["seed"]),
                calc_second_order=bool(sampler["calc_second_order"]),
                morris_levels=int(sampler["morris_levels"]),
                calibration=sampler.get("calibration"),
                uncertainties=tuple(Uncertainty(**u) for u in record["uncertainties"]),
                levers={str(k): tuple(float(v) for v in vs) for k, vs in record["levers"].items()},
            )
            names = tuple(str(n) for n in record["names"])
            n_design = int(record["n_design"])
            lever_values = tuple(tuple(float(v) for v in c) for c in record["lever_values"])
        except (TypeError, KeyError, ValueError, AttributeError) as error:
            raise InputError(f"sweep attribute 'design' is malformed ({error})") from None
        if spec.method not in SAMPLERS:
            raise InputError(f"unknown sampler '{spec.method}'; valid: {', '.join(SAMPLERS)}")
        absent = [name for name in names if name not in columns]
        if absent:
            raise InputError(f"sweep lacks the sample coordinates: {', '.join(absent)}")
        values = np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in names])
        if n_design < 1 or n_design * len(lever_values) != values.shape[0]:
            raise InputError(
                f"sweep has {values.shape[0]} samples, not n_design ({n_design}) times "
                f"{len(lever_values)} lever combinations"
            )
        values.flags.writeable = False
        return cls(spec, names, values, n_design, lever_values)


def unit_problem(spec: SweepSpec) -> dict:
    """Return the SALib problem on the unit hypercube that the design is drawn from.

    Parameters
    ----------
    spec : SweepSpec
        The specification.

    Returns
    -------
    dict
        ``names`` (the uncertainties, in order), ``num_vars`` and ``bounds`` (``[0, 1]`` for each)
        [1]: the problem to pass to SALib's analysis functions, whose factor order is the order of
        the design's uncertainty columns.
    """
    names = [u.name for u in spec.uncertainties]
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0] for _ in names]}


def _inverse_cdf(uncertainty: Uncertainty, unit: np.ndarray) -> np.ndarray:
    """Map unit values through the inverse CDF of the uncertainty's distribution."""
    low, high = uncertainty.low, uncertainty.high
    width = high - low
    if uncertainty.distribution == "uniform":
        values = stats.uniform.ppf(unit, loc=low, scale=width)
    elif uncertainty.distribution == "triangular":
        shape = (uncertainty.mode - low) / width
        values = stats.triang.ppf(unit, shape, loc=low, scale=width)
    else:
        # Both are normal in some space, with [low, high] two standard deviations either side of
        # the centre there; keep the unit values off 0 and 1 all the same.
        clipped = np.clip(unit, UNIT_EPSILON, 1.0 - UNIT_EPSILON)
        z = stats.truncnorm.ppf(clipped, -TRUNCATION_SDS, TRUNCATION_SDS)
        if uncertainty.distribution == "normal":
            values = 0.5 * (low + high) + z * width / (2.0 * TRUNCATION_SDS)
        elif uncertainty.distribution == "lognormal":
            log_low, log_high = math.log(low), math.log(high)
            centre, scale = 0.5 * (log_low + log_high), (log_high - log_low) / (2 * TRUNCATION_SDS)
            values = np.exp(centre + z * scale)
        else:
            raise ValueError(f"unknown distribution {uncertainty.distribution!r}")
    # Rounding may leave a value an ulp outside the range; the range is a promise.
    return np.clip(np.asarray(values, dtype=np.float64), low, high)


def design(spec: SweepSpec) -> Design:
    """Build the sample design of a sweep: the uncertainty design crossed with the levers.

    Parameters
    ----------
    spec : SweepSpec
        A specification from :func:`debtloops.sweeps.spec.load_spec`.

    Returns
    -------
    Design
        The design: columns are the uncertainties then the levers [each parameter's units]; the
        lever combinations (full factorial, first lever slowest) form the outer blocks and the
        uncertainty design, in the sampler's own order, the rows within each block. The same spec
        and seed give the same design bit for bit.
    """
    # The registry names the functions that draw, and sits above this module (its entries name
    # the indices, which read the design): it is looked up when a design is built.
    from debtloops.sweeps.samplers import sampler

    method = sampler(spec.method)
    drawn = method.draw(spec)
    if not method.unit:  # already in each parameter's units (posterior draws)
        return with_levers(spec, drawn)
    unit = np.asarray(drawn, dtype=np.float64)
    marginals = _posterior_marginals(spec)
    columns = [
        np.quantile(marginals[u.name], unit[:, j])
        if u.distribution == "posterior"
        else _inverse_cdf(u, unit[:, j])
        for j, u in enumerate(spec.uncertainties)
    ]
    inner = np.column_stack(columns) if columns else np.empty((unit.shape[0], 0))
    return with_levers(spec, inner)


def _posterior_marginals(spec: SweepSpec) -> dict[str, np.ndarray]:
    """Return every posterior draw of each uncertainty whose distribution is ``posterior``.

    A sampler's unit value ``u`` then maps to the ``u`` quantile of the parameter's marginal
    posterior: the design keeps the sampler's structure (Saltelli's for Sobol indices) and each
    parameter follows its posterior, though the posterior's correlations between parameters are
    not kept (``method = "posterior"`` keeps them, without Sobol indices).
    """
    wanted = [u.name for u in spec.uncertainties if u.distribution == "posterior"]
    if not wanted:
        return {}
    from debtloops.calibration import posterior_matrix

    names, draws = posterior_matrix(Path(str(spec.calibration)))
    missing = [name for name in wanted if name not in names]
    if missing:
        raise InputError(
            f'sweep {spec.name}: {missing[0]} has distribution = "posterior" but is not '
            f"estimated by the calibration in {spec.calibration}; its parameters: "
            f"{', '.join(names)}"
        )
    return {name: draws[:, names.index(name)] for name in wanted}


def with_levers(spec: SweepSpec, inner: np.ndarray) -> Design:
    """Cross an uncertainty design with the specification's lever combinations.

    Parameters
    ----------
    spec : SweepSpec
        The specification.
    inner : numpy.ndarray
        Shape ``(n_design, len(spec.uncertainties))``: the sampled values of the uncertainties
        [each parameter's units], in the sampler's order.

    Returns
    -------
    Design
        Lever combinations (full factorial, first lever slowest) as the outer blocks, ``inner``
        repeated within each.
    """
    inner = np.asarray(inner, dtype=np.float64)
    n_design = inner.shape[0]
    combinations = tuple(itertools.product(*spec.levers.values()))
    blocks = [
        np.hstack([inner, np.tile(np.asarray(combination, dtype=np.float64), (n_design, 1))])
        for combination in combinations
    ]
    values = np.ascontiguousarray(np.vstack(blocks), dtype=np.float64)
    values.flags.writeable = False
    names = tuple(u.name for u in spec.uncertainties) + tuple(spec.levers)
    return Design(spec, names, values, n_design, combinations)
