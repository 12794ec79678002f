"""Dataset examples: exact running top-k, batch-size independence, receptive fields, errors."""

import dataclasses
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from image_testlib import UINT8_TO_UINT16, truncated_jpeg_bytes, write_bad_images
from PIL import Image
from progress_testlib import Recording

from lucid2.misc.io import load_image, to_uint8
from lucid2.optvis import progress
from lucid2.modelzoo import from_keras
from lucid2.recipes.dataset_examples import (FALLBACK_PATCH_FRACTION, SETS, ReceptiveField,
                                             UnknownLayerError, UnreadableImagesError,
                                             activation_text, example_grid, find_examples,
                                             find_layer_examples, receptive_field, save_examples,
                                             save_grid, scan_layer, set_grid, spectrum_grid)
from lucid2.recipes.dataset_examples.output import rank_titles, search_summary, unit_name
from lucid2.recipes.dataset_examples import search as search_module

SIZE = 32
NUM_IMAGES = 11
K = 4
CHANNEL = 1


def _init(seed):
    return keras.initializers.RandomNormal(stddev=0.5, seed=seed)


def _tiny_net() -> keras.Model:
    inputs = keras.Input((None, None, 3), name="pixels")
    x = keras.layers.Conv2D(4, 3, padding="valid", name="conv_a", kernel_initializer=_init(1),
                            bias_initializer=_init(2))(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    b3 = keras.layers.Conv2D(3, 3, padding="same", name="branch3", kernel_initializer=_init(3),
                             bias_initializer=_init(4))(x)
    b5 = keras.layers.Conv2D(2, 5, padding="same", name="branch5", kernel_initializer=_init(5),
                             bias_initializer=_init(6))(x)
    mix = keras.layers.Concatenate(name="mix")([b3, b5])
    relu = keras.layers.ReLU(name="mix_relu")(mix)
    # A channel that is zero for every image: all its scores tie.
    dead = keras.layers.Conv2D(1, 1, name="dead_pre", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(-1.0))(relu)
    dead = keras.layers.ReLU(name="dead")(dead)
    both = keras.layers.Concatenate(name="both")([relu, dead])
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(both)
    logits = keras.layers.Dense(3, name="logits", kernel_initializer=_init(7))(pooled)
    return keras.Model(inputs, logits, name="tiny")


@pytest.fixture(scope="module")
def tiny():
    return from_keras(_tiny_net(), value_range=(0, 1))


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """Random pictures of different sizes, some with a bright square, as PNG files."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(NUM_IMAGES):
        height, width = 24 + 3 * i, 40 - 2 * i
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        if i % 3 == 0:
            pixels[2:10, 3:11] = 255
        Image.fromarray(pixels).save(root / f"img_{i:02d}.png")
    return root


def _paths(image_dir):
    return sorted(str(p) for p in image_dir.glob("*.png"))


def _reference(model, layer, paths, channel=CHANNEL):
    """Per-image channel maps from a plain loop, one image at a time."""
    sub = model.submodel(layer)
    return [np.asarray(sub(load_image(p, size=SIZE)[None]))[0, ..., channel] for p in paths]


def _rank(scores, key, k=K):
    return sorted(range(len(scores)), key=lambda i: (key(scores[i]), i))[:k]


def _search(model, images, layer="mix", **kwargs):
    kwargs.setdefault("k", K)
    kwargs.setdefault("image_size", SIZE)
    kwargs.setdefault("progress", False)
    return find_examples(model, layer, CHANNEL, images, **kwargs)


# ------------------------------------------------------------ exact top-k
def test_channel_max_examples_match_a_plain_numpy_loop(tiny, image_dir):
    paths = _paths(image_dir)
    maps = _reference(tiny, "mix", paths)
    maxima = [float(m.max()) for m in maps]
    minima = [float(m.min()) for m in maps]
    result = _search(tiny, str(image_dir), batch_size=3)
    assert result.num_images == NUM_IMAGES and result.grid == maps[0].shape
    expected = {"top": (_rank(maxima, lambda v: -v), maxima, np.argmax),
                "bottom": (_rank(minima, lambda v: v), minima, np.argmin),
                "near_zero": (_rank(maxima, abs), maxima, np.argmax)}
    for which, (order, scores, arg) in expected.items():
        examples = result.examples(which)
        assert [e.index for e in examples] == order, which
        assert [e.source for e in examples] == [paths[i] for i in order]
        np.testing.assert_allclose([e.activation for e in examples], [scores[i] for i in order],
                                   rtol=1e-5, atol=1e-5)
        for e in examples:
            m = maps[e.index]
            assert e.position == np.unravel_index(arg(m), m.shape)
            np.testing.assert_allclose([e.max, e.min, e.mean], [m.max(), m.min(), m.mean()],
                                       rtol=1e-5, atol=1e-5)
            np.testing.assert_array_equal(e.image, load_image(e.source, size=SIZE))
    top = result.top
    assert all(a.activation >= b.activation for a, b in zip(top, top[1:]))


def test_mean_reduction_and_neuron_scores(tiny, image_dir):
    paths = _paths(image_dir)
    maps = _reference(tiny, "mix", paths)
    means = [float(m.mean()) for m in maps]
    result = _search(tiny, paths, reduce="mean")
    assert [e.index for e in result.top] == _rank(means, lambda v: -v)
    assert [e.index for e in result.bottom] == _rank(means, lambda v: v)
    assert [e.index for e in result.near_zero] == _rank(means, abs)
    np.testing.assert_allclose([e.activation for e in result.near_zero],
                               [means[i] for i in _rank(means, abs)], rtol=1e-5, atol=1e-5)

    x, y = 2, 5  # x is the row, y the column, as in lucid2's neuron objective
    values = [float(m[x, y]) for m in maps]
    neuron = _search(tiny, paths, neuron=(x, y))
    assert neuron.neuron == (x, y)
    assert [e.index for e in neuron.top] == _rank(values, lambda v: -v)
    assert [e.index for e in neuron.bottom] == _rank(values, lambda v: v)
    assert all(e.position == (x, y) for e in neuron.top + neuron.bottom + neuron.near_zero)
    center = _search(tiny, paths, neuron="center")
    rows, cols = maps[0].shape
    assert center.neuron == (rows // 2, cols // 2)


@pytest.mark.parametrize("batch_size", [3, 7])
def test_results_identical_for_any_batch_size(tiny, image_dir, batch_size):
    one = _search(tiny, str(image_dir / "*.png"), batch_size=1)
    other = _search(tiny, str(image_dir / "*.png"), batch_size=batch_size)
    for which in ("top", "bottom", "near_zero"):
        a, b = one.examples(which), other.examples(which)
        def ranking(examples):
            return [(e.index, e.position, e.box) for e in examples]

        assert ranking(a) == ranking(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.image, y.image)
            np.testing.assert_array_equal(x.patch, y.patch)
        np.testing.assert_allclose([e.activation for e in a], [e.activation for e in b],
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch_size", [1, 3, 7])
def test_ties_are_broken_by_image_index(tiny, image_dir, batch_size):
    result = find_examples(tiny, "dead", 0, str(image_dir), k=5, image_size=SIZE,
                           batch_size=batch_size, progress=False)
    for which in ("top", "bottom", "near_zero"):
        examples = result.examples(which)
        assert [e.index for e in examples] == [0, 1, 2, 3, 4]
        assert all(e.activation == 0.0 and e.position == (0, 0) for e in examples)


def test_vector_layer_scores_the_unit_and_patches_are_whole_images(tiny, image_dir):
    paths = _paths(image_dir)
    sub = tiny.submodel("logits")
    logits = [float(np.asarray(sub(load_image(p, size=SIZE)[None]))[0, CHANNEL]) for p in paths]
    result = _search(tiny, paths, layer="logits")
    assert [e.index for e in result.top] == _rank(logits, lambda v: -v)
    assert result.grid is None and result.receptive_field is None
    assert all(e.position is None and e.patch.shape == (SIZE, SIZE, 3) for e in result.top)


# ---------------------------------------------------------------- sources
def test_dataset_and_array_sources_match_files(tiny, image_dir):
    paths = _paths(image_dir)
    images = np.stack([load_image(p, size=SIZE) for p in paths])
    from_files = _search(tiny, paths)
    sources = {
        "dataset": tf.data.Dataset.from_tensor_slices(images),
        "batched dataset": tf.data.Dataset.from_tensor_slices(images).batch(4),
        "uint8 dataset": tf.data.Dataset.from_tensor_slices(
            np.round(images * 255).astype(np.uint8)),
        "array": images,
    }
    for name, source in sources.items():
        result = _search(tiny, source, batch_size=5)
        assert result.num_images == NUM_IMAGES, name
        for which in ("top", "bottom", "near_zero"):
            a, b = from_files.examples(which), result.examples(which)
            assert [e.index for e in a] == [e.index for e in b], (name, which)
            assert all(e.source is None for e in b)
            np.testing.assert_allclose([e.activation for e in a], [e.activation for e in b],
                                       rtol=1e-4, atol=1e-5)


def test_dataset_images_of_other_sizes_are_resized(tiny):
    rng = np.random.default_rng(1)
    images = rng.random((5, 50, 40, 3)).astype(np.float32)
    result = _search(tiny, tf.data.Dataset.from_tensor_slices(images))
    assert result.num_images == 5
    assert result.top[0].image.shape == (SIZE, SIZE, 3)


def test_unreadable_file_is_skipped_with_a_warning(tiny, image_dir, tmp_path):
    paths = _paths(image_dir)[:5]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    mixed = paths[:2] + [str(broken)] + paths[2:]
    with pytest.warns(UserWarning, match="Skipped 1 unreadable"):
        result = _search(tiny, mixed, k=6)
    assert result.skipped == (str(broken),)
    assert result.num_images == 5
    assert sorted(e.index for e in result.top) == [0, 1, 3, 4, 5]
    assert all(e.source == mixed[e.index] for e in result.top)
    with pytest.raises(ValueError, match="None of the images"):
        _search(tiny, [str(broken)])


def _gray_copies(image_dir, folder, count=5):
    """The first ``count`` images, gray and SIZE x SIZE, as 8-bit and as 16-bit PNGs."""
    paths = {"8-bit": [], "16-bit": []}
    for i, path in enumerate(_paths(image_dir)[:count]):
        with Image.open(path) as pil:
            gray = np.asarray(pil.convert("L").resize((SIZE, SIZE)))
        for name, values in (("8-bit", gray), ("16-bit", gray.astype(np.uint16) * UINT8_TO_UINT16)):
            paths[name].append(str(folder / f"{name}_{i}.png"))
            Image.fromarray(values).save(paths[name][-1])
    return paths


def test_16bit_files_are_searched_like_their_8bit_copies(tiny, image_dir, tmp_path):
    # The old loader saturated 16-bit gray to white: every image scored the same.
    paths = _gray_copies(image_dir, tmp_path)
    eight, sixteen = _search(tiny, paths["8-bit"], k=5), _search(tiny, paths["16-bit"], k=5)
    assert sixteen.skipped == () and sixteen.num_images == 5
    for which in ("top", "bottom", "near_zero"):
        a, b = eight.examples(which), sixteen.examples(which)
        assert [e.index for e in a] == [e.index for e in b], which
        np.testing.assert_allclose([e.activation for e in a], [e.activation for e in b],
                                   rtol=1e-5, atol=1e-6)
    assert len({round(e.activation, 6) for e in sixteen.top}) > 1


def test_unreadable_files_are_skipped_naming_each_and_why(tiny, image_dir, tmp_path):
    bad = write_bad_images(tmp_path)
    float_path = tmp_path / "float.tif"
    Image.fromarray(np.full((SIZE, SIZE), 3.0, np.float32)).save(float_path)
    files = _paths(image_dir)[:3] + [str(bad["text"]), str(bad["truncated"]), str(float_path)]
    with pytest.warns(UserWarning, match="Skipped 3 unreadable") as caught:
        result = _search(tiny, files, k=2)
    message = str(caught[0].message)
    for path, reason in ((bad["text"], "not an image file"),
                         (bad["truncated"], "its image data is damaged or truncated"),
                         (float_path, "its float ('F') values span [3, 3]")):
        assert f"{str(path)!r} ({reason}" in message
    assert result.skipped == tuple(files[3:]) and result.num_images == 3


def test_no_readable_file_fails_before_any_image_is_decoded(tiny, tmp_path, monkeypatch):
    def no_reading(*args, **kw):
        raise AssertionError("images were decoded")

    monkeypatch.setattr("lucid2.recipes.dataset_examples.search.batches", no_reading)
    bad = write_bad_images(tmp_path)
    headers_bad = [str(bad[kind]) for kind in ("text", "empty", "bomb")]
    with pytest.raises(UnreadableImagesError, match=r"None of the images could be read \(3 "
                                                    r"image files\)") as caught:
        _search(tiny, headers_bad)
    for path, reason in zip(headers_bad, ("not an image file", "not an image file",
                                          "Image size (400000000 pixels) exceeds limit")):
        assert f"{path!r} ({reason}" in str(caught.value)


def test_files_whose_pixels_never_decode_fail_naming_them(tiny, tmp_path):
    files = []
    for i in range(7):
        files.append(tmp_path / f"cut_{i}.jpg")
        files[-1].write_bytes(truncated_jpeg_bytes(seed=i))
    with pytest.raises(UnreadableImagesError, match="None of the images could be read") as caught:
        _search(tiny, [str(p) for p in files])
    message = str(caught.value)
    assert all(f"{str(p)!r} (its image data is damaged or truncated" in message
               for p in files[:5])
    assert str(files[5]) not in message and message.endswith("; and 2 more.")


# -------------------------------------------------------- receptive fields
def test_receptive_field_of_a_small_stack_computed_by_hand(tiny):
    # conv 3 valid: size 3, stride 1, center of unit 0 at pixel 1.
    assert receptive_field(tiny, "conv_a", SIZE) == ReceptiveField((3, 3), (1, 1), (1, 1))
    # + max pool 2 stride 2 valid: size 3 + 1, stride 2, center 1 + 0.5.
    assert receptive_field(tiny, "pool", SIZE) == ReceptiveField((4, 4), (2, 2), (1.5, 1.5))
    # + 3x3 same: 4 + 2 * 2 = 8; + 5x5 same: 4 + 4 * 2 = 12; concat takes the larger.
    assert receptive_field(tiny, "branch3", SIZE).size == (8, 8)
    assert receptive_field(tiny, "mix", SIZE) == ReceptiveField((12, 12), (2, 2), (1.5, 1.5))
    assert receptive_field(tiny, "mix_relu", SIZE) == receptive_field(tiny, "mix", SIZE)


def test_same_padding_of_strided_layers_depends_on_the_image_size():
    inputs = keras.Input((None, None, 3))
    out = keras.layers.Conv2D(1, 3, strides=2, padding="same", name="c")(inputs)
    model = from_keras(keras.Model(inputs, out), value_range=(0, 1))
    # Even size: TensorFlow pads 1 pixel, after the image, so unit 0 is centered on pixel 1.
    assert receptive_field(model, "c", 16).offset == (1, 1)
    # Odd size: 2 pixels of padding, one before, so unit 0 is centered on pixel 0.
    assert receptive_field(model, "c", (17, 16)).offset == (0, 1)


def _linear_stack() -> keras.Model:
    positive = keras.initializers.RandomUniform(0.1, 1.0, seed=3)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, (3, 1), strides=2, padding="same",
                            kernel_initializer=positive)(inputs)
    x = keras.layers.ZeroPadding2D(((1, 0), (2, 1)))(x)
    x = keras.layers.Conv2D(2, 3, dilation_rate=2, kernel_initializer=positive)(x)
    x = keras.layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = keras.layers.Cropping2D(((1, 0), (0, 1)))(x)
    a = keras.layers.DepthwiseConv2D(3, padding="same", depthwise_initializer=positive)(x)
    b = keras.layers.SeparableConv2D(2, (1, 5), padding="same", depthwise_initializer=positive,
                                     pointwise_initializer=positive)(x)
    out = keras.layers.Concatenate(name="out")([a, b])
    return keras.Model(inputs, out)


def test_receptive_field_box_is_exactly_where_the_gradient_is_nonzero():
    model = from_keras(_linear_stack(), value_range=(0, 1))
    size = (54, 46)
    field = receptive_field(model, "out", size)
    sub = model.submodel("out")
    image = tf.ones((1,) + size + (3,))
    rows, cols = sub(image).shape[1:3]
    inside = 0
    for row in range(rows):
        for col in range(cols):
            with tf.GradientTape() as tape:
                tape.watch(image)
                value = tf.reduce_sum(sub(image)[0, row, col])
            support = np.abs(tape.gradient(value, image).numpy()[0].sum(-1)) > 0
            ys, xs = np.nonzero(support.any(1))[0], np.nonzero(support.any(0))[0]
            top, left, bottom, right = field.box(row, col)
            if top >= 0 and left >= 0 and bottom <= size[0] and right <= size[1]:
                inside += 1
                assert (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) == \
                    (top, bottom, left, right), (row, col)
            else:
                # Near the border, window taps that land in the padding (and the gaps
                # of the dilated convolution) can leave the image edge unreached.
                assert top <= ys.min() and ys.max() < bottom, (row, col)
                assert left <= xs.min() and xs.max() < right, (row, col)
    assert inside >= 6


def test_inceptionv1_mixed4a_receptive_field():
    from lucid2.modelzoo import InceptionV1

    model = InceptionV1(weights=None)
    # The 5x5 path: conv2d0 7/2, maxpool0 3/2, conv2d2 3, maxpool1 3/2, mixed3a 5x5,
    # mixed3b 5x5, maxpool4 3/2, mixed4a 5x5.
    size, stride = 1, 1
    for kernel, step in [(7, 2), (3, 2), (1, 1), (3, 1), (3, 2), (5, 1), (5, 1), (3, 2), (5, 1)]:
        size += (kernel - 1) * stride
        stride *= step
    field = receptive_field(model, "mixed4a_pre_relu", 224)
    assert field.size == (size, size) == (171, 171) and field.stride == (16, 16)
    # Stride-2 "same" layers on even sizes pad after the image, moving centers right:
    # conv2d0 +1, maxpool0 +2, maxpool1 +4, maxpool4 +8 pixels.
    assert field.offset == (15, 15)


def test_patches_are_the_receptive_field_clipped_into_the_image(tiny, image_dir):
    result = _search(tiny, str(image_dir))
    field = result.receptive_field
    assert field == receptive_field(tiny, "mix", SIZE)
    for e in result.top + result.bottom:
        top, left, bottom, right = e.box
        assert (bottom - top, right - left) == (12, 12)
        assert 0 <= top and 0 <= left and bottom <= SIZE and right <= SIZE
        np.testing.assert_array_equal(e.patch, e.image[top:bottom, left:right])
        center = field.center(*e.position)
        # The patch holds the unit's center (clipping may shift it off the middle).
        assert top <= center[0] < bottom and left <= center[1] < right


def _net_with(layer) -> keras.Model:
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="conv")(inputs)
    x = layer(x)
    out = keras.layers.Conv2D(2, 1, name="head")(x)
    return keras.Model(inputs, out)


def test_unknown_layer_type_raises_or_falls_back(image_dir):
    model = from_keras(_net_with(keras.layers.UpSampling2D(2, name="up")), value_range=(0, 1))
    with pytest.raises(UnknownLayerError, match="'up' of type UpSampling2D"):
        receptive_field(model, "head", SIZE)
    with pytest.warns(UserWarning, match="UpSampling2D"):
        result = _search(model, str(image_dir), layer="head")
    field = result.receptive_field
    assert not field.exact
    side = round(FALLBACK_PATCH_FRACTION * SIZE)
    assert all(e.patch.shape == (side, side, 3) for e in result.top)
    # A user-declared pointwise layer is accepted.
    doubled = from_keras(_net_with(keras.layers.Lambda(lambda t: 2 * t, name="double")),
                         value_range=(0, 1))
    assert receptive_field(doubled, "head", SIZE, pointwise=["double"]) == \
        receptive_field(doubled, "conv", SIZE)


def test_crops_off_and_receptive_field_override(tiny, image_dir):
    plain = _search(tiny, str(image_dir), crops=False)
    assert plain.receptive_field is None
    assert all(e.patch is None and e.box is None for e in plain.top)
    custom = ReceptiveField((5, 5), (2, 2), (1.5, 1.5))
    result = _search(tiny, str(image_dir), receptive_field=custom)
    assert result.receptive_field == custom
    assert all(e.patch.shape == (5, 5, 3) for e in result.top)


# -------------------------------------------------------------- outputs
def test_save_examples_writes_grids_and_json(tiny, image_dir, tmp_path):
    result = _search(tiny, str(image_dir))
    paths = save_examples(result, tmp_path / "out")
    assert set(paths) == {"top", "bottom", "near_zero", "spectrum", "json"}
    for which in SETS:
        with Image.open(paths[which]) as grid:
            np.testing.assert_array_equal(np.asarray(grid), set_grid(result, which))
    with Image.open(paths["spectrum"]) as grid:
        np.testing.assert_array_equal(np.asarray(grid), spectrum_grid(result))
    record = json.loads(paths["json"].read_text())
    assert record["layer"] == "mix" and record["channel"] == CHANNEL
    assert record["num_images"] == NUM_IMAGES and record["skipped"] == []
    assert record["receptive_field"]["size"] == [12, 12]
    assert [e["index"] for e in record["top"]] == [e.index for e in result.top]
    assert [e["activation"] for e in record["bottom"]] == [e.activation for e in result.bottom]
    assert record["grids"]["top"] == paths["top"].name
    grid_path = save_grid(result.top[:3], tmp_path / "three.png", ncols=1)
    with Image.open(grid_path) as grid:
        np.testing.assert_array_equal(np.asarray(grid), example_grid(result.top[:3], ncols=1))


# ------------------------------------------------------------ labeled grids
PATCH = 12  # the tiny net's receptive field at "mix"
SCALE = 6  # 12-pixel patches are enlarged 6 times: the smallest factor reaching MIN_CELL_SIZE


def _tile(example) -> np.ndarray:
    """The patch as the grid shows it: each pixel a SCALE x SCALE block."""
    return np.kron(to_uint8(example.patch), np.ones((SCALE, SCALE, 1), dtype=np.uint8))


def _where(grid: np.ndarray, tile: np.ndarray) -> list[tuple[int, int]]:
    """Every (row, column) where ``tile`` appears in ``grid`` pixel for pixel."""
    h, w = tile.shape[:2]
    corner = np.all(grid[:grid.shape[0] - h + 1, :grid.shape[1] - w + 1] == tile[0, 0], axis=-1)
    return [(int(y), int(x)) for y, x in zip(*np.nonzero(corner))
            if np.array_equal(grid[y:y + h, x:x + w], tile)]


def _not_blank(area: np.ndarray) -> bool:
    return bool(np.any(area < 255))


def test_label_texts():
    assert activation_text(310.29834) == "310.3"
    assert activation_text(-485.98) == "-486"
    assert activation_text(-1.2345678e-05) == "-1.235e-05"
    assert activation_text(0.0) == "0"
    assert rank_titles("top", 8, 8, "mixed4a:97") == ["top 1-8 of mixed4a:97"]
    assert rank_titles("near zero", 10, 4) == ["near zero 1-4", "near zero 5-8",
                                               "near zero 9-10"]
    assert rank_titles("", 5, 4) == ["1-4", "5"]
    with pytest.raises(ValueError, match="at least 1"):
        rank_titles("top", 0, 4)


def test_unit_name_and_summary_say_what_was_searched(tiny, image_dir):
    channel = _search(tiny, str(image_dir))
    assert unit_name(channel) == f"mix:{CHANNEL}"
    assert search_summary(channel) == (f"mix:{CHANNEL} in {NUM_IMAGES} images, score: the "
                                       "channel's spatial max (min for bottom); under each "
                                       "patch: its activation")
    neuron = _search(tiny, str(image_dir), neuron=(2, 3), reduce="mean")
    assert unit_name(neuron) == f"mix:{CHANNEL} at (2,3)"
    assert "score: the unit's value" in search_summary(neuron)


def test_grid_shows_each_patch_whole_with_its_activation_under_it(tiny, image_dir):
    result = _search(tiny, str(image_dir))
    grid = set_grid(result, "top")
    cell = PATCH * SCALE
    places = [_where(grid, _tile(e)) for e in result.top]
    assert all(len(p) == 1 for p in places), places  # each patch once, unchanged
    (y, first_x), = places[0]
    assert [p[0] for p in places] == sorted(p[0] for p in places)  # in rank order, one row
    assert {p[0][0] for p in places} == {y}
    # Larger than the bare tiles by a row title on the left, a title above, captions below.
    assert first_x > 0 and y > 0 and grid.shape[0] > y + cell
    assert grid.shape[1] > K * cell
    assert _not_blank(grid[y:y + cell, :first_x])  # the row title
    assert _not_blank(grid[:y, :])  # the title
    for (_, x), in places:
        assert _not_blank(grid[y + cell:, x:x + cell])  # the caption under each patch
    # The caption is the activation: another value redraws only the pixels under that patch.
    changed = [dataclasses.replace(result.top[0], activation=-123.4)] + list(result.top[1:])
    other = example_grid(changed, K, row_titles=[f"top 1-{K} of {unit_name(result)}"],
                         title=search_summary(result))
    rows, cols = np.nonzero(np.any(other != grid, axis=-1))
    assert rows.size and rows.min() >= y + cell and cols.min() >= first_x
    assert cols.max() < first_x + cell


def test_spectrum_runs_from_minimum_to_maximum_in_titled_rows(tiny, image_dir):
    result = _search(tiny, str(image_dir))
    grid = spectrum_grid(result)
    cell = PATCH * SCALE
    lowest = _where(grid, _tile(result.bottom[0]))
    highest = _where(grid, _tile(result.top[0]))
    first_y, first_x = min(lowest)
    last_y, last_x = max(highest)
    assert first_y < last_y and first_x < last_x  # top left to bottom right
    near = sorted(result.near_zero, key=lambda e: (e.activation, e.index))
    row_ys = [first_y, min(y for y, _ in _where(grid, _tile(near[0]))), last_y]
    assert row_ys == sorted(row_ys) and len(set(row_ys)) == 3
    for y in row_ys:
        assert _not_blank(grid[y:y + cell, :first_x])  # a title on the left of each row
        assert _not_blank(grid[y + cell:y + cell + SCALE * 2, first_x:])  # captions under it
    assert grid.shape[1] > K * cell and grid.shape[0] > 3 * cell


def test_grids_wrap_rows_and_check_their_titles(tiny, image_dir):
    result = _search(tiny, str(image_dir), k=5)
    grid = example_grid(result.top, ncols=2, name="top")
    cell = PATCH * SCALE
    ys = sorted({min(_where(grid, _tile(e)))[0] for e in result.top})
    assert len(ys) == 3 and all(b - a > cell for a, b in zip(ys, ys[1:]))  # captions between
    with pytest.raises(ValueError, match="row_titles must have 3 entries"):
        example_grid(result.top, ncols=2, row_titles=["top"])
    with pytest.raises(ValueError, match="ncols must be at least 1"):
        example_grid(result.top, ncols=0)
    with pytest.raises(ValueError, match="No examples"):
        example_grid([])
    with pytest.raises(ValueError, match="crops=True"):
        example_grid(_search(tiny, str(image_dir), crops=False).top)


def test_progress_bar_is_shown_when_asked(tiny, image_dir, capsys):
    _search(tiny, str(image_dir), progress=True)
    assert f"{NUM_IMAGES}/{NUM_IMAGES}" in capsys.readouterr().out
    _search(tiny, str(image_dir), progress=False)
    assert capsys.readouterr().out == ""


def test_the_search_reports_images_through_a_reporter(tiny, image_dir, capsys):
    given = Recording()
    _search(tiny, str(image_dir), progress=given, batch_size=4)
    assert given.events[0] == ("start", NUM_IMAGES,
                               f"Searching {NUM_IMAGES} image files for mix:{CHANNEL}", "image")
    assert given.events[1:] == [("update", 4, {}), ("update", 8, {}),
                                ("update", NUM_IMAGES, {}), ("finish",)]
    # progress=True: the reporter an app made active, instead of a bar of its own.
    active = Recording()
    with progress.reporting(active):
        scan_layer(tiny, "mix", str(image_dir), channels=[0, 1], k=K, image_size=SIZE)
    assert active.events[0][2].endswith(" for 2 channels of mix")
    assert active.events[-2:] == [("update", NUM_IMAGES, {}), ("finish",)]
    assert capsys.readouterr().out == ""
    with pytest.raises(TypeError, match="progress must be True, False or a lucid2"):
        _search(tiny, str(image_dir), progress="bar")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs,error,message", [
    (dict(layer="mixx"), ValueError, "Did you mean: mix"),
    (dict(channel=5), ValueError, r"channel must be an int in 0\.\.4"),
    (dict(channel=-1), ValueError, "channel must be"),
    (dict(k=0), ValueError, "k must be a positive int"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
    (dict(reduce="median"), ValueError, "reduce must be one of"),
    (dict(neuron=(0, 99)), ValueError, r"neuron y \(column\) must be an int in 0\.\.14"),
    (dict(neuron="middle"), ValueError, "neuron must be None"),
    (dict(layer="logits", neuron=(0, 0)), ValueError, "no spatial positions"),
    (dict(image_size=0), ValueError, "image_size must be a positive int"),
    (dict(receptive_field=(3, 3)), TypeError, "receptive_field must be"),
])
def test_bad_arguments_fail_before_any_image_is_read(tiny, kwargs, error, message, monkeypatch):
    def no_reading(*args, **kw):
        raise AssertionError("images were read")

    monkeypatch.setattr("lucid2.recipes.dataset_examples.search.batches", no_reading)
    arguments = dict(layer="mix", channel=CHANNEL, images=np.zeros((2, SIZE, SIZE, 3)),
                     image_size=SIZE, progress=False)
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        find_examples(tiny, arguments.pop("layer"), arguments.pop("channel"),
                      arguments.pop("images"), **arguments)


def test_bad_image_sources(tiny, image_dir, tmp_path):
    with pytest.raises(ValueError, match="No images matched the glob"):
        _search(tiny, str(image_dir / "*.jpeg"))
    with pytest.raises(ValueError, match="No images matched the directory"):
        _search(tiny, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="No such image file or directory"):
        _search(tiny, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="1 image file"):
        _search(tiny, [str(tmp_path / "missing.png")])
    with pytest.raises(ValueError, match="empty"):
        _search(tiny, [])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        _search(tiny, np.full((2, SIZE, SIZE, 3), 255.0))
    with pytest.raises(ValueError, match="it is empty"):
        _search(tiny, tf.data.Dataset.from_tensor_slices(np.zeros((0, 8, 8, 3), np.float32)))
    with pytest.raises(TypeError, match="image tensors"):
        _search(tiny, tf.data.Dataset.from_tensor_slices((np.zeros((2, 8, 8, 3)), [0, 1])))
    with pytest.raises(TypeError, match="VisionModel"):
        find_examples(_tiny_net(), "mix", 0, str(image_dir))
    assert math.isfinite(_search(tiny, str(image_dir / "img_00.png")).top[0].activation)


# ------------------------------------------------------------ real weights
def test_inceptionv1_examples_match_a_plain_loop_for_any_batch_size(inception, shared_data):
    layer, channel = "mixed4a_pre_relu", 492
    folder = shared_data / "imagenet-samples"
    photos = sorted(str(p) for p in folder.glob("*.JPEG"))
    sub = inception.submodel(layer)
    maps = [np.asarray(sub(load_image(p, size=224)[None]))[0, ..., channel] for p in photos]
    maxima = [float(m.max()) for m in maps]
    minima = [float(m.min()) for m in maps]
    results = {size: find_examples(inception, layer, channel, str(folder), k=8,
                                   batch_size=size, progress=False) for size in (1, 16)}
    for result in results.values():
        assert result.num_images == len(photos) == 50
        best = result.top[0]
        assert best.index == int(np.argmax(maxima)) and best.source == photos[best.index]
        np.testing.assert_allclose(best.activation, max(maxima), rtol=1e-4)
        assert [e.index for e in result.top] == _rank(maxima, lambda v: -v, k=8)
        assert [e.index for e in result.bottom] == _rank(minima, lambda v: v, k=8)
        assert result.bottom[0].activation < 0 < result.top[0].activation
        assert result.receptive_field.size == (171, 171)
        assert all(e.patch.shape == (171, 171, 3) for e in result.top)
    one, sixteen = results[1], results[16]
    for which in ("top", "bottom", "near_zero"):
        a, b = one.examples(which), sixteen.examples(which)
        assert [(e.index, e.position) for e in a] == [(e.index, e.position) for e in b]
        np.testing.assert_allclose([e.activation for e in a], [e.activation for e in b],
                                   rtol=1e-4, atol=1e-3)


# ------------------------------------------------------- layer-wide search
MIX_CHANNELS = 5


def _assert_same_examples(one, other, rtol=1e-6, atol=1e-6):
    """Two results hold the same examples, in the same order, with the same pixels."""
    assert (one.layer, one.channel, one.neuron, one.reduce, one.grid, one.num_images,
            one.skipped, one.receptive_field) == \
        (other.layer, other.channel, other.neuron, other.reduce, other.grid, other.num_images,
         other.skipped, other.receptive_field)
    for which in SETS:
        a, b = one.examples(which), other.examples(which)
        assert [(e.index, e.source, e.position, e.box) for e in a] == \
            [(e.index, e.source, e.position, e.box) for e in b], which
        for name in ("activation", "max", "min", "mean"):
            np.testing.assert_allclose([getattr(e, name) for e in a],
                                       [getattr(e, name) for e in b], rtol=rtol, atol=atol)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.image, y.image)
            if x.patch is None:
                assert y.patch is None
            else:
                np.testing.assert_array_equal(x.patch, y.patch)


@pytest.mark.parametrize("layer,reduce,batch_size", [
    ("mix", "max", 3), ("mix", "mean", 7), ("dead", "max", 4), ("logits", "max", 5)])
def test_layer_search_equals_one_search_per_channel(tiny, image_dir, layer, reduce, batch_size):
    arguments = dict(k=K, image_size=SIZE, reduce=reduce, batch_size=batch_size, progress=False)
    results = find_layer_examples(tiny, layer, str(image_dir), **arguments)
    count = tiny.output_shape(layer, (1, SIZE, SIZE, 3))[-1]
    assert list(results) == list(range(count))
    for channel, result in results.items():
        _assert_same_examples(result, find_examples(tiny, layer, channel, str(image_dir),
                                                    **arguments))


def test_layer_search_checks_against_a_plain_numpy_loop(tiny, image_dir):
    """Every channel's top and bottom lists are the sorted spatial maxima / minima."""
    paths = _paths(image_dir)
    sub = tiny.submodel("mix")
    maps = np.stack([np.asarray(sub(load_image(p, size=SIZE)[None]))[0] for p in paths])
    results = find_layer_examples(tiny, "mix", paths, k=K, image_size=SIZE, batch_size=4,
                                  progress=False)
    for channel in range(MIX_CHANNELS):
        maxima = maps[..., channel].max(axis=(1, 2)).tolist()
        minima = maps[..., channel].min(axis=(1, 2)).tolist()
        result = results[channel]
        assert [e.index for e in result.top] == _rank(maxima, lambda v: -v)
        assert [e.index for e in result.bottom] == _rank(minima, lambda v: v)
        assert [e.index for e in result.near_zero] == _rank(maxima, abs)
        np.testing.assert_allclose([e.activation for e in result.top],
                                   sorted(maxima, reverse=True)[:K], rtol=1e-5, atol=1e-5)
        for e in result.top:
            assert e.position == np.unravel_index(np.argmax(maps[e.index, ..., channel]),
                                                  maps.shape[1:3])


def test_layer_search_of_chosen_channels_keeps_their_order_and_neuron(tiny, image_dir):
    arguments = dict(k=K, image_size=SIZE, progress=False, neuron=(2, 5))
    results = find_layer_examples(tiny, "mix", str(image_dir), channels=[4, 0, 2], **arguments)
    assert list(results) == [4, 0, 2]
    for channel in (4, 0, 2):
        expected = find_examples(tiny, "mix", channel, str(image_dir), **arguments)
        _assert_same_examples(results[channel], expected)
        assert all(e.position == (2, 5) for e in results[channel].top)


def test_layer_search_of_dataset_and_array_sources(tiny, image_dir):
    images = np.stack([load_image(p, size=SIZE) for p in _paths(image_dir)])
    arguments = dict(k=K, image_size=SIZE, progress=False, batch_size=5)
    for source in (images, tf.data.Dataset.from_tensor_slices(images).batch(4)):
        results = find_layer_examples(tiny, "mix", source, **arguments)
        for channel in (0, 3):
            _assert_same_examples(results[channel],
                                  find_examples(tiny, "mix", channel, source, **arguments))


def test_pixels_read_again_after_the_pass_are_the_same(tiny, image_dir, monkeypatch):
    """With no room to keep pixels during the pass, they are read again: same results."""
    images = np.stack([load_image(p, size=SIZE) for p in _paths(image_dir)])
    arguments = dict(k=K, image_size=SIZE, progress=False, batch_size=3)
    kept = {"files": find_layer_examples(tiny, "mix", str(image_dir), **arguments),
            "dataset": find_layer_examples(tiny, "mix", tf.data.Dataset.from_tensor_slices(
                images), **arguments)}
    monkeypatch.setattr(search_module, "PIXEL_CACHE_BYTES", 0)
    reads = []
    original = search_module.load_image
    monkeypatch.setattr(search_module, "load_image",
                        lambda path, size: reads.append(path) or original(path, size=size))
    again = {"files": find_layer_examples(tiny, "mix", str(image_dir), **arguments),
             "dataset": find_layer_examples(tiny, "mix", tf.data.Dataset.from_tensor_slices(
                 images), **arguments)}
    for name in kept:
        for channel in range(MIX_CHANNELS):
            _assert_same_examples(kept[name][channel], again[name][channel])
    # Only selected files are read again, each once, and never during the pass itself.
    assert len(reads) == len(set(reads)) and 0 < len(reads) <= NUM_IMAGES
    selected = {e.source for r in again["files"].values() for w in SETS for e in r.examples(w)}
    assert set(reads) <= selected and len(selected - set(reads)) <= 1


def test_a_dataset_that_changes_between_passes_is_an_error(tiny, image_dir, monkeypatch):
    images = np.stack([load_image(p, size=SIZE) for p in _paths(image_dir)])
    passes = []

    def generate():
        passes.append(1)
        yield from (images if len(passes) == 1 else images[::-1])

    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec((SIZE, SIZE, 3), tf.float32))
    monkeypatch.setattr(search_module, "PIXEL_CACHE_BYTES", 0)
    scan = scan_layer(tiny, "mix", dataset, k=K, image_size=SIZE, progress=False)
    with pytest.raises(ValueError, match="images changed between the search"):
        scan.results()
    # find_examples keeps its few examples' pixels and iterates the dataset once.
    passes.clear()
    result = find_examples(tiny, "mix", CHANNEL, dataset, k=K, image_size=SIZE, progress=False)
    assert len(passes) == 1
    np.testing.assert_array_equal(result.top[0].image, images[result.top[0].index])


def test_layer_scan_builds_results_for_some_channels_at_a_time(tiny, image_dir):
    arguments = dict(k=K, image_size=SIZE, progress=False)
    scan = scan_layer(tiny, "mix", str(image_dir), **arguments)
    assert scan.channels == tuple(range(MIX_CHANNELS)) and scan.num_images == NUM_IMAGES
    everything = scan.results()
    part = scan.results([3, 1])
    assert list(part) == [3, 1]
    scan.release_pixels()
    _assert_same_examples(scan.result(1), everything[1])
    _assert_same_examples(part[3], everything[3])
    indices = {e.index for w in SETS for e in everything[3].examples(w)}
    assert scan.image_indices([3]) == sorted(indices)
    # Images are shared between channels, so they are read-only.
    with pytest.raises(ValueError, match="read-only"):
        everything[0].top[0].image[0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="was not searched"):
        scan_layer(tiny, "mix", str(image_dir), channels=[0], **arguments).result(1)


@pytest.mark.parametrize("channels,error,message", [
    ([], ValueError, "non-empty sequence"),
    ([0, 5], ValueError, r"distinct ints in 0\.\.4 for layer 'mix' \(5 channels\); got \[5\]"),
    ([1, 1], ValueError, r"more than once: \[1\]"),
    ([0.5], ValueError, "distinct ints"),
    ("0", TypeError, "got str"),
    (3, TypeError, "got int"),
])
def test_bad_channel_lists_fail_before_any_image_is_read(tiny, channels, error, message,
                                                         monkeypatch):
    def no_reading(*args, **kw):
        raise AssertionError("images were read")

    monkeypatch.setattr("lucid2.recipes.dataset_examples.search.batches", no_reading)
    with pytest.raises(error, match=message):
        find_layer_examples(tiny, "mix", np.zeros((2, SIZE, SIZE, 3)), channels=channels,
                            image_size=SIZE, progress=False)


def test_layer_search_warns_once_for_unreadable_files(tiny, image_dir, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    files = _paths(image_dir)[:3] + [str(broken)]
    with pytest.warns(UserWarning, match="Skipped 1 unreadable") as caught:
        results = find_layer_examples(tiny, "mix", files, k=2, image_size=SIZE, progress=False)
    assert len([w for w in caught if "unreadable" in str(w.message)]) == 1
    assert caught[0].filename == __file__  # the warning points at the caller
    assert all(r.skipped == (str(broken),) and r.num_images == 3 for r in results.values())


@pytest.mark.slow
def test_inceptionv1_layer_search_equals_per_channel_search(inception, shared_data):
    """All 508 channels of mixed4a from one pass; a few compared with find_examples."""
    folder = str(shared_data / "imagenet-samples")
    results = find_layer_examples(inception, "mixed4a", folder, k=8, progress=False)
    assert len(results) == 508 and all(r.num_images == 50 for r in results.values())
    for channel in (0, 240, 507):
        expected = find_examples(inception, "mixed4a", channel, folder, k=8, progress=False)
        _assert_same_examples(results[channel], expected, rtol=1e-5, atol=1e-5)
        assert results[channel].top[0].patch.shape == (171, 171, 3)
