"""Calibration to history: specifications, the likelihood, the estimators and their outputs."""

from debtloops.calibration.posterior import posterior_matrix

__all__ = ["posterior_matrix"]
