r"""Style transfer (Gatys et al.): the content of one photo in the style of another. Writes
the PNG and a JSON of what it measured beside it.

  python -m lucid2.style_transfer --content=photo.jpg --style=painting.jpg --output=st.png
  python -m lucid2.style_transfer --content=photo.jpg --style=painting.jpg \
      --style_layers=conv2d2,mixed3a,mixed3b,mixed4a --style_weight=5 --seed=0 \
      --weights=/path/to/inception5h --output=st.png --verbose

The JSON's metrics hold ``style_loss_content`` (the style loss of the content photo
itself), ``style_loss_final`` and ``content_cosine`` (the result's activations against the
content photo's, by content layer). Flags are checked before the model loads, the layers
once it has loaded and before rendering; ``LUCID2_MAX_STEPS`` caps ``--steps``. See
:func:`lucid2.recipes.photo.style_transfer`.
"""

from __future__ import annotations

import dataclasses
import pathlib

from absl import app, flags

from lucid2 import app_checks, photo_app_flags
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.recipes.photo.defaults import (DEFAULT_CONTENT_WEIGHT, DEFAULT_SIZE,
                                           DEFAULT_STYLE_STEPS, DEFAULT_STYLE_WEIGHT,
                                           STYLE_STARTS)

APP = "lucid2.style_transfer"
EXAMPLE = "--content=photo.jpg --style=painting.jpg --output=st.png"


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    flags.DEFINE_string("content", None, "The photo whose content is kept.",
                        flag_values=flag_values)
    flags.DEFINE_string("style", None, "The image whose style is borrowed (a painting...).",
                        flag_values=flag_values)
    flags.DEFINE_list("style_layers", None, "Layers whose Gram matrices make the style, "
                      "comma-separated (default: lucid2.optvis.objectives."
                      "DEFAULT_STYLE_LAYERS, Gatys et al.'s depths in InceptionV1).",
                      flag_values=flag_values)
    flags.DEFINE_list("content_layers", None, "Layers whose activations keep the content "
                      "(default: lucid2.optvis.objectives.DEFAULT_CONTENT_LAYERS).",
                      flag_values=flag_values)
    flags.DEFINE_float("style_weight", DEFAULT_STYLE_WEIGHT, "Weight of the style loss.",
                       lower_bound=0, flag_values=flag_values)
    flags.DEFINE_float("content_weight", DEFAULT_CONTENT_WEIGHT, "Weight of the content "
                       "loss.", lower_bound=0, flag_values=flag_values)
    flags.DEFINE_enum("start", STYLE_STARTS[0], list(STYLE_STARTS), "Start at the content "
                      "photo or from random noise.", flag_values=flag_values)
    photo_app_flags.define_common_flags(
        flag_values, steps=DEFAULT_STYLE_STEPS, steps_help="Optimization steps.",
        size=DEFAULT_SIZE, size_help="The result's longer side in pixels (the content "
        "photo's aspect ratio is kept; the style image is scaled and cropped to it).")


@dataclasses.dataclass(frozen=True)
class Settings(photo_app_flags.PhotoSettings):
    """The validated flags (``None`` layers: the recipe's defaults)."""

    content: pathlib.Path
    style: pathlib.Path
    style_layers: tuple[str, ...] | None
    content_layers: tuple[str, ...] | None
    style_weight: float
    content_weight: float
    start: str


def settings_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> Settings:
    """Checks the parsed flags (both images, the output, ...) without loading the model.

    Raises app.UsageError with a message saying what is wrong and what is allowed.
    """
    content = photo_app_flags.photo_flag(flag_values, "content")
    style = photo_app_flags.photo_flag(flag_values, "style", "painting.jpg")
    layers = {name: (photo_app_flags.layers_flag(flag_values, name)
                     if flag_values[name].value is not None else None)
              for name in ("style_layers", "content_layers")}
    if flag_values.style_weight == 0 and flag_values.content_weight == 0:
        raise app.UsageError("--style_weight and --content_weight are both 0: nothing to "
                             "optimize.")
    return photo_app_flags.photo_settings(
        Settings, flag_values, "st.png", content=content, style=style,
        style_layers=layers["style_layers"], content_layers=layers["content_layers"],
        style_weight=flag_values.style_weight, content_weight=flag_values.content_weight,
        start=flag_values.start)


def run(settings: Settings) -> dict[str, pathlib.Path]:
    """Loads the model, transfers the style and saves the PNG and JSON; returns their
    paths."""
    from lucid2.optvis.objectives import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS
    from lucid2.recipes.photo.style import style_transfer

    style_layers = settings.style_layers or DEFAULT_STYLE_LAYERS
    content_layers = settings.content_layers or DEFAULT_CONTENT_LAYERS

    def make(model, progress):
        return style_transfer(model, settings.content, settings.style,
                              style_layers=style_layers, content_layers=content_layers,
                              style_weight=settings.style_weight,
                              content_weight=settings.content_weight, start=settings.start,
                              size=settings.size, steps=settings.steps,
                              learning_rate=settings.learning_rate, seed=settings.seed,
                              verbose=settings.verbose, progress=progress)

    layers = ([("style_layers", name) for name in style_layers]
              + [("content_layers", name) for name in content_layers])
    return photo_app_flags.run_recipe(APP, settings.model, settings.output, layers, make)


@app_checks.app_main(APP)
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Checks the flags, transfers the style, saves; Ctrl-C and a full disk end it with one
    line."""
    photo_app_flags.run_photo_app(argv, flag_values, EXAMPLE, settings_from_flags, run)


if __name__ == "__main__":
    define_flags()
    app.run(main)
