"""What ``debtloops run`` writes: each scenario's results and dashboard, and the headline table.

The headlines are the outcomes printed after a run, each scenario against the baseline, each
defined once in :data:`debtloops.model.outcomes.OUTCOMES` (:data:`HEADLINE_OUTCOMES` names them).
``headlines.csv`` keeps the rows of scenarios written earlier into the same folder: a run replaces
the rows of its own scenarios only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.figures.dashboard import plot_dashboard
from debtloops.io import atomic_file, atomic_folder, check_targets, output_lock
from debtloops.model.outcomes import horizon_time, value
from debtloops.units import BASIS_POINTS

#: Decimals of the headline table, on the terminal and in ``headlines.csv``.
HEADLINE_DECIMALS = 1
#: The headline table of every scenario written into an output folder.
HEADLINES_NAME = "headlines.csv"
#: The last column of ``headlines.csv``: the CBO vintage of the baseline each row's extras are
#: measured against.
VINTAGE_COLUMN = "cbo_vintage"
#: Each headline's outcome: a field of :class:`Headline` -> its name in the one registry,
#: :data:`debtloops.model.outcomes.OUTCOMES`, which defines it.
HEADLINE_OUTCOMES = {
    "debt_to_gdp_horizon": "debt_to_fy_gdp_horizon",
    "debt_to_gdp_final": "debt_to_fy_gdp_final",
    "peak_market_yield": "peak_market_yield",
    "peak_extra_yield": "peak_extra_yield",
    "extra_interest": "extra_interest_to_horizon",
    "dollar_trough": "dollar_trough",
    "real_gdp_horizon": "real_gdp_vs_baseline_horizon",
    "peak_extra_inflation": "peak_extra_inflation",
}


@dataclass(frozen=True)
class Headline:
    """The outcomes printed after a run.

    Attributes
    ----------
    scenario : str
        The scenario's name.
    start_year : float
        The first year of the run [year].
    horizon_year, final_year : float
        The year :data:`~debtloops.model.outcomes.HEADLINE_HORIZON` years after the start (or
        the last year, if the run is shorter), and the last year [year].
    debt_to_gdp_horizon, debt_to_gdp_final : float
        Debt held by the public at those times over the GDP of the year up to them, CBO's ratio
        (:func:`debtloops.model.outcomes.debt_to_year_gdp_of_runs`) [1].
    peak_market_yield : float
        Highest 10-year market yield of the run [1/year].
    peak_extra_yield : float
        Largest excess of the market yield over the baseline's at the same time [1/year].
    extra_interest : float
        Interest paid from the start to the horizon, less the baseline's [billion USD].
    dollar_trough : float
        Lowest value of the dollar index [index].
    real_gdp_horizon : float
        Real GDP against the baseline's in the horizon year, less the baseline's own [1].
    peak_extra_inflation : float
        Largest excess of inflation over the baseline's at the same time [1/year].
    cbo_vintage : str
        The CBO vintage of the baseline that the extras are measured against (the scenario's own,
        :func:`debtloops.model.run.reference_for`): a shipped vintage's name, or a user's
        vintage's name and folder; empty for runs that record none.
    """

    scenario: str
    start_year: float
    horizon_year: float
    final_year: float
    debt_to_gdp_horizon: float
    debt_to_gdp_final: float
    peak_market_yield: float
    peak_extra_yield: float
    extra_interest: float
    dollar_trough: float
    real_gdp_horizon: float
    peak_extra_inflation: float
    cbo_vintage: str = ""


def headline(name: str, scenario: xr.Dataset, baseline: xr.Dataset) -> Headline:
    """Compute a scenario's headline outcomes against the baseline.

    Parameters
    ----------
    name : str
        The scenario's name.
    scenario, baseline : xarray.Dataset
        The two runs, over the same times.

    Returns
    -------
    Headline
        The outcomes.
    """
    values = {
        field: float(value(outcome, scenario, baseline))
        for field, outcome in HEADLINE_OUTCOMES.items()
    }
    return Headline(
        scenario=name,
        start_year=float(scenario["time"][0]),
        horizon_year=horizon_time(scenario),
        final_year=float(scenario["time"][-1]),
        cbo_vintage=vintage_label(baseline.attrs),
        **values,
    )


def vintage_label(attrs: Mapping[str, object]) -> str:
    """Return the CBO vintage a run's attributes record: a name, with a user's folder after it."""
    name = str(attrs.get("cbo_vintage", ""))
    source = str(attrs.get("cbo_vintage_source", "shipped"))
    return name if not name or source == "shipped" else f"{name} ({source})"


def headline_table(rows: Sequence[Headline]) -> pd.DataFrame:
    """Return the headlines as a table with readable column names and units."""
    first = rows[0]
    start = first.start_year
    columns = {
        f"debt/GDP {first.horizon_year:.0f} [% of FY GDP]": [
            100 * r.debt_to_gdp_horizon for r in rows
        ],
        f"debt/GDP {first.final_year:.0f} [% of FY GDP]": [100 * r.debt_to_gdp_final for r in rows],
        "peak 10y yield [%]": [100 * r.peak_market_yield for r in rows],
        "peak extra yield [bp]": [BASIS_POINTS * r.peak_extra_yield for r in rows],
        f"extra interest {start:.0f}-{first.horizon_year:.0f} [$bn]": [
            r.extra_interest for r in rows
        ],
        "dollar trough [index]": [r.dollar_trough for r in rows],
        f"real GDP {first.horizon_year:.0f} vs baseline [%]": [
            100 * r.real_gdp_horizon for r in rows
        ],
        "peak extra inflation [pp]": [100 * r.peak_extra_inflation for r in rows],
    }
    return pd.DataFrame(columns, index=pd.Index([r.scenario for r in rows], name="scenario"))


def format_headlines(rows: Sequence[Headline]) -> str:
    """Return the headline table as aligned text for the terminal."""
    return headline_table(rows).to_string(float_format=lambda x: f"{x:,.{HEADLINE_DECIMALS}f}")


def merged_headlines(existing: Path, rows: Sequence[Headline]) -> str:
    """Return ``headlines.csv``'s text with ``rows`` replacing or joining those in ``existing``.

    The table is rounded as printed (no thousands separators), with a last column the terminal
    does not show, :data:`VINTAGE_COLUMN`: the CBO vintage of each row's baseline.

    Rows of other scenarios are kept as they are, in their order; this run's scenarios replace
    their rows in place, and new ones follow. Columns are the new table's, then any other column
    of the old file (a run of another length names its years differently), empty where a row
    has no value.

    Parameters
    ----------
    existing : Path
        The folder's current ``headlines.csv``, if any.
    rows : sequence of Headline
        This run's headlines.

    Returns
    -------
    str
        The merged table as CSV.
    """
    table = headline_table(rows)
    table[VINTAGE_COLUMN] = [row.cbo_vintage for row in rows]  # what the extras compare with
    text = table.to_csv(float_format=f"%.{HEADLINE_DECIMALS}f")
    fresh = list(csv.DictReader(io.StringIO(text)))
    columns = list(fresh[0])
    try:
        with open(existing, encoding="utf-8", newline="") as stream:
            old = [row for row in csv.DictReader(stream) if row.get(columns[0])]
    except (FileNotFoundError, UnicodeDecodeError, csv.Error):
        old = []
    by_name = {row[columns[0]]: row for row in fresh}
    merged = [by_name.pop(row[columns[0]], row) for row in old] + list(by_name.values())
    for row in old:
        columns += [name for name in row if name is not None and name not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, restval="", extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(merged)
    return buffer.getvalue()


def results_table(run: xr.Dataset) -> pd.DataFrame:
    """Return a run as a table for ``results.csv``: one row per time, units in the headers.

    Parameters
    ----------
    run : xarray.Dataset
        One scenario's results over ``time``, as :func:`debtloops.model.run.to_dataset` labels it.

    Returns
    -------
    pandas.DataFrame
        Index ``time [year]``, then the column ``date`` (the calendar date, ``YYYY-MM-DD``), then
        one column per variable named ``<name> [<units>]``, e.g. ``debt_to_gdp [1]``.
    """
    table = run.drop_vars("date", errors="ignore").to_dataframe()
    table.columns = [f"{name} [{run[name].attrs.get('units', '1')}]" for name in table.columns]
    table.index.name = f"time [{run['time'].attrs.get('units', 'year')}]"
    if "date" in run.coords:
        table.insert(0, "date", pd.DatetimeIndex(run["date"].to_numpy()).strftime("%Y-%m-%d"))
    return table


def write_results(
    out_dir: Path, runs: dict[str, xr.Dataset], baseline: xr.Dataset | Mapping[str, xr.Dataset]
) -> list[Headline]:
    """Write every scenario's results and dashboard, and the headline table.

    Each scenario goes to ``out_dir/<scenario>/`` (``results.nc``, ``results.csv``,
    ``dashboard.png``), written in a temporary folder and renamed into place; ``headlines.csv`` goes
    to ``out_dir``, keeping the rows of other scenarios written there (:func:`merged_headlines`).
    Every target must be absent or debtloops' own (:func:`debtloops.io.check_targets`).

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing, and locked (:func:`output_lock`) from the moment
        the first scenario's folder is swapped in until ``headlines.csv`` is merged, in one hold,
        but not while results are written.
    runs : dict
        The results by scenario name.
    baseline : xarray.Dataset or mapping
        The reference run for the dashboards and headlines, or each scenario's by its name: the
        baseline on the scenario's CBO vintage over its years.

    Returns
    -------
    list of Headline
        One per scenario, in the order given.
    """
    baselines = {name: baseline for name in runs} if isinstance(baseline, xr.Dataset) else baseline
    rows = [headline(name, run, baselines[name]) for name, run in runs.items()]
    check_targets(out_dir, [*runs, HEADLINES_NAME])
    with ExitStack() as staged:
        for name, run in runs.items():  # written unlocked, each in a folder of its own
            folder = staged.enter_context(atomic_folder(out_dir / name))
            write_netcdf(run, folder / "results.nc", "debtloops run wrote results.nc")
            results_table(run).to_csv(folder / "results.csv")
            plot_dashboard(run, baselines[name], folder / "dashboard.png")
        # Every folder swapped in and the headlines merged under one hold (the lock is
        # re-entrant), so a second writer into the same folder cannot come between them: the
        # headlines always describe the results beside them, and no writer's rows are lost.
        with output_lock(out_dir):
            staged.close()
            text = merged_headlines(out_dir / HEADLINES_NAME, rows)
            atomic_file(
                out_dir / HEADLINES_NAME, lambda path: path.write_text(text, encoding="utf-8")
            )
    return rows
