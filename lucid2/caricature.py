r"""Caricature of a photo: start at the photo and exaggerate what the layers see in it.
Writes the PNG and a JSON of what it measured beside it.

  python -m lucid2.caricature --image=photo.jpg --layers=mixed4a,mixed4d --output=car.png
  python -m lucid2.caricature --image=photo.jpg --layers=mixed4d --steps=128 --seed=0 \
      --weights=/path/to/inception5h --output=car.png --verbose

The JSON's metrics hold, by layer, ``norm_ratio`` (the result's activation norm over the
photo's: above 1 where the caricature exaggerates) and ``cosine`` (of their activations;
untransformed, same size). Flags are checked before the model loads; ``LUCID2_MAX_STEPS``
caps ``--steps``. See :func:`lucid2.recipes.photo.caricature`.
"""

from __future__ import annotations

import dataclasses
import pathlib

from absl import app, flags

from lucid2 import app_checks, photo_app_flags
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.recipes.photo.defaults import (DEFAULT_CARICATURE_COSSIM_POW,
                                           DEFAULT_CARICATURE_LAYERS, DEFAULT_CARICATURE_STEPS,
                                           DEFAULT_SIZE)

APP = "lucid2.caricature"
EXAMPLE = "--image=photo.jpg --layers=mixed4a,mixed4d --output=car.png"


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    flags.DEFINE_string("image", None, "The photo (any image Pillow reads).",
                        flag_values=flag_values)
    flags.DEFINE_list("layers", list(DEFAULT_CARICATURE_LAYERS), "The layers whose view of "
                      "the photo is exaggerated, comma-separated.", flag_values=flag_values)
    flags.DEFINE_float("cossim_pow", DEFAULT_CARICATURE_COSSIM_POW, "Power of the cosine "
                       "weighting the activations' dot product: higher keeps their direction "
                       "closer to the photo's.", lower_bound=0, flag_values=flag_values)
    photo_app_flags.define_common_flags(
        flag_values, steps=DEFAULT_CARICATURE_STEPS, steps_help="Optimization steps.",
        size=DEFAULT_SIZE,
        size_help="The result's longer side in pixels (the photo's aspect ratio is kept).")


@dataclasses.dataclass(frozen=True)
class Settings(photo_app_flags.PhotoSettings):
    """The validated flags."""

    image: pathlib.Path
    layers: tuple[str, ...]
    cossim_pow: float


def settings_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> Settings:
    """Checks the parsed flags (the photo, the output, ...) without loading the model.

    Raises app.UsageError with a message saying what is wrong and what is allowed.
    """
    image = photo_app_flags.photo_flag(flag_values, "image")
    layers = photo_app_flags.layers_flag(flag_values, "layers")
    return photo_app_flags.photo_settings(Settings, flag_values, "car.png", image=image,
                                          layers=layers, cossim_pow=flag_values.cossim_pow)


def run(settings: Settings) -> dict[str, pathlib.Path]:
    """Loads the model, makes the caricature and saves the PNG and JSON; returns their
    paths."""
    from lucid2.recipes.photo.caricatures import caricature

    def make(model, progress):
        return caricature(model, settings.image, settings.layers, size=settings.size,
                          steps=settings.steps, cossim_pow=settings.cossim_pow,
                          learning_rate=settings.learning_rate, seed=settings.seed,
                          verbose=settings.verbose, progress=progress)

    layers = [("layers", name) for name in settings.layers]
    return photo_app_flags.run_recipe(APP, settings.model, settings.output, layers, make)


@app_checks.app_main(APP)
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Checks the flags, makes the caricature, saves; Ctrl-C and a full disk end it with one
    line."""
    photo_app_flags.run_photo_app(argv, flag_values, EXAMPLE, settings_from_flags, run)


if __name__ == "__main__":
    define_flags()
    app.run(main)
