"""The fidelity report: the model against CBO, history, the price-impact literature and the article.

Every check has a reference and a tolerance fixed from the reference's own uncertainty (or from
the range the literature reports), never from the model's result:

* **CBO**: the baseline against CBO's Long-Term Budget Outlook 2025: debt held by the public
  within 2 points of GDP in every year 2026-2035 and 5 points in 2036-2055; net interest within
  0.15 points of GDP in every year 2026-2035 (a tolerance fixed before the result was
  seen), within 0.3 points in 2035 (the older check) and 2055; the average rate on the debt
  within 0.25 points of CBO's in 2026-2035. CBO's ratios are debt at the end of a fiscal year
  over that year's GDP and a fiscal year's interest over the same GDP, the year's GDP being the
  integral of its annual rate over the year; the model's are measured the same way, the year's
  GDP as the change of the stock ``cumulative_nominal_gdp`` over it
  (:func:`debtloops.validation.backtest.fiscal_year_gdp`), not the model's ``debt_to_gdp``
  (debt over the annual rate at an instant).
* **Backtest** from FY2015 to FY2025 with historical drivers and yields: debt held by the public
  in FY2025 within 3% of the actual value, net interest summed over FY2016-2025 and in FY2025
  within 10%.
* **Markets and the Fed** (:mod:`debtloops.validation.markets`): price impact with every channel
  on, the model's own 10-year and net interest against history, the debt's structure at the start
  and the monthly episodes.
* **The article's arithmetic**: a $100, 3%, one-year bond bought at $90 yields 14.4%; $10bn of
  new debt costs $0.3bn a year at 3% and $1.44bn at 14.4%, in the bond maths and in the model's
  ``article_stress`` run, where new notes and bonds pay 14.4%.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import xarray as xr

from debtloops import paths
from debtloops.figures.validation import plot_cbo
from debtloops.model import data, datafiles
from debtloops.model.run import run_scenario
from debtloops.validation import backtest, bonds, markets
from debtloops.validation.checks import Check, number_text

#: What ``debtloops validate`` writes into its output folder: the checks, then two charts.
OUTPUT_NAMES = ("validation.csv", "cbo_baseline.png", "backtest.png", "decomposition.csv")
#: The scenarios whose extra yield and interest ``validate`` splits into their parts.
DECOMPOSED = ("japan_full", "article")
#: The backtest the report runs [fiscal years].
BACKTEST_START, BACKTEST_END = 2015, 2025
#: Tolerances, each from its reference (see the module's docstring): CBO's debt path [points of
#: GDP] to 2035 and after, its net interest [points of GDP] and average rate [points]; the
#: backtest's debt and net interest [relative].
DEBT_TOLERANCE_TO_2035, DEBT_TOLERANCE_AFTER_2035 = 2.0, 5.0
#: The last year of CBO's ten-year outlook; the long-term outlook's tolerance applies after it.
CBO_LAST_YEAR = 2035
INTEREST_TOLERANCE, RATE_TOLERANCE = 0.3, 0.25
#: Net interest in every year of CBO's ten-year outlook [points of GDP].
INTEREST_TOLERANCE_TO_2035 = 0.15
#: CBO's average interest rate on the debt held by the public [percent], where a vintage gives it.
RATE_SERIES = "average_rate_on_debt_pct"
#: The units of CBO's ratios, measured CBO's way: over the fiscal year's GDP.
CBO_RATIO = "% of FY GDP"
BACKTEST_DEBT_TOLERANCE, BACKTEST_INTEREST_TOLERANCE = 0.03, 0.10

#: What :func:`run_checks` returned in this process, by the key of its inputs (:func:`_inputs_key`).
_CHECKED: dict[tuple[str, ...], tuple[list[Check], pd.DataFrame, pd.DataFrame]] = {}


def _within(check, model, reference, tolerance, units, source) -> Check:
    return Check(
        check, model, reference, reference - tolerance, reference + tolerance, units, source
    )


def _source(found: data.Vintage) -> str:
    """Name a vintage as a check's source."""
    return f"CBO vintage {found.name}: {found.title}"


def cbo_comparison(baseline: xr.Dataset, cbo: str | Path | None = None) -> pd.DataFrame:
    """Set the baseline beside CBO's paths, by fiscal year.

    Parameters
    ----------
    baseline : xarray.Dataset
        The ``baseline`` run, on the vintage ``cbo``.
    cbo : str or Path, optional
        The CBO vintage (:func:`debtloops.model.data.vintage`); the default one if None. The years
        below are the default vintage's.

    Returns
    -------
    pandas.DataFrame
        Indexed by fiscal year 2026-2055: ``debt_model``, ``debt_cbo`` [percent of GDP: debt at
        the end of the fiscal year over the year's GDP], ``interest_model``, ``interest_cbo``
        [percent of GDP: the year's interest over the year's GDP], ``rate_model``, ``rate_cbo``
        [percent]; CBO's columns are NaN where CBO publishes no value. The model's GDP for a
        fiscal year is the integral of its annual rate over the year, as CBO's is.
    """
    found = data.vintage(cbo or data.DEFAULT_VINTAGE)
    projections = data.cbo(found.folder if not found.shipped else found.name)
    years = range(found.start_year + 1, int(float(baseline["time"][-1])) + 1)
    rows = {}
    for year in years:
        gdp = backtest.fiscal_year_gdp(baseline, year)
        debt = backtest.fiscal_year_value(baseline, "debt_held_by_public", "end", year)
        before = backtest.fiscal_year_value(baseline, "debt_held_by_public", "end", year - 1)
        interest = backtest.fiscal_year_value(baseline, "net_interest", "flow", year)
        rows[year] = {
            "debt_model": data.PERCENT * debt / gdp,
            "interest_model": data.PERCENT * interest / gdp,
            "rate_model": data.PERCENT * interest / ((debt + before) / 2),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame["debt_cbo"] = data.debt_ratio(found.name if found.shipped else found.folder)
    for column, series in (("interest_cbo", "net_interest_pct_gdp"), ("rate_cbo", RATE_SERIES)):
        given = projections.frame["series"] == series
        frame[column] = projections.series(series) if given.any() else float("nan")
    frame.index.name = "fiscal_year"
    return frame


def _worst_year(
    comparison: pd.DataFrame,
    what: str,
    label: str,
    years: tuple[int, int],
    tolerance: float,
    source: str,
) -> Check:
    """Check the year of a span where the model is furthest from CBO."""
    span = comparison.loc[years[0] : years[1]]
    worst = int((span[f"{what}_model"] - span[f"{what}_cbo"]).abs().idxmax())
    return _within(
        f"{label}, worst year {years[0]}-{years[1]} (FY{worst})",
        float(span.loc[worst, f"{what}_model"]),
        float(span.loc[worst, f"{what}_cbo"]),
        tolerance,
        "%" if what == "rate" else CBO_RATIO,
        source,
    )


def cbo_checks(comparison: pd.DataFrame, cbo: str | Path | None = None) -> list[Check]:
    """Check the baseline against CBO (see the module's docstring for the tolerances).

    The years are the vintage's (``cbo``, the default one if None): its ten-year window, then the
    long-term outlook's years if it has any; net interest at the end of each where CBO gives it,
    and the average rate where CBO gives it.
    """
    found = data.vintage(cbo or data.DEFAULT_VINTAGE)
    source = _source(found)
    window = (found.start_year + 1, found.ten_year_end)
    later = (found.ten_year_end + 1, found.long_term_end)
    checks = [_worst_year(comparison, "debt", "debt/GDP", window, DEBT_TOLERANCE_TO_2035, source)]
    if later[1] >= later[0]:
        checks.append(
            _worst_year(comparison, "debt", "debt/GDP", later, DEBT_TOLERANCE_AFTER_2035, source)
        )
    interest = comparison["interest_cbo"].dropna()
    if comparison["interest_cbo"].loc[window[0] : window[1]].notna().all():
        checks.append(
            _worst_year(
                comparison, "interest", "net interest", window, INTEREST_TOLERANCE_TO_2035, source
            )
        )
    for year in dict.fromkeys((found.ten_year_end, found.long_term_end)):
        if year in interest.index:
            checks.append(
                _within(
                    f"net interest FY{year}",
                    float(comparison.loc[year, "interest_model"]),
                    float(comparison.loc[year, "interest_cbo"]),
                    INTEREST_TOLERANCE,
                    CBO_RATIO,
                    source,
                )
            )
    if comparison["rate_cbo"].loc[window[0] : window[1]].notna().all():
        checks.append(
            _worst_year(
                comparison, "rate", "average rate on the debt", window, RATE_TOLERANCE, source
            )
        )
    return checks


def backtest_checks(table: pd.DataFrame, start: int, end: int) -> list[Check]:
    """Check a historical-yield backtest (see the module's docstring for the tolerances)."""
    source = "Treasury and OMB via FRED and OMB Table 7.1 (models/data/history_2000_2025.csv)"

    def share(variable: str, years: range, tolerance: float) -> Check:
        rows = table[(table["variable"] == variable) & table["year"].isin(list(years))]
        model, actual = float(rows["model"].sum()), float(rows["actual"].sum())
        label = f"FY{years[0]}" if len(years) == 1 else f"summed FY{years[0]}-{years[-1]}"
        name = variable.replace("_", " ")
        return _within(
            f"backtest {start}-{end}: {name} {label}",
            model,
            actual,
            tolerance * actual,
            "billion USD",
            source,
        )

    return [
        share("debt_held_by_public", range(end, end + 1), BACKTEST_DEBT_TOLERANCE),
        share("net_interest", range(start + 1, end + 1), BACKTEST_INTEREST_TOLERANCE),
        share("net_interest", range(end, end + 1), BACKTEST_INTEREST_TOLERANCE),
    ]


def article_checks() -> list[Check]:
    """Check the seed article's worked numbers, in the bond maths and in the model."""
    article = "the seed article (a $100, 3%, one-year bond; $10bn of new debt)"
    stress = run_scenario("article_stress")
    window = stress["stress_window"] > 0
    issued = stress["ten_year_note_issuance"].where(window)
    added = stress["ten_year_note_interest_added"].where(window)
    per_ten = float((added / issued * 10.0).max())
    exact = 1e-9
    return [
        Check(
            "yield of the $100 bond bought at $90",
            bonds.one_year_bond_yield(90.0) * 100,
            13 / 90 * 100,
            13 / 90 * 100 - exact,
            13 / 90 * 100 + exact,
            "%",
            article,
        ),
        Check(
            "interest on $10bn at 3%",
            bonds.annual_interest_cost(10.0, 0.03),
            0.3,
            0.3 - exact,
            0.3 + exact,
            "billion USD a year",
            article,
        ),
        Check(
            "interest on $10bn at 14.4%",
            bonds.annual_interest_cost(10.0, 0.144),
            1.44,
            1.44 - exact,
            1.44 + exact,
            "billion USD a year",
            article,
        ),
        Check(
            "model: interest on $10bn of new notes in article_stress",
            per_ten,
            1.44,
            1.44 - exact,
            1.44 + exact,
            "billion USD a year",
            article,
        ),
    ]


def run_checks(cbo: str | Path | None = None) -> tuple[list[Check], pd.DataFrame, pd.DataFrame]:
    """Run every check, the CBO ones on the vintage ``cbo`` (the default one if None).

    The checks take about 30 model runs and are deterministic: their result depends only on the
    model file, the parameter table, the scenario files, the CBO vintage and the dataset in use
    (:func:`_inputs_key`). A second call with the same inputs in one process returns a copy of the
    first call's result without running the model again.

    Returns
    -------
    checks : list of Check
        The report's lines.
    comparison : pandas.DataFrame
        The baseline beside CBO (:func:`cbo_comparison`).
    history : pandas.DataFrame
        The FY2015-2025 backtest beside history (:func:`debtloops.validation.backtest.compare`).
    """
    key = _inputs_key(cbo)
    if key not in _CHECKED:
        _CHECKED[key] = _computed_checks(cbo)
    checks, comparison, history = _CHECKED[key]
    return list(checks), comparison.copy(), history.copy()


def _inputs_key(cbo: str | Path | None) -> tuple[str, ...]:
    """Return what :func:`run_checks` reads besides the code, as a key.

    That is the vintage's folder and the dataset's (whose files a process reads once: see
    :func:`debtloops.model.data.vintage` and :func:`debtloops.model.datafiles.history`), and the
    SHA-256 of the model file, the parameter table and the scenario files, which are read again
    on each run.
    """
    found = data.vintage(cbo or data.DEFAULT_VINTAGE)
    digest = hashlib.sha256()
    for path in (paths.MODEL_FILE, paths.PARAMETER_TABLE, *sorted(paths.SCENARIO_DIR.glob("*"))):
        digest.update(f"{path.name}\0".encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return str(found.folder), str(datafiles.HISTORY_FILE.parent), digest.hexdigest()


def _computed_checks(
    cbo: str | Path | None,
) -> tuple[list[Check], pd.DataFrame, pd.DataFrame]:
    """Run the model for every check: :func:`run_checks` without its memory."""
    baseline = run_scenario("baseline", cbo=cbo)
    comparison = cbo_comparison(baseline, cbo)
    _, history = backtest.run_backtest(BACKTEST_START, BACKTEST_END, "historical")
    rows = [
        *markets.price_impact_rows(markets.price_impact()),
        *markets.structure_rows(baseline),
        *markets.yield_backtest_rows(),
        *markets.interest_backtest_rows(),
        *markets.episode_rows(),
    ]
    checks = [
        *cbo_checks(comparison, cbo),
        *backtest_checks(history, BACKTEST_START, BACKTEST_END),
        *rows,
        *article_checks(),
    ]
    return checks, comparison, history


def checks_table(checks: list[Check]) -> pd.DataFrame:
    """Return the checks as a table: check, model, reference, tolerance, units, pass, source."""
    rows = [
        {
            "check": c.check,
            "model": c.model,
            "reference": c.reference,
            "tolerance": c.tolerance,
            "units": c.units,
            "pass": c.passed,
            "source": c.source,
        }
        for c in checks
    ]
    return pd.DataFrame(rows)


def format_checks(checks: list[Check]) -> str:
    """Format the checks for printing: one line each, with PASS or FAIL."""
    lines = [f"{'check':<58} {'model':>10} {'reference':>10}  {'tolerance':<20} pass"]
    for c in checks:
        model, reference = number_text(c.model), number_text(c.reference)
        verdict = "PASS" if c.passed else "FAIL"
        lines.append(f"{c.check:<58} {model:>10} {reference:>10}  {c.tolerance:<20} {verdict}")
    failed = sum(not c.passed for c in checks)
    lines.append(f"\nchecks: {len(checks) - failed} within tolerance, {failed} outside")
    return "\n".join(lines)


def _plot_cbo(comparison: pd.DataFrame, path: Path, last_year: int = CBO_LAST_YEAR) -> None:
    """Draw the CBO comparison with this module's tolerances, the stricter to ``last_year``."""
    after = comparison.index > last_year
    debt_band = pd.Series(DEBT_TOLERANCE_TO_2035, index=comparison.index).where(
        ~after, DEBT_TOLERANCE_AFTER_2035
    )
    interest_band = pd.Series(INTEREST_TOLERANCE_TO_2035, index=comparison.index).where(
        ~after, INTEREST_TOLERANCE
    )
    plot_cbo(comparison, path, debt_band, interest_band)


def decompositions() -> pd.DataFrame:
    """Split the extra 10-year and interest of each :data:`DECOMPOSED` scenario into its parts.

    Returns
    -------
    pandas.DataFrame
        :func:`debtloops.validation.markets.decomposition` of each scenario, one after the other.
    """
    return pd.concat([markets.decomposition(name) for name in DECOMPOSED], ignore_index=True)


def format_decompositions(table: pd.DataFrame) -> str:
    """Format the decompositions for printing: one line a part, in its units."""
    lines = ["scenario     part" + " " * 48 + "value  units"]
    for row in table.itertuples():
        lines.append(f"{row.scenario:<12} {row.part:<52} {row.value:>9,.1f}  {row.units}")
    return "\n".join(lines)


def write_report(out_dir: Path, cbo: str | Path | None = None) -> list[Check]:
    """Run every check and write ``validation.csv``, the two figures and ``decomposition.csv``.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing and locked while the files are written.
    cbo : str or Path, optional
        The CBO vintage the baseline is checked against (:func:`run_checks`).

    Returns
    -------
    list of Check
        The checks, in the order printed.
    """
    from debtloops.io import atomic_file, output_lock

    checks, comparison, history = run_checks(cbo)
    table = checks_table(checks)
    parts = decompositions()
    table_name, cbo_name, backtest_name, parts_name = OUTPUT_NAMES
    with output_lock(out_dir):
        atomic_file(out_dir / table_name, lambda path: table.to_csv(path, index=False))
        atomic_file(out_dir / cbo_name, lambda path: plot_cbo_check(comparison, path, cbo))
        atomic_file(out_dir / backtest_name, lambda path: plot_backtest_check(history, path))
        atomic_file(out_dir / parts_name, lambda path: parts.to_csv(path, index=False))
    return checks


def plot_cbo_check(comparison: pd.DataFrame, path: Path, cbo: str | Path | None = None) -> None:
    """Draw ``cbo_baseline.png``: the baseline against CBO (:func:`run_checks`' comparison)."""
    _plot_cbo(comparison, path, data.vintage(cbo or data.DEFAULT_VINTAGE).ten_year_end)


def plot_backtest_check(history: pd.DataFrame, path: Path) -> None:
    """Draw ``backtest.png``: the backtest against history (:func:`run_checks`' history)."""
    backtest.plot(history, path, "historical 10-year yield")
