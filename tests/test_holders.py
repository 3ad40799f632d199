"""The foreign holders: one list, the .mdl written from it, and every table built from it.

The list is models/holders.toml; model/holder_blocks.py writes each holder's block and the sums over
holders into the .mdl from models/holder_template.mdl. Each table with a row per holder is checked
for every holder of the list, so a holder added to it names here what it still lacks.
tests/test_add_holder.py adds one and runs it through the commands.
"""

import re

import pytest

from debtloops.app import controls, session
from debtloops.errors import InputError
from debtloops.figures import dashboard, extras, labels, style
from debtloops.model import contract, flows, holder_blocks, holders, layers, parameters, publishers
from debtloops.model import refresh_sources as sources
from debtloops.model.datafiles import history
from debtloops.paths import MODEL_FILE, MODELS_DIR
from debtloops.validation import backtest

HOLDERS = pytest.mark.parametrize("holder", holders.FOREIGN, ids=lambda holder: holder.key)
#: A third holder, as its line in the list would give it.
UK = holders.Holder("united_kingdom", "United Kingdom", "United Kingdom")


def _template():
    return (MODELS_DIR / holder_blocks.TEMPLATE_NAME).read_text(encoding="utf-8")


def test_the_list_names_japan_and_china_in_the_order_of_their_blocks():
    assert holders.KEYS == ("japan", "china")
    assert [holder.name for holder in holders.FOREIGN] == ["Japan", "China"]
    assert [holder.tic_label for holder in holders.FOREIGN] == ["Japan", "China, Mainland"]
    text = MODEL_FILE.read_text(encoding="utf-8")
    places = [re.search(rf"^{key} holdings= INTEG", text, re.M).start() for key in holders.KEYS]
    assert places == sorted(places)


def test_the_committed_model_is_what_the_template_and_the_list_make():
    current, generated = holder_blocks.expected_model()
    assert current == generated, "treasury_dumping.mdl is out of step: run `make holders`"


def test_each_generated_variable_is_defined_once_in_the_model():
    text = MODEL_FILE.read_text(encoding="utf-8")
    start = text.index(f"\t.{holder_blocks.EACH_HOLDER}\n")
    generated = re.findall(r"^([a-z][^=\n]*?)=", text[start:], re.M)
    for name in generated:
        assert len(re.findall(rf"^{re.escape(name)}=", text, re.M)) == 1, name


def test_japans_extra_sales_enter_its_sales_and_no_other_holders():
    text = MODEL_FILE.read_text(encoding="utf-8")
    japan = re.search(r"^japan sales=\n\t(.*)$", text, re.M)[1]
    china = re.search(r"^china sales=\n\t(.*)$", text, re.M)[1]
    assert "japan intervention sales" in japan
    assert "intervention" not in china
    assert japan.replace(" + japan intervention sales", "") == china.replace("china", "japan")


def test_a_third_holder_gets_a_block_and_a_term_in_every_sum():
    table = parameters.load_parameters()
    groups = holder_blocks.render(_template(), (*holders.FOREIGN, UK), _rows_for(UK, table))
    block = groups[holder_blocks.EACH_HOLDER]
    assert "united kingdom holdings= INTEG (" in block
    assert "initial united kingdom holdings=\n\t700\n" in block
    sums = groups[holder_blocks.SUMS]
    assert "- initial china holdings - initial united kingdom holdings)" in sums
    official = ("japan", "china", "united kingdom")
    terms = " + ".join(f"{holder} official sales" for holder in official)
    assert terms + " + other foreign diversification" in sums
    assert sums.count("united kingdom purchases") == 3
    assert (
        "shortest paydown time + japan purchases + china purchases + united kingdom purchases)"
        in sums
    )


def _rows_for(holder, table):
    """The parameter table's rows, with the new holder's constants given China's (700 held)."""
    china = holders.FOREIGN[1]
    rows = dict(table.items())
    for mine, chinas in zip(
        (*holder.sale_parameters, holder.baseline_net_purchases, holder.private_net_sales),
        (*china.sale_parameters, china.baseline_net_purchases, china.private_net_sales),
        strict=True,
    ):
        rows[mine] = rows[chinas].model_copy(update={"name": mine})
    rows[holder.initial_holdings] = rows[china.initial_holdings].model_copy(
        update={"name": holder.initial_holdings, "value": 700.0}
    )
    return rows


def test_a_holder_without_its_rows_in_the_parameter_table_is_refused_by_name():
    with pytest.raises(InputError, match=r"no row \[initial_united_kingdom_holdings\]"):
        holder_blocks.render(_template(), (UK,), parameters.load_parameters())


def test_a_model_without_the_generated_group_is_refused_with_what_to_add():
    text = MODEL_FILE.read_text(encoding="utf-8")
    without = text.replace(f"\t.{holder_blocks.SUMS}\n", "\t.some other group\n")
    groups = holder_blocks.render(_template(), holders.FOREIGN, parameters.load_parameters())
    with pytest.raises(InputError, match="has no group .sums over foreign holders"):
        holder_blocks.generate(without, groups)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{ key = "uk", name = "United Kingdom" }', "'tic' must be a non-empty string"),
        ('{ key = "UK", name = "UK", tic = "United Kingdom" }', "is not lower-case words"),
        ('{ key = "uk", name = "UK", tic = "UK", extra = [] }', "did you mean: extra_sales"),
        ('{ key = "japan", name = "Japan", tic = "Japan" }', "names 'japan' twice"),
    ],
)
def test_a_bad_line_of_the_holder_list_is_refused_by_name(tmp_path, line, message):
    listed = tmp_path / "holders.toml"
    text = (MODELS_DIR / "holders.toml").read_text(encoding="utf-8")
    listed.write_text(text.replace("\n]", f"\n    {line},\n]"), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        holders.read(listed)


def test_a_holder_is_read_from_its_line_with_its_extra_sales(tmp_path):
    listed = tmp_path / "holders.toml"
    listed.write_text(
        'holders = [{ key = "united_kingdom", name = "United Kingdom", tic = "United Kingdom" }]\n',
        encoding="utf-8",
    )
    (found,) = holders.read(listed)
    assert found == UK
    assert found.mdl_name == "united kingdom"
    assert found.sale_parameters == (
        "united_kingdom_sale_amount",
        "united_kingdom_sale_start",
        "united_kingdom_sale_duration",
    )
    assert holders.FOREIGN[0].extra_sales == ("japan intervention sales",)


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
    colour = style.holder_colour(holder.holdings)
    others = [value for meaning, value in style.COLOURS.items() if meaning != holder.key]
    others += [value for name, value in style.HOLDER_COLOURS.items() if name != holder.holdings]
    assert colour not in others, f"{holder.key}'s colour means something else too"
    assert holder.holdings in dashboard.SELLERS
    assert extras.SELLERS[holder.key] == (holder.holdings, holder.name)


@HOLDERS
def test_the_explorer_and_the_backtest_cover_the_holder(holder):
    assert session.sale_parameters(holder.name) == holder.sale_parameters
    assert set(holder.sale_parameters) <= set(controls.CONTROL_TEXT)
    assert holder.holdings in {row.variable for row in backtest.COMPARED}
    assert holder.holdings in backtest.SHOWN
