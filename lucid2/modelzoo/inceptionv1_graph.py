"""The GoogLeNet / InceptionV1 ("inception5h") network as a Keras functional graph.

Layer names are Lucid's. Each convolution is a linear ``Conv2D`` named
``<name>_pre_relu`` followed by a ``ReLU`` layer named ``<name>``, so both the
pre- and post-activation tensors are reachable by name (and optvis can swap
the ReLUs for gradient-redirecting ones). ``mixedXX_pre_relu`` concatenates the
branch convolutions before their ReLUs, as Lucid builds it.
"""

from __future__ import annotations

import functools
import keras
import tensorflow as tf

from lucid2 import kernels

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


def local_response_normalization(inputs: tf.Tensor, implementation: str = "auto") -> tf.Tensor:
    """inception5h's local response normalization (``tf.nn.local_response_normalization``
    with its depth radius, bias, alpha and beta); see
    :func:`lucid2.kernels.local_response_normalization` for ``implementation``."""
    return kernels.local_response_normalization(inputs, LRN_DEPTH_RADIUS, LRN_BIAS, LRN_ALPHA,
                                                LRN_BETA, implementation=implementation)


@keras.saving.register_keras_serializable(package="lucid2")
class LocalResponseNorm(keras.layers.Layer):
    """TensorFlow's local response normalization with inception5h's settings.

    ``implementation``: how it is computed (see :func:`local_response_normalization`);
    the numbers are the same.
    """

    def __init__(self, implementation: str = "auto", **kwargs):
        super().__init__(**kwargs)
        self.implementation = kernels.check_lrn_implementation(implementation)

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


def _conv(x, name: str, filters: int, kernel: int, stride: int = 1):
    layer = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same",
                                name=f"{name}_pre_relu")
    if stride > 1:
        # The stem convolution on RGB: the kernel's input gradient is much faster on CPU.
        # Only how the convolution is computed changes: the layer stays a plain Conv2D with
        # the same weights, outputs and config (a reloaded copy is simply slower to render).
        layer.convolution_op = functools.partial(kernels.conv2d_same, stride=stride)
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
    outputs = KeepAlive(name="keep_alive")([logits] + dangling)
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
