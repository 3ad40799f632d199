"""The tutorial notebook runs from top to bottom in a fresh kernel and prints what it stores.

The notebook is committed with its outputs, so that GitHub and the documentation site show them.
This test runs it afresh and compares every printed output with the stored one, number by number
to within one unit of the last printed digit (round-off on another CPU can move a rounded digit,
never more). After a deliberate change, ``python tests/test_tutorial.py`` runs the notebook and
stores its new outputs for review.
"""

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.ipynb"
#: The longest a cell may run before the test fails (the sweep and loop cells are the longest) [s].
CELL_TIMEOUT = 900
#: A printed number: sign, thousands separators, decimals, exponent.
NUMBER = re.compile(r"-?\d[\d,]*(?:\.(\d+))?(?:[eE]([+-]?\d+))?")
#: What differs from run to run by design: the scratch folder, the sweep's wall time, and a
#: dataset's provenance attributes (git commit, versions, hashes).
VOLATILE = (
    (re.compile(r"/\S*debtloops-tutorial-\w+"), "<work>"),
    (re.compile(r"in \d+(?:\.\d+)? s\b"), "in <time> s"),
    (re.compile(r"\nAttributes:\n.*", re.DOTALL), "\nAttributes: <provenance>"),
)


def execute(path: Path, workdir: Path):
    """Return the notebook at ``path`` run from top to bottom in a fresh kernel in ``workdir``."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": workdir}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    return notebook


def _printed(cell) -> list[tuple[str, str]]:
    """Each output of a code cell: its kind, and the text it shows (images: none)."""
    shown = []
    for output in cell.outputs:
        data = output.get("data", {})
        kind = output.output_type + ":" + ",".join(sorted(data)) if data else output.output_type
        text = output.get("text", "") or data.get("text/plain", "")
        if "image/png" in data:
            text = ""  # the same picture differs in its bytes from machine to machine
        for pattern, replacement in VOLATILE:
            text = pattern.sub(replacement, text)
        shown.append((kind, text))
    return shown


def _unit(match: re.Match[str]) -> float:
    """One unit of a printed number's last digit."""
    decimals = len(match.group(1) or "")
    exponent = int(match.group(2) or 0)
    return 10.0 ** (exponent - decimals)


def _value(match: re.Match[str]) -> float:
    return float(match.group(0).replace(",", ""))


def differences(stored: str, fresh: str) -> list[str]:
    """Where two printed texts differ beyond one unit of a printed number's last digit."""
    if NUMBER.sub("#", stored) != NUMBER.sub("#", fresh):
        return [f"text differs:\n{stored}\n---\n{fresh}"]
    found = []
    for a, b in zip(NUMBER.finditer(stored), NUMBER.finditer(fresh), strict=True):
        if abs(_value(a) - _value(b)) > 1.001 * max(_unit(a), _unit(b)):
            found.append(f"{a.group(0)} stored, {b.group(0)} now")
    return found


def test_number_comparison_allows_one_unit_of_the_last_digit_only():
    assert differences("peak 37.4 bp, 1,234 runs", "peak 37.5 bp, 1,235 runs") == []
    assert differences("peak 37.4 bp", "peak 37.6 bp") == ["37.4 stored, 37.6 now"]
    assert differences("x 1.5e-05", "x 1.6e-05") == []
    assert differences("x 1.5e-05", "x 1.7e-05") == ["1.5e-05 stored, 1.7e-05 now"]
    assert differences("24 samples", "24 runs") != []


@pytest.mark.slow
@pytest.mark.notebook
def test_the_tutorial_runs_and_prints_what_it_stores(tmp_path, monkeypatch):
    # jupyter_core warns about its folder layout unless told which one to use
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's files go to tmp_path
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    analysis = str(ROOT / "analysis")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [analysis, os.environ.get("PYTHONPATH")]))
    )
    import nbformat

    stored = nbformat.read(TUTORIAL, as_version=4)
    notebook = execute(TUTORIAL, tmp_path)

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells)
    errors = [
        output.text
        for cell in code_cells
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stderr"
    ]
    assert errors == []  # no warning was printed either
    images = [
        output
        for cell in code_cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) >= 4  # the yield, debt/GDP, scatter and loop figures
    printed = "".join(output.get("text", "") for cell in code_cells for output in cell.outputs)
    assert "24 samples, 0 failed" in printed
    assert list(tmp_path.glob("debtloops-tutorial-*/sweep/analysis.nc"))

    # The stored outputs are what the notebook prints now (rerun this file to store new ones).
    stored_cells = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert [c.source for c in stored_cells] == [c.source for c in code_cells]
    assert all(cell.outputs for cell in stored_cells), "the notebook is stored without outputs"
    for index, (old, new) in enumerate(zip(stored_cells, code_cells, strict=True)):
        old_shown, new_shown = _printed(old), _printed(new)
        assert [k for k, _ in old_shown] == [k for k, _ in new_shown], f"code cell {index}"
        for (_, a), (_, b) in zip(old_shown, new_shown, strict=True):
            assert differences(a, b) == [], f"code cell {index}"


if __name__ == "__main__":
    # Store fresh outputs: python tests/test_tutorial.py (from the repository, with .venv active).
    import tempfile

    import nbformat

    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    with tempfile.TemporaryDirectory() as scratch:
        nbformat.write(execute(TUTORIAL, Path(scratch)), TUTORIAL)
    sys.exit(0)
