"""Calling the command line as a user would, and checking what it left behind.

Shared by the fuzz harness (``tests/test_fuzz_cli.py``) and the table of bad inputs
(``tests/test_bad_input_table.py``). A call runs ``debtloops.cli.main(argv)`` in a scratch working
folder, in this process (a subprocess only where the environment must differ or a hang must be
killed), under a watchdog, with every file of the scratch folder hashed before and after. The
verdict holds the promises of docs/development/reliability.md:

- the exit status is 0, 1 (``validate``: a failing check), 2 with a one-line message, 3 (a run
  reached an impossible state) or 4 (a sweep's cluster lost);
- standard error holds no traceback, no "internal error" line and no raw control character;
- nothing outside ``--out`` is created, changed or deleted, and no file of the user's inside
  ``--out`` (a decoy written before the call) is changed or deleted; a refused command (2) or a
  failed run (3) leaves at most empty folders and the lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import debtloops
from debtloops import cli
from debtloops.io import LOCK_NAME, OWN_NAMES

#: How long one in-process call may take before the watchdog calls it a hang [s]: generous, the
#: cheapest real run takes 2-3 s on the shared 2-core machine.
CALL_TIMEOUT = 120.0
#: How long a call in a subprocess may take (the interpreter's start and imports included) [s].
SUBPROCESS_TIMEOUT = 60.0
#: The most local Dask worker processes a call may start: a sweep asking for more than its chunks
#: must be capped (``--workers 100000`` once kept starting workers); more would load the
#: shared machine, so the harness refuses to start them and reports the call as failing.
MAX_WORKERS = 2
#: Exit statuses the command line documents, by command: 1 is ``validate``'s failing check, 3 a
#: run that reached an impossible state, 4 a sweep whose cluster was lost, 5 a write the system
#: refused (a full disk, a read-only file system).
DOCUMENTED = {
    "validate": (0, 1, 2, 3, 5),
    "sweep": (0, 2, 3, 4, 5),
}
DEFAULT_DOCUMENTED = (0, 2, 3, 5)
#: The first line of a refusal: ours, or argparse's (after its usage lines).
REFUSAL = re.compile(r"^debtloops( [a-z-]+)?: error: \S")
#: Characters that must never reach the terminal raw: C0 controls but tab, newline and carriage
#: return (a progress bar's), DEL and the C1 controls.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: A user's own file, put inside ``--out`` before a call; it must come out unchanged.
DECOY_TEXT = "my own notes: debtloops must never touch this file\n"
#: A sweep small enough to run in a second or two: 8 samples of 2 uncertainties in 2 chunks.
SMALL_SWEEP = """\
# small: a sweep for the fuzz harness
# Intent: a real store to damage.
# Source: ranges from models/parameters.toml.
scenarios = ["article"]
outcomes = ["debt_to_gdp", "market_yield"]
final_time = 2028.0

[sampler]
method = "lhs"
samples = 8
seed = 5

[uncertainties.portfolio_balance_sensitivity]
[uncertainties.flow_effect_sensitivity]
"""
#: A calibration small enough to run in a few seconds.
SMALL_CALIBRATION = """\
# small: a calibration for the fuzz harness
[period]
start = 2000
fit_end = 2008
end = 2010

[fixed]
premia_anchor_switch = 0.0

[parameters.yield_seeking_sensitivity]

[series.gs10_fy_avg]
variables = ["market_yield"]
how = "mean"
scale = 100.0
noise = 0.5

[sampler]
walkers = 4
steps = 10
burn = 2
seed = 7

[projection]
scenario = "article"
draws = 2
"""
CLI = [sys.executable, "-c", "import sys; from debtloops.cli import main; sys.exit(main())"]


class Hang(BaseException):
    """Raised in the main thread by the watchdog: a call ran past its timeout.

    A ``BaseException``, so the command line's own ``except Exception`` cannot swallow it.
    """


class TooManyWorkers(BaseException):
    """A call tried to start more than :data:`MAX_WORKERS` local Dask worker processes."""


@dataclass
class Outcome:
    """What one call did: its status, its output, and the files it touched."""

    argv: list[str]
    status: int
    out: str
    err: str
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """Return the call and its output, for an assertion's message."""
        return (
            f"argv={self.argv!r}\nstatus={self.status}\nstderr={self.err[-2000:]!r}\n"
            f"created={self.created[:10]} changed={self.changed[:10]} deleted={self.deleted[:10]}"
        )


# ---- the scratch folder ------------------------------------------------------------------------


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """Yield a fresh working folder, two levels below the scratch root, as the current folder."""
    with tempfile.TemporaryDirectory(prefix="debtloops-fuzz-") as name:
        work = Path(name).resolve() / "home" / "work"
        work.mkdir(parents=True)
        previous = os.getcwd()
        os.chdir(work)
        try:
            yield work
        finally:
            os.chdir(previous)
            _make_removable(Path(name))


def _make_removable(root: Path) -> None:
    """Give back write permission a call or a case took away, so the scratch can be removed."""
    for folder, _, _ in os.walk(root):
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o755)


def snapshot(root: Path) -> dict[str, str]:
    """Return every path under ``root``, relative, mapped to its SHA-256 (``dir/`` for folders,
    ``link:TARGET`` for symbolic links)."""
    found: dict[str, str] = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                found[key] = "dir/"
            elif path.is_file():
                try:
                    found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError as error:
                    found[key] = f"unreadable:{error.errno}"
            else:
                found[key] = "special"
    return found


def make_store(folder: Path) -> Path:
    """Run :data:`SMALL_SWEEP` by the command line into ``folder/sweep``; return that folder."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "small.toml"
    spec.write_text(SMALL_SWEEP)
    out = folder / "sweep"
    argv = ["sweep", str(spec), "--out", str(out), "--quiet", "--chunk-size", "4", "--workers", "1"]
    status, _, err = call(argv)
    assert status == 0, err
    return out


def write_decoys(out: Path, names: Sequence[str] = ("my_notes.txt",)) -> None:
    """Put user files into the output folder ``out`` (folders on the way are created)."""
    for name in names:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DECOY_TEXT)


# ---- calling the command line ------------------------------------------------------------------


@contextlib.contextmanager
def _worker_guard() -> Iterator[None]:
    """Refuse to start more than :data:`MAX_WORKERS` local Dask worker processes."""
    import distributed

    real = distributed.LocalCluster

    def guarded(*args, **kwargs):
        workers = kwargs.get("n_workers", args[0] if args else None)
        if workers is not None and workers > MAX_WORKERS:
            raise TooManyWorkers(f"the call asked for {workers} local Dask worker processes")
        return real(*args, **kwargs)

    distributed.LocalCluster = guarded
    try:
        yield
    finally:
        distributed.LocalCluster = real


def call(argv: Sequence[str], timeout: float = CALL_TIMEOUT) -> tuple[int, str, str]:
    """Run ``cli.main(argv)`` in this process; return its status, standard output and error.

    Warnings are ignored, not raised (a user sees them printed, pytest would make them errors).
    A call cut short by the watchdog after ``timeout`` seconds, or stopped before it starts more
    than :data:`MAX_WORKERS` worker processes, returns status -1 and says so on standard error.
    """
    out, err = io.StringIO(), io.StringIO()

    def alarm(signum, frame):
        raise Hang(f"the call ran for more than {timeout:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
            _worker_guard(),
        ):
            warnings.simplefilter("ignore")
            status = cli.main(list(argv))
    except (Hang, TooManyWorkers) as error:
        status = -1
        err.write(f"\n[harness: {error}]")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return status, out.getvalue(), err.getvalue()


def subprocess_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a subprocess: this one, this checkout's code first on the path
    whatever the working folder (PYTHONPATH may be relative), and ``env``."""
    code = str(Path(debtloops.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH", "")]))
    return {**os.environ, "PYTHONPATH": path, **(env or {})}


def call_subprocess(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = SUBPROCESS_TIMEOUT,
) -> tuple[int, str, str]:
    """Run the command line in a new process, killed with its children after ``timeout`` s.

    Returns
    -------
    tuple
        The status (-9 after a kill: a hang), standard output and standard error.
    """
    environment = subprocess_env(env)
    process = subprocess.Popen(
        [*CLI, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        start_new_session=True,
        text=True,
        errors="replace",
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return -signal.SIGKILL, out, err + f"\n[harness: killed after {timeout:g} s: a hang]"
    return process.returncode, out, err


def out_folder(argv: Sequence[str], work: Path) -> Path | None:
    """Return the ``--out`` (or ``analyze``'s folder) that ``argv`` names, absolute, or None."""
    for i, item in enumerate(argv):
        if item == "--out" and i + 1 < len(argv):
            return Path(work, argv[i + 1])
        if item.startswith("--out="):
            return Path(work, item.removeprefix("--out="))
    if len(argv) > 1 and argv[0] == "analyze" and not argv[1].startswith("-"):
        return Path(work, argv[1])
    return None


def run_checked(
    argv: Sequence[str],
    work: Path,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    subprocess_: bool = False,
    timeout: float | None = None,
    own: Sequence[str] = (),
) -> Outcome:
    """Call the command line in ``work`` and compare the tree under ``root`` before and after.

    ``root`` defaults to the scratch root, the working folder's grandparent. Changes inside the
    output folder are not reported, except to files already there before the call (the user's)
    that are not in ``own`` (paths relative to ``root`` that debtloops itself wrote earlier).
    """
    root = root or work.parent.parent
    before = {key: value for key, value in snapshot(root).items() if key not in own}
    if subprocess_ or env:
        status, out, err = call_subprocess(argv, env, timeout or SUBPROCESS_TIMEOUT)
    else:
        status, out, err = call(argv, timeout or CALL_TIMEOUT)
    after = {key: value for key, value in snapshot(root).items() if key not in own}
    outcome = Outcome(list(argv), status, out, err)
    target = out_folder(argv, work)
    inside = _inside(target, root) if target is not None else None
    export = bool(argv) and argv[0] == "export"
    # The folder whose lock and manifest the call keeps: --out, or the folder of export's file.
    keeper = inside if not export or inside is None else str(Path(inside).parent)
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if keeper is not None and Path(key).name in OWN_NAMES and str(Path(key).parent) == keeper:
            continue  # debtloops' own bookkeeping (io.OWN_NAMES), kept beside its results
        mine = inside is not None and (key == inside or key.startswith(f"{inside}/"))
        if export and inside is not None and key == inside and old is None:
            mine = True  # export's --out is the file it writes
        elif export:
            mine = False
        if old is None:
            if not mine and not _on_the_way(key, inside, new):
                outcome.created.append(key)
            elif mine and status in (2, 3) and new != "dir/" and Path(key).name != LOCK_NAME:
                outcome.created.append(f"{key} (after a refusal)")
        elif new is None:
            if not mine or old != "dir/":
                outcome.deleted.append(key)
        elif not mine or old != "dir/":
            outcome.changed.append(key)
    return outcome


def _inside(target: Path, root: Path) -> str | None:
    """Return ``target`` relative to ``root``, resolving what exists of it, or None if outside."""
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    try:
        relative = resolved.relative_to(root)
    except ValueError:
        return None
    return "." if str(relative) == "." else str(relative)


def _on_the_way(key: str, inside: str | None, kind: str | None) -> bool:
    """Tell whether a new folder lies on the way to the output folder (``a`` in ``a/../out``)."""
    return kind == "dir/" and inside is not None and (inside + "/").startswith(key + "/")


# ---- the verdict -------------------------------------------------------------------------------


def problems(outcome: Outcome, allowed: Sequence[int] | None = None) -> list[str]:
    """Return every broken promise of one call (empty when the call kept them all)."""
    command = outcome.argv[0] if outcome.argv else ""
    allowed = allowed or DOCUMENTED.get(command, DEFAULT_DOCUMENTED)
    found = []
    if outcome.status not in allowed:
        found.append(f"exit status {outcome.status}, expected one of {sorted(allowed)}")
    if "Traceback" in outcome.err or "internal error" in outcome.err:
        found.append("a traceback or an internal error")
    if outcome.status in (2, 5):
        lines = [line for line in outcome.err.splitlines() if line.strip()]
        ours = [line for line in lines if REFUSAL.match(line)]
        if len(ours) != 1:
            found.append(f"{len(ours)} lines 'debtloops: error: ...', expected one")
        elif lines[-1] != ours[0]:
            found.append("the error is not the last line of standard error")
    if RAW_CONTROL.search(outcome.err) or RAW_CONTROL.search(outcome.out):
        found.append("a raw control character reached the terminal")
    if outcome.created:
        found.append(f"created outside --out: {outcome.created[:5]}")
    if outcome.changed:
        found.append(f"changed a file it did not write: {outcome.changed[:5]}")
    if outcome.deleted:
        found.append(f"deleted a file it did not write: {outcome.deleted[:5]}")
    return found


def assert_kept_promises(outcome: Outcome, allowed: Sequence[int] | None = None) -> None:
    """Fail with every broken promise of ``outcome`` and the call itself."""
    found = problems(outcome, allowed)
    assert not found, "; ".join(found) + "\n" + outcome.describe()


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, options: str) -> Iterator[None]:
    """Mount a small tmpfs at ``folder`` (root only; the test is skipped elsewhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
