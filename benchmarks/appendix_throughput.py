r"""Appendix throughput: channels rendered per hour on this machine, by --channels_per_batch.

  python benchmarks/appendix_throughput.py
  python benchmarks/appendix_throughput.py --layer=mixed5b --channels_per_batch=1,8,32 \
      --measure_steps=48 --weights=/path/to/inception5h

For each batch size it builds the same renderer the appendix job uses (one
compiled step for the whole batch), times its setup (construction and the
first, traced step) and then a few dozen steps, and extrapolates to a full
render of --steps steps: a batch of k channels takes setup + (steps - 1) x
seconds per step, and gives k channels. The output says that it is an
extrapolation. Writing PNGs and records is not counted (milliseconds per
batch). Random weights are the default: the arithmetic, hence the time, does
not depend on the weights' values.
"""

from __future__ import annotations

import os
import platform
import sys
import time

from absl import app, flags

from lucid2 import app_flags

SECONDS_PER_HOUR = 3600.0
DEFAULT_BATCHES = ("1", "2", "4", "8", "16")


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the benchmark's flags on ``flag_values``."""
    define = dict(flag_values=flag_values)
    flags.DEFINE_string("layer", "mixed4a", "Layer whose channels are rendered.", **define)
    flags.DEFINE_integer("size", 128, "Render width and height in pixels.", lower_bound=1,
                         **define)
    flags.DEFINE_integer("steps", 512, "Steps of the full render to extrapolate to.",
                         lower_bound=1, **define)
    flags.DEFINE_integer("measure_steps", 24, "Steps timed per setting (after the first).",
                         lower_bound=1, **define)
    flags.DEFINE_list("channels_per_batch", list(DEFAULT_BATCHES),
                      "Batch sizes to measure, e.g. 1,4,16.", **define)
    app_flags.define_model_flags(flag_values)
    flag_values.set_default("weights", app_flags.NO_WEIGHTS)


def _device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return "GPU: " + ", ".join(names)
    return f"CPU: {platform.machine()}, {os.cpu_count()} cores"


def measure(model, layer: str, batch: int, size: int, measure_steps: int) -> tuple[float, float]:
    """(setup seconds, seconds per step) of the appendix renderer for ``batch`` channels."""
    from lucid2.recipes.appendix import Settings, WorkItem, make_renderer

    channels = model.layer_info(layer).channels
    if batch > channels:
        raise ValueError(f"--channels_per_batch={batch} exceeds the {channels} channels of "
                         f"{layer!r}.")
    settings = Settings(size=size, channels_per_batch=batch)
    item = WorkItem(layer=layer, channels=tuple(range(batch)), seed=0)
    started = time.perf_counter()
    renderer = make_renderer(model, item, settings)
    float(renderer.step())  # traces and compiles; float() waits for the device
    setup = time.perf_counter() - started
    started = time.perf_counter()
    value = None
    for _ in range(measure_steps):
        value = renderer.step()
    float(value)
    return setup, (time.perf_counter() - started) / measure_steps


def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}.")
    try:
        batches = [int(b) for b in flag_values.channels_per_batch]
    except ValueError:
        raise app.UsageError("--channels_per_batch must be integers, e.g. 1,4,16.") from None
    if not batches or min(batches) < 1:
        raise app.UsageError("--channels_per_batch must be positive integers, e.g. 1,4,16.")
    spec = app_flags.model_spec_from_flags(flag_values)

    from lucid2.recipes.appendix import load_model

    model = load_model(spec)
    try:
        model.check_layer(flag_values.layer)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    steps, size = flag_values.steps, flag_values.size
    channels = model.layer_info(flag_values.layer).channels
    if max(batches) > channels:
        raise app.UsageError(f"--channels_per_batch={max(batches)} exceeds the {channels} "
                             f"channels of {flag_values.layer!r}.")
    print(f"Appendix throughput on this machine ({_device()}): {model.name} "
          f"{flag_values.layer} ({channels} channels), {size}x{size} px, {steps} steps per "
          f"render, weights {spec.weights or 'none'}.")
    print(f"EXTRAPOLATED: each setting is timed for {flag_values.measure_steps} steps after its "
          f"first (traced) step; a batch is estimated as setup + {steps - 1} x s/step.")
    header = (f"{'channels_per_batch':>18} {'setup s':>9} {'s/step':>9} {'s/batch':>9} "
              f"{'channels/h':>11} {'layer h':>8}")
    print(header)
    for batch in batches:
        setup, per_step = measure(model, flag_values.layer, batch, size,
                                  flag_values.measure_steps)
        batch_seconds = setup + (steps - 1) * per_step
        per_hour = batch * SECONDS_PER_HOUR / batch_seconds
        print(f"{batch:>18} {setup:>9.2f} {per_step:>9.4f} {batch_seconds:>9.1f} "
              f"{per_hour:>11,.0f} {channels / per_hour:>8.2f}", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    define_flags()
    app.run(main)
