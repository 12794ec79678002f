"""render_vis / Renderer on a tiny CNN, redirected ReLU gradients, and (slow) quality on
InceptionV1's real weights."""

import glob
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import VisionModel
from lucid2.optvis import metrics, model_api, objectives, param, render, sizes, transform
from lucid2.optvis.redirected_relu import redirected_relu, redirected_relu_grad, redirected_relus
from lucid2.optvis.settings import RenderSettings

SIZE = 24
LABELS = ["cat", "dog", "tabby, tabby cat", "car"]


def build_tiny(dead_bias: float | None = None) -> VisionModel:
    """conv1 (ReLU layer) -> conv2 (Conv2D relu activation) -> conv3 (Activation relu) -> logits.

    ``dead_bias`` makes "dead" a ReLU that never fires for images in [0, 1].
    """
    keras.utils.set_random_seed(3)
    inputs = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv1_pre_relu")(inputs)
    x = keras.layers.ReLU(name="conv1")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Conv2D(5, 3, strides=2, padding="same", name="conv3_pre_relu")(x)
    x = keras.layers.Activation("relu", name="conv3")(x)
    valid = keras.layers.Conv2D(2, 5, padding="valid", name="valid5")(x)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    logits = keras.layers.Dense(4, name="logits")(pooled)
    outputs = [logits, valid]
    if dead_bias is not None:
        dead = keras.layers.Conv2D(
            1, 3, padding="same", name="dead_pre_relu",
            kernel_initializer=keras.initializers.Constant(0.05),
            bias_initializer=keras.initializers.Constant(dead_bias))(inputs)
        outputs.append(keras.layers.ReLU(name="dead")(dead))
    return VisionModel(keras.Model(inputs, outputs), labels=LABELS, logits_layer="logits",
                       name="tiny")


@pytest.fixture(scope="module")
def tiny():
    return build_tiny()


def small_param(batch=1, **kwargs):
    return lambda: param.image(SIZE, batch=batch, **kwargs)


# ------------------------------------------------------------------- rendering
def test_shapes_ranges_and_one_trace(tiny):
    renderer = render.Renderer(tiny, "conv2:1", param_f=small_param(batch=2), seed=0)
    results = renderer.run(thresholds=(2, 5, 9))
    assert len(results) == 3 and renderer.steps_done == 9
    for images in results:
        assert images.shape == (2, SIZE, SIZE, 3) and images.dtype == np.float32
        assert images.min() >= 0 and images.max() <= 1
    assert not np.array_equal(results[0], results[2])
    more = renderer.run(thresholds=(12,))
    assert len(more) == 1 and renderer.steps_done == 12
    assert renderer.trace_count == 1
    with pytest.raises(ValueError, match="already run"):
        renderer.run(thresholds=(4,))


def test_render_increases_the_objective(tiny):
    objective = objectives.channel("conv3", 2)
    renderer = render.Renderer(tiny, objective, param_f=small_param(), transforms=[], seed=0)
    before = objective.evaluate(tiny, renderer.images())
    after = objective.evaluate(tiny, renderer.run(thresholds=(40,))[0])
    assert after > before + 0.05


def test_defaults_and_string_objective(tiny, capsys):
    images = render.render_vis(tiny, "conv3:1 + 0.5*conv2:0", thresholds=(3,), verbose=True,
                               seed=1)
    assert len(images) == 1 and images[0].shape == (1, 128, 128, 3)
    out = capsys.readouterr().out
    assert "objective" in out and "Channel [conv3, 1] + 0.5 * Channel [conv2, 0]" in out


def test_seed_gives_identical_renders_and_different_seeds_differ(tiny):
    def run(seed):
        return render.render_vis(tiny, "conv2:3", param_f=small_param(), thresholds=(6,),
                                 seed=seed)[0]

    first, again, other = run(7), run(7), run(8)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_param_given_directly_and_optimizer_factory(tiny):
    image_param = param.image(SIZE, fft=False)
    initial = np.asarray(image_param())
    images = render.render_vis(tiny, "conv1:0", param_f=image_param, thresholds=(4,),
                               optimizer=lambda: keras.optimizers.SGD(0.5), transforms=[])
    assert not np.allclose(images[0], initial)
    np.testing.assert_array_equal(images[0], np.asarray(image_param()))


def test_alpha_is_composited_unless_kept(tiny):
    renderer = render.Renderer(tiny, "conv2:0", param_f=small_param(batch=2, alpha=True), seed=0)
    rgb, = renderer.run(thresholds=(2,))
    rgba = renderer.images(keep_alpha=True)
    assert rgb.shape == (2, SIZE, SIZE, 3) and rgba.shape == (2, SIZE, SIZE, 4)
    alpha = rgba[..., 3:]
    np.testing.assert_allclose(rgb, rgba[..., :3] * alpha + (1 - alpha), atol=1e-6)


def test_class_objectives_and_penalties_render(tiny):
    objective = (objectives.class_logit("tabby") - 1e-3 * objectives.L1(constant=0.5)
                 + 0.1 * objectives.diversity("conv2") - 1e-4 * objectives.total_variation())
    images = render.render_vis(tiny, objective, param_f=small_param(batch=2), thresholds=(2,),
                               seed=0)
    assert images[0].shape == (2, SIZE, SIZE, 3)


def test_model_is_unchanged_after_rendering(tiny):
    conv2, conv3, conv1 = (tiny.get_layer(n) for n in ("conv2", "conv3", "conv1"))
    render.render_vis(tiny, "conv3:0", param_f=small_param(), thresholds=(2,), seed=0)
    assert conv2.activation is keras.activations.relu
    assert conv3.activation is keras.activations.relu
    assert "call" not in vars(conv1)


def test_tensorboard_and_gif(tiny, tmp_path):
    gif = tmp_path / "steps.gif"
    render.render_vis(tiny, "conv2:0", param_f=small_param(), thresholds=(4,), seed=0,
                      tensorboard_dir=tmp_path / "tb", snapshot_every=2, gif_path=gif)
    assert gif.stat().st_size > 0
    events, = (tmp_path / "tb").glob("events.out.tfevents.*")
    scalars, images = {}, {}
    for event in tf.compat.v1.train.summary_iterator(str(events)):
        for entry in event.summary.value:
            if entry.tag == "objective":
                scalars[event.step] = float(tf.make_ndarray(entry.tensor))
            if entry.tag == "render":
                images[event.step] = tf.make_ndarray(entry.tensor)
    assert sorted(scalars) == [1, 2, 3, 4] and all(np.isfinite(list(scalars.values())))
    assert sorted(images) == [2, 4]
    width, height, png = images[4]
    assert (int(width), int(height)) == (SIZE, SIZE)
    assert tf.image.decode_png(png).shape == (SIZE, SIZE, 3)
    from PIL import Image
    with Image.open(gif) as frames:
        assert frames.n_frames == 3  # the start, step 2 and step 4


# -------------------------------------------------------------- step limits/errors
def test_max_steps_environment_variable_caps_thresholds(tiny, monkeypatch):
    monkeypatch.setenv(render.MAX_STEPS_ENV, "3")
    renderer = render.Renderer(tiny, "conv2:0", param_f=small_param(), seed=0)
    results = renderer.run(thresholds=(2, 10, 512))
    assert len(results) == 3 and renderer.steps_done == 3
    assert np.array_equal(results[1], results[2]) and not np.array_equal(results[0], results[1])
    monkeypatch.setenv(render.MAX_STEPS_ENV, "many")
    with pytest.raises(ValueError, match="LUCID2_MAX_STEPS must be a positive integer"):
        render.render_vis(tiny, "conv2:0", param_f=small_param(), thresholds=(2,))


def test_non_finite_objective_stops_naming_the_step(tiny):
    # Finite for 3 steps, then the log of a negative number.
    steps = tf.Variable(0.0)

    def fn(ctx):
        steps.assign_add(1.0)
        return tf.reduce_mean(ctx("conv2")) + tf.math.log(3.5 - steps)

    objective = objectives.Objective.from_function(fn, layers=["conv2"])
    renderer = render.Renderer(tiny, objective, param_f=small_param(), seed=0)
    with pytest.raises(render.NonFiniteObjectiveError, match="at step 4"):
        renderer.run(thresholds=(6,))
    assert renderer.steps_done == 6


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(thresholds=(0,)), ValueError, "positive integers"),
    (dict(thresholds=(5, 3)), ValueError, "strictly increasing"),
    (dict(thresholds=()), ValueError, "at least one"),
    (dict(thresholds=(2.5,)), ValueError, "positive integers"),
    (dict(thresholds="abc"), ValueError, "positive integers"),
    (dict(objective="conv9:1"), ValueError, "Unknown layer 'conv9'.*Did you mean"),
    (dict(objective="conv2:600"), ValueError, r"channel 600 out of range for conv2 \(6 channels"),
    (dict(objective=objectives.channel("conv2", 1, batch=1)), ValueError, "batch=1"),
    (dict(objective="valid5:0", param_f=lambda: param.image(8)), ValueError,
     "do not fit layer 'valid5'"),
    (dict(param_f=lambda: 3), TypeError, "image parameterization"),
    (dict(param_f=lambda: param.image(SIZE, channels=1)), None, None),
    (dict(optimizer="adam"), TypeError, "optimizer"),
    (dict(transforms=lambda x, rng: x), TypeError, "list of transforms"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(redirect_steps=-1), ValueError, "redirect_steps"),
    (dict(snapshot_every=0), ValueError, "snapshot_every"),
    (dict(snapshot_every=2), ValueError, "tensorboard_dir or gif_path"),
])
def test_invalid_arguments_fail_before_compiling(tiny, kwargs, error, message):
    arguments = dict(objective="conv2:1", param_f=small_param(), thresholds=(1,))
    arguments.update(kwargs)
    if error is None:  # grayscale params still give 3 channels
        render.render_vis(tiny, **arguments)
        return
    with pytest.raises(error, match=message):
        render.render_vis(tiny, **arguments)


def test_parameterization_shapes_are_checked(tiny):
    class FiveChannels(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(tf.zeros((1, 8, 8, 5)))

        def __call__(self):
            return tf.sigmoid(self.v)

    with pytest.raises(ValueError, match="5 channels"):
        render.Renderer(tiny, "conv2:0", param_f=FiveChannels)
    used = keras.optimizers.Adam()
    used.build([tf.Variable(1.0)])
    with pytest.raises(ValueError, match="already used"):
        render.Renderer(tiny, "conv2:0", param_f=small_param(), optimizer=used)
    with pytest.raises(TypeError, match="lucid2 model|wrap it"):
        render.Renderer(tiny.keras_model, "conv2:0")


def test_make_render_step_runs_single_steps(tiny):
    step = render.make_render_step(tiny, "conv2:0", param_f=small_param(), seed=0)
    values = [float(step()) for _ in range(3)]
    assert all(np.isfinite(values))


# ------------------------------------------- non-finite values, refused inputs
class NanAfter(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate of 0.05 for the first ``updates`` updates, then NaN."""

    def __init__(self, updates: int):
        self.updates = updates

    def __call__(self, step):
        return tf.where(step < self.updates, 0.05, float("nan"))

    def get_config(self):
        return {"updates": self.updates}


def _finite_mean(ctx):
    # Finite even on NaN images, as InceptionV1's activations are.
    acts = ctx("conv2")
    return tf.reduce_mean(tf.where(tf.math.is_finite(acts), acts, 0.0))


def test_nan_learning_rate_is_refused_before_compiling(tiny):
    with pytest.raises(ValueError, match="learning rate is nan"):
        render.render_vis(tiny, "conv2:1", param_f=small_param(), thresholds=(2,),
                          optimizer=keras.optimizers.Adam(float("nan")))


def test_nonfinite_parameterization_is_reported_with_its_step(tiny):
    objective = objectives.Objective.from_function(_finite_mean, layers=["conv2"],
                                                   description="FiniteMean")
    renderer = render.Renderer(tiny, objective, param_f=small_param(), seed=0,
                               optimizer=lambda: keras.optimizers.Adam(NanAfter(2)))
    with pytest.raises(render.NonFiniteObjectiveError,
                       match=r"^The image parameterization's variables.* at step 3;") as caught:
        renderer.run(thresholds=(6,))
    assert "FiniteMean" not in str(caught.value)  # the objective itself stayed finite
    assert renderer.trace_count == 1
    assert not np.isfinite(renderer.images()).all()


def build_fixed_size(size: int = 32, takes_unit_range: bool = False) -> VisionModel:
    """A network built for one input size: convolutions, then a Dense head on the
    flattened map (which fails on any other size)."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((size, size, 3), name="images")
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(5, name="logits")(x)
    return VisionModel(keras.Model(inputs, logits), takes_unit_range=takes_unit_range,
                       logits_layer="logits", name="fixed")


@pytest.mark.parametrize("takes_unit_range", [False, True])
def test_fixed_input_size_is_reached_through_a_differentiable_resize(takes_unit_range):
    model = build_fixed_size(32, takes_unit_range)
    # The standard transforms enlarge 32x32 images to 39..48 pixels: resized back, and said.
    with pytest.warns(UserWarning, match=r"'fixed' takes images of 32x32 pixels only: the "
                      r"39x39 up to 48x48 images it would receive after the transforms are "
                      r"resized to 32x32 \(transform\.resize_to\(32, 32\) appended"):
        renderer = render.Renderer(model, "logits:1", param_f=lambda: param.image(32), seed=0)
    assert repr(renderer._transform).endswith("resize_to(32, 32)])")
    # A smaller image without transforms is resized up; the gradient reaches every variable.
    with pytest.warns(UserWarning, match="the 24x24 images"):
        small = render.Renderer(model, "logits:1", param_f=lambda: param.image(24, fft=False),
                                transforms=[], seed=0)
    before = small.images()
    values = [float(small.step()) for _ in range(3)]
    assert np.isfinite(values).all() and values[-1] > values[0]
    moved = np.abs(small.images() - before).max(axis=-1) > 0
    assert moved.all()  # bilinear upsampling reaches every source pixel
    # Already the right size (crop_or_pad_to last, or no transforms): nothing is appended.
    crop = transform.crop_or_pad_to(32, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for size, transforms in ((32, [crop]), (24, transform.standard_transforms + [crop]),
                                 (32, [])):
            images = render.render_vis(model, "logits:1", param_f=lambda: param.image(size),
                                       transforms=transforms, thresholds=(2,), seed=0)
            assert images[0].shape == (1, size, size, 3) and np.isfinite(images[0]).all()
    # Its convolutions get the one size too (Keras checks it at the model's input).
    with pytest.warns(UserWarning, match="resized to 32x32"):
        render.render_vis(model, "conv:1", param_f=lambda: param.image(32), thresholds=(1,))
    # Transforms that do not state their sizes: resized to be safe, and said.
    with pytest.warns(UserWarning, match=r"the images after the transforms \(sizes not "
                      r"stated\) are resized"):
        render.render_vis(model, "logits:1", param_f=lambda: param.image(32), thresholds=(1,),
                          transforms=[lambda images, rng: images])
    assert model_api.fixed_input_size(model, ["logits"]) == (32, 32)


def test_fixed_input_size_from_the_model():
    assert model_api.fixed_input_size(build_tiny(), ["conv2"]) is None

    class Stated(VisionModel):
        input_size = (20, 24)

    stated = Stated(build_tiny().keras_model, name="stated")
    assert model_api.fixed_input_size(stated, ["conv2"]) == (20, 24)
    assert model_api.fixed_input_size(stated, []) == (20, 24)
    assert model_api.fixed_input_size(build_fixed_size(16), []) is None  # nothing computed


def test_sizes_too_small_for_the_deepest_layer_are_refused_with_the_smallest_that_works(tiny):
    # conv3 steps 4 pixels per position: a 2-pixel image is a single position of padding.
    with pytest.raises(ValueError, match=r"2x2 pixels are too small for model 'tiny': layer "
                       r"'conv3' has a stride of 4.*The smallest size that works is 4x4"):
        render.render_vis(tiny, "conv3:0", param_f=lambda: param.image(2), thresholds=(1,))
    render.render_vis(tiny, "conv3:0", param_f=lambda: param.image(4), thresholds=(1,))
    # valid5's unpadded 5x5 convolution on conv3's map needs 17 pixels.
    with pytest.raises(ValueError, match=r"do not fit layer 'valid5'.*smallest size that works "
                       r"is 17x17"):
        render.render_vis(tiny, "conv2:0 + valid5:0", param_f=lambda: param.image(8),
                          thresholds=(1,))
    # Through the render settings, as every app builds its renders.
    with pytest.raises(ValueError, match="smallest size that works is 4x4"):
        RenderSettings(size=1, steps=1).renderer(tiny, "conv3:0")
    # Transforms that shrink the images count: jitter(16) leaves 4 of 20 pixels.
    with pytest.raises(ValueError, match="as small as 4x4.*smallest size that works is 33x33"):
        render.render_vis(tiny, "valid5:0", param_f=lambda: param.image(20),
                          transforms=[transform.jitter(16)], thresholds=(1,))
    assert sizes.layer_strides(tiny, "conv3") == (4, 4)
    assert sizes.layer_strides(tiny, "logits") == (None, None)  # no spatial map


@pytest.mark.parametrize("layer", ["conv3", "valid5"])
@pytest.mark.parametrize("transforms", [[], transform.standard_transforms,
                                        [transform.jitter(6)]], ids=["none", "standard", "jitter"])
def test_smallest_size_is_the_first_size_that_fits(tiny, layer, transforms):
    t = transform.compose(transforms)
    found = sizes.smallest_size(tiny, [layer], 1, t)
    first = next(s for s in range(1, 64)
                 if sizes.size_problem(tiny, [layer], 1, (s, s), t) is None)
    assert found == first


# ---------------------------------------------------------- redirected ReLU
def test_redirected_gradient_numbers():
    x = tf.constant([[-1.0, -2.0, 0.5], [-1.0, -2.0, -0.5]])
    dy = tf.constant([[-1.0, 1.0, 1.0], [-1.0, 1.0, 3.0]])
    # Image 0: the true gradient passes at 0.5, so it is used as is. Image 1: nothing
    # passes, so only gradient pushing a negative input up (dy < 0 for descent) passes.
    np.testing.assert_array_equal(redirected_relu_grad(x, dy, True).numpy(),
                                  [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(redirected_relu_grad(x, dy, False).numpy(),
                                  [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    # Capped (ReLU6): above the cap only gradient pushing down (dy > 0) passes.
    x6 = tf.constant([[-1.0, 7.0, 8.0]])
    dy6 = tf.constant([[-2.0, 1.0, -1.0]])
    np.testing.assert_array_equal(redirected_relu_grad(x6, dy6, True, 6.0).numpy(),
                                  [[-2.0, 1.0, 0.0]])


def test_redirected_relu_forward_and_tape_gradient():
    x = tf.Variable([[-1.0, -3.0], [2.0, -1.0]])
    with tf.GradientTape() as tape:
        y = redirected_relu(x, tf.constant(True))
        loss = -tf.reduce_sum(y * tf.constant([[1.0, -1.0], [1.0, 1.0]]))
    np.testing.assert_array_equal(y.numpy(), [[0.0, 0.0], [2.0, 0.0]])
    # Row 0 is dead: the upstream gradient is [-1, 1]; only -1 (pushing x up) passes.
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), [[-1.0, 0.0], [-1.0, 0.0]])


def test_patching_covers_all_relu_kinds_and_restores(tiny):
    sub = tiny.submodel(["conv3"])
    images = tf.random.uniform((1, 16, 16, 3), seed=1)
    reference = sub(images)
    with redirected_relus(sub, lambda: tf.constant(True)) as patched:
        assert patched == 3  # ReLU layer, Conv2D activation, Activation layer
        np.testing.assert_allclose(sub(images).numpy(), np.asarray(reference), atol=1e-6)
    assert "call" not in vars(tiny.get_layer("conv1"))
    assert tiny.get_layer("conv2").activation is keras.activations.relu
    with pytest.raises(RuntimeError):
        with redirected_relus(sub, lambda: tf.constant(True)):
            raise RuntimeError("boom")
    assert tiny.get_layer("conv3").activation is keras.activations.relu


def test_dead_unit_moves_only_while_redirected():
    model = build_tiny(dead_bias=-10.0)  # never fires for images in [0, 1]

    def run(**kwargs):
        renderer = render.Renderer(model, "dead:0", param_f=small_param(fft=False),
                                   transforms=[], seed=0, **kwargs)
        start = renderer.images()
        return start, renderer.run(thresholds=(4,))[0], renderer

    start, end, _ = run(relu_gradient_override=False)
    np.testing.assert_array_equal(start, end)  # true gradient: zero everywhere
    start, end, _ = run(redirect_steps=0)
    np.testing.assert_array_equal(start, end)  # the switch is read at run time
    start, end, renderer = run()
    assert np.abs(end - start).max() > 1e-3  # redirected: the image moves
    assert renderer.trace_count == 1


# -------------------------------------------------------------------- metrics
def test_high_frequency_share():
    rng = np.random.default_rng(0)
    noise = rng.uniform(size=(64, 64, 3))
    assert 0.7 < metrics.high_frequency_share(noise) < 0.9
    yy, xx = np.mgrid[:64, :64]
    smooth = np.repeat(np.sin(2 * np.pi * xx / 32.0)[..., None], 3, axis=-1)
    assert metrics.high_frequency_share(smooth) < 0.01
    checker = np.repeat(((xx + yy) % 2).astype(float)[..., None], 3, axis=-1)
    assert metrics.high_frequency_share(checker) > 0.99
    batch = metrics.high_frequency_share(np.stack([noise, smooth]))
    assert batch.shape == (2,) and batch[0] > batch[1]
    assert metrics.high_frequency_share(np.full((8, 8, 3), 0.5)) == 0.0


# ------------------------------------------------------ quality on real weights
QUALITY_CHANNELS = ["mixed4a:97", "mixed4a:11", "mixed4b:409", "mixed3b:5"]
ACTIVATION_RATIO = 5.0
MAX_SMOOTH_SHARE = 0.35
MIN_NAIVE_SHARE = 0.5


@pytest.fixture(scope="module")
def photos(shared_data):
    from lucid2.misc.io import load_image
    paths = sorted(glob.glob(str(shared_data / "imagenet-samples" / "*")))
    if not paths:
        pytest.skip("no imagenet-samples photos")
    return np.stack([load_image(p, size=224) for p in paths])


@pytest.mark.slow
@pytest.mark.parametrize("target", QUALITY_CHANNELS)
def test_renders_beat_photos_and_are_smooth(inception, photos, target, tmp_path):
    layer, n = target.split(":")
    sub = inception.submodel(layer)
    photo_best = max(float(np.asarray(sub(photos[i:i + 10]))[..., int(n)].mean(axis=(1, 2)).max())
                     for i in range(0, len(photos), 10))
    images = render.render_vis(inception, target, seed=0)[0]
    assert images.shape == (1, 128, 128, 3)
    activation = float(np.asarray(sub(images))[..., int(n)].mean())
    assert activation >= ACTIVATION_RATIO * photo_best, (activation, photo_best)
    assert metrics.high_frequency_share(images[0]) <= MAX_SMOOTH_SHARE


@pytest.mark.slow
def test_nan_learning_rate_on_inceptionv1_is_never_silent(inception):
    # NaN images give InceptionV1 finite activations: the objective alone would not tell.
    with pytest.raises(ValueError, match="learning rate is nan"):
        render.render_vis(inception, "mixed4a:97", param_f=lambda: param.image(64),
                          optimizer=keras.optimizers.Adam(float("nan")), thresholds=(4,))
    renderer = render.Renderer(inception, "mixed4a:97", param_f=lambda: param.image(64), seed=0,
                               optimizer=lambda: keras.optimizers.Adam(NanAfter(1)))
    with pytest.raises(render.NonFiniteObjectiveError,
                       match=r"^The image parameterization's variables.* at step 2;"):
        renderer.run(thresholds=(4,))
    assert np.isfinite(float(renderer.step()))  # the objective itself stays finite


@pytest.mark.slow
@pytest.mark.parametrize("size", [1, 8])
def test_sizes_too_small_for_mixed4a_are_refused(inception, size):
    # As python -m lucid2.render --size=1 (or 8) --objective=mixed4a:97 builds it.
    with pytest.raises(ValueError, match=r"too small for model 'InceptionV1': layer 'mixed4a' "
                       r"has a stride of 16.*smallest size that works is 16x16"):
        RenderSettings(size=size, steps=1).renderer(inception, "mixed4a:97")
    RenderSettings(size=16, steps=1).renderer(inception, "mixed4a:97")


@pytest.mark.slow
def test_naive_pixel_render_is_high_frequency(inception):
    images = render.render_vis(inception, "mixed4a_pre_relu:97", transforms=[], seed=0,
                               param_f=lambda: param.image(128, fft=False, decorrelate=False))
    assert metrics.high_frequency_share(images[0]) >= MIN_NAIVE_SHARE
