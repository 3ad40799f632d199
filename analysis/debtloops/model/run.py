"""Run scenarios: validate every input first, then simulate, check and label the results.

This is the Python entry point for notebooks::

    import debtloops
    ds = debtloops.run_scenarios(["baseline", "article"], overrides={"term_premium_shock": 0.008})
    ds["market_yield"].sel(scenario="article") - ds["market_yield"].sel(scenario="baseline")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pysd
import xarray as xr

from debtloops.cf import CONVENTIONS, fiscal_dates
from debtloops.errors import InputError, SimulationError
from debtloops.model import data, engine
from debtloops.model.contract import display_units, value_problems
from debtloops.model.parameters import CONTROLS, ParameterTable, Value, load_parameters, validate
from debtloops.model.scenarios import REFERENCE, Scenario, load_scenario
from debtloops.paths import MODEL_FILE, SHORT_HASH, model_hash
from debtloops.provenance import package_version, provenance_attrs

#: Prefix of the attributes that hold one parameter's value each (``param_japan_sale_amount``).
PARAM_PREFIX = "param_"
#: Significant digits of a driver's values in its ``param_`` text (exact values: ``parameters``).
ATTRIBUTE_DIGITS = 12
TIME_CONVENTION = (
    "time is the decimal fiscal year [year]: 2025.0 is the end of fiscal year 2025, 30 September "
    "2025, and 2025.25 is a quarter of the following fiscal year's days later. The coordinate date "
    "holds the calendar day in which each time falls."
)
REFERENCES = (
    "Every parameter's value, units, range and source: models/parameters.toml of the debtloops "
    "project (the param_* attributes hold the values of this run); the data: models/data/*.md; "
    "the model's feedback loops: models/README.md; the equations: models/treasury_dumping.mdl."
)


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
    vintage : Vintage or None
        The CBO vintage the run is on, or None for a run not on CBO's data.
    """

    scenario: Scenario
    values: dict[str, Value]
    drivers: frozenset[str]
    vintage: data.Vintage | None = None

    def constant(self, name: str) -> float:
        """Return a parameter that holds one number, such as ``initial_time`` [its units].

        Raises
        ------
        TypeError
            If the parameter holds a time series instead.
        """
        value = self.values[name]
        if isinstance(value, Mapping):
            raise TypeError(f"{name} holds a time series, not one number")
        return float(value)


def prepare(
    name: str,
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
    table: ParameterTable | None = None,
    cbo: str | Path | None = None,
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
    cbo : str or Path, optional
        The CBO vintage, a shipped name or a folder (:func:`debtloops.model.data.vintage`); by
        default the one the scenario's chain names, else the default one. Only for a scenario
        on CBO's data (``data = "cbo"`` in its chain).

    Returns
    -------
    PreparedRun
        The scenario, its validated values and its vintage.

    Raises
    ------
    InputError
        On an unknown scenario, parameter or vintage, an invalid value or vintage, or ``cbo``
        given for a scenario not on CBO's data.
    """
    table = table or load_parameters()
    scenario = load_scenario(name)
    merged: dict[str, Value] = dict(scenario.overrides)
    merged.update(overrides or {})
    if final_time is not None:
        merged["final_time"] = final_time
    found = None
    if scenario.data == "cbo":
        found = data.vintage(cbo or scenario.cbo or data.DEFAULT_VINTAGE)
    elif cbo is not None:
        raise InputError(
            f"scenario '{scenario.name}' is not on CBO's data (no data = \"cbo\" in its chain), "
            'so --cbo does not apply to it; build it on base = "baseline"'
        )
    try:
        values = validate(table, {**data_layers(scenario, merged, table, found), **merged})
    except InputError as error:
        raise InputError(f"scenario '{scenario.name}': {error}") from None
    drivers = frozenset(p.name for p in table.of_kind("driver"))
    return PreparedRun(scenario=scenario, values=values, drivers=drivers, vintage=found)


def reference_for(
    run: PreparedRun,
    overrides: Mapping[str, Value] | None = None,
    table: ParameterTable | None = None,
) -> PreparedRun:
    """Prepare the baseline a scenario is compared with: on its CBO vintage, over its years.

    Parameters
    ----------
    run : PreparedRun
        The prepared scenario.
    overrides : mapping, optional
        Values set on every run (``--set``), applied to the baseline too.
    table : ParameterTable, optional
        The parameter table; the project's own by default.

    Returns
    -------
    PreparedRun
        The reference scenario (``baseline``) with the scenario's first and last years [year]
        and vintage.
    """
    span = {t: run.values[t] for t in ("initial_time", "final_time")}
    found = run.vintage
    choice = None if found is None else found.name if found.shipped else found.folder
    return prepare(REFERENCE, {**(overrides or {}), **span}, None, table, choice)


def data_layers(
    scenario: Scenario,
    merged: Mapping[str, Value],
    table: ParameterTable,
    vintage: data.Vintage | None = None,
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
    vintage : Vintage, optional
        The CBO vintage of a scenario on CBO's data; the default one if None. Its start year is
        the run's unless ``merged`` sets ``initial_time``.

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
    if scenario.data == "cbo":
        vintage = vintage or data.vintage()
        default_start = float(vintage.start_year)
    start = merged.get("initial_time", default_start)
    if isinstance(start, Mapping):
        raise InputError("initial_time is a constant, not a driver: give one number")
    start = table["initial_time"].check(start)
    layers: dict[str, Value] = {}
    if start != table["initial_time"].value:
        layers.update(data.initial_state(start))  # type: ignore[arg-type]
    if scenario.data is not None:
        defaults = {p.name: p.value for p in table.values()}
        where = vintage.folder if vintage is not None and not vintage.shipped else None
        choice = where or (vintage.name if vintage is not None else None)
        layers.update(data.layer(scenario.data, start, defaults, choice))  # type: ignore[arg-type]
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


def _number_text(number: float) -> str:
    """Write a number in the fewest digits that read back exactly (``2026``, ``2025.9999``)."""
    return np.format_float_positional(float(number), trim="-")


def _json_value(value: Value) -> float | dict[str, float]:
    if isinstance(value, Mapping):
        return {_number_text(year): float(v) for year, v in value.items()}
    return float(value)


def _attribute_value(value: Value) -> float | str:
    """Return a parameter's value as a netCDF attribute: a number, or ``year: value, ...`` text."""
    if isinstance(value, Mapping):
        return ", ".join(
            f"{_number_text(year)}: {float(v):.{ATTRIBUTE_DIGITS}g}" for year, v in value.items()
        )
    return float(value)


def convention_attrs(run: PreparedRun) -> dict[str, str | float]:
    """Return a run's global attributes after the CF conventions, and its parameter values.

    Parameters
    ----------
    run : PreparedRun
        What was run.

    Returns
    -------
    dict
        ``Conventions``, ``title``, ``history``, ``source``, ``references``, ``comment`` (the time
        convention), and ``param_<name>`` for every parameter: a number in the parameter's units,
        or ``year: value, ...`` text for a driver given as a time series.
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    short = model_hash(MODEL_FILE)[:SHORT_HASH]
    version = package_version()
    attrs: dict[str, str | float] = {
        "Conventions": CONVENTIONS,
        "title": f"debtloops projection: {run.scenario.name}",
        "history": f"{stamp} debtloops {version}: scenario {run.scenario.name} simulated",
        "source": f"debtloops {version}, system-dynamics model {MODEL_FILE.name} ({short}), "
        f"simulated with pysd {pysd.__version__}",
        "references": REFERENCES,
        "comment": TIME_CONVENTION,
    }
    for name, value in run.values.items():
        attrs[f"{PARAM_PREFIX}{name}"] = _attribute_value(value)
    return attrs


def vintage_attrs(vintage: data.Vintage | None) -> dict[str, str]:
    """Return the attributes that record a run's CBO vintage (empty for a run not on CBO's data).

    ``cbo_vintage`` is the vintage's name, ``cbo_vintage_title`` its publications and
    ``cbo_vintage_sha256`` the SHA-256 of its ``projections.csv``; ``cbo_vintage_source`` is
    ``shipped`` or the folder of a user's own vintage.
    """
    if vintage is None:
        return {}
    return {
        "cbo_vintage": vintage.name,
        "cbo_vintage_title": vintage.title,
        "cbo_vintage_sha256": data.vintage_digest(vintage),
        "cbo_vintage_source": "shipped" if vintage.shipped else str(vintage.folder),
    }


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
        Every variable that changes over time (and every driver) over ``time`` [year], with the
        calendar date of each time as the coordinate ``date`` (:func:`fiscal_dates`); the global
        attributes of :func:`convention_attrs`, the scenario, the parameters as JSON
        (``parameters``) and the provenance.
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
    times = frame.index.to_numpy(dtype=float)
    time = xr.DataArray(
        times,
        dims="time",
        attrs={"units": "year", "long_name": "decimal fiscal year (2025.0 = 30 September 2025)"},
    )
    date = xr.DataArray(
        fiscal_dates(times),
        dims="time",
        attrs={"standard_name": "time", "long_name": "calendar date of the fiscal-year time"},
    )
    attrs = {
        **convention_attrs(run),
        **vintage_attrs(run.vintage),
        "scenario": run.scenario.name,
        "scenario_chain": " -> ".join(run.scenario.chain),
        "scenario_text": run.scenario.text,
        "parameters": json.dumps({k: _json_value(v) for k, v in run.values.items()}),
        **provenance_attrs(),
    }
    return xr.Dataset(data, coords={"time": time, "date": date}, attrs=attrs)


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
    cbo: str | Path | None = None,
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
    cbo : str or Path, optional
        The CBO vintage, a shipped name or a folder (see :func:`prepare`).

    Returns
    -------
    xarray.Dataset
        The results over ``time`` [year], with units, long names and provenance.
    """
    return execute(prepare(name, overrides, final_time, cbo=cbo))


def run_scenarios(
    names: Sequence[str],
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
    cbo: str | Path | None = None,
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
    cbo : str or Path, optional
        The CBO vintage of every scenario on CBO's data (see :func:`prepare`).

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario`` x ``time``; per-scenario provenance is in each run's attributes and
        is dropped here, except the scenario texts, kept as the ``scenario_text`` variable; an
        attribute the runs do not share (a CBO vintage, say) is dropped too.
    """
    if not names:
        raise InputError("no scenario given")
    table = load_parameters()
    prepared = [prepare(name, overrides, final_time, table, cbo) for name in names]
    runs = [execute(run) for run in prepared]
    per_run = ("scenario", "title", "history", "scenario_chain", "scenario_text", "parameters")
    stacked = xr.concat(
        [run.drop_attrs(deep=False) for run in runs], dim=pd.Index(list(names), name="scenario")
    )
    for key in ("scenario_text", "parameters"):
        stacked[key] = xr.DataArray([run.attrs[key] for run in runs], dims="scenario")
    shared = {k for k in runs[0].attrs if all(run.attrs.get(k) == runs[0].attrs[k] for run in runs)}
    stacked.attrs = {
        k: v
        for k, v in runs[0].attrs.items()
        if k not in per_run and not k.startswith(PARAM_PREFIX) and k in shared
    }
    return stacked
