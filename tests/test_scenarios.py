"""Scenario files: headers, stacking order and the shipped set."""

import re

import pytest

from debtloops import InputError, list_scenarios, load_scenario
from debtloops.model.parameters import validate
from debtloops.model.run import prepare
from debtloops.paths import SCENARIO_DIR

REQUIRED = {
    "baseline",
    "article",
    "japan_full",
    "japan_china",
    "gradual",
    "fed_backstop",
    "fiscal_reform",
    "diversification",
    "article_stress",
}


def test_the_required_scenarios_are_shipped():
    assert REQUIRED <= set(list_scenarios())


@pytest.mark.parametrize("name", list_scenarios())
def test_each_scenario_has_a_header_and_valid_values(name, table):
    text = (SCENARIO_DIR / f"{name}.toml").read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert re.search(r"^# Intent: ", header, re.M), f"{name}: header needs an Intent line"
    assert re.search(r"^# Source: ", header, re.M), f"{name}: header needs a Source line"
    scenario = load_scenario(name)
    assert scenario.chain[-1] == name
    validate(table, scenario.overrides)


def test_scenarios_stack_base_first_and_later_files_win():
    gradual = load_scenario("gradual")
    assert gradual.chain == ("baseline", "japan_full", "gradual")
    assert gradual.overrides["japan_sale_amount"] == 1189.3  # from japan_full
    assert gradual.overrides["japan_sale_duration"] == 10.0  # gradual overrides japan_full's 2.0
    assert gradual.text.index("japan_full.toml") < gradual.text.index("gradual.toml")


def test_command_line_overrides_win_over_the_scenario():
    run = prepare("article", {"japan_sale_amount": 60.0}, final_time=2040.0)
    assert run.values["japan_sale_amount"] == 60.0
    assert run.values["japan_sale_start"] == 2026.0
    assert run.values["final_time"] == 2040.0


def test_the_article_scenario_is_the_seed_example():
    overrides = load_scenario("article").overrides
    assert overrides["japan_sale_amount"] == 120.0
    assert overrides["japan_sale_duration"] == 1.0


def test_a_base_chain_that_loops_is_refused(tmp_path):
    (tmp_path / "a.toml").write_text('# Intent: x\nbase = "b"\n')
    (tmp_path / "b.toml").write_text('# Intent: x\nbase = "a"\n')
    with pytest.raises(InputError, match="base chain loops"):
        load_scenario("a", tmp_path)


def test_unknown_sections_are_refused(tmp_path):
    (tmp_path / "a.toml").write_text("[sett]\nx = 1\n")
    with pytest.raises(InputError, match="unknown top-level key .*sett.; did you mean: set"):
        load_scenario("a", tmp_path)
