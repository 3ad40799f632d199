"""Compare policy responses across one uncertainty sample: each policy's outcomes and its regret.

``debtloops compare-policies SPEC --out DIR`` speaks EMA Workbench's language:

- the **uncertainties** and their sample (the **experiments**) are the sweep specification's,
  drawn by :func:`debtloops.sweeps.design.design` (its sampler, its seed);
- the **levers** are parameters of the table, and a **policy** is a set of lever values: each
  shipped policy scenario (:data:`SHIPPED_POLICIES`: the Fed's backstop, fiscal consolidation,
  monetary tightening and the diversification of reserves) contributes what its ``[set]`` and
  ``[series]`` change beyond its base scenario, e.g. ``fed_backstop_switch = 1``. The policy
  :data:`NO_POLICY` changes nothing. Levers are parameter values only: the ``.mdl`` holds every
  equation;
- the **outcomes** are the sweep's scalar outcomes
  (:data:`debtloops.sweeps.outcomes.SCALAR_OUTCOMES`, from the one registry
  :data:`debtloops.model.outcomes.OUTCOMES`).

Every policy is applied on top of each of the specification's scenarios and run over the same
experiments, through the sweep's own machinery (:func:`debtloops.sweeps.execute.run_plan`): the
runs are chunked, kept in ``DIR/sweep.zarr`` (whose ``scenario`` coordinate names each run
``SCENARIO:POLICY``) and resumed where a killed command stopped. Extra interest is counted against
the baseline without any policy, with the same sampled values.

A policy's **regret** in one experiment, for one outcome, is how much worse it does than the best
policy in that experiment (Savage's regret, as EMA Workbench computes it): for an outcome where
lower is better (:data:`DIRECTIONS`), its value less the smallest value of any policy. So the best
policy's regret is zero and every other's is positive or zero. An experiment in which any policy's
run failed has no regret: it is left out of every summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.errors import InputError, unknown_name
from debtloops.io import atomic_file, check_targets
from debtloops.limits import check_memory
from debtloops.model.outcomes import Selection
from debtloops.model.parameters import Value
from debtloops.model.run import prepare
from debtloops.model.scenarios import REFERENCE, list_scenarios, load_scenario
from debtloops.sweeps import store
from debtloops.sweeps.execute import SPEC_COPY, SweepPlan, chunk_bytes, plan
from debtloops.sweeps.outcomes import SCALAR_OUTCOMES, scalar_outcomes, shown

#: The shipped scenarios whose lever settings are compared by default: the article's four
#: responses (models/scenarios/*.toml).
SHIPPED_POLICIES = ("fed_backstop", "fiscal_reform", "fed_tightening", "diversification")
#: The policy that sets no lever: each scenario as its file has it.
NO_POLICY = "no_policy"
#: Between a scenario's name and a policy's in the sweep store's ``scenario`` coordinate.
RUN_SEPARATOR = ":"
#: The outcomes whose regret is computed: those with a direction in the registry; the others are
#: reported only (the dollar's trough is good or bad depending on whom one asks).
DIRECTIONS = Selection(lambda outcome: outcome.per_sample and bool(outcome.direction))
#: Percentiles of an outcome and of its regret across experiments in the table [%].
LOW_PERCENTILE, HIGH_PERCENTILE = 5.0, 95.0
#: The files written beside ``sweep.zarr``.
OUTPUT_NAMES = ("policies.nc", "policies.csv", "policies.png")
#: Everything the command writes into ``--out``.
ALL_NAMES = (*OUTPUT_NAMES, SPEC_COPY, store.STORE_NAME)


@dataclass(frozen=True)
class Policy:
    """One policy: a name and the lever values it sets.

    Attributes
    ----------
    name : str
        Its name: a shipped scenario's, or :data:`NO_POLICY`.
    settings : dict of str to Value
        The parameters it sets and their values [the parameters' units].
    """

    name: str
    settings: dict[str, Value]

    def describe(self) -> str:
        """Return the lever settings as text, ``fed_backstop_switch = 1`` ("none" if empty)."""
        parts = [
            f"{name} = {value:g}" if isinstance(value, int | float) else f"{name} = (series)"
            for name, value in self.settings.items()
        ]
        return ", ".join(parts) or "none"


def policy_from_scenario(name: str) -> Policy:
    """Return the policy of a shipped scenario: what it sets beyond its base scenario.

    Raises
    ------
    InputError
        If no shipped scenario has that name, it is named :data:`NO_POLICY`, or it sets nothing
        beyond its base.
    """
    if name == NO_POLICY:
        raise InputError(f"'{NO_POLICY}' is always compared; name the other policies only")
    if name not in list_scenarios():
        raise unknown_name("policy (a shipped scenario)", name, list_scenarios())
    scenario = load_scenario(name)
    base = load_scenario(scenario.chain[-2]).overrides if len(scenario.chain) > 1 else {}
    settings = {k: v for k, v in scenario.overrides.items() if base.get(k) != v}
    if not settings:
        raise InputError(
            f"policy '{name}' sets no parameter beyond its base scenario, so it is the "
            f"'{NO_POLICY}' case; choose one of: {', '.join(SHIPPED_POLICIES)}"
        )
    return Policy(name, settings)


def load_policies(names: Sequence[str] | None = None) -> list[Policy]:
    """Return :data:`NO_POLICY` and the policies of ``names`` (:data:`SHIPPED_POLICIES` by default).

    Raises
    ------
    InputError
        On an unknown or repeated name (see :func:`policy_from_scenario`).
    """
    names = list(SHIPPED_POLICIES if names is None else names)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"--policies names {repeated[0]} twice; name each policy once")
    return [Policy(NO_POLICY, {}), *(policy_from_scenario(n) for n in names)]


def run_name(scenario: str, policy: str) -> str:
    """Return a scenario's run under a policy as the store names it: ``japan_full:fed_backstop``."""
    return f"{scenario}{RUN_SEPARATOR}{policy}"


def _check_policies(
    policies: Sequence[Policy], swept: set[str], spec_name: str, overrides: Mapping[str, Value]
) -> None:
    """Refuse policies named twice, or setting an uncertainty or a parameter of ``--set``."""
    names = [policy.name for policy in policies]
    if len(set(names)) != len(names):
        raise InputError("two policies have the same name; name each policy once")
    for policy in policies:
        both = sorted(swept & set(policy.settings))
        if both:
            raise InputError(
                f"policy '{policy.name}' sets {both[0]}, which {spec_name} samples as an "
                "uncertainty; remove it from [uncertainties] or choose another policy"
            )
        both = sorted(set(overrides) & set(policy.settings))
        if both:
            raise InputError(
                f"--set {both[0]}: policy '{policy.name}' sets it; leave it out of --set or "
                "compare other policies"
            )


def policy_plan(
    spec_path: Path,
    policies: Sequence[Policy],
    chunk_size: int | None = None,
    cbo: str | Path | None = None,
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
) -> SweepPlan:
    """Lay out the sweep of every policy over a specification's experiments; nothing is written.

    Parameters
    ----------
    spec_path : Path
        The sweep specification: its scenarios, outcomes, uncertainties and sampler.
    policies : sequence of Policy
        The policies, :data:`NO_POLICY` first as a rule; names must differ.
    chunk_size : int, optional
        Experiments per chunk (see :func:`debtloops.sweeps.execute.plan`).
    cbo : str or Path, optional
        The CBO vintage of every run, the baseline's too (``--cbo``); each scenario's by default.
    overrides : mapping, optional
        Parameter values set in every run, the baseline's too (``--set``); not an uncertainty nor
        a parameter a policy sets.
    final_time : float, optional
        The last year simulated (``--final-time``) [year], instead of the specification's.

    Returns
    -------
    SweepPlan
        The specification's plan whose runs are each scenario under each policy, scenario-major,
        and the baseline (the reference of extra interest).

    Raises
    ------
    InputError
        On an invalid specification, one with ``[levers]`` (the policies are the levers here), a
        policy that sets one of the uncertainties, or a value a scenario refuses.
    """
    overrides = dict(overrides or {})
    base = plan(spec_path, chunk_size, cbo=cbo, overrides=overrides, final_time=final_time)
    spec = base.design.spec
    if spec.levers:
        raise InputError(
            f"{spec_path.name}: compare-policies takes its levers from the policies; remove "
            f"[levers] ({', '.join(spec.levers)}) from the specification"
        )
    _check_policies(policies, {u.name for u in spec.uncertainties}, spec_path.name, overrides)
    runs = [run_name(s, p.name) for s in spec.scenarios for p in policies]
    values = {
        run_name(s, p.name): prepare(
            s, {**overrides, **p.settings}, spec.final_time, base.table, cbo
        ).values
        for s in spec.scenarios
        for p in policies
    }
    values[REFERENCE] = base.base_values[REFERENCE]
    trailer = "".join(f"\n# policy {p.name}: {p.describe()}" for p in policies)
    compared = dataclasses.replace(spec, scenarios=tuple(runs), text=spec.text + trailer)
    check_memory(
        chunk_bytes(base.chunk_size, len(runs) + 1, len(base.internal), len(base.times)),
        f"a chunk of {base.chunk_size:,} experiments under {len(policies)} policies",
        "give a smaller --chunk-size",
    )
    return dataclasses.replace(
        base,
        design=dataclasses.replace(base.design, spec=compared),
        runs=(*runs, REFERENCE),
        base_values=values,
    )


def regret(values: np.ndarray, axis: int) -> np.ndarray:
    """Return each policy's regret: its value less the best (smallest) along ``axis``.

    Parameters
    ----------
    values : numpy.ndarray
        An outcome where lower is better, one entry per policy along ``axis`` [its units]; NaN for
        a failed run.

    Returns
    -------
    numpy.ndarray
        Same shape [the outcome's units]: zero for the best policy, positive or zero for the
        others; NaN wherever any policy's value along ``axis`` is NaN.
    """
    return values - np.min(values, axis=axis, keepdims=True)


def compare(out_dir: Path, policies: Sequence[Policy]) -> xr.Dataset:
    """Read a finished policy sweep and return each policy's outcomes and regret.

    Parameters
    ----------
    out_dir : Path
        The folder holding the ``sweep.zarr`` of :func:`policy_plan`'s plan.
    policies : sequence of Policy
        The policies it was run with, in order.

    Returns
    -------
    xarray.Dataset
        Over ``scenario``, ``policy`` and ``experiment`` (with one coordinate per uncertainty
        [its units]): each scalar outcome in its source's units and, for those in
        :data:`DIRECTIONS`, ``regret_<outcome>`` in the same units (attribute ``direction``);
        ``levers`` (``policy``, text) names each policy's settings.
    """
    ds = store.open_sweep(store.store_path(out_dir))
    design = store.read_design(ds)
    spec = design.spec
    names = [p.name for p in policies]
    scenarios = list(dict.fromkeys(s.split(RUN_SEPARATOR)[0] for s in spec.scenarios))
    expected = [run_name(s, p) for s in scenarios for p in names]
    if list(spec.scenarios) != expected:
        raise InputError(f"{out_dir} holds a sweep of other runs than these policies")
    scalars = scalar_outcomes(ds).compute()
    shape = (len(scenarios), len(names), design.n_samples)
    dims = ("scenario", "policy", "experiment")
    data: dict[str, tuple] = {}
    for name, variable in scalars.data_vars.items():
        values = np.asarray(variable.values, float).reshape(shape)
        data[str(name)] = (dims, values, dict(variable.attrs))
        if name in DIRECTIONS:
            attrs = {
                "units": variable.attrs["units"],
                "long_name": f"regret: {variable.attrs['long_name']} less the best policy's",
                "direction": DIRECTIONS[str(name)].direction,
            }
            data[f"regret_{name}"] = (dims, regret(values, axis=1), attrs)
    levers = np.array([p.describe() for p in policies], dtype=object)
    data["levers"] = ("policy", levers, {"long_name": "lever settings of each policy"})
    coords = {
        "scenario": ("scenario", np.array(scenarios, dtype=object), {"long_name": "scenario"}),
        "policy": ("policy", np.array(names, dtype=object), {"long_name": "policy"}),
        "experiment": ("experiment", np.arange(design.n_samples), {"long_name": "experiment"}),
    }
    for j, uncertainty in enumerate(spec.uncertainties):
        attrs = {k: ds[uncertainty.name].attrs[k] for k in ("units", "long_name")}
        coords[uncertainty.name] = ("experiment", design.values[:, j], attrs)
    return xr.Dataset(
        data,
        coords=coords,
        attrs={
            "title": "debtloops compare-policies: outcomes and regret of each policy",
            "sweep": spec.name,
            "sampler": spec.method,
            "seed": spec.seed,
            "experiments": design.n_samples,
            "uncertainties": ", ".join(design.parameters),
            "regret": "a policy's outcome less the best policy's in the same experiment, for "
            "outcomes where lower is better; experiments where any policy failed are left out",
        },
    )


def policy_table(dataset: xr.Dataset) -> pd.DataFrame:
    """Return one row per scenario, policy and outcome: the outcome and its regret, summarised.

    Values are in the shown units (percent for ratios and rates). Only experiments in which every
    policy ran count: ``mean``, the 5th and 95th percentiles, ``mean_regret``, ``p95_regret``,
    ``max_regret`` and ``share_best`` (the share of experiments in which the policy is best, ties
    counting for each).
    """
    rows = []
    outcomes = [n for n in SCALAR_OUTCOMES if n in dataset]
    for i, scenario in enumerate(dataset["scenario"].values):
        ran = np.all(np.isfinite(np.stack([dataset[n].values[i] for n in outcomes])), axis=(0, 1))
        for j, policy in enumerate(dataset["policy"].values):
            for name in outcomes:
                units = dataset[name].attrs["units"]
                values, shown_units = shown(dataset[name].values[i, j, ran], units)
                row = {
                    "scenario": scenario,
                    "policy": policy,
                    "levers": str(dataset["levers"].values[j]),
                    "outcome": name,
                    "units": shown_units,
                    "direction": SCALAR_OUTCOMES[name].direction,
                    "experiments": int(ran.sum()),
                    "mean": _stat(np.mean, values),
                    f"p{LOW_PERCENTILE:g}": _stat(np.percentile, values, LOW_PERCENTILE),
                    f"p{HIGH_PERCENTILE:g}": _stat(np.percentile, values, HIGH_PERCENTILE),
                }
                if name in DIRECTIONS:
                    loss = shown(dataset[f"regret_{name}"].values[i, j, ran], units)[0]
                    row["mean_regret"] = _stat(np.mean, loss)
                    row[f"p{HIGH_PERCENTILE:g}_regret"] = _stat(
                        np.percentile, loss, HIGH_PERCENTILE
                    )
                    row["max_regret"] = _stat(np.max, loss)
                    row["share_best"] = _stat(np.mean, loss == 0.0)
                rows.append(row)
    return pd.DataFrame(rows)


def _stat(function, values: np.ndarray, *args: float) -> float:
    """Apply a summary to values, NaN when there are none."""
    return float(function(values, *args)) if values.size else float("nan")


def format_table(table: pd.DataFrame) -> str:
    """Return the regret columns of :func:`policy_table` as text, one block per scenario."""
    shown_rows = table[table["direction"] != ""]
    columns = ["scenario", "policy", "outcome", "units", "mean", "mean_regret", "max_regret"]
    return shown_rows[[*columns, "share_best"]].to_string(
        index=False, float_format=lambda x: f"{x:,.2f}"
    )


def write_policies(out_dir: Path, dataset: xr.Dataset) -> list[Path]:
    """Write ``policies.nc``, ``policies.csv`` and ``policies.png`` into ``out_dir``, atomically.

    Every target must be absent or debtloops' own (:func:`debtloops.io.check_targets`); the
    caller holds the folder's lock.
    """
    from debtloops.figures.policies import plot_regret

    check_targets(out_dir, OUTPUT_NAMES)
    netcdf, table, chart = (Path(out_dir) / name for name in OUTPUT_NAMES)
    atomic_file(netcdf, lambda p: write_netcdf(dataset, p, "debtloops compare-policies"))
    atomic_file(table, lambda p: policy_table(dataset).to_csv(p, index=False))
    attrs = dataset.attrs
    source = (
        f"debtloops compare-policies {attrs['sweep']}: {attrs['experiments']:,} experiments "
        f"({attrs['sampler']}, seed {attrs['seed']}) of "
        f"{len(str(attrs['uncertainties']).split(', '))} uncertainties"
    )
    atomic_file(chart, lambda p: plot_regret(dataset, p, source))
    return [netcdf, table, chart]
