"""The :class:`Objective` type: immutable, composable, validated before compiling.

An objective is a function from a :class:`Context` (layer activations of the
transformed batch, plus the untransformed images) to a scalar tensor that
rendering *maximizes*. Objectives combine with ``+``, ``-``, unary ``-``, ``*``
and ``/`` (by numbers or by other objectives) into expression trees. Sums are
flattened into one n-ary node, and every walk over a tree (evaluation,
validation, descriptions) is iterative, so ``sum(list_of_5000_objectives)`` or
a 10,000-deep chain of ``0.5 * x + y`` stays within Python's recursion limit.
Operands are never modified: each operation returns a new node.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence, cast

import tensorflow as tf

from lucid2.optvis import model_api

INPUT = "input"  # Lucid's T("input"): the untransformed parameterized images.
RGB_CHANNELS = 3  # what the model receives, whatever the parameterization's channels
# What an objective function must return, for messages.
SCALAR_HELP = ("an objective function must return a scalar tensor, e.g. "
               "tf.reduce_mean(ctx('mixed4a')[..., 97])")

ObjectiveFunction = Callable[["Context"], "tf.Tensor"]
LayerSpec = Callable[[object], Sequence[str]]
CheckFunction = Callable[[object, "tuple | None"], None]


class ReferenceActivations(NamedTuple):
    """What a context holds for one reference image (see :mod:`.reference`)."""

    input: tf.Tensor  # the untransformed reference, (N, H, W, 3) like the images
    activations: Mapping[str, tf.Tensor]  # layer -> activations under the images' transforms


class Context:
    """What an objective sees when it is evaluated.

    Calling the context with a layer name returns that layer's activations for
    the transformed batch (NHWC); ``ctx("input")`` returns the untransformed
    parameterized images (Lucid's ``T("input")``, with alpha if the
    parameterization has it). ``ctx.reference(ref, layer)`` returns a reference
    image's activations under the same transforms.

    Args:
      activations: layer name -> activation tensor of the transformed batch.
      input: the untransformed images (N, H, W, C).
      model: the model being visualized (for ``labels`` and ``logits_layer``).
      references: reference image -> its :class:`ReferenceActivations`.
    """

    def __init__(self, activations: Mapping[str, tf.Tensor], input: tf.Tensor,
                 model: object | None = None,
                 references: Mapping[object, ReferenceActivations] | None = None):
        self._activations = dict(activations)
        self.input = input
        self.model = model
        self._references = dict(references or {})
        self._cache: dict = {}

    def cached(self, key, compute: Callable[[], tf.Tensor]) -> tf.Tensor:
        """``compute()``, computed once per context for each ``key``.

        Lets many objectives share one reduction (e.g. a sum of 1000 channel
        objectives on one layer computes the layer's channel means once).
        """
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def __call__(self, name: str) -> tf.Tensor:
        if name == INPUT:
            return self.input
        if name not in self._activations:
            raise ValueError(
                f"The objective asked for layer {name!r}, which was not computed (computed: "
                f"{sorted(self._activations)}). Custom objectives must declare the layers they "
                "read: Objective.from_function(fn, layers=[...]).")
        return self._activations[name]

    def reference(self, reference, name: str = INPUT) -> tf.Tensor:
        """The reference image's activations at layer ``name`` under this step's transforms
        (no gradient flows into them); ``"input"`` gives the untransformed reference,
        resized to the images' size and repeated over the batch."""
        if reference not in self._references:
            raise ValueError(
                f"The objective asked for the reference {reference!r}, which was not given to "
                "this evaluation. Custom objectives must declare the references they read: "
                "Leaf(fn, description, layers=[...], references=[reference]).")
        entry = self._references[reference]
        if name == INPUT:
            return entry.input
        if name not in entry.activations:
            raise ValueError(
                f"The objective asked for layer {name!r} of the reference {reference!r}, which "
                f"was not computed (computed: {sorted(entry.activations)}).")
        return entry.activations[name]

    @property
    def batch_size(self) -> int:
        """The static batch size of the images."""
        size = self.input.shape[0]
        if size is None:
            raise ValueError("The batch size of the images must be known statically.")
        return int(size)

    @property
    def labels(self) -> list[str] | None:
        return getattr(self.model, "labels", None)

    @property
    def logits_layer(self) -> str | None:
        return getattr(self.model, "logits_layer", None)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_number(value, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"Cannot {what} an objective by the non-finite number {value!r}.")
    return number


def format_number(value: float) -> str:
    """A short, readable form of a coefficient (0.5, 0.001, 100, 1e-06)."""
    return f"{value:g}"


class Objective:
    """A scalar to maximize, built from layer activations; immutable.

    Build objectives with the factories of :mod:`lucid2.optvis.objectives`
    (``channel``, ``neuron``, ...) and combine them with arithmetic::

        obj = channel("mixed4a", 476) + 0.5 * channel("mixed4a", 460) - 1e-3 * L1()

    ``obj(ctx)`` evaluates it on a :class:`Context`; ``obj.evaluate(model, images)``
    gives its value on images as a float; ``obj.required_layers(model)`` lists
    the layers it reads; ``obj.validate(model, image_shape)`` checks layer
    names, channel indices, batch targets and positions against a model.
    """

    _children: tuple[Objective, ...] = ()
    _description_cache: str | None  # set once, through object.__setattr__ (immutable)

    def __init__(self):
        object.__setattr__(self, "_description_cache", None)

    def __setattr__(self, name, value):
        raise AttributeError(f"Objectives are immutable; cannot set {name!r}.")

    def __delattr__(self, name):
        raise AttributeError(f"Objectives are immutable; cannot delete {name!r}.")

    # ------------------------------------------------------------ user hooks
    @staticmethod
    def from_function(fn: ObjectiveFunction, layers: Sequence[str] | None = None,
                      description: str | None = None) -> Objective:
        """Wraps ``fn(ctx) -> scalar tensor`` (Lucid's ``fn(T)``) into an Objective.

        ``layers`` names the layers ``fn`` reads. When omitted they are found
        before compiling by calling ``fn`` once on zero activations of the right
        shapes. A non-scalar result is summed, as Lucid's optimizer implicitly did.
        """
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}.")
        if layers is not None:
            if isinstance(layers, str):
                layers = (layers,)
            layers = tuple(layers)
            for name in layers:
                if not isinstance(name, str):
                    raise TypeError(f"layers must be layer names (strings), got {name!r}.")
        name = getattr(fn, "__name__", "")
        name = description or (f"Custom [{name}]" if name and name != "<lambda>" else "Custom")
        return Leaf(_sum_if_needed(fn, name), name, layers=layers)

    # ------------------------------------------------------------- evaluation
    def __call__(self, ctx: Context) -> tf.Tensor:
        """The objective's value on ``ctx``, a float32 scalar tensor."""
        values: dict[int, tf.Tensor] = {}
        stack: list[tuple[Objective, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in values:
                continue
            if not node._children:
                values[id(node)] = node._leaf_value(ctx)
            elif expanded:
                values[id(node)] = node._combine([values[id(c)] for c in node._children])
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in node._children
                             if id(child) not in values)
        return values[id(self)]

    def evaluate(self, model, images) -> float:
        """The objective's value on ``images`` (N, H, W, 3) in [0, 1], as a float.

        The images are used as given: no transforms and no redirected ReLU
        gradients, so this is the number a reader gets by feeding a render's
        final images back to the network. Only the layers the objective reads
        are computed. Reference images (:mod:`.reference`) are resized to the
        images' size and go through the network untransformed too. A model that
        takes one input size only gets them resized to it (bilinear), as a render
        does.
        """
        images = tf.cast(tf.convert_to_tensor(images), tf.float32)
        layers = self.required_layers(model, tuple(images.shape))
        references = self.references()
        batch, height, width = images.shape[:3]
        reference_inputs = [tf.constant(r.resized(batch, height, width)) for r in references]
        model_images = tf.concat([images[..., :RGB_CHANNELS]] + reference_inputs, axis=0)
        fixed = model_api.fixed_input_size(model, layers)
        if fixed is not None and fixed != (height, width):
            model_images = tf.image.resize(model_images, fixed, method="bilinear")
        activations, by_reference = split_reference_activations(
            model_api.activations(model, layers, model_images), references, reference_inputs)
        return float(self(Context(activations, images, model, by_reference)))

    def _leaf_value(self, ctx: Context) -> tf.Tensor:
        raise NotImplementedError

    def _combine(self, values: list[tf.Tensor]) -> tf.Tensor:
        raise NotImplementedError

    # ----------------------------------------------------------------- walks
    def leaves(self) -> Iterator[Leaf]:
        """The distinct leaf objectives of this expression, in order."""
        seen: set[int] = set()
        stack: list[Objective] = [self]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, Leaf):
                yield node
            stack.extend(reversed(node._children))

    def references(self) -> tuple:
        """The distinct reference images (:mod:`.reference`) this objective compares with."""
        found: dict[int, object] = {}
        for leaf in self.leaves():
            for reference in leaf._references:
                found.setdefault(id(reference), reference)
        return tuple(found.values())

    def required_layers(self, model, image_shape: Sequence[int] | None = None) -> tuple[str, ...]:
        """Names of the model layers this objective reads (without ``"input"``), in order.

        ``image_shape`` (N, H, W, C) is only needed for custom objectives that
        did not declare their layers.
        """
        names: dict[str, None] = {}
        for leaf in self.leaves():
            for name in leaf.layer_names(model, image_shape):
                if name != INPUT:
                    names[name] = None
        return tuple(names)

    def reads_input(self, model, image_shape: Sequence[int] | None = None) -> bool:
        """Whether the objective reads the untransformed images ``"input"``."""
        return any(INPUT in leaf.layer_names(model, image_shape) for leaf in self.leaves())

    def validate(self, model, image_shape: Sequence[int] | None = None) -> None:
        """Checks the objective against ``model`` (and images of ``image_shape``).

        Raises ValueError for unknown layers (with the model's close matches),
        channels out of range, ``batch=`` targets beyond the batch, positions
        outside a layer, or images too small for a layer.
        """
        leaves = list(self.leaves())
        checked: set[str] = set()
        for leaf in leaves:
            for name in leaf.layer_names(model, image_shape):
                if name == INPUT or name in checked:
                    continue
                model.check_layer(name)
                if image_shape is not None:
                    model.output_shape(name, image_shape)
                checked.add(name)
        shape = tuple(image_shape) if image_shape is not None else None
        for leaf in leaves:
            if leaf._check is not None:
                leaf._check(model, shape)
        if shape is not None:
            for reference in self.references():
                reference.check_batch(shape[0])

    # ------------------------------------------------------------ description
    @property
    def description(self) -> str:
        """A readable form, e.g. ``"Channel [mixed4a, 476] + 0.5 * Channel [mixed4a, 460]"``."""
        if self._description_cache is None:
            # Post-order fill of every missing description, without recursion.
            stack: list[tuple[Objective, bool]] = [(self, False)]
            while stack:
                node, expanded = stack.pop()
                if node._description_cache is not None:
                    continue
                if expanded or not node._children:
                    object.__setattr__(node, "_description_cache", node._describe())
                else:
                    stack.append((node, True))
                    stack.extend((c, False) for c in node._children
                                 if c._description_cache is None)
        return cast(str, self._description_cache)  # filled by the loop above

    def _describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        text = self.description
        limit = 200
        if len(text) > limit:
            text = text[:limit] + "..."
        return f"<Objective {text}>"

    # --------------------------------------------------------------- algebra
    def __add__(self, other):
        if isinstance(other, Objective):
            return Sum._of([self, other])
        if _is_number(other):
            number = _check_number(other, "add to")
            return self if number == 0 else Sum._of([self, Constant(number)])
        return NotImplemented

    def __radd__(self, other):
        if _is_number(other):
            number = _check_number(other, "add to")
            # sum(objectives) starts from 0: keep it out of the tree.
            return self if number == 0 else Sum._of([Constant(number), self])
        return NotImplemented

    def __neg__(self):
        return Scale._of(-1.0, self)

    def __pos__(self):
        return self

    def __sub__(self, other):
        if isinstance(other, Objective):
            return Sum._of([self, -other])
        if _is_number(other):
            return self + (-_check_number(other, "subtract from"))
        return NotImplemented

    def __rsub__(self, other):
        if _is_number(other):
            return (-self) + _check_number(other, "subtract")
        return NotImplemented

    def __mul__(self, other):
        if isinstance(other, Objective):
            return Product(self, other)
        if _is_number(other):
            return Scale._of(_check_number(other, "multiply"), self)
        return NotImplemented

    def __rmul__(self, other):
        if _is_number(other):
            return Scale._of(_check_number(other, "multiply"), self)
        return NotImplemented

    def __truediv__(self, other):
        if isinstance(other, Objective):
            return Quotient(self, other)
        if _is_number(other):
            number = _check_number(other, "divide")
            if number == 0:
                raise ZeroDivisionError(f"Cannot divide the objective {self!r} by zero.")
            return Scale._of(1.0 / number, self)
        return NotImplemented

    def __rtruediv__(self, other):
        if _is_number(other):
            return Quotient(Constant(_check_number(other, "divide")), self)
        return NotImplemented

    def __bool__(self):
        return True


def numeric_value(value, description: str) -> tf.Tensor:
    """What objective ``description`` returned, as a real-valued tensor; a TypeError that
    says what an objective must return for None, strings and other non-numbers."""
    if value is None:
        raise TypeError(f"The objective {description!r} returned None; {SCALAR_HELP} "
                        "(a missing return statement?).")
    try:
        tensor = tf.convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(f"The objective {description!r} returned {type(value).__name__} "
                        f"{value!r:.80}; {SCALAR_HELP}.") from None
    if not (tensor.dtype.is_floating or tensor.dtype.is_integer or tensor.dtype.is_bool):
        raise TypeError(f"The objective {description!r} returned a {tensor.dtype.name} tensor; "
                        f"{SCALAR_HELP}.")
    return tensor


def _sum_if_needed(fn: ObjectiveFunction, description: str) -> ObjectiveFunction:
    def scalar_fn(ctx: Context) -> tf.Tensor:
        value = numeric_value(fn(ctx), description)
        if value.dtype != tf.float32:
            value = tf.cast(value, tf.float32)
        return tf.reduce_sum(value) if value.shape.rank != 0 else value
    return scalar_fn


class Leaf(Objective):
    """An objective computed directly from the context.

    Args:
      fn: ``fn(ctx) -> scalar tensor``.
      description: its readable name, e.g. ``"Channel [mixed4a, 97]"``.
      layers: the layer names it reads (``"input"`` for the images), or a
        function of the model giving them, or None to find them by probing.
      check: optional ``check(model, image_shape_or_None)`` raising ValueError.
      references: the reference images (:func:`.reference.reference_image`) that
        ``fn`` reads through ``ctx.reference``; rendering computes their activations.
    """

    # Set once in __init__, through object.__setattr__ (objectives are immutable).
    _fn: ObjectiveFunction
    _name: str
    _layers: tuple[str, ...] | LayerSpec | None
    _check: CheckFunction | None
    _references: tuple[object, ...]

    def __init__(self, fn: ObjectiveFunction, description: str,
                 layers: Sequence[str] | LayerSpec | None = (),
                 check: CheckFunction | None = None, references: Sequence[object] = ()):
        super().__init__()
        object.__setattr__(self, "_fn", fn)
        object.__setattr__(self, "_name", description)
        object.__setattr__(self, "_layers", tuple(layers) if isinstance(layers, (list, tuple))
                           else layers)
        object.__setattr__(self, "_check", check)
        object.__setattr__(self, "_references", tuple(references))

    def layer_names(self, model, image_shape: Sequence[int] | None = None) -> tuple[str, ...]:
        """The layers this leaf reads for ``model``."""
        if isinstance(self._layers, tuple):
            return self._layers
        if callable(self._layers):
            return tuple(self._layers(model))
        return _probe_layers(self._fn, model, image_shape, self._name)

    def _leaf_value(self, ctx: Context) -> tf.Tensor:
        value = numeric_value(self._fn(ctx), self._name)
        if value.shape.rank != 0:
            raise ValueError(
                f"The objective {self._name!r} returned a tensor of shape {value.shape}; "
                f"{SCALAR_HELP} (Objective.from_function sums other shapes).")
        return value

    def _describe(self) -> str:
        return self._name


class Constant(Objective):
    """A number inside an objective expression."""

    value: float  # set once in __init__ (objectives are immutable)

    def __init__(self, value: float):
        super().__init__()
        object.__setattr__(self, "value", float(value))

    def _leaf_value(self, ctx: Context) -> tf.Tensor:
        return tf.constant(self.value, tf.float32)

    def _describe(self) -> str:
        return format_number(self.value)


class Sum(Objective):
    """An n-ary sum; nested sums are flattened into one node."""

    def __init__(self, terms: Sequence[Objective]):
        super().__init__()
        object.__setattr__(self, "_children", tuple(terms))

    @staticmethod
    def _of(operands: Sequence[Objective]) -> Sum:
        terms: list[Objective] = []
        for operand in operands:
            if isinstance(operand, Sum):
                terms.extend(operand._children)
            else:
                terms.append(operand)
        return Sum(terms)

    @property
    def terms(self) -> tuple[Objective, ...]:
        return self._children

    def _combine(self, values):
        return tf.add_n([tf.cast(v, tf.float32) for v in values])

    def _describe(self) -> str:
        parts: list[str] = []
        for index, term in enumerate(self._children):
            # A negative coefficient after the first term reads as a subtraction.
            if index > 0 and isinstance(term, Constant) and term.value < 0:
                parts.append(" - " + format_number(-term.value))
            elif index > 0 and isinstance(term, Scale) and term.factor < 0:
                parts.append(" - " + Scale._text(-term.factor, term.inner))
            else:
                parts.append((" + " if index else "") + term.description)
        return "".join(parts)


def _wrap(node: Objective, loose: tuple[type, ...]) -> str:
    return f"({node.description})" if isinstance(node, loose) else node.description


class Scale(Objective):
    """A number times an objective."""

    factor: float  # set once in __init__ (objectives are immutable)

    def __init__(self, factor: float, inner: Objective):
        super().__init__()
        object.__setattr__(self, "factor", float(factor))
        object.__setattr__(self, "_children", (inner,))

    @property
    def inner(self) -> Objective:
        return self._children[0]

    @staticmethod
    def _of(factor: float, inner: Objective) -> Objective:
        if isinstance(inner, Scale):
            factor, inner = factor * inner.factor, inner.inner
        if isinstance(inner, Constant):
            return Constant(factor * inner.value)
        return inner if factor == 1 else Scale(factor, inner)

    def _combine(self, values):
        return tf.constant(self.factor, tf.float32) * values[0]

    @staticmethod
    def _text(factor: float, inner: Objective) -> str:
        body = _wrap(inner, (Sum, Product, Quotient))
        if factor == 1:
            return inner.description
        if factor == -1:
            return "-" + body
        return f"{format_number(factor)} * {body}"

    def _describe(self) -> str:
        return self._text(self.factor, self.inner)


class Product(Objective):
    """The product of two objectives."""

    def __init__(self, left: Objective, right: Objective):
        super().__init__()
        object.__setattr__(self, "_children", (left, right))

    def _combine(self, values):
        return values[0] * values[1]

    def _describe(self) -> str:
        left, right = self._children
        return f"{_wrap(left, (Sum,))} * {_wrap(right, (Sum, Quotient))}"


class Quotient(Objective):
    """One objective divided by another."""

    def __init__(self, numerator: Objective, denominator: Objective):
        super().__init__()
        object.__setattr__(self, "_children", (numerator, denominator))

    def _combine(self, values):
        return values[0] / values[1]

    def _describe(self) -> str:
        top, bottom = self._children
        return f"{_wrap(top, (Sum,))} / {_wrap(bottom, (Sum, Product, Quotient, Scale))}"


def split_reference_activations(activations: Mapping[str, tf.Tensor],
                                references: Sequence[object],
                                reference_inputs: Sequence[tf.Tensor]):
    """Splits activations of a batch laid out as [images, reference 1, reference 2, ...]
    (equal parts) into the images' own and a :class:`ReferenceActivations` per reference
    (without gradient: references are fixed)."""
    if not references:
        return dict(activations), {}
    parts = {name: tf.split(t, len(references) + 1, axis=0) for name, t in activations.items()}
    own = {name: pieces[0] for name, pieces in parts.items()}
    by_reference = {
        reference: ReferenceActivations(
            reference_inputs[index],
            {name: tf.stop_gradient(pieces[index + 1]) for name, pieces in parts.items()})
        for index, reference in enumerate(references)}
    return own, by_reference


class _RecordingContext(Context):
    """Answers every layer request with zeros of the right shape, recording the names."""

    model: model_api.RenderableModel

    def __init__(self, model: model_api.RenderableModel, image_shape: Sequence[int]):
        super().__init__({}, tf.zeros(image_shape, tf.float32), model)
        self.requested: dict[str, None] = {}
        self._image_shape = tuple(image_shape)

    def __call__(self, name: str) -> tf.Tensor:
        self.requested[name] = None
        if name == INPUT:
            return self.input
        shape = self.model.output_shape(name, self._image_shape[:3] + (RGB_CHANNELS,))
        return tf.zeros(shape, tf.float32)

    def reference(self, reference, name: str = INPUT) -> tf.Tensor:
        if name == INPUT:
            return tf.zeros(self._image_shape[:3] + (RGB_CHANNELS,), tf.float32)
        return self(name)


def _probe_layers(fn: ObjectiveFunction, model, image_shape, description: str) -> tuple[str, ...]:
    if image_shape is None:
        raise ValueError(
            f"The custom objective {description!r} did not declare its layers and no image "
            "shape was given to find them; use Objective.from_function(fn, layers=[...]).")
    ctx = _RecordingContext(model, image_shape)
    fn(ctx)
    return tuple(ctx.requested)
