r"""Renders a feature visualization to a PNG file.

  python -m lucid2.render --objective=mixed4a:97 --output=mixed4a_97.png
  python -m lucid2.render --objective="0.5*mixed4a:476-mixed3b:5" --batch=4 --seed=0 \
      --output=grid.png --weights=/path/to/inception5h --verbose
  python -m lucid2.render --model=/path/to/model.keras --value_range=-1,1 \
      --objective=block3_conv1:7 --output=out.png
  python -m lucid2.render --objective=mixed4a:97 --init=photo.jpg --init_pull=1000 \
      --output=accentuated.png
  python -m lucid2.render --objective=mixed4a:97 --preset=fast --output=fast.png

``--preset`` picks the render settings to start from (:data:`lucid2.optvis.settings.PRESETS`:
``lucid``, Lucid's recipe in 512 steps, the default; ``fast``, about the same activation
in 128 steps); ``--steps``, ``--learning_rate`` and the other render flags that are given
override the preset's values.

Objectives follow :data:`lucid2.optvis.objectives.GRAMMAR` ("layer:channel",
"layer" for DeepDream of a layer, weighted sums). Flags are checked before the
model loads. ``LUCID2_MAX_STEPS`` caps ``--steps`` (for tests and CI).

Progress goes to standard output: a progress bar with the time left on a terminal, a
line every few seconds otherwise; ``--quiet`` prints only the saved path.
TensorFlow's start-up log lines are hidden unless ``--tf_logs`` is given or
``TF_CPP_MIN_LOG_LEVEL`` is set.

Feature accentuation (Hamblin et al., 2024): ``--init=PHOTO`` starts the render at the
photo (resized to ``--size`` x ``--size``), and ``--init_pull=WEIGHT`` subtracts WEIGHT
times a pull back toward it: the distance of the activations at ``--init_pull_layer`` from
the photo's (relative to them), or the root-mean-square pixel difference for
``--init_pull_layer=input``. The weight is in the objective's units (see
:mod:`lucid2.recipes.photo.accentuation`); 0 is a plain start at the photo.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import TYPE_CHECKING

from absl import app, flags

from lucid2 import app_checks, app_flags, app_output
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.optvis.defaults import (DEFAULT_BATCH, DEFAULT_DECORRELATE, DEFAULT_LEARNING_RATE,
                                    DEFAULT_PARAM, DEFAULT_PRESET, DEFAULT_SIZE, DEFAULT_STEPS,
                                    DEFAULT_TRANSFORMS, PARAM_KINDS, PRESET_NAMES,
                                    TRANSFORM_NAMES)
from lucid2.recipes.photo.defaults import DEFAULT_PULL_LAYER, PULL_PIXELS

if TYPE_CHECKING:
    from lucid2.optvis.settings import RenderSettings

PARAMETERIZATIONS = PARAM_KINDS
TRANSFORM_CHOICES = TRANSFORM_NAMES
OUTPUT_SUFFIXES = (".png",)
# Flags named like the RenderSettings fields they set; each given one overrides --preset's.
RENDER_SETTING_FLAGS = ("size", "batch", "param", "decorrelate", "transforms", "learning_rate",
                        "steps", "seed")


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    flags.DEFINE_string("objective", None, "What to maximize, e.g. mixed4a:97, mixed4a "
                        "(DeepDream), mixed4a:476+mixed4a:460, 0.5*mixed4a:476-mixed3b:5.",
                        flag_values=flag_values)
    flags.DEFINE_string("output", None, "PNG file to write; a batch is saved as a grid.",
                        flag_values=flag_values)
    flags.DEFINE_enum("preset", DEFAULT_PRESET, list(PRESET_NAMES),
                      "Render settings to start from: 'lucid' (Lucid's recipe, 512 steps) or "
                      "'fast' (about the same activation in 128 steps); the flags below that "
                      "are given override the preset's values.", flag_values=flag_values)
    flags.DEFINE_integer("steps", DEFAULT_STEPS, "Optimization steps (unless given: the "
                         "preset's).", lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("size", DEFAULT_SIZE, "Image width and height in pixels.",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("batch", DEFAULT_BATCH, "Number of images rendered together.",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("seed", None, "Random seed for a reproducible render.", lower_bound=0,
                         flag_values=flag_values)
    flags.DEFINE_enum("param", DEFAULT_PARAM, list(PARAMETERIZATIONS),
                      "Image parameterization: Fourier (Lucid's default) or plain pixels.",
                      flag_values=flag_values)
    flags.DEFINE_bool("decorrelate", DEFAULT_DECORRELATE,
                      "Optimize in ImageNet's decorrelated color space.", flag_values=flag_values)
    flags.DEFINE_enum("transforms", DEFAULT_TRANSFORMS, list(TRANSFORM_CHOICES),
                      "Robustness transforms: Lucid's standard ones, the article's, or none.",
                      flag_values=flag_values)
    flags.DEFINE_float("learning_rate", DEFAULT_LEARNING_RATE, "Adam learning rate (unless "
                       "given: the preset's).", flag_values=flag_values)
    flags.DEFINE_bool("verbose", False, "Show a Keras progress bar even when the output is not "
                      "a terminal, and check for NaNs every step.", flag_values=flag_values)
    flags.DEFINE_string("init", None, "Start from this photo instead of noise (feature "
                        "accentuation); it is resized to --size x --size.", flag_values=flag_values)
    flags.DEFINE_float("init_pull", 0.0, "Weight of the pull back toward --init, in the "
                       "objective's units (0: a plain start at the photo).", lower_bound=0,
                       flag_values=flag_values)
    flags.DEFINE_string("init_pull_layer", DEFAULT_PULL_LAYER, "The layer whose activations "
                        f"the pull keeps close to the photo's, or '{PULL_PIXELS}' for the "
                        "pixels.", flag_values=flag_values)
    app_flags.define_model_flags(flag_values)
    app_output.define_output_flags(flag_values)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated flags: what to render, how, from which model, and where to save it."""

    objective: str
    output: pathlib.Path
    rendering: RenderSettings  # size, batch, param, ..., steps, seed: the flags of the same names
    model: app_flags.ModelSpec
    verbose: bool
    init: pathlib.Path | None = None  # the photo to start from (None: noise)
    init_pull: float = 0.0  # weight of the pull back toward it
    init_pull_layer: str = DEFAULT_PULL_LAYER


def settings_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> Settings:
    """Checks the parsed flags (objective syntax, output path, ...) without loading anything.

    Raises app.UsageError with a message saying what is wrong and what is allowed.
    """
    # Imported here, not at the top, so that --help loads no TensorFlow.
    from lucid2.optvis.objectives import parse_objective
    from lucid2.optvis.render import max_steps_from_env
    from lucid2.optvis.settings import preset

    if not flag_values.objective:
        raise app.UsageError("--objective is required, e.g. --objective=mixed4a:97.")
    try:
        parse_objective(flag_values.objective)
    except ValueError as error:
        raise app.UsageError(f"--objective: {error}") from None
    if not flag_values.output:
        raise app.UsageError("--output is required: the PNG file to write, e.g. --output=vis.png.")
    output = pathlib.Path(flag_values.output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise app.UsageError(f"--output must be a .png file, got {flag_values.output!r}.")
    # Now, not after a render of minutes: a folder that is missing or cannot be written.
    app_checks.check_output_file(output, "--output")
    try:
        max_steps_from_env()
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    try:
        rendering = preset(flag_values.preset, **given_settings(flag_values))
    except (TypeError, ValueError) as error:
        # The settings' fields are named like the flags, and each message starts with the name.
        raise app.UsageError(f"--{error}") from None
    model = app_flags.model_spec_from_flags(flag_values)
    init = None
    if flag_values.init is not None:
        from lucid2 import photo_app_flags

        init = photo_app_flags.photo_flag(flag_values, "init")
    elif flag_values.init_pull > 0:
        raise app.UsageError("--init_pull pulls toward the --init photo: give --init=PHOTO "
                             "too.")
    pull_layer = flag_values.init_pull_layer.strip()
    if not pull_layer:
        raise app.UsageError(f"--init_pull_layer must name a layer, or '{PULL_PIXELS}' for "
                             "the pixels.")
    return Settings(objective=flag_values.objective, output=output, rendering=rendering,
                    model=model, verbose=flag_values.verbose, init=init,
                    init_pull=flag_values.init_pull, init_pull_layer=pull_layer)


def given_settings(flag_values: flags.FlagValues) -> dict:
    """The render settings set on the command line (or in code): the values of the
    :data:`RENDER_SETTING_FLAGS` that are not left at their defaults."""
    return {name: flag_values[name].value for name in RENDER_SETTING_FLAGS
            if not flag_values[name].using_default_value}


def build_model(spec: app_flags.ModelSpec):
    """The model named by the model flags."""
    from lucid2.modelzoo import load_from_spec

    return load_from_spec(spec)


def _make_renderer(settings: Settings, model):
    """The renderer of the objective, started at the --init photo and pulled toward it
    when one is given."""
    if settings.init is None:
        return settings.rendering.renderer(model, settings.objective)
    from lucid2.optvis import objectives, param
    from lucid2.recipes.photo.accentuation import accentuation_objective

    size = settings.rendering.size
    # One array for the start and the pull's reference, so that step 0 has no pull.
    photo = param.load_init(settings.init, size, size)
    reference = objectives.reference_image(photo, name=settings.init.name)
    objective = accentuation_objective(settings.objective, reference, settings.init_pull,
                                       settings.init_pull_layer)
    return settings.rendering.renderer(model, objective,
                                       param_f=settings.rendering.param_from(photo))


class RenderError(SystemExit):
    """A problem with the model or the objective found before rendering; exits with status 1."""

    def __init__(self, message: str):
        super().__init__(f"lucid2.render: error: {message}")


def render(settings: Settings) -> pathlib.Path:
    """Builds the model, renders and saves the PNG; returns its path.

    Model loading and objective validation errors (unknown layer, channel out
    of range, ...) raise :class:`RenderError` with a one-line message. Ctrl-C
    while rendering raises :class:`lucid2.app_checks.Interrupted` with the step
    reached; a full disk, :class:`lucid2.app_checks.OutputFull`.
    """
    from lucid2.misc.io import save_image

    try:
        model = build_model(settings.model)
    except (OSError, ValueError, TypeError) as error:
        raise RenderError(f"cannot load model {settings.model.model!r}: {error}") from error

    try:
        renderer = _make_renderer(settings, model)
    except (ValueError, TypeError) as error:
        raise RenderError(str(error)) from error
    with app_checks.reporting_steps(lambda: renderer.steps_done):
        images = renderer.run((settings.rendering.steps,), verbose=settings.verbose)
    # About the PNG's size: one byte per pixel and channel (the grid's padding aside).
    with app_checks.saving_to(settings.output, needed_bytes=images[-1].size):
        return save_image(images[-1], settings.output)


@app_checks.app_main("lucid2.render")
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Checks the flags, renders, saves; Ctrl-C and a full disk end it with one line."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; all options are "
                             "flags, e.g. --objective=mixed4a:97 --output=vis.png.")
    app_output.start(flag_values)
    settings = settings_from_flags(flag_values)
    # Progress goes to stdout (a bar on a terminal); --quiet leaves only the saved path.
    with app_output.showing_progress(flag_values):
        path = render(settings)
    print(f"Saved {os.fspath(path)}", flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
