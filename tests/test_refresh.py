"""``debtloops data refresh`` against FRED responses served from files; ``--data DIR``.

No test here uses the network: the responses are files under ``tests/cassettes/fred/`` in FRED's
CSV layout (built from the shipped data, with three revisions; see
``tests/cassettes/make_fred_cassettes.py``), served by a fake opener put in place of
:func:`debtloops.model.refresh.fetch_url`. Failures are made by damaging one response, or by an
opener that raises what :mod:`urllib` raises.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import http.client
import json
import shutil
import socket
import urllib.error
import urllib.parse
from email.message import Message
from pathlib import Path

import pytest

from debtloops import cli
from debtloops.errors import DownloadError
from debtloops.model import data, datafiles, publishers, refresh

CASSETTES = Path(__file__).parent / "cassettes" / "fred"
#: The other publishers' files, by address, and the name the failure cases give each.
PUBLISHED = {
    publishers.TIC_URL: ("TIC", Path(__file__).parent / "cassettes" / "treasury" / "mfhhis01.txt"),
    publishers.MSPD_URL: (
        "MSPD",
        Path(__file__).parent / "cassettes" / "treasury" / "mspd_table_1.json",
    ),
    publishers.SOMA_URL: (
        "SOMA",
        Path(__file__).parent / "cassettes" / "nyfed" / "soma_summary.json",
    ),
}
#: The series the failure cases damage: a monthly yield and an annual budget total.
DAMAGED, BUDGET_SERIES = "GS10", "FYOINT"


def serve(damage=None):
    """Return an opener that serves the recorded file of each series, ``damage`` applied.

    ``damage(name, body, url)`` gets FRED's series id, or TIC, MSPD or SOMA for the others.
    """

    def opener(url: str, timeout: float) -> bytes:
        assert timeout == refresh.TIMEOUT
        if url in PUBLISHED:
            series, path = PUBLISHED[url]
            body = path.read_bytes()
        else:
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
    old = _rows(datafiles.HISTORY_FILE)
    new = _rows(out / datafiles.HISTORY_FILE.name)
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
    for key in [k for k in old if k[0] in ("debt_held_by_public", "acmtp10")]:
        assert new[key] == old[key]
    # TIC's September holdings are the fiscal year's; the revised months only move
    tic = publishers.parse_tic(PUBLISHED[publishers.TIC_URL][1].read_bytes())
    assert (
        float(new[("japan_holdings", "2025")])
        == tic["japan"]["2025-09"][0]
        != float(old[("japan_holdings", "2025")])
    )
    assert new[("japan_holdings", "2024")] == old[("japan_holdings", "2024")]
    # the split of the revised holdings still adds up, month by month and by fiscal year
    monthly = _rows(out / datafiles.MONTHLY_FILE.name)
    shipped_monthly = _rows(datafiles.MONTHLY_FILE)
    for month in ("2025-01", "2025-09"):
        before = "2024-12" if month == "2025-01" else "2025-08"
        change = float(monthly[("tic_japan_holdings", month)]) - float(
            monthly[("tic_japan_holdings", before)]
        )
        parts = sum(
            float(monthly[(f"tic_japan_{part}", month)])
            for part in ("net_transactions", "valuation_change", "benchmark_revision")
        )
        assert parts == pytest.approx(change, abs=1e-5)
    assert (
        monthly[("tic_china_net_transactions", "2025-09")]
        == shipped_monthly[("tic_china_net_transactions", "2025-09")]
    )
    fy = sum(
        float(monthly[("tic_japan_net_transactions", m)])
        for m in ("2024-10", "2024-11", "2024-12", *(f"2025-{i:02d}" for i in range(1, 10)))
    )
    assert float(new[("japan_net_transactions", "2025")]) == pytest.approx(fy, abs=1e-5)
    # the SOMA and the MSPD, unrevised in the responses, come out as shipped
    for key in [k for k in shipped_monthly if k[0].startswith("treast_")]:
        assert monthly[key] == shipped_monthly[key]
    structure = _rows(out / datafiles.STRUCTURE_FILE.name)
    assert structure == _rows(datafiles.STRUCTURE_FILE)
    notes = {row[0]: row[4] for row in _table(out / datafiles.STRUCTURE_FILE.name)[1:]}
    assert "MSPD Table I" in notes["bills_outstanding"]
    # the table names what changed; the .md says where this copy came from
    assert "gdp_fy" in printed and "not refreshed" in printed and "acmtp10" in printed
    assert "tic_japan_holdings" in printed and "CBO's projections are not downloaded" in printed
    assert "refreshed on" in (out / "history_2000_2025.md").read_text(encoding="utf-8")
    # the catalogue names FRED as the copy of what was refreshed, and only of that
    catalogue = {row[0]: row for row in _table(out / datafiles.MONTHLY_CATALOGUE.name)}
    shipped = {row[0]: row for row in _table(data.DATA_DIR / datafiles.MONTHLY_CATALOGUE.name)}
    assert "fredgraph.csv?id=GS10" in ",".join(catalogue["gs10"])
    assert publishers.TIC_URL in catalogue["tic_japan_holdings"]
    assert publishers.SOMA_URL in catalogue["treast_month_mean"]
    assert catalogue["acmtp10"] == shipped["acmtp10"]


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
    interest = _rows(out / datafiles.HISTORY_FILE.name)[("net_interest", "2025")]
    shipped = _rows(data.DATA_DIR / datafiles.HISTORY_FILE.name)[("net_interest", "2025")]
    actual = next(
        r["actual"] for r in rows if (r["variable"], r["year"]) == ("net_interest", "2025")
    )
    assert float(actual) == pytest.approx(float(interest)) != float(shipped)


def test_episodes_accept_a_refreshed_monthly_layer(refreshed, tmp_path, monkeypatch):
    """The monthly layer the episodes read (funds rate, SOMA, TIC) comes from the refresh."""
    out, _ = refreshed
    read = []
    original = data.markets_monthly.__wrapped__

    def spy():
        read.append(datafiles.MONTHLY_FILE)
        return original()

    monkeypatch.setattr(data, "markets_monthly", functools.cache(spy))
    argv = ["episodes", "--data", str(out), "--out", str(tmp_path / "episodes")]
    assert cli.main(argv) == 0
    assert read and all(path == out / datafiles.MONTHLY_FILE.name for path in read)
    assert (tmp_path / "episodes" / "episodes.csv").is_file()


def _http(code: int, target: str = DAMAGED):
    def damage(series, body, url):
        if series == target:
            raise urllib.error.HTTPError(url, code, "Server says no", Message(), None)
        return body

    return damage


def _raise(error: BaseException, target: str = DAMAGED):
    def damage(series, body, url):
        if series == target:
            raise error
        return body

    return damage


def _edit(change, target: str = DAMAGED):
    def damage(series, body, url):
        return change(body) if series == target else body

    return damage


def _half(body: bytes) -> bytes:
    return body[: len(body) // 2]


def _billions(body: bytes) -> bytes:
    """MSPD amounts in $bn instead of Fiscal Data's $mn."""
    answer = json.loads(body)
    for row in answer["data"]:
        for name in ("total_mil_amt", "debt_held_public_mil_amt"):
            row[name] = f"{float(row[name]) / 1000:.3f}"
    return json.dumps(answer).encode()


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
    # Treasury's TIC table
    "TIC http 503": (_http(503, "TIC"), "Treasury answered HTTP 503"),
    "TIC timeout": (_raise(TimeoutError("timed out"), "TIC"), "did not answer within"),
    "TIC truncated": (_edit(_half, "TIC"), "truncated"),
    "TIC renamed row": (
        _edit(lambda b: b.replace(b"Grand Total", b"Total Holdings"), "TIC"),
        "no row 'Grand Total'",
    ),
    "TIC renamed column": (
        _edit(lambda b: b.replace(b"Country\t", b"Holder\t"), "TIC"),
        "renamed column",
    ),
    # Fiscal Data's MSPD Table I
    "MSPD http 500": (_http(500, "MSPD"), "Fiscal Data answered HTTP 500"),
    "MSPD timeout": (
        _raise(urllib.error.URLError(TimeoutError("timed out")), "MSPD"),
        "did not answer within",
    ),
    "MSPD truncated": (_edit(_half, "MSPD"), "truncated"),
    "MSPD renamed field": (
        _edit(lambda b: b.replace(b'"total_mil_amt"', b'"total_amt"'), "MSPD"),
        "no field 'total_mil_amt'",
    ),
    "MSPD units changed": (_edit(_billions, "MSPD"), "change of units"),
    # the New York Fed's SOMA summary
    "SOMA http 404": (_http(404, "SOMA"), "the New York Fed answered HTTP 404"),
    "SOMA timeout": (_raise(TimeoutError("timed out"), "SOMA"), "did not answer within"),
    "SOMA truncated": (_edit(_half, "SOMA"), "truncated"),
    "SOMA renamed field": (
        _edit(lambda b: b.replace(b'"notesbonds"', b'"notes_bonds"'), "SOMA"),
        "no field 'notesbonds'",
    ),
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
    mine = out / datafiles.HISTORY_FILE.name
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
    path = folder / datafiles.HISTORY_FILE.name
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
    (folder / datafiles.MONTHLY_FILE.name).unlink()
    path.write_text("".join(lines[:4] + lines[5:]), encoding="utf-8")
    assert cli.main(argv) == 2
    assert "markets_monthly.csv is missing" in capsys.readouterr().err
    assert not out.exists()


def test_a_dataset_without_the_debts_structure_is_refused(tmp_path, capsys):
    folder = tmp_path / "dataset"
    folder.mkdir()
    for name in data.DATASET_FILES:
        if name != datafiles.STRUCTURE_FILE.name:
            shutil.copyfile(data.DATA_DIR / name, folder / name)
    out = tmp_path / "out"
    assert cli.main(["backtest", "--data", str(folder), "--out", str(out)]) == 2
    assert f"{datafiles.STRUCTURE_FILE.name} is missing" in capsys.readouterr().err
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
