"""InceptionV1: structure (offline, random weights) and faithfulness (real weights)."""

import numpy as np
import pytest

from lucid2.modelzoo import InceptionV1, inceptionv1_graph as graph


@pytest.fixture(scope="module")
def random_model():
    return InceptionV1(weights=None)


LUCID_NAMES = (
    ["conv2d0", "conv2d0_pre_relu", "conv2d1", "conv2d2", "maxpool0", "maxpool1", "maxpool4",
     "maxpool10", "localresponsenorm0", "localresponsenorm1", "softmax2_pre_activation",
     "softmax2", "avgpool0"]
    + [f"{block}{suffix}" for block, *_ in graph.MIXED_BLOCKS
       for suffix in ("", "_pre_relu", "_1x1", "_1x1_pre_relu", "_3x3_bottleneck", "_3x3",
                      "_3x3_pre_relu", "_5x5_bottleneck", "_5x5", "_pool", "_pool_reduce")])


def test_every_lucid_layer_name_is_reachable(random_model):
    for name in LUCID_NAMES:
        assert random_model.keras_model.get_layer(name).name == name


def test_channels_metadata_matches_the_article(random_model):
    expected = {"conv2d0": 64, "conv2d1": 64, "conv2d2": 192, "mixed3a": 256, "mixed3b": 480,
                "mixed4a": 508, "mixed4b": 512, "mixed4c": 512, "mixed4d": 528, "mixed4e": 832,
                "mixed5a": 832, "mixed5b": 1024, "softmax2_pre_activation": 1008}
    for name, channels in expected.items():
        assert random_model.layer_info(name).channels == channels
        if name.startswith("mixed"):
            assert random_model.layer_info(name + "_pre_relu").channels == channels
    assert random_model.layer_info("mixed4a").kind == "mixed"
    assert random_model.layer_info("softmax2_pre_activation").kind == "logits"
    assert random_model.value_range == (-117.0, 138.0)
    assert random_model.logits_layer == "softmax2_pre_activation"


def test_parameter_count_of_main_path(random_model):
    assert random_model.keras_model.count_params() == 7_066_380
    assert sum(int(np.prod(s)) for s in graph.weight_shapes().values()) == 7_066_380


def test_submodel_is_cached_and_stops_at_deepest_layer(random_model):
    sub = random_model.submodel(["conv2d0", "mixed3a"])
    assert random_model.submodel(["conv2d0", "mixed3a"]) is sub
    names = {layer.name for layer in sub.layers}
    assert "mixed3a" in names and "conv2d0" in names
    assert not any(n.startswith(("mixed3b", "mixed4", "mixed5", "softmax")) for n in names)
    outputs = sub(np.zeros((2, 64, 64, 3), np.float32))
    assert [tuple(o.shape) for o in outputs] == [(2, 32, 32, 64), (2, 8, 8, 256)]
    single = random_model.submodel("mixed3a")
    assert tuple(single(np.zeros((1, 32, 32, 3), np.float32)).shape) == (1, 4, 4, 256)


def test_pre_relu_is_concatenation_of_branches_and_relu_matches(random_model):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(1, 48, 48, 3)).astype(np.float32)
    branches = [f"mixed3a_{b}_pre_relu" for b in ("1x1", "3x3", "5x5", "pool_reduce")]
    outs = random_model.submodel(["mixed3a_pre_relu", "mixed3a"] + branches)(images)
    pre, post, parts = np.asarray(outs[0]), np.asarray(outs[1]), [np.asarray(o) for o in outs[2:]]
    np.testing.assert_allclose(pre, np.concatenate(parts, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(post, np.maximum(pre, 0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("size", [1, 3, 7, 9, 12])
def test_head_pool_is_mean_of_valid_window_averages(size):
    rng = np.random.default_rng(size)
    x = rng.normal(size=(2, size, size + 1, 5)).astype(np.float32)
    got = np.asarray(graph.HeadPool()(x))
    window_h, window_w = min(size, 7), min(size + 1, 7)
    windows = [x[:, i:i + window_h, j:j + window_w].mean(axis=(1, 2))
               for i in range(size - window_h + 1) for j in range(size + 1 - window_w + 1)]
    np.testing.assert_allclose(got, np.mean(windows, axis=0), rtol=1e-5, atol=1e-6)


def test_logits_work_at_lucid_render_size(random_model):
    logits = random_model.predict(np.full((1, 128, 128, 3), 0.5, np.float32))
    assert logits.shape == (1, 1008) and np.all(np.isfinite(logits))


def test_unknown_layer_suggests_close_matches(random_model):
    with pytest.raises(ValueError, match=r"Unknown layer 'mixed4z'.*mixed4a"):
        random_model.submodel("mixed4z")
    with pytest.raises(ValueError, match="Did you mean: mixed4a_pre_relu"):
        random_model.layer_info("mixed4a_prerelu")


@pytest.mark.parametrize("shape,match", [((224, 224, 3), "rank 4"), ((1, 32, 32, 1), "3 channels"),
                                         ((1, 32, 32, 4), "3 channels")])
def test_images_of_wrong_shape_are_rejected(random_model, shape, match):
    with pytest.raises(ValueError, match=match):
        random_model.predict(np.zeros(shape, np.float32))


def test_layers_table_lists_output_shapes(random_model):
    table = {name: shape for name, _, shape in random_model.layers_table(224)}
    assert table["conv2d0"] == (1, 112, 112, 64)
    assert table["mixed4a"] == (1, 14, 14, 508)
    assert table["mixed5b"] == (1, 7, 7, 1024)
    assert table["softmax2_pre_activation"] == (1, 1008)


# ----------------------------------------------------------------- real weights


def test_activations_match_independent_reference(inception, shared_data):
    reference = np.load(shared_data / "inception5h" / "reference_activations.npz")
    full = [k for k in reference.files if "/" not in k and k not in ("input", "logits")]
    outputs = inception.submodel(full + ["softmax2_pre_activation"])(reference["input"])
    for name, value in zip(full + ["logits"], outputs):
        expected = reference[name]
        error = np.abs(np.asarray(value) - expected).max() / np.abs(expected).max()
        assert error < 1e-4, f"{name}: relative error {error}"
    means = [k for k in reference.files if k.endswith("/spatial_mean")]
    layers = [k.split("/")[0] for k in means]
    for key, value in zip(means, inception.submodel(layers)(reference["input"])):
        expected = reference[key]
        got = np.asarray(value).mean(axis=(1, 2))
        assert np.abs(got - expected).max() / np.abs(expected).max() < 1e-4, key


def test_dog_is_a_dalmatian(inception, shared_data):
    from lucid2.misc.io import load_image

    image = load_image(shared_data / "inception5h" / "dog.jpg", size=(224, 224))
    probabilities = np.asarray(inception.submodel("softmax2")(image[None]))[0]
    assert int(np.argmax(probabilities)) == 41
    assert probabilities[41] >= 0.99
    assert "dalmatian" in inception.labels[41]
    assert len(inception.labels) == 1008


def _sample_classes(shared_data):
    lines = (shared_data / "inception5h" / "synsets.txt").read_text().splitlines()
    index = {}
    for i, line in enumerate(lines[:1001]):
        index.setdefault(line.split(" ", 1)[0], i)
    samples = sorted((shared_data / "imagenet-samples").glob("*.JPEG"))
    return [(path, index[path.name.split("_", 1)[0]]) for path in samples]


def test_accuracy_on_imagenet_samples(inception, shared_data):
    from lucid2.misc.io import load_image

    samples = _sample_classes(shared_data)
    assert len(samples) == 50
    images = np.stack([load_image(path, size=(224, 224)) for path, _ in samples])
    logits = inception.predict(images, batch_size=10)
    targets = np.array([label for _, label in samples])
    top5 = np.argsort(-logits, axis=1)[:, :5]
    top1_accuracy = np.mean(top5[:, 0] == targets)
    top5_accuracy = np.mean([t in row for t, row in zip(targets, top5)])
    print(f"imagenet-samples: top-1 {top1_accuracy:.2f}, top-5 {top5_accuracy:.2f}")
    assert top1_accuracy >= 0.70
    assert top5_accuracy >= 0.90
