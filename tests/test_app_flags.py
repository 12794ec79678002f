"""The model flags every app shares: --model (inceptionv1, keras:NAME, files, handles),
--weights, and a model's input convention (--value_range, --channel_order, --preprocessing,
--mean, --std), checked into a ModelSpec before anything loads."""

import os
import subprocess
import sys

import pytest
from absl import app, flags
from program_testlib import REPO_ROOT

from lucid2 import app_flags
from lucid2.modelzoo import NAMED_CONVENTIONS, ModelSpec, Preprocessing

HELP_TIMEOUT_S = 120


def spec(*args: str) -> ModelSpec:
    """The ModelSpec the model flags ``args`` give."""
    values = flags.FlagValues()
    app_flags.define_model_flags(values)
    values(["app", *args])
    return app_flags.model_spec_from_flags(values)


def test_the_flag_names_the_conventions_of_the_model_zoo():
    assert app_flags.PREPROCESSING_NAMES == NAMED_CONVENTIONS


def test_keras_applications_need_no_convention_and_take_weights():
    assert spec("--model=keras:ResNet50") == ModelSpec("keras:ResNet50", "imagenet")
    assert spec("--model=keras:ResNet50", "--weights=none").weights is None
    assert spec("--model=keras:resnet50", "--weights=/w/r50.weights.h5") == ModelSpec(
        "keras:resnet50", "/w/r50.weights.h5")


@pytest.mark.parametrize("args, message", [
    (["--model=keras:ResNet5"], r"--model=keras:ResNet5: Unknown keras.applications model "
                                r"'ResNet5'. Did you mean: ResNet50"),
    (["--model=keras:"], "names no Keras application"),
    (["--model=keras:ResNet50", "--value_range=0,255"],
     "--model=keras:ResNet50 knows its preprocessing.*drop --value_range"),
    (["--model=keras:VGG16", "--preprocessing=caffe", "--channel_order=BGR"],
     "knows its preprocessing.*drop --channel_order, --preprocessing"),
    (["--model=keras:VGG16", "--mean=1,2,3"], "knows its preprocessing.*drop --mean"),
    (["--mean=1,2,3"], "InceptionV1 knows its input convention.*drop --mean"),
    (["--preprocessing=torch"], "InceptionV1 knows.*drop --preprocessing"),
    (["--channel_order=BGR"], "InceptionV1 knows.*drop --channel_order"),
    (["--model=m.keras"], "--value_range is required for --model='m.keras'.*"
                          "--preprocessing=unit|tf|caffe|torch|raw"),
    (["--model=m.keras", "--weights=w"], "--weights applies to --model=inceptionv1 only"),
    (["--model=m.keras", "--preprocessing=pytorch"],
     "--preprocessing must be one of unit, tf, caffe, torch, raw, got 'pytorch'"),
    (["--model=m.keras", "--preprocessing=tf", "--value_range=-1,1"],
     "--preprocessing=tf holds the value range.*drop --value_range"),
    (["--model=m.keras", "--preprocessing=torch", "--std=1"], "drop --std"),
    (["--model=m.keras", "--mean=0.5"], "--value_range is required"),
    (["--model=m.keras", "--value_range=0,1,2"], "--value_range must be two numbers"),
    (["--model=m.keras", "--value_range=1,0"], "--value_range: value_range must be two finite"),
    (["--model=m.keras", "--value_range=0,1", "--std=0.2,0,0.2"],
     "--mean/--std: std must be positive"),
    (["--model=m.keras", "--value_range=0,1", "--mean=0.5,0.5"],
     "--mean/--std: mean must have 1 or 3 values"),
    (["--model=m.keras", "--value_range=0,1", "--mean=a,b,c"],
     "--mean must be 1 or 3 numbers separated by commas, got 'a,b,c'"),
    (["--model=m.keras", "--value_range=0,1", "--std=nan"], "std must hold finite numbers"),
])
def test_bad_model_flags_are_usage_errors(args, message):
    with pytest.raises(app.UsageError, match=message.replace("|", r"\|")):
        spec(*args)


def test_other_models_take_a_named_convention_or_the_numbers():
    assert spec("--model=m.keras", "--preprocessing=Caffe") == ModelSpec(
        "m.keras", preprocessing=Preprocessing.named("caffe"))
    # A range alone stays the spec it always was.
    assert spec("--model=m.keras", "--value_range=0,255", "--channel_order=BGR") == ModelSpec(
        "m.keras", value_range=(0.0, 255.0), channel_order="BGR")
    given = spec("--model=m.keras", "--value_range=0,255", "--mean=103.9,116.8,123.7",
                 "--std=58,57,57", "--channel_order=BGR")
    assert given == ModelSpec("m.keras", preprocessing=Preprocessing(
        (0, 255), mean=(103.9, 116.8, 123.7), std=(58, 57, 57), channel_order="BGR"))
    assert spec("--model=m.keras", "--value_range=0,1", "--std=0.5").preprocessing == \
        Preprocessing(std=(0.5,))


def test_model_flags_and_help_import_no_tensorflow():
    code = ("import sys\nfrom absl import flags\nfrom lucid2 import app_flags\n"
            "values = flags.FlagValues()\napp_flags.define_model_flags(values)\n"
            "values(['app', '--model=keras:ResNet50', '--preprocessing=torch'])\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                            timeout=HELP_TIMEOUT_S, check=True)
    assert result.stdout.split() == ["False", "False"]
