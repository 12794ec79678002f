"""Model flags shared by lucid2's command-line apps: ``--model``, ``--weights``,
``--value_range``, ``--channel_order``.

Flags are checked (``model_spec_from_flags``) before anything heavy is loaded,
into a :class:`lucid2.modelzoo.ModelSpec`; ``lucid2.modelzoo.load_from_spec``
then builds the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from absl import app, flags

if TYPE_CHECKING:
    from lucid2.modelzoo.spec import ModelSpec

INCEPTIONV1 = "inceptionv1"
NO_WEIGHTS = "none"


def define_model_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the model flags on ``flag_values``."""
    flags.DEFINE_string("model", INCEPTIONV1, "'inceptionv1', a .keras/.h5 file, a SavedModel "
                        "directory or a TF-Hub handle.", flag_values=flag_values)
    flags.DEFINE_string("weights", "imagenet", "InceptionV1 weights: 'imagenet', a local path, "
                        "or 'none' for random weights.", flag_values=flag_values)
    flags.DEFINE_list("value_range", None, "low,high pixel range the model expects (required for "
                      "models other than inceptionv1), e.g. -1,1 or 0,255.",
                      flag_values=flag_values)
    flags.DEFINE_enum("channel_order", "RGB", ["RGB", "BGR"], "Channel order the model expects.",
                      flag_values=flag_values)


def model_spec_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> ModelSpec:
    """Checks the model flags without loading anything; raises ``app.UsageError``."""
    # The model zoo imports TensorFlow: only once the flags are parsed, so --help stays instant.
    from lucid2.modelzoo.spec import ModelSpec

    value_range = None
    if flag_values.value_range is not None:
        try:
            low, high = (float(v) for v in flag_values.value_range)
        except ValueError:
            raise app.UsageError("--value_range must be two numbers 'low,high', got "
                                 f"{','.join(flag_values.value_range)!r}.") from None
        value_range = (low, high)
    weights = flag_values.weights
    spec = ModelSpec(model=flag_values.model,
                     weights=None if weights.strip().lower() == NO_WEIGHTS else weights,
                     value_range=value_range, channel_order=flag_values.channel_order)
    if spec.is_inceptionv1:
        if value_range is not None or spec.channel_order != "RGB":
            raise app.UsageError("InceptionV1 knows its value range and channel order; drop "
                                 "--value_range and --channel_order.")
    else:
        if flag_values["weights"].present:
            raise app.UsageError("--weights applies to --model=inceptionv1 only; other models "
                                 "carry their own weights.")
        if value_range is None:
            raise app.UsageError(f"--value_range is required for --model={spec.model!r}: the "
                                 "pixel range it expects, e.g. 0,1 or -1,1 or 0,255.")
    return spec


def __getattr__(name: str):
    # ModelSpec moved to lucid2.modelzoo; it is still importable from here, loaded on first use
    # so that importing this module (every app does, before --help) imports no TensorFlow.
    if name == "ModelSpec":
        from lucid2.modelzoo.spec import ModelSpec

        return ModelSpec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
