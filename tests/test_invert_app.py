"""``python -m lucid2.invert``: flag checks before the model loads, errors in one line,
the PNG and its JSON, Ctrl-C and a full disk."""

import errno
import functools
import json
import os

import numpy as np
import pytest
from absl import app, flags
from PIL import Image
from photo_testlib import LATE, run_main, use_tiny_model, write_photo
from program_testlib import app_exit, app_settings, run_app

from lucid2 import app_flags
from lucid2 import invert as invert_app
from lucid2.misc.io import load_image
from lucid2.optvis.render import Renderer

_settings = functools.partial(app_settings, invert_app)
_run_app = functools.partial(run_app, "lucid2.invert")


@pytest.fixture
def photo(tmp_path):
    return write_photo(tmp_path / "photo.jpg")


def test_defaults(photo, tmp_path):
    settings = _settings(f"--image={photo}", f"--output={tmp_path / 'inv.png'}")
    assert (settings.layer, settings.steps, settings.size, settings.seed) == \
        ("mixed4a", 512, 224, None)
    assert settings.cossim_pow == 4.0 and settings.learning_rate == 0.05
    assert settings.model == app_flags.ModelSpec("inceptionv1", "imagenet", None, "RGB")


@pytest.mark.parametrize("args, message", [
    ([], "--image is required"),
    (["--image={missing}"], "--image: '{missing}' does not exist"),
    (["--image={tmp}"], "is not a file"),
    (["--image={text}"], "--image: cannot load '{text}': not an image file Pillow can identify"),
    (["--image={photo}"], "--output is required"),
    (["--image={photo}", "--output=inv.jpg"], "--output must be a .png file"),
    (["--image={photo}", "--output={tmp}/missing/inv.png"], "does not exist"),
    (["--image={photo}", "--output={tmp}/inv.png", "--layer= "], "--layer must name"),
    (["--image={photo}", "--output={tmp}/inv.png", "--learning_rate=0"],
     "--learning_rate must be a positive number"),
    (["--image={photo}", "--output={tmp}/inv.png", "--value_range=0,1"], "InceptionV1 knows"),
])
def test_flag_validation_messages(photo, tmp_path, args, message):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    names = dict(photo=photo, tmp=tmp_path, missing=tmp_path / "missing.jpg", text=text)
    with pytest.raises(app.UsageError) as error:
        _settings(*(a.format(**names) for a in args))
    assert message.format(**names) in str(error.value)


@pytest.mark.parametrize("args", [["--steps=0"], ["--size=0"], ["--seed=-1"],
                                  ["--cossim_pow=-1"]])
def test_flag_parser_rejects_out_of_range_values(photo, args):
    with pytest.raises(flags.IllegalFlagValueError):
        _settings(f"--image={photo}", "--output=inv.png", *args)


def test_bad_image_fails_before_the_model_loads(tmp_path):
    # Weights that do not exist: loading them first would fail with another message.
    result = _run_app(f"--image={tmp_path / 'missing.jpg'}", f"--output={tmp_path / 'i.png'}",
                      "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert f"--image: '{tmp_path / 'missing.jpg'}' does not exist" in result.stderr
    assert "nonexistent" not in result.stderr.replace(str(tmp_path), "")
    assert list(tmp_path.iterdir()) == []


def test_full_run_writes_the_png_and_the_json(photo, tmp_path, monkeypatch, capsys):
    asked = use_tiny_model(monkeypatch)
    output = tmp_path / "inv.png"
    run_main(invert_app, f"--image={photo}", f"--output={output}", f"--layer={LATE}",
             "--size=32", "--steps=3", "--seed=0", "--weights=/some/weights", "--quiet")
    assert asked == [app_flags.ModelSpec("inceptionv1", "/some/weights", None, "RGB")]
    assert capsys.readouterr().out == f"Saved {output} and {tmp_path / 'inv.json'}\n"
    image = load_image(output)
    assert image.shape == (27, 32, 3) and np.isfinite(image).all()
    record = json.loads((tmp_path / "inv.json").read_text())
    assert record["recipe"] == "inversion" and record["image"] == "inv.png"
    assert -1 <= record["metrics"]["cosine"] <= 1 and record["metrics"]["steps_run"] == 3
    assert record["inputs"]["layer"] == LATE and record["inputs"]["steps"] == 3


def test_the_render_reports_its_progress_unless_quiet(photo, tmp_path, monkeypatch, capsys):
    from lucid2.optvis import progress

    use_tiny_model(monkeypatch)
    monkeypatch.setattr(progress, "PERIODIC_INTERVAL_SECONDS", 1e-9)  # a line per step
    output = tmp_path / "inv.png"
    run_main(invert_app, f"--image={photo}", f"--output={output}", f"--layer={LATE}",
             "--size=32", "--steps=3", "--seed=0")
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("Rendering ") for line in lines[:-1]) and len(lines) == 5
    assert "3/3 steps (100%)" in lines[-3] and " 3/3 steps in " in lines[-2]
    assert lines[-1] == f"Saved {output} and {tmp_path / 'inv.json'}"


@pytest.mark.parametrize("args, message", [
    (["--layer=conv9"], "lucid2.invert: error: --layer: Unknown layer 'conv9'"),
    (["--size=3"], "lucid2.invert: error: The photo at 2x3 pixels is too small for 'conv2'"),
])
def test_model_errors_are_one_line_and_write_nothing(photo, tmp_path, monkeypatch, args,
                                                     message):
    use_tiny_model(monkeypatch)
    exit_info = app_exit(run_main, invert_app, f"--image={photo}",
                         f"--output={tmp_path / 'inv.png'}", f"--layer={LATE}", *args)
    assert str(exit_info.code).startswith(message) and "\n" not in str(exit_info.code)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg"]


def test_model_that_does_not_load_is_one_line(photo, tmp_path):
    result = _run_app(f"--image={photo}", f"--output={tmp_path / 'inv.png'}",
                      "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert "lucid2.invert: error: cannot load model 'inceptionv1'" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_reports_the_step_and_writes_nothing(photo, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    use_tiny_model(monkeypatch)
    check_finite = Renderer.check_finite

    def interrupt_at_step_2(renderer):
        check_finite(renderer)
        if renderer.steps_done == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Renderer, "check_finite", interrupt_at_step_2)
    exit_info = app_exit(run_main, invert_app, f"--image={photo}",
                         f"--output={tmp_path / 'inv.png'}", f"--layer={LATE}", "--size=32",
                         "--steps=50", "--verbose")
    assert exit_info.code == 130
    assert capsys.readouterr().err == "lucid2.invert: interrupted at step 2; nothing written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg"]


def test_disk_full_while_saving_is_one_line_and_leaves_nothing(photo, tmp_path, monkeypatch):
    use_tiny_model(monkeypatch)

    def full_device(image, fp, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fp)

    monkeypatch.setattr(Image.Image, "save", full_device)
    output = tmp_path / "inv.png"
    exit_info = app_exit(run_main, invert_app, f"--image={photo}", f"--output={output}",
                         f"--layer={LATE}", "--size=32", "--steps=2")
    assert str(exit_info.code).startswith(
        f"lucid2.invert: error: no space left to write '{output}'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg"]


def test_main_rejects_positional_arguments():
    with pytest.raises(app.UsageError, match="Unexpected arguments"):
        invert_app.main(["lucid2.invert", "photo.jpg"])


@pytest.mark.slow
def test_command_line_inversion_with_real_weights(shared_data, tmp_path):
    photo = sorted((shared_data / "imagenet-samples").iterdir())[0]
    output = tmp_path / "inv.png"
    result = _run_app(f"--image={photo}", f"--output={output}", "--size=64", "--steps=8",
                      "--seed=0", f"--weights={shared_data / 'inception5h'}")
    assert result.returncode == 0, result.stderr
    assert f"Saved {output} and {tmp_path / 'inv.json'}" in result.stdout
    record = json.loads((tmp_path / "inv.json").read_text())
    assert record["metrics"]["cosine"] > 0 and max(record["height"], record["width"]) == 64
