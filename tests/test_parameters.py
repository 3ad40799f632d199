"""The parameter table validates itself and agrees with the .mdl on names, values and units."""

import math

import pytest

from debtloops import InputError, load_parameters
from debtloops.errors import exact
from debtloops.model.engine import describe, load
from debtloops.model.holders import FOREIGN
from debtloops.model.parameters import CONTROLS, KINDS, SERIES_YEARS, series_from_pairs, validate


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
            assert param.valid_min >= 2 * table["time_step"].valid_max, param.name


def test_the_time_steps_valid_range_holds_powers_of_two_above_0(table):
    # The controls' check takes the logarithm of any step within this range.
    steps = table["time_step"]
    assert 0 < steps.valid_min <= steps.value <= steps.valid_max
    assert all(math.log2(bound).is_integer() for bound in (steps.valid_min, steps.valid_max))


def refusal(table, overrides) -> str:
    with pytest.raises(InputError) as caught:
        validate(table, overrides)
    return str(caught.value)


# ---- the checks between parameters: each limit is accepted, a step beyond it is refused -------


@pytest.mark.parametrize(
    ("step", "nearest"), [(0.05, "0.0625"), (0.03, "0.03125"), (0.02, "0.015625")]
)
def test_a_time_step_that_is_not_a_power_of_two_gets_the_nearest_power(table, step, nearest):
    steps = table["time_step"]
    message = refusal(table, {"time_step": step, "saveper": 1.0})
    assert message == (
        f"time_step = {step:g} year must be a power of two from 1/{1 / steps.valid_min:g} to "
        f"1/{1 / steps.valid_max:g} year; nearest valid value: {nearest}"
    )
    assert validate(table, {"time_step": float(nearest), "saveper": 1.0})["time_step"] == float(
        nearest
    )


def test_every_power_of_two_in_the_time_steps_range_is_accepted(table):
    steps, step = table["time_step"], table["time_step"].valid_min
    while step <= steps.valid_max:
        assert validate(table, {"time_step": step, "saveper": 1.0})["time_step"] == step
        step *= 2


@pytest.mark.parametrize(("ratio", "nearest_ratio"), [(1.5, 2), (2.25, 2), (0.5, 1)])
def test_a_saving_interval_off_the_steps_gets_the_nearest_multiple(table, ratio, nearest_ratio):
    step = table["time_step"].value
    message = refusal(table, {"saveper": ratio * step})
    assert message == (
        f"saveper = {ratio * step:g} year must be a whole multiple of time_step = {step:g}; "
        f"nearest valid value: {exact(nearest_ratio * step)}"
    )


def test_a_saving_interval_of_one_step_is_accepted(table):
    step = table["time_step"].value
    assert validate(table, {"saveper": step})["saveper"] == step


def test_a_run_of_one_saving_interval_is_accepted_and_a_shorter_one_refused(table):
    start, saveper = table["initial_time"].value, table["saveper"].value
    assert validate(table, {"final_time": start + saveper})["final_time"] == start + saveper
    message = refusal(table, {"final_time": start + saveper / 2})
    assert message.startswith(f"final_time = {exact(start + saveper / 2)} is less than one saving")
    assert message.endswith(f"nearest valid value: {exact(start + saveper)}")


@pytest.mark.parametrize("holder", FOREIGN, ids=lambda holder: holder.name)
def test_a_holder_may_sell_all_it_holds_and_no_more(table, holder):
    held = table[holder.initial_holdings].value
    assert validate(table, {holder.sale_amount: held})[holder.sale_amount] == held
    message = refusal(table, {holder.sale_amount: held + 1})
    assert message == (
        f"{holder.sale_amount} = {held + 1:g} billion_USD is more than {holder.name} holds "
        f"({holder.initial_holdings} = {held:g}); nearest valid value: {exact(held)}"
    )
    # A sale beyond the parameter's own range is answered with the holdings too, not the bound.
    beyond = refusal(table, {holder.sale_amount: 2 * table[holder.sale_amount].valid_max})
    assert beyond.endswith(f"nearest valid value: {exact(held)}")


def test_the_foreign_total_may_equal_the_named_holders_and_not_fall_below(table):
    named = sum(table[holder.initial_holdings].value for holder in FOREIGN)
    total = "initial_total_foreign_holdings"
    assert validate(table, {total: named})[total] == named
    message = refusal(table, {total: named - 1})
    assert message.startswith(f"{total} = {named - 1:g} is less than ")
    assert message.endswith(f"together ({named:g}); nearest valid value: {exact(named)}")


def test_the_debt_may_equal_the_foreign_and_fed_holdings_and_not_fall_below(table):
    official = table["initial_total_foreign_holdings"].value + table["initial_fed_holdings"].value
    debt = "initial_debt_held_by_public"
    assert validate(table, {debt: official})[debt] == official
    message = refusal(table, {debt: official - 1})
    assert message == (
        f"{debt} = {official - 1:g} is less than foreign and Fed holdings together "
        f"({official:g}), leaving domestic private holdings negative; nearest valid value: "
        f"{exact(official)}"
    )


@pytest.mark.parametrize("above_ceiling", [0.0, 1.0])
def test_fed_holdings_no_debt_can_hold_are_answered_with_the_fed_holdings(table, above_ceiling):
    foreign = table["initial_total_foreign_holdings"].value
    ceiling = table["initial_debt_held_by_public"].valid_max
    fed = ceiling - foreign + above_ceiling
    debt = table["initial_debt_held_by_public"].value
    message = refusal(table, {"initial_fed_holdings": fed})
    if above_ceiling:  # the debt cannot rise to hold them: lower the Fed's holdings
        assert message == (
            f"initial_fed_holdings = {fed:g} leaves foreign and Fed holdings together "
            f"({foreign + fed:g}) above initial_debt_held_by_public = {debt:g}, which can be at "
            f"most {ceiling:g}; nearest valid value: {exact(debt - foreign)}"
        )
        accepted = validate(table, {"initial_fed_holdings": debt - foreign})
        assert accepted["initial_fed_holdings"] == debt - foreign
    else:  # the debt at its largest valid value holds them: raise the debt
        assert message.startswith(f"initial_debt_held_by_public = {debt:g} is less than")
        assert message.endswith(f"nearest valid value: {exact(ceiling)}")


def test_an_override_is_returned_as_the_number_given_and_checked_against_its_range(table):
    name = "portfolio_balance_sensitivity"
    param = table[name]
    inside = (param.valid_min + param.valid_max) / 2
    assert validate(table, {name: str(inside)})[name] == inside
    assert refusal(table, {name: param.valid_max * 2 + 1}).startswith(f"{name} = ")
    final = table["final_time"]
    assert refusal(table, {"final_time": final.valid_max + 1}).endswith(
        f"nearest valid value: {exact(final.valid_max)}"
    )


# ---- time series ---------------------------------------------------------------------------------


def test_a_series_may_give_the_first_and_last_allowed_years_and_no_others():
    first, last = SERIES_YEARS
    assert list(series_from_pairs("x", [(last, 2.0), (str(first), 1.0)])) == [first, last]
    for year in (first - 0.5, last + 0.5):
        with pytest.raises(InputError) as caught:
            series_from_pairs("x", [(year, 1.0)])
        assert str(caught.value) == (
            f"x: year {year:g} is outside {first:g}-{last:g}, the years a time series may give"
        )


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("soon", 1.0)], "x: year 'soon' is not a number"),
        ([(math.inf, 1.0)], "x: year inf is not a finite number"),
        ([(2030, 1.0), ("2030.0", 2.0)], "x: year 2030 is given twice in the time series"),
    ],
)
def test_a_series_year_that_is_not_one_finite_year_is_refused(pairs, message):
    with pytest.raises(InputError) as caught:
        series_from_pairs("x", pairs)
    assert str(caught.value) == message


def test_a_series_value_outside_the_range_names_its_year(table):
    driver = table.of_kind("driver")[0]
    bad = driver.valid_max + 1
    message = refusal(table, {driver.name: {2030.0: driver.value, 2040.0: bad}})
    assert message.startswith(f"{driver.name} = {bad:g} ")
    assert message.endswith("(in the time series, at year 2040)")
    assert refusal(table, {driver.name: {}}) == f"{driver.name}: the time series is empty"


def test_a_series_for_a_constant_points_to_the_list_of_drivers(table):
    assert refusal(table, {"time_step": {2030.0: 0.0625}}) == (
        "time_step is a constant, not a driver: give one number (see `debtloops list` for the "
        "drivers)"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [("soon", "'soon' is not a number"), (math.nan, "nan is not a finite number")],
)
@pytest.mark.parametrize("name", ["final_time", "portfolio_balance_sensitivity"])
def test_a_value_that_is_not_a_finite_number_is_named(table, name, value, message):
    assert refusal(table, {name: value}) == f"{name}: {message}"


def test_a_suggestion_is_followed_while_the_same_parameter_is_at_fault(table):
    # The Fed's largest valid holdings leave no room in any valid debt: the message suggests what
    # fits in today's debt beside the foreign holdings.
    fed, debt = table["initial_fed_holdings"], table["initial_debt_held_by_public"].value
    room = debt - table["initial_total_foreign_holdings"].value
    assert refusal(table, {fed.name: 2 * fed.valid_max}).endswith(
        f"nearest valid value: {exact(room)}"
    )


def test_a_suggestion_that_another_parameter_refuses_stands(table):
    # The foreign total's largest valid value is then refused for the Fed's holdings: another
    # parameter is at fault, and the first suggestion stands.
    total = table["initial_total_foreign_holdings"]
    message = refusal(table, {total.name: 2 * total.valid_max})
    assert message.startswith(f"{total.name} = ")
    assert message.endswith(f"nearest valid value: {exact(total.valid_max)}")


def test_of_kind_returns_exactly_the_parameters_of_those_kinds(table):
    kinds = ("driver", "lever")
    chosen = table.of_kind(*kinds)
    assert chosen and all(param.kind in kinds for param in chosen)
    assert len(chosen) == sum(table[name].kind in kinds for name in table)
