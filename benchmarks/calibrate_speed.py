"""Time the shipped calibration: the point fit, the MCMC run, and the two engines per walker batch.

Run with ``.venv/bin/python benchmarks/calibrate_speed.py``. Goals, on a 2-core
machine: the point fit of ``models/calibrations/history_2000_2019.toml`` in under 1 minute, and its
MCMC run (the spec's 32 walkers x 3,000 steps, about 100,000 model evaluations) in under 10
minutes. Other processes may share the CPU: the load average is printed before and after.
"""

import os
import statistics
import time

import numpy as np

from debtloops.calibration.estimate import point_fit, sample_posterior
from debtloops.calibration.problem import CalibrationProblem
from debtloops.calibration.spec import load_spec
from debtloops.paths import MODELS_DIR

SPEC = MODELS_DIR / "calibrations" / "history_2000_2019.toml"
#: Goals [s].
POINT_FIT_GOAL, MCMC_GOAL = 60.0, 600.0
#: Batches timed per engine, and walkers per batch.
BATCHES, BATCH_WALKERS = 5, (32, 256)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def _per_run(engine: str, walkers: int) -> float:
    """Return the median time per model run [s] of one batch of ``walkers`` through an engine."""
    problem = CalibrationProblem(load_spec(SPEC, sampler_overrides={"engine": engine}))
    rng = np.random.default_rng(0)
    low = np.array([p.low for p in problem.spec.priors])
    high = np.array([p.high for p in problem.spec.priors])
    thetas = low + (high - low) * rng.uniform(size=(walkers, len(low)))
    problem.predict(thetas)  # translation, loading and the first run are not timed
    times = []
    for _ in range(BATCHES):
        start = time.perf_counter()
        problem.predict(thetas)
        times.append((time.perf_counter() - start) / walkers)
    return statistics.median(times)


def main() -> None:
    print(f"before: {_load()}")
    spec = load_spec(SPEC)
    problem = CalibrationProblem(spec)
    start = time.perf_counter()
    fit = point_fit(problem)
    fit_seconds = time.perf_counter() - start
    verdict = "met" if fit_seconds < POINT_FIT_GOAL else "MISSED"
    print(
        f"point fit: {fit_seconds:.1f} s, {fit.evaluations} model runs "
        f"(goal < {POINT_FIT_GOAL:.0f} s: {verdict})"
    )
    start = time.perf_counter()
    posterior = sample_posterior(problem, fit)
    mcmc_seconds = time.perf_counter() - start
    verdict = "met" if mcmc_seconds < MCMC_GOAL else "MISSED"
    print(
        f"MCMC: {mcmc_seconds:.1f} s, {posterior.evaluations:,} model runs, "
        f"{posterior.evaluations / mcmc_seconds:.0f} runs/s, "
        f"{spec.sampler.walkers} walkers x {spec.sampler.steps} steps "
        f"(goal < {MCMC_GOAL:.0f} s: {verdict})"
    )
    print(
        f"  acceptance {posterior.acceptance:.2f}; autocorrelation times "
        f"{np.round(posterior.tau).astype(int).tolist()} steps; split R-hat "
        f"{np.round(posterior.rhat, 3).tolist()}; {len(posterior.problems)} diagnostic problems"
    )
    for walkers in BATCH_WALKERS:
        for engine in ("simlin", "ensemble"):
            seconds = _per_run(engine, walkers)
            print(f"{engine:<9} {walkers:>4} walkers per batch: {seconds * 1e3:6.2f} ms per run")
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
