"""Simlin as a second engine: runs and unit check.

Simlin (the ``pysimlin`` package) reads ``models/treasury_dumping.mdl`` itself; nothing here
restates an equation, and the .mdl is never changed: every edit below is made to the in-memory
project that :func:`simlin.load` returns.

Names
    Simlin's canonical identifiers are the snake_case names pysd uses (``debt_held_by_public``),
    so run results keep those column names; links and loops are mapped back to the .mdl names
    through pysd's ``Real Name`` table (:func:`debtloops.model.engine.describe`). An identifier
    missing from that table is an error, not something dropped quietly.

Runs (:func:`simulate`)
    Constants are Simlin overrides (``Model.run(overrides=...)``, which also re-evaluates the
    stocks' initial values). The controls become the project's sim specs (start, stop, dt, save
    step). A driver given as a year -> value series becomes, in the in-memory copy, a graphical
    function of ``TIME`` on that variable (``kind="continuous"``: linear interpolation between the
    points, held flat beyond the first and last), which is what pysd does with a pandas Series.

Unit check (:func:`unit_issues`)
    ``Model.check_units()`` reports only unit *definition* errors; unit *mismatches* arrive as
    warnings among the project's errors (what ``Model.check()`` prints). Both are collected.

Loop dominance
    Simlin's link polarities and its Loops That Matter scores are in
    :mod:`debtloops.loops.dominance`, which uses :func:`prepared_model`, :func:`synthesised_flows`
    and the name maps :func:`mdl_name` and :func:`simlin_ident` from here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import simlin
from simlin.errors import ErrorCode, ErrorKind, UnitErrorKind

from debtloops.errors import InputError, unknown_name
from debtloops.model import engine as model_module
from debtloops.model.parameters import CONTROLS, Value
from debtloops.paths import MODEL_FILE

SIMLIN_VERSION = simlin.__version__
#: Simlin's time builtins, which its results carry beside the model's variables.
_BUILTINS = frozenset({"time", "dt", "initial_time", "final_time", "saveper", "time_step"})
_UNIT_CODES = frozenset(
    {
        ErrorCode.UNIT_DEFINITION_ERRORS,
        ErrorCode.UNIT_MISMATCH,
        ErrorCode.NO_APP_IN_UNITS,
        ErrorCode.NO_SUBSCRIPT_IN_UNITS,
        ErrorCode.NO_IF_IN_UNITS,
        ErrorCode.NO_UNARY_OP_IN_UNITS,
        ErrorCode.BAD_BINARY_OP_IN_UNITS,
        ErrorCode.NO_CONST_IN_UNITS,
        ErrorCode.DUPLICATE_UNIT,
    }
)


@functools.cache
def _mdl_names() -> dict[str, str]:
    """Return .mdl names by Simlin identifier (pysd's names, which Simlin's idents equal)."""
    info = model_module.describe(model_module.load())
    return {py: real for py, real in info.real_names.items() if py not in CONTROLS}


def mdl_name(ident: str) -> str:
    """Return the .mdl name of a Simlin identifier, or raise KeyError if it has none."""
    names = _mdl_names()
    if ident not in names:
        raise KeyError(f"Simlin variable '{ident}' has no .mdl name in pysd's translation")
    return names[ident]


@functools.cache
def _idents() -> dict[str, str]:
    """Return Simlin identifiers by .mdl name."""
    return {real: ident for ident, real in _mdl_names().items()}


def simlin_ident(name: str) -> str:
    """Return the Simlin identifier of a .mdl variable, or raise InputError naming close ones."""
    idents = _idents()
    if name not in idents:
        raise unknown_name("variable", name, idents)
    return idents[name]


def synthesised_flows(model: simlin.Model) -> dict[str, tuple[str, int]]:
    """Return the flows Simlin adds for stocks integrating an expression: stock and sign by flow.

    A stock whose ``INTEG`` is an expression gets a flow ``<stock>_net_flow`` that the .mdl does not
    name. The sign is +1 for an inflow of the stock, -1 for an outflow.
    """
    names = _mdl_names()
    flows = {f for f in model.get_var_names(simlin.VARTYPE_FLOW) if f not in names}
    stocks = set(model.get_var_names(simlin.VARTYPE_STOCK))
    found: dict[str, tuple[str, int]] = {}
    for link in model.get_links():
        if link.from_var in flows and link.to_var in stocks:
            found[link.from_var] = (link.to_var, -1 if str(link.polarity) == "-" else 1)
    return found


def _graphical_function(series: Mapping[float, float]) -> simlin.GraphicalFunction:
    """Return a lookup of TIME through the points, linear between them and flat beyond."""
    points = sorted((float(x), float(y)) for x, y in series.items())
    if not points:
        raise InputError("a time series needs at least one point")
    xs = tuple(x for x, _ in points)
    ys = tuple(y for _, y in points)
    return simlin.GraphicalFunction(
        y_points=ys,
        x_points=xs,
        kind="continuous",
        x_scale=simlin.GraphicalFunctionScale(min(xs), max(xs)),
        y_scale=simlin.GraphicalFunctionScale(min(ys), max(ys)),
    )


def prepared_model(
    values: Mapping[str, Value], mdl: Path = MODEL_FILE
) -> tuple[simlin.Model, dict[str, float]]:
    """Load the .mdl into memory with the controls and driver series applied.

    Parameters
    ----------
    values : mapping
        Parameter values by pysd name (see :func:`simulate`).
    mdl : Path
        The Vensim model file; it is read, never written.

    Returns
    -------
    tuple
        The in-memory :class:`simlin.Model` and the constant overrides [the parameters' units]
        to pass to ``Model.run`` or ``Model.simulate``.

    Raises
    ------
    InputError
        If a value names no variable of the model, or a series is given for a non-constant.
    """
    model = simlin.load(mdl)
    fields = {
        "start": "initial_time",
        "stop": "final_time",
        "dt": "time_step",
        "save_step": "saveper",
    }
    specs: dict[str, float] = {}
    for field, control in fields.items():
        value = values.get(control)
        if value is not None:
            specs[field] = float(value)  # type: ignore[arg-type]
    if specs and model.project is not None:
        model.project.set_sim_specs(**specs)
    known = set(model.get_var_names())
    overrides: dict[str, float] = {}
    series: dict[str, Mapping[float, float]] = {}
    for name, value in values.items():
        if name in CONTROLS:
            continue
        if name not in known:
            raise unknown_name("parameter", name, known)
        if isinstance(value, Mapping):
            series[name] = value
        else:
            overrides[name] = float(value)
    if series:
        with model.edit() as (current, patch):
            for name, points in series.items():
                variable = current[name]
                if not isinstance(variable, simlin.Aux):
                    raise InputError(f"'{name}' is not a constant; it cannot take a time series")
                patch.upsert(
                    dataclasses.replace(
                        variable, equation="TIME", graphical_function=_graphical_function(points)
                    )
                )
    return model, overrides


class Simulator:
    """The model loaded once with a run's time axis and driver series, to run with new constants.

    Loading the .mdl and applying the series takes about 20 ms; a run of the loaded model about
    2 ms, which is what the explorer needs to follow a slider.

    Parameters
    ----------
    values : mapping
        A full set of parameter values, as for :func:`simulate`.
    mdl : Path
        The Vensim model file; it is read, never written.

    Raises
    ------
    InputError
        If a value names no variable of the model, or a series is given for a non-constant.
    """

    def __init__(self, values: Mapping[str, Value], mdl: Path = MODEL_FILE) -> None:
        self._model, self._constants = prepared_model(values, mdl)

    def run(self, constants: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Run the loaded model, with ``constants`` [their units] replacing the values it holds.

        Returns
        -------
        pandas.DataFrame
            As :func:`simulate` returns.

        Raises
        ------
        InputError
            If a constant names no constant of the model (a driver given as a series included).
        """
        for name in constants or {}:
            if name not in self._constants:
                raise unknown_name("constant", name, self._constants)
        overrides = {**self._constants, **{k: float(v) for k, v in (constants or {}).items()}}
        frame = self._model.run(overrides=overrides, analyze_loops=False).results
        columns = [name for name in frame.columns if name not in _BUILTINS]
        frame = frame[columns].copy()
        frame.index = pd.Index(frame.index.to_numpy(dtype=float), name="time")
        return frame


def simulate(values: Mapping[str, Value], mdl: Path = MODEL_FILE) -> pd.DataFrame:
    """Run the model in Simlin with a full set of parameter values.

    Parameters
    ----------
    values : mapping
        Parameter values by pysd name, as in ``debtloops.model.run.prepare(name).values``: numbers
        [the parameter's units], or year [year] -> value mappings for drivers given as time
        series; the controls ``initial_time``, ``final_time``, ``time_step`` and ``saveper``
        [year] set the run's time axis.
    mdl : Path
        The Vensim model file; it is read, never written.

    Returns
    -------
    pandas.DataFrame
        One row per saved step (index ``time`` [year]), one column per model variable under its
        pysd name, in the .mdl's units.

    Raises
    ------
    InputError
        If a value names no variable of the model, or a series is given for a non-constant.
    """
    return Simulator(values, mdl).run()


def unit_issues(mdl: Path = MODEL_FILE) -> list[str]:
    """Return Simlin's unit problems with the .mdl.

    Parameters
    ----------
    mdl : Path
        The Vensim model file.

    Returns
    -------
    list of str
        ``"variable: problem"`` for each unit definition error (``Model.check_units()``) and each
        unit warning among the project's errors (those ``Model.check()`` lists); empty when the
        units are consistent.
    """
    model = simlin.load(mdl)
    found: list[str] = [f"{issue.variable}: {issue.message}" for issue in model.check_units()]
    project = model.project
    details = project.get_errors() if project is not None else []
    for detail in details:
        is_unit = (
            detail.kind == ErrorKind.UNITS
            or detail.unit_error_kind != UnitErrorKind.NOT_APPLICABLE
            or detail.code in _UNIT_CODES
        )
        if is_unit:
            found.append(f"{detail.variable_name or '(model)'}: {detail.details or detail.message}")
    return list(dict.fromkeys(found))
