"""The mechanisms of ``models/mechanisms.toml``: the parameters and values that switch each off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from debtloops.errors import InputError, unknown_name
from debtloops.limits import read_toml
from debtloops.model.parameters import ParameterTable, load_parameters
from debtloops.paths import MODELS_DIR

#: The table of mechanisms and the values that switch each off.
MECHANISM_TABLE = MODELS_DIR / "mechanisms.toml"


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the table.

    Attributes
    ----------
    name : str
        Its name in the table.
    description : str
        One line: what it does.
    off : dict of str to float
        The parameters that switch it off, and their values then [the parameters' units].
    """

    name: str
    description: str
    off: dict[str, float]


def load_mechanisms(
    path: Path = MECHANISM_TABLE, table: ParameterTable | None = None
) -> list[Mechanism]:
    """Read the mechanism table and check it against the parameter table.

    Parameters
    ----------
    path : Path
        The mechanism table (TOML).
    table : ParameterTable, optional
        The parameter table; the project's own by default.

    Returns
    -------
    list of Mechanism
        In the table's order.

    Raises
    ------
    InputError
        If an entry lacks its fields, names an unknown parameter or gives an invalid value.
    """
    table = table or load_parameters()
    raw, _, _ = read_toml(path, f"mechanism table {path}")
    mechanisms = []
    for name, entry in raw.items():
        off = entry.get("off") if isinstance(entry, dict) else None
        description = entry.get("description") if isinstance(entry, dict) else None
        if not isinstance(off, dict) or not off or not isinstance(description, str):
            raise InputError(f"{path}: mechanism '{name}' needs a description and an off table")
        for parameter, value in off.items():
            if parameter not in table:
                raise unknown_name(f"parameter (mechanism '{name}')", parameter, table)
            table[parameter].check(float(value))
        mechanisms.append(Mechanism(name, description, {k: float(v) for k, v in off.items()}))
    return mechanisms


def select(mechanisms: Sequence[Mechanism], names: Sequence[str] | None) -> list[Mechanism]:
    """Return the mechanisms named, in the table's order; all of them if ``names`` is None."""
    if names is None:
        return list(mechanisms)
    known = {m.name: m for m in mechanisms}
    for name in names:
        if name not in known:
            raise unknown_name("mechanism", name, known)
    return [m for m in mechanisms if m.name in names]
