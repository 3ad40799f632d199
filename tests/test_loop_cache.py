"""The loop cache: an entry is found again only for the same inputs and code, and a damaged one
is computed again; the polarities and scores read from it are those computed."""

import concurrent.futures
import os
import threading
import time

import pytest
import xarray as xr

from debtloops.loops import cache, graph, scoring
from debtloops.loops.dominance import loop_dominance
from debtloops.loops.graph import causal_graph, measure_polarities
from debtloops.loops.inventory import read_inventory
from debtloops.model.run import prepare

#: A few links of the model, enough to measure on one run in about a second.
LINKS = [
    ("market yield", "bond price index"),
    ("debt held by public", "debt to GDP"),
    ("yield spike", "fed backstop purchases"),
]
#: How long the computation of the concurrency test takes [s]: long enough for the second caller
#: to ask while the first computes (if it asks later, it reads the entry: the test passes alike).
COMPUTE_SECONDS = 1.0
#: The named loops scored in the dominance test: few, so that Simlin scores them in seconds.
FEW_LOOPS = 6


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """An empty cache folder for the test."""
    folder = tmp_path / "loops"
    monkeypatch.setattr(cache, "CACHE_DIR", folder)
    return folder


@pytest.fixture(scope="module")
def few_links():
    return causal_graph().edge_subgraph(LINKS)


def _entries(folder):
    return sorted(folder.glob(f"*{cache.SUFFIX}"))


def _counting(monkeypatch, module, name):
    """Count the calls of ``module.name``, which still runs."""
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_polarities_are_read_back_as_measured(empty_cache, few_links, monkeypatch):
    calls = _counting(monkeypatch, graph, "_run_signs")
    measured = measure_polarities(few_links, ["baseline"])
    assert len(calls) == 1 and len(_entries(empty_cache)) == 1
    assert measure_polarities(few_links, ["baseline"]) == measured
    assert len(calls) == 1  # read from the cache
    assert measured[("yield spike", "fed backstop purchases")] == "0"
    # other operating points are another entry
    measure_polarities(few_links, ["baseline"], {"term_premium_shock": 0.01})
    assert len(calls) == 2 and len(_entries(empty_cache)) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-2] + bytes([data[-2] ^ 1]) + data[-1:],  # one bit flipped
        lambda data: b"",  # empty
        lambda data: b"not an entry\n" + data,  # another format
    ],
    ids=["truncated", "bit-flipped", "empty", "foreign"],
)
def test_a_damaged_entry_is_computed_again_and_replaced(
    empty_cache, few_links, monkeypatch, damage
):
    measured = measure_polarities(few_links, ["baseline"])
    (entry,) = _entries(empty_cache)
    sound = entry.read_bytes()
    entry.write_bytes(damage(sound))
    calls = _counting(monkeypatch, graph, "_run_signs")
    assert measure_polarities(few_links, ["baseline"]) == measured
    assert len(calls) == 1
    assert entry.read_bytes() == sound


def test_an_entry_of_the_wrong_shape_is_computed_again(empty_cache, few_links, monkeypatch):
    measured = measure_polarities(few_links, ["baseline"])
    (entry,) = _entries(empty_cache)
    key = entry.name.removeprefix("polarities-").removesuffix(cache.SUFFIX)
    cache.write_entry("polarities", key, b'[["a", "b", "+"]]')  # sound bytes, wrong links
    calls = _counting(monkeypatch, graph, "_run_signs")
    assert measure_polarities(few_links, ["baseline"]) == measured
    assert len(calls) == 1


def test_the_key_follows_the_model_file_the_inputs_and_the_code(tmp_path, monkeypatch):
    key = cache.entry_key("polarities", {"x": 1}, [graph])
    assert cache.entry_key("polarities", {"x": 1}, [graph]) == key
    assert cache.entry_key("polarities", {"x": 2}, [graph]) != key
    assert cache.entry_key("dominance", {"x": 1}, [graph]) != key
    assert cache.entry_key("polarities", {"x": 1}, [graph, scoring]) != key
    changed = tmp_path / "model.mdl"
    changed.write_bytes(cache.MODEL_FILE.read_bytes() + b"\n")
    monkeypatch.setattr(cache, "MODEL_FILE", changed)
    assert cache.entry_key("polarities", {"x": 1}, [graph]) != key


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path, few_links, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(cache, "CACHE_DIR", blocker / "loops")
    expected = measure_polarities(few_links, ["baseline"])
    assert measure_polarities(few_links, ["baseline"]) == expected
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_the_least_recently_used_entries_go_first_when_the_cache_is_full(empty_cache, monkeypatch):
    payload = b"x" * 1000
    for index, key in enumerate(["a", "b", "c"]):
        cache.write_entry("test", key, payload)
        os.utime(cache.CACHE_DIR / f"test-{key}{cache.SUFFIX}", (index, index))
    monkeypatch.setattr(cache, "MAX_BYTES", 2500)  # room for two entries
    assert cache.read_entry("test", "a") == payload  # a use: "a" is now the newest
    cache.write_entry("test", "d", payload)
    assert [p.name for p in _entries(empty_cache)] == [f"test-{k}{cache.SUFFIX}" for k in "ad"]
    assert not list(empty_cache.glob("*.tmp"))


def test_loop_scores_are_read_back_as_simlin_gave_them(empty_cache, monkeypatch):
    values = prepare("japan_full").values
    loops = read_inventory()[:FEW_LOOPS]
    calls = _counting(monkeypatch, scoring, "_compute")
    computed = loop_dominance(values, loops)
    assert len(calls) == 1
    again = loop_dominance(values, loops)
    assert len(calls) == 1
    xr.testing.assert_identical(again, computed)
    assert again.sizes["loop"] == FEW_LOOPS
    # a damaged entry is scored again
    (entry,) = _entries(empty_cache)
    entry.write_bytes(entry.read_bytes()[:-10])
    xr.testing.assert_identical(loop_dominance(values, loops), computed)
    assert len(calls) == 2


def test_callers_asking_for_one_entry_at_once_compute_it_once(empty_cache):
    computed = []
    started = threading.Event()

    def compute():
        computed.append(1)
        started.set()
        time.sleep(COMPUTE_SECONDS)  # the other caller asks meanwhile
        return b"result"

    def ask():
        return cache.cached("test", {"x": 1}, [], compute, bytes, bytes)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(ask)
        started.wait()
        second = pool.submit(ask)
        assert first.result() == second.result() == b"result"
    assert computed == [1]
