"""Fixtures of the appendix tests: a random InceptionV1 and one uninterrupted reference run."""

from __future__ import annotations

import pytest
from appendix_testlib import BATCH, LAYER, SEED, SIZE, STEPS


@pytest.fixture(scope="session")
def random_model():
    """InceptionV1 with random weights, built the way the appendix builds it (seeded)."""
    from lucid2.modelzoo import ModelSpec
    from lucid2.recipes.appendix import load_model

    return load_model(ModelSpec("inceptionv1", None, None, "RGB"))


@pytest.fixture(scope="session")
def small_settings():
    from lucid2.recipes.appendix import Settings

    return Settings(steps=STEPS, size=SIZE, channels_per_batch=BATCH, seed=SEED)


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, random_model, small_settings):
    """The small job run once, uninterrupted, in this process; its output directory."""
    from lucid2.modelzoo import ModelSpec
    from lucid2.recipes.appendix import Request, run

    output = tmp_path_factory.mktemp("reference")
    request = Request(str(output), settings=small_settings,
                      model=ModelSpec("inceptionv1", None, None, "RGB"), layers=(LAYER,))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LUCID2_MAX_STEPS", raising=False)
        manifest = run(request, model=random_model, stream=None)
    assert manifest["complete"]
    return output
