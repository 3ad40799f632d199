"""Episodes: the model's 10-year yield through three market episodes, driven month by month.

``debtloops episodes`` runs each episode from the first day of its start month to the last day of
its end month with the model's own yields (every feedback on, as in ``backtest --yields
endogenous``) and compares the change in the 10-year yield, end month's average less start
month's, with the change in the monthly average of the constant-maturity 10-year (FRED ``GS10``).

Drivers, month by month (``models/data/markets_monthly.csv``):

* the policy-rate path: the month's effective federal funds rate (``fedfunds``);
* the Fed's net purchases: the month's change in SOMA Treasury holdings (``treast_last_wednesday``,
  the last Wednesday's level), at an annual rate;
* Japan's and China's net purchases: their net transactions (the change in their TIC holdings less
  its valuation change and survey revisions, :mod:`debtloops.model.flows`) where the data file has
  them for every month of the episode, otherwise the month's change in their TIC holdings (which
  includes price changes), at an annual rate;
* Japan's private net sales: its net sales beyond the dollars the Ministry of Finance sold in the
  month (``mof_intervention_usd``), at an annual rate; the rest of its sales are official;
* other foreign holders: all foreign holders' (TIC Grand Total) less Japan's and China's, measured
  the same way, at an annual rate, as a share of GDP's annual rate in the middle of the month.

Each month's value holds from its first day to its last; since a month (1/12 year) is not a whole
number of time steps, each step's driver value is the average of the monthly values over that
step, so that a flow's integral over the run equals the data's sum exactly. The runs use
:data:`TIME_STEP`, the finest step the parameter table allows, and save every step.

Everything else comes from the fiscal-year history as in the backtest
(:func:`debtloops.model.data.history_layer`): the fiscal drivers as fiscal-year steps, the expected
debt and interest paths, the bill share. The initial state at the start month's first day: debt,
GDP, the effective rate and the dollar interpolated linearly in time between the fiscal-year ends
around it; Japan's, China's and all foreign holdings at the end of the previous month (TIC), the
Fed's on the previous month's last Wednesday (H.4.1). The yields are the model's own, as in an
endogenous backtest: the 10-year term premium before the market premia is the ACM term premium's
average over the :data:`WINDOW_MONTHS` months before the start, and markets' long-run policy rate
starts at the funds rate's average over the same months, what was known then. The policy rule is
off, so the policy rate is the funds rate as it happened.

The part attributed to official selling: the same run without it, every month of China's net
selling set to zero and Japan's net sales cut to what its private investors sold (its net sales
beyond the dollars the Ministry of Finance sold in yen-buying interventions,
``japan_private_net_sales``, a driver of its own); purchases are kept. The difference in the
10-year's change is printed beside the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.errors import InputError, unknown_name
from debtloops.model import data, datafiles
from debtloops.model.parameters import Value, load_parameters, validate
from debtloops.model.run import PreparedRun, execute
from debtloops.model.scenarios import Scenario
from debtloops.units import BASIS_POINTS, PERCENT
from debtloops.validation.backtest import add_overrides

#: What ``debtloops episodes`` writes into its output folder.
OUTPUT_NAMES = ("episodes.csv",)
COLUMNS = (
    "episode",
    "start",
    "end",
    "model_change_bp",
    "actual_change_bp",
    "official_selling_bp",
    "units",
)
UNITS = "basis points"
#: The time step of episode runs [year]: 1/64, the finest the parameter table allows (about 5.7
#: days; a month spans 5 to 6 steps).
TIME_STEP = 1.0 / 64.0
#: How far the model's 10-year change may be from the actual one [basis points].
TOLERANCE_BP = 50.0
#: Months before the start over which the term premium and the funds rate are averaged [months].
WINDOW_MONTHS = data.EXPECTATION_WINDOW * data.MONTHS_PER_YEAR
#: The monthly series of each holder's holdings [billion USD, end of month]; the Fed's is SOMA.
HOLDINGS = {
    "japan": "tic_japan_holdings",
    "china": "tic_china_holdings",
    "foreign": "tic_grand_total_holdings",
    "fed": "treast_last_wednesday",
}
#: Net transactions [billion USD a month], preferred to the change in holdings when complete.
NET_TRANSACTIONS = {
    "japan": "tic_japan_net_transactions",
    "china": "tic_china_net_transactions",
    "foreign": "tic_grand_total_net_transactions",
}
#: Japan's and China's net purchases, and the part of Japan's net sales its private investors made
#: (the rest is its Ministry of Finance's: :func:`debtloops.model.data.japan_private_net_sales`).
JAPAN, CHINA = "japan_baseline_net_purchases", "china_baseline_net_purchases"
JAPAN_PRIVATE = data.JAPAN_PRIVATE


@dataclass(frozen=True)
class Episode:
    """A stretch of months to replay.

    Attributes
    ----------
    name : str
        The name given on the command line.
    start, end : str
        The first and last months, ``YYYY-MM``.
    what : str
        What happened, in a few words.
    """

    name: str
    start: str
    end: str
    what: str

    @property
    def months(self) -> pd.PeriodIndex:
        """The episode's months, first to last."""
        return pd.period_range(self.start, self.end, freq="M")


EPISODES = {
    episode.name: episode
    for episode in (
        Episode("china_2015", "2015-06", "2016-11", "China sells reserves after the devaluation"),
        Episode("covid_2020", "2020-01", "2020-06", "the dash for cash and the Fed's purchases"),
        Episode("yen_2022", "2022-08", "2022-12", "Japan defends the yen; the Fed hikes"),
    )
}


def select(names: Sequence[str]) -> list[Episode]:
    """Return the episodes asked for, every one when none is named.

    Raises
    ------
    InputError
        On an unknown name, naming the nearest valid ones.
    """
    for name in names:
        if name not in EPISODES:
            raise unknown_name("episode", name, EPISODES)
    return [EPISODES[name] for name in dict.fromkeys(names or EPISODES)]


def _month_edges(months: pd.PeriodIndex) -> np.ndarray:
    """Return the times at which the months begin, and the time the last one ends [year]."""
    return np.array([data.month_start(m) for m in [*months, months[-1] + 1]])


def overlaps(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Return how long each interval of one partition of time overlaps each of another [year].

    Parameters
    ----------
    rows, columns : numpy.ndarray
        Increasing interval edges [year]: n + 1 and m + 1 of them.

    Returns
    -------
    numpy.ndarray
        n x m: the length of the intersection of row interval i and column interval j.
    """
    low = np.maximum(rows[:-1, None], columns[None, :-1])
    high = np.minimum(rows[1:, None], columns[None, 1:])
    return np.clip(high - low, 0.0, None)


def _series(monthly: pd.DataFrame, name: str, months: pd.PeriodIndex) -> pd.Series:
    if name not in monthly:
        raise InputError(f"the monthly data file {datafiles.MONTHLY_FILE} has no series {name}")
    values = monthly[name].reindex(months)
    if values.isna().any():
        missing = values.index[values.isna()][0]
        raise InputError(f"the monthly data have no {name} for {missing}")
    return values


def _gdp(times: np.ndarray) -> np.ndarray:
    """GDP's annual rate at some times [billion USD a year], on the path the runs follow.

    The path is the history's, aligned so that its integral over each fiscal year is the year's
    GDP (:func:`debtloops.model.data.history_gdp_path`).
    """
    return data.history_gdp_path().rate_at(times)


def monthly_drivers(episode: Episode) -> pd.DataFrame:
    """Return the monthly drivers of an episode, in the model's units.

    Parameters
    ----------
    episode : Episode
        The episode.

    Returns
    -------
    pandas.DataFrame
        One row per month of the episode; columns named by parameter: the policy-rate path
        [1/year], the Fed's, Japan's and China's net purchases and Japan's private net sales
        [billion USD/year], and other foreign holders' net purchases as a share of GDP [1/year,
        the share of GDP bought in a year].

    Raises
    ------
    InputError
        If the data lack a month the episode needs.
    """
    monthly = data.markets_monthly()
    months = episode.months
    before = pd.period_range(months[0] - 1, months[-1], freq="M")

    def change(holder: str) -> pd.Series:
        return _series(monthly, HOLDINGS[holder], before).diff().iloc[1:]

    flows = {holder: change(holder) for holder in HOLDINGS}
    for holder, name in NET_TRANSACTIONS.items():
        if name in monthly and monthly[name].reindex(months).notna().all():
            flows[holder] = monthly[name].reindex(months)
    others = flows["foreign"] - flows["japan"] - flows["china"]
    official = _series(monthly, data.MOF_DOLLARS_SOLD, months)
    private = ((-flows["japan"]).clip(lower=0.0) - official).clip(lower=0.0)
    year = data.MONTHS_PER_YEAR
    middle = (_month_edges(months)[:-1] + _month_edges(months)[1:]) / 2
    return pd.DataFrame(
        {
            "fed_policy_rate_path": _series(monthly, "fedfunds", months) / data.PERCENT,
            "fed_baseline_net_purchases": flows["fed"] * year,
            JAPAN: flows["japan"] * year,
            JAPAN_PRIVATE: private * year,
            CHINA: flows["china"] * year,
            "other_foreign_purchase_share": others * year / _gdp(middle),
        },
        index=months,
    )


def on_steps(monthly: pd.Series, start: float, step: float, count: int) -> dict[float, float]:
    """Turn monthly values into a driver that is constant over each time step.

    Parameters
    ----------
    monthly : pandas.Series
        One value per month [any units], indexed by consecutive months; each holds over its month.
    start : float
        The run's initial time [year], no later than the first month's start.
    step : float
        The time step [year].
    count : int
        The number of steps.

    Returns
    -------
    dict
        Year -> value: over step k, from ``start + k * step`` to just before the next step, the
        average of the monthly values over the step (the last month's value after it ends).
    """
    edges = _month_edges(monthly.index)
    edges[-1] = max(edges[-1], start + count * step)
    times = start + step * np.arange(count + 1)
    values = overlaps(times, edges) @ monthly.to_numpy(dtype=float) / step
    points: dict[float, float] = {}
    for when, value in zip(times[:-1], values, strict=True):
        points[float(when)] = float(value)
        points[float(when + step - data.STEP_EDGE)] = float(value)
    return points


def initial_state(episode: Episode) -> dict[str, float]:
    """Return the model's initial state on the first day of an episode's start month.

    The ``initial_*`` values of the fiscal-year ends before and after that day are interpolated
    linearly in time; the holdings of Japan, China, all foreign holders (TIC, end of the previous
    month) and the Fed (SOMA, the previous month's last Wednesday) replace theirs.

    Returns
    -------
    dict
        The ``initial_*`` parameters, in the model's units.
    """
    first = episode.months[0]
    year = data.fiscal_year(first)
    before, after = data.initial_state(year - 1), data.initial_state(year)
    weight = data.month_start(first) - (year - 1)
    state = {
        name: before[name] + weight * (after[name] - before[name])
        for name in before
        if name.startswith("initial_")
    }
    monthly = data.markets_monthly()
    previous = pd.period_range(first - 1, first - 1, freq="M")
    for holder, name in (
        ("japan", "initial_japan_holdings"),
        ("china", "initial_china_holdings"),
        ("foreign", "initial_total_foreign_holdings"),
        ("fed", "initial_fed_holdings"),
    ):
        state[name] = float(_series(monthly, HOLDINGS[holder], previous).iloc[0])
    return state


def prepare_episode(
    episode: Episode,
    drivers: pd.DataFrame | None = None,
    overrides: Mapping[str, Value] | None = None,
) -> PreparedRun:
    """Return an episode's run, validated and ready to simulate.

    Parameters
    ----------
    episode : Episode
        The episode.
    drivers : pandas.DataFrame, optional
        Monthly drivers that replace :func:`monthly_drivers` (same layout).
    overrides : mapping, optional
        Parameter values set on the run (``--set``): not one the episode sets itself (history's
        drivers, the start, the monthly step, the yields' anchors, the policy rule's switch).

    Returns
    -------
    PreparedRun
        The run, from the first day of the start month to the last of the end month (rounded up to
        a whole time step), saving every step.
    """
    drivers = monthly_drivers(episode) if drivers is None else drivers
    table = load_parameters()
    start = data.month_start(episode.months[0])
    count = int(np.ceil((_month_edges(episode.months)[-1] - start) / TIME_STEP - 1e-9))
    first, last = data.fiscal_year(episode.months[0]), data.fiscal_year(episode.months[-1])
    layer: dict[str, Value] = dict(data.history_layer(first - 1, last))  # type: ignore[arg-type]
    layer.update(initial_state(episode))
    layer.update(
        initial_time=start,
        final_time=start + count * TIME_STEP,
        time_step=TIME_STEP,
        saveper=TIME_STEP,
    )
    for name in drivers.columns:
        layer[name] = on_steps(drivers[name], start, TIME_STEP, count)
    # The model's own yields, as in an endogenous backtest: the term premium, the long-run policy
    # rate and the long-run inflation expectation are what the months before the start showed;
    # the policy rate is history's.
    layer.update(
        anchored_term_premium_switch=0.0,
        term_premium_level=data.mean_before("acmtp10", episode.months[0], WINDOW_MONTHS),
        initial_long_run_policy_rate=data.mean_before("fedfunds", episode.months[0], WINDOW_MONTHS),
        initial_expected_long_run_inflation=data.cpi_inflation_before(
            episode.months[0], WINDOW_MONTHS
        ),
        policy_rule_switch=0.0,
    )
    add_overrides(layer, overrides, f"episode {episode.name} sets it from history")
    scenario = Scenario(
        name=f"episode_{episode.name}",
        chain=(),
        text=f"# episode {episode.name}, {episode.start} to {episode.end}: {episode.what} "
        "(monthly drivers, history data layer)",
        overrides=dict(layer),
        data="history",
    )
    drivers_kind = frozenset(p.name for p in table.of_kind("driver"))
    return PreparedRun(scenario=scenario, values=validate(table, layer), drivers=drivers_kind)


def month_means(run: xr.Dataset, variable: str, months: pd.PeriodIndex) -> np.ndarray:
    """Average a saved variable over calendar months, each saved value holding for one step.

    Parameters
    ----------
    run : xarray.Dataset
        A run saved at every time step.
    variable : str
        The variable.
    months : pandas.PeriodIndex
        Consecutive months within the run.

    Returns
    -------
    numpy.ndarray
        One time-weighted mean per month [the variable's units].
    """
    times = run["time"].to_numpy().astype(float)
    step = times[1] - times[0]
    weights = overlaps(_month_edges(months), np.append(times, times[-1] + step))
    return weights @ run[variable].to_numpy().astype(float) / weights.sum(axis=1)


def model_change(run: xr.Dataset, episode: Episode) -> float:
    """Return the model's 10-year change: end month's average less start month's [bp]."""
    means = month_means(run, "market_yield", episode.months)
    return float(means[-1] - means[0]) * BASIS_POINTS


def actual_change(episode: Episode) -> float:
    """Return the 10-year's change: end month's average less start month's (GS10) [bp]."""
    gs10 = _series(data.markets_monthly(), "gs10", episode.months[[0, -1]])
    return float(gs10.iloc[-1] - gs10.iloc[0]) * (BASIS_POINTS / PERCENT)


def without_official_selling(drivers: pd.DataFrame) -> pd.DataFrame:
    """Return the drivers without official selling: China's and Japan's Ministry of Finance's.

    Every month of China's net selling is set to zero; Japan's net sales keep only what its
    private investors sold (``japan_private_net_sales``). Purchases are kept.
    """
    japan_official = (-drivers[JAPAN]).clip(lower=0.0) - drivers[JAPAN_PRIVATE]
    return drivers.assign(
        **{JAPAN: drivers[JAPAN] + japan_official, CHINA: drivers[CHINA].clip(lower=0.0)}
    )


def run_episodes(
    episodes: Iterable[Episode], overrides: Mapping[str, Value] | None = None
) -> pd.DataFrame:
    """Run episodes, each with and without official selling, and compare them with history.

    ``overrides`` (``--set``) apply to every run (see :func:`prepare_episode`).

    Returns
    -------
    pandas.DataFrame
        One row per episode, columns :data:`COLUMNS`.
    """
    rows = []
    for episode in episodes:
        drivers = monthly_drivers(episode)
        change = model_change(execute(prepare_episode(episode, drivers, overrides)), episode)
        calm = execute(prepare_episode(episode, without_official_selling(drivers), overrides))
        selling = change - model_change(calm, episode)
        actual = actual_change(episode)
        rows.append((episode.name, episode.start, episode.end, change, actual, selling, UNITS))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_episodes(
    out_dir: Path, episodes: Iterable[Episode], overrides: Mapping[str, Value] | None = None
) -> pd.DataFrame:
    """Run episodes and write ``episodes.csv`` into ``out_dir`` (see :func:`run_episodes`)."""
    from debtloops.io import atomic_file

    table = run_episodes(episodes, overrides)
    (name,) = OUTPUT_NAMES
    atomic_file(out_dir / name, lambda path: table.to_csv(path, index=False))
    return table


def format_episodes(table: pd.DataFrame) -> str:
    """Format the table for printing.

    Changes are rounded to a basis point, beside the gap to the actual change and whether it is
    within :data:`TOLERANCE_BP`.
    """
    shown = table.drop(columns="units").set_index("episode")
    shown["gap_bp"] = shown["model_change_bp"] - shown["actual_change_bp"]
    within = shown["gap_bp"].abs() <= TOLERANCE_BP
    shown[f"within_{TOLERANCE_BP:g}bp"] = np.where(within, "yes", "NO")
    numbers = ["model_change_bp", "actual_change_bp", "official_selling_bp", "gap_bp"]
    shown[numbers] = shown[numbers].round(0).astype(int)
    return shown.to_string()
