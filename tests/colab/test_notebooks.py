"""Every notebook in colab/ runs top to bottom (with few steps) and shows its figures."""

import os
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO_ROOT / "colab").glob("*.ipynb"))
# Few optimization steps keep CI fast; the notebooks read the cap through render_vis.
NOTEBOOK_MAX_STEPS = "8"
CELL_TIMEOUT_S = 600


def test_there_are_notebooks():
    assert NOTEBOOKS, "colab/ holds no notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, shared_data, monkeypatch, tmp_path):
    # The kernel inherits this environment: local weights, a step cap, the repo on the path.
    monkeypatch.setenv("LUCID2_INCEPTIONV1_WEIGHTS", str(shared_data / "inception5h"))
    monkeypatch.setenv("LUCID2_SHARED_DATA", str(shared_data))
    monkeypatch.setenv("LUCID2_MAX_STEPS", NOTEBOOK_MAX_STEPS)
    monkeypatch.setenv("LUCID2_KERAS_WEIGHTS", "none")  # keras.applications: random, offline
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no image"
