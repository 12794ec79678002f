"""Image parameterizations: trainable modules that produce images in [0, 1].

Start with :func:`image` (Lucid's default: Fourier coefficients, ImageNet
color decorrelation, sigmoid). Every ``ImageParam`` creates its variables
once, at construction (seed them with ``keras.utils.set_random_seed``), and
computes its (batch, height, width, channels) float32 image on each call,
inside or outside a ``tf.function``.

Building blocks return raw, unconstrained params (:class:`RawParam`) that add
up with ``+``: :func:`pixel_image`, :func:`fft_image`, :func:`lowres_tensor`,
:func:`laplacian_pyramid`, :func:`interpolate_frames`. Turn one into an image
with :func:`as_image`, or map a tensor with :func:`to_valid_rgb`.

Starting from a photo: :func:`image`, :func:`laplacian_pyramid_image`,
:func:`shared_image` and :func:`image_interpolation` take ``init=`` (an array,
a path, or a list of them; :func:`load_init` checks and resizes it) and
reproduce it within 1/255 at step 0. The raw params take a raw start
(``pixel_image(init_val=)``, ``fft_image(init=)``, ``lowres_tensor(init=)``,
``laplacian_pyramid(init=)``), which :func:`raw_from_images` computes by
inverting the color map (:func:`from_valid_rgb`, :func:`inverse_squash`,
:func:`inverse_decorrelate_color`). A CPPN has no such inverse and no ``init``.

Deep units: :func:`maco` (MACO) optimizes only the Fourier phases under a fixed
magnitude spectrum of photos (:func:`magnitude_spectrum`, :func:`default_spectrum`).
"""

from lucid2.optvis.param.base import ImageParam, RawParam, SumParam
from lucid2.optvis.param.color import (COLOR_CORRELATION_NORMALIZED, COLOR_CORRELATION_SVD_SQRT,
                                       COLOR_MEAN, SIGMOID_INIT_MARGIN, VALID_RGB_MODES,
                                       constrain_l_inf, from_valid_rgb, inverse_decorrelate_color,
                                       inverse_squash, linear_decorrelate_color, to_valid_rgb)
from lucid2.optvis.param.cppn import CPPN, cppn
from lucid2.optvis.param.images import (RGBImage, as_image, grayscale_image, image,
                                        laplacian_pyramid_image, raw_from_images)
from lucid2.optvis.param.init import LUMA_WEIGHTS, load_init, resize_images
from lucid2.optvis.param.lowres import ALIGN_MODES, LowresTensor, lowres_tensor, resize_linear_nd
from lucid2.optvis.param.pyramid import laplacian_pyramid
from lucid2.optvis.param.shared import (FrameInterpolation, InterpolationImage,
                                        image_interpolation, interpolate_frames,
                                        interpolation_weights, shared_image)
from lucid2.optvis.param.spatial import (DEFAULT_SD, FFTImage, PixelImage, fft_image, pixel_image,
                                         rfft2d_freqs)
from lucid2.optvis.param.generator import GeneratorImage, generator
from lucid2.optvis.param.maco_fft import (DEFAULT_SPECTRUM_FILE, MacoFFT, default_spectrum,
                                          load_spectrum, maco, magnitude_spectrum,
                                          resize_spectrum, save_spectrum)

__all__ = [
    "ALIGN_MODES", "COLOR_CORRELATION_NORMALIZED", "COLOR_CORRELATION_SVD_SQRT", "COLOR_MEAN",
    "CPPN", "DEFAULT_SD", "DEFAULT_SPECTRUM_FILE", "FFTImage", "FrameInterpolation",
    "GeneratorImage", "ImageParam", "InterpolationImage", "LUMA_WEIGHTS", "LowresTensor",
    "MacoFFT", "PixelImage", "RGBImage", "RawParam", "SIGMOID_INIT_MARGIN", "SumParam",
    "VALID_RGB_MODES", "as_image", "constrain_l_inf", "cppn", "default_spectrum", "fft_image",
    "from_valid_rgb", "generator", "grayscale_image", "image", "image_interpolation",
    "interpolate_frames", "interpolation_weights", "inverse_decorrelate_color",
    "inverse_squash", "laplacian_pyramid", "laplacian_pyramid_image",
    "linear_decorrelate_color", "load_init", "load_spectrum", "lowres_tensor", "maco",
    "magnitude_spectrum", "pixel_image", "raw_from_images", "resize_images",
    "resize_linear_nd", "resize_spectrum", "rfft2d_freqs", "save_spectrum", "shared_image",
    "to_valid_rgb",
]
