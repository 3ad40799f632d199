"""``debtloops data refresh`` against FRED responses served from files; ``--data DIR``.

No test here uses the network: the responses are files under ``tests/cassettes/fred/`` in FRED's
CSV layout (built from the shipped data, with three revisions; see
``tests/cassettes/make_fred_cassettes.py``), served by a fake opener put in place of
:func:`debtloops.model.refresh.fetch_url`. Failures are made by damaging one response, or by an
opener that raises what :mod:`urllib` raises.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import shutil
import socket
import urllib.error
import urllib.parse
from email.message import Message
from pathlib import Path

import pytest

from debtloops import cli
from debtloops.errors import DownloadError
from debtloops.model import data, refresh

CASSETTES = Path(__file__).parent / "cassettes" / "fred"
#: The series the failure cases damage: a monthly yield and an annual budget total.
DAMAGED, BUDGET_SERIES = "GS10", "FYOINT"


def serve(damage=None):
    """Return an opener that serves the recorded file of each series, ``damage`` applied."""

    def opener(url: str, timeout: float) -> bytes:
        assert timeout == refresh.TIMEOUT
        series = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["id"][0]
        body = (CASSETTES / f"{series}.csv").read_bytes()
        return damage(series, body, url) if damage else body

    return opener


@pytest.fixture(autouse=True)
def shipped_data_afterwards():
    """Point the readers back at the shipped files after each test (``--data`` moves them)."""
    yield
    data.use_dataset(None)


def _hashes(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _fred(series: str) -> dict[str, float]:
    """Return a recorded FRED response's values by date."""
    with (CASSETTES / f"{series}.csv").open(newline="") as handle:
        return {row[0]: float(row[1]) for row in list(csv.reader(handle))[1:]}


def _table(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _rows(path: Path) -> dict[tuple[str, str], str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {(row[0], row[1]): row[2] for row in list(csv.reader(handle))[1:]}


@pytest.fixture
def refreshed(tmp_path, monkeypatch, capsys):
    """A dataset written by ``debtloops data refresh`` from the recorded responses."""
    before = _hashes(data.DATA_DIR)
    monkeypatch.setattr(refresh, "fetch_url", serve())
    out = tmp_path / "dataset"
    assert cli.main(["data", "refresh", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert _hashes(data.DATA_DIR) == before, "the shipped files were written"
    return out, printed


def test_a_refresh_writes_the_shipped_files_with_the_revised_values(refreshed):
    out, printed = refreshed
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        data.DATASET_FILES
    )
    old = _rows(data.HISTORY_FILE)
    new = _rows(out / data.HISTORY_FILE.name)
    assert old.keys() == new.keys()
    # gdp_fy is the mean of FRED's quarters Q4 of t-1 to Q3 of t, as history_2000_2025.md defines
    quarters = _fred("GDP")
    for year in (2001, 2024):
        dates = [f"{year - 1}-10-01", *(f"{year}-{m:02d}-01" for m in (1, 4, 7))]
        mean = sum(quarters[d] for d in dates) / len(dates)
        assert float(new[("gdp_fy", str(year))]) == pytest.approx(mean, abs=0.05)
    # FRED's FYOINT ($mn) / 1000, and the rows derived from it follow
    interest = _fred("FYOINT")
    assert float(new[("net_interest", "2025")]) == pytest.approx(interest["2025-09-30"] / 1000)
    primary = float(new[("total_deficit", "2025")]) - float(new[("net_interest", "2025")])
    assert float(new[("primary_deficit", "2025")]) == pytest.approx(primary, abs=1e-3)
    # series the refresh does not cover are copied unchanged
    for key in [k for k in old if k[0] in ("japan_holdings", "debt_held_by_public")]:
        assert new[key] == old[key]
    # the table names what changed; the .md says where this copy came from
    assert "gdp_fy" in printed and "not refreshed" in printed and "japan_holdings" in printed
    assert "refreshed on" in (out / "history_2000_2025.md").read_text(encoding="utf-8")
    # the catalogue names FRED as the copy of what was refreshed, and only of that
    catalogue = {row[0]: row for row in _table(out / data.MONTHLY_CATALOGUE.name)}
    shipped = {row[0]: row for row in _table(data.DATA_DIR / data.MONTHLY_CATALOGUE.name)}
    assert "fredgraph.csv?id=GS10" in ",".join(catalogue["gs10"])
    assert catalogue["tic_japan_holdings"] == shipped["tic_japan_holdings"]


def test_a_second_refresh_replaces_the_first(refreshed, capsys):
    out, _ = refreshed
    assert cli.main(["data", "refresh", "--out", str(out)]) == 0
    assert "dataset in" in capsys.readouterr().out


def test_backtest_accepts_a_refreshed_dataset_and_uses_it(refreshed, tmp_path, capsys):
    out, _ = refreshed
    backtest = tmp_path / "backtest"
    argv = ["backtest", "--start", "2020", "--end", "2025", "--data", str(out)]
    assert cli.main([*argv, "--out", str(backtest)]) == 0
    with (backtest / "backtest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    interest = _rows(out / data.HISTORY_FILE.name)[("net_interest", "2025")]
    shipped = _rows(data.DATA_DIR / data.HISTORY_FILE.name)[("net_interest", "2025")]
    actual = next(
        r["actual"] for r in rows if (r["variable"], r["year"]) == ("net_interest", "2025")
    )
    assert float(actual) == pytest.approx(float(interest)) != float(shipped)


def _http(code: int):
    def damage(series, body, url):
        if series == DAMAGED:
            raise urllib.error.HTTPError(url, code, "Server says no", Message(), None)
        return body

    return damage


def _raise(error: BaseException):
    def damage(series, body, url):
        if series == DAMAGED:
            raise error
        return body

    return damage


def _edit(change):
    def damage(series, body, url):
        return change(body) if series == DAMAGED else body

    return damage


def _units(series, body, url):
    """Budget totals in $bn instead of FRED's $mn."""
    if series != BUDGET_SERIES:
        return body
    lines = body.decode().splitlines()
    fixed = [
        lines[0],
        *(f"{d},{float(v) / 1000:.3f}" for d, v in (x.split(",") for x in lines[1:])),
    ]
    return ("\n".join(fixed) + "\n").encode()


def _drop_line(body: bytes) -> bytes:
    lines = body.splitlines(keepends=True)
    return b"".join(lines[: len(lines) // 2] + lines[len(lines) // 2 + 1 :])


FAILURES = {
    "http 404": (_http(404), "HTTP 404"),
    "http 500": (_http(500), "HTTP 500"),
    "timeout": (_raise(TimeoutError("timed out")), "did not answer within"),
    "timeout in urllib": (
        _raise(urllib.error.URLError(TimeoutError("timed out"))),
        "did not answer within",
    ),
    "offline": (
        _raise(urllib.error.URLError(socket.gaierror(-3, "Temporary failure"))),
        "cannot reach fred.stlouisfed.org",
    ),
    "connection reset": (_raise(ConnectionResetError(104, "Connection reset")), "try again"),
    "cut short": (_raise(http.client.IncompleteRead(b"observation_date", 900)), "cut short"),
    "truncated mid-line": (_edit(lambda b: b[: len(b) // 2 + 3]), "not a date and a number"),
    "truncated at a line": (
        _edit(lambda b: b"".join(b.splitlines(keepends=True)[:100])),
        "truncated file",
    ),
    "renamed column": (_edit(lambda b: b.replace(b",GS10", b",GS10_PCT", 1)), "renamed column"),
    "a gap": (_edit(_drop_line), "has a gap"),
    "units changed": (_units, "change of units"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_download_or_check_is_one_line_and_writes_nothing(
    case, tmp_path, monkeypatch, capsys
):
    damage, phrase = FAILURES[case]
    monkeypatch.setattr(refresh, "fetch_url", serve(damage))
    out = tmp_path / "dataset"
    status = cli.main(["data", "refresh", "--out", str(out)])
    error = capsys.readouterr().err
    assert status == DownloadError.exit_code != 0
    assert phrase in error and "nothing was written" in error
    assert error.count("\n") == 1 and error.startswith("debtloops: error: ")
    assert not out.exists()


def test_refresh_refuses_the_shipped_data_folder(monkeypatch, capsys):
    monkeypatch.setattr(refresh, "fetch_url", serve())
    before = _hashes(data.DATA_DIR)
    assert cli.main(["data", "refresh", "--out", str(data.DATA_DIR)]) == 2
    assert "shipped data folder" in capsys.readouterr().err
    assert _hashes(data.DATA_DIR) == before


def test_refresh_never_replaces_a_file_it_did_not_write(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(refresh, "fetch_url", serve())
    out = tmp_path / "dataset"
    out.mkdir()
    mine = out / data.HISTORY_FILE.name
    mine.write_text("my own notes\n")
    assert cli.main(["data", "refresh", "--out", str(out)]) == 2
    assert "not debtloops' to replace" in capsys.readouterr().err
    assert mine.read_text() == "my own notes\n"
    assert sorted(p.name for p in out.iterdir()) == [mine.name]


#: Every command that takes ``--data``, with what else it needs.
DATA_COMMANDS = {
    "run": ["run", "baseline"],
    "backtest": ["backtest"],
    "episodes": ["episodes"],
    "validate": ["validate"],
    "calibrate": [
        "calibrate",
        str(data.DATA_DIR.parent / "calibrations" / "history_2000_2019.toml"),
    ],
}


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_a_bad_dataset_is_refused_naming_file_and_line(command, tmp_path, capsys):
    folder = tmp_path / "dataset"
    folder.mkdir()
    for name in data.DATASET_FILES:
        shutil.copyfile(data.DATA_DIR / name, folder / name)
    path = folder / data.HISTORY_FILE.name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[4].split(",", 3)
    lines[4] = ",".join([fields[0], fields[1], "n/a", fields[3]])
    path.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    argv = [*DATA_COMMANDS[command], "--data", str(folder), "--out", str(out)]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert str(path) in error and "line 5" in error
    assert not out.exists()
    (folder / data.MONTHLY_FILE.name).unlink()
    path.write_text("".join(lines[:4] + lines[5:]), encoding="utf-8")
    assert cli.main(argv) == 2
    assert "markets_monthly.csv is missing" in capsys.readouterr().err
    assert not out.exists()


def test_no_command_but_refresh_opens_a_socket(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise OSError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert cli.main(["run", "baseline", "--out", str(tmp_path / "run")]) == 0
    argv = ["backtest", "--start", "2021", "--end", "2025", "--out", str(tmp_path / "bt")]
    assert cli.main(argv) == 0
    assert cli.main(["episodes", "--out", str(tmp_path / "episodes")]) == 0
    # the guard holds: the refresh, through urllib, meets it and says it is offline
    out = tmp_path / "dataset"
    assert cli.main(["data", "refresh", "--out", str(out)]) == DownloadError.exit_code
    assert "cannot reach fred.stlouisfed.org" in capsys.readouterr().err
    assert not out.exists()


def test_fred_files_old_and_new_layouts_read_alike():
    """FRED's CSV: ``observation_date`` and an empty field now, ``DATE`` and "." before."""
    new = refresh.parse_fred("GS10", b"observation_date,GS10\n2025-08-01,4.26\n2025-09-01,\n")
    old = refresh.parse_fred("GS10", b"DATE,GS10\r\n2025-08-01,4.26\r\n2025-09-01,.\r\n")
    assert new.index.equals(old.index)
    assert new.iloc[0] == old.iloc[0] == pytest.approx(4.26)
    assert new.isna().iloc[1] and old.isna().iloc[1]
    with pytest.raises(DownloadError, match="does not follow"):
        refresh.parse_fred("GS10", b"observation_date,GS10\n2025-09-01,4\n2025-08-01,4\n")
