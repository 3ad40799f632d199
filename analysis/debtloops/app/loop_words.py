"""Loop dominance in words: the three mechanisms that matter most in each period of a run.

Simlin's Loops That Matter scores every loop of the inventory (``models/README.md``) at each step
(:func:`debtloops.loops.dominance.loop_dominance`). The inventory numbers its loops by mechanism:
``R1``, ``R1b``... ``R1r`` are all the interest snowball, one per kind of security. Here loops are
gathered by that number into the mechanisms of :data:`MECHANISMS`, and pure bookkeeping is folded
into the mechanism it serves: the rollover loops (``R16``...) and the repricing, maturity and
composition loops of the debt (``B15f``... ``B15w``) are how interest reaches the debt, so they
count for the interest snowball. A mechanism's weight in a period is the mean over its steps of
the summed absolute scores of its loops, as a share of all the loops' activity there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import xarray as xr

#: A mechanism: its name in plain words and a one-line explanation.
Mechanism = tuple[str, str]
#: Loop-id numbers folded into another mechanism: bookkeeping and variants of one mechanism.
FOLDED: dict[str, str] = {"16": "1", "14": "3", "19": "20", "23": "17", "24": "21"}
#: The loops of mechanism 15 that are the debt's own bookkeeping (repricing, maturity,
#: composition: ``B15f`` to ``B15w``), folded into the interest snowball.
BOOKKEEPING = re.compile(r"B15[f-w]$")
#: The inventory's mechanisms by loop-id number.
MECHANISMS: dict[str, Mechanism] = {
    "1": (
        "Interest snowball",
        "Debt is refinanced at the new yields as it matures; the extra interest adds to the "
        "deficit and so to the debt.",
    ),
    "2": (
        "Supply pressure",
        "Private investors must absorb more debt, so they ask a higher yield.",
    ),
    "3": (
        "Dollar-dumping spiral",
        "Sales weaken the dollar, Japan sells more to defend the yen, and the yield rises again.",
    ),
    "4": (
        "Fiscal risk premium",
        "Higher debt and interest costs make investors ask a higher yield.",
    ),
    "5": ("Monetary tightening", "The Fed raises its rate when the yield spikes."),
    "6": ("Flight from falling prices", "Falling bond prices lead other holders to sell too."),
    "7": ("Growth compounding", "The economy's growth builds on itself."),
    "8": ("Yield attracts buyers", "A higher yield draws buyers in, which pulls it back down."),
    "9": ("Fed backstop", "The Fed buys Treasuries when yields spike, damping the rise."),
    "10": ("Fiscal consolidation", "Congress cuts the deficit when interest costs climb."),
    "11": ("Holdings run out", "A holder cannot sell more than it holds."),
    "12": ("Yen-buying relief", "Japan's sales to defend the yen ease the pressure on it."),
    "15": (
        "Adjustment lags",
        "Markets, prices and policy move toward their new levels over time, damping shocks.",
    ),
    "17": ("Growth drag", "Higher debt and interest slow growth, which lifts debt/GDP again."),
    "18": ("Real-rate spiral", "Higher real rates slow growth and prices, and lift real rates."),
    "20": ("Taylor rule", "The Fed's rule moves its rate with inflation and the output gap."),
    "21": ("Imported inflation", "A weaker dollar raises import prices and inflation."),
    "22": ("QE inflation", "The Fed's purchases add to inflation."),
}
#: Years after the run's start at which the periods described end (the last runs to the end).
PERIOD_BREAKS = (5.0, 15.0)
#: How many mechanisms are named in each period.
TOP = 3
_ID = re.compile(r"^[RB](\d+)")


def mechanism_of(loop_id: str) -> str:
    """Return the mechanism number a loop belongs to, after folding bookkeeping.

    Examples: ``R1g`` -> ``"1"``, ``R16b`` -> ``"1"``, ``B15l`` -> ``"1"``, ``B15`` -> ``"15"``.
    """
    if BOOKKEEPING.match(loop_id):
        return "1"
    found = _ID.match(loop_id)
    number = found.group(1) if found else loop_id
    return FOLDED.get(number, number)


def _folded(loop_id: str) -> bool:
    """Say whether a loop counts for another mechanism than its own number's."""
    found = _ID.match(loop_id)
    return bool(BOOKKEEPING.match(loop_id)) or (found is not None and found.group(1) in FOLDED)


@dataclass(frozen=True)
class Leader:
    """A mechanism that matters in a period.

    Attributes
    ----------
    name, explanation : str
        From :data:`MECHANISMS` (the loop's own inventory name for a number not listed there).
    share : float
        Its share of the loops' activity in the period [1].
    loops : tuple of str
        Its most active loops' ids, most active first: its own loops, not those folded into it
        (unless only those are active).
    """

    name: str
    explanation: str
    share: float
    loops: tuple[str, ...]


def leaders(ds: xr.Dataset, top: int = TOP) -> list[tuple[float, float, list[Leader]]]:
    """Return the mechanisms that matter most in each period of a scored run.

    Parameters
    ----------
    ds : xarray.Dataset
        ``score`` over (``loop``, ``time``) with a ``name`` coordinate on ``loop``: one cycle
        partition of :func:`debtloops.loops.dominance.loop_dominance` (its main one).
    top : int
        How many mechanisms to name per period.

    Returns
    -------
    list
        ``(start, end, leaders)`` per period [year], leaders by share, largest first; a period
        with no activity has none.
    """
    time = ds["time"].to_numpy()
    start, final = float(time[0]), float(time[-1])
    bounds = [start, *(start + b for b in PERIOD_BREAKS if start + b < final), final]
    magnitude = np.abs(ds["score"].to_numpy())
    ids = [str(i) for i in ds["loop"].to_numpy()]
    names = dict(zip(ids, (str(n) for n in ds["name"].to_numpy()), strict=True))
    groups: dict[str, list[int]] = {}
    for row, loop_id in enumerate(ids):
        groups.setdefault(mechanism_of(loop_id), []).append(row)
    periods = []
    for low, high in zip(bounds[:-1], bounds[1:], strict=True):
        steps = (time >= low) & (time <= high)
        activity = magnitude[:, steps].mean(axis=1)
        total = float(activity.sum())
        found = []
        if total > 0:
            for number, rows in groups.items():
                weight = float(activity[rows].sum())
                if weight <= 0:
                    continue
                ordered = sorted(rows, key=lambda r: -activity[r])
                first = ids[ordered[0]]
                name, text = MECHANISMS.get(number, (names[first], ""))
                active = [ids[r] for r in ordered if activity[r] > 0]
                own = [i for i in active if not _folded(i)]  # name the mechanism's own loops
                busy = tuple(own or active)[:TOP]
                found.append(Leader(name, text, weight / total, busy))
        found.sort(key=lambda leader: -leader.share)
        periods.append((low, high, found[:top]))
    return periods
