"""Calibration to history: the specification, the likelihood, the estimators and the command."""

import dataclasses
import tomllib
from pathlib import Path

import emcee
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from cf_checks import cf_problems
from scipy import stats

from debtloops.calibration import posterior_matrix
from debtloops.calibration.calibrate import spread_benchmark
from debtloops.calibration.estimate import point_fit, sample_posterior, split_rhat
from debtloops.calibration.problem import CalibrationProblem
from debtloops.calibration.spec import load_spec
from debtloops.cli import main
from debtloops.errors import InputError
from debtloops.model import data
from debtloops.model.parameters import load_parameters
from debtloops.model.run import execute, prepare
from debtloops.paths import MODELS_DIR
from debtloops.sweeps.store import open_sweep, store_path
from debtloops.validation.backtest import fiscal_year_value, prepare_backtest

SHIPPED = MODELS_DIR / "calibrations" / "history_2000_2019.toml"
#: The chance that a coverage check fails although the intervals are right: the count of
#: intervals holding the true value must reach this quantile of Binomial(checks, nominal), so a
#: correct estimator fails with probability below FALSE_ALARM (for 24 checks at 95%: 16 needed).
#: The data are fixed by their seeds, so the count changes between machines only where an
#: estimate sits within round-off of an interval's end.
FALSE_ALARM = 1e-5

SERIES = """
[series.gs10_fy_avg]
variables = ["market_yield"]
how = "mean"
scale = 100.0
noise = {gs10}

[series.dollar_broad_spliced_fy_avg]
variables = ["dollar_index"]
how = "mean"
noise = {dollar}

[series.foreign_holdings_total]
variables = ["japan_holdings", "china_holdings", "other_foreign_holdings"]
how = "change"
noise = {foreign}
"""


def small_spec(
    tmp_path: Path,
    start: int = 2000,
    fit_end: int = 2012,
    end: int | None = None,
    gs10: object = 0.2,
    dollar: object = 2.0,
    foreign: object = 40.0,
    extra: str = "",
    walkers: int = 12,
    steps: int = 40,
    burn: int = 10,
    name: str = "small.toml",
) -> Path:
    """Write a three-parameter specification with given noise scales."""
    text = f"""# small: a test calibration
[period]
start = {start}
fit_end = {fit_end}
end = {end or fit_end}

[fixed]
premia_anchor_switch = 0.0
inflation_response = 0.0
output_gap_response = 0.0
gdp_sensitivity_to_real_yield = 0.0

[parameters.yield_seeking_sensitivity]
[parameters.portfolio_balance_sensitivity]
[parameters.dollar_rate_sensitivity]
{extra}
{SERIES.format(gs10=gs10, dollar=dollar, foreign=foreign)}
[sampler]
walkers = {walkers}
steps = {steps}
burn = {burn}
seed = 7
"""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def synthetic(problem: CalibrationProblem, truth: np.ndarray, seed: int) -> CalibrationProblem:
    """Return the problem against data simulated with ``truth`` plus the given noise."""
    rng = np.random.default_rng(seed)
    predictions = problem.predict(truth[None, :])
    noise = problem.noise()
    observed = [
        p[0] + scale * rng.standard_normal(p.shape[1])
        for p, scale in zip(predictions, noise, strict=True)
    ]
    return problem.with_observed(observed)


def least_count(checks: int, nominal: float) -> int:
    """Return the fewest covered checks that are not a false alarm at FALSE_ALARM."""
    return int(stats.binom.ppf(FALSE_ALARM, checks, nominal))


#: True values inside the table's ranges, away from their bounds [the parameters' units].
TRUTH = np.array([1.3, 0.42, 4.3])


# ---- the specification ---------------------------------------------------------------------------
def test_shipped_spec_reads_and_names_few_identifiable_parameters():
    spec = load_spec(SHIPPED)
    table = load_parameters()
    assert 3 <= len(spec.priors) <= 6
    for name in (
        "term_premium_level",
        "policy_rate_reversion_time",
        "long_run_rate_learning_time",
        "portfolio_balance_sensitivity",
        "risk_premium_debt_sensitivity",
    ):
        assert name in spec.names
    for prior in spec.priors:
        assert table[prior.name].valid_min <= prior.low < prior.high <= table[prior.name].valid_max
    assert spec.start < spec.fit_end < spec.end
    # the 10-year and its term premium, each with its own data
    fitted = {item.series: item for item in spec.series}
    assert fitted["gs10_fy_avg"].variables == ("market_yield",)
    assert fitted["acmtp10"].source == "monthly"
    assert fitted["acmtp10"].variables == ("term_premium",)
    assert spec.fixed["yield_seeking_sensitivity"] == 0.0  # foreign purchases are history's


def test_monthly_series_is_fitted_as_its_fiscal_year_means(tmp_path):
    """A monthly series is compared year by year with the mean of its fiscal year's months."""
    extra = (
        '[series.acmtp10]\nsource = "monthly"\nvariables = ["term_premium"]\nhow = "mean"\n'
        "scale = 100.0\nnoise = 0.5\n"
    )
    path = small_spec(tmp_path, fit_end=2019, end=2025)
    path.write_text(path.read_text() + extra)
    problem = CalibrationProblem(load_spec(path))
    item = problem.spec.series[-1]
    series = problem.data[-1]
    assert item.units == data.monthly_units("acmtp10")
    monthly = data.markets_monthly()["acmtp10"]
    for year, value in zip(series.years.astype(int), series.observed, strict=True):
        months = monthly[str(year - 1) + "-10" : str(year) + "-09"]  # October to September
        assert len(months) == 12 and months.notna().all()
        assert value == pytest.approx(months.mean(), rel=1e-12)
    # FY2000 and FY2025 lack months (the copy runs January 2000 to June 2025): left out
    assert series.years.min() == 2001 and series.years.max() == 2024
    assert series.fitted.sum() == 2019 - 2000
    # the model's side: the term premium's fiscal-year mean, in percent
    runs = {v: np.full((1, len(problem.times)), 0.01) for v in problem.variables}
    np.testing.assert_allclose(problem._measure(runs)[-1], 1.0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[series.acmtp11]\nsource = "monthly"', "unknown monthly series"),
        ('[series.acmtp10]\nsource = "montly"', "unknown source"),
        ("[series.acmtp10]", "unknown series"),  # not in the historical dataset
    ],
)
def test_a_monthly_series_needs_its_source_and_a_known_name(tmp_path, table, message):
    path = small_spec(tmp_path)
    path.write_text(
        path.read_text() + f'{table}\nvariables = ["term_premium"]\nhow = "mean"\nnoise = 0.5\n'
    )
    with pytest.raises(InputError, match=message):
        load_spec(path)


def test_the_naive_benchmark_knows_only_the_fit_period(tmp_path):
    """Funds rate plus the fit period's mean spread: unbiased there, blind to held-out data."""
    problem = CalibrationProblem(load_spec(small_spec(tmp_path, fit_end=2015, end=2025)))
    sizes = np.cumsum([len(series.years) for series in problem.data])[:-1]
    benchmark = np.split(spread_benchmark(problem), sizes)
    gs10 = problem.data[0]
    funds = data.history().series("fedfunds_fy_avg").loc[gs10.years.astype(int)].to_numpy()
    spread = benchmark[0] - funds
    np.testing.assert_allclose(spread, spread[0], rtol=0, atol=1e-12)  # one constant spread
    gap = benchmark[0][gs10.fitted] - gs10.observed[gs10.fitted]
    assert gap.mean() == pytest.approx(0.0, abs=1e-12)
    assert all(np.isnan(values).all() for values in benchmark[1:])  # the 10-year's only
    changed = [series.observed + (~series.fitted) * 5.0 for series in problem.data]
    np.testing.assert_array_equal(
        spread_benchmark(problem.with_observed(changed)), np.concatenate(benchmark)
    )


def test_measurement_matches_the_backtest(tmp_path):
    """The fiscal-year operators measure a run as the backtest does (end, mean, change)."""
    problem = CalibrationProblem(load_spec(small_spec(tmp_path)))
    theta = np.array([[problem.values[n] for n in problem.spec.names]])
    spec = problem.spec
    backtest = prepare_backtest(spec.start, spec.end, spec.yields)
    run = execute(dataclasses.replace(backtest, values=problem.values))  # the same run, in pysd
    runs = {v: run[v].values[None, :] for v in problem.variables}
    measured = problem._measure(runs)
    for item, series, values in zip(problem.spec.series, problem.data, measured, strict=True):
        for year, value in zip(series.years, values[0], strict=True):
            total = sum(
                fiscal_year_value(run, v, "end" if item.how == "change" else item.how, int(year))
                for v in item.variables
            )
            if item.how == "change":
                total -= sum(
                    fiscal_year_value(run, v, "end", int(year) - 1) for v in item.variables
                )
            assert value == pytest.approx(total * item.scale, rel=1e-12, abs=1e-9)
    simlin = problem.predict(theta)
    for pysd_values, simlin_values in zip(measured, simlin, strict=True):
        np.testing.assert_allclose(simlin_values, pysd_values, rtol=1e-6, atol=1e-6)


def test_ensemble_engine_agrees_with_simlin(tmp_path):
    problem = CalibrationProblem(load_spec(small_spec(tmp_path), sampler_overrides={"walkers": 6}))
    thetas = np.array([[0.5, 0.35, 3.5], [2.0, 0.55, 4.5], [1.0, 0.45, 4.0]])
    simlin = problem.predict(thetas)
    ensemble = CalibrationProblem(
        load_spec(small_spec(tmp_path), sampler_overrides={"engine": "ensemble", "walkers": 6})
    ).predict(thetas)
    for a, b in zip(simlin, ensemble, strict=True):
        assert a.shape == b.shape == (3, b.shape[1])
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


# ---- the likelihood and reproducibility ----------------------------------------------------------
@pytest.mark.mcmc
def test_likelihood_is_finite_and_the_fit_reproducible():
    spec = load_spec(SHIPPED, sampler_overrides={"steps": 12, "burn": 2})
    problem = CalibrationProblem(spec)
    params = np.array([problem.defaults[n] for n in spec.names])
    noise = np.array([np.sqrt(np.prod(item.noise_range)) for item in spec.series])
    rho = np.full(len(spec.series), 0.5)
    values = problem.log_likelihood(problem.pack(params, noise, rho)[None, :])
    assert np.isfinite(values).all()
    fit = point_fit(problem)
    again = point_fit(CalibrationProblem(spec))
    # Bit for bit on one machine: the docs promise the same fit and chain for a fixed seed.
    np.testing.assert_array_equal(fit.values, again.values)
    first = sample_posterior(problem, fit)
    second = sample_posterior(CalibrationProblem(spec), fit)
    np.testing.assert_array_equal(first.chain, second.chain)
    assert np.isfinite(first.log_posterior).all()
    other = sample_posterior(problem, fit, seed=spec.sampler.seed + 1)
    assert not np.array_equal(first.chain, other.chain)


def test_outside_the_prior_the_posterior_is_impossible(tmp_path):
    problem = CalibrationProblem(load_spec(small_spec(tmp_path)))
    inside = np.array([[1.0, 0.45, 4.0]])
    outside = np.array([[3.5, 0.45, 4.0]])  # yield_seeking_sensitivity's range is [0, 3]
    assert np.isfinite(problem.log_posterior(inside)).all()
    assert problem.log_posterior(outside)[0] == -np.inf


def test_split_rhat_tells_agreeing_chains_from_disagreeing_ones():
    rng = np.random.default_rng(3)
    agreeing = rng.standard_normal((400, 8, 1))
    disagreeing = agreeing + np.arange(8)[None, :, None]
    # For independent draws R-hat^2 - 1 is about (F - 1) / 200 with F ~ chi2(15) / 15 (16 split
    # chains of 200): above 1.05 needs F > 21, a chance far below 1e-10.
    assert split_rhat(agreeing)[0] < 1.05
    assert split_rhat(disagreeing)[0] > 1.5


# ---- recovery of known parameters ----------------------------------------------------------------
def test_least_squares_recovers_known_parameters_within_their_intervals(tmp_path):
    """Over several noise seeds, +-1.96 standard errors hold the true values ~95% of the time."""
    problem = CalibrationProblem(load_spec(small_spec(tmp_path)))
    seeds = range(8)
    covered = checks = 0
    for seed in seeds:
        fit = point_fit(synthetic(problem, TRUTH, seed))
        assert not fit.at_bound.any()
        covered += int(np.sum(np.abs(fit.values - TRUTH) <= 1.96 * fit.errors))
        checks += len(TRUTH)
        assert fit.errors.max() > 0
    assert covered >= least_count(checks, 0.95), f"{covered}/{checks} intervals hold the truth"


def test_estimated_noise_recovers_the_simulated_scale(tmp_path):
    """With the noise estimated, the point fit's scale is near the one the data were made with."""
    path = small_spec(
        tmp_path,
        fit_end=2019,
        gs10='"estimate"\nnoise_range = [0.01, 5.0]',
        dollar='"estimate"\nnoise_range = [0.1, 50.0]',
    )
    problem = CalibrationProblem(load_spec(path))
    made_with = np.array([0.2, 2.0, 40.0])
    given = problem.with_observed(
        [
            p[0] + s * np.random.default_rng(5).standard_normal(p.shape[1])
            for p, s in zip(problem.predict(TRUTH[None, :]), made_with, strict=True)
        ]
    )
    fit = point_fit(given)
    years = problem.fitted_counts()[:2]
    # The fitted scale is the root-mean-square residual: (n s^2 / sigma^2) follows a chi-square
    # law with between n - 3 (all three parameters fitted to this series) and n degrees of
    # freedom. Each of the 4 tails (2 series, low and high) gets FALSE_ALARM / 4, so a right
    # estimator fails with probability below FALSE_ALARM.
    tail = FALSE_ALARM / 4
    low = np.sqrt(stats.chi2.ppf(tail, years - len(TRUTH)) / years)
    high = np.sqrt(stats.chi2.isf(tail, years) / years)
    ratio = fit.noise[:2] / made_with[:2]
    assert np.all((low < ratio) & (ratio < high)), (low, ratio, high)
    assert fit.noise[2] == 40.0


# ---- the estimators against a posterior known in closed form -------------------------------------
#: The linear-Gaussian problem's posterior standard deviations, as a share of each prior's width:
#: 1/16 puts every bound 8 standard deviations from the posterior mean, so the uniform priors
#: truncate a share below 2 * Phi(-8) ~ 1e-15 of the Gaussian posterior [1].
LINEAR_SD_SHARE = 1 / 16
#: The linear-Gaussian problem's posterior correlations, as strong as the model's own (point fits
#: of the shipped calibration show correlations of 0.6-0.9 between the dynamic parameters) [1].
LINEAR_CORRELATION = np.array([[1.0, 0.8, -0.5], [0.8, 1.0, -0.3], [-0.5, -0.3, 1.0]])
#: A Monte Carlo estimate may differ from its closed-form value by this many standard errors.
#: Under a correct sampler each estimate's error is ~Normal(0, SE), so one estimate fails with
#: probability 2 * (1 - Phi(5.5)) = 3.8e-8; the six estimates (3 means, 3 standard deviations)
#: fail together with probability <= 6 * 3.8e-8 = 2.3e-7 (Bonferroni). The standard errors come
#: from estimated autocorrelation times; were they 20% too small, the margin would be 4.58 true
#: standard errors: 6 * 2 * (1 - Phi(4.58)) = 2.8e-5, still below the 1e-4 the suite allows.
#: Measured over 60 seeds, the six errors divided by their standard errors had standard
#: deviations of 1.03-1.15 (largest |z| 3.0): the margin is at least 4.8 true standard errors.
MONTE_CARLO_SES = 5.5


class LinearGaussianProblem(CalibrationProblem):
    """A calibration problem whose model is linear: ``predict(theta) = design @ theta``.

    Everything but :meth:`predict` is the project's own: the priors, the Gaussian likelihood, the
    point fit and emcee's sampler with the project's moves. With uniform priors far wider than
    the likelihood, the posterior is Gaussian with covariance ``(A^T W A)^-1``, where ``A`` is the
    design and ``W = diag(1 / noise^2)``.
    """

    def __init__(self, base: CalibrationProblem, design: np.ndarray) -> None:
        self.__dict__.update(base.__dict__)
        self.design = design
        self.sizes = [len(series.years) for series in base.data]

    def predict(self, thetas: np.ndarray) -> list[np.ndarray]:
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        self.evaluations += len(thetas)
        flat = thetas @ self.design.T
        return np.split(flat, np.cumsum(self.sizes)[:-1], axis=1)


def linear_gaussian(problem: CalibrationProblem) -> tuple[LinearGaussianProblem, np.ndarray]:
    """Return a linear-Gaussian problem on ``problem``'s priors and noise, and its covariance.

    The posterior mean is the priors' centres (the data are the noise-free prediction there);
    the covariance has standard deviations LINEAR_SD_SHARE of each prior's width and the
    correlations LINEAR_CORRELATION.
    """
    low = np.array([p.low for p in problem.spec.priors])
    high = np.array([p.high for p in problem.spec.priors])
    sd = LINEAR_SD_SHARE * (high - low)
    covariance = LINEAR_CORRELATION * np.outer(sd, sd)
    assert all(series.fitted.all() for series in problem.data), "no held-out years here"
    points = int(problem.fitted_counts().sum())
    # A^T W A = covariance^-1 for A = W^(-1/2) Q R, where Q has orthonormal columns and
    # R^T R = covariance^-1 (Cholesky).
    orthonormal, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((points, len(sd))))
    root = np.linalg.cholesky(np.linalg.inv(covariance)).T
    noise = np.repeat(problem.noise(), problem.fitted_counts())
    design = noise[:, None] * orthonormal @ root
    linear = LinearGaussianProblem(problem, design)
    centre = (low + high) / 2
    observed = linear.predict(centre[None, :])
    linear = LinearGaussianProblem(linear.with_observed([o[0] for o in observed]), design)
    # the closed form, computed from the design as the formula states
    weights = 1 / noise**2
    closed = np.linalg.inv(design.T @ (weights[:, None] * design))
    np.testing.assert_allclose(closed, covariance, rtol=1e-9)
    return linear, closed


def test_point_fit_matches_the_closed_form_of_a_linear_gaussian_problem(tmp_path):
    """Least squares finds the exact mean, and its standard errors are the exact ones."""
    problem, covariance = linear_gaussian(CalibrationProblem(load_spec(small_spec(tmp_path))))
    fit = point_fit(problem)
    centre = np.array([p.centre for p in problem.spec.priors])
    sd = np.sqrt(np.diag(covariance))
    # The optimiser stops within its tolerance (1e-8 relative) of the exact minimum.
    np.testing.assert_allclose(fit.values, centre, rtol=0, atol=1e-6 * sd.max())
    np.testing.assert_allclose(fit.errors, sd, rtol=1e-6)
    np.testing.assert_allclose(fit.correlation, LINEAR_CORRELATION, atol=1e-6)


@pytest.mark.mcmc
def test_mcmc_matches_the_closed_form_posterior_within_monte_carlo_error(tmp_path):
    """The posterior means and standard deviations of a linear-Gaussian problem are analytic.

    The estimates' standard errors use the effective sample size: draws / the integrated
    autocorrelation time (emcee's estimator, averaged over walkers). For a mean that is
    sd * sqrt(tau / draws); for a standard deviation, the delta method on the variance's mean,
    SE(s) = SE(s^2) / (2 s), with tau that of the squared deviations. See MONTE_CARLO_SES for the
    false-failure rate.
    """
    walkers, steps, burn = 24, 3000, 500
    spec = load_spec(small_spec(tmp_path, walkers=walkers, steps=steps, burn=burn))
    problem, covariance = linear_gaussian(CalibrationProblem(spec))
    posterior = sample_posterior(problem, point_fit(problem))
    chain = posterior.chain[burn:]  # (steps, walkers, quantities)
    draws = chain.shape[0] * chain.shape[1]
    mean = np.array([p.centre for p in problem.spec.priors])
    sd = np.sqrt(np.diag(covariance))

    estimated_mean = chain.mean(axis=(0, 1))
    tau = emcee.autocorr.integrated_time(chain, tol=0)
    mean_se = sd * np.sqrt(tau / draws)
    assert np.all(np.abs(estimated_mean - mean) <= MONTE_CARLO_SES * mean_se), (
        f"means {estimated_mean} against {mean}: {(estimated_mean - mean) / mean_se} SE"
    )

    squares = (chain - estimated_mean) ** 2
    tau_squares = emcee.autocorr.integrated_time(squares, tol=0)
    variance_se = squares.reshape(draws, -1).std(axis=0) * np.sqrt(tau_squares / draws)
    estimated_sd = np.sqrt(squares.mean(axis=(0, 1)))
    sd_se = variance_se / (2 * sd)
    assert np.all(np.abs(estimated_sd - sd) <= MONTE_CARLO_SES * sd_se), (
        f"standard deviations {estimated_sd} against {sd}: {(estimated_sd - sd) / sd_se} SE"
    )


# ---- the command ---------------------------------------------------------------------------------
@pytest.mark.mcmc
def test_calibrate_command_writes_everything_and_the_scenario_works(tmp_path, capsys):
    spec = small_spec(tmp_path, fit_end=2015, end=2019, walkers=8, steps=30, burn=10)
    out = tmp_path / "out"
    status = main(["calibrate", str(spec), "--out", str(out), "--draws", "12"])
    printed = capsys.readouterr().out
    assert status == 0
    for name in (
        "calibration.nc",
        "fit.png",
        "pairs.png",
        "prior_posterior.png",
        "calibrated.toml",
        "holdout.csv",
        "projections.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    assert cf_problems(out / "calibration.nc") == []
    assert "Held out (FY2016-FY2019)" in printed
    holdout = pd.read_csv(out / "holdout.csv").set_index("series")
    history = data.history()
    gs10, funds = history.series("gs10_fy_avg"), history.series("fedfunds_fy_avg")
    spread = (gs10 - funds).loc[2001:2015].mean()
    held = range(2016, 2020)
    naive = np.sqrt(np.mean([(funds[y] + spread - gs10[y]) ** 2 for y in held]))
    assert holdout.loc["gs10_fy_avg", "rmse funds + constant spread"] == pytest.approx(naive)
    assert np.isnan(holdout.loc["dollar_broad_spliced_fy_avg", "rmse funds + constant spread"])
    assert np.isfinite(holdout["rmse posterior means"]).all()
    with xr.open_dataset(out / "calibration.nc") as dataset:
        assert dataset.sizes["draw"] == 8 * 20
        assert dataset.sizes["quantity"] == 3
        medians = dataset["posterior_median"].to_series()
        assert np.isfinite(dataset["log_likelihood"].values).all()
        assert set(dataset["obs_year"].values[dataset["obs_fitted"].values == 0]) == {
            2016,
            2017,
            2018,
            2019,
        }
    calibrated = tomllib.loads((out / "calibrated.toml").read_text())
    assert calibrated["base"] == "baseline"
    for name, value in calibrated["set"].items():
        assert value == pytest.approx(medians[name], rel=1e-12)
    child = out / "on_calibrated.toml"
    child.write_text(
        '# on_calibrated: test\nbase = "calibrated"\n[set]\njapan_sale_amount = 100.0\n'
    )
    values = prepare(str(child)).values
    assert values["yield_seeking_sensitivity"] == pytest.approx(
        medians["yield_seeking_sensitivity"]
    )
    assert values["japan_sale_amount"] == 100.0
    names, matrix = posterior_matrix(out, count=50, seed=1)
    assert names == list(calibrated["set"])
    assert matrix.shape == (50, len(names))

    # the posterior as a sweep's sampling distribution, then the analysis of that sweep
    uncertainties = "".join(f"[uncertainties.{name}]\n" for name in names)
    sweep_spec = out / "posterior_sweep.toml"
    sweep_spec.write_text(
        "# posterior_sweep: test\n"
        'scenarios = ["article"]\noutcomes = ["debt_to_gdp", "market_yield"]\n'
        "final_time = 2030\n"
        '[sampler]\nmethod = "posterior"\nsamples = 16\nseed = 3\ncalibration = "."\n'
        + uncertainties
    )
    assert main(["sweep", str(sweep_spec), "--out", str(tmp_path / "sweep"), "--quiet"]) == 0
    assert main(["analyze", str(tmp_path / "sweep")]) == 0
    with open_sweep(store_path(tmp_path / "sweep")) as store:
        swept = np.column_stack([store[name].values for name in names])
    _, expected = posterior_matrix(out, count=16, seed=3)
    np.testing.assert_array_equal(swept, expected)

    # Sobol indices under the posterior: each parameter from its marginal posterior
    marginal = "".join(f'[uncertainties.{name}]\ndistribution = "posterior"\n' for name in names)
    sobol_spec = out / "posterior_sobol.toml"
    sobol_spec.write_text(
        "# posterior_sobol: test\n"
        'scenarios = ["article"]\noutcomes = ["debt_to_gdp", "market_yield"]\n'
        "final_time = 2030\n"
        '[sampler]\nmethod = "sobol"\nsamples = 16\nseed = 3\ncalibration = "."\n' + marginal
    )
    assert main(["sweep", str(sobol_spec), "--out", str(tmp_path / "sobol"), "--quiet"]) == 0
    assert main(["analyze", str(tmp_path / "sobol")]) == 0
    _, every_draw = posterior_matrix(out)
    with open_sweep(store_path(tmp_path / "sobol")) as store:
        for column, name in enumerate(names):
            values = store[name].values
            assert values.min() >= every_draw[:, column].min()
            assert values.max() <= every_draw[:, column].max()
    with xr.open_dataset(tmp_path / "sobol" / "analysis.nc") as analysis:
        assert set(analysis["parameter"].values) == set(names)
        assert np.isfinite(analysis["sobol_ST"].values).all()

    # a posterior distribution needs a calibration folder
    sobol_spec.write_text(sobol_spec.read_text().replace('calibration = "."\n', ""))
    assert main(["sweep", str(sobol_spec), "--out", str(tmp_path / "none"), "--quiet"]) == 2
    assert 'needs calibration = "DIR"' in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"series": "gs10_fy_avgx"}, "unknown series"),
        ({"bounds": "[-1.0, 3.0]"}, "outside its valid range"),
        ({"start": 1995}, "not a fiscal year of the historical dataset"),
        ({"noise": 0.0}, "must be positive"),
        ({"noise": -1.0}, "must be positive"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, change, message):
    path = small_spec(tmp_path, start=change.get("start", 2000), gs10=change.get("noise", 0.2))
    text = path.read_text()
    if "series" in change:
        text = text.replace("[series.gs10_fy_avg]", f"[series.{change['series']}]")
    if "bounds" in change:
        text = text.replace(
            "[parameters.yield_seeking_sensitivity]",
            f"[parameters.yield_seeking_sensitivity]\nbounds = {change['bounds']}",
        )
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert not out.exists()


def test_unknown_scenario_and_bad_sampler_are_refused_before_any_run(tmp_path, capsys):
    path = small_spec(tmp_path)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--scenario", "japan_fulll"]) == 2
    assert "japan_full" in capsys.readouterr().err
    assert main(["calibrate", str(path), "--out", str(out), "--walkers", "3"]) == 2
    assert "nearest valid value" in capsys.readouterr().err
    assert not out.exists()


def test_period_without_data_is_refused(tmp_path):
    """FY2000's bill share is missing: fitting it from FY2000 alone leaves too few years."""
    path = small_spec(tmp_path)
    text = path.read_text().replace(
        "[series.gs10_fy_avg]",
        '[series.bill_share_marketable]\nvariables = ["bill_share_of_debt"]\nnoise = 1.0\n\n'
        "[series.gs10_fy_avg]",
    )
    text = text.replace("fit_end = 2012", "fit_end = 2001")
    path.write_text(text)
    with pytest.raises(Exception, match="years of data in the fit period"):
        CalibrationProblem(load_spec(path))


def test_ar1_likelihood_is_the_multivariate_normal_density(tmp_path):
    """Whitening plus the determinant terms give the exact density of AR(1) errors."""
    path = small_spec(
        tmp_path,
        gs10='"estimate"\nnoise_range = [0.01, 5.0]\nerrors = "ar1"',
        foreign='40.0\nerrors = "ar1"',
    )
    problem = CalibrationProblem(load_spec(path))
    assert problem.quantity_names[-3:] == [
        "log_noise_gs10_fy_avg",
        "rho_gs10_fy_avg",
        "rho_foreign_holdings_total",
    ]
    params = np.array([1.0, 0.45, 4.0])
    noise = np.array([0.7, 2.0, 40.0])
    rho = np.array([0.6, 0.0, 0.3])
    theta = problem.pack(params, noise, rho)
    np.testing.assert_allclose(problem.unpack(theta)[1], noise)
    expected = 0.0
    for gap, scale, r in zip(
        problem.residuals(problem.predict(params[None, :])), noise, rho, strict=True
    ):
        lags = np.abs(np.subtract.outer(np.arange(gap.shape[1]), np.arange(gap.shape[1])))
        covariance = scale**2 * r**lags
        expected += stats.multivariate_normal(cov=covariance).logpdf(gap[0])
    assert problem.log_likelihood(theta[None, :])[0] == pytest.approx(expected, rel=1e-10)
    outside = problem.pack(params, noise, np.array([0.99, 0.0, 0.3]))
    assert problem.log_posterior(outside[None, :])[0] == -np.inf


def test_ar1_point_fit_finds_autocorrelated_errors(tmp_path):
    """Errors simulated with rho = 0.7 are found to be autocorrelated; independent ones are not."""
    path = small_spec(
        tmp_path, fit_end=2019, gs10='"estimate"\nnoise_range = [0.01, 5.0]\nerrors = "ar1"'
    )
    problem = CalibrationProblem(load_spec(path))
    predictions = problem.predict(TRUTH[None, :])
    found = {}
    for rho in (0.0, 0.7):
        rng = np.random.default_rng(11)
        shocks = rng.standard_normal(predictions[0].shape[1])
        errors = np.empty_like(shocks)
        errors[0] = shocks[0]
        for t in range(1, len(shocks)):
            errors[t] = rho * errors[t - 1] + np.sqrt(1 - rho**2) * shocks[t]
        observed = [predictions[0][0] + 0.2 * errors, predictions[1][0], predictions[2][0]]
        found[rho] = point_fit(problem.with_observed(observed)).rho[0]
    # The lag-one autocorrelation of n = 19 points has a standard error of about 1/sqrt(n), too
    # wide for a test with a small false-failure rate: this one is deterministic instead. The
    # errors are fixed by their seed (numpy's Generator gives the same numbers on every machine)
    # and the point fit moves with them only by round-off; with seed 11 it finds 0.0 and 0.23,
    # margins of 0.57 and 0.10 to the tolerance of 2.5 standard errors.
    tolerance = 2.5 / np.sqrt(problem.fitted_counts()[0])
    assert found[0.0] < tolerance
    assert abs(found[0.7] - 0.7) < tolerance


@pytest.mark.mcmc
def test_ensemble_engine_runs_the_mcmc_in_batches_of_the_walkers(tmp_path):
    """Batches smaller than the walkers (proposals outside the priors) are padded, not rebuilt."""
    spec = load_spec(
        small_spec(tmp_path, walkers=8, steps=6, burn=2), sampler_overrides={"engine": "ensemble"}
    )
    problem = CalibrationProblem(spec)
    fit = point_fit(CalibrationProblem(load_spec(small_spec(tmp_path))))
    posterior = sample_posterior(problem, fit)
    assert np.isfinite(posterior.log_posterior).all()
    partial = problem.predict(np.array([[1.0, 0.45, 4.0]] * 3))
    assert all(p.shape[0] == 3 for p in partial)
