r"""Render step speed: lucid2's ``render_vis`` step against a bare TensorFlow step.

  python benchmarks/render_speed.py
  python benchmarks/render_speed.py --configs=128x1 --rounds=5 --memory_steps=0
  python benchmarks/render_speed.py --peer_python=/path/to/peers-venv/bin/python

The full step is what ``render_vis`` runs with its default recipe: Fourier
parameterization with color decorrelation, the standard transforms (pad,
jitter, random scale, rotation, jitter), redirected-ReLU warm-up and a channel
objective (``--layer``, ``--channel``). The bare step is the least TensorFlow
can do for the same gradient: a pixel variable, the submodel up to the layer,
the gradient with respect to the input and an Adam update, in one
``tf.function``. The bare step runs at the render size and at the size the
model actually receives after the transforms (about 140 px for a 128 px
render), and the table gives the full step's ratio to both.

Timing: the steps are interleaved, one round of ``--steps`` steps of each in
turn (the order rotating), ``--rounds`` times; seconds per step are the median
of the rounds, with the fastest and slowest round. Every round ends by reading
the result back, so asynchronous devices are timed to completion. The ratio to
the bare step is given as the ratio of the medians and, less noisy on a shared
machine, as the median of the per-round ratios (both steps ran in the same
round, seconds apart); the target is judged on the latter. The CPU seconds of
each step (all threads, the thread pools' spin-waits included) give a third
ratio, which the machine's load moves less.

Also reported: the first call of each step (tracing and compiling included),
the number of traces (must be exactly one per configuration), the peak memory
(resident memory on CPU, allocator peak on GPU), the forward-plus-input-
gradient FLOPs of the convolutions per step against this machine's measured
matrix-multiply rate, what ``import lucid2`` loads, and, with
``--memory_steps``, how resident memory grows over a long render.

Peers run in subprocesses (``--peer_python``, a Python where they are
installed; see ``render_speed_peers.py``): Lucent (PyTorch) and Xplique
(TensorFlow) optimize loops on the same machine. Peers use random weights
(the arithmetic does not depend on their values) and each its own default
recipe, so compare their seconds per step, not their images.

The device is the one TensorFlow picks (a GPU when one is visible); the same
script runs unchanged on CPU and CUDA machines.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable

from absl import app, flags

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
PEERS_SCRIPT = pathlib.Path(__file__).resolve().with_name("render_speed_peers.py")
DEFAULT_CONFIGS = ("128x1", "128x4", "224x1", "224x4")
# The ratio the issue asks for on CPU (full step / bare step at the received size), and the
# configurations it applies to.
TARGET_RATIO = 1.15
TARGET_CONFIGS = ("128x1", "128x4", "224x1")
MEMORY_GROWTH_LIMIT_MB = 50.0
MEMORY_SAMPLES = 10
# Draws of the random transforms used to estimate the size the model receives.
SIZE_SAMPLES = 200
MATMUL_SIZE = 2048
MATMUL_REPEATS = 5
BYTES_PER_MB = 1024.0 * 1024.0
KB_PER_MB = 1024.0
PEERS = ("lucent", "xplique")

FLAGS = flags.FLAGS


def define_flags(flag_values: flags.FlagValues = FLAGS) -> None:
    """Defines the benchmark's flags on ``flag_values``."""
    define = dict(flag_values=flag_values)
    flags.DEFINE_list("configs", list(DEFAULT_CONFIGS),
                      "Render configurations SIZExBATCH, e.g. 128x1,224x4.", **define)
    flags.DEFINE_string("layer", "mixed4a", "Layer of the channel objective.", **define)
    flags.DEFINE_integer("channel", 97, "Channel of the objective.", lower_bound=0, **define)
    flags.DEFINE_integer("rounds", 25, "Interleaved timing rounds.", lower_bound=1, **define)
    flags.DEFINE_integer("steps", 10, "Steps per round.", lower_bound=1, **define)
    flags.DEFINE_integer("warmup", 20, "Untimed steps of each step function before timing "
                         "(covers the redirected-ReLU warm-up of the full step).",
                         lower_bound=1, **define)
    flags.DEFINE_string("weights", "", "InceptionV1 weights: a local path, 'imagenet', or "
                        "'none' for random weights; default: the shared data folder "
                        "($LUCID2_SHARED_DATA or ../shared/data) when present, else random.",
                        **define)
    flags.DEFINE_integer("memory_steps", 10000, "Steps of the 128x1 full render whose resident "
                         "memory growth is measured; 0 skips it.", lower_bound=0, **define)
    flags.DEFINE_string("peer_python", "", "A Python interpreter with Lucent and/or Xplique "
                        "installed; peers run in subprocesses with it.", **define)
    flags.DEFINE_list("peers", list(PEERS), "Peers to time when --peer_python is given.",
                      **define)
    flags.DEFINE_integer("peer_rounds", 5, "Timing rounds of each peer (of --steps steps, in "
                         "one optimize call after a few untimed steps).", lower_bound=1, **define)
    flags.DEFINE_enum("lrn", "auto", ["auto", "xla", "ops", "tensorflow"],
                      "How the model computes its local response normalizations (both steps); "
                      "see lucid2.kernels.local_response_normalization.",
                      **define)
    flags.DEFINE_enum("kernels", "auto", ["auto", "fast", "reference"],
                      "lucid2.kernels' paths for both steps: 'auto' (fast on CPU, the "
                      "references with a GPU), or forced (to measure a fast path on a GPU).",
                      **define)
    flags.DEFINE_boolean("bare_xla", False, "Also time the bare step compiled with XLA "
                         "(jit_compile=True).", **define)
    flags.DEFINE_integer("intra_op_threads", 0, "TensorFlow intra-op threads (0: default).",
                         lower_bound=0, **define)
    flags.DEFINE_integer("inter_op_threads", 0, "TensorFlow inter-op threads (0: default).",
                         lower_bound=0, **define)
    flags.DEFINE_enum("onednn", "default", ["default", "on", "off"],
                      "Sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads (CPU only).", **define)
    flags.DEFINE_string("json_out", "", "Also write the results to this JSON file.", **define)


# ------------------------------------------------------------------ parsing
def parse_config(text: str) -> tuple[int, int]:
    """'128x4' -> (128, 4); raises app.UsageError for anything else."""
    try:
        size, batch = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise app.UsageError(f"--configs entries must look like 128x1 (SIZExBATCH), got "
                             f"{text!r}.") from None
    if size <= 0 or batch <= 0:
        raise app.UsageError(f"--configs entries must be positive, got {text!r}.")
    return size, batch


def default_weights() -> str:
    """The shared data's InceptionV1 folder when present, else random weights."""
    configured = os.environ.get("LUCID2_SHARED_DATA")
    data = pathlib.Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    folder = data / "inception5h"
    return str(folder) if folder.is_dir() else "none"


# ------------------------------------------------------------ measurements
def summarize(times: list[float]) -> dict[str, float]:
    """Median, min and max of per-step seconds."""
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartile (the median of one value is that value)."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def paired_ratio(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """Median and quartiles of the per-round ratios of two interleaved step functions.

    Both ran in the same round, seconds apart, so a slow spell of the machine (this
    one's rounds vary by 10-20 %) lands on both and cancels in their ratio; the
    ratio of the two medians mixes rounds from different spells.
    """
    ratios = [a / b for a, b in zip(numerator, denominator)]
    q1, q3 = quartiles(ratios)
    return {"median": statistics.median(ratios), "q1": q1, "q3": q3}


def interleaved_timing(functions: dict[str, Callable[[], object]], rounds: int,
                       steps: int) -> dict[str, dict[str, object]]:
    """Seconds per step of each function: ``rounds`` rounds, each running every function
    ``steps`` times in turn (the order rotating) and reading the last result back.

    Per function: median, min and max of the rounds' wall-clock seconds per step, the
    rounds themselves (``rounds``), and each round's CPU seconds per step of this process
    (all threads: ``cpu_rounds``).
    """
    names = list(functions)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            step = functions[name]
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                value = step()
            _ = float(value)  # waits for the device
            wall[name].append((time.perf_counter() - start) / steps)
            cpu[name].append((time.process_time() - start_cpu) / steps)
    return {name: {**summarize(wall[name]), "rounds": wall[name], "cpu_rounds": cpu[name]}
            for name in names}


def first_call_seconds(step: Callable[[], object]) -> float:
    """Seconds of the first call (tracing, graph optimization and one step)."""
    start = time.perf_counter()
    _ = float(step())
    return time.perf_counter() - start


def _proc_status_kb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def resident_mb() -> float | None:
    """Current resident memory of this process in MB (Linux), else None."""
    kb = _proc_status_kb("VmRSS")
    return None if kb is None else kb / KB_PER_MB


def reset_peak_memory() -> bool:
    """Resets the resident high-water mark (Linux >= 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def peak_resident_mb() -> float | None:
    """Resident high-water mark in MB (since the last reset where supported)."""
    kb = _proc_status_kb("VmHWM")
    if kb is None:
        try:
            import resource
        except ImportError:
            return None
        kb = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return kb / KB_PER_MB


def import_check(python: str = sys.executable) -> dict[str, object]:
    """What ``import lucid2`` does in a fresh interpreter with no environment but the
    repository on its path: heavy modules it loads, whether it opened a network connection,
    how long it took, and the version it reports (tests use this too)."""
    code = r"""
import json, socket, sys, time
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:1]))
    raise OSError("network access during import")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
start = time.perf_counter()
import lucid2
seconds = time.perf_counter() - start
heavy = [m for m in ("tensorflow", "keras", "numpy", "tensorflow_hub", "h5py") if m in sys.modules]
print(json.dumps({"heavy_modules": heavy, "network_attempts": attempts, "seconds": seconds,
                  "version": lucid2.__version__}))
"""
    result = subprocess.run([python, "-c", code], capture_output=True, text=True,
                            cwd=str(REPO_ROOT), env={"PYTHONPATH": str(REPO_ROOT),
                                                     "PATH": os.environ.get("PATH", "")})
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------- TensorFlow side
def configure_tensorflow():
    """Applies the thread and oneDNN flags, then imports TensorFlow."""
    if FLAGS.onednn != "default":
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if FLAGS.onednn == "on" else "0"
    import tensorflow as tf

    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)
    if FLAGS.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op_threads)
    return tf


def device_description(tf) -> str:
    """The device TensorFlow computes on, in words."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
                 for gpu in gpus]
        return "GPU: " + ", ".join(names)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"CPU: {model}, {os.cpu_count()} cores"


def gpu_memory(tf, reset: bool = False) -> float | None:
    """Peak GPU allocator memory in MB (None without a GPU); optionally resets the peak."""
    if not tf.config.list_physical_devices("GPU"):
        return None
    if reset:
        tf.config.experimental.reset_memory_stats("GPU:0")
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / BYTES_PER_MB


def matmul_gflops(tf) -> float:
    """This machine's float32 matrix-multiply rate in GFLOP/s (best of a few runs)."""
    a = tf.random.normal((MATMUL_SIZE, MATMUL_SIZE))
    b = tf.random.normal((MATMUL_SIZE, MATMUL_SIZE))
    multiply = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    _ = float(multiply())
    best = float("inf")
    for _ in range(MATMUL_REPEATS):
        start = time.perf_counter()
        _ = float(multiply())
        best = min(best, time.perf_counter() - start)
    return 2.0 * MATMUL_SIZE ** 3 / best / 1e9


def conv_flops(model, layer: str, image_shape: tuple[int, int, int, int]) -> float:
    """Forward-plus-input-gradient FLOPs of the convolutions up to ``layer``.

    Each convolution costs 2 * outputs * kh * kw * in_channels FLOPs forward, and the
    same again for the gradient with respect to its input; other ops are ignored.
    """
    import keras

    submodel = model.submodel(layer)
    convs = [lay for lay in submodel.layers if isinstance(lay, keras.layers.Conv2D)]
    if not convs:
        return 0.0
    names = [conv.name for conv in convs]
    shapes = model.submodel(names).compute_output_spec(keras.KerasTensor(image_shape))
    total = 0.0
    for conv, spec in zip(convs, shapes):
        kh, kw, cin, _ = conv.kernel.shape
        outputs = 1
        for dim in spec.shape:
            outputs *= int(dim)
        total += 2.0 * outputs * kh * kw * cin
    return 2.0 * total  # forward + input gradient


def received_size(size: int) -> int:
    """Mean spatial size the model receives after the standard transforms, rounded.

    Exact: the size depends only on the random scale, drawn uniformly from the list, so
    the mean is taken over that list (sizes computed as the transforms compute them, in
    float32). Pads add ``2 * w``, jitters remove ``d``, rotations keep the size.
    """
    import numpy as np

    from lucid2.optvis import transform

    steps = transform.standard_transforms
    scales = next(t.scales for t in steps if hasattr(t, "scales"))
    sizes = []
    for scale in scales:
        current = size
        for t in steps:
            if hasattr(t, "w"):
                current += 2 * t.w
            elif hasattr(t, "d"):
                current -= t.d
            elif hasattr(t, "scales"):
                current = max(int(np.float32(current) * np.float32(scale)), 1)
        sizes.append(current)
    return int(math.floor(statistics.mean(sizes) + 0.5))


def make_bare_step(tf, model, layer: str, channel: int, images, size: int,
                   jit_compile: bool = False):
    """The bare step, starting from ``images`` resized to ``size``, and its trace count.

    Start from a render in progress, not from noise: on noise the channel is often dead
    (every ReLU on its path off), the gradient is exactly zero, and the backward pass
    through zeros runs faster than any real step.
    """
    import keras

    from lucid2.optvis import render

    submodel = model.submodel(layer)
    start = tf.image.resize(tf.constant(images), [size, size])
    pixels = tf.Variable(start, name="pixels")
    optimizer = keras.optimizers.Adam(learning_rate=render.DEFAULT_LEARNING_RATE)
    optimizer.build([pixels])
    traces = []

    def step():
        traces.append(1)  # runs only while tracing
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(submodel(pixels, training=False)[..., channel])
        optimizer.apply_gradients([(tape.gradient(loss, pixels), pixels)])
        return loss

    return tf.function(step, jit_compile=jit_compile), lambda: len(traces)


def make_full_step(model, layer: str, channel: int, size: int, batch: int):
    """render_vis's default recipe as a Renderer (its ``step`` is the timed function)."""
    from lucid2.optvis import objectives, param, render

    return render.Renderer(model, objectives.channel(layer, channel),
                           param_f=lambda: param.image(size, batch=batch), seed=0)


def load_model(weights: str, lrn: str = "auto"):
    from lucid2.modelzoo import InceptionV1

    if weights.strip().lower() == "none":
        return InceptionV1(weights=None, lrn_implementation=lrn), "random"
    return InceptionV1(weights=weights, lrn_implementation=lrn), weights


# --------------------------------------------------------------- one config
def run_config(tf, model, size: int, batch: int, flops_rate: float) -> dict[str, object]:
    """Times one SIZExBATCH configuration; returns its row of the table."""
    layer, channel = FLAGS.layer, FLAGS.channel
    received = received_size(size)
    reset_peak_memory()
    gpu_memory(tf, reset=True)
    renderer = make_full_step(model, layer, channel, size, batch)
    first = {"full": first_call_seconds(renderer.step)}
    for _ in range(FLAGS.warmup):
        renderer.step()
    steps = {"full": renderer.step}
    traces = {"full": lambda counted=renderer: counted.trace_count}
    images = renderer.images()
    bare_sizes = {"bare_same": size, "bare_received": received}
    if FLAGS.bare_xla:
        bare_sizes["bare_received_xla"] = received
    for name, bare_size in bare_sizes.items():
        steps[name], traces[name] = make_bare_step(tf, model, layer, channel, images, bare_size,
                                                   jit_compile=name.endswith("_xla"))
        first[name] = first_call_seconds(steps[name])
        for _ in range(FLAGS.warmup):
            steps[name]()
    timing = interleaved_timing(steps, FLAGS.rounds, FLAGS.steps)
    live = {name: float(steps[name]()) != 0.0 for name in bare_sizes}
    flops = conv_flops(model, layer, (batch, received, received, 3))
    bare_seconds = timing["bare_received"]["median"]
    paired = paired_ratio(timing["full"]["rounds"], timing["bare_received"]["rounds"])
    cpu_paired = paired_ratio(timing["full"]["cpu_rounds"], timing["bare_received"]["cpu_rounds"])
    row = {
        "config": f"{size}x{batch}", "size": size, "batch": batch, "received": received,
        "timing": timing, "first_call": first,
        "traces": {name: count() for name, count in traces.items()},
        "bare_gradient_live": live,
        "ratio_same": timing["full"]["median"] / timing["bare_same"]["median"],
        "ratio_received": timing["full"]["median"] / bare_seconds,
        "paired_ratio_received": paired, "cpu_ratio_received": cpu_paired,
        "peak_resident_mb": peak_resident_mb(), "peak_gpu_mb": gpu_memory(tf),
        "gflop_per_step": flops / 1e9,
        "bare_gflops": flops / bare_seconds / 1e9,
        "bare_share_of_matmul": flops / bare_seconds / 1e9 / flops_rate,
    }
    del renderer, steps
    return row


def warm_up_process(tf, model) -> None:
    """Runs the model once so that one-time process costs (thread pools, kernel JIT) are not
    charged to the first configuration's first step."""
    images = tf.zeros((1, 64, 64, 3))
    with tf.GradientTape() as tape:
        tape.watch(images)
        value = tf.reduce_sum(model.submodel(FLAGS.layer)(images))
    _ = tape.gradient(value, images).numpy()


def memory_growth(model, steps: int) -> dict[str, object]:
    """Resident memory over a long 128x1 render, sampled between chunks of steps."""
    from lucid2.optvis import objectives, param, render

    renderer = render.Renderer(model, objectives.channel(FLAGS.layer, FLAGS.channel),
                               param_f=lambda: param.image(128), seed=0)
    chunk = max(steps // MEMORY_SAMPLES, 1)
    renderer.run(thresholds=(chunk,))  # warm: traced, allocator pools filled
    start = resident_mb()
    samples = [start]
    done = chunk
    begin = time.perf_counter()
    while done < chunk + steps:
        done = min(done + chunk, chunk + steps)
        renderer.run(thresholds=(done,))
        samples.append(resident_mb())
    seconds = time.perf_counter() - begin
    growth = None if start is None or samples[-1] is None else samples[-1] - start
    return {"steps": steps, "rss_mb_samples": samples, "growth_mb": growth,
            "seconds_per_step": seconds / steps, "traces": renderer.trace_count}


# -------------------------------------------------------------------- peers
def run_peer(peer: str, size: int, batch: int) -> dict[str, object]:
    """Times a peer in a subprocess of --peer_python; returns its JSON or an error."""
    command = [FLAGS.peer_python, str(PEERS_SCRIPT), "--peer", peer, "--size", str(size),
               "--batch", str(batch), "--rounds", str(FLAGS.peer_rounds), "--steps", str(FLAGS.steps),
               "--layer", FLAGS.layer, "--channel", str(FLAGS.channel)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {result.returncode}: {tail}"}
    return json.loads(lines[-1])


# ------------------------------------------------------------------- output
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _span(timing: dict[str, float]) -> str:
    return f"{_ms(timing['median'])} [{_ms(timing['min'])}-{_ms(timing['max'])}]"


def print_ratios(results: dict[str, object]) -> None:
    """The full step over the bare step at the received size, three ways, and the target."""
    on_cpu = not results["device"].startswith("GPU")
    print(f"\nFull step / bare step at the received size (target on CPU: <= {TARGET_RATIO} for "
          f"{', '.join(TARGET_CONFIGS)}, judged on the paired wall-clock median):")
    header = (f"{'config':>7} | {'of medians':>10} | {'paired: median [quartiles]':>26} | "
              f"{'CPU time, paired':>16}")
    print(header)
    print("-" * len(header))
    for row in results["configs"]:
        paired, cpu = row["paired_ratio_received"], row["cpu_ratio_received"]
        verdict = ""
        if on_cpu and row["config"] in TARGET_CONFIGS:
            verdict = "  ok" if paired["median"] <= TARGET_RATIO else "  over target"
        print(f"{row['config']:>7} | {row['ratio_received']:10.3f} | "
              f"{paired['median']:8.3f} [{paired['q1']:.3f}-{paired['q3']:.3f}]{'':>3} | "
              f"{cpu['median']:16.3f}{verdict}")
    print("paired: the median over rounds of the two steps' ratio within a round (each round "
          "runs both, seconds apart). CPU time: the same for this process's CPU seconds (all "
          "threads, spin-waits included), which the machine's load moves less.")


def print_report(results: dict[str, object]) -> None:
    print(f"\nDevice: {results['device']}")
    print(f"TensorFlow {results['tensorflow']}, weights: {results['weights']}, LRN: "
          f"{results['lrn']}, kernels: {results.get('kernels', 'auto')}, objective "
          f"{results['layer']}:{results['channel']}, {results['rounds']} interleaved rounds of "
          f"{results['steps']} steps (ms/step: median [min-max])")
    print(f"Matrix multiply ({MATMUL_SIZE}^2 float32): {results['matmul_gflops']:.0f} GFLOP/s\n")
    header = (f"{'config':>7} {'recv':>4} | {'full render step':>20} | {'bare @ same size':>20} | "
              f"{'bare @ received':>20} | {'/same':>5} {'/recv':>5} | {'traces':>6} | "
              f"{'1st full/bare s':>15} | {'peak MB':>7} | {'GFLOP':>5} {'GFLOP/s':>7} {'%mm':>4}")
    print(header)
    print("-" * len(header))
    for row in results["configs"]:
        timing = row["timing"]
        traces = row["traces"]
        one_trace = all(count == 1 for count in traces.values())
        peak = row["peak_gpu_mb"] if row["peak_gpu_mb"] is not None else row["peak_resident_mb"]
        target = ""
        if not all(row["bare_gradient_live"].values()):
            target = " (bare gradient was zero: not comparable)"
        print(f"{row['config']:>7} {row['received']:>4} | {_span(timing['full']):>20} | "
              f"{_span(timing['bare_same']):>20} | {_span(timing['bare_received']):>20} | "
              f"{row['ratio_same']:5.2f} {row['ratio_received']:5.2f} | "
              f"{'1 each' if one_trace else str(traces):>6} | "
              f"{row['first_call']['full']:6.1f} / {row['first_call']['bare_received']:5.1f} | "
              f"{peak if peak is None else round(peak):>7} | {row['gflop_per_step']:5.1f} "
              f"{row['bare_gflops']:7.1f} {100 * row['bare_share_of_matmul']:3.0f}%{target}")
        if "bare_received_xla" in timing:
            xla = timing["bare_received_xla"]
            print(f"{'':>13}bare @ received with XLA: {_span(xla)} ms "
                  f"({xla['median'] / timing['bare_received']['median']:.2f}x the bare step)")
    print("\n/same, /recv: the full step's median over the bare step's median, at the render "
          "size and at the size the model receives.\nGFLOP: convolutions' forward + input "
          "gradient per bare step at the received size; GFLOP/s and %mm: achieved by the bare "
          "step, against the matrix multiply.")
    print_ratios(results)
    peers = results.get("peers")
    if peers is not None:
        print("\nPeers (their own default recipes, random weights, subprocess):")
        for entry in peers:
            name, config = entry["peer"], entry["config"]
            if "error" in entry:
                print(f"  {name:8s} {config:>6}: not run ({entry['error']})")
                continue
            bare = next((r["timing"]["bare_received"]["median"] for r in results["configs"]
                         if r["config"] == config), None)
            ratio = f", {entry['timing']['median'] / bare:.2f}x our bare step" if bare else ""
            print(f"  {name:8s} {config:>6}: {_span(entry['timing'])} ms/step{ratio} "
                  f"({entry.get('note', '')})")
    else:
        print("\nPeers: not run (give --peer_python, a Python with torch-lucent and/or xplique "
              "installed).")
    imports = results["import_check"]
    if "error" in imports:
        print(f"\nimport lucid2: failed: {imports['error']}")
    else:
        heavy = ", ".join(imports["heavy_modules"]) or "none"
        print(f"\nimport lucid2: {imports['seconds'] * 1000:.0f} ms, heavy modules loaded: "
              f"{heavy}, network attempts: {len(imports['network_attempts'])}")
    memory = results.get("memory")
    if memory:
        growth = memory["growth_mb"]
        verdict = "" if growth is None else (
            " (ok)" if growth < MEMORY_GROWTH_LIMIT_MB else f" (over {MEMORY_GROWTH_LIMIT_MB} MB)")
        samples = ", ".join("?" if s is None else f"{s:.0f}" for s in memory["rss_mb_samples"])
        print(f"Memory over {memory['steps']} steps of the 128x1 render: resident MB {samples}; "
              f"growth {growth if growth is None else round(growth, 1)} MB{verdict}; "
              f"{_ms(memory['seconds_per_step'])} ms/step; traces {memory['traces']}")


def main(argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    configs = [parse_config(text) for text in FLAGS.configs]
    if FLAGS.peer_python and not pathlib.Path(FLAGS.peer_python).exists():
        raise app.UsageError(f"--peer_python {FLAGS.peer_python!r} does not exist.")
    unknown = sorted(set(FLAGS.peers) - set(PEERS))
    if unknown:
        raise app.UsageError(f"Unknown --peers {unknown}; known: {', '.join(PEERS)}.")
    imports = import_check()
    tf = configure_tensorflow()
    from lucid2 import kernels

    # Every step is traced inside, so the choice holds for all of them.
    with kernels.kernel_choice(FLAGS.kernels):
        run_all(tf, configs, imports)


def run_all(tf, configs: list[tuple[int, int]], imports: dict[str, object]) -> None:
    """Times every configuration (and the peers and memory when asked) and reports."""
    model, weights = load_model(FLAGS.weights or default_weights(), FLAGS.lrn)
    results: dict[str, object] = {
        "device": device_description(tf), "tensorflow": tf.__version__, "weights": weights,
        "lrn": FLAGS.lrn, "kernels": FLAGS.kernels,
        "layer": FLAGS.layer, "channel": FLAGS.channel, "rounds": FLAGS.rounds,
        "steps": FLAGS.steps, "matmul_gflops": matmul_gflops(tf), "import_check": imports,
        "configs": [],
    }
    warm_up_process(tf, model)
    for size, batch in configs:
        print(f"timing {size}x{batch} ...", flush=True)
        results["configs"].append(run_config(tf, model, size, batch, results["matmul_gflops"]))
    if FLAGS.peer_python:
        results["peers"] = []
        for peer in FLAGS.peers:
            for size, batch in configs:
                print(f"timing peer {peer} {size}x{batch} ...", flush=True)
                entry = run_peer(peer, size, batch)
                results["peers"].append({"peer": peer, "config": f"{size}x{batch}", **entry})
    if FLAGS.memory_steps:
        print(f"measuring memory over {FLAGS.memory_steps} steps ...", flush=True)
        results["memory"] = memory_growth(model, FLAGS.memory_steps)
    print_report(results)
    if FLAGS.json_out:
        pathlib.Path(FLAGS.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    define_flags()
    app.run(main)
