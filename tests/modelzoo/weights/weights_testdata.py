"""Builders of weight sources for the weights tests: the same tensors as a GraphDef
``.pb``, the inception5h ``.zip``, a soumith/inception.torch HDF5 folder and a
lucid2 ``.npz``.

The layout conversions here are written independently of the library's, from the
facts in the shared data README, so that the tests can catch a wrong conversion.
"""

from __future__ import annotations

import dataclasses
import pathlib
import zipfile

import h5py
import numpy as np

# A few tensors of each kind (stem conv, mixed-block conv, bias, dense) keep most tests fast.
SMALL_SHAPES = {
    "conv2d0_w": (7, 7, 3, 64), "conv2d0_b": (64,),
    "mixed3a_3x3_w": (3, 3, 96, 128), "mixed3a_3x3_b": (128,),
    "softmax2_w": (1024, 1008), "softmax2_b": (1008,),
}
# Present in the real sources but not part of the main path: must be ignored.
EXTRA_SHAPES = {"softmax0_w": (1024, 1008), "nn0_b": (1024,)}
NUM_CLASS_LINES = 1001  # the dummy class 0 and 1000 ImageNet classes
UNRELATED_SYNSET_LINES = 5
GRAPHDEF_NAME = "tensorflow_inception_graph.pb"
ZIP_LABELS_NAME = "imagenet_comp_graph_label_strings.txt"
SEED = 1234


def tf_to_caffe2(name: str, array: np.ndarray) -> np.ndarray:
    """TensorFlow layout -> the HDF5 dump's layout."""
    if array.ndim == 4:  # (KH, KW, IN, OUT) -> (OUT, KH, KW, IN)
        return np.moveaxis(array, 3, 0).copy()
    if array.ndim == 2:  # dense (IN, OUT) -> (OUT, 1, 1, IN)
        return array.T.reshape(array.shape[1], 1, 1, array.shape[0]).copy()
    return array


def caffe2_to_tf(array: np.ndarray, expected: tuple) -> np.ndarray:
    """The HDF5 dump's layout -> TensorFlow layout, per the data README."""
    if array.ndim == 4 and len(expected) == 2:
        return array.reshape(array.shape[0], array.shape[3]).T.copy()
    if array.ndim == 4:
        return np.transpose(array, (1, 2, 3, 0)).copy()
    return array


def write_hdf5_dump(root: pathlib.Path, caffe2: dict, synsets_text: str | None) -> pathlib.Path:
    (root / "dump").mkdir(parents=True)
    for name, array in caffe2.items():
        with h5py.File(root / "dump" / f"{name}.h5", "w") as handle:
            handle.create_dataset(name, data=array)
    if synsets_text is not None:
        (root / "synsets.txt").write_text(synsets_text)
    return root


def graphdef_bytes(tensors: dict) -> bytes:
    """A GraphDef with one Const node per tensor, plus nodes the reader must skip."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    node = graph_def.node.add(name="input", op="Placeholder")
    node.attr["dtype"].type = tf.float32.as_datatype_enum
    for name, array in tensors.items():
        node = graph_def.node.add(name=name, op="Const")
        node.attr["dtype"].type = tf.as_dtype(array.dtype).as_datatype_enum
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(array))
    node = graph_def.node.add(name="shape_const", op="Const")
    node.attr["dtype"].type = tf.int32.as_datatype_enum
    node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.array([1, 2], np.int32)))
    return graph_def.SerializeToString()


def write_zip(path: pathlib.Path, pb: bytes, label_lines: list[str] | None,
              compression: int = zipfile.ZIP_DEFLATED) -> pathlib.Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("LICENSE", "test archive\n")
        archive.writestr(GRAPHDEF_NAME, pb)
        if label_lines is not None:
            archive.writestr(ZIP_LABELS_NAME, "\n".join(label_lines) + "\n")
    return path


@dataclasses.dataclass
class SourceSet:
    """One set of tensors in every supported form."""

    shapes: dict          # the expected shapes (TensorFlow layout)
    truth: dict           # name -> array in TensorFlow layout, what every form must load to
    labels: list          # the 1001 labels the sources carry
    pb: pathlib.Path
    zip: pathlib.Path
    hdf5: pathlib.Path    # the folder holding dump/
    npz: pathlib.Path


def build_sources(folder: pathlib.Path, shapes: dict, truth: dict, extras: dict,
                  labels: list, hdf5_root: pathlib.Path | None = None,
                  zip_compression: int = zipfile.ZIP_DEFLATED) -> SourceSet:
    """Writes ``truth`` (+ ``extras``) as .pb, .zip, HDF5 folder (unless given) and .npz."""
    from lucid2.modelzoo.weights import write_lucid2_file

    folder.mkdir(parents=True, exist_ok=True)
    everything = {**truth, **extras}
    pb = graphdef_bytes(everything)
    (folder / GRAPHDEF_NAME).write_bytes(pb)
    zip_path = write_zip(folder / "inception5h.zip", pb, labels, zip_compression)
    if hdf5_root is None:
        synsets = [f"n{index:08d} {label}" for index, label in enumerate(labels)]
        synsets += [f"n9{index:07d} unrelated synset {index}"
                    for index in range(UNRELATED_SYNSET_LINES)]
        hdf5_root = write_hdf5_dump(
            folder / "inception5h",
            {name: tf_to_caffe2(name, array) for name, array in everything.items()},
            "\n".join(synsets) + "\n")
    npz = write_lucid2_file(folder / "weights.npz", truth, labels, source="test")
    return SourceSet(shapes, truth, labels, folder / GRAPHDEF_NAME, zip_path, hdf5_root, npz)


def synthetic_labels() -> list[str]:
    return ["dummy"] + [f"class {index}, synonym {index}" for index in range(1, NUM_CLASS_LINES)]


def synthetic_tensors(shapes: dict, seed: int = SEED) -> dict:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}


def real_truth(dump: pathlib.Path, shapes: dict) -> dict:
    """Reads the shared HDF5 dump and converts it with this file's own rules."""
    truth = {}
    for name, shape in shapes.items():
        with h5py.File(dump / f"{name}.h5", "r") as handle:
            truth[name] = caffe2_to_tf(handle[name][()], shape)
    return truth


def real_labels(synsets: pathlib.Path) -> list[str]:
    lines = synsets.read_text().splitlines()[:NUM_CLASS_LINES]
    return [line.split(maxsplit=1)[1] for line in lines]
