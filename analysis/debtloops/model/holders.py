"""The foreign holders with a sale of their own (Japan, China), read from ``models/holders.toml``.

The list names each holder once: its key (the prefix of its names in the .mdl and in results), its
name in words, its row in TIC's Major Foreign Holders table and any sales of its own written by hand
in the .mdl (Japan's interventions). :data:`FOREIGN` holds them in the list's order; every Python
table that has a row per holder is built from it, and :mod:`debtloops.model.holder_blocks` writes
each holder's block of equations into the .mdl from it, so a new holder is a line in the list, its
rows in the parameter table and its data, and nothing in Python.

This module reads TOML only (no pysd), so every layer may import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from debtloops.errors import InputError, unknown_name
from debtloops.limits import read_toml
from debtloops.paths import MODELS_DIR

#: The list of foreign holders.
HOLDER_LIST = MODELS_DIR / "holders.toml"
#: A holder's key: lower-case words joined by ``_``, as pysd spells names.
_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
#: The fields of a holder's line that must be there, and the one that may be.
_REQUIRED = ("key", "name", "tic")
_OPTIONAL = ("extra_sales",)


@dataclass(frozen=True)
class Holder:
    """One foreign holder with a scheduled sale.

    Attributes
    ----------
    key : str
        The prefix of its pysd names, e.g. ``japan``.
    name : str
        Its name in words, e.g. ``Japan``.
    tic_label : str
        Its row's label in TIC's Major Foreign Holders table, e.g. ``China, Mainland``.
    extra_sales : tuple of str
        .mdl variables [billion USD/year] that add to its sales, e.g. ``japan intervention sales``.
    """

    key: str
    name: str
    tic_label: str
    extra_sales: tuple[str, ...] = ()

    @property
    def mdl_name(self) -> str:
        """The prefix of its names in the .mdl: the key with spaces, e.g. ``united kingdom``."""
        return self.key.replace("_", " ")

    @property
    def holdings(self) -> str:
        """Its holdings stock [billion USD], also the history's series of them."""
        return f"{self.key}_holdings"

    @property
    def initial_holdings(self) -> str:
        """The parameter of its holdings at the start [billion USD]."""
        return f"initial_{self.key}_holdings"

    @property
    def sale_parameters(self) -> tuple[str, str, str]:
        """Its sale's amount [billion USD], start [year] and duration [year] parameters."""
        return (f"{self.key}_sale_amount", f"{self.key}_sale_start", f"{self.key}_sale_duration")

    @property
    def sale_amount(self) -> str:
        """The parameter of its sale's total [billion USD]."""
        return self.sale_parameters[0]

    @property
    def baseline_net_purchases(self) -> str:
        """The driver of its planned net purchases [billion USD/year]."""
        return f"{self.key}_baseline_net_purchases"

    @property
    def private_net_sales(self) -> str:
        """The driver of the part of its net sales its private investors make [billion USD/year]."""
        return f"{self.key}_private_net_sales"

    @property
    def net_transactions(self) -> str:
        """The history's series of its net purchases (TIC net transactions) [billion USD/year]."""
        return f"{self.key}_net_transactions"

    @property
    def possessive(self) -> str:
        """Its name as an owner, e.g. ``Japan's``."""
        return f"{self.name}'s"


def _text(entry: Mapping[str, object], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: '{field}' must be a non-empty string, not {value!r}")
    return value.strip()


def _holder(entry: object, where: str) -> Holder:
    """Return one line of the holder list as a :class:`Holder`, checked."""
    if not isinstance(entry, dict):
        raise InputError(f'{where} is not a table such as {{ key = "uk", name = ..., tic = ... }}')
    for field in entry:
        if field not in (*_REQUIRED, *_OPTIONAL):
            raise unknown_name(f"field of {where}", field, (*_REQUIRED, *_OPTIONAL))
    key, name, tic = (_text(entry, field, where) for field in _REQUIRED)
    if not _KEY.fullmatch(key):
        raise InputError(
            f"{where}: key '{key}' is not lower-case words joined by '_' (e.g. 'united_kingdom')"
        )
    extra = entry.get("extra_sales", [])
    if not isinstance(extra, list) or not all(isinstance(term, str) and term for term in extra):
        raise InputError(f"{where}: 'extra_sales' must be a list of .mdl variable names")
    return Holder(key, name, tic, tuple(extra))


def read(path: Path = HOLDER_LIST) -> tuple[Holder, ...]:
    """Return the foreign holders of a holder list, in its order.

    Parameters
    ----------
    path : Path
        The list (``models/holders.toml``): ``holders = [{ key, name, tic, extra_sales }, ...]``.

    Returns
    -------
    tuple of Holder

    Raises
    ------
    InputError
        If the file is not TOML, a line lacks a field, has one the list does not know, or two
        lines share a key.
    """
    data, _, _ = read_toml(path, f"holder list {path.name}")
    entries = data.get("holders")
    if set(data) != {"holders"} or not isinstance(entries, list):
        raise InputError(f"holder list {path.name} must hold one array, holders = [...]")
    found = tuple(
        _holder(entry, f"holder {number} of {path.name}")
        for number, entry in enumerate(entries, start=1)
    )
    keys = [holder.key for holder in found]
    for key in keys:
        if keys.count(key) > 1:
            raise InputError(f"holder list {path.name} names '{key}' twice")
    return found


#: The foreign holders of the holder list, in its order (Japan, China).
FOREIGN: tuple[Holder, ...] = read()
#: Their keys, e.g. ``("japan", "china")``.
KEYS: tuple[str, ...] = tuple(holder.key for holder in FOREIGN)
#: Their holdings stocks, e.g. ``("japan_holdings", "china_holdings")``.
HOLDINGS: tuple[str, ...] = tuple(holder.holdings for holder in FOREIGN)


def in_words(parts: Iterable[str]) -> str:
    """Join words as a list is written: ``A``, ``A and B``, ``A, B and C``."""
    words = list(parts)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


#: The foreign holders' holdings in words, e.g. ``Japan's and China's holdings``.
HOLDINGS_WORDS = f"{in_words(holder.possessive for holder in FOREIGN)} holdings"
