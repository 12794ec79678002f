"""Running a kernel on its fast path and on its reference: values, gradients and graphs."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from lucid2.kernels import kernel_choice
from lucid2.optvis import transform

RENDER_SIZE = 128
BATCHES = (1, 4)


def standard_transform_sizes(size: int = RENDER_SIZE) -> list[int]:
    """Every side length the standard transforms give a ``size`` px render (pad 12,
    jitter 8, one of the 11 scales, rotation, jitter 4): what the model receives."""
    pad, first_jitter, _, _, last_jitter = transform.standard_transforms
    before_scale = size + 2 * pad.w - first_jitter.d
    return sorted({max(int(np.float32(before_scale) * np.float32(scale)), 1) - last_jitter.d
                   for scale in transform.STANDARD_SCALES})


def op_types(fn: Callable, inputs: Sequence[tf.Tensor]) -> set[str]:
    """The op types of ``fn``'s forward and input-gradient graph, traced under the current
    kernel choice."""
    def step(*args):
        with tf.GradientTape() as tape:
            tape.watch(args)
            out = fn(*args)
        return out, tape.gradient(out, args)

    graph = tf.function(step).get_concrete_function(*inputs).graph
    return {op.type for op in graph.get_operations()}


def run_both(fn: Callable, inputs: Sequence[tf.Tensor], seed: int = 0):
    """``{"fast": (output, gradients), "reference": (...)}`` for a random upstream
    gradient; also checks that the two paths trace to different graphs, so a comparison
    can never be of the reference with itself."""
    results, graphs = {}, {}
    upstream = None
    for choice in ("fast", "reference"):
        with kernel_choice(choice):
            graphs[choice] = op_types(fn, inputs)
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                out = fn(*inputs)
                if upstream is None:
                    upstream = tf.random.stateless_normal(tf.shape(out), [seed, 1])
                loss = tf.reduce_sum(out * upstream)
            grads = tape.gradient(loss, inputs)
        results[choice] = (out.numpy(), [g.numpy() for g in grads])
    assert graphs["fast"] != graphs["reference"], "the fast path was not taken"
    return results


def assert_close(results, rtol: float, atol: float, grad_rtol: float, grad_atol: float) -> None:
    """Fast and reference agree: values within (rtol, atol), gradients within
    (grad_rtol, grad_atol times the largest reference gradient)."""
    fast, reference = results["fast"], results["reference"]
    assert fast[0].shape == reference[0].shape
    np.testing.assert_allclose(fast[0], reference[0], rtol=rtol, atol=atol)
    for got, want in zip(fast[1], reference[1]):
        scale = max(float(np.abs(want).max()), 1e-30)
        np.testing.assert_allclose(got, want, rtol=grad_rtol, atol=grad_atol * scale)
