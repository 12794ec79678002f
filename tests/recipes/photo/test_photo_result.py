"""PhotoResult and save_result: the PNG, the JSON beside it, and all-or-nothing writes."""

import errno
import json
import os

import numpy as np
import pytest

from lucid2.misc.io import load_image
from lucid2.recipes.photo import result as result_module
from lucid2.recipes.photo.result import PhotoResult, json_path_for, load_record, save_result


def _result(**overrides):
    image = np.linspace(0, 1, 6 * 5 * 3, dtype=np.float32).reshape(6, 5, 3)
    fields = dict(recipe="inversion", image=image,
                  metrics={"cosine": np.float32(0.75), "cosine_at": {"a": np.float64(0.5)},
                           "growth": float("inf"), "steps_run": np.int64(4)},
                  inputs={"image": "photo.jpg", "layers": ("a", "b"), "seed": None})
    fields.update(overrides)
    return PhotoResult(**fields)


def test_save_writes_the_png_and_a_json_with_the_same_stem(tmp_path):
    result = _result()
    paths = save_result(result, tmp_path / "inv.png")
    assert paths == {"png": tmp_path / "inv.png", "json": tmp_path / "inv.json"}
    assert json_path_for(tmp_path / "inv.png") == tmp_path / "inv.json"
    np.testing.assert_allclose(load_image(paths["png"]), result.image, atol=0.5 / 255)
    record = json.loads(paths["json"].read_text())
    assert record == load_record(paths["png"])
    assert record["image"] == "inv.png" and record["recipe"] == "inversion"
    assert (record["height"], record["width"]) == (6, 5)
    assert record["metrics"] == {"cosine": 0.75, "cosine_at": {"a": 0.5}, "growth": None,
                                 "steps_run": 4}  # numpy to JSON; infinity has no JSON
    assert record["inputs"] == {"image": "photo.jpg", "layers": ["a", "b"], "seed": None}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.json", "inv.png"]


@pytest.mark.parametrize("overrides, error, message", [
    (dict(recipe="Bad Name"), ValueError, "lowercase letters"),
    (dict(image=np.zeros((4, 4), np.float32)), ValueError, r"must be \(H, W, 3\)"),
    (dict(image=np.zeros((4, 4, 3), np.uint8)), TypeError, "must be float"),
])
def test_bad_results_are_refused(overrides, error, message):
    with pytest.raises(error, match=message):
        _result(**overrides)


def test_unstorable_metrics_and_wrong_suffix_write_nothing(tmp_path):
    with pytest.raises(TypeError, match="Cannot store object"):
        save_result(_result(metrics={"x": object()}), tmp_path / "a.png")
    with pytest.raises(ValueError, match="writes a .png file"):
        save_result(_result(), tmp_path / "a.jpg")
    with pytest.raises(TypeError, match="expects a PhotoResult"):
        save_result({"image": None}, tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_json_write_removes_the_new_png(tmp_path, monkeypatch):
    def full_disk(path, write, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(result_module, "atomic_write", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_result(_result(), tmp_path / "inv.png")
    assert list(tmp_path.iterdir()) == []
