r"""Multi-octave DeepDream on a photo, at the photo's own size. Writes the PNG and a JSON of
what it measured beside it.

  python -m lucid2.deepdream --image=photo.jpg --layer=mixed4c --octaves=4 --output=dd.png
  python -m lucid2.deepdream --image=photo.jpg --layer=mixed4a --octaves=3 \
      --octave_scale=1.5 --steps=32 --seed=0 --weights=/path/to/inception5h \
      --output=dd.png --verbose

Octaves go from small to the photo's size, each ``--octave_scale`` times larger than the
one before, with ``--steps`` steps each. The JSON's metrics hold ``mean_square_photo`` and
``mean_square_final``: the layer's mean squared activation on the photo and on the
result. Flags are checked before the model loads; ``LUCID2_MAX_STEPS`` caps ``--steps``.
See :func:`lucid2.recipes.photo.deepdream`.
"""

from __future__ import annotations

import dataclasses
import pathlib

from absl import app, flags

from lucid2 import app_checks, photo_app_flags
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.recipes.photo.defaults import (DEFAULT_DEEPDREAM_LAYER, DEFAULT_OCTAVE_SCALE,
                                           DEFAULT_OCTAVES, DEFAULT_STEPS_PER_OCTAVE)

APP = "lucid2.deepdream"
EXAMPLE = "--image=photo.jpg --layer=mixed4c --octaves=4 --output=dd.png"


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    flags.DEFINE_string("image", None, "The photo (any image Pillow reads).",
                        flag_values=flag_values)
    flags.DEFINE_string("layer", DEFAULT_DEEPDREAM_LAYER, "The layer whose mean squared "
                        "activation grows.", flag_values=flag_values)
    flags.DEFINE_integer("octaves", DEFAULT_OCTAVES, "Number of octaves (1: the photo's size "
                         "only).", lower_bound=1, flag_values=flag_values)
    flags.DEFINE_float("octave_scale", DEFAULT_OCTAVE_SCALE, "Size ratio of consecutive "
                       "octaves (above 1).", flag_values=flag_values)
    photo_app_flags.define_common_flags(
        flag_values, steps=DEFAULT_STEPS_PER_OCTAVE, steps_help="Optimization steps per "
        "octave.", size=None, size_help="The result's longer side in pixels (default: the "
        "photo's own size).")


@dataclasses.dataclass(frozen=True)
class Settings(photo_app_flags.PhotoSettings):
    """The validated flags (``size`` None: the photo's own size)."""

    image: pathlib.Path
    layer: str
    octaves: int
    octave_scale: float


def settings_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> Settings:
    """Checks the parsed flags (the photo, the output, ...) without loading the model.

    Raises app.UsageError with a message saying what is wrong and what is allowed.
    """
    image = photo_app_flags.photo_flag(flag_values, "image")
    layer = photo_app_flags.layers_flag(flag_values, "layer")[0]
    if not flag_values.octave_scale > 1:
        raise app.UsageError(f"--octave_scale must be above 1 (each octave larger than the one "
                             f"before), got {flag_values.octave_scale}.")
    return photo_app_flags.photo_settings(Settings, flag_values, "dd.png", image=image,
                                          layer=layer, octaves=flag_values.octaves,
                                          octave_scale=flag_values.octave_scale)


def run(settings: Settings) -> dict[str, pathlib.Path]:
    """Loads the model, dreams and saves the PNG and JSON; returns their paths."""
    from lucid2.recipes.photo.deep_dream import deepdream

    def make(model, progress):
        return deepdream(model, settings.image, settings.layer, octaves=settings.octaves,
                         octave_scale=settings.octave_scale, steps_per_octave=settings.steps,
                         size=settings.size, learning_rate=settings.learning_rate,
                         seed=settings.seed, verbose=settings.verbose, progress=progress)

    return photo_app_flags.run_recipe(APP, settings.model, settings.output,
                                      [("layer", settings.layer)], make)


@app_checks.app_main(APP)
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Checks the flags, dreams, saves; Ctrl-C and a full disk end it with one line."""
    photo_app_flags.run_photo_app(argv, flag_values, EXAMPLE, settings_from_flags, run)


if __name__ == "__main__":
    define_flags()
    app.run(main)
