"""Backtest: run the model from a past fiscal year with the drivers as they happened.

The run starts from the historical state at the end of FY``start`` (debt, holdings, the effective
rate, GDP, the dollar) and takes the primary deficit, revenue, other means of financing, GDP,
the federal funds rate, the bill share and the net purchases of Japan, China, other foreign holders
and the Fed from the historical dataset (:func:`debtloops.model.data.history_layer`). Two ways to
get the
10-year yield:

``historical``
    The yield's spread over the funds rate is the historical one and the feedbacks on yields, the
    policy rate and GDP are off, so the run tests the fiscal arithmetic: issuance, rollover and
    interest.
``endogenous``
    The spread holds its average over the ten fiscal years up to the start (what was known then)
    and the yield premia respond to the flows and the debt, priced on levels against the start:
    the run shows how far the model's own yield tracks the actual one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.errors import InputError
from debtloops.figures.validation import plot_backtest
from debtloops.model import data
from debtloops.model.holders import FOREIGN, HOLDINGS
from debtloops.model.parameters import Value, load_parameters, validate
from debtloops.model.run import PreparedRun, execute
from debtloops.model.scenarios import Scenario

YIELD_MODES = ("historical", "endogenous")
#: What ``debtloops backtest`` writes into its output folder: the table, then the chart.
OUTPUT_NAMES = ("backtest.csv", "backtest.png")
#: Both runs hold the policy rate to history: the Fed's rule is off, the path is the funds rate.
POLICY_RATE_IS_HISTORY = {"policy_rule_switch": 0.0}
#: The historical-yield run: new issues pay each segment's observed yield, and the feedbacks are off
#: so that yields, the policy rate and GDP are the historical ones: the yield premia, the policy
#: rule, the growth drag (capacity and demand) and the inflation channels.
FEEDBACKS_OFF = {
    "observed_yields_switch": 1.0,
    "demand_sensitivity_to_real_yield": 0.0,
    "portfolio_balance_sensitivity": 0.0,
    "flow_effect_sensitivity": 0.0,
    "risk_premium_debt_sensitivity": 0.0,
    "risk_premium_interest_sensitivity": 0.0,
    "inflation_response": 0.0,
    "output_gap_response": 0.0,
    "gdp_sensitivity_to_real_yield": 0.0,
    "qe_inflation_sensitivity": 0.0,
    "dollar_pass_through": 0.0,
    "phillips_curve_slope": 0.0,
}


@dataclass(frozen=True)
class Compared:
    """How a model variable is compared with a historical series.

    Attributes
    ----------
    variable : str
        The model variable (pysd name).
    series : str
        The historical series.
    how : str
        ``"end"`` (value at the end of the fiscal year), ``"flow"`` (the fiscal year's total, from
        the cumulative stock ``cumulative_<variable>``), ``"mean"`` (the fiscal-year average) or
        ``"end_to_gdp"`` (the value at the end of the fiscal year over the year's GDP: CBO's ratio).
    scale : float
        Multiplies the model's value into the series' units.
    units : str
        The units of both columns.
    row : str
        The name of the table's rows, when it is not ``variable``.
    """

    variable: str
    series: str
    how: str
    scale: float
    units: str
    row: str = ""

    @property
    def name(self) -> str:
        """The name of the table's rows."""
        return self.row or self.variable


#: The units of a ratio to GDP measured as CBO measures it.
CBO_RATIO_UNITS = "percent of the fiscal year's GDP"


COMPARED = (
    Compared("debt_held_by_public", "debt_held_by_public", "end", 1.0, "billion USD"),
    Compared("net_interest", "net_interest", "flow", 1.0, "billion USD"),
    *(Compared(h.holdings, h.holdings, "end", 1.0, "billion USD") for h in FOREIGN),
    Compared("fed_holdings", "fed_treasury_holdings", "end", 1.0, "billion USD"),
    Compared("market_yield", "gs10_fy_avg", "mean", data.PERCENT, "percent"),
    Compared("fed_policy_rate", "fedfunds_fy_avg", "mean", data.PERCENT, "percent"),
    Compared(
        "debt_held_by_public",
        "debt_to_gdp",
        "end_to_gdp",
        data.PERCENT,
        CBO_RATIO_UNITS,
        "debt_to_gdp",
    ),
)


def fiscal_year_value(run: xr.Dataset, variable: str, how: str, year: int) -> float:
    """Return a model variable for one fiscal year, measured like the data.

    Parameters
    ----------
    run : xarray.Dataset
        One run over ``time`` [year].
    variable : str
        The variable; for ``how="flow"`` the run must hold ``cumulative_<variable>``.
    how : str
        ``"end"``, ``"flow"``, ``"mean"`` or ``"end_to_gdp"`` (see :class:`Compared`).
    year : int
        The fiscal year [year]: it runs from ``year - 1`` to ``year`` on the model's clock.

    Returns
    -------
    float
        The value in the variable's units (a flow summed over the year [units x year]; a ratio
        to the year's GDP [1]).
    """
    if how == "end_to_gdp":
        return fiscal_year_value(run, variable, "end", year) / fiscal_year_gdp(run, year)
    if how == "end":
        return float(run[variable].sel(time=float(year)))
    if how == "flow":
        cumulative = run[f"cumulative_{variable}"]
        return float(cumulative.sel(time=float(year)) - cumulative.sel(time=float(year - 1)))
    # The saved points within the year: its first day and each saved step before its last day
    # (the point at ``year`` is the first day of the next fiscal year, where drivers have stepped).
    times = run["time"].values
    inside = (times >= year - 1) & (times < year)
    return float(run[variable].values[inside].mean())


def fiscal_year_gdp(run: xr.Dataset, year: int) -> float:
    """Return a fiscal year's GDP as CBO counts it: the integral of the annual rate over the year.

    Parameters
    ----------
    run : xarray.Dataset
        One run, holding ``cumulative_nominal_gdp`` [billion USD].
    year : int
        The fiscal year [year].

    Returns
    -------
    float
        The change of ``cumulative_nominal_gdp`` from ``year - 1`` to ``year`` [billion USD].
    """
    return fiscal_year_value(run, "nominal_gdp", "flow", year)


def prepare_backtest(
    start: int,
    end: int,
    yields: str = "historical",
    overrides: Mapping[str, Value] | None = None,
) -> PreparedRun:
    """Validate a backtest's inputs and return the run, without running it.

    Parameters
    ----------
    start, end : int
        First and last fiscal years [year], within FY2000-FY2025, ``start`` < ``end``.
    yields : str
        ``"historical"`` or ``"endogenous"``.

    overrides : mapping, optional
        Parameter values set on the run (``--set``): not one the backtest sets itself (the
        history's drivers and years, the policy rate and the switches of ``yields``).

    Returns
    -------
    PreparedRun
        The run: its values are the table's defaults under the historical data layer.

    Raises
    ------
    InputError
        On a start or end outside the dataset, an end before the start, an unknown mode, or a
        missing or malformed data file.
    """
    if yields not in YIELD_MODES:
        raise InputError(f"unknown yields mode '{yields}'; choose one of {', '.join(YIELD_MODES)}")
    layer: dict[str, Value] = dict(data.history_layer(start, end))  # type: ignore[arg-type]
    layer.update(POLICY_RATE_IS_HISTORY)
    if yields == "historical":
        layer.update(FEEDBACKS_OFF)
    else:
        layer["anchored_term_premium_switch"] = 0.0
        layer["term_premium_level"] = data.mean_before("acmtp10", data.fiscal_year_end(start))
    add_overrides(
        layer,
        overrides,
        f"the backtest sets it (from history, --start, --end or --yields {yields})",
    )
    table = load_parameters()
    values = validate(table, layer)
    scenario = Scenario(
        name=f"backtest_{start}_{end}_{yields}",
        chain=(),
        text=f"# backtest from FY{start} to FY{end}, {yields} 10-year yield (history data layer)",
        overrides=dict(layer),
        data="history",
    )
    drivers = frozenset(p.name for p in table.of_kind("driver"))
    return PreparedRun(scenario=scenario, values=values, drivers=drivers)


def compare(run: xr.Dataset, start: int, end: int) -> pd.DataFrame:
    """Set a backtest run beside what happened.

    Parameters
    ----------
    run : xarray.Dataset
        The backtest run.
    start, end : int
        Its first and last fiscal years [year].

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, year, model, actual, units``: each row of :data:`COMPARED` for
        FY``start`` to FY``end`` (flows, means and ratios to the year's GDP from FY``start`` + 1,
        the first year the run covers); ``actual`` is NaN where the dataset has no value.
        ``debt_to_gdp`` is CBO's ratio: debt at the end of the year over the year's GDP.
    """
    history = data.history()
    rows = []
    for item in COMPARED:
        if item.series == "debt_to_gdp":
            ratio = history.series("debt_held_by_public") / history.series("gdp_fy")
            actual = ratio * data.PERCENT
        else:
            actual = history.series(item.series)
        first = start + 1 if item.how in ("flow", "mean", "end_to_gdp") else start
        for year in range(first, end + 1):
            model = fiscal_year_value(run, item.variable, item.how, year) * item.scale
            rows.append((item.name, year, model, float(actual.get(year, np.nan)), item.units))
    return pd.DataFrame(rows, columns=["variable", "year", "model", "actual", "units"])


def run_backtest(
    start: int, end: int, yields: str = "historical"
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Run a backtest and compare it with history.

    Parameters
    ----------
    start, end : int
        First and last fiscal years [year].
    yields : str
        ``"historical"`` or ``"endogenous"``.

    Returns
    -------
    run : xarray.Dataset
        The labelled run.
    table : pandas.DataFrame
        The comparison (see :func:`compare`).
    """
    run = execute(prepare_backtest(start, end, yields))
    return run, compare(run, start, end)


def relative_error(table: pd.DataFrame, variable: str, years: range) -> float:
    """Return (model - actual) / actual of a variable summed over some fiscal years [1]."""
    rows = table[(table["variable"] == variable) & table["year"].isin(list(years))]
    return float(rows["model"].sum() / rows["actual"].sum() - 1.0)


def tracking(table: pd.DataFrame, variable: str) -> tuple[float, float]:
    """Return the root-mean-square and the largest absolute gap of a variable [its units]."""
    rows = table[table["variable"] == variable].dropna()
    gap = (rows["model"] - rows["actual"]).to_numpy()
    return float(np.sqrt(np.mean(gap**2))), float(np.max(np.abs(gap)))


#: The variables the backtest figure and the printed table show, in reading order.
SHOWN = (
    "debt_held_by_public",
    "net_interest",
    "market_yield",
    *HOLDINGS,
    "fed_holdings",
)


def plot(table: pd.DataFrame, path: Path, how: str) -> None:
    """Draw :data:`SHOWN`, model against actual (see :func:`debtloops.figures.validation`)."""
    plot_backtest(table, path, how, SHOWN)


def add_overrides(layer: dict[str, Value], overrides: Mapping[str, Value] | None, why: str) -> None:
    """Add ``--set`` values to a history run's values, refusing one that the run sets itself.

    Parameters
    ----------
    layer : dict
        The values the run sets (history's drivers and years, its switches), updated in place.
    overrides : mapping, optional
        The user's values [each parameter's units].
    why : str
        What sets a parameter of ``layer``, for the message.

    Raises
    ------
    InputError
        If an override names a parameter of ``layer``.
    """
    clash = sorted(set(overrides or {}) & set(layer))
    if clash:
        raise InputError(f"--set {clash[0]}: {why}; leave it out of --set")
    layer.update(overrides or {})


def write_backtest(
    out_dir: Path,
    start: int,
    end: int,
    yields: str,
    overrides: Mapping[str, Value] | None = None,
) -> pd.DataFrame:
    """Run a backtest and write ``backtest.csv`` and ``backtest.png`` into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing and locked while the files are written.
    start, end : int
        First and last fiscal years [year].
    yields : str
        ``"historical"`` or ``"endogenous"``.
    overrides : mapping, optional
        Parameter values set on the run (see :func:`prepare_backtest`), named in the chart.

    Returns
    -------
    pandas.DataFrame
        The comparison (see :func:`compare`).
    """
    from debtloops.io import atomic_file, output_lock

    prepared = prepare_backtest(start, end, yields, overrides)
    table = compare(execute(prepared), start, end)
    label = f"{yields} 10-year yield"
    if overrides:
        label += ", " + ", ".join(f"{name} = {value}" for name, value in overrides.items())
    with output_lock(out_dir):
        table_name, chart_name = OUTPUT_NAMES
        atomic_file(out_dir / table_name, lambda path: table.to_csv(path, index=False))
        atomic_file(out_dir / chart_name, lambda path: plot(table, path, label))
    return table


def format_backtest(table: pd.DataFrame) -> str:
    """Format the comparison for printing: a row per fiscal year, model beside actual."""
    wide = table.pivot(index="year", columns="variable", values=["model", "actual"])
    columns = [name for name in SHOWN if name in wide["model"].columns]
    shown = pd.DataFrame(index=wide.index)
    for name in columns:
        shown[f"{name} model"] = wide["model"][name]
        shown[f"{name} actual"] = wide["actual"][name]
    return shown.round(2).to_string()
