r"""Start from a photo: the checks of the photo recipes on real weights, as a table.

  python benchmarks/from_a_photo.py
  python benchmarks/from_a_photo.py --steps=16 --checks=inversion,errors
  python benchmarks/from_a_photo.py --weights=/path/to/inception5h \
      --photos=a.jpg,b.jpg,c.jpg --style=painting.jpg

Each check runs a recipe of :mod:`lucid2.recipes.photo` with its defaults (the numbers
come from the recipe's own metrics: untransformed images of one size) and compares with
the threshold; every row says PASS or FAIL, and the script exits with status 1 if any
row failed.

* ``inversion``: feature inversion of each photo at mixed4a from noise, 512 steps; the
  cosine similarity of the result's and the photo's mixed4a activations must be at least
  0.8. The same cosine at mixed3b and mixed4d is reported.
* ``caricature``: from the first photo, layers mixed4a and mixed4d; at each layer the
  result's activation norm must exceed the photo's (ratio > 1) while their cosine stays
  above 0.5.
* ``style``: the first photo in the style of ``--style``; the style loss must fall at
  least 5x below the content photo's own, while the content cosine (mixed4b) stays above
  0.5.
* ``deepdream``: mixed4c, 4 octaves, on the first photo at its own size; the layer's mean
  squared activation must grow at least 3x, and the result keep the photo's size.
* ``errors``: the apps refuse bad input with one clear line before any render (a missing
  and an unreadable image, a style layer that does not exist, an image too small for its
  layer), write nothing, and show no traceback.

``--steps`` caps every render's steps (DeepDream's per octave) to try the script out
quickly; the thresholds are meant for the full step counts.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

from absl import app, flags

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA_ENV = "LUCID2_SHARED_DATA"
SAMPLE_PHOTOS = ("n02099601_golden_retriever.JPEG", "n02701002_ambulance.JPEG",
                 "n07734744_mushroom.JPEG")
STYLE_PHOTO = "n03590841_jack-o'-lantern.JPEG"
CHECKS = ("inversion", "caricature", "style", "deepdream", "errors")

INVERSION_LAYER = "mixed4a"
INVERSION_REPORT_LAYERS = ("mixed3b", "mixed4d")
INVERSION_STEPS = 512
MIN_INVERSION_COSINE = 0.8
CARICATURE_LAYERS = ("mixed4a", "mixed4d")
MIN_NORM_RATIO = 1.0  # exclusive: larger than the photo's
MIN_CARICATURE_COSINE = 0.5
MIN_STYLE_DROP = 5.0
MIN_CONTENT_COSINE = 0.5
DEEPDREAM_LAYER = "mixed4c"
DEEPDREAM_OCTAVES = 4
MIN_MEAN_SQUARE_GROWTH = 3.0
# "Before compute": an app that refuses its input exits within this long (the model loads
# in a few seconds; a render of the default size would take minutes).
ERROR_TIME_LIMIT_S = 60.0
APP_TIMEOUT_S = 300


def shared_data() -> pathlib.Path | None:
    """``$LUCID2_SHARED_DATA`` or ``../shared/data`` beside the repository, if present."""
    configured = os.environ.get(SHARED_DATA_ENV)
    path = pathlib.Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    return path if (path / "inception5h").is_dir() else None


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the benchmark's flags on ``flag_values``."""
    define = dict(flag_values=flag_values)
    data = shared_data()
    flags.DEFINE_string("weights", os.fspath(data / "inception5h") if data else "imagenet",
                        "InceptionV1 weights: a local path or 'imagenet'.", **define)
    samples = data / "imagenet-samples" if data else None
    flags.DEFINE_list("photos", [os.fspath(samples / p) for p in SAMPLE_PHOTOS] if samples
                      else None, "The photos (the first is used for caricature, style and "
                      "DeepDream).", **define)
    flags.DEFINE_string("style", os.fspath(samples / STYLE_PHOTO) if samples else None,
                        "The style image for the style-transfer check.", **define)
    flags.DEFINE_integer("steps", None, "Cap on every render's steps (default: each check's "
                         "own), to try the script quickly.", lower_bound=1, **define)
    flags.DEFINE_integer("seed", 0, "Random seed of every render.", lower_bound=0, **define)
    flags.DEFINE_string("output_dir", None, "Folder to save each result's PNG and JSON in, to "
                        "look at them (default: not saved).", **define)
    flags.DEFINE_list("checks", list(CHECKS), f"Which checks to run: {', '.join(CHECKS)}.",
                      **define)


class Row(NamedTuple):
    """One line of the table."""

    check: str
    subject: str
    measure: str
    value: float | str
    threshold: str
    passed: bool | None  # None: reported, not judged

    def line(self) -> str:
        value = f"{self.value:.4f}" if isinstance(self.value, float) else str(self.value)
        verdict = {True: "PASS", False: "FAIL", None: "-"}[self.passed]
        return (f"{self.check:<11} {self.subject:<34.34} {self.measure:<28.28} {value:>12} "
                f"{self.threshold:>10} {verdict:>5}")


def _capped(steps: int, cap: int | None) -> int:
    return steps if cap is None else min(steps, cap)


def _name(path: str) -> str:
    return pathlib.Path(path).name


def _keep(result, output_dir: str | None, name: str) -> None:
    """Saves a recipe's result as NAME.png and NAME.json in ``output_dir`` (if given)."""
    if output_dir is None:
        return
    from lucid2.recipes.photo import save_result

    os.makedirs(output_dir, exist_ok=True)
    save_result(result, pathlib.Path(output_dir) / f"{name}.png")


def check_inversion(model, photos, cap, seed, output_dir=None) -> list[Row]:
    from lucid2.recipes.photo.inversion import invert

    rows = []
    for photo in photos:
        result = invert(model, photo, INVERSION_LAYER, steps=_capped(INVERSION_STEPS, cap),
                        measure_layers=INVERSION_REPORT_LAYERS, seed=seed)
        _keep(result, output_dir, f"inversion_{pathlib.Path(photo).stem}")
        cosines = result.metrics["cosine_at"]
        rows.append(Row("inversion", _name(photo), f"cosine {INVERSION_LAYER}",
                        cosines[INVERSION_LAYER], f">= {MIN_INVERSION_COSINE}",
                        cosines[INVERSION_LAYER] >= MIN_INVERSION_COSINE))
        rows += [Row("inversion", _name(photo), f"cosine {layer}", cosines[layer], "report",
                     None) for layer in INVERSION_REPORT_LAYERS]
        print(*(row.line() for row in rows[-3:]), sep="\n", flush=True)
    return rows


def check_caricature(model, photo, cap, seed, output_dir=None) -> list[Row]:
    from lucid2.recipes.photo.caricatures import caricature
    from lucid2.recipes.photo.defaults import DEFAULT_CARICATURE_STEPS

    result = caricature(model, photo, CARICATURE_LAYERS,
                        steps=_capped(DEFAULT_CARICATURE_STEPS, cap), seed=seed)
    _keep(result, output_dir, f"caricature_{pathlib.Path(photo).stem}")
    rows = []
    for layer in CARICATURE_LAYERS:
        ratio = result.metrics["norm_ratio"][layer]
        cosine = result.metrics["cosine"][layer]
        rows.append(Row("caricature", _name(photo), f"norm ratio {layer}", ratio,
                        f"> {MIN_NORM_RATIO}", ratio > MIN_NORM_RATIO))
        rows.append(Row("caricature", _name(photo), f"cosine {layer}", cosine,
                        f"> {MIN_CARICATURE_COSINE}", cosine > MIN_CARICATURE_COSINE))
    print(*(row.line() for row in rows), sep="\n", flush=True)
    return rows


def check_style(model, photo, style, cap, seed, output_dir=None) -> list[Row]:
    from lucid2.recipes.photo.style import style_transfer
    from lucid2.recipes.photo.defaults import DEFAULT_STYLE_STEPS

    result = style_transfer(model, photo, style, steps=_capped(DEFAULT_STYLE_STEPS, cap),
                            seed=seed)
    _keep(result, output_dir, f"style_{pathlib.Path(photo).stem}")
    numbers = result.metrics
    subject = f"{_name(photo)} / {_name(style)}"
    rows = [
        Row("style", subject, "style loss, content photo", numbers["style_loss_content"],
            "report", None),
        Row("style", subject, "style loss, result", numbers["style_loss_final"], "report",
            None),
        Row("style", subject, "style loss drop (x)", numbers["style_loss_drop"],
            f">= {MIN_STYLE_DROP}", numbers["style_loss_drop"] >= MIN_STYLE_DROP),
        Row("style", subject, "content cosine (min)", numbers["min_content_cosine"],
            f"> {MIN_CONTENT_COSINE}", numbers["min_content_cosine"] > MIN_CONTENT_COSINE),
    ]
    print(*(row.line() for row in rows), sep="\n", flush=True)
    return rows


def check_deepdream(model, photo, cap, seed, output_dir=None) -> list[Row]:
    from lucid2.misc.io import read_image_header
    from lucid2.recipes.photo.deep_dream import deepdream
    from lucid2.recipes.photo.defaults import DEFAULT_STEPS_PER_OCTAVE

    header = read_image_header(photo)
    result = deepdream(model, photo, DEEPDREAM_LAYER, octaves=DEEPDREAM_OCTAVES,
                       steps_per_octave=_capped(DEFAULT_STEPS_PER_OCTAVE, cap), seed=seed)
    _keep(result, output_dir, f"deepdream_{pathlib.Path(photo).stem}")
    numbers = result.metrics
    growth = numbers["mean_square_growth"]
    shape = result.image.shape[:2]
    rows = [
        Row("deepdream", _name(photo), f"mean square {DEEPDREAM_LAYER}, photo",
            numbers["mean_square_photo"], "report", None),
        Row("deepdream", _name(photo), f"mean square {DEEPDREAM_LAYER}, result",
            numbers["mean_square_final"], "report", None),
        Row("deepdream", _name(photo), "growth (x)", growth, f">= {MIN_MEAN_SQUARE_GROWTH}",
            growth >= MIN_MEAN_SQUARE_GROWTH),
        Row("deepdream", _name(photo), "size (HxW)", f"{shape[0]}x{shape[1]}",
            f"{header.height}x{header.width}", shape == (header.height, header.width)),
    ]
    print(*(row.line() for row in rows), sep="\n", flush=True)
    return rows


def _run_app(module: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, PYTHONPATH=os.fspath(REPO_ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                            text=True, env=env, timeout=APP_TIMEOUT_S)
    return result, time.perf_counter() - started


def check_errors(photo, style, weights) -> list[Row]:
    """Each bad input through its app: exit status 1, the expected words in one last line
    of stderr, no traceback, nothing written, within ERROR_TIME_LIMIT_S."""
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = pathlib.Path(temporary)
        unreadable = folder / "not_an_image.jpg"
        unreadable.write_text("this is text, not a JPEG\n")
        output = folder / "out.png"
        model = [f"--weights={weights}", f"--output={output}"]
        cases = [
            ("missing image", "lucid2.invert",
             [f"--image={folder / 'missing.jpg'}", *model], "does not exist"),
            ("unreadable image", "lucid2.caricature", [f"--image={unreadable}", *model],
             "cannot load"),
            ("unknown style layer", "lucid2.style_transfer",
             [f"--content={photo}", f"--style={style}", "--style_layers=mixed3b,mixed9z",
              *model], "Unknown layer 'mixed9z'"),
            ("image too small for layer", "lucid2.deepdream",
             [f"--image={photo}", "--layer=mixed5b", "--size=24", *model], "too small"),
        ]
        for label, module, args, expected in cases:
            result, seconds = _run_app(module, *args)
            last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
            passed = (result.returncode == 1 and expected in last
                      and "Traceback" not in result.stderr and not output.exists()
                      and seconds < ERROR_TIME_LIMIT_S)
            rows.append(Row("errors", f"{label} ({module.split('.')[-1]})", "seconds to refuse",
                            seconds, f"< {ERROR_TIME_LIMIT_S:g}", passed))
            print(rows[-1].line(), flush=True)
            print(f"{'':<11} message: {last}", flush=True)
    return rows


def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}.")
    unknown = [c for c in flag_values.checks if c not in CHECKS]
    if unknown:
        raise app.UsageError(f"Unknown check(s) {', '.join(unknown)}; the checks are: "
                             f"{', '.join(CHECKS)}.")
    photos = list(flag_values.photos or [])
    if not photos:
        raise app.UsageError("--photos is required (no shared imagenet-samples folder found).")
    missing = [p for p in photos + [flag_values.style or ""] if not os.path.isfile(p)]
    if missing:
        raise app.UsageError(f"Not found: {', '.join(map(repr, missing))}.")
    from lucid2.modelzoo import InceptionV1

    model = InceptionV1(weights=flag_values.weights)
    cap, seed, out = flag_values.steps, flag_values.seed, flag_values.output_dir
    print(f"Start from a photo: InceptionV1 weights {flag_values.weights}, seed {seed}"
          + (f", steps capped at {cap} (thresholds are meant for full runs)" if cap else ""))
    print(f"{'check':<11} {'photo':<34} {'measure':<28} {'value':>12} {'threshold':>10} "
          f"{'':>5}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    first = photos[0]
    for check in flag_values.checks:
        if check == "inversion":
            rows += check_inversion(model, photos, cap, seed, out)
        elif check == "caricature":
            rows += check_caricature(model, first, cap, seed, out)
        elif check == "style":
            rows += check_style(model, first, flag_values.style, cap, seed, out)
        elif check == "deepdream":
            rows += check_deepdream(model, first, cap, seed, out)
        elif check == "errors":
            rows += check_errors(first, flag_values.style, flag_values.weights)
    judged = [row for row in rows if row.passed is not None]
    failed = [row for row in judged if not row.passed]
    print(f"{len(judged) - len(failed)} of {len(judged)} checks passed in "
          f"{time.perf_counter() - started:.0f} s.", flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    define_flags()
    app.run(main)
