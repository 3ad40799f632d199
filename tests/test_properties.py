"""Property-based tests: random scenario files, ``--set`` strings, sweep specifications
and output paths go through the real parsers and the command-line entry point. Each either runs
or exits 2 with a message (3 for a run that reaches an impossible state), never with a traceback,
and nothing is written outside the output folder. Suggested values are always accepted."""

import contextlib
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from debtloops import cli
from debtloops.errors import InputError
from debtloops.io import OWN_NAMES
from debtloops.model.parameters import load_parameters, validate
from debtloops.model.scenarios import list_scenarios

TABLE = load_parameters()
NAMES = list(TABLE)
CONSTANTS = [p.name for p in TABLE.values() if p.kind != "driver"]
DRIVERS = [p.name for p in TABLE.values() if p.kind == "driver"]
SWEEPABLE = [p.name for p in TABLE.values() if p.kind not in ("control", "definition")]
SHIPPED = list_scenarios()
OUTCOMES = ["debt_to_gdp", "market_yield", "dollar_index", "one_year", "time_step", "nope"]

# No example database (it would be written into the working folder), no deadline (the first
# run translates the model), and a fixed budget so that the suite stays fast.
QUICK = settings(max_examples=150, deadline=None, database=None)
RUNS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ---- the harness -------------------------------------------------------------------------------


@contextlib.contextmanager
def sandbox() -> Iterator[tuple[Path, Path]]:
    """A fresh root with the working folder three levels down, so ``../../..`` stays inside."""
    with tempfile.TemporaryDirectory() as name:
        root = Path(name).resolve()
        work = root / "a" / "b" / "c"
        work.mkdir(parents=True)
        previous = os.getcwd()
        os.chdir(work)
        try:
            yield root, work
        finally:
            os.chdir(previous)


def _snapshot(root: Path) -> dict[Path, bool]:
    """Every path under ``root``, mapped to whether it is a folder."""
    return {p: p.is_dir() for p in root.rglob("*")}


def _call(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, err.getvalue()


def _check(status: int, err: str, allowed: tuple[int, ...] = (0, 2, 3)) -> None:
    assert "Traceback" not in err, err
    assert status in allowed, err
    if status:
        assert err.startswith("debtloops: error: ") or "error: argument" in err, err


def _check_contained(before: dict[Path, bool], root: Path, out: Path, status: int) -> None:
    """New paths lie in the output folder (or are folders on the way to it, as ``0`` in
    ``0/../out``); after a refusal there is no new file at all."""
    on_the_way = set()
    if status == 0:
        on_the_way = {p.resolve() for p in [out, *out.parents]}  # lexical, then resolved
        out = out.resolve()
    for path, is_dir in _snapshot(root).items():
        if path in before:
            continue
        if status == 0:
            inside = path == out or out in path.parents
            assert inside or (is_dir and (path in out.parents or path in on_the_way)), path
        else:
            assert is_dir or path.name in OWN_NAMES, f"a refused command wrote {path}"


# ---- random scenario files -------------------------------------------------------------------


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def _in_range(name: str) -> st.SearchStrategy[float]:
    param = TABLE[name]
    return st.floats(param.low, param.high)


_ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=2),
)
_SET_ENTRY = st.one_of(
    st.sampled_from(CONSTANTS).flatmap(lambda n: st.tuples(st.just(n), _in_range(n))),
    st.tuples(st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=8)), _ANY_VALUE),
)
_YEAR = st.one_of(
    st.integers(2020, 2080).map(str),
    st.sampled_from(["2030", "2030.0", "2030.5", "nan", "inf", "x", "", " 2040 "]),
)
_SERIES_ENTRY = st.tuples(
    st.one_of(st.sampled_from(DRIVERS), st.sampled_from(CONSTANTS)),
    st.lists(
        st.tuples(_YEAR, st.one_of(st.floats(-0.05, 0.1), _ANY_VALUE)), min_size=0, max_size=4
    ),
)
_BASE = st.one_of(
    st.none(),
    st.sampled_from([*SHIPPED, "sibling", "../x", "/etc/hostname", "x.toml", "nope", ""]),
    st.integers(),
    st.text(max_size=8),
)


@st.composite
def scenario_documents(draw) -> bytes:
    """A scenario file: mostly well-formed TOML with good and bad entries, sometimes junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=60))
    lines = ["# a random scenario", "# Intent: fuzzing", "# Source: hypothesis"]
    base = draw(_BASE)
    if base is not None:
        lines.append(f"base = {_toml(base)}")
    if draw(st.booleans()):
        lines.append("[set]")
        for key, value in draw(st.lists(_SET_ENTRY, max_size=3)):
            lines.append(f"{json.dumps(key)} = {_toml(value)}")
    if draw(st.booleans()):
        lines.append("[series]")
        for key, pairs in draw(st.lists(_SERIES_ENTRY, max_size=2)):
            table = ", ".join(f"{json.dumps(y)} = {_toml(v)}" for y, v in pairs)
            lines.append(f"{json.dumps(key)} = {{ {table} }}")
    if draw(st.integers(0, 9)) == 0:
        lines.append(draw(st.sampled_from(["[other]", "set = 3", "x = ", "[set]\n[set]"])))
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


@pytest.mark.slow
@RUNS
@given(document=scenario_documents(), sibling=st.booleans())
def test_random_scenario_files_run_or_exit_2_and_stay_contained(document, sibling):
    with sandbox() as (root, work):
        (work / "mine.toml").write_bytes(document)
        if sibling:
            (work / "sibling.toml").write_text('base = "article"\n')
        before = _snapshot(root)
        status, err = _call("run", "./mine.toml", "--final-time", "2026", "--out", "out")
        _check(status, err)
        _check_contained(before, root, work / "out", status)
        if status == 0:
            assert (work / "out" / "mine" / "results.nc").is_file()


# ---- random --set strings ------------------------------------------------------------------------


def _number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**5), 10**5).map(str),
        st.sampled_from(["", "x", "1e999", "0x10", "1_000", "--1", " 3 "]),
    )


_SET_TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}={}".format,
        st.one_of(st.sampled_from(NAMES), st.text(max_size=6)),
        _number_text(),
    ),
    st.builds(
        "{}={}".format,
        st.sampled_from(DRIVERS),
        st.lists(
            st.builds("{}:{}".format, st.one_of(_YEAR, _number_text()), _number_text()),
            max_size=4,
        ).map(",".join),
    ),
    st.sampled_from(CONSTANTS).flatmap(
        lambda n: _in_range(n).map(lambda v: f"{n}={v!r}")  # mostly valid
    ),
)


@pytest.mark.slow
@RUNS
@given(assignment=_SET_TEXT)
def test_random_set_strings_run_or_exit_2_and_stay_contained(assignment):
    with sandbox() as (root, work):
        before = _snapshot(root)
        args = ("run", "article", f"--set={assignment}", "--final-time", "2026", "--out", "out")
        status, err = _call(*args)
        _check(status, err)
        _check_contained(before, root, work / "out", status)


# ---- suggested values are accepted -------------------------------------------------------------

_SUGGESTION = re.compile(r"^(\w+) = .*nearest valid value: (\S+)$")


def _follow_suggestions(overrides: dict[str, float]) -> dict[str, float]:
    """Replace values by the suggestions of the errors until there is none; return the result."""
    current = dict(overrides)
    for _ in range(2 * len(current) + 2):
        try:
            validate(TABLE, current)
            return current
        except InputError as error:
            found = _SUGGESTION.match(str(error))
            if found is None:
                return current  # no suggestion (not a number): nothing to follow
            name, value = found.group(1), float(found.group(2))
            assert name in TABLE, str(error)
            current[name] = value
    raise AssertionError(f"the suggestions for {overrides} do not converge: {current}")


_CONSTANT_OVERRIDE = st.sampled_from(CONSTANTS).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.one_of(
            st.floats(TABLE[n].valid_min - 10, TABLE[n].valid_max + 10),
            st.floats(-1e6, 1e6),
            _in_range(n),
        ),
    )
)
_CONTROLS = st.fixed_dictionaries(
    {},
    optional={
        "time_step": st.floats(1e-4, 0.5),
        "saveper": st.floats(0.01, 2.0),
        "final_time": st.floats(2000.0, 2300.0),
    },
)


@QUICK
@given(
    pairs=st.lists(_CONSTANT_OVERRIDE, min_size=1, max_size=3, unique_by=lambda p: p[0]),
    controls=_CONTROLS,
)
# Found by a random run: the Fed's holdings alone above the largest valid debt made the debt's two
# checks suggest each other's bound for ever.
@example(pairs=[("initial_fed_holdings", 990753.0)], controls={})
def test_every_suggested_value_is_accepted(pairs, controls):
    overrides = {**dict(pairs), **controls}
    fixed = _follow_suggestions(overrides)
    validate(TABLE, fixed)  # following every suggestion ends in valid input


@QUICK
@given(name=st.sampled_from(CONSTANTS), value=st.floats(-1e9, 1e9))
def test_a_suggested_value_is_accepted_as_printed(name, value):
    """Typing the suggestion back is accepted for that parameter; any further error (a check
    between parameters) is about another one."""
    try:
        validate(TABLE, {name: value})
    except InputError as error:
        found = _SUGGESTION.match(str(error))
        assert found is not None, str(error)
        fixed = {name: value, found.group(1): float(found.group(2))}
        try:
            validate(TABLE, fixed)
        except InputError as again:
            assert not str(again).startswith(f"{found.group(1)} = "), (str(error), str(again))


# ---- random sweep specifications -----------------------------------------------------------------


@st.composite
def sweep_specs(draw) -> str:
    """A sweep specification: small enough to run in a second when it is valid."""
    lines = ["# fuzz: a random sweep", "# Intent: fuzzing.", "# Source: hypothesis."]
    scenarios = draw(
        st.one_of(
            st.lists(st.sampled_from([*SHIPPED[:3], "nope"]), max_size=2),
            st.sampled_from([["article"], ["baseline", "japan_full"]]),
        )
    )
    lines.append(f"scenarios = {_toml(scenarios)}")
    outcomes = draw(
        st.one_of(
            st.lists(st.sampled_from(OUTCOMES), max_size=2),
            st.sampled_from([["debt_to_gdp"], ["market_yield", "dollar_index"]]),
        )
    )
    lines.append(f"outcomes = {_toml(outcomes)}")
    if draw(st.booleans()):
        final = draw(st.one_of(st.floats(2024.0, 2032.0), st.sampled_from([2025.0625, 2300.0])))
        lines.append(f"final_time = {_toml(final)}")
    method, samples = draw(
        st.one_of(
            st.tuples(
                st.sampled_from(["grid", "monte_carlo", "lhs", "sobol", "morris", "latin"]),
                st.sampled_from([0, 1, 2, 3, 4, 16, 17]),
            ),
            st.sampled_from([("lhs", 5), ("monte_carlo", 3), ("grid", 2), ("morris", 2)]),
        )
    )
    lines += ["[sampler]", f'method = "{method}"', f"samples = {samples}"]
    lines.append(f"seed = {draw(st.sampled_from([0, 7, -1]))}")
    names = draw(
        st.one_of(
            st.lists(st.sampled_from([*SWEEPABLE, "time_step", "nope"]), max_size=2, unique=True),
            st.lists(st.sampled_from(SWEEPABLE), min_size=1, max_size=2, unique=True),
        )
    )
    for name in names:
        lines.append(f"[uncertainties.{name}]")
        if draw(st.integers(0, 3)) == 0:
            low = draw(st.floats(-1.0, 10.0))
            lines.append(f"range = [{_toml(low)}, {_toml(low + draw(st.floats(-1.0, 5.0)))}]")
        if draw(st.booleans()):
            lines.append(f'distribution = "{draw(st.sampled_from(["uniform", "normal", "x"]))}"')
    if draw(st.booleans()):
        lines += [
            "[levers]",
            f"fed_backstop_switch = {_toml(draw(st.sampled_from([[0.0, 1.0], [2.0], []])))}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(spec=sweep_specs())
def test_random_sweep_specs_run_or_exit_2_and_stay_contained(spec):
    with sandbox() as (root, work):
        (work / "spec.toml").write_text(spec)
        before = _snapshot(root)
        args = ("sweep", "spec.toml", "--out", "out", "--quiet", "--chunk-size", "16")
        status, err = _call(*args)
        _check(status, err, allowed=(0, 2))
        _check_contained(before, root, work / "out", status)
        if status == 0:
            assert (work / "out" / "sweep.zarr").is_dir()


# ---- random output paths ---------------------------------------------------------------------

_SEGMENT = st.one_of(
    st.sampled_from(["..", ".", "out", "a b", "é", "-", "~", "$HOME", "*", "\n", "", "x" * 300]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"),
        min_size=1,
        max_size=12,
    ),
)


@pytest.mark.slow
@settings(RUNS, max_examples=20)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=4))
def test_random_output_paths_write_only_inside_themselves(segments):
    if segments.count("..") > 3:
        segments = [s for s in segments if s != ".."] + [".."] * 3  # stay inside the sandbox
    out = "/".join(segments)
    with sandbox() as (root, work):
        (work / "file").write_text("a file where a folder may be asked for")
        before = _snapshot(root)
        status, err = _call("run", "baseline", "--final-time", "2026", "--out", out)
        _check(status, err, allowed=(0, 2))
        _check_contained(before, root, work / out, status)
        if status == 0:
            assert (work / out / "baseline" / "results.nc").is_file()
        if not out.strip():
            assert status == 2
