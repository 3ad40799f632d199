"""Compare the sweep path with a plain loop of pysd runs, and print the figures.

Measured in one run on the same machine:

* the plain loop: the translated model loaded once, then one ``model.run`` per sample;
* the project's sweep path (``debtloops.sweeps.execute.run_sweep``, one process) at 1,000 and 10,000
  samples of the full model over 30 years. Each sample is run in ``japan_full`` and, as the
  reference for the extra interest, in the baseline: two simulations per sample, against one in
  the plain loop.

Goals (issue 3): at least 20x the plain loop at 10,000 samples, 10,000 samples in under 30 s on a
2-core machine, peak memory under 2 GB.
"""

import resource
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

from debtloops.model import engine
from debtloops.model.run import prepare
from debtloops.sweeps.execute import MAX_CHUNK_SIZE, run_sweep

PLAIN_LOOP_SAMPLES = 40
SPEC = """\
# speed: Latin hypercube over the yield-impact and risk-premium parameters in japan_full
# Intent: benchmark the sweep path.
# Source: ranges from models/parameters.toml.
scenarios = ["japan_full"]
outcomes = ["debt_to_gdp", "market_yield", "interest_to_revenue", "dollar_index"]

[sampler]
method = "lhs"
samples = {samples}
seed = 1

[uncertainties.portfolio_balance_sensitivity]
[uncertainties.flow_effect_sensitivity]
[uncertainties.risk_premium_debt_sensitivity]
[uncertainties.coupon_maturity_time]
"""


def plain_loop_rate() -> float:
    """Return the samples per second of one pysd run per sample, model loaded once."""
    values = dict(prepare("japan_full").values)
    pysd_model = engine.load()
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for _ in range(PLAIN_LOOP_SAMPLES):
        values["portfolio_balance_sensitivity"] = float(rng.uniform(0.3, 0.6))
        engine.run_loaded(pysd_model, values)
    return PLAIN_LOOP_SAMPLES / (time.perf_counter() - started)


def sweep_rate(samples: int, folder: Path) -> tuple[float, float]:
    """Return the sweep path's samples per second, with and without the one-off translation."""
    spec = folder / f"speed_{samples}.toml"
    spec.write_text(textwrap.dedent(SPEC.format(samples=samples)))
    # Large chunks, as before the default of at least 20 chunks: the speed of the path itself.
    size = min(samples, MAX_CHUNK_SIZE)
    first = run_sweep(spec, folder / f"first_{samples}", quiet=True, chunk_size=size)
    second = run_sweep(spec, folder / f"second_{samples}", quiet=True, chunk_size=size)
    return samples / first.seconds, samples / second.seconds


def main() -> None:
    warnings.simplefilter("error")
    loop = plain_loop_rate()
    print(f"plain loop, one model.run per sample:   {loop:10.1f} samples/s")
    with tempfile.TemporaryDirectory() as scratch:
        for samples in (1_000, 10_000):
            cold, warm = sweep_rate(samples, Path(scratch))
            print(
                f"sweep path, {samples:>6,} samples:          {warm:10.1f} samples/s "
                f"({samples / warm:5.1f} s; the first time, with translation: "
                f"{samples / cold:5.1f} s)"
            )
            print(f"  ratio to the plain loop:              {warm / loop:10.1f} x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (resident, this process):   {peak:10.0f} MB")


if __name__ == "__main__":
    main()
