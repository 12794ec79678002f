"""A Laplacian-pyramid parameterization: a sum of ever coarser low-resolution tensors."""

from __future__ import annotations

from lucid2.optvis import checks
from lucid2.optvis.param.base import SumParam
from lucid2.optvis.param.lowres import lowres_tensor

# Each pyramid level halves the resolution of the previous one.
LEVEL_FACTOR = 2


def laplacian_pyramid(shape, n_levels: int = 4, sd: float | None = None) -> SumParam:
    """A raw (batch, h, w, c) tensor as the sum of ``n_levels`` upsampled tensors.

    Level ``n`` has resolution (h // 2**n, w // 2**n). The result is raw (not
    in [0, 1]); wrap it with :func:`lucid2.optvis.param.as_image`. For other
    level layouts, add :func:`lowres_tensor` results yourself.
    """
    batch, h, w, ch = checks.shape("shape", shape, rank=4)
    n_levels = checks.positive_int("n_levels", n_levels)
    coarsest = LEVEL_FACTOR ** (n_levels - 1)
    if h // coarsest < 1 or w // coarsest < 1:
        raise ValueError(
            f"n_levels={n_levels} would need a level of {h}x{w} / {coarsest}, below one pixel; "
            "use fewer levels or a larger image.")
    levels = [
        lowres_tensor(shape, (batch, h // LEVEL_FACTOR ** n, w // LEVEL_FACTOR ** n, ch), sd=sd)
        for n in range(n_levels)]
    return SumParam(levels)
