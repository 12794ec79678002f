"""``python -m lucid2.classify``: the user's check that a model import is right."""

import functools
import json

import pytest
from program_testlib import run_app

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
