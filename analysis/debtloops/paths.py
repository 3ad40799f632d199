"""Where the project's model files live, and where pysd's translation of the model is cached.

The model files (the .mdl, ``parameters.toml``, scenarios, sweeps, data and the loop inventory) have
one copy, the repository's top-level ``models/`` folder, which holds data only (no Python). The
wheel ships it as the package data ``debtloops.models`` (``pyproject.toml`` maps the folder onto
that name, a namespace package), found through :mod:`importlib.resources`. Code run from a checkout
(an editable install, or ``PYTHONPATH=analysis``) uses the ``models/`` folder beside ``analysis/``.

pysd translates the .mdl into Python before it runs it. The translation goes to, in this order:

1. the folder named by the environment variable ``DEBTLOOPS_CACHE``, if set;
2. ``models/.build/`` in a checkout whose ``models/`` folder is writable (developers);
3. ``$XDG_CACHE_HOME/debtloops`` or ``~/.cache/debtloops`` (an installed package, whose files may
   be read-only).

In 1 and 3 each model file gets its own subfolder named after its hash, so installs of different
versions can share the cache.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

#: The import name under which the model files are installed.
MODELS_PACKAGE = "debtloops.models"
MODEL_FILE_NAME = "treasury_dumping.mdl"
#: The environment variable that names the folder for pysd's translations.
CACHE_VARIABLE = "DEBTLOOPS_CACHE"
#: Hex digits of the model file's SHA-256 used to name a cache subfolder and in ``--version``.
SHORT_HASH = 12

#: The checkout that holds this source file, if it is run from one (``analysis/debtloops/``).
_CHECKOUT = Path(__file__).resolve().parents[2]


def _is_checkout(root: Path) -> bool:
    """Tell whether ``root`` is a debtloops checkout: ``pyproject.toml`` beside ``models/``."""
    return (root / "pyproject.toml").is_file() and (root / "models" / MODEL_FILE_NAME).is_file()


def find_models_dir() -> Path:
    """Return the folder that holds the model files.

    Returns
    -------
    Path
        The checkout's ``models/`` when this code runs from a checkout; otherwise the installed
        package data ``debtloops.models``, found with :mod:`importlib.resources`.

    Raises
    ------
    FileNotFoundError
        If neither holds the model file (a broken install).
    """
    if _is_checkout(_CHECKOUT):
        return _CHECKOUT / "models"
    try:
        # models/ holds data only, so the installed ``debtloops.models`` is a namespace package,
        # whose files() is a MultiplexedPath: ask it for the model file, a concrete path.
        model = resources.files(MODELS_PACKAGE).joinpath(MODEL_FILE_NAME)
        folder = Path(str(model)).parent if isinstance(model, Path) else None
    except ModuleNotFoundError:
        folder = None
    if folder is None or not (folder / MODEL_FILE_NAME).is_file():
        raise FileNotFoundError(
            f"the model files ({MODELS_PACKAGE}/{MODEL_FILE_NAME}) are missing from the debtloops "
            "install; reinstall it with `pip install debtloops` or from a checkout"
        )
    return folder


def model_hash(mdl: Path) -> str:
    """Return the SHA-256 of a model file, as 64 hex digits."""
    return hashlib.sha256(mdl.read_bytes()).hexdigest()


def user_cache_dir() -> Path:
    """Return the user's cache folder for debtloops (``$XDG_CACHE_HOME/debtloops``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "debtloops"


def find_build_dir(models_dir: Path, mdl: Path) -> Path:
    """Return the folder for pysd's translations of ``mdl``.

    Parameters
    ----------
    models_dir : Path
        The folder of the model files.
    mdl : Path
        The model file, whose hash names the cache subfolder outside a checkout.

    Returns
    -------
    Path
        ``$DEBTLOOPS_CACHE/<hash>``, else ``models_dir/.build`` in a writable checkout, else the
        user cache's ``<hash>`` subfolder. The folder may not exist yet.
    """
    subfolder = f"model-{model_hash(mdl)[:SHORT_HASH]}"
    chosen = os.environ.get(CACHE_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser() / subfolder
    if _is_checkout(models_dir.parent) and os.access(models_dir, os.W_OK):
        return models_dir / ".build"
    return user_cache_dir() / subfolder


MODELS_DIR = find_models_dir()
MODEL_FILE = MODELS_DIR / MODEL_FILE_NAME
PARAMETER_TABLE = MODELS_DIR / "parameters.toml"
SCENARIO_DIR = MODELS_DIR / "scenarios"
DATA_DIR = MODELS_DIR / "data"
BUILD_DIR = find_build_dir(MODELS_DIR, MODEL_FILE)
#: The source checkout, or None for an installed package (no git history to record).
PROJECT_ROOT: Path | None = MODELS_DIR.parent if _is_checkout(MODELS_DIR.parent) else None
