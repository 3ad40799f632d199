"""The tutorial notebook runs from top to bottom in a fresh kernel."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.ipynb"
#: The longest a cell may run before the test fails (the sweep and loop cells are the longest) [s].
CELL_TIMEOUT = 900


@pytest.mark.slow
@pytest.mark.notebook
def test_the_tutorial_runs_without_errors_or_warnings(tmp_path, monkeypatch):
    # jupyter_core warns about its folder layout unless told which one to use
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's files go to tmp_path
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    analysis = str(ROOT / "analysis")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [analysis, os.environ.get("PYTHONPATH")]))
    )
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(TUTORIAL, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": tmp_path}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error

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
