"""``debtloops report``: one self-contained HTML file, to read, print on A4, or send by e-mail.

The file is rendered from one Jinja2 template (``templates/report.html.j2``, package data), with
autoescaping: every text from a scenario file, a parameter or a path is escaped by Jinja, and only
what this module builds as markup (inline SVG, Bokeh's script, ``data:`` images) is marked safe.
It holds, for the scenarios asked for, each against its baseline (the same vintage and years, as
``debtloops run`` compares them):

- a summary: one paragraph per scenario written from the run's own headline numbers
  (:mod:`debtloops.app.report_summary`); for the baseline, a sentence that says there is no sale;
- the headline table (:func:`debtloops.outputs.headline_table`);
- for each scenario, charts of its change from the baseline with its sales shaded
  (:mod:`debtloops.figures.extras`), the attribution of that change to the model's mechanisms
  (:mod:`debtloops.attribution`, exact Shapley values) and the fan of debt/GDP under historical
  shocks with the probabilities of crossing 130%, 150% and 200% of GDP, with and without the sale
  (:mod:`debtloops.fan`, :data:`FAN_DRAWS` seeded draws);
- interactive Bokeh charts of the levels (on screen; Bokeh's JavaScript and CSS inline);
- the named feedback loops, the causal-loop and stock-and-flow diagrams (inline SVG) and loop
  dominance; with ``--sweep DIR``, what ``debtloops analyze`` wrote into the folder;
- the validation table of ``debtloops validate`` (:func:`debtloops.validation.fidelity.run_checks`)
  and its two figures;
- the sources of every number: each parameter's value and source (``models/parameters.toml``) and
  the data files' descriptions; then the provenance (commit, model hash, packages, scenario text).

Images are ``data:`` URIs and SVG is inline, so opening the file requests nothing. It is written to

The parts are built by their own modules: the template's building blocks in
:mod:`debtloops.app.report_blocks`, the summary in :mod:`debtloops.app.report_summary`, each
scenario's charts, attribution and fan in :mod:`debtloops.app.report_scenarios`, and the
appendices in :mod:`debtloops.app.report_appendices`. This module runs the scenarios, gathers the
parts and renders the template.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import xarray as xr
from bokeh.embed import components
from bokeh.layouts import gridplot
from bokeh.models.ui.ui_element import UIElement
from bokeh.plotting import figure
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from debtloops import fan as fan_module
from debtloops.app import charts
from debtloops.app.report_appendices import (
    check_sweep_folder,
    loops_section,
    provenance_section,
    sources_section,
    sweep_section,
    validation_section,
)
from debtloops.app.report_blocks import inline_bokeh, table
from debtloops.app.report_scenarios import ScenarioSection, scenario_section
from debtloops.app.report_summary import Number, duration_words, money, month_of, summary
from debtloops.io import atomic_file, output_lock
from debtloops.limits import check_count
from debtloops.model.run import PreparedRun, execute
from debtloops.model.scenarios import REFERENCE
from debtloops.outputs import HEADLINE_DECIMALS, headline, headline_table

__all__ = [
    "FAN_DRAWS",
    "REPORT_NAME",
    "TEMPLATE_NAME",
    "Number",
    "ScenarioSection",
    "build_report",
    "check_sweep_folder",
    "duration_words",
    "environment",
    "inline_bokeh",
    "money",
    "month_of",
    "scenario_section",
    "summary",
    "write_report",
]

REPORT_NAME = "report.html"
#: The template, in this package's ``templates`` folder (shipped as package data).
TEMPLATE_NAME = "report.html.j2"
#: Charts per row in the grid of interactive charts.
CHART_COLUMNS = 3
#: Draws of each scenario's fan [runs] (``--fan-draws`` changes it).
FAN_DRAWS = fan_module.REPORT_DRAWS


def environment() -> Environment:
    """Return the Jinja2 environment of the report's template: autoescaped, strict."""
    return Environment(
        loader=PackageLoader("debtloops.app", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _vintage_choice(run: PreparedRun) -> str | Path | None:
    found = run.vintage
    return None if found is None else found.name if found.shipped else found.folder


def _summaries(
    runs: Mapping[str, xr.Dataset],
    sections: list[ScenarioSection],
    reference: PreparedRun,
    baseline: xr.Dataset,
    headlines: pd.DataFrame,
) -> list[tuple[str, list]]:
    """Return each scenario's summary paragraph, the baseline's in its place among them."""
    summaries: list[tuple[str, list]] = [(s.name, s.summary) for s in sections]
    if REFERENCE in runs:
        reference_summary = summary(REFERENCE, reference, baseline, headlines)
        summaries.insert(list(runs).index(REFERENCE), (REFERENCE, reference_summary))
    return summaries


def _interactive_charts(runs: Mapping[str, xr.Dataset], baseline: xr.Dataset) -> dict:
    """Return the grid of interactive Bokeh charts of the levels: its script and its element."""
    figures: list[figure] = []
    for variable in charts.REPORT_VARIABLES:
        shared = figures[0].x_range if figures else None
        figures.append(charts.comparison_figure(variable, runs, baseline, shared))
    # a list of its own: gridplot takes an invariant list[UIElement | None]
    cells: list[UIElement | None] = list(figures)
    script, grid = components(gridplot(cells, ncols=CHART_COLUMNS))
    return {"bokeh_script": Markup(script), "bokeh_grid": Markup(grid)}


def build_report(
    prepared: Mapping[str, PreparedRun],
    reference: PreparedRun,
    sweep: Path | None = None,
    with_attribution: bool = True,
    fan_draws: int = FAN_DRAWS,
) -> str:
    """Run the scenarios and return the report's HTML text.

    Parameters
    ----------
    prepared : mapping
        The scenarios, validated (:func:`debtloops.model.run.prepare`), by name.
    reference : PreparedRun
        The baseline they are compared with (:func:`debtloops.model.run.reference_for`).
    sweep : Path, optional
        A sweep folder after ``debtloops analyze``.
    with_attribution : bool
        Whether each scenario's change is attributed to the mechanisms.
    fan_draws : int
        Draws of each scenario's fan [runs]; 0 leaves the fan out.

    Returns
    -------
    str
        A complete HTML document that requests nothing when opened.
    """
    if sweep is not None:
        check_sweep_folder(sweep)
    if fan_draws:
        fan_draws = check_count(
            fan_draws, "--fan-draws", fan_module.MIN_DRAWS, fan_module.MAX_DRAWS
        )
    runs = {name: execute(run) for name, run in prepared.items()}
    baseline = runs.get(REFERENCE) or execute(reference)
    headlines = headline_table([headline(name, run, baseline) for name, run in runs.items()])
    sections = [
        scenario_section(
            prepared[name], run, reference, baseline, headlines, with_attribution, fan_draws
        )
        for name, run in runs.items()
        if name != REFERENCE
    ]
    all_runs = {REFERENCE: reference, **prepared}
    context = {
        "scenarios": list(runs),
        "written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "vintage": reference.vintage.name if reference.vintage is not None else None,
        "summaries": _summaries(runs, sections, reference, baseline, headlines),
        "headlines": table(headlines, digits=HEADLINE_DECIMALS),
        "sections": sections,
        "bokeh": inline_bokeh(),
        **_interactive_charts(runs, baseline),
        "loops": loops_section(all_runs),
        "sweep": sweep_section(sweep) if sweep is not None else None,
        "validation": validation_section(_vintage_choice(reference)),
        "sources": sources_section(all_runs),
        "provenance": provenance_section({REFERENCE: baseline, **runs}),
    }
    return environment().get_template(TEMPLATE_NAME).render(context)


def write_report(
    out_dir: Path,
    prepared: Mapping[str, PreparedRun],
    reference: PreparedRun,
    sweep: Path | None = None,
    with_attribution: bool = True,
    fan_draws: int = FAN_DRAWS,
) -> Path:
    """Write ``out_dir/report.html`` atomically, with the output folder locked.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing.
    prepared, reference, sweep, with_attribution, fan_draws
        As for :func:`build_report`.

    Returns
    -------
    Path
        The report's path.
    """
    text = build_report(prepared, reference, sweep, with_attribution, fan_draws)
    target = Path(out_dir) / REPORT_NAME
    with output_lock(Path(out_dir)):
        atomic_file(target, lambda path: path.write_text(text, encoding="utf-8"))
    return target
