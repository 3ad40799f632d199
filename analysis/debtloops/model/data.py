"""The data the model is anchored to: CBO's projections (one folder a vintage) and the history.

CSV files in ``models/data/`` hold the series, one row per series and fiscal year, each with its
units and source (described in the ``.md`` file beside each):

* ``cbo/VINTAGE/projections.csv``: one CBO *vintage*, a ten-year Budget and Economic Outlook and
  optionally the Long-Term Budget Outlook of the same year: the inputs of the baseline (primary
  deficit, revenue, GDP, rates) and its targets (debt, net interest, the average rate). Its
  ``vintage.toml`` names the publications, the last actual fiscal year (where runs start) and the
  last years projected (:class:`Vintage`); ``projections.md`` gives every series' source. A folder
  of the same layout elsewhere is a user's own vintage, checked as strictly
  (:func:`vintage`);
* ``history_2000_2025.csv``: what happened: debt held by the public, interest, deficits, GDP,
  holdings by holder, yields, the dollar.

This module turns them into parameter values for the model, a *data layer* that a scenario names
with ``data = "cbo"`` (with ``cbo = "VINTAGE"``, or the default vintage) or ``data = "history"``;
``data = "cbo_2025"``, the name before vintages, is the vintage ``2025-01``. No equation of the
model is written here: the conversions are of units and of timing only.

The code lives in modules cut along these seams, and this module gives every public name of them
one import path:

* :mod:`~debtloops.model.datafiles`: where the dataset's files are (``--data``) and their readers;
* :mod:`~debtloops.model.vintages`: CBO's vintages, shipped or a user's folder, checked;
* :mod:`~debtloops.model.drivers`: fiscal-year data as drivers (steps, year ends, the GDP path);
* :mod:`~debtloops.model.monthly`: the monthly data on the model's clock and their averages;
* :mod:`~debtloops.model.replay`: history replayed, from any fiscal year's end;
* :mod:`~debtloops.model.layers`: the data layers a scenario names.

The files' locations (:data:`~debtloops.model.datafiles.LOCATIONS`, which ``--data`` moves) are
not copied here: read them, or point a test at a file of its own, in
:mod:`~debtloops.model.datafiles` itself (``datafiles.HISTORY_FILE``), where the readers look.
"""

from __future__ import annotations

from debtloops.errors import InputError
from debtloops.model import datafiles
from debtloops.model.datafiles import (
    CBO_COLUMNS,
    DATA_DIR,
    DATASET_FILES,
    FIRST_YEAR,
    HISTORY_COLUMNS,
    LAST_YEAR,
    MONTHLY_COLUMNS,
    STRUCTURE_COLUMNS,
    Dataset,
    csv_rows,
    history,
    markets_monthly,
    markets_monthly_notes,
    monthly_units,
    read_dataset,
    use_dataset,
)
from debtloops.model.drivers import (
    ALIGN_TOLERANCE,
    HALF_YEAR,
    MAX_NEWTON_STEPS,
    PERCENT,
    SMALL_CHANGE,
    STEP_EDGE,
    GdpPath,
    flow_shares,
    gdp_path,
    instantaneous_ratio,
    steps,
    year_ends,
)
from debtloops.model.layers import (
    CBO_START,
    HISTORY_ONLY,
    LAYERS,
    LEGACY_LAYERS,
    LONG_TERM_SERIES,
    cbo_layer,
    history_then_cbo,
    history_then_cbo_gdp_path,
    layer,
)
from debtloops.model.monthly import (
    BILL_DAYS,
    DAYS_IN_YEAR,
    DISCOUNT_BASIS_DAYS,
    EXPECTATION_WINDOW,
    FISCAL_YEAR_START_MONTH,
    MONTHS_PER_YEAR,
    TIPS_INDEX_LAG_MONTHS,
    cpi_inflation,
    cpi_inflation_before,
    fiscal_year,
    fiscal_year_end,
    fiscal_year_mean,
    mean_before,
    month_start,
    observed_yields,
    window_mean,
)
from debtloops.model.replay import (
    JAPAN_PRIVATE,
    MOF_DOLLARS_SOLD,
    NOTE_SPLIT,
    SEPTEMBER_RATES,
    SHOWN_DIGITS,
    history_gdp_path,
    history_layer,
    initial_state,
    japan_private_net_sales,
    segment_shares,
    start_year_coupons,
)
from debtloops.model.vintages import (
    CONTINUED_SERIES,
    DEBT_RATIO_SERIES,
    DEFAULT_VINTAGE,
    OPTIONAL_VINTAGE_KEYS,
    PROJECTIONS_NAME,
    SOURCES_NAME,
    TEN_YEAR_SERIES,
    VINTAGE_KEYS,
    VINTAGE_NAME,
    VINTAGE_PATTERN,
    Vintage,
    cbo,
    check_projections,
    debt_ratio,
    is_vintage_path,
    list_vintages,
    ten_then_long,
    vintage,
    vintage_digest,
)

__all__ = [
    "ALIGN_TOLERANCE",
    "BILL_DAYS",
    "CBO_COLUMNS",
    "CBO_START",
    "CONTINUED_SERIES",
    "DATASET_FILES",
    "DATA_DIR",
    "DAYS_IN_YEAR",
    "DEBT_RATIO_SERIES",
    "DEFAULT_VINTAGE",
    "DISCOUNT_BASIS_DAYS",
    "Dataset",
    "EXPECTATION_WINDOW",
    "FIRST_YEAR",
    "FISCAL_YEAR_START_MONTH",
    "GdpPath",
    "HALF_YEAR",
    "HISTORY_COLUMNS",
    "HISTORY_ONLY",
    "InputError",
    "LAST_YEAR",
    "LAYERS",
    "JAPAN_PRIVATE",
    "LEGACY_LAYERS",
    "LONG_TERM_SERIES",
    "MAX_NEWTON_STEPS",
    "MONTHLY_COLUMNS",
    "MONTHS_PER_YEAR",
    "MOF_DOLLARS_SOLD",
    "NOTE_SPLIT",
    "OPTIONAL_VINTAGE_KEYS",
    "PERCENT",
    "PROJECTIONS_NAME",
    "SEPTEMBER_RATES",
    "SHOWN_DIGITS",
    "SMALL_CHANGE",
    "SOURCES_NAME",
    "STEP_EDGE",
    "STRUCTURE_COLUMNS",
    "TEN_YEAR_SERIES",
    "TIPS_INDEX_LAG_MONTHS",
    "VINTAGE_KEYS",
    "VINTAGE_NAME",
    "VINTAGE_PATTERN",
    "Vintage",
    "cbo",
    "cbo_layer",
    "check_projections",
    "cpi_inflation",
    "cpi_inflation_before",
    "csv_rows",
    "debt_ratio",
    "fiscal_year",
    "fiscal_year_end",
    "fiscal_year_mean",
    "flow_shares",
    "gdp_path",
    "history",
    "history_gdp_path",
    "history_layer",
    "history_then_cbo",
    "history_then_cbo_gdp_path",
    "initial_state",
    "instantaneous_ratio",
    "japan_private_net_sales",
    "is_vintage_path",
    "layer",
    "list_vintages",
    "markets_monthly",
    "markets_monthly_notes",
    "mean_before",
    "month_start",
    "monthly_units",
    "observed_yields",
    "read_dataset",
    "segment_shares",
    "start_year_coupons",
    "steps",
    "ten_then_long",
    "use_dataset",
    "vintage",
    "vintage_digest",
    "window_mean",
    "year_ends",
]


def __getattr__(name: str) -> object:
    """Refuse a file's location, which lives in :mod:`datafiles` only, naming where it is."""
    if name in datafiles.LOCATIONS:
        raise AttributeError(
            f"debtloops.model.data has no {name}; the readers' location is "
            f"debtloops.model.datafiles.{name}"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
