"""Export the model as XMILE, the open format that Stella and Simlin's editor read.

Simlin (``pysimlin``) reads ``models/treasury_dumping.mdl`` and writes it as XMILE; the equations,
units, comments and the diagram come from the .mdl, so nothing here restates an equation. With a
scenario, the scenario's values are written into the file: each constant's equation becomes its
value, each driver given as a year -> value series becomes a graphical function of ``TIME``
(as :func:`debtloops.model.simlin.simulate` runs it), and the run's start, stop, step and save step
become the file's sim specs. Opened in Stella or Simlin, the file then runs that scenario as
``debtloops run`` does. Without a scenario, the file is the .mdl as written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import simlin

from debtloops.io import atomic_file
from debtloops.model.run import prepare

# Simlin's loading of a run's values, shared with the Simlin engine rather than repeated here.
from debtloops.model.simlin import prepared_model
from debtloops.paths import MODEL_FILE


def xmile_bytes(scenario: str | None = None, final_time: float | None = None) -> bytes:
    """Return the model as an XMILE document.

    Parameters
    ----------
    scenario : str, optional
        A scenario name or ``.toml`` path whose values are written into the model; the .mdl as
        written if omitted.
    final_time : float, optional
        The last year simulated [year], with a scenario.

    Returns
    -------
    bytes
        The XMILE document (UTF-8 XML).

    Raises
    ------
    InputError
        On an unknown scenario or an invalid value.
    """
    if scenario is None:
        model = simlin.load(MODEL_FILE)
    else:
        model, constants = prepared_model(prepare(scenario, final_time=final_time).values)
        with model.edit() as (current, patch):
            for name, value in constants.items():
                patch.upsert(dataclasses.replace(current[name], equation=repr(value)))
    if model.project is None:
        raise RuntimeError(f"Simlin loaded {MODEL_FILE} without a project")  # not expected
    return model.project.to_xmile()


def write_xmile(path: Path, scenario: str | None = None, final_time: float | None = None) -> Path:
    """Write the model as XMILE to ``path``, atomically.

    Parameters
    ----------
    path : Path
        The file to write, e.g. ``treasury_dumping.stmx`` (Stella's extension) or ``.xmile``.
    scenario : str, optional
        A scenario whose values are written into the model (see :func:`xmile_bytes`).
    final_time : float, optional
        The last year simulated [year], with a scenario.

    Returns
    -------
    Path
        The file written; its folder is created if missing.
    """
    document = xmile_bytes(scenario, final_time)  # every input is checked before writing

    def write(scratch: Path) -> None:
        scratch.write_bytes(document)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_file(path, write)
    return path
