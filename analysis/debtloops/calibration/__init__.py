"""Calibration to history: estimate parameters from FY2000-FY2025 data (``debtloops calibrate``).

``spec``       calibration specification files (parameters and priors, series, period, errors)
``problem``    the backtest run for a parameter set, its fiscal-year measurements and likelihood
``estimate``   weighted least squares and MCMC (emcee), with their diagnostics
``posterior``  posterior draws as a parameter matrix (for sweeps), projections under prior and
               posterior
``dataset``    what ``calibration.nc`` holds: the draws, fits, bands and held-out check
``calibrate``  the command: run both estimators and write ``calibration.nc``, figures, tables
               and ``calibrated.toml``
"""

from debtloops.calibration.posterior import posterior_matrix

__all__ = ["posterior_matrix"]
