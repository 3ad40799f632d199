"""Build the Treasury and New York Fed responses that ``tests/test_refresh.py`` serves.

These are not recordings: the machine that wrote them had no network. Each file is laid out as its
publisher's (the layouts are described in ``analysis/debtloops/model/publishers.py``), with the
shipped dataset's own values, so that a refresh against them reproduces the shipped rows except
for one revision of the kind publishers make:

* ``treasury/mfhhis01.txt``: TIC's "Major Foreign Holders" history, one tab-separated block per
  calendar year, newest first, the rows Japan, "China, Mainland", Grand Total and For. Official
  only (the real table has some forty countries more). A survey-benchmark break month is given
  twice, on the new basis and then on the previous one (the value in the shipped ``note``), under
  the table's "Series" lines. Revision: Japan +0.5% from January 2025 on (a new benchmark).
* ``treasury/mspd_table_1.json``: the Fiscal Data API's answer for MSPD Table I, the statements of
  30 September 2001-2025, the lines the dataset keeps (the total as the type "Total Marketable",
  the segments as "Marketable" lines by class), amounts in $mn as strings. Before FY2004
  the shipped TIPS (a sum of two lines) is put on "Inflation-Indexed Notes", with
  "Inflation-Indexed Bonds" at 0: the split is not in the shipped file.
* ``nyfed/soma_summary.json``: the New York Fed's weekly SOMA summary from 9 July 2003 (its first
  row) to September 2025, amounts in dollars as strings. The Treasury total of each Wednesday is
  built as ``make_fred_cassettes.py`` built FRED's ``TREAST``: the month's last-Wednesday level on
  its last Wednesday and the level giving the month's mean on the others; it is split into bills
  10%, TIPS 5%, inflation compensation 1%, notes and bonds the rest (FRNs empty before 2014, as
  the Fed publishes them).

Run from the checkout: ``python tests/cassettes/make_publisher_cassettes.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

HERE = Path(__file__).parent
DATA = Path(__file__).parents[2] / "models" / "data"
TIC_ROWS = (
    ("japan", "Japan"),
    ("china", '"China, Mainland"'),
    ("grand_total", "Grand Total"),
    ("foreign_official", "  For. Official"),
)
JAPAN_REVISION, JAPAN_REVISED_FROM = 1.005, "2025-01"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PREVIOUS = re.compile(r"([-+]?\d+(?:\.\d+)?) on the previous basis")
SOMA_FIRST = dt.date(2003, 7, 9)
FRN_FIRST = dt.date(2014, 1, 29)
WEDNESDAY = 2
SOMA_SHARES = {"bills": 0.10, "tips": 0.05, "tipsInflationCompensation": 0.01}
MSPD_CLASSES = {
    "marketable": "Total Marketable",
    "bills": "Bills",
    "notes": "Notes",
    "bonds": "Bonds",
    "tips": "Treasury Inflation-Protected Securities",
    "frn": "Floating Rate Notes",
    "ffb": "Federal Financing Bank",
}
TIPS_SPLIT_UNTIL = 2003


def _monthly() -> dict[str, dict[str, tuple[str, str]]]:
    rows: dict[str, dict[str, tuple[str, str]]] = {}
    with (DATA / "markets_monthly.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["status"] != "missing" and row["value"]:
                rows.setdefault(row["series"], {})[row["month"]] = (row["value"], row["note"])
    return rows


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def tic(monthly) -> str:
    lines = [
        "\t\t\tMAJOR FOREIGN HOLDERS OF TREASURY SECURITIES",
        "\t\t\t\t    (in billions of dollars)",
        "\t\t\t\tHOLDINGS 1/ AT END OF PERIOD",
        "",
        "",
    ]
    holdings = {h: monthly[f"tic_{h}_holdings"] for h, _ in TIC_ROWS}
    years = sorted({int(month[:4]) for month in holdings["japan"]}, reverse=True)
    for year in years:
        months = sorted((m for m in holdings["japan"] if int(m[:4]) == year), reverse=True)
        columns = []  # (month, basis): basis 0 the later months', 1 the previous
        for month in months:
            columns.append((month, 0))
            if "previous basis" in holdings["japan"][month][1]:
                columns.append((month, 1))
        if len(columns) > len(months):
            at = next(i for i, (_, basis) in enumerate(columns) if basis)
            marks = ["" for _ in columns]
            marks[at - 1], marks[at] = "Series 7/", "Series"
            lines.append("\t" + "\t".join(marks))
            lines.append("\t" + "\t".join("" for _ in columns))
        lines.append("\t" + "\t".join(MONTH_NAMES[int(m[5:]) - 1] for m, _ in columns))
        lines.append("Country\t" + "\t".join(m[:4] for m, _ in columns))
        lines.append("\t" + "\t".join("------" for _ in columns))
        lines.append("\t" * len(columns))
        for holder, label in TIC_ROWS:
            if holder == "foreign_official":
                lines += ["\t" * len(columns), "Of which:" + "\t" * len(columns)]
            cells = []
            for month, basis in columns:
                value, note = holdings[holder][month]
                number = float(value)
                if basis:
                    found = PREVIOUS.search(note)
                    number = float(found.group(1)) if found else number
                elif holder == "japan" and month >= JAPAN_REVISED_FROM:
                    number *= JAPAN_REVISION
                cells.append(_number(number))
            lines.append(f"{label}\t" + "\t".join(cells))
        lines += ["\t" * len(columns), "\t" * len(columns)]
    return "\n".join(lines) + "\n"


def soma(monthly) -> str:
    rows = []
    for month, (last, _) in sorted(monthly["treast_last_wednesday"].items()):
        year, number = map(int, month.split("-"))
        day = dt.date(year, number, 1)
        wednesdays = []
        while day.month == number:
            if day.weekday() == WEDNESDAY and day >= SOMA_FIRST:
                wednesdays.append(day)
            day += dt.timedelta(days=1)
        if not wednesdays:
            continue
        mean = float(monthly["treast_month_mean"][month][0])
        n = len(wednesdays)
        other = (n * mean - float(last)) / (n - 1) if n > 1 else float(last)
        for day in wednesdays:
            total = round((float(last) if day == wednesdays[-1] else other) * 1e9)
            parts = {name: round(total * share) for name, share in SOMA_SHARES.items()}
            parts["frn"] = 0 if day >= FRN_FIRST else None
            parts["notesbonds"] = total - sum(v for v in parts.values() if v)
            rows.append(
                {
                    "asOfDate": day.isoformat(),
                    "mbs": "0",
                    "cmbs": "0",
                    "tips": str(parts["tips"]),
                    "frn": "" if parts["frn"] is None else str(parts["frn"]),
                    "tipsInflationCompensation": str(parts["tipsInflationCompensation"]),
                    "notesbonds": str(parts["notesbonds"]),
                    "bills": str(parts["bills"]),
                    "agencies": "0",
                    "total": f"{total}.00",
                }
            )
    return json.dumps({"soma": {"summary": rows}}, separators=(",", ":")) + "\n"


def mspd() -> str:
    table: dict[str, dict[int, float]] = {}
    with (DATA / "debt_structure_fy.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["value"]:
                table.setdefault(row["series"], {})[int(row["fiscal_year"])] = float(row["value"])
    rows = []
    for year in sorted(table["marketable_outstanding"]):
        for segment, label in MSPD_CLASSES.items():
            total = table.get(f"{segment}_outstanding", {}).get(year)
            public = table.get(f"{segment}_held_by_public", {}).get(year)
            if total is None or public is None:
                continue
            lines = [(label, total, public)]
            if segment == "tips" and year <= TIPS_SPLIT_UNTIL:
                lines = [
                    ("Inflation-Indexed Notes", total, public),
                    ("Inflation-Indexed Bonds", 0, 0),
                ]
            for name, amount, held in lines:
                total_line = segment == "marketable"  # a type of its own, with a null class
                rows.append(
                    {
                        "record_date": f"{year}-09-30",
                        "security_type_desc": name if total_line else "Marketable",
                        "security_class_desc": "null" if total_line else name,
                        "debt_held_public_mil_amt": f"{held * 1000:.2f}",
                        "intragov_hold_mil_amt": f"{(amount - held) * 1000:.2f}",
                        "total_mil_amt": f"{amount * 1000:.2f}",
                        "src_line_nbr": str(len(rows) % 20 + 1),
                        "record_fiscal_year": str(year),
                        "record_fiscal_quarter": "4",
                        "record_calendar_year": str(year),
                        "record_calendar_quarter": "3",
                        "record_calendar_month": "09",
                        "record_calendar_day": "30",
                    }
                )
    meta = {"count": len(rows), "total-count": len(rows), "total-pages": 1}
    answer = {"data": rows, "meta": meta, "links": {"self": "&page%5Bnumber%5D=1"}}
    return json.dumps(answer, indent=1) + "\n"


def main() -> None:
    monthly = _monthly()
    for folder, name, text in (
        ("treasury", "mfhhis01.txt", tic(monthly)),
        ("treasury", "mspd_table_1.json", mspd()),
        ("nyfed", "soma_summary.json", soma(monthly)),
    ):
        (HERE / folder).mkdir(exist_ok=True)
        (HERE / folder / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
