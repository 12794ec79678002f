"""local_response_normalization: the XLA closed form (and the plain-ops one) against
TensorFlow's kernel."""

import numpy as np
import pytest
import tensorflow as tf
from kernels_testlib import BATCHES, assert_close, run_both, standard_transform_sizes

from lucid2.kernels import kernel_choice, lrn

# inception5h's LRN settings, and the channels of its two LRNs (after maxpool0 and conv2d2).
RADIUS, BIAS, ALPHA, BETA = 5, 2.0, 1e-4, 0.5
LRN_CHANNELS = (64, 192)


def _lrn_side(image_side: int) -> int:
    """The LRNs' spatial size for an image side: conv2d0 and maxpool0, both stride 2."""
    return -(-(-(-image_side // 2)) // 2)


def _inputs(shape, seed=1):
    rng = np.random.default_rng(seed)
    # Activations of tens to hundreds, as InceptionV1's are (the normalizer matters).
    return [tf.constant((rng.normal(size=shape) * 50).astype(np.float32))]


@pytest.mark.parametrize("channels", LRN_CHANNELS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("size", standard_transform_sizes())
def test_lrn_matches_tensorflow_at_every_transformed_size(size, batch, channels):
    side = _lrn_side(size)
    results = run_both(
        lambda x: lrn.local_response_normalization(x, RADIUS, BIAS, ALPHA, BETA),
        _inputs((batch, side, side, channels), seed=size))
    assert_close(results, rtol=1e-6, atol=1e-6, grad_rtol=1e-5, grad_atol=1e-6)


@pytest.mark.parametrize("implementation", ["xla", "ops"])
@pytest.mark.parametrize("shape, radius, beta", [
    ((2, 7, 5, 64), 5, 0.5), ((1, 4, 4, 192), 5, 0.5), ((1, 3, 3, 7), 2, 0.75),
    ((1, 2, 2, 3), 5, 0.5), ((1, 2, 2, 12), 0, 0.5),
])
def test_explicit_implementations_match_tensorflow(shape, radius, beta, implementation):
    (x,) = _inputs(shape)
    upstream = tf.random.stateless_normal(shape, [2, 3])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        expected = tf.nn.local_response_normalization(x, radius, 2.0, 1e-4, beta)
        actual = lrn.local_response_normalization(x, radius, 2.0, 1e-4, beta,
                                                  implementation=implementation)
        losses = [tf.reduce_sum(t * upstream) for t in (expected, actual)]
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    want, got = (tape.gradient(loss, x).numpy() for loss in losses)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_row_buckets_round_up_to_four_sizes_per_power_of_two():
    rows = [1, 64, 65, 127, 128, 129, 1024, 1025, 1280, 1281, 1521, 1537, 4095]
    buckets = lrn.lrn_row_bucket(tf.constant(rows)).numpy().tolist()
    assert buckets == [64, 64, 80, 128, 128, 160, 1024, 1280, 1280, 1536, 1536, 1792, 4096]
    for count, bucket in zip(rows, buckets):
        assert count <= bucket <= max(1.25 * count, lrn.LRN_XLA_MIN_ROWS)


def test_xla_lrn_compiles_one_shape_per_row_bucket():
    # 33x33 and 34x34 positions (1089 and 1156 rows) share the 1280-row bucket; 40x40
    # (1600) does not. Parameters used nowhere else, so earlier tests cannot have traced them.
    traced = lrn._lrn_forward_xla.experimental_get_tracing_count()
    for side in (33, 34, 33):
        x = tf.random.normal((1, side, side, 16))
        y = lrn.local_response_normalization(x, 3, 1.5, 1e-3, 0.5, implementation="xla")
        assert y.shape == x.shape
    assert lrn._lrn_forward_xla.experimental_get_tracing_count() == traced + 1
    lrn.local_response_normalization(tf.random.normal((1, 40, 40, 16)), 3, 1.5, 1e-3, 0.5,
                                     implementation="xla")
    assert lrn._lrn_forward_xla.experimental_get_tracing_count() == traced + 2


@pytest.mark.parametrize("choice, compiles", [("fast", True), ("reference", False)])
def test_auto_follows_the_kernel_choice(choice, compiles):
    traced = lrn._lrn_forward_xla.experimental_get_tracing_count()
    with kernel_choice(choice):
        lrn.local_response_normalization(tf.random.normal((1, 5, 5, 9 + compiles)), 2, 1.25,
                                         1e-3, 0.5)
    assert lrn._lrn_forward_xla.experimental_get_tracing_count() == traced + int(compiles)


def test_unknown_implementation_is_refused():
    with pytest.raises(ValueError, match="LRN implementation must be one of"):
        lrn.local_response_normalization(tf.ones((1, 2, 2, 4)), 5, 2.0, 1e-4, 0.5,
                                         implementation="fast")


def test_channel_window_sum_counts_each_window():
    values = tf.ones((1, 1, 1, 7))
    np.testing.assert_array_equal(lrn.channel_window_sum(values, 2).numpy().ravel(),
                                  [3, 4, 5, 5, 5, 4, 3])
    ramp = tf.reshape(tf.range(6, dtype=tf.float32), (1, 1, 1, 6))
    np.testing.assert_array_equal(lrn.channel_window_sum(ramp, 1).numpy().ravel(),
                                  [1, 3, 6, 9, 12, 9])
