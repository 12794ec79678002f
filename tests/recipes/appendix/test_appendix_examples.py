"""Dataset examples in an appendix worker: one pass over the dataset per layer, same results."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image
from progress_testlib import Recording

from lucid2.misc.io import image_grid, png_bytes
from lucid2.modelzoo import ModelSpec, from_keras
from lucid2.optvis import progress
from lucid2.recipes.appendix import Settings, Task, WorkItem, Worker, WorkerConfig
from lucid2.recipes.appendix import worker as worker_module
from lucid2.recipes.appendix.store import example_paths, open_store
from lucid2.recipes.dataset_examples import find_examples, list_image_files, scan_layer
from lucid2.recipes.dataset_examples.output import GRID_PADDING

NUM_IMAGES = 7
CHANNELS = 6
EXAMPLES = 3
IMAGE_PIXELS = 40


@pytest.fixture(scope="module")
def tiny():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(CHANNELS, 5, strides=4, padding="same", name="conv",
                            kernel_initializer=keras.initializers.RandomNormal(seed=0),
                            bias_initializer=keras.initializers.RandomNormal(seed=1))(inputs)
    out = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return from_keras(keras.Model(inputs, out, name="tiny_appendix"), value_range=(0, 1))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(3)
    for i in range(NUM_IMAGES):
        pixels = rng.integers(0, 256, (IMAGE_PIXELS, IMAGE_PIXELS + i, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"p{i}.png")
    return root


def test_worker_ranks_a_layer_once_and_writes_each_channels_examples(tiny, photos, tmp_path,
                                                                     monkeypatch):
    config = WorkerConfig(output_dir=str(tmp_path / "out"), backend=None, settings=Settings(),
                          model=ModelSpec("tiny.keras", None, (0.0, 1.0), "RGB"),
                          fingerprint="unused", dataset=str(photos), num_examples=EXAMPLES)
    passes = []
    monkeypatch.setattr(worker_module, "scan_layer",
                        lambda *args, **kw: passes.append(1) or scan_layer(*args, **kw))
    worker = Worker(config, model=tiny)
    worker.setup()
    tasks = [Task(WorkItem("conv", (0, 1, 2), seed=0), render=False, example_channels=(0, 1, 2)),
             Task(WorkItem("conv", (3, 4, 5), seed=1), render=False, example_channels=(3, 5))]
    assert [worker.run(task) for task in tasks] == [0, 0]
    assert len(passes) == 1  # one pass over the dataset for the whole layer

    store = open_store(config.output_dir)
    files = list_image_files(str(photos))
    for channel in range(CHANNELS):
        png_path, record_path = example_paths("conv", channel)
        if channel == 4:  # not asked for
            assert not store.exists(record_path)
            continue
        record = store.read_json(record_path)
        expected = find_examples(tiny, "conv", channel, files, k=EXAMPLES, progress=False)
        assert record["num_images"] == NUM_IMAGES and record["count"] == EXAMPLES
        top = expected.top
        assert [(e["index"], e["source"], e["position"], e["box"]) for e in record["top"]] == \
            [(e.index, e.source, list(e.position), list(e.box)) for e in top]
        np.testing.assert_allclose([e["activation"] for e in record["top"]],
                                   [e.activation for e in top], rtol=1e-6, atol=1e-6)
        patches = expected.patches("top")
        grid = image_grid(patches, ncols=len(patches), padding=GRID_PADDING)
        assert store.read_bytes(png_path) == png_bytes(grid)


def _examples_worker(tiny, photos, output) -> Worker:
    config = WorkerConfig(output_dir=str(output), backend=None, settings=Settings(),
                          model=ModelSpec("tiny.keras", None, (0.0, 1.0), "RGB"),
                          fingerprint="unused", dataset=str(photos), num_examples=EXAMPLES)
    worker = Worker(config, model=tiny)
    worker.setup()
    return worker


def test_worker_reports_its_dataset_pass_to_the_active_reporter_only(tiny, photos, tmp_path,
                                                                     capsys):
    task = Task(WorkItem("conv", (0, 1), seed=0), render=False, example_channels=(0, 1))
    recording = Recording()
    with progress.reporting(recording):
        _examples_worker(tiny, photos, tmp_path / "reported").run(task)
    # One pass over the dataset for every channel of the layer, counted in images.
    [(total, label, unit)] = recording.starts()
    assert (total, unit) == (NUM_IMAGES, "image")
    assert label.endswith(f" for {CHANNELS} channels of conv")
    assert recording.updates()[-1] == NUM_IMAGES and recording.events[-1] == ("finish",)
    # Outside an app's reporting block (a library call, a Beam worker's thread): silent.
    _examples_worker(tiny, photos, tmp_path / "silent").run(task)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
