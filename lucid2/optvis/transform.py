"""Random transformations that feature visualizations should be robust to.

A transform is a callable ``t(images, rng) -> images`` on float32
(N, H, W, C) tensors. Everything happens in the graph and is differentiable
with respect to ``images``; random draws come only from ``rng`` (a
``tf.random.Generator``), so a generator with a fixed seed gives bit-identical
sequences. Sizes are read with ``tf.shape``, so one ``tf.function`` serves
every image size and every random draw without retracing.

Randomness per image: :func:`pad` with ``constant_value="uniform"``,
:func:`jitter` and :func:`random_rotate` draw separate values for each image
of the batch. :func:`random_scale` draws one factor per call for the whole
batch, because all images of a batch must keep the same size.

Lists: ``standard_transforms`` (Lucid's defaults) and ``article_transforms``
(the Feature Visualization article's footnote, cropped back to the input
size by :func:`preserve_size`).

Speed: :func:`compose` (which ``render_vis`` uses) applies a run of
:class:`AffineTransform` s that starts with a constant pad (pad, jitters, a
random scale and a random rotation, as in ``standard_transforms``) as one
bilinear resampling with the same random draws (see :func:`compose`), with
:func:`lucid2.kernels.warp`. A transform of your own joins that fused path by
subclassing :class:`AffineTransform`.

Sizes: every built-in transform states the smallest and largest output size it
can give for an input size (:meth:`TransformBase.smallest_size`,
:meth:`TransformBase.largest_size`; :func:`smallest_output_size` and
:func:`largest_output_size` for any transform, None when it cannot tell, e.g. a
plain function), so that a render checks what the model will receive before
compiling anything.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import numpy as np
import tensorflow as tf

from lucid2 import kernels
from lucid2.optvis import checks

Transform = Callable[[tf.Tensor, tf.random.Generator], tf.Tensor]
# (height, width) of images; None where a size is not known.
Size = tuple[int, int]

PAD_MODES = ("constant", "reflect", "symmetric")
ANGLE_UNITS = ("degrees", "radians")
FILL_MODES = ("constant", "reflect", "wrap", "nearest")
# Gray: the value Lucid pads with, also used to fill corners uncovered by rotation.
DEFAULT_FILL = 0.5


def _as_images(images) -> tf.Tensor:
    dtype = getattr(images, "dtype", None)
    if dtype is not None and not tf.as_dtype(dtype).is_floating:
        raise TypeError(f"Transforms take float images, got dtype {tf.as_dtype(dtype).name}.")
    images = tf.convert_to_tensor(images, dtype_hint=tf.float32)
    if not images.dtype.is_floating:
        raise TypeError(f"Transforms take float images, got dtype {images.dtype.name}.")
    if images.dtype != tf.float32:
        images = tf.cast(images, tf.float32)
    if images.shape.rank is not None and images.shape.rank != 4:
        raise ValueError(f"Transforms take (N, H, W, C) images, got shape {images.shape}.")
    return images


def _check_rng(rng) -> None:
    if not isinstance(rng, tf.random.Generator):
        raise TypeError(
            "Transforms draw random numbers from a tf.random.Generator, e.g. "
            f"tf.random.Generator.from_seed(0); got {type(rng).__name__}.")


def _static_hw(images: tf.Tensor) -> tuple[int | None, int | None]:
    return images.shape[1], images.shape[2]


class TransformBase:
    """Checks the inputs, then calls :meth:`apply`; subclasses describe themselves in ``repr``."""

    def __call__(self, images, rng: tf.random.Generator) -> tf.Tensor:
        _check_rng(rng)
        return self.apply(_as_images(images), rng)

    def apply(self, images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        """The transform of checked float32 (N, H, W, C) ``images``."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply(images, rng).")

    def largest_size(self, hw: Size | None) -> Size | None:
        """The largest output (height, width) over all random draws for inputs of size
        ``hw`` (None: not known); None when the transform cannot tell.

        Raises ValueError when inputs of size ``hw`` are too small for the transform.
        """
        return None

    def smallest_size(self, hw: Size | None) -> Size | None:
        """The smallest output (height, width) over all random draws for inputs of size
        ``hw`` (None: not known); None when the transform cannot tell."""
        return None


class Geometry(NamedTuple):
    """The images' size at one point of a fused run: the batch size, height and width as
    (scalar) tensors, and (height, width) as Python ints where they are static."""

    n: tf.Tensor
    height: tf.Tensor
    width: tf.Tensor
    static_hw: tuple[int | None, int | None]


def _grown(static_hw: tuple[int | None, int | None],
           amount: int) -> tuple[int | None, int | None]:
    """``static_hw`` with ``amount`` pixels added to each side that is known."""
    height, width = static_hw
    return (None if height is None else height + amount,
            None if width is None else width + amount)


class Border(NamedTuple):
    """What the images' border holds at one point of a fused run: at least ``margin``
    pixels of the constant ``fill`` on each side (content may reach the edge when
    ``margin`` < 1)."""

    fill: float
    margin: float


class AffineTransform(TransformBase):
    """A transform that can state itself as an affine map, and so joins the one bilinear
    resampling of a fused run in :func:`compose`.

    Besides :meth:`apply` (the transform on its own), a subclass states:

    * :meth:`affine`: the matrices of its map, drawing from ``rng`` exactly what
      :meth:`apply` draws, in the same order and shapes (so fused and separate
      transforms see the same randomness);
    * :meth:`largest_size`: the largest output size over all random draws (the fused
      resampling runs on one static canvas of that size);
    * :meth:`border_after`: how it changes the constant border (a run may only resample
      where the border is padding, so that resizing's edge clamping and the constant fill
      agree), or None when it cannot join;
    * ``resamples``: whether its map moves pixels by fractions (a run is only fused when
      one of its transforms does).
    """

    resamples: bool = True

    def affine(self, rng: tf.random.Generator,
               geometry: Geometry) -> tuple[tf.Tensor | None, Geometry]:
        """(n or 1, 3, 3) matrices mapping an output pixel (x, y, 1) to the input position
        it samples (None for the identity), and the output geometry."""
        raise NotImplementedError(f"{type(self).__name__} must implement affine(rng, geometry).")

    def largest_size(self, hw: Size | None) -> Size | None:
        """The largest output (height, width) for inputs of size ``hw`` (always given
        within a fused run)."""
        raise NotImplementedError(f"{type(self).__name__} must implement largest_size(hw).")

    def border_after(self, border: Border | None) -> Border | None:
        """The border after this transform given the one before (None at the start of a
        run, where nothing is known), or None when the transform cannot join the run."""
        raise NotImplementedError(f"{type(self).__name__} must implement border_after(border).")


class _Pad(AffineTransform):
    resamples = False  # whole-pixel shifts
    constant_value: float | str  # a fill, or "uniform" (a random gray level per image)

    def __init__(self, w: int, mode: str, constant_value):
        self.w = checks.non_negative_int("w", w)
        self.mode = checks.choice("mode", mode, PAD_MODES)
        if isinstance(constant_value, str):
            if constant_value != "uniform":
                raise ValueError(
                    f"constant_value must be a number or 'uniform', got {constant_value!r}.")
            self.constant_value = constant_value
        else:
            self.constant_value = checks.finite_float("constant_value", constant_value)

    def apply(self, images, rng):
        if self.w == 0:
            return tf.identity(images)
        paddings = [(0, 0), (self.w, self.w), (self.w, self.w), (0, 0)]
        if self.mode != "constant":
            self._check_size(_static_hw(images))
            return tf.pad(images, paddings, mode=self.mode.upper())
        if self.constant_value != "uniform":
            return tf.pad(images, paddings, constant_values=self.constant_value)
        # One uniform gray level per image, written only where the padding is.
        values = rng.uniform(tf.stack([tf.shape(images)[0], 1, 1, 1]), dtype=tf.float32)
        inside = tf.pad(tf.ones_like(images[..., :1]), paddings)
        return tf.pad(images, paddings) + (1.0 - inside) * values

    def affine(self, rng, geometry):
        shift = -float(self.w)
        matrix = _translations(tf.constant([shift]), tf.constant([shift]))
        return matrix, Geometry(geometry.n, geometry.height + 2 * self.w,
                                geometry.width + 2 * self.w,
                                _grown(geometry.static_hw, 2 * self.w))

    def _check_size(self, hw) -> None:
        if self.mode == "reflect" and any(s is not None and s <= self.w for s in hw):
            raise ValueError(
                f"Reflect padding by {self.w} needs images larger than {self.w} pixels, "
                f"got spatial size {tuple(hw)}.")

    def largest_size(self, hw):
        if hw is None:
            return None
        self._check_size(hw)
        return hw[0] + 2 * self.w, hw[1] + 2 * self.w

    def smallest_size(self, hw):
        return self.largest_size(hw)  # the size does not depend on random draws

    def border_after(self, border):
        # Only a constant pad with a numeric fill makes (or widens) a known border.
        if self.mode != "constant" or self.w == 0 or isinstance(self.constant_value, str):
            return None
        if border is None:
            return Border(self.constant_value, self.w)
        if border.fill != self.constant_value:
            return None
        return Border(border.fill, border.margin + self.w)

    def __repr__(self):
        return f"pad({self.w}, mode={self.mode!r}, constant_value={self.constant_value!r})"


def pad(w: int, mode: str = "constant", constant_value=DEFAULT_FILL) -> Transform:
    """Pads each side of the images by ``w`` pixels.

    Args:
      w: pixels added on each side (>= 0).
      mode: "constant", "reflect" (needs images larger than ``w``) or "symmetric".
      constant_value: fill of the constant mode, a number or "uniform" (a
        random gray level per image).
    """
    return _Pad(w, mode, constant_value)


class _Jitter(AffineTransform):
    resamples = False  # whole-pixel shifts

    def __init__(self, d: int):
        self.d = checks.non_negative_int("d", d)

    def apply(self, images, rng):
        if self.d == 0:
            return tf.identity(images)
        h, w = _static_hw(images)
        self._check_static((h, w))
        shape = tf.shape(images)
        n, height, width = shape[0], shape[1], shape[2]
        offsets = self._draw(rng, n)
        rows = offsets[0][:, None] + tf.range(height - self.d)[None, :]
        cols = offsets[1][:, None] + tf.range(width - self.d)[None, :]
        out = tf.gather(images, rows, axis=1, batch_dims=1)
        out = tf.gather(out, cols, axis=2, batch_dims=1)
        out.set_shape([images.shape[0], None if h is None else h - self.d,
                       None if w is None else w - self.d, images.shape[3]])
        return out

    def _draw(self, rng, n) -> tf.Tensor:
        # Offsets in {0, ..., d}, independently per image and axis (Lucid's random_crop):
        # (2, n) int32, rows first.
        return rng.uniform(tf.stack([2, n]), minval=0, maxval=self.d + 1, dtype=tf.int32)

    def _check_static(self, static_hw):
        if any(s is not None and s <= self.d for s in static_hw):
            raise ValueError(
                f"jitter({self.d}) needs images larger than {self.d} pixels, got spatial size "
                f"{static_hw}.")

    def affine(self, rng, geometry):
        if self.d == 0:
            return None, geometry
        self._check_static(geometry.static_hw)
        offsets = tf.cast(self._draw(rng, geometry.n), tf.float32)
        matrices = _translations(offsets[1], offsets[0])
        return matrices, Geometry(geometry.n, geometry.height - self.d,
                                  geometry.width - self.d, _grown(geometry.static_hw, -self.d))

    def largest_size(self, hw):
        if hw is None:
            return None
        self._check_static(tuple(hw))
        return hw[0] - self.d, hw[1] - self.d

    def smallest_size(self, hw):
        return self.largest_size(hw)  # every draw crops exactly d pixels

    def border_after(self, border):
        if border is None:
            return None
        return Border(border.fill, border.margin - self.d)

    def __repr__(self):
        return f"jitter({self.d})"


def jitter(d: int) -> Transform:
    """Randomly crops ``d`` pixels off each image's height and width (shifts by 0..d pixels).

    Each image gets its own vertical and horizontal offset; the output is
    (N, H - d, W - d, C). ``jitter(0)`` is the identity.
    """
    return _Jitter(d)


def _choices(name: str, values) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        try:
            values = tuple(values)
        except TypeError:
            raise TypeError(f"{name} must be a sequence of numbers, got {values!r}.") from None
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty.")
    return tuple(checks.finite_float(f"{name} entry", v) for v in values)


def _pick(rng: tf.random.Generator, values: tuple[float, ...], count) -> tf.Tensor:
    """``count`` uniform picks (with repetition) from ``values``; repeated values weigh more."""
    index = rng.uniform(tf.reshape(count, [1]), minval=0, maxval=len(values), dtype=tf.int32)
    return tf.gather(tf.constant(values, dtype=tf.float32), index)


class _RandomScale(AffineTransform):
    def __init__(self, scales):
        self.scales = _choices("scales", scales)
        if any(s <= 0 for s in self.scales):
            raise ValueError(f"scales must all be > 0, got {self.scales}.")

    def _draw_size(self, rng, height, width) -> tf.Tensor:
        scale = _pick(rng, self.scales, 1)[0]
        size = tf.cast(tf.stack([height, width]), tf.float32) * scale
        # Truncate like Lucid, but never below one pixel.
        return tf.maximum(tf.cast(size, tf.int32), 1)

    def apply(self, images, rng):
        shape = tf.shape(images)
        return tf.image.resize(images, self._draw_size(rng, shape[1], shape[2]),
                               method="bilinear")

    def affine(self, rng, geometry):
        size = self._draw_size(rng, geometry.height, geometry.width)
        # tf.image.resize's sampling (half-pixel centers): in = (out + 0.5) * in/out - 0.5.
        ratio = (tf.cast(tf.stack([geometry.height, geometry.width]), tf.float32)
                 / tf.cast(size, tf.float32))
        zero = tf.zeros([], tf.float32)
        one = tf.ones([], tf.float32)
        matrix = tf.stack([[ratio[1], zero, 0.5 * ratio[1] - 0.5],
                           [zero, ratio[0], 0.5 * ratio[0] - 0.5],
                           [zero, zero, one]])
        return matrix[None], Geometry(geometry.n, size[0], size[1], (None, None))

    def _sizes(self, side: int) -> list[int]:
        # The sizes _draw_size can give, in its float32 arithmetic.
        return [max(int(np.float32(side) * np.float32(scale)), 1) for scale in self.scales]

    def largest_size(self, hw):
        return None if hw is None else tuple(max(self._sizes(s)) for s in hw)

    def smallest_size(self, hw):
        return None if hw is None else tuple(min(self._sizes(s)) for s in hw)

    def border_after(self, border):
        # Resizing clamps at the edges where the fused resampling reads the fill: they
        # agree only while at least one pixel of padding surrounds the content.
        if border is None or border.margin < 1:
            return None
        return Border(border.fill,
                      min(math.floor(border.margin * min(self.scales)) - 1, border.margin))

    def __repr__(self):
        return f"random_scale({list(self.scales)})"


def random_scale(scales: Sequence[float]) -> Transform:
    """Resizes the batch (bilinearly) by a factor drawn uniformly from ``scales``.

    One factor per call for the whole batch; the new size is
    ``floor(factor * size)`` (at least 1 pixel) in height and width.
    """
    return _RandomScale(scales)


def rotation_transforms(angles: tf.Tensor, height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """(N, 8) projective transforms rotating images by ``angles`` (radians, counterclockwise).

    Each row maps an output pixel (x, y) to the input position it samples:
    the rotation of (x, y) by the angle about the image center.
    """
    cos, sin = tf.cos(angles), tf.sin(angles)
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0
    x_offset = cx - (cos * cx - sin * cy)
    y_offset = cy - (sin * cx + cos * cy)
    zeros = tf.zeros_like(angles)
    return tf.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1)


class _RandomRotate(AffineTransform):
    def __init__(self, angles, units: str, fill_mode: str, fill_value):
        self.angles = _choices("angles", angles)
        self.units = checks.choice("units", units, ANGLE_UNITS)
        self.fill_mode = checks.choice("fill_mode", fill_mode, FILL_MODES)
        self.fill_value = checks.finite_float("fill_value", fill_value)
        to_radians = math.pi / 180.0 if self.units == "degrees" else 1.0
        self._radians = tuple(a * to_radians for a in self.angles)

    def affine(self, rng, geometry):
        angles = _pick(rng, self._radians, geometry.n)
        flat = rotation_transforms(angles, geometry.height, geometry.width)
        matrices = tf.reshape(tf.concat([flat, tf.ones_like(flat[:, :1])], axis=1), [-1, 3, 3])
        return matrices, geometry

    def largest_size(self, hw):
        return hw

    def smallest_size(self, hw):
        return hw

    def border_after(self, border):
        if border is None or self.fill_mode != "constant" or self.fill_value != border.fill:
            return None
        # Rotated content may reach the edge: no padding is left to rely on.
        return Border(border.fill, min(border.margin, 0))

    def apply(self, images, rng):
        shape = tf.shape(images)
        angles = _pick(rng, self._radians, shape[0])
        out = tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=rotation_transforms(angles, shape[1], shape[2]),
            output_shape=shape[1:3], fill_value=self.fill_value, interpolation="BILINEAR",
            fill_mode=self.fill_mode.upper())
        out.set_shape(images.shape)
        return out

    def __repr__(self):
        return (f"random_rotate({list(self.angles)}, units={self.units!r}, "
                f"fill_mode={self.fill_mode!r}, fill_value={self.fill_value})")


def random_rotate(angles: Sequence[float], units: str = "degrees", fill_mode: str = "constant",
                  fill_value: float = DEFAULT_FILL) -> Transform:
    """Rotates each image about its center by its own angle drawn uniformly from ``angles``.

    Positive angles rotate counterclockwise (``np.rot90``'s sense). Bilinear
    sampling; the size is unchanged. Uncovered corners are filled per
    ``fill_mode`` ("constant" with ``fill_value``, "reflect", "wrap",
    "nearest"). Lucid filled with 0 (black); the default here is the gray of
    the standard padding, so rotation does not add dark corners.
    """
    return _RandomRotate(angles, units, fill_mode, fill_value)


class _ToSize(TransformBase):
    """Gives every image one static size, whatever the input size (even an unknown one)."""

    def __init__(self, height, width):
        self.height = checks.positive_int("height", height)
        self.width = checks.positive_int("width", width)

    def _resample(self, images: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def apply(self, images, rng):
        out = self._resample(images)
        out.set_shape([images.shape[0], self.height, self.width, images.shape[3]])
        return out

    def largest_size(self, hw):
        return self.height, self.width

    def smallest_size(self, hw):
        return self.height, self.width


class _CropOrPadTo(_ToSize):
    def __init__(self, height, width, constant_value):
        super().__init__(height, width)
        self.constant_value = checks.finite_float("constant_value", constant_value)

    def _resample(self, images):
        return _center_crop_or_pad(images, self.height, self.width, self.constant_value)

    def __repr__(self):
        return f"crop_or_pad_to({self.height}, {self.width}, constant_value={self.constant_value})"


def _center_crop_or_pad(images: tf.Tensor, height, width, constant_value: float) -> tf.Tensor:
    shape = tf.shape(images)
    out = images
    for axis, target in ((1, height), (2, width)):
        size = shape[axis]
        excess = tf.maximum(size - target, 0)
        begin = [0, 0, 0, 0]
        begin[axis] = excess // 2
        length = [-1, -1, -1, -1]
        length[axis] = tf.minimum(size, target)
        out = tf.slice(out, tf.stack(begin), tf.stack(length))
        missing = tf.maximum(target - size, 0)
        paddings = [[0, 0]] * 4
        paddings[axis] = [missing // 2, missing - missing // 2]
        out = tf.pad(out, tf.stack(paddings), constant_values=constant_value)
    return out


def crop_or_pad_to(height: int, width: int, constant_value: float = DEFAULT_FILL) -> Transform:
    """Centrally crops or pads (with ``constant_value``) the images to ``height`` x ``width``.

    Meant as the last transform for models that need a fixed input size; the
    output has a static spatial shape.
    """
    return _CropOrPadTo(height, width, constant_value)


class _ResizeTo(_ToSize):
    def _resample(self, images):
        # Bilinear keeps the gradient flowing to every source pixel the output samples.
        return tf.image.resize(images, (self.height, self.width), method="bilinear")

    def __repr__(self):
        return f"resize_to({self.height}, {self.width})"


def resize_to(height: int, width: int) -> Transform:
    """Resizes the images (bilinear, differentiable) to ``height`` x ``width``.

    The renderer appends it for models that take one input size only (see
    :func:`lucid2.optvis.sizes.fit_to_model`); the output has a static spatial shape.
    """
    return _ResizeTo(height, width)


def _check_transforms(transforms) -> tuple[Transform, ...]:
    if callable(transforms):
        raise TypeError("Pass a list of transforms, e.g. [transform.jitter(4)], not a single one.")
    try:
        transforms = tuple(transforms)
    except TypeError:
        raise TypeError(f"transforms must be a list of callables, got {transforms!r}.") from None
    for t in transforms:
        if not callable(t):
            raise TypeError(f"Every transform must be callable (images, rng), got {t!r}.")
    return transforms


class _Compose(TransformBase):
    def __init__(self, transforms, fuse: bool = True):
        self.transforms = _check_transforms(transforms)
        if not isinstance(fuse, bool):
            raise TypeError(f"fuse must be True or False, got {fuse!r}.")
        self.fuse = fuse
        self._plan = fused_plan(self.transforms) if self.fuse else [
            (t,) for t in self.transforms]

    @property
    def steps(self) -> tuple[tuple[Transform, ...], ...]:
        """What a call runs, in order: single transforms as 1-tuples, fused runs as longer
        tuples (one resampling each)."""
        return tuple(self._plan)

    def apply(self, images, rng):
        for step in self._plan:
            images = step[0](images, rng) if len(step) == 1 else apply_fused(step, images, rng)
        return images

    def largest_size(self, hw):
        for t in self.transforms:
            hw = largest_output_size(t, hw)
        return hw

    def smallest_size(self, hw):
        for t in self.transforms:
            hw = smallest_output_size(t, hw)
        return hw

    def __repr__(self):
        fuse = "" if self.fuse else ", fuse=False"
        return f"compose([{', '.join(map(repr, self.transforms))}]{fuse})"


def compose(transforms: Sequence[Transform], fuse: bool = True) -> Transform:
    """One transform applying ``transforms`` in order, all drawing from the same ``rng``.

    With ``fuse`` (the default), each run of :class:`AffineTransform` s that starts with
    a constant :func:`pad` and continues with transforms that keep the border known
    (:func:`jitter`, :func:`random_scale`, :func:`random_rotate` with the pad's fill, or
    your own), as in ``standard_transforms``, is applied as one bilinear resampling
    (:func:`fused_plan`): the same random draws in the same order, the same output size
    and the same geometry, but the image is interpolated once instead of once per scale
    and rotation, and the step costs a fraction. ``fuse=False`` applies every transform
    on its own. The result's ``steps`` shows the plan.
    """
    return _Compose(transforms, fuse=fuse)


# ------------------------------------------------------------------- sizes
def _checked_hw(name: str, hw) -> Size | None:
    if hw is None:
        return None
    try:
        height, width = hw
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be (height, width) or None, got {hw!r}.") from None
    return checks.positive_int(f"{name} height", height), checks.positive_int(f"{name} width",
                                                                               width)


def _stated_size(t: Transform, method: str, hw) -> Size | None:
    hw = _checked_hw("hw", hw)
    state = getattr(t, method, None)
    if not callable(state):
        return None  # a plain function: its sizes are unknown
    try:
        size = state(hw)
    except NotImplementedError:
        return None
    return _checked_hw(f"{t!r}.{method}()", size)


def largest_output_size(t: Transform, hw: Size | None) -> Size | None:
    """The largest (height, width) that transform ``t`` gives for inputs of size ``hw``,
    over all random draws; None when not known (e.g. ``t`` is a plain function).

    Raises ValueError when inputs of size ``hw`` are too small for ``t``.
    """
    return _stated_size(t, "largest_size", hw)


def smallest_output_size(t: Transform, hw: Size | None) -> Size | None:
    """The smallest (height, width) that transform ``t`` gives for inputs of size ``hw``,
    over all random draws; None when not known.

    Raises ValueError when inputs of size ``hw`` are too small for ``t``.
    """
    return _stated_size(t, "smallest_size", hw)


# ------------------------------------------------------------------ fusion
def _fused_run(run: Sequence[Transform]) -> tuple[list[AffineTransform], Border]:
    """The transforms of a fused run, checked, and the border after the last."""
    affine: list[AffineTransform] = []
    border = None
    for t in run:
        if not isinstance(t, AffineTransform) or (border := t.border_after(border)) is None:
            raise ValueError(f"{t!r} cannot join a fused run here: {list(run)!r}.")
        affine.append(t)
    if border is None:
        raise ValueError("A fused run needs at least one transform.")
    return affine, border
def fused_plan(transforms: Sequence[Transform]) -> list[tuple[Transform, ...]]:
    """Splits ``transforms`` into single transforms (1-tuples) and fused runs.

    A run starts at a transform whose :meth:`~AffineTransform.border_after` gives a
    border from nothing (a constant pad with a numeric fill) and extends over the
    affine transforms that accept the border so far. It is kept only when it has two
    transforms or more and one of them resamples; otherwise its transforms run alone.
    """
    steps: list[tuple[Transform, ...]] = []
    index = 0
    while index < len(transforms):
        run: list[AffineTransform] = []
        border = None
        for t in transforms[index:]:
            if not isinstance(t, AffineTransform):
                break
            border = t.border_after(border)
            if border is None:
                break
            run.append(t)
        if len(run) > 1 and any(t.resamples for t in run):
            steps.append(tuple(run))
        elif run:
            steps.extend((t,) for t in run)
        else:
            steps.append((transforms[index],))
        index += max(len(run), 1)
    return steps


def _translations(dx: tf.Tensor, dy: tf.Tensor) -> tf.Tensor:
    """(n, 3, 3) matrices mapping output (x, y) to input (x + dx, y + dy)."""
    ones = tf.ones_like(dx)
    zeros = tf.zeros_like(dx)
    rows = [tf.stack([ones, zeros, dx], axis=1), tf.stack([zeros, ones, dy], axis=1),
            tf.stack([zeros, zeros, ones], axis=1)]
    return tf.stack(rows, axis=1)


def apply_fused(run: Sequence[Transform], images, rng: tf.random.Generator) -> tf.Tensor:
    """Applies a fused run (see :func:`fused_plan`) as one resampling."""
    _check_rng(rng)
    images = _as_images(images)
    affine, border = _fused_run(run)
    shape = tf.shape(images)
    geometry = Geometry(shape[0], shape[1], shape[2], _static_hw(images))
    matrix = tf.eye(3, batch_shape=[1])
    height, width = geometry.static_hw
    canvas: Size | None = None if height is None or width is None else (height, width)
    for t in affine:
        # Draws happen in the order, and with the shapes, of the transforms' own calls.
        stage, geometry = t.affine(rng, geometry)
        if stage is not None:
            matrix = _matmul3(matrix, stage)
        canvas = None if canvas is None else t.largest_size(canvas)
    matrix = tf.broadcast_to(matrix, tf.stack([geometry.n, 3, 3]))
    out = kernels.warp(images, matrix, tf.stack([geometry.height, geometry.width]), border.fill,
                       canvas)
    out.set_shape([images.shape[0], geometry.static_hw[0], geometry.static_hw[1],
                   images.shape[3]])
    return out


def _matmul3(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Products of (n or 1, 3, 3) matrices, elementwise: for 3x3 matrices a batched matrix
    multiplication kernel costs a hundred times the arithmetic."""
    return tf.reduce_sum(a[:, :, :, None] * b[:, None, :, :], axis=2)


class _PreserveSize(_Compose):
    def __init__(self, transforms, constant_value):
        super().__init__(transforms)
        self.constant_value = checks.finite_float("constant_value", constant_value)

    def apply(self, images, rng):
        shape = tf.shape(images)
        out = _center_crop_or_pad(super().apply(images, rng), shape[1], shape[2],
                                  self.constant_value)
        out.set_shape(images.shape)
        return out

    def largest_size(self, hw):
        super().largest_size(hw)  # raises when the inner transforms cannot take ``hw``
        return hw

    def smallest_size(self, hw):
        super().smallest_size(hw)
        return hw

    def __repr__(self):
        return f"preserve_size([{', '.join(map(repr, self.transforms))}])"


def preserve_size(transforms: Sequence[Transform],
                  constant_value: float = DEFAULT_FILL) -> Transform:
    """Applies ``transforms``, then centrally crops (or pads) back to the input's own size."""
    return _PreserveSize(transforms, constant_value)


class _CollapseAlpha(TransformBase):
    def apply(self, images, rng):
        if images.shape[-1] is not None and images.shape[-1] != 4:
            raise ValueError(f"collapse_alpha needs RGBA images, got shape {images.shape}.")
        rgb, alpha = images[..., :3], images[..., 3:4]
        background = rng.uniform(tf.stack([tf.shape(images)[0], 1, 1, 3]), dtype=tf.float32)
        return alpha * rgb + (1.0 - alpha) * background

    def largest_size(self, hw):
        return hw

    def smallest_size(self, hw):
        return hw

    def __repr__(self):
        return "collapse_alpha()"


def collapse_alpha() -> Transform:
    """Composites RGBA images over a random uniform color per image, giving RGB.

    Optimizing through random backgrounds makes transparent regions carry no
    information, so alpha marks what the model needs (Lucid's
    ``collapse_alpha_random`` used random noise images instead of flat colors).
    """
    return _CollapseAlpha()


# Lucid's defaults: pad 12 with gray, jitter 8, scale by 0.9 ... 1.1, rotate by
# -10 ... 10 degrees (0 five extra times), jitter 4. 128 px become about 140 px.
STANDARD_SCALES = tuple(1 + (i - 5) / 50.0 for i in range(11))
STANDARD_ANGLES = tuple(range(-10, 11)) + 5 * (0,)
standard_transforms: list[Transform] = [
    pad(12, mode="constant", constant_value=0.5),
    jitter(8),
    random_scale(STANDARD_SCALES),
    random_rotate(STANDARD_ANGLES),
    jitter(4),
]

# The article's footnote: pad 16, jitter 16, scale from (1, 0.975, 1.025, 0.95,
# 1.05), rotate by -5 ... 5 degrees, jitter 8, then crop the padding back off.
# The footnote does not say how that crop is done; one preserve_size entry
# centrally crops (or pads with gray) to the input's own size, so the model
# sees images of the parameterization's size with the content centered. Use
# compose(article_transforms) or extend the list.
ARTICLE_SCALES = (1, 0.975, 1.025, 0.95, 1.05)
ARTICLE_ANGLES = tuple(range(-5, 6))
article_transforms: list[Transform] = [
    preserve_size([
        pad(16, mode="constant", constant_value=0.5),
        jitter(16),
        random_scale(ARTICLE_SCALES),
        random_rotate(ARTICLE_ANGLES),
        jitter(8),
    ]),
]


# MACO (Fel et al. 2023) looks at the image through random crops, each resized to the
# image's own size, plus pixel noise. Our defaults: crops of 40% to 100% of the side,
# placed uniformly inside the image, 0.02 noise (values in [0, 1]).
MACO_CROP_FRACTIONS = (0.4, 1.0)
MACO_CROPS = 4
MACO_NOISE = 0.02


class _RandomCrops(TransformBase):
    def __init__(self, count, min_fraction, max_fraction, size):
        self.count = checks.positive_int("count", count)
        self.min_fraction = checks.positive_float("min_fraction", min_fraction)
        self.max_fraction = checks.positive_float("max_fraction", max_fraction)
        if not self.min_fraction <= self.max_fraction <= 1.0:
            raise ValueError(
                "The crops' side fractions must satisfy 0 < min_fraction <= max_fraction <= 1, "
                f"got min_fraction={min_fraction}, max_fraction={max_fraction}.")
        self.size = None if size is None else _checked_hw("size", size)

    def apply(self, images, rng):
        shape = tf.shape(images)
        total = shape[0] * self.count
        sides = rng.uniform(tf.reshape(total, [1]), self.min_fraction, self.max_fraction)
        # Top-left corners uniform over the positions that keep the crop inside the image,
        # so no crop shows anything but the image.
        tops = rng.uniform(tf.reshape(total, [1])) * (1.0 - sides)
        lefts = rng.uniform(tf.reshape(total, [1])) * (1.0 - sides)
        boxes = tf.stack([tops, lefts, tops + sides, lefts + sides], axis=1)
        owners = tf.repeat(tf.range(shape[0]), self.count)  # image-major: crops of image 0 first
        height, width = _static_hw(images)
        out_hw = self.size
        if out_hw is None and height is not None and width is not None:
            out_hw = (height, width)
        crop_size = tf.constant(out_hw, tf.int32) if out_hw is not None else shape[1:3]
        out = tf.image.crop_and_resize(images, boxes, owners, crop_size, method="bilinear")
        batch = None if images.shape[0] is None else images.shape[0] * self.count
        out.set_shape([batch, *(out_hw or (None, None)), images.shape[3]])
        return out

    def largest_size(self, hw):
        return self.size if self.size is not None else hw

    def smallest_size(self, hw):
        return self.largest_size(hw)

    def __repr__(self):
        return (f"random_crops({self.count}, min_fraction={self.min_fraction}, "
                f"max_fraction={self.max_fraction}, size={self.size})")


def random_crops(count: int = MACO_CROPS, min_fraction: float = MACO_CROP_FRACTIONS[0],
                 max_fraction: float = MACO_CROP_FRACTIONS[1],
                 size: Size | None = None) -> Transform:
    """``count`` random square-ish crops of every image, each resized (bilinear) to ``size``.

    Each crop's side is a fraction of the image's height and width, drawn uniformly in
    [``min_fraction``, ``max_fraction``]; its position is uniform among those that keep
    it inside the image. The output has ``count`` times as many images, image-major (the
    crops of image 0, then of image 1, ...), so use it with objectives that average over
    the batch (no ``batch=`` index): a MACO render optimizes one image per objective.

    Args:
      count: crops per image and call.
      min_fraction, max_fraction: the range of the crops' side, as a fraction of the
        image's (0 < min_fraction <= max_fraction <= 1).
      size: the crops' (height, width); None: the input's own size.
    """
    return _RandomCrops(count, min_fraction, max_fraction, size)


class _RandomNoise(TransformBase):
    def __init__(self, sd):
        self.sd = checks.non_negative_float("sd", sd)

    def apply(self, images, rng):
        if self.sd == 0:
            return tf.identity(images)
        return images + rng.normal(tf.shape(images), stddev=self.sd)

    def largest_size(self, hw):
        return hw

    def smallest_size(self, hw):
        return hw

    def __repr__(self):
        return f"random_noise({self.sd})"


def random_noise(sd: float = MACO_NOISE) -> Transform:
    """Adds Gaussian noise of standard deviation ``sd`` to every pixel and channel (values
    may leave [0, 1]; the model takes them as they are)."""
    return _RandomNoise(sd)


def maco_transforms(count: int = MACO_CROPS, min_fraction: float = MACO_CROP_FRACTIONS[0],
                    max_fraction: float = MACO_CROP_FRACTIONS[1],
                    noise: float = MACO_NOISE) -> list[Transform]:
    """MACO's robustness transforms: :func:`random_crops` (``count`` crops per image,
    resized to the image's size), then :func:`random_noise`.

    The MACO paper (and Xplique) draws dozens of crops per step from a large image, with
    a side shrinking from half the image to a twentieth over the steps. Our defaults suit
    renders at the size the model sees (128 to 224 pixels) and a CPU budget: 4 crops of
    40% to 100% of the side at every step, and light noise.
    """
    return [random_crops(count, min_fraction, max_fraction), random_noise(noise)]
