"""ScaledInverseRFFT2D: the hand-written gradient against TensorFlow's automatic one."""

import numpy as np
import pytest
import tensorflow as tf
from kernels_testlib import BATCHES, RENDER_SIZE, assert_close, run_both

from lucid2 import kernels

SIZES = [(RENDER_SIZE, RENDER_SIZE), (224, 224), (97, 131), (64, 33)]


def _scale(h: int, w: int) -> np.ndarray:
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return (1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / max(h, w))).astype(np.float32)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("height, width", SIZES)
def test_inverse_fft_matches_the_reference(height, width, batch):
    inverse = kernels.ScaledInverseRFFT2D(_scale(height, width), height, width)
    pairs = tf.random.stateless_normal([batch, 3, height, width // 2 + 1, 2], [height, width])
    results = run_both(inverse, [pairs])
    assert results["fast"][0].shape == (batch, 3, height, width)
    # The same multiplications before the same inverse FFT: equal values.
    np.testing.assert_array_equal(results["fast"][0], results["reference"][0])
    assert_close(results, rtol=0, atol=0, grad_rtol=1e-5, grad_atol=1e-6)


def test_the_inverse_is_numpys_irfft2():
    h, w = 12, 10
    scale = _scale(h, w)
    pairs = np.random.default_rng(0).normal(size=(1, h, w // 2 + 1, 2)).astype(np.float32)
    expected = np.fft.irfft2((pairs[..., 0] + 1j * pairs[..., 1]) * scale, s=(h, w))
    for choice in ("fast", "reference"):
        with kernels.kernel_choice(choice):
            got = kernels.ScaledInverseRFFT2D(scale, h, w)(pairs).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_scale_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"must end in \(8, 5\)"):
        kernels.ScaledInverseRFFT2D(np.ones((8, 8), np.float32), 8, 8)
