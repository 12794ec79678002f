"""Running an appendix: checks before anything renders, the work of one item, the in-process runner.

:func:`prepare` does every check a run needs before any rendering (output
directory writable, settings of an earlier run, model and layers, dataset),
writes the manifest and lists the tasks left. A :class:`Worker` does the work
of one task (render a batch of channels, find their dataset examples); the
in-process runner (:func:`run_in_process`) and the Beam pipeline
(:mod:`.beam_pipeline`) both drive workers. :func:`finish` rescans what is
done, completes the manifest and writes the gallery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import threading
import time
from typing import TYPE_CHECKING, Callable, Mapping, Sequence, TextIO

import numpy as np

from lucid2.app_flags import ModelSpec
from lucid2.recipes.appendix import store as store_lib
from lucid2.recipes.appendix.plan import (DEFAULT_EXAMPLES, AppendixError, Settings, Task,
                                          WorkItem, check_layer_names, pending_tasks, plan_items)

if TYPE_CHECKING:  # imported lazily at run time: TensorFlow loads only when examples are made
    from lucid2.recipes.dataset_examples import LayerScan

IN_PROCESS = "InProcess"
# A random network is seeded so that every worker and every run builds the same one.
RANDOM_WEIGHTS_SEED = 0
RECORD_FORMAT = 1
SPATIAL_RANK = 4
RGB = 3
UINT8_MAX = 255.0
SECONDS_PER_HOUR = 3600.0
# The in-process runner rewrites the manifest after a task at most this often
# (each rewrite is one upload on a remote store).
MANIFEST_UPDATE_SECONDS = 30.0
DEFAULT_MODEL = ModelSpec(model="inceptionv1", weights="imagenet", value_range=None,
                          channel_order="RGB")


@dataclasses.dataclass(frozen=True)
class Request:
    """What to render and where.

    Attributes:
      output_dir: a local directory or a URL Beam's filesystems know (``gs://...``).
      settings: the render settings (they must match those of an earlier run there).
      model: the model to load (``lucid2.app_flags.ModelSpec``).
      layers: layers to render; None for the model's ``main_layers``.
      dataset: a directory or glob of images for dataset examples, or None.
      num_examples: dataset examples shown per channel.
      backend: force the store backend ("local" or "beam"); None picks by path.
    """

    output_dir: str
    settings: Settings = Settings()
    model: ModelSpec = DEFAULT_MODEL
    layers: tuple[str, ...] | None = None
    dataset: str | None = None
    num_examples: int = DEFAULT_EXAMPLES
    backend: str | None = None


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


@dataclasses.dataclass
class Job:
    """A prepared run: checked, with its manifest written and its tasks listed."""

    request: Request
    store: store_lib.Store
    settings: Settings
    model: object
    model_info: dict
    layer_channels: dict[str, int]   # the requested layers
    all_layers: dict[str, int]       # every layer in the manifest (earlier runs' too)
    items: list[WorkItem]
    tasks: list[Task]
    config: WorkerConfig

    @property
    def pending_channels(self) -> int:
        return sum(len(t.item.channels) for t in self.tasks)


# ---------------------------------------------------------------------- model
def load_model(spec: ModelSpec):
    """The model of ``spec``; a random InceptionV1 is seeded, so it is the same everywhere."""
    from lucid2.app_flags import load_model as load

    if spec.is_inceptionv1 and spec.weights is None:
        import keras

        keras.utils.set_random_seed(RANDOM_WEIGHTS_SEED)
    return load(spec)


def model_fingerprint(model) -> str:
    """SHA-256 of every weight of the model (names, shapes and values)."""
    digest = hashlib.sha256()
    for weight in model.keras_model.weights:
        value = np.ascontiguousarray(np.asarray(weight))
        name = getattr(weight, "path", None) or weight.name
        digest.update(f"{name}|{value.dtype}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _model_info(spec: ModelSpec, model, fingerprint: str) -> dict:
    return {"spec": "inceptionv1" if spec.is_inceptionv1 else spec.model, "name": model.name,
            "weights": (spec.weights or "none") if spec.is_inceptionv1 else None,
            "fingerprint": fingerprint}


def resolve_layers(model, layers: Sequence[str] | None, size: int,
                   channels_per_batch: int) -> dict[str, int]:
    """Layer name -> channel count, checked for renders of ``size`` pixels.

    ``None`` means the model's ``main_layers`` (InceptionV1's conv2d0 .. mixed5b).
    """
    if layers is None:
        layers = getattr(model, "main_layers", None)
        if not layers:
            raise AppendixError(f"Model {model.name!r} has no main_layers; name the layers to "
                                "render, e.g. --layers=block3_conv1,block4_conv1.")
    result = {}
    for layer in check_layer_names(layers):
        try:
            model.check_layer(layer)
            shape = model.output_shape(layer, (channels_per_batch, size, size, RGB))
        except ValueError as error:
            raise AppendixError(str(error)) from None
        if len(shape) != SPATIAL_RANK or shape[-1] is None:
            raise AppendixError(
                f"Layer {layer!r} has output shape {shape}; the appendix renders the channels "
                "of layers with (N, H, W, C) outputs.")
        result[layer] = int(shape[-1])
    return result


# -------------------------------------------------------------------- prepare
def _effective_settings(settings: Settings, log: Callable[[str], None]) -> Settings:
    from lucid2.optvis.render import MAX_STEPS_ENV, max_steps_from_env

    try:
        cap = max_steps_from_env()
    except ValueError as error:
        raise AppendixError(str(error)) from None
    if cap is not None and cap < settings.steps:
        log(f"{MAX_STEPS_ENV}={cap} caps the {settings.steps} steps; the manifest records {cap}.")
        return dataclasses.replace(settings, steps=cap)
    return settings


def _check_dataset(dataset: str | None) -> None:
    if dataset is None:
        return
    from lucid2.recipes.dataset_examples import list_image_files

    try:
        list_image_files(dataset)
    except (ValueError, FileNotFoundError) as error:
        raise AppendixError(f"dataset {dataset!r}: {error}") from None


def _warn_on_version_change(manifest: Mapping, log: Callable[[str], None]) -> None:
    from lucid2 import __version__

    old = manifest.get("lucid2_version")
    if old != __version__:
        log(f"The earlier run used lucid2 {old}, this is {__version__}: if rendering changed "
            "in between, the channels rendered now may differ slightly from a single run's.")


def prepare(request: Request, model=None, log: Callable[[str], None] | None = None) -> Job:
    """Checks everything, writes the manifest and lists the tasks left; renders nothing.

    Args:
      request: what to render and where.
      model: an already loaded model matching ``request.model`` (skips loading).
      log: where to report (default: stderr).

    Raises:
      AppendixError: an unwritable output directory, an earlier run there with
        other settings or another model, an unknown layer, an unusable dataset.
    """
    log = log or _stderr_log
    if not isinstance(request.settings, Settings):
        raise TypeError(f"request.settings must be a Settings, got "
                        f"{type(request.settings).__name__}.")
    settings = _effective_settings(request.settings, log)
    if isinstance(request.num_examples, bool) or not isinstance(request.num_examples, int) \
            or request.num_examples < 1:
        raise AppendixError(f"num_examples must be a positive integer, got "
                            f"{request.num_examples!r}.")
    store = store_lib.open_store(request.output_dir, request.backend)
    store.ensure_writable()
    manifest = store_lib.read_manifest(store)
    if manifest is not None:
        store_lib.check_settings(manifest, settings.to_dict(), store)
        _warn_on_version_change(manifest, log)
    _check_dataset(request.dataset)

    if model is None:
        try:
            model = load_model(request.model)
        except (OSError, ValueError, TypeError) as error:
            raise AppendixError(f"Cannot load model {request.model.model!r}: {error}") from None
    layer_channels = resolve_layers(model, request.layers, settings.size,
                                    settings.channels_per_batch)
    fingerprint = model_fingerprint(model)
    info = _model_info(request.model, model, fingerprint)
    if manifest is not None:
        store_lib.check_model(manifest, info, store)
    elif any(store_lib.rendered_channels(store, layer_channels).values()):
        raise AppendixError(
            f"{store.root} holds renders but no {store_lib.MANIFEST}, so their settings are "
            "unknown; choose another --output_dir.")

    all_layers = {name: int(entry["channels"])
                  for name, entry in (manifest or {}).get("layers", {}).items()}
    all_layers.update(layer_channels)
    removed = store.remove_temporaries(store_lib.work_directories(all_layers))
    if removed:
        log(f"Removed {len(removed)} temporary file(s) left by an interrupted run.")

    items = plan_items(layer_channels, settings.channels_per_batch, settings.seed)
    rendered = store_lib.rendered_channels(store, all_layers)
    examples = store_lib.example_channels(store, all_layers) if request.dataset else None
    tasks = pending_tasks(items, rendered, examples)
    dataset = request.dataset or (manifest or {}).get("dataset")
    store_lib.write_manifest(store, store_lib.build_manifest(
        settings.to_dict(), info, all_layers, rendered, examples, dataset))
    config = WorkerConfig(output_dir=store.root, backend=request.backend, settings=settings,
                          model=request.model, fingerprint=fingerprint, dataset=request.dataset,
                          num_examples=request.num_examples)
    return Job(request=request, store=store, settings=settings, model=model, model_info=info,
               layer_channels=layer_channels, all_layers=all_layers, items=items, tasks=tasks,
               config=config)


# ---------------------------------------------------------------------- work
def _transforms(name: str):
    from lucid2.optvis import transform

    return {"standard": transform.standard_transforms, "article": transform.article_transforms,
            "none": []}[name]


def make_renderer(model, item: WorkItem, settings: Settings):
    """The :class:`~lucid2.optvis.render.Renderer` of a work item: image i maximizes channel i.

    The objective is the sum over i of ``channel(layer, c_i, batch=i)``, one
    compiled step for the whole batch. The images do not interact (each
    image's gradient comes from its own term, and Adam's state is per
    element), so this equals rendering them one by one up to the random
    draws: the initial noise is drawn for the whole batch at once and the
    random transforms are shared by its images. Both are fixed by the item's
    seed and its channels, which is why ``channels_per_batch`` is a setting.
    """
    import keras

    from lucid2.optvis import objectives, param
    from lucid2.optvis.render import Renderer

    count = len(item.channels)
    objective = sum(objectives.channel(item.layer, c, batch=i)
                    for i, c in enumerate(item.channels))

    def param_f():
        return param.image(settings.size, batch=count, fft=settings.param == "fft",
                           decorrelate=settings.decorrelate)

    return Renderer(model, objective, param_f=param_f,
                    optimizer=lambda: keras.optimizers.Adam(settings.learning_rate),
                    transforms=_transforms(settings.transforms), seed=item.seed)


def render_item(model, item: WorkItem, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Renders the channels of ``item`` as one batch (see :func:`make_renderer`).

    Returns:
      uint8 images (N, size, size, 3) and, per image, its channel's mean
      activation on those quantized pixels (what the PNG holds).
    """
    import tensorflow as tf

    from lucid2.misc.io._arrays import to_uint8

    renderer = make_renderer(model, item, settings)
    images = renderer.run((settings.steps,))[-1]
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
        self._scans: dict[str, "LayerScan"] = {}

    def setup(self) -> None:
        self.store = store_lib.open_store(self.config.output_dir, self.config.backend)
        if self.model is None:
            self.model = load_model(self.config.model)
            fingerprint = model_fingerprint(self.model)
            if fingerprint != self.config.fingerprint:
                raise AppendixError(
                    f"This worker loaded other weights for {self.config.model.model!r} "
                    f"(fingerprint {fingerprint[:12]}, expected "
                    f"{self.config.fingerprint[:12]}); workers must see the same weights.")

    def run(self, task: Task) -> int:
        """Does one task; returns the number of channels rendered."""
        if self.store is None:
            self.setup()
        rendered = 0
        if task.render:
            rendered = self._render(task.item)
        if task.example_channels:
            self._examples(task.item.layer, task.example_channels)
        return rendered

    def _render(self, item: WorkItem) -> int:
        settings = self.config.settings
        pixels, activations = render_item(self.model, item, settings)
        from lucid2.misc.io import png_bytes

        for i, channel in enumerate(item.channels):
            png_path, record_path = store_lib.render_paths(item.layer, channel)
            record = {"format": RECORD_FORMAT, "layer": item.layer, "channel": channel,
                      "activation": float(activations[i]),
                      "batch": {"first": item.first_channel, "count": len(item.channels),
                                "index": i, "seed": item.seed},
                      "settings": settings.to_dict(),
                      "model": {"name": self.model.name, "fingerprint": self.config.fingerprint}}
            store_lib.write_with_record(self.store, png_path, png_bytes(pixels[i]),
                                        record_path, record)
        return len(item.channels)

    def _files(self) -> list[str]:
        if self._dataset_files is None:
            from lucid2.recipes.dataset_examples import list_image_files

            self._dataset_files = list_image_files(self.config.dataset)
        return self._dataset_files

    def _scan(self, layer: str) -> "LayerScan":
        """The dataset scan of every channel of ``layer``, made once per worker and layer."""
        scan = self._scans.get(layer)
        if scan is None:
            from lucid2.recipes.dataset_examples import scan_layer

            for other in self._scans.values():
                other.release_pixels()  # keep one layer's pixels in memory, not all
            scan = scan_layer(self.model, layer, self._files(), k=self.config.num_examples,
                              progress=False)
            self._scans[layer] = scan
        return scan

    def _examples(self, layer: str, channels: Sequence[int]) -> None:
        from lucid2.misc.io import image_grid, png_bytes
        from lucid2.recipes.dataset_examples.output import GRID_PADDING

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
            store_lib.write_with_record(self.store, png_path, png_bytes(grid), record_path,
                                        record)


# ------------------------------------------------------------------ progress
def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (days as ``Dd H:MM:SS``)."""
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


class Progress:
    """Channels done out of a total, the rate of this run and the time left (ETA).

    Args:
      total: channels this run has to do.
      stream: where lines go (default stderr); None prints nothing.
      clock: seconds, monotonic (a parameter for tests).
    """

    def __init__(self, total: int, stream: TextIO | None = sys.stderr,
                 clock: Callable[[], float] = time.monotonic):
        self.total = int(total)
        self.done = 0
        self.stream = stream
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()

    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far; None before anything is done."""
        elapsed = self._clock() - self._start
        if self.done <= 0 or elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / self.done

    def channels_per_hour(self) -> float | None:
        elapsed = self._clock() - self._start
        return self.done * SECONDS_PER_HOUR / elapsed if self.done and elapsed > 0 else None

    def line(self, what: str = "") -> str:
        percent = 100.0 * self.done / self.total if self.total else 100.0
        parts = [f"{self.done}/{self.total} channels ({percent:.1f}%)"]
        if what:
            parts.append(what)
        rate = self.channels_per_hour()
        eta = self.eta_seconds()
        if rate is not None:
            parts.append(f"{rate:,.0f} channels/h")
        parts.append(f"ETA {format_duration(eta)}" if eta is not None else "ETA unknown")
        return "appendix: " + " | ".join(parts)

    def update(self, done: int, what: str = "") -> str:
        """Sets the count of channels done so far and reports it."""
        with self._lock:
            self.done = min(int(done), self.total)
            text = self.line(what)
        if self.stream is not None:
            print(text, file=self.stream, flush=True)
        return text

    def advance(self, count: int, what: str = "") -> str:
        return self.update(self.done + count, what)


def _stderr_log(message: str) -> None:
    print(f"appendix: {message}", file=sys.stderr, flush=True)


# -------------------------------------------------------------------- runners
def _write_manifest(job: Job) -> dict:
    rendered = store_lib.rendered_channels(job.store, job.all_layers)
    examples = (store_lib.example_channels(job.store, job.all_layers)
                if job.request.dataset else None)
    manifest = store_lib.build_manifest(job.settings.to_dict(), job.model_info, job.all_layers,
                                        rendered, examples,
                                        job.request.dataset or _old_dataset(job))
    store_lib.write_manifest(job.store, manifest)
    return manifest


def _old_dataset(job: Job) -> str | None:
    try:
        return job.store.read_json(store_lib.MANIFEST).get("dataset")
    except Exception:  # no manifest to read back: nothing to keep
        return None


def run_in_process(job: Job, stream: TextIO | None = sys.stderr,
                   clock: Callable[[], float] = time.monotonic) -> int:
    """Does the job's tasks one after the other in this process; returns channels rendered."""
    worker = Worker(job.config, model=job.model)
    worker.setup()
    progress = Progress(job.pending_channels, stream=stream, clock=clock)
    last_manifest = clock()
    rendered = 0
    for task in job.tasks:
        started = clock()
        rendered += worker.run(task)
        progress.advance(len(task.item.channels),
                         f"{task.item.label} in {clock() - started:.1f}s")
        if clock() - last_manifest >= MANIFEST_UPDATE_SECONDS:
            _write_manifest(job)
            last_manifest = clock()
    return rendered


def finish(job: Job, gallery: bool = True) -> dict:
    """Rescans what is done, writes the final manifest and (optionally) the gallery."""
    manifest = _write_manifest(job)
    if gallery:
        from lucid2.recipes.appendix.gallery import build_gallery

        build_gallery(job.store, manifest)
    return manifest


def run(request: Request, runner: str = IN_PROCESS, pipeline_args: Sequence[str] = (),
        gallery: bool = True, model=None, stream: TextIO | None = sys.stderr) -> dict:
    """Prepares and runs an appendix job, in this process or on Apache Beam; returns the manifest.

    Args:
      request: what to render and where.
      runner: ``"InProcess"`` or a Beam runner name (``DirectRunner``,
        ``DataflowRunner``, ``FlinkRunner``, ``SparkRunner``, ...).
      pipeline_args: Beam pipeline options, e.g. ``["--direct_num_workers=2",
        "--direct_running_mode=multi_processing"]``.
      gallery: write the HTML gallery at the end.
      model: an already loaded model matching ``request.model`` (in-process only).
      stream: where progress goes (None: silent).
    """
    is_beam = runner.strip().lower() != IN_PROCESS.lower()
    if is_beam:
        from lucid2.recipes.appendix.beam_pipeline import require_beam

        require_beam(runner)
    elif pipeline_args:
        raise AppendixError(
            f"Unknown options {list(pipeline_args)}: pipeline options need a Beam runner, "
            "e.g. --runner=DirectRunner.")

    def log(message: str) -> None:
        if stream is not None:
            print(f"appendix: {message}", file=stream, flush=True)

    job = prepare(request, model=model, log=log)
    total = sum(job.layer_channels.values())
    log(f"{len(job.layer_channels)} layer(s), {total} channels; "
        f"{job.pending_channels} channels in {len(job.tasks)} batch(es) left to do "
        f"(output: {job.store.root}).")
    if job.tasks:
        if is_beam:
            from lucid2.recipes.appendix.beam_pipeline import run_pipeline

            run_pipeline(job, runner, pipeline_args, stream=stream)
        else:
            run_in_process(job, stream=stream)
    manifest = finish(job, gallery=gallery)
    missing = sum(len(entry["missing"]) for entry in manifest["layers"].values())
    log("complete." if manifest["complete"] else f"{missing} channel(s) still missing.")
    return manifest


def layer_channel_counts(manifest: Mapping) -> dict[str, int]:
    """Layer -> channel count of a manifest, in its order."""
    return {name: int(entry["channels"]) for name, entry in manifest["layers"].items()}
