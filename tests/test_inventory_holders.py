"""The loop inventory absorbs a new foreign holder's loops with no edit of models/README.md.

A holder is added to a temporary copy of the .mdl the way docs/ARCHITECTURE.md's recipe says: its
block copied from a named holder's under a new key, and its terms added wherever the sums list the
named holder's. ``uk`` copies China's block (the plain one); ``korea`` copies Japan's, intervention
sales and all, so that loops through the dollar and the yield curve come with it.
"""

import re
from collections import Counter

import numpy as np
import pysd
import pytest
import xarray as xr

from debtloops.loop_report import _loop_rows
from debtloops.loops.graph import causal_graph, find_loops
from debtloops.loops.holder_reading import HolderReading
from debtloops.loops.inventory import (
    Family,
    NamedLoop,
    assign_families,
    holder_copy,
    label_loops,
    read_families,
    read_inventory,
)
from debtloops.model import engine
from debtloops.model.holders import FOREIGN, Holder
from debtloops.paths import MODEL_FILE

#: The holders added to the copy: (new key, the named holder whose block it copies).
UK = ("uk", "china")
KOREA = ("korea", "japan")


def add_holder(mdl_text: str, new: str, template: str) -> str:
    """Return the .mdl's text with ``template``'s equations copied under ``new``'s key.

    Every equation whose name has ``template``'s key as a word is copied with the key replaced
    (its constants keep their values); in every other equation, each term of a sum that names the
    template (``+ china sales``, ``- initial china holdings``) gets the new holder's term beside it.
    """
    key = re.compile(rf"\b{template}\b")
    term = re.compile(rf"(^\t+|[+-] ?)((?:[a-z]+ )*{template}(?: [a-z]+)*)(?=\s*[+\-)]|\s*$)", re.M)

    def beside(match: re.Match[str]) -> str:
        sign = match.group(1).strip() or "+"
        return f"{match.group(0)} {sign} {key.sub(new, match.group(2))}"

    blocks = []
    for block in re.split(r"(?<=\|\n)", mdl_text):
        name = block.split("=", 1)[0] if "=" in block else ""
        if key.search(name):
            blocks += [block, key.sub(new, block)]
        else:
            equation, tilde, rest = block.partition("~")
            blocks.append(term.sub(beside, equation) + tilde + rest)
    return "".join(blocks)


@pytest.fixture(scope="session")
def holder_models(tmp_path_factory):
    """Build, once per session, a model with holders added: ``added`` -> (holders, graph, loops)."""
    built = {}

    def model(*added):
        if added not in built:
            text = MODEL_FILE.read_text(encoding="utf-8")
            for new, template in added:
                text = add_holder(text, new, template)
            folder = tmp_path_factory.mktemp("holders")
            mdl = folder / f"with_{'_'.join(new for new, _ in added)}.mdl"
            mdl.write_text(text, encoding="utf-8")
            graph = causal_graph(model=pysd.load(str(engine.build(mdl, build_dir=folder))))
            holders = (*FOREIGN, *(Holder(new, new.title(), new.title()) for new, _ in added))
            built[added] = (holders, graph, find_loops(graph))
        return built[added]

    return model


def _places(assignment):
    """Return where each loop went: the id of the named loop it is or copies, else its family."""
    places = {loop: entry.id for loop, entry in assignment.named.items()}
    places.update((loop, copy.id.rsplit(".", 1)[0]) for loop, copy in assignment.copies.items())
    for family_id, members in assignment.families.items():
        places.update(dict.fromkeys(members, family_id))
    return places


def _through(loop, key):
    return any(re.search(rf"\b{key}\b", name) for name in loop)


def _lands_like_its_template(loops, assignment, new, template):
    """Assert that each loop through ``new`` goes where its template's counterpart goes."""
    places = _places(assignment)
    ours = [loop for loop in loops if _through(loop, new)]
    assert ours
    for loop in ours:
        counterpart = tuple(re.sub(rf"\b{new}\b", template, name) for name in loop)
        assert counterpart in places
        assert places[loop] == places[counterpart]
    return ours


def _shipped_loops_keep_their_places(loops, assignment, new_keys):
    """Assert that the loops through no new holder are assigned as the inventory states."""
    old = [loop for loop in loops if not any(_through(loop, key) for key in new_keys)]
    named = [loop for loop in old if loop in assignment.named]
    assert len(named) == len(read_inventory())
    places = _places(assignment)
    counts = Counter(places[loop] for loop in old if loop not in assignment.named)
    assert counts == {family.id: family.loops for family in read_families()}


def test_a_holder_copied_from_china_brings_copies_of_chinas_named_loops(holder_models):
    holders, graph, loops = holder_models(UK)
    inventory = read_inventory()
    assignment = assign_families(loops, inventory, read_families(), holders)
    assert assignment.unassigned == [] and assignment.complete
    ours = _lands_like_its_template(loops, assignment, *UK)
    _shipped_loops_keep_their_places(loops, assignment, ["uk"])
    # China's loops are its two- and three-variable loops through its holdings, both named; the
    # new holder's are their copies, named after them with the new holder's name in China's place
    chinas = [entry for entry in inventory if _through(entry.variables, "china")]
    assert sorted(copy.id for copy in assignment.copies.values()) == sorted(
        f"{entry.id}.uk" for entry in chinas
    )
    assert set(assignment.copies) == set(ours)
    for loop, copy in assignment.copies.items():
        original = next(e for e in chinas if copy.id == f"{e.id}.uk")
        assert len(loop) == len(original.variables) and copy.polarity == original.polarity
        assert "China" not in copy.name and "Uk" in copy.name
    # every loop gets one id, the copies theirs next to their originals'
    labelled = label_loops(assignment, read_families(), dict.fromkeys(graph.edges, "+"))
    ids = [loop.id for loop in labelled]
    assert len(ids) == len(set(ids)) == len(loops)
    assert ids.index("B11d.uk") == ids.index("B11d") + 1
    # loops.csv states a copy's polarity, the loop's it copies, as it does a named loop's
    no_scores = xr.Dataset({"score": (("loop", "time"), np.zeros((0, 1)))}, coords={"loop": []})
    rows = _loop_rows(labelled, inventory, assignment, dict.fromkeys(graph.edges, "+"), no_scores)
    stated = {row["id"]: row["polarity"] for row in rows}
    assert {stated[f"{e.id}.uk"] for e in chinas} == {e.polarity for e in chinas} != {""}
    assert all(stated[f"{e.id}.uk"] == stated[e.id] for e in chinas)


def test_a_holder_copied_from_japan_lands_where_japans_loops_do(holder_models):
    holders, _, loops = holder_models(UK, KOREA)
    assignment = assign_families(loops, read_inventory(), read_families(), holders)
    assert assignment.unassigned == [] and assignment.complete
    _lands_like_its_template(loops, assignment, *UK)
    ours = _lands_like_its_template(loops, assignment, *KOREA)
    _shipped_loops_keep_their_places(loops, assignment, ["uk", "korea"])
    # through the dollar, Korea's intervention sales close loops in the families too
    assert any(loop not in assignment.copies for loop in ours)
    japans = {e.id for e in read_inventory() if _through(e.variables, "japan")}
    korean_copies = {c.id for c in assignment.copies.values() if c.id.endswith(".korea")}
    assert korean_copies == {f"{loop_id}.korea" for loop_id in japans}


# --- the reading on made-up holders -------------------------------------------------------------

_PLAIN = Holder("plain", "Plain", "Plain")
_SELLER = Holder("seller", "Seller", "Seller")
_NEW = Holder("south_korea", "South Korea", "Korea, South")


def test_a_new_holder_is_read_as_the_named_holder_it_shares_most_names_with():
    named = ["plain holdings", "plain sales", "seller holdings", "seller sales", "seller pressure"]
    loops = [
        ("plain holdings", "plain sales"),
        ("seller holdings", "seller sales"),
        ("seller holdings", "seller pressure", "seller sales"),
        ("south korea holdings", "south korea sales"),
    ]
    reader = HolderReading.of(named, loops, [_PLAIN, _SELLER, _NEW])
    assert reader.new == (_NEW,)
    assert reader.references == {"south_korea": _PLAIN}
    assert reader.reading(loops[3]) == ("plain holdings", "plain sales")
    assert reader.reading(loops[0]) is None
    # with a pressure of its own it reads as the seller
    with_pressure = [*loops, ("south korea holdings", "south korea pressure", "south korea sales")]
    assert HolderReading.of(named, with_pressure, [_PLAIN, _SELLER, _NEW]).references == {
        "south_korea": _SELLER
    }
    # a loop through its reference too is not read: two loops could read alike
    assert reader.reading(("south korea sales", "plain holdings")) is None


def test_a_new_holders_loop_is_a_copy_or_goes_to_the_family_its_reading_matches():
    b1 = NamedLoop("B1", "runs out (Plain)", "B", ("plain holdings", "plain sales"))
    new = Holder("new", "New", "New")
    own, priced, stray = (
        ("new holdings", "new sales"),
        ("new sales", "price"),
        ("new holdings", "x"),
    )
    loops = [b1.variables, own, priced, stray, ("plain sales", "price")]
    families = [Family("P", "priced", (("plain sales", "price"),), 0, 0, 0)]
    assignment = assign_families(loops, [b1], families, [_PLAIN, new])
    assert {loop: copy.id for loop, copy in assignment.copies.items()} == {own: "B1.new"}
    assert assignment.copies[own].name == "runs out (New)"
    assert assignment.families == {"P": [priced, ("plain sales", "price")]}
    assert assignment.unassigned == [stray]
    # a holder the model does not list is not read: its loops are left over
    assert assign_families(loops, [b1], families, [_PLAIN]).unassigned == [own, priced, stray]
    # a copy of a named loop whose name has no holder's name gets the holder's name added
    spiral = NamedLoop("R2", "spiral", "R", ("plain sales", "price"))
    assert holder_copy(spiral, priced, _PLAIN, new).name == "spiral (New)"


def test_the_shipped_inventory_names_every_shipped_holder():
    inventory = read_inventory()
    named = [name for entry in inventory for name in entry.variables]
    assert HolderReading.of(named, [entry.variables for entry in inventory], FOREIGN).new == ()
