"""``python -m lucid2.figures``: flag checks before the model loads, --list, and full runs."""

import errno
import functools
import json
import os
import pathlib
import re
import shutil

import numpy as np
import pytest
from absl import app, flags
from PIL import Image
from program_testlib import app_exit, app_settings, run_app

from lucid2 import figures as figures_app
from lucid2.recipes.figures import FIGURE_NAMES
from lucid2.recipes.figures import registry as registry_module
from lucid2.recipes.figures import run as run_module
from lucid2.recipes.figures.result import FigureResult, Panel

PHOTOS = 6  # dataset photos for the full run: enough for every column of the figures
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
PANEL_SIZE = 8


_run_app = functools.partial(run_app, "lucid2.figures", timeout=900)
_settings = functools.partial(app_settings, figures_app)


def _main(*args: str) -> None:
    """The app's main on its own parsed flags (as ``python -m lucid2.figures`` runs it)."""
    values = flags.FlagValues()
    figures_app.define_flags(values)
    values(["lucid2.figures", *args])
    figures_app.main(["lucid2.figures"], values)


def _small_figure(name: str, *args, **kwargs) -> FigureResult:
    """A two-panel figure made in no time, in place of a real one."""
    panel = np.full((PANEL_SIZE, PANEL_SIZE, 3), 0.5, np.float32)
    return FigureResult(name=name, title=name, grid=((Panel("a", panel), Panel("b", panel)),),
                        numbers={"value": 1.0})


@pytest.fixture
def quick_figures(monkeypatch):
    """No model and small figures: what the app does around them is under test."""
    monkeypatch.setattr(figures_app, "load_model", lambda weights: object())
    monkeypatch.setattr(run_module, "run_figure", _small_figure)


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


def test_preset_flag_reaches_every_figure(tmp_path, monkeypatch):
    assert _settings("--figure=teaser", f"--output_dir={tmp_path}").preset == "lucid"
    assert _settings("--figure=teaser", f"--output_dir={tmp_path}",
                     "--preset=fast").preset == "fast"
    calls = []
    monkeypatch.setattr(figures_app, "load_model", lambda weights: object())
    monkeypatch.setattr(run_module, "run_figure",
                        lambda name, *a, **kw: calls.append(kw) or _small_figure(name))
    _main("--figure=teaser,enemy", f"--output_dir={tmp_path / 'out'}", "--preset=fast",
          "--quiet")
    assert [call["preset"] for call in calls] == ["fast", "fast"]


def test_run_figure_scales_the_default_steps_by_the_preset(monkeypatch):
    seen = {}
    monkeypatch.setitem(run_module.RECIPES, "teaser",
                        lambda model, **kw: seen.update(kw) or _small_figure("teaser"))
    run_module.run_figure("teaser", None, preset="fast")
    assert (seen["steps"], seen["preset"]) == (128, "fast")  # a quarter of the 512
    run_module.run_figure("teaser", None)
    assert (seen["steps"], seen["preset"]) == (512, "lucid")
    run_module.run_figure("teaser", None, preset="fast", steps=40)
    assert seen["steps"] == 40  # given steps win
    with pytest.raises(ValueError, match="Unknown render preset 'quick'; the presets are: "
                       "lucid, fast"):
        run_module.run_figure("teaser", None, preset="quick")
    # A figure that optimizes nothing takes no preset.
    monkeypatch.setitem(run_module.RECIPES, "steepest_descent",
                        lambda model, **kw: seen.clear() or seen.update(kw) or
                        _small_figure("steepest_descent"))
    run_module.run_figure("steepest_descent", None, preset="fast")
    assert "preset" not in seen and "steps" not in seen


@pytest.mark.parametrize("args", [["--steps=0"], ["--size=0"], ["--seed=-1"],
                                  ["--preset=quick"]])
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
    announced = [line for line in result.stdout.splitlines() if line.startswith("figure ")]
    count = len(FIGURE_NAMES)
    assert announced == [f"figure {n}/{count}: {name}"
                         for n, name in enumerate(FIGURE_NAMES, start=1)]
    record = json.loads((output / "teaser.json").read_text())
    assert record["settings"]["steps"] == 4  # capped by LUCID2_MAX_STEPS


def test_each_figure_is_announced_unless_quiet(tmp_path, capsys, quick_figures):
    output = tmp_path / "out"
    _main("--figure=teaser,enemy", f"--output_dir={output}", "--weights=none")
    saved = [f"teaser: {output / 'teaser.png'} {output / 'teaser.json'}",
             f"enemy: {output / 'enemy.png'} {output / 'enemy.json'}"]
    assert capsys.readouterr().out.splitlines() == \
        ["figure 1/2: teaser", "figure 2/2: enemy", *saved]
    _main("--figure=teaser,enemy", f"--output_dir={output}", "--weights=none", "--quiet")
    assert capsys.readouterr().out.splitlines() == saved


# --------------------------------------------------------- 1. unwritable output
@pytest.mark.parametrize("case, message", [
    ("proc", "--output_dir: cannot write in '/proc': '/proc' does not accept new files"),
    ("proc_child", "--output_dir: cannot create '/proc/out': '/proc' does not accept new "
                   "files"),
    ("under_a_file", "--output_dir: '{tmp}/file.txt' is a file, not a folder, so "
                     "'{tmp}/file.txt/out' cannot be created"),
    pytest.param("read_only", "--output_dir: cannot write in '{tmp}/read_only': permission "
                 "denied", marks=pytest.mark.skipif(IS_ROOT, reason="root ignores permissions")),
])
def test_unwritable_output_dir_is_refused_with_the_flags(tmp_path, case, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "read_only").mkdir(mode=0o555)
    output_dir = {"proc": "/proc", "proc_child": "/proc/out",
                  "under_a_file": tmp_path / "file.txt" / "out",
                  "read_only": tmp_path / "read_only"}[case]
    with pytest.raises(app.UsageError) as error:
        _settings("--figure=teaser", f"--output_dir={output_dir}")
    assert message.format(tmp=tmp_path) in str(error.value)


# ---------------------------------------------------------------------- 2. Ctrl-C
def test_ctrl_c_says_which_figures_were_kept_and_exits_130(tmp_path, monkeypatch, capsys,
                                                            quick_figures):
    def interrupted_second(name, *args, **kwargs):
        if name == "enemy":
            raise KeyboardInterrupt
        return _small_figure(name)

    monkeypatch.setattr(run_module, "run_figure", interrupted_second)
    output = tmp_path / "out"
    exit_info = app_exit(_main, "--figure=teaser,enemy", f"--output_dir={output}",
                         "--weights=none")
    assert exit_info.code == 130
    assert capsys.readouterr().err == (
        "lucid2.figures: interrupted while making figure 'enemy'; kept the finished "
        f"figure(s) teaser in '{output}'\n")
    assert sorted(p.name for p in output.iterdir()) == \
        ["teaser.json", "teaser.png", "teaser_panels"]


def test_ctrl_c_before_any_figure_writes_nothing(tmp_path, monkeypatch, capsys, quick_figures):
    def interrupted(weights):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures_app, "load_model", interrupted)
    exit_info = app_exit(_main, "--figure=teaser", f"--output_dir={tmp_path / 'out'}")
    assert exit_info.code == 130
    assert capsys.readouterr().err == \
        "lucid2.figures: interrupted while loading the model; nothing written\n"
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------- 3. disk full
def test_disk_full_removes_the_unfinished_figure_and_says_what_is_kept(tmp_path, monkeypatch,
                                                                       quick_figures):
    save = Image.Image.save
    saves = []

    def full_on_the_fifth_save(image, fp, *args, **kwargs):
        # teaser: composite and two panels; enemy: its composite, then the device is full.
        saves.append(fp)
        if len(saves) == 5:
            with open(fp, "wb") as handle:
                handle.write(b"\x89PNG partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fp)
        return save(image, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", full_on_the_fifth_save)
    output = tmp_path / "out"
    exit_info = app_exit(_main, "--figure=teaser,enemy", f"--output_dir={output}")
    message = str(exit_info.code)
    assert re.fullmatch(
        rf"lucid2\.figures: error: no space left to write '{re.escape(str(output))}': the "
        r"device is full \([0-9.]+ [KMGT]?B free\); figure 'enemy' not saved, kept the "
        rf"finished figure\(s\) teaser in '{re.escape(str(output))}'\.", message), message
    # Nothing of enemy (no composite, no panels folder, no temporary); teaser whole.
    assert sorted(p.name for p in output.iterdir()) == \
        ["teaser.json", "teaser.png", "teaser_panels"]
    assert len(list((output / "teaser_panels").iterdir())) == 2
