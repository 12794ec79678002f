"""The article's "Optimization Objectives" figure: what different objectives show.

Neuron ``layer[x, y, z]``, channel ``layer[:, :, z]``, layer (DeepDream)
``layer[:, :, :]**2``, class logit ``pre_softmax[k]`` and class probability
``softmax[k]``. The article does not name the units or the class of this
figure; by default we use mixed4a unit 11 (the unit of the article's first
optimization example), DeepDream of mixed4a, and the class "goldfish".
"""

from __future__ import annotations

import numpy as np

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import checks, objectives
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.recipes.figures.optimization import activations, figure_settings, settings_record
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units

DEFAULT_UNIT: LayerChannel = ("mixed4a", 11)
DEFAULT_DEEPDREAM_LAYER = "mixed4a"
DEFAULT_CLASS = "goldfish"
# Index of "goldfish" in inception5h's label order, for models loaded without labels.
FALLBACK_CLASS_INDEX = 450
TOP_CLASSES = 5
# Which image of the batch shows which objective, in column order.
KINDS = ("neuron", "channel", "deepdream", "class_logit", "class_probability")
CLASS_KINDS = ("class_logit", "class_probability")

COLUMN_TITLES = ("Neuron\nlayer[x,y,z]", "Channel\nlayer[:,:,z]",
                 "Layer / DeepDream\nlayer[:,:,:]^2", "Class logit\npre_softmax[k]",
                 "Class probability\nsoftmax[k]")


def _class_index(model, label: int | str) -> tuple[int, str | None]:
    labels = getattr(model, "labels", None)
    if isinstance(label, str):
        if labels is None:
            if label != DEFAULT_CLASS:
                raise ValueError(f"The model has no labels, so the class {label!r} cannot be "
                                 "looked up; give a class index instead.")
            return FALLBACK_CLASS_INDEX, None
        index = objectives.resolve_label(labels, label, repr(getattr(model, "name", "the model")))
    else:
        index = checks.non_negative_int("class_label", label)
    return index, (labels[index] if labels is not None and index < len(labels) else None)


def _batch_objectives(unit: LayerChannel, deepdream_layer: str,
                      class_index: int) -> dict[str, objectives.Objective]:
    """One objective per kind, image ``i`` of the batch optimizing kind ``KINDS[i]``."""
    layer, channel = unit
    factories = {
        "neuron": lambda i: objectives.neuron(layer, channel, batch=i),
        "channel": lambda i: objectives.channel(layer, channel, batch=i),
        "deepdream": lambda i: objectives.deepdream(deepdream_layer, batch=i),
        "class_logit": lambda i: objectives.class_logit(class_index, batch=i),
        "class_probability": lambda i: objectives.class_probability(class_index, batch=i)}
    return {kind: factories[kind](i) for i, kind in enumerate(KINDS)}


def _class_numbers(model, images: np.ndarray, logits_layer: str, class_index: int) -> dict:
    """For each class image: the class's logit and probability, and the top classes."""
    logits = activations(model, images, [logits_layer])[logits_layer]
    logits = logits.reshape(logits.shape[0], -1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    labels = getattr(model, "labels", None)
    numbers = {}
    for kind in CLASS_KINDS:
        i = KINDS.index(kind)
        top = np.argsort(-probabilities[i])[:TOP_CLASSES]
        numbers[kind] = {
            "logit": float(logits[i, class_index]),
            "probability": float(probabilities[i, class_index]),
            "top_classes": [{"index": int(k), "label": labels[k] if labels else None,
                             "probability": float(probabilities[i, k])} for k in top]}
    return numbers


def objectives_figure(model, *, unit: LayerChannel = DEFAULT_UNIT,
                      deepdream_layer: str = DEFAULT_DEEPDREAM_LAYER,
                      class_label: int | str = DEFAULT_CLASS,
                      steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                      seed: int = DEFAULT_SEED,
                      preset: str = DEFAULT_PRESET) -> FigureResult:
    """One image per kind of objective, optimized together as a batch of five.

    Numbers: each objective's value on its own final image; for the two class
    images, the class's logit and probability and the top predicted classes.
    """
    (unit,) = check_units([unit], "unit")
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset,
                                      batch=len(KINDS))
    check_model_units(model, [unit], size)
    model.check_layer(deepdream_layer)
    logits_layer = getattr(model, "logits_layer", None)
    if logits_layer is None:
        raise ValueError("The objectives figure needs a model with a logits_layer (class "
                         "objectives).")
    class_index, class_name = _class_index(model, class_label)

    images = render_settings.render(
        model, sum(_batch_objectives(unit, deepdream_layer, class_index).values()))
    layer, channel = unit
    single = {"neuron": objectives.neuron(layer, channel),
              "channel": objectives.channel(layer, channel),
              "deepdream": objectives.deepdream(deepdream_layer)}
    values = {kind: single[kind].evaluate(model, images[i:i + 1])
              for i, kind in enumerate(KINDS) if kind in single}
    class_images = _class_numbers(model, images, logits_layer, class_index)
    values["class_logit"] = class_images["class_logit"]["logit"]
    values["class_probability"] = class_images["class_probability"]["probability"]

    class_text = f"class {class_index}" + (f" ({class_name.split(',')[0]})" if class_name else "")
    captions = (f"{layer} {channel}, center", f"{layer} {channel}", deepdream_layer, class_text,
                class_text)
    row = tuple(Panel(kind, images[i], caption=captions[i]) for i, kind in enumerate(KINDS))
    return FigureResult(
        name="objectives", title="Optimization objectives: what different parts of the network "
        "look for", grid=(row,), column_titles=COLUMN_TITLES,
        numbers={"values": values, "class_images": class_images},
        settings=settings_record(render_settings, unit=list(unit),
                                 deepdream_layer=deepdream_layer, class_index=class_index,
                                 class_label=class_name, logits_layer=logits_layer))
