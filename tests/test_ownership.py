"""An output folder is the user's folder: debtloops replaces only what it wrote.

Each case is a test: a user's files where a result would land make the command exit 2
before it runs, naming the path, and leave every file as it was. debtloops' own results, recorded
in the folder's manifest, are still replaced atomically; concurrent writers keep each other's rows
of ``headlines.csv``; ``--out`` may not be a root or a system folder; ``export`` writes only
regular files of its own. A property test puts random user trees in ``--out`` and checks, byte
for byte, that every user file survives random commands.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cli_harness import SMALL_SWEEP
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from debtloops import cli, io
from debtloops.paths import PROJECT_ROOT
from debtloops.validation import backtest

#: A short run, so that the tests that reach the write stay quick [year].
FINAL = "2027"
#: Scenarios written by the concurrent writers, one each.
CONCURRENT = ("article", "japan_full", "gradual", "yen_crisis")


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (relative) with its bytes, or None for a folder."""
    return {
        p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def _refused(capsys, argv: list[str], named: str) -> str:
    """Run the command line; check it exits 2 with a one-line message naming ``named``."""
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("debtloops: error: ")
    assert named in err, err
    return err


def _user_tree(root: Path, files: dict[str, str], folders: tuple[str, ...] = ()) -> None:
    for name in folders:
        (root / name).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# ---- five cases -------------------------------------------------------------------------------


def test_run_into_the_working_folder_keeps_the_users_own_article_folder(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    _user_tree(tmp_path, {"article/draft.md": "# my draft\n"}, folders=("article/figures",))
    before = _snapshot(tmp_path)
    err = _refused(capsys, ["run", "article", "--out", "."], "article is not debtloops'")
    assert "--out" in err
    assert _snapshot(tmp_path) == before  # no lock file, no manifest: nothing at all


def test_run_of_a_scenario_file_into_its_own_folder_keeps_the_project(tmp_path, capsys):
    proj = tmp_path / "proj"
    _user_tree(
        proj,
        {
            "src/main.py": "print('mine')\n",
            "src/data.csv": "a,b\n1,2\n",
            "src.toml": 'base = "baseline"\n[set]\njapan_sale_amount = 50.0\n',
        },
    )
    before = _snapshot(tmp_path)
    _refused(capsys, ["run", str(proj / "src.toml"), "--out", str(proj)], str(proj / "src"))
    assert _snapshot(tmp_path) == before


def test_report_does_not_overwrite_a_users_report(tmp_path, capsys):
    pytest.importorskip("panel")
    (tmp_path / "report.html").write_text("<p>my own report</p>")
    before = _snapshot(tmp_path)
    _refused(capsys, ["report", "article", "--out", str(tmp_path)], "report.html")
    assert _snapshot(tmp_path) == before


def test_calibrate_does_not_overwrite_a_users_figure(tmp_path, capsys):
    (tmp_path / "fit.png").write_bytes(b"\x89PNG my own figure")
    spec = PROJECT_ROOT / "models" / "calibrations" / "history_2000_2019.toml"
    argv = ["calibrate", str(spec), "--out", str(tmp_path), "--walkers", "8", "--steps", "10"]
    before = _snapshot(tmp_path)
    _refused(capsys, [*argv, "--burn", "2", "--no-projections"], "fit.png")  # before it fits
    assert _snapshot(tmp_path) == before


def test_run_into_a_users_folder_keeps_their_data_and_headlines(tmp_path, capsys):
    _user_tree(tmp_path, {"article/mydata.csv": "x\n1\n", "headlines.csv": "my,own\n"})
    before = _snapshot(tmp_path)
    _refused(capsys, ["run", "article", "--final-time", FINAL, "--out", str(tmp_path)], "article")
    _refused(capsys, ["run", "baseline", "--final-time", FINAL, "--out", str(tmp_path)], "csv")
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
def test_a_file_added_to_or_edited_in_a_result_is_the_users(tmp_path, capsys):
    argv = ["run", "article", "--final-time", FINAL, "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    assert cli.main(argv) == 0  # debtloops' own result is replaced
    (tmp_path / "article" / "notes.md").write_text("mine")
    before = _snapshot(tmp_path)
    _refused(capsys, argv, "article/notes.md")
    assert _snapshot(tmp_path) == before
    (tmp_path / "article" / "notes.md").unlink()
    with (tmp_path / "headlines.csv").open("a") as table:
        table.write("my row,1\n")
    before = _snapshot(tmp_path)
    err = _refused(capsys, argv, "headlines.csv")
    assert "changed after debtloops wrote it" in err
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
def test_an_older_results_folder_without_a_manifest_counts_as_the_users(tmp_path, capsys):
    argv = ["run", "article", "--final-time", FINAL, "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    (tmp_path / io.MANIFEST_NAME).unlink()
    err = _refused(capsys, argv, io.MANIFEST_NAME)
    assert "older debtloops" in err and "remove it yourself" in err


def test_a_users_sweep_zarr_is_never_resumed_into(tmp_path, capsys):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SWEEP)
    out = tmp_path / "out"
    _user_tree(out, {"sweep.zarr/zarr.json": "{}"})
    before = _snapshot(out)
    _refused(capsys, ["sweep", str(spec), "--out", str(out), "--workers", "1"], "sweep.zarr")
    assert _snapshot(out) == before


@pytest.mark.parametrize(
    ("command", "mine"),
    [
        (["backtest"], "backtest.png"),
        (["validate"], "cbo_baseline.png"),
        (["validate"], "backtest.png"),
    ],
)
def test_backtest_and_validate_refuse_before_they_run(tmp_path, capsys, command, mine):
    (tmp_path / mine).write_bytes(b"my own chart")
    before = _snapshot(tmp_path)
    _refused(capsys, [*command, "--out", str(tmp_path)], mine)
    assert _snapshot(tmp_path) == before


def test_diagram_does_not_overwrite_a_users_table(tmp_path, capsys):
    (tmp_path / "loops.csv").write_text("my loops\n")
    before = _snapshot(tmp_path)
    _refused(capsys, ["diagram", "--loop", "R1", "--out", str(tmp_path)], "loops.csv")
    assert _snapshot(tmp_path) == before


# ---- --out is never a root or a system folder ----------------------------------------------------


@pytest.mark.parametrize("command", [["run", "article"], ["backtest"], ["diagram"]])
def test_out_may_not_be_the_root(capsys, command):
    err = _refused(capsys, [*command, "--out", "/"], "root of the file system")
    assert "--out" in err


def test_out_may_not_be_a_system_folder_however_it_is_spelt(tmp_path, capsys):
    (tmp_path / "link").symlink_to("/usr")
    up = "/".join([".."] * len(tmp_path.parts))
    for spelt, shown in [
        ("/etc", "/etc"),
        (str(tmp_path / up / "var"), "/var"),
        (str(tmp_path / "link"), "/usr"),
        ("/dev/shm/x", "/dev/shm/x"),
        ("/proc/self", "/proc"),
    ]:
        err = _refused(capsys, ["run", "article", "--out", spelt], shown)
        assert "system" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"]


# ---- export writes only regular files of its own -----------------------------------------------


def test_export_refuses_devices_fifos_and_users_files_and_replaces_its_own(tmp_path, capsys):
    _refused(capsys, ["export", "--out", "/dev/null"], "/dev")
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "pipe")
    _refused(capsys, ["export", "--out", str(tmp_path / "fifo" / "pipe")], "not a regular file")
    (tmp_path / "mine.xmile").write_text("my own model")
    _refused(capsys, ["export", "--out", str(tmp_path / "mine.xmile")], "mine.xmile")
    _refused(capsys, ["export", "--out", str(tmp_path)], "is a folder")
    assert (tmp_path / "mine.xmile").read_text() == "my own model"
    ours = tmp_path / "ours.xmile"
    assert cli.main(["export", "--out", str(ours)]) == 0
    assert cli.main(["export", "--scenario", "article", "--out", str(ours)]) == 0
    assert b"<xmile" in ours.read_bytes()
    entry = io.read_manifest(tmp_path)["ours.xmile"]
    assert entry["sha256"] == io.file_sha256(ours) and entry["command"] == "export"


# ---- debtloops' own results: recorded, replaced atomically, merged ---------------------------


@pytest.mark.slow
def test_the_manifest_lists_each_file_with_its_hash_size_and_command(tmp_path):
    assert cli.main(["run", "article", "--final-time", FINAL, "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / io.MANIFEST_NAME).read_text())
    entries = manifest["entries"]
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert set(entries) == files - set(io.OWN_NAMES)
    for name, entry in entries.items():
        path = tmp_path / name
        assert entry == {
            "kind": "file",
            "sha256": io.file_sha256(path),
            "size": path.stat().st_size,
            "command": "run",
        }


def test_a_writer_killed_between_the_rename_and_the_record_leaves_a_folder_still_its_own(
    tmp_path, monkeypatch
):
    with io.atomic_folder(tmp_path / "result") as folder:
        (folder / "a.txt").write_text("old")
    real = io._update_manifest
    calls = []

    def die_after_the_rename(folder, entries, dropped=()):
        calls.append(entries)
        if len(calls) == 2:  # the pending record is written, the rename done; then "killed"
            raise KeyboardInterrupt
        real(folder, entries, dropped)

    monkeypatch.setattr(io, "_update_manifest", die_after_the_rename)
    with pytest.raises(KeyboardInterrupt), io.atomic_folder(tmp_path / "result") as folder:
        (folder / "a.txt").write_text("new")
        (folder / "b.txt").write_text("new")
    monkeypatch.setattr(io, "_update_manifest", real)
    assert (tmp_path / "result" / "a.txt").read_text() == "new"
    io.check_targets(tmp_path, ["result"])  # still debtloops' own: no error
    with io.atomic_folder(tmp_path / "result") as folder:
        (folder / "a.txt").write_text("newer")
    assert set(io.read_manifest(tmp_path)) == {"result/a.txt"}


def test_a_foreign_file_appearing_during_a_command_is_refused_at_write_time(tmp_path):
    io.check_targets(tmp_path, ["table.csv"])  # the up-front check passes: nothing is there
    (tmp_path / "table.csv").write_text("the user's, made meanwhile")
    with pytest.raises(io.InputError, match="table.csv"):
        io.atomic_file(tmp_path / "table.csv", lambda path: path.write_text("ours"))
    assert (tmp_path / "table.csv").read_text() == "the user's, made meanwhile"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(io.SCRATCH_PREFIX)]


def test_a_folder_owned_whole_is_the_same_folder_or_foreign(tmp_path):
    with io.atomic_folder(tmp_path / "store.zarr", keystone="meta") as folder:
        (folder / "meta").write_text("written once")
        (folder / "chunk").write_text("1")
    (tmp_path / "store.zarr" / "chunk").write_text("rewritten in place")  # as chunks are
    io.check_targets(tmp_path, ["store.zarr"])
    os.rename(tmp_path / "store.zarr", tmp_path / "elsewhere")
    (tmp_path / "store.zarr").mkdir()  # a user's folder of the same name
    with pytest.raises(io.InputError, match="store.zarr"):
        io.check_targets(tmp_path, ["store.zarr"])


def test_a_folder_owned_whole_stays_ours_when_the_output_folder_is_copied(tmp_path):
    with io.atomic_folder(tmp_path / "out" / "store.zarr", keystone="meta") as folder:
        (folder / "meta").write_text("written once")
        (folder / "chunk").write_text("1")
    shutil.copytree(tmp_path / "out", tmp_path / "copy")
    io.check_targets(tmp_path / "copy", ["store.zarr"])  # the copy's manifest still knows it
    (tmp_path / "copy" / "store.zarr" / "meta").write_text("rewritten")
    with pytest.raises(io.InputError, match="store.zarr"):
        io.check_targets(tmp_path / "copy", ["store.zarr"])


@pytest.mark.slow
@pytest.mark.killed
def test_a_run_killed_while_replacing_its_result_keeps_the_old_one(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", "article", "--final-time", FINAL, "--out", str(out)]) == 0
    before = _snapshot(out)
    slow_write = (
        "import sys, time; from debtloops import cli, outputs; "
        "real = outputs.plot_dashboard; "
        "outputs.plot_dashboard = lambda *a: (real(*a), print('writing', flush=True), "
        "time.sleep(60)); sys.exit(cli.main(sys.argv[1:]))"
    )
    argv = [sys.executable, "-c", slow_write, "run", "article", "--final-time", FINAL]
    with subprocess.Popen([*argv, "--out", str(out)], stdout=subprocess.PIPE, text=True) as writer:
        try:
            while "writing" not in writer.stdout.readline():
                assert writer.poll() is None
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        finally:
            writer.kill()
    after = {k: v for k, v in _snapshot(out).items() if not k.startswith(io.SCRATCH_PREFIX)}
    assert after == before
    assert cli.main(["run", "article", "--final-time", FINAL, "--out", str(out)]) == 0


@pytest.mark.slow
def test_four_concurrent_writers_keep_every_scenario_in_the_headlines(tmp_path):
    out = tmp_path / "out"
    # A long wait for the lock, so that a loaded machine's slower writers still take turns.
    program = (
        "import sys; from debtloops import cli, io; io.LOCK_TIMEOUT = 600.0; "
        "sys.exit(cli.main(sys.argv[1:]))"
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", program, "run", name, "--final-time", FINAL, "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in CONCURRENT
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=900)
        assert writer.returncode == 0, err
    rows = (out / "headlines.csv").read_text().splitlines()
    assert sorted(row.split(",")[0] for row in rows[1:]) == sorted(CONCURRENT)
    entries = io.read_manifest(out)
    assert {name.split("/")[0] for name in entries} == {*CONCURRENT, "headlines.csv"}
    io.check_targets(out, [*CONCURRENT, "headlines.csv"])  # all recorded as they are


@pytest.mark.slow
def test_headlines_of_earlier_runs_are_kept_and_this_runs_replaced(tmp_path):
    out = str(tmp_path)
    assert cli.main(["run", "article", "gradual", "--final-time", FINAL, "--out", out]) == 0
    first = (tmp_path / "headlines.csv").read_text().splitlines()
    smaller = ["--set", "japan_sale_amount=60"]
    assert cli.main(["run", "article", *smaller, "--final-time", FINAL, "--out", out]) == 0
    rows = (tmp_path / "headlines.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["article", "gradual"]
    assert rows[0] == first[0] and rows[2] == first[2]  # gradual's row as it was
    assert rows[1] != first[1]  # article's, anew


# ---- property: random user trees survive random commands --------------------------------------

#: Names that collide with results of the commands below, or of others.
RESULT_NAMES = (
    "article",
    "headlines.csv",
    "report.html",
    "sweep.zarr",
    "backtest.csv",
    "backtest.png",
    "model.xmile",
    "results.nc",
    "dashboard.png",
)
#: The cheap commands, their arguments before --out, and what each writes in --out.
COMMANDS = {
    "run": (["run", "article", "--final-time", FINAL], ["article", "headlines.csv"]),
    "backtest": (["backtest", "--start", "2022"], list(backtest.OUTPUT_NAMES)),
    "export": (["export"], ["model.xmile"]),
}
#: Names of the user's own, random or those of results.
OTHER_NAMES = st.from_regex(r"[a-z0-9_][a-z0-9_.-]{0,11}", fullmatch=True).filter(
    lambda name: name not in (".", "..")
)


def _entries(targets: list[str]):
    """User trees: paths (a name per level) with bytes for a file or None for a folder.

    The first level is often one of the command's own targets, so that collisions are common.
    """
    first = st.sampled_from(targets) | st.sampled_from(RESULT_NAMES) | OTHER_NAMES
    deeper = st.lists(st.sampled_from(RESULT_NAMES) | OTHER_NAMES, max_size=2)
    path = st.tuples(first, deeper).map(lambda parts: [parts[0], *parts[1]])
    return st.lists(st.tuples(path, st.none() | st.binary(max_size=64)), min_size=1, max_size=6)


def _plant(out: Path, entries) -> dict[str, bytes | None]:
    """Make the user's files (bytes) and folders (None); return what was made, by path."""
    made: dict[str, bytes | None] = {}
    for parts, content in entries:
        path = out.joinpath(*parts)
        ancestors = [p for p in reversed(path.parents) if out in p.parents]
        if any(p.exists() and not p.is_dir() for p in ancestors):
            continue
        if path.is_dir() and content is not None:
            continue
        for folder in ancestors:
            if not folder.exists():
                folder.mkdir()
                made[folder.relative_to(out).as_posix()] = None
        if content is None:
            if not path.exists():
                path.mkdir()
                made["/".join(parts)] = None
        else:
            path.write_bytes(content)
            made["/".join(parts)] = content
    return made


@pytest.mark.slow
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), command=st.sampled_from(sorted(COMMANDS)), first=st.booleans())
def test_random_user_trees_survive_random_commands_byte_for_byte(data, command, first):
    head, targets = COMMANDS[command]
    entries = data.draw(_entries(targets), label="user tree")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        out.mkdir()
        argv = [*head, "--out", str(out / "model.xmile" if command == "export" else out)]
        if first:  # debtloops' own results are there before the user's files
            assert cli.main(argv) == 0
        made = _plant(out, entries)
        status = cli.main(argv)
        hits = [
            path for path in made if any(path == t or path.startswith(f"{t}/") for t in targets)
        ]
        assert status == (2 if hits else 0), (made, hits)
        event(f"{command}: exit {status}")
        for path, content in made.items():
            if content is None:
                assert (out / path).is_dir(), path
            else:
                assert (out / path).read_bytes() == content, path
        if status == 0:
            io.check_targets(out, targets)  # every result recorded as written
