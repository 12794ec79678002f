"""``python -m lucid2.deepdream``: flags, the photo's size kept, one-line errors."""

import functools
import json

import pytest
from absl import app
from photo_testlib import LATE, PHOTO_HEIGHT, PHOTO_WIDTH, run_main, use_tiny_model, \
    write_photo
from program_testlib import app_exit, app_settings

from lucid2 import deepdream as deepdream_app
from lucid2.misc.io import load_image

_settings = functools.partial(app_settings, deepdream_app)


@pytest.fixture
def photo(tmp_path):
    return write_photo(tmp_path / "photo.png")


def test_defaults(photo, tmp_path):
    settings = _settings(f"--image={photo}", f"--output={tmp_path / 'dd.png'}")
    assert (settings.layer, settings.octaves, settings.octave_scale) == ("mixed4c", 4, 1.4)
    assert settings.size is None  # the photo's own size
    assert settings.steps == deepdream_app.DEFAULT_STEPS_PER_OCTAVE


@pytest.mark.parametrize("args, message", [
    (["--output=dd.png"], "--image is required"),
    (["--image={photo}", "--output=dd.png", "--octave_scale=1"], "--octave_scale must be above 1"),
    (["--image={photo}", "--output=dd.png", "--octave_scale=0.5"], "above 1"),
])
def test_flag_validation_messages(photo, args, message):
    with pytest.raises(app.UsageError, match=message):
        _settings(*(a.format(photo=photo) for a in args))


def test_full_run_keeps_the_photos_size(photo, tmp_path, monkeypatch, capsys):
    use_tiny_model(monkeypatch)
    output = tmp_path / "dd.png"
    run_main(deepdream_app, f"--image={photo}", f"--output={output}", f"--layer={LATE}",
             "--octaves=2", "--octave_scale=1.2", "--steps=3", "--seed=0", "--quiet")
    assert capsys.readouterr().out == f"Saved {output} and {tmp_path / 'dd.json'}\n"
    assert load_image(output).shape == (PHOTO_HEIGHT, PHOTO_WIDTH, 3)
    record = json.loads((tmp_path / "dd.json").read_text())
    assert (record["height"], record["width"]) == (PHOTO_HEIGHT, PHOTO_WIDTH)
    assert record["metrics"]["mean_square_final"] > record["metrics"]["mean_square_photo"]
    assert record["inputs"]["octaves"] == 2 and record["inputs"]["steps_per_octave"] == 3


def test_an_image_too_small_for_the_layer_is_one_line(photo, tmp_path, monkeypatch):
    use_tiny_model(monkeypatch)
    exit_info = app_exit(run_main, deepdream_app, f"--image={photo}",
                         f"--output={tmp_path / 'dd.png'}", f"--layer={LATE}", "--octaves=6",
                         "--octave_scale=2")
    message = str(exit_info.code)
    assert message.startswith("lucid2.deepdream: error: The smallest of 6 octave(s)")
    assert "use fewer octaves" in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]
