"""A sweep store that knows it is whole: every chunk's files are checked against the checksums
recorded when they were written. ``analyze`` refuses a damaged store in one line naming the chunk,
its samples and the command that mends it; that command recomputes exactly the damaged chunks.
Valid sweeps too small for a chart are analysed, with a line for each thing not drawn."""

import json
import shutil
import textwrap

import numpy as np
import pytest
import xarray as xr
import zarr

from debtloops import cli
from debtloops.sweeps import execute, store

#: Samples per chunk of the damaged sweep: 12 samples make chunks 0-4, 5-9 and 10-11.
CHUNK = 5
SAMPLES = 12
#: Seed of the random bytes that overwrite a chunk file.
NOISE_SEED = 20261205

SPEC = """\
    # integrity: a small sweep of three chunks for the store checks
    scenarios = ["article"]
    outcomes = ["debt_to_gdp", "market_yield", "interest_to_revenue"]
    final_time = 2035.0

    [sampler]
    method = "{method}"
    samples = {samples}
    seed = 11

    [uncertainties.portfolio_balance_sensitivity]
    {more}
"""


def _spec(folder, method="lhs", samples=SAMPLES, more="[uncertainties.flow_effect_sensitivity]"):
    path = folder / f"{method}_{samples}.toml"
    path.write_text(textwrap.dedent(SPEC.format(method=method, samples=samples, more=more)))
    return path


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """A sweep of three chunks, run once; each test damages its own copy."""
    folder = tmp_path_factory.mktemp("whole")
    spec = _spec(folder)
    report = execute.run_sweep(spec, folder / "sweep", quiet=True, chunk_size=CHUNK)
    assert report.computed == SAMPLES
    with store.open_sweep(report.path) as ds:
        return spec, report.path.parent, ds.load()


@pytest.fixture
def copy(whole, tmp_path):
    spec, folder, _ = whole
    target = tmp_path / "sweep"
    shutil.copytree(folder, target)
    return spec, target


def _delete_file(zarr_dir):
    (zarr_dir / "market_yield/c/0/1/1").unlink()


def _delete_array(zarr_dir):
    shutil.rmtree(zarr_dir / "debt_to_gdp")


def _random_bytes(zarr_dir):
    file = zarr_dir / "extra_interest/c/0/1/0"
    size = file.stat().st_size  # same length: only the bytes differ
    file.write_bytes(np.random.default_rng(NOISE_SEED).bytes(size))


def _truncate(zarr_dir):
    (zarr_dir / "debt_to_gdp/c/0/1/2").write_bytes(b"")


def _done_without_checksum(zarr_dir):
    store._mark(zarr_dir, 1, True, "")


def _no_checksum_record(zarr_dir):
    del zarr.open_group(zarr_dir, mode="r+").attrs[store.LAYOUT_ATTR]


@pytest.mark.parametrize(
    ("damage", "named", "why"),
    [
        (_delete_file, "chunk 1 (samples 5-9)", "market_yield/c/0/1/1 is missing"),
        (_random_bytes, "chunk 1 (samples 5-9)", "extra_interest/c/0/1/0 differs"),
        (_truncate, "chunk 1 (samples 5-9)", "debt_to_gdp/c/0/1/2 differs"),
        (_done_without_checksum, "chunk 1 (samples 5-9)", "checksum record is missing"),
        (_delete_array, "chunks 0-2 (samples 0-11)", "the array 'debt_to_gdp' is missing"),
        (_no_checksum_record, "chunks 0-2 (samples 0-11)", "no checksum record"),
    ],
)
def test_analyze_refuses_a_damaged_store_naming_the_chunk(copy, capsys, damage, named, why):
    spec, folder = copy
    damage(folder / store.STORE_NAME)
    before = sorted(p.name for p in folder.iterdir())
    assert cli.main(["analyze", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert named in err and why in err
    assert f"debtloops sweep {spec} --out {folder} --chunk-size {CHUNK}" in err
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written


def test_a_whole_store_passes_its_check(whole):
    _, folder, _ = whole
    assert store.verify(folder / store.STORE_NAME) == []


@pytest.mark.parametrize(
    ("damage", "recomputed"),
    # A damaged chunk file (any of the damages above: the same check) and a damaged layout.
    [(_random_bytes, [1]), (_delete_array, [0, 1, 2])],
)
def test_sweep_recomputes_exactly_the_damaged_chunks(
    whole, copy, tmp_path, monkeypatch, capsys, damage, recomputed
):
    _, _, undamaged = whole
    spec, folder = copy
    damage(folder / store.STORE_NAME)
    log = tmp_path / "ran.txt"  # Dask ships the task a copy of this function: it logs to a file
    real = execute.run_chunk

    def recording(task):
        with log.open("a") as file:
            file.write(f"{task.index}\n")
        return real(task)

    monkeypatch.setattr(execute, "run_chunk", recording)
    report = execute.run_sweep(spec, folder, workers=1, quiet=True, chunk_size=CHUNK)
    ran = [int(line) for line in log.read_text().split()] if log.exists() else []
    assert sorted(ran) == recomputed
    assert report.computed == sum(len(range(SAMPLES)[i * CHUNK : (i + 1) * CHUNK]) for i in ran)
    assert cli.main(["analyze", str(folder)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    # Resume promises the same result bit for bit as an undamaged run on the same machine.
    with store.open_sweep(report.path) as mended:
        xr.testing.assert_identical(undamaged, mended.load())


def test_a_damaged_store_is_reported_when_the_sweep_resumes(copy, capsys):
    spec, folder = copy
    _random_bytes(folder / store.STORE_NAME)
    code = cli.main(["sweep", str(spec), "--out", str(folder), "--chunk-size", str(CHUNK)])
    assert code == 0
    captured = capsys.readouterr()
    assert "chunk 1 (samples 5-9)" in captured.err and "recomputing" in captured.err
    assert f"{SAMPLES} samples ({CHUNK} computed now)" in captured.out


def test_each_chunk_records_the_checksum_of_its_files(whole):
    _, folder, _ = whole
    path = folder / store.STORE_NAME
    records = zarr.open_array(path / store.CHECKSUM, mode="r")
    first = json.loads(str(records[0].item()))
    # Every outcome's files of chunk 0, and the error array (no sample failed: zarr wrote none).
    assert "debt_to_gdp/c/0/0/0" in first and first["error/c/0/0"] is None
    assert all(key.split("/")[3] == "0" for key in first if not key.startswith("error"))
    assert set(json.loads(str(records[2].item()))) != set(first)  # each chunk its own files


@pytest.mark.parametrize(("method", "samples"), [("monte_carlo", 40), ("lhs", 8)])
def test_a_sweep_of_one_uncertainty_is_analysed(tmp_path, capsys, method, samples):
    spec = _spec(tmp_path, method, samples, more="")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    assert cli.main(["analyze", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot draw" not in err
    with xr.open_dataset(out / "analysis.nc") as analysis:
        rho = analysis["spearman_rho"]
        assert list(rho["parameter"].values) == ["portfolio_balance_sensitivity"]
        assert np.isfinite(rho).all()
    assert (out / "tornado.png").stat().st_size and (out / "scatter.png").stat().st_size


def test_a_sweep_too_small_to_rank_says_what_it_cannot_draw(tmp_path, capsys):
    spec = _spec(tmp_path, "monte_carlo", 2)
    out = tmp_path / "out"
    # Chunks of one sample each: a one-run ensemble must run, not fail (in this process's worker).
    argv = ["sweep", str(spec), "--out", str(out), "--quiet", "--chunk-size", "1", "--workers", "1"]
    assert cli.main(argv) == 0
    assert "0 failed" in capsys.readouterr().out
    assert cli.main(["analyze", str(out)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    with xr.open_dataset(out / "analysis.nc") as analysis:
        outcomes = list(analysis["outcome"].values)
        assert np.isnan(analysis["spearman_rho"]).all()
    assert len(lines) == len(outcomes)  # one line per outcome without bars, nothing else
    for line, outcome in zip(lines, outcomes, strict=True):
        assert f"cannot draw tornado.png bars for {outcome}" in line
        assert "needs 3 samples that ran, 2 did" in line
    for name in ("fan_debt_to_gdp.png", "tornado.png", "scatter.png"):
        assert (out / name).is_file()


def test_chunks_written_at_once_by_two_workers_keep_their_own_records(whole, tmp_path):
    spec, _, undamaged = whole
    report = execute.run_sweep(spec, tmp_path / "two", workers=2, quiet=True, chunk_size=CHUNK)
    assert store.verify(report.path) == []
    records = zarr.open_array(report.path / store.CHECKSUM, mode="r")
    assert all(records[i].item() for i in range(store.n_chunks(SAMPLES, CHUNK)))
    with store.open_sweep(report.path) as ds:
        xr.testing.assert_equal(undamaged, ds.load())
