"""Sweeps: the ensemble matches single runs, results are labelled, reproducible and resumable."""

import os
import textwrap

import numpy as np
import pytest
import xarray as xr

from debtloops import cli
from debtloops.errors import InputError
from debtloops.figures.sweeps import parameter_label
from debtloops.model import engine, ensemble
from debtloops.model.run import prepare
from debtloops.sweeps import execute, store
from debtloops.sweeps.analysis import analyze

OUTCOMES = ["debt_to_gdp", "market_yield", "interest_to_revenue", "dollar_index"]


def _spec(tmp_path, body: str, name: str = "spec") -> object:
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(body))
    return path


SMALL = """\
    # small: a sweep for the tests
    # Intent: exercise the sweep machinery on a few samples.
    # Source: ranges from models/parameters.toml.
    scenarios = ["article", "japan_full"]
    outcomes = ["debt_to_gdp", "market_yield", "interest_to_revenue", "dollar_index"]
    final_time = 2035.0

    [sampler]
    method = "lhs"
    samples = 12
    seed = 11

    [uncertainties.portfolio_balance_sensitivity]
    [uncertainties.flow_effect_sensitivity]
    distribution = "triangular"
    [uncertainties.ten_year_note_maturity]

    [levers]
    fed_backstop_switch = [0.0, 1.0]
"""


@pytest.fixture(scope="module")
def small_spec(tmp_path_factory):
    return _spec(tmp_path_factory.mktemp("spec"), SMALL)


@pytest.fixture(scope="module")
def serial(small_spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "sweep"
    report = execute.run_sweep(small_spec, out, quiet=True, chunk_size=10)
    with store.open_sweep(report.path) as ds:
        return report, ds.load()


def test_the_ensemble_matches_single_runs():
    base = prepare(
        "japan_full", overrides={"primary_deficit_share_of_gdp": {2025.0: 0.02, 2055.0: 0.03}}
    )
    sampled = {
        "portfolio_balance_sensitivity": np.array([0.03, 0.05, 0.08]),
        "initial_japan_holdings": np.array([1189.3, 1200.0, 1239.3]),
        "fed_backstop_switch": np.array([0.0, 1.0, 1.0]),
        "dollar_rate_sensitivity": np.array([3.0, 4.5, 5.0]),
    }
    names = [
        "debt_held_by_public",
        "market_yield",
        "japan_holdings",
        "dollar_index",
        "fed_holdings",
    ]
    times, together = ensemble.simulate(base.values, sampled, names)
    for k in range(3):
        values = dict(base.values)
        values.update({name: float(column[k]) for name, column in sampled.items()})
        alone, _ = engine.simulate(values)
        np.testing.assert_array_equal(times, alone.index.to_numpy())
        for name in names:
            np.testing.assert_allclose(together[name][k], alone[name], rtol=1e-9, atol=1e-12)


def test_sweep_dataset_is_labelled(serial, small_spec):
    report, ds = serial
    assert report.samples == 24 and report.failed == 0
    assert report.path.name == "sweep.zarr"
    assert dict(ds.sizes) == {"scenario": 2, "sample": 24, "time": 41, "chunk": 3}
    assert ds[store.DONE].values.all()
    assert list(ds["scenario"].values) == ["article", "japan_full"]
    for name in ["portfolio_balance_sensitivity", "flow_effect_sensitivity", "fed_backstop_switch"]:
        assert ds[name].dims == ("sample",)
    assert sorted(set(ds["fed_backstop_switch"].values)) == [0.0, 1.0]
    assert ds["debt_to_gdp"].attrs["units"] == "1"
    assert ds["market_yield"].attrs["units"] == "1/year"
    assert ds["extra_interest"].attrs["units"] == "billion USD"
    assert ds["debt_to_gdp"].dims == ("scenario", "sample", "time")
    assert (ds["error"] == "").all()
    assert ds.attrs["spec"] == small_spec.read_text()
    design = store.read_design(ds)
    assert design.spec.method == "lhs" and design.spec.seed == 11
    assert design.parameters[0] == "portfolio_balance_sensitivity"
    assert design.describe(1) == "fed_backstop_switch = 1"
    assert ds["ten_year_note_maturity"].attrs["units"] == "year"
    assert (
        "Maturity at issue of the 10-year note" in ds["ten_year_note_maturity"].attrs["long_name"]
    )
    assert len(ds.attrs["git_commit"]) >= 7


def test_sweep_outcomes_equal_single_runs_of_the_same_sample(serial):
    _, ds = serial
    row = ds.isel(sample=17)
    overrides = {
        name: float(row[name])
        for name in [
            "portfolio_balance_sensitivity",
            "flow_effect_sensitivity",
            "ten_year_note_maturity",
            "fed_backstop_switch",
        ]
    }
    _assert_single_runs_agree(row, overrides, 2035.0)


def _assert_single_runs_agree(row: xr.Dataset, overrides: dict, final_time: float) -> None:
    """A sample's japan_full yield and extra interest are those of single runs with its values."""
    alone, _ = engine.simulate(prepare("japan_full", overrides, final_time=final_time).values)
    np.testing.assert_allclose(
        row["market_yield"].sel(scenario="japan_full"), alone["market_yield"], rtol=1e-9
    )
    reference, _ = engine.simulate(prepare("baseline", overrides, final_time=final_time).values)
    extra = alone["cumulative_net_interest"] - reference["cumulative_net_interest"]
    np.testing.assert_allclose(row["extra_interest"].sel(scenario="japan_full"), extra, rtol=1e-9)


def test_a_seeded_sweep_is_reproducible_bit_for_bit(serial, small_spec, tmp_path):
    # Bit for bit, on one machine: the docs promise identical stores (resume, workers).
    _, first = serial
    again = execute.run_sweep(small_spec, tmp_path / "again", quiet=True, chunk_size=10)
    with store.open_sweep(again.path) as second:
        xr.testing.assert_identical(first, second.load())


def test_an_interrupted_sweep_resumes_to_the_same_result(serial, small_spec, tmp_path, monkeypatch):
    # Bit for bit, on one machine: the docs promise identical stores (resume, workers).
    _, uninterrupted = serial
    out = tmp_path / "resumed"
    real = execute.run_chunk

    def only_the_first(task):
        if task.index:
            raise RuntimeError("stopped")
        return real(task)

    monkeypatch.setattr(execute, "run_chunk", only_the_first)
    with pytest.raises(RuntimeError, match="stopped"):
        execute.run_sweep(small_spec, out, quiet=True, chunk_size=10)
    done = store.done_chunks(out / "sweep.zarr")
    assert list(done[1:]) == [False, False]  # the chunks that failed are not marked done
    with pytest.raises(InputError, match="incomplete"):
        analyze(out)  # an incomplete store is not a result
    monkeypatch.setattr(execute, "run_chunk", real)
    report = execute.run_sweep(small_spec, out, quiet=True, chunk_size=10)
    assert report.computed == 24 - 10 * int(done.sum())  # only the missing chunks ran
    with store.open_sweep(report.path) as resumed:
        xr.testing.assert_identical(uninterrupted, resumed.load())


def test_a_failed_sample_is_recorded_and_the_others_go_on(tmp_path):
    spec = _spec(
        tmp_path,
        """\
        # failing: in two samples the Phillips curve is so steep (4 and 5 a year, the top of its
        # valid range) that inflation runs away and bills outstanding go below zero by 2044
        # Intent: test failure handling.
        # Source: test.
        scenarios = ["baseline"]
        outcomes = ["debt_to_gdp"]
        final_time = 2050.0

        [sampler]
        method = "grid"
        samples = 4
        seed = 0

        [uncertainties.phillips_curve_slope]
        range = [2.0, 5.0]
        """,
    )
    report = execute.run_sweep(spec, tmp_path / "out", quiet=True)
    with store.open_sweep(report.path) as ds:
        errors = ds["error"].values
        failed = errors != ""
        assert report.failed == failed.sum() == 2
        assert all("went negative" in e and "at time" in e for e in errors[failed])
        assert np.isnan(ds["debt_to_gdp"].values[failed]).all()
        assert np.isfinite(ds["debt_to_gdp"].values[~failed]).all()


def test_local_processes_and_a_dask_cluster_match_the_serial_run(serial, small_spec, tmp_path):
    # Bit for bit, on one machine: the docs promise identical stores (resume, workers).
    from distributed import LocalCluster

    _, expected = serial
    pooled = execute.run_sweep(small_spec, tmp_path / "pool", workers=2, quiet=True, chunk_size=10)
    with store.open_sweep(pooled.path) as ds:
        xr.testing.assert_identical(expected, ds.load())
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        report = execute.run_sweep(
            small_spec,
            tmp_path / "cluster",
            scheduler=cluster.scheduler_address,
            quiet=True,
            chunk_size=10,
        )
    with store.open_sweep(report.path) as ds:
        xr.testing.assert_identical(expected, ds.load())


def test_a_folder_holding_another_sweep_is_refused(small_spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["sweep", str(small_spec), "--out", str(out), "--quiet"]) == 0
    changed = _spec(tmp_path, SMALL.replace("seed = 11", "seed = 12"), name="changed")
    before = sorted(p.name for p in out.iterdir())
    assert cli.main(["sweep", str(changed), "--out", str(out), "--quiet"]) == 2
    assert "holds a different sweep" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("portfolio_balance_sensitivity]", "portfolio_balance_sensitivty]"), "did you mean"),
        (('method = "lhs"', 'method = "latin"'), "sampler"),
        (("seed = 11", "seed = -1"), "seed"),
        (('"dollar_index"]', '"dollar_indx"]'), "did you mean: dollar_index"),
    ],
)
def test_bad_specifications_exit_2_and_write_nothing(change, message, tmp_path, capsys):
    spec = _spec(tmp_path, SMALL.replace(*change))
    out = tmp_path / "out"
    assert cli.main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_zero_workers_are_refused(small_spec, tmp_path, capsys):
    assert cli.main(["sweep", str(small_spec), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_analyze_runs_on_the_store_that_sweep_wrote(serial):
    report, ds = serial
    folder = report.path.parent
    path = analyze(folder)
    with xr.open_dataset(path) as analysis:
        assert list(analysis["scenario"].values) == ["article", "japan_full"]
        assert analysis["spearman_rho"].dims == (
            "scenario",
            "lever_combination",
            "parameter",
            "outcome",
        )
        np.testing.assert_array_equal(analysis["lever_fed_backstop_switch"].values, [0.0, 1.0])
        # The scalar outcomes are the store's own series, reduced.
        np.testing.assert_array_equal(
            analysis["debt_to_gdp_final"].values, ds["debt_to_gdp"].values[:, :, -1]
        )
        assert np.isfinite(analysis["spearman_rho"]).all()
    for name in store.read_design(ds).names:  # every input has a readable name in the figures
        assert "_" not in parameter_label(name, ds[name].attrs), name
    for name in ("tornado.png", "scatter.png", "fan_debt_to_gdp.png", "fan_market_yield.png"):
        assert (folder / name).stat().st_size > 10_000


def test_by_default_a_sweep_uses_a_worker_per_core_but_no_more_than_its_chunks():
    cores = os.cpu_count() or 1
    assert execute.auto_workers(1) == 1
    assert execute.auto_workers(0) == 1
    assert execute.auto_workers(10**6) == cores
    assert execute.auto_workers(2) == min(2, cores)


#: The port Dask's scheduler tries first for its HTTP server unless told otherwise.
DASK_DEFAULT_PORT = 8787


@pytest.mark.filterwarnings("error")  # Dask's own warnings too
def test_a_local_cluster_starts_quietly_while_dasks_default_port_is_taken(tmp_path):
    """Another program on port 8787 (a notebook's Dask dashboard, another sweep) changes nothing.

    Dask would warn and move to another port.
    """
    import socket

    with socket.socket() as holder:
        try:
            holder.bind(("0.0.0.0", DASK_DEFAULT_PORT))
            holder.listen()
        except OSError:
            pass  # taken already by someone else: the same situation
        with execute.local_client(1, tmp_path) as client:
            assert len(client.nthreads()) == 1


def test_set_and_final_time_reach_every_run_and_a_resume_must_give_them_again(
    small_spec, tmp_path, capsys
):
    out = tmp_path / "out"
    settings = ["--set", "maximum_flow_effect=0.005", "--final-time", "2030"]
    argv = ["sweep", str(small_spec), "--out", str(out), "--quiet"]
    assert cli.main([*argv, *settings]) == 0, capsys.readouterr().err
    with store.open_sweep(out / "sweep.zarr") as ds:
        row = ds.isel(sample=5).load()
        assert "# --set maximum_flow_effect=0.005" in ds.attrs["spec"]
    assert float(row["time"].max()) == pytest.approx(2030.0)
    names = ["portfolio_balance_sensitivity", "flow_effect_sensitivity", "ten_year_note_maturity"]
    overrides = {name: float(row[name]) for name in [*names, "fed_backstop_switch"]}
    overrides["maximum_flow_effect"] = 0.005
    _assert_single_runs_agree(row, overrides, 2030.0)
    # the settings are part of the folder's claim: without them the folder holds another sweep
    before = sorted(p.name for p in out.iterdir())
    assert cli.main(argv) == 2
    assert "holds a different sweep" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before
    assert cli.main([*argv, *settings]) == 0  # the same settings: finished, nothing to run


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "portfolio_balance_sensitivity=0.5"], "spec.toml varies"),
        (["--set", "fed_backstop_switch=1"], "spec.toml varies"),
        (["--set", "maximum_flow_efect=0.005"], "did you mean: maximum_flow_effect"),
        (["--final-time", "1990"], "nearest valid value"),
    ],
)
def test_a_set_of_what_the_sweep_varies_or_a_bad_setting_exits_2(
    small_spec, extra, message, tmp_path, capsys
):
    out = tmp_path / "out"
    assert cli.main(["sweep", str(small_spec), "--out", str(out), "--quiet", *extra]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not out.exists()
