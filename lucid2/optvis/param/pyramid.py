"""A Laplacian-pyramid parameterization: a sum of ever coarser low-resolution tensors."""

from __future__ import annotations

import numpy as np

from lucid2.optvis import checks
from lucid2.optvis.param.base import SumParam, initial_value
from lucid2.optvis.param.lowres import lowres_tensor

# Each pyramid level halves the resolution of the previous one.
LEVEL_FACTOR = 2


def laplacian_pyramid(shape, n_levels: int = 4, sd: float | None = None,
                      init=None) -> SumParam:
    """A raw (batch, h, w, c) tensor as the sum of ``n_levels`` upsampled tensors.

    Level ``n`` has resolution (h // 2**n, w // 2**n). The result is raw (not
    in [0, 1]); wrap it with :func:`lucid2.optvis.param.as_image`. For other
    level layouts, add :func:`lowres_tensor` results yourself.

    ``init``: a raw tensor of ``shape`` to start from instead of random values (not
    together with ``sd``): the finest level starts at it and the coarser levels at zero,
    so the pyramid first computes ``init`` exactly.
    """
    batch, h, w, ch = checks.shape("shape", shape, rank=4)
    n_levels = checks.positive_int("n_levels", n_levels)
    coarsest = LEVEL_FACTOR ** (n_levels - 1)
    if h // coarsest < 1 or w // coarsest < 1:
        raise ValueError(
            f"n_levels={n_levels} would need a level of {h}x{w} / {coarsest}, below one pixel; "
            "use fewer levels or a larger image.")
    level_shapes = [(batch, h // LEVEL_FACTOR ** n, w // LEVEL_FACTOR ** n, ch)
                    for n in range(n_levels)]
    if init is None:
        return SumParam([lowres_tensor(shape, level, sd=sd) for level in level_shapes])
    if sd is not None:
        raise ValueError("laplacian_pyramid takes either sd (random init) or init, not both.")
    starts = [initial_value("init", init, [shape])]
    starts += [np.zeros(level, np.float32) for level in level_shapes[1:]]
    return SumParam([lowres_tensor(shape, level, init=start)
                     for level, start in zip(level_shapes, starts, strict=True)])
