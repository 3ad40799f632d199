"""``debtloops report``: one self-contained HTML file, to read, print on A4, or send by e-mail.

The file is rendered from one Jinja2 template (``templates/report.html.j2``, package data), with
autoescaping: every text from a scenario file, a parameter or a path is escaped by Jinja, and only
what this module builds as markup (inline SVG, Bokeh's script, ``data:`` images) is marked safe.
It holds, for the scenarios asked for, each against its baseline (the same vintage and years, as
``debtloops run`` compares them):

- a summary: one paragraph per scenario written from the run's own headline numbers
  (:func:`summary`); for the baseline, a sentence that says there is no sale;
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
a temporary file and renamed into place, with the output folder locked (:mod:`debtloops.io`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xarray as xr
from bokeh.embed import components
from bokeh.layouts import gridplot
from bokeh.models.ui.ui_element import UIElement
from bokeh.plotting import figure
from bokeh.resources import Resources
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from debtloops import fan as fan_module
from debtloops.app import charts
from debtloops.app.session import dominant_years, loop_dominance_table
from debtloops.attribution import OUTCOMES as ATTRIBUTION_OUTCOMES
from debtloops.attribution import attribute, attribution_table
from debtloops.errors import InputError, SimulationError
from debtloops.figures import diagrams
from debtloops.figures.attribution import plot_waterfall
from debtloops.figures.extras import SELLERS, SaleWindow, plot_extras, sale_windows
from debtloops.figures.fan import plot_fan
from debtloops.io import atomic_file, output_lock
from debtloops.limits import check_count
from debtloops.loops.graph import causal_graph, loop_polarity, measure_polarities
from debtloops.loops.inventory import read_inventory
from debtloops.model.parameters import load_parameters
from debtloops.model.run import PreparedRun, execute
from debtloops.model.scenarios import REFERENCE, describe
from debtloops.outputs import HEADLINE_DECIMALS, headline, headline_table
from debtloops.paths import DATA_DIR, MODELS_DIR, PARAMETER_TABLE
from debtloops.provenance import provenance_attrs
from debtloops.validation.checks import number_text

REPORT_NAME = "report.html"
#: The template, in this package's ``templates`` folder (shipped as package data).
TEMPLATE_NAME = "report.html.j2"
#: Bokeh's JavaScript and CSS, inline; only the core library (the charts use no widgets, tables,
#: WebGL or MathJax, which would add 3.7 MB).
BOKEH_RESOURCES = Resources(mode="inline", components=["bokeh"])
#: Charts per row in the grid of interactive charts.
CHART_COLUMNS = 3
#: Loops shown per scenario in the dominance tables.
DOMINANCE_TOP = 8
#: A table of a sweep's netCDF file is shown only up to this many cells; larger ones are listed.
MAX_TABLE_CELLS = 2_000
#: Rows of a sweep CSV shown (the rest are counted).
MAX_CSV_ROWS = 200
#: What a sweep folder must hold for the report: the outputs of ``debtloops analyze``.
SWEEP_PATTERNS = ("*.png", "*.csv", "*.nc")
#: Draws of each scenario's fan [runs] (``--fan-draws`` changes it).
FAN_DRAWS = fan_module.REPORT_DRAWS
#: The fan's thresholds [percent of GDP] and years [fiscal year]: those of ``debtloops fan``,
#: the years kept within the run's projected years.
FAN_THRESHOLDS = fan_module.DEFAULT_THRESHOLDS
FAN_YEARS = fan_module.DEFAULT_YEARS
#: The fan's outcomes charted: debt/GDP, which the probabilities are about, and the 10-year
#: (two panels fit an A4 page).
FAN_CHARTED = ("debt_to_gdp", "ten_year_yield")
#: The threshold and year the fan's sentence quotes, when the run reaches that year.
FAN_QUOTED = (150.0, 2040)
#: The attribution's outcomes charted (two panels fit an A4 page; the table has every outcome).
ATTRIBUTION_CHARTED = ("extra_interest", "peak_extra_yield")
#: Mechanisms the summary names: the largest shares of the extra interest; none when every
#: share is below the smallest amount it writes ($1bn) [billion USD].
SUMMARY_MECHANISMS = 2
SMALLEST_SHARE = 0.5
#: Decimals of the validation's and the attribution's tables; of the probabilities [percent].
TABLE_DECIMALS, PROBABILITY_DECIMALS = 1, 0
#: Percent per unit; basis points per unit of a rate.
PERCENT, BASIS_POINTS = 100.0, 10_000.0
#: Months in a year, and the month that starts a fiscal year (October) less one: time ``Y.0`` is
#: the end of September of ``Y``.
MONTHS, FISCAL_YEAR_END_MONTH = 12, 9
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: Whole numbers of years written as words in the summary.
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: A sale within this much of the seller's holdings is "all" of them [billion USD].
ALL_HOLDINGS_SLACK = 0.05
#: Billions in a trillion.
BILLIONS_PER_TRILLION = 1000.0


def inline_bokeh() -> Markup:
    """Return Bokeh's library as inline ``<script>`` and ``<style>`` elements.

    Written here rather than by ``Resources.render()``, whose template Panel replaces once it is
    imported (in a notebook, say) with one that also loads a script by URL.
    """
    styles = "".join(f"<style>{css}</style>" for css in BOKEH_RESOURCES.css_raw)
    scripts = "".join(
        f'<script type="text/javascript">{js}</script>' for js in BOKEH_RESOURCES.js_raw
    )
    return Markup(styles + scripts)


# ---- what the template is given ----


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and whether it is a number (right-aligned)."""

    text: str
    number: bool = False


@dataclass(frozen=True)
class Table:
    """A table for the template: header cells, then rows of cells (the first may be labels)."""

    head: list[str]
    rows: list[list[Cell]]
    labelled: bool = True


@dataclass(frozen=True)
class Image:
    """An embedded PNG: its alt text and ``data:`` URI."""

    alt: str
    uri: str


@dataclass(frozen=True)
class Number:
    """A number in the summary, as shown, and the headline cell (column, scenario) it comes from.

    ``value`` is the headline table's value as ``headlines.csv`` writes it (rounded to
    :data:`~debtloops.outputs.HEADLINE_DECIMALS`, signed); ``text`` may drop the sign when the
    wording carries it ("saves $5bn").
    """

    text: str
    column: str
    value: str
    scenario: str


@dataclass
class ScenarioSection:
    """One scenario's part of the report."""

    name: str
    description: str
    extras: Image
    attribution: dict | None = None
    fan: dict | None = None
    summary: list[str | Number] = field(default_factory=list)
    #: Parts that could not be computed, and why (a run of them reached an impossible state).
    missing: list[str] = field(default_factory=list)


def _cell(value: object, digits: int) -> Cell:
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, int | float):
        return Cell(f"{value:,.{digits}f}", number=True)
    return Cell(str(value))


def table(frame: pd.DataFrame, index: bool = True, digits: int = 1) -> Table:
    """Return a DataFrame as a :class:`Table`: numbers with ``digits`` decimals, thousands split.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    index : bool
        Whether the index is shown, as the first (label) column.
    digits : int
        Decimals of every number.
    """
    head = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    rows = []
    for label, row in frame.iterrows():
        cells = [_cell(v, digits) for v in row.tolist()]
        rows.append(([Cell(str(label))] if index else []) + cells)
    return Table(head, rows, labelled=index)


def _png(data: bytes, alt: str) -> Image:
    return Image(alt, "data:image/png;base64," + base64.b64encode(data).decode("ascii"))


def _drawn(draw: Callable[[Path], object], suffix: str) -> bytes:
    """Return the bytes of a file that ``draw(path)`` writes, using a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="debtloops-report-") as folder:
        path = Path(folder) / f"figure{suffix}"
        draw(path)
        return path.read_bytes()


def _inline_svg(svg: str) -> Markup:
    """Return an SVG file's ``<svg>`` element, without the XML declaration and doctype."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document")
    return Markup(svg[start:])


def _svg_drawing(dot: str) -> Markup:
    """Return a Graphviz ``dot`` text drawn as an inline ``<svg>`` element."""
    svg = _drawn(lambda path: diagrams.render(dot, path.with_suffix(""), formats=("svg",)), ".svg")
    return _inline_svg(svg.decode("utf-8"))


# ---- the summary, from the numbers ----


def month_of(time: float) -> str:
    """Return the month that starts at a decimal fiscal year, e.g. 2026.0 -> ``October 2026``."""
    months = FISCAL_YEAR_END_MONTH + round(MONTHS * (time - math.floor(time)))
    year = math.floor(time) + months // MONTHS
    return f"{MONTH_NAMES[months % MONTHS]} {year}"


def duration_words(years: float) -> str:
    """Return a span in words: ``one year``, ``two years``, ``18 months``, ``12.5 years``."""
    if float(years).is_integer() and 0 < years < len(NUMBER_WORDS):
        count = int(years)
        return f"{NUMBER_WORDS[count]} year{'s' if count > 1 else ''}"
    months = MONTHS * years
    if float(months).is_integer() and years < 2:
        return f"{int(months)} months"
    return f"{years:g} years"


def money(billions: float) -> str:
    """Return an amount in words: ``$1.19T`` from a trillion up, else ``$120bn``."""
    if abs(billions) >= BILLIONS_PER_TRILLION:
        return f"${billions / BILLIONS_PER_TRILLION:,.2f}T"
    return f"${billions:,.0f}bn"


def _sale_words(window: SaleWindow, run: xr.Dataset) -> str:
    holdings = float(run[f"{window.seller}_holdings"].isel(time=0))
    whole = window.amount >= holdings - ALL_HOLDINGS_SLACK
    amount = f"all {money(window.amount)} of its Treasuries" if whole else money(window.amount)
    return (
        f"{window.name} selling {amount} over {duration_words(window.end - window.start)} "
        f"from {month_of(window.start)}"
    )


def _number(
    table_row: pd.Series, column: str, before: str = "", after: str = "", signed: bool = True
) -> Number:
    """Return a headline number as the summary shows it, with its units around it."""
    value = float(table_row[column])
    shown = f"{value if signed else abs(value):,.{HEADLINE_DECIMALS}f}"
    rounded = f"{value:.{HEADLINE_DECIMALS}f}"
    return Number(f"{before}{shown}{after}", column, rounded, str(table_row.name))


def _column(frame: pd.DataFrame, start: str) -> str:
    """Return the headline column whose name starts with ``start`` (names carry the years)."""
    return next(c for c in frame.columns if c.startswith(start))


def summary(
    name: str,
    prepared: PreparedRun,
    run: xr.Dataset,
    headlines: pd.DataFrame,
    attribution: xr.Dataset | None = None,
    reference: PreparedRun | None = None,
) -> list[str | Number]:
    """Write a scenario's summary paragraph from its headline numbers.

    Parameters
    ----------
    name : str
        The scenario's name, a row of ``headlines``.
    prepared : PreparedRun
        The scenario's values: its sales (:func:`debtloops.figures.extras.sale_windows`).
    run : xarray.Dataset
        Its run: the sellers' holdings at the start.
    headlines : pandas.DataFrame
        :func:`debtloops.outputs.headline_table` of the report's scenarios.
    attribution : xarray.Dataset, optional
        Its attribution: the summary then names the mechanisms that carry most of the interest.
    reference : PreparedRun, optional
        Its baseline: a scenario that changes more than its sales is then named with its
        description before the sale ("In fiscal_reform (...), Japan selling ...").

    Returns
    -------
    list of str and Number
        The paragraph's text, with each number a :class:`Number` tied to its headline column.
    """
    row = headlines.loc[name]
    debt = [c for c in headlines.columns if c.startswith("debt/GDP")]  # the horizon, the end

    def debt_path(of: pd.Series) -> list[str | Number]:
        """Debt/GDP at the horizon and at the end (once, when the run ends at the horizon)."""
        said: list[str | Number] = []
        for i, column in enumerate(debt):
            said += [" and " if i else "", _number(of, column, after="%")]
            said.append(f"{' of GDP' if not i else ''} in FY{column.split()[1]}")
        return said

    if name == REFERENCE:
        return [
            "The baseline has no sale: every holder keeps to its path and the drivers follow "
            "CBO's projections. Debt held by the public reaches ",
            *debt_path(row),
            ", and the 10-year yield peaks at ",
            _number(row, _column(headlines, "peak 10y yield"), after="%"),
            ".",
        ]
    windows = sale_windows(prepared.values)
    if windows:
        lead = " and ".join(_sale_words(w, run) for w in windows)
        if reference is not None and _changes_more_than_sales(prepared, reference):
            lead = f"In {name} ({_description(prepared, first_sentence=True)}), {lead}"
    else:
        lead = f"With no scheduled sale, {name} ({_description(prepared, first_sentence=True)})"
    extra_yield = _column(headlines, "peak extra yield")
    interest = _column(headlines, "extra interest")
    start, end = interest.split()[2].split("-")
    parts: list[str | Number] = [lead]
    ending = "" if len(windows) > 1 else "s"  # "Japan selling ... lifts", "Japan and China lift"
    if float(row[extra_yield]) > 0:
        parts += [f" lift{ending} the 10-year yield by at most "]
        parts += [_number(row, extra_yield, after=" bp")]
    else:
        parts += [f" never lift{ending} the 10-year yield above the baseline's"]
    cost = float(row[interest])
    years = int(end) - int(start)
    parts += [
        f" and cost{ending} " if cost >= 0 else f" and save{ending} ",
        _number(row, interest, "$", "bn", signed=False),
        " of extra interest" if cost >= 0 else " of interest",
        f" over the {duration_words(years)} from FY{int(start) + 1} to FY{end}. "
        "Debt held by the public reaches ",
        *debt_path(row),
    ]
    if REFERENCE in headlines.index:
        parts += [" (baseline ", *debt_path(headlines.loc[REFERENCE]), ")"]
    parts.append(".")
    if attribution is not None:
        parts.append(_mechanism_sentence(attribution))
    return parts


def _changes_more_than_sales(prepared: PreparedRun, reference: PreparedRun) -> bool:
    """Whether a scenario sets anything besides its sales differently from its baseline."""
    sales = tuple(f"{seller}_sale_" for seller in SELLERS)
    return any(
        value != reference.values.get(key)
        for key, value in prepared.values.items()
        if not key.startswith(sales)
    )


def _mechanism_sentence(attribution: xr.Dataset) -> str:
    """Name the mechanisms with the largest shares of the extra interest, if any is $1bn."""
    shares = attribution["share_extra_interest"].to_series()
    if shares.abs().max() < SMALLEST_SHARE:
        return ""
    top = shares.reindex(shares.abs().sort_values(ascending=False).index)[:SUMMARY_MECHANISMS]
    named = [f"{name.replace('_', ' ')} ({money(value)})" for name, value in top.items()]
    return f" Of the extra interest, the largest shares come from {' and '.join(named)}."


def _description(prepared: PreparedRun, first_sentence: bool = False) -> str:
    """Return the scenario file's summary line without its name, or only its first sentence."""
    path = prepared.scenario.path
    if path is None:  # a scenario built in code (a backtest's) has no file to describe
        raise ValueError(f"scenario {prepared.scenario.name!r} has no file")
    text = describe(path.stem, path.parent).split(":", 1)[-1].strip()
    return text.split(". ")[0].rstrip(".") if first_sentence else text


# ---- the scenario sections ----


def _attribution_part(prepared: PreparedRun, reference: PreparedRun) -> tuple[dict, xr.Dataset]:
    dataset = attribute(prepared, baseline=reference)
    frame = attribution_table(dataset)
    exact = bool(dataset["stderr_extra_interest"].max() == 0)
    if exact:
        frame = frame[[c for c in frame.columns if not c.startswith("standard error")]]
    outcomes = {name: ATTRIBUTION_OUTCOMES[name] for name in ATTRIBUTION_CHARTED}
    chart = _drawn(lambda path: plot_waterfall(dataset, outcomes, path), ".png")
    frame.index = [str(name).replace("_", " ") for name in frame.index]
    frame.index.name = "mechanism"
    part = {
        "method": dataset.attrs["method"],
        "image": _png(chart, f"attribution of {prepared.scenario.name}"),
        "table": table(frame, digits=TABLE_DECIMALS),
    }
    return part, dataset


def fan_years(prepared: PreparedRun) -> tuple[int, ...]:
    """Return :data:`FAN_YEARS` within the run's projected fiscal years, or its last year."""
    first = int(round(prepared.constant("initial_time"))) + 1
    last = int(round(prepared.constant("final_time")))
    return tuple(y for y in FAN_YEARS if first <= y <= last) or (last,)


def _fan_part(prepared: PreparedRun, reference: PreparedRun, draws: int) -> dict:
    name = prepared.scenario.name
    years = fan_years(prepared)
    dataset = fan_module.fan(
        prepared, draws, thresholds=FAN_THRESHOLDS, years=years, baseline=reference
    )
    chart = _drawn(lambda path: plot_fan(dataset, path, FAN_CHARTED), ".png")
    probability = PERCENT * dataset["probability_by_year"]
    rows, index = [], []
    for limit in dataset["threshold"].to_numpy():
        for year in dataset["by_year"].to_numpy():
            cell = probability.sel(threshold=limit, by_year=year)
            rows.append([float(cell.sel(case=case)) for case in fan_module.CASES])
            index.append(f"debt/GDP above {PERCENT * limit:g}% by FY{year}")
    frame = pd.DataFrame(rows, columns=[f"{name} [%]", "baseline [%]"], index=index)
    frame.index.name = "probability that"
    limit, year = FAN_QUOTED
    if year not in years:
        year = years[len(years) // 2]
    quoted = probability.sel(threshold=limit / PERCENT, by_year=year)
    return {
        "draws": int(dataset.attrs["draws"]),
        "kept": int(dataset.attrs["draws"]) - int(dataset.attrs["draws_dropped"]),
        "seed": int(dataset.attrs["seed"]),
        "method": dataset.attrs["method"],
        "error": PERCENT * 0.5 / math.sqrt(int(dataset.attrs["draws"])),
        "image": _png(chart, f"fan chart of {name}"),
        "table": table(frame, digits=PROBABILITY_DECIMALS),
        "quoted": {
            "limit": f"{limit:g}",
            "year": int(year),
            "scenario": f"{float(quoted.sel(case='scenario')):.{PROBABILITY_DECIMALS}f}",
            "baseline": f"{float(quoted.sel(case='baseline')):.{PROBABILITY_DECIMALS}f}",
        },
    }


def scenario_section(
    prepared: PreparedRun,
    run: xr.Dataset,
    reference: PreparedRun,
    baseline: xr.Dataset,
    headlines: pd.DataFrame,
    with_attribution: bool,
    fan_draws: int,
) -> ScenarioSection:
    """Return a scenario's charts of its change, its attribution, its fan and its summary.

    The scenario itself has run; if the attribution's or the fan's runs reach an impossible state
    (:class:`~debtloops.errors.SimulationError`, e.g. too many shocked draws with a negative
    stock), that part is left out with the reason, and the rest of the report is still written.
    """
    name = prepared.scenario.name
    windows = sale_windows(prepared.values)
    chart = _drawn(lambda path: plot_extras(run, baseline, windows, path), ".png")
    section = ScenarioSection(name, _description(prepared), _png(chart, f"{name}: the change"))
    dataset = None
    if with_attribution:
        try:
            section.attribution, dataset = _attribution_part(prepared, reference)
        except SimulationError as error:
            section.missing.append(f"The attribution could not be computed: {error}")
    if fan_draws:
        try:
            section.fan = _fan_part(prepared, reference, fan_draws)
        except SimulationError as error:
            section.missing.append(f"The fan could not be drawn: {error}")
    section.summary = summary(name, prepared, run, headlines, dataset, reference)
    return section


# ---- the appendices ----


def check_sweep_folder(folder: Path) -> list[Path]:
    """Return the files ``debtloops analyze`` wrote into a sweep folder, to embed in the report.

    Parameters
    ----------
    folder : Path
        A sweep folder.

    Returns
    -------
    list of Path
        Its PNG, CSV and netCDF files, sorted; the raw store ``sweep.zarr`` (a folder) is not read.

    Raises
    ------
    InputError
        If the folder does not exist or holds none of them (``analyze`` has not run).
    """
    if not folder.is_dir():
        raise InputError(f"--sweep {folder}: no such folder; give a folder of `debtloops sweep`")
    found = sorted(
        path for pattern in SWEEP_PATTERNS for path in folder.glob(pattern) if path.is_file()
    )
    if not found:
        raise InputError(
            f"--sweep {folder}: no tables or figures of `debtloops analyze` in it; "
            f"run `debtloops analyze {folder}` first"
        )
    return found


def _netcdf_tables(path: Path) -> dict:
    """Return the small variables of a netCDF file as tables, and name the large ones."""
    tables, large, scalars = [], [], []
    with xr.open_dataset(path) as data:
        for name, full in data.data_vars.items():
            variable = full.squeeze(drop=True)  # e.g. a sweep of one scenario
            numeric = variable.dtype.kind in "fiub"
            if variable.ndim == 0 and numeric:
                scalars.append(f"{name} = {variable.item():g}")
            elif variable.ndim == 0 or variable.ndim > 2 or variable.size > MAX_TABLE_CELLS:
                large.append(f"{name} {dict(variable.sizes)}")
            elif not numeric:
                large.append(f"{name} {dict(variable.sizes)}")
            else:
                frame = variable.to_pandas()
                frame = frame.to_frame(name) if isinstance(frame, pd.Series) else frame
                units = variable.attrs.get("units", "")
                title = f"{name}" + (f" [{units}]" if units else "")
                tables.append((title, table(frame, digits=3)))
    return {"tables": tables, "scalars": "; ".join(scalars), "large": "; ".join(large)}


def sweep_section(folder: Path) -> dict:
    """Return the report's section on a sweep folder: its figures and tables."""
    items = []
    for path in check_sweep_folder(folder):
        if path.suffix == ".png":
            items.append({"name": path.name, "image": _png(path.read_bytes(), path.name)})
        elif path.suffix == ".csv":
            frame = pd.read_csv(path)
            shown = frame.head(MAX_CSV_ROWS)
            items.append(
                {
                    "name": path.name,
                    "table": table(shown, index=False, digits=3),
                    "more": len(frame) - len(shown),
                }
            )
        else:
            items.append({"name": path.name, "netcdf": _netcdf_tables(path)})
    return {"name": folder.name, "entries": items}


def loops_section(runs: Mapping[str, PreparedRun]) -> dict:
    """Return the loop inventory with measured polarities, the diagrams and loop dominance."""
    graph = causal_graph()
    inventory = read_inventory()
    polarities = measure_polarities(graph, [str(run.scenario.path) for run in runs.values()])
    links = {
        loop.id: zip(loop.variables, [*loop.variables[1:], loop.variables[0]], strict=True)
        for loop in inventory
    }
    stale = [name for name, pairs in links.items() if any(p not in polarities for p in pairs)]
    if stale:
        raise InputError(
            "models/README.md is out of date with the model: the named loop(s) "
            f"{', '.join(stale[:5])}{' ...' if len(stale) > 5 else ''} run through links the "
            "model does not have; re-derive the loop inventory"
        )
    rows = pd.DataFrame(
        {
            "name": [loop.name for loop in inventory],
            "stated": [loop.polarity for loop in inventory],
            "measured": [loop_polarity(loop.variables, polarities) for loop in inventory],
            "variables": [" → ".join(loop.variables) for loop in inventory],
        },
        index=pd.Index([loop.id for loop in inventory], name="id"),
    )
    shown = {
        "Causal-loop diagram": diagrams.cld_dot(graph, polarities, inventory),
        "Stock-and-flow diagram": diagrams.stock_flow_dot(graph, polarities),
    }
    drawings = [(title, _svg_drawing(dot)) for title, dot in shown.items()]
    dominance = []
    for name, run in runs.items():
        years = dominant_years(loop_dominance_table(run.values)).head(DOMINANCE_TOP)
        frame = years.rename("years dominant [year]").to_frame()
        frame.index.name = "loop"
        dominance.append((name, table(frame, digits=2)))
    return {
        "inventory": table(rows),
        "count": len(rows),
        "diagrams": drawings,
        "dominance": dominance,
    }


def validation_section(cbo: str | Path | None) -> dict:
    """Return the checks of ``debtloops validate`` and its two figures, by its own functions."""
    from debtloops.validation.fidelity import (
        checks_table,
        plot_backtest_check,
        plot_cbo_check,
        run_checks,
    )

    checks, comparison, history = run_checks(cbo)
    frame = checks_table(checks)
    for column in ("model", "reference"):
        frame[column] = frame[column].map(number_text)
    return {
        "failed": sum(not check.passed for check in checks),
        "count": len(checks),
        "table": table(frame, index=False),
        "images": [
            _png(_drawn(lambda path: plot_cbo_check(comparison, path, cbo), ".png"), "CBO"),
            _png(_drawn(lambda path: plot_backtest_check(history, path), ".png"), "backtest"),
        ],
    }


def _first_heading(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return path.name


def sources_section(runs: Mapping[str, PreparedRun]) -> dict:
    """Return where every number comes from: each parameter's source, and the data files."""
    parameters = load_parameters()
    values = {name: run.values for name, run in runs.items()}
    rows = []
    for name, parameter in parameters.items():
        shown = []
        for run_values in values.values():
            value = run_values.get(name, parameter.value)
            shown.append("path (data)" if isinstance(value, Mapping) else f"{value:g}")
        rows.append([name, parameter.units, *shown, parameter.source])
    frame = pd.DataFrame(rows, columns=["parameter", "units", *values, "source"])
    vintages = {run.vintage.folder for run in runs.values() if run.vintage is not None}
    files = sorted(DATA_DIR.glob("*.md")) + sorted(folder / "projections.md" for folder in vintages)
    data_files = []
    for path in files:
        where = (
            path.relative_to(MODELS_DIR.parent) if path.is_relative_to(MODELS_DIR.parent) else path
        )
        data_files.append((str(where), _first_heading(path)))
    return {
        "parameters": table(frame, index=False),
        "table_path": PARAMETER_TABLE.name,
        "data_files": data_files,
    }


def provenance_section(runs: Mapping[str, xr.Dataset]) -> dict:
    """Return what produced the report: commit, model hash, packages, scenarios and values."""
    attrs = provenance_attrs()
    versions = json.loads(attrs["package_versions"])
    defaults = load_parameters().defaults()
    scenarios = []
    for name, run in runs.items():
        values = json.loads(run.attrs["parameters"])
        changed = {
            key: value
            for key, value in values.items()
            if not isinstance(value, dict) and value != defaults.get(key)
        }
        frame = pd.DataFrame(
            {"value": [str(v) for v in changed.values()]},
            index=pd.Index(list(changed), name="parameter"),
        )
        scenarios.append(
            {
                "name": name,
                "chain": run.attrs["scenario_chain"],
                "text": run.attrs["scenario_text"],
                "changed": table(frame),
                "count": len(changed),
                "values": json.dumps(values, indent=1),
            }
        )
    return {
        "commit": attrs["git_commit"],
        "model_file": attrs["model_file"],
        "model_sha256": attrs["model_sha256"],
        "packages": ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        "scenarios": scenarios,
    }


# ---- the whole ----


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
    summaries = [(s.name, s.summary) for s in sections]
    if REFERENCE in runs:
        reference_summary = summary(REFERENCE, reference, baseline, headlines)
        summaries.insert(list(runs).index(REFERENCE), (REFERENCE, reference_summary))
    figures: list[figure] = []
    for variable in charts.REPORT_VARIABLES:
        shared = figures[0].x_range if figures else None
        figures.append(charts.comparison_figure(variable, runs, baseline, shared))
    # a list of its own: gridplot takes an invariant list[UIElement | None]
    cells: list[UIElement | None] = list(figures)
    script, grid = components(gridplot(cells, ncols=CHART_COLUMNS))
    all_runs = {REFERENCE: reference, **prepared}
    context = {
        "scenarios": list(runs),
        "written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "vintage": reference.vintage.name if reference.vintage is not None else None,
        "summaries": summaries,
        "headlines": table(headlines, digits=HEADLINE_DECIMALS),
        "sections": sections,
        "bokeh": inline_bokeh(),
        "bokeh_script": Markup(script),
        "bokeh_grid": Markup(grid),
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
