"""The parameter table: every constant of the model with its value, units, range and source.

``models/parameters.toml`` is the one place where constants are described. The table validates
itself when it is loaded, and :func:`validate` checks a full set of parameter values (defaults,
scenario and command-line overrides) before anything runs.

A value is either a number or, for the exogenous drivers (``kind = "driver"``), a time series: a
mapping from year to value that pysd interpolates linearly and holds flat beyond its ends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from debtloops import schema
from debtloops.errors import InputError, exact, unknown_name
from debtloops.model.holders import FOREIGN, HOLDINGS_WORDS
from debtloops.paths import PARAMETER_TABLE

KINDS = schema.KINDS
#: Parameters whose valid values depend on each other; :func:`validate` checks them together.
CROSS_CHECKED = (
    "initial_time",
    "final_time",
    "time_step",
    "saveper",
    *(holder.sale_amount for holder in FOREIGN),
    *(holder.initial_holdings for holder in FOREIGN),
    "initial_total_foreign_holdings",
    "initial_fed_holdings",
    "initial_debt_held_by_public",
)
CONTROLS = ("initial_time", "final_time", "time_step", "saveper")
#: Kinds of parameter that are never swept or estimated: simulation settings and unit definitions.
FIXED_KINDS = ("control", "definition")

#: The years a driver's time series may give [year]: the runs span FY2000 (the historical data's
#: first year) to 2200 (``final_time``'s largest valid value), and a series may reach a century
#: beyond either end to anchor its interpolation.
SERIES_YEARS = (1900.0, 2300.0)
#: A time series: year [year] -> value [the parameter's units]; read with :func:`series_from_pairs`,
#: which refuses a year given twice and sorts the years.
TimeSeries = Mapping[float, float]
Value = float | TimeSeries


class Parameter(schema.ParameterEntry):
    """One constant of the model: its entry of the table and its name.

    Attributes
    ----------
    name : str
        The pysd name of the .mdl constant (snake_case).
    value : float
        The default [units].
    units : str
        The .mdl units.
    low, high : float
        Plausible range [units], the default bounds of sensitivity sweeps (``range``).
    valid_min, valid_max : float
        Values outside these bounds are refused [units] (``valid``, by default ``range``).
    kind : str
        One of :data:`KINDS`.
    source : str
        Where the value comes from.
    """

    name: str

    @property
    def low(self) -> float:
        """The range's low end [units]."""
        return self.range[0]

    @property
    def high(self) -> float:
        """The range's high end [units]."""
        return self.range[1]

    @property
    def valid_min(self) -> float:
        """The lowest valid value [units]."""
        return (self.valid or self.range)[0]

    @property
    def valid_max(self) -> float:
        """The highest valid value [units]."""
        return (self.valid or self.range)[1]

    def check(self, value: float) -> float:
        """Return ``value`` as a float if it is finite and within the valid bounds.

        Parameters
        ----------
        value : float
            A proposed value [units].

        Returns
        -------
        float
            The value.

        Raises
        ------
        InputError
            If the value is not a finite number or lies outside ``[valid_min, valid_max]``.
        """
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{self.name}: '{value}' is not a number") from None
        if not math.isfinite(number):
            raise InputError(f"{self.name}: {number} is not a finite number")
        if not self.valid_min <= number <= self.valid_max:
            nearest = min(max(number, self.valid_min), self.valid_max)
            raise InputError(
                f"{self.name} = {number:g} {self.units} is outside its valid range "
                f"[{self.valid_min:g}, {self.valid_max:g}]; nearest valid value: {exact(nearest)}"
            )
        return number


class ParameterTable(Mapping[str, Parameter]):
    """The parameter table, read from ``models/parameters.toml``; it validates itself on load."""

    def __init__(self, parameters: Mapping[str, Parameter]) -> None:
        self._parameters = MappingProxyType(dict(parameters))

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise unknown_name("parameter", name, self._parameters) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __contains__(self, name: object) -> bool:
        return name in self._parameters

    def defaults(self) -> dict[str, Value]:
        """Return every parameter's default value, by name."""
        return {name: p.value for name, p in self._parameters.items()}

    def of_kind(self, *kinds: str) -> list[Parameter]:
        """Return the parameters of the given kinds, in table order."""
        return [p for p in self._parameters.values() if p.kind in kinds]

    def free(self, name: str, use: str) -> Parameter:
        """Return a parameter that may be varied; ``use`` says how, e.g. ``"estimated"``.

        Raises
        ------
        InputError
            On an unknown name (with the nearest) or a parameter of a kind in :data:`FIXED_KINDS`.
        """
        param = self[name]
        if param.kind in FIXED_KINDS:
            raise InputError(f"{name} is a parameter of kind '{param.kind}' and cannot be {use}")
        return param


def load_parameters(path: Path = PARAMETER_TABLE) -> ParameterTable:
    """Read and check the parameter table.

    Parameters
    ----------
    path : Path
        The TOML table; the project's own by default.

    Returns
    -------
    ParameterTable
        The checked table.

    Raises
    ------
    InputError
        If the file cannot be read, or an entry does not fit
        :class:`debtloops.schema.ParameterEntry` (a missing field, an unknown kind, a value
        outside its own range).
    """
    table, _, _ = schema.load(path, schema.ParameterTableFile, f"parameter table {path}")
    return ParameterTable(
        {name: Parameter(name=name, **dict(raw)) for name, raw in table.root.items()}
    )


def series_from_pairs(name: str, pairs: Iterable[tuple[object, object]]) -> dict[float, object]:
    """Read a time series from (year, value) pairs, the same way for TOML and for ``--set``.

    Parameters
    ----------
    name : str
        The parameter's name, for messages.
    pairs : iterable of (year, value)
        The entries in the order given; years as numbers or text [year].

    Returns
    -------
    dict
        Value by year, the years as floats in increasing order; the values as given (they are
        checked against the parameter's range by :func:`validate`).

    Raises
    ------
    InputError
        If a year is not a finite number or is given twice (``2030`` and ``2030.0`` are the same
        year).
    """
    series: dict[float, object] = {}
    for year, value in pairs:
        try:
            when = float(year)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"{name}: year '{year}' is not a number") from None
        if not math.isfinite(when):
            raise InputError(f"{name}: year {when} is not a finite number")
        if not SERIES_YEARS[0] <= when <= SERIES_YEARS[1]:
            raise InputError(
                f"{name}: year {when:g} is outside {SERIES_YEARS[0]:g}-{SERIES_YEARS[1]:g}, the "
                "years a time series may give"
            )
        if when in series:
            raise InputError(f"{name}: year {exact(when)} is given twice in the time series")
        series[when] = value
    return dict(sorted(series.items()))


def _check_series(param: Parameter, series: TimeSeries) -> dict[float, float]:
    if param.kind != "driver":
        drivers = "see `debtloops list` for the drivers"
        raise InputError(f"{param.name} is a constant, not a driver: give one number ({drivers})")
    if not series:
        raise InputError(f"{param.name}: the time series is empty")
    checked: dict[float, float] = {}
    for when, value in series_from_pairs(param.name, series.items()).items():
        try:
            checked[when] = param.check(value)  # type: ignore[arg-type]
        except InputError as error:
            raise InputError(f"{error} (in the time series, at year {when:g})") from None
    return checked


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


def _check_controls(values: Mapping[str, float], steps: Parameter) -> None:
    """Check the simulation controls together; ``steps`` is the table's ``time_step``.

    Its valid range holds powers of two above 0 (``tests/test_parameters.py``), and the step has
    passed that range's check already.
    """
    step, low, high = values["time_step"], steps.valid_min, steps.valid_max
    nearest = min(max(2.0 ** round(math.log2(step)), low), high)
    _require(
        math.log2(step).is_integer(),
        f"time_step = {step:g} year must be a power of two from 1/{1 / low:g} to 1/{1 / high:g} "
        f"year; nearest valid value: {exact(nearest)}",
    )
    saveper = values["saveper"]
    ratio = saveper / step
    _require(
        saveper >= step and ratio.is_integer(),
        f"saveper = {saveper:g} year must be a whole multiple of time_step = {step:g}; "
        f"nearest valid value: {exact(max(round(ratio), 1) * step)}",
    )
    # A run saves at least two points, the start and one saving interval later; with fewer the
    # headlines would have no horizon to speak of.
    start, end = values["initial_time"], values["final_time"]
    _require(
        end >= start + saveper,
        f"final_time = {exact(end)} is less than one saving interval (saveper = {saveper:g} year) "
        f"after initial_time = {start:g}; nearest valid value: {exact(start + saveper)}",
    )


def _check_stocks(values: Mapping[str, float], debt_ceiling: float) -> None:
    """Check that the stocks fit together; ``debt_ceiling`` is the debt's largest valid value."""
    for holder in FOREIGN:
        sale, held = values[holder.sale_amount], values[holder.initial_holdings]
        _require(
            sale <= held,
            f"{holder.sale_amount} = {sale:g} billion_USD is more than {holder.name} holds "
            f"({holder.initial_holdings} = {held:g}); nearest valid value: {exact(held)}",
        )
    named = sum(values[holder.initial_holdings] for holder in FOREIGN)
    foreign = values["initial_total_foreign_holdings"]
    _require(
        named <= foreign,
        f"initial_total_foreign_holdings = {foreign:g} is less than {HOLDINGS_WORDS} "
        f"together ({named:g}); nearest valid value: {exact(named)}",
    )
    fed = values["initial_fed_holdings"]
    official = foreign + fed
    debt = values["initial_debt_held_by_public"]
    if official > debt and official > debt_ceiling:  # no debt can hold them: the Fed holds less
        _require(
            False,
            f"initial_fed_holdings = {fed:g} leaves foreign and Fed holdings together "
            f"({official:g}) above initial_debt_held_by_public = {debt:g}, which can be at most "
            f"{debt_ceiling:g}; nearest valid value: {exact(max(debt - foreign, 0.0))}",
        )
    _require(
        official <= debt,
        f"initial_debt_held_by_public = {debt:g} is less than foreign and Fed holdings together "
        f"({official:g}), leaving domestic private holdings negative; nearest valid value: "
        f"{exact(official)}",
    )


_SUGGESTION = re.compile(r"^(?P<name>\w+) = .*nearest valid value: (?P<value>\S+)$", re.S)


def _accepted_suggestion(
    table: ParameterTable, overrides: Mapping[str, Value], error: InputError
) -> InputError:
    """Return ``error`` with a suggested value that the other checks accept too.

    A value outside a parameter's own range is answered with the nearest bound, which a check
    between parameters may refuse in turn (a sale of 100,000 is more than Japan holds): follow
    the suggestions for the same parameter until one is accepted, or another parameter is at
    fault.
    """
    found = _SUGGESTION.match(str(error))
    if found is None:
        return error
    name, value = found["name"], found["value"]
    trial = dict(overrides)
    for _ in range(4):
        trial[name] = float(value)
        try:
            _validate(table, trial)
            break
        except InputError as again:
            further = _SUGGESTION.match(str(again))
            if further is None or further["name"] != name:
                break
            value = further["value"]
    message = str(error)
    return InputError(message[: message.rindex(found["value"])] + value)


def validate(table: ParameterTable, overrides: Mapping[str, Value]) -> dict[str, Value]:
    """Check overrides against the table and return the full, valid set of parameter values.

    Parameters
    ----------
    table : ParameterTable
        The parameter table.
    overrides : mapping of str to number or time series
        Values that replace the defaults, by parameter name.

    Returns
    -------
    dict
        Every parameter's value: numbers as ``float``, time series as ``dict[float, float]``.

    Raises
    ------
    InputError
        On an unknown name, a non-finite or out-of-range value, a time series for a parameter that
        is not a driver, or inconsistent values (a sale larger than the holdings, a time step
        that is not a power of two, a final time before the start). A suggested "nearest valid
        value" is one that the other checks accept too.
    """
    try:
        return _validate(table, overrides)
    except InputError as error:
        raise _accepted_suggestion(table, overrides, error) from None


def _validate(table: ParameterTable, overrides: Mapping[str, Value]) -> dict[str, Value]:
    values: dict[str, Value] = dict(table.defaults())
    final_time = None
    for name, value in overrides.items():
        param = table[name]
        if isinstance(value, Mapping):
            values[name] = _check_series(param, value)
        elif name == "final_time" and _is_finite_number(value):
            # Its own range is checked after the other controls, so that a final time too close
            # to the start is answered with a value that the controls also accept.
            values[name] = final_time = float(value)
        else:
            values[name] = param.check(value)
    constants = {k: v for k, v in values.items() if isinstance(v, float)}
    _check_controls(constants, table["time_step"])
    if final_time is not None:
        table["final_time"].check(final_time)
    _check_stocks(constants, table["initial_debt_held_by_public"].valid_max)
    return values


def _is_finite_number(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
