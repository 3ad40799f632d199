"""The documentation: the variable reference made from the .mdl, the README as a landing page, and
the site's link rewriting. make docs builds the whole site in strict mode (in .ci/run)."""

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from debtloops.model import contract, reference
from debtloops.model.parameters import load_parameters

ROOT = Path(__file__).resolve().parents[1]
#: The README is a landing page that links to the site's pages: it stays under this many lines.
README_MAX_LINES = 250
#: A relative Markdown link or image target (not a URL, not an anchor on the same page).
RELATIVE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s#]+)")


@pytest.fixture(scope="module")
def variables():
    return {variable.py_name: variable for variable in reference.read_variables()}


def test_every_stock_of_the_contract_is_read_as_a_stock(variables):
    stocks = {name for name, variable in variables.items() if variable.kind == "stock"}
    assert stocks == set(contract.NON_NEGATIVE_STOCKS) | set(contract.SIGNED_STOCKS)


def test_every_output_of_the_contract_is_described_with_its_units(variables):
    page = reference.markdown()
    for name, units in contract.OUTPUT_UNITS.items():
        assert contract.display_units(variables[name].units) == units, name
        assert variables[name].comment, name
        entry = page.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        assert f"[{units}] · *output contract*" in entry
        assert f"```\n{variables[name].equation}\n```" in entry


def test_every_constant_is_a_row_of_the_parameter_table_and_shown_with_its_source(variables):
    table = load_parameters()
    constants = {name for name, variable in variables.items() if variable.kind == "constant"}
    assert constants <= set(table)
    page = reference.markdown()
    for name in constants:
        entry = page.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        assert "Source: " + " ".join(table[name].source.split()) in entry


def test_flows_are_what_stocks_integrate(variables):
    # The stock debt held by public integrates net borrowing; nothing integrates a constant.
    assert variables["net_borrowing"].kind == "flow"
    assert variables["debt_held_by_public"].equation.startswith("INTEG")
    assert all(v.kind != "flow" or not v.equation.startswith("INTEG") for v in variables.values())


def test_the_readme_is_a_landing_page_whose_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < README_MAX_LINES
    missing = [t for t in RELATIVE_LINK.findall(text) if not (ROOT / t).exists()]
    assert missing == []
    assert "docs/getting-started.md" in text


def test_every_relative_link_of_the_docs_pages_resolves():
    missing = []
    for page in (ROOT / "docs").rglob("*.md"):
        for target in RELATIVE_LINK.findall(page.read_text()):
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)}: {target}")
    assert missing == []


@pytest.fixture(scope="module")
def hooks():
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(uri: str):
    return SimpleNamespace(file=SimpleNamespace(src_uri=uri))


def test_links_to_repository_files_are_rewritten_for_the_site(hooks):
    hooks._origins.update({"index.md": "README.md", "model/inventory.md": "models/README.md"})
    page = "See [the table](../models/parameters.toml#L3) and ![x](images/a.png)."
    assert hooks.on_page_markdown(page, _page("fidelity.md"), None, None) == (
        "See [the table](repo/models/parameters.toml#L3) and ![x](images/a.png)."
    )
    # The README, shown as the home page: its links to docs/ lose the prefix.
    readme = "[Fidelity](docs/fidelity.md) and [the loops](models/README.md#loop-inventory)"
    assert hooks.on_page_markdown(readme, _page("index.md"), None, None) == (
        "[Fidelity](fidelity.md) and [the loops](model/inventory.md#loop-inventory)"
    )
    # The inventory's own links are relative to models/; a folder link keeps only its words.
    inventory = "[CBO](data/cbo/2025-01/projections.csv) in [data](data/)"
    assert hooks.on_page_markdown(inventory, _page("model/inventory.md"), None, None) == (
        "[CBO](../repo/models/data/cbo/2025-01/projections.csv) in data"
    )
    untouched = "[site](https://example.org/x.md), [here](#anchor), [gone](nowhere.md)"
    assert hooks.on_page_markdown(untouched, _page("fidelity.md"), None, None) == untouched
