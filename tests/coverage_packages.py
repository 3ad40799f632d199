"""Print the test coverage of each debtloops package from coverage.py's JSON report.

``make test`` runs it after pytest: ``python tests/coverage_packages.py coverage.json``. A
package is a folder under ``analysis/debtloops/``; the modules directly in that folder are
listed as ``debtloops``. The figures are line coverage [%] of the code the tests ran in the pytest
processes (commands run as subprocesses are not traced).
"""

import json
import sys
from collections import defaultdict
from pathlib import PurePosixPath

#: The top package; its sub-folders are the packages reported one by one.
TOP = "debtloops"


def package_of(path: str) -> str:
    """Return the dotted package of a measured file: ``debtloops`` or ``debtloops.<folder>``."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    inside = parts[parts.index(TOP) + 1 :]
    return TOP if len(inside) == 1 else f"{TOP}.{inside[0]}"


def by_package(report: dict) -> dict[str, tuple[int, int]]:
    """Return (statements, covered) per package from a coverage.py JSON report."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, measured in report["files"].items():
        summary = measured["summary"]
        counts = totals[package_of(path)]
        counts[0] += summary["num_statements"]
        counts[1] += summary["covered_lines"]
    return {name: (counts[0], counts[1]) for name, counts in sorted(totals.items())}


def main(json_path: str) -> None:
    """Print one line per package and the total, as percentages of statements."""
    with open(json_path) as handle:
        report = json.load(handle)
    print(f"{'package':<24} {'statements':>10} {'covered':>8} {'cover':>6}")
    for name, (statements, covered) in by_package(report).items():
        print(f"{name:<24} {statements:>10} {covered:>8} {100 * covered / statements:>5.1f}%")
    total = report["totals"]
    print(
        f"{'total':<24} {total['num_statements']:>10} {total['covered_lines']:>8} "
        f"{total['percent_covered']:>5.1f}%"
    )


if __name__ == "__main__":
    main(sys.argv[1])
