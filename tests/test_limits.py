"""Limits checked before work starts.

Every number in an input file or option has a stated limit, named in the message; TOML files are
read in one place (:func:`debtloops.limits.read_toml`); messages escape control characters; the
places written are checked before any work; the scheduler must be a Dask scheduler; a write the
system refuses gives one line and exit 5, a lost scheduler exit 4. Each test drives
``debtloops.cli.main`` and checks the exit code, a one-line message and no traceback.
"""

import concurrent.futures
import errno
import http.server
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from cli_harness import mounted_tmpfs

from debtloops import cli, errors, limits
from debtloops.errors import ExecutionError, InputError, printable
from debtloops.paths import MODELS_DIR
from debtloops.sweeps import execute

CALIBRATION = MODELS_DIR / "calibrations" / "history_2000_2019.toml"
SWEEP = """\
    # small: a sweep for the tests
    scenarios = ["article"]
    outcomes = ["debt_to_gdp"]
    final_time = 2027.0

    [sampler]
    method = "lhs"
    samples = 4
    seed = 5

    [uncertainties.portfolio_balance_sensitivity]
"""
HUGE = "1" + "0" * 400  # a 401-digit integer: more than any float holds
DEEP = "[" * 3000 + "]" * 3000


def _refused(capsys, *args: str, code: int = 2) -> str:
    """Run the command line, check it exits ``code`` with one line and no traceback; the line."""
    status = cli.main([str(arg) for arg in args])
    err = capsys.readouterr().err
    assert status == code, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("debtloops: error: "), err
    return lines[0]


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _scenario(folder: Path, body: str, name: str = "mine") -> Path:
    return _write(folder, f"{name}.toml", f"# {name}: a test scenario\nbase = 'article'\n{body}\n")


def _sweep(folder: Path, old: str = "", new: str = "", prefix: str = "") -> Path:
    return _write(folder, "small.toml", prefix + textwrap.dedent(SWEEP).replace(old, new))


def _calibration(folder: Path, old: str, new: str) -> Path:
    text = CALIBRATION.read_text(encoding="utf-8")
    assert old in text
    return _write(folder, "spec.toml", text.replace(old, new, 1))


# ---- numbers in files: finite, integers that fit, nesting the schema allows -------------------


def _files_with(tmp_path: Path, value: str) -> list[tuple[str, Path]]:
    """A scenario file, a sweep specification and a calibration specification holding ``value``."""
    return [
        ("run", _scenario(tmp_path, f"[set]\njapan_sale_amount = {value}")),
        ("sweep", _sweep(tmp_path, "seed = 5", f"seed = {value}")),
        ("calibrate", _calibration(tmp_path, "seed = 20260101", f"seed = {value}")),
    ]


@pytest.mark.parametrize("kind", ["run", "sweep", "calibrate"])
@pytest.mark.parametrize(
    ("value", "limit"),
    [
        (HUGE, f"at most {limits.MAX_INTEGER:,} (2**53)"),
        ("nan", "not a finite number"),
        ("-inf", "not a finite number"),
        (DEEP, f"nested more than {limits.MAX_TOML_DEPTH} deep"),
    ],
    ids=["401 digits", "nan", "-inf", "nested 3000 deep"],
)
def test_numbers_and_nesting_in_every_input_file_are_checked(tmp_path, capsys, kind, value, limit):
    path = dict(_files_with(tmp_path, value))[kind]
    line = _refused(capsys, kind, path, "--out", tmp_path / "out")
    assert limit in line
    assert not (tmp_path / "out").exists()


def test_an_integer_too_long_for_python_to_read_is_refused(tmp_path, capsys):
    path = _scenario(tmp_path, "[set]\njapan_sale_amount = 1" + "0" * 5000)
    assert "(2**53)" in _refused(capsys, "run", path, "--out", tmp_path / "out")


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (["--set", "japan_sale_amount=1e400"], "inf is not a finite number"),
        (["--set", "japan_sale_amount=nan"], "nan is not a finite number"),
        (["--final-time", "1e400"], "not a finite number"),
        (["--set", "primary_deficit_share_of_gdp=1e300:0.02"], "outside 1900-2300"),
        (["--final-time", "1e300"], "valid range [2000.06, 2200]"),
    ],
)
def test_numbers_on_the_command_line_are_finite_and_in_range(tmp_path, capsys, args, limit):
    line = _refused(capsys, "run", "article", *args, "--out", tmp_path / "out")
    assert limit in line


@pytest.mark.parametrize("option", ["--start", "--end"])
def test_backtest_years_of_any_size_are_within_the_data(tmp_path, capsys, option):
    line = _refused(capsys, "backtest", option, HUGE, "--out", tmp_path / "out")
    assert "(FY2000-FY2025)" in line


# ---- samples, seeds, steps, draws and workers ----------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "limit"),
    [
        ("samples = 4", "samples = 1000000000000", f"<= {limits.MAX_SAMPLES:,}"),
        ("samples = 4", f"samples = {2**40}", f"<= {limits.MAX_SAMPLES:,}"),
        ("seed = 5", f"seed = {2**40}", f"0 to {limits.SEED_MAX:,}"),
    ],
)
def test_sweep_samples_and_seed_have_limits(tmp_path, capsys, old, new, limit):
    line = _refused(capsys, "sweep", _sweep(tmp_path, old, new), "--out", tmp_path / "out")
    assert limit in line


def test_a_sweep_design_larger_than_the_memory_is_refused_before_it_is_drawn(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(limits, "physical_memory", lambda: 64)  # [bytes]: 4 samples do not fit
    line = _refused(capsys, "sweep", _sweep(tmp_path), "--out", tmp_path / "out")
    assert "GiB allowed" in line and "lower [sampler] samples" in line


@pytest.mark.parametrize(
    ("option", "value", "limit"),
    [
        ("--seed", 2**33, f"0 to {limits.SEED_MAX:,}"),
        ("--steps", 10**12, "sampler.steps"),
        ("--walkers", 10**12, f"0 to {limits.MAX_SAMPLES:,}"),
        ("--draws", 10**12, f"1 to {limits.MAX_SAMPLES:,}"),
        ("--burn", 10**12, f"0 to {limits.MAX_SAMPLES:,}"),
    ],
)
def test_calibration_options_have_limits(tmp_path, capsys, option, value, limit):
    out = tmp_path / "out"
    line = _refused(capsys, "calibrate", CALIBRATION, option, value, "--out", out)
    assert limit in line and not out.exists()


def test_mcmc_steps_beyond_the_memory_are_refused_with_what_fits(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "physical_memory", lambda: 2**24)  # 16 MiB
    line = _refused(capsys, "calibrate", CALIBRATION, "--steps", 10**6, "--out", tmp_path / "o")
    most = int(line.rsplit("nearest valid value: ", 1)[1])
    assert 0 < most < 10**6
    assert f"0 to {most:,}" in line


@pytest.mark.parametrize(
    ("option", "value", "limit"),
    [
        ("--workers", 100_000, f"1 to {execute.MAX_WORKERS}"),
        ("--workers", 0, "--workers must be at least 1"),
        ("--chunk-size", 10**12, f"1 to {limits.MAX_SAMPLES:,}"),
        ("--chunk-size", 10**7, "give a smaller --chunk-size"),  # 10^7 samples: no memory holds
    ],
)
def test_sweep_workers_and_chunk_size_have_limits(tmp_path, capsys, option, value, limit):
    out = tmp_path / "out"
    line = _refused(capsys, "sweep", _sweep(tmp_path), option, value, "--out", out)
    assert limit in line and not out.exists()


def test_workers_are_capped_at_the_chunks_before_any_starts(tmp_path, capsys, monkeypatch):
    started = []

    def no_cluster(workers, scratch):
        started.append(workers)
        raise KeyboardInterrupt  # stop here: the count asked for is what is tested

    monkeypatch.setattr(execute, "local_client", no_cluster)
    out = tmp_path / "out"
    status = cli.main(["sweep", str(_sweep(tmp_path)), "--workers", "8", "--out", str(out)])
    capsys.readouterr()
    assert status == cli.INTERRUPTED
    assert started == [1]  # 4 samples are one chunk
    assert execute.check_workers(8, 3) == 3 and execute.check_workers(2, 3) == 2


def test_workers_are_no_more_than_the_memory_holds(tmp_path, capsys, monkeypatch):
    spec = _sweep(tmp_path)
    plan = execute.plan(spec, 1)  # 4 chunks of 1 sample
    per_chunk = execute.chunk_bytes(1, len(plan.runs), len(plan.internal), len(plan.times))
    memory = int(2.5 * per_chunk / limits.MEMORY_FRACTION)  # [bytes]: two chunks fit, not three
    monkeypatch.setattr(limits, "physical_memory", lambda: memory)
    args = ["sweep", str(spec), "--chunk-size", "1", "--out", str(tmp_path / "out")]
    line = _refused(capsys, *args, "--workers", "4")
    assert "4 worker(s) each running a chunk of 1 samples" in line and "fewer --workers" in line
    started = []

    def no_cluster(workers, scratch):
        started.append(workers)
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "local_client", no_cluster)
    assert cli.main(args) == cli.INTERRUPTED
    capsys.readouterr()
    assert started and started[0] <= 2


# ---- the reader: byte-order mark, and escapes in messages -------------------------------------


def test_a_byte_order_mark_is_accepted_in_every_input_file(tmp_path, capsys):
    from debtloops.calibration.spec import load_spec as load_calibration

    bom = "\ufeff"
    scenario = _scenario(tmp_path, "[set]\njapan_sale_amount = 100.0")
    scenario.write_text(bom + scenario.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    status = cli.main(["run", str(scenario), "--final-time", "2026", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    assert (out / "mine" / "results.nc").is_file()
    data, text, _ = limits.read_toml(_sweep(tmp_path, prefix=bom), "sweep")
    assert data["sampler"]["seed"] == 5 and not text.startswith(bom)
    calibration = _calibration(tmp_path, "[period]", "[period]")
    calibration.write_text(bom + calibration.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_calibration(calibration).start == load_calibration(CALIBRATION).start


ESCAPE = "\x1b[31m"


@pytest.mark.parametrize(
    "source",
    ["scenario key", "--set name", "--set value", "sweep scenario", "sweep outcome", "usage"],
)
def test_control_characters_are_escaped_in_messages(tmp_path, capsys, source):
    out = str(tmp_path / "out")
    if source == "scenario key":
        path = _scenario(tmp_path, '[set]\n"\\u001b[31mred" = 1.0')
        args = ["run", str(path), "--out", out]
    elif source.startswith("--set"):
        item = f"{ESCAPE}x=1" if source == "--set name" else f"japan_sale_amount={ESCAPE}"
        args = ["run", "article", "--set", item, "--out", out]
    elif source.startswith("sweep"):
        key = "scenarios" if source == "sweep scenario" else "outcomes"
        old = '["article"]' if key == "scenarios" else '["debt_to_gdp"]'
        spec = _sweep(tmp_path, f"{key} = {old}", f'{key} = ["\\u001b[31mx"]')
        args = ["sweep", str(spec), "--out", out]
    else:
        args = ["backtest", "--yields", ESCAPE, "--out", out]
    status = cli.main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "\x1b" not in err and "\\x1b[31m" in err, err
    assert "Traceback" not in err


def test_printable_escapes_controls_and_keeps_other_text():
    assert printable("a\x1b[2Jb\nc\u202ed\x85") == "a\\x1b[2Jb\\nc\\u202ed\\x85"
    assert printable("débt 日本 ≥ 1") == "débt 日本 ≥ 1"


# ---- a base that is a symbolic link --------------------------------------------------------------


def test_a_base_that_is_a_symbolic_link_is_refused_and_its_text_not_kept(tmp_path, capsys):
    secret = tmp_path / "elsewhere" / "secret.toml"
    secret.parent.mkdir()
    secret.write_text("# a private note\n[set]\n", encoding="utf-8")
    (tmp_path / "linked.toml").symlink_to(secret)
    path = _write(tmp_path, "mine.toml", "base = 'linked'\n")
    out = tmp_path / "out"
    line = _refused(capsys, "run", path, "--out", out)
    assert "symbolic link" in line and "copy the file" in line
    assert not out.exists()


# ---- places written: the cache, the output folder, the export target --------------------------


def test_a_cache_variable_naming_a_file_exits_2(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file")
    env = {**os.environ, "DEBTLOOPS_CACHE": str(blocker)}
    command = [sys.executable, "-m", "debtloops", "run", "baseline", "--out", str(tmp_path / "o")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "translation cache" in done.stderr and "DEBTLOOPS_CACHE" in done.stderr
    assert blocker.read_text() == "a file" and not (tmp_path / "o").exists()


def test_a_read_only_cache_is_refused_when_a_translation_must_be_written(tmp_path, monkeypatch):
    from debtloops.model import engine

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(engine.tempfile, "mkdtemp", refuse)
    with pytest.raises(InputError, match="translation cache .*Read-only file system"):
        engine.cached_translation("x", lambda copy: copy, build_dir=tmp_path / "cache", force=True)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "article", "--out", "{place}/out"],
        ["export", "--out", "{place}/model.stmx"],
        ["backtest", "--out", "{place}"],
        ["diagram", "--out", "{place}/d"],
    ],
)
def test_a_read_only_target_is_refused_before_any_work(tmp_path, capsys, monkeypatch, args):
    place = tmp_path / "ro"
    place.mkdir()
    real_access = os.access
    monkeypatch.setattr(  # a read-only file system; root ignores permission bits, not that
        os, "access", lambda path, mode: Path(path) != place and real_access(path, mode)
    )
    line = _refused(capsys, *[arg.format(place=place) for arg in args])
    assert "is not writable" in line and "read-only" in line
    assert list(place.iterdir()) == []


def test_a_real_read_only_place_is_refused(tmp_path, capsys):
    place = tmp_path / "ro"
    with mounted_tmpfs(place, "ro,size=64k"):  # read-only even for root
        assert "is not writable" in _refused(capsys, "export", "--out", place / "m.stmx")
        assert "is not writable" in _refused(capsys, "run", "article", "--out", place / "out")


# ---- the scheduler -----------------------------------------------------------------------------


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test reads this process's standard error
        pass


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once it is closed


@pytest.mark.parametrize("which", ["http server", "closed port"])
def test_a_scheduler_that_is_not_dask_exits_2_within_15_s(tmp_path, capsys, http_server, which):
    address = http_server if which == "http server" else _closed_port()
    started = time.monotonic()
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        with execute._connect(address):
            pass
    assert time.monotonic() - started < 15  # the bound; the timeouts give 2 x 5 s
    out = tmp_path / "out"
    line = _refused(capsys, "sweep", _sweep(tmp_path), "--out", out, "--scheduler", address)
    assert f"within {execute.CONNECT_TIMEOUT:g} s" in line and not out.exists()


class _LostFuture:
    def done(self) -> bool:
        return True

    def result(self):
        from distributed.client import FutureCancelledError

        raise FutureCancelledError("sweep-chunk-0", reason="scheduler-connection-lost")


class _LostClient:
    def submit(self, *args, **kwargs):
        return _LostFuture()


def test_a_lost_scheduler_is_an_execution_error():
    assert issubclass(
        __import__("distributed").client.FutureCancelledError, concurrent.futures.CancelledError
    )
    task = type("Task", (), {"index": 0, "rows": []})()
    with pytest.raises(ExecutionError, match="lost the Dask scheduler") as caught:
        execute.run_chunks(_LostClient(), [task], progress=None)
    assert caught.value.exit_code == 4


# ---- writes the system refuses ------------------------------------------------------------------


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[-1]) if args else None)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "article", "--final-time", "2026", "--out", "{out}"],
        ["export", "--out", "{out}/model.xmile"],
        ["backtest", "--start", "2020", "--end", "2022", "--out", "{out}"],
        ["sweep", "{spec}", "--out", "{out}/sweep"],
    ],
    ids=["run", "export", "backtest", "sweep"],
)
def test_a_full_disk_exits_5_with_one_line(tmp_path, capsys, monkeypatch, args):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    spec = _sweep(tmp_path)
    monkeypatch.setattr(os, "replace", _no_space)  # every result is renamed into place
    line = _refused(
        capsys,
        *[arg.format(out=out, spec=spec) for arg in args],
        code=errors.WriteError.exit_code,
    )
    assert "No space left on device" in line
    kept = [p.name for p in out.rglob("*") if not p.name.startswith(".")]
    assert kept in (["keep.txt"], ["keep.txt", "sweep"])  # a sweep's folder may stay, empty
    assert (out / "keep.txt").read_text() == "earlier"


@pytest.mark.parametrize(
    "args",
    [
        ("run", "baseline", "--out", "{out}"),
        ("diagram", "--loop", "R1", "--out", "{out}"),
        ("export", "--out", "{out}/model.xmile"),
    ],
    ids=["run", "diagram", "export"],
)
def test_a_full_disk_is_refused_before_any_work(tmp_path, capsys, monkeypatch, args):
    asked = []

    def full(folder):
        asked.append(Path(folder))
        return True

    def no_work(*args, **kwargs):
        raise AssertionError("a command ran its work on a full disk")

    from debtloops.model import engine

    monkeypatch.setattr(errors, "disk_full", full)
    monkeypatch.setattr(engine, "load", no_work)  # every command here loads the model first
    out = tmp_path / "o"
    line = _refused(capsys, *[arg.format(out=out) for arg in args], code=5)
    assert "is full" in line and "nothing was run" in line and "--out" in line
    assert asked and all(tmp_path in (place, *place.parents) for place in asked)
    assert list(tmp_path.iterdir()) == []  # no folder made, nothing written


def test_a_full_disk_behind_a_library_error_exits_5(tmp_path, capsys, monkeypatch):
    filled = []

    def hdf_error(*args, **kwargs):
        filled.append(True)  # the disk fills while the results are written
        raise RuntimeError("NetCDF: HDF error")  # how netCDF reports a full disk

    monkeypatch.setattr(cli.runs, "write_results", hdf_error)
    monkeypatch.setattr(errors, "disk_full", lambda folder: bool(filled))
    line = _refused(
        capsys, "run", "baseline", "--final-time", "2026", "--out", tmp_path / "o", code=5
    )
    assert "is full" in line and "RuntimeError" in line


def test_a_diagram_renderer_out_of_space_is_a_refused_write(tmp_path, monkeypatch):
    from debtloops.figures.diagrams import renderer

    def renderer_out_of_space(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "Error: No space left on device\n")

    monkeypatch.setattr(renderer.subprocess, "run", renderer_out_of_space)
    dot = tmp_path / "loop.dot"
    dot.write_text("digraph { a -> b }")
    with pytest.raises(errors.WriteError, match="No space left on device") as caught:
        renderer.render_file(["dot"], dot, tmp_path / "loop.png", "png", 100)
    assert caught.value.exit_code == 5  # what `debtloops diagram` exits with


def _wait(condition, process: subprocess.Popen, what: str) -> None:
    """Wait up to 120 s for ``condition()``, failing if ``process`` ends first (a hang guard)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"ended before {what}"
        assert time.monotonic() < deadline, f"no {what} in 120 s"
        time.sleep(0.1)


def _listening(address: str) -> bool:
    host, port = address.removeprefix("tcp://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.killed
def test_a_scheduler_killed_mid_sweep_exits_4_with_one_line(tmp_path):
    from debtloops.sweeps import store

    address = _closed_port()
    host, port = address.removeprefix("tcp://").split(":")
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", host, "--port", port, "--no-dashboard"], **quiet
    )
    worker = sweep = None
    try:
        _wait(lambda: _listening(address), scheduler, "scheduler listening")
        worker = subprocess.Popen(
            [*dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet
        )
        spec = _sweep(tmp_path, "samples = 4", "samples = 400")  # 200 chunks: killed mid-way
        out = tmp_path / "out"
        command = ["sweep", str(spec), "--out", str(out), "--chunk-size", "2", "--quiet"]
        sweep = subprocess.Popen(
            [sys.executable, "-m", "debtloops", *command, "--scheduler", address],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

        def a_chunk_done() -> bool:
            try:
                return bool(store.done_chunks(store.store_path(out)).any())
            except Exception:  # noqa: BLE001 - the store is not made yet
                return False

        _wait(a_chunk_done, sweep, "finished chunk")
        scheduler.kill()
        _, err = sweep.communicate(timeout=120)
    finally:
        for process in (sweep, worker, scheduler):
            if process is not None:
                process.kill()
                process.wait()
    assert sweep.returncode == 4, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()], err
    assert "lost the Dask scheduler" in err and "run the same command again" in err
