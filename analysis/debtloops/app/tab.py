"""One explorer tab: what its widgets do, from a slider's release to the charts, band and drivers.

When a slider is released (Panel's ``value_throttled``) or a switch flips, the tab's
:class:`debtloops.app.session.ExplorerSession` runs the settings afresh in Simlin, and the
headlines, the charts and the scenario TOML are replaced in one batch. The uncertainty band and
loop dominance follow on later ticks, so that they never delay the numbers. The widgets themselves
are built in :mod:`debtloops.app.widgets`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import pandas as pd
import panel as pn

from debtloops.app import charts, controls
from debtloops.app.band import BAND_SAMPLES, uncertainty_band
from debtloops.app.fragments import dominance_html, error_html, headline_html, why_html
from debtloops.app.loop_words import leaders
from debtloops.app.session import (
    DEFAULT_BASE,
    EXPLORER_SCENARIO,
    ExplorerSession,
    Outcome,
    base_scenarios,
    control_names,
    is_switch,
    loop_scores,
    sale_parameters,
)
from debtloops.app.widgets import MAX_PINS, WHY_FAN_DRAWS, TabWidgets, text_of
from debtloops.errors import DebtloopsError, InputError
from debtloops.model.parameters import Value
from debtloops.model.scenarios import NAME_PATTERN
from debtloops.outputs import HEADLINE_DECIMALS, headline_table

#: How long the "why and how likely" work waits, so that its "working" note reaches the page [ms].
WHY_DELAY = 50
#: The current settings' name in the compare charts and table.
CURRENT = "current settings"
#: How long loop dominance waits after the numbers, so that they leave for the page first [ms]: on
#: the next tick it would hold the server before their patch is written.
DOMINANCE_DELAY = 60
#: How long the uncertainty band waits after the numbers [ms]; loop dominance follows it.
BAND_DELAY = 20
MILLISECONDS = 1000.0


def _apply_query(session: ExplorerSession, query: Mapping[str, str]) -> Exception | None:
    """Set a session to the settings of a link; return the first refused one, if any."""
    try:
        base, values = controls.read_query(query, control_names(), base_scenarios())
    except DebtloopsError as error:
        return error
    if base is not None:
        session.set_base(base)
    for name, value in values.items():
        try:
            session.set_value(name, value)
        except DebtloopsError as error:
            return error
    return None


class ExplorerApp(TabWidgets):
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
        session = ExplorerSession(base, cbo=cbo)
        self.generation = 0
        problem = _apply_query(session, query or {})
        super().__init__(session)
        self._wire()
        self.refresh()
        if problem is not None:
            self._error(problem)
        self.figures = charts.explorer_figures(self.source, self.band_source)
        self._draw_compare()
        self._update_band(self.generation)
        self._update_dominance(self.generation)

    def _wire(self) -> None:
        """Attach each widget's callback: a release or flip runs the settings afresh."""
        for index, slider in enumerate(self.sale):
            slider.param.watch(partial(self._on_sale, index), "value_throttled")
        for name, widget in {**self.levers, **self.uncertain}.items():
            event = "value" if isinstance(widget, pn.widgets.Checkbox) else "value_throttled"
            widget.param.watch(partial(self._on_control, name), event)
        self.holder.param.watch(self._on_holder, "value")
        self.base.param.watch(self._on_base, "value")
        self.name.param.watch(self._on_naming, "value")
        self.intent.param.watch(self._on_naming, "value")
        self.show_band.param.watch(self._on_band_switch, "value")
        self.pin.on_click(self._on_pin)
        self.unpin.on_click(self._on_unpin)
        self.why.on_click(self._on_why)

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
        name = text_of(self.name)
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
        self.status.object = error_html(error)

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
            self.band_note.object = error_html(error)
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
            self.dominance_note.object = error_html(error)
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
            self.why_result.object = error_html(error)
            return
        self.why_result.object = why_html(shares, fanned, time.perf_counter() - started)

    def close(self) -> None:
        """Let go of what the tab holds beyond its widgets: its runs and its loaded models."""
        self._session = None
        self.values = None

    def layout(self) -> pn.template.BaseTemplate:
        """Return the tab's page (:meth:`debtloops.app.widgets.TabWidgets.page`) with its charts."""
        return self.page(self.figures)
