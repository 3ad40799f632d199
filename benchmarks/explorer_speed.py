"""Time the explorer's update: from a slider's release to new numbers, and print the figures.

Run with ``make bench`` or ``.venv/bin/python benchmarks/explorer_speed.py``. The goal (issue 11):
under 100 ms from slider release to updated numbers on a 2-core machine. Measured here:

- the session's update (validation, the Simlin run, the headline) when the sale moves (one run)
  and when an uncertain parameter moves (the baseline runs too);
- the page's whole callback (the update, then the headlines, TOML and chart data replaced);
- the old way, :func:`debtloops.model.run.prepare` and :func:`debtloops.model.simlin.simulate` for
  every update, and the pysd engine, for comparison;
- loop dominance for the current settings, which follows the numbers;
- the uncertainty band (issue 19: within 500 ms of a release, the central line under 150 ms):
  its ensemble in process, and in Chromium the wall time from releasing the sale-size slider to
  the new peak extra yield (the central line) and to the new band, with the band on and off;
- with Playwright and a headless Chromium, the wall time in a real browser from releasing the
  sale-size slider to the new peak extra yield on the page (``--no-browser`` skips it).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from debtloops.app.band import BAND_SAMPLES, uncertainty_band
from debtloops.app.explorer import ExplorerApp
from debtloops.app.session import ExplorerSession, loop_dominance_table
from debtloops.model import engine
from debtloops.model import simlin as simlin_engine
from debtloops.model.run import prepare

REPEATS = 30
BROWSER_DRAGS = 10
#: The band's switch, by its accessible name.
BAND_LABEL = f"Uncertainty band (5-95% of {BAND_SAMPLES} runs)"
#: The sale sizes cycled through [billion USD] and the uncertain values [1/year] (within range).
SALES = (400.0, 600.0, 800.0, 1000.0)
PORTFOLIO_BALANCE = (0.35, 0.4, 0.5, 0.55)
MILLISECONDS = 1000.0
#: Where the sale-size handle is dropped on its track [share of its width], in turn.
DROPS = (0.3, 0.5, 0.7, 0.45, 0.6)
PEAK = '[data-column="peak extra yield [bp]"]'
#: The ``data-band`` count of the band's note (the bands drawn), or ``old`` before the first.
_BAND_COUNT = """
(old) => {
  const find = (root) => {
    const hit = root.querySelector('#band-time');
    if (hit) return hit;
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) { const found = find(element.shadowRoot); if (found) return found; }
    }
    return null;
  };
  const element = find(document);
  return element ? element.dataset.band : old;
}
"""
_CHANGED = """
([selector, old]) => {
  const find = (root) => {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) { const found = find(element.shadowRoot); if (found) return found; }
    }
    return null;
  };
  const element = find(document);
  return element && element.textContent !== old;
}
"""


def _times(action, repeats: int = REPEATS) -> list[float]:
    times = []
    for index in range(repeats):
        started = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - started)
    return times


def _row(label: str, times: list[float]) -> None:
    median = statistics.median(times) * MILLISECONDS
    slowest = max(times) * MILLISECONDS
    print(f"{label:<62} {median:7.1f} ms (median of {len(times)}; slowest {slowest:.1f})")


def _in_process() -> None:
    session = ExplorerSession("japan_full")
    session.update()

    def move_sale(index: int) -> None:
        session.set_value("japan_sale_amount", SALES[index % len(SALES)])
        session.update()

    def move_uncertain(index: int) -> None:
        session.set_value("portfolio_balance_sensitivity", 0.3 + 0.3 * (index + 1) / (REPEATS + 2))
        session.update()

    _row("session update, sale moved (one Simlin run)", _times(move_sale))
    _row("session update, uncertain parameter moved (two runs)", _times(move_uncertain))
    app = ExplorerApp("japan_full")

    def callback(index: int) -> None:  # what a release does before loop dominance is scheduled
        app.session.set_value("japan_sale_amount", SALES[index % len(SALES)])
        app.refresh()

    _row("page callback: update, then headlines, TOML and charts replaced", _times(callback))
    values = session.values()
    _row(
        "old way: prepare() and simlin.simulate() each time",
        _times(lambda i: simlin_engine.simulate(prepare("japan_full", session.overrides).values)),
    )
    _row(
        "pysd: prepare() and engine.simulate() each time",
        _times(lambda i: engine.simulate(prepare("japan_full", session.overrides).values), 10),
    )
    _row(
        "uncertainty band: its pysd ensemble around the settings",
        _times(lambda i: uncertainty_band(values), 10),
    )
    _row(
        "loop dominance for the settings (150 named loops)",
        _times(lambda i: loop_dominance_table(values), 10),
    )


def _browser() -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from conftest import find_chromium

    path = find_chromium()
    if path is None:
        print("browser: no headless Chromium found; skipped")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "debtloops.cli", "explore", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        server.stdout.readline()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path)
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.goto(f"http://127.0.0.1:{port}/")
            peak = page.locator(PEAK)
            peak.wait_for(timeout=90_000)
            walls, bands, without = [], [], []
            band_box = page.get_by_role("checkbox", name=BAND_LABEL)
            for drag in range(2 * (BROWSER_DRAGS + 1)):
                with_band = drag <= BROWSER_DRAGS
                if drag == BROWSER_DRAGS + 1:
                    band_box.uncheck()
                page.wait_for_timeout(1500)  # let the band and loop dominance of the last finish
                before = peak.inner_text()
                band_before = page.evaluate(_BAND_COUNT, None)
                track = page.locator(".noUi-target").first.bounding_box()
                handle = page.locator(".noUi-handle").first.bounding_box()
                y = handle["y"] + handle["height"] / 2
                page.mouse.move(handle["x"] + handle["width"] / 2, y)
                page.mouse.down()
                drop = track["x"] + DROPS[drag % len(DROPS)] * track["width"]
                page.mouse.move(drop, y, steps=8)
                started = time.perf_counter()
                page.mouse.up()
                page.wait_for_function(_CHANGED, arg=[PEAK, before], polling="raf")
                central = time.perf_counter() - started
                if with_band:
                    page.wait_for_function(
                        f"(old) => ({_BAND_COUNT})(old) !== old", arg=band_before, polling="raf"
                    )
                    banded = time.perf_counter() - started
                if drag in (0, BROWSER_DRAGS + 1):  # the first drag of each kind warms up
                    continue
                if with_band:
                    walls.append(central)
                    bands.append(banded)
                else:
                    without.append(central)
            browser.close()
        _row("browser, band on: release to new peak extra yield (wall time)", walls)
        _row("browser, band on: release to new 5-95% band (wall time)", bands)
        _row("browser, band off: release to new peak extra yield (wall time)", without)
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the browser timing")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    _in_process()
    if not args.no_browser:
        _browser()


if __name__ == "__main__":
    main()
