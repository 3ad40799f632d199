"""Fidelity: the baseline against CBO, the backtest against history, price impact, the article.

The tolerances are the references' own (see debtloops.validation.fidelity): they are written out
here again,
so that loosening one in the module fails a test.
"""

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run

from debtloops import cli, outputs, paths, run_scenario
from debtloops.model import data, datafiles
from debtloops.model.parameters import load_parameters
from debtloops.model.run import execute
from debtloops.units import BASIS_POINTS
from debtloops.validation import backtest, fidelity, markets

#: The checks the model misses today, each with its measured figure at the time of writing (issue
#: 17's closing note explains them). The list must equal the failing checks exactly: a fix that
#: makes one pass, or a new failure, fails the tests below until the list is updated.
KNOWN_GAPS = (
    "episode china_2015 (2015-06 to 2016-11): 10-year change",  # +45bp against -22bp, 50bp
)


#: The CBO checks each shipped vintage misses today, by vintage, with the measured figure.
KNOWN_VINTAGE_GAPS = {
    "2025-01": (),
    # FY2032 within -0.15 since the 10-year notes' maturity ladder (docs/howto/cbo-vintage.md)
    "2026-02": (),
}


@pytest.mark.parametrize("vintage", sorted(KNOWN_VINTAGE_GAPS))
def test_each_shipped_vintage_meets_cbos_tolerances_but_its_known_gaps(vintage):
    assert sorted(KNOWN_VINTAGE_GAPS) == data.list_vintages()
    baseline = run_scenario("baseline", cbo=vintage)
    checks = fidelity.cbo_checks(fidelity.cbo_comparison(baseline, vintage), vintage)
    assert len(checks) >= 5
    failing = tuple(c.check for c in checks if not c.passed)
    assert failing == KNOWN_VINTAGE_GAPS[vintage], failing


def _known_gap(check: str) -> bool:
    return check in KNOWN_GAPS


@pytest.fixture(scope="module")
def comparison():
    return fidelity.cbo_comparison(run("baseline"))


def test_baseline_debt_within_2_points_of_cbo_to_2035(comparison):
    gap = comparison["debt_model"] - comparison["debt_cbo"]
    assert gap.loc[2026:2035].abs().max() <= 2.0
    assert comparison.loc[2026:2055, "debt_cbo"].notna().all()


def test_baseline_debt_within_5_points_of_cbo_after_2035(comparison):
    gap = comparison["debt_model"] - comparison["debt_cbo"]
    assert gap.loc[2036:2055].abs().max() <= 5.0


@pytest.mark.parametrize("year", [2035, 2055])
def test_baseline_net_interest_within_03_points_of_cbo(comparison, year):
    row = comparison.loc[year]
    assert abs(row["interest_model"] - row["interest_cbo"]) <= 0.3


def test_baseline_net_interest_within_015_points_of_cbo_in_every_year_to_2035(comparison):
    span = comparison.loc[2026:2035]
    assert (span["interest_model"] - span["interest_cbo"]).abs().max() <= 0.15


def test_cbos_ratios_are_measured_over_the_fiscal_years_gdp(comparison):
    # CBO's way: end-of-year debt over the integral of GDP's annual rate over the year, read from
    # the stock cumulative_nominal_gdp; not debt_to_gdp, debt over the annual rate at the year end
    ds = run("baseline")
    for year in (2026, 2035, 2055):
        gdp = float(
            ds["cumulative_nominal_gdp"].sel(time=float(year))
            - ds["cumulative_nominal_gdp"].sel(time=year - 1.0)
        )
        debt = float(ds["debt_held_by_public"].sel(time=float(year)))
        assert comparison.loc[year, "debt_model"] == pytest.approx(100 * debt / gdp, rel=1e-12)
        instant = 100 * float(ds["debt_to_gdp"].sel(time=float(year)))
        assert instant < comparison.loc[year, "debt_model"]  # the rate at t exceeds the year's mean
    # results say which ratio debt_to_gdp is
    assert "annual rate at the same instant" in ds["debt_to_gdp"].attrs["long_name"]
    checks = fidelity.cbo_checks(comparison)
    units = {c.units for c in checks if c.check.startswith(("debt/GDP", "net interest"))}
    assert units == {"% of FY GDP"}


def test_baseline_average_rate_within_025_points_of_cbo(comparison):
    span = comparison.loc[2026:2035]
    assert (span["rate_model"] - span["rate_cbo"]).abs().max() <= 0.25


def test_premia_are_near_zero_in_the_anchored_baseline_and_not_in_the_unanchored():
    anchored = run("baseline")["yield_premium"].sel(time=2055.0)
    unanchored = run("unanchored")["yield_premium"].sel(time=2055.0)
    assert abs(float(anchored)) < 0.001  # under 10bp: only the small deviations from CBO
    assert float(unanchored) > 0.01  # the level premia of the old model: over 100bp


def test_unanchored_debt_ends_above_the_anchored_baseline():
    assert float(run("unanchored")["debt_to_gdp"].sel(time=2055.0)) > float(
        run("baseline")["debt_to_gdp"].sel(time=2055.0)
    )


@pytest.fixture(scope="module")
def history_table():
    _, table = backtest.run_backtest(2015, 2025, "historical")
    return table


def test_backtest_debt_within_3_percent_in_2025(history_table):
    assert (
        abs(backtest.relative_error(history_table, "debt_held_by_public", range(2025, 2026)))
        <= 0.03
    )


def test_backtest_net_interest_within_10_percent(history_table):
    assert abs(backtest.relative_error(history_table, "net_interest", range(2016, 2026))) <= 0.10
    assert abs(backtest.relative_error(history_table, "net_interest", range(2025, 2026))) <= 0.10


def test_backtest_replays_the_fed_and_china_as_they_happened(history_table):
    rows = history_table[history_table["variable"] == "fed_holdings"]
    np.testing.assert_allclose(rows["model"], rows["actual"], rtol=1e-6)
    # China's holdings move by its net transactions: TIC's market value less the price changes
    # (and survey revisions) since the start of the backtest, FY2015
    rows = history_table[history_table["variable"] == "china_holdings"].set_index("year")
    history = data.history()
    after = rows.index[rows.index > rows.index.min()]
    other = sum(
        history.series(f"china_{part}")[after].cumsum()
        for part in ("valuation_change", "benchmark_revision")
    ).reindex(rows.index, fill_value=0.0)
    assert (other.abs() > 1.0).any()
    np.testing.assert_allclose(rows["model"], rows["actual"] - other, rtol=1e-6)


def test_backtest_historical_yield_tracks_the_10_year(history_table):
    rms, _ = backtest.tracking(history_table, "market_yield")
    assert rms < 0.1  # percentage points: the spread is historical, the premia are off


def test_backtest_table_has_the_contract_columns(history_table):
    assert list(history_table.columns) == ["variable", "year", "model", "actual", "units"]
    assert {
        "debt_held_by_public",
        "net_interest",
        "japan_holdings",
        "china_holdings",
        "fed_holdings",
        "market_yield",
    } <= set(history_table["variable"])


@pytest.mark.parametrize("start", [2000, 2008, 2020, 2024])
def test_backtests_from_other_years_keep_holdings_adding_to_the_debt(start):
    prepared = backtest.prepare_backtest(start, 2025, "endogenous")
    ds = backtest.execute(prepared)
    holders = [
        "japan_holdings",
        "china_holdings",
        "other_foreign_holdings",
        "fed_holdings",
        "domestic_private_holdings",
    ]
    total = sum(ds[name] for name in holders)
    np.testing.assert_allclose(total, ds["debt_held_by_public"], rtol=1e-9, atol=0)
    assert float(ds["time"][0]) == start


@pytest.fixture(scope="module")
def impact():
    return markets.price_impact()


# Every channel on, the Fed's rule included.
def test_a_100bn_sale_in_a_month_peaks_at_40_to_60bp(impact):
    assert 40.0 <= impact["sale_peak"] <= 60.0


def test_a_100bn_sale_still_lifts_the_yield_10_to_30bp_a_year_on(impact):
    assert 10.0 <= impact["sale_one_year"] <= 30.0


def test_a_100bn_sale_is_still_above_the_baseline_two_years_on(impact):
    assert impact["sale_two_years"] > 0.0


def test_a_17tn_purchase_programme_lowers_the_yield_50_to_100bp_and_never_raises_it(impact):
    assert -100.0 <= impact["programme_end"] <= -50.0
    assert impact["programme_highest"] <= 0.0


@pytest.mark.parametrize("scenario", ["japan_full", "article"])
def test_the_decomposition_adds_up_to_the_headlines(scenario):
    parts = markets.decomposition(scenario).set_index("part")["value"]
    total, expectations, premium = parts.iloc[0], parts.iloc[1], parts.iloc[2]
    assert total == pytest.approx(expectations + premium, abs=1e-9)
    assert total > 0.0
    # The segments' parts sum the model's steps as its stock does: equal but for rounding.
    interest = parts.iloc[3]
    assert interest == pytest.approx(parts.iloc[4:].sum(), rel=1e-12)
    assert interest > 0.0
    # The same figures as the headline table of `debtloops run`, which readers see first.
    headline = outputs.headline(scenario, run_scenario(scenario), run_scenario("baseline"))
    assert headline.horizon_year == markets.DECOMPOSITION_SPAN[1]
    assert headline.peak_extra_yield * BASIS_POINTS == pytest.approx(total, abs=1e-9)
    assert headline.extra_interest == pytest.approx(interest, rel=1e-9)


def test_backtests_hold_the_policy_rate_to_history():
    for yields in backtest.YIELD_MODES:
        _, table = backtest.run_backtest(2015, 2025, yields)
        policy = table[table["variable"] == "fed_policy_rate"]
        assert len(policy) == 10
        assert float((policy["model"] - policy["actual"]).abs().max()) < 1e-4  # 1bp


def test_markets_learn_long_run_inflation_from_history_in_a_backtest_and_not_in_projections():
    """The long-run rate is a shifting endpoint: the real rate learned plus the inflation expected.

    From FY2020 history's CPI inflation (3-8% a year in FY2022-2023) lifts the inflation markets
    expect, and with it their long-run policy rate; the same run with history's CPI path held at
    the starting expectation keeps it still. In the baseline the expectation stays where the
    baseline's CPI path starts it.
    """
    prepared = backtest.prepare_backtest(2020, 2025, "endogenous")
    start = prepared.values["initial_expected_long_run_inflation"]
    held = dict(prepared.values, cpi_inflation_path=start)
    runs = [execute(prepared), execute(replace(prepared, values=held))]
    learned, still = (r["expected_long_run_inflation"] for r in runs)
    assert float(learned.isel(time=-1)) > start + 0.005
    assert float(abs(still - start).max()) < 1e-12
    real = [r["long_run_real_policy_rate"] for r in runs]
    assert np.allclose(real[0] + learned, runs[0]["long_run_policy_rate"], rtol=0, atol=1e-12)
    assert float(runs[0]["long_run_policy_rate"].isel(time=-1)) > float(
        runs[1]["long_run_policy_rate"].isel(time=-1)
    )
    baseline = run("baseline")["expected_long_run_inflation"]
    table = load_parameters()
    initial = table["initial_expected_long_run_inflation"].value
    assert float(abs(baseline - initial).max()) < 1e-12
    assert initial == table["cpi_inflation_path"].value


def test_historical_yields_price_each_segment_at_its_observed_yield():
    ds, _ = backtest.run_backtest(2015, 2025, "historical")
    observed = data.observed_yields()["observed_medium_note_yield"]
    in_2020 = ds["medium_note_yield"].sel(time=slice(2019.0, 2019.9))
    np.testing.assert_allclose(in_2020, observed[2020], rtol=1e-12)


def test_the_price_impact_is_concave_in_the_amount():
    small = run("baseline", japan_sale_amount=100.0, japan_sale_duration=0.0625)
    large = run("baseline", japan_sale_amount=1000.0, japan_sale_duration=0.0625)
    base = run("baseline")
    lift_small = float((small["market_yield"] - base["market_yield"]).max())
    lift_large = float((large["market_yield"] - base["market_yield"]).max())
    assert lift_small < lift_large < 10 * lift_small / 2


@pytest.fixture(scope="module")
def checked():
    """``fidelity.run_checks()`` once for the module: about 30 model runs."""
    return fidelity.run_checks()


def test_every_check_passes_but_the_known_gaps_and_names_its_source(checked):
    checks, _, _ = checked
    assert len(checks) >= 40
    failing = [c.check for c in checks if not c.passed]
    assert all(_known_gap(name) for name in failing), failing
    assert len(failing) == len(KNOWN_GAPS), failing
    assert all(c.source for c in checks)


def test_validate_writes_the_table_and_figures_and_exits_1_while_a_check_fails(tmp_path, capsys):
    status = cli.main(["validate", "--out", str(tmp_path / "v")])
    printed = capsys.readouterr().out
    assert status == (1 if KNOWN_GAPS else 0)
    table = pd.read_csv(tmp_path / "v" / "validation.csv")
    assert list(table.columns) == [
        "check",
        "model",
        "reference",
        "tolerance",
        "units",
        "pass",
        "source",
    ]
    assert list(table["pass"]) == [not _known_gap(check) for check in table["check"]]
    assert (tmp_path / "v" / "cbo_baseline.png").stat().st_size > 10_000
    assert (tmp_path / "v" / "backtest.png").stat().st_size > 10_000
    assert "PASS" in printed


def test_validate_exits_1_when_a_check_fails(tmp_path, monkeypatch, capsys, checked):
    failing = fidelity.Check("a check that fails", 2.0, 1.0, 0.9, 1.1, "1", "test")
    real = fidelity.run_checks

    def with_a_failure(*args):
        # the module's checks when validate asks for the default vintage, as it does here
        checks, comparison, history = checked if args in ((), (None,)) else real(*args)
        return [*checks, failing], comparison, history

    monkeypatch.setattr(fidelity, "run_checks", with_a_failure)
    assert cli.main(["validate", "--out", str(tmp_path / "v")]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_the_checks_run_again_only_when_an_input_changes(tmp_path, monkeypatch):
    runs = []

    def counted(cbo):
        runs.append(cbo)
        check = fidelity.Check(f"run {len(runs)}", 1.0, 1.0, 0.9, 1.1, "1", "test")
        return [check], pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [2.0]})

    monkeypatch.setattr(fidelity, "_computed_checks", counted)
    monkeypatch.setattr(fidelity, "_CHECKED", {})
    first = fidelity.run_checks()
    first[0].clear()
    first[1].loc[0, "a"] = -1.0
    again = fidelity.run_checks(data.DEFAULT_VINTAGE)
    assert len(runs) == 1  # the default vintage by name is the same input
    assert [c.check for c in again[0]] == ["run 1"] and again[1].loc[0, "a"] == 1.0
    other = next(name for name in data.list_vintages() if name != data.DEFAULT_VINTAGE)
    fidelity.run_checks(other)
    assert len(runs) == 2
    scenarios = tmp_path / "scenarios"
    shutil.copytree(paths.SCENARIO_DIR, scenarios)
    monkeypatch.setattr(paths, "SCENARIO_DIR", scenarios)
    fidelity.run_checks()
    assert len(runs) == 2  # the same files elsewhere
    baseline = scenarios / "baseline.toml"
    baseline.write_text(baseline.read_text() + "\n# edited\n")
    fidelity.run_checks()
    assert len(runs) == 3
    monkeypatch.setattr(datafiles, "HISTORY_FILE", tmp_path / datafiles.HISTORY_FILE.name)
    fidelity.run_checks()
    assert len(runs) == 4


def test_backtest_command_writes_csv_and_figure(tmp_path, capsys):
    out = tmp_path / "bt"
    assert cli.main(["backtest", "--start", "2015", "--end", "2025", "--out", str(out)]) == 0
    table = pd.read_csv(out / "backtest.csv")
    assert list(table.columns) == ["variable", "year", "model", "actual", "units"]
    assert (out / "backtest.png").is_file()
    assert "root-mean-square" in capsys.readouterr().out
