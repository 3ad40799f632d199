"""Reliability and security: containment, one writer per folder, no tracebacks for a
user's mistake, validation, sweeps that resume usefully, permissions.

Each numbered failure of the issue has a test here that failed before the fix; the section
headers give the number."""

import concurrent.futures
import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import xarray as xr

from debtloops import cli, io, outputs
from debtloops.errors import InputError
from debtloops.io import LOCK_NAME, OWN_NAMES, SCRATCH_PREFIX
from debtloops.model.parameters import load_parameters, validate
from debtloops.model.run import prepare, run_scenario
from debtloops.model.scenarios import MAX_TEXT_KEPT, load_scenario
from debtloops.sweeps import execute, store
from debtloops.sweeps.plan import default_chunk_size

SMALL_SPEC = """\
    # small: a sweep for the tests
    # Intent: exercise the sweep machinery on a few samples.
    # Source: ranges from models/parameters.toml.
    scenarios = ["article"]
    outcomes = ["debt_to_gdp", "market_yield"]
    final_time = 2030.0

    [sampler]
    method = "lhs"
    samples = 40
    seed = 5

    [uncertainties.portfolio_balance_sensitivity]
    [uncertainties.flow_effect_sensitivity]
"""
CLI = [sys.executable, "-c", "import sys; from debtloops.cli import main; sys.exit(main())"]


def _tree(folder: Path) -> list[str]:
    """Every path under ``folder`` but the lock file and the manifest, relative, sorted."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name not in OWN_NAMES)


def _main(capsys, *args: str) -> tuple[int, str]:
    status = cli.main(list(args))
    return status, capsys.readouterr().err


def _assert_refused(status: int, err: str, *fragments: str) -> None:
    assert status == 2, err
    assert err.startswith("debtloops: error: ") or "error: argument" in err, err
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def _spec(folder: Path, text: str = SMALL_SPEC, name: str = "small") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


# ---- 1. nothing read, written or deleted outside --out --------------------------------------


def test_a_scenario_path_without_toml_is_refused_and_the_folder_of_that_name_survives(
    tmp_path, capsys
):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    (tmp_path / "victim.toml").write_text('base = "baseline"\n')
    status, err = _main(capsys, "run", str(victim), "--out", str(tmp_path / "out"))
    _assert_refused(status, err, "neither a shipped scenario name nor a path to a .toml file")
    assert (victim / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim", "victim.toml"]


def test_a_relative_scenario_name_cannot_reach_outside(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, err = _main(capsys, "run", "../../../../tmp/x", "--out", "out")
    _assert_refused(status, err, "neither a shipped scenario name")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("stem", ["has space", "dot.dot", "-dash", "x" * 65, "é"])
def test_a_scenario_file_whose_name_is_not_a_safe_folder_name_is_refused(tmp_path, capsys, stem):
    path = tmp_path / f"{stem}.toml"
    path.write_text('base = "baseline"\n')
    status, err = _main(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    _assert_refused(status, err, "must be 1 to 64 letters, digits, '_' or '-'")
    assert not (tmp_path / "out").exists()


def test_an_explicit_toml_path_runs_into_its_stem_and_nowhere_else(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "my_sale.toml").write_text('base = "article"\n[set]\njapan_sale_amount = 60.0\n')
    out = tmp_path / "out"
    status = cli.main(
        ["run", str(mine / "my_sale.toml"), "--final-time", "2027", "--out", str(out)]
    )
    assert status == 0, capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out"]
    assert sorted(p.name for p in mine.iterdir()) == ["my_sale.toml"]
    assert _tree(out) == [
        "headlines.csv",
        "my_sale",
        "my_sale/dashboard.png",
        "my_sale/results.csv",
        "my_sale/results.nc",
    ]


def test_an_output_folder_named_tilde_is_not_the_home_folder(tmp_path, capsys, monkeypatch):
    # netCDF4 and pandas expand a leading ~ in the paths they are given (found by hypothesis).
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    status = cli.main(["run", "baseline", "--final-time", "2026", "--out", "~"])
    assert status == 0, capsys.readouterr().err
    assert list(home.iterdir()) == []
    assert (tmp_path / "~" / "baseline" / "results.nc").is_file()


def test_an_output_folder_the_netcdf_library_cannot_write_is_refused(tmp_path, capsys):
    # netCDF-C refuses a path with a backslash (found by hypothesis).
    out = tmp_path / "back\\slash"
    status, err = _main(capsys, "run", "baseline", "--final-time", "2026", "--out", str(out))
    _assert_refused(status, err, "cannot write under a path that holds a backslash")
    assert not out.exists()


@pytest.mark.parametrize(
    "base", ['"/etc/hostname"', '"../x"', '"sub/x"', '"x.toml"', "5", '["a"]', '""']
)
def test_base_names_a_shipped_scenario_or_a_file_beside_and_nothing_else(tmp_path, capsys, base):
    (tmp_path / "x.toml").write_text('base = "baseline"\n')
    path = tmp_path / "a" / "mine.toml"
    path.parent.mkdir()
    path.write_text(f"base = {base}\n")
    status, err = _main(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    _assert_refused(
        status, err, "base must be the name of a shipped scenario or a file beside this one"
    )
    assert not (tmp_path / "out").exists()


def test_base_prefers_a_file_beside_then_a_shipped_scenario(tmp_path):
    (tmp_path / "sibling.toml").write_text('base = "article"\n[set]\njapan_sale_amount = 7.0\n')
    (tmp_path / "mine.toml").write_text('base = "sibling"\n[set]\nterm_premium_level = 0.01\n')
    scenario = load_scenario(str(tmp_path / "mine.toml"))
    assert scenario.chain == ("baseline", "article", "sibling", "mine")
    assert scenario.overrides["japan_sale_amount"] == 7.0
    assert scenario.name == "mine" and scenario.path == tmp_path / "mine.toml"
    (tmp_path / "article.toml").write_text('base = "article"\n[set]\njapan_sale_amount = 9.0\n')
    tweaked = load_scenario(str(tmp_path / "article.toml"))  # its own name: the shipped one
    assert tweaked.chain == ("baseline", "article", "article")
    assert tweaked.overrides["japan_sale_amount"] == 9.0


def test_two_scenarios_that_would_share_an_output_folder_are_refused(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.toml").write_text('base = "article"\n')
    out = tmp_path / "out"
    status, err = _main(
        capsys, "run", str(tmp_path / "a/x.toml"), str(tmp_path / "b/x.toml"), "--out", str(out)
    )
    _assert_refused(status, err, "would both write to", "rename one of the files")
    (tmp_path / "article.toml").write_text('base = "article"\n')
    status, err = _main(capsys, "run", "article", str(tmp_path / "article.toml"), "--out", str(out))
    _assert_refused(status, err, "would both write to")
    assert not out.exists()


def test_a_file_named_like_the_reference_is_refused(tmp_path, capsys):
    (tmp_path / "baseline.toml").write_text("[set]\nterm_premium_level = 0.01\n")
    status, err = _main(
        capsys, "run", str(tmp_path / "baseline.toml"), "--out", str(tmp_path / "o")
    )
    _assert_refused(status, err, "like the shipped reference scenario")


# ---- 2. one writer per output folder -----------------------------------------------------------


@contextlib.contextmanager
def _held(out: Path):
    """Hold ``out``'s lock in another process for as long as the block runs."""
    hold = (
        "import time; from filelock import FileLock; "
        f"lock = FileLock({str(out / LOCK_NAME)!r}); lock.acquire(); "
        "print('held', flush=True); time.sleep(60)"
    )
    with subprocess.Popen(
        [sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout.readline().strip() == "held"
            yield
        finally:
            holder.kill()


def test_a_second_writer_waits_then_exits_2_naming_the_folder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(io, "LOCK_TIMEOUT", 0.5)
    with _held(out):
        started = time.perf_counter()
        status, err = _main(capsys, "run", "article", "--final-time", "2027", "--out", str(out))
        waited = time.perf_counter() - started
    _assert_refused(status, err, f"output folder {out} is in use", "waited 0.5 s")
    assert waited < 10
    assert _tree(out) == []


@pytest.mark.parametrize("command", ["sweep", "analyze", "diagram"])
def test_sweep_analyze_and_diagram_take_the_lock_too(tmp_path, capsys, monkeypatch, command):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.zarr").mkdir()  # a sweep being written
    spec = _spec(tmp_path)
    args = {
        "sweep": ["sweep", str(spec), "--out", str(tmp_path / "sweep_out"), "--quiet"],
        "analyze": ["analyze", str(out)],
        "diagram": ["diagram", "--out", str(out)],
    }[command]
    folder = tmp_path / "sweep_out" if command == "sweep" else out
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(io, "LOCK_TIMEOUT", 0.2)
    with _held(folder):
        status, err = _main(capsys, *args)
    _assert_refused(status, err, f"output folder {folder} is in use")


@pytest.mark.slow
def test_two_runs_into_one_folder_leave_one_run_s_results_not_a_mix(tmp_path):
    out = tmp_path / "out"
    shocks = ("0.002", "0.008")  # two term premium shocks: peak yields 0.4pp apart
    commands = [
        CLI
        + ["run", "article", "--final-time", "2030"]
        + ["--set", f"term_premium_shock={s}", "--out", str(out)]
        for s in shocks
    ]
    runs = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands
    ]
    errors = [run.communicate(timeout=120)[1].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    with xr.open_dataset(out / "article" / "results.nc") as ds:
        peak = 100 * float(ds["market_yield"].max())
        shock = json.loads(ds.attrs["parameters"])["term_premium_shock"]
    headlines = (out / "headlines.csv").read_text().splitlines()
    columns = headlines[0].split(",")
    row = dict(zip(columns, headlines[1].split(","), strict=True))
    assert float(row["peak 10y yield [%]"]) == round(peak, 1)  # the same writer for both
    assert f"{shock:g}" in shocks
    assert [p.name for p in out.iterdir() if p.name.startswith(SCRATCH_PREFIX)] == []


def test_a_run_installs_its_results_and_headlines_in_one_hold_of_the_folder(tmp_path, monkeypatch):
    # Nothing is swapped in before the run takes the folder, and the folder is still held when
    # the headlines are merged: a second run into the same folder cannot put its results between
    # this run's results and its headlines (the mix the test above looks for under load).
    out = tmp_path / "out"
    results = out / "article" / "results.nc"
    at_lock, at_merge = [], []
    take, merge = outputs.output_lock, outputs.merged_headlines

    def taking(folder, *args, **kwargs):
        at_lock.append(results.exists())
        return take(folder, *args, **kwargs)

    def merging(path, rows):
        held = [
            sys.executable,
            "-c",
            f"import filelock; filelock.FileLock({str(out / LOCK_NAME)!r}).acquire(timeout=0)",
        ]
        at_merge.append((results.exists(), subprocess.run(held, capture_output=True).returncode))
        return merge(path, rows)

    monkeypatch.setattr(outputs, "output_lock", taking)
    monkeypatch.setattr(outputs, "merged_headlines", merging)
    baseline = run_scenario("baseline", final_time=2028.0)
    outputs.write_results(out, {"article": run_scenario("article", final_time=2028.0)}, baseline)
    assert at_lock == [False]
    assert at_merge == [(True, 1)]  # in place, and another process cannot take the folder


#: Folder swaps each of two processes makes at once, and how long one waits for the other to
#: start [s] (a child process imports the test module first, slowly on a loaded machine).
SWAPS, START_WAIT = 200, 120.0


def _swap_many(target: str, tag: str, ready: str) -> int:
    """Wait until both processes are ready (a file each in ``ready``), then swap the folder."""
    (Path(ready) / tag).touch()
    deadline = time.monotonic() + START_WAIT
    while len(list(Path(ready).iterdir())) < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("the other process never started")
        time.sleep(0.001)
    for swaps in range(SWAPS):
        with io.atomic_folder(Path(target)) as folder:
            (folder / "who.txt").write_text(f"{tag} {swaps}")
    return SWAPS


def test_concurrent_folder_swaps_neither_fail_nor_leave_scratch(tmp_path):
    target = tmp_path / "out" / "article"
    target.parent.mkdir()
    ready = tmp_path / "ready"
    ready.mkdir()
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(_swap_many, str(target), tag, str(ready)) for tag in "ab"]
        # both start together, however long each took to start; a race re-raises here its
        # FileNotFoundError or "Directory not empty"
        assert [job.result() for job in jobs] == [SWAPS, SWAPS]
    assert _tree(tmp_path / "out") == ["article", "article/who.txt"]


def test_a_failed_swap_puts_the_old_folder_back_and_leaves_no_scratch(tmp_path, monkeypatch):
    target = tmp_path / "article"
    with io.atomic_folder(target) as folder:  # debtloops' own folder, recorded in the manifest
        (folder / "old.txt").write_text("old")
    real = os.replace

    failed = []

    def fail_on_the_new_folder(src, dst):
        if Path(dst) == target and not failed:
            failed.append(src)
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(io.os, "replace", fail_on_the_new_folder)
    with pytest.raises(OSError, match="No space"), io.atomic_folder(target) as folder:
        (folder / "new.txt").write_text("new")
    assert _tree(tmp_path) == ["article", "article/old.txt"]


def test_scratch_left_by_a_killed_writer_is_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "out"
    (out / f"{SCRATCH_PREFIX}article-k1ll3d").mkdir(parents=True)
    (out / f"{SCRATCH_PREFIX}article-k1ll3d" / "results.nc").write_text("half")
    (out / f"{SCRATCH_PREFIX}headlines.csv-k1ll3d").write_text("half")
    (out / ".mine").write_text("a user's hidden file stays")
    assert cli.main(["run", "article", "--final-time", "2027", "--out", str(out)]) == 0
    top = sorted(p.name for p in out.iterdir() if p.name not in OWN_NAMES)
    assert top == [".mine", "article", "headlines.csv"]


@pytest.mark.slow
@pytest.mark.killed
def test_a_run_killed_while_writing_is_cleaned_up_by_the_next(tmp_path):
    out = tmp_path / "out"
    slow_write = (
        "import sys, time; from debtloops import cli, outputs; "
        "real = outputs.plot_dashboard; "
        "outputs.plot_dashboard = lambda *a: (real(*a), print('writing', flush=True), "
        "time.sleep(60)); sys.exit(cli.main(sys.argv[1:]))"
    )
    args = [sys.executable, "-c", slow_write, "run", "article", "--final-time", "2027"]
    with subprocess.Popen([*args, "--out", str(out)], stdout=subprocess.PIPE, text=True) as writer:
        try:
            while "writing" not in writer.stdout.readline():
                assert writer.poll() is None
            assert any(p.name.startswith(SCRATCH_PREFIX) for p in out.iterdir())
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        finally:
            writer.kill()
    assert cli.main(["run", "article", "--final-time", "2027", "--out", str(out)]) == 0
    assert [
        p.name for p in out.iterdir() if p.name.startswith(".") and p.name not in OWN_NAMES
    ] == []


# ---- 3. a message and exit 2, not a traceback ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("set = 3\n", "set must be a table, got 3"),
        ("series = 3\n", "series must be a table, got 3"),
        ("base = 5\n", "base must be the name of a shipped scenario"),
        ("[set]\nterm_premium_level = true\n", "set.term_premium_level must be a finite number"),
        (
            '[series]\nprimary_deficit_share_of_gdp = { "2030" = "x" }\n',
            "series.primary_deficit_share_of_gdp.2030 must be a finite number, got 'x'",
        ),
        ("[set]\nterm_premium_level = [1]\n", "set.term_premium_level must be a finite number"),
    ],
)
def test_malformed_scenario_files_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    status, err = _main(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    _assert_refused(status, err, message)
    assert not (tmp_path / "out").exists()


def test_a_scenario_file_that_is_not_utf8_exits_2(tmp_path, capsys):
    path = tmp_path / "latin.toml"
    path.write_bytes("# Intent: caf\xe9\n".encode("latin-1"))
    status, err = _main(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    _assert_refused(status, err, "is not UTF-8 text")


@pytest.mark.parametrize("name", ["x" * 300, "x" * 300 + ".toml", "d" * 300 + "/x.toml"])
def test_a_very_long_scenario_name_exits_2(tmp_path, capsys, name):
    status, err = _main(capsys, "run", name, "--out", str(tmp_path / "out"))
    _assert_refused(status, err)
    assert len(err) < 600


def test_sweep_into_an_existing_file_exits_2(tmp_path, capsys):
    spec = _spec(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status, err = _main(capsys, "sweep", str(spec), "--out", str(blocker), "--quiet")
    _assert_refused(status, err, "is a file")
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("address", ["not-an-address", "foo://x:1", "tcp://127.0.0.1:1"])
def test_a_bad_or_unreachable_scheduler_exits_2_before_writing(tmp_path, capsys, address):
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    status, err = _main(capsys, "sweep", str(spec), "--out", str(out), "--scheduler", address)
    _assert_refused(status, err, "cannot reach the Dask scheduler")
    assert not out.exists()


def test_a_refused_scheduler_leaves_no_client_behind_for_later_writes(tmp_path, capsys):
    # A half-made Dask client used to stay the process's default, and xarray's netCDF writer
    # then asked it for a lock.
    spec = _spec(tmp_path)
    args = ["sweep", str(spec), "--out", str(tmp_path / "s"), "--scheduler", "inproc://nowhere/1"]
    status, err = _main(capsys, *args)
    _assert_refused(status, err, "cannot reach the Dask scheduler")
    status = cli.main(["run", "baseline", "--final-time", "2026", "--out", str(tmp_path / "o")])
    assert status == 0, capsys.readouterr().err


def test_a_closed_pipe_exits_quietly():
    # As in `debtloops list | head -1` once head has gone: every write finds the pipe closed.
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(CLI + ["list"], stdout=write, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == cli.BROKEN_PIPE
    assert done.stderr == b""


def test_ctrl_c_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.runs, "execute", interrupt)
    status, err = _main(capsys, "run", "article", "--out", str(tmp_path / "out"))
    assert status == 130
    assert err.strip().splitlines() == [
        f"debtloops: interrupted; files in {tmp_path / 'out'}/ are each complete, old or new; "
        "nothing half-written was kept"
    ]


def test_an_internal_error_shows_a_traceback_and_asks_for_a_report(capsys, monkeypatch):
    monkeypatch.setitem(cli._COMMANDS, "list", lambda args: {}["bug"])
    status, err = _main(capsys, "list")
    assert status == 1
    assert "Traceback" in err and "KeyError" in err and "please report it" in err


# ---- 4. refused where it was accepted ------------------------------------------------------------


def test_duplicate_years_are_refused_the_same_way_from_toml_and_the_command_line(tmp_path, capsys):
    message = "primary_deficit_share_of_gdp: year 2030 is given twice in the time series"
    path = tmp_path / "dup.toml"
    path.write_text('[series]\nprimary_deficit_share_of_gdp = { "2030" = 0.02, "2030.0" = 0.03 }\n')
    status, err = _main(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    _assert_refused(status, err, message)
    for values in ("2030:0.02,2030:0.035", "2030:0.02,2030.0:0.035", "2030:0.02, 2030 :0.03"):
        arg = f"primary_deficit_share_of_gdp={values}"
        status, err = _main(capsys, "run", "article", "--set", arg, "--out", str(tmp_path / "o"))
        _assert_refused(status, err, message)
    with pytest.raises(InputError, match="year 2030 is given twice"):
        validate(load_parameters(), {"primary_deficit_share_of_gdp": {"2030": 0.02, 2030.0: 0.03}})


def test_unsorted_years_are_sorted_the_same_way_from_toml_and_the_command_line(tmp_path):
    path = tmp_path / "unsorted.toml"
    path.write_text('[series]\nprimary_deficit_share_of_gdp = { "2040" = 0.03, "2025" = 0.02 }\n')
    from_file = prepare(str(path)).values["primary_deficit_share_of_gdp"]
    from debtloops.model.scenarios import parse_assignment

    _, series = parse_assignment("primary_deficit_share_of_gdp=2040:0.03,2025:0.02")
    from_line = prepare("baseline", {"primary_deficit_share_of_gdp": series})
    assert list(from_file.items()) == [(2025.0, 0.02), (2040.0, 0.03)]
    assert list(from_line.values["primary_deficit_share_of_gdp"].items()) == list(from_file.items())


@pytest.mark.parametrize("outcome", ["one_year", "time_step", "initial_debt_held_by_public"])
def test_a_sweep_outcome_must_change_over_time(tmp_path, capsys, outcome):
    spec = _spec(tmp_path, SMALL_SPEC.replace('"market_yield"]', f'"{outcome}"]'))
    out = tmp_path / "out"
    status, err = _main(capsys, "sweep", str(spec), "--out", str(out), "--quiet")
    _assert_refused(status, err, f"outcome '{outcome}' is a constant of the model")
    assert not out.exists()


@pytest.mark.parametrize("final", ["2025.0625", "2025.03", "2025.2", "2024"])
def test_a_run_saves_two_points_and_the_suggested_final_time_is_accepted(tmp_path, capsys, final):
    out = tmp_path / "out"
    status, err = _main(capsys, "run", "article", "--final-time", final, "--out", str(out))
    _assert_refused(status, err, "nearest valid value: 2025.25")
    suggested = err.rsplit("nearest valid value: ", 1)[1].split()[0]
    assert prepare("article", final_time=float(suggested)).values["final_time"] == 2025.25


def test_suggested_values_are_printed_exactly(table):
    with pytest.raises(InputError) as caught:
        validate(table, {"final_time": 2300.0})
    assert caught.value.args[0].endswith("nearest valid value: 2200")
    with pytest.raises(InputError) as caught:
        validate(table, {"japan_sale_amount": 5000.0, "initial_japan_holdings": 1189.34567})
    assert caught.value.args[0].endswith("nearest valid value: 1189.34567")


@pytest.mark.parametrize("out", ["", " "])
def test_an_empty_output_folder_is_refused(tmp_path, capsys, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    status, err = _main(capsys, "run", "article", "--out", out)
    _assert_refused(status, err, "the path is empty")
    assert list(tmp_path.iterdir()) == []


def test_results_keep_a_large_scenario_file_by_hash_only(tmp_path, capsys):
    path = tmp_path / "big.toml"
    padding = "# " + "x" * 1000 + "\n"
    path.write_text('base = "article"\n' + padding * (MAX_TEXT_KEPT // 1000 + 1))
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--final-time", "2027", "--out", str(out)]) == 0
    with xr.open_dataset(out / "big" / "results.nc") as ds:
        text = ds.attrs["scenario_text"]
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"# ---- big.toml (sha256 {digest}) ----" in text
    assert "text not kept" in text and "x" * 1000 not in text
    assert len(text) < 10_000
    assert "japan_sale_amount = 120.0" in text  # the shipped article.toml is small and kept


# ---- 5. sweeps that resume usefully ------------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "size"),
    [
        (1, 1),
        (12, 12),
        (10_000, 10_000),
        (10_001, 10_000),
        (10**6, 10_000),
    ],
)
def test_the_default_chunk_size_is_the_largest_chunk_or_the_whole_sweep(samples, size):
    assert default_chunk_size(samples) == size
    chunks = -(-samples // size)
    assert size * (chunks - 1) < samples <= size * chunks


def test_the_command_line_takes_a_chunk_size(tmp_path, capsys):
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    # one worker, in this process: the chunks are the point here, not the processes that run them
    argv = ["sweep", str(spec), "--out", str(out), "--quiet", "--chunk-size", "7", "--workers", "1"]
    status = cli.main(argv)
    assert status == 0, capsys.readouterr().err
    assert "40 samples (40 computed now)" in capsys.readouterr().out
    assert (out / "sweep_spec.toml").read_text().startswith("# chunk_size = 7\n")
    status, err = _main(
        capsys, "sweep", str(spec), "--out", str(tmp_path / "o"), "--chunk-size", "0"
    )
    _assert_refused(status, err, "--chunk-size must be at least 1")


def test_the_rate_counts_only_samples_computed_in_this_call(capsys):
    with execute.progress_bar(total=1000, already=900, quiet=False) as progress:
        progress.start_t -= 2.0  # two seconds ago
        progress.update(50)
        progress.refresh()
    bar = capsys.readouterr().err
    assert "950/1000" in bar
    # 50 samples in a little over 2 s (the update itself takes a moment on a busy machine), so
    # at most 25 a second and well above 50 in 3 s; counting all 950 would give over 300
    rates = [float(r) for r in re.findall(r"([0-9.]+) samples/s", bar)]
    assert rates and 50 / 3 < rates[-1] <= 25.0


def test_a_quiet_sweep_shows_no_progress_bar(capsys):
    with execute.progress_bar(total=10, already=0, quiet=True) as progress:
        progress.update(10)
    assert capsys.readouterr().err == ""


def _start_sweep(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        CLI + ["sweep", str(spec), "--out", str(out), "--chunk-size", "4", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _done(out: Path) -> int:
    try:
        return int(store.done_chunks(store.store_path(out)).sum())
    except (OSError, ValueError, KeyError):  # the store is being laid out
        return 0


def _wait_for_a_chunk(process: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 120
    while not _done(out):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.killed
def test_a_sweep_killed_with_sigkill_resumes_to_the_identical_result(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "killed"
    with _start_sweep(spec, out) as process:
        try:
            _wait_for_a_chunk(process, out)
            process.send_signal(signal.SIGKILL)
            process.wait()
        finally:
            process.kill()
    kept = _done(out)
    assert 1 <= kept < 10
    resumed = execute.run_sweep(spec, out, quiet=True, chunk_size=4)
    assert resumed.computed == 40 - 4 * kept
    whole = execute.run_sweep(spec, tmp_path / "whole", quiet=True, chunk_size=4)
    with store.open_sweep(resumed.path) as a, store.open_sweep(whole.path) as b:
        # Bit for bit, on one machine: the docs promise a resume identical to a whole run.
        xr.testing.assert_identical(a.load(), b.load())
    assert sorted(p.name for p in out.iterdir() if p.name not in OWN_NAMES) == [
        "sweep.zarr",
        "sweep_spec.toml",
    ]


@pytest.mark.slow
@pytest.mark.killed
def test_a_sweep_interrupted_with_ctrl_c_exits_130_saying_what_was_kept(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "interrupted"
    with _start_sweep(spec, out) as process:
        try:
            _wait_for_a_chunk(process, out)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("debtloops: interrupted; ")
    assert "finished chunk(s) kept in" in err and "run the same command again" in err


def test_a_cluster_without_workers_fails_within_the_timeout(tmp_path, capsys, monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(execute, "WORKER_TIMEOUT", 1.0)
    monkeypatch.setattr(execute, "POLL_INTERVAL", 0.1)
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    with LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", dashboard_address=":0"
    ) as cluster:
        started = time.perf_counter()
        status, err = _main(
            capsys,
            "sweep",
            str(spec),
            "--out",
            str(out),
            "--scheduler",
            cluster.scheduler_address,
            "--quiet",
        )
        took = time.perf_counter() - started
    assert status == 4, err
    assert "no worker for 1 s" in err and "run the same command again to resume" in err
    assert took < 30
    assert (out / "sweep_spec.toml").is_file()  # the claim is kept, so the command resumes


# ---- 6. permissions and messages -------------------------------------------------------------


def test_folders_and_files_follow_the_umask_alike(tmp_path):
    old = os.umask(0o027)
    try:
        out = tmp_path / "out"
        assert cli.main(["run", "article", "--final-time", "2027", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    folder = stat.S_IMODE((out / "article").stat().st_mode)
    files = {stat.S_IMODE(p.stat().st_mode) for p in (out / "article").iterdir()}
    headlines = stat.S_IMODE((out / "headlines.csv").stat().st_mode)
    assert folder == 0o750
    assert files == {0o640} and headlines == 0o640


def test_an_override_error_names_the_scenario_asked_for(tmp_path, capsys):
    status, err = _main(
        capsys, "run", "japan_full", "--set", "japan_sale_amount=-5", "--out", str(tmp_path / "o")
    )
    _assert_refused(status, err, "scenario 'japan_full': japan_sale_amount = -5")
    assert "'baseline'" not in err


def test_provenance_names_the_scenario_file_and_its_hash(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('base = "article"\n')
    scenario = load_scenario(str(path))
    assert json.dumps(scenario.chain) == '["baseline", "article", "mine"]'
    assert "# ---- mine.toml (sha256 " in scenario.text


def test_a_sweep_s_dask_workers_keep_their_files_inside_the_output_folder(tmp_path, monkeypatch):
    elsewhere = tmp_path / "tmp"
    elsewhere.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))  # where Dask would otherwise write
    out = tmp_path / "out"
    execute.run_sweep(_spec(tmp_path), out, quiet=True, chunk_size=20)
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir() if p.name not in OWN_NAMES) == [
        "sweep.zarr",
        "sweep_spec.toml",
    ]
