"""Animated GIFs of image sequences (numpy and Pillow)."""

from __future__ import annotations

import pathlib

from lucid2.misc.io.atomic import atomic_write
from lucid2.misc.io.images import to_pil

DEFAULT_FRAME_MS = 100


def save_gif(frames, path, duration_ms: int = DEFAULT_FRAME_MS, loop: int = 0) -> pathlib.Path:
    """Saves frames as an animated GIF, atomically.

    Args:
      frames: a sequence (or an array whose first axis is time) of images
        (H, W, C) or batches (N, H, W, C), each batch tiled into a grid; all
        frames must end up the same size. Float in [0, 1] or uint8, no alpha.
      path: a ``.gif`` file.
      duration_ms: display time of each frame in milliseconds.
      loop: number of repeats; 0 loops forever.

    Pillow stores consecutive identical frames once, with their durations added.
    """
    path = pathlib.Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"save_gif writes .gif files, got {str(path)!r}.")
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, int) or duration_ms <= 0:
        raise ValueError(f"duration_ms must be a positive int, got {duration_ms!r}.")
    if isinstance(loop, bool) or not isinstance(loop, int) or loop < 0:
        raise ValueError(f"loop must be an int >= 0, got {loop!r}.")
    try:
        frames = list(frames)
    except TypeError:
        raise TypeError(
            f"frames must be a sequence of images, got {type(frames).__name__}.") from None
    if not frames:
        raise ValueError("save_gif needs at least one frame.")
    images = [to_pil(frame) for frame in frames]
    sizes = {im.size for im in images}
    if len(sizes) != 1:
        raise ValueError(
            f"All frames must have the same size, got (width, height) {sorted(sizes)}.")
    if any(im.mode == "RGBA" for im in images):
        raise ValueError("GIF frames cannot hold alpha: pass frames[..., :3].")
    images = [im.convert("RGB") for im in images]

    def write(temp: str) -> None:
        images[0].save(temp, format="GIF", save_all=True, append_images=images[1:],
                       duration=duration_ms, loop=loop)

    return atomic_write(path, write)
