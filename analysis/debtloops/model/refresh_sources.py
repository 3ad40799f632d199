"""What ``debtloops data refresh`` downloads, into which shipped series, and how far they may move.

The :data:`SOURCES` table of FRED series, the copies and derivations that map the publishers'
series onto the shipped files' rows, and the :class:`Tolerance` of each kind of series: a
refreshed value further than that from the shipped one is refused
(:mod:`debtloops.model.refresh`).
"""

from __future__ import annotations

from dataclasses import dataclass

from debtloops.model.holders import FOREIGN

#: Millions in a billion: FRED gives budget totals and SOMA holdings in $mn, the dataset in $bn.
MILLIONS_PER_BILLION = 1000.0


@dataclass(frozen=True)
class Tolerance:
    """How far a refreshed value may lie from the shipped one: ``absolute + relative * |shipped|``.

    Attributes
    ----------
    name : str
        The constant's name, for messages.
    absolute : float
        [the series' units]
    relative : float
        [1]
    """

    name: str
    absolute: float
    relative: float

    def allows(self, new: float, old: float) -> bool:
        """Tell whether ``new`` is within the tolerance of ``old``."""
        return abs(new - old) <= self.absolute + self.relative * abs(old)


#: H.15 rates are published to 0.01 percentage point and not revised; the shipped copies were
#: rounded once more: two rounding steps [percentage points].
RATES = Tolerance("RATES", absolute=0.02, relative=0.0)
#: CPI-U, seasonally adjusted: BLS revises five years of seasonal factors each February, by well
#: under 1% of the index; a change of base year would move it by far more.
CPI = Tolerance("CPI", absolute=0.0, relative=0.01)
#: Nominal GDP: BEA's comprehensive revisions move levels by up to about 3% (the 2023 one raised
#: recent years by 1-2%; OMB's published FY GDP differs from the shipped by up to 2.3%).
GDP = Tolerance("GDP", absolute=0.0, relative=0.05)
#: Budget totals: the Monthly Treasury Statement's year-end figures are revised by OMB by well
#: under 2%; $2bn covers rounding of the small ones (a surplus year's deficit near zero).
BUDGET = Tolerance("BUDGET", absolute=2.0, relative=0.02)
#: H.4.1 holdings are not revised; 0.1% covers the shipped copies' rounding of $mn to $bn.
SOMA = Tolerance("SOMA", absolute=0.01, relative=0.001)
#: TIC holdings: each year's survey benchmark revises the past year or so of the table, by a few
#: percent of a holder's holdings (the 2010 one raised China's by a third, but that is in the
#: shipped vintage already); 10% and $0.1bn (the table's rounding) allow the next ones.
TIC = Tolerance("TIC", absolute=0.1, relative=0.10)
#: MSPD amounts at a statement date are final when published; $0.001bn covers the shipped
#: copies' rounding of $mn to $bn.
MSPD = Tolerance("MSPD", absolute=0.001, relative=0.0)


@dataclass(frozen=True)
class Source:
    """One FRED series and the shipped series it refreshes.

    Attributes
    ----------
    fred_id : str
        FRED's series id.
    frequency : str
        ``"monthly"``, ``"weekly"``, ``"quarterly"`` or ``"annual"``. FRED dates a period by its
        first day, but a fiscal-year series by the FY's last (30 September of the year it ends
        in): the year of the date is the fiscal year either way.
    tolerance : Tolerance
        Of the shipped series it refreshes.
    scale : float
        FRED's value times this is the dataset's [dataset units / FRED units].
    """

    fred_id: str
    frequency: str
    tolerance: Tolerance
    scale: float = 1.0


#: FRED's millions of dollars in the dataset's billions [$bn / $mn].
_MN = 1.0 / MILLIONS_PER_BILLION
#: Every series refreshed, by FRED id.
SOURCES = {
    source.fred_id: source
    for source in (
        *(Source(i, "monthly", RATES) for i in ("TB3MS", "GS2", "GS3", "GS5", "GS7", "GS10")),
        *(Source(i, "monthly", RATES) for i in ("GS20", "GS30", "FEDFUNDS")),
        Source("CPIAUCSL", "monthly", CPI),
        Source("GDP", "quarterly", GDP),
        Source("GDPA", "annual", GDP),
        Source("FYOINT", "annual", BUDGET, _MN),
        Source("FYFR", "annual", BUDGET, _MN),
        Source("FYONET", "annual", BUDGET, _MN),
        Source("FYFSD", "annual", BUDGET, -_MN),
    )
}
#: Monthly series copied from FRED month by month: dataset name -> FRED id.
MONTHLY_COPIES = {
    name: name.upper() for name in ("tb3ms", "gs2", "gs3", "gs5", "gs7", "gs10", "gs20", "gs30")
} | {"fedfunds": "FEDFUNDS", "cpiaucsl": "CPIAUCSL"}
#: Fiscal-year totals copied from FRED: dataset name -> FRED id (sign and units in SOURCES).
FY_COPIES = {
    "net_interest": "FYOINT",
    "revenue": "FYFR",
    "outlays": "FYONET",
    "total_deficit": "FYFSD",
    "gdp_calendar_year": "GDPA",
}
#: The first fiscal year whose ``fed_treasury_holdings`` is the H.4.1 level on the last Wednesday
#: of September (``history_2000_2025.md``; earlier years are OMB's Table 7.1, and FY2023 a week
#: average): from it on, the refresh takes the SOMA summary's level that day [year].
H41_FISCAL_YEARS_FROM = 2024
#: The Fed's SOMA, as a source name in the change table and the rows it writes.
SOMA_SOURCE = "NY Fed SOMA"
#: TIC's table and the MSPD, as source names.
TIC_SOURCE, MSPD_SOURCE = "TIC mfhhis01", "MSPD Table I"
#: The monthly SOMA rows, from the weekly summary: name -> how a month's Wednesdays are reduced.
SOMA_MONTHLY = {"treast_last_wednesday": "last", "treast_month_mean": "mean"}
#: TIC holdings by fiscal year in the history: name -> (holder, month of the year's end value;
#: September ends the fiscal year t, ``_dec`` rows are December of calendar year t).
TIC_YEARLY = {
    **{holder.holdings: (holder.key, 9) for holder in FOREIGN},
    "foreign_holdings_total": ("grand_total", 9),
    **{f"{holder.holdings}_dec": (holder.key, 12) for holder in FOREIGN},
    "foreign_holdings_total_dec": ("grand_total", 12),
}
#: The history's fiscal-year sums of the split of TIC's changes: holder -> the rows' prefix and
#: suffix (``japan_net_transactions``, ``foreign_net_transactions_total``).
FLOW_ROWS = {
    **{holder.key: (f"{holder.key}_", "") for holder in FOREIGN},
    "grand_total": ("foreign_", "_total"),
}
#: The parts of a split (:func:`debtloops.model.flows.split_changes`): row name -> column.
FLOW_PARTS = {
    "net_transactions": "transactions",
    "valuation_change": "valuation",
    "benchmark_revision": "revision",
}
#: MSPD segments in ``debt_structure_fy.csv``: segment -> row prefix; ``*_outstanding`` is all
#: holders, ``*_held_by_public`` the public's, ``*_share_of_marketable`` derived.
MSPD_SEGMENTS = ("marketable", "bills", "notes", "bonds", "tips", "frn", "ffb")
#: History rows copied from the MSPD: name -> (segment, column: 0 all holders, 1 the public's).
MSPD_HISTORY = {
    "bills_held_by_public": ("bills", 1),
    "marketable_debt_held_by_public": ("marketable", 1),
}
#: What the refresh says about CBO: its projections are vintages added as folders by hand.
CBO_NOTE = (
    "CBO's projections are not downloaded: each vintage is a folder of models/data/cbo/ built "
    "from CBO's workbooks by hand (docs/howto/cbo-vintage.md); use --cbo PATH for your own"
)
#: Rows of the history dated by calendar year, not fiscal year.
CALENDAR_YEARS = ("gdp_calendar_year",)
#: Fiscal-year means and September values of refreshed months: dataset name -> (monthly series,
#: kind).
FY_FROM_MONTHS = {
    "gs10_fy_avg": ("gs10", "mean"),
    "gs10_sep": ("gs10", "september"),
    "tb3m_fy_avg": ("tb3ms", "mean"),
    "tb3m_sep": ("tb3ms", "september"),
    "fedfunds_fy_avg": ("fedfunds", "mean"),
}
#: Rows derived from refreshed ones by the formulas of ``history_2000_2025.md``.
DERIVED = ("primary_deficit", "other_means_of_financing", "avg_rate_on_dhp")
