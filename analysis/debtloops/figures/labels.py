"""One table of how variables are shown: a title in plain words, the axis units and the scale.

Every figure takes its titles and axis labels from here, so a variable reads the same on the
dashboard, in the sweep charts, in the backtest and in the report. Units are those of
:data:`debtloops.model.contract.OUTPUT_UNITS` multiplied by ``scale``: a debt ratio of 1.2 [1] is
shown as 120 [% of GDP].
"""

from __future__ import annotations

from dataclasses import dataclass

from debtloops.model.holders import FOREIGN
from debtloops.units import PERCENT

PER_THOUSAND = 1.0 / 1000.0


@dataclass(frozen=True)
class Label:
    """How one variable is shown.

    Attributes
    ----------
    title : str
        A title in plain words, e.g. ``Debt held by the public / GDP``.
    units : str
        The axis units after scaling, e.g. ``% of GDP``.
    scale : float
        The factor from the model's units to the shown units [1].
    """

    title: str
    units: str
    scale: float = 1.0

    def with_units(self) -> str:
        """Return the title and its units, e.g. ``10-year market yield [% per year]``."""
        return f"{self.title} [{self.units}]"


#: Output variables (and derived series) by name.
LABELS: dict[str, Label] = {
    # debt over GDP's annual rate at each instant; CBO's ratio (over the fiscal year's GDP) is
    # measured in validate and the headlines
    "debt_to_gdp": Label("Debt held by the public / GDP", "% of GDP (annual rate)", PERCENT),
    "debt_held_by_public": Label("Debt held by the public", "billion USD"),
    "market_yield": Label("10-year market yield", "% per year", PERCENT),
    "effective_interest_rate": Label("Average interest rate on the debt", "% per year", PERCENT),
    "fed_policy_rate": Label("Fed policy rate", "% per year", PERCENT),
    "interest_to_revenue": Label("Net interest / revenue", "% of revenue", PERCENT),
    "net_interest": Label("Net interest", "billion USD per year"),
    "cumulative_net_interest": Label("Net interest paid since the start", "billion USD"),
    "extra_interest": Label("Extra interest against the baseline", "billion USD"),
    "primary_deficit": Label("Primary deficit", "billion USD per year"),
    "deficit": Label("Deficit", "billion USD per year"),
    "gross_issuance": Label("Gross issuance", "billion USD per year"),
    "nominal_gdp": Label("Nominal GDP", "billion USD per year"),
    "revenue": Label("Revenue", "billion USD per year"),
    "dollar_index": Label("Broad dollar index", "index"),
    "bond_price_index": Label("Price of a 10-year bond", "index, start = 100"),
    "em_stress_index": Label("Emerging-market stress", "index"),
    "real_gdp_growth": Label("Real GDP growth", "% per year", PERCENT),
    "inflation": Label("Inflation (GDP prices)", "% per year", PERCENT),
    "price_level": Label("Price level", "index"),
    "output_gap": Label("Real GDP against the baseline's path", "%", PERCENT),
    "holdings": Label("Holdings by holder", "trillion USD", PER_THOUSAND),
    **{
        holder.holdings: Label(f"{holder.possessive} holdings", "billion USD") for holder in FOREIGN
    },
    "other_foreign_holdings": Label("Other foreign holdings", "billion USD"),
    "fed_holdings": Label("Federal Reserve holdings", "billion USD"),
    "domestic_private_holdings": Label("Domestic private holdings", "billion USD"),
    # Loops That Matter: a loop's |relative loop score|, its share of the loops' activity
    "loop_share": Label("Share of the feedback loops' activity", "%", PERCENT),
}

#: The holders' names in legends.
HOLDER_NAMES: dict[str, str] = {
    **{holder.holdings: holder.name for holder in FOREIGN},
    "other_foreign_holdings": "other foreign",
    "fed_holdings": "Federal Reserve",
    "domestic_private_holdings": "domestic private",
}


def label(name: str, long_name: str | None = None, units: str | None = None) -> Label:
    """Return how a variable is shown.

    Parameters
    ----------
    name : str
        The variable's name, e.g. ``debt_to_gdp``.
    long_name, units : str, optional
        What to fall back on for a variable not in :data:`LABELS` (e.g. its netCDF attributes).

    Returns
    -------
    Label
        The table's entry, or ``long_name`` (else the name in words) with ``units`` at scale 1.
    """
    if name in LABELS:
        return LABELS[name]
    return Label(long_name or name.replace("_", " "), units or "")
