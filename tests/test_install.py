"""The package installs anywhere: model files inside the wheel, the translation cache outside it.

The slow tests build the wheel, install it (and the checkout, editable) into fresh virtual
environments that borrow this environment's dependencies through a ``.pth`` file (``--no-deps``:
nothing is downloaded but the build backend), and run the command line from a temporary folder.
"""

import argparse
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import debtloops
from debtloops import cli, paths

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
#: How long a pip build, install or a short run may take before the test fails [s].
SUBPROCESS_TIMEOUT = 600


#: The CBO vintages' folder, ``debtloops.models.data.cbo``: each vintage in it is a folder that
#: ships by that package's patterns, not a package of its own.
VINTAGES = ROOT / "models" / "data" / "cbo"


def _folders(top: Path, package: str) -> dict[str, Path]:
    """Return ``top`` and every folder under it but hidden ones and the vintages, by package name.

    A folder of data (the report's templates, the JSON Schemas) is a package too: setuptools
    ships it as one and warns when it is not listed.
    """
    folders = {package: top}
    for folder in top.rglob("*"):
        hidden = any(part.startswith((".", "__")) for part in folder.relative_to(top).parts)
        in_vintage = folder.is_relative_to(VINTAGES) and folder != VINTAGES
        if folder.is_dir() and not hidden and not in_vintage:
            folders[".".join((package, *folder.relative_to(top).parts))] = folder
    return folders


def _package_folders() -> dict[str, Path]:
    """Return every folder that the wheel must ship, by its package name."""
    models = _folders(ROOT / "models", "debtloops.models")
    return {**_folders(ROOT / "analysis" / "debtloops", "debtloops"), **models}


def test_pyproject_lists_every_package_and_data_folder():
    assert sorted(SETUPTOOLS["packages"]) == sorted(_package_folders())
    assert SETUPTOOLS["package-dir"] == {"": "analysis", "debtloops.models": "models"}


def test_every_cbo_vintage_ships_as_data_with_no_change_here():
    """A vintage folder (``models/data/cbo/NAME/``) ships by the cbo folder's patterns."""
    patterns = SETUPTOOLS["package-data"]["debtloops.models.data.cbo"]
    files = [file for file in VINTAGES.rglob("*") if file.is_file()]
    assert files
    missing = [
        str(file.relative_to(ROOT))
        for file in files
        if not any(file.relative_to(VINTAGES).match(pattern) for pattern in patterns)
    ]
    assert missing == []


def test_package_data_covers_every_model_file():
    data = SETUPTOOLS["package-data"]
    missing = []
    for name, folder in _package_folders().items():
        if not name.startswith("debtloops.models"):
            continue
        for file in folder.iterdir():
            if file.is_file() and file.name != "__init__.py":
                if not any(file.match(pattern) for pattern in data.get(name, [])):
                    missing.append(str(file.relative_to(ROOT)))
    assert missing == []


def test_a_checkout_keeps_its_translations_in_models_build(monkeypatch):
    monkeypatch.delenv(paths.CACHE_VARIABLE, raising=False)
    assert paths.MODELS_DIR == ROOT / "models"
    if os.access(ROOT / "models", os.W_OK):
        build_dir = paths.find_build_dir(paths.MODELS_DIR, paths.MODEL_FILE)
        assert build_dir == ROOT / "models" / ".build"


def test_the_cache_variable_and_the_user_cache_are_keyed_by_the_model_hash(monkeypatch, tmp_path):
    short = paths.model_hash(paths.MODEL_FILE)[: paths.SHORT_HASH]
    monkeypatch.setenv(paths.CACHE_VARIABLE, str(tmp_path / "mine"))
    chosen = paths.find_build_dir(paths.MODELS_DIR, paths.MODEL_FILE)
    assert chosen == tmp_path / "mine" / f"model-{short}"
    monkeypatch.delenv(paths.CACHE_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    installed = tmp_path / "site-packages" / "debtloops" / "models"  # not a checkout
    installed.mkdir(parents=True)
    found = paths.find_build_dir(installed, paths.MODEL_FILE)
    assert found == tmp_path / "xdg" / "debtloops" / f"model-{short}"


def test_version_names_the_package_and_the_model_hash():
    done = subprocess.run(
        [sys.executable, "-m", "debtloops", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    short = paths.model_hash(paths.MODEL_FILE)[: paths.SHORT_HASH]
    assert re.fullmatch(rf"debtloops \S+, model treasury_dumping\.mdl {short}\n", done.stdout)
    assert done.stdout.startswith(f"debtloops {debtloops.__version__},")


def test_no_command_prints_the_help_as_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "debtloops"], capture_output=True, text=True)
    assert done.returncode == cli.USAGE_ERROR
    assert done.stderr.startswith("usage: debtloops")
    for command in ("run", "list", "export", "sweep"):
        assert re.search(rf"^\s+{command}\s", done.stderr, re.MULTILINE), command


def _actions(parser: argparse.ArgumentParser, where: str = "debtloops"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{where} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield where, action


def test_every_option_and_argument_has_help_text():
    unexplained = [
        f"{where} {action.option_strings or action.dest}"
        for where, action in _actions(cli._parser())
        if not (action.help or "").strip()
    ]
    assert unexplained == []


def test_list_fits_in_a_hundred_columns_and_keeps_whole_sources(capsys, table):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= cli.LIST_WIDTH
    flat = " ".join(out.split())
    for param in table.values():
        assert " ".join(param.source.split()) in flat, param.name
    assert "..." not in flat.replace("...)", "")


def _borrowing_venv(folder: Path) -> Path:
    """Make a virtual environment that sees this one's packages; return its Python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        check=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=_clean_env(),  # pip must not see the checkout's package on PYTHONPATH
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", paths.CACHE_VARIABLE)}
    return {**env, **extra}


@pytest.mark.slow
@pytest.mark.install
def test_the_wheel_runs_from_any_folder(tmp_path):
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(ROOT))
    (wheel,) = (tmp_path / "dist").glob("debtloops-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "treasury_dumping.mdl",
        "parameters.toml",
        "README.md",
        "data/cbo/2025-01/projections.csv",
        "data/cbo/2025-01/vintage.toml",
    ):
        assert f"debtloops/models/{shipped}" in names, shipped
    assert not [name for name in names if "/.build/" in name]
    assert "debtloops/app/templates/report.html.j2" in names  # the report's template

    python = _borrowing_venv(tmp_path / "venv")
    _pip("--python", str(python), "install", "--no-deps", "--quiet", str(wheel))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    script = tmp_path / "venv" / "bin" / "debtloops"
    done = subprocess.run(
        [str(script), "run", "article", "--out", "X", "--final-time", "2030"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (elsewhere / "X" / "article" / "results.nc").is_file()
    assert (elsewhere / "X" / "headlines.csv").is_file()
    # pysd's translation went to the user cache, keyed by the model's hash, not into the install
    short = paths.model_hash(paths.MODEL_FILE)[: paths.SHORT_HASH]
    assert (tmp_path / "cache" / "debtloops" / f"model-{short}" / "treasury_dumping.py").is_file()
    where = subprocess.run(
        [str(python), "-m", "debtloops", "--version"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert where.returncode == 0 and short in where.stdout, where.stderr
    located = subprocess.run(
        [str(python), "-c", "import debtloops.paths as p; print(p.MODELS_DIR, p.PROJECT_ROOT)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert Path(located[0]).is_relative_to(tmp_path / "venv") and located[1] == "None"
    assert not list((tmp_path / "venv").rglob(".build"))


@pytest.mark.slow
@pytest.mark.install
def test_an_editable_install_reads_the_checkouts_models(tmp_path):
    python = _borrowing_venv(tmp_path / "venv")
    _pip("--python", str(python), "install", "--no-deps", "--quiet", "--editable", str(ROOT))
    code = "import debtloops.paths as p; print(p.MODELS_DIR, p.MODEL_FILE.parent)"
    done = subprocess.run(
        [str(python), "-c", code],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert [Path(part) for part in done.stdout.split()] == [ROOT / "models", ROOT / "models"]
