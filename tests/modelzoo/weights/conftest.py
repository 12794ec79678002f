"""Fixtures of the weights tests: one set of tensors in every supported form."""

from __future__ import annotations

import pytest
from weights_testdata import (EXTRA_SHAPES, SEED, SMALL_SHAPES, SourceSet, build_sources,
                              real_labels, real_truth, synthetic_labels, synthetic_tensors)


@pytest.fixture(scope="session")
def synthetic_sources(tmp_path_factory) -> SourceSet:
    """SMALL_SHAPES with random values, in every form (needs no shared data)."""
    truth = synthetic_tensors(SMALL_SHAPES)
    extras = synthetic_tensors(EXTRA_SHAPES, seed=SEED + 1)
    return build_sources(tmp_path_factory.mktemp("synthetic"), SMALL_SHAPES, truth, extras,
                         synthetic_labels())


@pytest.fixture(scope="session")
def real_small_sources(shared_data, tmp_path_factory) -> SourceSet:
    """SMALL_SHAPES of the real weights, in every form (the HDF5 folder is the shared one)."""
    root = shared_data / "inception5h"
    truth = real_truth(root / "dump", SMALL_SHAPES)
    return build_sources(tmp_path_factory.mktemp("real_small"), SMALL_SHAPES, truth,
                         real_truth(root / "dump", EXTRA_SHAPES),
                         real_labels(root / "synsets.txt"), hdf5_root=root)


@pytest.fixture(params=["synthetic", "shared"])
def sources(request) -> SourceSet:
    """Each test runs on synthetic tensors and, when the shared data exists, real ones."""
    if request.param == "synthetic":
        return request.getfixturevalue("synthetic_sources")
    return request.getfixturevalue("real_small_sources")
