"""The appendix on Beam's DirectRunner with 2 worker processes: the same files as in-process."""

from __future__ import annotations

import io
import json
import os

import pytest
from appendix_testlib import CHANNELS, LAYER, REPO_ROOT, temporaries, tree

from lucid2.modelzoo import ModelSpec
from lucid2.recipes import appendix

pytest.importorskip("apache_beam")

WORKERS = 2
PIPELINE_ARGS = [f"--direct_num_workers={WORKERS}", "--direct_running_mode=multi_processing",
                 "--default_sdk_harness_log_level=WARNING"]


@pytest.mark.slow
def test_direct_runner_with_two_workers_matches_in_process(tmp_path, reference_run,
                                                           small_settings, monkeypatch):
    from lucid2.recipes.appendix.beam_pipeline import run_pipeline

    # The worker processes import lucid2 from the repository, wherever pytest runs.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO_ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    output = tmp_path / "beam"
    request = appendix.Request(str(output), settings=small_settings,
                               model=ModelSpec("inceptionv1", None, None, "RGB"),
                               layers=(LAYER,))
    # The driver loads its own model too: nothing is shared with the workers but the files.
    job = appendix.prepare(request, log=lambda m: None)
    assert len(job.tasks) == 3
    progress = io.StringIO()
    run_pipeline(job, "DirectRunner", PIPELINE_ARGS, stream=progress, watch_interval=0.5)
    manifest = appendix.finish(job)
    assert manifest["complete"] and manifest["layers"][LAYER]["rendered"] == CHANNELS
    assert tree(output) == tree(reference_run)
    assert temporaries(output) == []
    assert json.loads((output / "manifest.json").read_text())["settings"] == \
        json.loads((reference_run / "manifest.json").read_text())["settings"]
    assert (output / "index.html").is_file()
    assert "channels" in progress.getvalue()
