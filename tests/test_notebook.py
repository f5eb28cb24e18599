"""The tutorial notebook (examples/regularization.ipynb) runs top to bottom with no error and no
warning, so it can never go stale."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "regularization.ipynb"


def test_tutorial_notebook_runs_clean(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    problems = []
    for k, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" or out.get("name") == "stderr":
                problems.append((k, out.get("text") or out.get("evalue")))
    assert not problems, problems
    # the committed copy carries its outputs, so a reader sees the figures without running it
    committed = nbformat.read(NOTEBOOK, as_version=4)
    figures = sum(1 for c in committed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert figures >= 4
