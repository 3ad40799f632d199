"""Loop dominance in words: mechanisms from the inventory, bookkeeping folded, top three."""

import numpy as np
import pytest
import xarray as xr

from debtloops.app.loop_words import MECHANISMS, TOP, leaders, mechanism_of
from debtloops.loops.inventory import read_inventory


@pytest.mark.parametrize(
    ("loop", "mechanism"),
    [
        ("R1g", "1"),
        ("R16", "1"),  # bill rollover: how interest reaches the debt
        ("R16b", "1"),
        ("B15l", "1"),  # maturity of bills: bookkeeping of the debt
        ("B15", "15"),  # price discovery: a real adjustment lag
        ("B15ab", "15"),
        ("B14", "3"),
        ("B19b", "20"),
        ("R9b", "9"),
    ],
)
def test_loops_are_gathered_by_mechanism(loop, mechanism):
    assert mechanism_of(loop) == mechanism


def test_every_loop_of_the_inventory_has_a_named_mechanism():
    for loop in read_inventory():
        assert mechanism_of(loop.id) in MECHANISMS, loop.id


def _scores(ids, rows, years=20):
    time = np.linspace(2025.0, 2025.0 + years, years * 4 + 1)
    score = np.array([np.full(time.shape, value) for value in rows])
    return xr.Dataset(
        {"score": (("loop", "time"), score)},
        coords={"loop": ids, "time": time, "name": ("loop", [f"loop {i}" for i in ids])},
    )


def test_the_leaders_are_ranked_shares_with_bookkeeping_folded():
    ids = ["R1", "R16", "B15l", "B8", "R6", "B9", "R5"]
    periods = leaders(_scores(ids, [0.1, -0.2, 0.1, -0.25, 0.15, 0.12, 0.08]))
    assert [round(end - start) for start, end, _ in periods] == [5, 10, 5]
    for _, _, found in periods:
        assert len(found) == TOP
        shares = [leader.share for leader in found]
        assert shares == sorted(shares, reverse=True) and sum(shares) <= 1 + 1e-12
        snowball = found[0]
        assert snowball.name == MECHANISMS["1"][0]
        assert snowball.share == pytest.approx(0.4 / 1.0)  # R1, R16 and B15l together
        assert snowball.loops == ("R1",)  # its own loop named, not the bookkeeping
        assert found[1].name == MECHANISMS["8"][0]


def test_a_quiet_period_names_no_loop():
    (start, end, found), *_ = leaders(_scores(["R1", "B8"], [0.0, 0.0], years=3))
    assert found == [] and end > start
