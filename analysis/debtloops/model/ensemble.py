"""Run a whole chunk of parameter sets in one pysd simulation.

The .mdl stays free of any sampling machinery. For an ensemble of ``size`` runs, :func:`build`
translates it with pysd and, between pysd's parsing and its code generation, gives every variable
a ``sample`` subscript of that size: the abstract model pysd builds from the .mdl gains a subscript
range ``sample: s0 ... s{size-1}``, every equation is subscripted by it, and every reference to a
model variable inside an equation is too. pysd then writes Python in which each variable holds one
value per sample. The translation is cached per size in ``models/.build/``.

Two shims make that code fast and correct:

* pysd builds each subscripted constant as an ``xarray.DataArray``. Arithmetic on labelled arrays
  costs hundreds of microseconds per operation, mostly in aligning the string coordinates, so the
  loaded module's ``xr`` is replaced by a stand-in whose ``DataArray`` returns a plain numpy array
  of the same length, and its ``zidz`` and ``xidz`` (Vensim's ZIDZ and XIDZ) by elementwise versions
  with pysd's threshold. ``step`` already works elementwise. No equation of the model is rewritten.
* pysd's Euler step gathers all stock values into ``np.array(..., dtype=object)``; when every stock
  has the same shape numpy turns that into a 2-D object array and the values lose their float type.
  One unsubscripted stock that never changes (``ensemble shape guard``) keeps the shapes ragged.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pysd
from pysd.builders.python.python_model_builder import ModelBuilder
from pysd.py_backend.functions import SMALL_VENSIM
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am
from pysd.translators.vensim.vensim_file import VensimFile

from debtloops.model.engine import cached_translation, start
from debtloops.model.parameters import CONTROLS, Value
from debtloops.paths import BUILD_DIR, MODEL_FILE

SAMPLE_DIM = "sample"
GUARD = "ensemble shape guard"
# References that stay scalar: the clock and the simulation controls.
_UNSUBSCRIPTED = {"time", *CONTROLS}
_SAMPLE_REFERENCE = ae.SubscriptsReferenceStructure((SAMPLE_DIM,))
# pysd warns when a constant is replaced by a function; here that is how values are given.
_CALLABLE_WARNING = "Replacing a constant value with a callable"


def _subscript(node: object) -> object:
    """Return a copy of an expression tree in which every model reference carries ``[sample]``."""
    if isinstance(node, ae.ReferenceStructure):
        if node.reference in _UNSUBSCRIPTED:
            return node
        return dataclasses.replace(node, subscripts=_SAMPLE_REFERENCE)
    if isinstance(node, ae.CallStructure):  # the function name itself is not a reference
        return dataclasses.replace(node, arguments=tuple(_subscript(a) for a in node.arguments))
    if isinstance(node, tuple):
        return tuple(_subscript(item) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            field.name: _subscript(getattr(node, field.name))
            for field in dataclasses.fields(node)
            if isinstance(getattr(node, field.name), tuple)
            or dataclasses.is_dataclass(getattr(node, field.name))
        }
        return dataclasses.replace(node, **changes)
    return node


def _add_sample_dimension(model: am.AbstractModel, size: int) -> None:
    for section in model.sections:
        section.subscripts.append(
            am.AbstractSubscriptRange(
                name=SAMPLE_DIM, subscripts=[f"s{i}" for i in range(size)], mapping=[]
            )
        )
        for element in section.elements:
            if isinstance(element, am.AbstractControlElement):
                continue
            for component in element.components:
                component.subscripts = ([SAMPLE_DIM], [])
                component.ast = _subscript(component.ast)
        guard = am.AbstractComponent(
            subscripts=([], []),
            ast=ae.IntegStructure(flow=0.0, initial=0.0),
            type="Stateful",
            subtype="Integ",
        )
        section.elements.append(
            am.AbstractElement(
                name=GUARD,
                components=[guard],
                units="dmnl",
                documentation="Keeps pysd's array of stock values ragged; always 0.",
            )
        )


def build(size: int, mdl: Path = MODEL_FILE, build_dir: Path = BUILD_DIR) -> Path:
    """Translate the .mdl with a ``sample`` subscript of ``size``, unless a current copy exists.

    Parameters
    ----------
    size : int
        Runs per simulation.
    mdl : Path
        The Vensim model file.
    build_dir : Path
        Where translations are kept.

    Returns
    -------
    Path
        The translated Python file.
    """
    return cached_translation(
        f"{mdl.stem}_ensemble_{size}", functools.partial(_translate, size=size), mdl, build_dir
    )


def _translate(copy: Path, size: int) -> Path:
    parsed = VensimFile(copy)
    parsed.parse()
    abstract = parsed.get_abstract_model()
    _add_sample_dimension(abstract, size)
    return Path(ModelBuilder(abstract).build_model())


def _zidz(numerator, denominator):
    small = np.abs(denominator) < SMALL_VENSIM
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small, 0.0, numerator / np.where(small, 1.0, denominator))


def _xidz(numerator, denominator, value_if_zero):
    small = np.abs(denominator) < SMALL_VENSIM
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small, value_if_zero, numerator / np.where(small, 1.0, denominator))


def _filled(data, coords, dims):
    """Stand in for ``xr.DataArray(value, coords, dims)`` in pysd's constants: a numpy array."""
    return np.full(len(coords[dims[0]]), data, dtype=float)


def load(size: int, mdl: Path = MODEL_FILE) -> pysd.py_backend.model.Model:
    """Return a fresh ensemble model of ``size`` runs, its arrays plain numpy."""
    model = pysd.load(str(build(size, mdl)), initialize=False)
    module = model.components._components
    module.xr = types.SimpleNamespace(DataArray=_filled)
    module.zidz = _zidz
    module.xidz = _xidz
    model.initialize()
    return model


def _sample_paths(years: np.ndarray, levels: np.ndarray, at: float) -> np.ndarray:
    """Interpolate one driver path per run at time ``at``, as ``np.interp`` does for one path.

    ``years`` [year] is increasing, of length n; ``levels`` has shape (runs, n). Outside the
    years the end values hold.
    """
    right = int(np.clip(np.searchsorted(years, at, side="right"), 1, len(years) - 1))
    left = right - 1
    span = years[right] - years[left]
    weight = float(np.clip((at - years[left]) / span, 0.0, 1.0)) if span > 0 else 1.0
    return levels[:, left] + weight * (levels[:, right] - levels[:, left])


def simulate(
    values: Mapping[str, Value],
    sampled: Mapping[str, np.ndarray],
    outcomes: Sequence[str],
    mdl: Path = MODEL_FILE,
    paths: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run one ensemble.

    Parameters
    ----------
    values : mapping
        Every parameter's value for the chunk, as returned by
        :func:`debtloops.model.parameters.validate` (numbers, or year -> value series for drivers).
    sampled : mapping of str to numpy.ndarray
        Parameters that differ between the runs: one value per run [the parameter's units]. All
        arrays have the chunk's length.
    outcomes : sequence of str
        The model variables to return.
    mdl : Path
        The Vensim model file.

    Returns
    -------
    times : numpy.ndarray
        The saved times [year].
    results : dict of str to numpy.ndarray
        Each outcome as an array of shape (runs, times), in the .mdl's units.
    paths : mapping, optional
        Drivers whose path differs between the runs: name -> (years [year], levels of shape
        (runs, years) [the driver's units]), interpolated linearly in time as a driver's year ->
        value series is. The model reads each as a function of time returning one value per run.
    """
    paths = dict(paths or {})
    first = next(iter(sampled.values())) if sampled else next(iter(paths.values()))[1]
    size = len(first)
    model = load(size, mdl)
    params: dict[str, object] = {}
    clock = model.time
    for name, value in {**values, **sampled}.items():
        if name in CONTROLS or name in paths:
            continue
        if isinstance(value, Mapping):
            years = np.array(list(value.keys()), dtype=float)
            levels = np.array(list(value.values()), dtype=float)
            params[name] = lambda y=years, v=levels: float(np.interp(clock(), y, v))
        else:
            array = np.broadcast_to(np.asarray(value, dtype=float), (size,)).copy()
            params[name] = lambda a=array: a
    for name, (years, levels) in paths.items():
        grid, table = np.asarray(years, dtype=float), np.asarray(levels, dtype=float)
        params[name] = lambda y=grid, v=table: _sample_paths(y, v, float(clock()))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_CALLABLE_WARNING, category=UserWarning)
        start(model, params, float(values["initial_time"]))  # type: ignore[arg-type]
        frame = model.run(
            params=params,
            return_columns=list(outcomes),
            initial_condition="current",
            final_time=float(values["final_time"]),  # type: ignore[arg-type]
            time_step=float(values["time_step"]),  # type: ignore[arg-type]
            saveper=float(values["saveper"]),  # type: ignore[arg-type]
            flatten_output=False,
        )
    names = dict(model.namespace)  # .mdl name -> pysd name
    frame = frame.rename(columns=names)
    results = {
        name: np.stack([np.asarray(cell, dtype=float) for cell in frame[name]], axis=1)
        for name in outcomes
    }
    return frame.index.to_numpy(dtype=float), results
