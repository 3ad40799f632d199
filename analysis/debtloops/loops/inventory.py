"""The loop inventory of ``models/README.md``: named loops, families, and matching them.

* :func:`read_inventory` reads the named loops and :func:`match_inventory` compares them with the
  model's loops (from :func:`debtloops.loops.graph.find_loops`).
* :func:`read_families` reads the loop families: rules that assign every loop the inventory does
  not name to one family (the first family whose rule matches), and :func:`assign_families`
  applies them; :func:`label_loops` gives every loop of the model an id, the named loop's or its
  family's id and an index (``T.12``).
* A foreign holder that no named loop mentions (one added to the .mdl after the inventory was
  written) needs no rows: a loop through it is read with the holder's key replaced by the named
  holder's it copies (:class:`~debtloops.loops.holder_reading.HolderReading`). A loop that reads
  as a named loop is that loop's copy (:func:`holder_copy`, id ``B11d.uk``); any other goes to the
  first family whose rule the loop or its reading matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from debtloops.loops.graph import loop_polarity
from debtloops.loops.holder_reading import HolderReading, rename_holder
from debtloops.model.holders import FOREIGN, Holder
from debtloops.paths import MODELS_DIR

INVENTORY = MODELS_DIR / "README.md"
#: How the inventory writes a link between two variables of a loop.
_ARROW = " → "
#: Between a named loop's id and a holder's key in the id of that holder's copy (``B11d.uk``).
_COPY_SEPARATOR = "."


@dataclass(frozen=True)
class NamedLoop:
    """A loop of the inventory in ``models/README.md``.

    Attributes
    ----------
    id : str
        Short id, e.g. ``R1b``.
    name : str
        The loop's name.
    polarity : str
        ``R`` or ``B`` as the inventory states it.
    variables : tuple of str
        The variables in causal order.
    """

    id: str
    name: str
    polarity: str
    variables: tuple[str, ...]

    @property
    def key(self) -> frozenset[tuple[str, str]]:
        """The loop's links, which identify it whatever variable it is listed from."""
        v = self.variables
        return frozenset(zip(v, [*v[1:], v[0]], strict=True))


def loop_key(loop: Sequence[str]) -> frozenset[tuple[str, str]]:
    """Return the set of links of a loop, independent of where it is listed from."""
    return frozenset(zip(loop, [*loop[1:], loop[0]], strict=True))


def _table_rows(path: Path, header: re.Pattern[str]) -> list[list[str]]:
    """Return the cells of each row of the Markdown table whose header line matches ``header``."""
    rows = []
    in_table = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if header.match(line):
            in_table = True
            continue
        if in_table and line.startswith("|---"):
            continue
        if in_table and line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif in_table:
            break
    return rows


_INVENTORY_HEADER = re.compile(r"^\|\s*id\s*\|\s*name\s*\|\s*polarity\s*\|\s*variables\s*\|")


def read_inventory(path: Path = INVENTORY) -> list[NamedLoop]:
    """Read the ``| id | name | polarity | variables |`` table of the loop inventory."""
    return [
        NamedLoop(loop_id, name, polarity, tuple(variables.split(_ARROW)))
        for loop_id, name, polarity, variables in _table_rows(path, _INVENTORY_HEADER)
    ]


@dataclass(frozen=True)
class InventoryCheck:
    """How the model's loops compare with the inventory.

    Attributes
    ----------
    matched : dict
        Model loop -> the inventory entry naming it.
    unnamed : list
        Model loops the inventory does not name.
    missing : list
        Inventory entries that are not loops of the model.
    """

    matched: dict[tuple[str, ...], NamedLoop]
    unnamed: list[tuple[str, ...]]
    missing: list[NamedLoop]


def match_inventory(
    loops: Sequence[tuple[str, ...]], inventory: Sequence[NamedLoop]
) -> InventoryCheck:
    """Pair the model's loops with the inventory's entries by their links."""
    by_key = {entry.key: entry for entry in inventory}
    matched = {loop: by_key[loop_key(loop)] for loop in loops if loop_key(loop) in by_key}
    unnamed = [loop for loop in loops if loop_key(loop) not in by_key]
    found = {loop_key(loop) for loop in loops}
    missing = [entry for entry in inventory if entry.key not in found]
    return InventoryCheck(matched, unnamed, missing)


def holder_copy(
    entry: NamedLoop, loop: Sequence[str], reference: Holder, holder: Holder
) -> NamedLoop:
    """Return ``loop``, a new holder's copy of the named loop ``entry``, as a named loop.

    Parameters
    ----------
    entry : NamedLoop
        The named loop that ``loop`` reads as, with ``holder``'s key replaced by ``reference``'s.
    loop : sequence of str
        The model's loop, through ``holder``'s variables.
    reference : Holder
        The holder of ``entry``.
    holder : Holder
        The holder of ``loop``, which no named loop mentions.

    Returns
    -------
    NamedLoop
        Id ``<entry id>.<holder key>`` (``B11d.uk``); ``entry``'s name with the reference's name
        in words replaced by the holder's (or the holder's name added in brackets if it has
        none); ``entry``'s polarity, since the copied equations give the links the same signs;
        and ``loop``'s variables.
    """
    name = rename_holder(entry.name, reference, holder)
    if name == entry.name:
        name = f"{entry.name} ({holder.name})"
    return NamedLoop(f"{entry.id}{_COPY_SEPARATOR}{holder.key}", name, entry.polarity, tuple(loop))


#: The links of a family rule: each written in backticks as ``source → target``.
_RULE_LINK = re.compile(r"`([^`]+?) → ([^`]+?)`")
_FAMILY_HEADER = re.compile(r"^\|\s*id\s*\|\s*name\s*\|\s*rule\s*\|\s*loops\s*\|\s*R\s*\|\s*B\s*\|")


@dataclass(frozen=True)
class Family:
    """A family of loops in ``models/README.md``: the loops through all of the rule's links.

    Attributes
    ----------
    id : str
        Short id, e.g. ``T``; its loops are labelled ``T.1``, ``T.2``, ...
    name : str
        The family's name.
    links : tuple of (str, str)
        The links of the rule: a loop belongs to the family when it passes through every one of
        them (and no named loop and no earlier family has it).
    loops : int
        The number of loops the inventory states the family has.
    reinforcing : int
        How many of them the inventory states are reinforcing (measured, not asserted per loop).
    balancing : int
        How many of them the inventory states are balancing.
    """

    id: str
    name: str
    links: tuple[tuple[str, str], ...]
    loops: int
    reinforcing: int
    balancing: int

    def matches(self, loop: Sequence[str]) -> bool:
        """Return whether ``loop`` passes through every link of the rule."""
        return set(self.links) <= loop_key(loop)


def read_families(path: Path = INVENTORY) -> list[Family]:
    """Read the ``| id | name | rule | loops | R | B |`` table of loop families, in rule order.

    Parameters
    ----------
    path : Path
        The inventory, ``models/README.md`` by default.

    Returns
    -------
    list of Family
        The families in the order of the table, which is the order their rules are tried.

    Raises
    ------
    ValueError
        If a rule names no link (written in backticks as ``source → target``) or a count is not
        a whole number.
    """
    families = []
    for family_id, name, rule, count, reinforcing, balancing in _table_rows(path, _FAMILY_HEADER):
        links = tuple((a.strip(), b.strip()) for a, b in _RULE_LINK.findall(rule))
        if not links:
            raise ValueError(f"family {family_id}: its rule names no link: {rule!r}")
        families.append(
            Family(family_id, name, links, int(count), int(reinforcing), int(balancing))
        )
    return families


@dataclass(frozen=True)
class Assignment:
    """Every loop of the model, named by the inventory or assigned to a family.

    Attributes
    ----------
    named : dict
        Model loop -> the inventory entry naming it.
    families : dict
        Family id -> its loops, in the order of :func:`find_loops`; every family appears.
    unassigned : list
        Model loops neither named nor matched by any family.
    missing : list
        Inventory entries that are not loops of the model.
    empty : list
        Families whose rule matches no loop left after the named loops and earlier families.
    copies : dict
        Model loop -> the named loop it is a copy of for a holder the named loops do not mention
        (:func:`copy_of`); empty for the shipped model.
    """

    named: dict[tuple[str, ...], NamedLoop]
    families: dict[str, list[tuple[str, ...]]]
    unassigned: list[tuple[str, ...]]
    missing: list[NamedLoop]
    empty: list[Family]
    copies: dict[tuple[str, ...], NamedLoop] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every loop is named or in a family, and every entry and family is used."""
        return not (self.unassigned or self.missing or self.empty)


def assign_families(
    loops: Sequence[tuple[str, ...]],
    inventory: Sequence[NamedLoop],
    families: Sequence[Family],
    holders: Sequence[Holder] = FOREIGN,
) -> Assignment:
    """Name the model's loops from the inventory and put every other loop in one family.

    Parameters
    ----------
    loops : sequence of tuple of str
        The model's loops, from :func:`find_loops`.
    inventory : sequence of NamedLoop
        The named loops, from :func:`read_inventory`.
    families : sequence of Family
        The families, from :func:`read_families`, in the order their rules are tried: a loop
        the inventory does not name goes to the first family whose rule it matches.
    holders : sequence of Holder
        The model's foreign holders (:mod:`debtloops.model.holders`), the shipped model's by
        default. A loop through one holder that no named loop mentions, which reads as a named
        loop with that holder's key replaced by the named holder's it copies
        (:class:`~debtloops.loops.holder_reading.HolderReading`), is that named loop's copy
        (:func:`holder_copy`); any other loop through such holders goes to the first family
        whose rule the loop or its reading matches.

    Returns
    -------
    Assignment
        The named loops, the new holders' copies of them, each family's loops, and what is left
        over or missing.

    Raises
    ------
    ValueError
        If two families have the same id, or a family id is also a named loop's id.
    """
    ids = [family.id for family in families]
    if len(ids) != len(set(ids)):
        raise ValueError(f"family ids repeat: {ids}")
    clashes = set(ids) & {entry.id for entry in inventory}
    if clashes:
        raise ValueError(f"ids used by both a family and a named loop: {sorted(clashes)}")
    check = match_inventory(loops, inventory)
    by_key = {entry.key: entry for entry in inventory}
    named_variables = (name for entry in inventory for name in entry.variables)
    reader = HolderReading.of(named_variables, loops, holders)
    members: dict[str, list[tuple[str, ...]]] = {family.id: [] for family in families}
    copies: dict[tuple[str, ...], NamedLoop] = {}
    unassigned = []
    for loop in check.unnamed:
        reading = reader.reading(loop)
        entry = None if reading is None else by_key.get(loop_key(reading))
        through = reader.holders_of(loop) if entry else []
        if entry is not None and len(through) == 1:
            holder = through[0]
            copies[loop] = holder_copy(entry, loop, reader.references[holder.key], holder)
            continue
        candidates = [loop] if reading is None else [loop, reading]
        family = next((f for f in families if any(f.matches(c) for c in candidates)), None)
        if family is None:
            unassigned.append(loop)
        else:
            members[family.id].append(loop)
    empty = [family for family in families if not members[family.id]]
    return Assignment(check.matched, members, unassigned, check.missing, empty, copies)


def label_loops(
    assignment: Assignment,
    families: Sequence[Family],
    polarities: Mapping[tuple[str, str], str],
) -> list[NamedLoop]:
    """Return every assigned loop as a :class:`NamedLoop`: named loops, then families' loops.

    Parameters
    ----------
    assignment : Assignment
        From :func:`assign_families`.
    families : sequence of Family
        The families of that assignment.
    polarities : mapping
        Link polarities, from :func:`measure_polarities`; a family loop's ``polarity`` is the one
        they give it (``R``, ``B``, ``?`` or ``0``), as the inventory states none.

    Returns
    -------
    list of NamedLoop
        Named loops as the inventory has them and the new holders' copies of them (together,
        sorted by id: ``B11d``, ``B11d.uk``, ``B11e``), then each family's loops in rule order,
        with id ``<family id>.<index>`` (from 1, in the order of :func:`find_loops`), the
        family's name, and variables as :func:`find_loops` lists them.
    """
    named = [*assignment.named.values(), *assignment.copies.values()]
    labelled = sorted(named, key=lambda entry: entry.id)
    for family in families:
        for index, loop in enumerate(assignment.families.get(family.id, []), start=1):
            polarity = loop_polarity(loop, polarities)
            labelled.append(NamedLoop(f"{family.id}.{index}", family.name, polarity, loop))
    return labelled
