"""Sensitivity analysis of sweeps: checked on functions whose indices are known analytically, and on
small synthetic sweeps written into a sweep store by the store's own functions."""

import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr
from matplotlib.image import imread
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from debtloops.errors import InputError
from debtloops.figures import sweeps as figures
from debtloops.io import OWN_NAMES
from debtloops.sweeps import analysis as sa
from debtloops.sweeps import indices as si
from debtloops.sweeps import outcomes as so
from debtloops.sweeps import store
from debtloops.sweeps.design import with_levers
from debtloops.sweeps.spec import SweepSpec, Uncertainty

UNITS = {
    "debt_to_gdp": ("1", "debt held by the public / GDP"),
    "market_yield": ("1/year", "10-year market yield"),
    "interest_to_revenue": ("1", "net interest / revenue"),
    "dollar_index": ("index", "broad dollar index"),
    "cumulative_net_interest": ("billion USD", "cumulative net interest"),
    "extra_interest": ("billion USD", "extra interest against the baseline"),
}


def make_sweep(
    inputs,
    outcomes,
    *,
    sampler,
    bounds,
    times=(0.0, 1.0, 2.0),
    scenarios=("base",),
    levers=None,
    errors=None,
    seed=7,
    calc_second_order=False,
    morris_levels=4,
    folder=None,
    nan_failed=True,
):
    """Write a sweep store through the store's own functions and open it as ``analyze`` does.

    ``inputs`` maps each uncertainty to its values over the design rows; the design is repeated
    for every lever combination (:func:`with_levers`). ``outcomes`` maps a variable to an array
    (sample, time) or, with several scenarios, (scenario, sample, time). ``errors`` is a list of
    (scenario index, sample) of failed samples: their error message is set and, with
    ``nan_failed``, their outcomes become NaN. The store goes to ``folder/sweep.zarr`` (a fresh
    temporary folder by default).
    """
    levers = levers or {}
    names = list(inputs)
    spec = SweepSpec(
        name="synthetic",
        text="# synthetic sweep written by the tests\n",
        scenarios=tuple(scenarios),
        outcomes=tuple(name for name in outcomes if name != store.EXTRA_INTEREST),
        final_time=float(times[-1]),
        method=sampler,
        samples=len(next(iter(inputs.values()))),
        seed=seed,
        calc_second_order=calc_second_order,
        morris_levels=morris_levels,
        uncertainties=tuple(
            Uncertainty(name, float(low), float(high), "uniform", float(low))
            for name, (low, high) in zip(names, bounds, strict=True)
        ),
        levers={name: tuple(float(v) for v in values) for name, values in levers.items()},
    )
    design = with_levers(spec, np.column_stack([np.asarray(inputs[n], float) for n in names]))
    n = design.n_samples
    data = {}
    for name, values in outcomes.items():
        values = np.array(values, dtype=float)
        if values.ndim == 2:
            values = values[None]
        assert values.shape[:2] == (len(scenarios), n), (name, values.shape)
        data[name] = values
    error = [[""] * n for _ in scenarios]
    for s, i in errors or []:
        error[s][i] = "stock debt_held_by_public went negative at 2031"
        if nan_failed:
            for values in data.values():
                values[s, i] = np.nan
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(dir=_BASE[0]))
    path = store.store_path(folder)
    variables = {name: {"units": UNITS[name][0], "long_name": UNITS[name][1]} for name in data}
    store.create(path, design, np.asarray(times, dtype=float), variables, chunk_size=n)
    store.write_chunk(path, 0, 0, data, error)
    return store.open_sweep(path)


_BASE: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _store_folder(tmp_path_factory):
    _BASE[:] = [tmp_path_factory.mktemp("stores")]
    yield


def constant_series(values, times=(0.0, 1.0, 2.0)):
    """Repeat one value per sample over every time."""
    return np.repeat(np.asarray(values, dtype=float)[:, None], len(times), axis=1)


def problem(names, low, high):
    return {"num_vars": len(names), "names": list(names), "bounds": [[low, high]] * len(names)}


# --- Sobol on the Ishigami function ---------------------------------------------------------------

ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])
#: An index may differ from its analytic value by this many of its standard errors. SALib's
#: ``*_conf`` is the half-width of a 95% bootstrap interval, 1.96 standard errors. Were the
#: estimates plain Monte Carlo, each would fail with probability 2 * (1 - Phi(4.5)) = 6.8e-6 and
#: the six together with at most 6 * 6.8e-6 = 4.1e-5 (Bonferroni); a scrambled Sobol design errs
#: less (with seed 11: at most 0.002, against standard errors of 0.007-0.022).
INDEX_SES = 4.5
#: The standard errors in one of SALib's confidence half-widths (a 95% interval).
CONF_SES = 1.96


def ishigami(seed=3, sampler="sobol"):
    names = ["x1", "x2", "x3"]
    x = sobol_sample.sample(
        problem(names, -math.pi, math.pi), 4096, calc_second_order=False, seed=11
    )
    y = Ishigami.evaluate(x)
    return make_sweep(
        {name: x[:, i] for i, name in enumerate(names)},
        {"debt_to_gdp": constant_series(y), "extra_interest": constant_series(np.zeros(len(y)))},
        sampler=sampler,
        bounds=[(-math.pi, math.pi)] * 3,
        seed=seed,
    )


@pytest.fixture(scope="module")
def ishigami_sweep():
    return ishigami()


def test_sobol_recovers_the_ishigami_indices(ishigami_sweep):
    scalars = so.scalar_outcomes(ishigami_sweep)
    np.testing.assert_allclose(
        scalars["debt_to_gdp_final"].values[0], ishigami_sweep["debt_to_gdp"].values[0, :, -1]
    )
    indices = si.sobol_indices(ishigami_sweep, scalars)
    assert indices["S1"].dims == ("scenario", "parameter", "outcome")
    cell = indices.sel(scenario="base", outcome="debt_to_gdp_final")
    assert list(cell["parameter"].values) == ["x1", "x2", "x3"]
    for key, expected in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        found = cell[key].values
        conf = cell[f"{key}_conf"].values
        assert np.all(conf > 0)
        assert np.all(np.abs(found - expected) <= INDEX_SES * conf / CONF_SES), (key, found, conf)


@pytest.mark.filterwarnings("error")  # SALib's and numpy's warnings too
def test_sobol_of_a_constant_outcome_is_nan_without_warnings(ishigami_sweep):
    # extra_interest is zero everywhere: no variance to apportion.
    indices = si.sobol_indices(ishigami_sweep, so.scalar_outcomes(ishigami_sweep))
    assert np.isnan(indices["ST"].sel(outcome="extra_interest_final")).all()


@pytest.mark.parametrize("seed", [0, 3])
def test_sobol_confidence_intervals_are_reproducible(seed):
    # SALib reads seed 0 as "no seed"; the analysis must still give the same intervals.
    sweep = ishigami(seed=seed)
    scalars = so.scalar_outcomes(sweep)
    first = si.sobol_indices(sweep, scalars)
    second = si.sobol_indices(sweep, scalars)
    np.testing.assert_array_equal(first["S1_conf"].values, second["S1_conf"].values)
    np.testing.assert_array_equal(first["ST_conf"].values, second["ST_conf"].values)


def test_figures_from_a_one_scenario_sweep(ishigami_sweep, tmp_path):
    scalars = so.scalar_outcomes(ishigami_sweep)
    indices = si.sobol_indices(ishigami_sweep, scalars)
    measure = si.ranking(ishigami_sweep, scalars, indices)
    rho = si.rank_correlations(ishigami_sweep, scalars)["rho"]
    figures.plot_fan_chart(so.percentile_bands(ishigami_sweep, "debt_to_gdp"), tmp_path / "fan.png")
    figures.plot_sobol(indices, tmp_path / "sobol.png", scalars, scenario="base")
    figures.plot_tornado(measure, scalars, tmp_path / "tornado.png")
    figures.plot_scatter(ishigami_sweep, scalars, measure, rho, tmp_path / "scatter.png")
    assert files_in(tmp_path) == ["fan.png", "scatter.png", "sobol.png", "tornado.png"]
    for name in files_in(tmp_path):
        assert_png(tmp_path / name)
    with pytest.raises(InputError, match="unknown scenario 'japan'; valid: base"):
        figures.plot_sobol(indices, tmp_path / "other.png", scenario="japan")
    assert not (tmp_path / "other.png").exists()


def test_sobol_needs_a_sobol_sweep():
    sweep = ishigami(sampler="lhs")
    with pytest.raises(InputError, match="sampled with 'sobol', not 'lhs'"):
        si.sobol_indices(sweep, so.scalar_outcomes(sweep))


# --- Morris on a linear function ------------------------------------------------------------------


def test_morris_ranks_a_linear_function_by_its_slopes():
    names = ["x1", "x2", "x3"]
    x = morris_sample.sample(problem(names, 0.0, 1.0), 20, num_levels=4, seed=5)
    y = 3.0 * x[:, 0] + 1.0 * x[:, 1] + 0.0 * x[:, 2]
    sweep = make_sweep(
        {name: x[:, i] for i, name in enumerate(names)},
        {"debt_to_gdp": constant_series(y), "extra_interest": constant_series(y)},
        sampler="morris",
        bounds=[(0.0, 1.0)] * 3,
    )
    indices = si.morris_indices(sweep, so.scalar_outcomes(sweep))
    assert indices["mu_star"].dims == ("scenario", "parameter", "outcome")
    mu_star = indices["mu_star"].sel(scenario="base", outcome="debt_to_gdp_final").values
    assert mu_star[0] > mu_star[1] > mu_star[2]
    np.testing.assert_allclose(mu_star, [3.0, 1.0, 0.0], atol=1e-9)
    sigma = indices["sigma"].sel(scenario="base", outcome="debt_to_gdp_final").values
    np.testing.assert_allclose(sigma, 0.0, atol=1e-9)  # a linear function: every effect equal


def test_morris_leaves_out_the_trajectories_of_failed_samples():
    names = ["x1", "x2", "x3"]
    x = morris_sample.sample(problem(names, 0.0, 1.0), 12, num_levels=4, seed=6)
    y = 3.0 * x[:, 0] + 1.0 * x[:, 1]
    sweep = make_sweep(
        {name: x[:, i] for i, name in enumerate(names)},
        {"debt_to_gdp": constant_series(y), "extra_interest": constant_series(y)},
        sampler="morris",
        bounds=[(0.0, 1.0)] * 3,
        errors=[(0, 5), (0, 6)],  # both in the second trajectory (rows 4 to 7)
    )
    indices = si.morris_indices(sweep, so.scalar_outcomes(sweep))
    mu_star = indices["mu_star"].sel(scenario="base", outcome="debt_to_gdp_final").values
    np.testing.assert_allclose(mu_star, [3.0, 1.0, 0.0], atol=1e-9)
    assert (
        "debt_to_gdp_final: 1 trajectories with failed samples left out" in indices.attrs["notes"]
    )


# --- Rank correlations ----------------------------------------------------------------------------


def monte_carlo_sweep(n=300, errors=None, seed=1):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 1.0, n)
    b = rng.uniform(0.0, 1.0, n)
    y = np.exp(3.0 * a)  # monotone in a, independent of b
    return make_sweep(
        {"a": a, "b": b},
        {"debt_to_gdp": constant_series(y), "extra_interest": constant_series(a + b)},
        sampler="monte_carlo",
        bounds=[(0.0, 1.0)] * 2,
        errors=errors,
    )


def test_rank_correlation_of_a_monotone_function():
    sweep = monte_carlo_sweep()
    rho = si.rank_correlations(sweep, so.scalar_outcomes(sweep))["rho"]
    assert rho.dims == ("scenario", "parameter", "outcome")
    cell = rho.sel(scenario="base", outcome="debt_to_gdp_final")
    assert cell.sel(parameter="a") == pytest.approx(1.0, abs=1e-12)
    # b is independent of the outcome: Spearman's rho of n independent pairs has a standard error
    # of 1/sqrt(n - 1); beyond 4.5 of them by chance with probability 6.8e-6.
    n = sweep.sizes["sample"]
    assert abs(float(cell.sel(parameter="b"))) < INDEX_SES / math.sqrt(n - 1)


# --- Scalar outcomes ------------------------------------------------------------------------------


def test_scalar_outcomes_of_a_hand_made_sweep():
    times = (2025.0, 2026.0, 2027.0, 2028.0)
    sweep = make_sweep(
        {"a": [0.1, 0.2]},
        {
            "debt_to_gdp": [[1.0, 1.1, 1.2, 1.3], [1.0, 0.9, 0.8, 0.85]],
            "market_yield": [[0.04, 0.07, 0.05, 0.045], [0.04, 0.03, 0.035, 0.06]],
            "dollar_index": [[120.0, 118.0, 121.0, 119.0], [120.0, 125.0, 110.0, 112.0]],
            "extra_interest": [[0.0, 10.0, 25.0, 40.0], [0.0, -5.0, -7.0, -2.0]],
        },
        sampler="grid",
        bounds=[(0.0, 1.0)],
        times=times,
    )
    scalars = so.scalar_outcomes(sweep)
    assert set(scalars.data_vars) == set(so.SCALAR_OUTCOMES)
    assert scalars["peak_market_yield"].dims == ("scenario", "sample")
    np.testing.assert_allclose(scalars["debt_to_gdp_final"][0], [1.3, 0.85])
    np.testing.assert_allclose(scalars["peak_market_yield"][0], [0.07, 0.06])
    np.testing.assert_allclose(scalars["extra_interest_final"][0], [40.0, -2.0])
    np.testing.assert_allclose(scalars["dollar_trough"][0], [118.0, 110.0])
    assert scalars["peak_market_yield"].attrs["units"] == "1/year"
    assert scalars["extra_interest_final"].attrs["units"] == "billion USD"
    assert "long_name" in scalars["dollar_trough"].attrs
    np.testing.assert_allclose(scalars["a"], [0.1, 0.2])  # the inputs travel along


def test_scalar_outcomes_skip_missing_sources():
    sweep = make_sweep(
        {"a": [0.1, 0.2, 0.3]},
        {"debt_to_gdp": constant_series([1.0, 2.0, 3.0]), "extra_interest": np.zeros((3, 3))},
        sampler="grid",
        bounds=[(0.0, 1.0)],
    )
    assert set(so.scalar_outcomes(sweep).data_vars) == {"debt_to_gdp_final", "extra_interest_final"}


# --- Failed samples -------------------------------------------------------------------------------


def test_failed_samples_are_left_out_of_the_percentiles():
    values = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0], [5.0, 10.0]])
    wild = values.copy()
    wild[4] = 1e9
    # A failed sample keeps a wild value here, so that only its error message excludes it.
    sweep = make_sweep(
        {"a": np.linspace(0.0, 1.0, 5)},
        {"debt_to_gdp": wild, "extra_interest": values},
        sampler="monte_carlo",
        bounds=[(0.0, 1.0)],
        times=(0.0, 1.0),
        errors=[(0, 4)],
        nan_failed=False,
    )
    bands = so.percentile_bands(sweep, "debt_to_gdp")
    assert bands.dims == ("scenario", "percentile", "time")
    expected = np.percentile(values[:4], so.FAN_PERCENTILES, axis=0)
    np.testing.assert_allclose(bands.sel(scenario="base").values, expected)
    assert bands.attrs["n_samples"] == [4]


def test_percentiles_are_nan_where_every_sample_failed():
    sweep = make_sweep(
        {"a": [0.0, 1.0]},
        {"debt_to_gdp": np.ones((2, 3)), "extra_interest": np.zeros((2, 3))},
        sampler="grid",
        bounds=[(0.0, 1.0)],
        errors=[(0, 0), (0, 1)],
    )
    assert np.isnan(so.percentile_bands(sweep, "debt_to_gdp").values).all()


def test_failed_samples_are_left_out_of_the_rank_correlations():
    sweep = monte_carlo_sweep(n=200, errors=[(0, 3), (0, 50), (0, 120)])
    scalars = so.scalar_outcomes(sweep)
    assert int(np.isnan(scalars["debt_to_gdp_final"]).sum()) == 3
    result = si.rank_correlations(sweep, scalars)
    assert int(result["n_samples"].sel(scenario="base")) == 197
    rho = result["rho"].sel(scenario="base", outcome="extra_interest_final")
    keep = np.ones(200, dtype=bool)
    keep[[3, 50, 120]] = False
    a = sweep["a"].values[keep]
    b = sweep["b"].values[keep]
    ranks = [np.argsort(np.argsort(v)) for v in (a, a + b)]
    expected = np.corrcoef(ranks[0], ranks[1])[0, 1]
    assert float(rho.sel(parameter="a")) == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(rho).all()


def sobol_design(names, n_base, low=0.0, high=1.0, seed=2):
    x = sobol_sample.sample(problem(names, low, high), n_base, calc_second_order=False, seed=seed)
    return {name: x[:, i] for i, name in enumerate(names)}


def test_a_failed_sample_makes_its_sobol_block_nan():
    inputs = sobol_design(["a", "b"], 64)
    n_rows = len(inputs["a"])
    y = np.tile(inputs["a"] + 0.5 * inputs["b"] ** 2, 2)  # two lever combinations
    sweep = make_sweep(
        inputs,
        {"debt_to_gdp": constant_series(y), "extra_interest": constant_series(y)},
        sampler="sobol",
        bounds=[(0.0, 1.0)] * 2,
        levers={"fed_backstop_on": [0, 1]},
        errors=[(0, n_rows + 5)],  # a sample of the second block
    )
    indices = si.sobol_indices(sweep, so.scalar_outcomes(sweep))
    assert indices["ST"].dims == ("scenario", "lever_combination", "parameter", "outcome")
    np.testing.assert_array_equal(indices["lever_fed_backstop_on"].values, [0, 1])
    assert np.isfinite(indices["ST"].isel(lever_combination=0)).all()
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        assert np.isnan(indices[key].isel(lever_combination=1)).all()
    assert "fed_backstop_on = 1" in indices.attrs["notes"]
    assert "1 failed samples" in indices.attrs["notes"]


# --- Over time ------------------------------------------------------------------------------------


def test_sobol_over_time_is_nan_where_nothing_varies():
    inputs = sobol_design(["a", "b"], 64)
    times = np.array([0.0, 1.0, 2.0, 3.0])
    # Every sample starts from the same state, then a drives the series, b only later.
    series = (
        1.0 + np.outer(inputs["a"], times) + np.outer(inputs["b"], np.maximum(times - 1.0, 0.0))
    )
    sweep = make_sweep(
        inputs,
        {"market_yield": series, "extra_interest": series},
        sampler="sobol",
        bounds=[(0.0, 1.0)] * 2,
        times=times,
    )
    result = si.sobol_indices_over_time(sweep, "market_yield")
    assert result["ST"].dims == ("scenario", "parameter", "time")
    st = result["ST"].sel(scenario="base")
    assert np.isnan(st.sel(time=0.0)).all()
    assert float(st.sel(time=1.0, parameter="a")) == pytest.approx(1.0, abs=0.05)
    assert float(st.sel(time=1.0, parameter="b")) == pytest.approx(0.0, abs=1e-9)
    # At time 3 the series is 1 + 3a + 2b: b's share of the variance is 4 / 13.
    assert float(st.sel(time=3.0, parameter="b")) == pytest.approx(4.0 / 13.0, abs=0.05)
    assert float(st.sel(time=3.0, parameter="a")) == pytest.approx(9.0 / 13.0, abs=0.05)


def test_sobol_over_time_rejects_an_unknown_variable():
    inputs = sobol_design(["a", "b"], 16)
    y = constant_series(inputs["a"])
    sweep = make_sweep(
        inputs, {"debt_to_gdp": y, "extra_interest": y}, sampler="sobol", bounds=[(0, 1)] * 2
    )
    with pytest.raises(InputError, match="'market_yeld'; valid: debt_to_gdp, extra_interest"):
        si.sobol_indices_over_time(sweep, "market_yeld")


# --- The whole analysis ---------------------------------------------------------------------------


def toy_outcomes(inputs, times, scenario_factors=(1.0,), lever_factors=(1.0,)):
    """A small model in the shape of debtloops' outcomes, from inputs a, b and c."""
    a = np.tile(inputs["a"], len(lever_factors))
    b = np.tile(inputs["b"], len(lever_factors))
    c = np.tile(inputs["c"], len(lever_factors))
    lever = np.repeat(lever_factors, len(inputs["a"]))
    t = np.asarray(times) - times[0]
    result = {name: [] for name in UNITS}
    for factor in scenario_factors:
        k = factor * lever
        result["debt_to_gdp"].append(1.0 + np.outer(k * (0.02 * a + 0.01 * b * b), t))
        result["market_yield"].append(0.04 + np.outer(k * 0.002 * a * (1.0 + c), t))
        result["interest_to_revenue"].append(0.15 + np.outer(k * 0.01 * (a + b), t))
        result["dollar_index"].append(120.0 - np.outer(k * c, t))
        result["cumulative_net_interest"].append(np.outer(1000.0 + k * 50.0 * a, t))
        result["extra_interest"].append(np.outer(k * 50.0 * a, t))
    if len(scenario_factors) == 1:
        return {name: values[0] for name, values in result.items()}
    return {name: np.stack(values) for name, values in result.items()}


TOY_BOUNDS = [(0.0, 1.0), (0.5, 2.0), (-1.0, 1.0)]


def toy_sobol_inputs(n_base=32, seed=4):
    x = sobol_sample.sample(
        {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [list(b) for b in TOY_BOUNDS]},
        n_base,
        calc_second_order=False,
        seed=seed,
    )
    return {name: x[:, i] for i, name in enumerate("abc")}


def write_sweep(folder, sweep):
    """Put a copy of a synthetic sweep's store into ``folder/sweep.zarr``, as a sweep leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(sweep.encoding["source"], store.store_path(folder))
    return folder


def files_in(folder):
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name not in OWN_NAMES)


def assert_png(path):
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 300, image.shape
    assert image[..., :3].std() > 0.01  # something was drawn


FIGURES = [
    "fan_debt_to_gdp.png",
    "fan_interest_to_revenue.png",
    "fan_market_yield.png",
    "scatter.png",
    "tornado.png",
]


def test_analyze_writes_the_documented_files(tmp_path):
    times = np.arange(2025.0, 2031.0)
    inputs = toy_sobol_inputs()
    sweep = make_sweep(
        inputs,
        toy_outcomes(inputs, times),
        sampler="sobol",
        bounds=TOY_BOUNDS,
        times=times,
        errors=[(0, 7)],
        seed=0,
    )
    folder = write_sweep(tmp_path / "sweep", sweep)
    path = sa.analyze(folder, over_time=["market_yield"])
    assert path == folder / "analysis.nc"
    assert files_in(folder) == sorted(["analysis.nc", "sobol.png", "sweep.zarr", *FIGURES])
    for name in ["sobol.png", *FIGURES]:
        assert_png(folder / name)
    with xr.open_dataset(path) as analysis:
        for name in so.SCALAR_OUTCOMES:
            assert analysis[name].dims == ("scenario", "sample")
        index_dims = ("scenario", "parameter", "outcome")
        for name in ("sobol_S1", "sobol_S1_conf", "sobol_ST", "sobol_ST_conf", "spearman_rho"):
            assert analysis[name].dims == index_dims, name
        for name in ("S1", "S1_conf", "ST", "ST_conf"):
            assert analysis[f"sobol_market_yield_{name}"].dims == ("scenario", "parameter", "time")
        assert list(analysis["parameter"].values) == ["a", "b", "c"]
        assert set(analysis["outcome"].values) == set(so.SCALAR_OUTCOMES)
        assert analysis["error"].values[0, 7] != ""
        assert np.isnan(analysis["debt_to_gdp_final"].values[0, 7])
        # The failed sample leaves the one Sobol block NaN; the rank correlations still work.
        assert np.isnan(analysis["sobol_ST"]).all()
        assert "1 failed samples" in analysis.attrs["notes"]
        assert np.isfinite(analysis["spearman_rho"].sel(outcome="extra_interest_final")).all()
        assert store.read_design(analysis).spec.method == "sobol"
        assert json.loads(analysis.attrs["design"])["sampler"]["seed"] == 0


def test_analyze_sobol_indices_of_a_clean_sweep(tmp_path):
    times = np.arange(2025.0, 2031.0)
    inputs = toy_sobol_inputs(n_base=256)
    sweep = make_sweep(
        inputs, toy_outcomes(inputs, times), sampler="sobol", bounds=TOY_BOUNDS, times=times
    )
    path = sa.analyze(write_sweep(tmp_path / "sweep", sweep))
    with xr.open_dataset(path) as analysis:
        st = analysis["sobol_ST"].sel(scenario="base")
        # extra interest depends on a only; the dollar on c only. The design is a scrambled Sobol
        # sequence fixed by its seed; over seeds 1-200 these total indices came within 0.015 of 1
        # (and exactly 0 for a parameter an outcome ignores), a third of the margin used here.
        assert float(st.sel(outcome="extra_interest_final", parameter="a")) > 0.95
        assert float(st.sel(outcome="dollar_trough", parameter="c")) > 0.95
        assert float(st.sel(outcome="dollar_trough", parameter="a")) < 0.02
        rho = analysis["spearman_rho"].sel(scenario="base", outcome="extra_interest_final")
        assert float(rho.sel(parameter="a")) == pytest.approx(1.0)


def test_analyze_a_missing_folder_raises_and_writes_nothing(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(InputError, match="sweep.zarr does not exist"):
        sa.analyze(folder)
    assert not folder.exists()


def test_analyze_a_sweep_without_its_attributes_raises_and_writes_nothing(tmp_path):
    times = np.arange(2025.0, 2028.0)
    inputs = toy_sobol_inputs(n_base=16)
    sweep = make_sweep(
        inputs, toy_outcomes(inputs, times), sampler="sobol", bounds=TOY_BOUNDS, times=times
    )
    folder = write_sweep(tmp_path / "sweep", sweep)
    group = zarr.open_group(store.store_path(folder), mode="r+")
    group.attrs.put({k: v for k, v in group.attrs.asdict().items() if k not in ("spec", "design")})
    with pytest.raises(InputError, match="lacks the attributes: spec, design"):
        sa.analyze(folder)
    assert files_in(folder) == ["sweep.zarr"]


def test_analyze_rejects_an_unknown_over_time_variable(tmp_path):
    times = np.arange(2025.0, 2028.0)
    inputs = toy_sobol_inputs(n_base=16)
    sweep = make_sweep(
        inputs, toy_outcomes(inputs, times), sampler="sobol", bounds=TOY_BOUNDS, times=times
    )
    folder = write_sweep(tmp_path / "sweep", sweep)
    with pytest.raises(InputError) as caught:
        sa.analyze(folder, over_time=["debt_to_gpd"])
    message = str(caught.value)
    assert "'debt_to_gpd'" in message
    for name in UNITS:
        assert name in message
    assert files_in(folder) == ["sweep.zarr"]


def test_analyze_rejects_over_time_for_a_sweep_that_is_not_sobol(tmp_path):
    sweep = monte_carlo_sweep(n=50)
    folder = write_sweep(tmp_path / "sweep", sweep)
    with pytest.raises(InputError, match="sampled with 'sobol', not 'monte_carlo'"):
        sa.analyze(folder, over_time=["debt_to_gdp"])
    assert files_in(folder) == ["sweep.zarr"]


def test_analyze_two_scenarios_and_a_lever(tmp_path):
    times = np.arange(2025.0, 2029.0)
    inputs = toy_sobol_inputs(n_base=32)
    outcomes = toy_outcomes(inputs, times, scenario_factors=(1.0, 2.0), lever_factors=(1.0, 0.5))
    sweep = make_sweep(
        inputs,
        outcomes,
        sampler="sobol",
        bounds=TOY_BOUNDS,
        times=times,
        scenarios=("article", "japan_full"),
        levers={"fed_backstop_on": [0.0, 1.0]},
        errors=[(1, 3)],
    )
    assert sweep["debt_to_gdp"].sizes == {"scenario": 2, "sample": 2 * len(inputs["a"]), "time": 4}
    folder = write_sweep(tmp_path / "sweep", sweep)
    sa.analyze(folder, over_time=["debt_to_gdp"])
    assert files_in(folder) == sorted(["analysis.nc", "sobol.png", "sweep.zarr", *FIGURES])
    with xr.open_dataset(folder / "analysis.nc") as analysis:
        dims = ("scenario", "lever_combination", "parameter", "outcome")
        assert analysis["sobol_ST"].dims == dims
        assert analysis["spearman_rho"].dims == dims
        assert analysis["sobol_debt_to_gdp_ST"].dims == dims[:-1] + ("time",)
        assert list(analysis["scenario"].values) == ["article", "japan_full"]
        np.testing.assert_array_equal(analysis["lever_fed_backstop_on"].values, [0.0, 1.0])
        st = analysis["sobol_ST"]
        # Only japan_full's first block holds the failed sample.
        assert np.isnan(st.sel(scenario="japan_full").isel(lever_combination=0)).all()
        assert np.isfinite(st.sel(scenario="japan_full").isel(lever_combination=1)).all()
        assert np.isfinite(st.sel(scenario="article")).all()
    assert_png(folder / "sobol.png")


def test_analyze_a_morris_sweep(tmp_path):
    times = np.arange(2025.0, 2029.0)
    x = morris_sample.sample(
        {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [list(b) for b in TOY_BOUNDS]},
        10,
        num_levels=4,
        seed=8,
    )
    inputs = {name: x[:, i] for i, name in enumerate("abc")}
    sweep = make_sweep(
        inputs, toy_outcomes(inputs, times), sampler="morris", bounds=TOY_BOUNDS, times=times
    )
    folder = write_sweep(tmp_path / "sweep", sweep)
    sa.analyze(folder)
    assert files_in(folder) == sorted(["analysis.nc", "morris.png", "sweep.zarr", *FIGURES])
    assert_png(folder / "morris.png")
    with xr.open_dataset(folder / "analysis.nc") as analysis:
        for name in ("morris_mu_star", "morris_mu_star_conf", "morris_sigma"):
            assert analysis[name].dims == ("scenario", "parameter", "outcome")
        assert "sobol_ST" not in analysis
        mu_star = analysis["morris_mu_star"].sel(scenario="base", outcome="dollar_trough")
        assert float(mu_star.sel(parameter="c")) > 0
        assert float(mu_star.sel(parameter="a")) == pytest.approx(0.0, abs=1e-12)


def test_analyze_a_monte_carlo_sweep_ranks_by_rank_correlation(tmp_path):
    folder = write_sweep(tmp_path / "sweep", monte_carlo_sweep(n=80))
    sa.analyze(folder)
    assert files_in(folder) == sorted(
        ["analysis.nc", "fan_debt_to_gdp.png", "scatter.png", "sweep.zarr", "tornado.png"]
    )
    sweep = monte_carlo_sweep(n=80)
    measure = si.ranking(sweep, so.scalar_outcomes(sweep))
    assert measure.attrs["measure"] == "rho"
    assert float(measure.sel(scenario="base", outcome="debt_to_gdp_final", parameter="a")) == (
        pytest.approx(1.0)
    )


# --- Figure labels --------------------------------------------------------------------------------


def test_outcomes_are_shown_in_plain_words_with_the_label_table_s_units():
    sweep = make_sweep(
        {"a": [0.1, 0.2]},
        {name: np.ones((2, 3)) for name in UNITS},
        sampler="grid",
        bounds=[(0.0, 1.0)],
    )
    scalars = so.scalar_outcomes(sweep)
    assert set(scalars.data_vars) == set(so.SCALAR_OUTCOMES)
    for name in scalars.data_vars:
        shown = figures.outcome_label(name, scalars)
        assert "_" not in shown.title and shown.units, name
    debt = figures.outcome_label("debt_to_gdp_final", scalars)
    assert debt.title == "Debt held by the public / GDP, at the end"
    assert (debt.units, debt.scale) == ("% of GDP (annual rate)", 100.0)
    assert figures.outcome_label("peak_market_yield", scalars).title == (
        "10-year market yield, peak"
    )


def test_parameters_are_named_by_a_short_phrase_of_their_description_with_units():
    matures = {"long_name": "Maturity at issue of the 10-year note.", "units": "year"}
    assert figures.parameter_label("ten_year_note_maturity", matures) == (
        "Maturity at issue of the 10-year note [year]"
    )
    slope = {
        "long_name": "Slope of the portfolio-balance premium for small amounts: yield rise per "
        "unit of GDP shifted onto private investors.",
        "units": "1/year",
    }
    assert figures.parameter_label("portfolio_balance_sensitivity", slope) == (
        "Slope of the portfolio-balance premium for small amounts [1/year]"
    )
    long = {"long_name": "word " * 40, "units": "1"}
    shown = figures.parameter_label("x", long)
    assert len(shown) <= figures.MAX_LABEL_CHARS + len("... [1]") and shown.endswith("... [1]")
    assert figures.parameter_label("fed_backstop_switch") == "Fed backstop switch"


def test_bars_are_sorted_by_size_largest_first_and_nan_last():
    order = figures.largest_first(np.array([0.1, np.nan, -0.7, 0.3, 0.1]))
    assert list(order) == [2, 3, 0, 4, 1]


def test_every_scalar_outcome_has_a_reduction_and_words_for_its_charts():
    reductions = {outcome.reduction for outcome in so.SCALAR_OUTCOMES.values()}
    assert reductions <= set(so.REDUCTIONS) == set(figures.REDUCTION_WORDS)
