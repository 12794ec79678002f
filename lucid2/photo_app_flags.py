"""What the photo apps (``lucid2.invert``, ``lucid2.caricature``, ``lucid2.style_transfer``,
``lucid2.deepdream``) share: their common flags and the settings they make
(:class:`PhotoSettings`), the checks of the photo and output flags before the model loads,
the run that loads the model, checks layers, renders, saves the PNG and its JSON, and the
``main`` that does it all and prints both paths (:func:`run_photo_app`).

An app-layer module: TensorFlow loads only once the flags have been checked, so ``--help``
stays instant.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from absl import app, flags

from lucid2 import app_checks, app_flags, app_output
# Constants only: defining the flags loads no TensorFlow, so --help stays instant.
from lucid2.recipes.photo.defaults import DEFAULT_LEARNING_RATE

if TYPE_CHECKING:
    from lucid2.recipes.photo.common import Progress
    from lucid2.recipes.photo.result import PhotoResult

OUTPUT_SUFFIX = ".png"
JSON_SUFFIX = ".json"
SettingsT = TypeVar("SettingsT", bound="PhotoSettings")


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


@dataclasses.dataclass(frozen=True)
class PhotoSettings:
    """The validated flags every photo app has (:func:`define_common_flags`); each app's
    ``Settings`` adds its own (keyword arguments only). ``size`` None: the photo's own size."""

    output: pathlib.Path
    steps: int
    size: int | None
    learning_rate: float
    seed: int | None
    model: app_flags.ModelSpec
    verbose: bool


def photo_settings(settings_class: type[SettingsT], flag_values: flags.FlagValues,
                   output_example: str, **specific: Any) -> SettingsT:
    """``settings_class`` made of the app's own checked values (``specific``) and of the
    common flags, checked here in this order: ``--output`` (:func:`output_flag`, with
    ``output_example``), ``--learning_rate`` and ``LUCID2_MAX_STEPS`` (:func:`check_common`),
    then the model flags; app.UsageError for the first problem."""
    output = output_flag(flag_values, output_example)
    check_common(flag_values)
    return settings_class(output=output, steps=flag_values.steps, size=flag_values.size,
                          learning_rate=flag_values.learning_rate, seed=flag_values.seed,
                          model=app_flags.model_spec_from_flags(flag_values),
                          verbose=flag_values.verbose, **specific)


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


def run_photo_app(argv: Sequence[str], flag_values: flags.FlagValues, example: str,
                  settings_from_flags: Callable[[flags.FlagValues], SettingsT],
                  run: Callable[[SettingsT], dict[str, pathlib.Path]]) -> None:
    """The body of every photo app's ``main``: refuses positional arguments (``example``
    shows flags instead), starts the output (quiet TensorFlow start-up), checks the flags
    with ``settings_from_flags`` before anything heavy loads, runs ``run`` on the settings
    while showing its progress, and prints the paths it saved.

    The app's ``main`` wraps it in :func:`lucid2.app_checks.app_main`, which turns Ctrl-C
    and a full disk into one line and an exit status.
    """
    check_unexpected(argv, example)
    app_output.start(flag_values)
    settings = settings_from_flags(flag_values)
    with app_output.showing_progress(flag_values):
        paths = run(settings)
    print_saved(paths)
