"""Converts raw tensors to lucid2's canonical layout and verifies them."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from lucid2.modelzoo.weights.formats import LAYOUT_CAFFE2, LAYOUT_TF, LAYOUTS, RawWeights

# inception5h's output size: a dummy class 0, the 1000 ImageNet classes, 7 unused outputs.
NUM_CLASSES = 1008
UNUSED_LABEL = "unused_{index}"
MAX_NAMES_LISTED = 20
_CAFFE2_TO_TF_CONV = (1, 2, 3, 0)  # (OUT, KH, KW, IN) -> (KH, KW, IN, OUT)
_DENSE_AS_CONV_RANK = 4


def validate_expected_shapes(expected_shapes: Mapping[str, Sequence[int]]
                             ) -> dict[str, tuple[int, ...]]:
    """Checks ``{name: shape}`` and returns it with shapes as tuples of ints."""
    if not isinstance(expected_shapes, Mapping):
        raise TypeError(
            "expected_shapes must be a mapping {tensor name: shape}, got "
            f"{type(expected_shapes).__name__}.")
    if not expected_shapes:
        raise ValueError("expected_shapes is empty: name at least one tensor to load.")
    checked = {}
    for name, shape in expected_shapes.items():
        try:
            dims = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            dims = None
        if not isinstance(name, str) or dims is None or any(d < 0 for d in dims):
            raise ValueError(
                "expected_shapes must map tensor names (str) to shapes (tuples of non-negative "
                f"ints), got {name!r}: {shape!r}.")
        checked[name] = dims
    return checked


def _list_names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES_LISTED])
    more = len(names) - MAX_NAMES_LISTED
    return shown + (f", ... ({more} more)" if more > 0 else "")


def _to_tf_layout(array: np.ndarray, expected: tuple[int, ...], layout: str) -> np.ndarray:
    if layout == LAYOUT_CAFFE2 and array.ndim == _DENSE_AS_CONV_RANK:
        array = array.transpose(_CAFFE2_TO_TF_CONV)
    # A dense layer stored as a 1x1 convolution kernel (1, 1, IN, OUT).
    if len(expected) == 2 and array.ndim == _DENSE_AS_CONV_RANK and array.shape[:2] == (1, 1):
        array = array.reshape(array.shape[2:])
    return array


def normalize(raw: RawWeights | Mapping[str, np.ndarray],
              expected_shapes: Mapping[str, Sequence[int]]) -> dict[str, np.ndarray]:
    """Returns the expected tensors as new float32 arrays in TensorFlow layout.

    ``raw`` is a :class:`RawWeights` (its layout is converted) or a plain mapping
    taken to be in TensorFlow layout already. Extra tensors are ignored. Raises
    ValueError listing every missing tensor by name, or naming each tensor that
    has the wrong shape (found and expected), a non-float dtype or non-finite
    values.
    """
    expected = validate_expected_shapes(expected_shapes)
    if isinstance(raw, RawWeights):
        tensors, layout, origin = raw.tensors, raw.layout, raw.source
    elif isinstance(raw, Mapping):
        tensors, layout, origin = raw, LAYOUT_TF, "the given tensors"
    else:
        raise TypeError(f"raw must be RawWeights or a mapping of arrays, got {type(raw).__name__}.")
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown tensor layout {layout!r}; expected one of {LAYOUTS}.")
    missing = [name for name in expected if name not in tensors]
    if missing:
        raise ValueError(
            f"{origin} lacks {len(missing)} of the {len(expected)} expected tensors: "
            f"{_list_names(missing)}.")
    result, problems = {}, []
    for name, shape in expected.items():
        stored = np.asarray(tensors[name])
        if not np.issubdtype(stored.dtype, np.floating):
            problems.append(f"tensor {name!r} has dtype {stored.dtype}, expected floating point")
            continue
        converted = _to_tf_layout(stored, shape, layout)
        if converted.shape != shape:
            note = f" ({converted.shape} in TensorFlow layout)" if layout != LAYOUT_TF else ""
            problems.append(
                f"tensor {name!r} has shape {stored.shape}{note}, expected {shape}")
            continue
        array = np.array(converted, dtype=np.float32, order="C", copy=True)
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            problems.append(f"tensor {name!r} has {bad} non-finite values (NaN or infinity)")
            continue
        result[name] = array
    if problems:
        raise ValueError(f"Invalid weights in {origin}:\n  - " + "\n  - ".join(problems))
    return result


def normalize_labels(labels: Sequence[str] | None,
                     num_classes: int = NUM_CLASSES) -> list[str] | None:
    """Returns exactly ``num_classes`` stripped labels, padding unused outputs with
    ``unused_<index>``; None stays None (the source had no labels)."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not all(isinstance(x, str) for x in labels):
        raise TypeError("labels must be a sequence of strings (one per class) or None.")
    labels = [label.strip() for label in labels]
    if len(labels) > num_classes:
        raise ValueError(
            f"Got {len(labels)} labels but the model has {num_classes} classes.")
    if any("\n" in label or "\r" in label for label in labels):
        raise ValueError("Labels must be single lines of text.")
    return labels + [UNUSED_LABEL.format(index=i) for i in range(len(labels), num_classes)]
