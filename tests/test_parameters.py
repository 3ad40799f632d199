"""The parameter table validates itself and agrees with the .mdl on names, values and units."""

import math

import pytest

from debtloops import InputError, load_parameters
from debtloops.model.engine import describe, load
from debtloops.model.parameters import CONTROLS, KINDS, LARGEST_TIME_STEP, validate


@pytest.fixture(scope="module")
def mdl():
    model = load()
    return model, describe(model)


def test_table_names_match_the_mdl_constants(table, mdl):
    _, info = mdl
    constants = {name for name, kind in info.kinds.items() if kind == "Constant"}
    assert set(table) == constants | set(CONTROLS)


def test_table_values_match_the_mdl(table, mdl):
    model, _ = mdl
    for name, param in table.items():
        mdl_value = float(getattr(model.components, name)())
        assert mdl_value == param.value, name


def test_table_units_match_the_mdl(table, mdl):
    _, info = mdl
    for name, param in table.items():
        assert info.units[name] == param.units, name


def test_every_entry_is_complete_and_in_range(table):
    for param in table.values():
        assert param.kind in KINDS
        assert len(param.source) > 20, f"{param.name} needs a real source"
        assert param.valid_min <= param.low <= param.value <= param.high <= param.valid_max


def test_a_broken_table_is_refused(tmp_path):
    path = tmp_path / "table.toml"
    path.write_text(
        '[x]\nvalue = 5.0\nunits = "year"\nrange = [0.0, 1.0]\nkind = "uncertainty"\n'
        'source = "made up for the test"\n'
    )
    with pytest.raises(InputError, match=r"x\.*.*need valid_min <= low <= value"):
        load_parameters(path)
    path.write_text('[x]\nvalue = 0.5\nunits = "year"\nrange = [0.0, 1.0]\nkind = "guess"\n')
    with pytest.raises(InputError, match=r"\[x\] is missing .source."):
        load_parameters(path)


def test_drivers_take_time_series_and_constants_do_not(table):
    values = validate(table, {"primary_deficit_share_of_gdp": {2025.0: 0.02, 2040.0: 0.03}})
    assert values["primary_deficit_share_of_gdp"] == {2025.0: 0.02, 2040.0: 0.03}
    with pytest.raises(InputError, match="foreign_official_share is a constant, not a driver"):
        validate(table, {"foreign_official_share": {2025.0: 0.4}})


def test_validate_fills_every_default(table):
    values = validate(table, {})
    assert set(values) == set(table)
    assert all(math.isfinite(v) for v in values.values())


def test_every_time_constant_spans_two_of_the_largest_steps(table):
    # Euler integration of a first-order delay needs the step to be at most half its time constant.
    for param in table.values():
        if param.kind != "control" and param.units == "year" and param.name.endswith("_time"):
            assert param.valid_min >= 2 * LARGEST_TIME_STEP, param.name
