"""Comparing policy responses (``debtloops compare-policies``, issue 20 item 5).

A small sweep (japan_full to FY2030, four experiments of two uncertainties) runs every shipped
policy and one that sets a lever to its default (so it is the no-policy case) through the command
line and the Python entry point; regret is checked in those runs and on random arrays; bad
specifications and policies exit 2 writing nothing.
"""

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from cf_checks import cf_problems
from cli_harness import call
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from debtloops.errors import InputError
from debtloops.policies import (
    DIRECTIONS,
    NO_POLICY,
    OUTPUT_NAMES,
    SHIPPED_POLICIES,
    Policy,
    compare,
    load_policies,
    policy_from_scenario,
    policy_plan,
    policy_table,
    regret,
)
from debtloops.sweeps.execute import run_plan
from debtloops.sweeps.store import STORE_NAME

SPEC = """\
# small: policies over a few experiments
# Intent: cheap runs for the tests.
# Source: ranges from models/parameters.toml.
scenarios = ["japan_full"]
outcomes = ["debt_to_gdp", "market_yield", "dollar_index"]
final_time = 2030.0

[sampler]
method = "lhs"
samples = 4
seed = 5

[uncertainties.portfolio_balance_sensitivity]
[uncertainties.flow_effect_sensitivity]
"""
#: Options that keep a run small: one worker in this process, one chunk of the four experiments.
SMALL = ["--workers", "1", "--chunk-size", "4", "--quiet"]
#: A policy that sets the backstop's switch to its default, off: the no-policy case.
SAME = Policy("backstop_off", {"fed_backstop_switch": 0.0})


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "small.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def by_cli(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    status, stdout, err = call(["compare-policies", str(spec), "--out", str(out), *SMALL])
    assert status == 0, err
    return out, stdout


@pytest.fixture(scope="module")
def by_api(spec, tmp_path_factory):
    """The shipped policies and :data:`SAME`, run through the Python entry point."""
    out = tmp_path_factory.mktemp("api") / "out"
    policies = [*load_policies(), SAME]
    run_plan(policy_plan(spec, policies, chunk_size=4), spec, out, workers=1, quiet=True)
    return compare(out, policies)


def test_the_command_writes_its_table_figure_and_cf_netcdf(by_cli):
    out, stdout = by_cli
    assert all((out / name).is_file() for name in OUTPUT_NAMES)
    assert (out / STORE_NAME).is_dir()
    assert cf_problems(out / "policies.nc") == []
    table = pd.read_csv(out / "policies.csv")
    assert set(table["policy"]) == {NO_POLICY, *SHIPPED_POLICIES}
    assert set(table.loc[table["direction"].notna(), "outcome"]) == set(DIRECTIONS)
    assert "mean_regret" in stdout and "fed_backstop" in stdout


def test_levers_are_the_shipped_scenarios_settings_beyond_their_base():
    assert policy_from_scenario("fed_backstop").settings == {"fed_backstop_switch": 1.0}
    assert policy_from_scenario("fed_tightening").settings == {"fed_tightening_strength": 0.5}
    assert policy_from_scenario("diversification").settings == {"diversification_switch": 1.0}


def test_regret_is_zero_for_the_best_policy_and_positive_or_zero_elsewhere(by_api):
    for name in DIRECTIONS:
        values, loss = by_api[name].values, by_api[f"regret_{name}"].values
        assert np.isfinite(loss).all()  # every policy ran in every experiment
        assert (loss >= 0.0).all(), name
        np.testing.assert_array_equal(loss.min(axis=1), 0.0)
        best = np.argmin(values, axis=1)
        np.testing.assert_array_equal(np.take_along_axis(loss, best[:, None], axis=1), 0.0)


def test_a_policy_identical_to_no_policy_has_identical_outcomes(by_api):
    for name in (*DIRECTIONS, "dollar_trough"):
        same = by_api[name].sel(policy=SAME.name).values
        none = by_api[name].sel(policy=NO_POLICY).values
        np.testing.assert_allclose(same, none, rtol=1e-12, atol=0, err_msg=name)


def test_a_lever_changes_the_outcomes(by_api):
    backstop = by_api["peak_market_yield"].sel(policy="fed_backstop").values
    none = by_api["peak_market_yield"].sel(policy=NO_POLICY).values
    assert (backstop < none).all()  # the backstop caps the yield's jump in every experiment


def test_results_are_reproducible_for_a_seed(by_cli, by_api):
    out, _ = by_cli
    with xr.open_dataset(out / "policies.nc") as written:
        for name in DIRECTIONS:
            for policy in (NO_POLICY, *SHIPPED_POLICIES):
                np.testing.assert_allclose(
                    written[name].sel(policy=policy).values,
                    by_api[name].sel(policy=policy).values,
                    rtol=1e-12,
                    atol=0,
                    err_msg=f"{name}, {policy}",
                )
        np.testing.assert_array_equal(
            written["portfolio_balance_sensitivity"].values,
            by_api["portfolio_balance_sensitivity"].values,
        )


def test_the_table_summarises_the_regret(by_api):
    table = policy_table(by_api)
    scored = table[table["direction"] != ""]
    assert (scored["max_regret"] >= scored["mean_regret"]).all()
    assert (scored["mean_regret"] >= 0).all()
    # in each experiment some policy is best, so the shares of being best add up to at least 1
    for _, group in scored.groupby(["scenario", "outcome"]):
        assert group["share_best"].sum() >= 1.0 - 1e-12


def test_a_second_call_resumes_and_computes_nothing(by_cli, spec):
    out, _ = by_cli
    status, stdout, err = call(["compare-policies", str(spec), "--out", str(out), *SMALL])
    assert status == 0, err
    assert "(0 computed now" in stdout


@settings(max_examples=25)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5)),
        elements=st.floats(-1e6, 1e6),
    )
)
def test_regret_of_any_values(values):
    loss = regret(values, axis=1)
    assert (loss >= 0).all()
    np.testing.assert_array_equal(loss.min(axis=1), 0.0)


def test_a_failed_run_leaves_its_experiment_without_regret():
    values = np.array([[1.0, np.nan], [2.0, 3.0]])  # policies x experiments
    loss = regret(values, axis=0)
    assert np.isnan(loss[:, 1]).all()
    np.testing.assert_array_equal(loss[:, 0], [0.0, 1.0])


LEVERS = SPEC + "\n[levers]\nfed_backstop_switch = [0.0, 1.0]\n"
OVERLAP = SPEC + "[uncertainties.fed_tightening_strength]\n"
UNKNOWN_KEY = SPEC.replace("seed = 5", "seed = 5\nsead = 6")


@pytest.mark.parametrize(
    ("text", "options", "fragment"),
    [
        (LEVERS, [], "remove \\[levers\\]"),
        (OVERLAP, [], "fed_tightening_strength"),
        (UNKNOWN_KEY, [], "sead"),
        (SPEC, ["--policies", "fed_backstp"], "did you mean: fed_backstop"),
        (SPEC, ["--policies", "fed_backstop,fed_backstop"], "twice"),
        (SPEC, ["--policies", NO_POLICY], "always compared"),
        (SPEC, ["--policies", "baseline"], "sets no parameter"),
        (SPEC, ["--set", "fed_backstop_switch=1"], "policy 'fed_backstop' sets it"),
        (SPEC, ["--set", "portfolio_balance_sensitivity=0.5"], "bad.toml varies"),
        (SPEC, ["--final-time", "1990"], "nearest valid value"),
    ],
)
def test_bad_input_exits_2_writing_nothing(tmp_path, text, options, fragment):
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    status, _, err = call(["compare-policies", str(spec), "--out", str(out), *SMALL, *options])
    assert status == 2, err
    assert "Traceback" not in err
    assert re.search(fragment, err), err
    assert not out.exists()


def test_a_missing_policy_name_is_refused_in_python():
    with pytest.raises(InputError, match="did you mean"):
        load_policies(["fiscal_reforms"])


def test_set_and_final_time_reach_every_policy_s_runs_and_the_claim(spec):
    overrides = {"maximum_flow_effect": 0.005}
    laid_out = policy_plan(spec, [SAME], chunk_size=4, overrides=overrides, final_time=2028.0)
    for values in laid_out.base_values.values():  # each scenario under each policy, the baseline
        assert values["maximum_flow_effect"] == 0.005 and values["final_time"] == 2028.0
    assert float(laid_out.times[-1]) == pytest.approx(2028.0)
    text = laid_out.design.spec.text
    assert "# --set maximum_flow_effect=0.005" in text and "# --final-time 2028.0" in text
