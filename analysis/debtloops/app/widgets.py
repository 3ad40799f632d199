"""The widgets and the page of one explorer tab, before any callback is attached.

:class:`TabWidgets` builds the sidebar's controls at the session's values, the panes the results
are written into, the share and export buttons, and lays them out in a Bootstrap page.
:class:`debtloops.app.tab.ExplorerApp` adds what the widgets do.
"""

from __future__ import annotations

import html
import io
from functools import partial
from typing import ClassVar

import panel as pn
from bokeh.models import ColumnDataSource, CustomJSTickFormatter

from debtloops.app import charts, controls, export
from debtloops.app.assets import (
    CHART_GRID,
    CSS,
    PAGE_CSS,
    SLIDER_FORMAT_JS,
    VIEWPORT,
    WRAP_TITLE_CSS,
)
from debtloops.app.band import BAND_SAMPLES
from debtloops.app.session import (
    DEFAULT_INTENT,
    EXPLORER_SCENARIO,
    HOLDERS,
    LEVERS,
    UNCERTAINTIES,
    ExplorerSession,
    Outcome,
    base_scenarios,
    is_switch,
    sale_parameters,
)

#: Shocked runs of the settings and of the baseline in the explorer's fan (``debtloops fan``
#: takes any number; 500 gives probabilities to about 2 points in a few seconds).
WHY_FAN_DRAWS = 500
#: How many settings can be pinned beside the current ones, to compare.
MAX_PINS = 3
#: The sidebar's width [CSS pixels].
SIDEBAR_WIDTH = 330
#: The page's title.
TITLE = "debtloops explorer"


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


def _pane() -> pn.pane.HTML:
    """Return an empty HTML pane in the explorer's style, as wide as its column."""
    return pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")


def text_of(widget: pn.widgets.TextInput) -> str:
    """Return a text box's text; Panel allows None there, which the page never sends."""
    text = widget.value
    if text is None:
        raise TypeError(f"the text box '{widget.label}' holds None, not text")
    return text


class TabWidgets:
    """The widgets of one explorer tab, at its session's values, and the page that holds them.

    Parameters
    ----------
    session : ExplorerSession
        The tab's settings and runs; the controls open on its values.
    """

    #: The latest update, which the exports write; None until a run has finished.
    outcome: Outcome | None

    def __init__(self, session: ExplorerSession) -> None:
        self._session: ExplorerSession | None = session
        self.outcome = None
        self._build_controls()
        self._build_results()
        self._build_sharing()
        self._build_compare()

    @property
    def session(self) -> ExplorerSession:
        """The tab's settings and runs, until the tab is closed."""
        if self._session is None:
            raise RuntimeError("the explorer tab is closed: it has no session")
        return self._session

    def _build_controls(self) -> None:
        """Build the sidebar: the base scenario, the seller, a control for each parameter."""
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

    def _build_results(self) -> None:
        """Build the panes the numbers, the band, the drivers and the "why" are written into."""
        self.headlines = _pane()
        self.status = _pane()
        self.source = ColumnDataSource({})
        self.band_source = ColumnDataSource(charts.band_columns(None))
        self.band_note = _pane()
        self.band_runs = 0
        self.show_band = PromptCheckbox(
            label=f"Uncertainty band (5-95% of {BAND_SAMPLES} runs)", value=True
        )
        self.dominance_note = _pane()
        self.dominance = _pane()
        self.why = pn.widgets.Button(label="attribute and fan these settings")
        self.why_result = _pane()

    def _build_sharing(self) -> None:
        """Build the scenario's name, intent and TOML, and the copy and download buttons."""
        self.name = pn.widgets.TextInput(
            label="Scenario name (of the file and its output folder)",
            value=EXPLORER_SCENARIO,
            sizing_mode="stretch_width",
        )
        self.intent = pn.widgets.TextInput(
            label="Intent", value=DEFAULT_INTENT, sizing_mode="stretch_width"
        )
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

    def _build_compare(self) -> None:
        """Build the pin buttons and the compare table and charts."""
        self.pins: list[tuple[str, Outcome]] = []
        self.pin = pn.widgets.Button(label="pin these settings", color="primary")
        self.unpin = pn.widgets.Button(label="clear pins")
        self.compare_table = _pane()
        self.compare_source = ColumnDataSource({})
        self.compare_charts = pn.Column(styles=CHART_GRID, sizing_mode="stretch_width")

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
            stylesheets=[WRAP_TITLE_CSS],
        )

    def _scenario_text(self) -> str:
        return self.session.scenario_toml(text_of(self.name), text_of(self.intent))

    def _toml_file(self) -> io.StringIO:
        return io.StringIO(self._scenario_text())

    def _csv_file(self) -> io.StringIO:
        return io.StringIO(export.results_frame(self.outcome).to_csv())

    def _chart_file(self, kind: str) -> io.BytesIO:
        return export.chart_file(self.outcome, kind)

    def _help(self, name: str) -> pn.pane.HTML:
        """Return a control's one-line help, which opens on its source from the parameter table."""
        text = html.escape(controls.control_text(name).help)
        source = html.escape(self.session.table[name].source)
        return pn.pane.HTML(
            f'<details class="help"><summary>{text}</summary>Source: {source}</details>',
            stylesheets=[CSS],
            sizing_mode="stretch_width",
        )

    def _with_help(self, names, widgets) -> list:
        return [item for name, widget in zip(names, widgets, strict=True) for item in
                (widget, self._help(name))]  # fmt: skip

    def _sidebar(self) -> list:
        """Return the sidebar's items: the base, the sale, the levers, the uncertain parameters."""
        return [
            self.base,
            pn.pane.Markdown("### Sale"),
            self.holder,
            *self._with_help(sale_parameters(self.holder.value), self.sale),
            pn.pane.Markdown("### Policy levers"),
            *self._with_help(LEVERS, self.levers.values()),
            pn.pane.Markdown("### Uncertain parameters"),
            *self._with_help(UNCERTAINTIES, self.uncertain.values()),
        ]

    def _main(self, figures: list) -> list:
        """Return the main area's items: the numbers and charts, then each section below them."""
        chart_panes = [pn.pane.Bokeh(chart, sizing_mode="stretch_width") for chart in figures]
        return [
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

    def page(self, figures: list) -> pn.template.BaseTemplate:
        """Return the page: the controls in the sidebar, the numbers and ``figures`` in the main.

        A Bootstrap template with a viewport tag: on a phone the sidebar folds away behind the
        menu button and everything stands in one column; the charts wrap, two or three to a row
        on wider screens, and stretch to the width they are given.
        """
        template = pn.template.BootstrapTemplate(
            title=TITLE,
            sidebar=self._sidebar(),
            main=self._main(figures),
            sidebar_width=SIDEBAR_WIDTH,
            meta_viewport=VIEWPORT,
        )
        template.config.raw_css.append(PAGE_CSS)
        return template
