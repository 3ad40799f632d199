"""The 10-year notes' maturity ladder: its starting stages come from the data or fall back whole."""

import numpy as np
import pytest
from tests.conftest import run

from debtloops.model import replay
from debtloops.model.contract import TEN_YEAR_NOTE_STAGES, value_problems
from debtloops.model.datafiles import history
from debtloops.model.drivers import PERCENT
from debtloops.model.parameters import load_parameters


def test_the_contract_counts_the_stages_of_the_model_file():
    assert load_parameters()["ten_year_note_stages"].value == TEN_YEAR_NOTE_STAGES


@pytest.mark.parametrize("sizes", ["equal", "notes"])
def test_each_stage_starts_at_the_yield_of_the_year_its_notes_were_sold(sizes):
    layer = replay.ten_year_cohorts(2025, sizes)
    stages = range(1, TEN_YEAR_NOTE_STAGES + 1)
    yields = history().series("gs10_fy_avg") / PERCENT
    assert layer[replay.COHORT_SWITCH] == 1.0
    shares = [layer[replay.COHORT_SHARE.format(k)] for k in stages]
    assert sum(shares) == pytest.approx(1.0, rel=1e-12)
    # one stage a year at a 10-year term: stage k holds the notes sold in FY2025 - (k - 1)
    for k in stages:
        coupon = layer[replay.COHORT_COUPON.format(k)]
        assert coupon == pytest.approx(float(yields[2025 - k + 1]), rel=1e-12)
    if sizes == "equal":
        np.testing.assert_allclose(shares, 1.0 / TEN_YEAR_NOTE_STAGES, rtol=1e-12)


def test_a_start_without_ten_years_of_yields_keeps_one_coupon_on_equal_stages():
    # the history starts in FY2000, so a start at FY2005 lacks FY1996-1999
    layer = replay.ten_year_cohorts(2005)
    assert layer[replay.COHORT_SWITCH] == 0.0
    assert not any(name.startswith("ten_year_cohort_coupon_") for name in layer)


def test_the_ladder_starts_at_the_tables_stages_and_coupons():
    ds = run("baseline").isel(time=0)
    table = load_parameters()
    stages = range(1, TEN_YEAR_NOTE_STAGES + 1)
    held = [float(ds[f"ten_year_notes_stage_{k}"]) for k in stages]
    assert sum(held) == pytest.approx(float(ds["ten_year_notes_outstanding"]), rel=1e-12)
    for k, amount in zip(stages, held, strict=True):
        coupon = table[f"ten_year_cohort_coupon_{k}"].value
        interest = float(ds[f"interest_on_ten_year_notes_stage_{k}"])
        assert interest == pytest.approx(amount * coupon, rel=1e-9)


def test_a_stage_may_go_negative_but_the_segment_may_not():
    times = np.array([2025.0, 2026.0, 2027.0])
    stage = {"ten_year_notes_stage_1": np.array([[5.0, -3.0, -4.0]])}
    assert value_problems(stage, times) == [""]
    total = {"ten_year_notes_outstanding": np.array([[5.0, 1.0, -0.5]])}
    (problem,) = value_problems(total, times)
    assert problem == "ten_year_notes_outstanding went negative (-0.5) at time 2027"
