"""Time the model: translation, loading, and one 30-year run, and print the figures.

Run with ``make bench`` or ``.venv/bin/python benchmarks/run_speed.py``. The goal is one
30-year run in under 1 s after translation on a 2-core machine.
"""

import statistics
import time

from debtloops.model import engine
from debtloops.model.run import execute, prepare

REPEATS = 20


def _seconds(action, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    translate = _seconds(lambda: engine.build(force=True), 1)[0]
    load = _seconds(engine.load, REPEATS)
    run = prepare("japan_full")
    simulate = _seconds(lambda: engine.simulate(run.values), REPEATS)
    full = _seconds(lambda: execute(run), REPEATS)
    rows = [
        ("translate the .mdl (once)", translate, ""),
        ("load the translated model", statistics.median(load), " (median)"),
        ("simulate 30 years at dt = 1/16, load included", statistics.median(simulate), " (median)"),
        ("run, check and label as xarray", statistics.median(full), " (median)"),
        (f"slowest of {REPEATS} full runs", max(full), ""),
    ]
    for label, seconds, note in rows:
        print(f"{label:<48} {seconds:7.3f} s{note}")


if __name__ == "__main__":
    main()
