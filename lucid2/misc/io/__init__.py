"""Image input/output with numpy and Pillow only (TensorFlow is not imported).

* :func:`save_image`: PNG/JPEG files, atomic writes.
* :func:`load_image`: any image Pillow reads (8-bit, 16-bit, float, ...) as RGB in [0, 1],
  or :class:`ImageLoadError` naming the file; :func:`read_image_header` checks one cheaply;
  :func:`rgb_batch` takes a path or an array and checks it.
* :func:`image_grid`: tile a batch into one image.
* :func:`to_uint8`: float images in [0, 1] to 0..255, as the writers quantize them.
* :func:`save_gif`: animated GIFs.
* :func:`show`: display in a notebook (IPython, when installed).
* :func:`atomic_write`: the all-or-nothing file write the others use.
* :func:`format_bytes`, :func:`free_bytes`, :func:`is_disk_full`: what a full disk needs,
  in words.
"""

from lucid2.misc.io._arrays import image_grid, to_uint8
from lucid2.misc.io.atomic import atomic_write
from lucid2.misc.io.disk import DISK_FULL_ERRNOS, format_bytes, free_bytes, is_disk_full
from lucid2.misc.io.gif import save_gif
from lucid2.misc.io.images import IMAGE_FORMATS, save_image, to_pil
from lucid2.misc.io.loading import (SUPPORTED_MODES, ImageHeader, ImageLoadError, image_to_rgb,
                                    load_image, read_image_header, rgb_batch)
from lucid2.misc.io.show import png_bytes, show

__all__ = [
    "DISK_FULL_ERRNOS", "IMAGE_FORMATS", "SUPPORTED_MODES", "ImageHeader", "ImageLoadError",
    "atomic_write", "format_bytes", "free_bytes", "image_grid", "image_to_rgb", "is_disk_full",
    "load_image", "png_bytes", "read_image_header", "rgb_batch", "save_gif", "save_image", "show",
    "to_pil", "to_uint8",
]
