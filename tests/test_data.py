"""The shipped data: CBO's projections, the history, their checks, and runs from any start year."""

import csv

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run

from debtloops import cli, run_scenario
from debtloops.errors import InputError
from debtloops.model import data, datafiles, replay
from debtloops.model.contract import HOLDINGS, TEN_YEAR_NOTE_STAGES

FILES = [
    (data.vintage().projections, data.CBO_COLUMNS),
    (datafiles.HISTORY_FILE, data.HISTORY_COLUMNS),
]


@pytest.mark.parametrize(("path", "columns"), FILES)
def test_every_row_has_units_and_a_source(path, columns):
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == columns
    assert all(row["units"].strip() and row["source"].strip() for row in rows)
    dataset = data.read_dataset(path, columns)
    assert dataset.frame["series"].nunique() >= 10


def test_no_file_refers_to_the_shared_folder():
    for path, _ in FILES:
        assert "shared/" not in path.read_text(encoding="utf-8")
        assert "shared/" not in path.with_suffix(".md").read_text(encoding="utf-8")


#: OMB prints Table 3.2 in millions of dollars; the history keeps them in billions [$bn].
OMB_ROUNDING = 0.0005


def test_omb_interest_subfunctions_add_up_to_net_interest_in_every_year():
    history = datafiles.history()
    public = history.series("interest_on_debt_held_by_public")
    parts = (
        "interest_on_treasury_securities_gross",
        "interest_received_on_budget_trust_funds",
        "interest_received_off_budget_trust_funds",
    )
    assert list(public.index) == list(range(2000, 2026))
    assert np.allclose(sum(history.series(name) for name in parts), public, atol=OMB_ROUNDING)
    # with the other interest the Treasury earns, the subfunctions are function 900, FRED's series
    total = public + history.series("other_interest") + history.series("other_investment_income")
    assert np.allclose(total, history.series("net_interest"), atol=3 * OMB_ROUNDING)
    assert (history.series("other_interest") < 0).all()


def test_cbo_layer_gives_every_driver_for_every_projected_year():
    layer = data.cbo_layer()
    for name in (
        "primary_deficit_share_of_gdp",
        "revenue_share_of_gdp",
        "nominal_gdp_growth_path",
        "fed_policy_rate_path",
        "bill_spread",
        "other_means_of_financing_share_of_gdp",
    ):
        years = {int(round(year)) for year in layer[name]}
        assert set(range(2025, 2035)) <= years, name
    assert min(layer["expected_debt_to_gdp"]) == 2025.0
    assert max(layer["expected_debt_to_gdp"]) == 2055.0


def test_a_step_driver_holds_each_fiscal_years_value_over_that_year():
    import pandas as pd

    points = data.steps(pd.Series({2026: 0.02, 2027: 0.03}))
    years = sorted(points)
    assert years[0] == 2025.0 and points[2025.0] == 0.02
    assert points[2026.0] == 0.03
    assert max(y for y in years if points[y] == 0.02) == pytest.approx(2026.0, abs=1e-5)


def _fiscal_year_integrals(layer, first, last):
    """Integrate a layer's GDP rate (its start and growth steps) over FY first+1 to FY last.

    Written here from the drivers alone: the rate grows exponentially at each step's growth.
    """
    steps = sorted(layer["nominal_gdp_growth_path"].items())
    starts = [(year, growth) for year, growth in steps if year == round(year * 2) / 2]
    rate, integrals, total = layer["initial_nominal_gdp"], {}, 0.0
    for index, (start, growth) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else start + 0.5
        if start >= last:
            break
        length = end - start
        total += rate * (np.expm1(growth * length) / growth if growth else length)
        rate *= np.exp(growth * length)
        if end == round(end) and end > first:
            integrals[int(end)] = total
            total = 0.0
    return pd.Series(integrals), rate


def _history_and_cbo():
    cbo_gdp = data.ten_then_long("nominal_gdp")
    past = data.history().series("gdp_fy")
    return pd.concat([past[past.index <= data.CBO_START], cbo_gdp[cbo_gdp.index > data.CBO_START]])


@pytest.mark.parametrize(
    ("make_layer", "first", "last", "fiscal_years"),
    [
        (data.cbo_layer, 2025, 2055, lambda: data.ten_then_long("nominal_gdp")),
        (lambda: data.history_layer(2000), 2000, 2025, lambda: data.history().series("gdp_fy")),
        (
            lambda: data.history_layer(2015, 2022),
            2015,
            2022,
            lambda: data.history().series("gdp_fy"),
        ),
        (
            lambda: data.history_then_cbo(2010, dict.fromkeys(data.HISTORY_ONLY, 0.0)),
            2010,
            2055,
            _history_and_cbo,
        ),
    ],
    ids=["cbo", "history_2000", "history_2015_2022", "history_then_cbo_2010"],
)
def test_the_gdp_rate_integrates_to_each_fiscal_years_gdp(make_layer, first, last, fiscal_years):
    layer = make_layer()
    integrals, _ = _fiscal_year_integrals(layer, first, last)
    expected = fiscal_years()[lambda x: (x.index > first) & (x.index <= last)]
    assert list(integrals.index) == list(expected.index)
    # the bound is 0.2%; the alignment is exact up to rounding
    np.testing.assert_allclose(integrals, expected, rtol=1e-9)


def test_cbos_gdp_rate_is_smooth_and_between_one_years_gdp_and_the_next():
    path = data.gdp_path(data.ten_then_long("nominal_gdp"), data.CBO_START)
    years = path.fiscal_years
    for year in years.index[:-1]:
        assert years[year] < path.rate[year] < years[year + 1]
    # no zigzag: growth moves by under 0.2 points a half year (CBO's slows by 0.56 in FY2026)
    assert path.growth.diff().abs().max() < 0.002


def test_flow_shares_times_the_years_gdp_are_the_flows():
    layer = data.cbo_layer()
    integrals, _ = _fiscal_year_integrals(layer, 2025, 2035)
    share = pd.Series(
        {
            int(round(y)) + 1: v
            for y, v in layer["primary_deficit_share_of_gdp"].items()
            if y == round(y)
        }
    )
    primary = data.cbo().series("primary_deficit", data.vintage().ten_year_publication)
    years = integrals.index
    np.testing.assert_allclose(share[years] * integrals, primary[years], rtol=1e-9)


def test_the_expected_debt_ratio_is_cbos_turned_to_the_rate_at_the_years_end():
    layer = data.cbo_layer()
    cbo = data.cbo()
    ratio = (
        cbo.series("debt_held_by_public_pct_gdp", data.vintage().long_term_publication)
        / data.PERCENT
    )
    gdp = data.ten_then_long("nominal_gdp")
    expected = layer["expected_debt_to_gdp"]
    for year in range(2026, 2056):
        _, rate = _fiscal_year_integrals(layer, 2025, year)
        # the same debt: CBO's ratio times the year's GDP, over the rate at the year's end
        assert expected[float(year)] * rate == pytest.approx(ratio[year] * gdp[year], rel=1e-9)


@pytest.mark.parametrize(
    ("driver", "series"),
    [
        ("primary_deficit_share_of_gdp", "primary_deficit_pct_gdp"),
        ("revenue_share_of_gdp", "revenue_pct_gdp"),
        ("other_means_of_financing_share_of_gdp", "other_means_of_financing_pct_gdp"),
        ("expected_long_yield", "ten_year_yield_pct"),
    ],
)
def test_after_2035_the_drivers_are_the_ltbos_values_year_by_year(driver, series):
    layer = data.cbo_layer()[driver]
    long = data.cbo().series(series, data.vintage().long_term_publication)
    assert list(long.index) == list(range(2036, 2056))
    for year, value in long.items():
        # FY t's value holds over the year, from t-1 to just before t
        assert layer[float(year) - 1.0] == pytest.approx(value / data.PERCENT, rel=1e-12)
        assert layer[float(year) - data.STEP_EDGE] == pytest.approx(value / data.PERCENT)


def test_the_rates_cbo_does_not_project_after_2035_hold_their_fy2035_values():
    layer = data.cbo_layer()
    for driver in ("fed_policy_rate_path", "bill_spread"):
        assert max(layer[driver]) < 2035.0, driver


def test_cbos_long_term_debt_adds_up_from_its_deficits_and_other_financing():
    cbo = data.cbo()
    gdp = data.ten_then_long("nominal_gdp")
    debt = (
        cbo.series("debt_held_by_public_pct_gdp", data.vintage().long_term_publication)
        * gdp
        / data.PERCENT
    )
    flows = (
        (
            cbo.series("total_deficit_pct_gdp", data.vintage().long_term_publication)
            + cbo.series("other_means_of_financing_pct_gdp", data.vintage().long_term_publication)
        )
        * gdp
        / data.PERCENT
    )
    change = debt.diff().loc[2036:2055]
    # CBO's shares are given to 0.001 points: each year adds up within a few such roundings
    np.testing.assert_allclose(change, flows.loc[2036:2055], atol=0.003 / 100 * gdp.loc[2055])


def test_a_run_adds_up_the_years_gdp_exactly_cbos_and_historys():
    from debtloops.validation.backtest import fiscal_year_gdp, run_backtest

    # The bound is 0.2%. The .mdl compounds growth and averages the rate over each time
    # step exactly, so a run with the feedbacks off adds up the aligned path's fiscal years to
    # rounding: a backtest from FY2000, through FY2021's 10% growth (Euler's left sums fell 0.5%
    # short). The baseline keeps every channel on, and its own small feedbacks on output and
    # prices move GDP off CBO's path by 0.002-0.043% in FY2026-2055.
    ds = run("baseline")
    gdp = data.ten_then_long("nominal_gdp")
    for year in range(2026, 2056):
        assert fiscal_year_gdp(ds, year) == pytest.approx(gdp[year], rel=0.002)
    backtest, _ = run_backtest(data.FIRST_YEAR, data.LAST_YEAR)
    history = data.history().series("gdp_fy")
    for year in range(data.FIRST_YEAR + 1, data.LAST_YEAR + 1):
        assert fiscal_year_gdp(backtest, year) == pytest.approx(history[year], rel=1e-9)


@pytest.mark.parametrize("year", range(data.FIRST_YEAR, data.LAST_YEAR + 1))
def test_the_initial_state_of_every_year_leaves_private_holdings_non_negative(year):
    state = data.initial_state(year)
    named = state["initial_japan_holdings"] + state["initial_china_holdings"]
    assert 0 < named <= state["initial_total_foreign_holdings"]
    assert (
        state["initial_total_foreign_holdings"] + state["initial_fed_holdings"]
        < state["initial_debt_held_by_public"]
    )
    assert 0 < state["initial_effective_interest_rate"] < 0.1


@pytest.mark.parametrize("start", [2000, 2005, 2010, 2015, 2020, 2024])
def test_the_baseline_runs_from_any_start_year_through_history_then_cbo(start):
    ds = run_scenario("baseline", overrides={"initial_time": float(start)}, final_time=2035.0)
    assert float(ds["time"][0]) == start
    total = sum(ds[holder] for holder in HOLDINGS)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9, atol=0)
    history = data.history()
    assert float(ds["debt_held_by_public"].sel(time=float(start))) == pytest.approx(
        history.series("debt_held_by_public")[start]
    )
    actual = history.series("fed_treasury_holdings")[2025]
    assert float(ds["fed_holdings"].sel(time=2025.0)) == pytest.approx(actual, rel=1e-6)


def test_a_start_outside_the_history_is_refused_with_the_nearest_year():
    with pytest.raises(InputError, match="nearest valid value: 2000"):
        run_scenario("baseline", overrides={"initial_time": 1999.0})


def _written(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "1999"], "start year 1999 is not a fiscal year .* nearest valid value: 2000"),
        (["--start", "2015", "--end", "2026"], "end year 2026 .* nearest valid value: 2025"),
        (["--start", "2020", "--end", "2018"], "end year 2018 is not after the start year 2020"),
        (["--start", "2025"], "end year 2025 is not after the start year 2025"),
        (["--set", "observed_yields_switch=0"], "--set observed_yields_switch: the backtest sets"),
        (["--set", "final_time=2030"], "--set final_time: the backtest sets it"),
        (["--set", "portfolio_balance_sensitivty=0.3"], "did you mean: portfolio_balance_sens"),
    ],
)
def test_backtest_refuses_bad_years(tmp_path, capsys, args, message):
    import re

    out = tmp_path / "out"
    assert cli.main(["backtest", *args, "--out", str(out)]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert _written(out) == []


def test_a_backtest_set_reaches_the_run(tmp_path):
    from debtloops.model.run import execute
    from debtloops.validation.backtest import compare, prepare_backtest

    def yields(table: pd.DataFrame) -> np.ndarray:
        return table.loc[table["variable"] == "market_yield", "model"].to_numpy(dtype=float)

    out = tmp_path / "out"
    argv = ["backtest", "--start", "2015", "--yields", "endogenous", "--out", str(out)]
    assert cli.main([*argv, "--set", "portfolio_balance_sensitivity=0.3"]) == 0
    written = yields(pd.read_csv(out / "backtest.csv"))
    setting = {"portfolio_balance_sensitivity": 0.3}
    for values, expected in ((setting, True), (None, False)):
        run = execute(prepare_backtest(2015, 2025, "endogenous", values))
        same = np.allclose(written, yields(compare(run, 2015, 2025)), rtol=1e-6, atol=0)
        assert same is expected


@pytest.fixture
def history_file(tmp_path, monkeypatch):
    path = tmp_path / "history.csv"
    monkeypatch.setattr(datafiles, "HISTORY_FILE", path)
    data.history.cache_clear()
    yield path
    data.history.cache_clear()


def test_a_missing_data_file_is_named(tmp_path, capsys, history_file):
    out = tmp_path / "out"
    assert cli.main(["backtest", "--out", str(out)]) == 2
    assert "history.csv is missing" in capsys.readouterr().err
    assert _written(out) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("series,year,value\n", "the header is series, year, value; expected series"),
        (
            "series,fiscal_year,value,units,basis,source\ngdp_fy,2015,lots,$bn,x,y\n",
            "line 2: year '2015' or value 'lots' is not a number",
        ),
        (
            "series,fiscal_year,value,units,basis,source\ngdp_fy,2015,1,$bn,x\n",
            "line 2: 5 fields, expected 6",
        ),
        (
            "series,fiscal_year,value,units,basis,source\ngdp_fy,2015,1,$bn,x,y\n"
            "gdp_fy,2015,2,$bn,x,y\n",
            "gives FY2015 twice",
        ),
        (
            "series,fiscal_year,value,units,basis,source\ngdp_fy,2015,1,$bn,x,y\n"
            "gdp_fy,2016,2,$tn,x,y\n",
            "has two units",
        ),
    ],
)
def test_a_malformed_data_file_is_refused(tmp_path, capsys, history_file, text, message):
    history_file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["backtest", "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert _written(out) == []


@pytest.mark.parametrize("holder", ["japan", "china", "foreign"])
def test_the_history_splits_each_change_in_holdings_into_flows_prices_and_revisions(holder):
    history = data.history()
    suffix = "_total" if holder == "foreign" else ""
    holdings = "foreign_holdings_total" if holder == "foreign" else f"{holder}_holdings"
    change = history.series(holdings).diff().dropna()
    parts = sum(
        history.series(f"{holder}_{part}{suffix}")
        for part in ("net_transactions", "valuation_change", "benchmark_revision")
    )
    assert list(parts.index) == list(change.index)
    np.testing.assert_allclose(parts, change, rtol=0, atol=1e-6)


def test_the_history_layer_replays_net_transactions_not_changes_in_market_value():
    import pandas as pd

    layer = data.history_layer(2015)
    history = data.history()
    years = range(2016, 2026)
    for driver, series in (
        ("japan_baseline_net_purchases", "japan_net_transactions"),
        ("china_baseline_net_purchases", "china_net_transactions"),
    ):
        expected = data.steps(history.series(series)[list(years)])
        assert layer[driver] == expected, driver
    others = (
        history.series("foreign_net_transactions_total")
        - history.series("japan_net_transactions")
        - history.series("china_net_transactions")
    )
    gdp = history.series("gdp_fy")
    shares = data.flow_shares(others, gdp)[list(years)]
    assert layer["other_foreign_purchase_share"] == data.steps(pd.Series(shares))
    # FY2022: the yields' rise cut the market value of Japan's holdings by more than it sold
    fy2022 = layer["japan_baseline_net_purchases"][2021.0]
    holdings = history.series("japan_holdings")
    valuation = history.series("japan_valuation_change")[2022]
    assert valuation < 0
    assert fy2022 == pytest.approx(holdings[2022] - holdings[2021] - valuation, abs=1e-6)
    assert fy2022 > holdings[2022] - holdings[2021]


def test_japans_private_sales_are_its_net_sales_beyond_the_ministrys_dollars():
    """FY by FY: Japan's net sales (TIC net transactions) less what MoF sold in yen-buying
    interventions (the monthly file, summed October to September), never below zero."""
    layer = data.history_layer(2001)
    sales = (-data.history().series("japan_net_transactions")).clip(lower=0.0)
    with datafiles.MONTHLY_FILE.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["series"] == "mof_intervention_usd"]
    assert all(row["status"] != "missing" for row in rows)
    sold: dict[int, float] = {}
    for row in rows:
        year, month = (int(part) for part in row["month"].split("-"))
        fiscal = year + (month >= 10)
        sold[fiscal] = sold.get(fiscal, 0.0) + float(row["value"])
    private = layer["japan_private_net_sales"]
    # a step per fiscal year FY2002-FY2025, keyed by its start
    assert {key for key in private if key == int(key)} == {float(y) for y in range(2001, 2025)}
    for year in range(2002, 2026):
        expected = max(0.0, float(sales[year]) - sold[year])
        assert private[float(year - 1)] == pytest.approx(expected, abs=1e-9), year
        if year < 2022:
            # no yen-buying intervention between April 1998 and September 2022
            assert sold[year] == 0.0
            assert private[float(year - 1)] == pytest.approx(float(sales[year]))
    # FY2022 (September 2022's intervention) and FY2024 (April-July 2024's) had official sales
    assert private[2021.0] < sales[2022]
    assert sold[2024] > 0


def _csv_values(path, key_column):
    """Read a data file on its own: (series, key) -> value."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {(row["series"], row[key_column]): row["value"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("start", [2008, 2015, 2018])
def test_a_backtest_starts_each_segment_at_treasurys_september_coupons(start):
    from debtloops.validation import backtest

    rows = _csv_values(datafiles.HISTORY_FILE, "fiscal_year")

    def september(segment: str) -> float:
        return float(rows[(f"avg_rate_{segment}_sep", str(start))]) / data.PERCENT

    run, _ = backtest.run_backtest(start, start + 1)
    at = run.sel(time=float(start))

    def coupon(segment: str) -> float:
        return float(at[f"interest_on_{segment}"] / at[f"{segment}_outstanding"])

    assert coupon("bills") == pytest.approx(september("bills"), abs=1e-9)
    assert coupon("tips") == pytest.approx(september("tips"), abs=1e-9)
    notes = coupon("short_notes")
    assert coupon("medium_notes") == pytest.approx(notes, abs=1e-9)
    # the 10-year notes start at the coupons of the years they were sold in (FRED GS10) when the
    # data hold the ten years before the start (FY2009 on), else at the other notes' coupon
    cohorts = replay.ten_year_cohorts(start)
    stages = range(1, TEN_YEAR_NOTE_STAGES + 1)
    laddered = sum(
        cohorts[replay.COHORT_SHARE.format(k)] * cohorts[replay.COHORT_COUPON.format(k)]
        for k in stages
        if cohorts[replay.COHORT_SWITCH]
    )
    assert bool(cohorts[replay.COHORT_SWITCH]) == (start >= 2009)
    ten_year = laddered if cohorts[replay.COHORT_SWITCH] else notes
    assert coupon("ten_year_notes") == pytest.approx(ten_year, abs=1e-9)
    spread = september("bonds") - september("notes")
    assert coupon("long_bonds") - notes == pytest.approx(spread, abs=1e-9)
    # The bonds' spread is what Treasury reports, 2.9 points or more in these years: a single
    # coupon for notes and bonds would fail here.
    assert spread > 0.02


def test_the_start_carries_treasurys_september_rate_on_the_whole_debt():
    # FY2008: Treasury's average rate on marketable debt fell from 4.904% to 3.665%; the start
    # carries September's, plus the TIPS' inflation compensation, on all the debt.
    rows = _csv_values(datafiles.HISTORY_FILE, "fiscal_year")
    structure = _csv_values(datafiles.STRUCTURE_FILE, "fiscal_year")
    rate = float(rows[("avg_rate_marketable_sep", "2008")]) / 100
    tips_share = float(structure[("tips_share_of_marketable", "2008")]) / 100
    expected = rate + tips_share * float(data.cpi_inflation()[2008])
    coupons = data.start_year_coupons(2008)
    assert coupons["initial_effective_interest_rate"] == pytest.approx(expected, rel=1e-12)
    # Net interest over the debt is not what the coupons carry: the rest is replayed.
    average = float(rows[("avg_rate_on_dhp", "2008")]) / 100
    assert abs(coupons["initial_effective_interest_rate"] - average) > 0.003


def _beyond_coupons(rows, year: int) -> float:
    """Net interest beyond Treasury's rates on the whole debt, over GDP, from the file alone."""

    def value(series: str, y: int) -> float:
        return float(rows[(series, str(y))])

    whole = sum(value("debt_held_by_public", y) for y in (year - 1, year)) / sum(
        value("marketable_debt_held_by_public", y) for y in (year - 1, year)
    )
    at_rates = value("marketable_interest_at_treasury_rates", year) * whole
    return (value("net_interest", year) - at_rates) / value("gdp_fy", year)


def test_backtests_replay_net_interest_beyond_treasurys_rates():
    rows = _csv_values(datafiles.HISTORY_FILE, "fiscal_year")
    shares = replay.interest_beyond_coupons_shares()
    for year in range(2002, 2025):
        assert shares[year] == pytest.approx(_beyond_coupons(rows, year), rel=1e-12)
    # The years the rates do not cover take the nearest covered year's share.
    assert shares[2000] == shares[2001] == shares[2002]
    assert shares[2025] == shares[2024]
    # The interest the Treasury earns on its loans grew after 2009: the share turned negative.
    assert shares.loc[2010:2024].max() < 0 < shares.loc[2002:2009].max()
    layer = data.history_layer(2015, 2025)
    replayed = layer[replay.BEYOND_COUPONS]
    for year in range(2016, 2026):
        assert replayed[float(year - 1)] == pytest.approx(shares[year], rel=1e-12)


def test_a_projection_replays_nothing_beyond_the_coupons():
    baseline = run_scenario("baseline")
    assert float(abs(baseline["net_interest_beyond_coupons"]).max()) == 0.0


def test_the_marketable_interest_agrees_with_treasurys_septembers():
    # The monthly sum against a cruder estimate from the two Septembers around each year (rate
    # times amount, averaged, plus the TIPS' accrual): a unit or year slip would be far outside.
    rows = _csv_values(datafiles.HISTORY_FILE, "fiscal_year")
    structure = _csv_values(datafiles.STRUCTURE_FILE, "fiscal_year")
    inflation = data.cpi_inflation()
    for year in range(2002, 2025):
        estimate = 0.0
        for y in (year - 1, year):
            debt = float(rows[("marketable_debt_held_by_public", str(y))])
            tips = float(structure[("tips_share_of_marketable", str(y))]) / 100 * debt
            rate = float(rows[("avg_rate_marketable_sep", str(y))]) / 100
            estimate += (rate * debt + tips * float(inflation[year])) / 2
        monthly = float(rows[("marketable_interest_at_treasury_rates", str(year))])
        assert monthly == pytest.approx(estimate, rel=0.15), year


@pytest.mark.parametrize("start", [2000, 2025])
def test_a_start_without_a_september_keeps_the_years_average_rate_less_the_replayed_part(start):
    # The copy of Treasury's rates runs from January 2001 to May 2025.
    assert data.start_year_coupons(start) == {}
    assert data.start_year_coupons(2001) != {}
    if start < data.LAST_YEAR:
        layer = data.history_layer(start)
        history = data.history()
        average = history.series("avg_rate_on_dhp")[start] / data.PERCENT
        replayed = replay.interest_beyond_coupons_shares()[start] * history.series("gdp_fy")[start]
        share_of_coupons = 1 - replayed / history.series("net_interest")[start]
        expected = average * share_of_coupons
        assert layer["initial_effective_interest_rate"] == pytest.approx(expected, rel=1e-12)
        assert "initial_bond_coupon_spread" not in layer


def test_tips_accrue_the_cpi_from_july_to_july():
    rows = _csv_values(datafiles.MONTHLY_FILE, "month")
    accrued = data.cpi_inflation()
    for year in (2009, 2021, 2023):
        july = [float(rows[("cpiaucsl", f"{y}-07")]) for y in (year - 1, year)]
        assert accrued[year] == pytest.approx(np.log(july[1] / july[0]), rel=1e-12)
    # FY2023: TIPS accrued 3.2%, well below the 4.95% change of the fiscal years' mean CPI.
    assert accrued[2023] < 0.035
