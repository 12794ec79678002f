"""Refactoring must not change results: seeded 64-step renders give the stored bytes on CPU."""

import json

import pytest
import tensorflow as tf

import golden_renders as golden

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stored_digests() -> dict[str, str]:
    return json.loads(golden.GOLDEN_FILE.read_text())


def test_the_stored_digests_cover_every_case(stored_digests):
    assert sorted(stored_digests) == sorted(golden.case_name(*case) for case in golden.CASES)


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")),
                    reason="the stored digests are CPU results")
@pytest.mark.parametrize("case", golden.CASES, ids=lambda case: golden.case_name(*case))
def test_seeded_render_bytes_are_unchanged(inception, stored_digests, case):
    images = golden.render_case(inception, *case)
    assert images.shape == (case[1], golden.SIZE, golden.SIZE, 3)
    assert golden.digest(images) == stored_digests[golden.case_name(*case)]
