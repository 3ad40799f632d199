"""The calibration problem: the model run from history, measured like the data, and its likelihood.

The run is a backtest (:func:`debtloops.validation.backtest.prepare_backtest`): it starts from the
historical state at the end of FY``start`` and takes the drivers as they happened up to FY``end``;
the specification's fixed values and the estimated parameters are set on top. Every run goes
through the .mdl, in Simlin (one prepared in-memory model, about 1 ms a run) or in pysd's ensemble
path (one vectorised run per batch); nothing of the model is restated here.

A fitted series is a fiscal-year series of the historical dataset, or the fiscal-year means of a
monthly market series (the ACM term premium, say). Each is measured from the saved run by a linear
operator (a row per fiscal year):
``end`` picks the value at the year's end, ``mean`` averages the year's saved points (as the
backtest does), ``change`` subtracts the previous year's end from the year's. The error model is
Gaussian and independent across years and series, with one standard deviation per series, given
or estimated,
and, for a series with ``errors = "ar1"``, a lag-one autocorrelation of its yearly errors.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from debtloops.calibration.spec import AR1, HISTORY, RHO_MAX, CalibrationSpec
from debtloops.errors import InputError
from debtloops.model import data
from debtloops.model.parameters import Value, load_parameters, validate
from debtloops.validation.backtest import prepare_backtest

FIT, HOLDOUT = "fit", "holdout"
#: Tolerance for matching a saved time to a fiscal year's end [year].
TIME_TOLERANCE = 1e-6
#: The fewest fitted years a series needs [years].
MIN_FITTED_YEARS = 2


@dataclass(frozen=True)
class SeriesData:
    """One fitted series over the whole run: its years, the data and the measuring operator.

    Attributes
    ----------
    years : numpy.ndarray
        The fiscal years with data [year].
    observed : numpy.ndarray
        The data [the series' units].
    fitted : numpy.ndarray of bool
        True for the fit period's years, False for the held-out years.
    operator : numpy.ndarray
        Shape (years, saved times): the model's counterpart is ``operator @ (scale * sum of the
        variables)``.
    """

    years: np.ndarray
    observed: np.ndarray
    fitted: np.ndarray
    operator: np.ndarray


def _operator(times: np.ndarray, years: np.ndarray, how: str) -> np.ndarray:
    """Return the matrix that measures saved values as fiscal-year values (see module doc)."""
    matrix = np.zeros((len(years), len(times)))

    def at(year: float) -> int:
        found = np.flatnonzero(np.abs(times - year) < TIME_TOLERANCE)
        if found.size != 1:
            raise InputError(f"the run saves no value at the end of FY{year:g}")
        return int(found[0])

    for row, year in enumerate(years):
        if how == "end":
            matrix[row, at(year)] = 1.0
        elif how == "change":
            matrix[row, at(year)] += 1.0
            matrix[row, at(year - 1)] -= 1.0
        else:
            # the year's first day and each saved step before its last (as the backtest)
            inside = (times > year - 1 - TIME_TOLERANCE) & (times < year - TIME_TOLERANCE)
            matrix[row, inside] = 1.0 / inside.sum()
    return matrix


class CalibrationProblem:
    """The model against history for one specification.

    Parameters
    ----------
    spec : CalibrationSpec
        The checked specification.

    Raises
    ------
    InputError
        If a fitted series has fewer than two years of data in the fit period.
    """

    def __init__(self, spec: CalibrationSpec) -> None:
        self.spec = spec
        table = load_parameters()
        prepared = prepare_backtest(spec.start, spec.end, spec.yields)
        layer: dict[str, Value] = dict(prepared.scenario.overrides)
        # The fit's settings, and the estimated parameters at their prior centres: a driver
        # that the data layer gives as a series becomes one constant.
        layer.update(spec.fixed)
        layer.update({prior.name: prior.centre for prior in spec.priors})
        self.values: dict[str, Value] = validate(table, layer)
        self.defaults = {name: float(table[name].value) for name in spec.names}
        saveper = float(self.values["saveper"])  # type: ignore[arg-type]
        steps = round((spec.end - spec.start) / saveper)
        self.times = spec.start + saveper * np.arange(steps + 1)
        self.variables = sorted({v for item in spec.series for v in item.variables})
        self.data = tuple(self._series_data(item) for item in spec.series)
        self._model = None
        self._overrides: dict[str, float] = {}
        self.evaluations = 0

    def _series_data(self, item) -> SeriesData:
        if item.source == HISTORY:
            observed = data.history().series(item.series)
        else:  # the fiscal-year means of a monthly series; a year with a missing month is absent
            observed = data.fiscal_year_mean(item.series)
        if item.how == "change":  # the year's change, where both year ends are in the data
            previous = observed.rename(lambda year: year + 1)
            observed = (observed - previous.reindex(observed.index)).dropna()
        first = self.spec.start if item.how == "end" else self.spec.start + 1
        years = np.array(
            [y for y in range(first, self.spec.end + 1) if y in observed.index], dtype=float
        )
        fitted = years <= self.spec.fit_end
        if fitted.sum() < MIN_FITTED_YEARS:
            raise InputError(
                f"calibration {self.spec.path}: series {item.series} has "
                f"{int(fitted.sum())} years of data in the fit period FY{first}-"
                f"FY{self.spec.fit_end} (at least {MIN_FITTED_YEARS} needed); its data cover "
                f"FY{int(observed.index.min())}-FY{int(observed.index.max())}"
            )
        if item.errors == AR1 and np.any(np.diff(years[fitted]) != 1):
            raise InputError(
                f"calibration {self.spec.path}: series {item.series} has gaps in the fit period; "
                'AR(1) errors need consecutive years (use errors = "independent")'
            )
        return SeriesData(
            years=years,
            observed=observed.loc[years.astype(int)].to_numpy(dtype=float),
            fitted=fitted,
            operator=_operator(self.times, years, item.how),
        )

    def with_observed(self, observed: Sequence[np.ndarray]) -> CalibrationProblem:
        """Return a copy of the problem that fits other data, e.g. simulated with known values.

        Parameters
        ----------
        observed : sequence of numpy.ndarray
            One array per series, over the same years as its data [the series' units].

        Returns
        -------
        CalibrationProblem
            The same model, periods and error model against ``observed``.
        """
        copy = object.__new__(CalibrationProblem)
        copy.__dict__.update(self.__dict__)
        copy._model, copy._overrides, copy.evaluations = None, {}, 0
        copy.data = tuple(
            dataclasses.replace(series, observed=np.asarray(values, dtype=float))
            for series, values in zip(self.data, observed, strict=True)
        )
        return copy

    # ---- runs --------------------------------------------------------------------------------
    def _simlin(self):
        if self._model is None:
            from debtloops.model.simlin import prepared_model

            self._model, self._overrides = prepared_model(self.values)
        return self._model

    def _measure(self, runs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Measure runs (variable -> array (runs, times)) as each series: (runs, years) each."""
        measured = []
        for item, series in zip(self.spec.series, self.data, strict=True):
            total = sum(runs[v] for v in item.variables) * item.scale
            measured.append(total @ series.operator.T)
        return measured

    def simulate(self, thetas: np.ndarray) -> dict[str, np.ndarray]:
        """Run the model for a batch of parameter sets.

        Parameters
        ----------
        thetas : numpy.ndarray
            Shape (runs, estimated parameters), in the order of ``spec.priors`` [their units].

        Returns
        -------
        dict of str to numpy.ndarray
            Each variable the series need, shape (runs, saved times); NaN where a run failed.
        """
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        self.evaluations += len(thetas)
        if self.spec.sampler.engine == "ensemble" and len(thetas) > 1:
            from debtloops.model import ensemble

            # One batch size per calibration, so that pysd translates the model once: a batch
            # smaller than the walkers (some proposals fell outside the priors) is padded.
            size = max(len(thetas), self.spec.sampler.walkers)
            padded = np.vstack([thetas, np.repeat(thetas[-1:], size - len(thetas), axis=0)])
            sampled = {name: padded[:, i] for i, name in enumerate(self.spec.names)}
            times, results = ensemble.simulate(self.values, sampled, self.variables)
            if times.shape != self.times.shape or not np.allclose(times, self.times):
                raise InputError("the ensemble run saved other times than expected")
            return {name: values[: len(thetas)] for name, values in results.items()}
        model = self._simlin()
        out = {v: np.full((len(thetas), len(self.times)), np.nan) for v in self.variables}
        for row, theta in enumerate(thetas):
            overrides = {
                **self._overrides,
                **dict(zip(self.spec.names, map(float, theta), strict=True)),
            }
            try:
                run = model.simulate(overrides=overrides)
                run.run_to_end()
                series = {v: np.asarray(run.get_series(v), dtype=float) for v in self.variables}
            except Exception:  # noqa: BLE001 - a failed run is an impossible parameter set
                continue
            for v, values in series.items():
                if values.shape == self.times.shape:
                    out[v][row] = values
        return out

    def predict(self, thetas: np.ndarray) -> list[np.ndarray]:
        """Return the model's counterpart of each series, shape (runs, years) [series' units]."""
        return self._measure(self.simulate(thetas))

    # ---- likelihood --------------------------------------------------------------------------
    @property
    def noise_series(self) -> list[int]:
        """Return the indices of the series whose noise scale is estimated."""
        return [i for i, item in enumerate(self.spec.series) if item.estimated_noise]

    @property
    def ar1_series(self) -> list[int]:
        """Return the indices of the series whose errors follow an AR(1) process."""
        return [i for i, item in enumerate(self.spec.series) if item.errors == AR1]

    @property
    def quantity_names(self) -> list[str]:
        """Return the names of the sampled quantities: parameters, log noises, AR(1) rhos."""
        series = self.spec.series
        return [
            *self.spec.names,
            *(f"log_noise_{series[i].series}" for i in self.noise_series),
            *(f"rho_{series[i].series}" for i in self.ar1_series),
        ]

    def noise(self, log_noise: Sequence[float] | np.ndarray = ()) -> np.ndarray:
        """Return each series' noise scale, the estimated ones from ``log_noise`` [units]."""
        scales = np.array(
            [np.nan if item.estimated_noise else item.noise for item in self.spec.series],
            dtype=float,
        )
        scales[self.noise_series] = np.exp(np.asarray(log_noise, dtype=float))
        return scales

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split one vector of sampled quantities into parameters, noise scales and rhos.

        Returns
        -------
        params : numpy.ndarray
            The model parameters [their units].
        noise : numpy.ndarray
            Each series' noise scale (the error's marginal standard deviation) [units].
        rho : numpy.ndarray
            Each series' lag-one error autocorrelation; 0 for independent errors.
        """
        count, estimated = len(self.spec.priors), len(self.noise_series)
        rho = np.zeros(len(self.spec.series))
        rho[self.ar1_series] = theta[count + estimated :]
        return theta[:count], self.noise(theta[count : count + estimated]), rho

    def pack(self, params: np.ndarray, noise: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Join parameters, noise scales and rhos into one vector (inverse of :meth:`unpack`)."""
        return np.concatenate(
            [params, np.log(noise[self.noise_series]), rho[self.ar1_series]]
        ).astype(float)

    def residuals(self, predictions: list[np.ndarray]) -> list[np.ndarray]:
        """Return model - data over the fit period, one (runs, fitted years) array per series."""
        return [
            pred[:, series.fitted] - series.observed[series.fitted]
            for pred, series in zip(predictions, self.data, strict=True)
        ]

    def standardised(
        self, predictions: list[np.ndarray], noise: np.ndarray, rho: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the whitened residuals over the fit period, shape (runs, fitted points).

        Independent errors: (model - data) / noise. AR(1) errors with marginal standard
        deviation ``noise`` and autocorrelation ``rho``: the first year as before, each later
        year's innovation ``(z_t - rho z_{t-1}) / sqrt(1 - rho^2)``; the sum of their squares is
        the Gaussian likelihood's quadratic form.
        """
        rho = np.zeros(len(noise)) if rho is None else rho
        parts = []
        for gap, scale, r in zip(self.residuals(predictions), noise, rho, strict=True):
            z = gap / scale
            if r != 0.0:
                z = np.concatenate([z[:, :1], (z[:, 1:] - r * z[:, :-1]) / math.sqrt(1 - r * r)], 1)
            parts.append(z)
        return np.concatenate(parts, axis=1)

    def fitted_counts(self) -> np.ndarray:
        """Return the number of fitted years of each series."""
        return np.array([int(series.fitted.sum()) for series in self.data])

    def log_prior(self, theta: np.ndarray) -> float:
        """Return the log prior density of the sampled quantities (up to a constant).

        Estimated noise scales are log-uniform on their ``noise_range``; AR(1) autocorrelations
        uniform on [0, :data:`RHO_MAX`].
        """
        count, estimated = len(self.spec.priors), len(self.noise_series)
        total = sum(
            p.log_density(float(v)) for p, v in zip(self.spec.priors, theta[:count], strict=True)
        )
        noises = theta[count : count + estimated]
        for index, value in zip(self.noise_series, noises, strict=True):
            low, high = self.spec.series[index].noise_range  # type: ignore[misc]
            if not math.log(low) <= value <= math.log(high):
                return -math.inf
        if np.any(theta[count + estimated :] < 0) or np.any(theta[count + estimated :] > RHO_MAX):
            return -math.inf
        return float(total)

    def log_likelihood(self, thetas: np.ndarray) -> np.ndarray:
        """Return the Gaussian log-likelihood of a batch of sampled quantities.

        Parameters
        ----------
        thetas : numpy.ndarray
            Shape (runs, quantities): parameters, log noise scales, AR(1) rhos
            (:attr:`quantity_names`).

        Returns
        -------
        numpy.ndarray
            One value per run [log density]; -inf where the run failed.
        """
        thetas = np.atleast_2d(thetas)
        count = len(self.spec.priors)
        predictions = self.predict(thetas[:, :count])
        result = np.empty(len(thetas))
        counts = self.fitted_counts()
        for row in range(len(thetas)):
            _, noise, rho = self.unpack(thetas[row])
            z = self.standardised([p[row : row + 1] for p in predictions], noise, rho)[0]
            value = -0.5 * float(z @ z) - float(counts @ np.log(noise))
            value -= 0.5 * float((counts - 1) @ np.log1p(-(rho**2)))
            value -= 0.5 * counts.sum() * math.log(2 * math.pi)
            result[row] = value if math.isfinite(value) else -math.inf
        return result

    def log_posterior(self, thetas: np.ndarray) -> np.ndarray:
        """Return the log posterior of a batch (emcee's vectorised ``log_prob_fn``)."""
        thetas = np.atleast_2d(thetas)
        priors = np.array([self.log_prior(theta) for theta in thetas])
        result = np.full(len(thetas), -math.inf)
        inside = np.isfinite(priors)
        if inside.any():
            result[inside] = priors[inside] + self.log_likelihood(thetas[inside])
        return result
