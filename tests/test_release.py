"""The version is written once and agrees everywhere; the citation file and changelog are valid."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: The keys the Citation File Format 1.2.0 requires of every CITATION.cff.
CFF_REQUIRED = ("cff-version", "message", "title", "authors")
#: A released version's heading in CHANGELOG.md: ## [X.Y.Z] - YYYY-MM-DD.
RELEASED = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", re.MULTILINE)


def _version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", _version())


def test_the_command_line_prints_pyprojects_version():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "analysis")}
    done = subprocess.run(
        [sys.executable, "-m", "debtloops", "--version"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.startswith(f"debtloops {_version()}, model treasury_dumping.mdl ")


def test_citation_file_is_valid_cff_with_the_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert [key for key in CFF_REQUIRED if not cff.get(key)] == []
    assert cff["cff-version"] == "1.2.0"
    assert all("name" in author or "family-names" in author for author in cff["authors"])
    assert str(cff["version"]) == _version()


def test_changelog_has_unreleased_and_its_latest_release_is_the_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "\n## [Unreleased]\n" in text
    released = RELEASED.findall(text)
    # Until the first release the package keeps its first version, 0.1.0.
    assert (released[0] if released else "0.1.0") == _version()
    headings = re.findall(r"^## .*$", text, re.MULTILINE)
    assert all(h == "## [Unreleased]" or RELEASED.fullmatch(h) for h in headings), headings
