"""Figures of a calibration: the fit to each series, the pair plot, prior against posterior.

Titles and units come from :mod:`debtloops.figures.labels` (the model variable a series is
compared with) and from the data file (the series' units).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from debtloops.figures.labels import label
from debtloops.figures.style import (
    COLOURS,
    RULE_COLOUR,
    fiscal_year_axis,
    legend_outside,
    meaningful_limits,
    save_figure,
)

#: Where the observed series come from (the history and the monthly market files).
DATA_FOLDER = "models/data/"
#: Points shown in each scatter panel of the pair plot, at most.
PAIR_POINTS = 2000
HIST_BINS = 40
#: Characters per line of a panel title.
TITLE_WIDTH = 48


def calibration_source(dataset: xr.Dataset) -> str:
    """Return a calibration figure's source line, from the calibration's attributes."""
    span = ""
    if "start" in dataset.attrs and "fit_end" in dataset.attrs:
        span = (
            f" from FY{int(dataset.attrs['start'])}, fitted up to FY{int(dataset.attrs['fit_end'])}"
        )
    return f"debtloops calibration{span}; observed series (named in each panel): {DATA_FOLDER}"


def _save(fig: Figure, path: Path, dataset: xr.Dataset) -> None:
    save_figure(fig, path, calibration_source(dataset))


def series_title(series: str, variables: list[str], how: str) -> str:
    """Return a panel title for a fitted series from the labels table."""
    if len(variables) == 1:
        title = label(variables[0]).title
    else:
        title = " + ".join(label(v).title.replace("'s holdings", "") for v in variables)
    measure = {"end": "end of fiscal year", "mean": "fiscal-year mean", "change": "yearly change"}
    return textwrap.fill(f"{title} ({measure[how]}; {series})", TITLE_WIDTH)


def plot_fit(dataset: xr.Dataset, path: Path) -> None:
    """Draw each series: data, the uncalibrated model, the posterior median and its 5-95% band."""
    series = [str(s) for s in dataset["series"].values]
    fig = Figure(figsize=(5.2 * len(series), 4.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(series), squeeze=False)[0]
    fit_end = int(dataset.attrs["fit_end"])
    for axis, name in zip(axes, series, strict=True):
        rows = dataset["obs_series"].values == name
        years = dataset["obs_year"].values[rows]
        axis.fill_between(
            years,
            dataset["band_q05"].values[rows],
            dataset["band_q95"].values[rows],
            color=COLOURS["calibrated"],
            alpha=0.25,
            label="posterior 5-95%",
        )
        median = dataset["band_q50"].values[rows]
        default = dataset["model_default"].values[rows]
        observed = dataset["observed"].values[rows]
        axis.plot(years, median, color=COLOURS["calibrated"], label="posterior median")
        axis.plot(years, default, "--", color=COLOURS["baseline"], label="table defaults")
        axis.plot(years, observed, "o", color=COLOURS["observed"], ms=3, label="history")
        meaningful_limits(
            axis,
            [
                median,
                default,
                observed,
                dataset["band_q05"].values[rows],
                dataset["band_q95"].values[rows],
            ],
        )
        axis.axvline(fit_end + 0.5, color=RULE_COLOUR, lw=0.8)
        axis.text(fit_end + 0.6, 0.02, "held out", transform=axis.get_xaxis_transform(), fontsize=7)
        variables = str(dataset["series_variables"].sel(series=name).item()).split(",")
        how = str(dataset["series_how"].sel(series=name).item())
        axis.set_title(series_title(name, variables, how), fontsize=9)
        axis.set_ylabel(str(dataset["series_units"].sel(series=name).item()), fontsize=8)
        fiscal_year_axis(axis, "fiscal year")
        axis.grid(alpha=0.3)
    legend_outside(axes[0])
    start = int(dataset.attrs["start"])
    fig.suptitle(
        f"Model against history: run from the end of FY{start}, fitted up to FY{fit_end}",
        fontsize=11,
    )
    fig.tight_layout()
    _save(fig, path, dataset)


def _prior_density(dataset: xr.Dataset, name: str, grid: np.ndarray) -> np.ndarray:
    kind = str(dataset["prior_kind"].sel(parameter=name).item())
    low = float(dataset["prior_low"].sel(parameter=name))
    high = float(dataset["prior_high"].sel(parameter=name))
    centre = float(dataset["prior_centre"].sel(parameter=name))
    spread = float(dataset["prior_spread"].sel(parameter=name))
    if kind == "uniform":
        density = np.full_like(grid, 1.0 / (high - low))
    else:
        dist = (
            stats.norm(centre, spread) if kind == "normal" else stats.lognorm(spread, scale=centre)
        )
        density = dist.pdf(grid) / (dist.cdf(high) - dist.cdf(low))
    return np.where((grid >= low) & (grid <= high), density, 0.0)


def _parameter_label(dataset: xr.Dataset, name: str) -> str:
    units = str(dataset["parameter_units"].sel(parameter=name).item())
    return f"{label(name).title} [{units}]"


def plot_prior_posterior(dataset: xr.Dataset, path: Path) -> None:
    """Draw each parameter's posterior histogram over its prior density, with the point fit."""
    names = [str(n) for n in dataset["parameter"].values]
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(4.4 * columns, 3.2 * rows))
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(rows, columns, squeeze=False).flat)
    for axis, name in zip(axes, names, strict=False):
        draws = dataset["posterior"].sel(quantity=name).values
        low = float(dataset["prior_low"].sel(parameter=name))
        high = float(dataset["prior_high"].sel(parameter=name))
        axis.hist(
            draws,
            bins=HIST_BINS,
            range=(low, high),
            density=True,
            alpha=0.6,
            color=COLOURS["calibrated"],
            label="posterior",
        )
        grid = np.linspace(low, high, 200)
        axis.plot(
            grid,
            _prior_density(dataset, name, grid),
            ":",
            color=COLOURS["calibrated"],
            lw=1.2,
            label="prior",
        )
        axis.axvline(
            float(dataset["point_fit"].sel(parameter=name)),
            color=COLOURS["calibrated"],
            lw=2,
            label="least squares",
        )
        axis.axvline(
            float(dataset["default"].sel(parameter=name)),
            color=COLOURS["baseline"],
            ls="--",
            label="table default",
        )
        axis.set_xlabel(_parameter_label(dataset, name), fontsize=8)
        axis.set_yticks([])
    for axis in axes[len(names) :]:
        axis.set_visible(False)
    legend_outside(fig.axes[0])
    fig.suptitle("Prior against posterior", fontsize=11)
    fig.tight_layout()
    _save(fig, path, dataset)


def plot_pairs(dataset: xr.Dataset, path: Path) -> None:
    """Draw the pair plot of the parameters: marginals on the diagonal, draws below it."""
    names = [str(n) for n in dataset["parameter"].values]
    draws = dataset["posterior"].sel(quantity=names).values
    step = max(1, len(draws) // PAIR_POINTS)
    shown = draws[::step]
    size = len(names)
    fig = Figure(figsize=(2.3 * size, 2.3 * size))
    FigureCanvasAgg(fig)
    axes = fig.subplots(size, size, squeeze=False)
    for row in range(size):
        for column in range(size):
            axis = axes[row, column]
            if column > row:
                axis.set_visible(False)
                continue
            if row == column:
                axis.hist(draws[:, row], bins=HIST_BINS, color=COLOURS["calibrated"], alpha=0.7)
                axis.set_yticks([])
            else:
                axis.plot(
                    shown[:, column],
                    shown[:, row],
                    ".",
                    ms=1,
                    alpha=0.3,
                    color=COLOURS["calibrated"],
                )
            if row == size - 1:
                axis.set_xlabel(_parameter_label(dataset, names[column]), fontsize=6)
            else:
                axis.set_xticklabels([])
            if column == 0 and row > 0:
                axis.set_ylabel(_parameter_label(dataset, names[row]), fontsize=6)
            elif column > 0:
                axis.set_yticklabels([])
            axis.tick_params(labelsize=6)
    fig.suptitle("Posterior: marginals and pairs", fontsize=11)
    fig.tight_layout()
    _save(fig, path, dataset)
