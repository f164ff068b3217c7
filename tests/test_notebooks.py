"""The notebooks in notebooks/: stored clean, and each one runs top to bottom against this checkout.

A notebook that breaks when the API changes fails here, so the stories cannot rot.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import hpcpredict

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_the_four_stories_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_train_on_a_monitoring_dump.ipynb",
        "02_predict_the_queue.ipynb",
        "03_dominant_predictors.ipynb",
        "04_real_traces.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    dirty = [i for i, cell in enumerate(book.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs or execution counts; clear them before committing"
    assert book.metadata["kernelspec"]["name"] == "python3"
    assert book.cells[0].cell_type == "markdown", f"{path.name} should open with the question it answers"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    # The kernel is a separate process: point it at the package this test imports (the checkout),
    # and run it in an empty folder so a notebook that reads a path relative to notebooks/ fails.
    checkout = str(Path(hpcpredict.__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([checkout, *filter(None, [os.environ.get("PYTHONPATH")])]))
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors
    images = sum("image/png" in o.get("data", {}) for cell in book.cells if cell.cell_type == "code" for o in cell.outputs)
    assert images >= 1, f"{path.name} drew no figure"
