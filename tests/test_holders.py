"""The foreign holders (debtloops.model.holders): read from the .mdl, and covered by every table.

Each table with a row per holder is checked for every holder the .mdl defines, so a holder added
to the .mdl names here what it still lacks (its parameters, its data, its colour).
"""

import re

import pytest

from debtloops.app import controls, session
from debtloops.figures import dashboard, extras, labels, style
from debtloops.model import contract, flows, holders, layers, parameters, publishers
from debtloops.model import refresh_sources as sources
from debtloops.model.datafiles import history
from debtloops.paths import MODEL_FILE
from debtloops.validation import backtest

#: A third holder's blocks, as the .mdl would define them (equations shortened).
NEW_HOLDER = """
united kingdom holdings= INTEG (
\t- united kingdom sales,
\t\tinitial united kingdom holdings)
\t~\tbillion_USD
\t~\tTreasuries held in the United Kingdom.
\t|

united kingdom sale amount=
\t0
\t~\tbillion_USD
\t~\tTotal of the United Kingdom's scheduled sale.
\t|

initial united kingdom holdings=
\t700
\t~\tbillion_USD
\t~\tThe United Kingdom's Treasury holdings at the start.
\t|
"""

HOLDERS = pytest.mark.parametrize("holder", holders.FOREIGN, ids=lambda holder: holder.key)


def test_the_model_names_japan_and_china_in_the_order_of_their_stocks():
    assert holders.KEYS == ("japan", "china")
    assert [holder.name for holder in holders.FOREIGN] == ["Japan", "China"]
    text = MODEL_FILE.read_text(encoding="utf-8")
    places = [re.search(rf"^{key} holdings= INTEG", text, re.M).start() for key in holders.KEYS]
    assert places == sorted(places)


def test_a_stock_without_a_sale_of_its_own_is_not_a_holder():
    text = MODEL_FILE.read_text(encoding="utf-8")
    assert re.search(r"^other foreign holdings= INTEG", text, re.M)
    assert "other_foreign" not in holders.KEYS


def test_a_holder_added_to_the_model_text_is_read_after_the_others_with_a_default_name():
    text = MODEL_FILE.read_text(encoding="utf-8") + NEW_HOLDER
    found = holders.derive(text)
    assert [holder.key for holder in found] == ["japan", "china", "united_kingdom"]
    added = found[-1]
    assert (added.name, added.tic_label) == ("United Kingdom", "United Kingdom")
    assert added.sale_parameters == (
        "united_kingdom_sale_amount",
        "united_kingdom_sale_start",
        "united_kingdom_sale_duration",
    )


def test_a_stock_whose_sale_is_missing_is_not_read_as_a_holder():
    text = MODEL_FILE.read_text(encoding="utf-8")
    without_sale = NEW_HOLDER.replace("united kingdom sale amount=", "united kingdom sale size=")
    assert holders.derive(text + without_sale) == holders.FOREIGN


@pytest.mark.parametrize(
    ("words", "joined"),
    [(["A"], "A"), (["A", "B"], "A and B"), (["A", "B", "C"], "A, B and C")],
)
def test_words_are_joined_as_a_list_is_written(words, joined):
    assert holders.in_words(words) == joined


def test_the_holdings_in_words_name_every_holder():
    assert holders.HOLDINGS_WORDS == "Japan's and China's holdings"


@HOLDERS
def test_the_parameter_table_and_its_checks_cover_the_holder(holder):
    table = parameters.load_parameters()
    needed = {*holder.sale_parameters, holder.initial_holdings, holder.baseline_net_purchases}
    assert needed <= set(table), f"parameters.toml lacks {sorted(needed - set(table))}"
    assert {holder.sale_amount, holder.initial_holdings} <= set(parameters.CROSS_CHECKED)


@HOLDERS
def test_the_history_has_the_holders_series(holder):
    data = history()
    for name in (holder.holdings, holder.net_transactions):
        assert not data.series(name).empty, name


@HOLDERS
def test_the_model_layer_tables_cover_the_holder(holder):
    assert contract.OUTPUT_UNITS[holder.holdings] == "billion USD"
    assert holder.holdings in contract.HOLDINGS
    assert holder.baseline_net_purchases in layers.HISTORY_ONLY
    assert publishers.TIC_ROWS[holder.tic_label] == holder.key
    assert holder.key in flows.HOLDERS
    assert sources.TIC_YEARLY[holder.holdings] == (holder.key, 9)
    assert holder.key in sources.FLOW_ROWS


@HOLDERS
def test_the_figures_name_and_colour_the_holder(holder):
    assert labels.LABELS[holder.holdings].title == f"{holder.name}'s holdings"
    assert labels.HOLDER_NAMES[holder.holdings] == holder.name
    assert holder.key in style.COLOURS, f"figures/style.py COLOURS has no colour for {holder.key}"
    colour = style.holder_colour(holder.holdings)
    others = [value for meaning, value in style.COLOURS.items() if meaning != holder.key]
    assert colour not in others, f"{holder.key}'s colour means something else too"
    assert holder.holdings in dashboard.SELLERS
    assert extras.SELLERS[holder.key] == (holder.holdings, holder.name)


@HOLDERS
def test_the_explorer_and_the_backtest_cover_the_holder(holder):
    assert session.sale_parameters(holder.name) == holder.sale_parameters
    assert set(holder.sale_parameters) <= set(controls.CONTROL_TEXT)
    assert holder.holdings in {row.variable for row in backtest.COMPARED}
    assert holder.holdings in backtest.SHOWN
