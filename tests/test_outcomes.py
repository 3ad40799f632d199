"""The scalar outcomes have one definition (debtloops.model.outcomes), which every command reads."""

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_sweep_analysis import make_sweep, write_sweep

from debtloops.attribution import ATTRIBUTED
from debtloops.attribution import OUTCOMES as ATTRIBUTION_OUTCOMES
from debtloops.discover import outcome_names
from debtloops.errors import InputError
from debtloops.fan.summary import FANNED
from debtloops.fan.summary import OUTCOMES as FAN_OUTCOMES
from debtloops.model import outcomes
from debtloops.outputs import HEADLINE_OUTCOMES, Headline, headline
from debtloops.policies import DIRECTIONS
from debtloops.sweeps import analysis as sa
from debtloops.sweeps import outcomes as so
from debtloops.validation.backtest import fiscal_year_value

PACKAGE = Path(__file__).resolve().parents[1] / "analysis" / "debtloops"
REGISTRY_MODULE = PACKAGE / "model" / "outcomes.py"
#: What builds an outcome: only the registry's module may call them.
CONSTRUCTORS = {"Outcome", "reduced"}
#: Headline fields that are not outcomes: the scenario, its years and its baseline's vintage.
NOT_OUTCOMES = {"scenario", "start_year", "horizon_year", "final_year", "cbo_vintage"}


def test_every_consumer_takes_its_outcomes_from_the_registry():
    registry = outcomes.OUTCOMES
    # sweeps (analyze), discover and compare-policies: the per-sample entries, the same objects
    assert list(so.SCALAR_OUTCOMES) == [n for n, o in registry.items() if o.per_sample]
    assert all(so.SCALAR_OUTCOMES[n] is registry[n] for n in so.SCALAR_OUTCOMES)
    assert set(DIRECTIONS) == {n for n in so.SCALAR_OUTCOMES if registry[n].direction}
    # the headlines: every outcome field names an entry
    fields = {f.name for f in dataclasses.fields(Headline)} - NOT_OUTCOMES
    assert set(HEADLINE_OUTCOMES) == fields
    # attribute and fan: their files' names map to entries, whose words and units they show
    for name, (long_name, _, _) in ATTRIBUTION_OUTCOMES.items():
        assert long_name == registry[ATTRIBUTED[name]].long_name
        assert registry[ATTRIBUTED[name]].against_baseline
    for name, (long_name, units) in FAN_OUTCOMES.items():
        assert (long_name, units) == (
            registry[FANNED[name]].long_name,
            registry[FANNED[name]].units,
        )
        assert registry[FANNED[name]].horizon == outcomes.EACH_FISCAL_YEAR
    for selection in (HEADLINE_OUTCOMES, ATTRIBUTED, FANNED):
        assert set(selection.values()) <= set(registry), set(selection.values()) - set(registry)


def _module_level_tables(tree: ast.Module):
    """Yield (name, value) of each module-level assignment."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            yield node.target.id, node.value


@pytest.mark.parametrize(
    "module",
    sorted(p for p in PACKAGE.rglob("*.py") if p != REGISTRY_MODULE),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_other_module_defines_a_table_of_outcomes(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = {  # the registry's constructors under the names this module gives them
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == outcomes.__name__
        for alias in node.names
        if alias.name in CONSTRUCTORS
    }
    calls = {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id in imported)
            or (isinstance(node.func, ast.Attribute) and node.func.attr in CONSTRUCTORS)
        )
    }
    assert not calls, f"builds an outcome: {calls}"
    for name, value in _module_level_tables(tree):
        if not isinstance(value, ast.Dict) or not value.keys:
            continue
        keyed_by_outcome = all(
            isinstance(k, ast.Constant) and k.value in outcomes.OUTCOMES for k in value.keys
        )
        if "OUTCOME" in name or keyed_by_outcome:
            # a selection of the registry maps names to registry names, and defines nothing
            assert all(
                isinstance(v, ast.Constant) and v.value in outcomes.OUTCOMES for v in value.values
            ), f"{name} defines outcomes; name entries of debtloops.model.outcomes instead"


def _runs(years: float = 30.0):
    """A scenario and a baseline with every variable the headlines read, parting from the start."""
    times = np.arange(2025.0, 2025.0 + years + 0.5, 0.5)
    t = times - times[0]
    base = xr.Dataset(
        {
            "cumulative_net_interest": ("time", 900.0 * t),
            "cumulative_nominal_gdp": ("time", 30_000.0 * t),
            "debt_held_by_public": ("time", 29_000.0 + 1_500.0 * t),
            "market_yield": ("time", np.full(times.size, 0.04)),
            "inflation": ("time", np.full(times.size, 0.02)),
            "output_gap": ("time", np.zeros(times.size)),
            "dollar_index": ("time", 120.0 - 0.1 * t),
        },
        coords={"time": times},
    )
    scenario = base.assign(
        cumulative_net_interest=base["cumulative_net_interest"] + 5.0 * t * t,
        debt_held_by_public=base["debt_held_by_public"] + 40.0 * t,
        market_yield=base["market_yield"] + 0.001 * np.sin(t),
        inflation=base["inflation"] + 0.0005 * np.cos(t),
        output_gap=base["output_gap"] - 0.001 * t,
    )
    return scenario, base


def test_extra_interest_to_the_horizon_and_to_the_end_are_two_outcomes():
    scenario, base = _runs()
    to_horizon = outcomes.value("extra_interest_to_horizon", scenario, base)
    assert outcomes.OUTCOMES["extra_interest_to_horizon"].horizon == outcomes.TEN_YEARS
    assert outcomes.OUTCOMES["extra_interest_final"].horizon == outcomes.END
    horizon = outcomes.horizon_time(scenario)
    assert horizon == scenario["time"][0] + outcomes.HEADLINE_HORIZON
    extra = scenario["cumulative_net_interest"] - base["cumulative_net_interest"]
    assert float(to_horizon) == pytest.approx(float(extra.sel(time=horizon)))
    to_end = outcomes.value("extra_interest_final", scenario.assign(extra_interest=extra))
    assert float(to_end) == pytest.approx(float(extra[-1]))
    assert float(to_end) > float(to_horizon)  # the extra grows: the end is later


def test_an_outcome_against_the_baseline_needs_it_and_unknown_names_get_the_nearest():
    scenario, base = _runs()
    with pytest.raises(InputError, match="against the baseline"):
        outcomes.value("peak_extra_yield", scenario)
    t = scenario["time"].values - 2025.0
    peak = 0.001 * np.sin(t).max()  # the scenario's excess yield at the saved times
    assert float(outcomes.value("peak_extra_yield", scenario, base)) == pytest.approx(peak)
    with pytest.raises(ValueError, match="the year's end"):
        outcomes.value("debt_to_fy_gdp", scenario)  # each fiscal year: the caller names which
    assert float(outcomes.value("debt_to_fy_gdp", scenario, when=2030.0)) == pytest.approx(
        (29_000.0 + 40.0 * 5 + 1_500.0 * 5) / 30_000.0
    )
    with pytest.raises(InputError, match="did you mean: extra_interest"):
        outcomes.value("extra_interest", scenario, base)


def test_a_fiscal_year_outcome_is_measured_as_the_backtest_measures_the_data():
    # one definition of a fiscal year on the model's clock: the year to ``when`` holds its first
    # day and not ``when`` itself, the first day of the next year
    scenario, _ = _runs()
    for year in (2027, 2031, 2040):
        mean = outcomes.value("ten_year_yield_fy_mean", scenario, when=float(year))
        assert float(mean) == pytest.approx(
            fiscal_year_value(scenario, "market_yield", "mean", year), rel=1e-12
        )
        ratio = outcomes.value("debt_to_fy_gdp", scenario, when=float(year))
        assert float(ratio) == pytest.approx(
            fiscal_year_value(scenario, "debt_held_by_public", "end_to_gdp", year), rel=1e-12
        )


def test_the_headline_reads_its_outcomes_from_the_registry(monkeypatch):
    scenario, base = _runs()
    row = headline("s", scenario, base)
    for field, name in HEADLINE_OUTCOMES.items():
        assert getattr(row, field) == float(outcomes.value(name, scenario, base)), field
    changed = dataclasses.replace(
        outcomes.OUTCOMES["dollar_trough"], measure=lambda run, baseline, when: xr.DataArray(-1.0)
    )
    monkeypatch.setitem(outcomes.OUTCOMES, "dollar_trough", changed)
    assert headline("s", scenario, base).dollar_trough == -1.0


def test_an_entry_added_to_the_registry_is_computed_by_sweeps_discover_and_analyze(
    monkeypatch, tmp_path
):
    added = outcomes.reduced("debt_to_gdp", "max", "1", "peak debt/GDP")
    monkeypatch.setitem(outcomes.OUTCOMES, "peak_debt_to_gdp", added)
    rng = np.random.default_rng(3)
    count, times = 24, np.arange(2025.0, 2029.0)
    a = rng.uniform(size=count)
    debt = 1.0 + np.outer(a, times - times[0]) - 0.5 * np.outer(a, (times - times[0]) ** 2) / 3
    sweep = make_sweep(
        {"a": a},
        {
            "debt_to_gdp": debt,
            "market_yield": 0.04 + 0.01 * np.outer(a, np.ones(times.size)),
            "dollar_index": np.full((count, times.size), 120.0),
            "extra_interest": np.outer(a, times - times[0]),
        },
        sampler="lhs",
        bounds=[(0.0, 1.0)],
        times=times,
        folder=tmp_path / "made",
    )
    scalars = so.scalar_outcomes(sweep)
    np.testing.assert_allclose(scalars["peak_debt_to_gdp"][0], debt.max(axis=1))
    assert scalars["peak_debt_to_gdp"].attrs["long_name"] == "peak debt/GDP"
    assert "peak_debt_to_gdp" in outcome_names(sweep)
    folder = write_sweep(tmp_path / "sweep", sweep)
    with xr.open_dataset(sa.analyze(folder)) as analysis:
        assert "peak_debt_to_gdp" in set(analysis["outcome"].values)
        np.testing.assert_allclose(analysis["peak_debt_to_gdp"].values[0], debt.max(axis=1))
