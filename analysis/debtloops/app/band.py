"""The explorer's uncertainty band: the 5-95% range of key paths over the uncertain parameters.

The band reuses the sweep machinery: the design is ``models/sweeps/core_uncertainty.toml``'s (its
eighteen uncertain parameters, each over the parameter table's range, in its own distribution and
Latin hypercube with its seed), cut to :data:`BAND_SAMPLES` samples, and the runs are one pysd
ensemble (:func:`debtloops.model.ensemble.simulate`) around the explorer's current settings. A
parameter the user has moved keeps the user's value in every run. No web library is imported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np

from debtloops.model import ensemble
from debtloops.model.parameters import Value, load_parameters
from debtloops.paths import MODELS_DIR

#: The sweep whose uncertainties and sampler the band draws from.
BAND_SPEC = MODELS_DIR / "sweeps" / "core_uncertainty.toml"
#: Runs in the band's ensemble: enough for stable 5% and 95% quantiles of smooth paths, few
#: enough for about half a second on two cores.
BAND_SAMPLES = 200
#: The band's lower and upper quantiles [1].
BAND_QUANTILES = (0.05, 0.95)
#: The paths the band is drawn around: the explorer's single-variable charts.
BAND_VARIABLES = ("debt_to_gdp", "market_yield", "interest_to_revenue", "dollar_index")


@dataclass(frozen=True)
class Band:
    """The band of each path: its quantiles over the runs at each time.

    Attributes
    ----------
    time : numpy.ndarray
        The saved times [year].
    low, high : dict of str to numpy.ndarray
        The :data:`BAND_QUANTILES` of each of :data:`BAND_VARIABLES` [the .mdl's units].
    runs : int
        The number of runs drawn.
    """

    time: np.ndarray
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    runs: int


@cache
def band_design() -> tuple[tuple[str, ...], np.ndarray]:
    """Return the band's uncertain parameters and their sampled values, read once.

    Returns
    -------
    tuple
        The parameter names and an array of shape ``(BAND_SAMPLES, names)`` [each one's units].
    """
    from debtloops.model.engine import describe, load
    from debtloops.model.scenarios import list_scenarios
    from debtloops.sweeps.design import design
    from debtloops.sweeps.spec import load_spec

    info = describe(load())
    varying = [name for name, kind in info.kinds.items() if kind not in ("Constant", "None")]
    constants = [name for name, kind in info.kinds.items() if kind in ("Constant", "None")]
    spec = load_spec(BAND_SPEC, load_parameters(), list_scenarios(), varying, constants)
    drawn = design(dataclasses.replace(spec, samples=BAND_SAMPLES, levers={}))
    names = tuple(u.name for u in spec.uncertainties)
    return names, np.asarray(drawn.values[:, : len(names)])


def uncertainty_band(values: Mapping[str, Value], fixed: Iterable[str] = ()) -> Band | None:
    """Run the band's ensemble around a set of values and return its quantiles.

    Parameters
    ----------
    values : mapping
        The current settings' validated values (:meth:`ExplorerSession.values`).
    fixed : iterable of str
        Parameters that keep their value in ``values`` in every run (those the user moved).

    Returns
    -------
    Band or None
        None when every uncertain parameter of the design is fixed.
    """
    names, rows = band_design()
    held = set(fixed)
    sampled = {name: rows[:, j] for j, name in enumerate(names) if name not in held}
    if not sampled:
        return None
    times, results = ensemble.simulate(values, sampled, BAND_VARIABLES)
    quantiles = {name: np.nanquantile(results[name], BAND_QUANTILES, axis=0) for name in results}
    return Band(
        time=times,
        low={name: q[0] for name, q in quantiles.items()},
        high={name: q[1] for name, q in quantiles.items()},
        runs=len(rows),
    )
