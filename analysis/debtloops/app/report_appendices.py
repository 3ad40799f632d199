"""The report's appendices: a sweep's outputs, the loops and diagrams, the validation, the sources.

Each function returns one section of the template's context; together with the provenance they
tell where every number of the report comes from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import xarray as xr

from debtloops.app.report_blocks import drawn, png_image, svg_drawing, table
from debtloops.app.session import dominant_years, loop_dominance_table
from debtloops.errors import InputError
from debtloops.figures import diagrams
from debtloops.loops.graph import causal_graph, loop_polarity, measure_polarities
from debtloops.loops.inventory import read_inventory
from debtloops.model.parameters import load_parameters
from debtloops.model.run import PreparedRun
from debtloops.paths import DATA_DIR, MODELS_DIR, PARAMETER_TABLE
from debtloops.provenance import provenance_attrs
from debtloops.validation.checks import number_text

#: Loops shown per scenario in the dominance tables.
DOMINANCE_TOP = 8
#: A table of a sweep's netCDF file is shown only up to this many cells; larger ones are listed.
MAX_TABLE_CELLS = 2_000
#: Rows of a sweep CSV shown (the rest are counted).
MAX_CSV_ROWS = 200
#: What a sweep folder must hold for the report: the outputs of ``debtloops analyze``.
SWEEP_PATTERNS = ("*.png", "*.csv", "*.nc")


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
            items.append({"name": path.name, "image": png_image(path.read_bytes(), path.name)})
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
    drawings = [(title, svg_drawing(dot)) for title, dot in shown.items()]
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
            png_image(drawn(lambda path: plot_cbo_check(comparison, path, cbo), ".png"), "CBO"),
            png_image(drawn(lambda path: plot_backtest_check(history, path), ".png"), "backtest"),
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
