"""Figures of a sensitivity sweep: fan charts, Sobol and Morris charts, tornado and scatter plots.

The figures draw what :mod:`debtloops.sweeps` computed (percentile bands, indices, the ranking
measure); they compute nothing about the sweep themselves. Titles and axis units come from
:mod:`debtloops.figures.labels` (a scalar outcome, described by its ``source`` and ``reduction``
attributes, reads as its source series "at the end", "peak" or "trough"), and inputs are named by
:func:`parameter_label`, a short phrase from the .mdl's description of the parameter with its units,
so no figure shows a variable's code name. Every bar chart sorts its bars by size, largest at the
top. Figures use matplotlib's object-oriented API with the Agg canvas and are written atomically.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debtloops.errors import InputError
from debtloops.figures.labels import Label, label
from debtloops.figures.style import (
    COLOURS,
    RULE_COLOUR,
    fiscal_year_axis,
    legend_outside,
    meaningful_limits,
    save_figure,
)
from debtloops.io import atomic_file
from debtloops.model.scenarios import REFERENCE

#: Every sweep chart's colour: the scenario's (the baseline's fan chart is drawn in the baseline's).
SWEEP_COLOUR = COLOURS["scenario"]
#: The longest parameter name shown, in characters; longer descriptions are cut at a word.
MAX_LABEL_CHARS = 60
#: At most this many points are drawn in a scatter plot (an even subset of the samples).
MAX_SCATTER_POINTS = 20_000
#: What each reduction of a scalar outcome adds to its source's title.
REDUCTION_WORDS = {"final": "at the end", "max": "peak", "min": "trough"}
#: Shown where a panel has nothing to draw.
NOT_AVAILABLE = "not available\n(failed samples or no variation)"


def plain(name: str) -> str:
    """Return a code name in words: ``japan_full`` becomes ``japan full``."""
    return str(name).replace("_", " ")


def parameter_label(name: str, attrs: dict | None = None) -> str:
    """Return a short readable name of a swept parameter, with its units.

    Parameters
    ----------
    name : str
        The parameter's name in the table.
    attrs : dict, optional
        Its coordinate's attributes in the sweep: ``long_name`` (the .mdl's description) and
        ``units``.

    Returns
    -------
    str
        The description's first phrase (up to a colon, semicolon or comma, at most
        :data:`MAX_LABEL_CHARS` characters, cut at a word), else the name in words, then the
        units in brackets when known, e.g. ``Maturity at issue of the 10-year note [year]``.
    """
    attrs = attrs or {}
    text = str(attrs.get("long_name", "")).strip().rstrip(".")
    phrase = re.split(r"[:;]", text)[0].strip() if text else ""
    if len(phrase) > MAX_LABEL_CHARS:
        phrase = phrase.split(",")[0].strip()
    if len(phrase) > MAX_LABEL_CHARS:
        cut = phrase[: MAX_LABEL_CHARS + 1].rsplit(" ", 1)[0]
        phrase = cut.rstrip(",") + "..."
    phrase = phrase or plain(name).capitalize()
    units = attrs.get("units")
    return f"{phrase} [{units}]" if units not in (None, "") else phrase


def outcome_label(name: str, scalars: xr.Dataset | None = None) -> Label:
    """Return how a scalar outcome or a time series is shown: title, units and scale.

    A scalar outcome whose attributes name its ``source`` series and its ``reduction``
    (``final``, ``max`` or ``min``) reads as that series' label with "at the end", "peak" or
    "trough"; anything else is looked up in :data:`debtloops.figures.labels.LABELS`.
    """
    attrs = scalars[name].attrs if scalars is not None and name in scalars else {}
    source, reduction = attrs.get("source"), attrs.get("reduction")
    if source is None or reduction not in REDUCTION_WORDS:
        return label(name, attrs.get("long_name"), attrs.get("units"))
    base = label(str(source), attrs.get("long_name"), attrs.get("units"))
    return Label(f"{base.title}, {REDUCTION_WORDS[reduction]}", base.units, base.scale)


def largest_first(values: np.ndarray) -> np.ndarray:
    """Return the order that sorts bars by size: largest magnitude first, NaN last, ties stable."""
    return np.argsort(-np.nan_to_num(np.abs(values), nan=-1.0), kind="stable")


def _grid(n: int, columns: int) -> tuple[int, int]:
    cols = max(1, min(n, columns))
    return math.ceil(n / cols), cols


def _new_figure(n_panels: int, columns: int, panel: tuple[float, float]) -> tuple[Figure, list]:
    rows, cols = _grid(n_panels, columns)
    figure = Figure(figsize=(panel[0] * cols, panel[1] * rows + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return figure, axes[:n_panels]


def sweep_source(scenarios: Sequence[str], what: str) -> str:
    """Return a sweep chart's source line, e.g. ``debtloops sweep of japan_full: Sobol indices``."""
    return f"debtloops sweep of {', '.join(scenarios)} (debtloops analyze): {what}"


def _save(figure: Figure, path: Path, source: str) -> None:
    """Save a figure as PNG with its source line, through a temporary file in the same folder."""
    atomic_file(Path(path), lambda scratch: save_figure(figure, scratch, source))


def _pick_scenario(names: Sequence[str], scenario: str | None) -> str:
    if scenario is None:
        return str(names[0])
    if scenario not in names:
        raise InputError(f"unknown scenario '{scenario}'; valid: {', '.join(names)}")
    return scenario


def _select(data, scenario: str, lever_combination: int):
    data = data.sel(scenario=scenario)
    if "lever_combination" in data.dims:
        data = data.isel(lever_combination=lever_combination)
    return data


def _lever_text(data: xr.Dataset | xr.DataArray) -> str:
    """Return the lever settings of a selected lever combination, in words ("" without levers)."""
    settings = [
        f"{plain(str(c)[len('lever_') :])} = {data[c].item():g}"
        for c in data.coords
        if str(c).startswith("lever_") and c != "lever_combination"
    ]
    return "; levers: " + ", ".join(settings) if settings else ""


def _empty(ax, text: str = NOT_AVAILABLE) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def plot_fan_chart(bands: xr.DataArray, path: Path, pooled: bool = False) -> None:
    """Draw the 5-95% and 25-75% bands and the median of a time series, one panel per scenario.

    Ratios and yields are shown in percent.

    Parameters
    ----------
    bands : xarray.DataArray
        From :func:`debtloops.sweeps.outcomes.percentile_bands`: over ``scenario``,
        ``percentile`` (5, 25, 50, 75 and 95) and ``time``, named after its variable, with its
        ``units``, ``long_name`` and ``n_samples`` attributes.
    path : Path
        The PNG to write (atomically).
    pooled : bool
        Whether several lever settings were pooled (said in the title).
    """
    attrs = bands.attrs
    long_name = str(attrs.get("long_name", "")).rstrip(".") or None
    shown = label(str(bands.name), long_name, attrs.get("units"))
    scenarios = [str(s) for s in bands["scenario"].values]
    figure, axes = _new_figure(len(scenarios), 3, (5.5, 4.0))
    time = bands["time"].values
    for ax, scenario, used in zip(axes, scenarios, attrs["n_samples"], strict=True):
        band = bands.sel(scenario=scenario).values * shown.scale
        if used == 0:
            _empty(ax, "no sample ran")
        else:
            colour = COLOURS["baseline"] if scenario == REFERENCE else SWEEP_COLOUR
            ax.fill_between(time, band[0], band[4], color=colour, alpha=0.2, label="5-95%")
            ax.fill_between(time, band[1], band[3], color=colour, alpha=0.4, label="25-75%")
            ax.plot(time, band[2], color=colour, linewidth=1.8, label="median")
            meaningful_limits(ax, [band])
        ax.set_title(f"{plain(scenario)}: {used:,} samples", fontsize="medium")
        fiscal_year_axis(ax)
        ax.set_ylabel(shown.units)  # the variable is named in the figure's title
        legend_outside(ax)
        ax.grid(alpha=0.3)
    note = ", all lever settings pooled" if pooled else ""
    figure.suptitle(f"{shown.title}: spread across the sweep's samples{note}")
    _save(figure, path, sweep_source(scenarios, f"{sum(attrs['n_samples']):,} model runs"))


def _parameter_names(data: xr.Dataset | xr.DataArray, inputs: Mapping | None) -> list[str]:
    inputs = inputs or {}
    return [parameter_label(str(p), inputs.get(str(p))) for p in data["parameter"].values]


def _outcome_panels(
    results: xr.Dataset | xr.DataArray,
    scenario: str | None,
    lever_combination: int,
    inputs: Mapping | None,
    panel: tuple[float, float],
) -> tuple[str, Any, list[str], Figure, list[tuple[Axes, str]]]:
    """Lay out a chart of indices or a ranking: one panel per outcome, of ``panel`` inches.

    Returns the scenario shown, the results of that scenario and lever combination, the
    parameters' readable names, the figure, and each panel's axes with its outcome.
    """
    name = _pick_scenario([str(s) for s in results["scenario"].values], scenario)
    data = _select(results, name, lever_combination)
    outcomes = [str(o) for o in data["outcome"].values]
    figure, axes = _new_figure(len(outcomes), 2, panel)
    panels = list(zip(axes, outcomes, strict=True))
    return name, data, _parameter_names(results, inputs), figure, panels


def plot_sobol(
    indices: xr.Dataset,
    path: Path,
    scalars: xr.Dataset | None = None,
    scenario: str | None = None,
    lever_combination: int = 0,
    inputs: Mapping[str, dict] | None = None,
) -> None:
    """Draw S1 and ST with their 95% intervals per parameter, one panel per outcome.

    Bars are sorted by ST, largest at the top.

    Parameters
    ----------
    indices : xarray.Dataset
        The result of :func:`debtloops.sweeps.indices.sobol_indices`.
    path : Path
        The PNG to write (atomically).
    scalars : xarray.Dataset, optional
        The scalar outcomes, for their titles and units.
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    inputs : mapping of str to dict, optional
        Each input's attributes in the sweep (``long_name``, ``units``), for its name.
    """
    size = (7.5, 0.5 * indices.sizes["parameter"] + 2.2)
    name, data, parameters, figure, panels = _outcome_panels(
        indices, scenario, lever_combination, inputs, size
    )
    height = 0.38
    for ax, outcome in panels:
        cell = data.sel(outcome=outcome)
        st = cell["ST"].values
        order = largest_first(st)
        positions = np.arange(order.size)
        if np.isnan(st).all():
            _empty(ax)
        else:
            for offset, key, alpha in ((-height / 2, "S1", 0.45), (height / 2, "ST", 1.0)):
                ax.barh(
                    positions + offset,
                    np.nan_to_num(cell[key].values[order]),
                    height=height,
                    xerr=np.nan_to_num(cell[f"{key}_conf"].values[order]),
                    color=SWEEP_COLOUR,
                    alpha=alpha,
                    capsize=3,
                    label={"S1": "first order S1", "ST": "total ST"}[key],
                )
        ax.set_yticks(positions, [parameters[i] for i in order], fontsize="small")
        ax.invert_yaxis()
        ax.axvline(0.0, color=RULE_COLOUR, linewidth=0.8)
        ax.set_xlabel("Sobol index [1]")
        ax.set_title(f"{plain(name)}: {outcome_label(outcome, scalars).title}", fontsize="medium")
        ax.grid(alpha=0.3, axis="x")
        legend_outside(ax)
    levers = _lever_text(data)
    figure.suptitle(f"Sobol indices (first order and total, 95% intervals){levers}")
    _save(figure, path, sweep_source([name], "Sobol indices"))


def plot_morris(
    indices: xr.Dataset,
    path: Path,
    scalars: xr.Dataset | None = None,
    scenario: str | None = None,
    lever_combination: int = 0,
    inputs: Mapping[str, dict] | None = None,
) -> None:
    """Draw Morris mu* against sigma, one labelled point per parameter, one panel per outcome.

    Parameters
    ----------
    indices : xarray.Dataset
        The result of :func:`debtloops.sweeps.indices.morris_indices`.
    path : Path
        The PNG to write (atomically).
    scalars : xarray.Dataset, optional
        The scalar outcomes, for their titles and units.
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    inputs : mapping of str to dict, optional
        Each input's attributes in the sweep (``long_name``, ``units``), for its name.
    """
    name, data, parameters, figure, panels = _outcome_panels(
        indices, scenario, lever_combination, inputs, (6.5, 4.5)
    )
    for ax, outcome in panels:
        cell = data.sel(outcome=outcome)
        shown = outcome_label(outcome, scalars)
        mu_star = cell["mu_star"].values * shown.scale
        sigma = cell["sigma"].values * shown.scale
        if np.isnan(mu_star).all():
            _empty(ax)
        else:
            ax.errorbar(
                mu_star,
                sigma,
                xerr=np.nan_to_num(cell["mu_star_conf"].values * shown.scale),
                fmt="o",
                color=SWEEP_COLOUR,
                capsize=3,
            )
            for text, x, y in zip(parameters, mu_star, sigma, strict=True):
                if np.isfinite(x) and np.isfinite(y):
                    short = text.split(" [")[0]
                    ax.annotate(
                        short, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7
                    )
        ax.set_xlabel(f"mu*, mean absolute effect [{shown.units}]")
        ax.set_ylabel(f"sigma, spread of effects [{shown.units}]")
        ax.set_title(f"{plain(name)}: {shown.title}", fontsize="medium")
        ax.grid(alpha=0.3)
    figure.suptitle(
        "Morris screening: elementary effects (outcome change over each input's full range), "
        f"mean absolute value against spread{_lever_text(data)}"
    )
    _save(figure, path, sweep_source([name], "Morris elementary effects"))


def plot_tornado(
    measure: xr.DataArray,
    scalars: xr.Dataset,
    path: Path,
    scenario: str | None = None,
    lever_combination: int = 0,
    inputs: Mapping[str, dict] | None = None,
) -> None:
    """Draw the inputs' ranking measure as bars sorted by magnitude, one panel per outcome.

    Parameters
    ----------
    measure : xarray.DataArray
        From :func:`debtloops.sweeps.indices.ranking`: ST, mu* or Spearman's rho over
        ``scenario``, (``lever_combination``,) ``parameter`` and ``outcome``, with its ``measure``
        and ``long_name`` attributes.
    scalars : xarray.Dataset
        The scalar outcomes, for their titles and units.
    path : Path
        The PNG to write (atomically).
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    inputs : mapping of str to dict, optional
        Each input's attributes in the sweep (``long_name``, ``units``), for its name.
    """
    size = (7.5, 0.45 * measure.sizes["parameter"] + 2.0)
    name, data, parameters, figure, panels = _outcome_panels(
        measure, scenario, lever_combination, inputs, size
    )
    for ax, outcome in panels:
        values = data.sel(outcome=outcome).values
        shown = outcome_label(outcome, scalars)
        if measure.attrs["measure"] == "mu_star":
            values = values * shown.scale
            xlabel = f"Morris mu* [{shown.units}]"
        else:
            xlabel = measure.attrs["long_name"]
        order = largest_first(values)
        shown_values = np.nan_to_num(values[order])
        # the sign is the bar's side of the zero line, so one colour serves
        ax.barh(np.arange(order.size), shown_values, color=SWEEP_COLOUR)
        ax.set_yticks(np.arange(order.size), [parameters[i] for i in order], fontsize="small")
        ax.invert_yaxis()
        ax.axvline(0.0, color=RULE_COLOUR, linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_title(f"{plain(name)}: {shown.title}", fontsize="medium")
        ax.grid(alpha=0.3, axis="x")
        if np.isnan(values).all():
            _empty(ax, "not available")
    figure.suptitle(f"What drives each outcome: {measure.attrs['long_name']}{_lever_text(data)}")
    _save(figure, path, sweep_source([name], str(measure.attrs["long_name"])))


def _most_influential(values: np.ndarray, fallback: np.ndarray) -> int:
    for candidate in (values, fallback):
        magnitude = np.abs(candidate)
        if np.isfinite(magnitude).any():
            return int(np.argmax(np.where(np.isfinite(magnitude), magnitude, -1.0)))
    return 0


def plot_scatter(
    ds: xr.Dataset,
    scalars: xr.Dataset,
    measure: xr.DataArray,
    rho: xr.DataArray,
    path: Path,
    scenario: str | None = None,
    lever_combination: int = 0,
) -> None:
    """Plot each scalar outcome against its most influential input, one panel per outcome.

    The input is the one ranked first by ``measure`` (by Spearman's ``rho`` where the measure is
    NaN throughout); failed samples (non-empty ``error``) are left out, and at most
    :data:`MAX_SCATTER_POINTS` evenly spaced samples are drawn.

    Parameters
    ----------
    ds : xarray.Dataset
        The sweep: its ``error`` and its input coordinates on ``sample``, the lever combinations
        in equal consecutive blocks of samples.
    scalars : xarray.Dataset
        Its scalar outcomes over ``scenario`` and ``sample``.
    measure : xarray.DataArray
        From :func:`debtloops.sweeps.indices.ranking`.
    rho : xarray.DataArray
        Spearman's rho, from :func:`debtloops.sweeps.indices.rank_correlations`.
    path : Path
        The PNG to write (atomically).
    scenario : str, optional
        The scenario shown; the first one by default.
    lever_combination : int
        The lever combination shown, when the sweep has levers.
    """
    name = _pick_scenario([str(s) for s in measure["scenario"].values], scenario)
    data = _select(measure, name, lever_combination)
    fallback_all = _select(rho, name, lever_combination)
    parameters = [str(p) for p in measure["parameter"].values]
    block = ds.sizes["sample"] // measure.sizes.get("lever_combination", 1)
    rows = slice(lever_combination * block, (lever_combination + 1) * block)
    ok = (ds["error"].sel(scenario=name) == "").values[rows]
    stride = max(1, -(-int(ok.sum()) // MAX_SCATTER_POINTS))
    outcomes = [str(o) for o in data["outcome"].values]
    figure, axes = _new_figure(len(outcomes), 2, (5.5, 4.2))
    for ax, outcome in zip(axes, outcomes, strict=True):
        values = data.sel(outcome=outcome).values
        position = _most_influential(values, fallback_all.sel(outcome=outcome).values)
        top = parameters[position]
        x = ds[top].values[rows][ok][::stride]
        shown = outcome_label(outcome, scalars)
        y = scalars[outcome].sel(scenario=name).values[rows][ok][::stride] * shown.scale
        ax.scatter(x, y, s=8, alpha=0.5, color=SWEEP_COLOUR, edgecolors="none")
        ax.set_xlabel(parameter_label(top, dict(ds[top].attrs)), fontsize="small")
        ax.set_ylabel(shown.with_units())
        symbol = {"ST": "ST", "mu_star": "mu*", "rho": "rho"}[measure.attrs["measure"]]
        ax.set_title(f"{plain(name)} ({symbol} = {values[position]:.2f})", fontsize="medium")
        ax.grid(alpha=0.3)
    subset = f"; every {stride}th sample drawn" if stride > 1 else ""
    figure.suptitle(f"Each outcome against its most influential input{_lever_text(data)}{subset}")
    _save(figure, path, sweep_source([name], "model runs of the sweep's samples"))
