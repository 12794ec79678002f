"""``python -m lucid2.caricature``: flags, the PNG and its JSON, one-line errors."""

import functools
import json

import pytest
from absl import app
from photo_testlib import EARLY, LATE, run_main, use_tiny_model, write_photo
from program_testlib import app_exit, app_settings, run_app

from lucid2 import caricature as caricature_app

_settings = functools.partial(app_settings, caricature_app)


@pytest.fixture
def photo(tmp_path):
    return write_photo(tmp_path / "photo.png")


def test_defaults_and_layer_lists(photo, tmp_path):
    output = f"--output={tmp_path / 'car.png'}"
    settings = _settings(f"--image={photo}", output)
    assert settings.layers == ("mixed4a", "mixed4d")
    assert (settings.steps, settings.size, settings.cossim_pow) == (256, 224, 1.0)
    assert _settings(f"--image={photo}", output, "--layers=mixed4d,mixed4d,mixed3b").layers \
        == ("mixed4d", "mixed3b")


@pytest.mark.parametrize("args, message", [
    ([], "--image is required"),
    (["--image={photo}", "--output={tmp}/car.png", "--layers="], "--layers must name"),
    (["--image={photo}", "--output={tmp}/car.gif"], "must be a .png file"),
    (["--image={photo}", "--output={tmp}/car.png/x.png"], "does not exist"),
])
def test_flag_validation_messages(photo, tmp_path, args, message):
    with pytest.raises(app.UsageError, match=message):
        _settings(*(a.format(photo=photo, tmp=tmp_path) for a in args))


def test_an_unreadable_image_fails_before_the_model_loads(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = run_app("lucid2.caricature", f"--image={broken}",
                     f"--output={tmp_path / 'car.png'}", "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert f"--image: cannot load '{broken}'" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.png"]


def test_full_run_writes_the_png_and_the_json(photo, tmp_path, monkeypatch, capsys):
    use_tiny_model(monkeypatch)
    output = tmp_path / "car.png"
    run_main(caricature_app, f"--image={photo}", f"--output={output}",
             f"--layers={EARLY},{LATE}", "--size=32", "--steps=6", "--seed=0", "--quiet")
    assert capsys.readouterr().out == f"Saved {output} and {tmp_path / 'car.json'}\n"
    record = json.loads((tmp_path / "car.json").read_text())
    assert record["recipe"] == "caricature"
    assert set(record["metrics"]["norm_ratio"]) == {EARLY, LATE}
    assert record["metrics"]["min_norm_ratio"] > 1.0  # the caricature grew the activations
    assert record["inputs"]["layers"] == [EARLY, LATE]


def test_an_unknown_layer_is_one_line_naming_the_flag(photo, tmp_path, monkeypatch):
    use_tiny_model(monkeypatch)
    exit_info = app_exit(run_main, caricature_app, f"--image={photo}",
                         f"--output={tmp_path / 'car.png'}", f"--layers={EARLY},conv8")
    assert str(exit_info.code).startswith(
        "lucid2.caricature: error: --layers: Unknown layer 'conv8'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]
