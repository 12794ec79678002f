"""``python -m lucid2.classify``: the user's check that a model import is right."""

import functools
import json

import numpy as np
import pytest
from image_testlib import write_bad_images, write_gray_pngs
from PIL import Image
from program_testlib import run_app, run_app_after

# Injected into the app's process: a real SIGINT while the model loads.
CTRL_C_IN_MODEL_LOADING = """
import os, signal, time
import lucid2.modelzoo

def load_from_spec(spec):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(60)  # the signal interrupts this at once
lucid2.modelzoo.load_from_spec = load_from_spec
"""
PHOTO_SIZE = 16

_classify = functools.partial(run_app, "lucid2.classify")


def test_dog_photo_top5_json(shared_data):
    dog = str(shared_data / "inception5h" / "dog.jpg")
    result = _classify(dog, "--json", "--top_k=5",
                       f"--weights={shared_data / 'inception5h'}")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["image"] == dog
    assert [row["class"] for row in record["top_k"]] == [41, 17, 588, 2, 45]
    assert record["top_k"][0]["probability"] >= 0.99
    assert "dalmatian" in record["top_k"][0]["label"]


def test_weights_from_environment_variable_and_table_output(shared_data):
    dog = str(shared_data / "inception5h" / "dog.jpg")
    result = _classify(dog, "--top_k=2",
                       env_extra={"LUCID2_INCEPTIONV1_WEIGHTS": str(shared_data / "inception5h")})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == dog and len(lines) == 3
    assert lines[1].split()[0] == "41"


@pytest.mark.parametrize("args,message", [
    ([], "Give one or more image paths"),
    (["/nonexistent/photo.jpg"], "not found"),
    (["--top_k=0", __file__], "top_k"),
])
def test_bad_arguments_fail_fast_with_a_clear_message(args, message):
    result = _classify(*args)
    assert result.returncode != 0
    assert message in result.stderr


def _json_records(stdout: str) -> dict:
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {record["image"]: record["top_k"] for record in records}


def test_16bit_png_is_classified_like_its_8bit_copy(shared_data, tmp_path):
    # The old loader saturated 16-bit gray to white: exit 0, top-1 "parachute".
    gray8, gray16 = write_gray_pngs(shared_data / "inception5h" / "dog.jpg", tmp_path)
    result = _classify(str(gray8), str(gray16), "--json", "--top_k=3",
                       f"--weights={shared_data / 'inception5h'}")
    assert result.returncode == 0, result.stderr
    records = _json_records(result.stdout)
    top8, top16 = records[str(gray8)], records[str(gray16)]
    assert top16[0]["class"] == top8[0]["class"] == 41  # dalmatian
    assert [row["class"] for row in top16] == [row["class"] for row in top8]
    for row8, row16 in zip(top8, top16):
        assert row16["probability"] == pytest.approx(row8["probability"], abs=0.02)


def test_unreadable_images_fail_before_the_model_loads(shared_data, tmp_path):
    bad = write_bad_images(tmp_path / "bad")
    good = str(shared_data / "inception5h" / "dog.jpg")
    # Weights that do not exist: reaching the model would fail differently.
    result = _classify(good, *(str(p) for p in bad.values()),
                       f"--weights={tmp_path / 'no_weights_here'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "cannot be loaded" in line]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"{len(bad)} of {len(bad) + 1} image(s) cannot be loaded")
    for kind, reason in (("text", "not an image file"), ("empty", "not an image file"),
                         ("truncated", "truncated"), ("bomb", "decompression bomb")):
        assert repr(str(bad[kind])) in line
        assert reason in line.split(repr(str(bad[kind])))[1].split("Cannot load image")[0]
    assert good not in line


def test_ctrl_c_exits_130_with_one_line(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((PHOTO_SIZE, PHOTO_SIZE, 3), np.uint8)).save(photo)
    result = run_app_after(CTRL_C_IN_MODEL_LOADING, "lucid2.classify", str(photo),
                           "--weights=none")
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "lucid2.classify: interrupted; nothing written"
    assert "Traceback" not in result.stderr
