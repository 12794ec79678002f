"""``python -m lucid2.figures``: flag checks before the model loads, --list, and full runs."""

import functools
import json
import pathlib
import shutil

import numpy as np
import pytest
from absl import app, flags
from PIL import Image
from program_testlib import app_settings, run_app

from lucid2 import figures as figures_app
from lucid2.recipes.figures import FIGURE_NAMES
from lucid2.recipes.figures import registry as registry_module

PHOTOS = 6  # dataset photos for the full run: enough for every column of the figures


_run_app = functools.partial(run_app, "lucid2.figures", timeout=900)
_settings = functools.partial(app_settings, figures_app)


@pytest.mark.parametrize("args,message", [
    ([], "Name a figure with --figure"),
    (["--figure=teaser", "--all", "--output_dir=out"], "either --figure or --all"),
    (["--figure=teaser,nope", "--output_dir=out"], "Unknown figure.*'nope'.*teaser"),
    (["--figure=teaser"], "--output_dir is required"),
])
def test_flag_validation_messages(args, message):
    with pytest.raises(app.UsageError, match=message):
        _settings(*args)


def test_output_dir_must_not_be_a_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(app.UsageError, match="not a directory"):
        _settings("--figure=teaser", f"--output_dir={target}")


def test_dataset_figures_need_images_when_there_is_no_default(monkeypatch, tmp_path):
    monkeypatch.setattr(registry_module, "default_image_source", lambda: None)
    with pytest.raises(app.UsageError, match="spectrum show dataset examples: pass --images"):
        _settings("--figure=teaser,spectrum", f"--output_dir={tmp_path}")
    # Figures without dataset examples do not need them.
    assert _settings("--figure=teaser", f"--output_dir={tmp_path}").images is None


def test_settings_defaults_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setattr(registry_module, "default_image_source", lambda: tmp_path / "photos")
    settings = _settings("--all", f"--output_dir={tmp_path}", "--weights=none")
    assert settings.figures == FIGURE_NAMES
    assert settings.images == str(tmp_path / "photos")
    assert settings.weights is None and settings.steps is None and settings.size is None
    settings = _settings("--figure=enemy,enemy,teaser", f"--output_dir={tmp_path}",
                         "--steps=8", "--size=96", "--seed=3", "--images=pics")
    assert settings.figures == ("enemy", "teaser")
    assert (settings.steps, settings.size, settings.seed, settings.images) == (8, 96, 3, "pics")


@pytest.mark.parametrize("args", [["--steps=0"], ["--size=0"], ["--seed=-1"]])
def test_flag_parser_rejects_out_of_range_values(args):
    with pytest.raises(flags.IllegalFlagValueError):
        _settings("--figure=teaser", "--output_dir=out", *args)


def test_main_rejects_positional_arguments():
    with pytest.raises(app.UsageError, match="Unexpected arguments"):
        figures_app.main(["lucid2.figures", "teaser"])


def test_list_names_every_figure():
    result = _run_app("--list")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.strip().splitlines()]
    assert listed == list(FIGURE_NAMES)


def test_bad_weights_fail_with_a_one_line_error(tmp_path):
    result = _run_app("--figure=enemy", f"--output_dir={tmp_path}",
                      "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert "lucid2.figures: error: cannot load InceptionV1 weights" in result.stderr
    assert not list(tmp_path.iterdir())


def _check_outputs(output_dir: pathlib.Path, names, size):
    for name in names:
        record = json.loads((output_dir / f"{name}.json").read_text())
        assert record["figure"] == name and record["numbers"]
        assert np.asarray(Image.open(output_dir / record["composite"])).ndim == 3
        for panel in record["panels"]:
            assert (output_dir / panel["file"]).is_file()
        if record["settings"].get("size") is not None:
            assert record["settings"]["size"] == size


def test_command_line_figures_with_real_weights(shared_data, tmp_path):
    names = ("steepest_descent", "neuron_addition")
    result = _run_app(f"--figure={','.join(names)}", f"--output_dir={tmp_path / 'out'}",
                      "--steps=2", "--size=64", f"--weights={shared_data / 'inception5h'}")
    assert result.returncode == 0, result.stderr
    for name in names:
        assert f"{name}: {tmp_path / 'out' / name}.png" in result.stdout
    _check_outputs(tmp_path / "out", names, 64)


@pytest.mark.slow
def test_command_line_all_figures_with_real_weights(shared_data, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((shared_data / "imagenet-samples").iterdir())[:PHOTOS]:
        shutil.copy(path, photos)
    output = tmp_path / "out"
    result = _run_app("--all", f"--output_dir={output}", "--steps=512", "--size=64",
                      f"--weights={shared_data / 'inception5h'}", f"--images={photos}",
                      env_extra={"LUCID2_MAX_STEPS": "4"})
    assert result.returncode == 0, result.stderr
    _check_outputs(output, FIGURE_NAMES, 64)
    record = json.loads((output / "teaser.json").read_text())
    assert record["settings"]["steps"] == 4  # capped by LUCID2_MAX_STEPS
