"""``debtloops report``: one self-contained HTML file that opens offline and can be e-mailed.

The file holds, for the scenarios asked for (each against the baseline, as ``debtloops run``):

- the headline table (:func:`debtloops.outputs.headline_table`);
- interactive Bokeh charts (hover, zoom, a click on a legend entry hides a scenario), with Bokeh's
  JavaScript and CSS inline;
- each scenario's dashboard (:func:`debtloops.figures.dashboard.plot_dashboard`) as an embedded PNG;
- the loop inventory with the polarity measured in these runs, the causal-loop and stock-and-flow
  diagrams as inline SVG (:mod:`debtloops.figures.diagrams`), and which named loop dominates for how
  long in each scenario (Simlin's Loops That Matter);
- with ``--sweep DIR``, what ``debtloops analyze`` wrote into the folder: every PNG, every CSV, and
  the small tables of its netCDF files;
- what ``debtloops validate`` writes (:mod:`debtloops.validation.fidelity`): the checks and the
  CBO and backtest figures;
- the provenance: git commit, the model file's hash, package versions, each scenario's chain, text
  and parameter values.

Images are ``data:`` URIs and SVG is inline, so opening the file requests nothing. It is written to
a temporary file and renamed into place, with the output folder locked (:mod:`debtloops.io`).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import xarray as xr
from bokeh.embed import components
from bokeh.layouts import gridplot
from bokeh.plotting import figure
from bokeh.resources import Resources

from debtloops.app import charts
from debtloops.app.session import dominant_years, loop_dominance_table
from debtloops.errors import InputError
from debtloops.figures import diagrams
from debtloops.figures.dashboard import plot_dashboard
from debtloops.io import atomic_file, output_lock
from debtloops.loops.graph import causal_graph, loop_polarity, measure_polarities
from debtloops.loops.inventory import read_inventory
from debtloops.model.parameters import load_parameters
from debtloops.model.run import PreparedRun, execute
from debtloops.model.scenarios import REFERENCE
from debtloops.outputs import HEADLINE_DECIMALS, headline, headline_table
from debtloops.provenance import provenance_attrs

REPORT_NAME = "report.html"
#: Bokeh's JavaScript and CSS, inline; only the core library (the charts use no widgets, tables,
#: WebGL or MathJax, which would add 3.7 MB).
BOKEH_RESOURCES = Resources(mode="inline", components=["bokeh"])


def inline_bokeh() -> str:
    """Return Bokeh's library as inline ``<script>`` and ``<style>`` elements.

    Written here rather than by ``Resources.render()``, whose template Panel replaces once it is
    imported (in a notebook, say) with one that also loads a script by URL.
    """
    styles = "".join(f"<style>{css}</style>" for css in BOKEH_RESOURCES.css_raw)
    scripts = "".join(
        f'<script type="text/javascript">{js}</script>' for js in BOKEH_RESOURCES.js_raw
    )
    return styles + scripts


#: Charts per row in the report's grid.
CHART_COLUMNS = 3
#: Loops shown per scenario in the dominance tables.
DOMINANCE_TOP = 8
#: A table of a sweep's netCDF file is shown only up to this many cells; larger ones are listed.
MAX_TABLE_CELLS = 2_000
#: Rows of a sweep CSV shown (the rest are counted).
MAX_CSV_ROWS = 200
#: What a sweep folder must hold for the report: the outputs of ``debtloops analyze``.
SWEEP_PATTERNS = ("*.png", "*.csv", "*.nc")

_STYLE = """
body { font-family: sans-serif; margin: 24px auto; max-width: 1400px; color: #222; }
h1 { margin-bottom: 4px; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 36px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; text-align: center; } td.text, th.text { text-align: left; }
img, svg { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 12px; }
.fail { color: #b00020; font-weight: 600; } .note { color: #555; font-size: 13px; }
details { margin: 6px 0; }
"""


def _escape(value: object) -> str:
    return html.escape(str(value))


def _table(frame: pd.DataFrame, index: bool = True, digits: int = 1) -> str:
    """Return a DataFrame as an HTML table: numbers right-aligned with ``digits`` decimals."""

    def cell(value: object) -> str:
        if isinstance(value, bool):
            return f'<td class="text">{"yes" if value else "no"}</td>'
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"<td>{value:,.{digits}f}</td>"
        return f'<td class="text">{_escape(value)}</td>'

    head = "".join(f"<th>{_escape(c)}</th>" for c in frame.columns)
    index_head = f'<th class="text">{_escape(frame.index.name or "")}</th>' if index else ""
    rows = []
    for label, row in frame.iterrows():
        label_cell = f'<td class="text">{_escape(label)}</td>' if index else ""
        rows.append(f"<tr>{label_cell}{''.join(cell(v) for v in row.tolist())}</tr>")
    return f"<table><tr>{index_head}{head}</tr>{''.join(rows)}</table>"


def _png(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{_escape(alt)}" src="data:image/png;base64,{encoded}">'


def _drawn(draw: Callable[[Path], object], suffix: str) -> bytes:
    """Return the bytes of a file that ``draw(path)`` writes, using a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="debtloops-report-") as folder:
        path = Path(folder) / f"figure{suffix}"
        draw(path)
        return path.read_bytes()


def _inline_svg(svg: str) -> str:
    """Return an SVG file's ``<svg>`` element, without the XML declaration and doctype."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document")
    return svg[start:]


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


def _netcdf_tables(path: Path) -> str:
    """Return the small variables of a netCDF file as tables, and list the large ones."""
    parts = []
    large = []
    scalars = []
    with xr.open_dataset(path) as data:
        for name, full in data.data_vars.items():
            variable = full.squeeze(drop=True)  # e.g. a sweep of one scenario
            if variable.ndim == 0 and variable.dtype.kind in "fiub":
                scalars.append(f"{name} = {variable.item():g}")
                continue
            if variable.ndim == 0 or variable.ndim > 2 or variable.size > MAX_TABLE_CELLS:
                large.append(f"{name} {dict(variable.sizes)}")
                continue
            if variable.dtype.kind not in "fiub":
                large.append(f"{name} {dict(variable.sizes)}")
                continue
            frame = variable.to_pandas()
            frame = frame.to_frame(name) if isinstance(frame, pd.Series) else frame
            units = variable.attrs.get("units", "")
            title = f"{name}" + (f" [{units}]" if units else "")
            parts.append(f"<details><summary>{_escape(title)}</summary>")
            parts.append(_table(frame, digits=3) + "</details>")
    if scalars:
        parts.append(f"<p>{_escape('; '.join(scalars))}</p>")
    if large:
        parts.append(
            f'<p class="note">Not shown (too large or not numeric): {_escape("; ".join(large))}</p>'
        )
    return "".join(parts)


def sweep_section(folder: Path) -> str:
    """Return the report's section on a sweep folder: its figures and tables."""
    parts = [f"<h2>Sensitivity sweep: {_escape(folder.name)}</h2>"]
    parts.append(
        '<p class="note">What <code>debtloops analyze</code> wrote into the folder: fan charts, '
        "indices and their tables.</p>"
    )
    for path in check_sweep_folder(folder):
        parts.append(f"<h3>{_escape(path.name)}</h3>")
        if path.suffix == ".png":
            parts.append(_png(path.read_bytes(), path.name))
        elif path.suffix == ".csv":
            frame = pd.read_csv(path)
            shown = frame.head(MAX_CSV_ROWS)
            parts.append(_table(shown, index=False, digits=3))
            if len(frame) > len(shown):
                more = len(frame) - len(shown)
                parts.append(f'<p class="note">{more} more rows in the file.</p>')
        else:
            parts.append(_netcdf_tables(path))
    return "".join(parts)


def loops_section(runs: Mapping[str, PreparedRun]) -> str:
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
    parts = [
        "<h2>Feedback loops</h2>",
        '<p class="note">The named loops of <code>models/README.md</code>; the polarity is that '
        "stated there and that measured from the signs of the links along these runs (pooled "
        "over the scenarios of the report; <code>0</code> marks a loop through a link that none of "
        "them activates). <code>debtloops diagram</code> draws each loop and scores every loop of "
        "the model.</p>",
    ]
    rows = pd.DataFrame(
        {
            "id": [loop.id for loop in inventory],
            "name": [loop.name for loop in inventory],
            "stated": [loop.polarity for loop in inventory],
            "measured": [loop_polarity(loop.variables, polarities) for loop in inventory],
            "variables": [" → ".join(loop.variables) for loop in inventory],
        }
    ).set_index("id")
    parts.append(f"<details><summary>{len(rows)} named loops</summary>{_table(rows)}</details>")
    diagrams_shown = {
        "Causal-loop diagram": diagrams.cld_dot(graph, polarities, inventory),
        "Stock-and-flow diagram": diagrams.stock_flow_dot(graph, polarities),
    }
    for title, dot in diagrams_shown.items():
        svg = _drawn(
            # mypy infers no type for a lambda with a default argument
            lambda path, text=dot: diagrams.render(text, path.with_suffix(""), formats=("svg",)),  # type: ignore[misc]
            ".svg",
        )
        parts.append(f"<h3>{title}</h3>{_inline_svg(svg.decode('utf-8'))}")
    parts.append("<h3>Loop dominance</h3>")
    parts.append(
        '<p class="note">Simlin\'s Loops That Matter with every named loop pinned: for how many '
        "years each loop has the largest share of its partition's loop activity.</p>"
    )
    for name, run in runs.items():
        years = dominant_years(loop_dominance_table(run.values)).head(DOMINANCE_TOP)
        frame = years.rename("years dominant [year]").to_frame()
        frame.index.name = "loop"
        parts.append(f"<h4>{_escape(name)}</h4>{_table(frame, digits=2)}")
    return "".join(parts)


def validation_section() -> str:
    """Return what ``debtloops validate`` writes: the fidelity checks and their two figures."""
    from debtloops.validation.fidelity import write_report as write_validation

    with tempfile.TemporaryDirectory(prefix="debtloops-validation-") as folder:
        checks = write_validation(Path(folder))
        table = pd.read_csv(Path(folder) / "validation.csv")
        parts = pd.read_csv(Path(folder) / "decomposition.csv")
        figures = {
            name: (Path(folder) / name).read_bytes()
            for name in ("cbo_baseline.png", "backtest.png")
        }
    failed = sum(not check.passed for check in checks)
    verdict = (
        f'<p class="fail">{failed} of {len(checks)} checks outside their tolerance.</p>'
        if failed
        else f"<p>All {len(checks)} checks within their tolerance.</p>"
    )
    images = "".join(_png(data, name) for name, data in figures.items())
    return (
        "<h2>Validation</h2>"
        '<p class="note">What <code>debtloops validate</code> writes: the baseline against CBO, '
        "the backtests, price impact against the literature, the episodes, the article.</p>"
        f"{verdict}{_table(table, index=False, digits=3)}{images}"
        "<h3>Where the extra yield and interest come from</h3>"
        f"{_table(parts, index=False, digits=1)}"
    )


def provenance_section(runs: Mapping[str, xr.Dataset]) -> str:
    """Return what produced the report: commit, model hash, packages, scenarios and values."""
    attrs = provenance_attrs()
    versions = json.loads(attrs["package_versions"])
    defaults = load_parameters().defaults()
    parts = [
        "<h2>Provenance</h2><table>",
        '<tr><th class="text">git commit</th>'
        f'<td class="text">{_escape(attrs["git_commit"])}</td></tr>',
        f'<tr><th class="text">model file</th><td class="text">{_escape(attrs["model_file"])} '
        f"(SHA-256 {_escape(attrs['model_sha256'])})</td></tr>",
        f'<tr><th class="text">packages</th><td class="text">'
        f"{_escape(', '.join(f'{k} {v}' for k, v in sorted(versions.items())))}</td></tr></table>",
    ]
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
        parts.append(
            f"<h3>{_escape(name)}</h3><p>chain: {_escape(run.attrs['scenario_chain'])}</p>"
            f"<details><summary>scenario text</summary><pre>{_escape(run.attrs['scenario_text'])}"
            "</pre></details>"
            f"<details><summary>{len(changed)} constants that differ from the parameter table"
            f"</summary>{_table(frame)}</details>"
            "<details><summary>every parameter value (JSON)</summary><pre>"
            f"{_escape(json.dumps(values, indent=1))}</pre></details>"
        )
    return "".join(parts)


def build_report(
    prepared: Mapping[str, PreparedRun], reference: PreparedRun, sweep: Path | None = None
) -> str:
    """Run the scenarios and return the report's HTML text.

    Parameters
    ----------
    prepared : mapping
        The scenarios, validated (:func:`debtloops.model.run.prepare`), by name.
    reference : PreparedRun
        The baseline they are compared with.
    sweep : Path, optional
        A sweep folder after ``debtloops analyze``.

    Returns
    -------
    str
        A complete HTML document that requests nothing when opened.
    """
    if sweep is not None:
        check_sweep_folder(sweep)
    runs = {name: execute(run) for name, run in prepared.items()}
    baseline = runs.get(REFERENCE) or execute(reference)
    rows = [headline(name, run, baseline) for name, run in runs.items()]
    figures: list[figure] = []
    for variable in charts.REPORT_VARIABLES:
        shared = figures[0].x_range if figures else None
        figures.append(charts.comparison_figure(variable, runs, baseline, shared))
    script, grid = components(gridplot([*figures], ncols=CHART_COLUMNS))
    dashboards = "".join(
        f"<h3>{_escape(name)}</h3>"
        + _png(_drawn(lambda path, r=run: plot_dashboard(r, baseline, path), ".png"), name)  # type: ignore[misc]
        for name, run in runs.items()
        if name != REFERENCE
    )
    all_runs = {REFERENCE: reference, **prepared}
    written = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "<h1>debtloops report</h1>",
        f'<p class="note">Scenarios {_escape(", ".join(runs))} against the baseline; written '
        f"{written}.</p>",
        "<h2>Headlines</h2>",
        _table(headline_table(rows), digits=HEADLINE_DECIMALS),
        "<h2>Charts</h2>",
        '<p class="note">Hover for values; drag to pan, wheel or box to zoom (all charts '
        "together); click a legend entry to hide that scenario.</p>",
        grid,
        "<h2>Dashboards</h2>",
        dashboards or '<p class="note">Only the baseline was asked for.</p>',
        loops_section(all_runs),
    ]
    if sweep is not None:
        body.append(sweep_section(sweep))
    body += [validation_section(), provenance_section({REFERENCE: baseline, **runs})]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>debtloops report</title>"
        f"<style>{_STYLE}</style>{inline_bokeh()}{script}</head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_report(
    out_dir: Path,
    prepared: Mapping[str, PreparedRun],
    reference: PreparedRun,
    sweep: Path | None = None,
) -> Path:
    """Write ``out_dir/report.html`` atomically, with the output folder locked.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing.
    prepared, reference, sweep
        As for :func:`build_report`.

    Returns
    -------
    Path
        The report's path.
    """
    text = build_report(prepared, reference, sweep)
    target = Path(out_dir) / REPORT_NAME
    with output_lock(Path(out_dir)):
        atomic_file(target, lambda path: path.write_text(text, encoding="utf-8"))
    return target
