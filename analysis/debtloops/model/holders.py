"""The foreign holders the model names (Japan, China), read from the model file.

A foreign holder is a stock ``<key> holdings`` of the .mdl that has a scheduled sale
(``<key> sale amount``) and a starting value (``initial <key> holdings``) beside it. "Other foreign
holdings" is a stock too but has no sale of its own, so it is not one. :data:`FOREIGN` lists them
in the order of their stocks in the .mdl; every Python table that has a row per holder is built
from it, so a holder added to the .mdl (and to the parameter table and the data) needs nothing
here unless its name in words is not its key title-cased (:data:`_WORDS`).

This module reads the .mdl's text only (no pysd), so every layer may import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from debtloops.paths import MODEL_FILE

#: A stock of holdings in the .mdl: ``japan holdings= INTEG (``; group 1 is the holder's name.
_STOCK = re.compile(
    r"^([a-z][a-z0-9 _]*?)[ _]+holdings\s*=\s*INTEG\b", re.IGNORECASE | re.MULTILINE
)

#: The holders' names in words where the key title-cased is not it: key -> (name in legends and
#: messages, the row's label in TIC's Major Foreign Holders table).
_WORDS: Mapping[str, tuple[str, str]] = {
    "japan": ("Japan", "Japan"),
    "china": ("China", "China, Mainland"),
}


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
    """

    key: str
    name: str
    tic_label: str

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
    def net_transactions(self) -> str:
        """The history's series of its net purchases (TIC net transactions) [billion USD/year]."""
        return f"{self.key}_net_transactions"

    @property
    def possessive(self) -> str:
        """Its name as an owner, e.g. ``Japan's``."""
        return f"{self.name}'s"


def _normal(name: str) -> str:
    """Return a Vensim name as its pysd key: lower case, runs of spaces or ``_`` as one ``_``."""
    return re.sub(r"[ _]+", "_", name.strip().lower())


def derive(mdl_text: str) -> tuple[Holder, ...]:
    """Return the foreign holders a model's text defines, in the order of their stocks.

    Parameters
    ----------
    mdl_text : str
        The text of a Vensim .mdl file.

    Returns
    -------
    tuple of Holder
        One per stock ``<key> holdings`` with ``<key> sale amount`` and ``initial <key> holdings``
        defined beside it; names without an entry in :data:`_WORDS` are the key title-cased.
    """
    defined = {
        _normal(match.group(1))
        for match in re.finditer(r"^([^\s~|{][^=~|\n]*?)\s*=", mdl_text, re.MULTILINE)
    }
    holders = []
    for match in _STOCK.finditer(mdl_text):
        key = _normal(match.group(1))
        if {f"{key}_sale_amount", f"initial_{key}_holdings"} <= defined:
            name = key.replace("_", " ").title()
            holders.append(Holder(key, *_WORDS.get(key, (name, name))))
    return tuple(holders)


def read(mdl: Path = MODEL_FILE) -> tuple[Holder, ...]:
    """Return the foreign holders of a model file (:func:`derive`)."""
    return derive(mdl.read_text(encoding="utf-8"))


#: The foreign holders of the shipped model, in its order (Japan, China).
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
