"""What the photo apps (``lucid2.invert``, ``lucid2.caricature``, ``lucid2.style_transfer``,
``lucid2.deepdream``) share: their common flags, the checks of the photo and output flags
before the model loads, and the run that loads the model, checks layers, renders, saves
the PNG and its JSON and prints both paths.

An app-layer module: TensorFlow loads only once the flags have been checked, so ``--help``
stays instant.
"""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING, Callable, Sequence

from absl import app, flags

from lucid2 import app_checks, app_flags, app_output
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.recipes.photo.defaults import DEFAULT_LEARNING_RATE

if TYPE_CHECKING:
    from lucid2.recipes.photo.common import Progress
    from lucid2.recipes.photo.result import PhotoResult

OUTPUT_SUFFIX = ".png"
JSON_SUFFIX = ".json"


def define_common_flags(flag_values: flags.FlagValues, *, steps: int, steps_help: str,
                        size: int | None, size_help: str) -> None:
    """``--output``, ``--steps``, ``--size``, ``--seed``, ``--learning_rate``,
    ``--verbose``, the model flags and the output flags (``--quiet``, ``--tf_logs``)."""
    flags.DEFINE_string("output", None, "PNG file to write; the numbers measured go to the "
                        ".json file of the same name beside it.", flag_values=flag_values)
    flags.DEFINE_integer("steps", steps, steps_help, lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("size", size, size_help, lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("seed", None, "Random seed for a reproducible result.", lower_bound=0,
                         flag_values=flag_values)
    flags.DEFINE_float("learning_rate", DEFAULT_LEARNING_RATE, "Adam learning rate.",
                       flag_values=flag_values)
    flags.DEFINE_bool("verbose", False, "Show a Keras progress bar even when the output is not "
                      "a terminal, and check for NaNs every step.", flag_values=flag_values)
    app_flags.define_model_flags(flag_values)
    app_output.define_output_flags(flag_values)


def photo_flag(flag_values: flags.FlagValues, name: str, example: str = "photo.jpg",
               ) -> pathlib.Path:
    """The image file named by ``--name``, checked cheaply (its header) without loading
    anything heavy; app.UsageError when missing, not a file, or not a readable image."""
    from lucid2.misc.io import ImageLoadError, read_image_header

    value = flag_values[name].value
    if not value:
        raise app.UsageError(f"--{name} is required: the image file, e.g. --{name}={example}.")
    path = pathlib.Path(value)
    if not path.exists():
        raise app.UsageError(f"--{name}: {value!r} does not exist.")
    if not path.is_file():
        raise app.UsageError(f"--{name}: {value!r} is not a file.")
    try:
        read_image_header(path)
    except ImageLoadError as error:
        raise app.UsageError(f"--{name}: cannot load {value!r}: {error.reason}") from None
    except OSError as error:
        raise app.UsageError(f"--{name}: cannot read {value!r}: "
                             f"{error.strerror or error}.") from None
    return path


def output_flag(flag_values: flags.FlagValues, example: str = "out.png") -> pathlib.Path:
    """``--output``: required, a .png file that can be written, with its JSON beside it."""
    if not flag_values.output:
        raise app.UsageError(f"--output is required: the PNG file to write, e.g. "
                             f"--output={example}.")
    output = pathlib.Path(flag_values.output)
    if output.suffix.lower() != OUTPUT_SUFFIX:
        raise app.UsageError(f"--output must be a .png file, got {flag_values.output!r}.")
    # Now, not after a render of minutes.
    app_checks.check_output_file(output, "--output")
    app_checks.check_output_file(output.with_suffix(JSON_SUFFIX), "--output (its JSON)")
    return output


def layers_flag(flag_values: flags.FlagValues, name: str) -> tuple[str, ...]:
    """A layer flag (one name or a comma-separated list) as a tuple of names; the names are
    checked against the model once it is loaded (:func:`run_recipe`)."""
    value = flag_values[name].value
    names = [value] if isinstance(value, str) else list(value or [])
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise app.UsageError(f"--{name} must name at least one layer, e.g. --{name}=mixed4a.")
    return tuple(dict.fromkeys(names))


def check_common(flag_values: flags.FlagValues) -> None:
    """``--learning_rate`` must be a positive number, and ``LUCID2_MAX_STEPS``, if set, a
    positive integer."""
    from lucid2.optvis import checks
    from lucid2.optvis.render import max_steps_from_env

    try:
        checks.positive_float("learning_rate", flag_values.learning_rate)
        max_steps_from_env()
    except ValueError as error:
        message = str(error)
        raise app.UsageError(f"--{message}" if message.startswith("learning_rate")
                             else message) from None


def check_unexpected(argv: Sequence[str], example: str) -> None:
    """app.UsageError for positional arguments: every option is a flag."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; all options are "
                             f"flags, e.g. {example}.")


class PhotoAppError(SystemExit):
    """A problem with the model, a layer or the photo found before rendering (or a render
    that failed); exits with status 1 and one line."""

    def __init__(self, app_name: str, message: str):
        super().__init__(f"{app_name}: error: {message}")


def build_model(spec: app_flags.ModelSpec):
    """The model named by the model flags."""
    from lucid2.modelzoo import load_from_spec

    return load_from_spec(spec)


def run_recipe(app_name: str, spec: app_flags.ModelSpec, output: pathlib.Path,
               layers: Sequence[tuple[str, str]],
               make: Callable[[object, Progress], PhotoResult]) -> dict[str, pathlib.Path]:
    """Loads the model, checks ``layers`` ((flag, name) pairs), runs ``make(model,
    progress)`` and saves its result to ``output`` and the JSON beside it.

    Every problem before the render (a model that does not load, an unknown layer, a photo
    too small for the layer, a bad argument) raises :class:`PhotoAppError` with one line;
    Ctrl-C raises :class:`lucid2.app_checks.Interrupted` with the step reached; a full disk,
    :class:`lucid2.app_checks.OutputFull`.
    """
    from lucid2.optvis.render import NonFiniteObjectiveError
    from lucid2.recipes.photo.common import Progress
    from lucid2.recipes.photo.result import save_result

    try:
        model = build_model(spec)
    except (OSError, ValueError, TypeError) as error:
        raise PhotoAppError(app_name, f"cannot load model {spec.model!r}: {error}") from error
    for flag, name in layers:
        try:
            model.check_layer(name)
        except ValueError as error:
            raise PhotoAppError(app_name, f"--{flag}: {error}") from None
    progress = Progress()
    with app_checks.reporting_steps(lambda: progress.steps_done):
        try:
            result = make(model, progress)
        except (ValueError, TypeError, NonFiniteObjectiveError) as error:
            raise PhotoAppError(app_name, " ".join(str(error).split())) from error
    # About the PNG's size: one byte per pixel and channel.
    with app_checks.saving_to(output, needed_bytes=result.image.size):
        return save_result(result, output)


def print_saved(paths: dict[str, pathlib.Path]) -> None:
    """``Saved PNG and JSON`` on one line."""
    print(f"Saved {os.fspath(paths['png'])} and {os.fspath(paths['json'])}", flush=True)
