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
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.errors import InputError, unknown_name
from debtloops.io import atomic_file, check_targets
from debtloops.sweeps.outcomes import SCALAR_OUTCOMES, scalar_outcomes, shown, succeeded
from debtloops.sweeps.store import STORE_NAME, check_whole, open_sweep, read_design

#: The default output folder, inside the sweep folder.
FOLDER_NAME = "discover"
TABLE_NAME, NETCDF_NAME = "discover.csv", "discover.nc"
TRAJECTORY_NAME, BOX_NAME = "discover_trajectory.png", "discover_box.png"
OUTPUT_NAMES = (TABLE_NAME, NETCDF_NAME, TRAJECTORY_NAME, BOX_NAME)
#: Share of the box's samples cut off in one peel [1].
PEEL_ALPHA = 0.05
#: Peeling stops before the box holds fewer than this share of all samples [1].
MIN_MASS = 0.05
#: A restriction of the chosen box whose quasi-p-value is above this is dropped [1].
QP_LIMIT = 0.05
#: Below this many cases of interest the summary warns that a box is not to be relied on [samples].
FEW_CASES = 10
#: Depth of the classification tree [levels].
TREE_DEPTH = 3
#: Smallest leaf of the tree [share of the samples, 1].
TREE_MIN_LEAF = 0.02
#: Seed of the tree's tie-breaking between equally good splits.
TREE_SEED = 0
#: Units shown and compared in percent (ratios and rates).
#: A saved time within this of a whole year names an outcome at that year [year].
YEAR_TOLERANCE = 1e-6
#: The comparison operators a condition may use.
OPERATORS = (">=", "<=", ">", "<")

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[<>=!]=?|=)|(?P<paren>[()])|(?P<bad>\S))"
)


# ---- the condition -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    """``outcome op threshold``, the threshold in the outcome's shown units."""

    outcome: str
    op: str
    threshold: float


@dataclass(frozen=True)
class Join:
    """``left and right`` or ``left or right``."""

    word: str
    left: Compare | Join
    right: Compare | Join


def _tokens(text: str) -> list[tuple[str, str]]:
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "bad":
            raise InputError(f"--where '{text}': unexpected character '{value}'")
        if kind == "name" and value.lower() in ("and", "or"):
            kind, value = "word", value.lower()
        found.append((kind, value))
    return found


def parse(text: str, outcomes: list[str] | tuple[str, ...]) -> Compare | Join:
    """Parse a condition such as ``"debt_to_gdp_2055 > 170 and peak_market_yield >= 6"``.

    Grammar: ``expr := term ('or' term)*``, ``term := factor ('and' factor)*``,
    ``factor := '(' expr ')' | OUTCOME OP NUMBER``, with OP one of :data:`OPERATORS`.

    Parameters
    ----------
    text : str
        The condition.
    outcomes : sequence of str
        The outcome names it may use.

    Returns
    -------
    Compare or Join
        The parsed condition.

    Raises
    ------
    InputError
        For a syntax error, an unknown operator or an unknown outcome (naming the nearest one).
    """
    tokens = _tokens(text)
    position = 0

    def peek() -> tuple[str, str]:
        return tokens[position] if position < len(tokens) else ("end", "end of the condition")

    def fail(wanted: str) -> InputError:
        return InputError(f"--where '{text}': expected {wanted}, found '{peek()[1]}'")

    def take() -> tuple[str, str]:
        nonlocal position
        token = peek()
        position += 1
        return token

    def expr() -> Compare | Join:
        node = term()
        while peek() == ("word", "or"):
            take()
            node = Join("or", node, term())
        return node

    def term() -> Compare | Join:
        node = factor()
        while peek() == ("word", "and"):
            take()
            node = Join("and", node, factor())
        return node

    def factor() -> Compare | Join:
        kind, value = peek()
        if (kind, value) == ("paren", "("):
            take()
            node = expr()
            if peek() != ("paren", ")"):
                raise fail("')'")
            take()
            return node
        if kind != "name":
            raise fail("an outcome name or '('")
        take()
        if value not in outcomes:
            raise unknown_name("outcome", value, outcomes)
        kind, op = peek()
        if kind != "op":
            raise fail("one of " + ", ".join(OPERATORS))
        if op not in OPERATORS:
            raise InputError(
                f"--where '{text}': unknown operator '{op}'; use one of {', '.join(OPERATORS)}"
            )
        take()
        kind, number = peek()
        if kind != "number":
            raise fail("a number")
        take()
        return Compare(value, op, float(number))

    if not tokens:
        raise InputError("--where is empty; e.g. --where 'debt_to_gdp_2055 > 170'")
    node = expr()
    if position != len(tokens):
        raise fail("'and', 'or' or the end")
    return node


def evaluate(node: Compare | Join, values: dict[str, np.ndarray]) -> np.ndarray:
    """Return where the condition holds, given each outcome's values [shown units]."""
    if isinstance(node, Join):
        left, right = evaluate(node.left, values), evaluate(node.right, values)
        return (left & right) if node.word == "and" else (left | right)
    x = values[node.outcome]
    compare = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
    return compare[node.op](x, node.threshold)


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
        name: (name, None) for name, spec in SCALAR_OUTCOMES.items() if spec.source in ds
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


def named(node: Compare | Join) -> set[str]:
    """Return the outcome names a condition uses."""
    if isinstance(node, Join):
        return named(node.left) | named(node.right)
    return {node.outcome}


# ---- PRIM ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peeling:
    """A PRIM peeling trajectory: one box per step, step 0 the full box.

    Attributes
    ----------
    low, high : numpy.ndarray
        (step, parameter): each box's limits [each parameter's units].
    coverage, density, mass : numpy.ndarray
        (step,): each box's coverage, density and mass [1].
    """

    low: np.ndarray
    high: np.ndarray
    coverage: np.ndarray
    density: np.ndarray
    mass: np.ndarray


def prim(
    x: np.ndarray,
    y: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    alpha: float = PEEL_ALPHA,
    min_mass: float = MIN_MASS,
) -> Peeling:
    """Peel a box around the cases of interest (PRIM's top-down peeling, without pasting).

    Each step tries, for every parameter, cutting the samples below its ``alpha`` quantile in the
    box, or above its ``1 - alpha`` quantile, and keeps the cut that leaves the highest density
    (ties: the one that removes fewest samples). A cut that removes nothing or everything is not
    a candidate. Peeling stops when the next box would hold fewer than ``min_mass`` of the samples.

    Parameters
    ----------
    x : numpy.ndarray
        (sample, parameter) inputs [each parameter's units].
    y : numpy.ndarray
        (sample,) bool: the cases of interest; at least one.
    low, high : numpy.ndarray
        (parameter,) the full ranges [each parameter's units].
    alpha : float
        The share of the box's samples each peel cuts [1].
    min_mass : float
        The smallest mass of a box [1].

    Returns
    -------
    Peeling
        The trajectory.
    """
    n = len(y)
    interest = int(y.sum())
    inside = np.ones(n, bool)
    box_low, box_high = np.array(low, float), np.array(high, float)
    steps = []

    def record() -> None:
        held = int(y[inside].sum())
        count = int(inside.sum())
        steps.append((box_low.copy(), box_high.copy(), held / interest, held / count, count / n))

    record()
    while True:
        best = None
        xs, ys = x[inside], y[inside]
        for j in range(x.shape[1]):
            lower, upper = np.quantile(xs[:, j], [alpha, 1.0 - alpha])
            for side, keep in (("low", xs[:, j] >= lower), ("high", xs[:, j] <= upper)):
                kept = int(keep.sum())
                if kept == len(ys) or kept < min_mass * n:
                    continue
                key = (ys[keep].mean(), kept)
                if best is None or key > best[0]:
                    best = (key, j, side, lower if side == "low" else upper, keep)
        if best is None:
            break
        _, j, side, cut, keep = best
        if side == "low":
            box_low[j] = cut
        else:
            box_high[j] = cut
        inside[np.flatnonzero(inside)[~keep]] = False
        record()
    low_s, high_s, coverage, density, mass = (np.array(part) for part in zip(*steps, strict=True))
    return Peeling(low_s, high_s, coverage, density, mass)


def choose_box(peeling: Peeling) -> int:
    """Return the step whose box balances coverage and density best (their harmonic mean)."""
    c, d = peeling.coverage, peeling.density
    score = np.where(c + d > 0, 2.0 * c * d / np.maximum(c + d, np.finfo(float).tiny), 0.0)
    return int(np.argmax(score))


def _inside(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.all((x >= low) & (x <= high), axis=1)


def quasi_p_values(
    x: np.ndarray,
    y: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    full_low: np.ndarray,
    full_high: np.ndarray,
) -> np.ndarray:
    """Return each restriction's quasi-p-value: how likely the box's density is without it.

    For a restricted parameter, the box without that restriction has density ``p``; the
    quasi-p-value is the chance of at least the box's count of cases of interest among the box's
    samples, drawn with probability ``p`` (a one-sided binomial test).

    Returns
    -------
    numpy.ndarray
        (parameter,) [1]; NaN for a parameter not restricted.
    """
    from scipy.stats import binom

    inside = _inside(x, low, high)
    count, hits = int(inside.sum()), int(y[inside].sum())
    values = np.full(x.shape[1], np.nan)
    for j in np.flatnonzero((low > full_low) | (high < full_high)):
        wider_low, wider_high = low.copy(), high.copy()
        wider_low[j], wider_high[j] = full_low[j], full_high[j]
        wider = _inside(x, wider_low, wider_high)
        values[j] = float(binom.sf(hits - 1, count, y[wider].mean()))
    return values


def prune(
    x: np.ndarray,
    y: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    full_low: np.ndarray,
    full_high: np.ndarray,
    limit: float = QP_LIMIT,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop a box's restrictions that the data do not support, the least supported first.

    Returns
    -------
    tuple of numpy.ndarray
        The box's new lower and upper limits, and the quasi-p-values of the restrictions kept
        (:func:`quasi_p_values`).
    """
    low, high = np.array(low, float), np.array(high, float)
    while True:
        values = quasi_p_values(x, y, low, high, full_low, full_high)
        if np.all(np.isnan(values)) or np.nanmax(values) <= limit:
            return low, high, values
        j = int(np.nanargmax(values))
        low[j], high[j] = full_low[j], full_high[j]


def tree_rules(x: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[str, int, float]:
    """Fit a classification tree to the cases of interest and return its rules.

    Returns
    -------
    tuple
        The rules as text (scikit-learn's ``export_text``), the parameter of the first split
        (its column; -1 if the tree does not split) and that split's threshold [its units].
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    leaf = max(1, math.ceil(TREE_MIN_LEAF * len(y)))
    tree = DecisionTreeClassifier(
        max_depth=TREE_DEPTH, min_samples_leaf=leaf, random_state=TREE_SEED
    )
    tree.fit(x, y.astype(int))
    text = export_text(tree, feature_names=list(names), show_weights=True)
    first = int(tree.tree_.feature[0])
    threshold = float(tree.tree_.threshold[0]) if first >= 0 else math.nan
    return text, (first if first >= 0 else -1), threshold


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
    index = scenarios.index(chosen_scenario)
    values = load_outcomes(ds, index, named(condition))
    ran = np.asarray(succeeded(ds.isel(scenario=index)).values, bool)
    if not ran.any():
        raise InputError(f"no sample of scenario '{chosen_scenario}' ran; nothing to discover")
    with np.errstate(invalid="ignore"):
        y = evaluate(condition, values)[ran]
    names = list(design.names)
    x = np.column_stack([np.asarray(ds[name].values, float) for name in names])[ran]
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
    box_low, box_high, qp = prune(
        x, y, peeling.low[chosen], peeling.high[chosen], full_low, full_high
    )
    inside = _inside(x, box_low, box_high)
    rules, first, threshold = tree_rules(x, y, names)
    units = [str(ds[name].attrs.get("units", "")) for name in names]
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
        attrs={
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
        },
    )
    for name in ("box_low", "box_high", "chosen_low", "chosen_high", "full_low", "full_high"):
        dataset[name].attrs["comment"] = "in each parameter's units: see parameter_units"
    return Discovery(dataset, chosen, rules)


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
