"""Full-size checks on the real weights, and the convert_weights command."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from absl import flags
from weights_testdata import build_sources, real_labels, real_truth

from lucid2 import convert_weights
from lucid2.modelzoo import weights as w
from lucid2.modelzoo.inceptionv1_graph import weight_shapes

MAIN_PATH_PARAMS = 7_066_380  # from the shared data README
DALMATIAN = 41
IMAGE_SCALE, IMAGE_OFFSET = 255.0, -117.0
CONV2D0_STRIDE = 2
RTOL = 1e-4


@pytest.fixture(scope="module")
def full_sources(shared_data, tmp_path_factory):
    root = shared_data / "inception5h"
    shapes = weight_shapes()
    return build_sources(tmp_path_factory.mktemp("full"), shapes, real_truth(root / "dump", shapes),
                         {}, real_labels(root / "synsets.txt"), hdf5_root=root,
                         zip_compression=zipfile.ZIP_STORED)


def test_all_forms_identical_at_full_size(full_sources):
    loaded = {form: w.load_weights(getattr(full_sources, form), full_sources.shapes)
              for form in ("pb", "zip", "hdf5", "npz")}
    reference = loaded["hdf5"]
    assert reference.num_params == MAIN_PATH_PARAMS
    assert reference.labels[DALMATIAN] == "dalmatian, coach dog, carriage dog"
    for form, weight_set in loaded.items():
        assert set(weight_set.tensors) == set(full_sources.shapes), form
        for name, array in reference.tensors.items():
            np.testing.assert_array_equal(weight_set.tensors[name], array, err_msg=f"{form} {name}")
        if form != "pb":
            assert weight_set.labels == reference.labels, form


def test_converted_layout_reproduces_reference_activations(full_sources, shared_data):
    """conv2d0 (a transposed kernel) and the logits (the reshaped dense layer)."""
    import tensorflow as tf

    tensors = w.load_weights(full_sources.hdf5, full_sources.shapes).tensors
    ref = np.load(shared_data / "inception5h" / "reference_activations.npz")
    images = ref["input"] * IMAGE_SCALE + IMAGE_OFFSET
    conv = tf.nn.conv2d(images, tensors["conv2d0_w"], CONV2D0_STRIDE, "SAME") + tensors["conv2d0_b"]
    np.testing.assert_allclose(tf.nn.relu(conv).numpy(), ref["conv2d0"], rtol=RTOL, atol=RTOL)
    pooled = ref["mixed5b"].mean(axis=(1, 2))
    logits = pooled @ tensors["softmax2_w"] + tensors["softmax2_b"]
    scale = np.abs(ref["logits"]).max()
    np.testing.assert_allclose(logits, ref["logits"], atol=RTOL * scale)
    assert logits.argmax() == DALMATIAN


def test_convert_weights_command(full_sources, tmp_path, capsys):
    output = tmp_path / "inceptionv1.npz"
    try:
        flags.FLAGS([__file__, f"--source={full_sources.zip}", f"--output={output}"])
        convert_weights.main([__file__])
    finally:
        flags.FLAGS.unparse_flags()
    printed = capsys.readouterr().out
    assert f"Wrote {output}: 116 tensors, 7,066,380 parameters, 1008 labels" in printed
    written = w.read_lucid2_file(output)
    assert len(written.labels) == 1008 and str(full_sources.zip) in written.source
    for name, array in full_sources.truth.items():
        np.testing.assert_array_equal(written.tensors[name], array, err_msg=name)


def test_convert_weights_rejects_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an existing path"):
        convert_weights.convert(str(tmp_path / "missing.zip"), str(tmp_path / "out.npz"))
    with pytest.raises(convert_weights.app.UsageError):
        convert_weights.main(["prog", "extra"])
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\xff" * 64)
    try:
        flags.FLAGS(["prog", f"--source={bad}", f"--output={tmp_path / 'out.npz'}"])
        with pytest.raises(SystemExit, match="not a valid TensorFlow GraphDef"):
            convert_weights.main(["prog"])
    finally:
        flags.FLAGS.unparse_flags()
    assert not (tmp_path / "out.npz").exists()
