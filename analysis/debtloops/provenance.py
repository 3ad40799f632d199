"""Provenance for results files: git commit, package versions and the model file's hash."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from debtloops.paths import MODEL_FILE, PROJECT_ROOT, model_hash

PACKAGES = ("debtloops", "pysd", "xarray", "numpy", "pandas", "matplotlib", "netCDF4")


def git_commit(root: Path | None = PROJECT_ROOT) -> str:
    """Return the checked-out commit, with ``-dirty`` if the work tree differs, or ``unknown``.

    An installed package (``root`` None) has no checkout: its version is in ``package_versions``.
    """
    if root is None:
        return "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if status else commit


def package_version() -> str:
    """Return the installed version of debtloops, or ``(not installed)`` for a bare checkout."""
    try:
        return metadata.version("debtloops")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def package_versions() -> dict[str, str]:
    """Return the installed versions of the packages that shape the results, and Python's."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_attrs(mdl: Path = MODEL_FILE) -> dict[str, str]:
    """Return the attributes that say what produced a result.

    Parameters
    ----------
    mdl : Path
        The model file that was run.

    Returns
    -------
    dict
        ``model_file``, ``model_sha256``, ``git_commit`` and ``package_versions`` (JSON).
    """
    return {
        "model_file": mdl.name,
        "model_sha256": model_hash(mdl),
        "git_commit": git_commit(),
        "package_versions": json.dumps(package_versions(), sort_keys=True),
    }
