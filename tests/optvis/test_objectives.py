"""Objectives: algebra, values against numpy references, validation errors, strings."""

import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import VisionModel
from lucid2.optvis import objectives as obj
from lucid2.optvis import param, render

RNG = np.random.default_rng(0)
# Activations of a fake layer "a": batch 3, 5x4 positions, 6 channels (some negative).
A = RNG.normal(size=(3, 5, 4, 6)).astype(np.float32)
B = RNG.normal(size=(3, 2, 2, 4)).astype(np.float32)
IMAGES = RNG.uniform(size=(3, 8, 7, 3)).astype(np.float32)
LOGITS = RNG.normal(size=(3, 5)).astype(np.float32)
LABELS = ["dummy", "cat", "tabby, tabby cat", "dog", "Car"]


def make_ctx(**extra):
    model = types.SimpleNamespace(labels=LABELS, logits_layer="logits", name="fake")
    activations = {"a": tf.constant(A), "b": tf.constant(B), "logits": tf.constant(LOGITS)}
    activations.update({k: tf.constant(v) for k, v in extra.items()})
    return obj.Context(activations, tf.constant(IMAGES), model)


def value(objective, ctx=None):
    return float(objective(ctx or make_ctx()))


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv1_pre_relu")(inputs)
    x = keras.layers.ReLU(name="conv1")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    logits = keras.layers.Dense(5, name="logits")(x)
    return VisionModel(keras.Model(inputs, logits), labels=LABELS, logits_layer="logits",
                       name="tiny")


# --------------------------------------------------------------------- algebra
def test_algebra_values_match_hand_computation():
    a, b = obj.channel("a", 1), obj.channel("a", 2)
    va, vb = A[..., 1].mean(), A[..., 2].mean()
    ctx = make_ctx()
    np.testing.assert_allclose(value(a + 2 * b, ctx), va + 2 * vb, rtol=1e-5)
    np.testing.assert_allclose(value(a - b, ctx), va - vb, rtol=1e-5)
    np.testing.assert_allclose(value(-a, ctx), -va, rtol=1e-5)
    np.testing.assert_allclose(value(a * b, ctx), va * vb, rtol=1e-5)
    np.testing.assert_allclose(value(a / b, ctx), va / vb, rtol=1e-5)
    np.testing.assert_allclose(value(a / 4, ctx), va / 4, rtol=1e-5)
    np.testing.assert_allclose(value(3 / a, ctx), 3 / va, rtol=1e-5)
    np.testing.assert_allclose(value(a + 1.5, ctx), va + 1.5, rtol=1e-5)
    np.testing.assert_allclose(value(1.5 - a, ctx), 1.5 - va, rtol=1e-5)
    np.testing.assert_allclose(value(0.5 * (a + b) * a - b / 2, ctx),
                               0.5 * (va + vb) * va - vb / 2, rtol=1e-5)


def test_operations_never_change_operands():
    a, b = obj.channel("mixed4a", 476), obj.channel("mixed4a", 460)
    before = (a.description, b.description, vars(a).copy(), vars(b).copy())
    results = [a + b, a - b, -a, 2 * a, a * 2, a / 2, a * b, a / b, a + 1, 1 - a, sum([a, b])]
    assert (a.description, b.description, vars(a), vars(b)) == before
    total = a + b
    terms = total.terms
    _ = total + a, total - b, 3 * total
    assert total.terms == terms and len(total.terms) == 2
    with pytest.raises(AttributeError):
        a.description = "x"
    assert all(isinstance(r, obj.Objective) for r in results)


def test_descriptions_are_readable():
    a, b = obj.channel("mixed4a", 476), obj.channel("mixed4a", 460)
    assert str(obj.channel("mixed4a", 97)) == "Channel [mixed4a, 97]"
    assert str(a + b) == "Channel [mixed4a, 476] + Channel [mixed4a, 460]"
    assert str(0.5 * a) == "0.5 * Channel [mixed4a, 476]"
    assert str(a - 0.5 * b) == "Channel [mixed4a, 476] - 0.5 * Channel [mixed4a, 460]"
    assert str(-(a + b)) == "-(Channel [mixed4a, 476] + Channel [mixed4a, 460])"
    assert str(obj.neuron("mixed4a", 3, x=1, y=2, batch=0)) == \
        "Neuron [mixed4a, 3, x=1, y=2, batch=0]"
    assert str(obj.channel("m", 1) - 1e-3 * obj.L1(constant=0.5)) == \
        "Channel [m, 1] - 0.001 * L1 [input, constant=0.5]"


@pytest.mark.parametrize("count", [1000, 5000])
def test_sum_of_many_objectives_is_flat_and_evaluates(count):
    channels = [i % 6 for i in range(count)]
    total = sum(obj.channel("a", c) for c in channels)
    assert isinstance(total, obj.Sum) and len(total.terms) == count
    expected = sum(float(A[..., c].mean()) for c in channels)
    np.testing.assert_allclose(value(total), expected, rtol=1e-4)
    assert total.required_layers(None) == ("a",)
    assert total.description.count("+") == count - 1


def test_deep_chain_does_not_hit_the_recursion_limit():
    depth = sys.getrecursionlimit() * 3
    a, b = obj.channel("a", 0), obj.channel("a", 1)
    chain = a
    for _ in range(depth):
        chain = 0.5 * chain + b
    va, vb = float(A[..., 0].mean()), float(A[..., 1].mean())
    expected = va
    for _ in range(depth):
        expected = 0.5 * expected + vb
    np.testing.assert_allclose(value(chain), expected, rtol=1e-4)
    assert len(chain.description) > depth
    assert chain.required_layers(None) == ("a",)


def test_channels_per_image_equals_the_sum_of_batch_terms():
    units = [("a", 1), ("b", 3), ("a", 5)]
    per_image = obj.channels_per_image(units)
    summed = sum(obj.channel(layer, n, batch=i) for i, (layer, n) in enumerate(units))
    assert str(per_image) == str(summed) == \
        "Channel [a, 1, batch=0] + Channel [b, 3, batch=1] + Channel [a, 5, batch=2]"
    assert value(per_image) == value(summed)  # the same terms in the same order
    expected = A[0, ..., 1].mean() + B[1, ..., 3].mean() + A[2, ..., 5].mean()
    np.testing.assert_allclose(value(per_image), expected, rtol=1e-5)
    assert str(obj.channels_per_image([("a", 2)])) == "Channel [a, 2, batch=0]"


def test_channels_per_image_of_hundreds_of_units_is_one_flat_sum():
    count = 3 * sys.getrecursionlimit()
    total = obj.channels_per_image([("a", i % 6) for i in range(count)])
    assert isinstance(total, obj.Sum) and len(total.terms) == count
    assert all(isinstance(term, obj.Leaf) for term in total.terms)
    assert total.required_layers(None) == ("a",)
    assert total.description.count("+") == count - 1


@pytest.mark.parametrize("units,error", [
    ([], ValueError), ("a:1", TypeError), ([("a",)], TypeError), ([("a", -1)], ValueError),
    ([(3, 1)], TypeError),
])
def test_channels_per_image_rejects_bad_units(units, error):
    with pytest.raises(error):
        obj.channels_per_image(units)


def test_algebra_rejects_bad_operands():
    a = obj.channel("a", 0)
    with pytest.raises(TypeError):
        a + "mixed4a:3"
    with pytest.raises(ValueError, match="non-finite"):
        a * float("nan")
    with pytest.raises(ZeroDivisionError):
        a / 0


# ---------------------------------------------------------------------- values
def test_neuron_defaults_to_the_center_and_averages_over_the_batch():
    # 5x4 map: rows 5 -> 2, columns 4 -> 2 (bottom-right of the central 2x2).
    np.testing.assert_allclose(value(obj.neuron("a", 3)), A[:, 2, 2, 3].mean(), rtol=1e-5)
    np.testing.assert_allclose(value(obj.neuron("a", 3, x=4, y=1)), A[:, 4, 1, 3].mean(),
                               rtol=1e-5)
    np.testing.assert_allclose(value(obj.neuron("a", 3, x=0, y=3, batch=2)), A[2, 0, 3, 3],
                               rtol=1e-5)


def test_channel_and_deepdream():
    np.testing.assert_allclose(value(obj.channel("a", 5)), A[..., 5].mean(), rtol=1e-5)
    np.testing.assert_allclose(value(obj.channel("a", 5, batch=1)), A[1, ..., 5].mean(),
                               rtol=1e-5)
    np.testing.assert_allclose(value(obj.deepdream("a")), (A ** 2).mean(), rtol=1e-5)


def test_direction_and_direction_neuron():
    vec = RNG.normal(size=6).astype(np.float32)
    dots = (A * vec).sum(-1)
    np.testing.assert_allclose(value(obj.direction("a", vec)), dots.mean(), rtol=1e-4)
    np.testing.assert_allclose(value(obj.direction("a", vec, batch=1)), dots[1].mean(),
                               rtol=1e-4)
    cos = dots / ((1e-4 + np.linalg.norm(A, axis=-1)) * (1e-4 + np.linalg.norm(vec)))
    np.testing.assert_allclose(value(obj.direction("a", vec, cossim_pow=2)),
                               (dots * np.maximum(0.1, cos) ** 2).mean(), rtol=1e-4)
    np.testing.assert_allclose(value(obj.direction_neuron("a", vec)), dots[:, 2, 2].mean(),
                               rtol=1e-4)
    np.testing.assert_allclose(value(obj.direction_neuron("a", vec, x=1, y=0, batch=0)),
                               dots[0, 1, 0], rtol=1e-4)


def test_direction_keeps_its_own_copy_of_the_vector():
    vec = np.ones(6, np.float32)
    objective = obj.direction("a", vec)
    vec[:] = 0
    np.testing.assert_allclose(value(objective), A.sum(-1).mean(), rtol=1e-4)


def test_class_logit_and_probability_by_index_and_name():
    np.testing.assert_allclose(value(obj.class_logit(3)), LOGITS[:, 3].mean(), rtol=1e-5)
    np.testing.assert_allclose(value(obj.class_logit("dog", batch=1)), LOGITS[1, 3], rtol=1e-5)
    np.testing.assert_allclose(value(obj.class_logit("tabby")), LOGITS[:, 2].mean(), rtol=1e-5)
    np.testing.assert_allclose(value(obj.class_logit("car")), LOGITS[:, 4].mean(), rtol=1e-5)
    probs = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    np.testing.assert_allclose(value(obj.class_probability(1)), probs[:, 1].mean(), rtol=1e-5)


def test_penalties_on_the_input():
    np.testing.assert_allclose(value(obj.L1()), np.abs(IMAGES).sum(), rtol=1e-5)
    np.testing.assert_allclose(value(obj.L1(constant=0.5)), np.abs(IMAGES - 0.5).sum(),
                               rtol=1e-5)
    np.testing.assert_allclose(value(obj.L1("a", batch=1)), np.abs(A[1]).sum(), rtol=1e-5)
    np.testing.assert_allclose(value(obj.L2(constant=0.5)),
                               np.sqrt(1e-6 + ((IMAGES - 0.5) ** 2).sum()), rtol=1e-5)
    tv = (np.abs(np.diff(IMAGES, axis=1)).sum() + np.abs(np.diff(IMAGES, axis=2)).sum())
    np.testing.assert_allclose(value(obj.total_variation()), tv, rtol=1e-5)


def _reference_blur(images):
    kernel = np.full((3, 3), 0.5)
    kernel[1, 1] = 1.0
    n, h, w, c = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    ones = np.pad(np.ones_like(images), ((0, 0), (1, 1), (1, 1), (0, 0)))
    num = sum(kernel[i, j] * padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3))
    den = sum(kernel[i, j] * ones[:, i:i + h, j:j + w] for i in range(3) for j in range(3))
    return num / den


def test_blur_input_each_step_value_and_gradient():
    expected = 0.5 * ((IMAGES - _reference_blur(IMAGES)) ** 2).sum()
    np.testing.assert_allclose(value(obj.blur_input_each_step()), expected, rtol=1e-4)
    images = tf.Variable(IMAGES)
    with tf.GradientTape() as tape:
        result = obj.blur_input_each_step()(obj.Context({}, images))
    # The blurred target is held fixed, so the gradient is input - blur(input).
    np.testing.assert_allclose(tape.gradient(result, images).numpy(),
                               IMAGES - _reference_blur(IMAGES), atol=1e-5)


def _flat_unit_grams(acts):
    flat = acts.reshape(acts.shape[0], -1, acts.shape[-1])
    grams = np.einsum("npc,npd->ncd", flat, flat).reshape(acts.shape[0], -1)
    return grams / np.linalg.norm(grams, axis=1, keepdims=True)


def test_diversity_is_minus_the_mean_pairwise_gram_cosine():
    grams = _flat_unit_grams(A.astype(np.float64))
    sims = [grams[i] @ grams[j] for i in range(3) for j in range(3) if i != j]
    np.testing.assert_allclose(value(obj.diversity("a")), -np.mean(sims), rtol=1e-4)
    same = np.repeat(A[:1], 3, axis=0)
    np.testing.assert_allclose(value(obj.diversity("s"), make_ctx(s=same)), -1.0, rtol=1e-4)


def test_alignment_and_channel_interpolate():
    expected = sum(((A[i] - A[i + d]) ** 2).mean() / 2.0 ** d
                   for d in (1, 2) for i in range(3 - d))
    np.testing.assert_allclose(value(obj.alignment("a")), -expected, rtol=1e-4)
    weights = np.array([0.0, 0.5, 1.0])
    expected = sum((1 - weights[n]) * A[n, ..., 1].mean() + weights[n] * B[n, ..., 3].mean()
                   for n in range(3))
    np.testing.assert_allclose(value(obj.channel_interpolate("a", 1, "b", 3)), expected,
                               rtol=1e-4)


# ------------------------------------------------------------------ validation
def test_required_layers_in_order_without_input(tiny):
    objective = (obj.channel("conv2", 1) + obj.neuron("conv1", 0) - obj.L1()
                 + obj.class_logit("cat") + obj.channel("conv2", 2))
    assert objective.required_layers(tiny) == ("conv2", "conv1", "logits")
    assert objective.reads_input(tiny)


def test_evaluate_on_untransformed_images(tiny):
    images = RNG.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    conv2, logits = tiny.submodel(["conv2", "logits"])(tf.constant(images))
    objective = obj.channel("conv2", 1) - 0.5 * obj.class_logit("cat", batch=1) \
        + 0.1 * obj.L1(constant=0.5)
    expected = (np.asarray(conv2)[..., 1].mean() - 0.5 * np.asarray(logits)[1, 1]
                + 0.1 * np.abs(images - 0.5).sum())
    result = objective.evaluate(tiny, images)
    assert isinstance(result, float)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    # Input-only objectives run no layer; float64 images are accepted.
    np.testing.assert_allclose(obj.L1().evaluate(tiny, images.astype(np.float64)),
                               np.abs(images).sum(), rtol=1e-5)


def test_validate_accepts_good_objectives(tiny):
    objective = (obj.channel("conv1_pre_relu", 7, batch=1) + obj.neuron("conv2", 5, x=3, y=3)
                 + obj.class_probability("tabby cat") + obj.diversity("conv1"))
    objective.validate(tiny, (2, 32, 32, 3))


@pytest.mark.parametrize("objective,shape,message", [
    (obj.channel("conv", 1), None, "Unknown layer 'conv'.*Did you mean"),
    (obj.channel("conv2", 6), None, r"channel 6 out of range for conv2 \(6 channels: 0\.\.5\)"),
    (obj.channel("conv2", 1) + obj.channel("conv1", 99), None, "channel 99 out of range"),
    (obj.channel("conv2", 1, batch=2), (2, 32, 32, 3), "batch=2.*batch size 2"),
    (obj.neuron("conv2", 1, x=8), (1, 32, 32, 3), r"x \(rows\)=8 is outside conv2"),
    (obj.neuron("logits", 1), (1, 32, 32, 3), r"logits gives 2-D outputs \(1, 5\), not \(N, "
                                              r"H, W, C\) maps.*'logits:n'"),
    (obj.diversity("conv2"), (1, 32, 32, 3), "batch size >= 2"),
    (obj.channel_interpolate("conv1", 0, "conv2", 0), (1, 32, 32, 3), "batch size >= 2"),
    (obj.direction("conv2", np.ones(5)), None, "5 entries but conv2 has 6 channels"),
    (obj.class_logit(5), None, r"channel 5 out of range for logits \(5 channels"),
    (obj.class_logit("zebra"), None, "Unknown class name 'zebra'"),
    (obj.class_logit("cat", layer="logitz"), None, "Unknown layer 'logitz'"),
])
def test_validation_errors(tiny, objective, shape, message):
    with pytest.raises(ValueError, match=message):
        objective.validate(tiny, shape)


def test_class_objectives_need_a_logits_layer(tiny):
    bare = VisionModel(tiny.keras_model, name="bare")
    with pytest.raises(ValueError, match="no logits_layer"):
        obj.class_logit(1).validate(bare)
    obj.class_logit(1, layer="logits").validate(bare)
    with pytest.raises(ValueError, match="has no labels"):
        obj.class_logit("cat", layer="logits").validate(bare)


@pytest.mark.parametrize("factory", [
    lambda: obj.channel("a", -1), lambda: obj.channel("a", 1.5), lambda: obj.neuron("a", 0, x=-2),
    lambda: obj.channel(3, 1), lambda: obj.direction("a", [[1.0]]), lambda: obj.L1(constant="x"),
    lambda: obj.class_logit(2.0), lambda: obj.alignment("a", decay_ratio=0),
    lambda: obj.direction("a", [1.0], cossim_pow=-1),
])
def test_bad_arguments_fail_at_construction(factory):
    with pytest.raises((TypeError, ValueError)):
        factory()


# --------------------------------------------------------------------- strings
def test_strings_become_objectives():
    assert str(obj.as_objective("mixed4a:97")) == "Channel [mixed4a, 97]"
    assert str(obj.as_objective("mixed4a_pre_relu : 97")) == "Channel [mixed4a_pre_relu, 97]"
    assert str(obj.as_objective("mixed4a")) == "Deepdream [mixed4a]"
    assert str(obj.as_objective("mixed4a:476+mixed4a:460")) == \
        "Channel [mixed4a, 476] + Channel [mixed4a, 460]"
    assert str(obj.as_objective("0.5*mixed4a:476-mixed3b:5")) == \
        "0.5 * Channel [mixed4a, 476] - Channel [mixed3b, 5]"
    assert str(obj.as_objective("-a:1 - 1e-1 * b")) == "-Channel [a, 1] - 0.1 * Deepdream [b]"


def test_string_values():
    objective = obj.as_objective("0.5*a:1 - a:2 + 2 * b:3")
    expected = 0.5 * A[..., 1].mean() - A[..., 2].mean() + 2 * B[..., 3].mean()
    np.testing.assert_allclose(value(objective), expected, rtol=1e-5)


@pytest.mark.parametrize("text", ["", "   ", "mixed4a:", "mixed4a:97 +", "mixed4a:97 mixed4b",
                                  "3*", "*a", "a:b", "mixed4a:97*2", "a:1 ++ b:2", "4a:1"])
def test_unparsable_strings_name_the_grammar(text):
    with pytest.raises(ValueError, match="layer\\[':' channel\\]"):
        obj.as_objective(text)


def test_as_objective_passes_objectives_and_wraps_callables(tiny):
    channel = obj.channel("a", 1)
    assert obj.as_objective(channel) is channel
    custom = obj.as_objective(lambda ctx: ctx("a")[:, 0, 0, 2])  # a vector, summed as in Lucid
    np.testing.assert_allclose(value(custom), A[:, 0, 0, 2].sum(), rtol=1e-5)
    probed = obj.as_objective(
        lambda ctx: tf.reduce_mean(ctx("conv2")) + tf.reduce_mean(ctx("input")))
    assert probed.required_layers(tiny, (1, 16, 16, 3)) == ("conv2",)
    with pytest.raises(ValueError, match="declare"):
        probed.required_layers(tiny)
    declared = obj.Objective.from_function(lambda ctx: tf.reduce_mean(ctx("conv1")),
                                           layers=["conv1"], description="Mine")
    assert declared.required_layers(tiny) == ("conv1",) and str(declared) == "Mine"
    with pytest.raises(TypeError):
        obj.as_objective(42)


def test_context_rejects_undeclared_layers():
    undeclared = obj.Objective.from_function(lambda ctx: tf.reduce_mean(ctx("zzz")), layers=[])
    with pytest.raises(ValueError, match="not computed"):
        undeclared(make_ctx())


# ------------------------------------------------------- what an objective returns
@pytest.mark.parametrize("fn, error, message", [
    (lambda ctx: None, TypeError, "returned None"),
    (lambda ctx: "abc", TypeError, "returned a string tensor"),
    (lambda ctx: object(), TypeError, "returned object"),
    (lambda ctx: tf.complex(tf.reduce_mean(ctx("conv2")), 1.0), TypeError,
     "returned a complex64 tensor"),
])
def test_objective_functions_returning_none_or_non_numbers_say_what_to_return(tiny, fn, error,
                                                                            message):
    # Declared layers: the error comes at the first trace; undeclared: at the probe for
    # the layers, before compiling.
    for layers in (["conv2"], None):
        objective = obj.Objective.from_function(fn, layers=layers, description="Mine")
        with pytest.raises(error, match=f"objective 'Mine' {message}.*must return a scalar "
                                        "tensor"):
            render.render_vis(tiny, objective, param_f=lambda: param.image(16), thresholds=(1,))


def test_objective_leaves_must_return_scalars():
    vector = obj.Leaf(lambda ctx: tf.reduce_mean(ctx("a"), axis=[1, 2, 3]), "PerImage",
                      layers=("a",))
    with pytest.raises(ValueError, match=r"'PerImage' returned a tensor of shape \(3,\).*"
                                         "must return a scalar tensor"):
        value(vector)
    with pytest.raises(ValueError, match="'PerImage' returned a tensor of shape"):
        value(obj.channel("a", 1) + vector)
    with pytest.raises(TypeError, match="'Nothing' returned None"):
        value(obj.Leaf(lambda ctx: None, "Nothing", layers=("a",)))
    # What stays accepted: Objective.from_function sums other shapes (as Lucid did), and a
    # plain number is a constant (a render then says it does not depend on the image).
    summed = obj.Objective.from_function(lambda ctx: ctx("a")[:, 0, 0, 2], layers=["a"])
    np.testing.assert_allclose(value(summed), A[:, 0, 0, 2].sum(), rtol=1e-5)
    assert value(obj.Objective.from_function(lambda ctx: 1.5, layers=[])) == 1.5
