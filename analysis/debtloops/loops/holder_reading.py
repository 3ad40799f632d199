"""Read a loop through a foreign holder the loop inventory does not name as a named holder's loop.

The inventory of ``models/README.md`` names loops through Japan's and China's variables
(``china holdings → china sales``). A holder added to the .mdl later (:mod:`debtloops.model.holders`
finds it) brings loops that no named loop lists; read with its key in place of the holder it was
copied from, they are loops the inventory knows. :class:`HolderReading` finds, for each such
holder, that reference holder: the named holder whose variables on the model's loops share the
most names with the new holder's once each one's key is taken out (China for a holder made from
China's block, Japan for one with intervention sales like Japan's). Names are matched as words, so
the key ``south_korea`` finds ``south korea sales``.

This module reads variable names only; :mod:`debtloops.loops.inventory` uses it to assign loops.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from debtloops.model.holders import Holder

#: What stands for a holder's key in a variable's name when names of two holders are compared.
_KEY_MARK = "\0"


@cache
def _pattern(key: str) -> re.Pattern[str]:
    """Match a holder's key as whole words of a name (``south_korea`` matches ``south korea``)."""
    words = r"[ _]+".join(re.escape(word) for word in key.split("_"))
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


@cache
def _mentions(name: str, key: str) -> bool:
    """Return whether the variable ``name`` is the holder ``key``'s (names it as words)."""
    return _pattern(key).search(name) is not None


def passes_through(loop: Iterable[str], holder: Holder) -> bool:
    """Return whether a loop (or any set of variables) has a variable of ``holder``'s."""
    return any(_mentions(name, holder.key) for name in loop)


def _parts(variables: Iterable[str], holder: Holder) -> set[str]:
    """Return the names of the holder's variables with its key marked (``<key> sales``)."""
    return {_pattern(holder.key).sub(_KEY_MARK, v) for v in variables if _mentions(v, holder.key)}


def _overlap(first: set[str], second: set[str]) -> float:
    """Return the share of the names in either set that are in both [dimensionless, 0 to 1]."""
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def rename_holder(text: str, reference: Holder, holder: Holder) -> str:
    """Return ``text`` with the reference holder's name in words replaced by ``holder``'s."""
    return re.sub(rf"(?<!\w){re.escape(reference.name)}(?!\w)", lambda _: holder.name, text)


@dataclass(frozen=True)
class HolderReading:
    """The holders the inventory does not name, and the named holder each is read as.

    Attributes
    ----------
    new : tuple of Holder
        The model's foreign holders that no named loop mentions, in the model's order.
    references : dict
        A new holder's key -> the named holder it is read as.
    """

    new: tuple[Holder, ...]
    references: Mapping[str, Holder]

    @classmethod
    def of(
        cls,
        named_variables: Iterable[str],
        loops: Iterable[Sequence[str]],
        holders: Sequence[Holder],
    ) -> HolderReading:
        """Find the holders no named loop mentions and the named holder each one copies.

        Parameters
        ----------
        named_variables : iterable of str
            The variables of the named loops.
        loops : iterable of sequence of str
            The model's loops, whose variables are compared holder by holder.
        holders : sequence of Holder
            The model's foreign holders, in the model's order.

        Returns
        -------
        HolderReading
            A new holder is read as the named holder whose variables on the loops share the most
            names with its own once each key is taken out (the first in the model's order on a
            tie); with no named holder, no holder is read as another.
        """
        mentioned = set(named_variables)
        named = [holder for holder in holders if passes_through(mentioned, holder)]
        new = tuple(holder for holder in holders if holder not in named)
        if not new or not named:
            return cls(new, {})
        variables = {name for loop in loops for name in loop}
        parts = {holder.key: _parts(variables, holder) for holder in holders}
        references = {
            holder.key: max(named, key=lambda ref: _overlap(parts[holder.key], parts[ref.key]))
            for holder in new
        }
        return cls(new, references)

    def holders_of(self, loop: Sequence[str]) -> list[Holder]:
        """Return the new holders whose variables the loop passes through."""
        return [holder for holder in self.new if passes_through(loop, holder)]

    def reading(self, loop: Sequence[str]) -> tuple[str, ...] | None:
        """Return the loop with each new holder's key replaced by its reference holder's key.

        Parameters
        ----------
        loop : sequence of str
            A loop of the model.

        Returns
        -------
        tuple of str or None
            The loop as read; None when it passes through no new holder that has a reference,
            through a reference holder itself, or when the reading repeats a variable (then it
            would not be a loop of the named holders, and two loops could read alike).
        """
        through = [h for h in self.holders_of(loop) if h.key in self.references]
        if not through:
            return None
        used = {self.references[h.key].key: self.references[h.key] for h in through}
        if any(passes_through(loop, reference) for reference in used.values()):
            return None
        reading = []
        for name in loop:
            for holder in through:
                words = self.references[holder.key].key.replace("_", " ")
                name = _pattern(holder.key).sub(words, name)
            reading.append(name)
        return tuple(reading) if len(set(reading)) == len(reading) else None
