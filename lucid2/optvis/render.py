"""``render_vis``: optimize an image parameterization to maximize an objective.

Everything is validated before anything compiles: the objective against the
model (layer names, channels, ``batch=`` targets, image size), the
parameterization's shape, the thresholds, the optimizer's learning rate, and
the size of the images the model receives after the transforms (a model with a
fixed input size gets exactly that size: a differentiable resize is appended to
the transforms, with a warning; images too small for a requested layer are
refused with the smallest size that works, see :mod:`lucid2.optvis.sizes`).
Then one ``tf.function`` step is traced per render (never retraced across steps
or thresholds) that computes the network only up to the deepest layer the
objective reads. The step also notes the first step
whose objective or updated parameterization is NaN or infinite; rendering stops
there with :class:`NonFiniteObjectiveError`.

Lucid's behaviour, in TensorFlow 2 terms:

* defaults: ``param.image(128)``, ``transform.standard_transforms``,
  ``keras.optimizers.Adam(0.05)``, thresholds ``(512,)``;
* redirected ReLU gradients (:mod:`lucid2.optvis.redirected_relu`) during the
  first ``redirect_steps`` steps, then true gradients;
* ``thresholds`` count optimization steps: the image returned for threshold
  ``t`` is the one after ``t`` updates (Lucid's loop returned the image after
  ``t + 1`` updates).

The environment variable ``LUCID2_MAX_STEPS`` (a positive integer) caps the
number of steps of every render, for tests and CI: thresholds above the cap
become the cap, so the result still has one image per threshold.
"""

from __future__ import annotations

import itertools
import os
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from lucid2.misc.io import save_gif
from lucid2.optvis import checks
from lucid2.optvis import objectives as objectives_lib
from lucid2.optvis.defaults import DEFAULT_LEARNING_RATE, DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.optvis import param, sizes, transform
from lucid2.optvis import progress as progress_lib
from lucid2.optvis.model_api import RenderableModel, outputs_by_layer, require_renderable
from lucid2.optvis.redirected_relu import redirected_relus

DEFAULT_THRESHOLDS = (DEFAULT_STEPS,)
DEFAULT_REDIRECT_STEPS = 16
MAX_STEPS_ENV = "LUCID2_MAX_STEPS"
# Reading a value from the device costs a sync; look for NaNs this often.
NONFINITE_CHECK_EVERY = 32
# What became non-finite, as bits of the step's record.
NONFINITE_OBJECTIVE = 1
NONFINITE_PARAMETERIZATION = 2
# Returned RGBA renders are composited over white unless keep_alpha=True.
ALPHA_BACKGROUND = 1.0
RGB_CHANNELS = 3
RGBA_CHANNELS = 4
# The objective's description in a progress label is cut to this many characters, so that
# the label keeps the images' size and fits a line.
OBJECTIVE_LABEL_CHARS = 80


class NonFiniteObjectiveError(FloatingPointError):
    """The objective or the image parameterization became NaN or infinite during rendering."""


# ---------------------------------------------------------------- validation
def check_thresholds(thresholds) -> tuple[int, ...]:
    """Thresholds as a tuple of strictly increasing positive ints (an int is one threshold)."""
    if checks.is_int(thresholds):
        thresholds = (thresholds,)
    try:
        values = tuple(thresholds)
    except TypeError:
        raise TypeError(
            f"thresholds must be a sequence of step counts, e.g. (128, 512); got {thresholds!r}."
        ) from None
    if not values:
        raise ValueError("thresholds must name at least one step count, e.g. (512,).")
    for value in values:
        if not checks.is_int(value) or value <= 0:
            raise ValueError(
                f"thresholds must be positive integers (numbers of steps), got {values!r}.")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"thresholds must be strictly increasing, got {values!r}.")
    return tuple(int(v) for v in values)


def max_steps_from_env() -> int | None:
    """The step cap set by ``LUCID2_MAX_STEPS``, or None when unset or empty."""
    raw = os.environ.get(MAX_STEPS_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{MAX_STEPS_ENV} must be a positive integer, got {raw!r}.")
    return value


def cap_thresholds(thresholds: Sequence[int], max_steps: int | None) -> tuple[int, ...]:
    """Thresholds above ``max_steps`` collapse to ``max_steps`` (one entry per threshold kept)."""
    if max_steps is None:
        return tuple(thresholds)
    return tuple(min(t, max_steps) for t in thresholds)


def _check_optional_positive(value, name: str) -> int | None:
    return checks.optional_positive_int(name, value)


def _check_seed(seed) -> int | None:
    return checks.optional_non_negative_int("seed", seed)


def _make_param(param_f):
    if param_f is None:
        return param.image(DEFAULT_SIZE)
    if isinstance(param_f, tf.Module):
        image_param = param_f
    elif callable(param_f):
        image_param = param_f()
    else:
        raise TypeError(
            "param_f must be an image parameterization (e.g. param.image(128)) or a "
            f"zero-argument function returning one, got {type(param_f).__name__}.")
    if not callable(image_param) or not hasattr(image_param, "trainable_variables"):
        raise TypeError(
            "param_f must give an image parameterization: a tf.Module whose call returns "
            f"(N, H, W, 3 or 4) images in [0, 1]; got {type(image_param).__name__}.")
    if not image_param.trainable_variables:
        raise ValueError("The image parameterization has no trainable variables to optimize.")
    return image_param


def _param_shape(image_param) -> tuple[int, int, int, int]:
    names = ("batch", "height", "width", "channels")
    if all(checks.is_int(getattr(image_param, n, None)) for n in names):
        shape = tuple(int(getattr(image_param, n)) for n in names)
    else:
        shape = tuple(image_param().shape)
    if len(shape) != 4 or any(s is None or s <= 0 for s in shape):
        raise ValueError(
            f"The parameterization must give (N, H, W, C) images with known sizes, got {shape}.")
    if shape[-1] not in (RGB_CHANNELS, RGBA_CHANNELS):
        raise ValueError(
            f"The parameterization gives images with {shape[-1]} channels (shape {shape}); "
            "render needs 3 (RGB) or 4 (RGBA, alpha last).")
    return shape


def _make_transform(transforms):
    if transforms is None:
        transforms = transform.standard_transforms
    if not isinstance(transforms, (list, tuple)):
        raise TypeError(
            "transforms must be a list of transforms t(images, rng), e.g. "
            f"transform.standard_transforms or [] for none; got {type(transforms).__name__}.")
    return transform.compose(list(transforms))


def _make_optimizer(optimizer) -> keras.optimizers.Optimizer:
    if optimizer is None:
        return keras.optimizers.Adam(learning_rate=DEFAULT_LEARNING_RATE)
    if not isinstance(optimizer, keras.optimizers.Optimizer) and callable(optimizer):
        optimizer = optimizer()
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "optimizer must be None, a keras.optimizers.Optimizer, or a function returning "
            f"one (e.g. lambda: keras.optimizers.Adam(0.05)); got {type(optimizer).__name__}.")
    if optimizer.built:
        raise ValueError(
            "The optimizer was already used for other variables; pass a fresh optimizer or a "
            "function creating one, e.g. optimizer=lambda: keras.optimizers.Adam(0.05).")
    _check_learning_rate(optimizer)
    return optimizer


def _check_learning_rate(optimizer: keras.optimizers.Optimizer) -> None:
    """A NaN or infinite learning rate turns the images into NaNs at the first update."""
    # A schedule is read at the optimizer's current step (0); later values are covered by
    # the finiteness check of every step.
    try:
        rate = float(np.asarray(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    except (TypeError, ValueError):
        return  # not a number before the first step: the step's check covers it
    if not np.isfinite(rate):
        raise ValueError(
            f"The optimizer's learning rate is {rate}; it must be a finite number, e.g. "
            f"keras.optimizers.Adam({DEFAULT_LEARNING_RATE}).")


def _summary_metadata(plugin: str, data_class: int):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class)


def write_scalar_summary(tag: str, value, step: int) -> None:
    """A TensorBoard scalar, written with core TensorFlow (the tensorboard package is optional)."""
    tf.summary.write(tag, tf.cast(value, tf.float32), step=step,
                     metadata=_summary_metadata("scalars", summary_pb2.DATA_CLASS_SCALAR))


def write_image_summary(tag: str, images: np.ndarray, step: int) -> None:
    """TensorBoard images (N, H, W, 3) in [0, 1], in the format of TensorBoard's image plugin."""
    pixels = tf.image.convert_image_dtype(tf.constant(images), tf.uint8, saturate=True)
    encoded = tf.map_fn(tf.image.encode_png, pixels, fn_output_signature=tf.string)
    height, width = images.shape[1:3]
    tensor = tf.concat([tf.constant([str(width), str(height)]), encoded], axis=0)
    tf.summary.write(tag, tensor, step=step,
                     metadata=_summary_metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE))


def _composite(images: np.ndarray, background: float = ALPHA_BACKGROUND) -> np.ndarray:
    rgb, alpha = images[..., :RGB_CHANNELS], images[..., RGB_CHANNELS:]
    return rgb * alpha + background * (1.0 - alpha)


# ------------------------------------------------------------------ renderer
class Renderer:
    """One visualization being optimized: the parameterization, its optimizer and a
    compiled step. :func:`render_vis` is the usual entry point; use this class to
    run or time single steps (``renderer.step()``).

    Construction validates everything and creates the variables (the
    parameterization is created after ``keras.utils.set_random_seed(seed)``
    when a seed is given); the step is traced on the first call.

    Attributes:
      model, objective, param, optimizer: what is being optimized, and how.
      layers: the layers the compiled step computes.
      image_shape: (N, H, W, C) of the parameterization.
      steps_done: number of optimization steps run so far.
      trace_count: how many times the step function was traced (1 after any steps).
      transparency_maps: with ``transparency=True``, the :meth:`transparency` map at each
        threshold of the last :meth:`run` (else empty).

    With ``transparency=True`` every step also adds the absolute gradient of the
    objective with respect to the untransformed images, summed over their channels, to
    a (N, H, W) map (MACO's transparency: where the objective drew on the image, through
    every random transform); :meth:`transparency` reads it. Without it, the step
    computes exactly what it did before.
    """

    def __init__(self, model: RenderableModel, objective, param_f=None, optimizer=None,
                 transforms: Sequence[Callable] | None = None, seed: int | None = None,
                 relu_gradient_override: bool = True,
                 redirect_steps: int = DEFAULT_REDIRECT_STEPS, transparency: bool = False):
        self.model = require_renderable(model)
        self.objective = objectives_lib.as_objective(objective)
        seed = _check_seed(seed)
        redirect_steps = checks.non_negative_int("redirect_steps", redirect_steps)
        transparency = checks.boolean("transparency", transparency)
        self._transform = _make_transform(transforms)
        if seed is not None:
            keras.utils.set_random_seed(seed)
        self.param = _make_param(param_f)
        self.image_shape = _param_shape(self.param)
        self.layers = self._requested_layers()
        self._transform = sizes.fit_to_model(self.model, self.layers, self.image_shape,
                                             self._transform)
        # What the model receives: the transformed size when the transforms give one.
        model_shape = sizes.model_image_shape(self.image_shape, self._transform)
        self.objective.validate(self.model, model_shape)  # output shapes of every layer too
        self._submodel = self.model.submodel(list(self.layers)) if self.layers else None
        # Reference images the objective compares with, at the parameterization's size.
        self.references = self.objective.references()
        batch, height, width, _ = self.image_shape
        self._reference_inputs = [tf.constant(reference.resized(batch, height, width))
                                  for reference in self.references]
        self._rng = (tf.random.Generator.from_seed(seed) if seed is not None
                     else tf.random.Generator.from_non_deterministic_state())
        self.optimizer = _make_optimizer(optimizer)
        self._variables = list(self.param.trainable_variables)
        self.optimizer.build(self._variables)
        self._relu_override = bool(relu_gradient_override)
        self._redirect_steps = int(redirect_steps)
        self._steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="render_steps")
        self._first_nonfinite = tf.Variable(-1, dtype=tf.int64, trainable=False,
                                            name="first_nonfinite_step")
        # NONFINITE_* bits: what was not finite at that step.
        self._nonfinite_parts = tf.Variable(0, dtype=tf.int32, trainable=False,
                                            name="nonfinite_parts")
        self._transparency = (tf.Variable(tf.zeros(self.image_shape[:3]), trainable=False,
                                          name="transparency") if transparency else None)
        self.transparency_maps: list[np.ndarray] = []
        self.trace_count = 0
        # No autograph: the step has no data-dependent Python control flow, and user
        # objectives should run as written.
        # A closure, not the bound method: TensorFlow's retracing warning would count the
        # (single) traces of every Renderer's step as retraces of one function.
        self._step_fn = tf.function(lambda: self._step(), autograph=False)

    def _requested_layers(self) -> tuple[str, ...]:
        """The layers the objective reads, their names checked against the model."""
        try:
            layers = self.objective.required_layers(self.model, self.image_shape)
        except ValueError:
            # A custom objective finds its layers by a probe on images of the
            # parameterization's size, which fails when they are too small: say so, with
            # the size that works, when the declared layers show it.
            declared: dict[str, None] = {}
            for leaf in self.objective.leaves():
                try:
                    declared.update(dict.fromkeys(leaf.layer_names(self.model, None)))
                except ValueError:
                    continue  # not declared: only its probe knows
            declared.pop(objectives_lib.INPUT, None)
            for name in declared:
                self.model.check_layer(name)
            sizes.check_image_size(self.model, tuple(declared), self.image_shape,
                                   self._transform)
            raise
        for name in layers:
            self.model.check_layer(name)
        return layers

    # ------------------------------------------------------------- the step
    def _transform_with_references(self, images: tf.Tensor) -> tuple[tf.Tensor, list]:
        """The transformed images, and the references under the very same random draw.

        The references ride along as extra channels of the images, so every transform
        (each draws per image, not per channel) moves them identically.
        """
        if not self._reference_inputs or self._submodel is None:
            return self._transform(images, self._rng), []
        own = images.shape[-1]
        stacked = self._transform(tf.concat([images] + self._reference_inputs, axis=-1),
                                  self._rng)
        references = [stacked[..., start:start + RGB_CHANNELS]
                      for start in range(own, stacked.shape[-1], RGB_CHANNELS)]
        return stacked[..., :own], references

    def _forward(self, images: tf.Tensor) -> tf.Tensor:
        transformed, references = self._transform_with_references(images)
        if transformed.shape[-1] == RGBA_CHANNELS:
            # Transparent pixels show random colors, so alpha marks what the model needs.
            transformed = transform.collapse_alpha()(transformed, self._rng)
        if transformed.shape[-1] != RGB_CHANNELS:
            raise ValueError(
                f"After the transforms the images have shape {transformed.shape}; the model "
                "needs 3 (RGB) channels.")
        activations = {}
        if self._submodel is not None:
            # The references share the batch: one pass through the network.
            batch = tf.concat([transformed] + references, axis=0) if references else transformed
            if self._relu_override:
                # Read the switch once per step, not once per patched ReLU.
                redirecting = self._redirecting()
                with redirected_relus(self._submodel, lambda: redirecting):
                    outputs = self._submodel(batch, training=False)
            else:
                outputs = self._submodel(batch, training=False)
            activations = outputs_by_layer(self.layers, outputs)
        activations, by_reference = objectives_lib.split_reference_activations(
            activations, self.references, self._reference_inputs)
        ctx = objectives_lib.Context(activations, images, self.model, by_reference)
        value = self.objective(ctx)
        if value.shape.rank != 0:
            raise ValueError(f"The objective {self.objective!r} must give a scalar, got shape "
                             f"{value.shape}.")
        return tf.cast(value, tf.float32)

    def _redirecting(self) -> tf.Tensor:
        return self._steps < self._redirect_steps

    def _step(self) -> tf.Tensor:
        self.trace_count += 1  # runs only while tracing
        with tf.GradientTape() as tape:
            images = self.param()
            value = self._forward(images)
            loss = -value  # objectives are maximized
        if self._transparency is None:
            gradients = tape.gradient(loss, self._variables)
        else:
            # One backward pass for both: the image gradient is on its way to the variables.
            *gradients, image_gradient = tape.gradient(loss, self._variables + [images])
            if image_gradient is not None:
                self._transparency.assign_add(
                    tf.reduce_sum(tf.abs(image_gradient), axis=-1))
        if all(g is None for g in gradients):
            raise ValueError(
                f"The objective {self.objective!r} does not depend on the image, so there is "
                "nothing to optimize.")
        self.optimizer.apply_gradients(
            [(g, v) for g, v in zip(gradients, self._variables, strict=True) if g is not None])
        self._steps.assign_add(1)
        self._note_nonfinite(value)
        return value

    def _note_nonfinite(self, value: tf.Tensor) -> None:
        """Records the first step whose objective or updated variables are not finite.

        In the step's graph (no host sync): one reduction over the variables, read
        after the optimizer's update (TensorFlow orders a function's variable reads
        after its earlier writes). A NaN learning rate, or a gradient that is NaN
        where the objective is not (the square root of 0), shows only there.
        """
        variables_finite = [tf.reduce_all(tf.math.is_finite(v)) for v in self._variables
                            if v.dtype.is_floating]
        parts = tf.where(tf.math.is_finite(value), 0, NONFINITE_OBJECTIVE)
        if variables_finite:
            parts += tf.where(tf.reduce_all(tf.stack(variables_finite)), 0,
                              NONFINITE_PARAMETERIZATION)
        first = tf.logical_and(parts > 0, self._first_nonfinite < 0)
        self._first_nonfinite.assign(tf.where(first, self._steps, self._first_nonfinite))
        self._nonfinite_parts.assign(tf.where(first, parts, self._nonfinite_parts))

    def step(self) -> tf.Tensor:
        """Runs one optimization step; returns the objective's value before the update."""
        return self._step_fn()

    @property
    def steps_done(self) -> int:
        return int(self._steps.numpy())

    def check_finite(self) -> None:
        """Raises NonFiniteObjectiveError naming the first step whose objective, or whose
        updated image parameterization, was not finite, and which of them."""
        bad_step = int(self._first_nonfinite.numpy())
        if bad_step < 0:
            return
        parts = int(self._nonfinite_parts.numpy())
        what = []
        if parts & NONFINITE_OBJECTIVE:
            what.append(f"the objective {self.objective!r}")
        if parts & NONFINITE_PARAMETERIZATION:
            what.append("the image parameterization's variables, and so the images, "
                        "after that step's update")
        text = " and ".join(what)
        raise NonFiniteObjectiveError(
            f"{text[0].upper()}{text[1:]} became NaN or infinite at step {bad_step}; "
            "stopped. Check the objective and its gradient (e.g. a division that can reach 0, "
            "the square root or log of 0) and the optimizer (a NaN or too large learning "
            "rate).")

    def transparency(self) -> np.ndarray:
        """MACO's transparency map: float32 (N, H, W), >= 0, the sum over the steps run so
        far of the absolute gradient of the objective with respect to the untransformed
        images (summed over their channels; redirected during the first
        ``redirect_steps`` steps, as the optimized gradient is). Needs
        ``transparency=True``."""
        if self._transparency is None:
            raise ValueError("This render keeps no transparency map; create it with "
                             "transparency=True (render_vis(..., transparency=True)).")
        return np.asarray(self._transparency.numpy(), dtype=np.float32)

    def images(self, keep_alpha: bool = False) -> np.ndarray:
        """The current untransformed images, float32 in [0, 1]: (N, H, W, 3), or RGBA
        when ``keep_alpha`` and the parameterization has alpha (else composited over white)."""
        images = np.asarray(self.param(), dtype=np.float32)
        if images.shape[-1] == RGBA_CHANNELS and not keep_alpha:
            images = _composite(images)
        return np.clip(images, 0.0, 1.0)

    # ---------------------------------------------------------------- loop
    def run(self, thresholds: Sequence[int] | int = DEFAULT_THRESHOLDS, verbose: bool = False,
            tensorboard_dir: str | os.PathLike | None = None, snapshot_every: int | None = None,
            gif_path: str | os.PathLike | None = None, keep_alpha: bool = False,
            progress: progress_lib.Reporter | None = None) -> list[np.ndarray]:
        """Optimizes until each threshold (a total step count) and returns the images there.

        See :func:`render_vis` for the arguments.
        """
        thresholds = cap_thresholds(check_thresholds(thresholds), max_steps_from_env())
        snapshot_every = _check_optional_positive(snapshot_every, "snapshot_every")
        if snapshot_every is not None and tensorboard_dir is None and gif_path is None:
            raise ValueError("snapshot_every needs tensorboard_dir or gif_path to save snapshots.")
        start = self.steps_done
        if thresholds[0] < start:
            raise ValueError(
                f"thresholds {thresholds} must not be below the {start} steps already run.")
        total = thresholds[-1]
        reporter = _reporter(progress, verbose)
        writer = (tf.summary.create_file_writer(os.fspath(tensorboard_dir))
                  if tensorboard_dir is not None else None)
        frames = [self.images()] if gif_path is not None else []
        results: list[np.ndarray] = []
        self.transparency_maps = []
        pending = list(thresholds)
        while pending and pending[0] == start:
            results.append(self.images(keep_alpha))
            self._keep_transparency()
            pending.pop(0)
        with reporter.running(total - start, self.progress_label()):
            for step in range(start + 1, total + 1):
                value = self._step_fn()
                at_threshold = step == pending[0]
                # The tensor itself: a reporter reads it only when it shows it.
                reporter.update(step - start, {"objective": value})
                if writer is not None:
                    with writer.as_default():
                        write_scalar_summary("objective", value, step)
                if verbose or at_threshold or step % NONFINITE_CHECK_EVERY == 0:
                    self.check_finite()
                snapshot = snapshot_every is not None and step % snapshot_every == 0
                if snapshot and gif_path is not None:
                    frames.append(self.images())
                if writer is not None and (snapshot or at_threshold):
                    with writer.as_default():
                        write_image_summary("render", self.images(), step)
                while pending and pending[0] == step:
                    results.append(self.images(keep_alpha))
                    self._keep_transparency()
                    pending.pop(0)
        if writer is not None:
            writer.flush()
        if gif_path is not None:
            save_gif(frames, gif_path)
        return results

    def _keep_transparency(self) -> None:
        if self._transparency is not None:
            self.transparency_maps.append(self.transparency())

    def progress_label(self) -> str:
        """What the render reports as its progress label: the objective (cut short when
        long) and the images' size, e.g. "Rendering Channel [mixed4a, 476] on 1 image(s)
        of 128x128"."""
        batch, height, width, _ = self.image_shape
        objective = progress_lib.short_label(self.objective.description,
                                             OBJECTIVE_LABEL_CHARS)
        return f"Rendering {objective} on {batch} image(s) of {height}x{width}"


def _check_progress(progress) -> None:
    if progress is not None and not isinstance(progress, progress_lib.Reporter):
        raise TypeError("progress must be a lucid2.optvis.progress.Reporter (e.g. "
                        "progress.for_stream(sys.stdout)) or None; got "
                        f"{type(progress).__name__}.")


def _reporter(progress: progress_lib.Reporter | None, verbose: bool) -> progress_lib.Reporter:
    """``progress`` if given, else a Keras progress bar when ``verbose``, else the active
    reporter (:func:`lucid2.optvis.progress.current`: silent outside an app's
    ``progress.reporting`` block)."""
    _check_progress(progress)
    if progress is not None:
        return progress
    if verbose:
        return progress_lib.ProgbarReporter()
    return progress_lib.current()


def render_vis(model: RenderableModel, objective, param_f=None, optimizer=None,
               transforms: Sequence[Callable] | None = None,
               thresholds: Sequence[int] | int = DEFAULT_THRESHOLDS, verbose: bool = False,
               seed: int | None = None, relu_gradient_override: bool = True,
               redirect_steps: int = DEFAULT_REDIRECT_STEPS,
               tensorboard_dir: str | os.PathLike | None = None,
               snapshot_every: int | None = None, gif_path: str | os.PathLike | None = None,
               keep_alpha: bool = False,
               progress: progress_lib.Reporter | None = None, transparency: bool = False
               ) -> list[np.ndarray] | tuple[list[np.ndarray], list[np.ndarray]]:
    """Optimizes an image to maximize ``objective`` on ``model`` (Lucid's ``render_vis``).

    Args:
      model: a lucid2 model (``lucid2.modelzoo.InceptionV1()``, ``from_keras(...)``).
      objective: an :class:`~lucid2.optvis.objectives.Objective`, a string such as
        ``"mixed4a:97"`` or ``"mixed4a:476+mixed4a:460"``, or a callable ``fn(ctx)``.
      param_f: an image parameterization (``param.image(128, batch=4)``) or a
        zero-argument function returning one; default ``param.image(128)``.
        Created after seeding when it is a function (or the default).
      optimizer: a fresh ``keras.optimizers.Optimizer`` or a function returning
        one; default ``keras.optimizers.Adam(0.05)``.
      transforms: a list of transforms ``t(images, rng)``; default
        ``transform.standard_transforms``; ``[]`` for none. RGBA images still
        having alpha after the transforms are composited over random colors.
      thresholds: step counts (strictly increasing positive ints) at which to
        return the images; capped by ``LUCID2_MAX_STEPS``.
      verbose: show a Keras progress bar with the objective's value (and check for NaNs
        every step).
      seed: makes the render reproducible: ``keras.utils.set_random_seed(seed)``
        before creating the parameterization and a seeded generator for the
        transforms (bit-identical on CPU). Note that it reseeds Python, NumPy
        and TensorFlow globally.
      relu_gradient_override: redirect ReLU gradients for the first
        ``redirect_steps`` steps (Lucid's default, 16).
      tensorboard_dir: write the objective every step and images at thresholds
        (and every ``snapshot_every`` steps) as TensorBoard summaries.
      snapshot_every: also keep an image every this many steps (for TensorBoard
        and ``gif_path``).
      gif_path: save the snapshots (from the initial image on) as a GIF.
      keep_alpha: return RGBA renders with their alpha instead of over white.
      progress: a :class:`lucid2.optvis.progress.Reporter` told the steps (label: the
        objective and the image size). None: a progress bar with ``verbose``, else the
        reporter made active by ``progress.reporting(...)`` (as the apps do), else none.
        Reporting never changes the render.
      transparency: also return MACO's transparency maps (see :class:`Renderer`): at
        each threshold, the absolute gradient of the objective with respect to the
        untransformed images (through the random transforms), summed over channels
        and over the steps so far. Costs a little more per step; off, the render is
        exactly as without the argument.

    Returns:
      One float32 array per threshold, (N, H, W, 3) in [0, 1] (the untransformed
      images; (N, H, W, 4) with ``keep_alpha`` and an RGBA parameterization). With
      ``transparency``, ``(images, maps)``: the images as above and one float32
      (N, H, W) map >= 0 per threshold.

    Raises:
      ValueError: for an invalid objective, parameterization, thresholds, learning
        rate, etc., and for images too small for a requested layer before or after
        the transforms (the message gives the smallest size that works), before
        anything is compiled. A model taking one input size only gets the
        transformed images resized to it (a warning says so).
      NonFiniteObjectiveError: when the objective or the parameterization becomes NaN
        or infinite (checked every ``NONFINITE_CHECK_EVERY`` steps, at thresholds and
        with ``verbose``).
    """
    check_thresholds(thresholds)
    max_steps_from_env()
    _check_optional_positive(snapshot_every, "snapshot_every")
    _check_progress(progress)
    renderer = Renderer(model, objective, param_f=param_f, optimizer=optimizer,
                        transforms=transforms, seed=seed,
                        relu_gradient_override=relu_gradient_override,
                        redirect_steps=redirect_steps, transparency=transparency)
    images = renderer.run(thresholds, verbose=verbose, tensorboard_dir=tensorboard_dir,
                          snapshot_every=snapshot_every, gif_path=gif_path,
                          keep_alpha=keep_alpha, progress=progress)
    if transparency:
        return images, renderer.transparency_maps
    return images


def make_render_step(model: RenderableModel, objective, **kwargs) -> Callable[[], tf.Tensor]:
    """A zero-argument function running one compiled render step (for benchmarks).

    Keyword arguments are those of :class:`Renderer`.
    """
    return Renderer(model, objective, **kwargs).step
