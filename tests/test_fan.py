"""``debtloops fan``: shocks drawn from history around a scenario, with and without the sale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from debtloops import cli
from debtloops import fan as fan_module
from debtloops.errors import SimulationError
from debtloops.fan import (
    CASES,
    OUTPUT_NAMES,
    SHOCKS,
    draw_innovations,
    estimate,
    fan,
    history_series,
    parameter_draws,
    propagate,
)
from debtloops.model.parameters import load_parameters
from debtloops.model.run import execute, prepare, reference_for
from debtloops.validation.backtest import fiscal_year_value

SCENARIO = "japan_full"
#: Few draws keep the model tests quick; the statistics are tested on the draws alone.
DRAWS = 3
#: Innovations drawn for the covariance test [years of shocks].
SAMPLE = 40_000
#: Standard errors allowed per covariance element. Each sample covariance element is close to
#: normal at this size, with variance (S_ii S_jj + S_ij^2) / n; P(|Z| > 5) = 5.7e-7, so over the
#: 15 distinct elements the false-failure rate is under 1e-5 (a union bound) for a random seed.
#: The seed is fixed, so the test is deterministic: it cannot fail by chance from run to run.
STANDARD_ERRORS = 5.0
SEED = 7


def test_zero_covariance_collapses_the_fan_onto_the_deterministic_path():
    zero = np.zeros((len(SHOCKS), len(SHOCKS)))
    dataset = fan(SCENARIO, DRAWS, covariance=zero, years=(2035,))
    for name in ("debt_to_gdp", "ten_year_yield", "interest_to_revenue"):
        deterministic = dataset[f"{name}_deterministic"]
        spread = np.abs(dataset[name] - deterministic).max()
        assert float(spread) <= 1e-12 * float(np.abs(deterministic).max())
    # the unshocked run is the scenario's and the baseline's own run: the paths change nothing
    prepared = prepare(SCENARIO)
    for case, run in zip(CASES, (prepared, reference_for(prepared)), strict=True):
        plain = execute(run)
        for year in (2030, 2040, 2055):
            expected = fiscal_year_value(plain, "debt_held_by_public", "end_to_gdp", year)
            got = float(dataset["debt_to_gdp_deterministic"].sel(case=case, year=year))
            assert got == pytest.approx(expected, rel=1e-9)


def test_parameter_draws_spread_the_fan_and_keep_the_unshocked_run():
    zero = np.zeros((len(SHOCKS), len(SHOCKS)))
    plain = fan(SCENARIO, DRAWS, covariance=zero, years=(2035,))
    drawn = fan(SCENARIO, DRAWS, covariance=zero, years=(2035,), parameters="ranges")
    assert drawn.attrs["parameters_drawn"] != "none"
    np.testing.assert_allclose(
        drawn["debt_to_gdp_deterministic"], plain["debt_to_gdp_deterministic"], rtol=1e-9
    )
    spread = drawn["debt_to_gdp"].sel(quantile=0.95) - drawn["debt_to_gdp"].sel(quantile=0.05)
    assert float(spread.max()) > 0


def test_parameter_draws_lie_in_the_table_ranges():
    table = load_parameters()
    draws = parameter_draws(prepare(SCENARIO), 500, SEED)
    assert draws
    for name, values in draws.items():
        assert np.all((values >= table[name].low) & (values <= table[name].high)), name
        assert values[-1] == table[name].value


def test_drawn_innovations_have_the_estimated_covariance_within_sampling_error():
    covariance = estimate(history_series()).covariance
    drawn = draw_innovations(covariance, SAMPLE, 1, SEED)[:, 0]
    sample = np.cov(drawn, rowvar=False)
    diagonal = np.diag(covariance)
    error = np.sqrt((np.outer(diagonal, diagonal) + covariance**2) / SAMPLE)
    assert np.all(np.abs(sample - covariance) <= STANDARD_ERRORS * error)


def test_the_var_recovers_known_dynamics():
    rng = np.random.default_rng(SEED)
    coefficients = np.array([[0.5, 0.1], [-0.2, 0.3]])
    innovations = rng.standard_normal((1, 20_000, 2)) * [0.01, 0.02]
    path = propagate(coefficients, innovations)[0]
    fitted = estimate(pd.DataFrame(path, columns=["a", "b"]))
    # standard errors of the coefficients are about 1/sqrt(20000) = 0.007 (times a ratio of
    # scales below 2); 0.05 is over 3.5 of them for each of 4 coefficients, fixed seed
    np.testing.assert_allclose(fitted.coefficients, coefficients, atol=0.05)
    np.testing.assert_allclose(np.sqrt(np.diag(fitted.covariance)), [0.01, 0.02], rtol=0.05)


def test_propagation_without_dynamics_returns_the_innovations():
    innovations = draw_innovations(np.eye(3), 4, 5, SEED)
    np.testing.assert_array_equal(propagate(np.zeros((3, 3)), innovations), innovations)


def test_draws_split_into_several_ensembles_give_the_same_fan(monkeypatch):
    whole = fan(SCENARIO, DRAWS, seed=SEED, years=(2040,))
    monkeypatch.setattr(fan_module, "CHUNK_RUNS", 2)
    split = fan(SCENARIO, DRAWS, seed=SEED, years=(2040,))
    for name in ("debt_to_gdp", "debt_to_gdp_deterministic", "probability_by_year"):
        np.testing.assert_allclose(split[name], whole[name], rtol=1e-9)


def test_draws_in_an_impossible_state_are_dropped_and_counted_or_fail_the_command(monkeypatch):
    # no draw within the model's valid ranges reaches an impossible state (a surplus retires only
    # what private investors hold), so one is made up: every run whose first shock to the first
    # series is positive is reported as having emptied a stock; the unshocked run never is
    simulate = fan_module._simulate

    def with_problems(run, chunk, sampled):
        times, results, share, found = simulate(run, chunk, sampled)
        made_up = ["stock x went negative (-1) at time 2030" if c[0, 0] > 0 else "" for c in chunk]
        return times, results, share, [a or b for a, b in zip(found, made_up, strict=True)]

    monkeypatch.setattr(fan_module, "_simulate", with_problems)
    with pytest.raises(SimulationError, match="impossible state"):
        fan(SCENARIO, 20, years=(2040,))
    monkeypatch.setattr(fan_module, "MAX_DROPPED_SHARE", 1.0)
    dataset = fan(SCENARIO, 20, years=(2040,))
    assert 0 < dataset.attrs["draws_dropped"] < 20
    assert np.isfinite(dataset["debt_to_gdp"]).all()


def test_the_result_is_reproducible_for_a_seed_and_changes_with_it():
    first = fan(SCENARIO, DRAWS, seed=SEED, years=(2040,))
    again = fan(SCENARIO, DRAWS, seed=SEED, years=(2040,))
    other = fan(SCENARIO, DRAWS, seed=SEED + 1, years=(2040,))
    np.testing.assert_allclose(first["debt_to_gdp"], again["debt_to_gdp"], rtol=1e-12)
    assert not np.allclose(first["debt_to_gdp"], other["debt_to_gdp"])


def test_the_command_writes_its_files_and_probabilities(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["fan", SCENARIO, "--draws", "4", "--out", str(out), "--years", "2040"]
    assert cli.main(argv) == 0
    assert sorted(p.name for p in out.iterdir() if p.name in OUTPUT_NAMES) == sorted(OUTPUT_NAMES)
    printed = capsys.readouterr().out
    assert "> 150% ever by 2040" in printed and "> 150% in 2040" in printed
    with xr.open_dataset(out / "fan.nc") as written:
        assert written.attrs["Conventions"].startswith("CF-")
        for name, variable in written.data_vars.items():
            assert variable.attrs.get("long_name") and "units" in variable.attrs, name


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([SCENARIO, "--draws", "1"], "--draws"),
        ([SCENARIO, "--draws", "100000000"], "nearest valid value: 200000"),
        (["japan_ful", "--draws", "4"], "japan_full"),
        ([SCENARIO, "--draws", "4", "--thresholds", "lots"], "--thresholds"),
        ([SCENARIO, "--draws", "4", "--thresholds", "150,-5"], "positive"),
        ([SCENARIO, "--draws", "4", "--years", "2070"], "nearest valid is 2055"),
        ([SCENARIO, "--draws", "4", "--years", "soon"], "--years"),
        ([SCENARIO, "--draws", "4", "--seed", "-1"], "--seed"),
        ([SCENARIO, "--draws", "4", "--parameters", "posterior"], "ranges"),
        (
            [SCENARIO, "--draws", "4", "--set", "flow_effect_sensitivty=1"],
            "flow_effect_sensitivity",
        ),
        (
            [SCENARIO, "--draws", "4", "--final-time", "2030", "--years", "2035"],
            "nearest valid is 2030",
        ),
        ([SCENARIO, "--draws", "4", "--final-time", "2025.5"], "nearest valid value: 2026"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message_and_write_nothing(
    tmp_path, capsys, extra, expected
):
    out = tmp_path / "out"
    assert cli.main(["fan", *extra, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error
    assert expected in error
    assert not out.exists()


def test_a_file_of_the_users_in_out_is_left_alone(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "fan.csv").write_text("mine\n")
    assert cli.main(["fan", SCENARIO, "--draws", "4", "--out", str(out)]) == 2
    assert "not debtloops' to replace" in capsys.readouterr().err
    assert (out / "fan.csv").read_text() == "mine\n"
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["fan.csv"]


def test_set_and_final_time_reach_the_scenario_and_its_baseline(tmp_path, capsys):
    out = tmp_path / "out"
    overrides = {"portfolio_balance_sensitivity": 0.6}
    argv = ["fan", SCENARIO, "--draws", "2", "--final-time", "2040", "--out", str(out)]
    assert cli.main([*argv, "--set", "portfolio_balance_sensitivity=0.6"]) == 0
    with xr.open_dataset(out / "fan.nc") as written:
        dataset = written.load()
    # the default years the run reaches (2055 is beyond it), and no year after its last
    assert list(dataset["by_year"].values) == [2035, 2040]
    assert dataset.attrs["overrides"] == "portfolio_balance_sensitivity=0.6"
    assert int(dataset["year"].max()) == 2040
    prepared = prepare(SCENARIO, overrides, 2040)
    for case, run in zip(CASES, (prepared, reference_for(prepared, overrides)), strict=True):
        expected = fiscal_year_value(execute(run), "debt_held_by_public", "end_to_gdp", 2040)
        got = float(dataset["debt_to_gdp_deterministic"].sel(case=case, year=2040))
        assert got == pytest.approx(expected, rel=1e-9)
    shipped = fiscal_year_value(
        execute(prepare(SCENARIO)), "debt_held_by_public", "end_to_gdp", 2040
    )
    got = float(dataset["debt_to_gdp_deterministic"].sel(case="scenario", year=2040))
    assert got != pytest.approx(shipped, rel=1e-6)


@pytest.mark.parametrize(
    ("final_time", "years"),
    [(2031.5, (2031,)), (2040.0, (2035, 2040)), (2100.0, (2035, 2040, 2055))],
)
def test_the_default_years_are_whole_fiscal_years_the_run_reaches(final_time, years):
    # fiscal year Y ends at Y.0: a run to 2031.5 has FY2031 whole, not FY2032
    assert fan_module.default_years(prepare(SCENARIO, final_time=final_time)) == years
