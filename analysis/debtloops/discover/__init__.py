"""``debtloops discover DIR --where EXPR``: the parameter ranges holding the cases of interest.

Scenario discovery, in the vocabulary of the EMA Workbench, on a finished sweep.

The condition names outcomes of the sweep (:func:`outcome_names`): the scalar outcomes of
``debtloops analyze`` (``debt_to_gdp_final``, ``peak_market_yield``...) and each time series at
each whole saved year (``debt_to_gdp_2055``). Ratios and rates (units ``1`` and ``1/year``) are
compared in percent, so ``debt_to_gdp_2055 > 170`` means debt above 170% of GDP. The condition is
parsed by a small recursive-descent parser (:func:`parse`; no ``eval``): comparisons ``>``, ``>=``,
``<``, ``<=`` of an outcome with a number, joined by ``and`` and ``or``, with parentheses.

Two methods answer:

* PRIM (Friedman and Fisher 1999), peeling only (:func:`prim`): from the full box, repeatedly cut
  :data:`PEEL_ALPHA` of the remaining samples off one side of one parameter, the cut that leaves
  the highest share of cases of interest, until fewer than :data:`MIN_MASS` of the samples remain.
  The chosen box (:func:`choose_box`) is the step with the best balance of coverage and density
  (their harmonic mean). Peeling in many dimensions also narrows parameters that do not matter,
  so the chosen box then drops, one at a time, the restriction least supported by the data: the
  one whose quasi-p-value (Bryant and Lempert 2010, as the EMA Workbench reports it) is highest
  and above :data:`QP_LIMIT` (:func:`prune`). PRIM is written here rather than taken from
  ``ema_workbench`` because that package brings statsmodels, seaborn, Platypus-Opt, formulaic,
  patsy and wrapt with it.
* A classification tree (scikit-learn's ``DecisionTreeClassifier``, depth :data:`TREE_DEPTH`),
  whose rules are printed and kept in ``discover.nc``.

Coverage is the share of all cases of interest that fall in the box; density, the share of the
box's samples that are cases of interest; mass, the share of all samples in the box.

The condition is in :mod:`debtloops.discover.condition`, PRIM in :mod:`debtloops.discover.prim`,
the tree in :mod:`debtloops.discover.tree`; the outcomes, the command and its files are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.discover.condition import OPERATORS, Compare, Join, evaluate, named, parse
from debtloops.discover.prim import (
    MIN_MASS,
    PEEL_ALPHA,
    QP_LIMIT,
    Peeling,
    choose_box,
    in_box,
    prim,
    prune,
    quasi_p_values,
)
from debtloops.discover.tree import TREE_DEPTH, TREE_MIN_LEAF, TREE_SEED, tree_rules
from debtloops.errors import InputError, unknown_name
from debtloops.io import atomic_file, check_targets
from debtloops.sweeps.outcomes import SCALAR_OUTCOMES, scalar_outcomes, shown, succeeded
from debtloops.sweeps.store import STORE_NAME, check_whole, open_sweep, read_design

#: The default output folder, inside the sweep folder.
FOLDER_NAME = "discover"
TABLE_NAME, NETCDF_NAME = "discover.csv", "discover.nc"
TRAJECTORY_NAME, BOX_NAME = "discover_trajectory.png", "discover_box.png"
OUTPUT_NAMES = (TABLE_NAME, NETCDF_NAME, TRAJECTORY_NAME, BOX_NAME)
#: Below this many cases of interest the summary warns that a box is not to be relied on [samples].
FEW_CASES = 10
#: A saved time within this of a whole year names an outcome at that year [year].
YEAR_TOLERANCE = 1e-6

__all__ = [
    "MIN_MASS",
    "OPERATORS",
    "PEEL_ALPHA",
    "QP_LIMIT",
    "TREE_DEPTH",
    "TREE_MIN_LEAF",
    "TREE_SEED",
    "Compare",
    "Discovery",
    "Join",
    "Peeling",
    "box_table",
    "choose_box",
    "discover",
    "evaluate",
    "format_discovery",
    "load_outcomes",
    "named",
    "outcome_names",
    "parse",
    "prim",
    "prune",
    "quasi_p_values",
    "tree_rules",
    "write_discovery",
]


# ---- the outcomes --------------------------------------------------------------------------------


def outcome_names(ds: xr.Dataset) -> dict[str, tuple[str, int | None]]:
    """Return every outcome a condition may name, read from the sweep's layout (no data).

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep, as :func:`debtloops.sweeps.store.open_sweep` returns it.

    Returns
    -------
    dict
        Name -> (its source, the saved time's position or None): each scalar outcome of
        ``analyze`` whose series is in the sweep (source: that outcome, None), and
        ``<series>_<year>`` for each time series and each saved time that is a whole year
        (source: the series).
    """
    names: dict[str, tuple[str, int | None]] = {
        name: (name, None)
        for name, spec in SCALAR_OUTCOMES.items()
        if all(source in ds for source in spec.sources)
    }
    times = np.asarray(ds["time"].values, float)
    whole = np.flatnonzero(np.abs(times - np.round(times)) <= YEAR_TOLERANCE)
    for name, variable in ds.data_vars.items():
        if "sample" in variable.dims and "time" in variable.dims:
            for index in whole:
                names[f"{name}_{int(round(times[index]))}"] = (str(name), int(index))
    return names


def load_outcomes(ds: xr.Dataset, scenario: int, wanted: set[str]) -> dict[str, np.ndarray]:
    """Return the values of the outcomes ``wanted`` over the samples of one scenario.

    Only those outcomes are read. Values are in the shown units (percent for ratios and rates);
    failed samples are NaN.
    """
    names = outcome_names(ds)
    one = ds.isel(scenario=scenario)
    ok = np.asarray(succeeded(one).values, bool)
    scalars = [name for name in wanted if names[name][1] is None]
    values: dict[str, np.ndarray] = {}
    if scalars:
        computed = scalar_outcomes(one)[scalars].compute()
        for name in scalars:
            units = computed[name].attrs["units"]
            values[name] = shown(np.asarray(computed[name].values, float), units)[0]
    for name in wanted - set(scalars):
        source, index = names[name]
        series = one[source].isel(time=index)
        in_units = shown(np.asarray(series.values, float), series.attrs.get("units", ""))[0]
        values[name] = np.where(ok, in_units, np.nan)
    return values


# ---- the command ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    """What ``discover`` found: the peeling, the chosen box, the tree and the dataset written."""

    dataset: xr.Dataset
    chosen: int
    rules: str


def discover(sweep_dir: Path, where: str, scenario: str | None = None) -> Discovery:
    """Find the boxes of uncertain parameters that hold a sweep's cases of interest.

    Parameters
    ----------
    sweep_dir : Path
        The folder holding ``sweep.zarr``, checked whole before it is read.
    where : str
        The condition (:func:`parse`).
    scenario : str, optional
        The scenario of the sweep whose outcomes are used; the first by default.

    Returns
    -------
    Discovery
        The trajectory, chosen box and tree rules; nothing is written.

    Raises
    ------
    InputError
        If the store is missing, damaged or incomplete, the scenario or condition is bad, or
        no sample (or every sample) that ran meets the condition.
    """
    path = Path(sweep_dir) / STORE_NAME
    if path.is_dir():
        check_whole(path)
    ds = open_sweep(path)
    design = read_design(ds)
    scenarios = [str(s) for s in ds["scenario"].values]
    chosen_scenario = scenarios[0] if scenario is None else scenario
    if chosen_scenario not in scenarios:
        raise unknown_name("scenario of the sweep", chosen_scenario, scenarios)
    condition = parse(where, sorted(outcome_names(ds)))
    names = list(design.names)
    x, y = _cases(ds, scenarios.index(chosen_scenario), condition, names)
    hits = int(y.sum())
    if hits == 0 or hits == len(y):
        which = "no" if hits == 0 else "every"
        raise InputError(
            f"{which} sample of scenario '{chosen_scenario}' that ran ({len(y)}) meets "
            f"'{where}'; nothing to tell apart: choose another threshold"
        )
    bounds = {u.name: (u.low, u.high) for u in design.spec.uncertainties}
    # A lever has no sampled range: its values' span stands for it.
    spans = [bounds.get(n, (x[:, j].min(), x[:, j].max())) for j, n in enumerate(names)]
    full_low, full_high = (np.array(side, float) for side in zip(*spans, strict=True))
    peeling = prim(x, y, full_low, full_high)
    chosen = choose_box(peeling)
    box = prune(x, y, peeling.low[chosen], peeling.high[chosen], full_low, full_high)
    rules, first, threshold = tree_rules(x, y, names)
    units = [str(ds[name].attrs.get("units", "")) for name in names]
    dataset = _dataset(peeling, box, (full_low, full_high), names, units)
    inside = in_box(x, box[0], box[1])
    dataset.attrs.update(
        {
            "title": "debtloops scenario discovery (PRIM and a classification tree)",
            "where": where,
            "scenario": chosen_scenario,
            "chosen_step": chosen,
            "chosen_coverage": float(y[inside].sum() / hits),
            "chosen_density": float(y[inside].mean()),
            "chosen_mass": float(inside.mean()),
            "quasi_p_limit": QP_LIMIT,
            "n_samples": len(y),
            "n_of_interest": hits,
            "peel_alpha": PEEL_ALPHA,
            "min_mass": MIN_MASS,
            "tree_first_split": names[first] if first >= 0 else "",
            "tree_first_threshold": threshold,
            "tree_rules": rules,
            "source": STORE_NAME,
        }
    )
    return Discovery(dataset, chosen, rules)


def _cases(
    ds: xr.Dataset, index: int, condition: Compare | Join, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the inputs (sample, parameter) of one scenario's samples that ran, and the cases.

    Raises
    ------
    InputError
        If no sample of the scenario ran.
    """
    values = load_outcomes(ds, index, named(condition))
    ran = np.asarray(succeeded(ds.isel(scenario=index)).values, bool)
    if not ran.any():
        scenario = str(ds["scenario"].values[index])
        raise InputError(f"no sample of scenario '{scenario}' ran; nothing to discover")
    with np.errstate(invalid="ignore"):
        y = evaluate(condition, values)[ran]
    x = np.column_stack([np.asarray(ds[name].values, float) for name in names])[ran]
    return x, y


def _dataset(
    peeling: Peeling,
    box: tuple[np.ndarray, np.ndarray, np.ndarray],
    full: tuple[np.ndarray, np.ndarray],
    names: list[str],
    units: list[str],
) -> xr.Dataset:
    """Return ``discover.nc``'s variables: the trajectory, the chosen box and the full ranges."""
    box_low, box_high, qp = box
    full_low, full_high = full
    dataset = xr.Dataset(
        {
            "coverage": ("step", peeling.coverage, {"units": "1", "long_name": "coverage"}),
            "density": ("step", peeling.density, {"units": "1", "long_name": "density"}),
            "mass": ("step", peeling.mass, {"units": "1", "long_name": "share of samples"}),
            "box_low": (("step", "parameter"), peeling.low, {"long_name": "box lower limit"}),
            "box_high": (("step", "parameter"), peeling.high, {"long_name": "box upper limit"}),
            "chosen_low": ("parameter", box_low, {"long_name": "chosen box lower limit"}),
            "chosen_high": ("parameter", box_high, {"long_name": "chosen box upper limit"}),
            "quasi_p_value": (
                "parameter",
                qp,
                {"units": "1", "long_name": "quasi-p-value of the chosen box's restriction"},
            ),
            "full_low": ("parameter", full_low, {"long_name": "sampled range, lower limit"}),
            "full_high": ("parameter", full_high, {"long_name": "sampled range, upper limit"}),
            "parameter_units": ("parameter", np.array(units, dtype=object), {"long_name": "units"}),
        },
        coords={
            "step": ("step", np.arange(len(peeling.mass)), {"long_name": "peeling step"}),
            "parameter": ("parameter", np.array(names, dtype=object), {"long_name": "parameter"}),
        },
    )
    for name in ("box_low", "box_high", "chosen_low", "chosen_high", "full_low", "full_high"):
        dataset[name].attrs["comment"] = "in each parameter's units: see parameter_units"
    return dataset


def box_table(found: Discovery) -> pd.DataFrame:
    """Return the chosen box, one row per parameter: full range, box range, whether restricted.

    The box is the chosen peeling step's after :func:`prune`; ``quasi_p_value`` is NaN where the
    parameter is not restricted.
    """
    ds = found.dataset
    low, high = ds["chosen_low"].values, ds["chosen_high"].values
    full_low, full_high = ds["full_low"].values, ds["full_high"].values
    return pd.DataFrame(
        {
            "units": ds["parameter_units"].values,
            "full_low": full_low,
            "full_high": full_high,
            "box_low": low,
            "box_high": high,
            "restricted": (low > full_low) | (high < full_high),
            "quasi_p_value": ds["quasi_p_value"].values,
        },
        index=pd.Index([str(p) for p in ds["parameter"].values], name="parameter"),
    )


def format_discovery(found: Discovery) -> str:
    """Return the printed summary: the box's coverage, density, restricted ranges and the tree."""
    ds = found.dataset
    table = box_table(found)
    restricted = table[table["restricted"]].drop(columns="restricted")
    head = (
        f"{ds.attrs['n_of_interest']} of {ds.attrs['n_samples']} samples of scenario "
        f"'{ds.attrs['scenario']}' meet '{ds.attrs['where']}'\n"
        f"PRIM box (peeling step {found.chosen} of {ds.sizes['step'] - 1}, restrictions with a "
        f"quasi-p-value above {QP_LIMIT:g} dropped): coverage {ds.attrs['chosen_coverage']:.2f}, "
        f"density {ds.attrs['chosen_density']:.2f}, mass {ds.attrs['chosen_mass']:.2f}; "
        f"{len(restricted)} restricted parameter(s):"
    )
    body = restricted.to_string(float_format=lambda v: f"{v:.4g}") if len(restricted) else ""
    hits = int(ds.attrs["n_of_interest"])
    if hits < FEW_CASES:
        head += (
            f"\n(only {hits} case(s) of interest, fewer than {FEW_CASES}: too few to bound a box "
            "reliably; lower the threshold or run more samples)"
        )
    return f"{head}\n{body}\n\nclassification tree (weights: [other, of interest]):\n{found.rules}"


def write_discovery(out_dir: Path, found: Discovery) -> list[Path]:
    """Write ``discover.csv``, ``discover.nc`` and the two figures, each atomically.

    Every target must be absent or debtloops' own (:func:`debtloops.io.check_targets`), checked
    before anything is written.
    """
    from debtloops.figures.discover import plot_box, plot_trajectory

    out_dir = Path(out_dir)
    check_targets(out_dir, OUTPUT_NAMES)
    paths = [out_dir / name for name in OUTPUT_NAMES]
    table, netcdf, trajectory, box = paths
    atomic_file(table, lambda p: box_table(found).to_csv(p))
    atomic_file(netcdf, lambda p: write_netcdf(found.dataset, p, "debtloops discover"))
    atomic_file(trajectory, lambda p: plot_trajectory(found.dataset, found.chosen, p))
    atomic_file(box, lambda p: plot_box(box_table(found), found.dataset.attrs, p))
    return paths
