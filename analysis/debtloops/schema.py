"""The one schema layer of the input files: scenarios, sweep and calibration specs, the table.

Each kind of TOML input is a pydantic model here. :func:`load` reads a file through
:func:`debtloops.limits.read_toml` (the encoding, the nesting and the size of numbers) and checks
its shape against the model: unknown keys, missing keys, types, choices and the rules within one
file. A refusal becomes an :class:`~debtloops.errors.InputError` of one line that names the file,
the key and the nearest valid choice (exit status 2). What needs more than the file (the
parameter table's ranges, the shipped scenarios, the model's variables, the historical data, each
sampler's own rules in :mod:`debtloops.sweeps.samplers`) is checked by each reader after it.

The same models give the JSON Schemas that editors use to complete and check the files
(:func:`json_schema`, ``debtloops schema KIND``); the package ships them in ``schemas/``.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationError,
    model_validator,
)

from debtloops.errors import InputError, exact, unknown_name
from debtloops.limits import MAX_SAMPLES, SEED_MAX, read_toml

Kind = Literal["initial", "uncertainty", "driver", "lever", "scenario", "control", "definition"]
Distribution = Literal["uniform", "normal", "triangular", "lognormal", "posterior"]
Method = Literal["grid", "monte_carlo", "lhs", "sobol", "morris", "posterior"]
#: A scenario's data layer (:data:`debtloops.model.layers.LAYERS`; ``cbo_2025`` is a legacy name).
Layer = Literal["cbo", "history", "cbo_2025"]
#: How a backtest takes its yields (:data:`debtloops.validation.backtest.YIELD_MODES`).
YieldMode = Literal["endogenous", "historical"]
KINDS, DISTRIBUTIONS, SAMPLERS = get_args(Kind), get_args(Distribution), get_args(Method)
#: A noise scale given as this word is estimated with the parameters.
ESTIMATE = "estimate"
#: A scenario's name, which is also its output folder's name: safe in any file system.
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$"
#: How a message names a list of items of one type.
PLURALS = {"text": "names", "a finite number": "finite numbers"}
#: A Morris design's default grid levels per factor [1].
DEFAULT_MORRIS_LEVELS = 4
#: A calibration's default MCMC steps [1] and seed.
DEFAULT_STEPS, DEFAULT_SEED = 3000, 20260101
#: The JSON Schema dialect of the generated schemas.
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _once(items: list) -> list:
    """Refuse a list that names an item twice."""
    for index, item in enumerate(items):
        if item in items[:index]:
            shown = exact(item) if isinstance(item, float) else repr(item)
            raise ValueError(f"the value {shown} is listed twice")
    return items


def _ascending(pair: list[float]) -> list[float]:
    if not pair[0] < pair[1]:
        raise ValueError(f"[{pair[0]:g}, {pair[1]:g}] is empty; it needs low < high")
    return pair


class Strict(BaseModel):
    """A table of an input file: unknown keys are refused and no type is converted."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Number = Annotated[float, Field(allow_inf_nan=False)]
Bounds = Annotated[
    list[Number], Field(min_length=2, max_length=2, description="two finite numbers [low, high]")
]
Range = Annotated[Bounds, AfterValidator(_ascending)]
Names = Annotated[tuple[str, ...], Field(min_length=1, strict=False), AfterValidator(_once)]
Count = Annotated[int, Field(ge=0, le=MAX_SAMPLES)]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
ScenarioName = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="the name of a shipped scenario or a file beside this one, without a path "
        "or .toml (1 to 64 letters, digits, '_' or '-')",
    ),
]


Noise = Annotated[
    Annotated[float, Field(gt=0, allow_inf_nan=False)] | Literal["estimate"],
    Field(description=f'positive (a standard deviation in the series\' units) or "{ESTIMATE}"'),
]


# ---- the parameter table -------------------------------------------------------------------------


class ParameterEntry(Strict):
    """One constant of ``models/parameters.toml`` [its units]."""

    value: Number
    units: str
    range: Bounds
    valid: Bounds | None = None
    kind: Kind
    source: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"\S")] = Field(
        description="where the value comes from"
    )

    @model_validator(mode="after")
    def _ordered(self) -> ParameterEntry:
        low, high = self.range
        valid_min, valid_max = self.valid or self.range
        if not valid_min <= low <= self.value <= high <= valid_max:
            raise ValueError(
                f"need valid_min <= low <= value <= high <= valid_max, got {valid_min:g} <= "
                f"{low:g} <= {self.value:g} <= {high:g} <= {valid_max:g}"
            )
        return self


class ParameterTableFile(RootModel[dict[str, ParameterEntry]]):
    """The parameter table: one ``[NAME]`` table per constant of the model."""

    model_config = ConfigDict(strict=True, frozen=True)


# ---- scenario files ------------------------------------------------------------------------------


class ScenarioFile(Strict):
    """A scenario file: overrides that stack on a base scenario."""

    base: ScenarioName | None = None
    data: Annotated[Layer, Field(title="data layer")] | None = None
    cbo: str | None = Field(default=None, description="a shipped CBO vintage, e.g. 2025-01")
    constants: dict[str, Number] = Field(default_factory=dict, alias="set")
    series: dict[str, dict[str, Number]] = Field(default_factory=dict)


# ---- sweep specifications ------------------------------------------------------------------------


class SweepSampler(Strict):
    """``[sampler]`` of a sweep: the method, its size and its seed."""

    method: Method = Field(title="sampler method")
    samples: Annotated[int, Field(le=MAX_SAMPLES)]
    seed: Seed
    calc_second_order: bool = False
    levels: Annotated[int, Field(ge=2, multiple_of=2)] = DEFAULT_MORRIS_LEVELS
    calibration: Annotated[str, Field(pattern=r"\S")] | None = None


class SweepUncertainty(Strict):
    """``[uncertainties.NAME]``: a parameter's distribution and range [its units]."""

    distribution: Distribution = "uniform"
    range: Range | None = None


class SweepFile(Strict):
    """A sweep specification."""

    scenarios: Names
    outcomes: Names
    final_time: Number | None = None
    sampler: SweepSampler
    uncertainties: Annotated[dict[str, SweepUncertainty], Field(min_length=1)]
    levers: dict[str, Annotated[list[Number], Field(min_length=1), AfterValidator(_once)]] = {}

    @model_validator(mode="after")
    def _consistent(self) -> SweepFile:
        both = [name for name in self.uncertainties if name in self.levers]
        if both:
            raise ValueError(f"{both[0]} is given both as an uncertainty and as a lever; pick one")
        marginal = [n for n, u in self.uncertainties.items() if u.distribution == "posterior"]
        posterior = bool(marginal) or self.sampler.method == "posterior"
        if posterior != bool(self.sampler.calibration):
            raise ValueError(
                f'{f"{marginal[0]}: distribution" if marginal else "method"} = "posterior" needs '
                'calibration = "DIR" in [sampler] (a `debtloops calibrate` output folder)'
                if posterior
                else '[sampler] calibration is used only by method = "posterior" or by an '
                'uncertainty with distribution = "posterior"; remove it or use one of them'
            )
        return self


# ---- calibration specifications ------------------------------------------------------------------


class CalibrationPeriod(Strict):
    """``[period]``: fiscal years of the historical dataset [year]."""

    start: int
    fit_end: int
    end: int | None = None


class CalibrationRun(Strict):
    """``[run]``: how the backtest runs."""

    yields: YieldMode = Field(default="endogenous", title="yields mode")


class CalibrationPrior(Strict):
    """``[parameters.NAME]``: an estimated parameter's prior [its units]."""

    prior: Literal["uniform", "normal", "lognormal"] = "uniform"
    bounds: Range | None = None
    mean: Number | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    median: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> CalibrationPrior:
        keys = {"normal": ("mean", "sd"), "lognormal": ("median", "sigma")}.get(self.prior, ())
        for key in keys:
            if getattr(self, key) is None:
                raise ValueError(f"a {self.prior} prior needs {key}")
        return self


class CalibrationSeries(Strict):
    """``[series.NAME]``: a historical series and how the model is compared with it."""

    source: Literal["history", "monthly"] = "history"
    variables: Names
    how: Literal["end", "mean", "change"] = Field(default="end", title="measure (how)")
    scale: Number = 1.0
    noise: Noise
    noise_range: Range | None = None
    errors: Literal["independent", "ar1"] = Field(
        default="independent", title="error model (errors)"
    )

    @model_validator(mode="after")
    def _noise_scale(self) -> CalibrationSeries:
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        if self.noise == ESTIMATE and (self.noise_range is None or self.noise_range[0] <= 0):
            raise ValueError(
                "an estimated noise needs noise_range = [low, high], positive and increasing (a "
                "noise scale is a standard deviation)"
            )
        return self


class CalibrationSampler(Strict):
    """``[sampler]``: the MCMC run; unset keys take defaults that depend on the problem."""

    walkers: Count | None = None
    steps: Count = DEFAULT_STEPS
    burn: Count | None = None
    seed: Seed = DEFAULT_SEED
    engine: Literal["simlin", "ensemble"] = "simlin"


class CalibrationProjection(Strict):
    """``[projection]``: a scenario run under prior and posterior draws."""

    scenario: str | None = "japan_full"
    draws: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] = 1000
    others: Annotated[tuple[str, ...], Field(strict=False), AfterValidator(_once)] = ()


class CalibrationFile(Strict):
    """A calibration specification."""

    period: CalibrationPeriod
    run: CalibrationRun = CalibrationRun()
    fixed: dict[str, Number] = {}
    parameters: Annotated[dict[str, CalibrationPrior], Field(min_length=1)]
    series: Annotated[dict[str, CalibrationSeries], Field(min_length=1)]
    sampler: CalibrationSampler = CalibrationSampler()
    projection: CalibrationProjection = CalibrationProjection()


# ---- reading, messages and JSON Schemas ----------------------------------------------------------

#: The kinds of input file, by the name ``debtloops schema KIND`` takes.
MODELS: dict[str, type[BaseModel]] = {
    "scenario": ScenarioFile,
    "sweep": SweepFile,
    "calibration": CalibrationFile,
    "parameters": ParameterTableFile,
}
M = TypeVar("M", bound=BaseModel)
#: Repeats a value in a message, cut to 40 characters.
SHOWN = reprlib.Repr()
SHOWN.maxstring = SHOWN.maxother = 40
#: What a message says a JSON Schema type takes.
WORDS = {
    "number": "a finite number",
    "integer": "an integer",
    "boolean": "true or false",
    "string": "text",
    "object": "a table",
}


@contextmanager
def about(where: str) -> Iterator[None]:
    """Prefix ``where`` to the message of each InputError raised inside."""
    try:
        yield
    except InputError as error:
        raise InputError(f"{where}: {error}") from None


def load(path: Path, model: type[M], where: str) -> tuple[M, str, bytes]:
    """Read a TOML input file and check it against ``model``.

    Parameters
    ----------
    path : Path
        The file.
    model : type
        One of :data:`MODELS`.
    where : str
        How messages name the file, e.g. ``"scenario file x.toml"``.

    Returns
    -------
    tuple
        The checked file, its text (without a byte-order mark) and its bytes.

    Raises
    ------
    InputError
        From :func:`debtloops.limits.read_toml`, or from :func:`check`.
    """
    data, text, raw = read_toml(path, where)
    return check(model, data, where), text, raw


def check(model: type[M], data: Mapping[str, object], where: str = "") -> M:
    """Return ``data`` checked against ``model``; a refusal names the file, key and valid choice.

    Raises
    ------
    InputError
        One line, ``WHERE: KEY ...`` (``KEY ...`` without ``where``), for the first fault pydantic
        finds: an unknown key first (a misspelt key explains a missing one), then a missing one,
        then any other.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = min(
            error.errors(include_url=False),
            key=lambda e: (e["type"] != "extra_forbidden", e["type"] != "missing"),
        )
        raise InputError(f"{where}: {_message(model, first)}".removeprefix(": ")) from None


def _path(loc: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _node(schema: dict, loc: tuple) -> dict:
    """Return the part of a JSON Schema without nulls that describes the value at ``loc``."""
    node = schema
    for part in (*loc, None):
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if part is None:
            return node
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part) or node.get("additionalProperties") or {}
    return node


def _expects(node: dict) -> str:
    """Describe what a JSON Schema node takes, e.g. ``an integer from 0 to 9``."""
    if "description" in node and node.get("type") != "object":
        return node["description"]
    if node.get("type") == "array":
        items = _expects(node.get("items", {}))
        return f"a list of {PLURALS.get(items, items)}"
    text = WORDS.get(node.get("type", ""), "valid")
    text = "an even integer" if node.get("multipleOf") == 2 else text
    low, high = node.get("minimum", node.get("exclusiveMinimum")), node.get("maximum")
    if low is None:
        return text if high is None else f"{text} <= {high:,}"
    if high is None:
        return f"{text} {'>' if 'exclusiveMinimum' in node else '>='} {low:g}"
    return f"{text} from {low:,} to {high:,}"


def _message(model: type[BaseModel], error: Any) -> str:
    """Turn one pydantic error into the project's one-line message (without the file)."""
    schema = _without_null(model.model_json_schema(by_alias=True))
    loc, kind, value, ctx = tuple(error["loc"]), error["type"], error.get("input"), error.get("ctx")
    if "anyOf" in _node(schema, loc[:-1]):  # one choice of several: name the key, not the choice
        loc = loc[:-1]
    path, node, parent = _path(loc), _node(schema, loc), _node(schema, loc[:-1])
    if kind == "extra_forbidden":
        keys = list(parent.get("properties", {}))
        what = f"key in [{_path(loc[:-1])}]" if loc[:-1] else "top-level key or section"
        return f"{unknown_name(what, str(loc[-1]), keys)} (valid: {', '.join(keys)})"
    if kind == "missing":
        what = f"[{_path(loc[:-1])}] is missing" if loc[:-1] else "missing"
        return f"{what} '{loc[-1]}' (required: {', '.join(parent.get('required', []))})"
    if kind == "literal_error":
        choices = [str(choice) for choice in node.get("enum", [])]
        found = unknown_name(node.get("title", str(loc[-1])).lower(), str(value), choices)
        return f"{path}: {found} (valid: {', '.join(choices)})"
    if kind == "value_error":
        return f"{path}: {ctx['error']}".removeprefix(": ")
    if kind == "too_short" and not value:
        return f"{path} is empty; give at least one"
    message = f"{path} must be {_expects(node)}, got {SHOWN.repr(value)}"
    nearest = (ctx or {}).get("ge", (ctx or {}).get("le"))
    if nearest is not None:
        message += (
            f"; nearest valid value: {exact(nearest) if isinstance(value, float) else nearest}"
        )
    return message


def _without_null(node: Any) -> Any:
    """Drop ``null`` choices and defaults: TOML has no null (pydantic writes them for ``None``)."""
    if isinstance(node, dict):
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o != {"type": "null"}]
            node = {k: v for k, v in node.items() if k != "anyOf"}
            node.update(options[0] if len(options) == 1 else {"anyOf": options})
        return {k: _without_null(v) for k, v in node.items() if not (k == "default" and v is None)}
    if isinstance(node, list):
        return [_without_null(item) for item in node]
    return node


def json_schema(kind: str) -> dict:
    """Return the JSON Schema of an input file; ``kind`` is one of :data:`MODELS`.

    Raises
    ------
    InputError
        If ``kind`` is not one of them; the message gives the nearest.
    """
    if kind not in MODELS:
        raise unknown_name("schema", kind, MODELS)
    schema = _without_null(MODELS[kind].model_json_schema(by_alias=True))
    return {"$schema": DIALECT, **schema}


def schema_text(kind: str) -> str:
    """Return :func:`json_schema` as the text shipped in ``schemas/KIND.schema.json``."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
