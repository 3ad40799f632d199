"""``debtloops diagram``: the loops, their polarity and dominance, and diagrams for a scenario.

Writes into ``--out DIR``:

- first ``overview.dot/.svg/.png``, the principal loops over about twenty variables, readable on
  one A4 page (see :func:`debtloops.loops.overview.overview_graph`);
- ``cld.dot/.svg/.png``, ``cld.mmd``, ``stock_flow.dot/.svg/.png`` and ``loop_<id>.dot/.svg/.png``
  for each *named* loop of the inventory (see :mod:`debtloops.figures.diagrams`);
- ``loops.csv`` and ``loops.json``: every loop of the model, named or in a family (see
  :func:`debtloops.loops.inventory.assign_families`): its id (the named loop's, or the family's id
  and an index, ``T.12``), family, name, polarity stated by the inventory (named loops only) and
  measured on the scenario's run, variables, length, and mean and peak absolute loop score;
- ``dominance.nc`` (loop x time scores from Simlin's Loops That Matter, every loop pinned),
  ``dominance.png`` and ``dominance.csv`` (which loop dominates in which period);
- ``polarity_check.csv``: links whose polarity Simlin reports differently from the measurement.

Link polarities are measured on the scenario's run; a link that is dormant there (its source has no
effect at any operating point, as behind a switch that is off) is drawn with the sign measured over
all shipped scenarios. Parameter overrides (``--set``) and a last year (``--final-time``) apply to
the scenario's run and to those other runs alike.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.errors import InputError, unknown_name
from debtloops.figures import diagrams
from debtloops.figures.dominance import plot_dominance
from debtloops.io import atomic_file, check_targets, output_lock
from debtloops.loops.dominance import dominance_table, loop_dominance, polarity_disagreements
from debtloops.loops.graph import causal_graph, find_loops, loop_polarity, measure_polarities
from debtloops.loops.inventory import (
    Assignment,
    Family,
    NamedLoop,
    assign_families,
    label_loops,
    read_families,
    read_inventory,
)
from debtloops.model.parameters import Value
from debtloops.model.run import PreparedRun, prepare
from debtloops.model.scenarios import list_scenarios

#: The tables and the dominance chart written beside the diagrams.
TABLE_NAMES = ("loops.csv", "loops.json", "dominance.nc", "dominance.csv", "polarity_check.csv")
DOMINANCE_CHART = "dominance.png"


def _csv_text(rows: Sequence[Mapping[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_loop_report(
    out_dir: Path,
    scenario: str = "baseline",
    loop: str | None = None,
    cbo: str | Path | None = None,
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
) -> list[Path]:
    """Measure, score and draw the model's loops for a scenario.

    Parameters
    ----------
    out_dir : Path
        The output folder.
    scenario : str
        The scenario whose run gives the operating points and loop scores.
    loop : str, optional
        Draw only this loop's highlighted diagram (a named loop's id or name); by default one
        diagram per named loop. Loops in families get no diagram of their own.
    cbo : str or Path, optional
        The CBO vintage of the runs measured (``--cbo``), a shipped name or a folder; each
        scenario's own by default.
    overrides : mapping, optional
        Parameter values that replace the scenario's (``--set``), by parameter name; they apply to
        the runs that measure the links' polarities too.
    final_time : float, optional
        The last year simulated [year] (``--final-time``); the table's ``final_time`` by default.

    Returns
    -------
    list of Path
        The files written, the overview diagram's first.

    Raises
    ------
    InputError
        On an unknown scenario or loop, or an output folder that cannot be written; nothing is
        written then.
    """
    if scenario not in list_scenarios():
        raise unknown_name("scenario", scenario, list_scenarios())
    inventory = read_inventory()
    if loop is not None:
        diagrams.select_loop(inventory, loop)
    values = dict(overrides or {})
    if final_time is not None:
        values["final_time"] = final_time
    run = prepare(scenario, values, cbo=cbo)  # refuses bad overrides before anything is written
    names = [*diagrams.file_names(inventory, loop), *TABLE_NAMES, DOMINANCE_CHART]
    check_targets(out_dir, names)  # before anything runs; again as each file is written
    with output_lock(out_dir):
        return _measure_and_write(out_dir, run, values, loop, inventory, cbo)


def _labelled_loops(
    graph: nx.DiGraph,
    inventory: Sequence[NamedLoop],
    families: Sequence[Family],
    pooled: Mapping[tuple[str, str], str],
) -> tuple[Assignment, list[NamedLoop]]:
    """Assign every loop of the model to a named loop or a family, or refuse a stale inventory."""
    assignment = assign_families(find_loops(graph), inventory, families)
    if not assignment.complete:
        raise InputError(
            "models/README.md is out of date with the model: "
            f"{len(assignment.unassigned)} loop(s) neither named nor in a family, "
            f"{len(assignment.missing)} named but absent, "
            f"{len(assignment.empty)} famil(ies) matching no loop"
        )
    return assignment, label_loops(assignment, families, pooled)


def _loop_rows(
    labelled: Sequence[NamedLoop],
    inventory: Sequence[NamedLoop],
    assignment: Assignment,
    measured: Mapping[tuple[str, str], str],
    dominance: xr.Dataset,
) -> list[dict[str, object]]:
    """Return one row of ``loops.csv`` per loop: its family, polarities, variables and scores."""
    # a new holder's copy of a named loop states the polarity of the loop it copies
    named_ids = {entry.id for entry in [*inventory, *assignment.copies.values()]}
    family_of = {
        f"{family_id}.{index}": family_id
        for family_id, members in assignment.families.items()
        for index in range(1, len(members) + 1)
    }
    # each loop's mean and peak over the run, reduced along time for all loops at once
    magnitude = abs(dominance["score"])
    ids = [str(loop_id) for loop_id in dominance["loop"].values]
    means = dict(zip(ids, magnitude.mean("time").values.tolist(), strict=True))
    peaks = dict(zip(ids, magnitude.max("time").values.tolist(), strict=True))
    rows: list[dict[str, object]] = []
    for entry in labelled:
        named = entry.id in named_ids
        scored = entry.id in means
        rows.append(
            {
                "id": entry.id,
                "family": family_of.get(entry.id, ""),
                "name": entry.name,
                "polarity": entry.polarity if named else "",
                "measured_polarity": loop_polarity(entry.variables, measured),
                "variables": " -> ".join(entry.variables),
                "length": len(entry.variables),
                "mean_abs_score": means[entry.id] if scored else "",
                "peak_abs_score": peaks[entry.id] if scored else "",
            }
        )
    return rows


def _measure_and_write(
    out_dir: Path,
    run: PreparedRun,
    overrides: Mapping[str, Value],
    loop: str | None,
    inventory: Sequence[NamedLoop],
    cbo: str | Path | None = None,
) -> list[Path]:
    """Score and draw the prepared run's loops into ``out_dir``, whose lock the caller holds."""
    scenario = run.scenario.name
    graph = causal_graph()
    measured = measure_polarities(graph, [scenario], overrides, cbo=cbo)
    pooled = measure_polarities(graph, list_scenarios(), overrides, cbo=cbo)
    shown = {edge: sign if sign != "0" else pooled[edge] for edge, sign in measured.items()}
    families = read_families()
    assignment, labelled = _labelled_loops(graph, inventory, families, pooled)
    dominance = loop_dominance(run.values, labelled)
    rows = _loop_rows(labelled, inventory, assignment, measured, dominance)
    # the diagrams first, the overview leading them, so that it is the first file written and named
    written = diagrams.write_all(out_dir, graph, shown, inventory, only_loop=loop)
    description = {
        "scenario": scenario,
        "cbo_vintage": run.vintage.name if run.vintage is not None else None,
        "families": [
            {"id": f.id, "name": f.name, "links": [list(link) for link in f.links]}
            for f in families
        ],
        "loops": rows,
    }
    disagreements = polarity_disagreements(measured)
    check_rows = [
        {"source": s, "target": t, "measured": m, "simlin": k} for s, t, m, k in disagreements
    ] or [{"source": "", "target": "", "measured": "", "simlin": ""}]
    targets = {
        "loops.csv": lambda p: p.write_text(_csv_text(rows), encoding="utf-8"),
        "loops.json": lambda p: p.write_text(json.dumps(description, indent=2), encoding="utf-8"),
        "dominance.nc": lambda p: write_netcdf(
            dominance, p, "debtloops diagram wrote dominance.nc"
        ),
        "dominance.csv": lambda p: dominance_table(dominance).to_csv(p, index=False),
        "polarity_check.csv": lambda p: p.write_text(_csv_text(check_rows), encoding="utf-8"),
    }
    for name, write in targets.items():
        atomic_file(out_dir / name, write)
        written.append(out_dir / name)
    plot_dominance(dominance, out_dir / DOMINANCE_CHART, scenario)
    written.append(out_dir / DOMINANCE_CHART)
    return written
