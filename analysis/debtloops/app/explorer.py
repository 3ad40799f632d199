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
import tempfile
import time
from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path
from typing import ClassVar

import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, CustomJS, CustomJSTickFormatter
from bokeh.settings import settings as bokeh_settings

from debtloops.app import charts, controls
from debtloops.app.band import BAND_SAMPLES, uncertainty_band
from debtloops.app.loop_words import leaders
from debtloops.app.session import (
    DEFAULT_BASE,
    DEFAULT_INTENT,
    EXPLORER_SCENARIO,
    HOLDERS,
    LEVERS,
    UNCERTAINTIES,
    ExplorerSession,
    Outcome,
    base_scenarios,
    control_names,
    is_switch,
    loop_scores,
    sale_parameters,
)
from debtloops.errors import DebtloopsError, InputError, unknown_name
from debtloops.figures.dashboard import dashboard_figure
from debtloops.figures.labels import LABELS
from debtloops.figures.style import DPI, PAD_INCHES, SOURCE_PREFIX, add_source
from debtloops.model.parameters import Value
from debtloops.model.scenarios import NAME_PATTERN
from debtloops.outputs import HEADLINE_DECIMALS, headline_table

#: The interface the explorer listens on unless ``--address`` names another: it is a local tool,
#: not a public service (docs/howto/explorer.md, Serving the explorer to colleagues).
LOCALHOST = "127.0.0.1"
DEFAULT_PORT = 5006
#: Addresses that listen on every interface: no one host for the pages to come from.
ANY_ADDRESS = ("0.0.0.0", "::")
#: The environment variable that adds hosts (``host[:port]``, comma-separated) to those whose pages
#: may open the explorer's websocket; the explorer's own two addresses always stay. It is Bokeh's
#: own name, which would otherwise replace the list.
ALLOW_ORIGIN_VARIABLE = "BOKEH_ALLOW_WS_ORIGIN"
#: How a slider shows its value (JavaScript): four significant figures, as
#: :func:`debtloops.app.controls.significant` writes them, never ``7e-05`` or ``0.0``.
SIGNIFICANT_JS = (
    f"return tick === 0 ? '0' : String(Number(Number(tick).toPrecision({controls.SIGNIFICANT})));"
)
#: Run once the page is ready and every second after (JavaScript): gives each slider's handle the
#: slider's title as its accessible name (and each checkbox its words, which Bokeh leaves
#: unattached, and a click on them flips it), and has a slider read its value in significant figures
#: (noUiSlider's own text rounds to two decimals, so 0.00007 was read "0.00"). Sliders drawn
#: again (another holder's range) are found on the next round.
ACCESSIBLE_SLIDERS_JS = """
const precise = (v) => {
  const n = Number(v);
  return n === 0 ? '0' : String(Number(n.toPrecision(FIGURES)));
};
const fix = (target) => {
  const slider = target.noUiSlider, handle = target.querySelector('.noUi-handle');
  if (!slider || !handle) return;
  const title = target.getRootNode().querySelector('.bk-slider-title');
  const words = title ? (title.firstChild ? title.firstChild.textContent : title.textContent) : '';
  const name = words.replace(/:\\s*$/, '').trim();
  if (name) handle.setAttribute('aria-label', name);
  if (target.dataset.debtloopsA11y) return;
  target.dataset.debtloopsA11y = '1';
  const say = () => handle.setAttribute('aria-valuetext', precise(slider.get(true)));
  slider.on('update.debtloops', say);
  say();
};
const name = (input) => {
  if (input.getAttribute('aria-label')) return;
  const root = input.getRootNode(), label = input.closest('label');
  const words = (label && label.textContent.trim()) ||
    Array.from(root.querySelectorAll('label, span, .bk-label'))
      .map((e) => e.textContent).join(' ').trim();
  if (words) input.setAttribute('aria-label', words);
  root.querySelectorAll('.bk-label').forEach((words) => {
    words.style.cursor = 'pointer';
    words.addEventListener('click', () => input.click());
  });
};
const visit = (root) => {
  root.querySelectorAll('.noUi-target').forEach(fix);
  root.querySelectorAll('input[type=checkbox]').forEach(name);
  root.querySelectorAll('*').forEach((el) => { if (el.shadowRoot) visit(el.shadowRoot); });
};
visit(document);
if (!window.debtloopsA11y) { window.debtloopsA11y = setInterval(() => visit(document), 1000); }
""".replace("FIGURES", str(controls.SIGNIFICANT))
#: A slider's value formatter (JavaScript): it also starts :data:`ACCESSIBLE_SLIDERS_JS` the
#: first time a slider draws its value, should the page's ready event have come before its script.
SLIDER_FORMAT_JS = (
    "if (!window.debtloopsA11y) { setTimeout(() => { (function () {"
    + ACCESSIBLE_SLIDERS_JS
    + "})(); }, 0); }\n"
    + SIGNIFICANT_JS
)
#: Query keys Bokeh itself adds to a page's address; they are not settings.
BOKEH_KEY_PREFIX = "bokeh-"
#: The page's viewport: the device's width at scale 1 (a phone does not draw a desktop page small).
VIEWPORT = "width=device-width, initial-scale=1"
#: The narrowest a chart is drawn before the charts wrap to another row [CSS pixels].
CHART_MIN_WIDTH = 320
#: The charts' grid: as many columns of at least :data:`CHART_MIN_WIDTH` as the width holds.
CHART_GRID = {
    "display": "grid",
    "grid-template-columns": f"repeat(auto-fill, minmax(min({CHART_MIN_WIDTH}px, 100%), 1fr))",
    "gap": "8px",
}
#: Below this page width the sidebar stands above the main area, in one column [CSS pixels].
ONE_COLUMN_BELOW = 768
#: Shocked runs of the settings and of the baseline in the explorer's fan (``debtloops fan``
#: takes any number; 500 gives probabilities to about 2 points in a few seconds).
WHY_FAN_DRAWS = 500
#: How long the "why and how likely" work waits, so that its "working" note reaches the page [ms].
WHY_DELAY = 50
#: How many settings can be pinned beside the current ones, to compare.
MAX_PINS = 3
#: The current settings' name in the compare charts and table.
CURRENT = "current settings"
#: Where the chart export says its numbers come from, after the explorer's name.
EXPORT_SOURCE = "the current settings (solid) against the baseline (dashed)"
#: How long loop dominance waits after the numbers, so that they leave for the page first [ms]: on
#: the next tick it would hold the server before their patch is written.
DOMINANCE_DELAY = 60
#: How long the uncertainty band waits after the numbers [ms]; loop dominance follows it.
BAND_DELAY = 20
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
.help { font-family: sans-serif; font-size: 12px; color: #444; margin-top: -6px; }
.help summary { cursor: pointer; }
.compare { font-family: sans-serif; font-size: 13px; border-collapse: collapse; width: 100%; }
.compare th, .compare td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: right; }
.compare th:first-child, .compare td:first-child { text-align: left; }
.compare-wrap { overflow-x: auto; max-width: 100%; }
.drivers { display: grid; gap: 8px; font-family: sans-serif; font-size: 13px;
  grid-template-columns: repeat(auto-fill, minmax(min(300px, 100%), 1fr)); }
.drivers .when { font-weight: 600; }
.drivers ol { margin: 4px 0; padding-left: 20px; }
"""


#: The page's own rules: one column on a narrow screen, the page then scrolling as a whole.
_PAGE_CSS = f"""
@media (max-width: {ONE_COLUMN_BELOW - 0.02}px) {{
  html body, html body #container {{ height: auto !important; overflow: visible !important; }}
  html body #content {{ flex-direction: column; flex-wrap: nowrap; height: auto;
                        overflow: visible !important; }}
  html body #content > #sidebar {{ max-width: none !important; width: 100% !important;
    height: auto; overflow: visible; border-right: none;
    border-bottom: 1px solid var(--bs-border-color); }}
  html body #content > #main {{ height: auto; overflow: visible; padding: 10px; }}
}}
"""
#: Slider titles wrap rather than run out of the sidebar.
_WRAP_TITLE = ".bk-slider-title { white-space: normal; }"


class ReleaseSlider(pn.widgets.FloatSlider):
    """A slider whose release is handled at once.

    Panel holds a change from the browser for 50 ms (``_debounce``) to gather the next ones, unless
    the property is a priority change; a release (``value_throttled``) is the last change of a drag.
    """

    _priority_changes: ClassVar[list[str]] = ["value_throttled"]


class PromptCheckbox(pn.widgets.Checkbox):
    """An on/off control whose flip is handled at once (see :class:`ReleaseSlider`).

    A native checkbox inside its ``<label>``: a click on the words flips it, and the words are
    its accessible name.
    """

    _priority_changes: ClassVar[list[str]] = ["value"]


def _error_html(error: Exception) -> str:
    return f'<div class="status error" role="alert">{html.escape(str(error))}</div>'


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


def dominance_html(periods) -> str:
    """Return the mechanisms that matter most in each period as headed lists.

    ``periods`` is :func:`debtloops.app.loop_words.leaders`'s result.
    """
    blocks = []
    for start, end, found in periods:
        items = (
            "".join(
                f"<li><b>{html.escape(leader.name)}</b> ({leader.share:.0%} of loop activity; "
                f"{html.escape(', '.join(leader.loops))}): {html.escape(leader.explanation)}</li>"
                for leader in found
            )
            or "<li>no loop active</li>"
        )
        blocks.append(
            f'<div class="period"><div class="when">FY{start:.0f} to FY{end:.0f}</div>'
            f"<ol>{items}</ol></div>"
        )
    return f'<div class="drivers">{"".join(blocks)}</div>'


def why_html(shares, fanned, seconds: float) -> str:
    """Return the attribution's shares and the fan's threshold probabilities as two tables.

    Parameters
    ----------
    shares : xarray.Dataset
        :func:`debtloops.attribution.attribute`'s result.
    fanned : xarray.Dataset
        :func:`debtloops.fan.fan`'s result.
    seconds : float
        The time both took [s].
    """
    from debtloops.attribution import attribution_table
    from debtloops.fan import CASES, PERCENT

    table = attribution_table(shares)
    table = table[[c for c in table.columns if not c.startswith("standard error")]]
    table.index = [str(name).replace("_", " ") for name in table.index]  # words, not ids
    probability = (
        PERCENT
        * fanned["probability_by_year"]
        .to_dataframe()["probability_by_year"]
        .unstack("case")[list(CASES)]
    )
    probability.index = [f"debt/GDP above {PERCENT * t:g}% by {y}" for t, y in probability.index]
    probability.columns = ["these settings [%]", "baseline [%]"]

    def shown(frame: pd.DataFrame) -> str:
        return (
            '<div class="compare-wrap">'
            + frame.to_html(classes="compare", float_format=lambda x: f"{x:,.1f}", border=0)
            + "</div>"
        )

    return (
        f"<h4>Attribution: the extra over the baseline, by mechanism</h4>{shown(table)}"
        f"<h4>How likely: the fan's threshold probabilities</h4>{shown(probability)}"
        f'<div class="status">{seconds:.1f} s</div>'
    )


def results_frame(outcome) -> pd.DataFrame:
    """Return the charted paths of a run and its baseline, one column each, as the CSV export.

    Columns are named ``<title> [<units>], settings`` and ``..., baseline``, in the charts' units;
    the index is ``time [fiscal year]``.
    """
    columns = charts.explorer_columns(outcome.scenario, outcome.baseline)
    frame = pd.DataFrame(index=pd.Index(columns["time"], name="time [fiscal year]"))
    for panel in charts.EXPLORER_PANELS:
        for name in panel.variables:
            title = LABELS[name].title if name in LABELS else name
            shown = f"{title} [{panel.label.units}]"
            frame[f"{shown}, settings"] = columns[name]
            frame[f"{shown}, baseline"] = columns[name + charts.BASELINE_SUFFIX]
    return frame


def chart_file(outcome, kind: str) -> io.BytesIO:
    """Draw the run against its baseline in the house style, as a PNG or SVG file in memory.

    Parameters
    ----------
    outcome : Outcome
        The current update.
    kind : str
        ``"png"`` or ``"svg"``.
    """
    figure = dashboard_figure(outcome.scenario, outcome.baseline)
    add_source(figure, f"{SOURCE_PREFIX}debtloops explorer, {EXPORT_SOURCE}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind, dpi=DPI, bbox_inches="tight", pad_inches=PAD_INCHES)
    buffer.seek(0)
    return buffer


class ExplorerApp:
    """One browser tab of the explorer: its widgets, charts and session.

    Parameters
    ----------
    base : str
        The shipped scenario the tab opens on, unless the query names another.
    query : mapping, optional
        The page's query, e.g. ``{"japan_sale_amount": "300"}`` (see
        :func:`debtloops.app.controls.read_query`); a refused setting is shown and left out.
    cbo : str or Path, optional
        The CBO vintage of the tab's runs and of its baseline (``--cbo``).
    """

    #: The parameter values of the latest run; None once the tab is closed.
    values: dict[str, Value] | None

    def __init__(
        self,
        base: str = DEFAULT_BASE,
        query: Mapping[str, str] | None = None,
        cbo: str | Path | None = None,
    ) -> None:
        self._session: ExplorerSession | None = ExplorerSession(base, cbo=cbo)
        self.generation = 0
        self.outcome: Outcome | None = None
        problem = self._apply_query(query or {})
        table = self.session.table
        self.base = pn.widgets.Select(
            label="Start from scenario",
            options=base_scenarios(),
            value=self.session.base,
            description="A shipped scenario; every control starts at its values. "
            "Source: models/scenarios.",
            sizing_mode="stretch_width",
        )
        self.holder = pn.widgets.RadioButtonGroup(
            label="Seller", options=list(HOLDERS), value=self._initial_holder()
        )
        self.sale = [self._slider(name) for name in sale_parameters(self.holder.value)]
        self.levers = {
            name: (
                PromptCheckbox(label=controls.label(name), value=bool(self.session.value(name)))
                if is_switch(table, name)
                else self._slider(name)
            )
            for name in LEVERS
        }
        self.uncertain = {name: self._slider(name) for name in UNCERTAINTIES}
        for index, slider in enumerate(self.sale):
            slider.param.watch(partial(self._on_sale, index), "value_throttled")
        for name, widget in {**self.levers, **self.uncertain}.items():
            event = "value" if isinstance(widget, pn.widgets.Checkbox) else "value_throttled"
            widget.param.watch(partial(self._on_control, name), event)
        self.holder.param.watch(self._on_holder, "value")
        self.base.param.watch(self._on_base, "value")

        self.headlines = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.status = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.name = pn.widgets.TextInput(
            label="Scenario name (of the file and its output folder)",
            value=EXPLORER_SCENARIO,
            sizing_mode="stretch_width",
        )
        self.intent = pn.widgets.TextInput(
            label="Intent", value=DEFAULT_INTENT, sizing_mode="stretch_width"
        )
        self.name.param.watch(self._on_naming, "value")
        self.intent.param.watch(self._on_naming, "value")
        self.toml = pn.widgets.TextAreaInput(
            label="Scenario TOML (the current settings)", height=220, sizing_mode="stretch_width"
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
        self.exports = [
            pn.widgets.FileDownload(
                callback=self._csv_file, filename="explorer.csv", label="results (CSV)"
            ),
            pn.widgets.FileDownload(
                callback=partial(self._chart_file, "png"),
                filename="explorer.png",
                label="charts (PNG)",
            ),
            pn.widgets.FileDownload(
                callback=partial(self._chart_file, "svg"),
                filename="explorer.svg",
                label="charts (SVG)",
            ),
        ]
        self.source = ColumnDataSource({})
        self.band_source = ColumnDataSource(charts.band_columns(None))
        self.band_note = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.band_runs = 0
        self.show_band = PromptCheckbox(
            label=f"Uncertainty band (5-95% of {BAND_SAMPLES} runs)", value=True
        )
        self.show_band.param.watch(self._on_band_switch, "value")
        self.pins: list[tuple[str, Outcome]] = []
        self.pin = pn.widgets.Button(label="pin these settings", color="primary")
        self.unpin = pn.widgets.Button(label="clear pins")
        self.pin.on_click(self._on_pin)
        self.unpin.on_click(self._on_unpin)
        self.compare_table = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.compare_source = ColumnDataSource({})
        self.compare_charts = pn.Column(styles=CHART_GRID, sizing_mode="stretch_width")
        self.dominance_note = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.dominance = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.why = pn.widgets.Button(label="attribute and fan these settings")
        self.why.on_click(self._on_why)
        self.why_result = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.refresh()
        if problem is not None:
            self._error(problem)
        self.figures = charts.explorer_figures(self.source, self.band_source)
        self._draw_compare()
        self._update_band(self.generation)
        self._update_dominance(self.generation)

    def _apply_query(self, query: Mapping[str, str]) -> Exception | None:
        """Open on the settings of a link; return the first refused one, if any."""
        try:
            base, values = controls.read_query(query, control_names(), base_scenarios())
        except DebtloopsError as error:
            return error
        if base is not None:
            self.session.set_base(base)
        for name, value in values.items():
            try:
                self.session.set_value(name, value)
            except DebtloopsError as error:
                return error
        return None

    def _initial_holder(self) -> str:
        """Open on the holder whose sale the settings make (the largest), else the first."""
        sizes = {holder: self.session.value(sale_parameters(holder)[0]) for holder in HOLDERS}
        return max(sizes, key=lambda holder: sizes[holder])

    def _slider_options(self, name: str) -> dict[str, object]:
        """Return a slider's label, range and step for a parameter, and its value."""
        param = self.session.table[name]
        return {
            "label": controls.label(name),
            "start": param.low,
            "end": param.high,
            "step": controls.control_text(name).step,
            "value": self.session.value(name),
        }

    def _slider(self, name: str) -> ReleaseSlider:
        return ReleaseSlider(
            **self._slider_options(name),
            format=CustomJSTickFormatter(code=SLIDER_FORMAT_JS),
            sizing_mode="stretch_width",
            stylesheets=[_WRAP_TITLE],
        )

    def _on_sale(self, index: int, event) -> None:
        name = sale_parameters(self.holder.value)[index]
        self._set(name, self._stepped(name, event.new))

    def _on_control(self, name: str, event) -> None:
        value = float(event.new)
        self._set(
            name, value if is_switch(self.session.table, name) else self._stepped(name, value)
        )

    def _stepped(self, name: str, value: float) -> float:
        param = self.session.table[name]
        return controls.round_to_step(
            value, controls.control_text(name).step, param.low, param.high
        )

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
            slider.param.update(**self._slider_options(name))

    def _on_base(self, event) -> None:
        """Start again from another scenario: every control shows that scenario's value."""
        self.session.set_base(event.new)
        self.holder.value = self._initial_holder()
        self._show_holder(self.holder.value)
        for name, widget in {**self.levers, **self.uncertain}.items():
            value = self.session.value(name)
            widget.value = bool(value) if isinstance(widget, pn.widgets.Checkbox) else value
        self.refresh()
        self._schedule_dominance()

    @property
    def session(self) -> ExplorerSession:
        """The tab's settings and runs, until the tab is closed."""
        if self._session is None:
            raise RuntimeError("the explorer tab is closed: it has no session")
        return self._session

    def _scenario_text(self) -> str:
        return self.session.scenario_toml(_text(self.name), _text(self.intent))

    def _toml_file(self) -> io.StringIO:
        return io.StringIO(self._scenario_text())

    def _csv_file(self) -> io.StringIO:
        return io.StringIO(results_frame(self.outcome).to_csv())

    def _chart_file(self, kind: str) -> io.BytesIO:
        return chart_file(self.outcome, kind)

    def pin_label(self) -> str:
        """Name the current settings for the compare table: the base and each moved value."""
        table = self.session.table
        moved = ", ".join(
            f"{controls.control_text(name).label.lower()} "
            + (
                ("on" if value else "off")
                if is_switch(table, name)
                else controls.significant(value)
            )
            for name, value in sorted(self.session.overrides.items())
        )
        return f"{self.session.base}: {moved}" if moved else self.session.base

    def _on_pin(self, event=None) -> None:
        """Keep the current settings beside the next ones, up to :data:`MAX_PINS`."""
        label = self.pin_label()
        if self.outcome is None or any(name == label for name, _ in self.pins):
            self._error(InputError(f"these settings are pinned already: {label}"))
            return
        if len(self.pins) == MAX_PINS:
            self._error(
                InputError(f"at most {MAX_PINS} settings can be pinned; clear the pins first")
            )
            return
        self.pins.append((label, self.outcome))
        self._draw_compare()

    def _on_unpin(self, event=None) -> None:
        self.pins.clear()
        self._draw_compare()

    def _compared(self) -> dict[str, Outcome]:
        """Return the outcomes compared: the current settings', then each pin's."""
        if self.outcome is None:
            raise RuntimeError("nothing to compare: no run of the settings has finished")
        return {CURRENT: self.outcome, **dict(self.pins)}

    def _update_compare(self) -> None:
        """Refresh the compare table and charts' data for the current settings."""
        compared = self._compared()
        self.compare_source.data = charts.extra_columns(
            {name: (outcome.scenario, outcome.baseline) for name, outcome in compared.items()}
        )
        table = headline_table([outcome.headline for outcome in compared.values()])
        table.index = pd.Index(list(compared))
        self.compare_table.object = (
            '<div class="compare-wrap">'
            + table.to_html(
                classes="compare",
                float_format=lambda x: f"{x:,.{HEADLINE_DECIMALS}f}",
                border=0,
            )
            + "</div>"
        )
        self.unpin.disabled = not self.pins
        self.pin.disabled = len(self.pins) >= MAX_PINS

    def _draw_compare(self) -> None:
        """Draw the compare charts again for the pins there are now."""
        with pn.io.hold():  # the new columns and the charts that draw them, in one message
            self._update_compare()
            figures = charts.compare_figures(self.compare_source, list(self._compared()))
            self.compare_charts.objects = [
                pn.pane.Bokeh(figure, sizing_mode="stretch_width") for figure in figures
            ]

    def _on_naming(self, event) -> None:
        """Write the new name or intent into the TOML, and name the file after a valid name."""
        self.toml.value = self._scenario_text()
        name = _text(self.name)
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

    def query(self) -> str:
        """Return the query string that reopens this view (see :func:`controls.write_query`)."""
        return controls.write_query(self.session.base, self.session.overrides)

    def refresh(self) -> None:
        """Run the current settings; replace the headlines, charts, TOML and link in one batch."""
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
            if pn.state.location is not None:
                pn.state.location.search = self.query()
            self.outcome = outcome
            self._update_compare()
        self.generation += 1
        self.values = outcome.values

    def _schedule_dominance(self) -> None:
        """Draw the band and score the loops a moment later, once the numbers are on the page."""
        for method, delay in (
            (self._update_band, BAND_DELAY),
            (self._update_dominance, DOMINANCE_DELAY),
        ):
            callback = partial(method, self.generation)
            document = pn.state.curdoc
            if document is None or document.session_context is None:
                callback()  # no server: nothing to wait for
            else:
                document.add_timeout_callback(callback, delay)

    def _on_band_switch(self, event) -> None:
        self._update_band(self.generation)

    def _update_band(self, generation: int) -> None:
        """Draw the band of the latest run, unless a newer run or a closed tab made it moot."""
        if generation != self.generation or self._session is None or self.values is None:
            return
        if not self.show_band.value:
            self.band_source.data = charts.band_columns(None)
            self.band_note.object = ""
            return
        started = time.perf_counter()
        try:
            band = uncertainty_band(self.values, self.session.uncertain_overrides())
        except DebtloopsError as error:
            self.band_note.object = _error_html(error)
            return
        self.band_source.data = charts.band_columns(band)
        self.band_runs += 1
        seconds = time.perf_counter() - started
        self.band_note.object = (
            f'<div class="status" id="band-time" data-band="{self.band_runs}" '
            f'data-generation="{generation}">'
            f"Shaded: 5-95% of {BAND_SAMPLES} runs over the uncertain parameters' ranges "
            f"(models/sweeps/core_uncertainty.toml; those moved here are held): "
            f"{seconds * MILLISECONDS:.0f} ms</div>"
        )

    def _update_dominance(self, generation: int) -> None:
        """Say which mechanisms drive the latest run, unless a newer run or closed tab made it moot.

        The three that matter most in each period, in words (see :mod:`loop_words`).
        """
        if generation != self.generation or self._session is None or self.values is None:
            return
        started = time.perf_counter()
        try:
            periods = leaders(loop_scores(self.values))
        except DebtloopsError as error:
            self.dominance_note.object = _error_html(error)
            return
        seconds = time.perf_counter() - started
        self.dominance.object = dominance_html(periods)
        self.dominance_note.object = (
            f'<div class="status" id="words-time" data-generation="{generation}">'
            "Loops That Matter (Simlin) over the inventory's named loops "
            f"(models/README.md), gathered by mechanism: {seconds * MILLISECONDS:.0f} ms</div>"
        )

    def _on_why(self, event=None) -> None:
        """Attribute the settings and draw their fan, after saying so on the page."""
        self.why_result.object = (
            '<div class="status">Working: 4,096 runs of the mechanisms and '
            f"{2 * WHY_FAN_DRAWS} shocked runs, some seconds...</div>"
        )
        document = pn.state.curdoc
        if document is None or document.session_context is None:
            self._why()
        else:
            document.add_timeout_callback(self._why, WHY_DELAY)

    def _why(self) -> None:
        """Fill the "why and how likely" section for the current settings (see :func:`why_html`)."""
        from debtloops.attribution import attribute
        from debtloops.fan import fan

        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="debtloops-explorer-") as folder:
                path = Path(folder) / f"{EXPLORER_SCENARIO}.toml"
                path.write_text(self.session.scenario_toml(), encoding="utf-8")
                shares = attribute(str(path))
                fanned = fan(str(path), WHY_FAN_DRAWS)
        except DebtloopsError as error:
            self.why_result.object = _error_html(error)
            return
        self.why_result.object = why_html(shares, fanned, time.perf_counter() - started)

    def close(self) -> None:
        """Let go of what the tab holds beyond its widgets: its runs and its loaded models."""
        self._session = None
        self.values = None

    def _help(self, name: str) -> pn.pane.HTML:
        """Return a control's one-line help, which opens on its source from the parameter table."""
        text = html.escape(controls.control_text(name).help)
        source = html.escape(self.session.table[name].source)
        return pn.pane.HTML(
            f'<details class="help"><summary>{text}</summary>Source: {source}</details>',
            stylesheets=[_CSS],
            sizing_mode="stretch_width",
        )

    def _with_help(self, names, widgets) -> list:
        return [item for name, widget in zip(names, widgets, strict=True) for item in
                (widget, self._help(name))]  # fmt: skip

    def layout(self) -> pn.template.BaseTemplate:
        """Return the page: the controls in the sidebar, the numbers and charts in the main area.

        A Bootstrap template with a viewport tag: on a phone the sidebar folds away behind the
        menu button and everything stands in one column; the charts wrap, two or three to a row
        on wider screens, and stretch to the width they are given.
        """
        sale_names = sale_parameters(self.holder.value)
        sidebar = [
            self.base,
            pn.pane.Markdown("### Sale"),
            self.holder,
            *self._with_help(sale_names, self.sale),
            pn.pane.Markdown("### Policy levers"),
            *self._with_help(LEVERS, self.levers.values()),
            pn.pane.Markdown("### Uncertain parameters"),
            *self._with_help(UNCERTAINTIES, self.uncertain.values()),
        ]
        chart_panes = [pn.pane.Bokeh(chart, sizing_mode="stretch_width") for chart in self.figures]
        main = [
            pn.pane.Markdown(
                "Headlines against the baseline (under the same uncertain parameters), as "
                "`debtloops run` prints them",
                sizing_mode="stretch_width",
            ),
            self.headlines,
            self.status,
            self.show_band,
            self.band_note,
            pn.Column(*chart_panes, styles=CHART_GRID, sizing_mode="stretch_width"),
            pn.pane.Markdown("### What drives it", sizing_mode="stretch_width"),
            self.dominance,
            self.dominance_note,
            pn.pane.Markdown(
                "### Why, and how likely\n\nWhich mechanism carries the extra over the baseline "
                "(`debtloops attribute`: Shapley shares over the mechanism switches), and how "
                f"likely debt/GDP is to cross 130%, 150% and 200% (`debtloops fan`, "
                f"{WHY_FAN_DRAWS} draws of historical shocks to growth, inflation, rates and the "
                "primary balance). Against the baseline at the table's values.",
                sizing_mode="stretch_width",
            ),
            self.why,
            self.why_result,
            pn.pane.Markdown(
                f"### Compare\n\nPin up to {MAX_PINS} settings to see them beside the current "
                "ones, each as its extra over its baseline.",
                sizing_mode="stretch_width",
            ),
            pn.Row(self.pin, self.unpin),
            self.compare_table,
            self.compare_charts,
            pn.pane.Markdown("### Share and export", sizing_mode="stretch_width"),
            pn.FlexBox(*self.exports, self.copy, self.download, flex_wrap="wrap"),
            self.name,
            self.intent,
            self.toml,
        ]
        template = pn.template.BootstrapTemplate(
            title=TITLE,
            sidebar=sidebar,
            main=main,
            sidebar_width=SIDEBAR_WIDTH,
            meta_viewport=VIEWPORT,
        )
        template.config.raw_css.append(_PAGE_CSS)
        return template


def _text(widget: pn.widgets.TextInput) -> str:
    """Return a text box's text; Panel allows None there, which the page never sends."""
    text = widget.value
    if text is None:
        raise TypeError(f"the text box '{widget.label}' holds None, not text")
    return text


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


def page_query(arguments: Mapping[str, list[bytes]]) -> dict[str, str]:
    """Return a page's query as text, the last value of each key, leaving out Bokeh's own keys."""
    return {
        key: values[-1].decode("utf-8", "replace")
        for key, values in arguments.items()
        if values and not key.startswith(BOKEH_KEY_PREFIX)
    }


def websocket_origins(
    port: int, environ: Mapping[str, str] = os.environ, address: str = LOCALHOST
) -> list[str]:
    """Return the hosts whose pages may open the explorer's websocket.

    Parameters
    ----------
    port : int
        The port the explorer listens on.
    environ : mapping
        The environment; :data:`ALLOW_ORIGIN_VARIABLE` in it adds hosts.
    address : str
        The interface listened on; a specific one (not ``0.0.0.0`` or ``::``) is added as
        ``ADDRESS:PORT``, the address colleagues' pages come from.

    Returns
    -------
    list of str
        ``127.0.0.1:PORT`` and ``localhost:PORT``, the address's, then each host of
        :data:`ALLOW_ORIGIN_VARIABLE` (e.g. ``localhost:8080,devbox:5006``, for a page reached
        through a tunnel or proxy), lower-cased, once each.
    """
    local = [f"{LOCALHOST}:{port}", f"localhost:{port}"]
    if address not in ANY_ADDRESS:
        local.append(f"[{address}]:{port}" if ":" in address else f"{address}:{port}")
    added = [host.strip().lower() for host in environ.get(ALLOW_ORIGIN_VARIABLE, "").split(",")]
    return list(dict.fromkeys([*local, *(host for host in added if host)]))


def serve(
    port: int = DEFAULT_PORT,
    base: str = DEFAULT_BASE,
    show: bool = False,
    cbo: str | Path | None = None,
    address: str = LOCALHOST,
) -> None:
    """Serve the explorer at ``http://ADDRESS:PORT/`` until interrupted.

    Parameters
    ----------
    port : int
        The TCP port, 1 to 65535; the websocket accepts only pages served from it, and from the
        hosts that ``BOKEH_ALLOW_WS_ORIGIN`` adds (see :func:`websocket_origins`).
    base : str
        The shipped scenario each new tab opens on.
    show : bool
        Open the page in the default browser.
    cbo : str or Path, optional
        The CBO vintage of every run and of the baseline they are compared with (``--cbo``).
    address : str
        The interface to listen on: 127.0.0.1 (this machine only) by default; another address
        serves colleagues on its network, with no login (docs/howto/explorer.md, "Serving the
        explorer to colleagues").
    """
    if base not in base_scenarios():
        raise unknown_name("scenario", base, base_scenarios())
    pn.extension(inline=True)

    origins = websocket_origins(port, address=address)
    # Bokeh reads BOKEH_ALLOW_WS_ORIGIN at each connection and lets it replace the list; a value set
    # here comes first, so the list it reads is this one, the variable's hosts included.
    bokeh_settings.allowed_ws_origin.set_value(origins)

    def page() -> pn.template.BaseTemplate:  # Panel calls a plain function once per tab
        app = ExplorerApp(base, page_query(pn.state.session_args), cbo)
        pn.state.on_session_destroyed(partial(_end_tab, app))
        document = pn.state.curdoc
        if document is None:  # Panel calls page() within a session, which has its document
            raise RuntimeError("the explorer's page was built outside a Bokeh session")
        document.js_on_event("document_ready", CustomJS(code=ACCESSIBLE_SLIDERS_JS))
        return app.layout()

    try:
        server = pn.serve(
            {"/": page},
            port=port,
            address=address,
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
            f"cannot listen on {address}:{port}: {error.strerror}; choose another --port "
            "or --address"
        ) from None
    # Panel's own SIGINT handler stops the loop as if the server had finished: put Python's back,
    # so that Ctrl-C ends the command as an interruption (exit 130).
    with contextlib.suppress(ValueError):  # only the main thread can set it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    shown = f"[{address}]" if ":" in address else address
    print(f"debtloops explorer at http://{shown}:{server.port}/ (Ctrl-C to stop)", flush=True)
    server.start()  # its periodic jobs, the clean-up of closed sessions included
    if show:
        server.show("/")
    try:
        server.io_loop.start()
    finally:
        server.stop()
