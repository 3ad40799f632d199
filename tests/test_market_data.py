"""The market data: the monthly file, the fiscal-year debt structure and their sources.

Each data file is long (one row per series and period) with a ``status`` of ``reported``,
``derived`` or ``missing``; ``markets_series.csv`` gives every series its units, publisher and
public copy.
"""

import csv
import math

import pandas as pd
import pytest

from debtloops.model import data, flows

MONTHLY = data.DATA_DIR / "markets_monthly.csv"
FISCAL = data.DATA_DIR / "debt_structure_fy.csv"
SERIES = data.DATA_DIR / "markets_series.csv"
DATA_FILES = {
    MONTHLY: ("series", "month", "value", "status", "note"),
    FISCAL: ("series", "fiscal_year", "value", "status", "note"),
}
STATUSES = {"reported", "derived", "missing"}
#: The monthly file covers January 2000 to September 2025, one row per series and month.
MONTHS = [str(p) for p in pd.period_range("2000-01", "2025-09", freq="M")]
#: Fiscal years of the debt-structure file.
FISCAL_YEARS = list(range(2000, 2026))

#: Plausible bounds per series for 2000-2025 (prefix match, first match wins) [the series' units].
BOUNDS = [
    ("tb3ms", 0.0, 7.0),
    ("gs", 0.0, 8.0),
    ("fedfunds", 0.0, 7.0),
    ("cpiaucsl", 160.0, 340.0),
    ("acmtp10", -2.0, 4.0),
    ("acmrny10", -1.0, 8.0),
    ("acmy10", 0.0, 9.0),
    ("treast", 400.0, 6000.0),
    ("tic_japan_holdings", 250.0, 1400.0),
    ("tic_china_holdings", 50.0, 1400.0),
    ("tic_grand_total_holdings", 900.0, 10000.0),
    ("tic_foreign_official_holdings", 500.0, 5000.0),
    # monthly flows, valuation changes and survey revisions of the holders above
    ("tic_", -500.0, 500.0),
    ("auction_size", 1.0, 150.0),
    ("mof_intervention_yen", 0.0, 20000.0),
    ("mof_intervention_usd", 0.0, 150.0),
    ("marketable", 2500.0, 31000.0),
    ("bills", 500.0, 7000.0),
    ("notes", 1000.0, 16000.0),
    ("bonds", 400.0, 6000.0),
    ("tips", 100.0, 2500.0),
    ("frn", 50.0, 1000.0),
    ("ffb", 0.0, 20.0),
]
SHARE_BOUNDS = (0.0, 100.0)
#: Values are stored to 6 decimals, so a sum of three carries up to 1.5e-6 of rounding [% a year].
ROUNDING = 2e-6


def _rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def meta():
    return {row["series"]: row for row in _rows(SERIES)}


@pytest.fixture(scope="module")
def monthly():
    frame = pd.read_csv(MONTHLY, dtype={"value": str, "note": str}, keep_default_na=False)
    frame["number"] = pd.to_numeric(frame["value"].replace("", math.nan))
    return frame


@pytest.fixture(scope="module")
def fiscal():
    frame = pd.read_csv(FISCAL, dtype={"value": str, "note": str}, keep_default_na=False)
    frame["number"] = pd.to_numeric(frame["value"].replace("", math.nan))
    return frame


@pytest.mark.parametrize("path", list(DATA_FILES))
def test_every_row_has_a_status_and_missing_values_are_marked(path):
    rows = _rows(path)
    assert tuple(rows[0]) == DATA_FILES[path]
    for row in rows:
        assert row["status"] in STATUSES, row
        if row["status"] == "missing":
            assert row["value"] == "" and row["note"].strip(), row
        else:
            assert math.isfinite(float(row["value"])), row


def test_every_series_has_units_and_a_source_and_nothing_is_undocumented(meta):
    in_files = {row["series"] for path in DATA_FILES for row in _rows(path)}
    assert in_files == set(meta)
    for name, row in meta.items():
        for field in ("units", "frequency", "basis", "publisher", "publication_id", "coverage"):
            assert row[field].strip(), (name, field)
        if row["coverage"] != "none":
            assert row["copy_repo"].strip() and row["copy_path"].strip(), name


def test_the_monthly_file_has_one_row_per_series_and_month(monthly):
    for name, group in monthly.groupby("series"):
        assert list(group["month"]) == MONTHS, name


def test_the_fiscal_file_has_one_row_per_series_and_year(fiscal):
    for name, group in fiscal.groupby("series"):
        assert list(group["fiscal_year"]) == FISCAL_YEARS, name


def _bounds(name):
    if "share" in name:
        return SHARE_BOUNDS
    return next((low, high) for prefix, low, high in BOUNDS if name.startswith(prefix))


@pytest.mark.parametrize("which", ["monthly", "fiscal"])
def test_values_are_within_plausible_ranges(which, request):
    frame = request.getfixturevalue(which)
    for name, group in frame.groupby("series"):
        values = group["number"].dropna()
        if values.empty:
            continue
        low, high = _bounds(name)
        assert values.between(low, high).all(), (name, values.min(), values.max())


def _series(frame, name, key):
    rows = frame[frame["series"] == name]
    return pd.Series(rows["number"].to_numpy(), index=rows[key].to_numpy())


def test_the_acm_yield_is_its_expectation_plus_its_term_premium(monthly):
    tp, rn, y = (_series(monthly, n, "month") for n in ("acmtp10", "acmrny10", "acmy10"))
    gap = (tp + rn - y).dropna()
    assert len(gap) > 300
    assert gap.abs().max() < ROUNDING


def test_named_holders_are_part_of_the_tic_total(monthly):
    japan, china, total = (
        _series(monthly, f"tic_{n}_holdings", "month") for n in ("japan", "china", "grand_total")
    )
    both = (japan + china).dropna()
    assert (both < total[both.index]).all()


def test_the_segments_add_up_to_marketable_debt(fiscal):
    total = _series(fiscal, "marketable_outstanding", "fiscal_year").dropna()
    parts = ["bills", "notes", "bonds", "tips", "frn", "ffb"]
    summed = sum(_series(fiscal, f"{p}_outstanding", "fiscal_year").fillna(0.0) for p in parts)
    assert ((summed[total.index] - total).abs() < 0.01).all()


@pytest.mark.parametrize(
    ("series", "history_series"),
    [
        ("gs10", "gs10_sep"),
        ("tb3ms", "tb3m_sep"),
        ("tic_japan_holdings", "japan_holdings"),
        ("tic_china_holdings", "china_holdings"),
        ("tic_grand_total_holdings", "foreign_holdings_total"),
    ],
)
def test_september_values_agree_with_the_fiscal_year_history(monthly, series, history_series):
    mine = _series(monthly, series, "month")
    theirs = data.history().series(history_series)
    for year, value in theirs.items():
        assert mine[f"{year}-09"] == pytest.approx(value, abs=1e-9), year


def test_bills_held_by_the_public_agree_with_the_history(fiscal):
    mine = _series(fiscal, "bills_held_by_public", "fiscal_year").dropna()
    theirs = data.history().series("bills_held_by_public")
    assert set(theirs.index) <= set(mine.index)
    for year, value in theirs.items():
        assert mine[year] == pytest.approx(value, abs=0.01), year


def test_no_market_file_refers_to_the_shared_folder():
    for path in [*DATA_FILES, SERIES]:
        assert "shared/" not in path.read_text(encoding="utf-8")
    for doc in ("markets_monthly.md", "debt_structure_fy.md"):
        assert "shared/" not in (data.DATA_DIR / doc).read_text(encoding="utf-8")


#: The split keeps six decimals of $bn, so its three parts add up to the change within this [$bn].
SPLIT_ROUNDING = 1e-6


@pytest.fixture(scope="module")
def wide():
    return data.markets_monthly(), data.markets_monthly_notes()


@pytest.mark.parametrize("holder", flows.HOLDERS)
def test_transactions_valuation_and_revisions_add_up_to_the_change_in_holdings(wide, holder):
    values, _ = wide
    change = values[f"tic_{holder}_holdings"].diff()
    parts = sum(
        values[f"tic_{holder}_{part}"]
        for part in ("net_transactions", "valuation_change", "benchmark_revision")
    )
    known = change.notna()
    assert known.sum() == len(MONTHS) - 3  # TIC's table starts in March 2000
    assert parts[known].notna().all() and parts[~known].isna().all()
    assert ((parts - change)[known].abs() < SPLIT_ROUNDING).all()


@pytest.mark.parametrize("holder", flows.HOLDERS)
def test_the_split_is_reproduced_from_the_reported_series(wide, holder, monthly):
    values, notes = wide
    hold = f"tic_{holder}_holdings"
    published = values[f"tic_{holder}_lt_valuation_change"]
    split = flows.split_changes(values[hold], notes[hold], values[flows.YIELD], published)
    for part, column in (
        ("net_transactions", "transactions"),
        ("valuation_change", "valuation"),
        ("benchmark_revision", "revision"),
    ):
        gap = (values[f"tic_{holder}_{part}"] - split[column]).dropna()
        assert len(gap) == len(MONTHS) - 3 and (gap.abs() < SPLIT_ROUNDING).all(), part
    # the published valuation change is copied where there is one, and marked as reported
    rows = monthly[monthly["series"] == f"tic_{holder}_valuation_change"].set_index("month")
    rows.index = pd.PeriodIndex(rows.index, freq="M")
    reported = rows["status"] == "reported"
    assert (reported == split["published"]).all()
    assert reported.sum() >= 100
    copied = (rows["number"] - published)[reported]
    assert (copied.abs() < SPLIT_ROUNDING).all()


@pytest.mark.parametrize("holder", flows.HOLDERS)
def test_the_estimated_valuation_change_falls_when_the_yield_rises(wide, holder):
    values, notes = wide
    hold = f"tic_{holder}_holdings"
    published = values[f"tic_{holder}_lt_valuation_change"]
    split = flows.split_changes(values[hold], notes[hold], values[flows.YIELD], published)
    duration = split.attrs["duration"]
    # an effective duration of the whole holding, bills included: below a 10-year note's
    assert 1.0 < duration < 8.0
    estimated = split[~split["published"] & split["change"].notna()]
    rise = values[flows.YIELD].diff()[estimated.index]
    assert (estimated["valuation"][rise > 0] <= 0).all()
    assert (estimated["valuation"][rise < 0] >= 0).all()


def test_benchmark_revisions_are_the_gaps_the_table_gives_in_its_break_months(wide):
    values, notes = wide
    revision = flows.benchmark_revision(values["tic_china_holdings"], notes["tic_china_holdings"])
    breaks = notes["tic_china_holdings"].str.contains("previous basis")
    assert breaks.sum() >= 10
    assert (revision[~breaks] == 0).all() and (revision[breaks] != 0).all()
    # June 2010: 1,112.1 on the new basis against 843.7 on the old one
    assert revision["2010-06"] == pytest.approx(1112.1 - 843.7)


@pytest.mark.parametrize(
    ("history_series", "holder", "part"),
    [
        (f"{name}_{part}", holder, part)
        for name, holder in (("japan", "japan"), ("china", "china"))
        for part in ("net_transactions", "valuation_change", "benchmark_revision")
    ]
    + [
        (f"foreign_{part}_total", "grand_total", part)
        for part in ("net_transactions", "valuation_change", "benchmark_revision")
    ],
)
def test_fiscal_year_sums_in_the_history_are_the_monthly_sums(wide, history_series, holder, part):
    values, _ = wide
    sums = flows.fiscal_year_sums(values[f"tic_{holder}_{part}"])
    theirs = data.history().series(history_series)
    assert list(theirs.index) == list(range(2001, 2026))
    for year, value in theirs.items():
        assert sums[year] == pytest.approx(value, abs=SPLIT_ROUNDING), year


def test_a_fiscal_year_is_summed_only_when_all_its_months_are_known():
    months = pd.period_range("2000-01", "2001-09", freq="M")
    sums = flows.fiscal_year_sums(pd.Series(1.0, index=months))
    assert list(sums.index) == [2001] and sums[2001] == 12.0
