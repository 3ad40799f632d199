"""Calibration specifications: what to estimate, against which history, with which error model.

A calibration specification is a TOML file in ``models/calibrations/``. It opens with a comment
header that says which parameters are estimated and why, then holds::

    [period]
    start = 2000        # the run starts from the historical state at the end of FY2000
    fit_end = 2019      # the fit uses FY2001 (FY2000 for end-of-year levels) to FY2019
    end = 2025          # FY2020-FY2025 are held out and predicted; optional, default fit_end

    [run]
    yields = "endogenous"     # "endogenous" or "historical" (debtloops.validation.backtest)

    [fixed]                   # optional: parameter values held fixed during the fit
    premia_anchor_switch = 0.0

    [parameters.yield_seeking_sensitivity]
    prior = "uniform"         # uniform | normal | lognormal; default uniform
    bounds = [0.0, 3.0]       # optional: the support [the parameter's units]; default for a
                              # uniform prior: the table's range; otherwise the valid range
    # normal: mean = .., sd = ..; lognormal: median = .., sigma = .. (sigma of the logarithm)

    [series.gs10_fy_avg]      # a series of models/data/history_2000_2025.csv ...
    # source = "monthly"      # ... or a column of models/data/markets_monthly.csv, averaged
    #                         # over each fiscal year (a year with a missing month is left out)
    variables = ["market_yield"]   # model variables whose sum is compared with the series
    how = "mean"              # end | mean | change (see below)
    scale = 100.0             # multiplies the model's value into the series' units; default 1
    noise = 0.5               # the error's standard deviation [the series' units] ...
    # noise = "estimate"      # ... or estimated, with noise_range = [low, high] (log-uniform)
    errors = "ar1"            # independent (default) | ar1: the yearly errors' lag-one
                              # autocorrelation is estimated (uniform prior on [0, 0.95])

    [projection]              # optional: a scenario under prior and under posterior draws
    scenario = "japan_full"
    draws = 1000
    others = ["portfolio_market_depth"]   # also drawn, uniform on the table's range, under both

    [sampler]                 # optional; the MCMC run (emcee)
    walkers = 32
    steps = 3000
    burn = 1000
    seed = 20260101
    engine = "simlin"         # simlin | ensemble

``how`` measures the model like the data: ``end`` is the value at the end of the fiscal year,
``mean`` the mean over the fiscal year's saved points (as
:func:`debtloops.validation.backtest.fiscal_year_value`), ``change`` the end-of-year value less the
previous year's end. An estimated parameter that the historical data layer gives as a year-by-year
series (a driver) is replaced by one constant over the whole run.

Every error names the problem and the nearest valid choice; nothing is run or written before the
whole file has been checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from debtloops.errors import InputError, exact, unknown_name
from debtloops.limits import (
    FLOAT_BYTES,
    MAX_SAMPLES,
    check_count,
    check_memory,
    check_seed,
    memory_budget,
    read_toml,
)
from debtloops.model import data
from debtloops.model.parameters import ParameterTable, load_parameters
from debtloops.validation.backtest import YIELD_MODES

PRIORS = ("uniform", "normal", "lognormal")
MEASURES = ("end", "mean", "change")
ENGINES = ("simlin", "ensemble")
ESTIMATE = "estimate"
INDEPENDENT, AR1 = "independent", "ar1"
#: Where a fitted series comes from: the historical dataset's fiscal-year rows, or the fiscal-year
#: means of a monthly market series (:func:`debtloops.model.data.fiscal_year_mean`).
HISTORY, MONTHLY = "history", "monthly"
SOURCES = (HISTORY, MONTHLY)
ERROR_MODELS = (INDEPENDENT, AR1)
#: The largest lag-one autocorrelation of an AR(1) error; its prior is uniform on [0, RHO_MAX].
RHO_MAX = 0.95
TOP_LEVEL_KEYS = ("period", "run", "fixed", "parameters", "series", "sampler", "projection")
#: Copies of the MCMC chain held at once (emcee's chain and log-probabilities, the posterior
#: draws without burn-in, and their log-priors), each steps x walkers x (quantities + 1) [1].
CHAIN_COPIES = 3
#: Copies of the projection draws held at once: prior, posterior, and both with the others [1].
PROJECTION_COPIES = 4
PROJECTION_KEYS = ("scenario", "draws", "others")
PERIOD_KEYS = ("start", "fit_end", "end")
RUN_KEYS = ("yields",)
PARAMETER_KEYS = ("prior", "bounds", "mean", "sd", "median", "sigma")
SERIES_KEYS = ("source", "variables", "how", "scale", "noise", "noise_range", "errors")
SAMPLER_KEYS = ("walkers", "steps", "burn", "seed", "engine")
#: Kinds of parameter that cannot be estimated: simulation settings and unit definitions.
NOT_ESTIMABLE = ("control", "definition")
#: Default MCMC settings: 32 walkers x 3,000 steps, about 100,000 model evaluations.
DEFAULT_WALKERS, DEFAULT_STEPS, DEFAULT_BURN, DEFAULT_SEED = 32, 3000, 1000, 20260101
DEFAULT_ENGINE = "simlin"
#: The projection run by default under prior and posterior draws, and the draws from each.
DEFAULT_SCENARIO, DEFAULT_DRAWS = "japan_full", 1000
#: The fewest fitted years that make a noise scale worth estimating [years].
MIN_YEARS_FOR_NOISE = 5


@dataclass(frozen=True)
class Prior:
    """The prior of one estimated parameter.

    Attributes
    ----------
    name : str
        The parameter (pysd name).
    kind : str
        ``uniform``, ``normal`` or ``lognormal``.
    low, high : float
        The support [the parameter's units]; the prior is truncated to it.
    centre : float
        Normal: the mean; lognormal: the median; uniform: the midpoint [units].
    spread : float
        Normal: the standard deviation [units]; lognormal: that of the logarithm [1]; uniform:
        the width [units].
    """

    name: str
    kind: str
    low: float
    high: float
    centre: float
    spread: float

    def log_density(self, value: float) -> float:
        """Return the log prior density at ``value``, up to a constant; -inf outside the support."""
        if not self.low <= value <= self.high:
            return -math.inf
        if self.kind == "normal":
            return -0.5 * ((value - self.centre) / self.spread) ** 2
        if self.kind == "lognormal":
            return -0.5 * (math.log(value / self.centre) / self.spread) ** 2 - math.log(value)
        return 0.0

    def penalty(self, value: float) -> float | None:
        """Return the prior as a standardised residual for least squares, or None if uniform."""
        if self.kind == "normal":
            return (value - self.centre) / self.spread
        if self.kind == "lognormal":
            return math.log(value / self.centre) / self.spread
        return None


@dataclass(frozen=True)
class FittedSeries:
    """A historical series and how the model is compared with it.

    Attributes
    ----------
    series : str
        The series' name in ``history_2000_2025.csv``, or in ``markets_monthly.csv``.
    source : str
        ``history`` or ``monthly`` (fiscal-year means of the monthly series).
    variables : tuple of str
        Model variables summed into the model's counterpart.
    how : str
        ``end``, ``mean`` or ``change``.
    scale : float
        Multiplies the model's value into the series' units.
    units : str
        The series' units.
    noise : float or None
        The error's standard deviation [the series' units]; None when estimated.
    noise_range : tuple of float or None
        The support of an estimated noise scale (log-uniform prior) [the series' units].
    errors : str
        ``independent`` across years, or ``ar1``: a lag-one autocorrelation, estimated.
    """

    series: str
    source: str
    variables: tuple[str, ...]
    how: str
    scale: float
    units: str
    noise: float | None
    noise_range: tuple[float, float] | None
    errors: str

    @property
    def estimated_noise(self) -> bool:
        """Whether the noise scale is estimated."""
        return self.noise is None


@dataclass(frozen=True)
class Sampler:
    """MCMC settings: ``walkers`` x ``steps`` model runs; the first ``burn`` steps are dropped."""

    walkers: int
    steps: int
    burn: int
    seed: int
    engine: str


@dataclass(frozen=True)
class Projection:
    """A scenario run under prior and posterior draws.

    Attributes
    ----------
    scenario : str or None
        A scenario name or file; None skips the projection.
    draws : int
        Draws from each distribution.
    others : tuple of str
        Further parameters drawn uniformly on the table's range under both (e.g. the rest of a
        sweep's uncertainties), the same draws for prior and posterior.
    """

    scenario: str | None
    draws: int
    others: tuple[str, ...]


@dataclass(frozen=True)
class CalibrationSpec:
    """A checked calibration specification.

    Attributes
    ----------
    path : Path
        The TOML file.
    text : str
        Its text, kept with the results.
    start, fit_end, end : int
        The start year, the last fitted fiscal year and the last simulated one [year].
    yields : str
        The backtest's yields mode.
    fixed : dict
        Parameter values held fixed during the fit.
    priors : tuple of Prior
        The estimated parameters, in the file's order.
    series : tuple of FittedSeries
        The fitted series, in the file's order.
    sampler : Sampler
        The MCMC settings.
    projection : Projection
        The projection under prior and posterior draws.
    """

    path: Path
    text: str
    start: int
    fit_end: int
    end: int
    yields: str
    fixed: dict[str, float]
    priors: tuple[Prior, ...]
    series: tuple[FittedSeries, ...]
    sampler: Sampler
    projection: Projection

    @property
    def names(self) -> list[str]:
        """Return the estimated parameters' names."""
        return [prior.name for prior in self.priors]


def _table(raw: Mapping, key: str, where: str, allowed: tuple[str, ...]) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: [{key}] must be a table")
    for name in value:
        if name not in allowed:
            raise unknown_name(f"key in [{key}] of {where}", name, allowed)
    return dict(value)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{what} = {value!r} must be a finite number")
    return float(value)


def _year(value: object, what: str) -> int:
    number = _number(value, what)
    if not number.is_integer() or not data.FIRST_YEAR <= number <= data.LAST_YEAR:
        nearest = min(max(round(number), data.FIRST_YEAR), data.LAST_YEAR)
        raise InputError(
            f"{what} = {number:g} is not a fiscal year of the historical dataset "
            f"(FY{data.FIRST_YEAR}-FY{data.LAST_YEAR}); nearest valid value: {nearest}"
        )
    return int(number)


def _period(raw: Mapping, where: str) -> tuple[int, int, int]:
    period = _table(raw, "period", where, PERIOD_KEYS)
    for key in ("start", "fit_end"):
        if key not in period:
            raise InputError(f"{where}: [period] needs {key} (a fiscal year)")
    start = _year(period["start"], f"{where}: period.start")
    fit_end = _year(period["fit_end"], f"{where}: period.fit_end")
    end = _year(period.get("end", fit_end), f"{where}: period.end")
    if fit_end <= start:
        raise InputError(
            f"{where}: period.fit_end = {fit_end} must be after period.start = {start}; "
            f"nearest valid value: {min(start + 1, data.LAST_YEAR)}"
        )
    if end < fit_end:
        raise InputError(
            f"{where}: period.end = {end} is before period.fit_end = {fit_end}; "
            f"nearest valid value: {fit_end}"
        )
    return start, fit_end, end


def _prior(name: str, raw: object, table: ParameterTable, where: str) -> Prior:
    if name not in table:
        raise unknown_name(f"parameter in {where}", name, table.keys())
    param = table[name]
    if param.kind in NOT_ESTIMABLE:
        raise InputError(f"{where}: {name} is a {param.kind} parameter and cannot be estimated")
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: [parameters.{name}] must be a table")
    for key in raw:
        if key not in PARAMETER_KEYS:
            raise unknown_name(f"key in [parameters.{name}] of {where}", key, PARAMETER_KEYS)
    kind = raw.get("prior", "uniform")
    if kind not in PRIORS:
        raise unknown_name(f"prior of {name} in {where}", str(kind), PRIORS)
    default = (param.low, param.high) if kind == "uniform" else (param.valid_min, param.valid_max)
    bounds = raw.get("bounds", default)
    if not isinstance(bounds, list | tuple) or len(bounds) != 2:
        raise InputError(f"{where}: parameters.{name}.bounds must be [low, high]")
    low, high = (_number(b, f"{where}: parameters.{name}.bounds") for b in bounds)
    for bound in (low, high):
        if not param.valid_min <= bound <= param.valid_max:
            nearest = min(max(bound, param.valid_min), param.valid_max)
            raise InputError(
                f"{where}: the prior of {name} reaches {bound:g} {param.units}, outside its valid "
                f"range [{param.valid_min:g}, {param.valid_max:g}]; nearest valid value: "
                f"{exact(nearest)}"
            )
    if not low < high:
        raise InputError(f"{where}: parameters.{name}.bounds = [{low:g}, {high:g}] is empty")
    if kind == "uniform":
        return Prior(name, kind, low, high, (low + high) / 2, high - low)
    centre_key, spread_key = ("mean", "sd") if kind == "normal" else ("median", "sigma")
    for key in (centre_key, spread_key):
        if key not in raw:
            raise InputError(f"{where}: a {kind} prior for {name} needs {key}")
    centre = _number(raw[centre_key], f"{where}: parameters.{name}.{centre_key}")
    spread = _number(raw[spread_key], f"{where}: parameters.{name}.{spread_key}")
    if spread <= 0:
        raise InputError(f"{where}: parameters.{name}.{spread_key} = {spread:g} must be positive")
    if not low <= centre <= high or (kind == "lognormal" and centre <= 0):
        raise InputError(
            f"{where}: parameters.{name}.{centre_key} = {centre:g} lies outside the prior's "
            f"support [{low:g}, {high:g}]" + (" or is not positive" if kind == "lognormal" else "")
        )
    if kind == "lognormal" and low < 0:
        low = 0.0
    return Prior(name, kind, low, high, centre, spread)


def _series(name: str, raw: object, where: str, known_variables: set[str]) -> FittedSeries:
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: [series.{name}] must be a table")
    for key in raw:
        if key not in SERIES_KEYS:
            raise unknown_name(f"key in [series.{name}] of {where}", key, SERIES_KEYS)
    source = raw.get("source", HISTORY)
    if source not in SOURCES:
        raise unknown_name(f"source of series.{name} in {where}", str(source), SOURCES)
    if source == HISTORY:
        known = set(data.history().frame["series"])
        if name not in known:
            raise unknown_name(f"series in {where}", name, known)
        units = data.history().units(name)
    else:
        known = set(data.markets_monthly().columns)
        if name not in known:
            raise unknown_name(f"monthly series in {where}", name, known)
        units = data.monthly_units(name)
    variables = raw.get("variables")
    if not isinstance(variables, list) or not variables:
        raise InputError(f"{where}: series.{name}.variables must be a list of model variables")
    for variable in variables:
        if variable not in known_variables:
            raise unknown_name(f"model variable in series.{name}", str(variable), known_variables)
    how = raw.get("how", "end")
    if how not in MEASURES:
        raise unknown_name(f"measure (how) of series.{name}", str(how), MEASURES)
    scale = _number(raw.get("scale", 1.0), f"{where}: series.{name}.scale")
    if scale == 0:
        raise InputError(f"{where}: series.{name}.scale must not be 0")
    noise_raw = raw.get("noise")
    noise_range = None
    if noise_raw == ESTIMATE:
        bounds = raw.get("noise_range")
        if not isinstance(bounds, list | tuple) or len(bounds) != 2:
            raise InputError(
                f"{where}: series.{name}: an estimated noise needs noise_range = [low, high] "
                f"[{units}]"
            )
        low, high = (_number(b, f"{where}: series.{name}.noise_range") for b in bounds)
        if not 0 < low < high:
            raise InputError(
                f"{where}: series.{name}.noise_range = [{low:g}, {high:g}] must be positive and "
                "increasing; a noise scale is a standard deviation"
            )
        noise, noise_range = None, (low, high)
    else:
        if noise_raw is None:
            raise InputError(
                f"{where}: series.{name} needs noise: a standard deviation "
                f'[{units}] or "{ESTIMATE}"'
            )
        noise = _number(noise_raw, f"{where}: series.{name}.noise")
        if noise <= 0:
            raise InputError(
                f"{where}: series.{name}.noise = {noise:g} must be positive (a standard deviation "
                f'in {units}); give a positive number or "{ESTIMATE}"'
            )
    errors = raw.get("errors", INDEPENDENT)
    if errors not in ERROR_MODELS:
        raise unknown_name(f"error model (errors) of series.{name}", str(errors), ERROR_MODELS)
    return FittedSeries(
        series=name,
        source=str(source),
        variables=tuple(str(v) for v in variables),
        how=str(how),
        scale=scale,
        units=units,
        noise=noise,
        noise_range=noise_range,
        errors=str(errors),
    )


def _sampler(raw: Mapping, where: str, dimensions: int) -> Sampler:
    table = _table(raw, "sampler", where, SAMPLER_KEYS)
    walkers = table.get("walkers", max(DEFAULT_WALKERS, 2 * dimensions + 2))
    steps = table.get("steps", DEFAULT_STEPS)
    burn = table.get("burn", min(DEFAULT_BURN, steps // 3 if isinstance(steps, int) else 0))
    seed = table.get("seed", DEFAULT_SEED)
    for key, value in (("walkers", walkers), ("steps", steps), ("burn", burn), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{where}: sampler.{key} = {value!r} must be a whole number >= 0")
    try:
        check_count(walkers, "sampler.walkers", low=0)
        check_seed(seed, "sampler.seed")
        step_bytes = CHAIN_COPIES * max(walkers, 1) * (dimensions + 1) * FLOAT_BYTES
        check_memory(step_bytes, f"an MCMC chain of {walkers:,} walkers", "lower sampler.walkers")
        most = min(MAX_SAMPLES, memory_budget() // step_bytes)  # what the memory holds
        check_count(steps, "sampler.steps", low=0, high=most)
        check_count(burn, "sampler.burn", low=0)
    except InputError as error:
        raise InputError(f"{where}: {error}") from None
    if walkers < 2 * dimensions or walkers % 2:
        nearest = max(2 * dimensions, walkers + walkers % 2)
        raise InputError(
            f"{where}: sampler.walkers = {walkers} must be even and at least twice the number of "
            f"estimated quantities ({dimensions}); nearest valid value: {nearest}"
        )
    if not 0 <= burn < steps:
        raise InputError(
            f"{where}: sampler.burn = {burn} must be below sampler.steps = {steps}; "
            f"nearest valid value: {max(steps - 1, 0)}"
        )
    engine = table.get("engine", DEFAULT_ENGINE)
    if engine not in ENGINES:
        raise unknown_name(f"engine in {where}", str(engine), ENGINES)
    return Sampler(int(walkers), int(steps), int(burn), int(seed), str(engine))


def _projection(raw: Mapping, where: str, table: ParameterTable, estimated: set[str]) -> Projection:
    projection = _table(raw, "projection", where, PROJECTION_KEYS)
    scenario = projection.get("scenario", DEFAULT_SCENARIO)
    if scenario is not None and not isinstance(scenario, str):
        raise InputError(f"{where}: projection.scenario must be a scenario name or .toml path")
    draws = projection.get("draws", DEFAULT_DRAWS)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise InputError(f"{where}: projection.draws = {draws!r} must be a whole number >= 1")
    others = projection.get("others", [])
    if not isinstance(others, list):
        raise InputError(f"{where}: projection.others must be a list of parameter names")
    for name in others:
        if name not in table:
            raise unknown_name(f"parameter in projection.others of {where}", str(name), table)
        if name in estimated:
            raise InputError(f"{where}: projection.others names {name}, which is estimated")
        if table[name].kind in NOT_ESTIMABLE:
            raise InputError(f"{where}: projection.others: {name} is a {table[name].kind}")
    try:
        check_count(draws, "projection.draws")
        check_memory(
            PROJECTION_COPIES * draws * (len(estimated) + len(others) + 2) * FLOAT_BYTES,
            f"{draws:,} projection draws",
            "lower projection.draws (--draws)",
        )
    except InputError as error:
        raise InputError(f"{where}: {error}") from None
    return Projection(scenario, int(draws), tuple(str(name) for name in others))


def model_variables() -> set[str]:
    """Return the names of the model's variables (pysd names), for checking a specification."""
    from debtloops.model import engine

    return set(engine.describe(engine.load()).units)


def load_spec(
    path: Path,
    table: ParameterTable | None = None,
    sampler_overrides: Mapping[str, object] | None = None,
    projection_overrides: Mapping[str, object] | None = None,
) -> CalibrationSpec:
    """Read and check a calibration specification.

    Parameters
    ----------
    path : Path
        The TOML file.
    table : ParameterTable, optional
        The parameter table; the project's by default.
    sampler_overrides, projection_overrides : mapping, optional
        Replace keys of the file's ``[sampler]`` and ``[projection]`` tables (from the command
        line); checked alike.

    Returns
    -------
    CalibrationSpec
        The checked specification.

    Raises
    ------
    InputError
        On a missing or unreadable file, an unknown key, parameter, series or variable, a prior
        outside the parameter's valid range, a period outside the dataset, or a non-positive
        noise scale.
    """
    table = table or load_parameters()
    where = f"calibration {path}"
    if path.suffix != ".toml":
        raise InputError(f"{where}: a calibration specification is a .toml file")
    if not path.exists():
        raise InputError(f"no calibration specification at {path}")
    raw, text, _ = read_toml(path, where)
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            raise unknown_name(f"table in {where}", key, TOP_LEVEL_KEYS)
    start, fit_end, end = _period(raw, where)
    run = _table(raw, "run", where, RUN_KEYS)
    yields = run.get("yields", "endogenous")
    if yields not in YIELD_MODES:
        raise unknown_name(f"yields mode in {where}", str(yields), YIELD_MODES)
    fixed_raw = _table(raw, "fixed", where, tuple(table.keys()))
    fixed = {name: table[name].check(_number(v, name)) for name, v in fixed_raw.items()}
    parameters = _table(raw, "parameters", where, tuple(table.keys()))
    if not parameters:
        raise InputError(f"{where}: [parameters] names no parameter to estimate")
    priors = tuple(_prior(name, value, table, where) for name, value in parameters.items())
    both = set(fixed) & {prior.name for prior in priors}
    if both:
        raise InputError(f"{where}: {sorted(both)[0]} is both fixed and estimated")
    series_raw = raw.get("series", {})
    if not isinstance(series_raw, Mapping) or not series_raw:
        raise InputError(f"{where}: [series] names no historical series to fit")
    known = model_variables()
    series = tuple(_series(name, value, where, known) for name, value in series_raw.items())
    for item in series:
        if (item.estimated_noise or item.errors == AR1) and fit_end - start < MIN_YEARS_FOR_NOISE:
            raise InputError(
                f"{where}: series.{item.series}: {fit_end - start} fitted years are too few to "
                f"estimate a noise scale or an autocorrelation (at least {MIN_YEARS_FOR_NOISE}); "
                'give noise as a number and errors = "independent"'
            )
    dimensions = len(priors) + sum(item.estimated_noise + (item.errors == AR1) for item in series)
    for key, overrides in (("sampler", sampler_overrides), ("projection", projection_overrides)):
        if overrides:
            section = raw.get(key, {})
            if not isinstance(section, Mapping):
                raise InputError(f"{where}: [{key}] must be a table")
            raw = {**raw, key: {**section, **overrides}}
    sampler = _sampler(raw, where, dimensions)
    projection = _projection(raw, where, table, {prior.name for prior in priors})
    return CalibrationSpec(
        path=path,
        text=text,
        start=start,
        fit_end=fit_end,
        end=end,
        yields=str(yields),
        fixed=fixed,
        priors=priors,
        series=series,
        sampler=sampler,
        projection=projection,
    )
