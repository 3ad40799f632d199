"""The table of bad inputs: every case found by hand or by the fuzz harness, and systematic bad
values for every option of every command and every key of the three file schemas.

Each row is a :class:`Case`: the command line, the files to lay out in a scratch working folder
(with the user's own files around it), the exit status expected and a fragment the message must
hold (a regular expression, case-insensitive). Each row asserts that status and fragment, no
traceback, nothing written outside ``--out`` and no user file changed (``tests/cli_harness.py``).
Most rows are refused before any model runs; a row that must run uses the cheapest options.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import xarray as xr
from cli_harness import (
    CLI,
    DECOY_TEXT,
    SMALL_CALIBRATION,
    SMALL_SWEEP,
    assert_kept_promises,
    mounted_tmpfs,
    run_checked,
    scratch,
    snapshot,
    subprocess_env,
)
from strategies import BOM, CONTROL_ESCAPES, HUGE_INT, deep_array

from debtloops.sweeps.store import STORE_NAME

#: A scenario that reaches an impossible state (exit 3) without writing anything: with it, a row
#: about ``--out`` tells a check made before the run (exit 2) from none, never writing there.
NEGATIVE = "japan_baseline_net_purchases=10000"
#: The cheapest real run: the article's sale to FY2026.
CHEAP_RUN = ["--final-time", "2026"]
#: How long a row in a subprocess may take (the scheduler's promise is 15 s, the interpreter's
#: start a few more) [s].
SCHEDULER_TIMEOUT = 45.0


@dataclass(frozen=True)
class Case:
    """One row of the table.

    Attributes
    ----------
    id : str
        The row's readable name (the pytest id).
    argv : tuple of str
        The command line after ``debtloops``; ``{work}`` stands for the working folder.
    status : int or tuple of int
        The exit status expected (a tuple where either is right).
    fragment : str
        A regular expression the standard error must match when the status is not 0.
    files : dict
        Files to write before the call, relative to the working folder: text or bytes.
    setup : str
        A named setup of :data:`SETUPS` (a store, a device, a mount, a server).
    env : dict
        Environment variables; the row then runs in a subprocess.
    subprocess : bool
        Run in a subprocess (killed after :data:`SCHEDULER_TIMEOUT`: a hang).
    check : callable, optional
        A further check of the working folder after the call.
    timeout : float, optional
        Seconds after which the call counts as a hang, where the harness's default is too short
        for the work done before the expected refusal.
    """

    id: str
    argv: tuple[str, ...]
    status: int | tuple[int, ...] = 2
    fragment: str = ""
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: str = ""
    env: dict[str, str] = field(default_factory=dict)
    subprocess: bool = False
    check: Callable[[Path], None] | None = None
    timeout: float | None = None


CASES: list[Case] = []


def case(*args, **kwargs) -> None:
    """Add a row to the table."""
    CASES.append(Case(*args, **kwargs))


#: The scenarios run beside the row's own in the concurrent-writers row.
CONCURRENT = ("gradual", "japan_full", "fed_backstop")


def _headlines_list(folder: Path, scenarios: tuple[str, ...]) -> None:
    text = (folder / "headlines.csv").read_text()
    missing = [name for name in scenarios if name not in text]
    assert not missing, f"headlines.csv lost {missing}:\n{text}"


# ---- users' files deleted ------------------------------------------------------------------------

ARTICLE = 'base = "article"\n'
case(
    "users-files/run-article-out-dot-keeps-article-folder",
    ("run", "article", *CHEAP_RUN, "--out", "."),
    2,
    "article",
    files={"article/draft.md": DECOY_TEXT, "article/figures/plot.png": DECOY_TEXT},
)
case(
    "users-files/run-src-toml-into-its-project-folder",
    ("run", "proj/src.toml", *CHEAP_RUN, "--out", "proj"),
    2,
    "src",
    files={"proj/src.toml": ARTICLE, "proj/src/main.py": "print(1)\n", "proj/src/data.csv": "a\n"},
)
case(
    "users-files/report-keeps-users-report-html",
    ("report", "article", *CHEAP_RUN, "--out", "out"),
    2,
    "report.html",
    files={"out/report.html": "<p>mine</p>\n"},
)
case(
    "users-files/calibrate-keeps-users-fit-png",
    ("calibrate", "cal.toml", "--no-projections", "--out", "out"),
    2,
    "fit.png",
    files={"cal.toml": SMALL_CALIBRATION, "out/fit.png": DECOY_TEXT},
)
case(
    "users-files/run-keeps-article-mydata-and-headlines",
    ("run", "article", *CHEAP_RUN, "--out", "out"),
    2,
    "article|headlines",
    files={"out/article/mydata.csv": "x\n1\n", "out/headlines.csv": DECOY_TEXT},
)
case(
    "users-files/four-runs-into-one-folder-keep-every-scenario-in-headlines",
    ("run", "article", *CHEAP_RUN, "--out", "shared"),
    0,
    setup="concurrent",
    subprocess=True,
    check=lambda work: _headlines_list(work / "shared", ("article", *CONCURRENT)),
)
for system in ("/", "/opt", "/etc", "/usr", "/dev", "/proc"):
    case(
        f"users-files/out-system-folder-{system.strip('/') or 'root'}-refused-before-running",
        ("run", "article", "--set", NEGATIVE, "--out", system),
        2,
        "root|system|--out|folder",
    )
case(
    "users-files/export-out-device-node",
    ("export", "--out", "device"),
    2,
    "device|regular|file",
    setup="device",
)
case(
    "users-files/export-out-fifo",
    ("export", "--out", "pipe"),
    2,
    "regular|file|pipe",
    setup="fifo",
)
case(
    "users-files/export-out-users-file",
    ("export", "--out", "mine.stmx"),
    2,
    "mine.stmx",
    files={"mine.stmx": DECOY_TEXT},
)
case(
    "users-files/export-out-symlink-to-users-file",
    ("export", "--out", "link.stmx"),
    2,
    "link.stmx",
    files={"target.txt": DECOY_TEXT},
    setup="symlink-out",
)

# ---- a damaged sweep -----------------------------------------------------------------------------

for damage in ("delete-chunk", "delete-array", "random-chunk", "truncate-chunk", "half-chunk"):
    case(
        f"damaged-store/{damage}",
        ("analyze", "store"),
        2,
        "chunk|market_yield|damaged|corrupt|missing",
        setup=f"store:{damage}",
    )
case(
    "damaged-store/deleted-chunk-done-flags",
    ("analyze", "store"),
    2,
    "chunk_done|chunk|missing",
    setup="store:delete-done",
)
for method, samples in (("monte_carlo", 40), ("lhs", 8)):
    case(
        f"one-uncertainty/{method}-{samples}-analyses-or-says-what-it-cannot-draw",
        ("analyze", "store"),
        (0, 2),
        "draw|too few|samples|uncertaint",
        setup=f"one-uncertainty:{method}:{samples}",
    )

# ---- tracebacks for user mistakes ----------------------------------------------------------------


def sweep_spec(**changes: str) -> str:
    """The small sweep with lines replaced: ``samples="12"`` sets ``samples = 12``."""
    text = SMALL_SWEEP
    for key, value in changes.items():
        text, count = re.subn(
            rf"^{key} = .*$", lambda _, k=key, v=value: f"{k} = {v}", text, flags=re.MULTILINE
        )
        assert count == 1, key
    return text


def calibration_spec(**changes: str) -> str:
    """The small calibration with lines replaced, as :func:`sweep_spec`."""
    text = SMALL_CALIBRATION
    for key, value in changes.items():
        text, count = re.subn(
            rf"^{key} = .*$", lambda _, k=key, v=value: f"{k} = {v}", text, flags=re.MULTILINE
        )
        assert count == 1, key
    return text


case(
    "tracebacks/401-digit-number-in-scenario",
    ("run", "./mine.toml", *CHEAP_RUN, "--out", "out"),
    2,
    "japan_sale_amount",
    files={"mine.toml": f"{ARTICLE}[set]\njapan_sale_amount = {HUGE_INT}\n"},
)
case(
    "tracebacks/401-digit-number-in-sweep",
    ("sweep", "spec.toml", "--quiet", "--out", "out"),
    2,
    "final_time",
    files={"spec.toml": sweep_spec(final_time=HUGE_INT)},
)
case(
    "tracebacks/401-digit-number-in-calibration",
    ("calibrate", "cal.toml", "--out", "out"),
    2,
    "scale",
    files={"cal.toml": calibration_spec(scale=HUGE_INT)},
)
for samples in ("1000000000000", "1099511627776"):
    case(
        f"tracebacks/sweep-samples-{samples}",
        ("sweep", "spec.toml", "--quiet", "--out", "out"),
        2,
        "samples",
        files={"spec.toml": sweep_spec(samples=samples)},
    )
for option in ("steps", "draws"):
    case(
        f"tracebacks/calibrate-{option}-10-to-the-12",
        ("calibrate", "cal.toml", f"--{option}", "1000000000000", "--out", "out"),
        2,
        option,
        files={"cal.toml": SMALL_CALIBRATION},
    )
case(
    "tracebacks/sweep-seed-2-to-the-40",
    ("sweep", "spec.toml", "--quiet", "--out", "out"),
    (0, 2),
    "seed",
    files={"spec.toml": sweep_spec(seed="1099511627776")},
)
case(
    "tracebacks/calibrate-seed-2-to-the-33",
    ("calibrate", "cal.toml", "--seed", "8589934592", "--no-projections", "--out", "out"),
    (0, 2),
    "seed",
    files={"cal.toml": SMALL_CALIBRATION},
)
for kind, name, text in (
    ("scenario", "mine.toml", f"[set]\njapan_sale_amount = {deep_array()}\n"),
    ("sweep", "spec.toml", SMALL_SWEEP.replace("seed = 5", f"seed = {deep_array()}")),
    ("calibration", "cal.toml", SMALL_CALIBRATION.replace("seed = 7", f"seed = {deep_array()}")),
):
    command = {"scenario": "run", "sweep": "sweep", "calibration": "calibrate"}[kind]
    target = f"./{name}" if kind == "scenario" else name
    case(
        f"tracebacks/arrays-nested-3000-deep-in-{kind}",
        (command, target, "--out", "out"),
        2,
        "nest|deep|depth",
        files={name: text},
    )
case(
    "tracebacks/debtloops-cache-names-a-file",
    ("run", "article", *CHEAP_RUN, "--out", "out"),
    2,
    "DEBTLOOPS_CACHE|cache",
    files={"cachefile": DECOY_TEXT},
    env={"DEBTLOOPS_CACHE": "{work}/cachefile"},
)
case(
    "tracebacks/debtloops-cache-read-only",
    ("run", "article", *CHEAP_RUN, "--out", "out"),
    2,
    "DEBTLOOPS_CACHE|cache|read-only|writable",
    setup="read-only:ro",
    env={"DEBTLOOPS_CACHE": "{work}/ro"},
)
case(
    "tracebacks/export-out-on-a-read-only-file-system",
    ("export", "--out", "ro/model.xmile"),
    2,
    "read-only|writable",
    setup="read-only:ro",
)
case(
    "tracebacks/scheduler-at-an-unroutable-address",
    ("sweep", "spec.toml", "--quiet", "--scheduler", "tcp://10.255.255.1:8786", "--out", "out"),
    2,
    "scheduler",
    files={"spec.toml": SMALL_SWEEP},
    subprocess=True,
)

# ---- hangs and crashes under faults --------------------------------------------------------------

case(
    "hangs/sweep-workers-100000-is-capped",
    ("sweep", "spec.toml", "--quiet", "--workers", "100000", "--out", "out"),
    (0, 2),
    "workers|chunk",
    files={"spec.toml": SMALL_SWEEP},
)
case(
    "hangs/scheduler-that-is-an-http-server",
    ("sweep", "spec.toml", "--quiet", "--scheduler", "tcp://127.0.0.1:{port}", "--out", "out"),
    2,
    "scheduler|dask",
    files={"spec.toml": SMALL_SWEEP},
    setup="http-server",
    subprocess=True,
)
case(
    "hangs/killed-scheduler-exits-4",
    ("sweep", "spec.toml", "--quiet", "--scheduler", "tcp://127.0.0.1:{port}", "--out", "out"),
    4,
    "scheduler",
    files={"spec.toml": SMALL_SWEEP},
    setup="killed-scheduler",
    subprocess=True,
)
FULL_DISK = {
    "run": ("run", "article", *CHEAP_RUN, "--out", "full/out"),
    "sweep": ("sweep", "spec.toml", "--quiet", "--workers", "1", "--out", "full/out"),
    "backtest": ("backtest", "--start", "2022", "--out", "full/out"),
    "calibrate": ("calibrate", "cal.toml", "--no-projections", "--out", "full/out"),
    "export": ("export", "--out", "full/out/model.xmile"),
    "validate": ("validate", "--out", "full/out"),
    "report": ("report", "article", *CHEAP_RUN, "--out", "full/out"),
    "diagram": ("diagram", "--loop", "R1", "--out", "full/out"),
}
for command, argv in FULL_DISK.items():
    case(
        f"hangs/full-disk-{command}",
        argv,
        (2, 5),  # refused before writing, or when the disk refuses a write
        "space|full|disk",
        files={"spec.toml": SMALL_SWEEP, "cal.toml": SMALL_CALIBRATION},
        setup="full-disk",
    )
case(
    "hangs/full-disk-analyze",
    ("analyze", "full/store"),
    (2, 5),
    "space|full|disk",
    setup="full-store",
)

# ---- the explorer's command line -----------------------------------------------------------------

for port in ("0", "-1", "65536", "70000", "x", "", "5006.5", HUGE_INT):
    case(f"explore/port-{port[:12] or 'empty'}", ("explore", "--port", port), 2, "port")
for name in ("nope", "", "../x", "x" * 300, "\x1b[31mred"):
    label = re.sub(r"\W", "_", name[:12]) or "empty"
    case(f"explore/scenario-{label}", ("explore", "--scenario", name), 2, "scenario")
for address in ("localhost", "256.1.1.1", "", "1.2.3", "::g"):
    label = re.sub(r"\W", "_", address) or "empty"
    case(f"explore/address-{label}", ("explore", "--address", address), 2, "IP address")

# ---- terminal escapes and the byte-order mark ----------------------------------------------------


def _no_secret_in_results(work: Path) -> None:
    results = work / "out" / "mine" / "results.nc"
    if results.exists():
        with xr.open_dataset(results) as dataset:
            assert "secret comment" not in str(dataset.attrs), "the symlink's text was copied"


ESCAPED = CONTROL_ESCAPES[0]
case(
    "escapes/scenario-file-key",
    ("run", "./mine.toml", *CHEAP_RUN, "--out", "out"),
    2,
    "31mred",
    files={"mine.toml": f'[set]\n"{ESCAPED}" = 1\n'},
)
case(
    "escapes/scenario-file-base",
    ("run", "./mine.toml", *CHEAP_RUN, "--out", "out"),
    2,
    "31mred|base",
    files={"mine.toml": f'base = "{ESCAPED}"\n'},
)
case(
    "escapes/set-name",
    ("run", "article", "--set", "\x1b[31mred=1", *CHEAP_RUN, "--out", "out"),
    2,
    "31mred",
)
case(
    "escapes/set-value",
    ("run", "article", "--set", "japan_sale_amount=\x1b[31m1", *CHEAP_RUN, "--out", "out"),
    2,
    "japan_sale_amount",
)
case(
    "escapes/sweep-spec-scenario",
    ("sweep", "spec.toml", "--quiet", "--out", "out"),
    2,
    "31mred",
    files={"spec.toml": SMALL_SWEEP.replace('["article"]', f'["{ESCAPED}"]')},
)
case(
    "escapes/sweep-spec-uncertainty",
    ("sweep", "spec.toml", "--quiet", "--out", "out"),
    2,
    "31mred",
    files={"spec.toml": SMALL_SWEEP + f'[uncertainties."{ESCAPED}"]\n'},
)
case(
    "escapes/calibration-parameter",
    ("calibrate", "cal.toml", "--out", "out"),
    2,
    "31mred",
    files={"cal.toml": SMALL_CALIBRATION + f'[parameters."{ESCAPED}"]\n'},
)
case(
    "escapes/base-symlink-is-not-copied-into-results",
    ("run", "./mine.toml", *CHEAP_RUN, "--out", "out"),
    (0, 2),
    "link|symbolic",
    files={"mine.toml": 'base = "link"\n', "secret.txt": '# a secret comment\nbase = "article"\n'},
    setup="symlink-base",
    check=_no_secret_in_results,
)
case(
    "bom/scenario-file",
    ("run", "./mine.toml", *CHEAP_RUN, "--out", "out"),
    0,
    files={"mine.toml": BOM + ARTICLE.encode()},
)
case(
    "bom/sweep-spec",
    ("sweep", "spec.toml", "--quiet", "--workers", "1", "--out", "out"),
    0,
    files={"spec.toml": BOM + SMALL_SWEEP.encode()},
)
case(
    "bom/calibration-spec",
    ("calibrate", "cal.toml", "--no-projections", "--out", "out"),
    0,
    files={"cal.toml": BOM + SMALL_CALIBRATION.encode()},
)

# ---- every option of every command: systematic bad values ----------------------------------------

#: Bad values for an option that takes a number, and the fragment every refusal names.
NUMBERS = {
    "empty": "",
    "blank": " ",
    "negative": "-1",
    "zero": "0",
    "text": "x",
    "nan": "nan",
    "inf": "inf",
    "huge": HUGE_INT,
    "10e12": "1000000000000",
    "fraction": "1.5",
    "hex": "0x10",
}
#: Bad values for an option that takes a path, made by the row's files or setup.
PATHS = {
    "empty": "",
    "blank": " ",
    "too-long-name": "x" * 300,
    "a-file": "file",
    "under-a-file": "file/sub",
    "nul": "a\0b",
}
#: Bad values for an option that takes a name.
NAMES = {"unknown": "nope", "empty": "", "path": "../x", "long": "x" * 300, "escape": "\x1b[2J"}

#: For each command: the command line before the bad option, and its options with the values
#: that are valid for them (values in NUMBERS that are valid are left out) and the fragment.
_COMMON_FILES = {"file": DECOY_TEXT, "spec.toml": SMALL_SWEEP, "cal.toml": SMALL_CALIBRATION}
OPTION_ROWS: list[tuple[str, tuple[str, ...], str, dict[str, str], str, tuple[str, ...]]] = [
    # command, argv before, option, values, fragment, argv after
    ("run", ("run", "article"), "--final-time", NUMBERS, "final", ("--out", "out")),
    ("run", ("run", "article", *CHEAP_RUN), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("run", ("run",), "", NAMES, "scenario|argument", ("--out", "out")),
    ("sweep", ("sweep", "spec.toml", "--quiet"), "--workers", NUMBERS, "workers", ("--out", "o")),
    ("sweep", ("sweep", "spec.toml", "--quiet"), "--chunk-size", NUMBERS, "chunk", ("--out", "o")),
    ("sweep", ("sweep", "spec.toml", "--quiet"), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("sweep", ("sweep", "spec.toml", "--quiet"), "--final-time", NUMBERS, "final", ("--out", "o")),
    ("sweep", ("sweep",), "", PATHS | NAMES, "spec|path|file|toml|NUL", ("--out", "o")),
    ("analyze", ("analyze",), "", PATHS | NAMES, "sweep|path|folder|file|NUL|exist", ()),
    (
        "discover",
        ("discover",),
        "",
        PATHS | NAMES,
        "sweep|path|folder|file|NUL|exist",
        ("--where", "debt_to_gdp_final > 1"),
    ),
    ("diagram", ("diagram",), "--scenario", NAMES, "scenario", ("--out", "out")),
    ("diagram", ("diagram",), "--loop", NAMES, "loop", ("--out", "out")),
    ("diagram", ("diagram", "--loop", "R1"), "--final-time", NUMBERS, "final", ("--out", "out")),
    ("diagram", ("diagram", "--loop", "R1"), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("backtest", ("backtest",), "--start", NUMBERS, "start", ("--out", "out")),
    ("backtest", ("backtest",), "--end", NUMBERS, "end", ("--out", "out")),
    ("backtest", ("backtest",), "--yields", NAMES, "yields", ("--out", "out")),
    ("backtest", ("backtest",), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("validate", ("validate",), "--out", PATHS, "out|path|folder|file|NUL", ()),
    (
        "calibrate",
        ("calibrate",),
        "",
        PATHS | NAMES,
        "calibration|path|file|toml|NUL",
        ("--out", "o"),
    ),
    ("calibrate", ("calibrate", "cal.toml"), "--walkers", NUMBERS, "walkers", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--steps", NUMBERS, "steps", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--burn", NUMBERS, "burn", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--seed", NUMBERS, "seed", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--draws", NUMBERS, "draws", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--engine", NAMES, "engine", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--scenario", NAMES, "scenario", ("--out", "o")),
    ("calibrate", ("calibrate", "cal.toml"), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("report", ("report",), "", NAMES, "scenario|argument", ("--out", "out")),
    ("report", ("report", "article"), "--final-time", NUMBERS, "final", ("--out", "out")),
    ("report", ("report", "article"), "--sweep", PATHS, "sweep|path|folder|NUL", ("--out", "o")),
    ("report", ("report", "article"), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("export", ("export",), "--format", NAMES, "format", ("--out", "m.xmile")),
    ("export", ("export",), "--scenario", NAMES, "scenario", ("--out", "m.xmile")),
    (
        "export",
        ("export", "--scenario", "article"),
        "--final-time",
        NUMBERS,
        "final",
        ("--out", "m"),
    ),
    ("export", ("export",), "--out", PATHS, "out|path|file|folder|NUL", ()),
]
# Issue 20's commands: attribute, fan, target, discover (below, on a store) and compare-policies.
_FAN = ("fan", "article", "--draws", "2")
_TARGET = ("target", "japan_full", "--debt-to-gdp", "100", "--by", "2035")
_COMPARE = ("compare-policies", "spec.toml", "--quiet")
OPTION_ROWS += [
    ("attribute", ("attribute",), "", NAMES, "scenario|argument", ("--out", "out")),
    ("attribute", ("attribute", "japan_full"), "--mechanisms", NAMES, "mechanism", ("--out", "o")),
    ("attribute", ("attribute", "japan_full"), "--permutations", NUMBERS, "permutations", ()),
    ("attribute", ("attribute", "japan_full"), "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("attribute", ("attribute", "japan_full"), "--final-time", NUMBERS, "final", ("--out", "o")),
    ("fan", ("fan",), "", NAMES, "scenario|argument", ("--draws", "2", "--out", "out")),
    ("fan", ("fan", "article"), "--draws", NUMBERS, "draws", ("--out", "out")),
    ("fan", _FAN, "--seed", NUMBERS, "seed", ("--out", "out")),
    ("fan", _FAN, "--thresholds", NUMBERS | NAMES, "threshold", ("--out", "out")),
    ("fan", _FAN, "--years", NUMBERS | NAMES, "year", ("--out", "out")),
    ("fan", _FAN, "--parameters", NAMES, "parameters", ("--out", "out")),
    ("fan", _FAN, "--out", PATHS, "out|path|folder|file|NUL", ()),
    ("fan", _FAN, "--final-time", NUMBERS, "final", ("--out", "out")),
    ("target", ("target",), "", NAMES, "scenario|argument", ("--debt-to-gdp", "100")),
    ("target", ("target", "japan_full"), "--debt-to-gdp", NUMBERS, "debt|target", ("--by", "2035")),
    ("target", ("target", "japan_full", "--debt-to-gdp", "100"), "--by", NUMBERS, "by|year", ()),
    ("target", _TARGET, "--from", NUMBERS, "from|start|year", ()),
    ("target", _TARGET, "--phase-in", NUMBERS, "phase", ()),
    ("target", _TARGET, "--out", PATHS, "out|path|folder|file|NUL", ()),
    (
        "compare-policies",
        ("compare-policies",),
        "",
        PATHS | NAMES,
        "spec|path|file|NUL",
        ("--out", "o"),
    ),
    ("compare-policies", _COMPARE, "--policies", NAMES, "polic|name", ("--out", "o")),
    ("compare-policies", _COMPARE, "--workers", NUMBERS, "workers", ("--out", "o")),
    ("compare-policies", _COMPARE, "--chunk-size", NUMBERS, "chunk", ("--out", "o")),
    ("compare-policies", _COMPARE, "--out", PATHS, "out|path|folder|file|NUL", ()),
]
#: Values of NUMBERS that some options accept: valid input is left out of the table (None), and
#: where either a refusal or a run is right, both statuses are allowed.
ACCEPTED: dict[tuple[str, str], tuple[int, ...] | None] = {
    ("--workers", "huge"): (0, 2),  # capped at the chunks, like 100000, or refused
    ("--workers", "10e12"): (0, 2),
    ("--chunk-size", "huge"): (0, 2),  # one chunk, like a chunk size larger than the sweep
    ("--chunk-size", "10e12"): (0, 2),
    ("--seed", "huge"): (0, 2),  # "seeds in numpy's range": refused, or taken whole
    ("--seed", "10e12"): (0, 2),
    ("--seed", "zero"): None,
    ("--burn", "zero"): None,
    ("--thresholds", "10e12"): None,  # a threshold of debt/GDP [percent]: never crossed
    ("--thresholds", "fraction"): None,
    ("--phase-in", "fraction"): None,  # years
}
for command, before, option, values, fragment, after in OPTION_ROWS:
    for label, value in values.items():
        status = ACCEPTED.get((option, label), 2)
        if status is None:
            continue
        argv = (*before, *((option,) if option else ()), value, *after)
        name = option.lstrip("-") or "argument"
        case(f"options/{command}-{name}-{label}", argv, status, fragment, files=_COMMON_FILES)
case(
    "options/export-final-time-before-the-start",
    ("export", "--final-time", "1990", "--out", "m"),
    2,
    "final_time",
)
case(
    "options/export-out-is-a-folder", ("export", "--out", "out"), 2, "folder", files={"out/x": "1"}
)
case(
    "options/report-sweep-not-analysed",
    ("report", "article", "--sweep", "empty", "--out", "o"),
    2,
    "sweep",
    setup="empty-dir",
)
case(
    "options/discover-where-unknown-outcome",
    ("discover", "store", "--where", "nope > 1"),
    2,
    "unknown outcome 'nope'",
    setup="store:none",
)
case(
    "options/discover-where-bad-operator",
    ("discover", "store", "--where", "debt_to_gdp_final != 1"),
    2,
    "unknown operator",
    setup="store:none",
)
_DISCOVER = ("discover", "store", "--where", "debt_to_gdp_final > 1")
for label, value in NAMES.items():
    case(
        f"options/discover-scenario-{label}",
        (*_DISCOVER, "--scenario", value),
        2,
        "scenario",
        setup="store:none",
    )
for label, value in PATHS.items():
    case(
        f"options/discover-out-{label}",
        (*_DISCOVER, "--out", value),
        2,
        "out|path|folder|file|NUL",
        setup="store:none",
    )
case("options/analyze-empty-folder", ("analyze", "empty"), 2, "sweep", setup="empty-dir")
case(
    "options/analyze-over-time-unknown",
    ("analyze", "store", "--over-time", "nope"),
    2,
    "nope",
    setup="store:none",
)
case(
    "options/analyze-over-time-not-sobol",
    ("analyze", "store", "--over-time", "market_yield"),
    2,
    "sobol",
    setup="store:none",
)
case(
    "options/sweep-scheduler-empty",
    ("sweep", "spec.toml", "--scheduler", "", "--out", "o"),
    2,
    "scheduler",
    files=_COMMON_FILES,
)
case(
    "options/sweep-scheduler-no-scheme",
    ("sweep", "spec.toml", "--scheduler", "nowhere", "--out", "o"),
    2,
    "scheduler",
    files=_COMMON_FILES,
)
case(
    "options/sweep-scheduler-bad-scheme",
    ("sweep", "spec.toml", "--scheduler", "foo://x:1", "--out", "o"),
    2,
    "scheduler",
    files=_COMMON_FILES,
)
case(
    "options/sweep-scheduler-closed-port",
    ("sweep", "spec.toml", "--scheduler", "tcp://127.0.0.1:1", "--out", "o"),
    2,
    "scheduler",
    files=_COMMON_FILES,
)
case(
    "options/sweep-into-a-folder-of-user-files",
    ("sweep", "spec.toml", "--out", "o"),
    2,
    "not empty|o",
    files={**_COMMON_FILES, "o/mine.txt": DECOY_TEXT},
)
for argv in (
    ("list",),
    ("build",),
    ("validate", "--out", "o"),
    ("run", "article"),
    ("export", "--out", "m.xmile"),
    ("backtest", "--out", "o"),
    ("analyze", "store"),
):
    case(f"options/{argv[0]}-unknown-option", (*argv, "--nope"), 2, "unrecognized|--nope")
case("options/unknown-command", ("runn",), 2, "invalid choice|runn")
case("options/unknown-global-option", ("--nope",), 2, "unrecognized|--nope")
#: Every command that takes ``--set``, with the command line before it.
SET_COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run", "article"),
    "report": ("report", "article"),
    "attribute": ("attribute", "japan_full"),
    "fan": _FAN,
    "target": _TARGET,
    "diagram": ("diagram", "--loop", "R1"),
    "sweep": ("sweep", "spec.toml", "--quiet"),
    "compare-policies": ("compare-policies", "spec.toml", "--quiet"),
    "export": ("export",),
    "backtest": ("backtest", "--start", "2020"),
    "episodes": ("episodes", "covid_2020"),
}
for item in (
    "",
    "=",
    "x",
    "=1",
    "japan_sale_amount=",
    "nope=1",
    "japan_sale_amount=x",
    f"japan_sale_amount={HUGE_INT}",
    "japan_sale_amount=nan",
    "japan_sale_amount=1e999",
    "japan_sale_amount=-inf",
    "japan_sale_amount=-1",
    "japan_sale_amount=2000",
    f"primary_deficit_share_of_gdp={HUGE_INT}:0.02",
    "primary_deficit_share_of_gdp=2030:1e400",
    "primary_deficit_share_of_gdp=2030:0.02,2030:0.03",
    "primary_deficit_share_of_gdp=x:1",
    "time_step=0",
    "time_step=nan",
    "final_time=1e308",
    "initial_time=-1",
    "saveper=0",
):
    label = re.sub(r"[^\w=:,.-]", "_", item)[:40] or "empty"
    name = item.partition("=")[0].partition(":")[0] or "set"
    if len(name) > 40 or not name.strip():
        name = "set"
    for command, before in SET_COMMANDS.items():
        case(
            f"options/{command}-set-{label}",
            (*before, "--set", item, "--out", "out"),
            2,
            re.escape(name) if name != "set" else "set|NAME=VALUE",
            files=_COMMON_FILES,
        )

# ---- --cbo on every command that runs the model: refused before any work -------------------------

#: Every command that takes ``--cbo``, with what else it needs; each would write into ``out``.
CBO_COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run", "article", *CHEAP_RUN, "--out", "out"),
    "report": ("report", "article", *CHEAP_RUN, "--out", "out"),
    "validate": ("validate", "--out", "out"),
    "attribute": ("attribute", "japan_full", "--out", "out"),
    "sweep": ("sweep", "spec.toml", "--quiet", "--out", "out"),
    "compare-policies": ("compare-policies", "spec.toml", "--quiet", "--out", "out"),
    "calibrate": ("calibrate", "cal.toml", "--out", "out"),
    "diagram": ("diagram", "--out", "out"),
    "export": ("export", "--out", "out/m.xmile"),
    "target": ("target", "japan_full", "--debt-to-gdp", "100", "--by", "2035", "--out", "out"),
    "fan": ("fan", "japan_full", "--draws", "10", "--out", "out"),
    "explore": ("explore", "--port", "5999"),
}
#: Vintages that are not there, and what the refusal must say.
BAD_VINTAGES = {
    "unknown": ("2025-1", r"unknown CBO vintage '2025-1'; did you mean: 2025-01"),
    "missing-folder": ("./no_such_vintage", "no_such_vintage does not exist"),
}


def _nothing_written(work: Path) -> None:
    assert not (work / "out").exists(), "a refused --cbo left an output folder"


for (command, argv), (label, (value, fragment)) in itertools.product(
    CBO_COMMANDS.items(), BAD_VINTAGES.items()
):
    case(
        f"cbo/{command}-{label}",
        (*argv, "--cbo", value),
        2,
        fragment,
        files=_COMMON_FILES,
        subprocess=command == "explore",  # a row that failed to refuse would serve for ever
        check=_nothing_written,
    )

# ---- every key of the three file schemas ---------------------------------------------------------

#: Values of the wrong type or size for a number, and junk for a whole value.
BAD_VALUES = {
    "string": '"12"',
    "bool": "true",
    "array": "[1, 2]",
    "table": "{ a = 1 }",
    "huge": HUGE_INT,
    "nan": "nan",
    "inf": "inf",
    "neg-inf": "-inf",
    "overflow": "1e400",
    "date": "1979-05-27",
    "deep": deep_array(),
}
SCENARIO_KEYS = {
    "base": ("base = {value}\n", "base"),
    "data": ("data = {value}\n", "data"),
    "set-constant": ("[set]\njapan_sale_amount = {value}\n", "japan_sale_amount"),
    "set-control": ("[set]\ntime_step = {value}\n", "time_step"),
    "series-value": (
        '[series]\nprimary_deficit_share_of_gdp = {{ "2030" = {value} }}\n',
        "primary_deficit",
    ),
    "series-table": ("[series]\nprimary_deficit_share_of_gdp = {value}\n", "primary_deficit"),
    "set-section": ("set = {value}\n", "set"),
    "series-section": ("series = {value}\n", "series"),
}
for (key, (template, fragment)), (label, value) in itertools.product(
    SCENARIO_KEYS.items(), BAD_VALUES.items()
):
    if (key, label) in {
        ("base", "string"),
        ("data", "string"),
        ("series-table", "table"),
        ("set-section", "table"),
        ("series-section", "table"),
    }:
        continue  # a valid type: another row checks the value
    if label == "deep":
        fragment = "nest|deep|depth"
    case(
        f"scenario-keys/{key}-{label}",
        ("run", "./mine.toml", *CHEAP_RUN, "--out", "out"),
        2,
        fragment,
        files={"mine.toml": template.format(value=value)},
    )

SWEEP_KEYS = {
    "scenarios": (r"^scenarios = .*$", "scenarios"),
    "outcomes": (r"^outcomes = .*$", "outcomes"),
    "final_time": (r"^final_time = .*$", "final_time"),
    "method": (r"^method = .*$", "method|sampler"),
    "samples": (r"^samples = .*$", "samples"),
    "seed": (r"^seed = .*$", "seed"),
}
for (key, (pattern, fragment)), (label, value) in itertools.product(
    SWEEP_KEYS.items(), BAD_VALUES.items()
):
    if label == "deep":
        fragment = "nest|deep|depth"
    text = re.sub(
        pattern, lambda _, k=key, v=value: f"{k} = {v}", SMALL_SWEEP, count=1, flags=re.MULTILINE
    )
    case(
        f"sweep-keys/{key}-{label}",
        ("sweep", "spec.toml", "--quiet", "--out", "out"),
        (0, 2) if (key, label) == ("seed", "huge") else 2,  # numpy's range, as --seed
        fragment,
        files={"spec.toml": text},
    )
for key, line, fragment in (
    ("calc_second_order-not-sobol", "calc_second_order = true", "calc_second_order"),
    ("levels-not-morris", "levels = 4", "levels"),
    ("calibration-missing-folder", 'calibration = "nowhere"', "calibration"),
    ("unknown-sampler-key", "nope = 1", "nope"),
):
    case(
        f"sweep-keys/{key}",
        ("sweep", "spec.toml", "--quiet", "--out", "out"),
        2,
        fragment,
        files={"spec.toml": SMALL_SWEEP.replace("seed = 5", f"seed = 5\n{line}")},
    )
for key, text, fragment in (
    (
        "distribution-unknown",
        '[uncertainties.term_premium_level]\ndistribution = "cauchy"\n',
        "cauchy|distribution",
    ),
    ("range-reversed", "[uncertainties.term_premium_level]\nrange = [0.02, 0.01]\n", "range"),
    ("range-nan", "[uncertainties.term_premium_level]\nrange = [nan, 0.01]\n", "range"),
    (
        "range-huge",
        f"[uncertainties.term_premium_level]\nrange = [0, {HUGE_INT}]\n",
        "range|term_premium_level",
    ),
    ("range-outside-valid", "[uncertainties.term_premium_level]\nrange = [-5, 5]\n", "range|valid"),
    (
        "lognormal-at-zero",
        '[uncertainties.term_premium_level]\ndistribution = "lognormal"\nrange = [0, 0.01]\n',
        "lognormal",
    ),
    ("uncertainty-unknown-key", "[uncertainties.term_premium_level]\nnope = 1\n", "nope"),
    ("uncertainty-control", "[uncertainties.time_step]\n", "time_step"),
    ("uncertainty-unknown", "[uncertainties.nope]\n", "nope"),
    ("levers-empty", "[levers]\nfed_backstop_switch = []\n", "fed_backstop_switch"),
    ("levers-not-list", "[levers]\nfed_backstop_switch = 1\n", "fed_backstop_switch"),
    ("levers-huge", f"[levers]\nfed_backstop_switch = [{HUGE_INT}]\n", "fed_backstop_switch"),
    ("levers-nan", "[levers]\nfed_backstop_switch = [nan]\n", "fed_backstop_switch"),
    ("levers-twice", "[levers]\nfed_backstop_switch = [1.0, 1.0]\n", "twice"),
    (
        "levers-also-uncertainty",
        "[levers]\nportfolio_balance_sensitivity = [0.4]\n",
        "portfolio_balance_sensitivity",
    ),
    ("unknown-top-level", "nope = 1\n", "nope"),
):
    body = SMALL_SWEEP + text
    if text.startswith("nope"):
        body = "nope = 1\n" + SMALL_SWEEP
    case(
        f"sweep-keys/{key}",
        ("sweep", "spec.toml", "--quiet", "--out", "out"),
        2,
        fragment,
        files={"spec.toml": body},
    )
for missing in ("scenarios", "outcomes", "sampler"):
    text = (
        re.sub(rf"^{missing} = .*$\n", "", SMALL_SWEEP, flags=re.MULTILINE)
        if missing != "sampler"
        else SMALL_SWEEP.replace("[sampler]\n", "")
    )
    case(
        f"sweep-keys/missing-{missing}",
        ("sweep", "spec.toml", "--quiet", "--out", "out"),
        2,
        missing if missing != "sampler" else "sampler|method|samples|seed|unknown",
        files={"spec.toml": text},
    )

CALIBRATION_KEYS = {
    "start": "start",
    "fit_end": "fit_end",
    "end": "end",
    "scale": "scale",
    "noise": "noise",
    "walkers": "walkers",
    "steps": "steps",
    "burn": "burn",
    "seed": "seed",
    "draws": "draws",
}
for (key, fragment), (label, value) in itertools.product(
    CALIBRATION_KEYS.items(), BAD_VALUES.items()
):
    if (key, label) == ("noise", "string"):
        continue  # a string: "estimate" or refused by name, checked below
    if label == "deep":
        fragment = "nest|deep|depth"
    case(
        f"calibration-keys/{key}-{label}",
        ("calibrate", "cal.toml", "--out", "out"),
        (0, 2) if (key, label) == ("seed", "huge") else 2,  # numpy's range, as --seed
        fragment,
        files={"cal.toml": calibration_spec(**{key: value})},
    )
for key, value, fragment in (
    ("yields", '"sideways"', "sideways|yields"),
    ("how", '"median"', "median|how"),
    ("engine", '"stan"', "stan|engine"),
    ("variables", '["nope"]', "nope"),
    ("variables", "[]", "variables"),
    ("noise", '"guess"', "noise"),
    ("scenario", '"nope"', "nope|scenario"),
    ("scenario", f'"{ESCAPED}"', "31mred|scenario"),
):
    label = re.sub(r"\W", "_", value)[:12]
    text = SMALL_CALIBRATION
    if key == "yields":
        text = text.replace("[fixed]", f"[run]\nyields = {value}\n\n[fixed]")
    elif key == "engine":
        text = text.replace("seed = 7", f"seed = 7\nengine = {value}")
    else:
        text = calibration_spec(**{key: value})
    case(
        f"calibration-keys/{key}-{label}",
        ("calibrate", "cal.toml", "--out", "out"),
        2,
        fragment,
        files={"cal.toml": text},
    )
for key, text, fragment in (
    ("unknown-table", "[nope]\nx = 1\n", "nope"),
    ("unknown-parameter", "[parameters.nope]\n", "nope"),
    ("control-parameter", "[parameters.time_step]\n", "time_step"),
    ("prior-unknown", '[parameters.term_premium_level]\nprior = "cauchy"\n', "cauchy|prior"),
    ("bounds-reversed", "[parameters.term_premium_level]\nbounds = [0.03, 0.0]\n", "bounds|empty"),
    (
        "bounds-huge",
        f"[parameters.term_premium_level]\nbounds = [0.0, {HUGE_INT}]\n",
        "bounds|term_premium_level",
    ),
    ("normal-without-sd", '[parameters.term_premium_level]\nprior = "normal"\nmean = 0.01\n', "sd"),
    ("unknown-series", '[series.nope]\nvariables = ["market_yield"]\nnoise = 1.0\n', "nope"),
    ("fixed-unknown", "[fixed]\nnope = 1\n", "nope"),
):
    body = (
        SMALL_CALIBRATION.replace("[fixed]\npremia_anchor_switch = 0.0\n", "")
        if key == "fixed-unknown"
        else SMALL_CALIBRATION
    )
    case(
        f"calibration-keys/{key}",
        ("calibrate", "cal.toml", "--out", "out"),
        2,
        fragment,
        files={"cal.toml": body + text},
    )

#: Whole files that are not a specification at all, for each reader.
JUNK = {
    "binary": b"\x00\x01\x02\xff\xfe",
    "latin-1": "caf\xe9 = 1\n".encode("latin-1"),
    "utf-16": "x = 1\n".encode("utf-16"),
    "raw-escape": b"\x1b[2J = 1\n",
    "not-toml": b"[[[[\n",
    "deep-inline-tables": b"x = " + b"{a = " * 1000 + b"1" + b"}" * 1000 + b"\n",
    "deep-arrays": b"x = " + deep_array().encode() + b"\n",
}
READERS = {
    "scenario": ("run", "./mine.toml", "mine.toml", "mine|scenario"),
    "sweep": ("sweep", "spec.toml", "spec.toml", "spec"),
    "calibration": ("calibrate", "cal.toml", "cal.toml", "cal"),
}
for (reader, (command, target, name, fragment)), (label, content) in itertools.product(
    READERS.items(), JUNK.items()
):
    case(
        f"junk-files/{reader}-{label}",
        (command, target, "--out", "out"),
        2,
        fragment,
        files={name: content},
    )
for reader, (command, target, name, fragment) in READERS.items():
    if reader != "scenario":
        case(
            f"junk-files/{reader}-empty",
            (command, target, "--out", "out"),
            2,
            fragment,
            files={name: b""},
        )
        case(
            f"junk-files/{reader}-bom-only",
            (command, target, "--out", "out"),
            2,
            fragment,
            files={name: BOM},
        )


# ---- setups --------------------------------------------------------------------------------------


def _fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte."""
    for name, block in (("filler", b"\0" * 4096), ("filler2", b"\0")):
        with open(folder / name, "wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:
                handle.write(block)


class _Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the standard library's name
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _wait_for_port(port: int) -> None:
    """Wait until something listens on ``port`` of 127.0.0.1."""
    deadline = time.monotonic() + SCHEDULER_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    pytest.fail(f"the Dask scheduler did not start on port {port}")


def _kill_when_claimed(scheduler: subprocess.Popen, out: Path) -> None:
    """Kill the scheduler once the sweep has claimed its output folder (it is then connected)."""
    deadline = time.monotonic() + SCHEDULER_TIMEOUT
    while time.monotonic() < deadline and not (out / "sweep_spec.toml").exists():
        time.sleep(0.1)
    time.sleep(1.0)  # the sweep is waiting for a worker that never comes
    scheduler.kill()


def _damage(store: Path, how: str) -> None:
    """Damage a copy of the session's sweep store."""
    chunk = next(
        p
        for p in sorted((store / "market_yield").rglob("*"))
        if p.is_file() and p.name != "zarr.json"
    )
    if how == "delete-chunk":
        chunk.unlink()
    elif how == "delete-array":
        shutil.rmtree(store / "market_yield")
    elif how == "random-chunk":
        chunk.write_bytes(os.urandom(chunk.stat().st_size))
    elif how == "truncate-chunk":
        chunk.write_bytes(b"")
    elif how == "half-chunk":
        chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    elif how == "delete-done":
        shutil.rmtree(store / "chunk_done")


@contextlib.contextmanager
def setup(row: Case, work: Path, real_store: Path) -> Iterator[dict[str, str]]:
    """Lay out what ``row.setup`` names; yield the placeholders of the command line."""
    kind, _, detail = row.setup.partition(":")
    values = {"work": str(work)}
    if kind == "device":
        os.mknod(work / "device", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif kind == "fifo":
        os.mkfifo(work / "pipe")
    elif kind == "symlink-out":
        (work / "link.stmx").symlink_to(work / "target.txt")
    elif kind == "symlink-base":
        (work / "link.toml").symlink_to(work / "secret.txt")
    elif kind == "empty-dir":
        (work / "empty").mkdir()
    elif kind == "store":
        shutil.copytree(real_store, work / "store")
        if detail != "none":
            _damage(work / "store" / STORE_NAME, detail)
    elif kind == "one-uncertainty":
        method, samples = detail.split(":")
        spec = SMALL_SWEEP.replace('"lhs"', f'"{method}"').replace(
            "samples = 8", f"samples = {samples}"
        )
        spec = spec.replace("[uncertainties.flow_effect_sensitivity]\n", "")
        (work / "one.toml").write_text(spec)
        made = run_checked(
            ["sweep", "one.toml", "--quiet", "--workers", "1", "--out", "store"], work
        )
        assert made.status == 0, made.describe()
    if kind == "read-only":
        with mounted_tmpfs(work / detail, "ro,size=64k"):
            yield values
        return
    if kind in ("full-disk", "full-store"):
        with mounted_tmpfs(work / "full", "size=4m"):
            if kind == "full-store":
                shutil.copytree(real_store, work / "full" / "store", dirs_exist_ok=True)
            else:
                (work / "full" / "out").mkdir()
            _fill(work / "full")
            yield values
        return
    if kind == "concurrent":
        others = [
            subprocess.Popen(
                [*CLI, "run", name, *CHEAP_RUN, "--out", "shared"],
                cwd=work,
                env=subprocess_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in CONCURRENT
        ]
        try:
            yield values
        finally:
            for other in others:
                other.wait(timeout=SCHEDULER_TIMEOUT * 2)
        return
    if kind == "killed-scheduler":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        killer = threading.Thread(target=_kill_when_claimed, args=(scheduler, work / "out"))
        try:
            _wait_for_port(port)
            killer.start()
            values["port"] = str(port)
            yield values
        finally:
            scheduler.kill()
            scheduler.wait()
            if killer.is_alive():
                killer.join()
        return
    if kind == "http-server":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Http)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        values["port"] = str(server.server_address[1])
        try:
            yield values
        finally:
            server.shutdown()
            server.server_close()
        return
    yield values


def _ids() -> list[str]:
    seen = [row.id for row in CASES]
    duplicates = {name for name in seen if seen.count(name) > 1}
    assert not duplicates, duplicates
    return seen


def test_the_table_holds_at_least_368_rows():
    assert len(CASES) >= 368, len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("row", CASES, ids=_ids())
def test_bad_input(row: Case, real_store):
    with scratch() as work:
        for name, content in {"file": DECOY_TEXT, **row.files}.items():
            path = work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with setup(row, work, real_store) as values:
            own = [key for key in snapshot(work.parent.parent) if key.startswith("home/work/store")]
            argv = [item.format(**values) if "{" in item else item for item in row.argv]
            env = {key: value.format(**values) for key, value in row.env.items()}
            timeout = row.timeout or (SCHEDULER_TIMEOUT * 2 if row.subprocess or env else None)
            outcome = run_checked(
                argv, work, env=env, subprocess_=row.subprocess, timeout=timeout, own=own
            )
            allowed = row.status if isinstance(row.status, tuple) else (row.status,)
            assert_kept_promises(outcome, allowed)
            if outcome.status != 0 and row.fragment:
                assert re.search(row.fragment, outcome.err, re.IGNORECASE), outcome.describe()
        if row.check is not None:  # after the setup's end: concurrent writers have finished
            row.check(work)
