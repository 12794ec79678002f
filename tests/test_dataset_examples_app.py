"""``python -m lucid2.dataset_examples``: grids and JSON from the CLI; bad flags fail fast."""

import functools
import json
import re
import shutil

import keras
import numpy as np
import pytest
from image_testlib import truncated_jpeg_bytes, write_bad_images
from PIL import Image
from program_testlib import run_app, run_app_after

from lucid2.misc.io import load_image, to_uint8

NUM_IMAGES = 6
SIZE = 32
# Injected into the app's process: a real SIGINT as the search starts.
CTRL_C_IN_SEARCH = """
import os, signal, time
import lucid2.recipes.dataset_examples as examples

def find_examples(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(60)  # the signal interrupts this at once
examples.find_examples = find_examples
"""
# Injected into the app's process: the device fills up at the second image saved.
DISK_FULL_AT_SECOND_SAVE = """
import errno, os
from PIL import Image
save, saves = Image.Image.save, []

def full_device(image, fp, *args, **kwargs):
    saves.append(fp)
    if len(saves) == 2:
        with open(fp, "wb") as handle:
            handle.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fp)
    return save(image, fp, *args, **kwargs)
Image.Image.save = full_device
"""


_app = functools.partial(run_app, "lucid2.dataset_examples")


def _app_after(setup: str, *args: str):
    return run_app_after(setup, "lucid2.dataset_examples", *args)


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """A small Keras model file and a folder of generated PNG images."""
    root = tmp_path_factory.mktemp("app")
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="conv",
                            kernel_initializer=keras.initializers.RandomNormal(seed=0),
                            bias_initializer=keras.initializers.RandomNormal(seed=1))(inputs)
    out = keras.layers.GlobalAveragePooling2D(name="gap")(keras.layers.ReLU(name="relu")(x))
    model_path = root / "tiny.keras"
    keras.Model(inputs, out).save(model_path)
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(NUM_IMAGES):
        pixels = rng.integers(0, 256, (SIZE + i, SIZE, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"im{i}.png")
    return model_path, images


def _tiny_args(model_path, images, output_dir, *extra):
    return [f"--model={model_path}", "--value_range=0,1", "--layer=conv", "--channel=2",
            f"--images={images}", f"--image_size={SIZE}", "--k=3", f"--output_dir={output_dir}",
            "--noprogress", *extra]


def test_writes_grids_and_json_for_a_keras_model(tiny_setup, tmp_path):
    model_path, images = tiny_setup
    folder = tmp_path / "images"
    shutil.copytree(images, folder)
    (folder / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    result = _app(*_tiny_args(model_path, str(folder / "*.png"), out, "--batch_size=4",
                              "--reduce=mean"))
    assert result.returncode == 0, result.stderr
    assert f"{NUM_IMAGES} images searched (1 skipped)" in result.stdout
    assert "Skipped 1 unreadable image file(s)" in result.stderr
    names = {p.name for p in out.iterdir()}
    assert names == {"conv_2_top.png", "conv_2_bottom.png", "conv_2_near_zero.png",
                     "conv_2_spectrum.png", "conv_2.json"}
    record = json.loads((out / "conv_2.json").read_text())
    assert record["reduce"] == "mean" and record["num_images"] == NUM_IMAGES
    assert record["skipped"] == [str(folder / "broken.png")]
    top = [e["activation"] for e in record["top"]]
    bottom = [e["activation"] for e in record["bottom"]]
    assert len(top) == 3 and top == sorted(top, reverse=True)
    assert bottom == sorted(bottom) and bottom[0] <= top[-1]
    assert record["receptive_field"]["size"] == [3, 3]


@pytest.mark.slow
def test_the_search_reports_progress_and_quiet_prints_only_the_files(tiny_setup, tmp_path):
    model_path, images = tiny_setup
    args = [a for a in _tiny_args(model_path, images, tmp_path / "out", "--batch_size=2")
            if a != "--noprogress"]
    # Not a terminal: a line every PERIODIC_INTERVAL_SECONDS, here after every batch.
    every_batch = "import lucid2.optvis.progress as p\np.PERIODIC_INTERVAL_SECONDS = 1e-9\n"
    result = _app_after(every_batch, *args)
    assert result.returncode == 0, result.stderr
    searching = [line for line in result.stdout.splitlines()
                 if line.startswith("Searching ")]
    assert searching and all(" for conv:2: " in line for line in searching)
    assert f"{NUM_IMAGES}/{NUM_IMAGES} images (100%)" in searching[-2]
    assert re.search(rf": {NUM_IMAGES}/{NUM_IMAGES} images in \d+:\d\d:\d\d$", searching[-1])
    assert f"{NUM_IMAGES} images searched (0 skipped)" in result.stdout
    files = sorted(p.name for p in (tmp_path / "out").iterdir())

    result = _app_after(every_batch, *args, "--quiet")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    assert sorted(line.split("/")[-1] for line in lines) == files  # "  top: PATH" lines


@pytest.mark.parametrize("extra,message", [
    (["--layer=convv"], "Did you mean: conv"),
    (["--channel=4"], "channel must be an int in 0..3"),
    (["--neuron=1"], "--neuron must be 'x,y'"),
    (["--neuron=0,99"], "neuron y (column) must be an int in 0..15"),
    (["--images=NO_MATCH/*.png"], "No images matched the glob"),
    (["stray_argument"], "Unexpected arguments"),
    (["--weights=/some/weights"], "--weights applies to --model=inceptionv1 only"),
])
def test_bad_flags_fail_before_the_search(tiny_setup, tmp_path, extra, message):
    model_path, images = tiny_setup
    args = _tiny_args(model_path, images, tmp_path / "out")
    if extra[0].startswith("--images"):
        args = [a for a in args if not a.startswith("--images")]
        extra = [extra[0].replace("NO_MATCH", str(tmp_path))]
    result = _app(*args, *extra)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_inceptionv1_unknown_layer_names_close_matches(tiny_setup, tmp_path):
    _, images = tiny_setup
    result = _app("--layer=mixed4aa", "--channel=492", "--weights=none", f"--images={images}",
                  f"--output_dir={tmp_path / 'out'}")
    assert result.returncode != 0
    assert "Did you mean: mixed4a" in result.stderr


def test_required_flags_are_reported():
    result = _app("--layer=mixed4a")
    assert result.returncode != 0
    assert "--channel" in result.stderr and "must have a value" in result.stderr


def test_inceptionv1_mixed4a_492_on_sample_photos(shared_data, tmp_path):
    photos = shared_data / "imagenet-samples"
    subset = sorted(photos.glob("n02*.JPEG"))
    out = tmp_path / "out"
    result = _app("--layer=mixed4a_pre_relu", "--channel=492", f"--images={photos}/n02*.JPEG",
                  "--k=4", f"--output_dir={out}", f"--weights={shared_data / 'inception5h'}",
                  "--batch_size=8", "--noprogress")
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "mixed4a_pre_relu_492.json").read_text())
    assert record["num_images"] == len(subset) and record["skipped"] == []
    assert record["receptive_field"]["size"] == [171, 171]
    assert record["bottom"][0]["activation"] < 0 < record["top"][0]["activation"]
    assert {e["source"] for e in record["top"]} <= {str(p) for p in subset}
    with Image.open(out / "mixed4a_pre_relu_492_top.png") as grid:
        # The 171-pixel patches at their size, plus row titles, a title and captions.
        width, height = grid.size
        assert width > 4 * 171 and height > 171
        pixels = np.asarray(grid)
    best = record["top"][0]
    top, left, bottom, right = best["box"]
    patch = load_image(best["source"], size=224)[top:bottom, left:right]
    rows, cols = np.nonzero(np.all(pixels == to_uint8(patch)[0, 0], axis=-1))
    assert any(np.array_equal(pixels[y:y + 171, x:x + 171], to_uint8(patch))
               for y, x in zip(rows, cols) if y + 171 <= height and x + 171 <= width)


# --------------------------------------------------------- 1. unwritable output
@pytest.mark.parametrize("case, message", [
    ("proc", "--output_dir: cannot create '/proc/out': '/proc' does not accept new files"),
    ("file", "--output_dir: '{tmp}/file.txt' exists and is not a directory"),
    ("under_a_file", "--output_dir: '{tmp}/file.txt' is a file, not a folder"),
])
def test_unwritable_output_dir_fails_before_the_model_loads(tiny_setup, tmp_path, case,
                                                            message):
    _, images = tiny_setup
    (tmp_path / "file.txt").write_text("x")
    output_dir = {"proc": "/proc/out", "file": tmp_path / "file.txt",
                  "under_a_file": tmp_path / "file.txt" / "out"}[case]
    # A model file that does not exist: loading it first would fail with another message.
    result = _app(*_tiny_args(tmp_path / "missing.keras", images, output_dir))
    assert result.returncode == 1
    assert message.format(tmp=tmp_path) in result.stderr
    assert "missing.keras" not in result.stderr


# ---------------------------------------------------------------------- 2. Ctrl-C
def test_ctrl_c_exits_130_with_one_line_and_writes_nothing(tiny_setup, tmp_path):
    model_path, images = tiny_setup
    out = tmp_path / "out"
    result = _app_after(CTRL_C_IN_SEARCH, *_tiny_args(model_path, images, out))
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "lucid2.dataset_examples: interrupted; nothing written"
    assert "Traceback" not in result.stderr
    assert not out.exists()


# ------------------------------------------------------------------- 3. disk full
def test_disk_full_while_saving_is_one_line_and_leaves_nothing(tiny_setup, tmp_path):
    model_path, images = tiny_setup
    out = tmp_path / "out"
    result = _app_after(DISK_FULL_AT_SECOND_SAVE, *_tiny_args(model_path, images, out))
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"lucid2.dataset_examples: error: no space left to write '{out}': "
                           "the device is full (")
    assert last.endswith(" free); nothing written.")
    assert "Traceback" not in result.stderr
    assert not out.exists()  # the first grid, the partial second and the folder are gone


# ----------------------------------------------------------- unreadable image files
def test_a_folder_of_corrupt_files_is_a_clear_error(tiny_setup, tmp_path):
    model_path, _ = tiny_setup
    bad = write_bad_images(tmp_path / "bad")
    bad.pop("truncated").unlink()  # its header reads; that case comes below
    # No header reads: refused before the model loads (this model file does not exist).
    result = _app(*_tiny_args(tmp_path / "missing.keras", bad["text"].parent, tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("--images: None of the images could be read (3 image files)")
    for kind in ("text", "empty", "bomb"):
        assert repr(str(bad[kind])) in line
    # Headers read but no pixels decode: refused after the search, as clearly.
    cut = tmp_path / "cut"
    cut.mkdir()
    for i in range(2):
        (cut / f"cut_{i}.jpg").write_bytes(truncated_jpeg_bytes(seed=i))
    result = _app(*_tiny_args(model_path, cut, tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("--images: None of the images could be read (2 image files)")
    assert f"{str(cut / 'cut_0.jpg')!r} (its image data is damaged or truncated" in line
    assert not (tmp_path / "out").exists()
