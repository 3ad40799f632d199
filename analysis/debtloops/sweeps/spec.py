"""Sensitivity-sweep specifications: which parameters to vary, how, and the sample design.

A sweep specification is a TOML file in ``models/sweeps/``. Like a scenario file it opens with a
comment header, ``# name: one-line intent`` followed by ``# Intent:`` and ``# Source:`` lines, then
holds::

    scenarios = ["article", "japan_full"]     # scenario names (models/scenarios/*.toml)
    outcomes = ["debt_to_gdp", "market_yield"] # model variables that change over time, to record
    final_time = 2055.0                        # optional [year]; default: the table's final_time,
                                               # at least one saving interval after the start

    [sampler]
    method = "lhs"          # grid | monte_carlo | lhs | sobol | morris | posterior
    samples = 1000          # see below
    seed = 20251            # integer >= 0; the design is reproducible bit for bit from it
    calc_second_order = false   # sobol only; default false
    levels = 4                  # morris only; default 4, even and >= 2

    [uncertainties.portfolio_balance_sensitivity]   # a parameter of the table
    distribution = "uniform"   # uniform | normal | triangular | lognormal; default uniform
    range = [0.03, 0.08]       # optional [the parameter's units]; default the table's [low, high]

    [levers]                   # optional: a few discrete values per parameter, crossed in full
    fed_backstop_switch = [0.0, 1.0]

What ``samples`` counts depends on the method:

- ``grid``: levels per uncertainty (>= 2); the grid has ``samples ** d`` points, at most 100,000;
- ``monte_carlo`` and ``lhs``: the number of samples (>= 1);
- ``sobol``: Saltelli's base sample size ``N``, a power of two >= 16; the design has
  ``N * (d + 2)`` rows, or ``N * (2 d + 2)`` with ``calc_second_order = true``;
- ``morris``: the number of trajectories (>= 2); the design has ``N * (d + 1)`` rows;
- ``posterior``: the number of draws (>= 1) from the joint posterior of a ``debtloops calibrate``
  folder, named by ``calibration = "DIR"`` in ``[sampler]`` (relative to the spec's folder); the
  uncertainties must be the calibrated parameters, in the calibration's order, and their
  distributions and ranges are then the posterior's.

Here ``d`` is the number of uncertainties. Every distribution lives on ``[low, high]``:

- ``uniform`` on ``[low, high]``;
- ``triangular`` on ``[low, high]`` with its mode at the table's default value (clipped into the
  range);
- ``normal`` with mean ``(low + high) / 2`` and standard deviation ``(high - low) / 4``,
  truncated to ``[low, high]`` (two standard deviations either side);
- ``posterior``: the parameter's marginal posterior from the ``calibration`` folder named in
  ``[sampler]`` (as above), with any sampler: with ``sobol``, Sobol indices under the posterior
  (the correlations between parameters are not kept);
- ``lognormal`` with median ``sqrt(low * high)`` and log standard deviation ``ln(high / low) / 4``,
  truncated to ``[low, high]``; it needs ``low > 0``.

Only parameters of kind ``control`` (simulation time) and ``definition`` (unit conversions) may not
be swept. A parameter is either an uncertainty or a lever, not both. Every value is checked against
the table's valid range when the file is read. Values that must agree with each other (a sale no
larger than the holdings, say) are checked by :func:`debtloops.model.parameters.validate` when each
run
is set up.

The design (:func:`design`) crosses the lever combinations (outer) with the uncertainty design
(inner): row ``c * n_design + i`` holds lever combination ``c`` and design point ``i``. Within each
lever block the rows keep the sampler's own order, which Sobol and Morris analyses rely on.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from SALib.sample import latin as salib_latin
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol
from scipy import stats

from debtloops import schema
from debtloops.errors import InputError, closest, exact, unknown_name
from debtloops.limits import FLOAT_BYTES, MAX_SAMPLES, check_memory
from debtloops.model.parameters import Parameter, ParameterTable

DISTRIBUTIONS, SAMPLERS = schema.DISTRIBUTIONS, schema.SAMPLERS
UNSWEEPABLE_KINDS = ("control", "definition")

DEFAULT_MORRIS_LEVELS = 4
#: Where a unit value is moved off 0 and 1 before an unbounded inverse CDF sees it.
UNIT_EPSILON = 1e-12
#: Normal and lognormal are truncated this many standard deviations either side of the centre.
TRUNCATION_SDS = 2.0
#: Copies of the design that building it holds at once (the unit design, the columns mapped
#: through the inverse CDFs, the stacked and the lever-crossed arrays, and SALib's own) [1].
DESIGN_COPIES = 6
#: The layout version of the ``design`` attribute written by :meth:`Design.to_attrs`.
DESIGN_VERSION = 1


@dataclass(frozen=True)
class Uncertainty:
    """One swept parameter and its distribution.

    Attributes
    ----------
    name : str
        The parameter's name in the table.
    low, high : float
        The range sampled [the parameter's units], ``low < high``.
    distribution : str
        One of :data:`DISTRIBUTIONS`.
    mode : float
        The table's default value clipped into ``[low, high]`` [the parameter's units]; the peak
        of a triangular distribution.
    """

    name: str
    low: float
    high: float
    distribution: str
    mode: float


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep specification.

    Attributes
    ----------
    name : str
        The file's name without ``.toml``.
    text : str
        The file's text, for provenance.
    scenarios : tuple of str
        The scenarios every design point is run in.
    outcomes : tuple of str
        The model variables recorded.
    final_time : float
        The end of each run [year].
    method : str
        One of :data:`SAMPLERS`.
    samples : int
        The sampler's size parameter (see the module docstring) [1].
    seed : int
        The random seed, >= 0.
    calc_second_order : bool
        Sobol only: whether the design supports second-order indices.
    morris_levels : int
        Morris only: the number of grid levels per factor.
    uncertainties : tuple of Uncertainty
        The continuous factors, in file order.
    levers : dict of str to tuple of float
        The discrete factors and their values [the parameter's units], in file order.
    """

    name: str
    text: str
    scenarios: tuple[str, ...]
    outcomes: tuple[str, ...]
    final_time: float
    method: str
    samples: int
    seed: int
    calc_second_order: bool
    morris_levels: int
    uncertainties: tuple[Uncertainty, ...]
    levers: dict[str, tuple[float, ...]]
    calibration: str | None = None


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


# ---- reading -----------------------------------------------------------------------------------


def _final_time(raw: float | None, table: ParameterTable) -> float:
    param = table["final_time"]
    if raw is None:
        return param.value
    start = table["initial_time"].value if "initial_time" in table else 2025.0
    saveper = table["saveper"].value if "saveper" in table else 0.25
    if raw < start + saveper:
        raise InputError(
            f"final_time = {raw:g} is less than one saving interval ({saveper:g} year) after "
            f"the initial time {start:g}; nearest valid value: {exact(start + saveper)} "
            f"(the table's default is {param.value:g})"
        )
    return param.check(raw)


def _sweepable(name: str, table: ParameterTable, role: str) -> Parameter:
    param = table[name]  # an unknown name is refused with the nearest
    if param.kind in UNSWEEPABLE_KINDS:
        raise InputError(
            f"{name} is a parameter of kind '{param.kind}' and cannot be swept (as {role})"
        )
    return param


def load_spec(
    path: Path,
    table: ParameterTable,
    scenarios: Iterable[str],
    outcomes: Iterable[str],
    constants: Iterable[str] = (),
) -> SweepSpec:
    """Read and check a sweep specification.

    Parameters
    ----------
    path : Path
        The TOML file.
    table : ParameterTable
        The parameter table, for names, kinds, default ranges and valid bounds.
    scenarios : iterable of str
        The valid scenario names.
    outcomes : iterable of str
        The valid outcome names: the model's variables that change over time.
    constants : iterable of str, optional
        The model's constants, refused as outcomes with their own message.

    Returns
    -------
    SweepSpec
        The checked specification, uncertainties and levers in file order.

    Raises
    ------
    InputError
        If the file cannot be read or does not fit :class:`debtloops.schema.SweepFile`; on an
        unknown scenario, parameter or outcome; a parameter of kind ``control`` or
        ``definition``; a range or lever value outside the valid bounds; a lognormal range that
        is not positive; or a final time not after the start. The message starts with the
        file's name.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise InputError(f"cannot read the file (no file at {path})")
        raw, text, _ = schema.load(path, schema.SweepFile, "the file")
        return _checked(path, raw, text, table, list(scenarios), list(outcomes), constants)
    except InputError as error:
        raise InputError(f"{path.name}: {str(error).removeprefix('the file: ')}") from None


def _checked(
    path: Path,
    raw: schema.SweepFile,
    text: str,
    table: ParameterTable,
    scenarios: list[str],
    outcomes: list[str],
    constants: Iterable[str],
) -> SweepSpec:
    """Check a sweep file against the table, the scenarios and the outcomes."""
    for kind, names, valid in (
        ("scenario", raw.scenarios, scenarios),
        ("outcome", raw.outcomes, outcomes),
    ):
        for name in names:
            if kind == "outcome" and name in set(constants):
                raise InputError(
                    f"outcome '{name}' is a constant of the model, not a variable that changes "
                    f"over time; did you mean: {', '.join(closest(name, valid))}?"
                )
            if name not in valid:
                raise unknown_name(kind, name, valid)
    final_time = _final_time(raw.final_time, table)
    uncertainties = []
    for name, given in raw.uncertainties.items():
        param = _sweepable(name, table, "an uncertainty")
        low, high = (param.check(bound) for bound in given.range or (param.low, param.high))
        if given.distribution == "lognormal" and low <= 0:
            raise InputError(
                f"{name}: a lognormal distribution needs low > 0, got range [{low:g}, {high:g}]"
            )
        mode = min(max(param.value, low), high)
        uncertainties.append(Uncertainty(name, low, high, given.distribution, mode))
    levers = {
        name: tuple(_sweepable(name, table, "a lever").check(value) for value in values)
        for name, values in raw.levers.items()
    }
    sampler, calibration = raw.sampler, raw.sampler.calibration
    spec = SweepSpec(
        name=path.stem,
        text=text,
        scenarios=tuple(raw.scenarios),
        outcomes=tuple(raw.outcomes),
        final_time=final_time,
        method=sampler.method,
        samples=sampler.samples,
        seed=sampler.seed,
        calc_second_order=bool(sampler.calc_second_order),
        morris_levels=sampler.levels or DEFAULT_MORRIS_LEVELS,
        calibration=None if calibration is None else _calibration_folder(calibration, path),
        uncertainties=tuple(uncertainties),
        levers=levers,
    )
    _check_size(spec)
    return spec


def design_rows(method: str, samples: int, factors: int, second_order: bool = False) -> int:
    """Return the rows of an uncertainty design, before crossing it with the levers [1].

    Parameters
    ----------
    method : str
        One of :data:`SAMPLERS`.
    samples : int
        The sampler's size parameter (see the module docstring) [1].
    factors : int
        The number of uncertainties ``d`` [1].
    second_order : bool
        Sobol only: whether the design supports second-order indices.
    """
    if method == "grid":
        return samples**factors
    if method == "sobol":
        return samples * (2 * factors + 2 if second_order else factors + 2)
    if method == "morris":
        return samples * (factors + 1)
    return samples


def _check_size(spec: SweepSpec) -> None:
    """Refuse a design of more than :data:`MAX_SAMPLES` rows or one that would not fit in memory."""
    factors = len(spec.uncertainties)
    rows = design_rows(spec.method, spec.samples, factors, spec.calc_second_order)
    rows *= math.prod(len(values) for values in spec.levers.values())
    if rows > MAX_SAMPLES:
        raise InputError(
            f"the design has {rows:,} rows (model runs per scenario), more than {MAX_SAMPLES:,}; "
            "lower [sampler] samples or the number of lever values"
        )
    columns = factors + len(spec.levers)
    check_memory(
        rows * columns * FLOAT_BYTES * DESIGN_COPIES,
        f"the design of {rows:,} rows by {columns} columns",
        "lower [sampler] samples",
    )


def _calibration_folder(raw: str, spec_path: Path) -> str:
    """Return a posterior sweep's calibration folder, relative paths read from the spec's folder."""
    from debtloops.calibration.posterior import CALIBRATION_FILE

    folder = Path(raw).expanduser()
    if not folder.is_absolute():
        folder = spec_path.resolve().parent / folder
    if not (folder / CALIBRATION_FILE).is_file():
        raise InputError(
            f"[sampler] calibration = {raw!r}: no {CALIBRATION_FILE} in {folder}; "
            "run `debtloops calibrate SPEC --out DIR` first and give DIR"
        )
    return str(folder)


# ---- the design ---------------------------------------------------------------------------------


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


def _unit_design(spec: SweepSpec) -> np.ndarray:
    """Draw the design on the unit hypercube, shape (n_design, n_uncertainties)."""
    problem = unit_problem(spec)
    d, n = problem["num_vars"], spec.samples
    if spec.method == "grid":
        levels = (np.arange(n, dtype=np.float64) + 0.5) / n
        mesh = np.meshgrid(*([levels] * d), indexing="ij")
        return np.stack([axis.ravel() for axis in mesh], axis=1)
    if spec.method == "monte_carlo":
        return np.random.default_rng(spec.seed).random((n, d))
    if spec.method == "lhs":
        return salib_latin.sample(problem, n, seed=spec.seed)
    if spec.method == "sobol":
        return salib_sobol.sample(
            problem,
            n,
            calc_second_order=spec.calc_second_order,
            scramble=True,
            seed=spec.seed,
        )
    if spec.method == "morris":
        return salib_morris.sample(problem, n, num_levels=spec.morris_levels, seed=spec.seed)
    raise ValueError(f"unknown sampler method {spec.method!r}")


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
        A specification from :func:`load_spec`.

    Returns
    -------
    Design
        The design: columns are the uncertainties then the levers [each parameter's units]; the
        lever combinations (full factorial, first lever slowest) form the outer blocks and the
        uncertainty design, in the sampler's own order, the rows within each block. The same spec
        and seed give the same design bit for bit.
    """
    if spec.method == "posterior":  # draws from a calibration's posterior
        return with_levers(spec, posterior_draws(spec))
    unit = _unit_design(spec)
    marginals = _posterior_marginals(spec)
    columns = [
        np.quantile(marginals[u.name], unit[:, j])
        if u.distribution == "posterior"
        else _inverse_cdf(u, unit[:, j])
        for j, u in enumerate(spec.uncertainties)
    ]
    inner = np.column_stack(columns) if columns else np.empty((unit.shape[0], 0))
    return with_levers(spec, inner)


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
