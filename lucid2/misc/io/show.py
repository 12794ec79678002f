"""Displaying images in notebooks (IPython, when available)."""

from __future__ import annotations

import io
import warnings

from lucid2.misc.io.images import to_pil


def png_bytes(array_or_batch) -> bytes:
    """PNG-encoded bytes of an image, or of a batch tiled into a grid."""
    buffer = io.BytesIO()
    to_pil(array_or_batch).save(buffer, format="PNG")
    return buffer.getvalue()


def show(array_or_batch) -> None:
    """Displays an image (H, W, C) or a batch (N, H, W, C, as a grid) in a notebook.

    Uses ``IPython.display`` when IPython is installed; otherwise warns and
    shows nothing (save the image with ``save_image`` instead). Values are
    float in [0, 1] or uint8.
    """
    data = png_bytes(array_or_batch)
    try:
        from IPython.display import Image, display
    except ImportError:
        warnings.warn("show() needs IPython to display images; nothing was shown. "
                      "Use lucid2.misc.io.save_image(array, 'out.png') instead.", stacklevel=2)
        return
    display(Image(data=data, format="png"))
