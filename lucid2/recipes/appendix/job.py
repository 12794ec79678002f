"""Running an appendix: checks before anything renders, the in-process runner, the end of a run.

:func:`prepare` does every check a run needs before any rendering (output
directory writable, settings of an earlier run, model and layers, dataset),
removes damaged files (checked against their records' checksums, see
:mod:`.integrity`) so that they are rendered again, writes the manifest and
lists the tasks left. :func:`run` holds the output directory's lock
(:mod:`.lock`) from before :func:`prepare` to after :func:`finish`. A
:class:`~lucid2.recipes.appendix.worker.Worker` does the work of one task; the
in-process runner (:func:`run_in_process`) and the Beam pipeline
(:mod:`.beam_pipeline`) both drive workers. :func:`finish` rescans what is
done, completes the manifest and writes the gallery.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Callable, Mapping, Sequence, TextIO

from lucid2 import __version__
from lucid2.modelzoo import ModelSpec
from lucid2.optvis import checks
from lucid2.optvis.render import MAX_STEPS_ENV, max_steps_from_env
from lucid2.recipes.appendix import integrity
from lucid2.recipes.appendix import store as store_lib
from lucid2.recipes.appendix.gallery import build_gallery
from lucid2.recipes.appendix.lock import OutputLock
from lucid2.recipes.appendix.plan import (DEFAULT_EXAMPLES, AppendixError, Settings, Task,
                                          WorkItem, check_layer_names, checked, pending_tasks,
                                          plan_items)
from lucid2.recipes.appendix.progress import Progress
from lucid2.recipes.appendix.worker import (RGB, Worker, WorkerConfig, load_model,
                                            model_fingerprint)
from lucid2.recipes.dataset_examples import list_image_files

IN_PROCESS = "InProcess"
SPATIAL_RANK = 4
# The in-process runner rewrites the manifest after a task at most this often
# (each rewrite is one upload on a remote store).
MANIFEST_UPDATE_SECONDS = 30.0
# Damaged files named one by one in the log; beyond this, a count.
MAX_LISTED_PROBLEMS = 50
DEFAULT_MODEL = ModelSpec(model="inceptionv1", weights="imagenet", value_range=None,
                          channel_order="RGB")


@dataclasses.dataclass(frozen=True)
class Request:
    """What to render and where.

    Attributes:
      output_dir: a local directory or a URL Beam's filesystems know (``gs://...``).
      settings: the render settings (they must match those of an earlier run there).
      model: the model to load (a :class:`lucid2.modelzoo.ModelSpec`).
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


# --------------------------------------------------------------------- model
def _model_info(spec: ModelSpec, model, fingerprint: str) -> dict:
    return {"spec": "inceptionv1" if spec.is_inceptionv1 else spec.model, "name": model.name,
            "weights": (spec.weights or "none") if spec.takes_weights else None,
            "fingerprint": fingerprint}


def resolve_layers(model, layers: Sequence[str] | None, size: int,
                   channels_per_batch: int) -> dict[str, int]:
    """Layer name -> channel count, checked for renders of ``size`` pixels.

    ``None`` means the model's ``main_layers`` (InceptionV1's conv2d0 .. mixed5b, a
    keras.applications model's block outputs).
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
    try:
        cap = max_steps_from_env()
    except ValueError as error:
        raise AppendixError(str(error)) from None
    if cap is not None and settings.steps is not None and cap < settings.steps:
        log(f"{MAX_STEPS_ENV}={cap} caps the {settings.steps} steps; the manifest records {cap}.")
        return dataclasses.replace(settings, steps=cap)
    return settings


def _checked_settings(request: Request, log: Callable[[str], None]) -> Settings:
    """The request's settings as this run applies them (steps capped by the environment)."""
    if not isinstance(request.settings, Settings):
        raise TypeError(f"request.settings must be a Settings, got "
                        f"{type(request.settings).__name__}.")
    settings = _effective_settings(request.settings, log)
    checked(checks.positive_int, "num_examples", request.num_examples)
    return settings


def _warn_on_version_change(manifest: Mapping, log: Callable[[str], None]) -> None:
    old = manifest.get("lucid2_version")
    if old != __version__:
        log(f"The earlier run used lucid2 {old}, this is {__version__}: if rendering changed "
            "in between, the channels rendered now may differ slightly from a single run's.")


def _open_output(request: Request, settings: Settings,
                 log: Callable[[str], None]) -> tuple[store_lib.Store, dict | None]:
    """The writable store of the request and the manifest of an earlier run there (or None),
    checked to hold the same settings."""
    store = store_lib.open_store(request.output_dir, request.backend)
    store.ensure_writable()
    manifest = store_lib.read_manifest(store)
    if manifest is not None:
        store_lib.check_settings(manifest, settings.to_dict(), store)
        _warn_on_version_change(manifest, log)
    return store, manifest


def _check_dataset(dataset: str | None) -> None:
    if dataset is None:
        return
    try:
        list_image_files(dataset)
    except (ValueError, FileNotFoundError) as error:
        raise AppendixError(f"dataset {dataset!r}: {error}") from None


def _load_checked(spec: ModelSpec):
    try:
        return load_model(spec)
    except (OSError, ValueError, TypeError) as error:
        raise AppendixError(f"Cannot load model {spec.model!r}: {error}") from None


def _check_model_matches_output(store: store_lib.Store, manifest: Mapping | None, info: dict,
                                layer_channels: Mapping[str, int]) -> None:
    """Refuses another model than the earlier run's, and renders of unknown settings."""
    if manifest is not None:
        store_lib.check_model(manifest, info, store)
    elif any(store_lib.rendered_channels(store, layer_channels).values()):
        raise AppendixError(
            f"{store.root} holds renders but no {store_lib.MANIFEST}, so their settings are "
            "unknown; choose another --output_dir.")


def _all_layers(manifest: Mapping | None, layer_channels: Mapping[str, int]) -> dict[str, int]:
    """Every layer of the output: the earlier runs' (in their order), then the requested ones."""
    all_layers = {name: int(entry["channels"])
                  for name, entry in (manifest or {}).get("layers", {}).items()}
    all_layers.update(layer_channels)
    return all_layers


def _remove_temporaries(store: store_lib.Store, all_layers: Mapping[str, int],
                        log: Callable[[str], None]) -> None:
    removed = store.remove_temporaries(store_lib.work_directories(all_layers))
    if removed:
        log(f"Removed {len(removed)} temporary file(s) left by an interrupted run.")


def _damage_lines(layer: str, folder: str, check: integrity.LayerCheck, dataset: bool,
                  store: store_lib.Store) -> list[str]:
    what = "render" if folder == store_lib.RENDERS else "dataset examples"
    again = ("rendering it again" if folder == store_lib.RENDERS else
             "making them again" if dataset else "rerun with --dataset to make them again")
    return [f"{layer} channel {p.channel}: {what} damaged, {store.url(p.path)} {p.reason}; "
            f"{again}." for p in check.problems if p.kind == integrity.DAMAGED]


def _remove_damaged(store: store_lib.Store, all_layers: Mapping[str, int], settings: Settings,
                    fingerprint: str, dataset: bool, log: Callable[[str], None]) -> None:
    """Checks every finished channel against its record and removes the damaged ones (the
    record first: a channel without one is not done), so that this run does them again."""
    lines = []
    for layer in all_layers:
        for folder in (store_lib.RENDERS, store_lib.EXAMPLES):
            is_render = folder == store_lib.RENDERS
            check = integrity.check_layer(store, folder, layer,
                                          settings=settings.to_dict() if is_render else None,
                                          fingerprint=fingerprint if is_render else None)
            paths = store_lib.render_paths if is_render else store_lib.example_paths
            for channel in check.damaged_channels():
                png, record = paths(layer, channel)
                store.delete([record, png])
            lines += _damage_lines(layer, folder, check, dataset, store)
    if lines:
        log(f"{len(lines)} damaged file(s) found and removed:")
        for line in lines[:MAX_LISTED_PROBLEMS]:
            log(f"  {line}")
        if len(lines) > MAX_LISTED_PROBLEMS:
            log(f"  ... and {len(lines) - MAX_LISTED_PROBLEMS} more.")


def _list_tasks_and_write_manifest(
        request: Request, settings: Settings, store: store_lib.Store, manifest: Mapping | None,
        info: dict, layer_channels: Mapping[str, int],
        all_layers: Mapping[str, int]) -> tuple[list[WorkItem], list[Task]]:
    """The work items of the requested layers and the tasks left of them, recorded in the
    manifest with what is already done."""
    items = plan_items(layer_channels, settings.channels_per_batch, settings.seed)
    rendered = store_lib.rendered_channels(store, all_layers)
    examples = store_lib.example_channels(store, all_layers) if request.dataset else None
    tasks = pending_tasks(items, rendered, examples)
    dataset = request.dataset or (manifest or {}).get("dataset")
    store_lib.write_manifest(store, store_lib.build_manifest(
        settings.to_dict(), info, all_layers, rendered, examples, dataset))
    return items, tasks


def prepare(request: Request, model=None, log: Callable[[str], None] | None = None) -> Job:
    """Checks everything, removes damaged files, writes the manifest and lists the tasks
    left; renders nothing.

    :func:`run` holds the output's :class:`~lucid2.recipes.appendix.lock.OutputLock`
    around this and the rest of the run; callers that drive the stages themselves should
    hold it too.

    Args:
      request: what to render and where.
      model: an already loaded model matching ``request.model`` (skips loading).
      log: where to report (default: stderr).

    Raises:
      AppendixError: an unwritable output directory, an earlier run there with
        other settings or another model, an unknown layer, an unusable dataset.
    """
    log = log or _stderr_log
    # The cheap checks come first: a wrong setting is refused before the model loads.
    settings = _checked_settings(request, log)
    store, manifest = _open_output(request, settings, log)
    _check_dataset(request.dataset)

    if model is None:
        model = _load_checked(request.model)
    layer_channels = resolve_layers(model, request.layers, settings.size,
                                    settings.channels_per_batch)
    fingerprint = model_fingerprint(model)
    info = _model_info(request.model, model, fingerprint)
    _check_model_matches_output(store, manifest, info, layer_channels)

    all_layers = _all_layers(manifest, layer_channels)
    _remove_temporaries(store, all_layers, log)
    _remove_damaged(store, all_layers, settings, fingerprint, bool(request.dataset), log)
    items, tasks = _list_tasks_and_write_manifest(request, settings, store, manifest, info,
                                                  layer_channels, all_layers)
    config = WorkerConfig(output_dir=store.root, backend=request.backend, settings=settings,
                          model=request.model, fingerprint=fingerprint, dataset=request.dataset,
                          num_examples=request.num_examples)
    return Job(request=request, store=store, settings=settings, model=model, model_info=info,
               layer_channels=layer_channels, all_layers=all_layers, items=items, tasks=tasks,
               config=config)


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
        build_gallery(job.store, manifest)
    return manifest


def run(request: Request, runner: str = IN_PROCESS, pipeline_args: Sequence[str] = (),
        gallery: bool = True, model=None, stream: TextIO | None = sys.stderr,
        notices: TextIO | None = sys.stderr) -> dict:
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
      notices: where what the user should know even without progress goes: damaged files
        removed, a stale lock taken over, leftovers of an interrupted run, another lucid2
        version, a step cap (None: nowhere).

    Raises:
      AppendixError: what :func:`prepare` refuses, and another job holding the
        output's lock (see :mod:`.lock`).
      OutputFull: the device filled up (one line; a rerun resumes).
    """
    is_beam = runner.strip().lower() != IN_PROCESS.lower()
    if is_beam:
        # Imported only for a Beam runner: it imports apache_beam, an optional extra whose
        # import costs a third of a second and installs a handler on the root logger.
        from lucid2.recipes.appendix import beam_pipeline

        beam_pipeline.require_beam(runner)
    elif pipeline_args:
        raise AppendixError(
            f"Unknown options {list(pipeline_args)}: pipeline options need a Beam runner, "
            "e.g. --runner=DirectRunner.")

    def log(message: str) -> None:
        if stream is not None:
            print(f"appendix: {message}", file=stream, flush=True)

    def notice(message: str) -> None:
        if notices is not None:
            print(f"appendix: {message}", file=notices, flush=True)

    store = store_lib.open_store(request.output_dir, request.backend)
    store.ensure_writable()
    # Released on return, on errors and on Ctrl-C; a SIGKILLed job's lock is stale and
    # taken over by the next run.
    with OutputLock(store, log=notice):
        job = prepare(request, model=model, log=notice)
        total = sum(job.layer_channels.values())
        log(f"{len(job.layer_channels)} layer(s), {total} channels; "
            f"{job.pending_channels} channels in {len(job.tasks)} batch(es) left to do "
            f"(output: {job.store.root}).")
        try:
            if job.tasks:
                if is_beam:
                    beam_pipeline.run_pipeline(job, runner, pipeline_args, stream=stream)
                else:
                    run_in_process(job, stream=stream)
            manifest = finish(job, gallery=gallery)
        except store_lib.OutputFull as error:
            remaining = _bytes_to_finish(job)
            if remaining is None:
                raise
            raise error.with_remaining(remaining) from None
    missing = sum(len(entry["missing"]) for entry in manifest["layers"].values())
    log("complete." if manifest["complete"] else f"{missing} channel(s) still missing.")
    return manifest


def _bytes_to_finish(job: Job) -> int | None:
    """About how many bytes the job's missing channels need, from the size of the finished
    ones (renders, records and dataset examples); None before any is finished."""
    done = store_lib.rendered_channels(job.store, job.layer_channels)
    finished = sum(len(channels) for channels in done.values())
    missing = sum(job.layer_channels.values()) - finished
    if not finished or missing <= 0:
        return None
    written = sum(sum(job.store.list_dir(d).values())
                  for d in store_lib.work_directories(job.layer_channels) if d)
    return written * missing // finished


def layer_channel_counts(manifest: Mapping) -> dict[str, int]:
    """Layer -> channel count of a manifest, in its order."""
    return {name: int(entry["channels"]) for name, entry in manifest["layers"].items()}
