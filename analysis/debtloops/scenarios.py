"""Scenario files: small TOML files of overrides that stack on a base scenario.

A scenario file ``models/scenarios/NAME.toml`` starts with a comment header giving its intent and
the source of its numbers, then holds overrides only::

    base = "baseline"            # optional: the scenario this one builds on
    data = "cbo_2025"            # optional: a data layer (debtloops.data) under the overrides

    [set]                        # constants
    japan_sale_amount = 120.0

    [series]                     # drivers given as year -> value, interpolated linearly
    primary_deficit_share_of_gdp = { "2025" = 0.02, "2035" = 0.03, "2035.5" = 0.04 }

Quote the years: TOML reads an unquoted ``2035.5`` as a dotted key.

Order of application, later winning: the parameter table's defaults, then the historical initial
state when the run starts before FY2025, then the data layer the chain names, then each scenario of
the ``base`` chain from the root down to the named scenario, then command-line ``--set`` overrides,
then ``--final-time``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from debtloops.data import LAYERS
from debtloops.errors import InputError, unknown_name
from debtloops.parameters import Value
from debtloops.paths import SCENARIO_DIR

SECTIONS = ("base", "data", "set", "series")


@dataclass(frozen=True)
class Scenario:
    """A scenario with its base chain resolved.

    Attributes
    ----------
    name : str
        The scenario's name (its file name without ``.toml``).
    chain : tuple of str
        The scenarios applied, root first, this one last.
    text : str
        The files' texts in the order applied, for provenance.
    overrides : dict
        The merged overrides, by parameter name.
    data : str or None
        The data layer the scenario runs on (see :mod:`debtloops.data`): the nearest one named
        in the chain, or None.
    """

    name: str
    chain: tuple[str, ...]
    text: str
    overrides: dict[str, Value] = field(default_factory=dict)
    data: str | None = None


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[str]:
    """Return the names of the scenarios shipped in ``directory``, sorted."""
    return sorted(path.stem for path in directory.glob("*.toml"))


def describe(name: str, directory: Path = SCENARIO_DIR) -> str:
    """Return the first line of a scenario's header comment, without the leading ``#``."""
    path = directory / f"{name}.toml"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def _read(name: str, directory: Path) -> tuple[dict, str]:
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise unknown_name("scenario", name, list_scenarios(directory))
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"scenario file {path}: {error}") from None
    extra = set(data) - set(SECTIONS)
    if extra:
        raise InputError(
            f"scenario file {path}: unknown section(s) {', '.join(sorted(extra))}; "
            f"expected {', '.join(SECTIONS)}"
        )
    return data, text


def _series(name: str, raw: object, where: str) -> dict[float, float]:
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: series '{name}' must be a table of year = value")
    series: dict[float, float] = {}
    for year, value in raw.items():
        try:
            series[float(year)] = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{where}: series '{name}' has a bad entry {year} = {value}") from None
    return dict(sorted(series.items()))


def load_scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """Read a scenario and the chain of scenarios it builds on.

    Parameters
    ----------
    name : str
        The scenario's name.
    directory : Path
        Where the scenario files are.

    Returns
    -------
    Scenario
        The scenario, its chain, texts and merged overrides.

    Raises
    ------
    InputError
        If the scenario or one of its bases does not exist, the chain loops, or a file is malformed.
        Parameter names and values are checked later, by :func:`debtloops.parameters.validate`.
    """
    chain: list[str] = []
    texts: list[str] = []
    files: list[dict] = []
    current: str | None = name
    while current is not None:
        if current in chain:
            raise InputError(f"scenario '{name}': its base chain loops ({' -> '.join(chain)})")
        data, text = _read(current, directory)
        chain.append(current)
        texts.append(f"# ---- {current}.toml ----\n{text}")
        files.append(data)
        current = data.get("base")
    overrides: dict[str, Value] = {}
    layer: str | None = None
    for scenario, data in zip(reversed(chain), reversed(files), strict=True):
        where = f"scenario file {scenario}.toml"
        if "data" in data:
            if data["data"] not in LAYERS:
                raise unknown_name(f"data layer in {where}", str(data["data"]), LAYERS)
            layer = data["data"]
        for key, value in data.get("set", {}).items():
            if isinstance(value, Mapping):
                raise InputError(f"{where}: '{key}' under [set] must be a number; use [series]")
            overrides[key] = value
        for key, value in data.get("series", {}).items():
            overrides[key] = _series(key, value, where)
    return Scenario(
        name=name,
        chain=tuple(reversed(chain)),
        text="\n".join(reversed(texts)),
        overrides=overrides,
        data=layer,
    )


def parse_assignment(text: str) -> tuple[str, Value]:
    """Parse a command-line override ``NAME=VALUE`` or ``NAME=YEAR:VALUE,YEAR:VALUE,...``.

    Parameters
    ----------
    text : str
        The override as typed.

    Returns
    -------
    tuple
        The parameter name and its value: a float, or a year -> value dict for a time series.

    Raises
    ------
    InputError
        If the text is not of either form or holds something other than numbers.
    """
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise InputError(f"--set '{text}': expected NAME=VALUE or NAME=YEAR:VALUE,YEAR:VALUE")
    try:
        if ":" in raw:
            pairs = (item.split(":") for item in raw.split(","))
            series = {float(year): float(value) for year, value in pairs}
            return name, series
        value = float(raw)
    except ValueError:
        raise InputError(f"--set '{text}': '{raw}' is not a number or a YEAR:VALUE list") from None
    return name, value
