"""Translate the .mdl with pysd (once), load it, and simulate it.

The steps are separate, as in pysd: :func:`build` translates ``models/treasury_dumping.mdl`` into
Python in the translation cache (:data:`debtloops.paths.BUILD_DIR`: ``models/.build/`` in a writable
checkout, else ``$DEBTLOOPS_CACHE`` or the user's cache folder, see :mod:`debtloops.paths`) and
records the .mdl's hash and the pysd version beside it; later calls reuse that translation until
either changes. :func:`simulate` runs a fresh copy of the
translated model with a full set of parameter values. No equation of the model is written in
Python.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pysd

from debtloops.errors import InputError
from debtloops.model.parameters import CONTROLS, Value
from debtloops.paths import BUILD_DIR, CACHE_VARIABLE, MODEL_FILE, model_hash

# pysd says so, as a UserWarning, each time a constant is given as a time series; that is how
# drivers are meant to be given here, so this one warning is expected and silenced around the run.
_SERIES_WARNING = "Replacing a constant value with a time-dependent value"


def _fingerprint(mdl: Path) -> str:
    return f"{model_hash(mdl)} pysd-{pysd.__version__}\n"


def cached_translation(
    name: str,
    translate: Callable[[Path], Path],
    mdl: Path = MODEL_FILE,
    build_dir: Path = BUILD_DIR,
    force: bool = False,
) -> Path:
    """Return a translation of the .mdl from the cache, making it first unless a current one exists.

    The one translation cache, for single runs and ensembles alike. A translation is current when
    the .mdl's hash and the pysd version recorded beside it match. It is made in a temporary folder
    and moved into place, so concurrent callers and interrupted builds never leave a half-written
    model.

    Parameters
    ----------
    name : str
        The translation's name in the cache: ``build_dir/<name>.py``.
    translate : callable
        Translates a copy of the .mdl (named ``<name>.mdl`` in a scratch folder) and returns the
        Python file it wrote.
    mdl : Path
        The Vensim model file.
    build_dir : Path
        The cache folder.
    force : bool
        Translate even if the cached translation is current.

    Returns
    -------
    Path
        The translated Python file.
    """
    target = build_dir / f"{name}.py"
    stamp = build_dir / f"{name}.fingerprint"
    fingerprint = _fingerprint(mdl)
    if not force and target.is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        return target
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".translate-", dir=build_dir))
    except OSError as error:  # a file in the way, a read-only place, a full disk
        raise InputError(
            f"cannot write the model's translation cache {build_dir}: "
            f"{error.strerror or error}; set {CACHE_VARIABLE} to a writable folder"
        ) from None
    try:
        copy = scratch / f"{name}.mdl"
        shutil.copyfile(mdl, copy)
        os.replace(translate(copy), target)
        (scratch / stamp.name).write_text(fingerprint)
        os.replace(scratch / stamp.name, stamp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _translate(copy: Path) -> Path:
    pysd.read_vensim(str(copy), initialize=False)
    return copy.with_suffix(".py")


def build(mdl: Path = MODEL_FILE, build_dir: Path = BUILD_DIR, force: bool = False) -> Path:
    """Translate the .mdl to Python unless an up-to-date translation exists.

    Parameters
    ----------
    mdl : Path
        The Vensim model file.
    build_dir : Path
        Where the translation is kept.
    force : bool
        Translate even if the cached translation is current.

    Returns
    -------
    Path
        The translated Python file (see :func:`cached_translation`).
    """
    return cached_translation(mdl.stem, _translate, mdl, build_dir, force)


def load(mdl: Path = MODEL_FILE) -> pysd.py_backend.model.Model:
    """Return a fresh, initialised pysd model, translating the .mdl first if needed."""
    return pysd.load(str(build(mdl)))


@dataclass(frozen=True)
class ModelInfo:
    """What the translated model says about its variables.

    Attributes
    ----------
    units : dict
        .mdl units by pysd name.
    comments : dict
        .mdl one-line comments by pysd name.
    kinds : dict
        pysd's type of each variable (``Constant``, ``Auxiliary``, ``Stateful``, ...).
    stocks : tuple of str
        The pysd names of the stocks (INTEG).
    real_names : dict
        .mdl names by pysd name.
    """

    units: dict[str, str]
    comments: dict[str, str]
    kinds: dict[str, str]
    stocks: tuple[str, ...]
    real_names: dict[str, str]


def describe(model: pysd.py_backend.model.Model) -> ModelInfo:
    """Collect the units, comments and types of a model's variables from pysd's documentation."""
    doc = model.doc.set_index("Py Name")
    stocks = tuple(name for name, row in doc.iterrows() if row["Subtype"] == "Integ")
    return ModelInfo(
        units={name: str(unit) for name, unit in doc["Units"].items()},
        comments={name: str(text) for name, text in doc["Comment"].items()},
        kinds={name: str(kind) for name, kind in doc["Type"].items()},
        stocks=stocks,
        real_names={name: str(real) for name, real in doc["Real Name"].items()},
    )


def _pysd_params(values: Mapping[str, Value]) -> dict[str, object]:
    params: dict[str, object] = {}
    for name, value in values.items():
        if name in CONTROLS:
            continue
        if isinstance(value, Mapping):
            params[name] = pd.Series(list(value.values()), index=list(value.keys()), dtype=float)
        else:
            params[name] = float(value)
    return params


def start(
    model: pysd.py_backend.model.Model, params: Mapping[str, object], initial_time: float
) -> None:
    """Set a loaded model's parameters and initialise its stocks at ``initial_time`` [year].

    pysd's own ``initial_condition=(time, {})`` moves the clock but keeps the stocks it computed
    at the .mdl's INITIAL TIME; here the clock moves first, so that every initial value, drivers
    included, is evaluated at the start. Run the model next with ``initial_condition="current"``.
    """
    model.set_components(dict(params))
    model.time.set_control_vars(initial_time=initial_time)
    model.initialize()


def run_loaded(model: pysd.py_backend.model.Model, values: Mapping[str, Value]) -> pd.DataFrame:
    """Run an already loaded model with a full set of parameter values; return pysd's frame."""
    params = _pysd_params(values)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SERIES_WARNING, category=UserWarning)
        start(model, params, float(values["initial_time"]))  # type: ignore[arg-type]
        # The parameters are set once, by start(): the run continues from that state.
        return model.run(
            initial_condition="current",
            final_time=float(values["final_time"]),  # type: ignore[arg-type]
            time_step=float(values["time_step"]),  # type: ignore[arg-type]
            saveper=float(values["saveper"]),  # type: ignore[arg-type]
        )


def simulate(values: Mapping[str, Value], mdl: Path = MODEL_FILE) -> tuple[pd.DataFrame, ModelInfo]:
    """Run the model once.

    Parameters
    ----------
    values : mapping
        Every parameter's value, as returned by :func:`debtloops.model.parameters.validate`.
    mdl : Path
        The Vensim model file.

    Returns
    -------
    frame : pandas.DataFrame
        One row per saved step (index ``time`` [year]), one column per model variable, named by its
        pysd name, in the .mdl's units.
    info : ModelInfo
        The model's units, comments and stocks.
    """
    model = load(mdl)
    frame = run_loaded(model, values)
    info = describe(model)
    frame = frame.rename(columns={real: py for py, real in info.real_names.items()})
    frame.index.name = "time"
    return frame, info
