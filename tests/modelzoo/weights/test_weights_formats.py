"""Readers, detection, normalization and lucid2's own file format (offline)."""

from __future__ import annotations

import os
import zipfile

import h5py
import numpy as np
import pytest
from weights_testdata import SMALL_SHAPES, graphdef_bytes, write_zip

from lucid2.modelzoo import weights as w
from lucid2.modelzoo.weights import lucid2_file

NUM_CLASSES = 1008


def _check_weight_set(weight_set, sources):
    assert set(weight_set.tensors) == set(sources.shapes)
    for name, array in sources.truth.items():
        loaded = weight_set.tensors[name]
        assert loaded.dtype == np.float32
        assert loaded.shape == sources.shapes[name]
        np.testing.assert_array_equal(loaded, array, err_msg=name)


@pytest.mark.parametrize("form", ["pb", "zip", "hdf5", "npz"])
def test_every_form_loads_to_the_same_tensors(sources, form):
    path = getattr(sources, form)
    weight_set = w.load_weights(path, sources.shapes)
    _check_weight_set(weight_set, sources)
    assert str(path) in weight_set.source


@pytest.mark.parametrize("form", ["zip", "hdf5", "npz"])
def test_labels_are_padded_to_1008(sources, form):
    labels = w.load_weights(getattr(sources, form), sources.shapes).labels
    assert len(labels) == NUM_CLASSES
    assert list(labels[:len(sources.labels)]) == sources.labels
    assert labels[1001] == "unused_1001" and labels[-1] == "unused_1007"


def test_graphdef_alone_has_no_labels(sources):
    assert w.load_weights(sources.pb, sources.shapes).labels is None


def test_hdf5_dump_folder_itself_is_accepted(sources):
    weight_set = w.load_weights(sources.hdf5 / "dump", sources.shapes)
    _check_weight_set(weight_set, sources)
    assert weight_set.labels[:3] == tuple(sources.labels[:3])  # synsets.txt beside dump/


def test_raw_hdf5_stays_in_caffe2_layout(synthetic_sources):
    raw = w.read_hdf5_dir(synthetic_sources.hdf5, names={"conv2d0_w", "softmax2_w"})
    assert raw.layout == w.LAYOUT_CAFFE2
    assert raw.tensors["conv2d0_w"].shape == (64, 7, 7, 3)
    assert raw.tensors["softmax2_w"].shape == (1008, 1, 1, 1024)


def test_readers_skip_unrequested_and_non_weight_nodes(synthetic_sources):
    raw = w.read_graphdef(synthetic_sources.pb)
    assert "shape_const" in raw.tensors and "input" not in raw.tensors
    assert "softmax0_w" in raw.tensors
    only = w.read_graphdef(synthetic_sources.pb, names={"conv2d0_b"})
    assert set(only.tensors) == {"conv2d0_b"}


def test_detect_format(synthetic_sources, tmp_path):
    s = synthetic_sources
    assert [w.detect_format(p) for p in (s.pb, s.zip, s.hdf5, s.hdf5 / "dump", s.npz)] == [
        "graphdef", "zip", "hdf5", "hdf5", "lucid2"]
    renamed = tmp_path / "weights.bin"  # lucid2 files are recognized by content too
    renamed.write_bytes(s.npz.read_bytes())
    assert w.detect_format(renamed) == "lucid2"


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an existing path") as info:
        w.load_weights(tmp_path / "nope.pb", SMALL_SHAPES)
    assert "nope.pb" in str(info.value) and ".zip" in str(info.value)
    with pytest.raises(FileNotFoundError, match="did you mean 'imagenet'"):
        w.load_weights("ImageNet", SMALL_SHAPES)


@pytest.mark.parametrize("name, content, message", [
    ("weights.bin", b"just some bytes", "Cannot tell what kind"),
    ("single.h5", None, "single HDF5 file"),
    ("empty_folder", None, "holds no dump/"),
])
def test_unknown_file_type_lists_accepted_forms(tmp_path, name, content, message):
    path = tmp_path / name
    if name == "single.h5":
        with h5py.File(path, "w") as handle:
            handle.create_dataset("conv2d0_b", data=np.zeros(64, np.float32))
    elif content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        w.load_weights(path, SMALL_SHAPES)
    assert str(path) in str(info.value)


def test_none_and_bad_types_are_refused():
    with pytest.raises(ValueError, match="random initialization"):
        w.load_weights(None, SMALL_SHAPES)
    with pytest.raises(TypeError, match="weights must be"):
        w.load_weights(3, SMALL_SHAPES)
    with pytest.raises(ValueError, match="expected_shapes is empty"):
        w.load_weights("imagenet", {})
    with pytest.raises(TypeError, match="expected_shapes must be a mapping"):
        w.load_weights("imagenet", [("conv2d0_b", (64,))])


def test_missing_tensors_are_listed_by_name(synthetic_sources):
    shapes = {**SMALL_SHAPES, "mixed5b_1x1_w": (1, 1, 832, 384), "mixed5b_1x1_b": (384,)}
    for form in ("pb", "zip", "hdf5", "npz"):
        with pytest.raises(ValueError, match="lacks 2 of the 8") as info:
            w.load_weights(getattr(synthetic_sources, form), shapes)
        assert "mixed5b_1x1_w" in str(info.value) and "mixed5b_1x1_b" in str(info.value)
        assert "conv2d0_w" not in str(info.value)


def test_wrong_shape_names_the_tensor_and_both_shapes(synthetic_sources):
    shapes = {**SMALL_SHAPES, "mixed3a_3x3_w": (3, 3, 96, 127)}
    with pytest.raises(ValueError) as info:
        w.load_weights(synthetic_sources.pb, shapes)
    assert "'mixed3a_3x3_w' has shape (3, 3, 96, 128), expected (3, 3, 96, 127)" in str(
        info.value)
    with pytest.raises(ValueError) as info:
        w.load_weights(synthetic_sources.hdf5, shapes)
    message = str(info.value)
    assert "'mixed3a_3x3_w' has shape (128, 3, 3, 96)" in message and "(3, 3, 96, 127)" in message


def test_normalize_converts_dtype_checks_finite_and_does_not_mutate():
    conv = np.arange(2 * 1 * 1 * 3, dtype=np.float64).reshape(2, 1, 1, 3)  # OUT, KH, KW, IN
    dense = np.arange(4 * 1 * 1 * 3, dtype=np.float32).reshape(4, 1, 1, 3)  # OUT, 1, 1, IN
    raw = w.RawWeights({"c_w": conv, "d_w": dense, "extra": np.zeros(1)}, None,
                       w.LAYOUT_CAFFE2, "test")
    before = {name: array.copy() for name, array in raw.tensors.items()}
    out = w.normalize(raw, {"c_w": (1, 1, 3, 2), "d_w": (3, 4)})
    assert set(out) == {"c_w", "d_w"}
    assert out["c_w"].dtype == np.float32
    np.testing.assert_array_equal(out["c_w"][0, 0], conv[:, 0, 0, :].T)
    np.testing.assert_array_equal(out["d_w"], dense[:, 0, 0, :].T)
    for name, array in raw.tensors.items():
        np.testing.assert_array_equal(array, before[name])
    assert not np.shares_memory(out["d_w"], dense)

    bad = {"b": np.array([1.0, np.nan, np.inf], np.float32)}
    with pytest.raises(ValueError, match="'b' has 2 non-finite values"):
        w.normalize(bad, {"b": (3,)})
    with pytest.raises(ValueError, match="'b' has dtype int64"):
        w.normalize({"b": np.arange(3)}, {"b": (3,)})


def test_normalize_labels():
    labels = w.normalize_labels([" dummy ", "cat"])
    assert len(labels) == NUM_CLASSES and labels[:2] == ["dummy", "cat"]
    assert labels[2] == "unused_2"
    assert w.normalize_labels(None) is None
    with pytest.raises(ValueError, match="1009 labels"):
        w.normalize_labels(["x"] * (NUM_CLASSES + 1))
    with pytest.raises(TypeError):
        w.normalize_labels("dummy\ncat")


def test_corrupt_or_truncated_graphdef_names_the_file(tmp_path, synthetic_sources):
    data = synthetic_sources.pb.read_bytes()
    truncated = tmp_path / "truncated.pb"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a valid TensorFlow GraphDef") as info:
        w.load_weights(truncated, SMALL_SHAPES)
    assert str(truncated) in str(info.value)
    garbage = tmp_path / "garbage.pb"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match=str(garbage)):
        w.load_weights(garbage, SMALL_SHAPES)


def test_corrupt_zip_names_the_file(tmp_path, synthetic_sources):
    data = bytearray(synthetic_sources.zip.read_bytes())
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ValueError, match="not a readable zip archive") as info:
        w.load_weights(truncated, SMALL_SHAPES)
    assert str(truncated) in str(info.value)
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(16)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=str(damaged)):
        w.load_weights(damaged, SMALL_SHAPES)


def test_zip_without_graphdef_or_labels(tmp_path, synthetic_sources):
    empty = tmp_path / "nothing.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("README", "no graph here")
    with pytest.raises(ValueError, match="holds no .pb GraphDef"):
        w.load_weights(empty, SMALL_SHAPES)
    no_labels = write_zip(tmp_path / "no_labels.zip",
                          graphdef_bytes(synthetic_sources.truth), None)
    assert w.load_weights(no_labels, SMALL_SHAPES).labels is None


def test_corrupt_hdf5_member_names_the_file(tmp_path, synthetic_sources):
    root = tmp_path / "inception5h"
    (root / "dump").mkdir(parents=True)
    for name in SMALL_SHAPES:
        source = synthetic_sources.hdf5 / "dump" / f"{name}.h5"
        (root / "dump" / f"{name}.h5").write_bytes(source.read_bytes())
    broken = root / "dump" / "conv2d0_b.h5"
    broken.write_bytes(broken.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable HDF5 file") as info:
        w.load_weights(root, SMALL_SHAPES)
    assert str(broken) in str(info.value)


def test_lucid2_file_roundtrip_and_atomic_write(tmp_path):
    tensors = {"a_w": np.ones((1, 1, 2, 3), np.float32), "a_b": np.zeros(3, np.float32)}
    target = tmp_path / "out.npz"
    w.write_lucid2_file(target, tensors, ["dummy", "x"], source="unit test")
    raw = w.read_lucid2_file(target)
    assert raw.labels == ("dummy", "x") and "unit test" in raw.source
    assert set(raw.tensors) == set(tensors)
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]  # no temporary left behind
    # A failed write leaves the previous file intact and no temporary.
    with pytest.raises(ValueError, match="float32"):
        w.write_lucid2_file(target, {"a_w": np.ones(3, np.float64)}, None, source="bad")
    assert set(w.read_lucid2_file(target).tensors) == set(tensors)
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        w.write_lucid2_file(tmp_path / "missing" / "x.npz", tensors, None, source="s")


def test_corrupt_lucid2_file_is_detected(tmp_path):
    tensors = {"a_b": np.arange(4096, dtype=np.float32)}
    target = tmp_path / "w.npz"
    w.write_lucid2_file(target, tensors, None, source="s")
    data = bytearray(target.read_bytes())
    start = data.find(np.arange(4096, dtype=np.float32).tobytes()[:64])
    data[start + 100:start + 104] = b"\x00\x00\xc0\x7f"
    target.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a readable lucid2 weights file"):
        w.read_lucid2_file(target)
    with pytest.raises(ValueError, match="not a readable lucid2 weights file"):
        w.load_weights(target, {"a_b": (4096,)})


def test_npz_that_is_not_lucid2_or_newer_version(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, a_b=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="not a lucid2 weights file"):
        w.load_weights(other, {"a_b": (3,)})
    newer = tmp_path / "newer.npz"
    np.savez(newer, a_b=np.zeros(3, np.float32), __format__=np.array(lucid2_file.FORMAT_NAME),
             __version__=np.array(lucid2_file.FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="format version 2"):
        w.load_weights(newer, {"a_b": (3,)})
