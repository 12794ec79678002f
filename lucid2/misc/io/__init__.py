"""Image input/output with numpy and Pillow only (TensorFlow is not imported).

* :func:`save_image` / :func:`load_image`: PNG/JPEG files, atomic writes.
* :func:`image_grid`: tile a batch into one image.
* :func:`to_uint8`: float images in [0, 1] to 0..255, as the writers quantize them.
* :func:`save_gif`: animated GIFs.
* :func:`show`: display in a notebook (IPython, when installed).
* :func:`atomic_write`: the all-or-nothing file write the others use.
"""

from lucid2.misc.io._arrays import image_grid, to_uint8
from lucid2.misc.io.atomic import atomic_write
from lucid2.misc.io.gif import save_gif
from lucid2.misc.io.images import IMAGE_FORMATS, load_image, save_image, to_pil
from lucid2.misc.io.show import png_bytes, show

__all__ = ["IMAGE_FORMATS", "atomic_write", "image_grid", "load_image", "png_bytes", "save_gif",
           "save_image", "show", "to_pil", "to_uint8"]
