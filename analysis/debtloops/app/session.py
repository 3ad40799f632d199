"""What the explorer computes, without any web library: controls, fresh runs, headlines, TOML.

An explorer session holds a *base scenario* (a shipped one, ``japan_full`` by default) and the
values the user has moved away from it. The base is prepared once
(:func:`debtloops.model.run.prepare`: defaults, data layer, scenario chain) and loaded once into
Simlin (:class:`debtloops.model.simlin.Simulator`, the same .mdl as pysd, equal to 1e-6). Each
update validates the base's values with the moved ones (:func:`debtloops.model.parameters.validate`,
as ``prepare`` does) and runs the loaded model with the moved constants, in milliseconds. The
reference is the ``baseline`` scenario under the same uncertain parameters (cached, so moving a
sale or a lever costs one run); the headlines are those of :func:`debtloops.outputs.headline`.
:func:`scenario_toml` writes the settings as a scenario file, so ``debtloops run`` reproduces what
the explorer shows.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import xarray as xr

from debtloops.errors import InputError, unknown_name
from debtloops.model import simlin as simlin_engine
from debtloops.model.data import is_vintage_path
from debtloops.model.holders import FOREIGN
from debtloops.model.parameters import ParameterTable, Value, load_parameters, validate
from debtloops.model.run import PreparedRun, check_run, prepare
from debtloops.model.scenarios import NAME_PATTERN, REFERENCE, list_scenarios
from debtloops.outputs import Headline, headline
from debtloops.provenance import git_commit

#: The scenario the explorer opens on.
DEFAULT_BASE = "japan_full"
#: The name of the scenario the explorer's settings make (and of its TOML file), unless renamed.
EXPLORER_SCENARIO = "explorer"
#: The intent the scenario file's header gives, unless the user writes another.
DEFAULT_INTENT = "a what-if explored with `debtloops explore`."
#: Unicode categories written as escapes in a header comment: control characters (which TOML
#: does not allow in comments, a newline would end the comment) and lone surrogates (no UTF-8).
_ESCAPED_CATEGORIES = ("Cc", "Cs")
#: The holders whose sale the explorer shapes, by the name shown: the prefix of their parameters.
HOLDERS: dict[str, str] = {holder.name: holder.key for holder in FOREIGN}
#: The three parameters of a sale, after the holder's prefix: size, first year, length.
SALE_FIELDS = ("sale_amount", "sale_start", "sale_duration")
#: The policy levers shown: the four switches and strengths (docs/model/index.md, policy levers).
LEVERS = (
    "fed_backstop_switch",
    "fed_tightening_strength",
    "fiscal_consolidation_switch",
    "diversification_switch",
)
#: The uncertain parameters shown: those that explain most of the spread of debt/GDP and the peak
#: yield in the Sobol sweep (docs/howto/sweep.md), then the fiscal risk premium.
UNCERTAINTIES = (
    "yield_seeking_sensitivity",
    "portfolio_balance_sensitivity",
    "portfolio_market_depth",
    "flow_effect_sensitivity",
    "gdp_sensitivity_to_real_yield",
    "risk_premium_debt_sensitivity",
)
#: How many past baselines (one per set of uncertain values) are kept.
BASELINE_CACHE = 32


def sale_parameters(holder: str) -> tuple[str, str, str]:
    """Return the amount, start and duration parameters of a holder's sale.

    Parameters
    ----------
    holder : str
        A key of :data:`HOLDERS`, e.g. ``"Japan"``.

    Returns
    -------
    tuple of str
        E.g. ``("japan_sale_amount", "japan_sale_start", "japan_sale_duration")``.

    Raises
    ------
    InputError
        If the holder is not one of :data:`HOLDERS`.
    """
    if holder not in HOLDERS:
        raise unknown_name("holder", holder, HOLDERS)
    prefix = HOLDERS[holder]
    return tuple(f"{prefix}_{field}" for field in SALE_FIELDS)  # type: ignore[return-value]


def base_scenarios() -> list[str]:
    """Return the shipped scenarios a scenario file can name as its ``base``, sorted.

    ``base`` takes a name of letters, digits, ``_`` and ``-`` only
    (:data:`debtloops.model.scenarios.NAME_PATTERN`); a shipped file named otherwise is not offered.
    """
    return [name for name in list_scenarios() if NAME_PATTERN.fullmatch(name)]


def control_names() -> list[str]:
    """Return every parameter the explorer can move: sales, levers and uncertainties."""
    sales = [name for holder in HOLDERS for name in sale_parameters(holder)]
    return [*sales, *LEVERS, *UNCERTAINTIES]


def is_switch(table: ParameterTable, name: str) -> bool:
    """Say whether a parameter is an on/off switch (a lever whose range is exactly [0, 1])."""
    param = table[name]
    return param.kind == "lever" and name.endswith("_switch") and (param.low, param.high) == (0, 1)


def _frame_to_dataset(frame: pd.DataFrame, name: str) -> xr.Dataset:
    """Label a Simlin run over ``time``, in one step (``Dataset.from_dataframe`` takes ~400 ms)."""
    array = frame.to_numpy(dtype=float)
    variables = {column: ("time", array[:, i]) for i, column in enumerate(frame.columns)}
    times = frame.index.to_numpy(dtype=float)
    time_axis = xr.DataArray(times, dims="time", attrs={"units": "year"})
    return xr.Dataset(variables, coords={"time": time_axis}, attrs={"scenario": name})


@dataclass(frozen=True)
class Outcome:
    """One update of the explorer.

    Attributes
    ----------
    scenario, baseline : xarray.Dataset
        The run of the current settings and its reference, over ``time`` [year].
    headline : Headline
        :func:`debtloops.outputs.headline` of the two.
    values : dict
        The run's validated parameter values.
    seconds : float
        Wall time of the update: validation, the run(s) and the headline [s].
    """

    scenario: xr.Dataset
    baseline: xr.Dataset
    headline: Headline
    values: dict[str, Value]
    seconds: float


class ExplorerSession:
    """The explorer's state: a base scenario and the values moved away from it.

    Parameters
    ----------
    base : str
        A shipped scenario's name.
    table : ParameterTable, optional
        The parameter table; the project's own by default.
    cbo : str or Path, optional
        The CBO vintage of every run, the reference baseline's too (``--cbo``); each scenario's
        own by default.
    """

    def __init__(
        self,
        base: str = DEFAULT_BASE,
        table: ParameterTable | None = None,
        cbo: str | Path | None = None,
    ) -> None:
        self.table = table or load_parameters()
        self.cbo = cbo
        for name in control_names():
            if name not in self.table:
                raise unknown_name("explorer control", name, self.table)
        self._baselines = lru_cache(maxsize=BASELINE_CACHE)(self._baseline)
        self.commit = git_commit()
        self._reference_values = prepare(REFERENCE, table=self.table, cbo=cbo).values
        self._reference = simlin_engine.Simulator(self._reference_values)
        self.set_base(base)

    def set_base(self, base: str) -> None:
        """Start again from a shipped scenario, forgetting every value moved.

        Raises
        ------
        InputError
            If ``base`` is not a shipped scenario that a scenario file can build on.
        """
        if base not in base_scenarios():
            raise unknown_name("scenario", base, base_scenarios())
        self.base = base
        self.base_values = prepare(base, table=self.table, cbo=self.cbo).values
        self._simulator = simlin_engine.Simulator(self.base_values)
        self.overrides: dict[str, float] = {}

    def value(self, name: str) -> float:
        """Return a control's current value [its units]."""
        if name in self.overrides:
            return self.overrides[name]
        return float(self.base_values[name])  # type: ignore[arg-type]

    def set_value(self, name: str, value: float) -> None:
        """Move a control; a value equal to the base scenario's removes the override.

        Raises
        ------
        InputError
            If ``name`` is not a control of the explorer, or the value is refused by the checks of
            :func:`debtloops.model.parameters.validate`, its own range and the cross-checks
            (a sale no larger than the holdings) alike; the nearest valid value it suggests is one
            that every check accepts, as on the command line.
        """
        if name not in control_names():
            raise unknown_name("explorer control", name, control_names())
        moved = {**self.base_values, **self.overrides, name: value}
        number = validate(self.table, moved)[name]
        if number == self.base_values[name]:
            self.overrides.pop(name, None)
        else:
            self.overrides[name] = number  # type: ignore[assignment]  # a control is a constant

    def uncertain_overrides(self) -> dict[str, float]:
        """Return the moved values of uncertain parameters, which the reference shares."""
        return {
            name: value
            for name, value in self.overrides.items()
            if self.table[name].kind == "uncertainty"
        }

    def prepared(self) -> PreparedRun:
        """Validate the current settings the long way (see :func:`debtloops.model.run.prepare`)."""
        return prepare(self.base, self.overrides, table=self.table, cbo=self.cbo)

    def values(self) -> dict[str, Value]:
        """Validate the current settings: the base scenario's prepared values and the overrides.

        This equals ``prepared().values`` (the explorer moves no control that changes the data
        layers, such as ``initial_time``), in 0.1 ms rather than the 20 ms of reading the layers.
        """
        return validate(self.table, {**self.base_values, **self.overrides})

    def _baseline(self, frozen: tuple[tuple[str, float], ...]) -> xr.Dataset:
        values = validate(self.table, {**self._reference_values, **dict(frozen)})
        frame = self._reference.run({name: values[name] for name, _ in frozen})  # type: ignore[misc]
        check_run(frame)
        return _frame_to_dataset(frame, REFERENCE)

    def update(self) -> Outcome:
        """Run the current settings and their reference, and compute the headlines.

        Returns
        -------
        Outcome
            The runs, the headline and the time taken.

        Raises
        ------
        InputError
            If the settings are invalid (e.g. a sale larger than the holdings).
        SimulationError
            If a value turns NaN or a stock that cannot be negative does.
        """
        started = time.perf_counter()
        values = self.values()
        frame = self._simulator.run({name: values[name] for name in self.overrides})  # type: ignore[misc]
        check_run(frame)
        scenario = _frame_to_dataset(frame, EXPLORER_SCENARIO)
        reference = self._baselines(tuple(sorted(self.uncertain_overrides().items())))
        row = headline(EXPLORER_SCENARIO, scenario, reference)
        seconds = time.perf_counter() - started
        return Outcome(scenario, reference, row, values, seconds)

    def scenario_toml(self, name: str = EXPLORER_SCENARIO, intent: str = DEFAULT_INTENT) -> str:
        """Return the current settings as a scenario file (see :func:`scenario_toml`)."""
        return scenario_toml(
            self.base, self.overrides, self.table, self.commit, name, intent, self.cbo
        )


def loop_dominance_table(values: Mapping[str, Value]) -> pd.DataFrame:
    """Return which named loop dominates when, in a run with the given values.

    Every loop of the inventory (``models/README.md``) is pinned and scored by Simlin's Loops That
    Matter.

    Parameters
    ----------
    values : mapping
        A run's validated parameter values (:func:`debtloops.model.run.prepare`).

    Returns
    -------
    pandas.DataFrame
        The table of ``dominance_table``: ``start``, ``end`` [year], ``loop``, ``name``,
        ``polarity``, ``mean_abs_score`` [1].
    """
    from debtloops.loops.dominance import dominance_table, loop_dominance
    from debtloops.loops.inventory import read_inventory

    return dominance_table(loop_dominance(values, read_inventory()))


def loop_scores(values: Mapping[str, Value]) -> xr.Dataset:
    """Return the Loops That Matter scores of the inventory's loops in a run, main partition only.

    Parameters
    ----------
    values : mapping
        A run's validated parameter values.

    Returns
    -------
    xarray.Dataset
        ``score`` over (``loop``, ``time``) [1], with the loops' ``name`` (see
        :func:`debtloops.loops.dominance.loop_dominance` and ``main_partition``).
    """
    from debtloops.loops.dominance import loop_dominance, main_partition
    from debtloops.loops.inventory import read_inventory

    return main_partition(loop_dominance(values, read_inventory()), None)


def dominant_years(periods: pd.DataFrame) -> pd.Series:
    """Return how long each loop dominates in a dominance table, longest first.

    Parameters
    ----------
    periods : pandas.DataFrame
        A table from ``dominance_table`` (``start``, ``end`` [year], ``loop``, ``name``).

    Returns
    -------
    pandas.Series
        Years dominant [year], indexed by ``"<id> <name>"``; periods with no active loop are left
        out.
    """
    active = periods.dropna(subset=["loop"])
    label = active["loop"] + " " + active["name"]
    years = (active["end"] - active["start"]).groupby(label).sum()
    return years[years > 0].sort_values(ascending=False)


def _toml_number(value: float) -> str:
    """Write a float so that TOML reads back the same float."""
    return repr(float(value))


def _comment(text: str) -> str:
    r"""Return a header comment line holding ``text`` on one line, whatever characters it has.

    Control characters (a newline included) and lone surrogates are written as Python escapes
    (``\n``, ``\x07``, ``\ud800``); everything else, quotes, backslashes and any other Unicode
    character, stands as it is, which TOML allows in a comment.
    """
    shown = "".join(
        char.encode("unicode_escape").decode("ascii")
        if char != "\t" and unicodedata.category(char) in _ESCAPED_CATEGORIES
        else char
        for char in text
    )
    return f"# {shown}".rstrip()


def scenario_toml(
    base: str,
    overrides: Mapping[str, float],
    table: ParameterTable,
    commit: str | None = None,
    name: str = EXPLORER_SCENARIO,
    intent: str = DEFAULT_INTENT,
    cbo: str | Path | None = None,
) -> str:
    """Write settings as a scenario file in the format of ``models/scenarios/*.toml``.

    Parameters
    ----------
    base : str
        The scenario the settings start from: one of :func:`base_scenarios`.
    overrides : mapping
        Constants moved away from the base, by parameter name [their units].
    table : ParameterTable
        The parameter table, for the order and units of the values.
    commit : str, optional
        The git commit named in the header; the checked-out one by default.
    name, intent : str
        The scenario's name and what it is for, as the user gives them: any text, written into
        the header comment on one line each (see :func:`_comment`).
    cbo : str or Path, optional
        The CBO vintage the settings were explored on: a shipped one is written as ``cbo``; a
        folder of the user's own in the header, as the ``--cbo`` option to run it with.

    Returns
    -------
    str
        The file's text: a header with name, intent and source, ``base``, and a ``[set]``
        section; ``tomllib`` reads back ``base`` and the overrides exactly. When uncertain
        parameters are moved, the header gives the ``--set`` options that put the reference
        baseline under the same values, as the explorer does.

    Raises
    ------
    InputError
        If ``base`` is not one of :func:`base_scenarios`, a parameter is unknown, or a value is
        not a constant.
    """
    if base not in base_scenarios():
        raise unknown_name("scenario", base, base_scenarios())
    for parameter in overrides:
        if parameter not in table:
            raise unknown_name("parameter", parameter, table)
        if isinstance(overrides[parameter], Mapping):
            raise InputError(f"{parameter}: the explorer writes constants only")
    uncertain = [key for key in table if key in overrides and table[key].kind == "uncertainty"]
    header = [
        f"{name}: {base} with the settings chosen in the debtloops explorer.",
        f"Intent: {intent}",
        f"Source: debtloops explore, commit {commit or git_commit()}; base scenario {base}.",
    ]
    if uncertain:
        options = " ".join(f"--set {key}={_toml_number(overrides[key])}" for key in uncertain)
        header.append(
            "The explorer compares with the baseline under the same uncertain parameters:"
        )
        header.append(f"  debtloops run {name}.toml {options}")
    shipped = cbo is not None and not is_vintage_path(cbo)
    if cbo is not None and not shipped:  # a file may name only a shipped vintage
        header.append(f"Explored on a CBO vintage of your own: run it with --cbo {cbo}")
    lines = [_comment(line) for line in header]
    lines.append(f'base = "{base}"')
    if shipped:  # a shipped vintage's name: digits and '-'
        lines.append(f'cbo = "{cbo}"')
    lines += ["", "[set]"]  # base is a name: letters, digits, '_' and '-'
    for key in table:
        if key in overrides:
            lines.append(f"{key} = {_toml_number(overrides[key])}  # [{table[key].units}]")
    return "\n".join(lines) + "\n"
