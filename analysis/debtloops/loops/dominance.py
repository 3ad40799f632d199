"""Which feedback loops drive a run: Simlin's link polarities and Loops That Matter scores.

Simlin (the ``pysimlin`` package, run through :mod:`debtloops.model.simlin`) reads the .mdl
itself; the loops scored are those of the inventory (:mod:`debtloops.loops.inventory`).

Link polarities (:func:`link_polarities`, :func:`polarity_disagreements`)
    Simlin's static polarity of each link (``Model.get_links()``): ``+``, ``-``, or ``?`` where the
    equation's monotonicity cannot be proved (a power with a variable exponent, ``MIN``/``MAX``,
    ``STEP``, a ratio whose denominator also varies, ...). Given a scenario's values, a ``?`` link
    is resolved by the sign of Simlin's own LTM link scores along that run when every non-zero score
    has the same sign (a link score carries the sign of the target's partial change per change of
    the source). Flow -> stock links need no translation: Simlin draws one per inflow (``+``) and
    outflow (``-``), which are exactly the stock inputs of
    :func:`debtloops.loops.graph.causal_graph` and the signs
    :func:`debtloops.loops.graph.measure_polarities` finds for them (the partial effect of a flow on
    the stock's net rate); neither engine draws a link from a stock's initial-value equation.
    Constants (variables with no inputs) are left out unless asked for, as in ``causal_graph()``.
    One structural difference remains and is reported, not hidden: Simlin draws ``market yield ->
    representative bond coupon`` for ``INITIAL(market yield)``, a dependency the pysd graph folds
    away because an ``INITIAL()`` value is constant after the start (the link is in no loop). A
    stock whose ``INTEG`` has an expression rather than a flow variable (``price level = INTEG(price
    level * inflation, ...)``) gets a flow that Simlin synthesises, ``<stock>_net_flow``, which the
    .mdl does not name; pysd's graph has the expression's inputs as the stock's inputs. So Simlin's
    ``inflation -> price_level_net_flow -> price_level`` is folded into ``inflation -> price level``
    (the sign of the first link times the sign of the second), and ``price_level ->
    price_level_net_flow``, the stock's dependency on itself, is dropped as
    :func:`debtloops.loops.graph.causal_graph` drops it.

Loop dominance (:func:`loop_dominance`)
    The scores come from :func:`debtloops.loops.scoring.simlin_scores` (kept in the loop cache).
    The model's largest strongly connected component is above Simlin's gate for exhaustive loop
    enumeration, so LTM resolves to *discovery* mode, in which only pinned loops are scored. Every
    loop asked for is pinned with ``set_loop_name(id, variables)`` inside ``Model.edit()``; Simlin
    recovers each cycle from its variables and scores it. A loop into a stock with a synthesised
    flow is pinned with that flow inserted before the stock. Simlin's scored loops are matched back
    to the inventory by their set of links, the synthesised flows folded away again. Simlin names a
    pinned loop by its set of variables, so of two loops with the same variables in different
    orders only the first is pinned. The score is Simlin's relative loop score
    (``Sim.get_relative_loop_score``): the loop's signed share of the total absolute loop score of
    its *cycle partition* (a group of stocks connected by feedback), in [-1, 1]. Pinned loops in
    one partition are normalised against each other; when every loop of the model is pinned
    (``debtloops diagram`` pins the named loops and every family's loops), that is the full Loops
    That Matter normalisation; with fewer pinned, a score is a share among those pinned. Scores
    are comparable only within a partition: a loop alone in its partition (``R7``, the baseline's
    GDP compounding) reads +-1 whenever it is active, by construction. LTM scores need a change
    since the previous step, so the first saved step has none; Simlin reports 0 there, and any
    other undefined (NaN) score is set to 0 the same way (no share of the partition's activity),
    counted in the attrs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import simlin
import xarray as xr

from debtloops.errors import InputError
from debtloops.loops.inventory import NamedLoop
from debtloops.loops.scoring import LoopScores, simlin_scores
from debtloops.model import simlin as simlin_engine
from debtloops.model.parameters import Value

#: Definite link signs.
_DEFINITE = ("+", "-")
#: What :func:`polarity_disagreements` reports for a link one engine does not draw.
ABSENT = "absent"


def _fold_links(
    polarities: Mapping[tuple[str, str], str], synthesised: Mapping[str, tuple[str, int]]
) -> dict[tuple[str, str], str]:
    """Fold ``a -> <stock>_net_flow -> stock`` into ``a -> stock``; drop the stock's self-link."""
    flip = {"+": "-", "-": "+"}
    folded: dict[tuple[str, str], str] = {}
    for (source, target), sign in polarities.items():
        if source in synthesised:
            continue
        if target in synthesised:
            stock, direction = synthesised[target]
            if source == stock:
                continue
            folded[(source, stock)] = sign if direction > 0 else flip.get(sign, sign)
        else:
            folded[(source, target)] = sign
    return folded


def _score_sign(score: np.ndarray | None) -> str:
    if score is None:
        return "?"
    finite = score[np.isfinite(score)]
    nonzero = finite[finite != 0]
    if nonzero.size == 0:
        return "?"
    if (nonzero > 0).all():
        return "+"
    if (nonzero < 0).all():
        return "-"
    return "?"


def link_polarities(
    values: Mapping[str, Value] | None = None, include_constants: bool = False
) -> dict[tuple[str, str], str]:
    """Return Simlin's polarity of every causal link, keyed by .mdl names.

    Parameters
    ----------
    values : mapping, optional
        A scenario's parameter values (see :func:`simulate`). Without them the polarities are
        Simlin's static analysis alone; with them, a link the static analysis leaves ``?`` takes
        the sign of its LTM link scores along that run when every non-zero score has one sign.
    include_constants : bool
        Also return the links out of constants (variables with no inputs).

    Returns
    -------
    dict
        ``(source, target) -> "+" | "-" | "?"``.
    """
    model, overrides = simlin_engine.prepared_model(values or {})
    links = model.get_links()
    targets = {link.to_var for link in links}
    stocks = set(model.get_var_names(simlin.VARTYPE_STOCK))
    constants = {link.from_var for link in links} - targets - stocks
    polarities: dict[tuple[str, str], str] = {}
    for link in links:
        if link.from_var in constants and not include_constants:
            continue
        polarities[(link.from_var, link.to_var)] = str(link.polarity)
    if values is not None and "?" in polarities.values():
        sim = model.simulate(overrides=overrides, enable_ltm=True)
        sim.run_to_end()
        for link in sim.get_links():
            key = (link.from_var, link.to_var)
            if polarities.get(key) == "?":
                polarities[key] = _score_sign(link.score)
    polarities = _fold_links(polarities, simlin_engine.synthesised_flows(model))
    return {
        (simlin_engine.mdl_name(a), simlin_engine.mdl_name(b)): sign
        for (a, b), sign in polarities.items()
    }


def polarity_disagreements(
    measured: Mapping[tuple[str, str], str],
    polarities: Mapping[tuple[str, str], str] | None = None,
) -> list[tuple[str, str, str, str]]:
    """List the links on which the measured polarities and Simlin's differ.

    Parameters
    ----------
    measured : mapping
        ``(source, target) -> sign`` from :func:`debtloops.loops.graph.measure_polarities`.
    polarities : mapping, optional
        Simlin's polarities; :func:`link_polarities` without constants (the links of
        ``causal_graph()``) by default.

    Returns
    -------
    list of tuple
        ``(source, target, measured, simlin)``, sorted: every link where both signs are definite
        (``+``/``-``) and differ, and every link only one engine draws, with ``"absent"`` for the
        other side.
    """
    simlin_signs = link_polarities() if polarities is None else polarities
    found = []
    for link in sorted(set(measured) | set(simlin_signs)):
        ours = measured.get(link, ABSENT)
        theirs = simlin_signs.get(link, ABSENT)
        structural = ABSENT in (ours, theirs)
        conflicting = ours in _DEFINITE and theirs in _DEFINITE and ours != theirs
        if structural or conflicting:
            found.append((link[0], link[1], ours, theirs))
    return found


def _loop_coords(
    kept: Sequence[NamedLoop], scores: LoopScores, rows: Sequence[int]
) -> dict[str, object]:
    """Return the coordinates of the scores: each loop's id, name, polarities and partition."""
    return {
        "loop": ("loop", [loop.id for loop in kept], {"long_name": "loop id (models/README.md)"}),
        "name": ("loop", [loop.name for loop in kept], {"long_name": "loop name"}),
        "polarity": (
            "loop",
            [loop.polarity for loop in kept],
            {"long_name": "loop polarity: R, B, ? (a link changes sign) or 0 (a dormant link)"},
        ),
        "simlin_polarity": (
            "loop",
            [scores.simlin_polarity[row] for row in rows],
            {"long_name": "loop polarity as Simlin reports it"},
        ),
        "partition": (
            "loop",
            [scores.partition[row] for row in rows],
            {"long_name": "cycle partition of the loop (scores are shares within it)"},
        ),
        "time": xr.DataArray(
            scores.time, dims="time", attrs={"units": "year", "long_name": "decimal fiscal year"}
        ),
    }


def _dominance_attrs(
    scores: LoopScores, replaced: int, unscored: Sequence[str]
) -> dict[str, object]:
    """Return the attributes of the scores: the engine and mode, the method, what is left out."""
    return {
        "title": "Loops That Matter: relative loop scores from Simlin",
        "engine": "simlin",
        "simlin_version": simlin_engine.SIMLIN_VERSION,
        "ltm_mode": scores.mode,
        "method": (
            "each loop pinned with set_loop_name() in Model.edit(); relative loop score from "
            "Sim.get_relative_loop_score(), normalised within the loop's cycle partition"
        ),
        "undefined_scores": (
            "the first saved step has no previous step, so no LTM score; Simlin reports 0 there; "
            "any other non-finite score is also set to 0"
        ),
        "nonfinite_replaced": replaced,
        "partitions": scores.partitions,
        "unscored": ", ".join(unscored),
    }


def loop_dominance(values: Mapping[str, Value], loops: Sequence[NamedLoop]) -> xr.Dataset:
    """Score the given loops over a run with Simlin's Loops That Matter implementation.

    Scoring every loop of the model takes a few minutes, so Simlin's scores are kept in the loop
    cache (:mod:`debtloops.loops.cache`), keyed on the values, the loops, the .mdl and this code.

    Parameters
    ----------
    values : mapping
        A scenario's parameter values (see :func:`simulate`).
    loops : sequence of NamedLoop
        The loops to score, e.g. :func:`debtloops.loops.inventory.read_inventory`; each is pinned in
        Simlin.

    Returns
    -------
    xarray.Dataset
        ``score`` (``loop``, ``time``): Simlin's relative loop score [1], in [-1, 1], the loop's
        signed share of its cycle partition's loop activity at each saved step (``time`` [year]).
        Coordinates on ``loop``: the inventory ``name`` and ``polarity``, Simlin's runtime
        ``simlin_polarity`` (R, B, Rux, Bux or U) and the ``partition`` index. Loops Simlin does
        not score are left out and named in ``attrs["unscored"]``; so is a loop with the same
        variables as an earlier one in ``loops`` (the same variables in another order), which
        Simlin cannot tell apart from it and so is not pinned.

    Raises
    ------
    ValueError
        If no loop is given.
    InputError
        If a loop names a variable the model does not have.
    """
    if not loops:
        raise ValueError("no loops to score")
    scores = simlin_scores(values, loops)
    row_of = {loop_id: row for row, loop_id in enumerate(scores.ids)}
    kept = [loop for loop in loops if loop.id in row_of]
    rows = [row_of[loop.id] for loop in kept]
    raw = scores.raw[rows] if rows else np.array([], dtype=float)
    undefined = ~np.isfinite(raw)
    data = xr.DataArray(
        np.where(undefined, 0.0, raw),
        dims=("loop", "time"),
        attrs={
            "units": "1",
            "long_name": "relative loop score (share of the cycle partition's loop activity)",
        },
    )
    unscored = [loop.id for loop in loops if loop.id not in row_of]
    attrs = _dominance_attrs(scores, int(undefined.sum()), unscored)
    coords = _loop_coords(kept, scores, rows)
    return xr.Dataset({"score": data}, coords=coords, attrs=attrs)


def main_partition(ds: xr.Dataset, partition: int | None) -> xr.Dataset:
    """Select the loops of one cycle partition: the one with the most loops by default.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`loop_dominance`.
    partition : int, optional
        The partition's index; by default the partition with the most loops.

    Returns
    -------
    xarray.Dataset
        ``ds`` restricted to that partition's loops.

    Raises
    ------
    InputError
        If no loop is in that partition.
    """
    if "partition" not in ds.coords:
        return ds
    parts = ds["partition"].to_numpy()
    if partition is None:
        values, counts = np.unique(parts, return_counts=True)
        partition = int(values[np.argmax(counts)])
    selected = ds.isel(loop=np.flatnonzero(parts == partition))
    if selected.sizes["loop"] == 0:
        raise InputError(f"no loop in partition {partition}")
    return selected


def dominance_table(ds: xr.Dataset, partition: int | None = None) -> pd.DataFrame:
    """Return the periods in which one loop has the largest share of its partition's activity.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`loop_dominance`.
    partition : int, optional
        The cycle partition whose loops compete; the one with the most loops by default. Scores
        of different partitions are not comparable.

    Returns
    -------
    pandas.DataFrame
        One row per period, in time order: ``start`` and ``end`` [year] (a period ends where the
        next starts; the last ends at the final time, so the periods tile the run), the dominant
        ``loop`` id, its ``name`` and ``polarity``, and its ``mean_abs_score`` [1] over the period.
        Where no loop is active (every score 0, as at the first step) ``loop`` is ``None``.
    """
    sub = main_partition(ds, partition)
    magnitude = np.abs(sub["score"].to_numpy())
    time = sub["time"].to_numpy()
    best = magnitude.argmax(axis=0)
    active = magnitude.max(axis=0) > 0
    ids = sub["loop"].to_numpy()
    names = sub["name"].to_numpy()
    polarities = sub["polarity"].to_numpy()
    winners = [int(b) if a else -1 for b, a in zip(best, active, strict=True)]
    rows = []
    start = 0
    for step in range(1, len(time) + 1):
        if step < len(time) and winners[step] == winners[start]:
            continue
        which = winners[start]
        end = time[step] if step < len(time) else time[-1]
        rows.append(
            {
                "start": float(time[start]),
                "end": float(end),
                "loop": None if which < 0 else str(ids[which]),
                "name": None if which < 0 else str(names[which]),
                "polarity": None if which < 0 else str(polarities[which]),
                "mean_abs_score": 0.0 if which < 0 else float(magnitude[which, start:step].mean()),
            }
        )
        start = step
    return pd.DataFrame(
        rows, columns=["start", "end", "loop", "name", "polarity", "mean_abs_score"]
    )
