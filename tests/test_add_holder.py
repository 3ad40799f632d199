"""A third foreign holder, added as data only, runs through run, sweep, the explorer and backtest.

In a temporary copy of the project (its code, its models/ folder and pyproject.toml, so that the
copy is a checkout of its own), the United Kingdom is added by editing only its rows in the
parameter table, its history and one line of the holder list, then `make holders`' generator
writes the .mdl. Every command runs in a subprocess whose code and model files are the copy's.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from debtloops.paths import MODELS_DIR, PROJECT_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROJECT_ROOT is None, reason="needs a checkout to copy"),
]

#: The new holder's line in models/holders.toml.
UK_LINE = '    { key = "uk", name = "United Kingdom", tic = "United Kingdom" },\n'
#: Its holdings at the start [billion USD] (TIC, Sep 2025: about $865bn).
UK_HOLDINGS = 865.0
#: Its share of all foreign holdings and net purchases in the history given to it [1].
UK_SHARE = 0.09
#: The sale of the explorer and of the scenario [billion USD], its first year and its length [year].
SALE, SALE_START, SALE_YEARS = 400.0, 2027.0, 1.0
#: The files the test may change in the copy's models/ folder: what a new holder touches.
TOUCHED = {
    "holders.toml",
    "parameters.toml",
    "data/history_2000_2025.csv",
    "treasury_dumping.mdl",
}
#: Relative tolerance of "holdings by holder add up to the debt" [1].
SUM_TOLERANCE = 1e-9
#: How long one command may take in the copy (a fresh pysd translation included) [s].
TIMEOUT = 900


def _digests(models: Path) -> dict[str, str]:
    """Return each file of a models folder (its translation cache aside) and its SHA-256."""
    return {
        path.relative_to(models).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(models.rglob("*"))
        if path.is_file() and ".build" not in path.relative_to(models).parts
    }


def _add_parameter_rows(table: Path) -> None:
    """Append the UK's rows to the parameter table: China's rows under the UK's names."""
    text = table.read_text(encoding="utf-8")
    rows = []
    for name in (
        "initial_china_holdings",
        "china_baseline_net_purchases",
        "china_private_net_sales",
    ) + tuple(f"china_sale_{field}" for field in ("amount", "start", "duration")):
        row = re.search(rf"^\[{name}\]\n(?:[^\[\n][^\n]*\n)+", text, re.M)[0]
        rows.append(row.replace("china", "uk").replace("China", "the United Kingdom"))
    rows[0] = re.sub(r"^value = .*$", f"value = {UK_HOLDINGS}", rows[0], flags=re.M)
    rows[0] = re.sub(r"^range = .*$", "range = [800.0, 900.0]", rows[0], flags=re.M)
    table.write_text(text.rstrip("\n") + "\n\n" + "\n".join(rows), encoding="utf-8")


def _add_history(history: Path) -> None:
    """Append the UK's holdings and net purchases: a fixed share of all foreign holders'."""
    frame = pd.read_csv(history)
    added = []
    for total, mine in (
        ("foreign_holdings_total", "uk_holdings"),
        ("foreign_net_transactions_total", "uk_net_transactions"),
    ):
        rows = frame[frame["series"] == total].copy()
        rows["series"] = mine
        rows["value"] = (rows["value"] * UK_SHARE).round(3)
        rows["source"] = f"test: {UK_SHARE} of {total}"
        added.append(rows)
    text = pd.concat(added).to_csv(index=False, header=False, lineterminator="\n")
    with history.open("a", encoding="utf-8", newline="") as file:
        file.write(text)


def _copy_project(root: Path) -> Path:
    """Copy the code, the model files and pyproject.toml into ``root``; return its models/."""
    ignore = shutil.ignore_patterns("__pycache__", ".build")
    shutil.copytree(PROJECT_ROOT / "analysis", root / "analysis", ignore=ignore)
    shutil.copytree(MODELS_DIR, root / "models", ignore=ignore)
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root / "models"


def _run(copy: Path, *argv: str) -> subprocess.CompletedProcess:
    """Run Python in the copy, with the copy's code and model files."""
    env = {**os.environ, "PYTHONPATH": str(copy / "analysis"), "MPLBACKEND": "Agg"}
    env.pop("DEBTLOOPS_CACHE", None)  # the copy's own models/.build
    return subprocess.run(
        [sys.executable, *argv],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _call(copy: Path, *argv: str) -> str:
    """Run Python in the copy and return its output; fail on a non-zero exit."""
    done = _run(copy, *argv)
    assert done.returncode == 0, f"{argv}: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The copy with the UK added, and the files the addition changed."""
    root = tmp_path_factory.mktemp("project")
    models = _copy_project(root)
    before = _digests(models)
    _add_parameter_rows(models / "parameters.toml")
    _add_history(models / "data" / "history_2000_2025.csv")
    listed = models / "holders.toml"
    listed.write_text(
        listed.read_text(encoding="utf-8").replace("\n]", f"\n{UK_LINE}]"), encoding="utf-8"
    )
    _call(root, "-m", "debtloops.model.holder_blocks")
    after = _digests(models)
    changed = {name for name in after if before.get(name) != after[name]}
    return root, changed | (set(before) - set(after))


def test_a_new_holder_touches_its_list_line_its_rows_its_history_and_the_generated_model(copy):
    _, changed = copy
    assert changed == TOUCHED


def test_the_generated_model_has_the_new_holder_in_every_sum(copy):
    root, _ = copy
    text = (root / "models" / "treasury_dumping.mdl").read_text(encoding="utf-8")
    assert "uk holdings= INTEG (" in text
    assert re.search(r"^initial uk holdings=\n\t865\n", text, re.M)
    official = ("japan official sales", "china official sales", "uk official sales")
    assert " + ".join(official) + " + other foreign diversification" in text
    assert "- initial china holdings - initial uk holdings)" in text


def test_run_sells_the_new_holders_treasuries_and_raises_the_yield(copy, tmp_path):
    root, _ = copy
    scenario = tmp_path / "uk_sale.toml"
    scenario.write_text(
        "# uk_sale: the United Kingdom sells.\n# Intent: a test.\n# Source: none.\n"
        f'base = "baseline"\n\n[set]\nuk_sale_amount = {SALE}\n'
        f"uk_sale_start = {SALE_START}\nuk_sale_duration = {SALE_YEARS}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    _call(root, "-m", "debtloops", "run", "baseline", str(scenario), "--out", str(out))
    base, sale = (
        xr.open_dataset(out / name / "results.nc").swap_dims(time="fiscal_year")
        for name in ("baseline", "uk_sale")
    )
    assert float(base["uk_holdings"][0]) == pytest.approx(UK_HOLDINGS)
    after = {"fiscal_year": SALE_START + SALE_YEARS}
    fallen = float(base["uk_holdings"].sel(after) - sale["uk_holdings"].sel(after))
    assert fallen == pytest.approx(SALE, rel=1e-6)
    assert float(sale["market_yield"].max()) > float(base["market_yield"].max())
    for run in (base, sale):
        held = sum(
            run[name]
            for name in (
                "japan_holdings",
                "china_holdings",
                "uk_holdings",
                "other_foreign_holdings",
                "fed_holdings",
                "domestic_private_holdings",
            )
        )
        np.testing.assert_allclose(held, run["debt_held_by_public"], rtol=SUM_TOLERANCE)


def test_a_sweep_over_the_new_holders_sale_moves_its_holdings_and_the_yield(copy, tmp_path):
    root, _ = copy
    spec = tmp_path / "uk.toml"
    spec.write_text(
        "# uk: a sweep over the UK's sale.\n# Intent: a test.\n# Source: the parameter table.\n"
        'scenarios = ["baseline"]\noutcomes = ["market_yield", "uk_holdings"]\n'
        "final_time = 2030.0\n\n"
        '[sampler]\nmethod = "lhs"\nsamples = 6\nseed = 3\n\n'
        "[uncertainties.uk_sale_amount]\n",
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    _call(root, "-m", "debtloops", "sweep", str(spec), "--out", str(out), "--workers", "1")
    code = (
        "import sys, json; from pathlib import Path; from debtloops.sweeps import store; "
        "s = store.open_sweep(store.store_path(Path(sys.argv[1]))).sel(scenario='baseline'); "
        "sale = s.sel(time=slice(2026.0, 2027.0)); "
        "print(json.dumps({'amount': s['uk_sale_amount'].values.tolist(), "
        "'yield': sale['market_yield'].mean('time').values.tolist(), "
        "'held': s['uk_holdings'].sel(time=2027.0).values.tolist()}))"
    )
    found = {
        name: np.asarray(values)
        for name, values in json.loads(_call(root, "-c", code, str(out))).items()
    }
    order = np.argsort(found["amount"])
    assert np.all(np.diff(found["yield"][order]) > 0)
    np.testing.assert_allclose(found["held"] + found["amount"], UK_HOLDINGS, rtol=1e-6)


def test_the_explorer_sells_the_new_holders_treasuries(copy):
    root, _ = copy
    code = (
        "import json; from debtloops.app import session as s; "
        "e = s.ExplorerSession('baseline'); "
        f"e.set_value('uk_sale_amount', {SALE}); e.set_value('uk_sale_start', {SALE_START}); "
        "o = e.update(); "
        "print(json.dumps({'holders': list(s.HOLDERS),"
        " 'sales': s.sale_parameters('United Kingdom'),"
        " 'toml': e.scenario_toml(),"
        " 'start': float(o.scenario['uk_holdings'][0]),"
        " 'end': float(o.scenario['uk_holdings'][-1]),"
        " 'yield': float(o.scenario['market_yield'].max()),"
        " 'base_yield': float(o.baseline['market_yield'].max())}))"
    )
    found = json.loads(_call(root, "-c", code))
    assert found["holders"] == ["Japan", "China", "United Kingdom"]
    assert found["sales"] == ["uk_sale_amount", "uk_sale_start", "uk_sale_duration"]
    assert f"uk_sale_amount = {SALE}" in found["toml"]
    assert found["start"] - found["end"] == pytest.approx(SALE, rel=1e-6)
    assert found["yield"] > found["base_yield"]


def test_the_backtest_replays_the_new_holders_history(copy, tmp_path):
    root, _ = copy
    out = tmp_path / "backtest"
    _call(root, "-m", "debtloops", "backtest", "--start", "2015", "--out", str(out))
    table = pd.read_csv(out / "backtest.csv")
    rows = table[table["variable"] == "uk_holdings"].set_index("year")
    assert list(rows.index) == list(range(2015, 2026))
    history = pd.read_csv(root / "models" / "data" / "history_2000_2025.csv")
    start = history[(history["series"] == "uk_holdings") & (history["fiscal_year"] == 2015)]
    assert rows.loc[2015, "model"] == pytest.approx(float(start["value"].iloc[0]), rel=1e-6)
    assert rows["actual"].notna().all()
    assert (out / "backtest.png").stat().st_size > 0


def test_a_holder_line_without_its_tic_row_is_refused_in_one_line_before_anything_runs(tmp_path):
    models = _copy_project(tmp_path / "project")
    listed = models / "holders.toml"
    listed.write_text(
        listed.read_text(encoding="utf-8").replace("\n]", '\n    { key = "uk", name = "UK" },\n]'),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = _run(tmp_path / "project", "-m", "debtloops", "run", "baseline", "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "debtloops: error: holder 3 of holders.toml: 'tic' must be a non-empty string, not None"
    ]
    assert not out.exists()
