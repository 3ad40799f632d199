"""Attribution of a scenario's extra to mechanisms: the Shapley values and `debtloops attribute`."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr
from cf_checks import cf_problems

from debtloops import attribution, cli
from debtloops.attribution import (
    EXACT_LIMIT,
    OUTCOMES,
    OUTPUT_NAMES,
    PATH_OUTCOME,
    load_mechanisms,
    permutation_masks,
    sample_permutations,
    shapley_exact,
    shapley_sampled,
)
from debtloops.errors import InputError
from debtloops.model.parameters import load_parameters
from debtloops.model.run import run_scenario
from debtloops.outputs import BASIS_POINTS, headline

#: Tolerance of sums of shares against the totals [the outcome's units].
ADDITIVITY = 1e-9


def _game(n: int, seed: int, extra: tuple[int, ...] = ()) -> np.ndarray:
    """A random game with interactions: each coalition's value is random."""
    return np.random.default_rng(seed).normal(size=(1 << n, *extra))


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_shares_add_up_to_the_total(n):
    values = _game(n, seed=n, extra=(3,))
    shares = shapley_exact(values)
    assert shares.shape == (n, 3)
    np.testing.assert_allclose(shares.sum(axis=0), values[-1] - values[0], atol=ADDITIVITY)


def test_a_player_that_changes_nothing_gets_zero():
    n, idle = 4, 2
    values = _game(n, seed=1)
    bit = 1 << idle
    for mask in range(1 << n):
        values[mask | bit] = values[mask & ~bit]  # the idle player's presence never matters
    shares = shapley_exact(values)
    assert shares[idle] == 0.0
    assert np.abs(np.delete(shares, idle)).max() > 0


def test_symmetric_players_get_equal_shares():
    n = 4
    rng = np.random.default_rng(7)
    by_content = {}  # the value depends on how many of players 0 and 1 are in, not which
    values = np.empty(1 << n)
    for mask in range(1 << n):
        key = (bin(mask & 0b11).count("1"), mask >> 2)
        values[mask] = by_content.setdefault(key, rng.normal())
    shares = shapley_exact(values)
    assert shares[0] == pytest.approx(shares[1], abs=ADDITIVITY)
    assert shares[0] != pytest.approx(shares[2])


def test_a_one_player_game_gives_it_everything():
    shares = shapley_exact(np.array([[2.5, -1.0], [10.0, 4.0]]))
    np.testing.assert_allclose(shares, [[7.5, 5.0]])


def test_a_game_without_interactions_gives_each_player_its_own_effect():
    effects = np.array([3.0, -1.0, 0.5])
    values = np.array([sum(effects[i] for i in range(3) if m >> i & 1) for m in range(8)])
    np.testing.assert_allclose(shapley_exact(values), effects, atol=ADDITIVITY)


def test_every_order_reproduces_the_exact_values_and_a_sample_still_adds_up():
    n = 4
    values = _game(n, seed=3, extra=(2,))
    orders = np.array(list(itertools.permutations(range(n))))
    shares, errors = shapley_sampled(lambda mask: values[mask], orders)
    np.testing.assert_allclose(shares, shapley_exact(values), atol=ADDITIVITY)
    assert np.all(errors >= 0)
    sample = sample_permutations(n, 5, seed=0)
    assert set(permutation_masks(sample)) <= set(range(1 << n))
    shares, _ = shapley_sampled(lambda mask: values[mask], sample)
    np.testing.assert_allclose(shares.sum(axis=0), values[-1] - values[0], atol=ADDITIVITY)


def test_the_mechanism_table_stays_in_step_with_the_parameter_table():
    table = load_parameters()
    mechanisms = load_mechanisms(table=table)
    assert 0 < len(mechanisms) <= EXACT_LIMIT  # attributed exactly
    names = [name for m in mechanisms for name in m.off]
    assert len(names) == len(set(names)), "a parameter belongs to two mechanisms"
    for mechanism in mechanisms:
        assert mechanism.description.strip()
        for name, value in mechanism.off.items():
            assert name in table
            assert table[name].check(value) == value
            assert table[name].value != value or table[name].kind == "lever", (
                f"{mechanism.name}: {name} is off by default"
            )


def test_a_table_naming_an_unknown_parameter_is_refused(tmp_path):
    path = tmp_path / "mechanisms.toml"
    path.write_text('[x]\ndescription = "x"\noff = { policy_rule_swtch = 0.0 }\n')
    with pytest.raises(InputError, match="policy_rule_switch"):
        load_mechanisms(path)


def test_attribute_writes_shares_that_add_up_to_the_runs_extra(tmp_path, capsys):
    out = tmp_path / "out"
    status = cli.main(
        ["attribute", "japan_full", "--mechanisms", "fed_rule,fiscal_response", "--out", str(out)]
    )
    assert status == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        OUTPUT_NAMES
    )
    assert cf_problems(out / "attribution.nc") == []
    with xr.open_dataset(out / "attribution.nc") as stored:
        dataset = stored.load()
    assert dataset.attrs["Conventions"].startswith("CF-")
    assert list(dataset["mechanism"].values) == ["fed_rule", "fiscal_response"]
    for outcome in [*OUTCOMES, PATH_OUTCOME]:
        share = dataset[f"share_{outcome}"]
        assert share.attrs["units"] and share.attrs["long_name"]
        # fiscal consolidation is switched off in japan_full: it carries nothing
        assert np.all(share.sel(mechanism="fiscal_response").values == 0.0)
        whole = share.sum("mechanism") + dataset[f"remainder_{outcome}"]
        np.testing.assert_allclose(whole, dataset[f"total_{outcome}"], atol=ADDITIVITY)
    # with every mechanism as the scenario has it, the total is `debtloops run`'s headline
    row = headline("japan_full", run_scenario("japan_full"), run_scenario("baseline"))
    assert float(dataset["total_extra_interest"]) == pytest.approx(row.extra_interest, rel=1e-9)
    assert float(dataset["total_peak_extra_yield"]) == pytest.approx(
        BASIS_POINTS * row.peak_extra_yield, rel=1e-9
    )
    assert "fed_rule" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["attribute", "japan_ful"], "japan_full"),
        (["attribute", "japan_full", "--mechanisms", "fed_rules"], "fed_rule"),
    ],
)
def test_a_bad_name_exits_2_naming_the_nearest_and_writes_nothing(argv, named, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def _assert_adds_up(dataset: xr.Dataset) -> None:
    for outcome in [*OUTCOMES, PATH_OUTCOME]:
        whole = dataset[f"share_{outcome}"].sum("mechanism") + dataset[f"remainder_{outcome}"]
        np.testing.assert_allclose(whole, dataset[f"total_{outcome}"], atol=ADDITIVITY)


def test_a_scenario_whose_driver_path_differs_runs_in_two_ensembles_and_adds_up():
    # yen_crisis gives yen_pressure_shock a path: the scenario and the baseline cannot share one
    # ensemble, whose runs differ in constants only
    dataset = attribution.attribute("yen_crisis", ["yen_defence", "fed_rule"])
    _assert_adds_up(dataset)
    row = headline("yen_crisis", run_scenario("yen_crisis"), run_scenario("baseline"))
    assert float(dataset["total_extra_interest"]) == pytest.approx(row.extra_interest, rel=1e-9)
    assert abs(float(dataset["share_extra_interest"].sel(mechanism="yen_defence"))) > 0


def test_beyond_the_exact_limit_sampled_orders_add_up_and_state_their_error(monkeypatch):
    monkeypatch.setattr(attribution, "EXACT_LIMIT", 1)
    dataset = attribution.attribute("japan_full", ["fed_rule", "fiscal_response"], permutations=4)
    assert "sampled permutations" in dataset.attrs["method"]
    _assert_adds_up(dataset)
    # fiscal consolidation is off in japan_full: every order gives it nothing, without error
    for outcome in OUTCOMES:
        assert float(dataset[f"share_{outcome}"].sel(mechanism="fiscal_response")) == 0.0
        assert np.all(np.isfinite(dataset[f"stderr_{outcome}"]))


def test_a_file_of_yours_where_a_result_would_land_is_kept(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "attribution.csv"
    mine.write_text("my notes\n")
    argv = ["attribute", "japan_full", "--mechanisms", "fed_rule", "--out", str(out)]
    assert cli.main(argv) == 2
    assert "attribution.csv" in capsys.readouterr().err
    assert mine.read_text() == "my notes\n"
    assert sorted(p.name for p in out.iterdir()) == ["attribution.csv"]


def test_a_scenario_on_another_vintage_is_compared_with_that_vintages_baseline(tmp_path):
    # the same reference as `debtloops run`: the baseline on the scenario's CBO vintage and years
    path = tmp_path / "japan_2026.toml"
    path.write_text('# japan_full on CBO February 2026\nbase = "japan_full"\ncbo = "2026-02"\n')
    dataset = attribution.attribute(str(path), ["fed_rule"])
    _assert_adds_up(dataset)
    ours = run_scenario(str(path))
    row = headline("japan_2026", ours, run_scenario("baseline", cbo="2026-02"))
    assert float(dataset["total_extra_interest"]) == pytest.approx(row.extra_interest, rel=1e-9)
    other = headline("japan_2026", ours, run_scenario("baseline"))
    assert row.extra_interest != pytest.approx(other.extra_interest, rel=1e-3)


def test_set_and_final_time_reach_the_scenario_and_the_baseline_it_is_compared_with(
    tmp_path, capsys
):
    out = tmp_path / "out"
    overrides = {"portfolio_balance_sensitivity": 0.6}
    argv = ["attribute", "japan_full", "--mechanisms", "fed_rule", "--final-time", "2040"]
    argv += ["--set", "portfolio_balance_sensitivity=0.6", "--out", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    with xr.open_dataset(out / "attribution.nc") as stored:
        dataset = stored.load()
    assert int(dataset["time"].dt.year.max()) == 2040  # the path ends in the last year
    assert dataset.attrs["overrides"] == "portfolio_balance_sensitivity=0.6"
    ours = run_scenario("japan_full", overrides, final_time=2040)
    row = headline("japan_full", ours, run_scenario("baseline", overrides, final_time=2040))
    assert float(dataset["total_extra_interest"]) == pytest.approx(row.extra_interest, rel=1e-9)
    shipped = headline("japan_full", run_scenario("japan_full"), run_scenario("baseline"))
    assert row.extra_interest != pytest.approx(shipped.extra_interest, rel=1e-3)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--set", "portfolio_balance_sensitivty=0.5"], "portfolio_balance_sensitivity"),
        (["--final-time", "1990"], "nearest valid value"),
    ],
)
def test_a_bad_override_or_last_year_exits_2_and_writes_nothing(tmp_path, capsys, extra, expected):
    out = tmp_path / "out"
    assert cli.main(["attribute", "japan_full", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
