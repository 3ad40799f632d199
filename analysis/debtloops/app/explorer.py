"""``debtloops explore``: a live explorer of one sale, served by Panel on Bokeh at 127.0.0.1.

Sliders and switches set the sale (holder, size, start, duration), the policy levers and the main
uncertain parameters; their ranges are the parameter table's. When a slider is released (Panel's
``value_throttled``) or a switch flips, :class:`debtloops.app.session.ExplorerSession` runs the
settings afresh in Simlin, and the headlines, the charts and the scenario TOML are replaced in one
batch. Loop dominance (Simlin's Loops That Matter over the inventory's named loops, about 0.15 s)
follows on the next tick, so that it never delays the numbers. Each browser tab has its own session.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import html
import io
import os
import signal
import time
from collections.abc import Mapping
from functools import cache, partial
from typing import ClassVar

import panel as pn
from bokeh.models import ColumnDataSource, PrintfTickFormatter
from bokeh.plotting import figure
from bokeh.settings import settings as bokeh_settings

from debtloops.app import charts
from debtloops.app.session import (
    DEFAULT_BASE,
    DEFAULT_INTENT,
    EXPLORER_SCENARIO,
    HOLDERS,
    LEVERS,
    UNCERTAINTIES,
    ExplorerSession,
    base_scenarios,
    dominant_years,
    is_switch,
    loop_dominance_table,
    sale_parameters,
)
from debtloops.errors import DebtloopsError, InputError, unknown_name
from debtloops.model.scenarios import NAME_PATTERN
from debtloops.outputs import HEADLINE_DECIMALS, headline_table

#: The only interface the explorer listens on: it is a local tool, not a public service.
LOCALHOST = "127.0.0.1"
DEFAULT_PORT = 5006
#: The environment variable that adds hosts (``host[:port]``, comma-separated) to those whose pages
#: may open the explorer's websocket; the explorer's own two addresses always stay. It is Bokeh's
#: own name, which would otherwise replace the list.
ALLOW_ORIGIN_VARIABLE = "BOKEH_ALLOW_WS_ORIGIN"
#: How a slider shows its value: four significant digits (the table's values span 1e-5 to 1e3).
VALUE_FORMAT = "%.4g"
#: Positions along a slider's range (the step is the range over this).
SLIDER_STEPS = 200
#: How long loop dominance waits after the numbers, so that they leave for the page first [ms]: on
#: the next tick it would hold the server before their patch is written.
DOMINANCE_DELAY = 50
#: How many loops the dominance chart shows.
DOMINANCE_TOP = 8
MILLISECONDS = 1000.0
SIDEBAR_WIDTH = 330
#: The page's title.
TITLE = "debtloops explorer"
#: How long a tab's session outlives its last connection before the server ends it [ms]: Bokeh's
#: default, so that a slow page still opens its websocket in time.
SESSION_LIFETIME = 15_000
#: How often the server looks for sessions to end [ms] (Bokeh checks every 17 s by default).
SESSION_CHECK = 2_000

_CSS = """
.headlines { display: flex; flex-wrap: wrap; gap: 8px; font-family: sans-serif; }
.headline { border: 1px solid #ccc; border-radius: 6px; padding: 6px 10px; min-width: 150px; }
.headline .label { font-size: 11px; color: #555; }
.headline .value { font-size: 22px; font-weight: 600; }
.status { font-family: sans-serif; font-size: 12px; color: #444; }
.status.error { color: #b00020; font-weight: 600; }
"""


class ReleaseSlider(pn.widgets.FloatSlider):
    """A slider whose release is handled at once.

    Panel holds a change from the browser for 50 ms (``_debounce``) to gather the next ones, unless
    the property is a priority change; a release (``value_throttled``) is the last change of a drag.
    """

    _priority_changes: ClassVar[list[str]] = ["value_throttled"]


class PromptSwitch(pn.widgets.Switch):
    """A switch whose flip is handled at once (see :class:`ReleaseSlider`)."""

    _priority_changes: ClassVar[list[str]] = ["value"]


def _label(session: ExplorerSession, name: str, shown: str | None = None) -> str:
    param = session.table[name]
    return f"{shown or name.replace('_', ' ')} [{param.units}]"


def _error_html(error: Exception) -> str:
    return f'<div class="status error">{html.escape(str(error))}</div>'


def headline_html(outcome) -> str:
    """Return the headline panel: each column of the headline table as a labelled number.

    Each number is in an element with ``data-column`` set to the column's name in
    :func:`debtloops.outputs.headline_table` (e.g. ``peak extra yield [bp]``), formatted as
    ``debtloops run`` prints it.
    """
    row = headline_table([outcome.headline]).iloc[0]
    cells = [
        f'<div class="headline"><div class="label">{html.escape(column)}</div>'
        f'<div class="value" data-column="{html.escape(column)}">{value:,.{HEADLINE_DECIMALS}f}'
        "</div></div>"
        for column, value in row.items()
    ]
    return f'<div class="headlines">{"".join(cells)}</div>'


class ExplorerApp:
    """One browser tab of the explorer: its widgets, charts and session.

    Parameters
    ----------
    base : str
        The shipped scenario the tab opens on.
    """

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        self.session = ExplorerSession(base)
        self.generation = 0
        table = self.session.table
        self.base = pn.widgets.Select(
            label="start from scenario", options=base_scenarios(), value=base
        )
        self.holder = pn.widgets.RadioButtonGroup(
            label="holder", options=list(HOLDERS), value=self._initial_holder()
        )
        self.sale = [
            self._slider(name, shown)
            for name, shown in zip(
                sale_parameters(self.holder.value), ("sale size", "sale start", "sale duration"),
                strict=True,
            )
        ]  # fmt: skip
        self.levers = {
            name: (
                PromptSwitch(
                    label=name.removesuffix("_switch").replace("_", " "),
                    value=bool(self.session.value(name)),
                )
                if is_switch(table, name)
                else self._slider(name)
            )
            for name in LEVERS
        }
        self.uncertain = {name: self._slider(name) for name in UNCERTAINTIES}
        for index, slider in enumerate(self.sale):
            slider.param.watch(partial(self._on_sale, index), "value_throttled")
        for name, widget in {**self.levers, **self.uncertain}.items():
            event = "value" if isinstance(widget, pn.widgets.Switch) else "value_throttled"
            widget.param.watch(partial(self._on_control, name), event)
        self.holder.param.watch(self._on_holder, "value")
        self.base.param.watch(self._on_base, "value")

        self.headlines = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.status = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.name = pn.widgets.TextInput(
            label="scenario name (of the file and its output folder)", value=EXPLORER_SCENARIO
        )
        self.intent = pn.widgets.TextInput(label="intent", value=DEFAULT_INTENT)
        self.name.param.watch(self._on_naming, "value")
        self.intent.param.watch(self._on_naming, "value")
        self.toml = pn.widgets.TextAreaInput(
            label="scenario TOML (the current settings)", height=220, sizing_mode="stretch_width"
        )
        self.copy = pn.widgets.Button(label="copy as scenario", color="primary")
        self.copy.js_on_click(
            args={"area": self.toml},
            code="if (navigator.clipboard) { navigator.clipboard.writeText(area.value)"
            ".catch(() => {}) }",
        )
        self.download = pn.widgets.FileDownload(
            callback=self._toml_file, filename=f"{EXPLORER_SCENARIO}.toml", label="download .toml"
        )
        self.source = ColumnDataSource({})
        self.dominance_note = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.dominance_chart: figure | None = None
        self.refresh()
        self.figures = charts.explorer_figures(self.source)
        self._update_dominance(self.generation)

    def _initial_holder(self) -> str:
        """Open on the holder whose sale the base scenario makes (the largest), else the first."""
        sizes = {holder: self.session.value(sale_parameters(holder)[0]) for holder in HOLDERS}
        return max(sizes, key=lambda holder: sizes[holder])

    def _slider_range(self, name: str) -> dict[str, float]:
        """Return a slider's start, end and step for a parameter: its range in the table."""
        param = self.session.table[name]
        return {
            "start": param.low,
            "end": param.high,
            "step": (param.high - param.low) / SLIDER_STEPS,
        }

    def _slider(self, name: str, shown: str | None = None) -> ReleaseSlider:
        return ReleaseSlider(
            label=_label(self.session, name, shown),
            **self._slider_range(name),
            value=self.session.value(name),
            format=PrintfTickFormatter(format=VALUE_FORMAT),
            sizing_mode="stretch_width",
        )

    def _on_sale(self, index: int, event) -> None:
        name = sale_parameters(self.holder.value)[index]
        self._set(name, event.new)

    def _on_control(self, name: str, event) -> None:
        self._set(name, float(event.new))

    def _set(self, name: str, value: float) -> None:
        try:
            self.session.set_value(name, value)
        except DebtloopsError as error:
            self._error(error)
            return
        self.refresh()
        self._schedule_dominance()

    def _on_holder(self, event) -> None:
        self._show_holder(event.new)

    def _show_holder(self, holder: str) -> None:
        """Point the sale sliders at a holder's parameters, at their current values."""
        for slider, name in zip(self.sale, sale_parameters(holder), strict=True):
            slider.param.update(**self._slider_range(name), value=self.session.value(name))

    def _on_base(self, event) -> None:
        """Start again from another scenario: every control shows that scenario's value."""
        self.session.set_base(event.new)
        self.holder.value = self._initial_holder()
        self._show_holder(self.holder.value)
        for name, widget in {**self.levers, **self.uncertain}.items():
            value = self.session.value(name)
            widget.value = bool(value) if isinstance(widget, pn.widgets.Switch) else value
        self.refresh()
        self._schedule_dominance()

    def _scenario_text(self) -> str:
        return self.session.scenario_toml(self.name.value or "", self.intent.value or "")

    def _toml_file(self) -> io.StringIO:
        return io.StringIO(self._scenario_text())

    def _on_naming(self, event) -> None:
        """Write the new name or intent into the TOML, and name the file after a valid name."""
        self.toml.value = self._scenario_text()
        name = self.name.value or ""
        if NAME_PATTERN.fullmatch(name):
            self.download.filename = f"{name}.toml"
            self.status.object = ""
        else:
            self._error(
                InputError(
                    f"scenario name {name!r} must be 1 to 64 letters, digits, '_' or '-', as it "
                    f"names the file and its output folder; the file keeps the name "
                    f"{self.download.filename}"
                )
            )

    def _error(self, error: Exception) -> None:
        self.status.object = _error_html(error)

    def refresh(self) -> None:
        """Run the current settings and replace the headlines, charts and TOML in one batch."""
        started = time.perf_counter()
        try:
            outcome = self.session.update()
        except DebtloopsError as error:
            self._error(error)
            return
        with pn.io.hold():
            self.headlines.object = headline_html(outcome)
            self.toml.value = self._scenario_text()
            self.source.data = charts.explorer_columns(outcome.scenario, outcome.baseline)
            seconds = time.perf_counter() - started
            self.status.object = (
                f'<div class="status" id="update-time">updated in '
                f"{seconds * MILLISECONDS:.0f} ms (validation, Simlin run, headlines; "
                f"the run itself {outcome.seconds * MILLISECONDS:.0f} ms)</div>"
            )
        self.generation += 1
        self.values = outcome.values

    def _schedule_dominance(self) -> None:
        """Score the loops a moment later, once the numbers have gone to the page."""
        callback = partial(self._update_dominance, self.generation)
        document = pn.state.curdoc
        if document is None or document.session_context is None:
            callback()  # no server: nothing to wait for
        else:
            document.add_timeout_callback(callback, DOMINANCE_DELAY)

    def _update_dominance(self, generation: int) -> None:
        """Score the loops of the latest run, unless a newer run or a closed tab made it moot."""
        if generation != self.generation or self.session is None:
            return
        started = time.perf_counter()
        try:
            periods = loop_dominance_table(self.values)
        except DebtloopsError as error:
            self.dominance_note.object = _error_html(error)
            return
        years = dominant_years(periods)
        data = charts.dominance_source_data(years, DOMINANCE_TOP)
        if self.dominance_chart is None:
            self.dominance_chart = charts.dominance_figure(years, DOMINANCE_TOP)
            glyphs = self.dominance_chart.renderers[0]  # the bars' GlyphRenderer
            self.dominance_source = glyphs.data_source  # type: ignore[union-attr]
        else:
            with pn.io.hold():
                factors = self.dominance_chart.y_range  # a FactorRange (charts.dominance_figure)
                factors.factors = list(data["loop"])  # type: ignore[attr-defined]
                self.dominance_source.data = data
        seconds = time.perf_counter() - started
        self.dominance_note.object = (
            f'<div class="status">Loops That Matter (Simlin), the inventory\'s named loops, '
            f"for the current settings: {seconds * MILLISECONDS:.0f} ms</div>"
        )

    def close(self) -> None:
        """Let go of what the tab holds beyond its widgets: its runs and its loaded models."""
        # released: a closed tab is not used again
        self.session = None  # type: ignore[assignment]
        self.values = None  # type: ignore[assignment]

    def layout(self) -> pn.viewable.Viewable:
        """Return the page: the controls on the left, the numbers and charts on the right."""
        sidebar = pn.Column(
            pn.pane.Markdown(f"## {TITLE}"),
            self.base,
            pn.pane.Markdown("### Sale"),
            self.holder,
            *self.sale,
            pn.pane.Markdown("### Policy levers"),
            *self.levers.values(),
            pn.pane.Markdown("### Uncertain parameters"),
            *self.uncertain.values(),
            pn.pane.Markdown("### Scenario"),
            self.name,
            self.intent,
            pn.Row(self.copy, self.download),
            self.toml,
            width=SIDEBAR_WIDTH,
        )
        main = pn.Column(
            pn.pane.Markdown(
                "Headlines against the baseline (under the same uncertain parameters), as "
                "`debtloops run` prints them"
            ),
            self.headlines,
            self.status,
            pn.GridBox(*[pn.pane.Bokeh(chart) for chart in self.figures], ncols=3),
            pn.pane.Bokeh(self.dominance_chart),
            self.dominance_note,
        )
        return pn.Row(sidebar, main)


def _end_tab(app: ExplorerApp, session_context) -> None:
    """Free a closed tab: release what it holds, then hand the freed memory back to the system."""
    app.close()
    gc.collect()  # the tab's widgets, documents and callbacks refer to each other in cycles
    _trim_heap()


@cache
def _malloc_trim():
    """Return glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def _trim_heap() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); elsewhere nothing.

    Without it the pages a tab's runs used stay with the process, and its resident size keeps the
    high-water mark of the tabs open at once.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def websocket_origins(port: int, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Return the hosts whose pages may open the explorer's websocket.

    Parameters
    ----------
    port : int
        The port the explorer listens on.
    environ : mapping
        The environment; :data:`ALLOW_ORIGIN_VARIABLE` in it adds hosts.

    Returns
    -------
    list of str
        ``127.0.0.1:PORT`` and ``localhost:PORT``, then each host of :data:`ALLOW_ORIGIN_VARIABLE`
        (e.g. ``localhost:8080,devbox:5006``, for a page reached through a tunnel or proxy),
        lower-cased, once each.
    """
    local = [f"{LOCALHOST}:{port}", f"localhost:{port}"]
    added = [host.strip().lower() for host in environ.get(ALLOW_ORIGIN_VARIABLE, "").split(",")]
    return list(dict.fromkeys([*local, *(host for host in added if host)]))


def serve(port: int = DEFAULT_PORT, base: str = DEFAULT_BASE, show: bool = False) -> None:
    """Serve the explorer at ``http://127.0.0.1:PORT/`` until interrupted.

    Parameters
    ----------
    port : int
        The TCP port, 1 to 65535; the websocket accepts only pages served from it, and from the
        hosts that ``BOKEH_ALLOW_WS_ORIGIN`` adds (see :func:`websocket_origins`).
    base : str
        The shipped scenario each new tab opens on.
    show : bool
        Open the page in the default browser.
    """
    if base not in base_scenarios():
        raise unknown_name("scenario", base, base_scenarios())
    pn.extension(inline=True)

    origins = websocket_origins(port)
    # Bokeh reads BOKEH_ALLOW_WS_ORIGIN at each connection and lets it replace the list; a value set
    # here comes first, so the list it reads is this one, the variable's hosts included.
    bokeh_settings.allowed_ws_origin.set_value(origins)

    def page() -> pn.viewable.Viewable:  # Panel calls a plain function once per tab
        app = ExplorerApp(base)
        pn.state.on_session_destroyed(partial(_end_tab, app))
        return app.layout()

    try:
        server = pn.serve(
            {"/": page},
            port=port,
            address=LOCALHOST,
            websocket_origin=origins,
            unused_session_lifetime_milliseconds=SESSION_LIFETIME,
            check_unused_sessions_milliseconds=SESSION_CHECK,
            show=False,
            start=False,
            title=TITLE,
            threaded=False,
            verbose=False,
        )
    except OSError as error:
        raise InputError(
            f"cannot listen on {LOCALHOST}:{port}: {error.strerror}; choose another --port"
        ) from None
    # Panel's own SIGINT handler stops the loop as if the server had finished: put Python's back,
    # so that Ctrl-C ends the command as an interruption (exit 130).
    with contextlib.suppress(ValueError):  # only the main thread can set it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"debtloops explorer at http://{LOCALHOST}:{server.port}/ (Ctrl-C to stop)", flush=True)
    server.start()  # its periodic jobs, the clean-up of closed sessions included
    if show:
        server.show("/")
    try:
        server.io_loop.start()
    finally:
        server.stop()
