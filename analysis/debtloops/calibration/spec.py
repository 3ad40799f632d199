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

from debtloops import schema
from debtloops.errors import InputError, unknown_name
from debtloops.limits import (
    FLOAT_BYTES,
    MAX_SAMPLES,
    check_count,
    check_memory,
    memory_budget,
    read_toml,
)
from debtloops.model import data
from debtloops.model.parameters import ParameterTable, load_parameters

AR1 = "ar1"
#: Where a fitted series comes from: the historical dataset's fiscal-year rows, or the fiscal-year
#: means of a monthly market series (:func:`debtloops.model.data.fiscal_year_mean`).
HISTORY, MONTHLY = "history", "monthly"
#: The largest lag-one autocorrelation of an AR(1) error; its prior is uniform on [0, RHO_MAX].
RHO_MAX = 0.95
#: Copies of the MCMC chain held at once (emcee's chain and log-probabilities, the posterior
#: draws without burn-in, and their log-priors), each steps x walkers x (quantities + 1) [1].
CHAIN_COPIES = 3
#: Copies of the projection draws held at once: prior, posterior, and both with the others [1].
PROJECTION_COPIES = 4
#: Default MCMC settings: 32 walkers (or twice the estimated quantities and 2) x
#: :data:`debtloops.schema.DEFAULT_STEPS` steps, about 100,000 model evaluations, of which the
#: first DEFAULT_BURN steps (at most a third) are dropped.
DEFAULT_WALKERS, DEFAULT_BURN = 32, 1000
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


class FittedSeries(schema.CalibrationSeries):
    """A historical series and how the model is compared with it: its ``[series.NAME]`` table.

    Attributes
    ----------
    series : str
        The series' name in ``history_2000_2025.csv``, or in ``markets_monthly.csv``.
    units : str
        The series' units.

    The other attributes are the table's (:class:`debtloops.schema.CalibrationSeries`): ``source``
    (``history`` or ``monthly``), ``variables`` (model variables summed into the model's
    counterpart), ``how`` (``end``, ``mean`` or ``change``), ``scale`` (multiplies the model's
    value into the series' units), ``noise`` (the error's standard deviation [the series' units],
    or ``"estimate"``), ``noise_range`` (the support of an estimated noise scale, log-uniform
    prior [the series' units]) and ``errors`` (``independent`` across years, or ``ar1``: a lag-one
    autocorrelation, estimated).
    """

    series: str
    units: str

    @property
    def estimated_noise(self) -> bool:
        """Whether the noise scale is estimated."""
        return self.noise == schema.ESTIMATE


@dataclass(frozen=True)
class Sampler:
    """MCMC settings: ``walkers`` x ``steps`` model runs; the first ``burn`` steps are dropped."""

    walkers: int
    steps: int
    burn: int
    seed: int
    engine: str


#: A scenario run under prior and posterior draws (``[projection]``): ``scenario`` (a scenario
#: name or file; None skips the projection), ``draws`` from each distribution, and ``others``,
#: further parameters drawn uniformly on the table's range under both, the same draws for prior
#: and posterior (e.g. the rest of a sweep's uncertainties).
Projection = schema.CalibrationProjection


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


def _period(period: schema.CalibrationPeriod) -> tuple[int, int, int]:
    start, fit_end = period.start, period.fit_end
    end = fit_end if period.end is None else period.end
    for key, year, least in (
        ("start", start, data.FIRST_YEAR),
        ("fit_end", fit_end, start + 1),
        ("end", end, fit_end),
    ):
        if not least <= year <= data.LAST_YEAR:
            raise InputError(
                f"period.{key} = {year} is not a fiscal year of the historical dataset "
                f"(FY{data.FIRST_YEAR}-FY{data.LAST_YEAR}) that keeps start < fit_end <= end; "
                f"nearest valid value: {min(max(year, least), data.LAST_YEAR)}"
            )
    return start, fit_end, end


def _prior(name: str, raw: schema.CalibrationPrior, table: ParameterTable) -> Prior:
    param, kind = table.free(name, "estimated"), raw.prior
    default = (param.low, param.high) if kind == "uniform" else (param.valid_min, param.valid_max)
    low, high = (param.check(bound) for bound in raw.bounds or default)
    if kind == "uniform":
        return Prior(name, kind, low, high, (low + high) / 2, high - low)
    centre_key, spread_key = ("mean", "sd") if kind == "normal" else ("median", "sigma")
    centre, spread = getattr(raw, centre_key), getattr(raw, spread_key)
    if not low <= centre <= high:
        raise InputError(
            f"parameters.{name}.{centre_key} = {centre:g} lies outside the prior's support "
            f"[{low:g}, {high:g}]"
        )
    return Prior(name, kind, max(low, 0.0) if kind == "lognormal" else low, high, centre, spread)


def _series(name: str, raw: schema.CalibrationSeries, known_variables: set[str]) -> FittedSeries:
    history = raw.source == HISTORY
    known = set(data.history().frame["series"] if history else data.markets_monthly().columns)
    if name not in known:
        raise unknown_name("series" if history else "monthly series", name, known)
    for variable in raw.variables:
        if variable not in known_variables:
            raise unknown_name(f"model variable in series.{name}", variable, known_variables)
    units = data.history().units(name) if history else data.monthly_units(name)
    return FittedSeries(series=name, units=units, **dict(raw))


def _sampler(raw: schema.CalibrationSampler, dimensions: int) -> Sampler:
    walkers = max(DEFAULT_WALKERS, 2 * dimensions + 2) if raw.walkers is None else raw.walkers
    steps = raw.steps
    burn = min(DEFAULT_BURN, steps // 3) if raw.burn is None else raw.burn
    step_bytes = CHAIN_COPIES * max(walkers, 1) * (dimensions + 1) * FLOAT_BYTES
    check_memory(step_bytes, f"an MCMC chain of {walkers:,} walkers", "lower sampler.walkers")
    check_count(steps, "sampler.steps", low=0, high=min(MAX_SAMPLES, memory_budget() // step_bytes))
    if walkers < 2 * dimensions or walkers % 2:
        raise InputError(
            f"sampler.walkers = {walkers} must be even and at least twice the number of "
            f"estimated quantities ({dimensions}); nearest valid value: "
            f"{max(2 * dimensions, walkers + walkers % 2)}"
        )
    if not burn < steps:
        raise InputError(
            f"sampler.burn = {burn} must be below sampler.steps = {steps}; "
            f"nearest valid value: {max(steps - 1, 0)}"
        )
    return Sampler(walkers, steps, burn, raw.seed, raw.engine)


def _projection(
    raw: schema.CalibrationProjection, table: ParameterTable, estimated: set[str]
) -> Projection:
    for name in raw.others:
        table.free(name, "drawn (projection.others)")
        if name in estimated:
            raise InputError(f"projection.others names {name}, which is estimated")
    check_memory(
        PROJECTION_COPIES * raw.draws * (len(estimated) + len(raw.others) + 2) * FLOAT_BYTES,
        f"{raw.draws:,} projection draws",
        "lower projection.draws (--draws)",
    )
    return raw


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
    data, text, _ = read_toml(path, where)
    for key, overrides in (("sampler", sampler_overrides), ("projection", projection_overrides)):
        if overrides and isinstance(data.get(key, {}), Mapping):
            data = {**data, key: {**data.get(key, {}), **overrides}}
    raw = schema.check(schema.CalibrationFile, data, where)
    with schema.about(where):  # the table, the historical data and the model
        start, fit_end, end = _period(raw.period)
        fixed = {name: table[name].check(value) for name, value in raw.fixed.items()}
        priors = tuple(_prior(name, value, table) for name, value in raw.parameters.items())
        both = set(fixed) & {prior.name for prior in priors}
        if both:
            raise InputError(f"{sorted(both)[0]} is both fixed and estimated")
        known = model_variables()
        series = tuple(_series(name, value, known) for name, value in raw.series.items())
        few = [item.series for item in series if item.estimated_noise or item.errors == AR1]
        if few and fit_end - start < MIN_YEARS_FOR_NOISE:
            raise InputError(
                f"series.{few[0]}: {fit_end - start} fitted years are too few to estimate a "
                f"noise scale or an autocorrelation (at least {MIN_YEARS_FOR_NOISE}); give noise "
                'as a number and errors = "independent"'
            )
        dimensions = len(priors) + sum(s.estimated_noise + (s.errors == AR1) for s in series)
        return CalibrationSpec(
            path=path,
            text=text,
            start=start,
            fit_end=fit_end,
            end=end,
            yields=raw.run.yields,
            fixed=fixed,
            priors=priors,
            series=series,
            sampler=_sampler(raw.sampler, dimensions),
            projection=_projection(raw.projection, table, {prior.name for prior in priors}),
        )
