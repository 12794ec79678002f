"""Shared-plus-separate parameterizations and interpolation."""

import numpy as np
import pytest

from lucid2.optvis import param


def test_interpolation_weights_two_endpoints():
    w = param.interpolation_weights(6, 2)
    k = np.arange(6) / 5
    np.testing.assert_allclose(w, np.stack([1 - k, k], axis=1), atol=1e-7)


def test_interpolation_weights_three_endpoints_piecewise():
    w = param.interpolation_weights(5, 3)
    np.testing.assert_allclose(w, [[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1]])
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


@pytest.mark.parametrize("args", [(1, 2), (6, 1), (2, 3)])
def test_interpolation_weights_errors(args):
    with pytest.raises(ValueError):
        param.interpolation_weights(*args)


def test_interpolate_frames_mixes_endpoints_linearly():
    ends = param.pixel_image((2, 1, 1, 3), init_val=np.stack(
        [np.zeros((1, 1, 3)), np.full((1, 1, 3), 10.0)]))
    frames = param.interpolate_frames(ends, 6)().numpy()[:, 0, 0, 0]
    np.testing.assert_allclose(frames, [0, 2, 4, 6, 8, 10], atol=1e-5)


def test_image_interpolation_structure():
    p = param.image_interpolation(32, n_objectives=2, n_frames=6)
    x = p().numpy()
    assert x.shape == (6, 32, 32, 3) and np.all((x >= 0) & (x <= 1))
    assert p.n_frames == 6 and p.n_objectives == 2
    np.testing.assert_allclose(p.frame_weights, param.interpolation_weights(6, 2))
    shapes = sorted(tuple(v.shape) for v in p.trainable_variables)
    # One unique spectrum, 4 shared low-res tensors (batch 1), 2 per-objective ones (batch 2).
    assert (6, 3, 32, 17, 2) in shapes
    assert sum(s[0] == 1 for s in shapes) == 4
    assert sorted(s for s in shapes if s[0] == 2 and len(s) == 4) == [(2, 2, 2, 3), (2, 4, 4, 3)]


def test_shared_image_shares_low_frequencies():
    p = param.shared_image(16, batch=3, shared_levels=(4,))
    shared = [part for part in p.raw.parts if isinstance(part, param.LowresTensor)]
    assert len(shared) == 1 and shared[0].underlying_shape == (1, 4, 4, 3)
    # With the unique part zeroed, every image is the same.
    p.raw.parts[0].spectrum.assign(np.zeros(p.raw.parts[0].spectrum.shape, np.float32))
    x = p().numpy()
    np.testing.assert_array_equal(x[0], x[1])
    with pytest.raises(TypeError):
        param.shared_image(16, shared_levels=4)
