"""MACO's transparency map from a render: render_vis(..., transparency=True) and
Renderer.transparency(), on a tiny CNN; with MACO's param and transforms too."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import VisionModel
from lucid2.optvis import objectives, param, render, transform

SIZE = 24


@pytest.fixture(scope="module")
def tiny() -> VisionModel:
    keras.utils.set_random_seed(5)
    inputs = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv1")(
        inputs)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2")(x)
    logits = keras.layers.Dense(4, name="logits")(keras.layers.GlobalAveragePooling2D()(x))
    return VisionModel(keras.Model(inputs, logits), logits_layer="logits", name="tiny")


def _renderer(model, **kwargs) -> render.Renderer:
    settings = dict(param_f=lambda: param.image(SIZE, batch=2), seed=0)
    settings.update(kwargs)
    return render.Renderer(model, objectives.channel("conv2", 1), **settings)


def test_map_has_the_images_size_is_non_negative_and_accumulates(tiny):
    renderer = _renderer(tiny, transparency=True)
    images = renderer.run(thresholds=(2, 5))
    maps = renderer.transparency_maps
    assert len(maps) == 2
    for transparency in maps:
        assert transparency.shape == (2, SIZE, SIZE) and transparency.dtype == np.float32
        assert transparency.min() >= 0 and transparency.max() > 0
    assert np.all(maps[1] >= maps[0]) and maps[1].sum() > maps[0].sum()
    np.testing.assert_array_equal(renderer.transparency(), maps[-1])
    assert images[-1].shape == (2, SIZE, SIZE, 3)
    assert renderer.trace_count == 1


def test_map_is_the_gradient_of_the_objective_on_the_untransformed_image(tiny):
    objective = objectives.channel("conv2", 1)
    renderer = render.Renderer(tiny, objective, param_f=lambda: param.image(SIZE), seed=0,
                               transforms=[], relu_gradient_override=False, transparency=True)
    start = tf.constant(renderer.images())
    submodel = tiny.submodel(["conv2"])
    with tf.GradientTape() as tape:
        tape.watch(start)
        value = objective(objectives.Context({"conv2": submodel(start)}, start, tiny))
    expected = tf.reduce_sum(tf.abs(tape.gradient(value, start)), axis=-1).numpy()
    renderer.step()
    np.testing.assert_allclose(renderer.transparency(), expected, rtol=1e-4,
                               atol=1e-6 * expected.max())


def test_gradient_through_a_crop_lands_on_the_cropped_positions(tiny):
    crop = transform.random_crops(1, min_fraction=0.5, max_fraction=0.5)
    renderer = _renderer(tiny, transforms=[crop], transparency=True,
                         param_f=lambda: param.image(SIZE))
    renderer.step()
    transparency = renderer.transparency()[0]
    touched = transparency > 0
    # One crop of half the side: about a quarter of the image (plus its bilinear border).
    assert 0.15 < touched.mean() < 0.5
    rows, columns = np.nonzero(touched)
    assert rows.max() - rows.min() <= SIZE // 2 + 1
    assert columns.max() - columns.min() <= SIZE // 2 + 1


def test_render_vis_returns_maps_only_when_asked(tiny):
    kwargs = dict(param_f=lambda: param.image(SIZE, batch=2), seed=3, thresholds=(1, 3))
    plain = render.render_vis(tiny, "conv2:1", **kwargs)
    assert isinstance(plain, list) and len(plain) == 2
    images, maps = render.render_vis(tiny, "conv2:1", transparency=True, **kwargs)
    assert len(images) == len(maps) == 2
    assert all(m.shape == (2, SIZE, SIZE) and m.min() >= 0 and m.max() > 0 for m in maps)
    # Keeping the map does not change the render.
    for with_map, without in zip(images, plain, strict=True):
        np.testing.assert_allclose(with_map, without, atol=1e-6)


def test_maco_render_gives_a_map_of_its_image(tiny):
    images, maps = render.render_vis(
        tiny, "conv2:1", param_f=lambda: param.maco(SIZE), seed=0, thresholds=(3,),
        transforms=transform.maco_transforms(count=2), transparency=True,
        optimizer=lambda: keras.optimizers.Adam(0.2))
    assert images[0].shape == (1, SIZE, SIZE, 3)
    assert maps[0].shape == (1, SIZE, SIZE) and maps[0].min() >= 0 and maps[0].max() > 0


def test_no_map_unless_asked(tiny):
    renderer = _renderer(tiny)
    renderer.run(thresholds=(1,))
    assert renderer.transparency_maps == []
    with pytest.raises(ValueError, match="transparency=True"):
        renderer.transparency()
    with pytest.raises(TypeError, match="transparency must be True or False"):
        _renderer(tiny, transparency="yes")
