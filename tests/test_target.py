"""``debtloops target``: the goal-seek, checked by rerunning its answers.

Each solution read back from ``target.csv`` is run again through the public API and must meet its
target within the solver's stated tolerance (:data:`debtloops.target.DEBT_TOLERANCE`, 1e-6 of GDP;
:data:`debtloops.target.YIELD_TOLERANCE`, 0.01bp). The runs stop a few years out to stay quick.
"""

from __future__ import annotations

import matplotlib.image as mpimg
import pandas as pd
import pytest
import xarray as xr
from cf_checks import cf_problems

from debtloops import cli
from debtloops.model.run import run_scenario
from debtloops.outputs import BASIS_POINTS
from debtloops.target import (
    BACKSTOP_RATE,
    BACKSTOP_SWITCH,
    DEBT_TOLERANCE,
    EFFORT,
    EFFORT_PHASE_IN,
    EFFORT_START,
    MARKET_FEEDBACKS_OFF,
    OUTPUT_NAME,
    OUTPUT_NAMES,
    PERCENT,
    YIELD_TOLERANCE,
)
from debtloops.validation.backtest import fiscal_year_value

#: A short horizon: the target year of the debt tests and the last year of the yield test [year].
BY = 2030
#: The first fiscal year of the effort and its phase-in [year].
FROM, PHASE_IN = 2027, 3.0
#: The level the sale's peak extra 10-year must stay under in the Fed test [bp]; japan_full peaks
#: near 78bp without purchases, and the backstop cannot bring it below the mid-30s.
PEAK_LEVEL = 60.0


def _feedbacks(name: str) -> dict[str, float]:
    return dict(MARKET_FEEDBACKS_OFF) if name == "off" else {}


def _debt(scenario: str, overrides: dict[str, float]) -> float:
    run = run_scenario(scenario, overrides, final_time=BY)
    return fiscal_year_value(run, "debt_held_by_public", "end_to_gdp", BY)


def test_the_debt_target_is_met_on_rerun_with_the_feedbacks_on_and_off(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["target", "japan_full", "--debt-to-gdp", "baseline", "--by", str(BY)]
    argv += ["--from", str(FROM), "--phase-in", str(PHASE_IN), "--out", str(out)]
    assert cli.main(argv) == 0
    assert "feedbacks on" in capsys.readouterr().out
    table = pd.read_csv(out / OUTPUT_NAME).set_index("feedbacks")
    target = _debt("baseline", {})
    efforts = {}
    for name in ("on", "off"):
        row = table.loc[name]
        assert row["target_debt_to_gdp_percent"] / PERCENT == pytest.approx(target, abs=1e-12)
        efforts[name] = row["effort_percent_of_gdp"] / PERCENT
        overrides = {
            **_feedbacks(name),
            EFFORT: efforts[name],
            EFFORT_START: FROM - 1.0,
            EFFORT_PHASE_IN: PHASE_IN,
        }
        assert abs(_debt("japan_full", overrides) - target) <= DEBT_TOLERANCE
        # the sale raises debt, so holding it at the baseline's level takes a positive effort
        assert row["debt_to_gdp_without_percent"] / PERCENT > target
        assert efforts[name] > 0
        assert row["effort_target_year_billion_usd"] > 0
        assert row["effort_summed_billion_usd"] >= row["effort_target_year_billion_usd"]
        assert row["interest_saved_billion_usd"] > 0
    # the market feedbacks carry most of the sale's cost: switched off, far less effort is needed
    assert efforts["off"] < efforts["on"] - 10 * DEBT_TOLERANCE
    # target.nc holds the paths behind the table: each ends at the table's debt/GDP, with and
    # without the effort, and the lever is the table's; it passes the CF checks; the chart is drawn
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        OUTPUT_NAMES
    )
    assert cf_problems(out / "target.nc") == []
    with xr.open_dataset(out / "target.nc") as paths:
        for name in ("on", "off"):
            row = table.loc[name]
            end = paths["debt_to_gdp"].sel(feedbacks=name, fiscal_year=BY)
            achieved, without = (PERCENT * end.sel(case=c) for c in ("with_lever", "without_lever"))
            assert float(achieved) == pytest.approx(row["debt_to_gdp_achieved_percent"], abs=1e-9)
            assert float(without) == pytest.approx(row["debt_to_gdp_without_percent"], abs=1e-9)
            lever = PERCENT * float(paths["lever"].sel(feedbacks=name))
            assert lever == pytest.approx(row["effort_percent_of_gdp"], rel=1e-12)
            # the effort starts in FY2027: the two paths agree before it
            early = paths["debt_to_gdp"].sel(feedbacks=name, fiscal_year=FROM - 1)
            assert float(early.sel(case="with_lever")) == pytest.approx(
                float(early.sel(case="without_lever")), rel=1e-12
            )
    assert mpimg.imread(out / "target.png").shape[0] > 100


def test_the_fed_purchases_hold_the_peak_extra_yield_on_rerun(tmp_path):
    out = tmp_path / "out"
    argv = ["target", "japan_full", "--peak-extra-yield", str(PEAK_LEVEL), "--by", str(BY)]
    assert cli.main([*argv, "--out", str(out)]) == 0
    row = pd.read_csv(out / OUTPUT_NAME).set_index("feedbacks").loc["on"]
    rate = row["fed_backstop_maximum_rate_billion_usd_per_year"]
    overrides = {BACKSTOP_SWITCH: 1.0, BACKSTOP_RATE: rate}
    scenario = run_scenario("japan_full", overrides, final_time=BY)
    baseline = run_scenario("baseline", overrides, final_time=BY)
    peak = float((scenario["market_yield"] - baseline["market_yield"]).max())
    assert abs(peak - PEAK_LEVEL / BASIS_POINTS) <= YIELD_TOLERANCE
    assert row["peak_extra_yield_without_bp"] > PEAK_LEVEL  # the level binds
    assert rate > 0


def test_an_unreachable_target_exits_2_naming_the_best_reachable_and_writes_nothing(
    tmp_path, capsys
):
    out = tmp_path / "out"
    argv = ["target", "japan_full", "--debt-to-gdp", "20", "--by", str(BY), "--out", str(out)]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "best reachable" in error and EFFORT in error
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["japan_full", "--debt-to-gdp", "100", "--by", "2060"], "nearest valid is 2055"),
        (["japan_full", "--debt-to-gdp", "100", "--by", "2025"], "nearest valid is 2026"),
        (["japan_full", "--debt-to-gdp", "100", "--by", "2035", "--phase-in", "0"], "0.125"),
        (["japan_full", "--debt-to-gdp", "100", "--by", "2035", "--phase-in", "-2"], "0.125"),
        (["japan_full", "--debt-to-gdp", "100", "--by", "2035", "--from", "2040"], "2035"),
        (["japan_ful", "--debt-to-gdp", "100", "--by", "2035"], "japan_full"),
        (["japan_full", "--debt-to-gdp", "lots", "--by", "2035"], "baseline"),
        (["japan_full", "--debt-to-gdp", "100"], "--by"),
        (["japan_full", "--peak-extra-yield", "-5"], "nearest valid is 0"),
    ],
)
def test_bad_arguments_exit_2_with_the_nearest_valid_choice(tmp_path, capsys, extra, expected):
    out = tmp_path / "out"
    assert cli.main(["target", *extra, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error
    assert expected in error
    assert not out.exists()


def test_a_goal_is_required(capsys):
    assert cli.main(["target", "japan_full", "--by", "2035"]) == 2
    assert "--debt-to-gdp" in capsys.readouterr().err


def test_a_file_of_the_users_in_out_is_left_alone(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / OUTPUT_NAME).write_text("mine\n")
    argv = ["target", "japan_full", "--debt-to-gdp", "100", "--by", "2035", "--out", str(out)]
    assert cli.main(argv) == 2
    assert "not debtloops' to replace" in capsys.readouterr().err
    assert (out / OUTPUT_NAME).read_text() == "mine\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--debt-to-gdp", "100", "--set", f"{EFFORT}=0.01"], "solves for"),
        (["--debt-to-gdp", "100", "--set", f"{EFFORT_PHASE_IN}=2"], "use --phase-in"),
        (["--peak-extra-yield", "60", "--set", f"{BACKSTOP_SWITCH}=0"], "use --peak-extra-yield"),
        (["--debt-to-gdp", "100", "--set", "portfolio_balance_sensitivty=0.5"], "did you mean"),
    ],
)
def test_a_set_of_what_the_goal_sets_or_of_an_unknown_name_exits_2(
    tmp_path, capsys, extra, expected
):
    out = tmp_path / "out"
    argv = ["target", "japan_full", "--by", str(BY), *extra, "--out", str(out)]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert expected in error and len(error.splitlines()) == 1 and "Traceback" not in error
    assert not out.exists()


def test_a_set_reaches_every_run_and_the_answer_meets_the_target_with_it(tmp_path, capsys):
    out = tmp_path / "out"
    setting = {"portfolio_balance_sensitivity": 0.6}
    argv = ["target", "japan_full", "--debt-to-gdp", "100", "--by", str(BY)]
    argv += ["--from", str(FROM), "--phase-in", str(PHASE_IN), "--out", str(out)]
    assert cli.main([*argv, "--set", "portfolio_balance_sensitivity=0.6"]) == 0
    frame = pd.read_csv(out / OUTPUT_NAME).set_index("feedbacks")
    with xr.open_dataset(out / "target.nc") as written:
        assert written.attrs["overrides"] == "portfolio_balance_sensitivity=0.6"
    effort = frame.loc["on", "effort_percent_of_gdp"] / PERCENT
    lever = {EFFORT: effort, EFFORT_START: FROM - 1.0, EFFORT_PHASE_IN: PHASE_IN}
    with_setting = _debt("japan_full", {**setting, **lever})
    assert with_setting == pytest.approx(1.0, abs=DEBT_TOLERANCE)
    assert abs(_debt("japan_full", lever) - 1.0) > 10 * DEBT_TOLERANCE
