"""The files of ``debtloops run`` follow the conventions: CF attributes, dates, units in headers."""

import json
import warnings

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from debtloops import cli, load_parameters, run_scenarios
from debtloops.cf import fiscal_dates, fiscal_instants
from debtloops.model.data import DEFAULT_VINTAGE
from debtloops.model.run import PARAM_PREFIX
from debtloops.outputs import VINTAGE_COLUMN


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    assert cli.main(["run", "article", "--final-time", "2035", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def results(run_folder):
    # The file decodes without a warning, from xarray or netCDF4 either.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with xr.open_dataset(run_folder / "article" / "results.nc") as ds:
            return ds.load()


def test_global_attributes_follow_cf(results):
    assert results.attrs["Conventions"] == "CF-1.10"
    for key in ("title", "history", "source", "references", "comment"):
        assert results.attrs[key].strip(), key
    assert "article" in results.attrs["title"]
    assert "treasury_dumping.mdl" in results.attrs["source"]
    assert "30 September" in results.attrs["comment"]


def test_the_date_coordinate_decodes_to_the_end_of_the_fiscal_year(results):
    dates = pd.DatetimeIndex(results["date"].values)
    assert results["date"].dims == ("time",)
    assert dates[0] == pd.Timestamp("2025-09-30")
    years = results["fiscal_year"].values
    yearly = years == np.round(years)
    expected = [pd.Timestamp(f"{year:.0f}-09-30") for year in years[yearly]]
    assert list(dates[yearly]) == expected
    assert dates.is_monotonic_increasing
    assert results["fiscal_year"].attrs["units"] == "year"
    assert results["date"].encoding["calendar"] == "standard"


def test_time_is_a_cf_time_axis_of_the_fiscal_instants(results):
    instants = pd.DatetimeIndex(results["time"].values)
    assert results["time"].attrs["standard_name"] == "time"
    assert " since " in results["time"].encoding["units"]
    assert results["time"].encoding["calendar"] == "standard"
    # each instant lies within the calendar day of ``date``, and the fiscal year's end is midnight
    assert (instants.floor("D") == pd.DatetimeIndex(results["date"].values)).all()
    assert instants[0] == pd.Timestamp("2025-09-30")
    np.testing.assert_array_equal(instants, fiscal_instants(results["fiscal_year"].values))


def test_fiscal_dates_place_fractions_within_the_next_fiscal_year():
    dates = pd.DatetimeIndex(fiscal_dates(np.array([2025.0, 2025.5, 2026.0, 2027.25])))
    assert dates[0] == pd.Timestamp("2025-09-30")
    assert dates[2] == pd.Timestamp("2026-09-30")
    # half of FY2026's 365 days after 30 September 2025: the day in which it falls
    assert dates[1] == pd.Timestamp("2025-09-30") + pd.Timedelta(days=365 // 2)
    # a quarter of FY2028, which holds 29 February 2028 (366 days)
    assert dates[3] == pd.Timestamp("2027-09-30") + pd.Timedelta(days=366 // 4)


def test_coordinates_have_no_fill_value(run_folder):
    with netCDF4.Dataset(run_folder / "article" / "results.nc") as raw:
        for name in ("time", "fiscal_year", "date"):
            assert "_FillValue" not in raw[name].ncattrs(), name


def test_every_parameter_is_a_readable_attribute(results):
    table = load_parameters()
    exact = json.loads(results.attrs["parameters"])
    shown = {key.removeprefix(PARAM_PREFIX) for key in results.attrs if key.startswith("param_")}
    assert shown == set(table)
    for name, value in exact.items():
        shown = results.attrs[f"{PARAM_PREFIX}{name}"]
        if isinstance(value, dict):  # a driver's series: "year: value, year: value"
            pairs = [item.split(": ") for item in shown.split(", ")]
            assert [float(year) for year, _ in pairs] == [float(year) for year in value]
            assert [float(v) for _, v in pairs] == pytest.approx(list(value.values()), rel=1e-11)
        else:
            assert float(shown) == value
    assert results.attrs[f"{PARAM_PREFIX}japan_sale_amount"] == 120.0
    assert set(exact) == set(table)


def test_csv_headers_carry_the_units(run_folder, results):
    table = pd.read_csv(run_folder / "article" / "results.csv")
    assert table.columns[:2].tolist() == ["time [year]", "date"]
    for name in ("debt_to_gdp", "market_yield", "debt_held_by_public"):
        attrs = results[name].attrs
        header = f"{name} [{attrs.get('debtloops_units', attrs['units'])}]"
        assert header in table.columns, header
        assert table[header].to_numpy() == pytest.approx(results[name].values, rel=1e-12)
    assert "debt_to_gdp [1]" in table.columns and "market_yield [1/year]" in table.columns
    assert table["date"].iloc[0] == "2025-09-30"


def test_headlines_csv_is_rounded_as_printed(run_folder):
    printed = pd.read_csv(run_folder / "headlines.csv", index_col="scenario")
    assert printed.columns[-1] == VINTAGE_COLUMN  # text: the vintage of each row's baseline
    for column in printed.columns[:-1]:
        text = printed[column].astype(str)
        assert text.str.fullmatch(r"-?\d+\.\d").all(), column


def test_printed_and_written_headlines_agree(tmp_path, capsys):
    assert cli.main(["run", "japan_full", "--final-time", "2032", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "extra interest 2025-2032 [$bn]" in printed[0]  # a run shorter than the horizon
    row = next(line for line in printed if line.startswith("japan_full")).split()[1:]
    written = (tmp_path / "headlines.csv").read_text().splitlines()[1].split(",")[1:]
    assert [cell.replace(",", "") for cell in row] == written[:-1]
    assert written[-1] == DEFAULT_VINTAGE  # the vintage, not printed on the terminal


def test_stacked_runs_keep_the_conventions_but_not_one_runs_parameters():
    ds = run_scenarios(["baseline", "article"], final_time=2030)
    assert ds.attrs["Conventions"] == "CF-1.10"
    assert not [key for key in ds.attrs if key.startswith(PARAM_PREFIX)]
    assert "date" in ds.coords
