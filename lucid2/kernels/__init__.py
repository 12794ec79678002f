"""Device-specific fast paths, each beside its plain-TensorFlow reference.

Every kernel is one public function (or callable) that computes what its reference
computes, to float32 rounding; :func:`use_fast_kernels`, read while tracing, picks the
path (fast on CPU, the reference with a GPU), and :func:`kernel_choice` overrides it for
tests and benchmarks. The modules that use them (the parameterizations, the transforms,
the InceptionV1 graph) read like plain TensorFlow.

- :func:`local_response_normalization` (``lrn``): XLA-compiled closed form.
- :func:`conv2d_same` (``conv``): strided convolutions of images with a stride-1 input
  gradient.
- :func:`warp` (``resampling``): bilinear affine resampling as XLA-compiled gathers.
- :func:`mix_sigmoid_channels_first` (``color``): color mixing and sigmoid as one loop.
- :class:`ScaledInverseRFFT2D` (``fft``): the inverse FFT with a hand-written gradient.
"""

from lucid2.kernels.color import mix_channels_first, mix_sigmoid_channels_first
from lucid2.kernels.conv import conv2d_same
from lucid2.kernels.device import KERNEL_CHOICES, kernel_choice, use_fast_kernels
from lucid2.kernels.fft import ScaledInverseRFFT2D
from lucid2.kernels.lrn import (LRN_IMPLEMENTATIONS, check_lrn_implementation,
                                local_response_normalization)
from lucid2.kernels.resampling import affine_inverse, warp

__all__ = [
    "KERNEL_CHOICES", "LRN_IMPLEMENTATIONS", "ScaledInverseRFFT2D", "affine_inverse",
    "check_lrn_implementation", "conv2d_same", "kernel_choice", "local_response_normalization",
    "mix_channels_first", "mix_sigmoid_channels_first", "use_fast_kernels", "warp",
]
