"""The scaled inverse real 2D FFT of Fourier parameterizations: TensorFlow's complex ops
and their automatic gradient (the reference), or a hand-written gradient (the fast path).

TensorFlow's own gradient chain (build a complex tensor, inverse FFT, then in the
gradient a forward FFT, a complex multiplication by its Hermitian mask and size factor, a
split into real and imaginary parts and a multiplication of each by the scale) costs more
than the two FFTs. On the fast path the scale, the mask and the size factor are one real
array, and complex and real views of the same memory are bitcasts, so the gradient is the
forward FFT and one multiplication, with TensorFlow's numbers.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.kernels.device import use_fast_kernels


class ScaledInverseRFFT2D:
    """(..., h, w // 2 + 1, 2) real and imaginary parts -> (..., h, w) real images:
    ``irfft2d((real + i imag) * scale)``.

    The pairs' layout (real and imaginary side by side in the last axis) is complex64's
    memory layout, so the fast path reads them without copying.
    """

    def __init__(self, scale: np.ndarray, h: int, w: int):
        self.h, self.w = int(h), int(w)
        scale = np.asarray(scale, dtype=np.float32)
        if scale.shape[-2:] != (self.h, self.w // 2 + 1):
            raise ValueError(f"The scale must end in ({self.h}, {self.w // 2 + 1}) for "
                             f"{self.h}x{self.w} images, got shape {scale.shape}.")
        self._scale = scale
        # TensorFlow's IRFFT2D gradient: 1 / (h * w), times 2 for the columns that stand
        # for two conjugate coefficients (all but the first, and the last when w is even).
        mask = np.full(scale.shape[-1], 2.0)
        mask[0] = 1.0
        if self.w % 2 == 0:
            mask[-1] = 1.0
        # Repeated for the (real, imaginary) pairs: a broadcast over an innermost axis of
        # 2 runs elementwise, one over the leading axes runs in contiguous rows.
        self._pair_scale = np.repeat(scale[..., None], 2, axis=-1).astype(np.float32)
        self._pair_gradient_scale = np.repeat((scale * mask / (self.h * self.w))[..., None], 2,
                                              axis=-1).astype(np.float32)

    def __call__(self, pairs) -> tf.Tensor:
        pairs = tf.convert_to_tensor(pairs)
        if use_fast_kernels():
            return self._fast(pairs)
        spectrum = tf.complex(pairs[..., 0] * self._scale, pairs[..., 1] * self._scale)
        return tf.signal.irfft2d(spectrum, fft_length=[self.h, self.w])

    def _fast(self, pairs: tf.Tensor) -> tf.Tensor:
        @tf.custom_gradient
        def inverse(pairs):
            spectrum = tf.bitcast(pairs * self._pair_scale, tf.complex64)

            def grad(upstream):
                forward = tf.signal.rfft2d(upstream, fft_length=[self.h, self.w])
                return tf.bitcast(forward, tf.float32) * self._pair_gradient_scale

            return tf.signal.irfft2d(spectrum, fft_length=[self.h, self.w]), grad

        return inverse(pairs)
