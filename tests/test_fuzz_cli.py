"""The command-line fuzz harness.

For every command, random command lines (mostly good values with a few bad ones), random scenario
files, sweep specifications and calibration specifications, and damaged sweep stores go through
``debtloops.cli.main`` in a scratch folder holding the user's own files. Every call must keep the
promises that ``tests/cli_harness.py`` checks: exit 0, 1 (``validate``), 2 with a one-line
message, 3 or 4 as documented; never a traceback, a hang or a change outside ``--out``; the user's
files inside ``--out`` untouched.

The number of examples is the hypothesis profile's: bounded in ``make test``, many more with
``pytest --fuzz tests/test_fuzz_cli.py`` (``tests/conftest.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_harness import (
    DECOY_TEXT,
    SMALL_CALIBRATION,
    SMALL_SWEEP,
    assert_kept_promises,
    out_folder,
    run_checked,
    scratch,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    COMMANDS,
    calibration_files,
    command_lines,
    scenario_files,
    store_damage,
    sweep_files,
)

from debtloops.sweeps.store import STORE_NAME

#: Commands whose good calls take seconds (a run, a plot, an MCMC): they get a share of the
#: profile's examples, so that `make test` stays near a minute.
COSTLY = ("run", "attribute", "analyze", "backtest", "validate", "calibrate", "report")
COSTLY_SHARE = 2
FEWER = settings(max_examples=max(1, settings.default.max_examples // COSTLY_SHARE))
#: The user's files that lie about the working folder: a folder named like a scenario's output
#: (``run article --out .`` once deleted it) and a file named like a result.
USER_FILES = ("article/draft.md", "article/figures/plot.png", "headlines.csv", "precious.txt")
#: User files put into an output folder before a call: an unrelated one, and ones named like
#: what each command writes.
DECOYS = {
    "run": ("article/mydata.csv", "headlines.csv"),
    "attribute": ("attribution.csv", "attribution.png"),
    "report": ("report.html",),
    "calibrate": ("fit.png", "calibrated.toml"),
    "backtest": ("backtest.csv",),
    "diagram": ("overview.png",),
    "validate": ("validation.csv",),
    "compare-policies": ("policies.csv", "policies.png"),
    "fan": ("fan.csv",),
    "target": ("target.csv", "target.nc"),
    "discover": ("discover.csv",),
}


def _store_files(folder: Path) -> list[str]:
    store = folder / STORE_NAME
    return sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file())


def _prepare(work: Path, data, command: str, argv: list[str], store: Path | None) -> None:
    """Lay out the working folder: the user's files, the inputs, the output folder's decoys."""
    for name in USER_FILES:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DECOY_TEXT)
    (work / "file").write_text(DECOY_TEXT)
    if command in ("run", "report"):
        (work / "mine.toml").write_bytes(data.draw(scenario_files(), label="mine.toml"))
    if command in ("sweep", "compare-policies"):
        if data.draw(st.booleans(), label="a good spec"):
            (work / "spec.toml").write_text(SMALL_SWEEP)
        else:
            (work / "spec.toml").write_bytes(data.draw(sweep_files(), label="spec.toml"))
    if command == "calibrate":
        if data.draw(st.booleans(), label="a good spec"):
            (work / "cal.toml").write_text(SMALL_CALIBRATION)
        else:
            (work / "cal.toml").write_bytes(data.draw(calibration_files(), label="cal.toml"))
    if command in ("analyze", "discover") and store is not None:
        shutil.copytree(store, work / "store")
    out = out_folder(argv, work)
    if out is None or command in ("analyze", "sweep"):
        return
    try:
        _decoys(out, data, command)
    except (OSError, ValueError):
        pass  # an output path the file system refuses (too long, say): nothing to put there


def _decoys(out: Path, data, command: str) -> None:
    if command == "export":
        if data.draw(st.booleans(), label="a user file at --out") and not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(DECOY_TEXT)
        return
    state = data.draw(st.sampled_from(["absent", "decoy", "colliding"]), label="--out holds")
    if state == "absent" or (out.exists() and not out.is_dir()):
        return
    names = ["my_notes.txt"] + (list(DECOYS.get(command, ())) if state == "colliding" else [])
    for name in names:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DECOY_TEXT)


def _check_a_command_line(command: str, data, request) -> None:
    argv = data.draw(command_lines(command), label="argv")
    needs_store = command in ("analyze", "discover")
    store = request.getfixturevalue("real_store") if needs_store else None
    with scratch() as work:
        _prepare(work, data, command, argv, store)
        assert_kept_promises(run_checked(argv, work))


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in COSTLY])
@given(data=st.data())
def test_every_command_keeps_its_promises(command, data, request):
    _check_a_command_line(command, data, request)


@pytest.mark.slow
@pytest.mark.parametrize("command", COSTLY)
@FEWER
@given(data=st.data())
def test_every_costly_command_keeps_its_promises(command, data, request):
    _check_a_command_line(command, data, request)


@pytest.mark.slow
@FEWER
@pytest.mark.parametrize(
    ("command", "name", "files", "options"),
    [
        ("run", "mine.toml", scenario_files, ["--final-time", "2026", "--out", "out"]),
        ("report", "mine.toml", scenario_files, ["--set", "nope=1", "--out", "out"]),
        ("sweep", "spec.toml", sweep_files, ["--out", "out", "--quiet", "--workers", "1"]),
        ("calibrate", "cal.toml", calibration_files, ["--out", "out", "--no-projections"]),
    ],
)
@given(data=st.data())
def test_random_input_files_are_read_or_refused_cleanly(command, name, files, options, data):
    document = data.draw(files(), label=name)
    with scratch() as work:
        (work / name).write_bytes(document)
        argv = [command, f"./{name}" if command in ("run", "report") else name, *options]
        assert_kept_promises(run_checked(argv, work))


@pytest.mark.slow
@given(data=st.data())
def test_a_damaged_store_is_refused_and_never_analysed(real_store, data):
    action, name, seed = data.draw(store_damage(_store_files(real_store)), label="damage")
    if action == "flip" and name.endswith(".json"):
        action = "random"  # a flipped byte in metadata may still read as other, valid metadata
    with scratch() as work:
        shutil.copytree(real_store, work / "store")
        target = work / "store" / STORE_NAME / name
        rng = np.random.default_rng(seed)
        if action == "delete":
            target.unlink()
        elif action == "truncate":
            target.write_bytes(b"")
        elif action == "half":
            target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
        elif action == "random":
            target.write_bytes(rng.bytes(max(target.stat().st_size, 1)))
        elif action == "flip":
            content = bytearray(target.read_bytes() or b"\0")
            content[int(rng.integers(len(content)))] ^= 0xFF
            target.write_bytes(bytes(content))
        else:  # the whole array (or the root's metadata) goes
            top = Path(name).parts[0]
            path = work / "store" / STORE_NAME / top
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        outcome = run_checked(["analyze", "store"], work)
        assert_kept_promises(outcome, allowed=(2,))
        assert not (work / "store" / "analysis.nc").exists(), outcome.describe()
