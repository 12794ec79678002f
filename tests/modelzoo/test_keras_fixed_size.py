"""A keras.applications model with its classifier takes 224x224 images only: renders reach it
through the differentiable resize the renderer appends (and says so once)."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import keras_application
from lucid2.optvis import model_api, objectives, param, render

SIZE = 128  # the render's size: the model takes 224
STEPS = 8
CLASS = 207  # any class: the head is random


@pytest.mark.slow
def test_vgg16_with_its_head_renders_a_class_logit_at_128_px():
    model = keras_application("VGG16", weights=None)  # random weights: no download
    assert model_api.fixed_input_size(model, [model.logits_layer]) == (224, 224)
    objective = objectives.class_logit(CLASS)
    with pytest.warns(UserWarning, match=r"'VGG16' takes images of 224x224 pixels only: the "
                      r"\d+x\d+ up to \d+x\d+ images .* resized to 224x224") as told:
        renderer = render.Renderer(model, objective, param_f=lambda: param.image(SIZE),
                                   seed=0)
    assert len([w for w in told if "224x224" in str(w.message)]) == 1
    start = float(objective.evaluate(model, renderer.images()))
    values = [float(renderer.step()) for _ in range(STEPS)]
    images = renderer.images()
    assert images.shape == (1, SIZE, SIZE, 3) and np.isfinite(images).all()
    assert np.isfinite(values).all()
    assert float(objective.evaluate(model, images)) > start  # the logit rose
    # The gradient reaches the 128x128 image through the resize.
    image = tf.Variable(tf.constant(images))
    with tf.GradientTape() as tape:
        resized = tf.image.resize(image, (224, 224))
        logit = model.submodel(model.logits_layer)(resized, training=False)[0, CLASS]
    gradient = tape.gradient(logit, image)
    assert float(tf.reduce_sum(tf.abs(gradient))) > 0
    # Told once: a second render of the same model and size warns no more.
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("default")
        render.Renderer(model, objective, param_f=lambda: param.image(SIZE), seed=0)
    assert not [w for w in again if "224x224" in str(w.message)]
