"""Time ``debtloops fan``: 10,000 shocked draws of ``japan_full`` and its baseline over 30 years.

Run with ``.venv/bin/python benchmarks/fan_speed.py [--draws N]``. The goal is 10,000
draws over 30 years in under 60 s on the 2-core development machine. The ensemble translation for
the size (draws + 1, the unshocked run) is made and cached before the clock starts; the figure
covers the draws, the two ensembles (the scenario and its baseline) and the fans.
"""

import argparse
import os
import time

from debtloops.fan import fan
from debtloops.model import ensemble

SCENARIO = "japan_full"
DRAWS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=DRAWS)
    draws = parser.parse_args().draws
    start = time.perf_counter()
    ensemble.build(draws + 1)
    translate = time.perf_counter() - start
    start = time.perf_counter()
    dataset = fan(SCENARIO, draws)
    total = time.perf_counter() - start
    print(f"translate the ensemble of {draws + 1:,} (once)      {translate:8.1f} s")
    print(f"fan of {SCENARIO}, {draws:,} draws x 2 cases, 30 years {total:8.1f} s")
    print(f"of which the draws and the runs                 {dataset.attrs['seconds']:8.1f} s")
    print(f"load average (1 min) at the end                 {os.getloadavg()[0]:8.1f}")


if __name__ == "__main__":
    main()
