"""Shared fixtures: runs are cached per session, since many tests read the same scenario."""

import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

import json  # noqa: E402
import shutil  # noqa: E402
from datetime import timedelta  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from debtloops import load_parameters, run_scenario  # noqa: E402

# ---- hypothesis: a bounded run in `make test`, a long one with `pytest --fuzz` -----------------
#: Examples per property of the command-line fuzz harness (tests/test_fuzz_cli.py) in `make test`,
#: and with `pytest --fuzz`. No example database: it would be written into the working folder.
BOUNDED_EXAMPLES, FUZZ_EXAMPLES = 12, 400
#: A generous bound on one example [s]: the slowest call the harness makes takes about 20 s; a
#: hang is cut short by each call's own watchdog (tests/cli_harness.py).
EXAMPLE_DEADLINE = 180
_PROFILE = {
    "database": None,
    "deadline": timedelta(seconds=EXAMPLE_DEADLINE),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
# Bounded: no shrinking either, since each example is a real command (a failing example is
# reported as found; `pytest --fuzz` shrinks it). Derandomised: `make test` draws the same
# examples on every machine and every run, so it cannot fail by the luck of a draw; `pytest
# --fuzz` draws new ones each time to look for what these miss.
settings.register_profile(
    "bounded",
    max_examples=BOUNDED_EXAMPLES,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=True,
    **_PROFILE,
)
settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, **_PROFILE)


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz",
        action="store_true",
        help=f"run the fuzz harness long: {FUZZ_EXAMPLES} examples per property instead of "
        f"{BOUNDED_EXAMPLES} (hypothesis profile 'fuzz')",
    )


def pytest_configure(config):
    settings.load_profile("fuzz" if config.getoption("--fuzz") else "bounded")


def pytest_sessionstart(session):
    """Translate the .mdl once before pytest-xdist starts its workers (``-n``).

    The translation cache is written atomically, so workers that found it missing would each
    translate the model at the same time and still agree; building it here first spares that work.
    """
    config = session.config
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        from debtloops.model.engine import build

        build()


def pytest_collection_modifyitems(config, items):
    """Give the ``browser`` marker to each test that uses the ``browser`` fixture."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


#: Where the reference value is exactly 0 (e.g. a stock that starts empty), the absolute floor
#: used instead of a relative tolerance [the series' units].
ZERO_FLOOR = 1e-12


def assert_agree(name: str, expected, actual, relative: float) -> None:
    """Assert two runs of a series agree within ``relative`` [1] (:data:`ZERO_FLOOR` at zero)."""
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    tolerance = np.where(expected == 0, ZERO_FLOOR, relative * np.abs(expected))
    bad = np.flatnonzero(~(np.abs(actual - expected) <= tolerance))
    assert bad.size == 0, f"{name}: first difference at step {bad[:1]}"


@pytest.fixture
def interrupt_import(monkeypatch):
    """Return a function that makes importing one module raise KeyboardInterrupt, as a Ctrl-C would.

    The module is dropped from ``sys.modules`` first, so the next import really looks for it.
    """

    def interrupt(module: str) -> None:
        class Interrupting:
            def find_spec(self, name, path=None, target=None):
                if name == module:
                    raise KeyboardInterrupt
                return None

        monkeypatch.delitem(sys.modules, module, raising=False)
        monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])

    return interrupt


def overrides_that_empty_private_holdings() -> dict[str, float]:
    """Valid values with which domestic private holdings go below zero in a few years.

    Each outflow from domestic private investors is capped on its own: the Fed's and other foreign
    buying at what they could sell within the private sale time, a surplus's paydown at what they
    hold over the shortest paydown time. The caps do not share: at the shortest valid times (1/8
    year) each may take half of private holdings in one step of 1/16 year, so with the Fed and
    other foreign holders buying their valid maximum and the largest valid surplus, the outflows
    together overshoot until private holdings go below zero.
    """
    table = load_parameters()
    overrides = {
        name: table[name].valid_max
        for name in ("fed_baseline_net_purchases", "other_foreign_purchase_share")
    }
    for name in ("private_sale_time", "shortest_paydown_time", "primary_deficit_share_of_gdp"):
        overrides[name] = table[name].valid_min
    return overrides


def _freeze(overrides):
    return json.dumps(overrides, sort_keys=True)


@cache
def _cached_run(name: str, frozen: str) -> xr.Dataset:
    return run_scenario(name, overrides=json.loads(frozen))


def run(name: str, **overrides) -> xr.Dataset:
    """Run a scenario once per session for a given set of overrides."""
    return _cached_run(name, _freeze(overrides))


@pytest.fixture(scope="session")
def real_store(tmp_path_factory):
    """A small sweep made once per session by the command line: the folder holding its store."""
    from cli_harness import make_store

    return make_store(tmp_path_factory.mktemp("real_store"))


@pytest.fixture(scope="session")
def table():
    return load_parameters()


# ---- a real browser for the web front ends (debtloops[app]) ------------------------------------
# Headless Chromium from the system (Debian: apt-get install -y chromium-headless-shell), driven
# by Playwright with executable_path; Playwright's own browser download is not used. Without a
# browser the browser tests are skipped, except under CI=true, where that is a failure.
CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/lib/chromium/chrome-headless-shell",
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
)
#: Browser screenshots are kept here (git-ignored) for a person to look at.
ARTEFACTS = Path(__file__).parent / "artefacts"


def find_chromium() -> str | None:
    """Return the path of a headless Chromium: $DEBTLOOPS_CHROMIUM, then the usual places."""
    wanted = os.environ.get("DEBTLOOPS_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium-headless-shell") or shutil.which("chromium")


def _no_browser(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright, for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("playwright is not installed: pip install -e '.[app]'")
    path = find_chromium()
    if path is None:
        _no_browser(
            "no headless Chromium found; as root: apt-get install -y chromium-headless-shell "
            "(or set DEBTLOOPS_CHROMIUM to its path)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)
        yield launched
        launched.close()


@pytest.fixture
def artefact():
    """Return a function giving the path of a test artefact (a screenshot), and print it."""
    ARTEFACTS.mkdir(exist_ok=True)

    def path(name: str) -> Path:
        target = ARTEFACTS / name
        print(f"artefact: {target}")
        return target

    return path
