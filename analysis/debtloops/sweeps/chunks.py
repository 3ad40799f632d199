"""One chunk of a sweep, run where a worker runs it: simulate, check and write its samples.

A chunk is shipped everything it needs as a :class:`ChunkTask` (its rows of the design and the
runs' parameter values), runs each scenario as one ensemble simulation
(:mod:`debtloops.model.ensemble`), the baseline alongside with the same sampled values (for
``extra_interest``), and writes its own region of the store
(:func:`debtloops.sweeps.store.write_chunk`).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from debtloops.errors import ExecutionError, InputError
from debtloops.model import ensemble
from debtloops.model.contract import value_problems
from debtloops.model.parameters import ParameterTable, Value, validate
from debtloops.model.scenarios import REFERENCE
from debtloops.sweeps import store

#: The fewest runs in one ensemble simulation [1]: pysd drops the subscript of a one-run ensemble.
MIN_ENSEMBLE = 2
#: The model variable whose difference from the baseline's is ``extra_interest`` [billion USD].
INTEREST = "cumulative_net_interest"


@dataclass(frozen=True)
class ChunkTask:
    """Everything one chunk needs, shipped to the worker that runs it.

    Attributes
    ----------
    index, start : int
        The chunk's number and its first sample.
    size : int
        The padded size of every chunk's ensemble (the chunk size) [1].
    rows : numpy.ndarray
        The chunk's rows of the design, shape ``(samples, len(names))``.
    names : tuple of str
        The design's columns.
    scenarios, outcomes : tuple of str
        The specification's scenarios and outcomes.
    runs : tuple of str
        The scenarios simulated, the reference included.
    base_values : dict
        Each run's parameter values before sampling.
    internal : tuple of str
        The model variables read from each run.
    n_times : int
        The saved times the store expects [1].
    table : ParameterTable or None
        Set when sampled values must be checked against each other.
    store : str
        The store to write into.
    """

    index: int
    start: int
    size: int
    rows: np.ndarray
    names: tuple[str, ...]
    scenarios: tuple[str, ...]
    outcomes: tuple[str, ...]
    runs: tuple[str, ...]
    base_values: dict[str, dict[str, Value]]
    internal: tuple[str, ...]
    n_times: int
    table: ParameterTable | None
    store: str


def _row_errors(task: ChunkTask, run: str) -> list[str]:
    """Check the samples whose values must agree with each other (a sale within the holdings)."""
    if task.table is None:
        return [""] * len(task.rows)
    errors = []
    for row in task.rows:
        try:
            sampled = dict(zip(task.names, map(float, row), strict=True))
            validate(task.table, {**task.base_values[run], **sampled})
            errors.append("")
        except InputError as error:
            errors.append(str(error))
    return errors


def _simulate(task: ChunkTask, run: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Run one scenario of a chunk.

    Returns
    -------
    values : dict of str to numpy.ndarray
        The outcomes and cumulative interest, shape ``(samples, times)`` [their units], NaN for a
        sample that failed; the other variables read for the checks are dropped at once.
    errors : list of str
        Per sample, why it failed ("" if it ran).
    """
    n = len(task.rows)
    # Pad the last chunk to the full size, so every chunk uses the same translated model.
    # An ensemble of one run is translated without its subscript and fails: pad that to two.
    width = max(task.size, MIN_ENSEMBLE)
    padded = np.concatenate([task.rows, np.repeat(task.rows[:1], width - n, axis=0)])
    row_errors = _row_errors(task, run) + [""] * (width - n)
    for i, message in enumerate(row_errors):
        if message:
            padded[i] = task.rows[0]  # a placeholder; its results are discarded
    sampled = {name: padded[:, j] for j, name in enumerate(task.names)}
    kept = dict.fromkeys([*task.outcomes, INTEREST])
    values: dict[str, np.ndarray] | None = None
    try:
        times, values = ensemble.simulate(task.base_values[run], sampled, task.internal)
        if len(times) != task.n_times:
            raise ExecutionError(f"the run saved {len(times)} times, the store {task.n_times}")
        found = value_problems(values, times)
        errors = [a or b for a, b in zip(row_errors, found, strict=True)][:n]
        failed = np.array([bool(e) for e in errors], dtype=bool)
        result = {name: np.array(values[name][:n], dtype=np.float64) for name in kept}
        for array in result.values():
            array[failed] = np.nan
    except Exception as error:  # noqa: BLE001 - a failed chunk is recorded, the sweep goes on
        errors = [f"{type(error).__name__}: {error}"] * n
        result = {name: np.full((n, task.n_times), np.nan) for name in kept}
    values = None  # every variable read for the checks, dropped before the next run
    # A loaded pysd model is a web of reference cycles holding the run's arrays; Python's cycle
    # collector counts objects, not bytes, so without this dead models pile up run after run.
    gc.collect()
    return result, errors


def run_chunk(task: ChunkTask) -> int:
    """Run one chunk of a sweep and write it into its region of the store.

    Parameters
    ----------
    task : ChunkTask
        The chunk.

    Returns
    -------
    int
        The number of samples that failed in at least one scenario [1].
    """
    results = {run: _simulate(task, run) for run in task.runs}

    def series(run: str, name: str) -> np.ndarray:
        return results[run][0][name]

    outcomes = {name: np.stack([series(s, name) for s in task.scenarios]) for name in task.outcomes}
    reference = series(REFERENCE, INTEREST)
    outcomes[store.EXTRA_INTEREST] = np.stack(
        [series(s, INTEREST) - reference for s in task.scenarios]
    )
    reference_errors = results[REFERENCE][1]
    messages = [
        [
            e or (f"baseline reference: {r}" if r else "")
            for e, r in zip(results[s][1], reference_errors, strict=True)
        ]
        for s in task.scenarios
    ]
    store.write_chunk(Path(task.store), task.index, task.start, outcomes, messages)
    return int(np.any(np.array(messages) != "", axis=0).sum())
