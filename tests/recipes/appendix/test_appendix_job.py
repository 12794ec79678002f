"""The appendix job: output of a run, resuming (also after SIGKILL), refusing bad input early."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from absl import app, flags
from appendix_testlib import (BATCH, CHANNELS, LAYER, SIZE, STEPS, cli_args, subprocess_env,
                              temporaries, tree)
from PIL import Image

from lucid2.modelzoo import ModelSpec
from lucid2.recipes import appendix
from lucid2.recipes.appendix import AppendixError, Request

RANDOM = ModelSpec("inceptionv1", None, None, "RGB")
KILL_TIMEOUT = 240
RUN_TIMEOUT = 300


def _request(output, settings, **changes) -> Request:
    base = Request(str(output), settings=settings, model=RANDOM, layers=(LAYER,))
    return dataclasses.replace(base, **changes)


def _check_complete(output) -> None:
    """Exactly one valid PNG and one matching record per channel, a complete manifest."""
    folder = output / "renders" / LAYER
    names = sorted(p.name for p in folder.iterdir())
    expected = sorted([f"{c:04d}.png" for c in range(CHANNELS)]
                      + [f"{c:04d}.json" for c in range(CHANNELS)])
    assert names == expected  # nothing missing, nothing extra, no temporaries
    for channel in range(CHANNELS):
        png = (folder / f"{channel:04d}.png").read_bytes()
        record = json.loads((folder / f"{channel:04d}.json").read_text())
        assert record["channel"] == channel and record["layer"] == LAYER
        assert record["png_sha256"] == hashlib.sha256(png).hexdigest()
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            assert image.size == (SIZE, SIZE) and image.mode == "RGB"
        assert np.isfinite(record["activation"])
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["complete"]
    assert manifest["layers"][LAYER] == {"channels": CHANNELS, "rendered": CHANNELS,
                                         "missing": [], "dir": LAYER, "page": f"{LAYER}.html"}
    assert manifest["settings"]["steps"] == STEPS and manifest["settings"]["size"] == SIZE
    assert temporaries(output) == []


def test_reference_run_writes_every_channel(reference_run):
    _check_complete(reference_run)
    assert (reference_run / "index.html").is_file()
    assert (reference_run / f"{LAYER}.html").is_file()
    record = json.loads((reference_run / "renders" / LAYER / "0030.json").read_text())
    assert record["batch"]["first"] == BATCH and record["batch"]["index"] == 30 - BATCH
    # Different channels are different images (the batch really holds different objectives).
    pngs = [p.read_bytes() for p in (reference_run / "renders" / LAYER).glob("*.png")]
    assert len(set(pngs)) == CHANNELS


def test_rerun_has_nothing_to_do(reference_run, random_model, small_settings):
    job = appendix.prepare(_request(reference_run, small_settings), model=random_model,
                           log=lambda m: None)
    assert job.tasks == [] and job.pending_channels == 0


def test_interrupted_batch_is_rendered_again_whole_and_identically(
        reference_run, random_model, small_settings, tmp_path):
    output = tmp_path / "resumed"
    shutil.copytree(reference_run, output)
    folder = output / "renders" / LAYER
    for channel in (30, 31, 40):  # the middle batch, 24-47, lost some records
        (folder / f"{channel:04d}.json").unlink()
    (folder / "0031.png").unlink()
    (folder / ".0032.png.0123456789abcdef.tmp").write_bytes(b"partial")
    request = _request(output, small_settings)
    job = appendix.prepare(request, model=random_model, log=lambda m: None)
    assert [t.item.channels for t in job.tasks] == [tuple(range(BATCH, 2 * BATCH))]
    assert not (folder / ".0032.png.0123456789abcdef.tmp").exists()
    appendix.run(request, model=random_model, stream=None)
    _check_complete(output)
    assert tree(output) == tree(reference_run)


def test_max_steps_env_caps_steps_and_is_recorded(tmp_path, random_model, small_settings,
                                                  monkeypatch):
    monkeypatch.setenv("LUCID2_MAX_STEPS", "2")
    messages = []
    job = appendix.prepare(_request(tmp_path, small_settings), model=random_model,
                           log=messages.append)
    assert job.settings.steps == 2 and job.config.settings.steps == 2
    assert json.loads((tmp_path / "manifest.json").read_text())["settings"]["steps"] == 2
    assert any("LUCID2_MAX_STEPS" in m for m in messages)


# ------------------------------------------------------------------ bad input
def test_unknown_layer_is_refused_before_anything_is_written(tmp_path, random_model,
                                                             small_settings):
    with pytest.raises(AppendixError, match="Unknown layer 'mixed4z'.*mixed4a"):
        appendix.prepare(_request(tmp_path, small_settings, layers=("conv2d0", "mixed4z")),
                         model=random_model, log=lambda m: None)
    assert list(tmp_path.iterdir()) == []


def test_non_spatial_layer_is_refused(tmp_path, random_model, small_settings):
    with pytest.raises(AppendixError, match="softmax2.*N, H, W, C"):
        appendix.prepare(_request(tmp_path, small_settings, layers=("softmax2",)),
                         model=random_model, log=lambda m: None)


def test_unwritable_output_dir_is_refused(tmp_path, random_model, small_settings):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AppendixError, match="Cannot write to the output directory"):
        appendix.prepare(_request(blocker / "out", small_settings), model=random_model,
                         log=lambda m: None)


@pytest.mark.parametrize("change, message", [
    ({"size": SIZE + 8}, f"size: {SIZE} there, {SIZE + 8} now"),
    ({"steps": STEPS + 1}, f"steps: {STEPS} there, {STEPS + 1} now"),
    ({"channels_per_batch": 8}, f"channels_per_batch: {BATCH} there, 8 now"),
    ({"seed": 99}, "seed")])
def test_other_settings_are_refused_before_rendering(reference_run, small_settings, tmp_path,
                                                     change, message, monkeypatch):
    output = tmp_path / "out"
    shutil.copytree(reference_run, output)
    before = tree(output, "")

    def no_model(spec):
        raise AssertionError("the settings check must come before loading the model")

    monkeypatch.setattr("lucid2.recipes.appendix.job.load_model", no_model)
    settings = dataclasses.replace(small_settings, **change)
    with pytest.raises(AppendixError, match=message):
        appendix.run(_request(output, settings), stream=None)
    assert tree(output, "") == before


def test_other_model_weights_are_refused(reference_run, small_settings, tmp_path):
    import keras

    from lucid2.modelzoo import InceptionV1

    output = tmp_path / "out"
    shutil.copytree(reference_run, output)
    keras.utils.set_random_seed(12345)
    other = InceptionV1(weights=None)
    with pytest.raises(AppendixError, match="another model.*fingerprint"):
        appendix.prepare(_request(output, small_settings), model=other, log=lambda m: None)
    assert tree(output) == tree(reference_run)


def test_beam_runner_without_beam_is_explained(tmp_path, small_settings, monkeypatch):
    from lucid2.recipes.appendix import beam_pipeline

    monkeypatch.setattr(beam_pipeline, "beam", None)
    with pytest.raises(AppendixError, match=r"--runner=DirectRunner needs Apache Beam.*"
                                            r"pip install 'lucid2-tf\[beam\]'"):
        appendix.run(_request(tmp_path, small_settings), runner="DirectRunner", stream=None)
    assert list(tmp_path.iterdir()) == []


def _flags(*args: str) -> tuple[flags.FlagValues, list[str]]:
    from lucid2 import appendix as appendix_app

    values = flags.FlagValues()
    appendix_app.define_flags(values)
    rest = appendix_app.parse_flags(["lucid2.appendix", *args], values)
    return values, rest


def test_cli_flags_and_pipeline_options(tmp_path):
    from lucid2 import appendix as appendix_app

    values, rest = _flags(f"--output_dir={tmp_path}", "--layers=conv2d0,conv2d1", "--steps=3",
                          "--size=40", "--channels_per_batch=5", "--seed=2", "--weights=none",
                          "--runner=DirectRunner", "--direct_num_workers=2")
    assert rest == ["lucid2.appendix", "--direct_num_workers=2"]
    request = appendix_app.request_from_flags(values)
    assert request.layers == ("conv2d0", "conv2d1") and request.model.weights is None
    assert request.settings == appendix.Settings(steps=3, size=40, channels_per_batch=5, seed=2)
    values, rest = _flags(f"--output_dir={tmp_path}", "--direct_num_workers=2")
    with pytest.raises(app.UsageError, match="Unknown flags.*need a Beam runner"):
        appendix_app.main(rest, values)
    values, rest = _flags()
    with pytest.raises(app.UsageError, match="--output_dir is required"):
        appendix_app.main(rest, values)
    values, rest = _flags(f"--output_dir={tmp_path}")
    assert values.layers is None  # the model's main layers
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_unknown_layer_exits_with_a_message(tmp_path):
    result = subprocess.run(cli_args(tmp_path / "out", "--layers=mixed4z"),
                            env=subprocess_env(), capture_output=True, text=True,
                            timeout=RUN_TIMEOUT)
    assert result.returncode == 1
    assert "lucid2.appendix: error: Unknown layer 'mixed4z'" in result.stderr
    assert not (tmp_path / "out" / "renders").exists()


# ------------------------------------------------------------ kill and resume
def _records(output) -> int:
    folder = output / "renders" / LAYER
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


@pytest.mark.slow
def test_sigkilled_run_resumes_to_identical_bytes(tmp_path, reference_run):
    """SIGKILL as soon as the first records exist, rerun: the same files as without the kill."""
    output = tmp_path / "killed"
    process = subprocess.Popen(cli_args(output), env=subprocess_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + KILL_TIMEOUT
    try:
        while _records(output) == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "no record appeared in time"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    killed_at = _records(output)
    assert 0 < killed_at < CHANNELS, "the run was not interrupted mid-way"
    # Whatever exists under a final name is complete.
    for path in (output / "renders" / LAYER).iterdir():
        if path.name.startswith("."):
            continue
        if path.suffix == ".png":
            with Image.open(path) as image:
                image.load()
        else:
            json.loads(path.read_text())
    manifest = json.loads((output / "manifest.json").read_text())
    assert not manifest["complete"]

    result = subprocess.run(cli_args(output), env=subprocess_env(), capture_output=True,
                            text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ETA" in result.stdout  # the app's progress lines go to standard output
    _check_complete(output)
    assert tree(output) == tree(reference_run)


def test_renders_use_the_preset_and_the_manifest_records_it(reference_run, random_model):
    from lucid2.optvis import transform
    from lucid2.optvis.settings import PRESETS
    from lucid2.recipes.appendix.worker import make_renderer

    manifest = json.loads((reference_run / "manifest.json").read_text())
    assert manifest["settings"]["preset"] == "fast"  # the appendix's default
    item = appendix.WorkItem(LAYER, (0, 1), seed=5)
    for name in ("fast", "lucid"):
        settings = appendix.Settings(steps=STEPS, size=SIZE, preset=name)
        renderer = make_renderer(random_model, item, settings)
        expected = PRESETS[name]
        assert float(renderer.optimizer.beta_1) == expected.beta_1
        assert float(renderer.optimizer.learning_rate.numpy()) == pytest.approx(
            expected.learning_rate)
        assert repr(renderer._transform) == repr(transform.compose(expected.make_transforms()))
    assert "pad(4" in repr(make_renderer(random_model, item, appendix.Settings(
        steps=STEPS, size=SIZE))._transform)  # fast's lighter transforms (Lucid pads 12)


def test_a_keras_application_renders_its_block_layers_by_default():
    from lucid2.modelzoo import keras_application
    from lucid2.recipes.appendix.job import _model_info, resolve_layers

    model = keras_application("MobileNetV2", weights=None, include_top=False)
    layers = resolve_layers(model, None, size=64, channels_per_batch=2)
    assert list(layers) == [info.name for info in model.block_layers()]
    assert layers == {info.name: info.channels for info in model.block_layers()}
    spec = ModelSpec("keras:MobileNetV2", weights=None)
    assert _model_info(spec, model, "f" * 64)["weights"] == "none"  # recorded, as for InceptionV1
