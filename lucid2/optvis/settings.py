"""One recipe for a render: :class:`RenderSettings`.

The usual render is Lucid's: a Fourier parameterization in decorrelated
colors, the standard transforms and Adam. Its knobs (size, batch,
parameterization, transforms, learning rate, steps, seed) are one frozen,
validated value that builds everything a render needs::

    from lucid2.optvis.settings import RenderSettings

    settings = RenderSettings(size=224, batch=4, steps=256, seed=0)
    images = settings.render(model, "mixed4a:476")          # the final (4, 224, 224, 3)
    renderer = settings.renderer(model, "mixed4a:476")      # or step by hand

Variants are new values: ``settings.replace(param="pixel", transforms="none")``.
:data:`PRESETS` names whole settings (:func:`preset`); ``"lucid"`` is Lucid's.

A seeded render through these settings is byte-identical to
:func:`~lucid2.optvis.render.render_vis` with the same arguments: the
parameterization is created by the :class:`~lucid2.optvis.render.Renderer`
after seeding, through the zero-argument :meth:`RenderSettings.make_param`.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Callable, Mapping, Sequence

import keras
import numpy as np

from lucid2.optvis import checks
from lucid2.optvis import param as param_lib
from lucid2.optvis import transform
from lucid2.optvis.defaults import (DEFAULT_BATCH, DEFAULT_DECORRELATE, DEFAULT_LEARNING_RATE,
                                    DEFAULT_PARAM, DEFAULT_SIZE, DEFAULT_STEPS,
                                    DEFAULT_TRANSFORMS, PARAM_KINDS, TRANSFORM_NAMES)
from lucid2.optvis.render import Renderer

# Re-exported: the defaults are defined once, in lucid2.optvis.defaults.
__all__ = [
    "DEFAULT_BATCH", "DEFAULT_DECORRELATE", "DEFAULT_LEARNING_RATE", "DEFAULT_PARAM",
    "DEFAULT_SIZE", "DEFAULT_STEPS", "DEFAULT_TRANSFORMS", "PARAM_KINDS", "PRESETS",
    "RenderSettings", "TRANSFORM_NAMES", "preset",
]

_TRANSFORM_LISTS: Mapping[str, Sequence[Callable]] = types.MappingProxyType({
    "standard": transform.standard_transforms,
    "article": transform.article_transforms,
    "none": (),
})


@dataclasses.dataclass(frozen=True)
class RenderSettings:
    """How to render: everything but the model and the objective.

    Attributes:
      size: image width and height in pixels.
      batch: number of images rendered together.
      param: the image parameterization, "fft" (Lucid's Fourier one) or "pixel".
      decorrelate: optimize in ImageNet's decorrelated color space.
      transforms: the robustness transforms by name: "standard" (Lucid's),
        "article" (the Feature Visualization article's) or "none".
      learning_rate: Adam's learning rate.
      steps: optimization steps (capped by ``LUCID2_MAX_STEPS``, as every render).
      seed: makes the render reproducible (see :func:`~lucid2.optvis.render.render_vis`);
        None for a random start.

    Raises TypeError or ValueError at construction, naming the field, the value
    and what is allowed. Values are normalized (NumPy ints become ints, names
    lower case).
    """

    size: int = DEFAULT_SIZE
    batch: int = DEFAULT_BATCH
    param: str = DEFAULT_PARAM
    decorrelate: bool = DEFAULT_DECORRELATE
    transforms: str = DEFAULT_TRANSFORMS
    learning_rate: float = DEFAULT_LEARNING_RATE
    steps: int = DEFAULT_STEPS
    seed: int | None = None

    def __post_init__(self):
        checked = {
            "size": checks.positive_int("size", self.size),
            "batch": checks.positive_int("batch", self.batch),
            "param": checks.choice("param", self.param, PARAM_KINDS),
            "decorrelate": checks.boolean("decorrelate", self.decorrelate),
            "transforms": checks.choice("transforms", self.transforms, TRANSFORM_NAMES),
            "learning_rate": checks.positive_float("learning_rate", self.learning_rate),
            "steps": checks.positive_int("steps", self.steps),
            "seed": checks.optional_non_negative_int("seed", self.seed),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)  # frozen: store the normalized value

    # ------------------------------------------------------------ what a render needs
    def make_param(self) -> param_lib.RGBImage:
        """A new parameterization; pass the method itself as ``param_f`` so that it is
        created after seeding."""
        return param_lib.image(self.size, batch=self.batch, fft=self.param == "fft",
                               decorrelate=self.decorrelate)

    def param_from(self, init) -> Callable[[], param_lib.RGBImage]:
        """A zero-argument factory of this parameterization started from ``init``.

        ``init`` is an image array, a path or a list of them, as
        :func:`lucid2.optvis.param.load_init` takes; it is checked, read and resized
        to ``size`` now (errors raise here, before any model work), and every call of
        the factory returns a new param that reproduces it within 1/255. Pass the
        factory as ``param_f`` to :meth:`renderer` or :meth:`render`.
        """
        images = param_lib.load_init(init, self.size, self.size, self.batch)

        def make_param() -> param_lib.RGBImage:
            return param_lib.image(self.size, batch=self.batch, fft=self.param == "fft",
                                   decorrelate=self.decorrelate, init=images)

        return make_param

    def make_optimizer(self) -> keras.optimizers.Optimizer:
        """A fresh Adam optimizer; pass the method itself as ``optimizer``."""
        return keras.optimizers.Adam(learning_rate=self.learning_rate)

    def make_transforms(self) -> list[Callable]:
        """The transform list named by ``transforms`` (a new list each call)."""
        return list(_TRANSFORM_LISTS[self.transforms])

    def renderer(self, model, objective, *, param_f: Callable | None = None,
                 **renderer_kwargs) -> Renderer:
        """A :class:`~lucid2.optvis.render.Renderer` of ``objective`` on ``model``.

        Args:
          model, objective: as for :func:`~lucid2.optvis.render.render_vis`.
          param_f: a zero-argument function creating another parameterization
            (e.g. ``param.image_interpolation``); it replaces size, batch,
            param and decorrelate. Default: :meth:`make_param`.
          **renderer_kwargs: further :class:`Renderer` arguments
            (``relu_gradient_override``, ``redirect_steps``).
        """
        return Renderer(model, objective, param_f=param_f or self.make_param,
                        optimizer=self.make_optimizer, transforms=self.make_transforms(),
                        seed=self.seed, **renderer_kwargs)

    def render(self, model, objective, *, param_f: Callable | None = None,
               verbose: bool = False) -> np.ndarray:
        """Renders ``steps`` steps; returns the final (N, H, W, 3) float32 images in [0, 1]."""
        renderer = self.renderer(model, objective, param_f=param_f)
        return renderer.run((self.steps,), verbose=verbose)[-1]

    # ------------------------------------------------------------------ variants
    def replace(self, **changes) -> RenderSettings:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The fields as a JSON-friendly dict."""
        return dataclasses.asdict(self)


# Named settings. Lucid's defaults are the only preset for now; others (e.g. a
# quick low-resolution one) are added here as further RenderSettings values.
PRESETS: Mapping[str, RenderSettings] = types.MappingProxyType({
    "lucid": RenderSettings(),
})


def preset(name: str, **changes) -> RenderSettings:
    """The settings named ``name`` in :data:`PRESETS`, with ``changes`` applied."""
    if name not in PRESETS:
        raise ValueError(f"Unknown render preset {name!r}; the presets are: "
                         f"{', '.join(PRESETS)}.")
    return PRESETS[name].replace(**changes)
