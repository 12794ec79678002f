"""The one device decision and its override."""

import pytest
import tensorflow as tf

from lucid2 import kernels


def test_auto_is_fast_without_a_gpu_and_reference_with_one():
    assert kernels.use_fast_kernels() == (not tf.config.list_logical_devices("GPU"))


def test_kernel_choice_overrides_and_restores():
    before = kernels.use_fast_kernels()
    with kernels.kernel_choice("reference"):
        assert not kernels.use_fast_kernels()
        with kernels.kernel_choice("fast"):
            assert kernels.use_fast_kernels()
        assert not kernels.use_fast_kernels()
    assert kernels.use_fast_kernels() == before


def test_kernel_choice_restores_after_an_error():
    before = kernels.use_fast_kernels()
    with pytest.raises(RuntimeError):
        with kernels.kernel_choice("reference" if before else "fast"):
            raise RuntimeError("inside")
    assert kernels.use_fast_kernels() == before


def test_unknown_kernel_choice_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match=r"one of \('auto', 'fast', 'reference'\)"):
        with kernels.kernel_choice("gpu"):
            pass
