"""``python -m lucid2.render``: flag checks before the model loads, and a full run."""

import functools

import keras
import numpy as np
import pytest
from absl import app, flags
from program_testlib import app_settings, run_app

from lucid2 import render as render_app
from lucid2 import app_flags
from lucid2.modelzoo import VisionModel
from lucid2.optvis.settings import RenderSettings


_run_app = functools.partial(run_app, "lucid2.render")
_settings = functools.partial(app_settings, render_app)


def _tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return VisionModel(keras.Model(inputs, keras.layers.Dense(3, name="logits")(x)),
                       logits_layer="logits", name="tiny")


def test_bad_flags_fail_before_the_model_loads(tmp_path):
    # A weights path that does not exist: loading would fail with another message.
    common = [f"--output={tmp_path / 'out.png'}", "--weights=/nonexistent/weights"]
    result = _run_app("--objective=mixed4a:", *common)
    assert result.returncode != 0
    assert "Cannot parse objective 'mixed4a:'" in result.stderr
    assert "layer[':' channel]" in result.stderr
    assert "nonexistent" not in result.stderr.split("Cannot parse")[1]
    result = _run_app("--objective=mixed4a:97", "--steps=0", *common)
    assert result.returncode != 0 and "--steps" in result.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("args,message", [
    ([], "--objective is required"),
    (["--objective=mixed4a:97"], "--output is required"),
    (["--objective=mixed4a:97", "--output=vis.jpg"], "must be a .png file"),
    (["--objective=mixed4a:97", "--output=/nonexistent/dir/vis.png"], "does not exist"),
    (["--objective=mixed4a:97 mixed4b:1", "--output=vis.png"], "expected '+' or '-'"),
    (["--objective=a:1", "--output=vis.png", "--learning_rate=-1"], "--learning_rate"),
    (["--objective=a:1", "--output=vis.png", "--value_range=0,x", "--model=m.keras"],
     "--value_range must be two numbers"),
    (["--objective=a:1", "--output=vis.png", "--value_range=0,1"], "InceptionV1 knows"),
    (["--objective=a:1", "--output=vis.png", "--model=m.keras", "--weights=w"],
     "--weights applies to --model=inceptionv1 only"),
])
def test_flag_validation_messages(args, message):
    with pytest.raises(app.UsageError, match=message.replace("(", r"\(").replace("+", r"\+")
                       .replace(".", r"\.")):
        _settings(*args)


@pytest.mark.parametrize("args", [["--steps=0"], ["--size=0"], ["--batch=0"], ["--seed=-1"],
                                  ["--param=cppn"], ["--transforms=some"]])
def test_flag_parser_rejects_out_of_range_values(args):
    with pytest.raises(flags.IllegalFlagValueError):
        _settings("--objective=a:1", "--output=vis.png", *args)


def test_settings_defaults(tmp_path):
    settings = _settings("--objective=mixed4a:476+mixed4a:460", f"--output={tmp_path}/v.png")
    assert settings.rendering == RenderSettings()  # the flags' defaults are the settings'
    rendering = settings.rendering
    assert (rendering.steps, rendering.size, rendering.batch, rendering.seed) == (512, 128, 1, None)
    assert (rendering.param, rendering.decorrelate, rendering.transforms) == \
        ("fft", True, "standard")
    assert rendering.learning_rate == 0.05
    assert settings.model == app_flags.ModelSpec("inceptionv1", "imagenet", None, "RGB")
    assert _settings("--objective=a:1", "--output=v.png", "--weights=none").model.weights is None


def test_full_render_writes_a_grid_png(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(render_app, "build_model",
                        lambda *args: built.append(args) or _tiny_model())
    output = tmp_path / "grid.png"
    settings = _settings("--objective=conv:1 - 0.5*conv:2", f"--output={output}", "--steps=3",
                         "--size=16", "--batch=2", "--seed=0", "--param=pixel",
                         "--transforms=none")
    assert render_app.render(settings) == output
    assert built == [(app_flags.ModelSpec("inceptionv1", "imagenet", None, "RGB"),)]
    from lucid2.misc.io import load_image
    grid = load_image(output)
    assert grid.shape[2] == 3 and grid.shape[0] >= 16 and grid.shape[1] >= 32
    assert 0 < grid.std()


def test_model_errors_are_one_line_messages(tmp_path, monkeypatch):
    monkeypatch.setattr(render_app, "build_model", lambda *args: _tiny_model())
    settings = _settings("--objective=conv:9", f"--output={tmp_path / 'v.png'}", "--size=16")
    with pytest.raises(render_app.RenderError) as error:
        render_app.render(settings)
    assert str(error.value.code) == \
        "lucid2.render: error: channel 9 out of range for conv (4 channels: 0..3)"

    def missing(*args):
        raise FileNotFoundError("no weights at /nowhere")

    monkeypatch.setattr(render_app, "build_model", missing)
    with pytest.raises(render_app.RenderError, match="cannot load model 'inceptionv1'"):
        render_app.render(settings)


def test_invalid_max_steps_environment_is_a_flag_error(monkeypatch):
    monkeypatch.setenv("LUCID2_MAX_STEPS", "0")
    with pytest.raises(app.UsageError, match="LUCID2_MAX_STEPS"):
        _settings("--objective=a:1", "--output=v.png")


def test_main_rejects_positional_arguments():
    with pytest.raises(app.UsageError, match="Unexpected arguments"):
        render_app.main(["lucid2.render", "mixed4a:97"])


@pytest.mark.slow
def test_command_line_render_with_real_weights(shared_data, tmp_path):
    output = tmp_path / "mixed4a_97.png"
    result = _run_app("--objective=mixed4a:97", f"--output={output}", "--steps=512", "--seed=0",
                      f"--weights={shared_data / 'inception5h'}", "--size=64",
                      env_extra={"LUCID2_MAX_STEPS": "8"})
    assert result.returncode == 0, result.stderr
    assert f"Saved {output}" in result.stdout
    from lucid2.misc.io import load_image
    image = load_image(output)
    assert image.shape == (64, 64, 3) and np.isfinite(image).all()
