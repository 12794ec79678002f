"""Render performance: one trace per configuration, a cheap ``import lucid2``, and the
faster kernels (conv2d0's input gradient, LRN, fused transforms, redirected ReLU) giving
the same numbers as the straightforward ones. Nothing here is timed: speed is measured by
``benchmarks/render_speed.py``."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from program_testlib import load_benchmark

from lucid2.modelzoo import InceptionV1, VisionModel, inceptionv1_graph as graph
from lucid2.optvis import param, render, transform as T
from lucid2.optvis.redirected_relu import redirected_relu_grad, redirected_relus


def _tiny_model() -> VisionModel:
    keras.utils.set_random_seed(1)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv1_pre_relu")(inputs)
    x = keras.layers.ReLU(name="conv1")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2")(x)
    return VisionModel(keras.Model(inputs, x), name="tiny")


# ------------------------------------------------------------------ tracing
@pytest.mark.parametrize("size, batch", [(24, 1), (32, 3)])
def test_one_trace_per_configuration_across_sizes_and_warm_up(size, batch):
    # Random scales change the spatial size every step and the redirected-ReLU switch
    # flips after 2 steps: still a single trace.
    renderer = render.Renderer(_tiny_model(), "conv2:1",
                               param_f=lambda: param.image(size, batch=batch), seed=0,
                               redirect_steps=2)
    renderer.run(thresholds=(3, 9))
    assert renderer.steps_done == 9
    assert renderer.trace_count == 1
    assert renderer._step_fn.experimental_get_tracing_count() == 1


def test_inception_render_step_traces_once():
    model = InceptionV1(weights=None)
    step = render.make_render_step(model, "mixed3a:5", param_f=lambda: param.image(48),
                                   seed=1, redirect_steps=2)
    values = [float(step()) for _ in range(5)]
    assert all(np.isfinite(values))
    assert step.__self__.trace_count == 1


# ------------------------------------------------------------------ imports
def test_import_lucid2_loads_no_tensorflow_and_no_network():
    # The benchmark's own probe: a fresh interpreter with the network refused.
    report = load_benchmark("render_speed").import_check()
    assert "error" not in report, report
    assert report["heavy_modules"] == [] and report["network_attempts"] == []
    assert isinstance(report["version"], str)


# ------------------------------------------------------- conv2d0's gradient
def test_only_the_rgb_stem_convolution_uses_the_strided_gradient():
    model = graph.build_inception_v1()
    patched = [layer.name for layer in model.layers if "convolution_op" in vars(layer)]
    assert patched == ["conv2d0_pre_relu"]
    assert type(model.get_layer("conv2d0_pre_relu")) is keras.layers.Conv2D
    fixed = graph.build_inception_v1(image_size=(64, 48))
    assert tuple(fixed.input.shape) == (None, 64, 48, 3)


# --------------------------------------------------------------------- LRN
def test_lrn_implementation_is_checked_and_kept_in_the_layer_config():
    with pytest.raises(ValueError, match="LRN implementation must be one of"):
        graph.local_response_normalization(tf.ones((1, 2, 2, 4)), implementation="fast")
    with pytest.raises(ValueError, match="LRN implementation must be one of"):
        InceptionV1(weights=None, lrn_implementation="cudnn")
    model = graph.build_inception_v1(lrn_implementation="ops")
    layer = model.get_layer("localresponsenorm1")
    assert layer.implementation == "ops"
    restored = graph.LocalResponseNorm.from_config(layer.get_config())
    assert restored.implementation == "ops" and restored.name == "localresponsenorm1"


def test_lrn_implementations_give_the_same_network_outputs():
    images = tf.random.stateless_uniform((2, 67, 61, 3), seed=(3, 4))
    xla_model = graph.build_inception_v1(lrn_implementation="xla")
    ops_model = graph.build_inception_v1(lrn_implementation="ops")
    ops_model.set_weights(xla_model.get_weights())
    outputs = {}
    for name, model in (("xla", xla_model), ("ops", ops_model)):
        # mixed3a lies after both LRNs.
        submodel = keras.Model(model.input, model.get_layer("mixed3a").output)
        with tf.GradientTape() as tape:
            tape.watch(images)
            value = tf.reduce_sum(submodel(images) ** 2)
        outputs[name] = (value.numpy(), tape.gradient(value, images).numpy())
    np.testing.assert_allclose(outputs["xla"][0], outputs["ops"][0], rtol=1e-5)
    np.testing.assert_allclose(outputs["xla"][1], outputs["ops"][1], rtol=1e-4,
                               atol=1e-6 * np.abs(outputs["ops"][1]).max())


# -------------------------------------------------------- fused transforms
def test_standard_transforms_fuse_into_one_resampling_and_article_ones_do_not():
    fused = T.compose(T.standard_transforms)
    assert [len(step) for step in fused.steps] == [5]
    article = T.compose(T.article_transforms).transforms[0]
    assert all(len(step) == 1 for step in article.steps)  # jitter 16 eats the pad 16
    mixed = T.compose([T.pad(4, constant_value=0.2), T.random_rotate([5], fill_value=0.5)])
    assert all(len(step) == 1 for step in mixed.steps)  # different fills
    assert "fuse=False" in repr(T.compose(T.standard_transforms, fuse=False))


def test_fused_transforms_draw_the_same_randomness_and_keep_the_geometry():
    images = param.image(64, batch=3)()
    fused, separate = T.compose(T.standard_transforms), T.compose(T.standard_transforms,
                                                                    fuse=False)
    for seed in range(4):
        rng_fused, rng_separate = (tf.random.Generator.from_seed(seed) for _ in range(2))
        a, b = fused(images, rng_fused), separate(images, rng_separate)
        assert a.shape == b.shape
        # One interpolation instead of two: close, not equal (smooth images).
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=0.01)
        np.testing.assert_array_equal(rng_fused.state.numpy(), rng_separate.state.numpy())


def test_fused_transform_gradient_matches_the_separate_ones():
    images = tf.Variable(param.image(64, batch=2)())
    grads = []
    for t in (T.compose(T.standard_transforms), T.compose(T.standard_transforms, fuse=False)):
        with tf.GradientTape() as tape:
            out = t(images, tf.random.Generator.from_seed(3))
            # A smooth upstream gradient, like a network's.
            weights = tf.image.resize(tf.random.stateless_normal([2, 8, 8, 3], [1, 2]),
                                      tf.shape(out)[1:3])
            loss = tf.reduce_sum(out * weights)
        grads.append(tape.gradient(loss, images).numpy())
    fused, separate = grads
    assert np.corrcoef(fused.ravel(), separate.ravel())[0, 1] > 0.99
    assert 0.95 < np.linalg.norm(fused) / np.linalg.norm(separate) < 1.05


@pytest.mark.parametrize("transforms", [
    T.standard_transforms,
    [T.pad(6, constant_value=0.3), T.random_scale([0.5, 1.37, 1.0]), T.jitter(3),
     T.random_rotate([30], fill_value=0.3)],
])
def test_fused_canvas_holds_every_size_the_random_scales_give(transforms):
    fused = T.compose(transforms)
    (run,) = [step for step in fused.steps if len(step) > 1]
    canvas = (57, 61)
    for t in run:
        canvas = t.largest_size(canvas)
    sizes = set()
    images = tf.zeros((1, 57, 61, 3))
    for seed in range(60):
        sizes.add(tuple(fused(images, tf.random.Generator.from_seed(seed)).shape[1:3]))
    assert max(h for h, _ in sizes) == canvas[0] and max(w for _, w in sizes) == canvas[1]
    assert len(sizes) > 1


def _resampling_op_types(images_spec: tf.TensorSpec) -> set[str]:
    fused = T.compose(T.standard_transforms)
    rng = tf.random.Generator.from_seed(0)
    step = tf.function(lambda images: fused(images, rng), input_signature=[images_spec])
    graph = step.get_concrete_function().graph
    return {op.type for op in graph.get_operations()}


def test_fused_transforms_resample_with_compiled_gathers_on_cpu():
    static = _resampling_op_types(tf.TensorSpec((2, 64, 64, 3)))
    dynamic = _resampling_op_types(tf.TensorSpec((2, None, None, 3)))
    assert "ImageProjectiveTransformV3" in dynamic  # no static size: no canvas
    if tf.config.list_logical_devices("GPU"):
        assert "ImageProjectiveTransformV3" in static
    else:
        assert "ImageProjectiveTransformV3" not in static


def test_fused_transforms_check_sizes_like_the_separate_ones():
    with pytest.raises(ValueError, match="larger than 8"):
        T.compose([T.pad(1), T.jitter(8), T.random_rotate([3])])(
            tf.zeros((1, 5, 5, 3)), tf.random.Generator.from_seed(0))


# ---------------------------------------------------------- redirected ReLU
def test_redirected_relu_gradient_switches_in_graph():
    x = tf.constant([[-1.0, -2.0, 0.5], [-1.0, -2.0, -0.5]])
    dy = tf.constant([[-1.0, 1.0, 1.0], [-1.0, 1.0, 3.0]])
    flag = tf.Variable(True)
    grad = tf.function(lambda: redirected_relu_grad(x, dy, flag))
    np.testing.assert_array_equal(grad().numpy(), [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    flag.assign(False)
    np.testing.assert_array_equal(grad().numpy(), [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert grad.experimental_get_tracing_count() == 1
    six = redirected_relu_grad(tf.constant([[-1.0, 3.0, 7.0]]), tf.constant([[-1.0, 2.0, -1.0]]),
                               False, 6.0)
    np.testing.assert_array_equal(six.numpy(), [[0.0, 2.0, 0.0]])


def test_redirected_relu_gradient_is_the_same_from_the_input_or_the_output():
    x = tf.constant([[-1.0, 0.0, 0.5, 6.0, 7.0], [-2.0, 0.0, -0.5, -3.0, -1.0]])
    dy = tf.constant([[-1.0, 2.0, 1.0, -1.0, 1.0], [-1.0, -2.0, 3.0, 1.0, -1.0]])
    for redirect in (True, False):
        np.testing.assert_array_equal(redirected_relu_grad(tf.nn.relu(x), dy, redirect).numpy(),
                                      redirected_relu_grad(x, dy, redirect).numpy())
        np.testing.assert_array_equal(
            redirected_relu_grad(tf.nn.relu6(x), dy, redirect, 6.0).numpy(),
            redirected_relu_grad(x, dy, redirect, 6.0).numpy())


def test_patched_relu_gradient_reads_the_relu_output_so_convolutions_stay_fusible():
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.ReLU(name="relu")(conv))
    images = tf.random.uniform((1, 8, 8, 3), seed=2)

    def gradient():
        with redirected_relus(model, lambda: tf.constant(False)):
            with tf.GradientTape() as tape:
                tape.watch(images)
                value = tf.reduce_sum(model(images))
        return tape.gradient(value, images)

    graph = tf.function(gradient).get_concrete_function().graph
    def readers(op_type: str) -> set[str]:
        tensor = next(op for op in graph.get_operations() if op.type == op_type).outputs[0]
        return {op.type for op in graph.get_operations()
                if any(t.name == tensor.name for t in op.inputs)}

    # Only the forward ReLU (and the custom gradient's identity) read the pre-activation;
    # the switched gradient (a cond) reads the ReLU's output.
    assert readers("BiasAdd") <= {"Relu", "IdentityN"}, readers("BiasAdd")
    assert "StatelessIf" in readers("Relu")


# ------------------------------------------------------------ parameterization
@pytest.mark.parametrize("kwargs", [dict(w=32), dict(w=20, h=12, batch=3),
                                    dict(w=16, valid_rgb="clip")])
def test_default_image_mixes_colors_from_channels_first_with_the_same_numbers(kwargs):
    from lucid2.optvis.param.color import (COLOR_MEAN, decorrelate_channels_first,
                                           decorrelated_sigmoid_channels_first,
                                           linear_decorrelate_color, squash)

    image = param.image(**kwargs)
    variables = image.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        fused = image()
        reference = squash(linear_decorrelate_color(image.raw()), image.valid_rgb, COLOR_MEAN)
        weights = tf.sin(tf.range(tf.size(fused), dtype=tf.float32))
        losses = [tf.reduce_sum(tf.reshape(t, [-1]) * weights) for t in (fused, reference)]
    np.testing.assert_allclose(fused.numpy(), reference.numpy(), atol=1e-7)
    grads = [tape.gradient(loss, variables)[0].numpy() for loss in losses]
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-6)
    for mix in (decorrelate_channels_first, decorrelated_sigmoid_channels_first):
        with pytest.raises(ValueError, match=r"\(batch, 3, height, width\)"):
            mix(tf.zeros((1, 4, 2, 2)))


def test_default_image_mixes_colors_in_one_compiled_loop_on_cpu():
    image = param.image(16, batch=2)

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(image())
        return tape.gradient(loss, image.trainable_variables)

    graph = tf.function(step).get_concrete_function().graph
    ops = {op.type for op in graph.get_operations()}
    if tf.config.list_logical_devices("GPU"):
        assert "BatchMatMulV2" in ops
    else:
        assert "BatchMatMulV2" not in ops and "Sigmoid" not in ops
