"""Simlin's Loops That Matter scores of chosen loops over a run, kept in the loop cache.

:func:`simlin_scores` pins every loop asked for in Simlin (``set_loop_name`` inside
``Model.edit()``), runs the model with LTM and collects each loop's relative loop score, runtime
polarity and cycle partition; :func:`debtloops.loops.dominance.loop_dominance` turns them into a
Dataset. Pinning and scoring every loop of the model takes a few minutes, most of it inside
Simlin, so the scores are kept in the loop cache (:mod:`debtloops.loops.cache`), keyed on the
parameter values, the loops, the .mdl and this code.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import simlin
from simlin.errors import SimlinRuntimeError

from debtloops.loops import cache
from debtloops.loops.inventory import NamedLoop, loop_key
from debtloops.model import engine as model_module
from debtloops.model import simlin as simlin_engine
from debtloops.model.parameters import Value


def simlin_scores(values: Mapping[str, Value], loops: Sequence[NamedLoop]) -> LoopScores:
    """Return Simlin's scores of ``loops`` over a run with ``values``, from the cache if there.

    Parameters
    ----------
    values : mapping
        A scenario's parameter values.
    loops : sequence of NamedLoop
        The loops to pin and score.

    Returns
    -------
    LoopScores
        The scored loops (those Simlin scores, in the order of ``loops``), their scores and the
        run's times.

    Raises
    ------
    InputError
        If a loop names a variable the model does not have.
    """
    return cache.cached(
        "dominance",
        {
            "values": cache.plain_values(values),
            "loops": [[loop.id, loop.name, loop.polarity, loop.variables] for loop in loops],
        },
        [sys.modules[__name__], simlin_engine, model_module],
        lambda: _compute(values, loops),
        _encode,
        _decode,
    )


#: The most loops pinned in one Simlin patch. Pinning all 50,391 distinct loops of japan_full took
#: 176 s in one patch, 88 s in patches of 5,000 and 81 s in patches of 2,000 (2-core machine,
#: 7 Dec 2026); the scores are the same.
PIN_BATCH = 5000


def _distinct(loops: Sequence[NamedLoop]) -> list[NamedLoop]:
    """Return the loops to pin: of loops with the same variables, only the first."""
    seen: set[frozenset[str]] = set()
    pinned = []
    for loop in loops:
        members = frozenset(loop.variables)
        if members not in seen:
            seen.add(members)
            pinned.append(loop)
    return pinned


def _pin(model: simlin.Model, pinned: Sequence[NamedLoop], inflow_of: Mapping[str, str]) -> None:
    """Pin each loop in Simlin, a synthesised flow inserted before the stock it fills.

    The loops go in patches of :data:`PIN_BATCH`: Simlin's time to apply one patch grows faster
    than the number of loops in it.
    """
    for first in range(0, len(pinned), PIN_BATCH):
        with model.edit() as (_, patch):
            for loop in pinned[first : first + PIN_BATCH]:
                idents: list[str] = []
                for name in loop.variables:
                    ident = simlin_engine.simlin_ident(name)
                    if ident in inflow_of:
                        idents.append(inflow_of[ident])
                    idents.append(ident)
                patch.set_loop_name(loop.id, idents, description=loop.name)


def _scored_loops(
    sim: simlin.Sim, pinned: Sequence[NamedLoop], synthesised: Mapping[str, object]
) -> dict[str, tuple[simlin.Loop, np.ndarray]]:
    """Match Simlin's scored loops to the pinned ones by their links, synthesised flows folded.

    Returns each pinned loop's id with Simlin's loop and its relative score at each saved step.
    The run's loops are read from the simulation itself (``Sim.get_loops_runtime``), not through
    ``Sim.get_run()``, which would also work out dominant periods that are not used here.
    """
    by_key = {loop.key: loop for loop in pinned}
    scored: dict[str, tuple[simlin.Loop, np.ndarray]] = {}
    for found in sim.get_loops_runtime():
        path = [simlin_engine.mdl_name(v) for v in found.variables if v not in synthesised]
        entry = by_key.get(loop_key(path))
        if entry is None:
            continue
        try:
            score = sim.get_relative_loop_score(found.id)
        except SimlinRuntimeError:  # no score for this loop in this run
            continue
        if entry.id not in scored or found.name == entry.id:
            scored[entry.id] = (found, score)
    return scored


@dataclass(frozen=True)
class LoopScores:
    """Simlin's scores of one run's loops, from which :func:`loop_dominance` builds its Dataset.

    Attributes
    ----------
    ids, simlin_polarity, partition : tuple
        The scored loops' ids, in the order they were asked for, with Simlin's runtime polarity
        and cycle partition of each (-1 for none).
    time : numpy.ndarray
        The saved times [year].
    raw : numpy.ndarray
        The relative loop scores (``ids``, ``time``) [1], NaN where Simlin has none.
    mode : str
        The LTM mode Simlin ran in.
    partitions : str
        Each cycle partition's index and stocks (.mdl names), for the Dataset's attributes.
    """

    ids: tuple[str, ...]
    simlin_polarity: tuple[str, ...]
    partition: tuple[int, ...]
    time: np.ndarray
    raw: np.ndarray
    mode: str
    partitions: str


def _compute(values: Mapping[str, Value], loops: Sequence[NamedLoop]) -> LoopScores:
    """Pin ``loops`` in Simlin, run it with Loops That Matter and collect the scores."""
    pinned = _distinct(loops)
    model, overrides = simlin_engine.prepared_model(values)
    synthesised = simlin_engine.synthesised_flows(model)
    _pin(model, pinned, {stock: flow for flow, (stock, _) in synthesised.items()})
    # Model.run() is not used: on this model it would warn that LTM fell back to discovery
    # whenever no loop is pinned; the Sim is driven directly and its mode is recorded instead.
    sim = model.simulate(overrides=overrides, enable_ltm=True)
    sim.run_to_end()
    mode = sim.get_ltm_mode()
    if mode == simlin.LtmMode.DISABLED:
        raise RuntimeError("Simlin did not enable LTM for this run")
    scored = _scored_loops(sim, pinned, synthesised)
    ids = tuple(dict.fromkeys(loop.id for loop in loops if loop.id in scored))
    partitions = "; ".join(
        f"{index}: {', '.join(simlin_engine.mdl_name(s) for s in part.stocks)}"
        for index, part in enumerate(model.loop_partitions)
    )
    return LoopScores(
        ids=ids,
        simlin_polarity=tuple(str(scored[i][0].polarity) for i in ids),
        partition=tuple(_partition(scored[i][0]) for i in ids),
        time=np.asarray(sim.get_series("time"), dtype=float),
        raw=np.array([scored[i][1] for i in ids], dtype=float),
        mode=str(mode),
        partitions=partitions,
    )


def _encode(scores: LoopScores) -> bytes:
    buffer = io.BytesIO()
    np.savez(
        buffer,
        ids=np.asarray(scores.ids),
        simlin_polarity=np.asarray(scores.simlin_polarity),
        partition=np.asarray(scores.partition, dtype=np.int64),
        time=scores.time,
        raw=scores.raw,
        mode=np.asarray(scores.mode),
        partitions=np.asarray(scores.partitions),
    )
    return buffer.getvalue()


def _decode(payload: bytes) -> LoopScores:
    with np.load(io.BytesIO(payload), allow_pickle=False) as stored:
        arrays = {field.name: stored[field.name] for field in fields(LoopScores)}
    scores = LoopScores(
        ids=tuple(str(i) for i in arrays["ids"].tolist()),
        simlin_polarity=tuple(str(p) for p in arrays["simlin_polarity"].tolist()),
        partition=tuple(int(p) for p in arrays["partition"].tolist()),
        time=arrays["time"],
        raw=arrays["raw"],
        mode=str(arrays["mode"]),
        partitions=str(arrays["partitions"]),
    )
    if scores.raw.shape != (len(scores.ids), scores.time.size) or not (
        len(scores.ids) == len(scores.simlin_polarity) == len(scores.partition)
    ):
        raise ValueError("a cached entry whose scores do not match its loops and times")
    return scores


def _partition(loop: simlin.Loop) -> int:
    return -1 if loop.partition is None else int(loop.partition)
