"""Sweep specifications: reading, checking, and the sample designs they build."""

import itertools
import json
import math

import numpy as np
import pytest
from SALib.sample import sobol as salib_sobol

from debtloops import InputError, list_scenarios, schema
from debtloops.errors import exact
from debtloops.paths import MODELS_DIR
from debtloops.sweeps import samplers
from debtloops.sweeps.design import Design, design, unit_problem
from debtloops.sweeps.samplers import REGISTRY
from debtloops.sweeps.spec import DISTRIBUTIONS, SAMPLERS, SweepSpec, Uncertainty, load_spec

SWEEP_DIR = MODELS_DIR / "sweeps"
OUTCOMES = (
    "debt_to_gdp",
    "market_yield",
    "interest_to_revenue",
    "dollar_index",
    "cumulative_net_interest",
)
TOP = 'scenarios = ["article"]\noutcomes = ["debt_to_gdp", "market_yield"]\n'
UNCERTAINTIES = (
    "[uncertainties.portfolio_balance_sensitivity]\n"
    '[uncertainties.ten_year_note_maturity]\ndistribution = "normal"\n'
)


def sampler(method="lhs", samples=10, seed=1, extra=""):
    return f'[sampler]\nmethod = "{method}"\nsamples = {samples}\nseed = {seed}\n{extra}'


def write(tmp_path, top=TOP, sampler_text=None, uncertainties=UNCERTAINTIES, levers="", name=None):
    text = "\n".join([top, sampler() if sampler_text is None else sampler_text, uncertainties])
    if levers:
        text += "\n[levers]\n" + levers
    path = tmp_path / (name or "bad.toml")
    path.write_text(text, encoding="utf-8")
    return path


def load(path, table):
    return load_spec(path, table, list_scenarios(), OUTCOMES)


def shipped(name, table):
    return load(SWEEP_DIR / f"{name}.toml", table)


def assert_within_ranges(spec, result, table):
    for j, name in enumerate(result.names):
        column = result.values[:, j]
        param = table[name]
        assert np.all(column >= param.valid_min), name
        assert np.all(column <= param.valid_max), name
    for j, u in enumerate(spec.uncertainties):
        assert np.all(result.values[:, j] >= u.low), u.name
        assert np.all(result.values[:, j] <= u.high), u.name


# ---- the shipped specifications ---------------------------------------------------------------


def test_core_uncertainty_loads_and_builds_an_lhs_design(table):
    spec = shipped("core_uncertainty", table)
    assert isinstance(spec, SweepSpec)
    assert spec.name == "core_uncertainty"
    assert spec.scenarios == ("article", "japan_full")
    assert spec.outcomes == OUTCOMES
    assert (spec.method, spec.samples, spec.seed) == ("lhs", 1000, 20251)
    assert spec.final_time == table["final_time"].value
    assert spec.levers == {}
    triangular = [u.name for u in spec.uncertainties if u.distribution == "triangular"]
    assert triangular == ["flow_effect_sensitivity"]
    for u in spec.uncertainties:
        assert (u.low, u.high) == (table[u.name].low, table[u.name].high)
    result = design(spec)
    assert isinstance(result, Design)
    assert result.values.shape == (1000, 18)
    assert result.values.dtype == np.float64
    assert result.n_design == 1000
    assert result.names == tuple(u.name for u in spec.uncertainties)
    assert result.lever_values == ((),)


def test_sobol_debt_loads_and_builds_a_saltelli_design(table):
    spec = shipped("sobol_debt", table)
    assert spec.scenarios == ("japan_full",)
    assert spec.outcomes == OUTCOMES
    assert (spec.method, spec.samples, spec.seed) == ("sobol", 1024, 20252)
    assert spec.calc_second_order is False
    assert len(spec.uncertainties) == 10
    assert "yield_seeking_sensitivity" in {u.name for u in spec.uncertainties}
    result = design(spec)
    assert result.values.shape == (1024 * (10 + 2), 10)
    assert result.n_design == 1024 * 12


@pytest.mark.parametrize("name", ["core_uncertainty", "sobol_debt"])
def test_shipped_spec_has_a_header(name, table):
    lines = (SWEEP_DIR / f"{name}.toml").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"# {name}: ")
    assert len(lines[0]) > len(f"# {name}: ") + 10
    header = [line for line in lines if line.startswith("#")]
    assert any(line.startswith("# Intent: ") for line in header)
    assert any(line.startswith("# Source: ") and "parameters.toml" in line for line in header)
    assert shipped(name, table).text == "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["core_uncertainty", "sobol_debt"])
def test_shipped_designs_stay_in_range(name, table):
    spec = shipped(name, table)
    assert_within_ranges(spec, design(spec), table)


# ---- reproducibility ------------------------------------------------------------------------


#: Samplers and distributions that need no calibration folder (the posterior ones are tested with a
#: real calibration in test_calibration.py).
FROM_THE_TABLE = [method for method in SAMPLERS if method != "posterior"]
TABLE_DISTRIBUTIONS = [name for name in DISTRIBUTIONS if name != "posterior"]


@pytest.mark.parametrize("method", FROM_THE_TABLE)
def test_design_is_reproducible_and_depends_on_the_seed(tmp_path, table, method):
    samples = {"grid": 3, "sobol": 16, "morris": 4}.get(method, 20)
    first = load(write(tmp_path, sampler_text=sampler(method, samples, seed=7)), table)
    again = load(write(tmp_path, sampler_text=sampler(method, samples, seed=7)), table)
    other = load(write(tmp_path, sampler_text=sampler(method, samples, seed=8)), table)
    assert np.array_equal(design(first).values, design(first).values)
    assert np.array_equal(design(first).values, design(again).values)
    if method == "grid":  # a grid has no randomness
        assert np.array_equal(design(first).values, design(other).values)
    else:
        assert not np.array_equal(design(first).values, design(other).values)


def test_shipped_design_is_reproducible(table):
    spec = shipped("core_uncertainty", table)
    assert np.array_equal(design(spec).values, design(shipped("core_uncertainty", table)).values)


def test_design_values_are_read_only(tmp_path, table):
    result = design(load(write(tmp_path), table))
    with pytest.raises(ValueError, match="read-only"):
        result.values[0, 0] = 1.0


# ---- samplers -------------------------------------------------------------------------------


def test_grid_is_a_full_factorial_at_cell_midpoints(tmp_path, table):
    text = (
        "[uncertainties.portfolio_balance_sensitivity]\n"
        "[uncertainties.ten_year_note_maturity]\n"
        "[uncertainties.bill_share_of_debt]\n"
    )
    spec = load(write(tmp_path, sampler_text=sampler("grid", 4), uncertainties=text), table)
    result = design(spec)
    assert result.values.shape == (4**3, 3)
    for j, u in enumerate(spec.uncertainties):
        expected = u.low + (np.arange(4) + 0.5) / 4 * (u.high - u.low)
        np.testing.assert_allclose(np.unique(result.values[:, j]), expected, rtol=1e-12)
    # every combination appears exactly once, the first uncertainty varying slowest
    assert len({tuple(row) for row in result.values}) == 4**3
    assert np.all(result.values[:16, 0] == result.values[0, 0])


def test_monte_carlo_and_lhs_shapes(tmp_path, table):
    for method in ("monte_carlo", "lhs"):
        spec = load(write(tmp_path, sampler_text=sampler(method, 37)), table)
        assert design(spec).values.shape == (37, 2)


def test_lhs_puts_one_sample_in_each_stratum(tmp_path, table):
    text = "[uncertainties.bill_share_of_debt]\nrange = [0.0, 1.0]\n"
    spec = load(write(tmp_path, sampler_text=sampler("lhs", 50), uncertainties=text), table)
    strata = np.floor(design(spec).values[:, 0] * 50).astype(int)
    assert sorted(strata) == list(range(50))


def test_morris_shape_and_levels(tmp_path, table):
    extra = "levels = 6\n"
    spec = load(write(tmp_path, sampler_text=sampler("morris", 5, extra=extra)), table)
    assert spec.morris_levels == 6
    result = design(spec)
    assert result.values.shape == (5 * (2 + 1), 2)
    u = spec.uncertainties[0]  # uniform: the levels map onto an evenly spaced grid
    expected = u.low + np.arange(6) / 5 * (u.high - u.low)
    assert set(np.round(result.values[:, 0], 12)) <= set(np.round(expected, 12))
    default = load(write(tmp_path, sampler_text=sampler("morris", 5)), table)
    assert default.morris_levels == 4


def test_sobol_shapes_with_and_without_second_order(tmp_path, table):
    first = load(write(tmp_path, sampler_text=sampler("sobol", 32)), table)
    assert first.calc_second_order is False
    assert design(first).values.shape == (32 * (2 + 2), 2)
    extra = "calc_second_order = true\n"
    second = load(write(tmp_path, sampler_text=sampler("sobol", 32, extra=extra)), table)
    assert second.calc_second_order is True
    assert design(second).values.shape == (32 * (2 * 2 + 2), 2)


def test_sobol_rows_keep_saltelli_order(tmp_path, table):
    text = "[uncertainties.portfolio_balance_sensitivity]\n[uncertainties.ten_year_note_maturity]\n"
    levers = "fed_backstop_switch = [0.0, 1.0]\n"
    spec = load(
        write(
            tmp_path, sampler_text=sampler("sobol", 16, seed=3), uncertainties=text, levers=levers
        ),
        table,
    )
    reference = salib_sobol.sample(
        unit_problem(spec), 16, calc_second_order=False, scramble=True, seed=3
    )
    lows = np.array([u.low for u in spec.uncertainties])
    widths = np.array([u.high - u.low for u in spec.uncertainties])
    result = design(spec)
    for block in range(2):
        rows = result.values[block * result.n_design : (block + 1) * result.n_design, :2]
        np.testing.assert_allclose(rows, lows + reference * widths, rtol=1e-12)
    # Saltelli's layout: in each group of d + 2 rows, row 1 + k differs from A only in column k
    a, ab0, ab1, b = result.values[:4, :2]
    assert ab0[1] == a[1] and ab0[0] == b[0]
    assert ab1[0] == a[0] and ab1[1] == b[1]


def test_unit_problem(table):
    spec = shipped("sobol_debt", table)
    problem = unit_problem(spec)
    assert problem["names"] == [u.name for u in spec.uncertainties]
    assert problem["num_vars"] == 10
    assert problem["bounds"] == [[0.0, 1.0]] * 10


# ---- levers --------------------------------------------------------------------------------


def test_levers_cross_outside_the_uncertainty_design(tmp_path, table):
    levers = "fed_backstop_switch = [0.0, 1.0]\nconsolidation_threshold = [0.2, 0.25, 0.3]\n"
    spec = load(write(tmp_path, sampler_text=sampler("monte_carlo", 5), levers=levers), table)
    assert spec.levers == {
        "fed_backstop_switch": (0.0, 1.0),
        "consolidation_threshold": (0.2, 0.25, 0.3),
    }
    result = design(spec)
    assert result.names == (
        "portfolio_balance_sensitivity",
        "ten_year_note_maturity",
        "fed_backstop_switch",
        "consolidation_threshold",
    )
    assert result.values.shape == (2 * 3 * 5, 4)
    assert result.n_design == 5
    expected = tuple(itertools.product((0.0, 1.0), (0.2, 0.25, 0.3)))
    assert result.lever_values == expected
    inner = result.values[:5, :2]
    for c, combination in enumerate(expected):
        block = result.values[c * 5 : (c + 1) * 5]
        assert np.array_equal(block[:, :2], inner)
        assert np.all(block[:, 2:] == np.array(combination))
    assert_within_ranges(spec, result, table)


def test_lever_order_follows_the_file(tmp_path, table):
    levers = "consolidation_threshold = [0.3, 0.2]\nfed_backstop_switch = [1.0]\n"
    spec = load(write(tmp_path, levers=levers), table)
    assert list(spec.levers) == ["consolidation_threshold", "fed_backstop_switch"]
    assert design(spec).lever_values == ((0.3, 1.0), (0.2, 1.0))


# ---- the design's record in a result ------------------------------------------------------------

LEVERS = "fed_backstop_switch = [0.0, 1.0]\nconsolidation_threshold = [0.3, 0.2]\n"
#: Each sampler with settings other than its defaults, so that the record must carry them.
RECORDED_SAMPLERS = {
    "grid": sampler("grid", 3),
    "monte_carlo": sampler("monte_carlo", 5),
    "lhs": sampler("lhs", 6, seed=11),
    "sobol": sampler("sobol", 16, extra="calc_second_order = true\n"),
    "morris": sampler("morris", 4, extra="levels = 6\n"),
}


def columns_of(result):
    return {name: result.values[:, j].copy() for j, name in enumerate(result.names)}


def test_every_sampler_of_the_table_is_recorded():
    assert set(RECORDED_SAMPLERS) == set(FROM_THE_TABLE)


@pytest.mark.parametrize("method", sorted(RECORDED_SAMPLERS))
def test_a_design_reads_back_from_its_record_as_written(tmp_path, table, method):
    path = write(tmp_path, sampler_text=RECORDED_SAMPLERS[method], levers=LEVERS)
    result = design(load(path, table))
    attrs = result.to_attrs()
    assert attrs["spec"] == path.read_text(encoding="utf-8")
    back = Design.from_attrs(attrs, columns_of(result))
    assert back.spec == result.spec
    assert (back.names, back.n_design) == (result.names, result.n_design)
    assert back.lever_values == result.lever_values
    assert np.array_equal(back.values, result.values)
    assert not back.values.flags.writeable
    for index in range(len(result.lever_values)):
        assert back.describe(index) == result.describe(index)


def test_a_lever_block_holds_its_combination_and_says_which(tmp_path, table):
    path = write(tmp_path, sampler_text=sampler("monte_carlo", 5), levers=LEVERS)
    result = design(load(path, table))
    assert [result.block(index) for index in (0, 3)] == [slice(0, 5), slice(15, 20)]
    assert np.all(result.values[result.block(1), 2:] == (0.0, 0.2))
    assert result.describe(1) == "fed_backstop_switch = 0, consolidation_threshold = 0.2"
    alone = design(load(write(tmp_path), table))
    assert (alone.lever_values, alone.describe(0)) == (((),), "")


def _rewrite(attrs, **changes):
    record = json.loads(attrs["design"])
    sampler_changes = changes.pop("sampler", {})
    record.update(changes)
    record["sampler"].update(sampler_changes)
    attrs["design"] = json.dumps(record)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda a, c: a.pop("design"), "sweep lacks the attributes: design"),
        (lambda a, c: a.clear(), "sweep lacks the attributes: spec, design"),
        (lambda a, c: a.update(design="{"), "sweep attribute 'design' is malformed ("),
        (lambda a, c: _rewrite(a, version=2), "sweep attribute 'design' is malformed (version 2"),
        (lambda a, c: _rewrite(a, n_design=None), "sweep attribute 'design' is malformed ("),
        (
            lambda a, c: _rewrite(a, sampler={"method": "halton"}),
            "unknown sampler 'halton'; valid: " + ", ".join(SAMPLERS),
        ),
        (
            lambda a, c: c.pop("fed_backstop_switch"),
            "sweep lacks the sample coordinates: fed_backstop_switch",
        ),
        (
            lambda a, c: c.update({k: v[:-1] for k, v in c.items()}),
            "sweep has 19 samples, not n_design (5) times 4 lever combinations",
        ),
        (
            lambda a, c: _rewrite(a, n_design=0),
            "sweep has 20 samples, not n_design (0) times 4 lever combinations",
        ),
    ],
)
def test_a_damaged_design_record_is_refused_by_name(tmp_path, table, damage, message):
    path = write(tmp_path, sampler_text=sampler("monte_carlo", 5), levers=LEVERS)
    result = design(load(path, table))
    attrs, columns = result.to_attrs(), columns_of(result)
    damage(attrs, columns)
    with pytest.raises(InputError) as caught:
        Design.from_attrs(attrs, columns)
    assert str(caught.value).startswith(message)


# ---- distributions ----------------------------------------------------------------------------


def one_uncertainty(tmp_path, table, body, samples=200_000, method="monte_carlo"):
    text = "[uncertainties.portfolio_balance_sensitivity]\n" + body
    spec = load(write(tmp_path, sampler_text=sampler(method, samples), uncertainties=text), table)
    return spec.uncertainties[0], design(spec).values[:, 0]


def test_uniform_mean_is_the_midpoint(tmp_path, table):
    u, x = one_uncertainty(tmp_path, table, 'distribution = "uniform"\n')
    assert u.distribution == "uniform"
    assert np.mean(x) == pytest.approx((u.low + u.high) / 2, rel=2e-3)
    assert np.std(x) == pytest.approx((u.high - u.low) / math.sqrt(12), rel=1e-2)


def test_distribution_defaults_to_uniform_over_the_table_range(tmp_path, table):
    u, _ = one_uncertainty(tmp_path, table, "", samples=4)
    param = table["portfolio_balance_sensitivity"]
    assert u == Uncertainty(param.name, param.low, param.high, "uniform", param.value)


def test_normal_is_centred_and_truncated(tmp_path, table):
    u, x = one_uncertainty(tmp_path, table, 'distribution = "normal"\n')
    middle = (u.low + u.high) / 2
    assert np.median(x) == pytest.approx(middle, rel=2e-3)
    assert x.min() >= u.low and x.max() <= u.high
    # truncated at two standard deviations: about 68% / 95.4% of the mass within one sd
    sd = (u.high - u.low) / 4
    assert np.mean(np.abs(x - middle) < sd) == pytest.approx(0.6827 / 0.9545, abs=0.01)


def test_triangular_peaks_at_the_default(tmp_path, table):
    u, x = one_uncertainty(tmp_path, table, 'distribution = "triangular"\n')
    assert u.mode == table["portfolio_balance_sensitivity"].value
    assert np.mean(x) == pytest.approx((u.low + u.mode + u.high) / 3, rel=2e-3)
    counts, edges = np.histogram(x, bins=20, range=(u.low, u.high))
    peak = int(np.argmax(counts))
    assert edges[peak] - 1e-12 <= u.mode <= edges[peak + 1] + 1e-12
    assert x.min() >= u.low and x.max() <= u.high


def test_triangular_mode_is_clipped_into_the_range(tmp_path, table):
    u, x = one_uncertainty(tmp_path, table, 'distribution = "triangular"\nrange = [0.5, 0.6]\n')
    assert table["portfolio_balance_sensitivity"].value < 0.5
    assert u.mode == 0.5
    assert np.mean(x) == pytest.approx((0.5 + 0.5 + 0.6) / 3, rel=2e-3)


def test_lognormal_median_is_the_geometric_midpoint(tmp_path, table):
    u, x = one_uncertainty(tmp_path, table, 'distribution = "lognormal"\n')
    assert np.median(x) == pytest.approx(math.sqrt(u.low * u.high), rel=2e-3)
    assert x.min() >= u.low and x.max() <= u.high
    assert np.mean(x) > np.median(x)  # skewed right


@pytest.mark.parametrize("distribution", TABLE_DISTRIBUTIONS)
def test_a_larger_unit_draw_gives_a_larger_value(tmp_path, table, distribution):
    # A grid's cells run from the unit interval's low end to its high end; each distribution keeps
    # that order (the indices read a factor's ranks) and centres its middle cell.
    u, x = one_uncertainty(
        tmp_path, table, f'distribution = "{distribution}"\n', samples=5, method="grid"
    )
    assert np.all(np.diff(x) > 0), x
    middle = {"normal": (u.low + u.high) / 2, "lognormal": math.sqrt(u.low * u.high)}
    if distribution in middle:  # symmetric about the centre, in linear or in log space
        assert x[2] == pytest.approx(middle[distribution], rel=1e-12)


@pytest.mark.parametrize("distribution", TABLE_DISTRIBUTIONS)
def test_every_distribution_stays_in_range_at_the_unit_corners(tmp_path, table, distribution):
    # Morris samples the corners 0 and 1 of the unit cube exactly.
    u, x = one_uncertainty(
        tmp_path, table, f'distribution = "{distribution}"\n', samples=20, method="morris"
    )
    assert np.all(np.isfinite(x))
    assert x.min() >= u.low and x.max() <= u.high
    assert x.min() == pytest.approx(u.low, rel=1e-6)
    assert x.max() == pytest.approx(u.high, rel=1e-6)


def test_custom_range_and_final_time(tmp_path, table):
    top = TOP + "final_time = 2100.0\n"
    text = '[uncertainties.bill_share_of_debt]\nrange = [0.1, 0.4]\ndistribution = "normal"\n'
    spec = load(write(tmp_path, top=top, uncertainties=text), table)
    assert spec.final_time == 2100.0
    assert (spec.uncertainties[0].low, spec.uncertainties[0].high) == (0.1, 0.4)


# ---- bad input ------------------------------------------------------------------------------


def bad(tmp_path, table, match, **parts):
    path = write(tmp_path, **parts)
    with pytest.raises(InputError, match=match) as caught:
        load(path, table)
    assert str(caught.value).startswith("bad.toml: ")
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_bad_toml(tmp_path, table):
    bad(tmp_path, table, "not valid TOML", top='scenarios = ["article"\n')


def test_missing_file(tmp_path, table):
    with pytest.raises(InputError, match="^nowhere.toml: cannot read the file"):
        load(tmp_path / "nowhere.toml", table)


def test_unknown_top_level_key(tmp_path, table):
    message = bad(
        tmp_path,
        table,
        "unknown top-level key or section 'scenario'; did you mean: scenarios",
        top=TOP + 'scenario = ["article"]\n',
    )
    assert "valid: scenarios, outcomes, final_time" in message


def test_unknown_section(tmp_path, table):
    bad(
        tmp_path,
        table,
        "unknown top-level key or section 'lever'; did you mean: levers",
        uncertainties=UNCERTAINTIES + "[lever]\nfed_backstop_switch = [1.0]\n",
    )


@pytest.mark.parametrize(
    ("missing", "parts"),
    [
        ("scenarios", {"top": 'outcomes = ["debt_to_gdp"]\n'}),
        ("outcomes", {"top": 'scenarios = ["article"]\n'}),
        ("sampler", {"sampler_text": ""}),
        ("uncertainties", {"uncertainties": ""}),
    ],
)
def test_missing_section(tmp_path, table, missing, parts):
    bad(tmp_path, table, f"missing '{missing}'", **parts)


def test_empty_uncertainties(tmp_path, table):
    bad(tmp_path, table, "at least one", uncertainties="[uncertainties]\n")


def test_empty_scenarios(tmp_path, table):
    bad(
        tmp_path,
        table,
        "scenarios is empty; give at least one",
        top='scenarios = []\noutcomes = ["debt_to_gdp"]\n',
    )


def test_scenarios_not_a_list(tmp_path, table):
    top = 'scenarios = "article"\noutcomes = ["debt_to_gdp"]\n'
    bad(tmp_path, table, "scenarios must be a list of names, got 'article'", top=top)


def test_scenario_listed_twice(tmp_path, table):
    top = 'scenarios = ["article", "article"]\noutcomes = ["debt_to_gdp"]\n'
    bad(tmp_path, table, "scenarios: the value 'article' is listed twice", top=top)


def test_unknown_scenario(tmp_path, table):
    top = 'scenarios = ["japan_ful"]\noutcomes = ["debt_to_gdp"]\n'
    bad(tmp_path, table, "unknown scenario 'japan_ful'; did you mean: japan_full", top=top)


def test_unknown_outcome(tmp_path, table):
    top = 'scenarios = ["article"]\noutcomes = ["debt_to_gpd"]\n'
    bad(tmp_path, table, "unknown outcome 'debt_to_gpd'; did you mean: debt_to_gdp", top=top)


def test_an_outcome_that_is_a_constant_is_named_as_one_even_after_another_outcome(tmp_path, table):
    """The model's constants, given as an iterator, are read once for every outcome."""
    path = write(tmp_path, top='scenarios = ["article"]\noutcomes = ["debt_to_gdp", "time_step"]\n')
    constants = iter(["time_step", "final_time"])
    with pytest.raises(
        InputError, match=r"^bad\.toml: outcome 'time_step' is a constant"
    ) as caught:
        load_spec(path, table, list_scenarios(), OUTCOMES, constants)
    assert caught.value.exit_code == 2


def test_unknown_uncertainty_parameter(tmp_path, table):
    bad(
        tmp_path,
        table,
        "unknown parameter 'portfolio_balance_sensitvity'; did you mean: "
        "portfolio_balance_sensitivity",
        uncertainties="[uncertainties.portfolio_balance_sensitvity]\n",
    )


def test_unknown_lever_parameter(tmp_path, table):
    bad(
        tmp_path,
        table,
        "unknown parameter 'fed_backstop_swich'; did you mean: fed_backstop_switch",
        levers="fed_backstop_swich = [0.0, 1.0]\n",
    )


def test_parameter_both_uncertainty_and_lever(tmp_path, table):
    bad(
        tmp_path,
        table,
        "ten_year_note_maturity is given both as an uncertainty and as a lever",
        levers="ten_year_note_maturity = [9.0, 11.0]\n",
    )


def test_control_parameter_as_uncertainty(tmp_path, table):
    bad(
        tmp_path,
        table,
        "time_step is a parameter of kind 'control' and cannot be swept",
        uncertainties="[uncertainties.time_step]\n",
    )


def test_definition_parameter_as_lever(tmp_path, table):
    bad(
        tmp_path,
        table,
        "one_year is a parameter of kind 'definition' and cannot be swept",
        levers="one_year = [1.0]\n",
    )


@pytest.mark.parametrize("bounds", ["[0.05, 0.05]", "[0.08, 0.03]"])
def test_low_not_below_high(tmp_path, table, bounds):
    bad(
        tmp_path,
        table,
        r"portfolio_balance_sensitivity\.range: \[.*\] is empty; it needs low < high",
        uncertainties=f"[uncertainties.portfolio_balance_sensitivity]\nrange = {bounds}\n",
    )


def test_range_not_two_numbers(tmp_path, table):
    bad(
        tmp_path,
        table,
        "range must be two finite numbers",
        uncertainties="[uncertainties.portfolio_balance_sensitivity]\nrange = [0.03]\n",
    )


@pytest.mark.parametrize("bounds", ["[0.1, 1.5]", "[-0.1, 0.3]"])
def test_range_outside_valid_bounds(tmp_path, table, bounds):
    bad(
        tmp_path,
        table,
        r"bill_share_of_debt = \S+ dmnl is outside its valid range \[0, 1\]; nearest valid value",
        uncertainties=f"[uncertainties.bill_share_of_debt]\nrange = {bounds}\n",
    )


def test_unknown_distribution(tmp_path, table):
    message = bad(
        tmp_path,
        table,
        "unknown distribution 'unifrom'; did you mean: uniform",
        uncertainties='[uncertainties.bill_share_of_debt]\ndistribution = "unifrom"\n',
    )
    assert "valid: uniform, normal, triangular, lognormal" in message


def test_unknown_uncertainty_key(tmp_path, table):
    bad(
        tmp_path,
        table,
        r"unknown key in \[uncertainties.bill_share_of_debt\] 'ranges'; did you mean: range",
        uncertainties="[uncertainties.bill_share_of_debt]\nranges = [0.2, 0.3]\n",
    )


def test_lognormal_needs_a_positive_range(tmp_path, table):
    text = '[uncertainties.risk_premium_interest_sensitivity]\ndistribution = "lognormal"\n'
    bad(
        tmp_path,
        table,
        "risk_premium_interest_sensitivity: a lognormal .* needs low > 0",
        uncertainties=text,
    )


def test_unknown_sampler(tmp_path, table):
    message = bad(
        tmp_path,
        table,
        "unknown sampler method 'montecarlo'; did you mean: monte_carlo",
        sampler_text=sampler("montecarlo"),
    )
    assert "valid: grid, monte_carlo, lhs, sobol, morris" in message


def test_unknown_sampler_key(tmp_path, table):
    text = '[sampler]\nmethod = "lhs"\nsample = 10\nseed = 1\n'
    bad(
        tmp_path,
        table,
        r"unknown key in \[sampler\] 'sample'; did you mean: samples",
        sampler_text=text,
    )


@pytest.mark.parametrize("key", ["method", "samples", "seed"])
def test_sampler_key_missing(tmp_path, table, key):
    lines = [line for line in sampler().splitlines() if not line.startswith(key)]
    bad(tmp_path, table, rf"\[sampler\] is missing '{key}'", sampler_text="\n".join(lines) + "\n")


def test_option_for_another_method(tmp_path, table):
    text = sampler("lhs", extra="calc_second_order = true\n")
    bad(
        tmp_path, table, "'calc_second_order' applies only to method = \"sobol\"", sampler_text=text
    )
    text = sampler("sobol", 16, extra="levels = 4\n")
    bad(tmp_path, table, "'levels' applies only to method = \"morris\"", sampler_text=text)


@pytest.mark.parametrize(
    ("samples", "nearest"), [(100, 128), (90, 64), (8, 16), (0, 16), (-4, 16), (17, 16)]
)
def test_sobol_samples_not_a_power_of_two(tmp_path, table, samples, nearest):
    bad(
        tmp_path,
        table,
        f"power of two >= 16, got {samples}; nearest valid value: {nearest}$",
        sampler_text=sampler("sobol", samples),
    )


def test_morris_too_few_trajectories(tmp_path, table):
    bad(
        tmp_path,
        table,
        "morris needs samples .trajectories. >= 2, got 1",
        sampler_text=sampler("morris", 1),
    )


@pytest.mark.parametrize("levels", ["3", "0", "1", "4.0"])
def test_morris_bad_levels(tmp_path, table, levels):
    text = sampler("morris", 4, extra=f"levels = {levels}\n")
    bad(tmp_path, table, "sampler.levels must be an even integer >= 2", sampler_text=text)


def test_grid_too_few_levels(tmp_path, table):
    bad(
        tmp_path,
        table,
        "grid needs samples .levels per uncertainty. >= 2, got 1",
        sampler_text=sampler("grid", 1),
    )


def test_grid_too_large(tmp_path, table):
    message = bad(
        tmp_path,
        table,
        "a grid of 400 levels over 2 uncertainties has 160,000 points, more than 100,000",
        sampler_text=sampler("grid", 400),
    )
    assert "use at most 316 levels" in message


@pytest.mark.parametrize(("method", "samples"), [("monte_carlo", 0), ("lhs", -5)])
def test_too_few_samples(tmp_path, table, method, samples):
    bad(
        tmp_path,
        table,
        f"{method} needs samples >= 1, got {samples}",
        sampler_text=sampler(method, samples),
    )


def test_samples_not_an_integer(tmp_path, table):
    bad(
        tmp_path,
        table,
        "sampler.samples must be an integer <= 100,000,000, got 10.5",
        sampler_text=sampler("lhs", 10.5),
    )


@pytest.mark.parametrize("seed", ["-1", "1.5", '"abc"', "true"])
def test_bad_seed(tmp_path, table, seed):
    bad(
        tmp_path,
        table,
        "sampler.seed must be an integer from 0 to 4,294,967,295",
        sampler_text=sampler("lhs", 10, seed=seed),
    )


def test_empty_lever(tmp_path, table):
    bad(
        tmp_path,
        table,
        "levers.fed_backstop_switch is empty",
        levers="fed_backstop_switch = []\n",
    )


def test_lever_value_out_of_range(tmp_path, table):
    bad(
        tmp_path,
        table,
        r"fed_backstop_switch = 2 dmnl is outside its valid range \[0, 1\]; nearest valid value: 1",
        levers="fed_backstop_switch = [0.0, 2.0]\n",
    )


@pytest.mark.parametrize("value", ['"on"', "true", "nan"])
def test_lever_value_not_a_number(tmp_path, table, value):
    bad(
        tmp_path,
        table,
        r"fed_backstop_switch(\[0\] must be|: nan is not) a finite number",
        levers=f"fed_backstop_switch = [{value}]\n",
    )


def test_lever_value_twice(tmp_path, table):
    bad(tmp_path, table, "the value 1 is listed twice", levers="fed_backstop_switch = [1.0, 1.0]\n")


def test_lever_not_a_list(tmp_path, table):
    bad(
        tmp_path,
        table,
        "fed_backstop_switch must be a list of finite numbers",
        levers="fed_backstop_switch = 1.0\n",
    )


@pytest.mark.parametrize("year", ["2025.0", "2020.0", "2025.0625"])
def test_final_time_not_after_the_start(tmp_path, table, year):
    bad(
        tmp_path,
        table,
        f"final_time = {exact(float(year))} is less than one saving interval .* after "
        r"initial_time = 2025; nearest valid value: 2025\.25",
        top=TOP + f"final_time = {year}\n",
    )


def test_final_time_beyond_valid_range(tmp_path, table):
    bad(
        tmp_path,
        table,
        r"final_time = 2300 year is outside its valid range \[2000.06, 2200\]",
        top=TOP + "final_time = 2300.0\n",
    )


def test_final_time_not_a_number(tmp_path, table):
    bad(tmp_path, table, "final_time must be a finite number", top=TOP + 'final_time = "2055"\n')


def test_posterior_sampling_needs_a_calibration_folder_that_exists(tmp_path, table):
    with pytest.raises(InputError, match='needs calibration = "DIR"'):
        load(write(tmp_path, sampler_text=sampler("posterior", 10)), table)
    body = '[uncertainties.portfolio_balance_sensitivity]\ndistribution = "posterior"\n'
    with pytest.raises(InputError, match='needs calibration = "DIR"'):
        load(write(tmp_path, sampler_text=sampler("lhs", 10), uncertainties=body), table)
    missing = sampler("posterior", 10, extra='calibration = "nowhere"\n')
    with pytest.raises(InputError, match="no calibration.nc in .*run `debtloops calibrate"):
        load(write(tmp_path, sampler_text=missing), table)
    unused = sampler("lhs", 10, extra=f'calibration = "{tmp_path}"\n')
    with pytest.raises(InputError, match="calibration is used only by"):
        load(write(tmp_path, sampler_text=unused), table)


# ---- the sampler registry ------------------------------------------------------------------------


def test_the_registry_and_the_schema_name_the_same_samplers_in_the_same_order():
    # The files are read by the schema's Method; everything after reading looks a method up in
    # the registry. A sampler added to one but not the other fails here.
    assert tuple(REGISTRY) == schema.SAMPLERS == SAMPLERS
    assert all(name == entry.name for name, entry in REGISTRY.items())


def test_a_sampler_with_indices_has_its_measure_and_chart():
    for entry in REGISTRY.values():
        if entry.indices is not None:
            assert entry.measure and entry.measure_label and entry.plot is not None, entry.name
        else:
            assert entry.plot is None and entry.over_time is None, entry.name


@pytest.mark.parametrize("method", [m for m in SAMPLERS if REGISTRY[m].unit])
def test_each_sampler_draws_as_many_rows_as_it_counts(tmp_path, table, method):
    extra = {"grid": "", "sobol": "calc_second_order = true\n", "morris": "levels = 6\n"}
    samples = {"grid": 3, "sobol": 16, "morris": 4}.get(method, 7)
    spec = load(
        write(tmp_path, sampler_text=sampler(method, samples, 5, extra.get(method, ""))), table
    )
    drawn = REGISTRY[method].draw(spec)
    assert drawn.shape == (REGISTRY[method].rows(samples, 2, method == "sobol"), 2)
    assert np.all((drawn >= 0.0) & (drawn <= 1.0))


def test_an_unknown_sampler_is_refused_with_the_nearest():
    with pytest.raises(InputError, match="sobol"):
        samplers.sampler("sobl")
