"""``--cbo`` on every command that runs the model (issue 18): each runs on the vintage it is given
and compares with the baseline of that same vintage wherever it compares at all.

The second vintage used is the shipped ``2026-02``: it ends in FY2056 rather than FY2055 and its
baseline differs from ``2025-01``'s, so a command that ignored ``--cbo``, or compared with the
default vintage's baseline, would show it. Refusals of an unknown vintage, on every command, are
rows of ``tests/test_bad_input_table.py`` (``cbo/...``).
"""

from __future__ import annotations

import shutil
import textwrap
import tomllib

import numpy as np
import pytest

from debtloops.app.session import ExplorerSession
from debtloops.calibration.posterior import projection_bands
from debtloops.errors import InputError
from debtloops.fan import CASES, SHOCKS, fan
from debtloops.loops import cache, graph
from debtloops.model import data, datafiles
from debtloops.model.run import prepare, run_scenario
from debtloops.model.scenarios import REFERENCE
from debtloops.model.xmile import xmile_bytes
from debtloops.sweeps import execute, store
from debtloops.target import make_goal
from debtloops.validation.backtest import fiscal_year_value

OTHER = "2026-02"
#: The last fiscal year each shipped vintage projects [year].
LAST = {name: data.vintage(name).long_term_end for name in (data.DEFAULT_VINTAGE, OTHER)}


def test_the_two_vintages_tell_apart():
    """The premise: the vintages differ in their last year and their baseline's debt."""
    assert LAST[OTHER] != LAST[data.DEFAULT_VINTAGE]
    ours, theirs = run_scenario("baseline", cbo=OTHER), run_scenario("baseline")
    year = 2035
    assert fiscal_year_value(ours, "debt_held_by_public", "end_to_gdp", year) != pytest.approx(
        fiscal_year_value(theirs, "debt_held_by_public", "end_to_gdp", year), rel=1e-4
    )


def test_export_writes_the_vintages_drivers_and_years():
    other = xmile_bytes("baseline", cbo=OTHER).decode()
    default = xmile_bytes("baseline").decode()
    assert f"<stop>{LAST[OTHER]}</stop>" in other.replace(".0<", "<")
    assert f"<stop>{LAST[data.DEFAULT_VINTAGE]}</stop>" in default.replace(".0<", "<")


def test_target_meets_the_baseline_of_the_same_vintage():
    goal = make_goal("japan_full", "baseline", None, 2035, 2027, 5.0, OTHER)
    baseline = run_scenario("baseline", cbo=OTHER)
    expected = fiscal_year_value(baseline, "debt_held_by_public", "end_to_gdp", 2035)
    assert goal.target == pytest.approx(expected, rel=1e-12)
    assert goal.cbo == OTHER
    default = make_goal("japan_full", "baseline", None, 2035, 2027, 5.0)
    assert default.target != pytest.approx(goal.target, rel=1e-4)


def test_fan_runs_both_cases_on_the_vintage():
    zero = np.zeros((len(SHOCKS), len(SHOCKS)))
    dataset = fan("japan_full", 3, covariance=zero, years=(2035,), cbo=OTHER)
    assert dataset.attrs["cbo_vintage"] == OTHER
    assert int(dataset["year"].max()) == LAST[OTHER]
    for case, scenario in zip(CASES, ("japan_full", "baseline"), strict=True):
        plain = run_scenario(scenario, cbo=OTHER)
        expected = fiscal_year_value(plain, "debt_held_by_public", "end_to_gdp", 2040)
        got = float(dataset["debt_to_gdp_deterministic"].sel(case=case, year=2040))
        assert got == pytest.approx(expected, rel=1e-9)


def test_diagram_measures_along_the_vintages_run(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path)  # an empty loop cache: the run is made
    ends = []
    probe = graph._Probe

    def recorded(values):
        made = probe(values)
        ends.append(float(made.frame.index.max()))
        return made

    monkeypatch.setattr(graph, "_Probe", recorded)
    link = [("debt held by public", "debt to GDP")]
    graph.measure_polarities(graph.causal_graph().edge_subgraph(link), ["baseline"], cbo=OTHER)
    assert ends == [LAST[OTHER]]


def test_calibrate_projects_on_the_vintage():
    names = ["portfolio_balance_sensitivity"]
    draws = {"prior": (names, np.array([[0.05], [0.06]]))}
    bands = projection_bands("article", draws, OTHER)
    outcomes = set(bands.index.get_level_values("outcome"))
    assert f"debt/GDP {LAST[OTHER]} [%]" in outcomes


def test_explorer_compares_with_the_baseline_of_its_vintage():
    session = ExplorerSession("baseline", cbo=OTHER)
    outcome = session.update()
    assert float(outcome.baseline["time"].max()) == LAST[OTHER]
    # the baseline against itself: every extra is zero, as run compares it
    assert outcome.headline.peak_extra_yield == pytest.approx(0.0, abs=1e-9)
    assert outcome.headline.extra_interest == pytest.approx(0.0, abs=1e-6)
    text = session.scenario_toml("mine")
    assert tomllib.loads(text)["cbo"] == OTHER


def test_explorer_names_a_users_folder_as_the_option_to_run_with(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(datafiles.CBO_DIR / OTHER, folder)
    session = ExplorerSession("baseline", cbo=str(folder))
    text = session.scenario_toml("mine")
    assert "cbo" not in tomllib.loads(text)  # a file names only shipped vintages
    assert f"--cbo {folder}" in text


SPEC = """\
    # vintage: a sweep for the --cbo test
    # Intent: the reference runs on the sweep's vintage.
    # Source: ranges from models/parameters.toml.
    scenarios = ["article"]
    outcomes = ["debt_to_gdp"]
    final_time = 2030.0

    [sampler]
    method = "lhs"
    samples = 4
    seed = 3

    [uncertainties.portfolio_balance_sensitivity]
"""


def test_sweep_runs_its_reference_on_the_vintage_and_resumes_only_on_it(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(SPEC))
    planned = execute.plan(spec, cbo=OTHER)
    for name in ("article", REFERENCE):
        assert planned.base_values[name] == prepare(name, final_time=2030.0, cbo=OTHER).values
    assert planned.base_values[REFERENCE] != prepare(REFERENCE, final_time=2030.0).values
    out = tmp_path / "sweep"
    report = execute.run_sweep(spec, out, quiet=True, cbo=OTHER)
    with store.open_sweep(report.path) as ds:
        assert ds.attrs["cbo_vintage"] == OTHER
    with pytest.raises(InputError, match="holds a different sweep"):
        execute.run_sweep(spec, out, quiet=True)  # the default vintage: not this sweep


def test_attribute_option_compares_with_the_vintages_baseline():
    from debtloops import attribution
    from debtloops.outputs import headline

    dataset = attribution.attribute("japan_full", ["fed_rule"], cbo=OTHER)
    assert dataset.attrs["cbo_vintage"] == OTHER
    ours = run_scenario("japan_full", cbo=OTHER)
    row = headline("japan_full", ours, run_scenario("baseline", cbo=OTHER))
    assert float(dataset["total_extra_interest"]) == pytest.approx(row.extra_interest, rel=1e-9)


def test_compare_policies_plans_every_run_on_the_vintage(tmp_path):
    from debtloops.policies import load_policies, policy_plan, run_name

    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(SPEC))
    policies = load_policies(["fed_backstop"])
    planned = policy_plan(spec, policies, cbo=OTHER)
    for policy in policies:
        name = run_name("article", policy.name)
        expected = prepare("article", policy.settings, 2030.0, cbo=OTHER).values
        assert planned.base_values[name] == expected
    reference = prepare(REFERENCE, final_time=2030.0, cbo=OTHER).values
    assert planned.base_values[REFERENCE] == reference
