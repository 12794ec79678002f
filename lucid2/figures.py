r"""Makes the Feature Visualization article's figures: PNGs and a JSON of the numbers each.

  python -m lucid2.figures --list
  python -m lucid2.figures --figure=diversity --output_dir=out
  python -m lucid2.figures --figure=teaser,enemy --steps=64 --size=96 --output_dir=out
  python -m lucid2.figures --figure=teaser --preset=fast --output_dir=out
  python -m lucid2.figures --all --weights=/path/to/inception5h --output_dir=out \
      --images=/path/to/photos

Each figure NAME writes NAME.png (a labeled grid), NAME_panels/ (every image
alone), NAME.json (the numbers it measured and its settings) and sometimes
NAME_*.png extras (curve plots) to --output_dir. --steps and --size override
each figure's defaults (the article's 512 steps at 128 pixels);
``LUCID2_MAX_STEPS`` caps the steps too. ``--preset=fast`` renders with the fast
preset (a quarter of the steps; the default ``lucid`` is Lucid's recipe, with which
the article's figures are reproduced). Figures with dataset examples read
--images (default: the shared data's imagenet-samples folder when present).
Flags are checked before the model loads. Each figure's line ("figure 3/12: teaser")
and its renders' progress go to standard output (a progress bar on a terminal, a line
every few seconds otherwise); ``--quiet`` prints only the saved files.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import sys

from absl import app, flags

from lucid2 import app_checks, app_output
# Constants only: no TensorFlow, so --help stays instant.
from lucid2.optvis.defaults import DEFAULT_PRESET, PRESET_NAMES


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    # The figure catalog loads no TensorFlow, so --help stays instant.
    from lucid2.recipes.figures.registry import DEFAULT_SEED

    flags.DEFINE_list("figure", None, "Figure name(s), comma-separated; see --list.",
                      flag_values=flag_values)
    flags.DEFINE_bool("all", False, "Make every figure.", flag_values=flag_values)
    flags.DEFINE_bool("list", False, "List the figures and exit.", flag_values=flag_values)
    flags.DEFINE_string("output_dir", None, "Directory for the PNGs and JSONs (created if "
                        "needed).", flag_values=flag_values)
    flags.DEFINE_enum("preset", DEFAULT_PRESET, list(PRESET_NAMES),
                      "Render settings: 'lucid' (Lucid's recipe, with which the article's "
                      "figures are reproduced) or 'fast' (about the same activation in a "
                      "quarter of the steps).", flag_values=flag_values)
    flags.DEFINE_integer("steps", None, "Optimization steps (default: each figure's, 512, "
                         "scaled by the preset: fast 128).", lower_bound=1,
                         flag_values=flag_values)
    flags.DEFINE_integer("size", None, "Image size in pixels (default: each figure's, 128).",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("seed", DEFAULT_SEED, "Random seed.", lower_bound=0,
                         flag_values=flag_values)
    flags.DEFINE_string("weights", "imagenet", "InceptionV1 weights: 'imagenet', a local path, "
                        "or 'none' for random weights.", flag_values=flag_values)
    flags.DEFINE_string("images", None, "Dataset images for the figures with dataset examples: "
                        "a folder (searched recursively), a quoted glob or a file. Default: the "
                        "shared data's imagenet-samples folder, if present.",
                        flag_values=flag_values)
    app_output.define_output_flags(flag_values)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated flags."""

    figures: tuple[str, ...]
    output_dir: pathlib.Path
    steps: int | None
    size: int | None
    seed: int
    weights: str | None
    images: str | None
    quiet: bool = False  # no line per figure (and no progress)
    preset: str = DEFAULT_PRESET  # the render preset (lucid2.optvis.settings.PRESETS)


def settings_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> Settings:
    """Checks the parsed flags without loading anything; app.UsageError says what is wrong."""
    from lucid2.recipes.figures.registry import FIGURE_NAMES, FIGURES, default_image_source

    chosen = list(flag_values.figure or [])
    if flag_values.all and chosen:
        raise app.UsageError("Give either --figure or --all, not both.")
    if flag_values.all:
        chosen = list(FIGURE_NAMES)
    if not chosen:
        raise app.UsageError("Name a figure with --figure=NAME (or use --all); --list shows "
                             f"them: {', '.join(FIGURE_NAMES)}.")
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        raise app.UsageError(f"Unknown figure(s) {', '.join(map(repr, unknown))}; the figures "
                             f"are: {', '.join(FIGURE_NAMES)}.")
    figures = tuple(dict.fromkeys(chosen))
    if not flag_values.output_dir:
        raise app.UsageError("--output_dir is required: the directory for the PNGs and JSONs.")
    # Now, not after the first figure's render: a file in the way, a folder not writable.
    output_dir = app_checks.check_output_dir(flag_values.output_dir, "--output_dir")
    from lucid2.optvis.render import max_steps_from_env

    try:
        max_steps_from_env()
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    images = flag_values.images
    if any(FIGURES[name].needs_images for name in figures):
        if images is None:
            found = default_image_source()
            if found is None:
                needing = [n for n in figures if FIGURES[n].needs_images]
                raise app.UsageError(
                    f"{', '.join(needing)} show dataset examples: pass --images=FOLDER (photos, "
                    "e.g. ImageNet samples); no default folder "
                    "(shared/data/imagenet-samples) was found.")
            images = os.fspath(found)
    weights = flag_values.weights
    weights = None if weights.strip().lower() == "none" else weights
    return Settings(figures=figures, output_dir=output_dir, steps=flag_values.steps,
                    size=flag_values.size, seed=flag_values.seed, weights=weights,
                    images=images, quiet=app_output.is_quiet(flag_values),
                    preset=flag_values.preset)


class FigureError(SystemExit):
    """A problem found while loading the model or making a figure; exits with status 1."""

    def __init__(self, message: str):
        super().__init__(f"lucid2.figures: error: {message}")


def load_model(weights: str | None):
    """InceptionV1 with ``weights`` ('imagenet', a path) or random weights for None."""
    from lucid2.modelzoo import ModelSpec, load_from_spec

    try:
        return load_from_spec(ModelSpec(model="inceptionv1", weights=weights))
    except (OSError, ValueError, TypeError) as error:
        raise FigureError(f"cannot load InceptionV1 weights {weights!r}: {error}") from error


def _kept(written: dict, output_dir: pathlib.Path) -> str:
    """What a failed or interrupted run leaves: the figures finished before it."""
    if not written:
        return app_checks.NOTHING_WRITTEN
    return f"kept the finished figure(s) {', '.join(written)} in {str(output_dir)!r}"


def make_figures(settings: Settings, model=None) -> dict[str, dict[str, pathlib.Path]]:
    """Makes and saves each figure of ``settings``; returns the paths by figure name.

    Each figure is saved whole or not at all. Ctrl-C raises
    :class:`lucid2.app_checks.Interrupted` and a full disk
    :class:`lucid2.app_checks.OutputFull`, both saying which figures were kept.
    """
    from lucid2.recipes.figures.result import save_figure
    from lucid2.recipes.figures.run import run_figure

    output_dir = settings.output_dir
    written: dict[str, dict[str, pathlib.Path]] = {}
    doing = "loading the model"
    try:
        model = load_model(settings.weights) if model is None else model
        for number, name in enumerate(settings.figures, start=1):
            doing = f"making figure {name!r}"
            if not settings.quiet:
                print(f"figure {number}/{len(settings.figures)}: {name}", flush=True)
            try:
                result = run_figure(name, model, steps=settings.steps, size=settings.size,
                                    seed=settings.seed, images=settings.images,
                                    preset=settings.preset)
            except (ValueError, TypeError) as error:
                raise FigureError(f"figure {name!r}: {error}") from error
            kept = f"figure {name!r} not saved, {_kept(written, output_dir)}"
            with app_checks.saving_to(output_dir, kept=kept), \
                    app_checks.removing_new_files(output_dir):
                written[name] = save_figure(result, output_dir)
    except app_checks.Interrupted:
        raise
    except KeyboardInterrupt:
        raise app_checks.Interrupted(f"{app_checks.INTERRUPTED} while {doing}; "
                                     f"{_kept(written, output_dir)}") from None
    return written


def list_figures() -> str:
    """One line per figure: name, default steps and size, description."""
    from lucid2.recipes.figures.registry import FIGURES

    width = max(len(name) for name in FIGURES)
    lines = []
    for name, spec in FIGURES.items():
        steps = f"{spec.steps} steps" if spec.steps is not None else "no optimization"
        extra = ", needs --images" if spec.needs_images else ""
        lines.append(f"{name:<{width}}  {spec.description} ({steps}, {spec.size} px{extra})")
    return "\n".join(lines)


@app_checks.app_main("lucid2.figures")
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Lists or makes the figures; Ctrl-C and a full disk end it with one line."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; all options are "
                             "flags, e.g. --figure=teaser --output_dir=out.")
    if flag_values.list:
        print(list_figures())
        return
    app_output.start(flag_values)
    settings = settings_from_flags(flag_values)
    with app_output.showing_progress(flag_values):
        written = make_figures(settings)
    for name, paths in written.items():
        print(f"{name}: {os.fspath(paths['composite'])} {os.fspath(paths['json'])}")
    sys.stdout.flush()


if __name__ == "__main__":
    define_flags()
    app.run(main)
