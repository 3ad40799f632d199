"""Running Graphviz: finding the renderer, rendering DOT files, retrying with straight edges.

Diagrams are rendered by Graphviz ``dot`` or, when no system Graphviz is installed, by the
``graphviz-pure`` command (``pip install graphviz-pure``), which takes the same command line.
:func:`render` writes one diagram; :func:`render_jobs` renders many into a
:class:`~debtloops.figures.diagrams.staging.Staging` folder in parallel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from debtloops.errors import WRITE_ERRNOS, DebtloopsError, InputError, WriteError, disk_full
from debtloops.figures.diagrams.staging import Staging
from debtloops.figures.style import DIAGRAM_DPI
from debtloops.io import prepare_output_folder

#: Output formats drawn in pixels, which take the resolution; the others are drawn in points.
RASTER_FORMATS = {"png", "jpg", "jpeg", "jpe", "gif", "bmp", "tif", "tiff", "webp"}
#: Words in Graphviz's error when its spline router fails, and the option that draws the edges
#: straight instead (some single-loop diagrams of ``japan_full`` need it with Graphviz 2.43-12).
ROUTING_FAILURES = ("routesplines", "Pshortestpath")
STRAIGHT_EDGES = "-Gsplines=line"
#: Lines of the renderer's error output quoted in an error message.
ERROR_LINES = 3


class RenderError(DebtloopsError):
    """The renderer failed on a diagram."""


def find_renderer() -> list[str]:
    """Return the command that renders DOT text.

    A system Graphviz ``dot`` on the PATH comes first; otherwise the ``graphviz-pure`` command
    installed beside the running Python (in its virtual environment) or on the PATH.

    Returns
    -------
    list of str
        The command, to be followed by its options.

    Raises
    ------
    InputError
        If neither is installed.
    """
    system = shutil.which("dot")
    if system:
        return [system]
    beside = Path(sys.executable).parent / "graphviz-pure"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    on_path = shutil.which("graphviz-pure")
    if on_path:
        return [on_path]
    raise InputError(
        "no diagram renderer found: neither Graphviz 'dot' nor 'graphviz-pure' is on the PATH "
        f"or beside {sys.executable}; install one with 'pip install graphviz-pure' "
        "(or a system Graphviz package)"
    )


def render_file(command: Sequence[str], dot_file: Path, target: Path, fmt: str, dpi: int) -> None:
    """Render ``dot_file`` to ``target`` in format ``fmt`` (raster formats at ``dpi`` [1/inch]).

    When Graphviz's spline router fails on the layout it made, the diagram is drawn again with
    straight edges (:data:`STRAIGHT_EDGES`), which always route.

    Raises
    ------
    WriteError
        If the renderer could not write ``target`` (no space, no permission).
    RenderError
        If the renderer failed for another reason.
    """
    options = [f"-T{fmt}"]
    if fmt in RASTER_FORMATS:
        options.append(f"-Gdpi={dpi}")
    result = subprocess.run(
        [*command, *options, "-o", str(target), str(dot_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and any(word in result.stderr for word in ROUTING_FAILURES):
        result = subprocess.run(
            [*command, *options, STRAIGHT_EDGES, "-o", str(target), str(dot_file)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        detail = result.stderr.strip().splitlines()[-ERROR_LINES:] if result.stderr else []
        refused = [os.strerror(code) for code in WRITE_ERRNOS if os.strerror(code) in result.stderr]
        if refused or disk_full(target.parent):
            reason = refused[0] if refused else "the disk is full"
            raise WriteError(f"{command[0]} could not write {target.name}: {reason}")
        raise RenderError(
            f"{command[0]} could not render {target.name} (exit status {result.returncode})"
            + (": " + " ".join(detail) if detail else "")
        )


def render_jobs(
    staging: Staging,
    diagrams: Sequence[tuple[str, str, Sequence[str]]],
    dpi: int,
    command: Sequence[str],
) -> list[Path]:
    """Write each ``(stem, dot_text, formats)`` as ``stem.dot`` and render it into ``staging``.

    The renders run in parallel, one thread per core. Returns the final paths of the files, the
    .dot of each diagram before its drawings.
    """
    jobs = []
    written = []
    for stem, text, formats in diagrams:
        dot_file = staging.path(f"{stem}.dot")
        dot_file.write_text(text, encoding="utf-8")
        written.append(staging.folder / dot_file.name)
        for fmt in formats:
            target = staging.path(f"{stem}.{fmt}")
            jobs.append((dot_file, target, fmt))
            written.append(staging.folder / target.name)
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(render_file, command, d, t, f, dpi) for d, t, f in jobs]:
            future.result()
    return written


def render(
    dot_text: str,
    stem: Path,
    formats: Sequence[str] = ("svg", "png"),
    dpi: int = DIAGRAM_DPI,
) -> list[Path]:
    """Write ``stem.dot`` and render it to ``stem.<format>`` for each format.

    Every file is rendered under a temporary name in the same folder and renamed when all are
    complete, so a failure leaves nothing half-written.

    Parameters
    ----------
    dot_text : str
        A diagram in the DOT language.
    stem : Path
        The output path without a suffix; its folder is created if missing.
    formats : sequence of str
        Graphviz output formats, e.g. ``svg``, ``png`` or ``pdf``.
    dpi : int
        Resolution of raster formats such as PNG [1/inch].

    Returns
    -------
    list of Path
        The files written: the .dot first, then one per format.

    Raises
    ------
    InputError
        If no renderer is installed or the folder cannot be written.
    RenderError
        If the renderer fails.
    """
    stem = Path(stem)
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if dpi <= 0:
        raise InputError(f"the resolution must be a positive number of dots per inch, not {dpi}")
    command = find_renderer()
    prepare_output_folder(stem.parent)
    with Staging(stem.parent) as staging:
        return render_jobs(staging, [(stem.name, dot_text, formats)], dpi, command)
