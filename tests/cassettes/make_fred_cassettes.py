"""Build the FRED responses that ``tests/test_refresh.py`` serves, in FRED's CSV layout.

These are not recordings: the machine that wrote them had no network. Each file is what FRED's
``fredgraph.csv?id=ID`` returns (header ``observation_date,ID``, one line per period, values in
FRED's units), built from the shipped dataset's own values, with three revisions of the kind
publishers make, so that a refresh has something to report:

* ``GDP`` and ``GDPA``: +0.8% from 2020 on (a comprehensive revision of BEA's accounts);
* ``CPIAUCSL``: +0.04% from January 2021 on (new seasonal factors);
* ``FYOINT``: FY2025 +$1.2bn (the final year-end figure after the Monthly Treasury Statement).

Fiscal-year series are dated 30 September of the year the fiscal year ends in, as FRED dates
them. ``FYFSD.csv`` is not built here: it is a copy of FRED's own file (from 1901, with the jump
from June 1976 to September 1977 when the fiscal year's start moved), from the public repository
jsaintfleur/usnationaldebt, ``data/fiscal-deficit.csv`` (commit 25e91090), the copy that the
shipped ``total_deficit`` rows cite.

Quarterly GDP is the fiscal year's GDP in each of its four quarters (Q4 of t-1, Q1-Q3 of t). The
Fed's SOMA holdings come from the New York Fed, not FRED (``make_publisher_cassettes.py``). Run
from the checkout:
``python tests/cassettes/make_fred_cassettes.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent / "fred"
DATA = Path(__file__).parents[2] / "models" / "data"
GDP_REVISION, GDP_REVISED_FROM = 1.008, 2020
CPI_REVISION, CPI_REVISED_FROM = 1.0004, "2021-01"
INTEREST_REVISION, INTEREST_REVISED_YEAR = 1200.0, 2025
MONTHLY = {"TB3MS": "tb3ms", "GS2": "gs2", "GS3": "gs3", "GS5": "gs5", "GS7": "gs7"}
MONTHLY |= {"GS10": "gs10", "GS20": "gs20", "GS30": "gs30", "FEDFUNDS": "fedfunds"}
MONTHLY |= {"CPIAUCSL": "cpiaucsl"}


def write(fred_id: str, rows: list[tuple[str, str]]) -> None:
    with (HERE / f"{fred_id}.csv").open("w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["observation_date", fred_id])
        out.writerows(rows)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    monthly: dict[str, dict[str, str]] = {}
    with (DATA / "markets_monthly.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            given = row["status"] != "missing" and row["value"]
            monthly.setdefault(row["series"], {})[row["month"]] = row["value"] if given else "."
    for fred_id, name in MONTHLY.items():
        rows = []
        for month, value in monthly[name].items():
            if fred_id == "CPIAUCSL" and month >= CPI_REVISED_FROM:
                value = f"{float(value) * CPI_REVISION:.3f}"
            rows.append((f"{month}-01", value))
        write(fred_id, rows)
    history: dict[str, dict[int, float]] = {}
    with (DATA / "history_2000_2025.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            history.setdefault(row["series"], {})[int(row["fiscal_year"])] = float(row["value"])
    quarters = []
    for year, value in sorted(history["gdp_fy"].items()):
        value *= GDP_REVISION if year >= GDP_REVISED_FROM else 1.0
        for start in (f"{year - 1}-10-01", f"{year}-01-01", f"{year}-04-01", f"{year}-07-01"):
            quarters.append((start, f"{value:.3f}"))
    write("GDP", quarters)
    write(
        "GDPA",
        [
            (f"{y}-01-01", f"{v * (GDP_REVISION if y >= GDP_REVISED_FROM else 1.0):.3f}")
            for y, v in sorted(history["gdp_calendar_year"].items())
        ],
    )
    budget = {"FYOINT": "net_interest", "FYFR": "revenue", "FYONET": "outlays"}
    for fred_id, name in budget.items():
        rows = []
        for year, value in sorted(history[name].items()):
            millions = value * 1000
            if fred_id == "FYOINT" and year == INTEREST_REVISED_YEAR:
                millions += INTEREST_REVISION
            rows.append((f"{year}-09-30", f"{millions:.0f}"))
        write(fred_id, rows)


if __name__ == "__main__":
    main()
