"""Split a scenario's extra over the baseline into the model's mechanisms, by Shapley values.

The mechanisms are named in one table, ``models/mechanisms.toml``: each lists the parameters and
the values that switch it off. For a set ``S`` of mechanisms left on (the others off), the value
``f(S)`` is an outcome of the scenario less the same outcome of the baseline, both run with ``S``
on; the extras are those of :func:`debtloops.outputs.headline`, defined once in
:data:`debtloops.model.outcomes.OUTCOMES`. A mechanism's share is its Shapley
value in that game, so the shares add up to ``f(all) - f(none)`` exactly, and ``f(none)``, the
extra with every mechanism off, is reported as the remainder: shares plus remainder are the
scenario's full extra.

With up to :data:`EXACT_LIMIT` mechanisms every subset runs (``2^n`` of the scenario and ``2^n`` of
the baseline, in one pysd ensemble); beyond that, sampled permutations give each share with its
standard error. Runs with the same parameter values are simulated once, so a mechanism that is
already off in both runs costs nothing and gets exactly zero.

The mechanism table is read in :mod:`debtloops.attribution.mechanisms`, the Shapley values are
computed in :mod:`debtloops.attribution.shapley`; the runs and the dataset are here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.attribution.mechanisms import (
    MECHANISM_TABLE,
    Mechanism,
    load_mechanisms,
    select,
)
from debtloops.attribution.shapley import (
    permutation_masks,
    sample_permutations,
    shapley_exact,
    shapley_sampled,
)
from debtloops.cf import write_netcdf
from debtloops.errors import InputError, SimulationError
from debtloops.io import atomic_file, check_targets
from debtloops.limits import check_count, check_seed
from debtloops.model import ensemble
from debtloops.model.contract import value_problems
from debtloops.model.outcomes import OUTCOMES as REGISTRY
from debtloops.model.outcomes import value
from debtloops.model.parameters import Value, load_parameters
from debtloops.model.run import CONVENTIONS, PreparedRun, prepare, reference_for, vintage_attrs
from debtloops.provenance import provenance_attrs
from debtloops.units import BASIS_POINTS, PERCENT

__all__ = [
    "MECHANISM_TABLE",
    "Mechanism",
    "attribute",
    "attribution_table",
    "coalition_values",
    "load_mechanisms",
    "permutation_masks",
    "run_coalitions",
    "sample_permutations",
    "select",
    "shapley_exact",
    "shapley_sampled",
    "write_attribution",
]

#: The most mechanisms attributed exactly, over every subset (2^12 = 4,096 subsets).
EXACT_LIMIT = 12
#: Permutations drawn beyond :data:`EXACT_LIMIT` mechanisms, and their default seed.
DEFAULT_PERMUTATIONS = 256
DEFAULT_SEED = 20
#: The smallest ensemble pysd can translate with a ``sample`` subscript [runs].
MIN_ENSEMBLE = 2
#: The model variables read from every run: those the headline outcomes and the checks need.
VARIABLES = (
    "market_yield",
    "cumulative_net_interest",
    "cumulative_nominal_gdp",
    "debt_held_by_public",
    "output_gap",
    "inflation",
    "dollar_index",
)
#: The outcomes attributed: the name in attribution's files -> the outcome of the one registry
#: (:data:`debtloops.model.outcomes.OUTCOMES`), each against the baseline as the headline's.
ATTRIBUTED = {
    "extra_interest": "extra_interest_to_horizon",
    "peak_extra_yield": "peak_extra_yield",
    "extra_debt_to_gdp": "extra_debt_to_fy_gdp_horizon",
}
#: The units the files show, by the model's units: (units, scale from the model's).
SHOWN_UNITS = {"1/year": ("bp", BASIS_POINTS), "1": ("percent", PERCENT)}
#: The scalar outcomes: name -> (long name, units in files, scale from the model's units).
OUTCOMES: dict[str, tuple[str, str, float]] = {
    name: (
        REGISTRY[outcome].long_name,
        *SHOWN_UNITS.get(REGISTRY[outcome].units, (REGISTRY[outcome].units, 1.0)),
    )
    for name, outcome in ATTRIBUTED.items()
}
#: Units of the CSV and the chart as netCDF writes them: a basis point of yield in UDUNITS' terms.
CF_UNITS = {"bp": "1e-4/year"}
#: The outcome over time, and its scale from the model's units.
PATH_OUTCOME, PATH_LONG_NAME, PATH_UNITS = "extra_yield", "extra 10-year yield", "bp"
#: The files ``debtloops attribute`` writes.
OUTPUT_NAMES = ("attribution.nc", "attribution.csv", "attribution.png")
#: The name of the remainder, the extra with every mechanism off.
REMAINDER = "all mechanisms off"
# ---- running the coalitions ----


def _row(run: PreparedRun, mechanisms: Sequence[Mechanism], mask: int) -> dict[str, float]:
    """Return the mechanism parameters' values of one coalition: the run's own when on."""
    row: dict[str, float] = {}
    for i, mechanism in enumerate(mechanisms):
        for name, off in mechanism.off.items():
            own = run.values[name]
            if isinstance(own, Mapping):
                raise InputError(f"mechanism '{mechanism.name}': {name} is a driver path here")
            row[name] = float(own) if mask >> i & 1 else off
    return row


def _scalar_differences(runs: Sequence[PreparedRun]) -> list[str] | None:
    """Name the scalar parameters that differ between the runs; None if a driver path differs."""
    first = runs[0].values
    names = [k for run in runs[1:] for k, v in run.values.items() if v != first[k]]
    if any(isinstance(first[k], Mapping) for k in names):
        return None
    return list(dict.fromkeys(names))


def _ensemble(
    values: Mapping[str, Value], rows: Sequence[Mapping[str, float]]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run distinct rows of parameter values in one ensemble; return results by row."""
    keys = [tuple(sorted(row.items())) for row in rows]
    unique = list(dict.fromkeys(keys))
    index = {key: i for i, key in enumerate(unique)}
    width = max(MIN_ENSEMBLE, 1 << (len(unique) - 1).bit_length())  # one translation per power
    padded = unique + [unique[0]] * (width - len(unique))
    names = [name for name, _ in unique[0]]
    sampled = {name: np.array([dict(key)[name] for key in padded]) for name in names}
    times, results = ensemble.simulate(values, sampled, VARIABLES)
    problems = value_problems(results, times)[: len(unique)]
    for key, problem in zip(unique, problems, strict=True):
        if problem:
            raise SimulationError(f"the run with {dict(key)} failed: {problem}")
    order = np.array([index[key] for key in keys])
    return times, {name: array[order] for name, array in results.items()}


def run_coalitions(
    scenario: PreparedRun,
    baseline: PreparedRun,
    mechanisms: Sequence[Mechanism],
    masks: Sequence[int],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run the scenario and the baseline with each coalition of mechanisms on.

    Both go into one ensemble when they differ in constants only, else one ensemble each.

    Returns
    -------
    times : numpy.ndarray
        The saved times [year].
    scenario_results, baseline_results : dict of str to numpy.ndarray
        Each of :data:`VARIABLES`, shape ``(len(masks), times)`` [the .mdl's units].
    """
    differing = _scalar_differences([scenario, baseline])
    if differing is None:
        times, first = _ensemble(scenario.values, [_row(scenario, mechanisms, m) for m in masks])
        _, second = _ensemble(baseline.values, [_row(baseline, mechanisms, m) for m in masks])
        return times, first, second
    rows = []
    for run in (scenario, baseline):
        own = {name: float(run.values[name]) for name in differing}  # type: ignore[arg-type]
        rows += [{**own, **_row(run, mechanisms, m)} for m in masks]
    times, both = _ensemble(scenario.values, rows)
    count = len(masks)
    return (
        times,
        {k: v[:count] for k, v in both.items()},
        {k: v[count:] for k, v in both.items()},
    )


def _dataset(times: np.ndarray, results: Mapping[str, np.ndarray]) -> xr.Dataset:
    return xr.Dataset(
        {name: (("coalition", "time"), results[name]) for name in VARIABLES},
        coords={"time": times},
    )


def coalition_values(
    times: np.ndarray,
    scenario: Mapping[str, np.ndarray],
    baseline: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Return each coalition's extras, as :func:`debtloops.outputs.headline` defines them.

    Parameters
    ----------
    times : numpy.ndarray
        The saved times [year].
    scenario, baseline : mapping of str to numpy.ndarray
        Each of :data:`VARIABLES`, shape ``(coalitions, times)`` [the .mdl's units].

    Returns
    -------
    scalars : numpy.ndarray
        Shape ``(coalitions, len(OUTCOMES))``, in :data:`OUTCOMES`' order and units.
    path : numpy.ndarray
        Shape ``(coalitions, times)``: the scenario's 10-year yield less the baseline's [bp].
    """
    ours, theirs = _dataset(times, scenario), _dataset(times, baseline)
    raw = {name: value(outcome, ours, theirs) for name, outcome in ATTRIBUTED.items()}
    scalars = np.stack([raw[name].to_numpy() * OUTCOMES[name][2] for name in OUTCOMES], axis=1)
    path = BASIS_POINTS * (scenario["market_yield"] - baseline["market_yield"])
    return scalars, path


def attribute(
    name: str | PreparedRun,
    mechanism_names: Sequence[str] | None = None,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    cbo: str | Path | None = None,
    baseline: PreparedRun | None = None,
) -> xr.Dataset:
    """Attribute a scenario's extras over the baseline to the mechanisms.

    Parameters
    ----------
    name : str or PreparedRun
        The scenario, a shipped name or a ``.toml`` path, or one already prepared (with
        ``--set`` and ``--final-time`` applied, as ``debtloops report`` has it).
    mechanism_names : sequence of str, optional
        The mechanisms to attribute; every one of the table by default. The others stay as the
        scenario has them.
    permutations : int
        Orders sampled when there are more than :data:`EXACT_LIMIT` mechanisms.
    seed : int
        Seed of that sample.
    cbo : str or Path, optional
        The CBO vintage, a shipped name or a folder (``--cbo``); the scenario's own by default.
        The baseline is on the same vintage.
    baseline : PreparedRun, optional
        The reference it is compared with; by default
        :func:`debtloops.model.run.reference_for` the scenario.

    Returns
    -------
    xarray.Dataset
        CF-style: ``share_<outcome>`` by ``mechanism``, ``remainder_<outcome>`` and
        ``total_<outcome>`` (the full extra), ``stderr_<outcome>``, and the same for the path of
        the extra 10-year over ``time``.

    Raises
    ------
    InputError
        On an unknown scenario or mechanism.
    """
    permutations = check_count(permutations, "--permutations", low=MIN_ENSEMBLE)
    seed = check_seed(seed, "--seed")
    table = load_parameters()
    scenario = name if isinstance(name, PreparedRun) else prepare(name, table=table, cbo=cbo)
    if baseline is None:
        baseline = reference_for(scenario, table=table)  # the reference of `debtloops run` too
    mechanisms = select(load_mechanisms(table=table), mechanism_names)
    if not mechanisms:
        raise InputError("no mechanism to attribute; name at least one with --mechanisms")
    n = len(mechanisms)
    exact = n <= EXACT_LIMIT
    orders = None if exact else sample_permutations(n, permutations, seed)
    masks = list(range(1 << n)) if orders is None else permutation_masks(orders)
    times, ours, theirs = run_coalitions(scenario, baseline, mechanisms, masks)
    scalars, path = coalition_values(times, ours, theirs)
    table_of = np.concatenate([scalars, path], axis=1)
    if orders is None:
        shares, errors = shapley_exact(table_of), np.zeros((n, table_of.shape[1]))
    else:
        position = {mask: i for i, mask in enumerate(masks)}
        shares, errors = shapley_sampled(lambda mask: table_of[position[mask]], orders)
    everything = masks.index((1 << n) - 1)
    method = "exact over every subset" if orders is None else f"{len(orders)} sampled permutations"
    return _to_dataset(
        scenario, mechanisms, times, shares, errors, table_of[0], table_of[everything], method
    )


def _to_dataset(
    scenario: PreparedRun,
    mechanisms: Sequence[Mechanism],
    times: np.ndarray,
    shares: np.ndarray,
    errors: np.ndarray,
    none: np.ndarray,
    full: np.ndarray,
    method: str,
) -> xr.Dataset:
    count = len(OUTCOMES)
    names = [m.name for m in mechanisms]
    data: dict[str, xr.DataArray] = {}
    for j, (outcome, (long_name, units, _)) in enumerate(OUTCOMES.items()):
        attrs = {"units": CF_UNITS.get(units, units)}
        data[f"share_{outcome}"] = xr.DataArray(
            shares[:, j],
            dims="mechanism",
            attrs={"long_name": f"share of the {long_name}", **attrs},
        )
        data[f"stderr_{outcome}"] = xr.DataArray(
            errors[:, j],
            dims="mechanism",
            attrs={"long_name": f"standard error of the share of the {long_name}", **attrs},
        )
        data[f"remainder_{outcome}"] = xr.DataArray(
            none[j], attrs={"long_name": f"{long_name} with every mechanism off", **attrs}
        )
        data[f"total_{outcome}"] = xr.DataArray(
            full[j],
            attrs={"long_name": f"{long_name}, every mechanism as in the scenario", **attrs},
        )
    path_attrs = {"units": CF_UNITS.get(PATH_UNITS, PATH_UNITS)}
    data[f"share_{PATH_OUTCOME}"] = xr.DataArray(
        shares[:, count:],
        dims=("mechanism", "time"),
        attrs={"long_name": f"share of the {PATH_LONG_NAME}", **path_attrs},
    )
    data[f"stderr_{PATH_OUTCOME}"] = xr.DataArray(
        errors[:, count:],
        dims=("mechanism", "time"),
        attrs={"long_name": f"standard error of the share of the {PATH_LONG_NAME}", **path_attrs},
    )
    data[f"remainder_{PATH_OUTCOME}"] = xr.DataArray(
        none[count:],
        dims="time",
        attrs={"long_name": f"{PATH_LONG_NAME} with every mechanism off", **path_attrs},
    )
    data[f"total_{PATH_OUTCOME}"] = xr.DataArray(
        full[count:], dims="time", attrs={"long_name": PATH_LONG_NAME, **path_attrs}
    )
    coords = {
        "mechanism": xr.DataArray(
            names,
            dims="mechanism",
            attrs={"long_name": "mechanism of models/mechanisms.toml"},
        ),
        "time": xr.DataArray(
            times, dims="time", attrs={"long_name": "decimal fiscal year", "units": "year"}
        ),
        "description": xr.DataArray(
            [m.description for m in mechanisms],
            dims="mechanism",
            attrs={"long_name": "what it does"},
        ),
    }
    attrs = {
        "Conventions": CONVENTIONS,
        "title": f"Attribution of scenario {scenario.scenario.name}'s extra over the baseline",
        "scenario": scenario.scenario.name,
        "method": f"Shapley values, {method}",
        "comment": (
            "share_* sum to total_* less remainder_*: the remainder is the extra with every "
            "mechanism off. Yields in basis points (1e-4/year); debt/GDP in points (percent)."
        ),
        **vintage_attrs(scenario.vintage),
        **provenance_attrs(),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def attribution_table(dataset: xr.Dataset) -> pd.DataFrame:
    """Return the scalar shares as a table, one row per mechanism, then the remainder and total."""
    columns = {}
    for outcome, (long_name, units, _) in OUTCOMES.items():
        share = dataset[f"share_{outcome}"].to_numpy()
        rest, total = float(dataset[f"remainder_{outcome}"]), float(dataset[f"total_{outcome}"])
        columns[f"{long_name} [{units}]"] = [*share, rest, total]
        columns[f"standard error, {long_name} [{units}]"] = [
            *dataset[f"stderr_{outcome}"].to_numpy(),
            0.0,
            0.0,
        ]
    index = [*dataset["mechanism"].to_numpy().tolist(), REMAINDER, "total"]
    return pd.DataFrame(columns, index=pd.Index(index, name="mechanism"))


def write_attribution(out_dir: Path, dataset: xr.Dataset) -> list[Path]:
    """Write ``attribution.nc``, ``attribution.csv`` and ``attribution.png`` into ``out_dir``.

    Each file is written to a temporary name and renamed into place
    (:func:`debtloops.io.atomic_file`); every target must be absent or debtloops' own, checked
    before the first is written.

    Returns
    -------
    list of Path
        The files written.
    """
    from debtloops.figures.attribution import plot_waterfall

    check_targets(out_dir, OUTPUT_NAMES)
    netcdf, table, chart = (out_dir / name for name in OUTPUT_NAMES)
    atomic_file(
        netcdf, lambda path: write_netcdf(dataset, path, "debtloops attribute wrote attribution.nc")
    )
    atomic_file(table, lambda path: attribution_table(dataset).to_csv(path))
    atomic_file(chart, lambda path: plot_waterfall(dataset, OUTCOMES, path))
    return [netcdf, table, chart]
