"""What the photo recipes share: the photo at the render's size, renders that count their
steps (for Ctrl-C reports), the transforms of feature inversion, the checked preparation of
a render against one photo (:func:`prepare_photo_render`), and measurements.

Sizes: a recipe's ``size`` is the longer side of the image it renders, in pixels; the
photo's aspect ratio is kept (``size=None``: the photo's own size). The photo is resized
once, and the very same array is the render's starting image, its reference, and what the
results are measured against, so that the numbers compare like with like.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Sequence

import numpy as np

from lucid2.misc.io import rgb_batch
from lucid2.optvis import checks, metrics, model_api, objectives, param, sizes, transform
from lucid2.optvis.objectives import Objective
from lucid2.optvis.render import Renderer
from lucid2.optvis.settings import RenderSettings

# Lucid's feature-inversion and caricature transforms: a gray border, jitter, mild scaling
# and rotation (most draws keep scale 1 and angle 0), then a small jitter.
INVERSION_PAD = 8
INVERSION_JITTER = 8
INVERSION_SCALES = (0.9, 0.95, 1.05, 1.1) + (1.0,) * 4
INVERSION_ANGLES = tuple(range(-5, 5)) + (0,) * 5
INVERSION_FINE_JITTER = 2
PAD_GRAY = 0.5


def inversion_transforms() -> list[Callable]:
    """The transforms of Lucid's feature inversion and caricature recipes (a new list)."""
    return [
        transform.pad(INVERSION_PAD, mode="constant", constant_value=PAD_GRAY),
        transform.jitter(INVERSION_JITTER),
        transform.random_scale(INVERSION_SCALES),
        transform.random_rotate(INVERSION_ANGLES),
        transform.jitter(INVERSION_FINE_JITTER),
    ]


def standard_transforms() -> list[Callable]:
    """Lucid's standard transforms (a new list): DeepDream's and accentuation's default."""
    return list(transform.standard_transforms)


# ------------------------------------------------------------------ the photo
def describe_image(image) -> str:
    """How results record an input image: its path, or the shape of an array."""
    if isinstance(image, (str, os.PathLike)):
        return os.fspath(image)
    return f"array of shape {tuple(np.shape(image))}"


def load_photo(image, name: str = "image") -> np.ndarray:
    """One photo (a path, or an (H, W, 3) / (1, H, W, 3) array, float in [0, 1] or uint8)
    as float32 (H, W, 3) in [0, 1]; ValueError / TypeError / OSError with ``name``."""
    batch = rgb_batch(image, name=name)
    if batch.shape[0] != 1:
        raise ValueError(f"{name} must be one image, got a batch of {batch.shape[0]}.")
    return batch[0]


def fitted_size(height: int, width: int, size: int | None) -> tuple[int, int]:
    """(height, width) of an image of ``height`` x ``width`` scaled so that its longer side
    is ``size`` (None: unchanged); each side at least 1 pixel."""
    height = checks.positive_int("height", height)
    width = checks.positive_int("width", width)
    if size is None:
        return height, width
    size = checks.positive_int("size", size)
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_photo(photo: np.ndarray, height: int, width: int) -> np.ndarray:
    """``photo`` (H, W, 3) resized to (height, width), as a render's ``init=`` resizes it."""
    if photo.shape[:2] == (height, width):
        return np.asarray(photo, dtype=np.float32)
    return param.load_init(photo, height, width)[0]


def cover_crop(photo: np.ndarray, height: int, width: int) -> np.ndarray:
    """``photo`` (H, W, 3) scaled to cover (height, width) and cropped at the center: the
    whole target filled without stretching (for a style image, whose textures stretching
    would distort)."""
    photo_height, photo_width = photo.shape[:2]
    scale = max(height / photo_height, width / photo_width)
    scaled_height = max(height, round(photo_height * scale))
    scaled_width = max(width, round(photo_width * scale))
    scaled = resize_photo(photo, scaled_height, scaled_width)
    top, left = (scaled_height - height) // 2, (scaled_width - width) // 2
    return np.ascontiguousarray(scaled[top:top + height, left:left + width])


def photo_at_size(image, size: int | None, name: str = "image") -> np.ndarray:
    """The photo loaded (:func:`load_photo`) and resized so that its longer side is ``size``
    (None: its own size)."""
    photo = load_photo(image, name)
    height, width = photo.shape[:2]
    return resize_photo(photo, *fitted_size(height, width, size))


# ------------------------------------------------------------------ rendering
class Progress:
    """Counts the optimization steps of a recipe's renders, so that an app can say where a
    Ctrl-C stopped it: ``with app_checks.reporting_steps(lambda: progress.steps_done)``."""

    def __init__(self):
        self._finished = 0
        self._current: Renderer | None = None

    @property
    def steps_done(self) -> int:
        """Steps run so far, over all the recipe's renders."""
        current = self._current.steps_done if self._current is not None else 0
        return self._finished + current

    def run(self, renderer: Renderer, steps: int, verbose: bool = False) -> np.ndarray:
        """Runs ``renderer`` for ``steps`` steps and returns its final first image (H, W, 3)."""
        self._current = renderer
        try:
            images = renderer.run((steps,), verbose=verbose)[-1]
        finally:
            self._finished += renderer.steps_done
            self._current = None
        return images[0]


def chosen_transforms(transforms: str | Sequence[Callable] | None,
                      default: Callable[[], list[Callable]]) -> tuple[list[Callable], str]:
    """A recipe's transform list and how its JSON records it: None gives ``default()``
    ("default"), a name of :data:`~lucid2.optvis.defaults.TRANSFORM_NAMES` that list
    (ValueError for another name), a list itself ("custom")."""
    if transforms is None:
        return default(), "default"
    if isinstance(transforms, str):
        named = RenderSettings(transforms=transforms)
        return named.make_transforms(), named.transforms
    return list(transforms), "custom"


def make_renderer(model, objective: Objective, settings: RenderSettings, *,
                  height: int, width: int, init: np.ndarray | None,
                  transforms: Sequence[Callable] | None = None) -> Renderer:
    """A renderer of one (height x width) image with ``settings``' parameterization kind,
    decorrelation, learning rate and seed, started from ``init`` (None: from noise).

    ``transforms`` replaces the settings' named transforms when given.
    """
    fft = settings.param == "fft"

    def param_f():
        return param.image(width, height, fft=fft, decorrelate=settings.decorrelate,
                           init=init)

    chosen = settings.make_transforms() if transforms is None else list(transforms)
    return Renderer(model, objective, param_f=param_f, optimizer=settings.make_optimizer,
                    transforms=chosen, seed=settings.seed)


def render_image(model, objective: Objective, settings: RenderSettings, *, height: int,
                 width: int, init: np.ndarray | None,
                 transforms: Sequence[Callable] | None = None, verbose: bool = False,
                 progress: Progress | None = None) -> np.ndarray:
    """Renders ``settings.steps`` steps (see :func:`make_renderer`); the final (H, W, 3)."""
    renderer = make_renderer(model, objective, settings, height=height, width=width,
                             init=init, transforms=transforms)
    return (progress or Progress()).run(renderer, settings.steps, verbose=verbose)


@dataclasses.dataclass(frozen=True)
class PhotoRender:
    """A render against one photo, checked and ready (:func:`prepare_photo_render`)."""

    photo: np.ndarray  # (H, W, 3) at the render's size: start, reference and yardstick
    settings: RenderSettings
    transforms: list[Callable]
    transforms_label: str  # how the result's JSON records the transforms
    reference: objectives.ReferenceImage

    @property
    def height(self) -> int:
        """The rendered image's height in pixels."""
        return int(self.photo.shape[0])

    @property
    def width(self) -> int:
        """The rendered image's width in pixels."""
        return int(self.photo.shape[1])


def prepare_photo_render(model, image, layers: Sequence[str], *, size: int | None,
                         steps: int, learning_rate: float, param: str, decorrelate: bool,
                         transforms: str | Sequence[Callable] | None, seed: int | None,
                         default_transforms: Callable[[], list[Callable]] = inversion_transforms,
                         ) -> PhotoRender:
    """Everything a render that compares with one photo at ``layers`` needs, checked before
    anything is compiled, in this order: the photo loaded and resized (:func:`photo_at_size`),
    the :class:`RenderSettings` (``size`` the photo's longer side), the layers
    (:func:`check_layers`), the transforms (:func:`chosen_transforms`, ``default_transforms``
    when None), the photo's size for the layers (:func:`check_fits`); then the photo as the
    objectives' reference (named "photo").

    Raises:
      ValueError, TypeError, OSError: the first problem found, as the functions named raise it.
    """
    photo = photo_at_size(image, size)
    height, width = photo.shape[:2]
    settings = RenderSettings(size=max(height, width), param=param, decorrelate=decorrelate,
                              learning_rate=learning_rate, steps=steps, seed=seed)
    check_layers(model, layers)
    chosen, transforms_label = chosen_transforms(transforms, default_transforms)
    check_fits(model, layers, height, width, chosen)
    reference = objectives.reference_image(photo, name="photo")
    return PhotoRender(photo, settings, chosen, transforms_label, reference)


# --------------------------------------------------------------- measurements
def layer_names(layers: str | Sequence[str], name: str = "layers") -> tuple[str, ...]:
    """One layer name or several as a tuple without repeats; ValueError when empty."""
    names = (layers,) if isinstance(layers, str) else tuple(layers)
    if not names:
        raise ValueError(f"{name} must name at least one layer, e.g. 'mixed4a'.")
    for layer in names:
        checks.layer_name(name, layer)
    return tuple(dict.fromkeys(names))


def check_layers(model, layers: Sequence[str]) -> None:
    """ValueError (with close matches) for a name that is not a layer of ``model``."""
    model = model_api.require_renderable(model)
    for layer in layers:
        model.check_layer(layer)


def check_fits(model, layers: Sequence[str], height: int, width: int,
               transforms: Sequence[Callable], what: str = "The photo",
               remedy: str = "raise size") -> None:
    """ValueError, before anything is compiled, when an image of height x width pixels is
    too small for ``layers`` (before or after ``transforms``), saying the size that works
    and ``remedy``.

    Models with a fixed input size are left to the renderer's own check.
    """
    if model_api.fixed_input_size(model, layers) is not None:
        return
    chain = transform.compose(list(transforms))
    problem = sizes.size_problem(model, layers, 1, (height, width), chain)
    if problem is None:
        return
    side = sizes.smallest_size(model, layers, 1, chain)
    advice = (f"its shorter side needs at least {side} pixels: {remedy}" if side is not None
              else "no size works")
    raise ValueError(f"{what} at {height}x{width} pixels is too small for "
                     f"{', '.join(map(repr, layers))}: {problem}; {advice}.")


def cosine(model, image: np.ndarray, photo: np.ndarray, layer: str) -> float:
    """Cosine similarity of ``layer``'s activations for ``image`` and ``photo`` (both
    (H, W, 3), untransformed, same size)."""
    return float(metrics.activation_cosine(model, image[None], photo[None], layer)[0])


def norm_ratio(model, image: np.ndarray, photo: np.ndarray, layer: str) -> float:
    """Norm of ``layer``'s activations for ``image`` over the photo's (as :func:`cosine`)."""
    return float(metrics.activation_norm_ratio(model, image[None], photo[None], layer)[0])


def mean_square(model, image: np.ndarray, layer: str) -> float:
    """``layer``'s mean squared activation for ``image`` (H, W, 3): the DeepDream objective."""
    return objectives.deepdream(layer).evaluate(model, image[None])
