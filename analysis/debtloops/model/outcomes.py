"""The scalar outcomes of a run: one registry, read by every command that reports one.

An outcome reduces a run's time series (as :func:`debtloops.model.run.to_dataset` labels them, or
runs stacked along further dimensions: a sweep's ``scenario`` and ``sample``, attribution's
coalitions, the fan's draws) to one value per run, at its *horizon*:

* :data:`END`: the last saved time;
* :data:`TEN_YEARS`: :data:`HEADLINE_HORIZON` years after the start, or the end if the run is
  shorter (:func:`horizon_time`);
* :data:`WHOLE_RUN`: the largest or smallest value over every saved time;
* :data:`EACH_FISCAL_YEAR`: at a fiscal year's end that the caller names (the fan's years).

Some are measured *against the baseline*, the same run without the scenario's sales: the caller
passes both. Those computed on every sample of a sweep (``per_sample``) are the ones ``analyze``,
``discover`` and ``compare-policies`` report; the headlines, ``attribute`` and ``fan`` name theirs
here too. Two readings that differ are two entries with two names, e.g. ``extra_interest_final``
(to the end of the run, from a sweep's stored ``extra_interest``) and ``extra_interest_to_horizon``
(to the ten-year horizon, the headline's).

Adding an outcome is one entry in :data:`OUTCOMES` and, unless it is a reduction of one series
(:func:`reduced`), the function that measures it. No equation of the model is written here: an
outcome picks values of the .mdl's variables at a time, or a difference or ratio of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from debtloops.errors import InputError, unknown_name

#: Years after the start over which the headline's extra interest is summed, and at which its
#: debt/GDP is quoted [year].
HEADLINE_HORIZON = 10.0
#: The span of a year's GDP in CBO's ratio, and of the points a fiscal-year mean averages [year].
FISCAL_YEAR = 1.0
#: The horizons an outcome is measured at (see the module's description).
END, TEN_YEARS, WHOLE_RUN, EACH_FISCAL_YEAR = (
    "end of the run",
    "ten years",
    "whole run",
    "each fiscal year",
)
HORIZONS = (END, TEN_YEARS, WHOLE_RUN, EACH_FISCAL_YEAR)
#: The direction of an outcome whose regret ``compare-policies`` computes.
LOWER_IS_BETTER = "lower is better"

#: How a time series over ``time`` is reduced to one value per run, by reduction's name.
REDUCTIONS: dict[str, Callable[[xr.DataArray], xr.DataArray]] = {
    "final": lambda series: series.isel(time=-1, drop=True),
    "max": lambda series: series.max("time", skipna=False),
    "min": lambda series: series.min("time", skipna=False),
}
#: The horizon of each reduction.
REDUCTION_HORIZONS = {"final": END, "max": WHOLE_RUN, "min": WHOLE_RUN}

#: What measures an outcome: (run, baseline or None, the time of its horizon [year]) -> value.
Measure = Callable[[xr.Dataset, "xr.Dataset | None", float], xr.DataArray]


@dataclass(frozen=True)
class Outcome:
    """One scalar outcome of a run.

    Attributes
    ----------
    units : str
        Its units, as the model's (e.g. ``1``, ``1/year``, ``billion USD``).
    long_name : str
        A readable name for tables, files and figures.
    horizon : str
        One of :data:`HORIZONS`.
    measure : Measure
        Computes it from a run (and the baseline, if ``against_baseline``) at the horizon's time.
    sources : tuple of str
        The model variables (or a sweep's stored series) it reads.
    against_baseline : bool
        Whether it needs the baseline run beside the scenario's.
    per_sample : bool
        Whether every sweep sample gets it (``analyze``, ``discover``, ``compare-policies``).
    reduction : str
        For a reduction of one series, its key in :data:`REDUCTIONS`; else empty.
    direction : str
        :data:`LOWER_IS_BETTER` if ``compare-policies`` computes its regret; else empty.
    """

    units: str
    long_name: str
    horizon: str
    measure: Measure
    sources: tuple[str, ...]
    against_baseline: bool = False
    per_sample: bool = False
    reduction: str = ""
    direction: str = ""

    @property
    def source(self) -> str:
        """The first variable it reads: for a reduction, the series reduced."""
        return self.sources[0]

    def time(self, run: xr.Dataset, when: float | None = None) -> float:
        """Return the time its horizon means in ``run`` [year]; NaN over the whole run."""
        if self.horizon == TEN_YEARS:
            return horizon_time(run)
        if self.horizon == END:
            return float(run["time"][-1])
        if self.horizon == WHOLE_RUN:
            return float("nan")
        if when is None:
            raise ValueError(f"an outcome at {self.horizon} needs the time of the year's end")
        return when


def horizon_time(dataset: xr.Dataset, years: float = HEADLINE_HORIZON) -> float:
    """Return the saved time ``years`` after the start, or the last one if the run is shorter."""
    start = float(dataset["time"][0])
    target = min(start + years, float(dataset["time"][-1]))
    return float(dataset["time"].sel(time=target, method="nearest"))


def debt_to_year_gdp_of_runs(runs: xr.Dataset, time: float) -> xr.DataArray:
    """Return debt at a time over the GDP of the year up to it: CBO's ratio at a year's end [1].

    Parameters
    ----------
    runs : xarray.Dataset
        Runs over ``time`` and any further dimensions, holding ``debt_held_by_public`` and
        ``cumulative_nominal_gdp`` [billion USD].
    time : float
        A saved time [year]; at the end of a fiscal year the ratio is CBO's, debt at the end of
        the year over the year's GDP (the integral of its annual rate over the year).

    Returns
    -------
    xarray.DataArray
        Debt held by the public over the GDP of the year to ``time``; in a run shorter than a year,
        over the mean annual rate since the start [1].
    """
    cumulative = runs["cumulative_nominal_gdp"]
    since = max(time - FISCAL_YEAR, float(runs["time"][0]))
    produced = cumulative.sel(time=time) - cumulative.interp(time=since)
    return runs["debt_held_by_public"].sel(time=time) / (produced / (time - since))


def extra_interest(scenario: xr.Dataset, baseline: xr.Dataset, when: float) -> xr.DataArray:
    """Return the interest paid from the start to ``when``, less the baseline's [billion USD]."""
    interest = scenario["cumulative_net_interest"].sel(time=when)
    return interest - baseline["cumulative_net_interest"].sel(time=when)


def peak_extra_yield(scenario: xr.Dataset, baseline: xr.Dataset) -> xr.DataArray:
    """Return the largest excess of the 10-year market yield over the baseline's [1/year]."""
    return (scenario["market_yield"] - baseline["market_yield"]).max("time")


def _fiscal_year_mean(name: str) -> Measure:
    """Return the measure: the mean of a series' saved points in the fiscal year to ``when``.

    The year's points are its first day and each saved step before its last; the point at
    ``when`` is the first day of the next fiscal year (where drivers have stepped), as in
    :func:`debtloops.validation.backtest.fiscal_year_value`.
    """

    def measure(run: xr.Dataset, baseline: xr.Dataset | None, when: float) -> xr.DataArray:
        times = np.asarray(run["time"].values, float)
        inside = np.flatnonzero((times >= when - FISCAL_YEAR) & (times < when))
        return run[name].isel(time=inside).mean("time", skipna=False)

    return measure


def _extra_at(name: str) -> Measure:
    """Return the measure: a series at the horizon's time, less the baseline's."""

    def measure(run: xr.Dataset, baseline: xr.Dataset | None, when: float) -> xr.DataArray:
        assert baseline is not None  # checked by value(): the outcome is against the baseline
        return run[name].sel(time=when) - baseline[name].sel(time=when)

    return measure


def _peak_extra(name: str) -> Measure:
    """Return the measure: the largest excess of a series over the baseline's at the same time."""

    def measure(run: xr.Dataset, baseline: xr.Dataset | None, when: float) -> xr.DataArray:
        assert baseline is not None
        return (run[name] - baseline[name]).max("time")

    return measure


def _extra_debt_to_fy_gdp(
    run: xr.Dataset, baseline: xr.Dataset | None, when: float
) -> xr.DataArray:
    assert baseline is not None
    return debt_to_year_gdp_of_runs(run, when) - debt_to_year_gdp_of_runs(baseline, when)


def reduced(
    source: str, reduction: str, units: str, long_name: str, direction: str = ""
) -> Outcome:
    """Return a per-sample outcome that reduces one series over time (:data:`REDUCTIONS`)."""
    return Outcome(
        units=units,
        long_name=long_name,
        horizon=REDUCTION_HORIZONS[reduction],
        measure=lambda run, baseline, when: REDUCTIONS[reduction](run[source]),
        sources=(source,),
        per_sample=True,
        reduction=reduction,
        direction=direction,
    )


#: The variables CBO's ratio of debt to a fiscal year's GDP reads.
_CBO_RATIO = ("debt_held_by_public", "cumulative_nominal_gdp")

#: Every scalar outcome, by name: the one definition of each.
OUTCOMES: dict[str, Outcome] = {
    # per sample of a sweep: analyze, discover, compare-policies
    "debt_to_gdp_final": reduced(
        "debt_to_gdp", "final", "1", "debt/GDP at the end", LOWER_IS_BETTER
    ),
    "peak_market_yield": reduced(
        "market_yield", "max", "1/year", "peak 10-year yield", LOWER_IS_BETTER
    ),
    "extra_interest_final": reduced(
        "extra_interest", "final", "billion USD", "extra interest paid by the end", LOWER_IS_BETTER
    ),
    "dollar_trough": reduced("dollar_index", "min", "index", "dollar index trough"),
    # a run against its baseline: the headlines and attribute
    "debt_to_fy_gdp_horizon": Outcome(
        "1",
        "debt/GDP at the horizon (CBO's ratio)",
        TEN_YEARS,
        lambda run, baseline, when: debt_to_year_gdp_of_runs(run, when),
        _CBO_RATIO,
    ),
    "debt_to_fy_gdp_final": Outcome(
        "1",
        "debt/GDP at the end (CBO's ratio)",
        END,
        lambda run, baseline, when: debt_to_year_gdp_of_runs(run, when),
        _CBO_RATIO,
    ),
    "extra_interest_to_horizon": Outcome(
        "billion USD",
        "extra net interest over ten years",
        TEN_YEARS,
        _extra_at("cumulative_net_interest"),
        ("cumulative_net_interest",),
        against_baseline=True,
    ),
    "peak_extra_yield": Outcome(
        "1/year",
        "peak extra 10-year yield",
        WHOLE_RUN,
        _peak_extra("market_yield"),
        ("market_yield",),
        against_baseline=True,
    ),
    "extra_debt_to_fy_gdp_horizon": Outcome(
        "1",
        "extra debt/GDP at the horizon (CBO's ratio)",
        TEN_YEARS,
        _extra_debt_to_fy_gdp,
        _CBO_RATIO,
        against_baseline=True,
    ),
    "real_gdp_vs_baseline_horizon": Outcome(
        "1",
        "real GDP against the baseline's at the horizon",
        TEN_YEARS,
        _extra_at("output_gap"),
        ("output_gap",),
        against_baseline=True,
    ),
    "peak_extra_inflation": Outcome(
        "1/year",
        "peak extra inflation",
        WHOLE_RUN,
        _peak_extra("inflation"),
        ("inflation",),
        against_baseline=True,
    ),
    # at each fiscal year's end: fan
    "debt_to_fy_gdp": Outcome(
        "1",
        "debt held by the public at the fiscal year end over the year's GDP",
        EACH_FISCAL_YEAR,
        lambda run, baseline, when: debt_to_year_gdp_of_runs(run, when),
        _CBO_RATIO,
    ),
    "ten_year_yield_fy_mean": Outcome(
        "1/year",
        "10-year market yield, mean of the fiscal year's saved points",
        EACH_FISCAL_YEAR,
        _fiscal_year_mean("market_yield"),
        ("market_yield",),
    ),
    "interest_to_revenue_fy_mean": Outcome(
        "1",
        "net interest over revenue, mean of the fiscal year's points",
        EACH_FISCAL_YEAR,
        _fiscal_year_mean("interest_to_revenue"),
        ("interest_to_revenue",),
    ),
}


class Selection(Mapping[str, Outcome]):
    """The outcomes of :data:`OUTCOMES` that pass a test, read live (an entry added is in it)."""

    def __init__(self, keep: Callable[[Outcome], bool]) -> None:
        self._keep = keep

    def _names(self) -> list[str]:
        return [name for name, outcome in OUTCOMES.items() if self._keep(outcome)]

    def __getitem__(self, name: str) -> Outcome:
        outcome = OUTCOMES[name]
        if not self._keep(outcome):
            raise KeyError(name)
        return outcome

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


#: The outcomes every sweep sample gets, by name.
PER_SAMPLE = Selection(lambda outcome: outcome.per_sample)


def outcome(name: str) -> Outcome:
    """Return the outcome ``name``, or refuse it naming the nearest one (exit 2)."""
    if name not in OUTCOMES:
        raise unknown_name("scalar outcome", name, sorted(OUTCOMES))
    return OUTCOMES[name]


def value(
    name: str, run: xr.Dataset, baseline: xr.Dataset | None = None, when: float | None = None
) -> xr.DataArray:
    """Compute an outcome of runs.

    Parameters
    ----------
    name : str
        A key of :data:`OUTCOMES`.
    run : xarray.Dataset
        The runs, over ``time`` [year] and any further dimensions, holding its ``sources``.
    baseline : xarray.Dataset, optional
        The baseline runs over the same times, for an outcome against the baseline.
    when : float, optional
        The fiscal year's end [year], for an outcome at :data:`EACH_FISCAL_YEAR`.

    Returns
    -------
    xarray.DataArray
        One value per run, over the further dimensions, in the outcome's units.
    """
    chosen = outcome(name)
    if chosen.against_baseline and baseline is None:
        raise InputError(f"the outcome {name} is measured against the baseline: give its run")
    return chosen.measure(run, baseline, chosen.time(run, when))
