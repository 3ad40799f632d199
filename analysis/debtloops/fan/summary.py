"""The fan's summary: quantiles and threshold probabilities over the draws, and its files.

:func:`summarise` builds ``fan.nc``'s dataset from each case's outcomes; :func:`fan_table`,
:func:`probability_text` and :func:`write_fan` present it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from debtloops.cf import write_netcdf
from debtloops.fan.shocks import SHOCKS, Var
from debtloops.io import atomic_file, check_targets
from debtloops.model.outcomes import OUTCOMES as REGISTRY
from debtloops.provenance import provenance_attrs
from debtloops.units import PERCENT

#: What ``debtloops fan --out DIR`` writes.
OUTPUT_NAMES = ("fan.nc", "fan.csv", "fan.png")
#: The fan's quantiles [1]: the 5-95% and 25-75% bands and the median.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The runs: the scenario and its baseline.
CASES = ("scenario", "baseline")
#: The outcomes fanned, at each fiscal year's end: the name in the fan's files -> the outcome of
#: the one registry (:data:`debtloops.model.outcomes.OUTCOMES`). ``debt_to_gdp`` is CBO's ratio
#: (debt over the fiscal year's GDP), not the .mdl's ``debt_to_gdp`` at an instant.
FANNED = {
    "debt_to_gdp": "debt_to_fy_gdp",
    "ten_year_yield": "ten_year_yield_fy_mean",
    "interest_to_revenue": "interest_to_revenue_fy_mean",
}
#: The outcomes fanned: name -> (long name, units on disk), as the registry gives them.
OUTCOMES = {
    name: (REGISTRY[outcome].long_name, REGISTRY[outcome].units) for name, outcome in FANNED.items()
}


def summarise(
    by_case: Mapping[str, Mapping[str, np.ndarray]],
    fiscal_years: np.ndarray,
    thresholds: Sequence[float],
    years: Sequence[int],
    var: Var,
    covariance: np.ndarray,
    draws: int,
    seed: int,
    seconds: float,
    clipped: Mapping[str, float],
    scenario: str,
    drawn: Sequence[str] = (),
    dropped: int = 0,
) -> xr.Dataset:
    """Build the fan's dataset from the outcomes of each case (the last run unshocked)."""
    limits = np.asarray(thresholds, dtype=float) / PERCENT
    chosen = np.searchsorted(fiscal_years, np.asarray(years))
    variables: dict[str, tuple] = {}
    for name, (long_name, units) in OUTCOMES.items():
        stack = np.stack([by_case[case][name] for case in CASES])  # (case, runs, years)
        shocked = stack[:, :-1]
        variables[name] = (
            ("case", "quantile", "year"),
            np.quantile(shocked, QUANTILES, axis=1).transpose(1, 0, 2),
            {"long_name": f"{long_name}, quantiles over the draws", "units": units},
        )
        variables[f"{name}_deterministic"] = (
            ("case", "year"),
            stack[:, -1],
            {"long_name": f"{long_name}, the run without shocks", "units": units},
        )
    variables.update(_probabilities(by_case, limits, chosen))
    variables["shock_covariance"] = (
        ("shock", "shock_"),
        covariance,
        {"long_name": "covariance of one year's innovations", "units": "1"},
    )
    variables["var_coefficients"] = (
        ("shock", "shock_"),
        var.coefficients,
        {"long_name": "VAR(1) coefficients: row's variable on last year's column", "units": "1"},
    )
    coords = {
        "case": ("case", list(CASES), {"long_name": "the scenario or its baseline"}),
        "quantile": ("quantile", list(QUANTILES), {"long_name": "quantile", "units": "1"}),
        "year": ("year", fiscal_years, {"long_name": "fiscal year (at its end)", "units": "1"}),
        "threshold": ("threshold", limits, {"long_name": "debt/GDP threshold", "units": "1"}),
        "by_year": ("by_year", list(years), {"long_name": "fiscal year", "units": "1"}),
        "shock": ("shock", list(SHOCKS), {"long_name": "shocked variable"}),
        "shock_": ("shock_", list(SHOCKS), {"long_name": "shocked variable"}),
    }
    attrs = {
        **provenance_attrs(),
        "title": f"debtloops fan chart of {scenario}",
        "scenario": scenario,
        "draws": draws,
        "seed": seed,
        "seconds": seconds,
        "method": "VAR(1) on FY"
        f"{var.years[0] - 1}-{var.years[-1]} history; Gaussian innovations with its residual "
        "covariance, propagated by its coefficients; added to the scenario's drivers",
        "clipped_share_scenario": clipped["scenario"],
        "clipped_share_baseline": clipped["baseline"],
        "parameters_drawn": ", ".join(drawn) or "none",
        "draws_dropped": dropped,
    }
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _probabilities(
    by_case: Mapping[str, Mapping[str, np.ndarray]], limits: np.ndarray, chosen: np.ndarray
) -> dict[str, tuple]:
    """Return the probabilities that debt/GDP exceeds each limit in and by each chosen year [1].

    ``limits`` are debt/GDP ratios [1]; ``chosen`` the positions of the chosen years among the
    fiscal years. The last run of each case, the unshocked one, is left out.
    """
    debt = np.stack([by_case[case]["debt_to_gdp"][:-1] for case in CASES])
    above = debt[:, :, None, :] > limits[None, None, :, None]  # (case, runs, threshold, year)
    ever = np.maximum.accumulate(above, axis=3)
    in_year = "probability that debt/GDP exceeds the threshold in the year"
    by_year = (
        "probability that debt/GDP exceeds the threshold in some projected fiscal year up to "
        "and including the year"
    )
    dims = ("case", "threshold", "by_year")
    return {
        "probability_in_year": (
            dims,
            above.mean(axis=1)[:, :, chosen],
            {"long_name": in_year, "units": "1"},
        ),
        "probability_by_year": (
            dims,
            ever.mean(axis=1)[:, :, chosen],
            {"long_name": by_year, "units": "1"},
        ),
    }


def fan_table(dataset: xr.Dataset) -> pd.DataFrame:
    """Return the fan as a long table: case, outcome, year, statistic, value (units as in .nc)."""
    rows = []
    for name in OUTCOMES:
        for case in CASES:
            for year in dataset["year"].to_numpy():
                cell = dataset[name].sel(case=case, year=year)
                for q in QUANTILES:
                    value = float(cell.sel(quantile=q))
                    rows.append((case, name, int(year), f"quantile {q:g}", value))
                value = float(dataset[f"{name}_deterministic"].sel(case=case, year=year))
                rows.append((case, name, int(year), "deterministic", value))
    for kind in ("in_year", "by_year"):
        probability = dataset[f"probability_{kind}"]
        for case in CASES:
            for limit in dataset["threshold"].to_numpy():
                for year in dataset["by_year"].to_numpy():
                    value = float(probability.sel(case=case, threshold=limit, by_year=year))
                    outcome = f"P(debt_to_gdp > {PERCENT * limit:g}%) {kind.replace('_', ' ')}"
                    rows.append((case, outcome, int(year), "probability", value))
    return pd.DataFrame(rows, columns=["case", "outcome", "fiscal_year", "statistic", "value"])


def probability_text(dataset: xr.Dataset) -> str:
    """Return the threshold probabilities as a table to print [percent]."""
    lines = []
    for kind, word in (("by_year", "ever by"), ("in_year", "in")):
        frame = (
            PERCENT
            * dataset[f"probability_{kind}"]
            .to_dataframe()[f"probability_{kind}"]
            .unstack("case")[list(CASES)]
        )
        frame.index = [f"> {PERCENT * t:g}% {word} {y}" for t, y in frame.index]
        lines.append(frame.to_string(float_format=lambda x: f"{x:.1f}%"))
    return "\n\n".join(lines)


def write_fan(out_dir: Path, dataset: xr.Dataset) -> list[Path]:
    """Write ``fan.nc``, ``fan.csv`` and ``fan.png`` into ``out_dir``, each atomically.

    Every target must be absent or debtloops' own (:func:`debtloops.io.check_targets`), checked
    before the first is written.
    """
    from debtloops.figures.fan import plot_fan

    check_targets(out_dir, OUTPUT_NAMES)
    netcdf, table, chart = (Path(out_dir) / name for name in OUTPUT_NAMES)
    atomic_file(netcdf, lambda path: write_netcdf(dataset, path, "debtloops fan wrote fan.nc"))
    buffer = io.StringIO()
    fan_table(dataset).to_csv(buffer, index=False)
    text = buffer.getvalue()
    atomic_file(table, lambda path: path.write_text(text))
    atomic_file(chart, lambda path: plot_fan(dataset, path))
    return [netcdf, table, chart]
