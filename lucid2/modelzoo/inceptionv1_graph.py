"""The GoogLeNet / InceptionV1 ("inception5h") network as a Keras functional graph.

Layer names are Lucid's. Each convolution is a linear ``Conv2D`` named
``<name>_pre_relu`` followed by a ``ReLU`` layer named ``<name>``, so both the
pre- and post-activation tensors are reachable by name (and optvis can swap
the ReLUs for gradient-redirecting ones). ``mixedXX_pre_relu`` concatenates the
branch convolutions before their ReLUs, as Lucid builds it.
"""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
import tensorflow as tf

# Lucid's InceptionV1: pixels in [0, 255] minus the ImageNet mean 117.
IMAGE_VALUE_RANGE = (-117.0, 138.0)
NUM_CLASSES = 1008
HEAD_POOL_SIZE = 7
LRN_DEPTH_RADIUS = 5
LRN_BIAS = 2.0
LRN_ALPHA = 1e-4
LRN_BETA = 0.5

# (name, 1x1, 3x3 bottleneck, 3x3, 5x5 bottleneck, 5x5, pool reduce) per mixed block.
MIXED_BLOCKS = (
    ("mixed3a", 64, 96, 128, 16, 32, 32),
    ("mixed3b", 128, 128, 192, 32, 96, 64),
    ("mixed4a", 192, 96, 204, 16, 48, 64),
    ("mixed4b", 160, 112, 224, 24, 64, 64),
    ("mixed4c", 128, 128, 256, 24, 64, 64),
    ("mixed4d", 112, 144, 288, 32, 64, 64),
    ("mixed4e", 256, 160, 320, 32, 128, 128),
    ("mixed5a", 256, 160, 320, 48, 128, 128),
    ("mixed5b", 384, 192, 384, 48, 128, 128),
)
# Stride-2 max pools that come before these blocks.
POOL_BEFORE = {"mixed4a": "maxpool4", "mixed5a": "maxpool10"}
STEM_CONVS = (("conv2d0", 7, 2, 3, 64), ("conv2d1", 1, 1, 64, 64), ("conv2d2", 3, 1, 64, 192))
CHANNELS = {"conv2d0": 64, "conv2d1": 64, "conv2d2": 192,
            **{block[0]: block[1] + block[3] + block[5] + block[6] for block in MIXED_BLOCKS}}
BRANCHES = ("1x1", "3x3_bottleneck", "3x3", "5x5_bottleneck", "5x5", "pool_reduce")
# Strided convolutions with at most this many input channels (conv2d0, on the RGB image)
# compute the gradient with respect to their input as one stride-1 convolution.
FAST_INPUT_GRAD_MAX_CHANNELS = 4


def weight_shapes() -> dict[str, tuple[int, ...]]:
    """Every weight tensor of the main path, in TensorFlow layout (KH, KW, IN, OUT)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, kernel, _, cin, cout in STEM_CONVS:
        shapes[f"{name}_w"] = (kernel, kernel, cin, cout)
        shapes[f"{name}_b"] = (cout,)
    cin = CHANNELS["conv2d2"]
    for name, c1, c3r, c3, c5r, c5, cp in MIXED_BLOCKS:
        for branch, kernel, bin_, bout in (("1x1", 1, cin, c1), ("3x3_bottleneck", 1, cin, c3r),
                                           ("3x3", 3, c3r, c3), ("5x5_bottleneck", 1, cin, c5r),
                                           ("5x5", 5, c5r, c5), ("pool_reduce", 1, cin, cp)):
            shapes[f"{name}_{branch}_w"] = (kernel, kernel, bin_, bout)
            shapes[f"{name}_{branch}_b"] = (bout,)
        cin = CHANNELS[name]
    shapes["softmax2_w"] = (cin, NUM_CLASSES)
    shapes["softmax2_b"] = (NUM_CLASSES,)
    return shapes


def _gpu_visible() -> bool:
    # Read while tracing, never at import: the choice of kernels per device type.
    return bool(tf.config.list_logical_devices("GPU"))


def channel_window_sum(values: tf.Tensor, radius: int) -> tf.Tensor:
    """Sum over the ``2 * radius + 1`` channels centered on each channel (zeros beyond the ends).

    Built from power-of-two partial sums (window 11 = 8 + 2 + 1), so it costs a handful of
    element-wise additions and keeps the rounding of a direct sum.
    """
    channels = values.shape[-1]
    window = 2 * radius + 1
    rank = values.shape.rank
    padded = tf.pad(values, [[0, 0]] * (rank - 1) + [[radius, radius]])
    sums = {1: padded}
    width = 1
    while 2 * width <= window:
        previous = sums[width]
        sums[2 * width] = previous[..., :-width] + previous[..., width:]
        width *= 2
    total, offset = None, 0
    while width:
        if window & width:
            piece = sums[width][..., offset:offset + channels]
            total = piece if total is None else total + piece
            offset += width
        width //= 2
    return total


def _lrn_scale(norm: tf.Tensor, beta: float) -> tf.Tensor:
    return tf.math.rsqrt(norm) if beta == 0.5 else tf.pow(norm, -beta)


def _lrn_forward(x, depth_radius: int, bias: float, alpha: float, beta: float):
    """(LRN of x, its normalizer ``bias + alpha * window_sum(x**2)``)."""
    norm = alpha * channel_window_sum(tf.square(x), depth_radius) + bias
    return x * _lrn_scale(norm, beta), norm


def _lrn_backward(upstream, x, y, norm, depth_radius: int, alpha: float, beta: float):
    """``dx = g * n**-beta - 2 * alpha * beta * x * window_sum(g * y / n)``."""
    return (upstream * _lrn_scale(norm, beta)
            - (2.0 * alpha * beta) * x * channel_window_sum(upstream * y / norm, depth_radius))


def _lrn_ops(inputs: tf.Tensor, depth_radius: int, bias: float, alpha: float,
             beta: float) -> tf.Tensor:
    @tf.custom_gradient
    def lrn(x):
        y, norm = _lrn_forward(x, depth_radius, bias, alpha, beta)

        def grad(upstream):
            return _lrn_backward(upstream, x, y, norm, depth_radius, alpha, beta)

        return y, grad

    return lrn(inputs)


# Each distinct input shape costs XLA a compilation (about 0.1 s). Rows (positions) are
# padded up to one of LRN_XLA_BUCKETS_PER_OCTAVE sizes per power of two (at most 25 % more
# rows), so the randomly scaled images of a render need a few shapes, not one per size.
LRN_XLA_BUCKETS_PER_OCTAVE = 4
LRN_XLA_MIN_ROWS = 64
# Module-level so that every model (and every render) shares one compilation cache.
_lrn_forward_xla = tf.function(_lrn_forward, jit_compile=True, autograph=False)
_lrn_backward_xla = tf.function(_lrn_backward, jit_compile=True, autograph=False)


def lrn_row_bucket(rows) -> tf.Tensor:
    """``rows`` rounded up to a multiple of ``2**(floor(log2(rows)) - 2)`` (at least
    ``LRN_XLA_MIN_ROWS``): 4 sizes per power of two."""
    rows = tf.maximum(tf.cast(rows, tf.int32), LRN_XLA_MIN_ROWS)
    octave = tf.cast(tf.math.floor(tf.math.log(tf.cast(rows, tf.float32)) / math.log(2.0)),
                     tf.int32)
    shift = tf.maximum(octave - int(math.log2(LRN_XLA_BUCKETS_PER_OCTAVE)), 0)
    quantum = tf.bitwise.left_shift(tf.constant(1, tf.int32), shift)
    return (rows + quantum - 1) // quantum * quantum


def _lrn_xla(inputs: tf.Tensor, depth_radius: int, bias: float, alpha: float,
             beta: float) -> tf.Tensor:
    channels = inputs.shape[-1]

    @tf.custom_gradient
    def lrn(x):
        shape = tf.shape(x)
        rows = tf.reduce_prod(shape[:-1])
        padding = [[0, lrn_row_bucket(rows) - rows], [0, 0]]
        padded = tf.pad(tf.reshape(x, [rows, channels]), padding)
        y, norm = _lrn_forward_xla(padded, depth_radius, bias, alpha, beta)

        def grad(upstream):
            g = tf.pad(tf.reshape(upstream, [rows, channels]), padding)
            dx = _lrn_backward_xla(g, padded, y, norm, depth_radius, alpha, beta)
            return tf.reshape(dx[:rows], shape)

        return tf.reshape(y[:rows], shape), grad

    return lrn(inputs)


LRN_IMPLEMENTATIONS = ("auto", "xla", "ops", "tensorflow")


def check_lrn_implementation(implementation) -> str:
    """``implementation`` if it names one of ``LRN_IMPLEMENTATIONS``, else a ValueError."""
    if implementation not in LRN_IMPLEMENTATIONS:
        raise ValueError(f"The LRN implementation must be one of {LRN_IMPLEMENTATIONS}, got "
                         f"{implementation!r}.")
    return implementation


def local_response_normalization(inputs: tf.Tensor, depth_radius: int = LRN_DEPTH_RADIUS,
                                 bias: float = LRN_BIAS, alpha: float = LRN_ALPHA,
                                 beta: float = LRN_BETA,
                                 implementation: str = "auto") -> tf.Tensor:
    """``tf.nn.local_response_normalization`` (same numbers to float rounding), fast on CPU.

    On CPU, TensorFlow's ``LRNGrad`` loops over every channel's window with a division
    and a power per term (for conv2d2's 192 channels, forward and gradient cost about twice
    ``"ops"`` and five times ``"xla"``). The other implementations use the closed-form
    gradient
    ``dx = g * n**-beta - 2 * alpha * beta * x * window_sum(g * y / n)`` with
    ``n = bias + alpha * window_sum(x**2)``:

    * ``"xla"``: forward and gradient each compiled by XLA into a few fused loops, on
      the positions flattened to rows and padded to a row bucket (:func:`lrn_row_bucket`);
      the fastest on CPU (InceptionV1's input-gradient step up to mixed4a 6-10 % faster
      than with ``"ops"``);
    * ``"ops"``: the same formulas as TensorFlow ops (no compilation);
    * ``"tensorflow"``: TensorFlow's kernels (on GPU: cuDNN's);
    * ``"auto"``: ``"tensorflow"`` when a GPU is visible, else ``"xla"`` (decided while
      tracing, never at import).
    """
    implementation = check_lrn_implementation(implementation)
    inputs = tf.convert_to_tensor(inputs)
    if implementation == "auto":
        implementation = "tensorflow" if _gpu_visible() else "xla"
    if implementation == "tensorflow":
        return tf.nn.local_response_normalization(inputs, depth_radius=depth_radius, bias=bias,
                                                  alpha=alpha, beta=beta)
    if inputs.shape[-1] is None:
        raise ValueError(f"The {implementation!r} LRN needs a known channel count, got "
                         f"shape {inputs.shape}.")
    if implementation == "xla":
        return _lrn_xla(inputs, depth_radius, bias, alpha, beta)
    return _lrn_ops(inputs, depth_radius, bias, alpha, beta)


@keras.saving.register_keras_serializable(package="lucid2")
class LocalResponseNorm(keras.layers.Layer):
    """TensorFlow's local response normalization with inception5h's settings.

    ``implementation``: how it is computed (see :func:`local_response_normalization`);
    the numbers are the same.
    """

    def __init__(self, implementation: str = "auto", **kwargs):
        super().__init__(**kwargs)
        self.implementation = check_lrn_implementation(implementation)

    def call(self, inputs):
        return local_response_normalization(inputs, implementation=self.implementation)

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}


@keras.saving.register_keras_serializable(package="lucid2")
class HeadPool(keras.layers.Layer):
    """7x7 VALID average pool followed by a mean over the remaining positions.

    At 224 px (a 7x7 mixed5b) this is exactly inception5h's ``avgpool0``. On
    larger images it averages the class evidence of every 7x7 window (a sliding
    classifier); on maps smaller than 7 the window shrinks to the map, so class
    objectives work at Lucid's usual 128 px. Implemented as a weighted mean
    (each position weighted by how many windows cover it) so that it works with
    spatial sizes only known at run time.
    """

    def call(self, inputs):
        shape = tf.shape(inputs)
        weights_h = self._coverage(shape[1])
        weights_w = self._coverage(shape[2])
        weights = weights_h[:, None] * weights_w[None, :]
        weights = weights / tf.reduce_sum(weights)
        return tf.einsum("nhwc,hw->nc", inputs, tf.cast(weights, inputs.dtype))

    @staticmethod
    def _coverage(size):
        window = tf.minimum(size, HEAD_POOL_SIZE)
        index = tf.range(size)
        count = tf.minimum(tf.minimum(index + 1, size - index),
                           tf.minimum(window, size - window + 1))
        return tf.cast(count, tf.float32)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="lucid2")
class KeepAlive(keras.layers.Layer):
    """Returns its first input; the others only keep side layers in the graph.

    Keras functional models contain only layers that lead to an output. Lucid
    names a few tensors that lead nowhere (``softmax2``, the ``mixedXX_pre_relu``
    concatenations, the ReLUs of branches whose concatenation lucid2 takes from
    the pre-activations); listing them here keeps them reachable with
    ``get_layer``. In a compiled function the unused inputs are pruned, so they
    cost nothing.
    """

    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _phase_kernel(kernel: tf.Tensor, stride: int) -> tf.Tensor:
    """The (m, m, out, stride**2 * in) kernel of the input gradient in space-to-depth form.

    With the kernel zero-padded to ``m * stride`` taps, input pixel ``stride * p + r`` (in
    padded coordinates) receives ``sum_j dy[p - j] * kernel[stride * j + r]``: for each phase
    ``r`` a stride-1 correlation of ``dy`` with every ``stride``-th tap, flipped. Built with
    one gather of constant indices (a transpose of this 6-D layout is slow on CPU).
    """
    size_h, size_w, channels_in, channels_out = (int(d) for d in kernel.shape)
    taps_h, taps_w = -(-size_h // stride), -(-size_w // stride)
    j_h, j_w, out, r_h, r_w, c = np.meshgrid(
        np.arange(taps_h), np.arange(taps_w), np.arange(channels_out), np.arange(stride),
        np.arange(stride), np.arange(channels_in), indexing="ij")
    row = stride * (taps_h - 1 - j_h) + r_h
    col = stride * (taps_w - 1 - j_w) + r_w
    index = ((row * size_w + col) * channels_in + c) * channels_out + out
    zero = size_h * size_w * channels_in * channels_out  # the appended 0 for padded taps
    index = np.where((row < size_h) & (col < size_w), index, zero)
    flat = tf.concat([tf.reshape(kernel, [-1]), tf.zeros([1], kernel.dtype)], axis=0)
    phases = tf.gather(flat, index.reshape(taps_h, taps_w, channels_out, -1))
    return phases


def strided_conv_input_grad(dy: tf.Tensor, kernel: tf.Tensor, input_shape: tf.Tensor,
                            stride: int) -> tf.Tensor:
    """Gradient of ``conv2d(x, kernel, stride, "SAME")`` with respect to ``x``.

    The same numbers as TensorFlow's ``Conv2DBackpropInput``, computed as a stride-1
    convolution producing ``stride**2 * in`` channels followed by ``depth_to_space``. On
    CPU the strided backward-data kernel for a 3-channel input is slow, and very slow for
    some image sizes (oneDNN picks a poor algorithm for them), which made render steps at
    randomly scaled sizes about 1.5 times slower than at a fixed size.
    """
    size_h, size_w = kernel.shape[0], kernel.shape[1]
    taps_h, taps_w = -(-size_h // stride), -(-size_w // stride)
    height, width = input_shape[1], input_shape[2]
    out_h, out_w = tf.shape(dy)[1], tf.shape(dy)[2]
    # "SAME" padding as TensorFlow places it: the smaller half before.
    pad_top = tf.maximum((out_h - 1) * stride + size_h - height, 0) // 2
    pad_left = tf.maximum((out_w - 1) * stride + size_w - width, 0) // 2
    # Enough rows after dy for the largest possible padding before x.
    after_h = -(-((size_h - 1) // 2) // stride)
    after_w = -(-((size_w - 1) // 2) // stride)
    padded = tf.pad(dy, [[0, 0], [taps_h - 1, after_h], [taps_w - 1, after_w], [0, 0]])
    phases = tf.nn.conv2d(padded, _phase_kernel(kernel, stride), 1, "VALID")
    full = tf.nn.depth_to_space(phases, stride)
    return full[:, pad_top:pad_top + height, pad_left:pad_left + width, :]


def strided_conv2d(inputs: tf.Tensor, kernel: tf.Tensor, stride: int) -> tf.Tensor:
    """``conv2d(inputs, kernel, stride, "SAME")`` (NHWC) with a faster input gradient."""

    @tf.custom_gradient
    def conv(x, k):
        def grad(dy):
            dx = strided_conv_input_grad(dy, k, tf.shape(x), stride)
            dk = tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=tf.shape(k), out_backprop=dy,
                strides=[1, stride, stride, 1], padding="SAME")
            return dx, dk

        return tf.nn.conv2d(x, k, stride, "SAME"), grad

    return conv(tf.convert_to_tensor(inputs), tf.convert_to_tensor(kernel))


def _strided_convolution_op(layer: keras.layers.Conv2D, inputs, kernel):
    if _gpu_visible():
        return keras.layers.Conv2D.convolution_op(layer, inputs, kernel)
    return strided_conv2d(inputs, kernel, layer.strides[0])


def _conv(x, name: str, filters: int, kernel: int, stride: int = 1):
    layer = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same",
                                name=f"{name}_pre_relu")
    if stride > 1 and x.shape[-1] <= FAST_INPUT_GRAD_MAX_CHANNELS:
        # Only how the gradient is computed changes: the layer stays a plain Conv2D with the
        # same weights, outputs and config (a reloaded copy is simply slower to render).
        layer.convolution_op = functools.partial(_strided_convolution_op, layer)
    pre = layer(x)
    return pre, keras.layers.ReLU(name=name)(pre)


def _max_pool(x, name: str, stride: int):
    return keras.layers.MaxPooling2D(3, strides=stride, padding="same", name=name)(x)


def build_inception_v1(name: str = "InceptionV1",
                       image_size: tuple[int, int] | None = None,
                       lrn_implementation: str = "auto") -> keras.Model:
    """Builds the untrained network: [0, 1] RGB images in, 1008 logits out.

    ``image_size`` (height, width) fixes the input's spatial size, for tools that need
    static shapes; by default any size is accepted. ``lrn_implementation``: see
    :func:`local_response_normalization`.
    """
    height, width = (None, None) if image_size is None else image_size
    inputs = keras.Input(shape=(height, width, 3), name="images", dtype="float32")
    low, high = IMAGE_VALUE_RANGE
    x = keras.layers.Rescaling(scale=high - low, offset=low, name="to_value_range")(inputs)
    dangling = []

    _, x = _conv(x, "conv2d0", 64, 7, stride=2)
    x = _max_pool(x, "maxpool0", 2)
    x = LocalResponseNorm(lrn_implementation, name="localresponsenorm0")(x)
    _, x = _conv(x, "conv2d1", 64, 1)
    _, x = _conv(x, "conv2d2", 192, 3)
    x = LocalResponseNorm(lrn_implementation, name="localresponsenorm1")(x)
    x = _max_pool(x, "maxpool1", 2)

    for block, c1, c3r, c3, c5r, c5, cp in MIXED_BLOCKS:
        if block in POOL_BEFORE:
            x = _max_pool(x, POOL_BEFORE[block], 2)
        pre_1x1, relu_1x1 = _conv(x, f"{block}_1x1", c1, 1)
        _, bottleneck_3 = _conv(x, f"{block}_3x3_bottleneck", c3r, 1)
        pre_3x3, relu_3x3 = _conv(bottleneck_3, f"{block}_3x3", c3, 3)
        _, bottleneck_5 = _conv(x, f"{block}_5x5_bottleneck", c5r, 1)
        pre_5x5, relu_5x5 = _conv(bottleneck_5, f"{block}_5x5", c5, 5)
        pooled = _max_pool(x, f"{block}_pool", 1)
        pre_pool, relu_pool = _conv(pooled, f"{block}_pool_reduce", cp, 1)
        # The block output as in the original graph: concatenated branch ReLUs.
        x = keras.layers.Concatenate(name=block)([relu_1x1, relu_3x3, relu_5x5, relu_pool])
        dangling.append(keras.layers.Concatenate(name=f"{block}_pre_relu")(
            [pre_1x1, pre_3x3, pre_5x5, pre_pool]))

    pooled = HeadPool(name="avgpool0")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name="softmax2_pre_activation")(pooled)
    dangling.append(keras.layers.Softmax(name="softmax2")(logits))
    outputs = KeepAlive(name="logits")([logits] + dangling)
    return keras.Model(inputs, outputs, name=name)


def layer_name_for_weight(weight_name: str) -> str:
    """The Keras layer holding a weight tensor (``mixed4a_1x1_w`` -> ``mixed4a_1x1_pre_relu``)."""
    base = weight_name[:-2]
    return "softmax2_pre_activation" if base == "softmax2" else f"{base}_pre_relu"


def assign_weights(model: keras.Model, weights) -> None:
    """Copies a {name: array} dict in TensorFlow layout into the model's layers."""
    for name in weight_shapes():
        if name.endswith("_w"):
            layer = model.get_layer(layer_name_for_weight(name))
            layer.set_weights([weights[name], weights[name[:-2] + "_b"]])
