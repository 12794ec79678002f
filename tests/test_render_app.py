"""``python -m lucid2.render``: flag checks before the model loads, and a full run."""

import errno
import functools
import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from absl import app, flags
from PIL import Image
from program_testlib import REPO_ROOT, app_exit, app_settings, run_app

from lucid2 import app_flags
from lucid2 import render as render_app
from lucid2.modelzoo import VisionModel
from lucid2.optvis.render import Renderer
from lucid2.optvis.settings import PRESETS, RenderSettings

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SIGINT_STARTUP_TIMEOUT = 120
SIGINT_EXIT_TIMEOUT = 60
STEPS_BEFORE_SIGINT_S = 1.0


_run_app = functools.partial(run_app, "lucid2.render")
_settings = functools.partial(app_settings, render_app)


def _main(*args: str) -> None:
    """The app's main on its own parsed flags (as ``python -m lucid2.render`` runs it)."""
    values = flags.FlagValues()
    render_app.define_flags(values)
    values(["lucid2.render", *args])
    render_app.main(["lucid2.render"], values)


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
                                  ["--param=cppn"], ["--transforms=some"], ["--preset=quick"]])
def test_flag_parser_rejects_out_of_range_values(args):
    with pytest.raises(flags.IllegalFlagValueError):
        _settings("--objective=a:1", "--output=vis.png", *args)


def test_an_unknown_preset_is_refused_with_the_list(tmp_path):
    result = _run_app("--objective=mixed4a:97", "--preset=quick", f"--output={tmp_path}/v.png")
    assert result.returncode != 0
    assert "--preset" in result.stderr and "lucid|fast" in result.stderr
    assert not (tmp_path / "v.png").exists()


def test_preset_gives_its_settings_and_given_flags_override_them(tmp_path):
    output = f"--output={tmp_path}/v.png"
    assert _settings("--objective=a:1", output, "--preset=lucid").rendering == PRESETS["lucid"]
    assert _settings("--objective=a:1", output, "--preset=fast").rendering == PRESETS["fast"]
    # Given flags win; the others stay the preset's (fast's 128 steps, learning rate 0.1).
    fast = _settings("--objective=a:1", output, "--preset=fast", "--size=64", "--seed=3",
                     "--transforms=none").rendering
    assert fast == PRESETS["fast"].replace(size=64, seed=3, transforms="none")
    assert (fast.steps, fast.learning_rate, fast.beta_1) == (128, 0.1, 0.0)
    # A flag given with the value of lucid's default still overrides fast's.
    assert _settings("--objective=a:1", output, "--preset=fast",
                     "--steps=512").rendering.steps == 512


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


# --------------------------------------------------------- 1. unwritable output
@pytest.mark.parametrize("case, message", [
    ("proc", "--output: cannot write '/proc/x.png': '/proc' does not accept new files"),
    ("under_a_file", "--output: '{tmp}/file.txt' is a file, not a folder"),
    ("directory", "--output: '{tmp}/dir.png' is a directory, not a file"),
    ("missing_folder", "--output: the folder '{tmp}/missing' does not exist"),
    pytest.param("read_only", "--output: cannot write '{tmp}/read_only/x.png': permission "
                 "denied", marks=pytest.mark.skipif(IS_ROOT, reason="root ignores permissions")),
])
def test_unwritable_output_is_refused_with_the_flags(tmp_path, case, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir.png").mkdir()
    (tmp_path / "read_only").mkdir(mode=0o555)
    output = {"proc": "/proc/x.png", "under_a_file": tmp_path / "file.txt" / "x.png",
              "directory": tmp_path / "dir.png", "missing_folder": tmp_path / "missing" / "x.png",
              "read_only": tmp_path / "read_only" / "x.png"}[case]
    with pytest.raises(app.UsageError) as error:
        _settings("--objective=mixed4a:97", f"--output={output}")
    assert message.format(tmp=tmp_path) in str(error.value)


def test_unwritable_output_fails_before_the_model_loads():
    # Weights that do not exist: loading them first would fail with another message.
    result = _run_app("--objective=mixed4a:97", "--output=/proc/x.png",
                      "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert "--output: cannot write '/proc/x.png'" in result.stderr
    assert "nonexistent" not in result.stderr


# ---------------------------------------------------------------------- 2. Ctrl-C
def test_ctrl_c_reports_the_step_exits_130_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    monkeypatch.setattr(render_app, "build_model", lambda *args: _tiny_model())
    check_finite = Renderer.check_finite

    def interrupt_at_step_3(renderer):
        # --verbose checks every step: Ctrl-C lands right after step 3.
        check_finite(renderer)
        if renderer.steps_done == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(Renderer, "check_finite", interrupt_at_step_3)
    output = tmp_path / "v.png"
    exit_info = app_exit(_main, "--objective=conv:1", f"--output={output}", "--steps=50",
                         "--size=16", "--param=pixel", "--transforms=none", "--verbose")
    assert exit_info.code == 130
    assert capsys.readouterr().err == "lucid2.render: interrupted at step 3; nothing written\n"
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    _tiny_model().keras_model.save(path)
    return path


def test_ctrl_c_in_a_running_render_exits_130_without_a_traceback(tmp_path, tiny_model_file):
    """A real SIGINT, mid-render: one line, status 130, no TensorFlow traceback, no file."""
    output = tmp_path / "v.png"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONUNBUFFERED="1")
    env.pop("LUCID2_MAX_STEPS", None)
    errors = tmp_path / "stderr.txt"  # a file, not a pipe nobody reads while it runs
    with open(errors, "w") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "lucid2.render", f"--model={tiny_model_file}",
             "--value_range=0,1", "--objective=conv:1", "--steps=10000000", "--size=16",
             "--param=pixel", "--transforms=none", "--verbose", f"--output={output}"],
            stdout=subprocess.PIPE, stderr=stderr_file, text=True, env=env)
    try:
        deadline = time.monotonic() + SIGINT_STARTUP_TIMEOUT
        line = ""
        while not line.startswith("Rendering"):  # printed as the optimization starts
            assert time.monotonic() < deadline and process.poll() is None, "no render started"
            line = process.stdout.readline()
        time.sleep(STEPS_BEFORE_SIGINT_S)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=SIGINT_EXIT_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = errors.read_text()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert re.search(r"^lucid2\.render: interrupted at step \d+; nothing written$",
                     stderr.strip().splitlines()[-1])
    assert not output.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["stderr.txt"]


# ------------------------------------------------------------------- 3. disk full
def test_disk_full_while_saving_is_one_line_exit_1_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    monkeypatch.setattr(render_app, "build_model", lambda *args: _tiny_model())

    def full_device(image, fp, *args, **kwargs):
        with open(fp, "wb") as handle:  # part of the PNG gets out, then the device is full
            handle.write(b"\x89PNG partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fp)

    monkeypatch.setattr(Image.Image, "save", full_device)
    output = tmp_path / "v.png"
    exit_info = app_exit(_main, "--objective=conv:1", f"--output={output}", "--steps=2",
                         "--size=16", "--param=pixel", "--transforms=none")
    message = str(exit_info.code)
    # 16 x 16 pixels, 3 channels: about 768 bytes of PNG.
    assert re.fullmatch(rf"lucid2\.render: error: no space left to write '{re.escape(str(output))}'"
                        r": it needs about 768 B, [0-9.]+ [KMGT]?B free; nothing written\.",
                        message), message
    assert list(tmp_path.iterdir()) == []  # no PNG, no temporary


# ------------------------------------------------ 4. --init: feature accentuation
def _photo_file(tmp_path):
    from photo_testlib import write_photo

    return write_photo(tmp_path / "photo.png")


def test_init_flags_default_to_a_render_from_noise(tmp_path):
    settings = _settings("--objective=mixed4a:97", f"--output={tmp_path / 'v.png'}")
    assert (settings.init, settings.init_pull, settings.init_pull_layer) == \
        (None, 0.0, "mixed3b")
    photo = _photo_file(tmp_path)
    settings = _settings("--objective=mixed4a:97", f"--output={tmp_path / 'v.png'}",
                         f"--init={photo}", "--init_pull=5", "--init_pull_layer=input")
    assert (settings.init, settings.init_pull, settings.init_pull_layer) == \
        (photo, 5.0, "input")


@pytest.mark.parametrize("args, message", [
    (["--init_pull=2"], "--init_pull pulls toward the --init photo: give --init=PHOTO"),
    (["--init={tmp}/missing.jpg"], "--init: '{tmp}/missing.jpg' does not exist"),
    (["--init={tmp}/notes.png"], "--init: cannot load '{tmp}/notes.png'"),
    (["--init={photo}", "--init_pull_layer= "], "--init_pull_layer must name a layer"),
])
def test_init_flag_validation_messages(tmp_path, args, message):
    (tmp_path / "notes.png").write_text("no image")
    names = dict(tmp=tmp_path, photo=_photo_file(tmp_path))
    with pytest.raises(app.UsageError) as error:
        _settings("--objective=a:1", "--output=v.png", *(a.format(**names) for a in args))
    assert message.format(**names) in str(error.value)


def test_negative_init_pull_is_refused_by_the_parser(tmp_path):
    with pytest.raises(flags.IllegalFlagValueError):
        _settings("--objective=a:1", "--output=v.png", "--init_pull=-1")


def test_a_missing_init_fails_before_the_model_loads(tmp_path):
    result = _run_app("--objective=mixed4a:97", f"--output={tmp_path / 'v.png'}",
                      f"--init={tmp_path / 'gone.jpg'}", "--weights=/nonexistent/weights")
    assert result.returncode == 1
    assert f"--init: '{tmp_path / 'gone.jpg'}' does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _render_from_photo(tmp_path, monkeypatch, *args):
    monkeypatch.setattr(render_app, "build_model", lambda *a: _tiny_model())
    photo = _photo_file(tmp_path)
    output = tmp_path / "v.png"
    settings = _settings("--objective=conv:1", f"--output={output}", f"--init={photo}",
                         "--size=16", "--seed=0", "--transforms=none", *args)
    render_app.render(settings)
    from lucid2.misc.io import load_image
    from lucid2.optvis.param import load_init

    return load_image(output), load_init(photo, 16, 16)[0]


def test_init_starts_the_render_at_the_photo(tmp_path, monkeypatch):
    image, photo = _render_from_photo(tmp_path, monkeypatch, "--steps=1",
                                      "--learning_rate=1e-7")
    np.testing.assert_allclose(image, photo, atol=2.5 / 255)


def test_init_pull_keeps_the_render_near_the_photo(tmp_path, monkeypatch):
    free, photo = _render_from_photo(tmp_path, monkeypatch, "--steps=20", "--param=pixel")
    pulled, _ = _render_from_photo(tmp_path, monkeypatch, "--steps=20", "--param=pixel",
                                   "--init_pull=50", "--init_pull_layer=input")

    def distance(image):
        return float(np.sqrt(np.mean(np.square(image - photo))))

    assert 0 < distance(pulled) < distance(free)


def test_an_unknown_pull_layer_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(render_app, "build_model", lambda *args: _tiny_model())
    settings = _settings("--objective=conv:1", f"--output={tmp_path / 'v.png'}",
                         f"--init={_photo_file(tmp_path)}", "--init_pull=1", "--size=16")
    with pytest.raises(render_app.RenderError, match="Unknown layer 'mixed3b'"):
        render_app.render(settings)


# ---------------------------------------- 5. progress on a terminal, quiet start-up
TF_STARTUP_LINES = re.compile(r"E0000|cuInit|I0000|oneDNN")
TERMINAL_STEPS = 200
TERMINAL_TIMEOUT_S = 300
PTY_READ_BYTES = 65536


def _run_in_terminal(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """``python -m lucid2.render args`` with its stdout on a pseudo-terminal (stderr on a
    pipe): (exit status, what the terminal showed, stderr)."""
    import pty
    import select

    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "lucid2.render", *args],
                               stdin=subprocess.DEVNULL, stdout=terminal,
                               stderr=subprocess.PIPE, env=env)
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + TERMINAL_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, PTY_READ_BYTES)
            except OSError:  # the terminal closed: the program ended
                break
            if not chunk:
                break
            shown += chunk
        stderr = process.communicate(timeout=SIGINT_EXIT_TIMEOUT)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return process.returncode, shown.decode("utf-8", "replace"), stderr.decode()


def _startup_env(**extra: str) -> dict[str, str]:
    """The environment of a user who set no TensorFlow log level (the tests' own is
    removed), without a step cap."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **extra)
    for name in ("TF_CPP_MIN_LOG_LEVEL", "LUCID2_MAX_STEPS"):
        if name not in extra:
            env.pop(name, None)
    return env


def _terminal_args(tiny_model_file, output) -> list[str]:
    return [f"--model={tiny_model_file}", "--value_range=0,1", "--objective=conv:1",
            f"--steps={TERMINAL_STEPS}", "--size=16", "--param=pixel", "--transforms=none",
            f"--output={output}"]


@pytest.mark.slow
def test_on_a_terminal_the_render_shows_a_progress_bar_with_the_time_left(tmp_path,
                                                                          tiny_model_file):
    output = tmp_path / "v.png"
    status, shown, stderr = _run_in_terminal(*_terminal_args(tiny_model_file, output),
                                             env=_startup_env())
    assert status == 0, stderr
    lines = [line.strip() for line in
             re.sub(r"[\r\x08\n]+", "\n", re.sub(r"\x1b\[[0-9;]*m", "", shown)).splitlines()]
    assert lines[0] == "Rendering Channel [conv, 1] on 1 image(s) of 16x16"
    # Before the end, Keras's bar shows the time left (e.g. "3s", "1:05") and the rate.
    during = [line for line in lines if re.fullmatch(
        rf"(\d+)/{TERMINAL_STEPS} ━+ (\d+s|\d+:\d\d|\d+:\d\d:\d\d) \d+(us|ms|s)/step"
        r"( - objective: \S+)?", line) and int(line.split("/")[0]) < TERMINAL_STEPS]
    assert during, shown
    assert any(line.startswith(f"{TERMINAL_STEPS}/{TERMINAL_STEPS} ") for line in lines)
    assert lines[-1] == f"Saved {output}"
    # TensorFlow's start-up lines are kept quiet by default.
    assert not TF_STARTUP_LINES.search(stderr), stderr


@pytest.mark.slow
def test_quiet_prints_only_the_saved_path_even_on_a_terminal(tmp_path, tiny_model_file):
    output = tmp_path / "v.png"
    status, shown, stderr = _run_in_terminal(*_terminal_args(tiny_model_file, output),
                                             "--quiet", env=_startup_env())
    assert status == 0, stderr
    assert shown.replace("\r\n", "\n") == f"Saved {output}\n"
    assert not TF_STARTUP_LINES.search(stderr), stderr
    # Not a terminal: the same single line.
    result = subprocess.run([sys.executable, "-m", "lucid2.render",
                             *_terminal_args(tiny_model_file, output), "--quiet"],
                            capture_output=True, text=True, env=_startup_env(),
                            timeout=TERMINAL_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Saved {output}\n"
    assert not TF_STARTUP_LINES.search(result.stderr), result.stderr


def test_quiet_and_verbose_together_are_refused(tmp_path):
    with pytest.raises(app.UsageError, match="--quiet hides the progress that --verbose"):
        _main("--objective=conv:1", f"--output={tmp_path / 'v.png'}", "--quiet", "--verbose")
    assert list(tmp_path.iterdir()) == []


def test_without_a_terminal_progress_is_a_line_every_few_seconds(tmp_path, monkeypatch, capsys):
    from lucid2.optvis import progress

    monkeypatch.setattr(render_app, "build_model", lambda *args: _tiny_model())
    monkeypatch.setattr(progress, "PERIODIC_INTERVAL_SECONDS", 1e-9)  # a line per update
    output = tmp_path / "v.png"
    _main("--objective=conv:1", f"--output={output}", "--steps=3", "--size=16",
          "--param=pixel", "--transforms=none")
    lines = capsys.readouterr().out.splitlines()
    label = "Rendering Channel [conv, 1] on 1 image(s) of 16x16"
    assert [line.split(": ")[0] for line in lines[:-1]] == [label] * (len(lines) - 1)
    assert re.match(rf"{re.escape(label)}: 3/3 steps \(100%\), [0-9.,]+ steps/s, ETA 0:00:00",
                    lines[-3])
    assert re.fullmatch(rf"{re.escape(label)}: 3/3 steps in 0:00:0\d", lines[-2])
    assert lines[-1] == f"Saved {output}"
