"""Episodes at monthly resolution: ``debtloops episodes``.

The monthly drivers are checked against the data file read here on its own; the runs are few
(each episode run takes a fraction of a second).
"""

import csv

import numpy as np
import pandas as pd
import pytest

from debtloops import cli
from debtloops.model import data, datafiles
from debtloops.model.run import execute
from debtloops.validation import episodes

COVID = episodes.EPISODES["covid_2020"]
CHINA = "china_baseline_net_purchases"
#: Relative tolerance of sums of a few dozen floats [1].
FLOAT_TOLERANCE = 1e-12
#: How near a run's holdings end to the data [billion USD]: a step's flow lost or counted twice
#: would be billions; the run's float arithmetic (pysd's clock, the drivers' step edges) leaves
#: well under a million dollars.
HOLDINGS_TOLERANCE = 1e-3


def _raw(series: str) -> dict[str, float]:
    """One series of the monthly data file, by ``YYYY-MM``, read without debtloops."""
    with datafiles.MONTHLY_FILE.open(newline="", encoding="utf-8") as handle:
        return {
            row["month"]: float(row["value"])
            for row in csv.DictReader(handle)
            if row["series"] == series and row["status"] != "missing"
        }


@pytest.mark.parametrize("episode", list(episodes.EPISODES.values()), ids=list(episodes.EPISODES))
def test_monthly_drivers_follow_the_data(episode):
    """A row per month: the funds rate, and the month's change in SOMA and TIC, a year's rate."""
    drivers = episodes.monthly_drivers(episode)
    months = [str(m) for m in pd.period_range(episode.start, episode.end, freq="M")]
    assert [str(m) for m in drivers.index] == months
    funds, soma = _raw("fedfunds"), _raw("treast_last_wednesday")
    for month, row in zip(months, drivers.itertuples(), strict=True):
        before = str(pd.Period(month, freq="M") - 1)
        assert row.fed_policy_rate_path == pytest.approx(funds[month] / 100)
        assert row.fed_baseline_net_purchases == pytest.approx(12 * (soma[month] - soma[before]))
    for holder in ("japan", "china"):
        flows = _raw(episodes.NET_TRANSACTIONS[holder])
        holdings = _raw(f"tic_{holder}_holdings")
        complete = all(month in flows for month in months)
        for month, value in zip(months, drivers[f"{holder}_baseline_net_purchases"], strict=True):
            before = str(pd.Period(month, freq="M") - 1)
            change = flows[month] if complete else holdings[month] - holdings[before]
            assert value == pytest.approx(12 * change)


@pytest.mark.parametrize("episode", list(episodes.EPISODES.values()), ids=list(episodes.EPISODES))
def test_japans_private_sales_are_its_sales_beyond_the_ministrys(episode):
    """Each month, Japan's sales less the dollars MoF sold, never below zero, a year's rate."""
    drivers = episodes.monthly_drivers(episode)
    mof = _raw("mof_intervention_usd")
    for month, row in zip(drivers.index, drivers.itertuples(), strict=True):
        sales = max(0.0, -row.japan_baseline_net_purchases)
        expected = max(0.0, sales - 12 * mof[str(month)])
        assert row.japan_private_net_sales == pytest.approx(expected, abs=1e-9)
    calm = episodes.without_official_selling(drivers)
    # without official selling, Japan still sells what its private investors sold, and China
    # sells nothing; purchases are kept
    kept = -calm["japan_baseline_net_purchases"].clip(upper=0.0)
    np.testing.assert_allclose(kept, drivers["japan_private_net_sales"], rtol=0, atol=1e-9)
    assert (calm["china_baseline_net_purchases"] >= 0).all()
    bought = drivers["china_baseline_net_purchases"] > 0
    assert (calm["china_baseline_net_purchases"][bought] == drivers[CHINA][bought]).all()


def test_in_2022_only_the_ministrys_sales_are_official():
    """Aug-Dec 2022: Japan sold more than MoF's $63bn; the rest is private, the rest of the
    months' sales private too (no intervention in August, November or December)."""
    drivers = episodes.monthly_drivers(episodes.EPISODES["yen_2022"])
    sales = (-drivers["japan_baseline_net_purchases"]).clip(lower=0.0) / 12
    private = drivers["japan_private_net_sales"] / 12
    official = (sales - private).sum()
    mof = _raw("mof_intervention_usd")
    assert 0 < official <= mof["2022-09"] + mof["2022-10"] + 1e-9
    assert private["2022-08"] == pytest.approx(sales["2022-08"])


def test_steps_hold_each_month_and_keep_its_sum():
    """Within a month a step carries the month's value; over the run a flow sums to the data's."""
    drivers = episodes.monthly_drivers(COVID)
    monthly = drivers["fed_baseline_net_purchases"]
    start, step = data.month_start(COVID.months[0]), episodes.TIME_STEP
    count = int(np.ceil(len(monthly) / data.MONTHS_PER_YEAR / step))
    points = episodes.on_steps(monthly, start, step, count)
    times = start + step * np.arange(count)
    values = np.array([points[float(t)] for t in times])
    total = float(values.sum() * step)
    assert total == pytest.approx(monthly.sum() / data.MONTHS_PER_YEAR, rel=FLOAT_TOLERANCE)
    edges = np.array([data.month_start(m) for m in [*COVID.months, COVID.months[-1] + 1]])
    for time, value in zip(times, values, strict=True):
        inside = np.flatnonzero((edges[:-1] <= time) & (time + step <= edges[1:]))
        if inside.size:  # a step wholly inside a month holds that month's value
            assert value == pytest.approx(monthly.iloc[inside[0]])
        else:  # a step across a month's end lies between the two months' values
            month = np.searchsorted(edges, time, side="right") - 1
            pair = monthly.iloc[month : month + 2]
            assert pair.min() - 1e-9 <= value <= pair.max() + 1e-9


def test_initial_state_at_the_start_month():
    """Debt between the fiscal-year ends around the start; holdings at the previous month's end."""
    state = episodes.initial_state(COVID)
    debt = data.history().series("debt_held_by_public")
    assert debt[2019] < state["initial_debt_held_by_public"] < debt[2020]
    weight = data.month_start(COVID.months[0]) - 2019
    assert state["initial_debt_held_by_public"] == pytest.approx(
        debt[2019] + weight * (debt[2020] - debt[2019])
    )
    assert state["initial_china_holdings"] == _raw("tic_china_holdings")["2019-12"]
    assert state["initial_fed_holdings"] == _raw("treast_last_wednesday")["2019-12"]


@pytest.mark.parametrize("episode", list(episodes.EPISODES.values()), ids=list(episodes.EPISODES))
def test_markets_expect_the_inflation_of_the_120_months_before(episode):
    """Long-run inflation expected at the start: the CPI-U's change over 120 months, a year's."""
    cpi = _raw("cpiaucsl")
    last = episode.months[0] - 1
    change = np.log(cpi[str(last)] / cpi[str(last - episodes.WINDOW_MONTHS)])
    expected = change * 12 / episodes.WINDOW_MONTHS
    values = episodes.prepare_episode(episode).values
    assert values["initial_expected_long_run_inflation"] == pytest.approx(expected, rel=1e-12)


def test_the_2020_purchases_lower_the_ten_year():
    """Jan-Jun 2020 with the Fed's purchases ends with a lower 10-year than without them."""
    drivers = episodes.monthly_drivers(COVID)
    assert drivers["fed_baseline_net_purchases"].sum() > 0
    with_them = execute(episodes.prepare_episode(COVID, drivers))
    without = execute(
        episodes.prepare_episode(COVID, drivers.assign(fed_baseline_net_purchases=0.0))
    )
    ends = [
        episodes.month_means(run, "market_yield", COVID.months)[-1] for run in (with_them, without)
    ]
    assert ends[0] < ends[1]


def test_command_writes_the_table(tmp_path, capsys):
    """One episode: the table's row, the actual change from GS10, the printed table."""
    out = tmp_path / "out"
    assert cli.main(["episodes", "covid_2020", "--out", str(out)]) == 0
    table = pd.read_csv(out / "episodes.csv")
    assert tuple(table.columns) == episodes.COLUMNS
    (row,) = table.itertuples()
    gs10 = _raw("gs10")
    assert row.actual_change_bp == pytest.approx(100 * (gs10["2020-06"] - gs10["2020-01"]))
    assert np.isfinite(row.model_change_bp) and np.isfinite(row.official_selling_bp)
    assert "covid_2020" in capsys.readouterr().out


def test_a_set_reaches_both_runs_of_each_episode(tmp_path, capsys):
    """--set changes every run: the table is run_episodes' with the override, not without it."""
    out = tmp_path / "out"
    setting = {"flow_effect_sensitivity": 4e-5}
    argv = ["episodes", "yen_2022", "--set", "flow_effect_sensitivity=4e-5", "--out", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    (row,) = pd.read_csv(out / "episodes.csv").itertuples()
    (expected,) = episodes.run_episodes([episodes.EPISODES["yen_2022"]], setting).itertuples()
    (plain,) = episodes.run_episodes([episodes.EPISODES["yen_2022"]]).itertuples()
    for column in ("model_change_bp", "official_selling_bp"):
        assert getattr(row, column) == pytest.approx(getattr(expected, column), rel=1e-9)
    assert abs(row.official_selling_bp - plain.official_selling_bp) > 1.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "term_premium_level=0.01"], "episode covid_2020 sets it from history"),
        (["--set", "policy_rule_switch=1"], "episode covid_2020 sets it from history"),
        (["--set", "flow_effect_sensitivty=1e-5"], "did you mean: flow_effect_sensitivity"),
    ],
)
def test_a_set_of_what_the_episode_sets_or_an_unknown_name_exits_2(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert cli.main(["episodes", "covid_2020", *argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "nearest"),
    [("covid_202", "covid_2020"), ("china2015", "china_2015"), ("yen_2023", "yen_2022")],
)
def test_bad_episode_name(tmp_path, capsys, name, nearest):
    """An unknown episode exits 2 with the nearest valid name, and writes nothing."""
    out = tmp_path / "out"
    assert cli.main(["episodes", "yen_2022", name, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"'{name}'" in error
    assert f"did you mean: {nearest}" in error
    assert not out.exists()


def test_refuses_a_table_of_the_users(tmp_path, capsys):
    """A file named episodes.csv that debtloops did not write is refused (2) and kept."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "episodes.csv").write_text("mine\n")
    assert cli.main(["episodes", "covid_2020", "--out", str(out)]) == 2
    assert (out / "episodes.csv").read_text() == "mine\n"
    assert "episodes.csv" in capsys.readouterr().err


def test_holdings_end_at_the_data():
    """Steps that straddle months lose no flow: Japan's and China's TIC holdings at the end, less
    the valuation changes and survey revisions of the episode's months (not flows)."""
    episode = episodes.EPISODES["yen_2022"]
    run = execute(episodes.prepare_episode(episode))
    end = data.month_start(pd.Period("2023-01", freq="M"))
    months = [str(month) for month in episode.months]
    for holder in ("japan", "china"):
        model = np.interp(end, run["time"].to_numpy(), run[f"{holder}_holdings"].to_numpy())
        other = sum(
            _raw(f"tic_{holder}_{part}")[month]
            for part in ("valuation_change", "benchmark_revision")
            for month in months
        )
        assert abs(other) > 1.0
        expected = _raw(f"tic_{holder}_holdings")["2022-12"] - other
        assert model == pytest.approx(expected, abs=HOLDINGS_TOLERANCE)


@pytest.fixture
def monthly_file(tmp_path, monkeypatch):
    path = tmp_path / "monthly.csv"
    monkeypatch.setattr(datafiles, "MONTHLY_FILE", path)
    data.markets_monthly.cache_clear()
    yield path
    data.markets_monthly.cache_clear()


HEADER = "series,month,value,status,note\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "monthly.csv is missing"),
        ("series,month,value\n", "the header is series, month, value"),
        (HEADER + "gs10,2020-01,lots,reported,\n", "line 2: the value is not a finite number"),
        (HEADER + "gs10,2020-01,1,reported,,extra\n", "line 2: 6 fields, expected 5"),
        (HEADER + "gs10,2020-13,1,reported,\n", "YYYY-MM"),
        (HEADER + "gs10,2020-01,1,reported,\ngs10,2020-01,2,reported,\n", "twice"),
        (HEADER + "gs10,2020-01,1,reported,\n", "has no series"),
    ],
)
def test_a_bad_monthly_file_is_refused(tmp_path, capsys, monthly_file, text, message):
    """A missing or malformed monthly data file exits 2 with one line, and nothing is written."""
    if text is not None:
        monthly_file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["episodes", "covid_2020", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (out / "episodes.csv").exists()
