"""Hypothesis strategies for the command-line fuzz harness: scenario files, sweep
specifications, calibration specifications, command lines for every command, and damage to a
sweep store.

The scenario and sweep generators of ``tests/test_properties.py`` are reused and made
hostile: a byte-order mark, control characters, 401-digit and 2**40 numbers, NaN and infinity,
nesting 3,000 deep, unknown keys, empty files and binary junk. Sizes that would run are kept tiny
(a handful of samples, steps and draws), and sizes that must be refused are far beyond any limit
(10**12 and up), so that no example starts a long computation even before the limits are checked.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st
from test_properties import scenario_documents, sweep_specs

from debtloops.model.parameters import load_parameters

TABLE = load_parameters()
PARAMETERS = list(TABLE)

# ---- hostile values ----------------------------------------------------------------------------

#: A number with 401 digits: Python's int, too large for a float (OverflowError).
HUGE_INT = "1" + "0" * 400
#: Numbers far beyond any size limit (refused at once; allocating them fails at once too).
TOO_MANY = ("1000000000000", "1099511627776", HUGE_INT, "9223372036854775808")
#: Terminal escape sequences and other control characters, as TOML writes them in a string.
CONTROL_ESCAPES = ("\\u001b[31mred\\u001b[0m", "\\u001b]0;title\\u0007", "bell\\u0007", "\\u0008")
#: The same characters raw, for the command line.
CONTROL_RAW = ("\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "bell\x07", "a\x08b", "\x9bc")
BOM = b"\xef\xbb\xbf"
#: How deep the deeply nested arrays are: beyond Python's recursion limit.
DEEP = 3_000


def deep_array(depth: int = DEEP) -> str:
    """Return a TOML array nested ``depth`` deep."""
    return "[" * depth + "1" + "]" * depth


TOML_NUMBERS = st.sampled_from(
    [
        HUGE_INT,
        "-" + HUGE_INT,
        "1e400",
        "-1e400",
        "nan",
        "inf",
        "-inf",
        "1099511627776",
        "9223372036854775808",
        "0",
        "-0.0",
        "-1",
        "1.5",
        "true",
        '"12"',
        "[]",
        "{}",
        "1979-05-27",
        deep_array(),
        deep_array(40),
    ]
)


def toml_string(text: str) -> str:
    """Quote ``text`` as a TOML basic string (its control characters already escaped)."""
    return '"' + text.replace('"', '\\"') + '"'


# ---- whole documents ---------------------------------------------------------------------------

JUNK_DOCUMENTS = st.one_of(
    st.sampled_from(
        [
            b"",
            b"\n\n   \n",
            BOM,
            b"\xff\xfe" + "x = 1\n".encode("utf-16-le"),
            b"\x00\x01\x02\x03",
            b"\x1b[2J\x1b[H",
            b"# only a comment\n",
            b"[[[[",
            b"x = " + deep_array().encode() + b"\n",
            b"x = " + b"{a = " * 600 + b"1" + b"}" * 600 + b"\n",
            b"\xc3\x28 = 1\n",
            b'"\x1b[31mred" = 1\n',
        ]
    ),
    st.binary(max_size=80),
)


def hostile(documents: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Make a document hostile: a BOM, an extra hostile line, or replace it with junk."""

    @st.composite
    def build(draw) -> bytes:
        document = draw(documents)
        kind = draw(st.integers(0, 5))
        if kind == 0:
            return draw(JUNK_DOCUMENTS)
        if kind == 1:
            return BOM + document
        if kind == 2:
            key = draw(st.sampled_from([*CONTROL_ESCAPES, "nope", "x" * 300]))
            return document + f"\n{toml_string(key)} = 1\n".encode()
        if kind == 3:
            return document.replace(b"\n", b"\r\n")
        return document

    return build()


@st.composite
def scenario_files(draw) -> bytes:
    """A scenario file: test_properties' generator, a hostile one, or a targeted hostile value."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(hostile(scenario_documents()))
    if kind == 1:
        name = draw(
            st.sampled_from(["japan_sale_amount", "term_premium_level", "time_step", "nope"])
        )
        value = draw(TOML_NUMBERS)
        head = draw(st.sampled_from(['base = "article"\n', ""]))
        return f"{head}[set]\n{name} = {value}\n".encode()
    if kind == 2:
        value = draw(TOML_NUMBERS)
        year = draw(st.sampled_from(['"2030"', f'"{HUGE_INT}"', '"nan"', '"1e400"', '"-inf"']))
        return (
            f'base = "baseline"\n[series]\nprimary_deficit_share_of_gdp = {{ "2025" = 0.02, '
            f"{year} = {value} }}\n"
        ).encode()
    base = draw(st.sampled_from([*CONTROL_ESCAPES, "article", "a" * 70, ""]))
    return f"base = {toml_string(base)}\n".encode()


# ---- sweep specifications ----------------------------------------------------------------------

_SAMPLES = re.compile(r"^samples = .*$", re.MULTILINE)
_SEED = re.compile(r"^seed = .*$", re.MULTILINE)


@st.composite
def sweep_files(draw) -> bytes:
    """A sweep specification: test_properties' generator, with hostile sizes, seeds and values."""
    text = draw(sweep_specs())
    kind = draw(st.integers(0, 5))
    if kind == 1:
        text = _SAMPLES.sub(f"samples = {draw(st.sampled_from([*TOO_MANY, '-5', '1.5']))}", text)
    elif kind == 2:
        seed = draw(st.sampled_from([*TOO_MANY, "1099511627776", "-1", "nan", "4294967296"]))
        text = _SEED.sub(f"seed = {seed}", text)
    elif kind == 3:
        text += f"final_time = {draw(TOML_NUMBERS)}\n"  # a key after a table: a table's key
    elif kind == 4:
        name = draw(st.sampled_from([*CONTROL_ESCAPES, "nope"]))
        text = text.replace("scenarios = [", f"scenarios = [{toml_string(name)}, ", 1)
    document = text.encode()
    if draw(st.booleans()):
        document = draw(hostile(st.just(document)))
    return document


# ---- calibration specifications ----------------------------------------------------------------

#: Each key of the calibration schema, with values that pass and values that must be refused.
#: The passing values keep a real calibration tiny: a short period, one parameter, 4 walkers,
#: a few steps and draws.
CALIBRATION_KEYS = {
    ("period", "start"): (["2000"], ["1990", "2030", "2000.5", '"2000"', *TOO_MANY, "nan"]),
    ("period", "fit_end"): (["2008"], ["2000", "1999", "2100", "inf", HUGE_INT]),
    ("period", "end"): (["2010"], ["2005", "2200", "-1", "1e400"]),
    ("run", "yields"): (['"endogenous"', '"historical"'], ['"x"', "1", "[]"]),
    ("fixed", "premia_anchor_switch"): (["0.0"], ["nan", HUGE_INT, '"off"', "5.0"]),
    ("parameters.yield_seeking_sensitivity", "prior"): (
        ['"uniform"'],
        ['"cauchy"', "1", '"normal"'],
    ),
    ("parameters.yield_seeking_sensitivity", "bounds"): (
        ["[0.5, 2.0]"],
        ["[2.0, 0.5]", "[nan, 1.0]", f"[0, {HUGE_INT}]", "[1]", deep_array()],
    ),
    ("series.gs10_fy_avg", "variables"): (
        ['["market_yield"]'],
        ["[]", '["nope"]', '"market_yield"', "[1]"],
    ),
    ("series.gs10_fy_avg", "how"): (['"mean"'], ['"median"', "0"]),
    ("series.gs10_fy_avg", "scale"): (["100.0"], ["0", "nan", "1e400", HUGE_INT]),
    ("series.gs10_fy_avg", "noise"): (["0.5"], ["0", "-1", "inf", '"guess"', HUGE_INT]),
    ("series.gs10_fy_avg", "errors"): (['"independent"'], ['"ar2"', "true"]),
    ("sampler", "walkers"): (["4"], ["3", "0", "-2", *TOO_MANY, "4.0"]),
    ("sampler", "steps"): (["10"], ["0", "-1", *TOO_MANY]),
    ("sampler", "burn"): (["2"], ["10", "-1", HUGE_INT]),
    ("sampler", "seed"): (["7"], ["-1", "1099511627776", HUGE_INT, "nan"]),
    ("sampler", "engine"): (['"simlin"'], ['"stan"', "1"]),
    ("projection", "scenario"): (['"article"'], ['"nope"', "1", f'"{CONTROL_ESCAPES[0]}"']),
    ("projection", "draws"): (["2"], ["0", "-1", *TOO_MANY]),
}


@st.composite
def calibration_files(draw) -> bytes:
    """A calibration specification of the shipped schema, a few keys bad or missing or extra."""
    bad = set(draw(st.lists(st.sampled_from(list(CALIBRATION_KEYS)), max_size=2)))
    missing = set(draw(st.lists(st.sampled_from(list(CALIBRATION_KEYS)), max_size=1)))
    tables: dict[str, list[str]] = {}
    for (table, key), (good, wrong) in CALIBRATION_KEYS.items():
        if (table, key) in missing:
            continue
        value = draw(st.sampled_from(wrong if (table, key) in bad else good))
        tables.setdefault(table, []).append(f"{key} = {value}")
    if draw(st.integers(0, 4)) == 0:
        table = draw(st.sampled_from([*sorted(tables), "extra"]))
        tables.setdefault(table, []).append(
            f"{toml_string(draw(st.sampled_from(['x', *CONTROL_ESCAPES])))} = 1"
        )
    lines = ["# fuzz: a random calibration"]
    for table, entries in tables.items():
        lines += [f"[{table}]", *entries]
    document = ("\n".join(lines) + "\n").encode()
    if draw(st.integers(0, 3)) == 0:
        document = draw(hostile(st.just(document)))
    return document


# ---- command-line values -------------------------------------------------------------------------

NUMBERS = st.sampled_from(
    ["", " ", "-1", "0", "nan", "inf", "-inf", "1e999", "x", "0x10", "1_0", HUGE_INT, *TOO_MANY]
)
YEARS = st.sampled_from(["2020", "2025", "2025.1", "3000", "1e308", "-2026", "nan", "2026x"])
BAD_PATHS = st.sampled_from(["", " ", "x" * 300, "a/" * 3 + "y" * 256, "file", "file/sub", "\n"])
BAD_NAMES = st.one_of(
    st.sampled_from(["nope", "japan_ful", "", "-", "../x", "x" * 300, *CONTROL_RAW]),
    st.text(max_size=6),
)
#: Output folders a call may use: all relative, inside the scratch root.
GOOD_OUTS = st.sampled_from(["out", "out/sub", "./out", ".", "..", "a b", "~"])


def pick(good: st.SearchStrategy[str], bad: st.SearchStrategy[str], faulty: bool):
    """A value from ``bad`` when ``faulty``, else from ``good``."""
    return bad if faulty else good


@st.composite
def faults(draw, options: list[str], at_least_one: bool) -> set[str]:
    """Choose which options get a bad value; at least one when a good call would be costly."""
    chosen = set(draw(st.lists(st.sampled_from(options), max_size=len(options))))
    if at_least_one and not chosen:
        chosen.add(draw(st.sampled_from(options)))
    return chosen


#: Arguments argparse refuses (it echoes unknown ones as typed: control characters on the command
#: line itself are the user's own, and are not generated here).
EXTRA_ARGS = st.sampled_from([[], [], [], ["--nope"], ["--out"], ["extra"], ["--help"], ["-h"]])


def _final_and_set(draw, bad: set[str]) -> list[str]:
    """``--final-time`` (a good one, or a bad one if "final" is bad) and a bad ``--set``."""
    argv = []
    if "final" in bad or draw(st.booleans()):
        argv += ["--final-time", draw(pick(st.just("2030"), YEARS, "final" in bad))]
    if "set" in bad:
        argv += ["--set", draw(st.sampled_from(SET_TEXTS))]
    return argv


@st.composite
def command_lines(draw, command: str) -> list[str]:
    """A command line for ``command``: good values with a few bad ones; costly commands always
    get at least one bad value (explore always does: it must never start its server)."""
    argv = [command]
    if command == "run":
        bad = draw(faults(["scenario", "final", "set", "out"], False))
        argv += [
            draw(pick(st.sampled_from(["article", "mine.toml"]), BAD_NAMES, "scenario" in bad))
        ]
        argv += [
            "--final-time",
            draw(pick(st.sampled_from(["2026", "2027"]), YEARS, "final" in bad)),
        ]
        if "set" in bad:
            argv += ["--set", draw(st.sampled_from(SET_TEXTS))]
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "attribute":
        bad = draw(faults(["scenario", "mechanisms", "permutations", "final", "set", "out"], True))
        argv += [draw(pick(st.just("japan_full"), BAD_NAMES, "scenario" in bad))]
        argv += ["--mechanisms", draw(pick(st.just("fed_rule"), BAD_NAMES, "mechanisms" in bad))]
        if "permutations" in bad:
            argv += ["--permutations", draw(NUMBERS)]
        argv += _final_and_set(draw, bad)
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "sweep":
        bad = draw(faults(["workers", "chunk", "scheduler", "final", "set", "out"], False))
        argv += ["spec.toml", "--quiet", *_final_and_set(draw, bad)]
        if "workers" in bad or draw(st.booleans()):
            argv += ["--workers", draw(pick(st.sampled_from(["1"]), NUMBERS, "workers" in bad))]
        if "chunk" in bad or draw(st.booleans()):
            argv += [
                "--chunk-size",
                draw(pick(st.sampled_from(["4", "100"]), NUMBERS, "chunk" in bad)),
            ]
        if "scheduler" in bad:
            argv += ["--scheduler", draw(st.sampled_from(SCHEDULERS))]
        argv += ["--out", draw(pick(st.sampled_from(["sweep", "out"]), BAD_PATHS, "out" in bad))]
    elif command == "fan":
        options = ["scenario", "draws", "seed", "thresholds", "years", "final", "set", "out"]
        bad = draw(faults(options, True))
        argv += [draw(pick(st.just("article"), BAD_NAMES, "scenario" in bad))]
        argv += ["--draws", draw(pick(st.just("2"), NUMBERS, "draws" in bad))]
        argv += _final_and_set(draw, bad)
        for option, good, wrong in (
            ("seed", st.just("1"), NUMBERS),
            ("thresholds", st.just("150"), NUMBERS | BAD_NAMES),
            ("years", st.just("2030"), YEARS | BAD_NAMES),
        ):
            if option in bad or draw(st.booleans()):
                argv += [f"--{option}", draw(pick(good, wrong, option in bad))]
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "target":
        bad = draw(faults(["scenario", "goal", "by", "from", "phase", "set", "out"], True))
        if "set" in bad:
            argv += ["--set", draw(st.sampled_from([*SET_TEXTS, "primary_balance_effort=0.01"]))]
        argv += [draw(pick(st.just("japan_full"), BAD_NAMES, "scenario" in bad))]
        argv += ["--debt-to-gdp", draw(pick(st.just("100"), NUMBERS, "goal" in bad))]
        argv += ["--by", draw(pick(st.just("2035"), YEARS, "by" in bad))]
        for option, good, wrong in (
            ("from", st.just("2027"), YEARS),
            ("phase-in", st.just("5"), NUMBERS),
        ):
            if option.split("-")[0] in bad or draw(st.booleans()):
                argv += [f"--{option}", draw(pick(good, wrong, option.split("-")[0] in bad))]
        if "out" in bad or draw(st.booleans()):
            argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "discover":
        bad = draw(faults(["folder", "where", "scenario", "out"], False))
        argv += [draw(pick(st.just("store"), BAD_PATHS | BAD_NAMES, "folder" in bad))]
        wheres = st.sampled_from(["debt_to_gdp_final > 1", "peak_market_yield >= 4.5"])
        argv += ["--where", draw(pick(wheres, BAD_NAMES | st.just("x >"), "where" in bad))]
        if "scenario" in bad or draw(st.booleans()):
            argv += ["--scenario", draw(pick(st.just("article"), BAD_NAMES, "scenario" in bad))]
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "compare-policies":
        bad = draw(faults(["spec", "policies", "workers", "chunk", "final", "set", "out"], True))
        argv += [draw(pick(st.just("spec.toml"), BAD_PATHS | BAD_NAMES, "spec" in bad)), "--quiet"]
        argv += _final_and_set(draw, bad)
        policies = st.sampled_from(["fed_backstop", "fiscal_reform,diversification"])
        for option, good, wrong in (
            ("policies", policies, BAD_NAMES | st.just("fed_backstop,fed_backstop")),
            ("workers", st.just("1"), NUMBERS),
            ("chunk-size", st.sampled_from(["4", "100"]), NUMBERS),
        ):
            faulty = option.split("-")[0] in bad
            if faulty or draw(st.booleans()):
                argv += [f"--{option}", draw(pick(good, wrong, faulty))]
        argv += ["--out", draw(pick(st.sampled_from(["out", "o b"]), BAD_PATHS, "out" in bad))]
    elif command == "analyze":
        bad = draw(faults(["folder", "over"], False))
        argv += [draw(pick(st.sampled_from(["store"]), BAD_PATHS | BAD_NAMES, "folder" in bad))]
        if "over" in bad:
            argv += ["--over-time", draw(BAD_NAMES | st.just("market_yield"))]
    elif command == "diagram":
        bad = draw(faults(["scenario", "loop", "final", "set", "out"], True))
        argv += ["--scenario", draw(pick(st.just("baseline"), BAD_NAMES, "scenario" in bad))]
        argv += ["--loop", draw(pick(st.just("R1"), BAD_NAMES, "loop" in bad))]
        if "final" in bad or draw(st.booleans()):
            argv += ["--final-time", draw(pick(st.just("2027"), YEARS, "final" in bad))]
        if "set" in bad:
            argv += ["--set", draw(st.sampled_from(SET_TEXTS))]
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "backtest":
        bad = draw(faults(["start", "end", "yields", "set", "out"], False))
        if "set" in bad:
            argv += ["--set", draw(st.sampled_from([*SET_TEXTS, "observed_yields_switch=1"]))]
        argv += [
            "--start",
            draw(pick(st.sampled_from(["2020", "2022"]), NUMBERS | YEARS, "start" in bad)),
        ]
        argv += ["--end", draw(pick(st.just("2025"), NUMBERS | YEARS, "end" in bad))]
        argv += [
            "--yields",
            draw(pick(st.sampled_from(["historical", "endogenous"]), BAD_NAMES, "yields" in bad)),
        ]
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "validate":
        argv += ["--out", draw(BAD_PATHS)]
    elif command == "calibrate":
        bad = draw(
            faults(
                ["spec", "walkers", "steps", "burn", "seed", "engine", "scenario", "draws", "out"],
                False,
            )
        )
        argv += [draw(pick(st.just("cal.toml"), BAD_PATHS | st.just("cal.txt"), "spec" in bad))]
        for option, good, wrong in (
            ("walkers", st.just("4"), NUMBERS),
            ("steps", st.just("10"), NUMBERS),
            ("burn", st.just("2"), NUMBERS),
            ("seed", st.sampled_from(["0", "7"]), NUMBERS | st.just("8589934592")),
            ("draws", st.just("2"), NUMBERS),
            ("engine", st.just("simlin"), BAD_NAMES),
            ("scenario", st.just("article"), BAD_NAMES),
        ):
            if option in bad or draw(st.booleans()):
                argv += [f"--{option}", draw(pick(good, wrong, option in bad))]
        if draw(st.booleans()):
            argv.append("--no-projections")
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "report":
        # At least one fault among the options checked before the runs; --sweep and --out may be
        # checked only when the report is written, after every run.
        bad = draw(faults(["scenario", "final", "set"], True))
        bad |= draw(faults(["sweep", "out"], False))
        argv += [draw(pick(st.just("article"), BAD_NAMES, "scenario" in bad))]
        argv += ["--final-time", draw(pick(st.just("2026"), YEARS, "final" in bad))]
        if "sweep" in bad:
            argv += ["--sweep", draw(BAD_PATHS | st.just("nowhere"))]
        if "set" in bad:
            argv += ["--set", draw(st.sampled_from(SET_TEXTS))]
        argv += ["--out", draw(pick(GOOD_OUTS, BAD_PATHS, "out" in bad))]
    elif command == "export":
        bad = draw(faults(["format", "scenario", "final", "set", "out"], False))
        if "format" in bad:
            argv += ["--format", draw(BAD_NAMES)]
        if "scenario" in bad or draw(st.booleans()):
            argv += ["--scenario", draw(pick(st.just("article"), BAD_NAMES, "scenario" in bad))]
        if "final" in bad:
            argv += ["--final-time", draw(YEARS)]
        if "set" in bad:
            argv += ["--set", draw(st.sampled_from(SET_TEXTS))]
        argv += [
            "--out",
            draw(
                pick(
                    st.sampled_from(["model.xmile", "out/m.stmx"]),
                    BAD_PATHS | st.just("out"),
                    "out" in bad,
                )
            ),
        ]
    elif command == "explore":
        bad = draw(faults(["port", "scenario"], True))
        argv += ["--port", draw(pick(st.just("5006"), NUMBERS | st.just("70000"), "port" in bad))]
        argv += ["--scenario", draw(pick(st.just("japan_full"), BAD_NAMES, "scenario" in bad))]
        return argv  # never a good call: it would serve until stopped
    elif command == "build":
        if draw(st.booleans()):
            argv.append("--nope")
    return argv + draw(EXTRA_ARGS)


SET_TEXTS = [
    "",
    "=",
    "x",
    "japan_sale_amount=",
    f"japan_sale_amount={HUGE_INT}",
    "japan_sale_amount=nan",
    "japan_sale_amount=1e999",
    "japan_sale_amount=-inf",
    "nope=1",
    f"{CONTROL_RAW[0]}=1",
    f"japan_sale_amount={CONTROL_RAW[1]}",
    f"primary_deficit_share_of_gdp={HUGE_INT}:0.02",
    "primary_deficit_share_of_gdp=2025:0.02,2030:1e400",
    "time_step=0",
    "final_time=1e308",
    "initial_time=-1",
]
SCHEDULERS = [
    "",
    "not-an-address",
    "tcp://",
    "tcp://127.0.0.1:1",
    "foo://x:1",
    "tcp://[::1",
    "inproc://nowhere/1",
]
#: Every command of ``debtloops``.
COMMANDS = (
    "run",
    "attribute",
    "sweep",
    "analyze",
    "discover",
    "compare-policies",
    "fan",
    "target",
    "diagram",
    "backtest",
    "validate",
    "calibrate",
    "report",
    "list",
    "build",
    "export",
    "explore",
)

# ---- damage to a sweep store ---------------------------------------------------------------------

DAMAGE = ("delete", "truncate", "half", "random", "flip", "delete_array")


@st.composite
def store_damage(draw, files: list[str]) -> tuple[str, str, int]:
    """Damage to one file of a sweep store: (action, the file relative to the store, a seed)."""
    return (
        draw(st.sampled_from(DAMAGE)),
        draw(st.sampled_from(files)),
        draw(st.integers(0, 2**32 - 1)),
    )
