"""The live explorer: its session against `debtloops run`, its controls, its command, a browser."""

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from debtloops.app import session as explorer_session
from debtloops.app.session import (
    LEVERS,
    UNCERTAINTIES,
    ExplorerSession,
    base_scenarios,
    control_names,
    sale_parameters,
    scenario_toml,
)
from debtloops.cli import main
from debtloops.errors import InputError
from debtloops.model.run import prepare, run_scenarios
from debtloops.model.scenarios import load_scenario
from debtloops.outputs import HEADLINE_DECIMALS, headline, headline_table

pytest.importorskip("panel")

from debtloops.app.explorer import MILLISECONDS, SESSION_CHECK, SESSION_LIFETIME  # noqa: E402

PEAK = "peak extra yield [bp]"
#: Engines agree to 1e-6 relative on every stock (docs/model/loops.md, two engines agree).
ENGINE_TOLERANCE = 1e-6


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= ENGINE_TOLERANCE * max(abs(a), abs(b), 1.0)


def _pysd_headline(toml_path, overrides=None):
    """The headline `debtloops run FILE [--set ...]` prints: the run and baseline in pysd."""
    runs = run_scenarios([str(toml_path), "baseline"], overrides=overrides)
    scenario = runs.sel(scenario=str(toml_path))
    return headline("explorer", scenario, runs.sel(scenario="baseline"))


@pytest.fixture(scope="module")
def session():
    return ExplorerSession("japan_full")


def test_controls_are_parameters_of_the_right_kind(table):
    for name in control_names():
        assert name in table
    assert {table[name].kind for name in LEVERS} == {"lever"}
    assert {table[name].kind for name in UNCERTAINTIES} == {"uncertainty"}
    for holder in explorer_session.HOLDERS:
        assert {table[name].kind for name in sale_parameters(holder)} == {"scenario"}


def test_session_matches_debtloops_run_through_its_toml(session, tmp_path):
    session.set_base("japan_full")
    before = session.update().headline
    session.set_value("japan_sale_amount", 600.0)
    session.set_value("japan_sale_duration", 3.0)
    session.set_value("fed_backstop_switch", 1.0)
    after = session.update().headline
    assert after.peak_extra_yield != before.peak_extra_yield
    path = tmp_path / "explorer.toml"
    path.write_text(session.scenario_toml(), encoding="utf-8")
    expected = _pysd_headline(path)
    for field in ("peak_extra_yield", "extra_interest", "debt_to_gdp_horizon", "debt_to_gdp_final"):
        assert _close(getattr(after, field), getattr(expected, field)), field


def test_uncertain_values_move_the_baseline_too(session, tmp_path):
    session.set_base("article")
    session.set_value("portfolio_balance_sensitivity", 0.58)
    outcome = session.update()
    text = session.scenario_toml()
    assert "--set portfolio_balance_sensitivity=0.58" in text
    path = tmp_path / "explorer.toml"
    path.write_text(text, encoding="utf-8")
    expected = _pysd_headline(path, {"portfolio_balance_sensitivity": 0.58})
    assert _close(outcome.headline.peak_extra_yield, expected.peak_extra_yield)
    assert _close(outcome.headline.extra_interest, expected.extra_interest)
    # the baseline is run with the value too; compared over the path, not at its peak, which is
    # now the starting yield that no premium moves
    moved = outcome.baseline["market_yield"] - session._baselines(())["market_yield"]
    assert float(abs(moved).max()) > 0.0


def test_toml_reads_back_as_the_same_scenario(session, tmp_path):
    session.set_base("fed_backstop")
    session.set_value("china_sale_amount", 200.5)
    session.set_value("fed_tightening_strength", 0.25)
    text = session.scenario_toml()
    data = tomllib.loads(text)
    assert data["base"] == "fed_backstop"
    assert data["set"] == {"china_sale_amount": 200.5, "fed_tightening_strength": 0.25}
    path = tmp_path / "explorer.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_scenario(str(path))
    assert loaded.chain == ("baseline", "japan_full", "fed_backstop", "explorer")
    assert prepare(str(path)).values == session.prepared().values


def test_moving_back_to_the_base_value_removes_the_override(session):
    session.set_base("japan_full")
    session.set_value("japan_sale_amount", 10.0)
    assert session.overrides == {"japan_sale_amount": 10.0}
    session.set_value("japan_sale_amount", session.base_values["japan_sale_amount"])
    assert session.overrides == {}
    assert (
        "[set]\n" in session.scenario_toml() and "japan_sale_amount" not in session.scenario_toml()
    )


def test_bad_values_name_the_problem(session):
    with pytest.raises(InputError, match="nearest valid value: 0"):
        session.set_value("japan_sale_amount", -5.0)
    with pytest.raises(InputError, match="japan_sale_amount"):
        session.set_value("japan_sale_amout", 5.0)
    with pytest.raises(InputError, match="japan_full"):
        session.set_base("japan_ful")
    with pytest.raises(InputError, match="holder"):
        sale_parameters("Germany")
    with pytest.raises(InputError, match="japan_full"):
        scenario_toml("japan_fulll", {}, session.table)


def test_explorer_page_controls_follow_the_table(table):
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_china")
    assert app.holder.value in ("Japan", "China")
    for slider, name in zip(app.sale, sale_parameters(app.holder.value), strict=True):
        assert (slider.start, slider.end) == (table[name].low, table[name].high)
        assert slider.value == app.session.value(name)
    app.holder.value = "China" if app.holder.value == "Japan" else "Japan"
    for slider, name in zip(app.sale, sale_parameters(app.holder.value), strict=True):
        assert (slider.start, slider.end) == (table[name].low, table[name].high)
    for name, slider in app.uncertain.items():
        assert (slider.start, slider.end, slider.value) == (
            table[name].low,
            table[name].high,
            table[name].value,
        )
    shown = headline_table([app.session.update().headline]).iloc[0]
    assert f'data-column="{PEAK}">{shown[PEAK]:,.{HEADLINE_DECIMALS}f}<' in app.headlines.object
    assert app.toml.value == app.session.scenario_toml()


def test_choosing_another_scenario_resets_every_control():
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("article")
    app._set("portfolio_balance_sensitivity", 0.5)
    first = app.headlines.object
    app.base.value = "fed_backstop"
    assert app.session.base == "fed_backstop" and app.session.overrides == {}
    assert app.levers["fed_backstop_switch"].value is True
    assert app.uncertain["portfolio_balance_sensitivity"].value == 0.45
    assert app.sale[0].value == app.session.value("japan_sale_amount") == 1189.3
    assert app.headlines.object != first
    assert 'base = "fed_backstop"' in app.toml.value


def test_a_refused_value_is_shown_and_changes_nothing():
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_full")
    shown = app.headlines.object
    app._set("japan_sale_duration", 0.0)
    assert "japan_sale_duration" in app.status.object and "error" in app.status.object
    assert app.session.overrides == {} and app.headlines.object == shown


def test_explore_refuses_bad_input(capsys):
    assert main(["explore", "--port", "0"]) == 2
    assert "outside 1-65535" in capsys.readouterr().err
    assert main(["explore", "--scenario", "japan_fll"]) == 2
    assert "japan_full" in capsys.readouterr().err


def test_core_cli_does_not_import_the_web_libraries():
    code = "import sys, debtloops.cli; print(sorted({'panel', 'bokeh'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---- in a real browser --------------------------------------------------------------------------
#: A small JavaScript function that finds an element through Panel's shadow roots.
_FIND = """
(selector) => {
  const find = (root) => {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) { const found = find(element.shadowRoot); if (found) return found; }
    }
    return null;
  };
  return find(document);
}
"""
_CHANGED = (
    f"([selector, old]) => {{ const el = ({_FIND})(selector); "
    "return el && el.textContent !== old; }"
)
#: True once Bokeh has rendered the page and has nothing left to do.
IDLE = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"
#: How long the page may take to appear the first time (Simlin warms up) [ms].
PAGE_TIMEOUT = 90_000
#: Where on its track the sale-size handle is dropped [share of the track's width].
DROP_AT = 0.4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_explorer(port: int, stderr) -> subprocess.Popen:
    """Start `debtloops explore` on a port and wait for the line that says where it listens.

    ``stderr`` is a file, or ``subprocess.PIPE`` for a server that is ended soon: a pipe that
    nobody reads would stop a server that logs much.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "debtloops.cli", "explore", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=os.environ.copy(),
    )
    line = server.stdout.readline()
    assert f"127.0.0.1:{port}" in line, line
    return server


@pytest.fixture
def explorer_server(tmp_path):
    """A running explorer: its URL and its process."""
    port = _free_port()
    with open(tmp_path / "explorer.log", "w") as log:
        server = _start_explorer(port, log)
        try:
            yield f"http://127.0.0.1:{port}/", server
        finally:
            server.terminate()
            server.wait(timeout=30)
            server.stdout.close()


@pytest.fixture
def explorer_url(explorer_server):
    return explorer_server[0]


@pytest.mark.slow
def test_dragging_the_sale_gives_the_peak_of_debtloops_run(
    browser, explorer_url, artefact, tmp_path
):
    context = browser.new_context(
        viewport={"width": 1600, "height": 1300}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    requested, problems = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(explorer_url)
    peak = page.locator(f'[data-column="{PEAK}"]')
    peak.wait_for(timeout=PAGE_TIMEOUT)
    page.wait_for_function(IDLE, timeout=PAGE_TIMEOUT)
    before = peak.inner_text()
    track = page.locator(".noUi-target").first.bounding_box()
    handle = page.locator(".noUi-handle").first.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(
        track["x"] + DROP_AT * track["width"], handle["y"] + handle["height"] / 2, steps=8
    )
    started = time.perf_counter()
    page.mouse.up()
    page.wait_for_function(
        _CHANGED, arg=[f'[data-column="{PEAK}"]', before], polling="raf", timeout=PAGE_TIMEOUT
    )
    wall = time.perf_counter() - started
    print(f"slider release to new peak extra yield in the browser: {wall * 1000:.0f} ms")
    shown = peak.inner_text()
    assert shown != before
    text = page.locator("textarea").input_value()
    amount = tomllib.loads(text)["set"]["japan_sale_amount"]
    assert 0 < amount < 1189.3
    page.get_by_role("button", name="copy as scenario").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    page.screenshot(path=artefact("explorer.png"), full_page=True)
    context.close()
    assert copied == text
    assert problems == []
    network = [url for url in requested if url.startswith(("http:", "https:", "ws:", "wss:"))]
    assert network and [url for url in network if not url.startswith(explorer_url)] == []

    path = tmp_path / "explorer.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = pd.read_csv(tmp_path / "out" / "headlines.csv", index_col="scenario")
    assert shown == f"{printed.loc['explorer', PEAK]:,.{HEADLINE_DECIMALS}f}"


#: The widths the page is checked at: a phone, a laptop, a desktop [CSS pixels], with heights.
SCREENS = ((390, 844), (1366, 768), (1920, 1080))
#: The roles of the page's controls, each of which must have an accessible name.
CONTROL_ROLES = ("slider", "checkbox", "combobox", "textbox", "button", "radio")
#: A link's setting that the page must honour.
LINKED_AMOUNT = 300
#: True once the page's script has named the sliders (it runs when the document is ready).
NAMED = (
    "() => { const find = " + _FIND.strip() + "; const handle = find('.noUi-handle');"
    " return handle && handle.getAttribute('aria-label'); }"
)


#: True once the band and the words of an update (its generation, the argument) are on the page:
#: until then they may still push the controls below them down.
SETTLED = (
    "(generation) => { const find = " + _FIND.strip() + ";"
    " return ['#band-time', '#words-time'].every((id) => { const el = find(id);"
    " return el && el.dataset.generation === generation; }); }"
)


def _unnamed_controls(snapshot: str) -> list[str]:
    """The lines of an ARIA snapshot that show a control without a name (``- slider`` alone)."""
    lines = [line.strip() for line in snapshot.splitlines()]
    return [
        line
        for line in lines
        if any(line.rstrip(":") == f"- {role}" for role in CONTROL_ROLES)
        or any(line.startswith(f"- {role} [") for role in CONTROL_ROLES)
    ]


@pytest.mark.slow
def test_the_page_fits_each_width_names_its_controls_and_keeps_its_link(
    browser, explorer_url, artefact
):
    from playwright.sync_api import expect

    for width, height in SCREENS:
        page = browser.new_page(viewport={"width": width, "height": height})
        problems = []
        page.on("pageerror", lambda error, problems=problems: problems.append(str(error)))
        page.goto(f"{explorer_url}?japan_sale_amount={LINKED_AMOUNT}&flow_effect_sensitivity=7e-5")
        page.locator(f'[data-column="{PEAK}"]').wait_for(timeout=PAGE_TIMEOUT)
        page.wait_for_function(IDLE, timeout=PAGE_TIMEOUT)
        page.wait_for_function(NAMED, timeout=PAGE_TIMEOUT)
        page.screenshot(path=artefact(f"explorer-{width}.png"), full_page=True)
        overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], (width, overflow)
        assert problems == []
        if width != SCREENS[1][0]:
            page.close()
            continue
        assert _unnamed_controls(page.locator("body").aria_snapshot()) == []
        amount = page.get_by_role("slider", name="Size of the sale ($ billion)")
        assert amount.get_attribute("aria-valuetext") == str(LINKED_AMOUNT)
        flow = page.get_by_role(
            "slider", name="Flow effect of selling (yield per $ billion sold a year)"
        )
        assert flow.get_attribute("aria-valuetext") == "0.00007"
        text = page.locator("textarea").input_value()
        assert tomllib.loads(text)["set"] == {"japan_sale_amount": LINKED_AMOUNT}
        backstop = page.get_by_role("checkbox", name="Fed backstop")
        assert not backstop.is_checked()
        page.get_by_text("Fed backstop", exact=True).click()  # the words, not the box
        page.wait_for_function("() => location.search.includes('fed_backstop_switch=1')")
        assert backstop.is_checked()
        page.wait_for_function(SETTLED, arg="2", timeout=PAGE_TIMEOUT)  # the band and words
        page.get_by_role("button", name="pin these settings").click()
        rows = page.locator("table.compare tbody tr")
        expect(rows).to_have_count(2, timeout=PAGE_TIMEOUT)  # the current settings and the pin
        link = page.url
        page.close()
        again = browser.new_page(viewport={"width": width, "height": height})
        again.goto(link)
        again.locator(f'[data-column="{PEAK}"]').wait_for(timeout=PAGE_TIMEOUT)
        again.wait_for_function(IDLE, timeout=PAGE_TIMEOUT)
        reopened = tomllib.loads(again.locator("textarea").input_value())["set"]
        assert reopened == {"japan_sale_amount": LINKED_AMOUNT, "fed_backstop_switch": 1.0}
        assert again.get_by_role("checkbox", name="Fed backstop").is_checked()
        again.close()


def test_loaded_simulator_runs_like_a_fresh_simulation():
    from debtloops.model import simlin as simlin_engine

    values = prepare("japan_full").values
    loaded = simlin_engine.Simulator(values)
    moved = {"japan_sale_amount": 321.0, "portfolio_balance_sensitivity": 0.52}
    first = loaded.run(moved)
    pd.testing.assert_frame_equal(first, simlin_engine.simulate({**values, **moved}))
    pd.testing.assert_frame_equal(loaded.run(), simlin_engine.simulate(values))
    pd.testing.assert_frame_equal(loaded.run(moved), first)
    with pytest.raises(InputError, match="japan_sale_amount"):
        loaded.run({"japan_sale_amout": 1.0})


def test_quick_validation_equals_prepare(session):
    session.set_base("gradual")
    session.set_value("japan_sale_start", 2028.0)
    session.set_value("yield_seeking_sensitivity", 2.0)
    assert session.values() == session.prepared().values
    session.set_value("japan_sale_amount", 1189.3)
    assert session.values() == session.prepared().values


@pytest.mark.parametrize(
    ("missing", "command"),
    [("panel", ["explore"]), ("bokeh", ["report", "article", "--out", "never"])],
)
def test_without_the_app_extra_the_commands_say_what_to_install(missing, command, tmp_path):
    code = (
        f"import sys; sys.modules[{missing!r}] = None; from debtloops.cli import main; "
        f"sys.exit(main({command!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert f"this command needs {missing}" in done.stderr and ".[app]" in done.stderr
    assert not (tmp_path / "never").exists()


def test_no_browser_is_a_skip_here_and_a_failure_under_ci(monkeypatch):
    from conftest import _no_browser

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI: no Chromium"):
        _no_browser("no Chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        _no_browser("no Chromium")


def test_ctrl_c_ends_the_explorer_as_an_interruption():
    server = _start_explorer(_free_port(), subprocess.PIPE)
    server.send_signal(signal.SIGINT)
    out, err = server.communicate(timeout=60)
    assert server.returncode == 130
    assert "debtloops: interrupted" in err and "Traceback" not in err


# ---- memory over many page loads ----------------------------------------------------------------
#: Page loads in the memory test, and how many of them come before the server's level is taken.
PAGE_LOADS = 50
WARM_UP_LOADS = 5
#: How far the server's resident memory may end above its level after the warm-up [MiB]. An open
#: tab holds about 10 MiB (its runs, loaded models, widgets); this allows four tabs' worth of
#: allocator slack. Keeping one tenth of a tab per load (1 MiB over 45 loads) would exceed it;
#: keeping every tab, as the explorer did, exceeds it tenfold.
MEMORY_MARGIN_MIB = 40
#: How long closed tabs may take to be ended by the server [s]: a session's lifetime after its
#: last connection, two checks, and as much again for a loaded machine.
SESSIONS_END_WITHIN = 2 * (SESSION_LIFETIME + 2 * SESSION_CHECK) / MILLISECONDS
KIB_PER_MIB = 1024


def _resident_mib(pid: int) -> float:
    """The resident memory of a process (VmRSS in /proc/PID/status) [MiB]."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / KIB_PER_MIB
    raise AssertionError(f"no VmRSS for process {pid}")


def _load_and_close(browser, url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url, timeout=PAGE_TIMEOUT)
    page.locator(f'[data-column="{PEAK}"]').wait_for(timeout=PAGE_TIMEOUT)
    page.wait_for_function(IDLE, timeout=PAGE_TIMEOUT)
    context.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc for the RSS")
def test_memory_returns_to_its_level_after_page_loads(browser, explorer_server):
    url, server = explorer_server
    for _ in range(WARM_UP_LOADS):
        _load_and_close(browser, url)
    time.sleep(SESSIONS_END_WITHIN)
    level = _resident_mib(server.pid)
    peak = level
    for _ in range(PAGE_LOADS - WARM_UP_LOADS):
        _load_and_close(browser, url)
        peak = max(peak, _resident_mib(server.pid))
    deadline = time.monotonic() + SESSIONS_END_WITHIN
    final = _resident_mib(server.pid)
    while final > level + MEMORY_MARGIN_MIB and time.monotonic() < deadline:
        time.sleep(1)
        final = _resident_mib(server.pid)
    print(
        f"explorer RSS: {level:.0f} MiB after {WARM_UP_LOADS} loads, peak {peak:.0f} MiB, "
        f"{final:.0f} MiB after {PAGE_LOADS} loads"
    )
    assert final <= level + MEMORY_MARGIN_MIB


# ---- suggestions, the scenario file, the origins ------------------------------------------------
def _suggested(error: BaseException) -> str:
    return str(error).rsplit("nearest valid value: ", 1)[1]


@pytest.mark.parametrize("amount", [2.0e5, 5000.0])
def test_a_refused_sale_gets_the_suggestion_of_the_command_line(session, amount):
    session.set_base("japan_full")
    with pytest.raises(InputError) as explorer:
        session.set_value("japan_sale_amount", amount)
    with pytest.raises(InputError) as command_line:
        prepare("japan_full", {"japan_sale_amount": amount})
    assert _suggested(explorer.value) == _suggested(command_line.value)
    assert float(_suggested(explorer.value)) <= session.value("initial_japan_holdings")
    assert session.overrides == {}


def test_a_refused_sale_shows_what_the_holder_holds():
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_full")
    app._set("japan_sale_amount", 2.0e5)
    held = app.session.value("initial_japan_holdings")
    assert f"nearest valid value: {held:g}" in app.status.object
    assert app.session.overrides == {}


#: Text as a user may type it, and worse: quotes, backslashes, line breaks, control characters,
#: lone surrogates and any other Unicode character.
_AWKWARD = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\"'\\\n\r\t\x00\x07\x1b\x7f\x85\u2028#[]=")),
        st.characters(codec=None),
        st.characters(categories=["Cs", "Cc"]),
    ),
    max_size=40,
)
#: Examples of the property test of the scenario file; each takes a few milliseconds.
TOML_EXAMPLES = 150


@settings(
    max_examples=TOML_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=_AWKWARD,
    intent=_AWKWARD,
    base=st.sampled_from(base_scenarios()),
    moved=st.dictionaries(
        st.sampled_from(control_names()), st.floats(allow_nan=False, allow_infinity=False)
    ),
)
def test_the_scenario_file_reads_back_whatever_its_name_and_intent(
    table, tmp_path, name, intent, base, moved
):
    text = scenario_toml(base, moved, table, "0123abc", name, intent)
    assert tomllib.loads(text) == {"base": base, "set": moved}
    path = tmp_path / "explorer.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_scenario(str(path))
    assert loaded.chain[-2:] == (base, "explorer") and loaded.chain[0] == "baseline"
    assert {key: loaded.overrides[key] for key in moved} == moved


def test_a_base_that_a_scenario_file_cannot_name_is_not_offered(session, monkeypatch):
    shipped = ["japan_full", 'say "hi"', "two\nlines"]
    monkeypatch.setattr(explorer_session, "list_scenarios", lambda: shipped)
    assert explorer_session.base_scenarios() == ["japan_full"]
    with pytest.raises(InputError, match="japan_full"):
        session.set_base('say "hi"')
    with pytest.raises(InputError, match="japan_full"):
        scenario_toml("two\nlines", {}, session.table)


def test_the_page_names_the_file_after_a_valid_name_only():
    from debtloops.app.explorer import ExplorerApp

    app = ExplorerApp("japan_full")
    app.name.value = 'what "if"\n'
    assert tomllib.loads(app.toml.value)["base"] == "japan_full"
    assert app.download.filename == "explorer.toml" and "error" in app.status.object
    app.name.value = "what-if_2"
    app.intent.value = "to see"
    assert app.download.filename == "what-if_2.toml"
    assert (
        app.toml.value.startswith("# what-if_2: japan_full")
        and "# Intent: to see\n" in app.toml.value
    )


def test_the_origin_variable_adds_to_the_local_origins():
    from debtloops.app.explorer import ALLOW_ORIGIN_VARIABLE, websocket_origins

    local = ["127.0.0.1:5006", "localhost:5006"]
    assert websocket_origins(5006, {}) == local
    extended = {ALLOW_ORIGIN_VARIABLE: " Devbox:8080, ,localhost:5006,proxy.example:443"}
    assert websocket_origins(5006, extended) == [*local, "devbox:8080", "proxy.example:443"]


def test_a_given_address_is_an_origin_and_any_address_adds_none():
    from debtloops.app.explorer import websocket_origins

    local = ["127.0.0.1:5006", "localhost:5006"]
    assert websocket_origins(5006, {}, "192.168.1.5") == [*local, "192.168.1.5:5006"]
    assert websocket_origins(5006, {}, "fe80::1") == [*local, "[fe80::1]:5006"]
    assert websocket_origins(5006, {}, "0.0.0.0") == local


def test_the_explorer_listens_on_the_address_given():
    port, address = _free_port(), "127.0.0.2"  # another loopback address: nothing leaves
    server = subprocess.Popen(
        [sys.executable, "-m", "debtloops.cli", "explore", "--port", str(port)]
        + ["--address", address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"http://{address}:{port}/" in server.stdout.readline()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert _handshake_status(port, f"http://{address}:{port}", host=address) == 101
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _handshake_status(port: int, origin: str, host: str = "127.0.0.1") -> int:
    """Open the explorer's websocket from a page of ``origin`` and return the HTTP status."""
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=60) as connection:
        connection.sendall(request.encode("ascii"))
        status_line = connection.makefile("rb").readline().decode("ascii")
    return int(status_line.split()[1])


def test_a_configured_origin_is_accepted_and_the_local_ones_stay(monkeypatch):
    from debtloops.app.explorer import ALLOW_ORIGIN_VARIABLE

    monkeypatch.setenv(ALLOW_ORIGIN_VARIABLE, "devbox:8080")
    port = _free_port()
    server = _start_explorer(port, subprocess.PIPE)
    try:
        assert _handshake_status(port, "http://devbox:8080") == 101
        assert _handshake_status(port, f"http://localhost:{port}") == 101
        assert _handshake_status(port, f"http://127.0.0.1:{port}") == 101
        assert _handshake_status(port, "http://elsewhere.example:8080") == 403
    finally:
        server.terminate()
        server.communicate(timeout=30)
