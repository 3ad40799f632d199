"""The report's part for each scenario: the charts of its change, its attribution, its fan.

The attribution (:mod:`debtloops.attribution`, exact Shapley values) and the fan
(:mod:`debtloops.fan`) each run the model many times; a part whose runs reach an impossible state
is left out with its reason, and the rest of the report is still written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

from debtloops import fan as fan_module
from debtloops.app.report_blocks import Image, drawn, png_image, table
from debtloops.app.report_summary import Number, description, summary
from debtloops.attribution import OUTCOMES as ATTRIBUTION_OUTCOMES
from debtloops.attribution import attribute, attribution_table
from debtloops.errors import SimulationError
from debtloops.figures.attribution import plot_waterfall
from debtloops.figures.extras import plot_extras, sale_windows
from debtloops.figures.fan import plot_fan
from debtloops.model.run import PreparedRun
from debtloops.units import PERCENT

#: The fan's thresholds [percent of GDP]: those of ``debtloops fan`` (its years too,
#: :func:`debtloops.fan.default_years`).
FAN_THRESHOLDS = fan_module.DEFAULT_THRESHOLDS
#: The fan's outcomes charted: debt/GDP, which the probabilities are about, and the 10-year
#: (two panels fit an A4 page).
FAN_CHARTED = ("debt_to_gdp", "ten_year_yield")
#: The threshold and year the fan's sentence quotes, when the run reaches that year.
FAN_QUOTED = (150.0, 2040)
#: The attribution's outcomes charted (two panels fit an A4 page; the table has every outcome).
ATTRIBUTION_CHARTED = ("extra_interest", "peak_extra_yield")
#: Decimals of the attribution's table; of the probabilities [percent].
TABLE_DECIMALS, PROBABILITY_DECIMALS = 1, 0


@dataclass
class ScenarioSection:
    """One scenario's part of the report."""

    name: str
    description: str
    extras: Image
    attribution: dict | None = None
    fan: dict | None = None
    summary: list[str | Number] = field(default_factory=list)
    #: Parts that could not be computed, and why (a run of them reached an impossible state).
    missing: list[str] = field(default_factory=list)


def _attribution_part(prepared: PreparedRun, reference: PreparedRun) -> tuple[dict, xr.Dataset]:
    dataset = attribute(prepared, baseline=reference)
    frame = attribution_table(dataset)
    exact = bool(dataset["stderr_extra_interest"].max() == 0)
    if exact:
        frame = frame[[c for c in frame.columns if not c.startswith("standard error")]]
    outcomes = {name: ATTRIBUTION_OUTCOMES[name] for name in ATTRIBUTION_CHARTED}
    chart = drawn(lambda path: plot_waterfall(dataset, outcomes, path), ".png")
    frame.index = [str(name).replace("_", " ") for name in frame.index]
    frame.index.name = "mechanism"
    part = {
        "method": dataset.attrs["method"],
        "image": png_image(chart, f"attribution of {prepared.scenario.name}"),
        "table": table(frame, digits=TABLE_DECIMALS),
    }
    return part, dataset


def _fan_part(prepared: PreparedRun, reference: PreparedRun, draws: int) -> dict:
    name = prepared.scenario.name
    years = fan_module.default_years(prepared)
    dataset = fan_module.fan(
        prepared, draws, thresholds=FAN_THRESHOLDS, years=years, baseline=reference
    )
    chart = drawn(lambda path: plot_fan(dataset, path, FAN_CHARTED), ".png")
    probability = PERCENT * dataset["probability_by_year"]
    rows, index = [], []
    for limit in dataset["threshold"].to_numpy():
        for year in dataset["by_year"].to_numpy():
            cell = probability.sel(threshold=limit, by_year=year)
            rows.append([float(cell.sel(case=case)) for case in fan_module.CASES])
            index.append(f"debt/GDP above {PERCENT * limit:g}% by FY{year}")
    frame = pd.DataFrame(rows, columns=[f"{name} [%]", "baseline [%]"], index=index)
    frame.index.name = "probability that"
    limit, year = FAN_QUOTED
    if year not in years:
        year = years[len(years) // 2]
    quoted = probability.sel(threshold=limit / PERCENT, by_year=year)
    return {
        "draws": int(dataset.attrs["draws"]),
        "kept": int(dataset.attrs["draws"]) - int(dataset.attrs["draws_dropped"]),
        "seed": int(dataset.attrs["seed"]),
        "method": dataset.attrs["method"],
        "error": PERCENT * 0.5 / math.sqrt(int(dataset.attrs["draws"])),
        "image": png_image(chart, f"fan chart of {name}"),
        "table": table(frame, digits=PROBABILITY_DECIMALS),
        "quoted": {
            "limit": f"{limit:g}",
            "year": int(year),
            "scenario": f"{float(quoted.sel(case='scenario')):.{PROBABILITY_DECIMALS}f}",
            "baseline": f"{float(quoted.sel(case='baseline')):.{PROBABILITY_DECIMALS}f}",
        },
    }


def scenario_section(
    prepared: PreparedRun,
    run: xr.Dataset,
    reference: PreparedRun,
    baseline: xr.Dataset,
    headlines: pd.DataFrame,
    with_attribution: bool,
    fan_draws: int,
) -> ScenarioSection:
    """Return a scenario's charts of its change, its attribution, its fan and its summary.

    The scenario itself has run; if the attribution's or the fan's runs reach an impossible state
    (:class:`~debtloops.errors.SimulationError`, e.g. too many shocked draws with a negative
    stock), that part is left out with the reason, and the rest of the report is still written.
    """
    name = prepared.scenario.name
    windows = sale_windows(prepared.values)
    chart = drawn(lambda path: plot_extras(run, baseline, windows, path), ".png")
    section = ScenarioSection(name, description(prepared), png_image(chart, f"{name}: the change"))
    dataset = None
    if with_attribution:
        try:
            section.attribution, dataset = _attribution_part(prepared, reference)
        except SimulationError as error:
            section.missing.append(f"The attribution could not be computed: {error}")
    if fan_draws:
        try:
            section.fan = _fan_part(prepared, reference, fan_draws)
        except SimulationError as error:
            section.missing.append(f"The fan could not be drawn: {error}")
    section.summary = summary(name, prepared, run, headlines, dataset, reference)
    return section
