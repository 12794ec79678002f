"""The work of one appendix task: render a batch of channels, find their dataset examples.

A :class:`Worker` rebuilds the model from a :class:`WorkerConfig` (so it can
run in another process or on another machine), checks its weights against the
manifest's fingerprint and writes each result atomically into the store. The
in-process runner (:func:`.job.run_in_process`) and the Beam pipeline
(:mod:`.beam_pipeline`) both drive workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Sequence

import numpy as np
import tensorflow as tf

from lucid2.misc.io import image_grid, png_bytes, to_uint8
from lucid2.modelzoo import ModelSpec, VisionModel, load_from_spec
from lucid2.optvis import objectives, progress
from lucid2.optvis.render import Renderer
from lucid2.optvis.settings import RenderSettings, preset
from lucid2.recipes.appendix import store as store_lib
from lucid2.recipes.appendix.plan import AppendixError, Settings, Task, WorkItem
from lucid2.recipes.dataset_examples import LayerScan, list_image_files, scan_layer
from lucid2.recipes.dataset_examples.output import GRID_PADDING

# A random network is seeded so that every worker and every run builds the same one.
RANDOM_WEIGHTS_SEED = 0
RECORD_FORMAT = 1
RGB = 3
UINT8_MAX = 255.0


@dataclasses.dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs to rebuild the model and write results (picklable)."""

    output_dir: str
    backend: str | None
    settings: Settings
    model: ModelSpec
    fingerprint: str
    dataset: str | None
    num_examples: int


def load_model(spec: ModelSpec) -> VisionModel:
    """The model of ``spec``; a random InceptionV1 is seeded, so it is the same everywhere."""
    return load_from_spec(spec, random_seed=RANDOM_WEIGHTS_SEED)


def model_fingerprint(model) -> str:
    """SHA-256 of every weight of the model (names, shapes and values)."""
    digest = hashlib.sha256()
    for weight in model.keras_model.weights:
        value = np.ascontiguousarray(np.asarray(weight))
        name = getattr(weight, "path", None) or weight.name
        digest.update(f"{name}|{value.dtype}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def item_settings(item: WorkItem, settings: Settings) -> RenderSettings:
    """The render settings of a work item: the run's preset with its settings, one image
    per channel, the item's seed."""
    return preset(
        settings.preset, size=settings.size, batch=len(item.channels), param=settings.param,
        decorrelate=settings.decorrelate, transforms=settings.transforms,
        learning_rate=settings.learning_rate, steps=settings.steps, seed=item.seed)


def make_renderer(model, item: WorkItem, settings: Settings) -> Renderer:
    """The :class:`~lucid2.optvis.render.Renderer` of a work item: image i maximizes channel i.

    The objective is :func:`~lucid2.optvis.objectives.channels_per_image`, the
    sum over i of ``channel(layer, c_i, batch=i)``, one compiled step for the
    whole batch. The images do not interact (each
    image's gradient comes from its own term, and Adam's state is per
    element), so this equals rendering them one by one up to the random
    draws: the initial noise is drawn for the whole batch at once and the
    random transforms are shared by its images. Both are fixed by the item's
    seed and its channels, which is why ``channels_per_batch`` is a setting.
    """
    objective = objectives.channels_per_image([(item.layer, c) for c in item.channels])
    return item_settings(item, settings).renderer(model, objective)


def render_item(model, item: WorkItem, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Renders the channels of ``item`` as one batch (see :func:`make_renderer`).

    Returns:
      uint8 images (N, size, size, 3) and, per image, its channel's mean
      activation on those quantized pixels (what the PNG holds).
    """
    renderer = make_renderer(model, item, settings)
    images = renderer.run((item_settings(item, settings).steps,))[-1]
    pixels = to_uint8(images[..., :RGB])
    acts = model.submodel(item.layer)(tf.constant(pixels / UINT8_MAX, tf.float32),
                                      training=False)
    means = tf.reduce_mean(acts, axis=(1, 2)).numpy()
    activations = means[np.arange(len(item.channels)), np.asarray(item.channels)]
    return pixels, activations.astype(np.float64)


class Worker:
    """Does tasks: renders batches and finds dataset examples, writing results atomically.

    ``setup()`` loads the model once (a Beam worker calls it from ``DoFn.setup``)
    and checks that its weights are those of the manifest.
    """

    def __init__(self, config: WorkerConfig, model=None):
        self.config = config
        self.model = model
        self.store: store_lib.Store | None = None
        self._dataset_files: list[str] | None = None
        # One dataset pass per layer ranks the images for all its channels;
        # tasks of that layer then only cut patches from it.
        self._scans: dict[str, LayerScan] = {}

    def setup(self) -> None:
        """Opens the output store and loads the model (unless one was given)."""
        self._setup()

    def _setup(self) -> store_lib.Store:
        store = self.store = store_lib.open_store(self.config.output_dir, self.config.backend)
        if self.model is None:
            self.model = load_model(self.config.model)
            fingerprint = model_fingerprint(self.model)
            if fingerprint != self.config.fingerprint:
                raise AppendixError(
                    f"This worker loaded other weights for {self.config.model.model!r} "
                    f"(fingerprint {fingerprint[:12]}, expected "
                    f"{self.config.fingerprint[:12]}); workers must see the same weights.")
        return store

    def run(self, task: Task) -> int:
        """Does one task; returns the number of channels rendered."""
        store = self.store if self.store is not None else self._setup()
        rendered = 0
        if task.render:
            rendered = self._render(store, task.item)
        if task.example_channels:
            self._examples(store, task.item.layer, task.example_channels)
        return rendered

    def _render(self, store: store_lib.Store, item: WorkItem) -> int:
        settings = self.config.settings
        pixels, activations = render_item(self.model, item, settings)
        for i, channel in enumerate(item.channels):
            png_path, record_path = store_lib.render_paths(item.layer, channel)
            record = {"format": RECORD_FORMAT, "layer": item.layer, "channel": channel,
                      "activation": float(activations[i]),
                      "batch": {"first": item.first_channel, "count": len(item.channels),
                                "index": i, "seed": item.seed},
                      "settings": settings.to_dict(),
                      "model": {"name": self.model.name, "fingerprint": self.config.fingerprint}}
            store_lib.write_with_record(store, png_path, png_bytes(pixels[i]),
                                        record_path, record)
        return len(item.channels)

    def _files(self) -> list[str]:
        if self._dataset_files is None:
            if self.config.dataset is None:
                raise AppendixError("A task asks for dataset examples, but the job names no "
                                    "dataset.")
            self._dataset_files = list_image_files(self.config.dataset)
        return self._dataset_files

    def _scan(self, layer: str) -> LayerScan:
        """The dataset scan of every channel of ``layer``, made once per worker and layer."""
        scan = self._scans.get(layer)
        if scan is None:
            for other in self._scans.values():
                other.release_pixels()  # keep one layer's pixels in memory, not all
            # The active reporter (the app's, in-process), or a silent one: a Beam worker's
            # thread has none, and a library call prints nothing.
            scan = scan_layer(self.model, layer, self._files(), k=self.config.num_examples,
                              progress=progress.current())
            self._scans[layer] = scan
        return scan

    def _examples(self, store: store_lib.Store, layer: str, channels: Sequence[int]) -> None:
        results = self._scan(layer).results(channels)
        for channel in channels:
            result = results[channel]
            patches = result.patches("top")
            grid = image_grid(patches, ncols=len(patches), padding=GRID_PADDING)
            record = {"format": RECORD_FORMAT, "layer": layer, "channel": channel,
                      "dataset": self.config.dataset, "num_images": result.num_images,
                      "reduce": result.reduce, "count": len(patches),
                      "patch_size": [int(patches.shape[1]), int(patches.shape[2])],
                      "padding": GRID_PADDING, "top": [e.to_dict() for e in result.top]}
            png_path, record_path = store_lib.example_paths(layer, channel)
            store_lib.write_with_record(store, png_path, png_bytes(grid), record_path,
                                        record)

