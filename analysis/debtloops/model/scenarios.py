"""Scenario files: small TOML files of overrides that stack on a base scenario.

A scenario file ``models/scenarios/NAME.toml`` starts with a comment header giving its intent and
the source of its numbers, then holds overrides only::

    base = "baseline"            # optional: the scenario this one builds on
    data = "cbo"                 # optional: a data layer (debtloops.model.data) under the overrides
    cbo = "2025-01"              # optional: the CBO vintage of the layer (implies data = "cbo")

    [set]                        # constants
    japan_sale_amount = 120.0

    [series]                     # drivers given as year -> value, interpolated linearly
    primary_deficit_share_of_gdp = { "2025" = 0.02, "2035" = 0.03, "2035.5" = 0.04 }

Quote the years: TOML reads an unquoted ``2035.5`` as a dotted key. A year given twice
(``"2030"`` and ``"2030.0"`` are the same year) is refused; the years are sorted, as they are
from ``--set``.

A scenario is named on the command line either by a shipped name (``models/scenarios/NAME.toml``) or
by an explicit path to a ``.toml`` file; its name, which is also the name of its output folder, is
the file's stem and must be 1 to 64 letters, digits, ``_`` or ``-``. ``base`` names a scenario the
same way but without a path: a file beside the scenario file if there is one (other than the file
itself), else a shipped scenario. A ``base`` file beside the scenario that is a symbolic link is
refused, so that no other file's text can reach the results. Nothing else is ever read.

Order of application, later winning: the parameter table's defaults, then the historical initial
state when the run starts before FY2025, then the data layer the chain names (for CBO's, the
vintage ``--cbo`` names, else the nearest ``cbo`` of the chain, else the default one), then each
scenario of the ``base`` chain from the root down to the named scenario, then command-line
``--set`` overrides, then ``--final-time``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from debtloops import schema
from debtloops.errors import InputError, closest, unknown_name
from debtloops.model.data import LEGACY_LAYERS, list_vintages
from debtloops.model.parameters import Value, series_from_pairs
from debtloops.paths import SCENARIO_DIR

#: The scenario every other is compared with: the headlines, dashboards and sweeps' extra interest.
REFERENCE = "baseline"

#: A scenario's name, which is also its output folder's name: safe in any file system.
NAME_PATTERN = re.compile(schema.NAME_PATTERN)
#: Results keep each scenario file's text up to this size [bytes]; its SHA-256 is kept always.
MAX_TEXT_KEPT = 65_536


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
        The files' texts in the order applied, each under a line with its path and SHA-256, for
        provenance; a file larger than :data:`MAX_TEXT_KEPT` bytes is kept as that line only.
    overrides : dict
        The merged overrides, by parameter name.
    path : Path, optional
        The scenario's file.
    data : str or None
        The data layer the scenario runs on (see :mod:`debtloops.model.data`): the nearest one named
        in the chain, or None; ``"cbo"`` for a CBO vintage.
    cbo : str or None
        The shipped CBO vintage the nearest ``cbo = "VINTAGE"`` (or ``data = "cbo_2025"``) in the
        chain names, or None for the default one (or the one ``--cbo`` names).
    """

    name: str
    chain: tuple[str, ...]
    text: str
    overrides: dict[str, Value] = field(default_factory=dict)
    path: Path | None = None
    data: str | None = None
    cbo: str | None = None


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[str]:
    """Return the names of the scenarios shipped in ``directory``, sorted."""
    return sorted(path.stem for path in directory.glob("*.toml"))


def describe(name: str, directory: Path = SCENARIO_DIR) -> str:
    """Return the summary that opens a scenario's header comment, without the ``#`` marks.

    The summary is the header's first paragraph, up to a blank comment line or a labelled line
    such as ``Intent:`` or ``Source:``, joined into one line, so that no sentence is cut.
    """
    path = directory / f"{name}.toml"
    summary: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.lstrip("# ").strip()
        if not line.startswith("#"):
            if summary or line.strip():
                break
            continue
        if summary and (not text or re.match(r"[A-Z][a-z]+:\s", text)):
            break
        if text:
            summary.append(text)
    return " ".join(summary)


def _shown(text: str, width: int = 60) -> str:
    """Return ``text`` shortened for a message."""
    return text if len(text) <= width else f"{text[: width - 3]}..."


def _is_path(scenario: str) -> bool:
    return scenario.endswith(".toml") or "/" in scenario or "\\" in scenario


def locate(scenario: str, directory: Path = SCENARIO_DIR) -> tuple[str, Path]:
    """Find a scenario given as a shipped name or as a path to a ``.toml`` file.

    Parameters
    ----------
    scenario : str
        A name from ``directory`` (see :func:`list_scenarios`), or a path ending in ``.toml``.
    directory : Path
        Where the shipped scenarios are.

    Returns
    -------
    tuple of (str, Path)
        The scenario's name (the file's stem, also the name of its output folder) and its file.

    Raises
    ------
    InputError
        If the name is not shipped, the path does not end in ``.toml`` or is not a readable file,
        or the file's stem is not a valid name; the message gives the closest shipped names.
    """
    shipped = list_scenarios(directory)
    if not _is_path(scenario):
        if scenario not in shipped:
            error = unknown_name("scenario", _shown(scenario), shipped)
            raise InputError(f"{error} (or give the path to a .toml file)")
        return scenario, directory / f"{scenario}.toml"
    path = Path(scenario)
    if path.suffix != ".toml":
        raise InputError(
            f"scenario '{_shown(scenario)}' is neither a shipped scenario name nor a path to a "
            f".toml file; give NAME (closest: {', '.join(closest(path.name, shipped))}) or "
            "PATH.toml"
        )
    if not NAME_PATTERN.fullmatch(path.stem):
        raise InputError(
            f"scenario file '{_shown(scenario)}': its name '{_shown(path.stem)}' becomes the name "
            "of its output folder and must be 1 to 64 letters, digits, '_' or '-'; rename the file"
        )
    try:
        found = path.is_file()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"cannot read scenario file {_shown(scenario)}: {reason}") from None
    if not found:
        raise InputError(f"no scenario file at {_shown(scenario)}")
    return path.stem, path


def _base(raw: str, beside: Path, directory: Path) -> tuple[str, Path]:
    """Find the scenario that ``base = raw`` names: a file beside ``beside``, else a shipped one."""
    local = beside.parent / f"{raw}.toml"
    if local.is_symlink():  # its target could be any file, whose text results would then keep
        raise InputError(
            f"base = '{raw}' names {local}, a symbolic link; a base beside a scenario must be a "
            "regular file: copy the file there instead"
        )
    if local.is_file() and local.resolve() != beside.resolve():  # a file's own name: shipped
        return raw, local
    shipped = list_scenarios(directory)
    if raw in shipped:
        return raw, directory / f"{raw}.toml"
    raise unknown_name("base scenario", raw, sorted({*shipped, *list_scenarios(beside.parent)}))


def _read(path: Path) -> tuple[schema.ScenarioFile, str]:
    data, text, raw = schema.load(path, schema.ScenarioFile, f"scenario file {_shown(str(path))}")
    if len(raw) > MAX_TEXT_KEPT:
        text = f"# text not kept: {len(raw):,} bytes, more than {MAX_TEXT_KEPT:,}\n"
    return data, f"# ---- {path.name} (sha256 {hashlib.sha256(raw).hexdigest()}) ----\n{text}"


def load_scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """Read a scenario and the chain of scenarios it builds on.

    Parameters
    ----------
    name : str
        The scenario's name, or a path to its ``.toml`` file (see :func:`locate`).
    directory : Path
        Where the shipped scenario files are.

    Returns
    -------
    Scenario
        The scenario, its chain, texts and merged overrides.

    Raises
    ------
    InputError
        If the scenario or one of its bases does not exist or names a path, the chain loops, or a
        file is malformed. Parameter names and values are checked later, by
        :func:`debtloops.model.parameters.validate`.
    """
    scenario_name, path = locate(name, directory)
    read: list[tuple[str, Path, schema.ScenarioFile, str]] = []  # name, file, contents, text kept
    current: tuple[str, Path] | None = (scenario_name, path)
    while current is not None:
        step, step_path = current
        if step_path.resolve() in [file for _, file, _, _ in read]:
            looped = " -> ".join([*(step for step, *_ in read), step])
            raise InputError(f"scenario '{scenario_name}': its base chain loops ({looped})")
        data, text = _read(step_path)
        read.append((step, step_path.resolve(), data, text))
        with schema.about(f"scenario file {step_path.name}"):
            if data.cbo is not None and data.cbo not in list_vintages():  # a shipped name only
                error = unknown_name("CBO vintage", data.cbo, list_vintages())
                raise InputError(f"{error} (a folder of your own: --cbo PATH)")
            current = None if data.base is None else _base(data.base, step_path, directory)
    read.reverse()  # root first: later files win
    overrides: dict[str, Value] = {}
    layer: str | None = None
    vintage = layer
    for _, file, data, _ in read:
        if data.data is not None:
            layer = "cbo" if data.data in LEGACY_LAYERS else data.data
            vintage = LEGACY_LAYERS.get(data.data, vintage if layer == "cbo" else None)
        layer, vintage = ("cbo", data.cbo) if data.cbo is not None else (layer, vintage)
        overrides.update(data.constants)
        with schema.about(f"scenario file {file.name}"):
            for key, value in data.series.items():
                overrides[key] = series_from_pairs(key, value.items())  # type: ignore[assignment]
    chain, texts = tuple(step for step, *_ in read), "\n".join(text for *_, text in read)
    return Scenario(scenario_name, chain, texts, overrides, path, data=layer, cbo=vintage)


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
        If the text is not of either form, holds something other than numbers, or gives a year
        twice. The years of a series are sorted, as in a scenario file.
    """
    shown = _shown(text)
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise InputError(f"--set '{shown}': expected NAME=VALUE or NAME=YEAR:VALUE,YEAR:VALUE")
    try:
        if ":" in raw:
            pairs = []
            for item in raw.split(","):
                year, colon, amount = item.partition(":")
                if not colon or ":" in amount:
                    raise ValueError(item)
                pairs.append((year.strip(), float(amount)))
            try:
                return name, series_from_pairs(name, pairs)  # type: ignore[return-value]
            except InputError as error:
                raise InputError(f"--set '{shown}': {error}") from None
        value = float(raw)
    except ValueError:
        raise InputError(
            f"--set '{shown}': '{_shown(raw)}' is not a number or a YEAR:VALUE list"
        ) from None
    return name, value
