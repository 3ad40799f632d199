"""Run scenarios: validate every input first, then simulate, check and label the results.

This is the Python entry point for notebooks::

    import debtloops
    ds = debtloops.run_scenarios(["baseline", "article"], overrides={"term_spread": 0.008})
    ds["market_yield"].sel(scenario="article") - ds["market_yield"].sel(scenario="baseline")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import xarray as xr

from debtloops.errors import InputError, SimulationError
from debtloops.model import data, engine
from debtloops.model.contract import display_units, value_problems
from debtloops.model.parameters import CONTROLS, ParameterTable, Value, load_parameters, validate
from debtloops.model.scenarios import Scenario, load_scenario
from debtloops.provenance import provenance_attrs


@dataclass(frozen=True)
class PreparedRun:
    """A scenario with its full, validated set of parameter values, ready to simulate.

    Attributes
    ----------
    scenario : Scenario
        The scenario and its base chain.
    values : dict
        Every parameter's value after the defaults, the scenario chain and the overrides.
    drivers : frozenset of str
        The parameters that are exogenous drivers; results keep their paths.
    """

    scenario: Scenario
    values: dict[str, Value]
    drivers: frozenset[str]


def prepare(
    name: str,
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
    table: ParameterTable | None = None,
) -> PreparedRun:
    """Resolve and validate one scenario's parameters without running anything.

    Parameters
    ----------
    name : str
        The scenario's name, or a path to its ``.toml`` file.
    overrides : mapping, optional
        Values that replace the scenario's, by parameter name (numbers, or year -> value mappings
        for drivers).
    final_time : float, optional
        The last year simulated [year]; the table's ``final_time`` by default.
    table : ParameterTable, optional
        The parameter table; the project's own by default.

    Returns
    -------
    PreparedRun
        The scenario and its validated values.

    Raises
    ------
    InputError
        On an unknown scenario or parameter, or an invalid value.
    """
    table = table or load_parameters()
    scenario = load_scenario(name)
    merged: dict[str, Value] = dict(scenario.overrides)
    merged.update(overrides or {})
    if final_time is not None:
        merged["final_time"] = final_time
    try:
        values = validate(table, {**data_layers(scenario, merged, table), **merged})
    except InputError as error:
        raise InputError(f"scenario '{scenario.name}': {error}") from None
    drivers = frozenset(p.name for p in table.of_kind("driver"))
    return PreparedRun(scenario=scenario, values=values, drivers=drivers)


def data_layers(
    scenario: Scenario, merged: Mapping[str, Value], table: ParameterTable
) -> dict[str, Value]:
    """Return the values that lie under a scenario's own overrides.

    They are the historical initial state when the run starts before the table's start year, then
    the data layer the scenario names: a scenario on CBO's data that starts before FY2025 replays
    history up to FY2025 and follows CBO after.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    merged : mapping
        Its overrides and the caller's, which may set ``initial_time`` [year].
    table : ParameterTable
        The parameter table.

    Returns
    -------
    dict
        Parameter values, to be overridden by ``merged``.

    Raises
    ------
    InputError
        If the start year is not a fiscal year of the historical dataset.
    """
    default_start = table["initial_time"].value
    start = merged.get("initial_time", default_start)
    if isinstance(start, Mapping):
        raise InputError("initial_time is a constant, not a driver: give one number")
    start = table["initial_time"].check(start)
    layers: dict[str, Value] = {}
    if start != default_start:
        layers.update(data.initial_state(start))  # type: ignore[arg-type]
    if scenario.data is not None:
        defaults = {p.name: p.value for p in table.values()}
        layers.update(data.layer(scenario.data, start, defaults))  # type: ignore[arg-type]
    return layers


def check_run(frame: pd.DataFrame) -> None:
    """Stop on the first impossible value of a run.

    Parameters
    ----------
    frame : pandas.DataFrame
        The run, indexed by time [year].

    Raises
    ------
    SimulationError
        Naming the variable and the earliest time at which a value is NaN or infinite, or at which a
        stock that cannot be negative is.
    """
    numeric = frame.select_dtypes(include="number")
    values = {name: numeric[name].to_numpy()[None, :] for name in numeric.columns}
    (problem,) = value_problems(values, numeric.index.to_numpy())
    if problem:
        raise SimulationError(problem)


def _json_value(value: Value) -> float | dict[str, float]:
    if isinstance(value, Mapping):
        return {f"{year:g}": float(v) for year, v in value.items()}
    return float(value)


def to_dataset(frame: pd.DataFrame, run: PreparedRun, info: engine.ModelInfo) -> xr.Dataset:
    """Label a run as an xarray Dataset with units, long names and provenance.

    Parameters
    ----------
    frame : pandas.DataFrame
        The run, as returned by :func:`debtloops.model.engine.simulate`.
    run : PreparedRun
        What was run.
    info : ModelInfo
        The model's units and comments.

    Returns
    -------
    xarray.Dataset
        Every variable that changes over time (and every driver) over ``time`` [year].
    """
    keep = [
        name
        for name in frame.columns
        if name not in CONTROLS and (info.kinds.get(name) != "Constant" or name in run.drivers)
    ]
    data = {}
    for name in keep:
        data[name] = xr.DataArray(
            frame[name].to_numpy(dtype=float),
            dims="time",
            attrs={"units": display_units(info.units[name]), "long_name": info.comments[name]},
        )
    time = xr.DataArray(frame.index.to_numpy(dtype=float), dims="time", attrs={"units": "year"})
    attrs = {
        "title": f"debtloops projection: {run.scenario.name}",
        "scenario": run.scenario.name,
        "scenario_chain": " -> ".join(run.scenario.chain),
        "scenario_text": run.scenario.text,
        "parameters": json.dumps({k: _json_value(v) for k, v in run.values.items()}),
        **provenance_attrs(),
    }
    return xr.Dataset(data, coords={"time": time}, attrs=attrs)


def execute(run: PreparedRun) -> xr.Dataset:
    """Simulate a prepared run, check it and label it.

    Parameters
    ----------
    run : PreparedRun
        The scenario and its validated values.

    Returns
    -------
    xarray.Dataset
        The labelled results.

    Raises
    ------
    SimulationError
        If a value turns NaN or infinite, or a stock that cannot be negative goes negative.
    """
    frame, info = engine.simulate(run.values)
    try:
        check_run(frame)
    except SimulationError as error:
        raise SimulationError(f"scenario '{run.scenario.name}': {error}") from None
    return to_dataset(frame, run, info)


def run_scenario(
    name: str,
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
) -> xr.Dataset:
    """Run one scenario and return its results.

    Parameters
    ----------
    name : str
        The scenario's name, e.g. ``"article"``.
    overrides : mapping, optional
        Parameter values that replace the scenario's (numbers, or year -> value for drivers).
    final_time : float, optional
        The last year simulated [year].

    Returns
    -------
    xarray.Dataset
        The results over ``time`` [year], with units, long names and provenance.
    """
    return execute(prepare(name, overrides, final_time))


def run_scenarios(
    names: Sequence[str],
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
) -> xr.Dataset:
    """Run several scenarios with the same overrides and stack them along ``scenario``.

    Every scenario is validated before the first one runs.

    Parameters
    ----------
    names : sequence of str
        Scenario names.
    overrides : mapping, optional
        Parameter values applied to every scenario.
    final_time : float, optional
        The last year simulated [year].

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario`` x ``time``; per-scenario provenance is in each run's attributes and
        is dropped here, except the scenario texts, kept as the ``scenario_text`` variable.
    """
    if not names:
        raise InputError("no scenario given")
    table = load_parameters()
    prepared = [prepare(name, overrides, final_time, table) for name in names]
    runs = [execute(run) for run in prepared]
    per_run = ("scenario", "title", "scenario_chain", "scenario_text", "parameters")
    stacked = xr.concat(
        [run.drop_attrs(deep=False) for run in runs], dim=pd.Index(list(names), name="scenario")
    )
    for key in ("scenario_text", "parameters"):
        stacked[key] = xr.DataArray([run.attrs[key] for run in runs], dims="scenario")
    stacked.attrs = {k: v for k, v in runs[0].attrs.items() if k not in per_run}
    return stacked
