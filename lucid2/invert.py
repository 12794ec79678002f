r"""Feature inversion of a photo: an image, rendered from noise, whose activations at a
layer match the photo's. Writes the PNG and a JSON of what it measured beside it.

  python -m lucid2.invert --image=photo.jpg --layer=mixed4a --output=inv.png
  python -m lucid2.invert --image=photo.jpg --layer=mixed3b --size=160 --steps=256 \
      --seed=0 --weights=/path/to/inception5h --output=inv.png --verbose

The JSON's metrics hold ``cosine``: the cosine similarity of the layer's activations for
the result and for the photo (untransformed, same size). Flags are checked before the
model loads; ``LUCID2_MAX_STEPS`` caps ``--steps``. See
:func:`lucid2.recipes.photo.invert`.
"""

from __future__ import annotations

import dataclasses
import pathlib

from absl import app, flags

from lucid2 import app_checks, photo_app_flags
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.recipes.photo.defaults import (DEFAULT_INVERSION_COSSIM_POW, DEFAULT_INVERSION_LAYER,
                                           DEFAULT_SIZE, DEFAULT_STEPS)

APP = "lucid2.invert"
EXAMPLE = "--image=photo.jpg --layer=mixed4a --output=inv.png"


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    flags.DEFINE_string("image", None, "The photo to invert (any image Pillow reads).",
                        flag_values=flag_values)
    flags.DEFINE_string("layer", DEFAULT_INVERSION_LAYER, "The layer whose activations the "
                        "result matches.", flag_values=flag_values)
    flags.DEFINE_float("cossim_pow", DEFAULT_INVERSION_COSSIM_POW, "Power of the cosine "
                       "weighting the activations' dot product (0: the plain dot product).",
                       lower_bound=0, flag_values=flag_values)
    photo_app_flags.define_common_flags(
        flag_values, steps=DEFAULT_STEPS, steps_help="Optimization steps.", size=DEFAULT_SIZE,
        size_help="The result's longer side in pixels (the photo's aspect ratio is kept).")


@dataclasses.dataclass(frozen=True)
class Settings(photo_app_flags.PhotoSettings):
    """The validated flags."""

    image: pathlib.Path
    layer: str
    cossim_pow: float


def settings_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> Settings:
    """Checks the parsed flags (the photo, the output, ...) without loading the model.

    Raises app.UsageError with a message saying what is wrong and what is allowed.
    """
    image = photo_app_flags.photo_flag(flag_values, "image")
    layer = photo_app_flags.layers_flag(flag_values, "layer")[0]
    return photo_app_flags.photo_settings(Settings, flag_values, "inv.png", image=image,
                                          layer=layer, cossim_pow=flag_values.cossim_pow)


def run(settings: Settings) -> dict[str, pathlib.Path]:
    """Loads the model, inverts the photo and saves the PNG and JSON; returns their paths."""
    from lucid2.recipes.photo.inversion import invert

    def make(model, progress):
        return invert(model, settings.image, settings.layer, size=settings.size,
                      steps=settings.steps, cossim_pow=settings.cossim_pow,
                      learning_rate=settings.learning_rate, seed=settings.seed,
                      verbose=settings.verbose, progress=progress)

    return photo_app_flags.run_recipe(APP, settings.model, settings.output,
                                      [("layer", settings.layer)], make)


@app_checks.app_main(APP)
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Checks the flags, inverts, saves; Ctrl-C and a full disk end it with one line."""
    photo_app_flags.run_photo_app(argv, flag_values, EXAMPLE, settings_from_flags, run)


if __name__ == "__main__":
    define_flags()
    app.run(main)
