"""The explorer's controls as people read them, its steps, links and exports (no browser)."""

import math
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtloops.app import controls
from debtloops.app.session import HOLDERS, ExplorerSession, control_names, sale_parameters
from debtloops.errors import InputError

#: Unit names of the .mdl that must not reach a person.
CODE_UNITS = ("billion_USD", "dmnl", "[", "_")


def test_every_control_reads_for_people(table):
    for name in control_names():
        text = controls.control_text(name)
        shown = controls.label(name)
        assert not any(code in shown for code in CODE_UNITS), shown
        assert text.help and "\n" not in text.help
        assert table[name].source  # the help opens on it
        assert 0 < text.step <= table[name].high - table[name].low


def test_steps_follow_the_parameter():
    for holder in HOLDERS:
        amount, start, duration = sale_parameters(holder)
        assert controls.control_text(amount).step == 10.0
        assert controls.control_text(start).step == controls.control_text(duration).step == 0.25


def test_a_three_year_sale_can_be_set_and_the_toml_has_no_float_noise(table):
    low, high = table["japan_sale_duration"].low, table["japan_sale_duration"].high
    assert controls.round_to_step(2.98, 0.25, low, high) == 3.0
    assert repr(controls.round_to_step(5.390000000000001, 0.01, 0.0, 10.0)) == "5.39"
    session = ExplorerSession("japan_full")
    session.set_value("japan_sale_duration", controls.round_to_step(3.03, 0.25, low, high))
    session.set_value("yield_seeking_sensitivity", controls.round_to_step(0.1 * 3, 0.05, 0, 3))
    assert tomllib.loads(session.scenario_toml())["set"] == {
        "japan_sale_duration": 3.0,
        "yield_seeking_sensitivity": 0.3,
    }
    assert "0.30000000000000004" not in session.scenario_toml()


def test_the_ends_of_a_range_stay_reachable(table):
    held = table["japan_sale_amount"].high  # 1189.3, not on the $10bn grid
    assert controls.round_to_step(held, 10.0, 0.0, held) == held
    assert controls.round_to_step(1186.0, 10.0, 0.0, held) == held
    assert controls.round_to_step(-3.0, 10.0, 0.0, held) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(control_names()),
    share=st.floats(min_value=-0.1, max_value=1.1, allow_nan=False),
)
def test_a_rounded_value_is_on_the_grid_and_in_range(table, name, share):
    param, step = table[name], controls.control_text(name).step
    value = param.low + share * (param.high - param.low)
    rounded = controls.round_to_step(value, step, param.low, param.high)
    assert param.low <= rounded <= param.high
    if rounded not in (param.low, param.high):
        steps = (rounded - param.low) / step
        assert math.isclose(steps, round(steps), abs_tol=1e-6)
        assert len(repr(rounded).split(".")[-1]) <= max(1, controls.step_decimals(step))


@pytest.mark.parametrize(
    ("value", "text"),
    [(7e-5, "0.00007"), (0.00326, "0.00326"), (1189.3, "1189"), (0.0, "0"), (-0.025, "-0.025")],
)
def test_values_are_read_in_significant_figures(value, text):
    assert controls.significant(value) == text


def test_a_link_reopens_the_same_settings():
    names, scenarios = control_names(), ["japan_full", "article"]
    query = controls.write_query(
        "article", {"japan_sale_amount": 300.0, "japan_sale_start": 2027.25}
    )
    pairs = dict(item.split("=") for item in query.lstrip("?").split("&"))
    assert controls.read_query(pairs, names, scenarios) == (
        "article",
        {"japan_sale_amount": 300.0, "japan_sale_start": 2027.25},
    )
    assert controls.read_query({"japan_sale_amount": "300"}, names, scenarios) == (
        None,
        {"japan_sale_amount": 300.0},
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"japan_sale_amout": "300"}, "japan_sale_amount"),
        ({"scenario": "japan_ful"}, "japan_full"),
        ({"japan_sale_amount": "lots"}, "not a number"),
        ({"japan_sale_amount": "nan"}, "not a number"),
    ],
)
def test_a_bad_link_names_the_problem(query, message):
    with pytest.raises(InputError, match=message):
        controls.read_query(query, control_names(), ["japan_full"])


def test_the_page_opens_on_its_link_and_shows_a_refused_setting():
    pytest.importorskip("panel")
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_full", {"scenario": "article", "china_sale_amount": "300"})
    assert app.session.base == "article" and app.session.overrides == {"china_sale_amount": 300.0}
    assert app.holder.value == "China" and app.sale[0].value == 300.0
    assert app.query() == "?scenario=article&china_sale_amount=300.0"
    refused = ExplorerApp("japan_full", {"japan_sale_amount": "1e9"})
    assert "japan_sale_amount" in refused.status.object and "error" in refused.status.object
    assert refused.session.overrides == {}


def test_exports_hold_the_results_and_the_charts():
    pytest.importorskip("panel")
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_full")
    frame = app._csv_file().getvalue().splitlines()
    assert frame[0].startswith("time [fiscal year],") and "10-year market yield" in frame[0]
    assert len(frame) == app.outcome.scenario.sizes["time"] + 1
    assert app._chart_file("png").read(8) == b"\x89PNG\r\n\x1a\n"
    svg = app._chart_file("svg").getvalue().decode("utf-8")
    assert "<svg" in svg and "Source: debtloops explorer" in svg


def test_pinned_settings_are_compared_as_extras_over_their_baselines():
    pytest.importorskip("panel")
    from debtloops.app.explorer import CURRENT, MAX_PINS, ExplorerApp

    app = ExplorerApp("japan_full")
    app._on_pin()
    app._set("japan_sale_duration", 3.0)
    app._on_pin()
    app._set("fed_backstop_switch", 1.0)
    assert list(app._compared()) == [CURRENT, "japan_full", "japan_full: length of the sale 3"]
    assert "japan_full: fed backstop on, length of the sale 3" == app.pin_label()
    data = app.compare_source.data
    for index, (_, outcome) in enumerate(app._compared().items()):
        extra = (outcome.scenario["market_yield"] - outcome.baseline["market_yield"]).to_numpy()
        assert data[f"market_yield__{index}"] == pytest.approx(extra * 10_000)
    assert data["market_yield__0"].max() < data["market_yield__1"].max()  # the backstop helps
    assert app.compare_table.object.count("<tr>") == len(app._compared()) == 3
    assert len(app.compare_charts.objects) == 3
    app._on_pin()
    assert app.pin.disabled
    app._set("japan_sale_duration", 4.0)
    app._on_pin()
    assert f"at most {MAX_PINS}" in app.status.object and len(app.pins) == MAX_PINS
    app._on_unpin()
    assert list(app._compared()) == [CURRENT] and not app.pin.disabled


def test_the_band_brackets_the_paths_and_holds_what_the_user_moved():
    from debtloops.app.band import BAND_SAMPLES, BAND_VARIABLES, band_design, uncertainty_band

    session = ExplorerSession("japan_full")
    values = session.values()
    band = uncertainty_band(values)
    assert band.runs == BAND_SAMPLES
    for name in BAND_VARIABLES:
        assert (band.low[name] <= band.high[name]).all()
        assert (band.high[name] - band.low[name]).max() > 0
    for name in ("debt_to_gdp", "market_yield"):  # data, not parameters, set where they start
        assert band.low[name][0] == pytest.approx(band.high[name][0])
    names, rows = band_design()
    assert rows.shape == (BAND_SAMPLES, len(names))
    assert uncertainty_band(values, fixed=names) is None
    again = uncertainty_band(values)
    assert all((again.low[n] == band.low[n]).all() for n in BAND_VARIABLES)  # seeded


def test_the_band_switch_clears_and_redraws_the_band():
    pytest.importorskip("panel")
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_full")
    high = app.band_source.data["market_yield__high"]
    assert len(high) > 0 and (high >= app.source.data["market_yield"].min()).all()
    app.show_band.value = False
    assert len(app.band_source.data["market_yield__high"]) == 0
    app.show_band.value = True
    assert len(app.band_source.data["market_yield__high"]) == len(high)


def test_the_page_says_what_drives_the_run_in_words():
    pytest.importorskip("panel")
    from debtloops.app.explorer import ExplorerApp
    from debtloops.app.loop_words import MECHANISMS, PERIOD_BREAKS, TOP

    app = ExplorerApp("japan_full")
    shown = app.dominance.object
    assert shown.count("<ol>") == len(PERIOD_BREAKS) + 1
    assert shown.count("<li>") == TOP * (len(PERIOD_BREAKS) + 1)
    named = [name for name, _ in MECHANISMS.values() if f"<b>{name}</b>" in shown]
    assert len(named) >= TOP and "<b>bill rollover</b>" not in shown  # folded, not ranked


def test_the_page_attributes_its_settings_and_gives_the_fan_probabilities():
    pytest.importorskip("panel")
    from debtloops.app.explorer import ExplorerApp
    from debtloops.fan import DEFAULT_THRESHOLDS, DEFAULT_YEARS

    app = ExplorerApp("japan_full")
    app._set("japan_sale_amount", 600.0)
    app._on_why()
    shown = app.why_result.object
    assert "portfolio balance" in shown and "all mechanisms off" in shown
    for limit in DEFAULT_THRESHOLDS:
        for year in DEFAULT_YEARS:
            assert f"debt/GDP above {limit:g}% by {year}" in shown
    assert "error" not in shown
