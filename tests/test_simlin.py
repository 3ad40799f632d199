"""Simlin as a second engine: same runs as pysd, units, link polarities and loop dominance."""

import matplotlib.image
import numpy as np
import pytest
from tests.conftest import assert_agree

from debtloops import list_scenarios
from debtloops.figures.dominance import (
    FIGURE_INCHES,
    dominance_figure,
    legend_name,
    plot_dominance,
)
from debtloops.figures.style import DPI
from debtloops.io import OWN_NAMES
from debtloops.loops.dominance import (
    dominance_table,
    link_polarities,
    loop_dominance,
    polarity_disagreements,
)
from debtloops.loops.graph import causal_graph, find_loops, measure_polarities
from debtloops.loops.inventory import (
    NamedLoop,
    assign_families,
    label_loops,
    read_families,
    read_inventory,
)
from debtloops.model import engine as pysd_engine
from debtloops.model.run import prepare
from debtloops.model.simlin import simulate, unit_issues
from debtloops.paths import MODEL_FILE

RELATIVE = 1e-6
#: Two engines' saved times agree within this [year] (their arithmetic differs).
TIME_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def stocks():
    return pysd_engine.describe(pysd_engine.load()).stocks


@pytest.mark.parametrize("scenario", list_scenarios())
def test_the_two_engines_agree(scenario, stocks):
    values = prepare(scenario).values
    expected, _ = pysd_engine.simulate(values)
    actual = simulate(values)
    np.testing.assert_allclose(
        actual.index.to_numpy(), expected.index.to_numpy(), rtol=0, atol=TIME_TOLERANCE
    )
    assert set(stocks) <= set(actual.columns)
    for stock in stocks:
        assert_agree(stock, expected[stock], actual[stock], RELATIVE)


def test_a_driver_series_is_interpolated_and_held_flat_like_pysd(stocks):
    # Points off the saved grid and inside the run, so both the interpolation and the flat ends
    # show; a constant, a control and an initial value are overridden at the same time.
    series = {2027.3: 0.02, 2031.1: 0.035, 2040.0: 0.01}
    values = prepare(
        "japan_full",
        {
            "primary_deficit_share_of_gdp": series,
            "initial_japan_holdings": 1300.0,
            "term_premium_shock": 0.005,
        },
        final_time=2045.0,
    ).values
    values["saveper"] = 0.5
    actual = simulate(values)
    time = actual.index.to_numpy()
    np.testing.assert_allclose(
        time, np.arange(2025.0, 2045.0 + 0.25, 0.5), rtol=0, atol=TIME_TOLERANCE
    )
    np.testing.assert_allclose(
        actual["primary_deficit_share_of_gdp"].to_numpy(),
        np.interp(time, list(series), list(series.values())),
        rtol=0,
        atol=1e-15,
    )
    assert actual["japan_holdings"].iloc[0] == 1300.0
    expected, _ = pysd_engine.simulate(values)
    np.testing.assert_allclose(time, expected.index.to_numpy(), rtol=0, atol=TIME_TOLERANCE)
    for stock in stocks:
        assert_agree(stock, expected[stock], actual[stock], RELATIVE)


def test_simlin_finds_no_unit_problem_in_the_model():
    assert unit_issues() == []


def test_the_unit_check_reports_a_broken_copy(tmp_path):
    text = MODEL_FILE.read_text(encoding="utf-8")
    broken = text.replace(
        "\tother means of financing share of GDP * baseline nominal GDP\n\t~\tbillion_USD/year\n",
        "\tother means of financing share of GDP * baseline nominal GDP\n\t~\tbillion_USD\n",
    )
    assert broken != text
    copy = tmp_path / MODEL_FILE.name
    copy.write_text(broken, encoding="utf-8")
    issues = unit_issues(copy)
    assert any(issue.startswith("other_means_of_financing:") for issue in issues)


@pytest.fixture(scope="module")
def static_polarities():
    return link_polarities()


@pytest.fixture(scope="module")
def baseline_polarities():
    return link_polarities(prepare("baseline").values)


def test_known_link_polarities_from_simlin(static_polarities, baseline_polarities):
    assert static_polarities[("debt held by public", "debt to GDP")] == "+"
    assert static_polarities[("bill interest retired", "interest on bills")] == "-"
    # bond discount factor = (1 + market yield * one year) ^ (-bond periods): Simlin's static
    # analysis does not sign a power whose exponent is a variable, so it says "?"; its LTM link
    # scores along the baseline are negative at every step where they are defined.
    assert static_polarities[("market yield", "bond discount factor")] == "?"
    assert baseline_polarities[("market yield", "bond discount factor")] == "-"
    assert baseline_polarities[("debt held by public", "debt to GDP")] == "+"


# Links Simlin draws for an INITIAL() value, which pysd's graph folds away (a constant after the
# start): INITIAL(market yield) in representative bond coupon, INITIAL(debt to GDP) and
# INITIAL(interest to revenue) in the unanchored references of the fiscal risk premium.
INITIAL_LINKS = {
    ("market yield", "representative bond coupon"),
    ("debt to GDP", "reference debt to GDP"),
    ("interest to revenue", "reference interest to revenue"),
}


def test_simlin_draws_the_links_of_the_causal_graph():
    graph = causal_graph()
    simlin_links = set(link_polarities())
    # The only extra links are the INITIAL() ones (see below).
    assert simlin_links - set(graph.edges) == INITIAL_LINKS
    assert set(graph.edges) <= simlin_links
    with_constants = causal_graph(include_constants=True)
    assert set(link_polarities(include_constants=True)) - set(with_constants.edges) == INITIAL_LINKS


def test_simlin_flows_for_an_integ_expression_are_folded_into_the_stock(static_polarities):
    # price level = INTEG(price level * inflation, ...): Simlin adds price_level_net_flow, which the
    # .mdl does not name; its links become inflation -> price level, the self-link is dropped
    assert static_polarities[("inflation", "price level")] == "+"
    assert ("price level", "price level") not in static_polarities
    assert not [link for link in static_polarities if any("net_flow" in v for v in link)]


def test_measured_and_simlin_polarities_agree(static_polarities, baseline_polarities):
    measured = measure_polarities(causal_graph(), ["baseline"])
    # The only entries are structural: Simlin links the INITIAL() values (INITIAL_LINKS); pysd's
    # graph folds INITIAL() away (a constant after the start). No link has definite and opposite
    # signs in the two engines.
    expected = sorted((source, target, "absent", "?") for source, target in INITIAL_LINKS)
    assert polarity_disagreements(measured) == expected
    assert polarity_disagreements(measured, static_polarities) == expected
    assert polarity_disagreements(measured, baseline_polarities) == expected
    compared = [
        link
        for link, sign in measured.items()
        if sign in "+-" and baseline_polarities.get(link) in ("+", "-")
    ]
    assert len(compared) > 100  # the agreement is not vacuous


@pytest.fixture(scope="module")
def labelled():
    """Every loop of the model, named or in a family, as ``debtloops diagram`` pins them."""
    graph = causal_graph()
    families = read_families()
    assignment = assign_families(find_loops(graph), read_inventory(), families)
    return label_loops(assignment, families, measure_polarities(graph, list_scenarios()))


@pytest.fixture(scope="module")
def dominance(labelled):
    return loop_dominance(prepare("japan_full").values, labelled)


def test_loop_dominance_scores_every_loop_of_the_model(dominance, labelled):
    inventory = read_inventory()
    assert dominance["score"].dims == ("loop", "time")
    unscored = [u for u in dominance.attrs["unscored"].split(", ") if u]
    # every named loop is scored, with the inventory's name and polarity, first and in id order
    named = sorted(inventory, key=lambda loop: loop.id)
    assert list(dominance["loop"].values[: len(named)]) == [loop.id for loop in named]
    assert list(dominance["name"].values[: len(named)]) == [loop.name for loop in named]
    assert list(dominance["polarity"].values[: len(named)]) == [loop.polarity for loop in named]
    # the only loops left out are those with the same variables as an earlier one, in another
    # order, which Simlin cannot tell apart (it names a pinned loop by its variables)
    first: dict[frozenset[str], str] = {}
    twins, partners = [], set()
    for loop in labelled:
        members = frozenset(loop.variables)
        if members in first:
            twins.append(loop.id)
            partners.add(first[members])
        first.setdefault(members, loop.id)
    # every later twin is left out; Simlin may leave out the earlier one of a pair too
    assert set(twins) <= set(unscored) <= set(twins) | partners
    assert len(unscored) < 10
    assert list(dominance["loop"].values) == [lp.id for lp in labelled if lp.id not in unscored]
    # loops into the price level, whose INTEG is an expression, are pinned through Simlin's
    # synthesised flow and scored
    through_prices = [lp.id for lp in labelled if "price level" in lp.variables]
    assert through_prices and set(through_prices) <= set(dominance["loop"].values)
    assert dominance.attrs["ltm_mode"] == "discovery"
    assert dominance.attrs["simlin_version"]


def test_loop_dominance_of_the_named_loops_alone():
    inventory = read_inventory()
    alone = loop_dominance(prepare("japan_full").values, inventory)
    assert list(alone["loop"].values) == [loop.id for loop in inventory]
    assert alone.attrs["unscored"] == ""


def test_a_loop_with_the_same_variables_as_an_earlier_one_is_not_pinned():
    loops = read_inventory()[:3]
    first = loops[0]
    twin = NamedLoop("X1", "twin", first.polarity, first.variables[::-1])
    scored = loop_dominance(prepare("baseline").values, [*loops, twin])
    assert list(scored["loop"].values) == [loop.id for loop in loops]
    assert scored.attrs["unscored"] == "X1"
    with pytest.raises(ValueError, match="no loops"):
        loop_dominance(prepare("baseline").values, [])


def test_loop_scores_are_finite_bounded_and_on_the_run_time_axis(dominance):
    score = dominance["score"].to_numpy()
    assert np.isfinite(score).all()
    assert (np.abs(score) <= 1.0).all()
    run = simulate(prepare("japan_full").values)
    np.testing.assert_array_equal(dominance["time"].to_numpy(), run.index.to_numpy())
    # Simlin's definition: within a cycle partition, |scores| sum to 1 at every active step.
    for _, group in dominance.groupby("partition"):
        total = np.abs(group["score"].to_numpy()).sum(axis=0)
        assert np.all(np.isclose(total, 1.0, atol=1e-9) | (total == 0.0))
    # A loop Simlin classifies as definitely reinforcing or balancing has the polarity the
    # inventory states (named loops) or that is measured over the shipped scenarios (families;
    # "0" where a link of the loop is dormant in all of them, which is no classification).
    definite = dominance["simlin_polarity"].isin(["R", "B"]) & dominance["polarity"].isin(
        ["R", "B"]
    )
    assert int(definite.sum()) > 100
    assert (dominance["simlin_polarity"][definite] == dominance["polarity"][definite]).all()


def test_dominance_table_periods_tile_the_run(dominance):
    table = dominance_table(dominance)
    time = dominance["time"].to_numpy()
    assert table["start"].iloc[0] == time[0]
    assert table["end"].iloc[-1] == time[-1]
    np.testing.assert_array_equal(table["end"].to_numpy()[:-1], table["start"].to_numpy()[1:])
    assert (table["end"] >= table["start"]).all()
    loops = table["loop"].tolist()
    assert all(a != b for a, b in zip(loops, loops[1:], strict=False))
    assert set(loops) - {None} <= set(dominance["loop"].values)
    # At the first step no loop has a score yet; after it some loop always dominates.
    assert loops[0] is None
    assert None not in loops[1:]


def test_the_dominance_chart_speaks_plain_words_and_names_loops_as_the_inventory(dominance):
    figure = dominance_figure(dominance, "japan_full", top=6)
    axes = figure.axes[0]
    title = figure.get_suptitle()
    assert title.startswith("Which feedback loops drive the model, japan_full\n")
    assert "partition" not in title and "Simlin" in title
    assert axes.get_ylabel() == "Share of the feedback loops' activity [%]"
    assert axes.get_xlabel() == "end of fiscal year"  # ticked FY2030 (figures.style)
    # shares in percent: the stacked layers of the main group of loops reach 100%
    assert axes.get_ylim()[1] == pytest.approx(100.0)
    entries = [text.get_text() for text in axes.get_legend().get_texts()]
    assert len(entries) == 7 and entries[0].startswith("all ") and entries[0].endswith(" loops")
    named = {
        legend_name(str(i), str(n), str(p))
        for i, n, p in zip(
            dominance["loop"].values,
            dominance["name"].values,
            dominance["polarity"].values,
            strict=True,
        )
    }
    assert set(entries[1:]) <= named
    inventory = {loop.id: loop for loop in read_inventory()}
    for entry in entries[1:]:
        loop_id = entry.rsplit(": ", 1)[1].split(",")[0]
        if loop_id in inventory:
            assert entry.startswith(inventory[loop_id].name)


def test_plot_dominance_writes_a_png(dominance, tmp_path):
    path = tmp_path / "dominance.png"
    plot_dominance(dominance, path, "japan_full", top=6)
    image = matplotlib.image.imread(path)
    # at the house resolution, cropped to what is drawn (the legend beside the chart included)
    height, width = (FIGURE_INCHES[1] * DPI, FIGURE_INCHES[0] * DPI)
    assert image.ndim == 3 and image.shape[0] > 0.9 * height and image.shape[1] > 0.9 * width
    assert [p.name for p in tmp_path.iterdir() if p.name not in OWN_NAMES] == ["dominance.png"]
