"""``python -m lucid2.style_transfer``: flags, the PNG and its JSON, one-line errors."""

import functools
import json

import pytest
from absl import app
from photo_testlib import EARLY, LATE, run_main, use_tiny_model, write_photo
from program_testlib import app_exit, app_settings, run_app

from lucid2 import style_transfer as style_app

_settings = functools.partial(app_settings, style_app)


@pytest.fixture
def photos(tmp_path):
    return write_photo(tmp_path / "content.png"), write_photo(tmp_path / "style.jpg", 30, 30, 1)


def test_defaults(photos, tmp_path):
    content, style = photos
    settings = _settings(f"--content={content}", f"--style={style}",
                         f"--output={tmp_path / 'st.png'}")
    assert settings.style_layers is None and settings.content_layers is None  # the recipe's
    assert (settings.style_weight, settings.content_weight, settings.start) == \
        (style_app.DEFAULT_STYLE_WEIGHT, 1.0, "content")
    assert (settings.steps, settings.size) == (512, 224)
    chosen = _settings(f"--content={content}", f"--style={style}", "--output=st.png",
                       "--style_layers=mixed3a,mixed4a", "--content_layers=mixed4c")
    assert chosen.style_layers == ("mixed3a", "mixed4a") and chosen.content_layers == \
        ("mixed4c",)


@pytest.mark.parametrize("args, message", [
    (["--style={style}"], "--content is required"),
    (["--content={content}"], "--style is required"),
    (["--content={content}", "--style={tmp}/nope.jpg"], "--style: '{tmp}/nope.jpg' does not"),
    (["--content={content}", "--style={style}", "--output=st.png", "--style_weight=0",
      "--content_weight=0"], "both 0"),
    (["--content={content}", "--style={style}", "--output=st.png", "--style_layers=,"],
     "--style_layers must name"),
])
def test_flag_validation_messages(photos, tmp_path, args, message):
    content, style = photos
    names = dict(content=content, style=style, tmp=tmp_path)
    with pytest.raises(app.UsageError) as error:
        _settings(*(a.format(**names) for a in args))
    assert message.format(**names) in str(error.value)


def test_a_missing_style_fails_before_the_model_loads(photos, tmp_path):
    content, _ = photos
    result = run_app("lucid2.style_transfer", f"--content={content}",
                     f"--style={tmp_path / 'none.jpg'}", f"--output={tmp_path / 'st.png'}",
                     "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert f"--style: '{tmp_path / 'none.jpg'}' does not exist" in result.stderr
    assert not (tmp_path / "st.png").exists()


def test_full_run_writes_the_png_and_the_json(photos, tmp_path, monkeypatch, capsys):
    use_tiny_model(monkeypatch)
    content, style = photos
    output = tmp_path / "st.png"
    run_main(style_app, f"--content={content}", f"--style={style}", f"--output={output}",
             f"--style_layers={EARLY},{LATE}", f"--content_layers={LATE}", "--size=32",
             "--steps=4", "--seed=0", "--quiet")
    assert capsys.readouterr().out == f"Saved {output} and {tmp_path / 'st.json'}\n"
    record = json.loads((tmp_path / "st.json").read_text())
    numbers = record["metrics"]
    assert record["recipe"] == "style_transfer"
    assert numbers["style_loss_content"] > 0 and numbers["style_loss_final"] > 0
    assert set(numbers["content_cosine"]) == {LATE}
    assert record["inputs"]["style_layers"] == [EARLY, LATE]


def test_a_style_layer_that_does_not_exist_is_one_line(photos, tmp_path, monkeypatch):
    use_tiny_model(monkeypatch)
    content, style = photos
    exit_info = app_exit(run_main, style_app, f"--content={content}", f"--style={style}",
                         f"--output={tmp_path / 'st.png'}", f"--style_layers={EARLY},conv9",
                         f"--content_layers={LATE}")
    assert str(exit_info.code).startswith(
        "lucid2.style_transfer: error: --style_layers: Unknown layer 'conv9'")
    assert not (tmp_path / "st.png").exists()


def test_the_default_layers_are_inceptions(photos, tmp_path, monkeypatch):
    # The tiny model has none of them: the first default style layer is named.
    use_tiny_model(monkeypatch)
    content, style = photos
    exit_info = app_exit(run_main, style_app, f"--content={content}", f"--style={style}",
                         f"--output={tmp_path / 'st.png'}")
    assert "--style_layers: Unknown layer 'conv2d2'" in str(exit_info.code)
