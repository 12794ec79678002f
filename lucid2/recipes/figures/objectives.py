"""The article's "Optimization Objectives" figure: what different objectives show.

Neuron ``layer[x, y, z]``, channel ``layer[:, :, z]``, layer (DeepDream)
``layer[:, :, :]**2``, class logit ``pre_softmax[k]`` and class probability
``softmax[k]``. The article does not name the units or the class of this
figure; by default we use mixed4a unit 11 (the unit of the article's first
optimization example), DeepDream of mixed4a, and the class "goldfish".
"""

from __future__ import annotations

import numbers

import numpy as np

from lucid2.recipes.figures import rendering
from lucid2.recipes.figures.result import FigureResult, Panel

DEFAULT_UNIT: rendering.Unit = ("mixed4a", 11)
DEFAULT_DEEPDREAM_LAYER = "mixed4a"
DEFAULT_CLASS = "goldfish"
# Index of "goldfish" in inception5h's label order, for models loaded without labels.
FALLBACK_CLASS_INDEX = 450
TOP_CLASSES = 5

COLUMN_TITLES = ("Neuron\nlayer[x,y,z]", "Channel\nlayer[:,:,z]",
                 "Layer / DeepDream\nlayer[:,:,:]^2", "Class logit\npre_softmax[k]",
                 "Class probability\nsoftmax[k]")


def _class_index(model, label: int | str) -> tuple[int, str | None]:
    from lucid2.optvis.objectives import resolve_label

    labels = getattr(model, "labels", None)
    if isinstance(label, str):
        if labels is None:
            if label != DEFAULT_CLASS:
                raise ValueError(f"The model has no labels, so the class {label!r} cannot be "
                                 "looked up; give a class index instead.")
            return FALLBACK_CLASS_INDEX, None
        index = resolve_label(labels, label, repr(getattr(model, "name", "the model")))
    elif isinstance(label, bool) or not isinstance(label, numbers.Integral) or label < 0:
        raise ValueError(f"class_label must be a class name or an index >= 0, got {label!r}.")
    else:
        index = int(label)
    return index, (labels[index] if labels is not None and index < len(labels) else None)


def objectives_figure(model, *, unit: rendering.Unit = DEFAULT_UNIT,
                      deepdream_layer: str = DEFAULT_DEEPDREAM_LAYER,
                      class_label: int | str = DEFAULT_CLASS,
                      steps: int = rendering.DEFAULT_STEPS, size: int = rendering.DEFAULT_SIZE,
                      seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """One image per kind of objective, optimized together as a batch of five.

    Numbers: each objective's value on its own final image; for the two class
    images, the class's logit and probability and the top predicted classes.
    """
    (unit,) = rendering.check_units([unit], "unit")
    steps = rendering.check_positive_int(steps, "steps")
    size = rendering.check_positive_int(size, "size")
    seed = rendering.check_seed(seed)
    rendering.check_model_units(model, [unit], size)
    model.check_layer(deepdream_layer)
    logits_layer = getattr(model, "logits_layer", None)
    if logits_layer is None:
        raise ValueError("The objectives figure needs a model with a logits_layer (class "
                         "objectives).")
    class_index, class_name = _class_index(model, class_label)
    from lucid2.optvis import objectives

    layer, channel = unit
    terms = (("neuron", objectives.neuron(layer, channel, batch=0)),
             ("channel", objectives.channel(layer, channel, batch=1)),
             ("deepdream", objectives.deepdream(deepdream_layer, batch=2)),
             ("class_logit", objectives.class_logit(class_index, batch=3)),
             ("class_probability", objectives.class_probability(class_index, batch=4)))
    objective = sum(term for _, term in terms)
    images = rendering.render(model, objective, rendering.image_param(size, batch=len(terms)),
                              steps=steps, seed=seed)[-1]

    single = {"neuron": objectives.neuron(layer, channel),
              "channel": objectives.channel(layer, channel),
              "deepdream": objectives.deepdream(deepdream_layer)}
    values = {name: rendering.measure(model, single[name], images[i:i + 1])
              for i, (name, _) in enumerate(terms[:3])}
    logits = rendering.activations(model, images, [logits_layer])[logits_layer]
    logits = logits.reshape(logits.shape[0], -1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    labels = getattr(model, "labels", None)
    class_images = {}
    for i, name in ((3, "class_logit"), (4, "class_probability")):
        top = np.argsort(-probabilities[i])[:TOP_CLASSES]
        class_images[name] = {
            "logit": float(logits[i, class_index]),
            "probability": float(probabilities[i, class_index]),
            "top_classes": [{"index": int(k), "label": labels[k] if labels else None,
                             "probability": float(probabilities[i, k])} for k in top]}
    values["class_logit"] = class_images["class_logit"]["logit"]
    values["class_probability"] = class_images["class_probability"]["probability"]

    class_text = f"class {class_index}" + (f" ({class_name.split(',')[0]})" if class_name else "")
    captions = (f"{layer} {channel}, center", f"{layer} {channel}", deepdream_layer, class_text,
                class_text)
    row = tuple(Panel(name, images[i], caption=captions[i]) for i, (name, _) in enumerate(terms))
    return FigureResult(
        name="objectives", title="Optimization objectives: what different parts of the network "
        "look for", grid=(row,), column_titles=COLUMN_TITLES,
        numbers={"values": values, "class_images": class_images},
        settings={"steps": rendering.effective_steps(steps), "size": size, "seed": seed,
                  "unit": list(unit), "deepdream_layer": deepdream_layer,
                  "class_index": class_index, "class_label": class_name,
                  "logits_layer": logits_layer})
