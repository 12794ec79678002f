"""One recipe for a render: :class:`RenderSettings`.

The usual render is Lucid's: a Fourier parameterization in decorrelated
colors, the standard transforms and Adam. Its knobs (size, batch,
parameterization, transforms and their strength, Adam's learning rate and
moment decays, steps, seed) are one frozen, validated value that builds
everything a render needs::

    from lucid2.optvis.settings import RenderSettings

    settings = RenderSettings(size=224, batch=4, steps=256, seed=0)
    images = settings.render(model, "mixed4a:476")          # the final (4, 224, 224, 3)
    renderer = settings.renderer(model, "mixed4a:476")      # or step by hand

Variants are new values: ``settings.replace(param="pixel", transforms="none")``.
:data:`PRESETS` names whole settings (:func:`preset`): ``"lucid"`` is Lucid's
recipe (the default, with which the article's figures are reproduced);
``"fast"`` reaches in 128 steps about what ``"lucid"`` reaches in 512 (see
:data:`FAST` and ``benchmarks/render_quality.py``).

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
                                    DEFAULT_PARAM, DEFAULT_PRESET, DEFAULT_SIZE, DEFAULT_STEPS,
                                    DEFAULT_TRANSFORMS, PARAM_KINDS, PRESET_CHANGES,
                                    PRESET_NAMES, TRANSFORM_NAMES, preset_value)
from lucid2.optvis.render import Renderer

# Re-exported: the defaults are defined once, in lucid2.optvis.defaults.
__all__ = [
    "DEFAULT_BATCH", "DEFAULT_BETA_1", "DEFAULT_BETA_2", "DEFAULT_DECORRELATE",
    "DEFAULT_LEARNING_RATE", "DEFAULT_PARAM", "DEFAULT_PRESET", "DEFAULT_SIZE",
    "DEFAULT_STEPS", "DEFAULT_TRANSFORM_STRENGTH", "DEFAULT_TRANSFORMS", "FAST", "PARAM_KINDS",
    "PRESET_NAMES", "PRESETS", "RenderSettings", "TRANSFORM_NAMES", "preset", "scaled_transforms",
]

_TRANSFORM_LISTS: Mapping[str, Sequence[Callable]] = types.MappingProxyType({
    "standard": transform.standard_transforms,
    "article": transform.article_transforms,
    "none": (),
})

# Adam's moment decays (Keras' and Lucid's defaults).
DEFAULT_BETA_1 = 0.9
DEFAULT_BETA_2 = 0.999
DEFAULT_TRANSFORM_STRENGTH = 1.0
# The pixel amounts of the transform lists at strength 1 (transform.standard_transforms:
# pad, first jitter, last jitter; transform.article_transforms likewise); the scales and
# angles are the transform module's own STANDARD_/ARTICLE_ constants.
STANDARD_PAD, STANDARD_JITTER, STANDARD_LAST_JITTER = 12, 8, 4
ARTICLE_PAD, ARTICLE_JITTER, ARTICLE_LAST_JITTER = 16, 16, 8
# Padding and the corners uncovered by rotation are Lucid's gray.
PAD_GRAY = 0.5


def _scaled(amount: int, strength: float) -> int:
    """A pixel amount scaled by ``strength``, rounded to whole pixels."""
    return int(round(amount * strength))


def _spread(values: Sequence[float], center: float, strength: float) -> tuple[float, ...]:
    """``values`` moved toward ``center`` (strength < 1) or away from it (> 1)."""
    return tuple(center + strength * (value - center) for value in values)


def scaled_transforms(name: str, strength: float) -> list[Callable]:
    """The transform list ``name`` ("standard", "article", "none") at ``strength``.

    Strength 1 is the list itself (the same transform objects). Another strength
    scales every random amount: pad and jitter widths (rounded to whole pixels), the
    spread of the scale factors around 1 and the rotation angles. Each transform keeps
    its kind and order, so a render draws the same kinds of random numbers.
    """
    name = checks.choice("transforms", name, TRANSFORM_NAMES)
    strength = checks.positive_float("transform_strength", strength)
    if strength == DEFAULT_TRANSFORM_STRENGTH or name == "none":
        return list(_TRANSFORM_LISTS[name])
    if name == "standard":
        return [
            transform.pad(_scaled(STANDARD_PAD, strength), mode="constant",
                          constant_value=PAD_GRAY),
            transform.jitter(_scaled(STANDARD_JITTER, strength)),
            transform.random_scale(_spread(transform.STANDARD_SCALES, 1.0, strength)),
            transform.random_rotate(_spread(transform.STANDARD_ANGLES, 0.0, strength)),
            transform.jitter(_scaled(STANDARD_LAST_JITTER, strength)),
        ]
    return [transform.preserve_size([
        transform.pad(_scaled(ARTICLE_PAD, strength), mode="constant", constant_value=PAD_GRAY),
        transform.jitter(_scaled(ARTICLE_JITTER, strength)),
        transform.random_scale(_spread(transform.ARTICLE_SCALES, 1.0, strength)),
        transform.random_rotate(_spread(transform.ARTICLE_ANGLES, 0.0, strength)),
        transform.jitter(_scaled(ARTICLE_LAST_JITTER, strength)),
    ])]


def _decay(name: str, value) -> float:
    """An Adam moment decay: a float in [0, 1)."""
    result = checks.finite_float(name, value)
    if not 0.0 <= result < 1.0:
        raise ValueError(f"{name} must be in [0, 1) (a moment decay of Adam), got {value}.")
    return result


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
      transform_strength: scales the random amounts of the named transforms (pad
        and jitter widths, the spread of the scale factors, the rotation angles; see
        :func:`scaled_transforms`): 1 is the list as named, 0.5 half as much
        movement. No effect with transforms="none" (so a preset's strength carries
        over when a variant switches its transforms off and on again).
      learning_rate: Adam's learning rate.
      beta_1: Adam's decay of the gradient's running mean (momentum); 0 uses each
        step's gradient alone (normalized by the running second moment).
      beta_2: Adam's decay of the running mean of squared gradients.
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
    transform_strength: float = DEFAULT_TRANSFORM_STRENGTH
    beta_1: float = DEFAULT_BETA_1
    beta_2: float = DEFAULT_BETA_2

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
            "transform_strength": checks.positive_float("transform_strength",
                                                        self.transform_strength),
            "beta_1": _decay("beta_1", self.beta_1),
            "beta_2": _decay("beta_2", self.beta_2),
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
        return keras.optimizers.Adam(learning_rate=self.learning_rate, beta_1=self.beta_1,
                                     beta_2=self.beta_2)

    def make_transforms(self) -> list[Callable]:
        """The transform list named by ``transforms`` at ``transform_strength`` (a new
        list each call)."""
        return scaled_transforms(self.transforms, self.transform_strength)

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


# Named settings: presets differ only in their RenderSettings values (their changes to
# Lucid's recipe, and why, are in lucid2.optvis.defaults.PRESET_CHANGES).
PRESETS: Mapping[str, RenderSettings] = types.MappingProxyType({
    name: RenderSettings(**changes) for name, changes in PRESET_CHANGES.items()})
FAST = PRESETS["fast"]


def preset(name: str, **changes) -> RenderSettings:
    """The settings named ``name`` in :data:`PRESETS`, with ``changes`` applied."""
    preset_value(name, "steps", DEFAULT_STEPS)  # an unknown name: the list of presets
    return PRESETS[name].replace(**changes)
