"""The plan of a sweep: its specification checked, its design drawn and its chunks laid out.

:func:`plan` does everything a sweep needs before it runs, in the process that starts it, and
writes nothing: it reads the specification (:mod:`debtloops.sweeps.spec`), draws the design
(:mod:`debtloops.sweeps.design`), prepares each scenario's parameter values and the saved times,
and checks that a chunk fits in memory. A :class:`SweepPlan` hands each chunk its
:class:`~debtloops.sweeps.chunks.ChunkTask`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from debtloops.errors import InputError
from debtloops.limits import FLOAT_BYTES, check_count, check_memory
from debtloops.model.contract import NON_NEGATIVE, display_units
from debtloops.model.engine import describe, load, run_loaded
from debtloops.model.parameters import CROSS_CHECKED, ParameterTable, Value, load_parameters
from debtloops.model.run import prepare
from debtloops.model.scenarios import REFERENCE, list_scenarios
from debtloops.sweeps import store
from debtloops.sweeps.chunks import INTEREST, ChunkTask
from debtloops.sweeps.design import Design, design
from debtloops.sweeps.spec import SweepSpec, load_spec

#: Samples per chunk by default: one ensemble simulation of this many runs vectorises well (about
#: 9,000 runs/s on a quiet core, against 6,800 at 2,500 runs) and holds about 100 MB of outcomes
#: per scenario; a killed sweep loses at most one chunk per worker, a few seconds of work.
MAX_CHUNK_SIZE = 10_000
#: Copies of a chunk's kept values (samples x runs x variables x saved times, float64) that a
#: worker's memory grows by while it runs the chunk [1]: measured 1.2 (121 MiB at 2,000 samples,
#: 3 runs, 18 variables, 121 times), with a margin. By default a sweep starts no more workers
#: than the memory holds; more ``--workers`` than that are refused.
CHUNK_COPIES = 2


@dataclass(frozen=True)
class SweepPlan:
    """A sweep laid out once, in the process that starts it.

    Attributes
    ----------
    design : Design
        The sample design, with its specification.
    runs : tuple of str
        The scenarios simulated: the specification's, and the baseline as reference.
    base_values : dict
        Each run's parameter values before sampling.
    chunk_size : int
        Samples per chunk.
    internal : tuple of str
        The model variables read from each run: the outcomes, cumulative interest and the
        stocks that may not go negative.
    times : numpy.ndarray
        The saved times of every run [year].
    variables : dict
        The store's outcome variables in order, each with ``units`` and ``long_name``.
    inputs : dict
        Each sampled input's ``units`` and ``long_name`` (the .mdl's description).
    table : ParameterTable or None
        The parameter table when sampled values must be checked against each other, else None.
    """

    design: Design
    runs: tuple[str, ...]
    base_values: dict[str, dict[str, Value]]
    chunk_size: int
    internal: tuple[str, ...]
    times: np.ndarray
    variables: dict[str, dict[str, str]]
    inputs: dict[str, dict[str, str]]
    table: ParameterTable | None

    @property
    def n_samples(self) -> int:
        """Number of samples in the design."""
        return self.design.n_samples

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return store.n_chunks(self.n_samples, self.chunk_size)

    def task(self, index: int, path: Path) -> ChunkTask:
        """Return what chunk ``index`` needs to run and write itself into the store at ``path``."""
        start = index * self.chunk_size
        stop = min(start + self.chunk_size, self.n_samples)
        return ChunkTask(
            index=index,
            start=start,
            size=self.chunk_size,
            rows=np.array(self.design.values[start:stop]),
            names=self.design.names,
            scenarios=self.design.spec.scenarios,
            outcomes=self.design.spec.outcomes,
            runs=self.runs,
            base_values=self.base_values,
            internal=self.internal,
            n_times=len(self.times),
            table=self.table,
            store=str(path),
        )


def plan(
    spec_path: Path,
    chunk_size: int | None = None,
    table: ParameterTable | None = None,
    cbo: str | Path | None = None,
    overrides: Mapping[str, Value] | None = None,
    final_time: float | None = None,
):
    """Read and check a sweep specification and lay out its chunks; nothing is written.

    Parameters
    ----------
    spec_path : Path
        The sweep specification (TOML).
    chunk_size : int, optional
        Samples per chunk; by default :func:`default_chunk_size`.
    table : ParameterTable, optional
        The parameter table.
    cbo : str or Path, optional
        The CBO vintage of every run, the reference's too (``--cbo``); each scenario's own by
        default.
    overrides : mapping, optional
        Parameter values set in every run, the reference's too (``--set``); not a parameter the
        design varies.
    final_time : float, optional
        The last year simulated (``--final-time``) [year], instead of the specification's.

    Returns
    -------
    SweepPlan
        The plan. Its specification's text ends with the overrides and the last year given here,
        so that the folder's claim holds them and a resume must give the same.

    Raises
    ------
    InputError
        On any invalid part of the specification, an override of a parameter the design varies,
        or an invalid override or last year.
    """
    table = table or load_parameters()
    if not spec_path.is_file():
        raise InputError(f"no sweep specification at {spec_path}")
    model = load()
    info = describe(model)
    varying = [name for name, kind in info.kinds.items() if kind not in ("Constant", "None")]
    constants = [name for name, kind in info.kinds.items() if kind in ("Constant", "None")]
    spec = load_spec(spec_path, table, list_scenarios(), varying, constants)
    spec = with_settings(spec, overrides or {}, final_time)
    the_design = design(spec)
    runs = tuple(dict.fromkeys([*spec.scenarios, REFERENCE]))
    base_values = {  # an invalid override or last year is refused here
        name: prepare(name, overrides, spec.final_time, table, cbo).values for name in runs
    }
    size = _chunk_size(chunk_size, the_design.n_samples)
    internal = tuple(dict.fromkeys([*spec.outcomes, INTEREST, *NON_NEGATIVE]))
    # The saved times, from one run of the reference with the same controls as every chunk.
    times = run_loaded(model, base_values[REFERENCE]).index.to_numpy(dtype=float)
    check_memory(  # every chunk's ensemble is padded to the chunk size
        chunk_bytes(size, len(runs), len(internal), len(times)),
        f"a chunk of {size:,} samples",
        "give a smaller --chunk-size",
    )
    variables = {
        name: {"units": display_units(info.units[name]), "long_name": info.comments[name]}
        for name in spec.outcomes
    }
    variables[store.EXTRA_INTEREST] = {
        "units": "billion USD",
        "long_name": "Interest paid since the start less the baseline's, same sample.",
    }
    inputs = {
        name: {"units": display_units(table[name].units), "long_name": info.comments[name]}
        for name in the_design.names
    }
    checked = table if set(the_design.names) & set(CROSS_CHECKED) else None
    return SweepPlan(
        the_design, runs, base_values, size, internal, times, variables, inputs, checked
    )


def _chunk_size(chunk_size: int | None, n_samples: int) -> int:
    """Check ``--chunk-size`` [samples]; return it, or the default for ``n_samples``."""
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"--chunk-size must be at least 1, got {chunk_size}")
    if chunk_size is not None:
        check_count(chunk_size, "--chunk-size")
    return chunk_size or default_chunk_size(n_samples)


def with_settings(
    spec: SweepSpec, overrides: Mapping[str, Value], final_time: float | None
) -> SweepSpec:
    """Return the specification with the command line's ``--set`` and ``--final-time`` folded in.

    The last year (``--final-time``, else a ``--set final_time``) replaces the specification's,
    and both are appended to its text as comments (``# --set NAME=VALUE``, ``# --final-time
    YEAR``): the text is the folder's claim and the store's record of the sweep, so a resume must
    give the same settings.

    Raises
    ------
    InputError
        If an override names a parameter that the design varies.
    """
    varied = [u.name for u in spec.uncertainties] + list(spec.levers)
    for name in overrides:
        if name in varied:
            raise InputError(
                f"--set {name}: {spec.name}.toml varies {name}; leave it out of --set or out of "
                "the specification"
            )
    lines = [f"\n# --set {name}={_value_text(value)}" for name, value in overrides.items()]
    if final_time is not None:
        lines.append(f"\n# --final-time {final_time!r}")
    if not lines:
        return spec
    # the last year: --final-time, else --set final_time (as for `debtloops run`), else the spec's
    last = final_time if final_time is not None else overrides.get("final_time", spec.final_time)
    if isinstance(last, Mapping):
        raise InputError("--set final_time takes one year, not a series; e.g. final_time=2040")
    return dataclasses.replace(spec, final_time=last, text=spec.text + "".join(lines))


def _value_text(value: Value) -> str:
    """Write a parameter's value as ``--set`` takes it: a number, or ``YEAR:VALUE,...``."""
    if isinstance(value, Mapping):
        return ",".join(f"{year!r}:{amount!r}" for year, amount in value.items())
    return repr(value)


def chunk_bytes(samples: int, runs: int, variables: int, times: int) -> int:
    """Estimate the memory one worker fills while it runs a chunk [bytes].

    Parameters
    ----------
    samples : int
        Samples in the chunk [1].
    runs : int
        Scenarios simulated, the reference included [1].
    variables : int
        Model variables kept from each run [1].
    times : int
        Saved times of each run [1].
    """
    return CHUNK_COPIES * samples * runs * variables * times * FLOAT_BYTES


def default_chunk_size(n_samples: int) -> int:
    """Return the default samples per chunk for a sweep of ``n_samples``.

    Parameters
    ----------
    n_samples : int
        Samples in the design.

    Returns
    -------
    int
        :data:`MAX_CHUNK_SIZE`, or ``n_samples`` for a smaller sweep (at least 1).
    """
    return max(1, min(n_samples, MAX_CHUNK_SIZE))
