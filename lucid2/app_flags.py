"""Model flags shared by lucid2's command-line apps: ``--model``, ``--weights``,
``--value_range``, ``--channel_order``, ``--preprocessing``, ``--mean``, ``--std``.

Flags are checked (``model_spec_from_flags``) before anything heavy is loaded,
into a :class:`lucid2.modelzoo.ModelSpec`; ``lucid2.modelzoo.load_from_spec``
then builds the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from absl import app, flags

if TYPE_CHECKING:
    from lucid2.modelzoo.preprocessing import Preprocessing
    from lucid2.modelzoo.spec import ModelSpec

INCEPTIONV1 = "inceptionv1"
NO_WEIGHTS = "none"
KERAS_PREFIX = "keras:"
# lucid2.modelzoo.preprocessing.NAMED_CONVENTIONS, written out because that module imports
# TensorFlow and --help must not (tests/test_app_flags.py keeps the two equal).
PREPROCESSING_NAMES = ("unit", "tf", "caffe", "torch", "raw")
# The flags that state a model's input convention, which InceptionV1 and keras: models know.
CONVENTION_FLAGS = ("value_range", "channel_order", "preprocessing", "mean", "std")
VALUE_RANGE_LENGTH = 2


def define_model_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the model flags on ``flag_values``."""
    flags.DEFINE_string("model", INCEPTIONV1, "'inceptionv1', 'keras:NAME' (a keras.applications "
                        "model, e.g. keras:ResNet50), a .keras/.h5 file, a SavedModel directory "
                        "or a TF-Hub handle.", flag_values=flag_values)
    flags.DEFINE_string("weights", "imagenet", "Weights of inceptionv1 or of a keras:NAME model: "
                        "'imagenet', a local path, or 'none' for random weights.",
                        flag_values=flag_values)
    flags.DEFINE_list("value_range", None, "low,high pixel range the model expects, e.g. -1,1 or "
                      "0,255 (models other than inceptionv1 and keras:NAME need it or "
                      "--preprocessing).", flag_values=flag_values)
    flags.DEFINE_enum("channel_order", "RGB", ["RGB", "BGR"], "Channel order the model expects "
                      "(with --value_range).", flag_values=flag_values)
    flags.DEFINE_string("preprocessing", None, "The model's whole input convention by name, "
                        f"instead of --value_range: one of {', '.join(PREPROCESSING_NAMES)} "
                        "(tf: [-1, 1]; caffe: BGR 0..255 minus the ImageNet mean; torch: [0, 1] "
                        "normalized by the ImageNet mean and std; raw: 0..255).",
                        flag_values=flag_values)
    flags.DEFINE_list("mean", None, "With --value_range: mean subtracted after scaling, 1 or 3 "
                      "values in the model's channel order and value-range units, e.g. "
                      "103.939,116.779,123.68.", flag_values=flag_values)
    flags.DEFINE_list("std", None, "With --value_range: standard deviation dividing after the "
                      "mean, 1 or 3 positive values, e.g. 0.229,0.224,0.225.",
                      flag_values=flag_values)


def _numbers(flag_values: flags.FlagValues, name: str, form: str) -> tuple[float, ...] | None:
    """A list flag as floats (None when not given); an app.UsageError saying ``form`` else."""
    values = flag_values[name].value
    if values is None:
        return None
    try:
        return tuple(float(v) for v in values)
    except ValueError:
        raise app.UsageError(f"--{name} must be {form}, got {','.join(values)!r}.") from None


def _given_convention_flags(flag_values: flags.FlagValues) -> list[str]:
    """The convention flags given (a channel order when given, even as the default RGB)."""
    return [f"--{name}" for name in CONVENTION_FLAGS
            if flag_values[name].present or flag_values[name].value != flag_values[name].default]


def _check_keras_application(name: str) -> None:
    """An app.UsageError, with close matches, unless ``name`` is a keras.applications model."""
    from lucid2.modelzoo.keras_applications import application_name

    try:
        application_name(name)
    except ValueError as error:
        raise app.UsageError(f"--model={KERAS_PREFIX}{name}: {error}") from None


def model_spec_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> ModelSpec:
    """Checks the model flags without loading anything; raises ``app.UsageError``."""
    # The model zoo imports TensorFlow: only once the flags are parsed, so --help stays instant.
    from lucid2.modelzoo.preprocessing import Preprocessing
    from lucid2.modelzoo.spec import ModelSpec

    range_form = "two numbers 'low,high'"
    value_range = _numbers(flag_values, "value_range", range_form)
    if value_range is not None and len(value_range) != VALUE_RANGE_LENGTH:
        raise app.UsageError(f"--value_range must be {range_form}, got "
                             f"{','.join(flag_values.value_range)!r}.")
    stat_form = "1 or 3 numbers separated by commas"
    mean, std = _numbers(flag_values, "mean", stat_form), _numbers(flag_values, "std", stat_form)
    weights = flag_values.weights
    model = ModelSpec(model=flag_values.model,
                      weights=None if weights.strip().lower() == NO_WEIGHTS else weights)
    given = _given_convention_flags(flag_values)
    try:
        application = model.keras_application_name
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    if model.is_inceptionv1:
        if given:
            raise app.UsageError("InceptionV1 knows its input convention (RGB, value range "
                                 f"-117..138); drop {', '.join(given)}.")
        return model
    if application is not None:
        _check_keras_application(application)
        if given:
            raise app.UsageError(f"--model={flag_values.model} knows its preprocessing (the one "
                                 f"Keras trained it with); drop {', '.join(given)}.")
        return model
    if flag_values["weights"].present:
        raise app.UsageError("--weights applies to --model=inceptionv1 only (and to "
                             "--model=keras:NAME); other models carry their own weights.")
    if flag_values.preprocessing is not None:
        return ModelSpec(model=model.model, weights=model.weights,
                         preprocessing=_named_convention(flag_values, given))
    if value_range is None:
        raise app.UsageError(
            f"--value_range is required for --model={model.model!r}: the pixel range it "
            "expects, e.g. 0,1 or -1,1 or 0,255; or give its whole input convention with "
            f"--preprocessing={'|'.join(PREPROCESSING_NAMES)}.")
    low, high = value_range
    try:
        convention = Preprocessing(value_range=(low, high), mean=mean, std=std,
                                   channel_order=flag_values.channel_order)
    except ValueError as error:
        flag = "--mean/--std" if mean is not None or std is not None else "--value_range"
        raise app.UsageError(f"{flag}: {error}") from None
    if mean is None and std is None:
        return ModelSpec(model=model.model, weights=model.weights,
                         value_range=convention.value_range,
                         channel_order=convention.channel_order)
    return ModelSpec(model=model.model, weights=model.weights, preprocessing=convention)


def _named_convention(flag_values: flags.FlagValues, given: list[str]) -> Preprocessing:
    """The Preprocessing --preprocessing names, alone among the convention flags."""
    from lucid2.modelzoo.preprocessing import Preprocessing

    others = [flag for flag in given if flag != "--preprocessing"]
    if others:
        raise app.UsageError(f"--preprocessing={flag_values.preprocessing} holds the value range, "
                             f"mean, std and channel order; drop {', '.join(others)}.")
    try:
        return Preprocessing.named(flag_values.preprocessing)
    except ValueError:
        raise app.UsageError(f"--preprocessing must be one of {', '.join(PREPROCESSING_NAMES)}, "
                             f"got {flag_values.preprocessing!r}; for another convention give "
                             "--value_range (with --mean, --std, --channel_order).") from None


def __getattr__(name: str):
    # ModelSpec moved to lucid2.modelzoo; it is still importable from here, loaded on first use
    # so that importing this module (every app does, before --help) imports no TensorFlow.
    if name == "ModelSpec":
        from lucid2.modelzoo.spec import ModelSpec

        return ModelSpec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
