"""The two estimators: a weighted least-squares point fit and an MCMC posterior.

Point fit (:func:`point_fit`)
    ``scipy.optimize.least_squares`` (trust-region reflective, within the priors' supports) on the
    residuals divided by each series' noise scale; normal and lognormal priors enter as extra
    standardised residuals (a maximum a posteriori fit), uniform priors only as bounds. Estimated
    noise scales are found by iterating: fit, set each series' scale to the root-mean-square of
    its residuals (within its ``noise_range``) and each AR(1) series' autocorrelation to that of
    its residuals, fit again (the residuals whitened with the autocorrelation). Standard errors
    and the correlation matrix come from the Jacobian at the optimum, ``cov = (J^T J)^-1``; a
    parameter at a bound of its support has no meaningful standard error and is flagged.

Posterior (:func:`sample_posterior`)
    ``emcee``'s ensemble sampler with ``vectorize=True`` and differential-evolution moves
    (:data:`MOVES`: 80% ``DEMove`` at its default step, 20% ``DEMove`` with a step factor of 1,
    ter Braak's (2006) jumps between modes), which mix faster than emcee's default stretch move
    on this problem's correlated parameters. emcee's ``DESnookerMove`` (3.1.6) is not used: it
    normalises the direction by the square root of the distance to the reference walker instead
    of the distance, so its step grows with that distance and the move does not keep the target
    distribution (on a Gaussian it gave standard deviations 6-8%
    too small; ``tests/test_calibration.py`` compares the sampler with a closed-form posterior).
    Each step hands the
    whole batch of walkers to :meth:`CalibrationProblem.log_posterior`, one Simlin run per walker
    or one vectorised pysd run for all. The estimated noise scales are sampled too, as
    logarithms, and so are the AR(1) autocorrelations. The walkers start in a small ball around
    the point fit. Diagnostics: the integrated autocorrelation time of each quantity (the chain
    should be at least :data:`TAU_MULTIPLE` times longer), the mean acceptance fraction (expected in
    :data:`ACCEPTANCE_RANGE`) and the split R-hat computed across walkers after burn-in
    (approximate for an ensemble sampler, whose walkers are not independent; expected below
    :data:`RHAT_LIMIT`). A failed diagnostic is reported in ``problems``, never hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import emcee
import numpy as np
from scipy.optimize import OptimizeResult, least_squares

from debtloops.calibration.problem import CalibrationProblem
from debtloops.calibration.spec import RHO_MAX

#: Iterations of the noise-scale update in the point fit.
NOISE_ITERATIONS = 4
#: Relative step of the finite differences of the Jacobian [1]: larger than the Euler
#: integration's round-off, smaller than any curvature of the fit.
DIFF_STEP = 1e-4
#: A parameter closer than this share of its support to a bound is "at the bound" [1].
AT_BOUND = 1e-3
#: The chain should be this many autocorrelation times long (emcee's documentation).
TAU_MULTIPLE = 50
#: The expected range of the mean acceptance fraction of an ensemble sampler.
ACCEPTANCE_RANGE = (0.1, 0.7)
#: The step factor of the mode-jumping differential-evolution move (ter Braak 2006) [1].
JUMP_GAMMA = 1.0
#: emcee's proposal moves and their weights (see the module's docstring).
MOVES = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DEMove(gamma0=JUMP_GAMMA), 0.2)]
#: The largest acceptable split R-hat.
RHAT_LIMIT = 1.05
#: The width of the walkers' starting ball, in standard errors of the point fit.
START_BALL = 0.1
#: Fallback starting width as a share of a prior's support, where a standard error is not usable.
START_SHARE = 0.01
#: Starting spread of the walkers' AR(1) autocorrelations [1].
START_RHO = 0.02
#: How far inside a bound the walkers start [the quantity's units].
EDGE = 1e-9


@dataclass
class PointFit:
    """The weighted least-squares fit.

    Attributes
    ----------
    names : list of str
        The estimated parameters.
    values, errors : numpy.ndarray
        The estimates and their standard errors [the parameters' units].
    correlation : numpy.ndarray
        The parameters' correlation matrix.
    noise : numpy.ndarray
        Each series' noise scale, given or estimated [the series' units].
    rho : numpy.ndarray
        Each series' lag-one error autocorrelation (0 for independent errors).
    at_bound : numpy.ndarray of bool
        True where an estimate sits at a bound of its support.
    cost : float
        Half the sum of squared standardised residuals.
    evaluations : int
        Model runs used.
    message : str
        The optimiser's message.
    """

    names: list[str]
    values: np.ndarray
    errors: np.ndarray
    correlation: np.ndarray
    noise: np.ndarray
    rho: np.ndarray
    at_bound: np.ndarray
    cost: float
    evaluations: int
    message: str


@dataclass
class Posterior:
    """The MCMC run.

    Attributes
    ----------
    names : list of str
        The sampled quantities: the parameters, then ``log_noise_<series>``, then
        ``rho_<series>``.
    chain : numpy.ndarray
        Shape (steps, walkers, quantities), burn-in included.
    log_posterior : numpy.ndarray
        Shape (steps, walkers).
    burn : int
        Steps dropped as burn-in.
    acceptance : float
        Mean acceptance fraction.
    tau : numpy.ndarray
        Integrated autocorrelation time of each quantity [steps].
    rhat : numpy.ndarray
        Split R-hat of each quantity across walkers, after burn-in.
    evaluations : int
        Model runs used.
    problems : list of str
        Failed diagnostics, in words.
    """

    names: list[str]
    chain: np.ndarray
    log_posterior: np.ndarray
    burn: int
    acceptance: float
    tau: np.ndarray
    rhat: np.ndarray
    evaluations: int
    problems: list[str] = field(default_factory=list)

    def draws(self) -> np.ndarray:
        """Return the draws after burn-in, flattened: shape (draws, quantities)."""
        return self.chain[self.burn :].reshape(-1, self.chain.shape[-1])

    def draw_log_posterior(self) -> np.ndarray:
        """Return the log posterior of :meth:`draws`, in the same order."""
        return self.log_posterior[self.burn :].reshape(-1)


def _bounds(problem: CalibrationProblem) -> tuple[np.ndarray, np.ndarray]:
    priors = problem.spec.priors
    return np.array([p.low for p in priors]), np.array([p.high for p in priors])


def _residuals(
    problem: CalibrationProblem, theta: np.ndarray, noise: np.ndarray, rho: np.ndarray
) -> np.ndarray:
    z = problem.standardised(problem.predict(theta[None, :]), noise, rho)[0]
    penalties = [p.penalty(float(v)) for p, v in zip(problem.spec.priors, theta, strict=True)]
    extra = np.array([x for x in penalties if x is not None], dtype=float)
    out = np.concatenate([z, extra])
    # A failed run is far from the data: least squares steps back from it.
    return np.where(np.isfinite(out), out, 1e6)


def _starts(problem: CalibrationProblem) -> list[np.ndarray]:
    """Start from the table's defaults (clipped into the supports) and from the prior centres."""
    low, high = _bounds(problem)
    defaults = np.array([problem.defaults[name] for name in problem.spec.names])
    inner = low + (high - low) * 0.01, high - (high - low) * 0.01
    centres = np.array([p.centre for p in problem.spec.priors])
    return [np.clip(defaults, *inner), np.clip(centres, *inner)]


def _least_squares(
    problem: CalibrationProblem, start: np.ndarray, noise: np.ndarray, rho: np.ndarray
) -> OptimizeResult:
    low, high = _bounds(problem)
    return least_squares(
        lambda x: _residuals(problem, x, noise, rho),
        start,
        bounds=(low, high),
        x_scale="jac",
        diff_step=DIFF_STEP,
        method="trf",
    )


def point_fit(problem: CalibrationProblem) -> PointFit:
    """Fit the parameters by weighted least squares (see the module's docstring).

    Parameters
    ----------
    problem : CalibrationProblem
        The model against the data.

    Returns
    -------
    PointFit
        The estimates, standard errors, correlations, noise scales and autocorrelations.
    """
    low, high = _bounds(problem)
    before = problem.evaluations
    iterations = NOISE_ITERATIONS if problem.noise_series or problem.ar1_series else 0
    best = None
    for start in _starts(problem):
        noise, rho = _first_errors(problem)
        theta = start
        for _ in range(iterations):
            theta = _least_squares(problem, theta, noise, rho).x
            noise, rho = _update_errors(problem, theta, noise, rho)
        result = _least_squares(problem, theta, noise, rho)
        cost = -float(problem.log_posterior(problem.pack(result.x, noise, rho)[None, :])[0])
        if best is None or cost < best[3]:
            best = (result, noise, rho, cost)
    assert best is not None
    result, noise, rho, _ = best
    jacobian = result.jac
    covariance = np.linalg.pinv(jacobian.T @ jacobian)
    errors = np.sqrt(np.clip(np.diag(covariance), 0, None))
    scale = np.where(errors > 0, errors, np.nan)
    correlation = covariance / np.outer(scale, scale)
    width = high - low
    at_bound = (result.x - low < AT_BOUND * width) | (high - result.x < AT_BOUND * width)
    return PointFit(
        names=problem.spec.names,
        values=result.x,
        errors=errors,
        correlation=correlation,
        noise=noise,
        rho=rho,
        at_bound=at_bound,
        cost=float(result.cost),
        evaluations=problem.evaluations - before,
        message=str(result.message),
    )


def _noise_ranges(problem: CalibrationProblem) -> list[tuple[float, float]]:
    return [problem.spec.series[i].noise_range for i in problem.noise_series]  # type: ignore[misc]


def _first_errors(problem: CalibrationProblem) -> tuple[np.ndarray, np.ndarray]:
    """Return the starting noise scales (geometric middle of each range) and rhos (0)."""
    noise = problem.noise([math.log(math.sqrt(a * b)) for a, b in _noise_ranges(problem)])
    return noise, np.zeros(len(problem.spec.series))


def _update_errors(
    problem: CalibrationProblem, theta: np.ndarray, noise: np.ndarray, rho: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Re-estimate the noise scales and AR(1) autocorrelations from the residuals of a fit.

    Each estimated noise scale becomes its series' root-mean-square residual (within its range),
    each AR(1) series' rho the lag-one autocorrelation of its residuals (within [0, RHO_MAX]).
    """
    gaps = problem.residuals(problem.predict(theta[None, :]))
    noise, rho = noise.copy(), rho.copy()
    for index in problem.noise_series:
        low, high = problem.spec.series[index].noise_range  # type: ignore[misc]
        noise[index] = float(np.clip(np.sqrt(np.mean(gaps[index][0] ** 2)), low, high))
    for index in problem.ar1_series:
        gap = gaps[index][0]
        lagged = float(gap[1:] @ gap[:-1]) / float(gap @ gap) if np.any(gap) else 0.0
        rho[index] = float(np.clip(lagged, 0.0, RHO_MAX))
    return noise, rho


def split_rhat(samples: np.ndarray) -> np.ndarray:
    """Return the split R-hat of each quantity (Gelman et al., Bayesian Data Analysis, 3rd ed.).

    Parameters
    ----------
    samples : numpy.ndarray
        Shape (steps, chains, quantities), after burn-in.

    Returns
    -------
    numpy.ndarray
        One value per quantity; near 1 when the chains agree.
    """
    half = samples.shape[0] // 2
    chains = np.concatenate([samples[:half], samples[half : 2 * half]], axis=1)
    n = chains.shape[0]
    means = chains.mean(axis=0)
    within = chains.var(axis=0, ddof=1).mean(axis=0)
    between = n * means.var(axis=0, ddof=1)
    pooled = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(pooled / within)


def _start_ball(
    problem: CalibrationProblem, fit: PointFit, walkers: int, rng: np.random.Generator
) -> np.ndarray:
    low, high = _bounds(problem)
    width = high - low
    usable = np.isfinite(fit.errors) & (fit.errors > 0) & (fit.errors < width)
    spread = np.where(usable, START_BALL * fit.errors, START_SHARE * width)
    inner_low, inner_high = low + START_SHARE * width / 2, high - START_SHARE * width / 2
    centre = np.clip(fit.values, inner_low, inner_high)
    params = centre + spread * rng.standard_normal((walkers, len(centre)))
    params = np.clip(params, inner_low, inner_high)
    log_noise = np.log(fit.noise[problem.noise_series])
    noise = log_noise + START_SHARE * rng.standard_normal((walkers, len(log_noise)))
    ranges = np.log(np.array(_noise_ranges(problem)).reshape(-1, 2))
    noise = np.clip(noise, ranges[:, 0] + EDGE, ranges[:, 1] - EDGE)
    rho = fit.rho[problem.ar1_series]
    rho = np.clip(rho + START_RHO * rng.standard_normal((walkers, len(rho))), EDGE, RHO_MAX - EDGE)
    return np.concatenate([params, noise, rho], axis=1)


def sample_posterior(
    problem: CalibrationProblem,
    fit: PointFit,
    walkers: int | None = None,
    steps: int | None = None,
    burn: int | None = None,
    seed: int | None = None,
) -> Posterior:
    """Sample the posterior with emcee (see the module's docstring).

    Parameters
    ----------
    problem : CalibrationProblem
        The model against the data.
    fit : PointFit
        The point fit, where the walkers start.
    walkers, steps, burn, seed : int, optional
        Override the specification's sampler settings.

    Returns
    -------
    Posterior
        The chain, its log posterior and the diagnostics.
    """
    settings = problem.spec.sampler
    walkers = walkers or settings.walkers
    steps = steps or settings.steps
    burn = settings.burn if burn is None else burn
    seed = settings.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    start = _start_ball(problem, fit, walkers, rng)
    names = problem.quantity_names
    before = problem.evaluations
    sampler = emcee.EnsembleSampler(
        walkers, start.shape[1], problem.log_posterior, vectorize=True, moves=MOVES
    )
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(start, steps, progress=False)
    chain = sampler.get_chain()
    log_posterior = sampler.get_log_prob()
    with np.errstate(invalid="ignore", divide="ignore"):  # a chain that never moved: NaN
        tau = np.asarray(sampler.get_autocorr_time(tol=0), dtype=float)
    acceptance = float(np.mean(sampler.acceptance_fraction))
    rhat = split_rhat(chain[burn:])
    problems = []
    for name, t in zip(names, tau, strict=True):
        if not np.isfinite(t) or steps < TAU_MULTIPLE * t:
            problems.append(
                f"{name}: the chain ({steps} steps) is shorter than {TAU_MULTIPLE} "
                f"autocorrelation times ({t:.0f} steps); run longer"
            )
        if burn < 2 * t:
            problems.append(f"{name}: burn-in ({burn} steps) is under 2 autocorrelation times")
    if not ACCEPTANCE_RANGE[0] <= acceptance <= ACCEPTANCE_RANGE[1]:
        problems.append(
            f"mean acceptance fraction {acceptance:.2f} is outside "
            f"[{ACCEPTANCE_RANGE[0]}, {ACCEPTANCE_RANGE[1]}]"
        )
    for name, r in zip(names, rhat, strict=True):
        if not np.isfinite(r) or r > RHAT_LIMIT:
            problems.append(f"{name}: split R-hat {r:.3f} above {RHAT_LIMIT}")
    return Posterior(
        names=names,
        chain=chain,
        log_posterior=log_posterior,
        burn=burn,
        acceptance=acceptance,
        tau=tau,
        rhat=rhat,
        evaluations=problem.evaluations - before,
        problems=problems,
    )
