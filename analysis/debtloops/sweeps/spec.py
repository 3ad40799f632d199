"""Sensitivity-sweep specifications: which parameters to vary and how, read and checked.

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
run is set up.

The experiments a specification gives, its design, are drawn by
:func:`debtloops.sweeps.design.design` with the sampler of
:data:`debtloops.sweeps.samplers.REGISTRY` that ``method`` names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from debtloops import schema
from debtloops.errors import InputError, closest, unknown_name
from debtloops.limits import read_toml
from debtloops.model.parameters import ParameterTable, validate

DISTRIBUTIONS, SAMPLERS = schema.DISTRIBUTIONS, schema.SAMPLERS
#: Copies of the design that building it holds at once (the unit design, the columns mapped
#: through the inverse CDFs, the stacked and the lever-crossed arrays, and SALib's own) [1].
DESIGN_COPIES = 6


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


# ---- reading -----------------------------------------------------------------------------------


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
    from debtloops.sweeps.samplers import check_settings  # above this module: it names indices

    path, scenarios, outcomes = Path(path), list(scenarios), list(outcomes)
    constants = set(constants)  # read once: an iterator would be empty for the second outcome
    with schema.about(path.name):
        data, text, _ = read_toml(path, "the file")
        raw = schema.check(schema.SweepFile, data)
        check_settings(raw)
        for kind, names, valid in (
            ("scenario", raw.scenarios, scenarios),
            ("outcome", raw.outcomes, outcomes),
        ):
            for name in names:
                if kind == "outcome" and name in constants:
                    raise InputError(
                        f"outcome '{name}' is a constant of the model, not a variable that "
                        f"changes over time; did you mean: {', '.join(closest(name, valid))}?"
                    )
                if name not in valid:
                    raise unknown_name(kind, name, valid)
        if raw.final_time is not None:  # the table's rules: after the start, within its range
            validate(table, {"final_time": raw.final_time})
        uncertainties = tuple(_uncertainty(n, u, table) for n, u in raw.uncertainties.items())
        levers = {
            name: tuple(table.free(name, "swept (as a lever)").check(value) for value in values)
            for name, values in raw.levers.items()
        }
        calibration = raw.sampler.calibration
        return SweepSpec(
            name=path.stem,
            text=text,
            scenarios=raw.scenarios,
            outcomes=raw.outcomes,
            final_time=table["final_time"].value if raw.final_time is None else raw.final_time,
            morris_levels=raw.sampler.levels,
            calibration=None if calibration is None else _calibration_folder(calibration, path),
            uncertainties=uncertainties,
            levers=levers,
            **raw.sampler.model_dump(include={"method", "samples", "seed", "calc_second_order"}),
        )


def _uncertainty(name: str, given: schema.SweepUncertainty, table: ParameterTable) -> Uncertainty:
    """Check an uncertainty against the table: its range, by default the table's [low, high]."""
    param = table.free(name, "swept (as an uncertainty)")
    low, high = (param.check(bound) for bound in given.range or (param.low, param.high))
    if given.distribution == "lognormal" and low <= 0:
        raise InputError(
            f"{name}: a lognormal distribution needs low > 0, got range [{low:g}, {high:g}]"
        )
    return Uncertainty(name, low, high, given.distribution, min(max(param.value, low), high))


def _calibration_folder(raw: str, spec_path: Path) -> str:
    """Return a posterior sweep's calibration folder, relative paths read from the spec's folder."""
    from debtloops.calibration.posterior import CALIBRATION_FILE

    folder = spec_path.resolve().parent / Path(raw).expanduser()  # an absolute path stays itself
    if not (folder / CALIBRATION_FILE).is_file():
        raise InputError(
            f"[sampler] calibration = {raw!r}: no {CALIBRATION_FILE} in {folder}; "
            "run `debtloops calibrate SPEC --out DIR` first and give DIR"
        )
    return str(folder)
