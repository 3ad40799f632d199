"""CF-1.10 netCDF files (results.nc, analysis.nc, sweep.nc) and the sweep store's consolidated
metadata; dominance.nc and calibration.nc are checked where their commands are tested."""

import textwrap
import warnings

import numpy as np
import pytest
import xarray as xr
import zarr
from cf_checks import UDUNITS_WRITTEN, cf_problems

from debtloops import cli, run_scenarios
from debtloops.cf import FISCAL_YEAR, OWN_UNITS, udunits
from debtloops.model import engine
from debtloops.model.contract import OUTPUT_UNITS, display_units
from debtloops.model.parameters import load_parameters
from debtloops.sweeps import store

SWEEP = """\
    # cf: a sweep for the CF tests
    scenarios = ["article"]
    outcomes = ["debt_to_gdp", "market_yield"]
    final_time = 2030.0

    [sampler]
    method = "lhs"
    samples = 6
    seed = 5

    [uncertainties.portfolio_balance_sensitivity]
    [uncertainties.flow_effect_sensitivity]
"""


def test_every_unit_of_the_model_and_parameters_is_written_as_udunits():
    written = {udunits(display_units(p.units)) for p in load_parameters().values()}
    info = engine.describe(engine.load())
    written |= {udunits(display_units(u)) for name, u in info.units.items() if name != "time"}
    written |= {udunits(units) for units in OUTPUT_UNITS.values()}
    assert written <= UDUNITS_WRITTEN, written - UDUNITS_WRITTEN
    assert udunits("billion USD/year") == "1e9/year" and udunits("index") == "1"


def test_the_written_units_parse_in_udunits():
    import cf_units  # the dev extra installs it

    for units in UDUNITS_WRITTEN:
        cf_units.Unit(units)
    assert cf_units.Unit("1e9/year").convert(1.0, "1/year") == pytest.approx(1e9)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert cli.main(["run", "article", "--final-time", "2030", "--out", str(out)]) == 0
    return out / "article" / "results.nc"


def test_results_nc_is_cf(results):
    assert cf_problems(results) == []


def test_results_nc_keeps_the_values_units_and_fiscal_years_of_the_run(results):
    expected = run_scenarios(["article"], final_time=2030).sel(scenario="article")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with xr.open_dataset(results) as ds:
            written = ds.swap_dims(time=FISCAL_YEAR).load()
    np.testing.assert_array_equal(written[FISCAL_YEAR].values, expected["time"].values)
    for name, units in OUTPUT_UNITS.items():
        np.testing.assert_array_equal(written[name].values, expected[name].values)
        attrs = written[name].attrs
        assert attrs.get(OWN_UNITS, attrs["units"]) == units, name
        assert attrs["units"] == udunits(units), name
    assert "billion" in written["debt_held_by_public"].attrs["comment"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "cf.toml"
    spec.write_text(textwrap.dedent(SWEEP))
    assert cli.main(["sweep", str(spec), "--out", str(folder / "out"), "--quiet"]) == 0
    assert cli.main(["analyze", str(folder / "out"), "--netcdf"]) == 0
    return folder / "out"


def test_the_sweep_store_opens_without_a_warning_and_stays_whole(sweep):
    path = store.store_path(sweep)
    assert zarr.open_group(path, mode="r").metadata.consolidated_metadata is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with xr.open_zarr(path) as ds:  # no options: consolidated metadata, no warning
            assert "debt_to_gdp" in ds
    assert store.verify(path) == []  # the checksums hold with the consolidated copy


def test_analysis_nc_and_sweep_nc_are_cf(sweep):
    assert cf_problems(sweep / "analysis.nc") == []
    assert cf_problems(sweep / "sweep.nc") == []


def test_sweep_nc_holds_the_store(sweep):
    with store.open_sweep(store.store_path(sweep)) as kept:
        kept = kept.load()
    with xr.open_dataset(sweep / "sweep.nc") as ds:
        copied = ds.swap_dims(time=FISCAL_YEAR).load()
    assert store.DONE not in copied and store.CHECKSUM not in copied
    for name in ("debt_to_gdp", "market_yield", "portfolio_balance_sensitivity"):
        np.testing.assert_array_equal(copied[name].values, kept[name].values)
    np.testing.assert_array_equal(copied[FISCAL_YEAR].values, kept["time"].values)
    assert list(copied[store.ERROR].values.ravel()) == list(kept[store.ERROR].values.ravel())


def test_analyze_writes_sweep_nc_only_when_asked(tmp_path, sweep):
    (sweep / "sweep.nc").rename(tmp_path / "kept.nc")
    try:
        assert cli.main(["analyze", str(sweep)]) == 0
        assert not (sweep / "sweep.nc").exists()
    finally:
        (tmp_path / "kept.nc").rename(sweep / "sweep.nc")
