r"""Peers for ``render_speed.py``: seconds per optimization step of other libraries.

Run by ``render_speed.py --peer_python=PYTHON`` in a subprocess of that Python
(peers need packages lucid2 does not: PyTorch for Lucent, Xplique's own
dependencies); prints one JSON line: ``{"timing": {"median", "min", "max"},
"note": ...}`` in seconds per step.

  python benchmarks/render_speed_peers.py --peer lucent --size 128 --batch 1

Each peer runs its own public optimize loop with its default recipe on an
InceptionV1 with random weights (the arithmetic, hence the time, does not
depend on the weights' values):

* lucent: ``lucent.optvis.render.render_vis`` on ``lucent.modelzoo.inceptionv1``
  (Fourier + decorrelation, Lucid's standard transforms, Adam 0.05, no
  redirected ReLU; the forward pass runs the whole network).
* xplique: ``xplique.features_visualizations.optimize`` with
  ``Objective.channel`` on lucid2's InceptionV1 graph built with a fixed input
  size (Xplique resizes every transformed image back to the model's input
  size, so its model sees exactly ``--size`` pixels).

Per-step time comes from the optimizer: each peer gets its own default optimizer
(Adam, learning rate 0.05) subclassed only to record when each update ends, so the
interval between two updates is one whole iteration of the peer's loop (forward,
backward, update, loop overhead). After ``WARMUP_STEPS`` untimed steps (tracing,
first-use costs), ``--rounds`` rounds of ``--steps`` steps each give the median, min
and max of the rounds' mean step times, as in ``render_speed.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

WARMUP_STEPS = 5
LEARNING_RATE = 0.05


def rounds_summary(stamps: list[float], rounds: int, steps: int) -> dict[str, float]:
    """Median, min and max over rounds of the mean interval between update timestamps."""
    intervals = [b - a for a, b in zip(stamps, stamps[1:])][WARMUP_STEPS - 1:]
    means = [statistics.mean(intervals[i * steps:(i + 1) * steps]) for i in range(rounds)]
    return {"median": statistics.median(means), "min": min(means), "max": max(means)}


def lucent_runner(size: int, batch: int, layer: str, channel: int, total_steps: int):
    import torch
    from lucent.modelzoo import inceptionv1
    from lucent.optvis import param, render

    stamps: list[float] = []

    class TimedAdam(torch.optim.Adam):
        def step(self, closure=None):
            loss = super().step(closure)
            stamps.append(time.perf_counter())
            return loss

    torch.manual_seed(0)
    model = inceptionv1(pretrained=False).eval()
    render.render_vis(model, f"{layer}:{channel}",
                      param_f=lambda: param.image(size, batch=batch),
                      optimizer=lambda params: TimedAdam(params, lr=LEARNING_RATE),
                      thresholds=(total_steps,), progress=False, show_image=False)
    note = f"lucent on torch {torch.__version__}, {torch.get_num_threads()} threads"
    return stamps, note


def xplique_runner(size: int, batch: int, layer: str, channel: int, total_steps: int):
    import keras
    import tensorflow as tf
    import xplique
    from xplique.features_visualizations import Objective, optimize

    from lucid2.modelzoo import inceptionv1_graph

    stamps: list[float] = []

    class TimedAdam(keras.optimizers.Adam):
        def apply_gradients(self, grads_and_vars):
            result = super().apply_gradients(grads_and_vars)
            stamps.append(time.perf_counter())
            return result

    model = inceptionv1_graph.build_inception_v1(image_size=(size, size))
    objective = Objective.channel(model, layer, [channel] * batch)
    optimize(objective, optimizer=TimedAdam(LEARNING_RATE), nb_steps=total_steps,
             custom_shape=(size, size))
    note = f"xplique {xplique.__version__} on TensorFlow {tf.__version__}"
    return stamps, note


RUNNERS = {"lucent": lucent_runner, "xplique": xplique_runner}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=sorted(RUNNERS), required=True)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--layer", default="mixed4a")
    parser.add_argument("--channel", type=int, default=97)
    args = parser.parse_args()
    if min(args.size, args.batch, args.rounds, args.steps) <= 0:
        parser.error("--size, --batch, --rounds and --steps must be positive.")
    total = WARMUP_STEPS + args.rounds * args.steps
    stamps, note = RUNNERS[args.peer](args.size, args.batch, args.layer, args.channel, total)
    if len(stamps) != total:
        raise SystemExit(f"{args.peer} ran {len(stamps)} updates, expected {total}.")
    print(json.dumps({"timing": rounds_summary(stamps, args.rounds, args.steps), "note": note}))


if __name__ == "__main__":
    main()
