r"""Finds the dataset examples of a channel: the images that drive it most, least and not at all.

  python -m lucid2.dataset_examples --layer=mixed4a_pre_relu --channel=492 \
      --images='photos/*.jpg' --k=8 --output_dir=out
  python -m lucid2.dataset_examples --layer=mixed4a --channel=492 --images=photos/ \
      --neuron=center --reduce=mean --weights=/path/to/inception5h --output_dir=out
  python -m lucid2.dataset_examples --model=net.keras --value_range=0,1 --layer=conv3 \
      --channel=7 --images=photos/ --output_dir=out

Writes LAYER_CHANNEL_{top,bottom,near_zero,spectrum}.png (receptive-field patches,
each with its activation under it, in rows titled such as "top 1-8 of mixed4a:492")
and LAYER_CHANNEL.json (scores, positions, boxes, files) to --output_dir. Image
files that cannot be read are skipped with a warning that says why and listed
under "skipped" in the JSON; the run fails, naming them, when none can be read.
Flags, the image list (up to its first readable file), the layer and the
channel are checked before any image is processed. The search's progress goes to
standard output (a progress bar on a terminal, a line every few seconds otherwise);
``--quiet`` prints only the saved files.
"""

from __future__ import annotations

from absl import app, flags

from lucid2 import app_checks, app_flags, app_output

FLAGS = flags.FLAGS
flags.DEFINE_string("layer", None, "Layer name, e.g. mixed4a or mixed4a_pre_relu (negative "
                    "values need a _pre_relu layer).", required=True)
flags.DEFINE_integer("channel", None, "Channel index in --layer.", lower_bound=0, required=True)
flags.DEFINE_string("images", None, "A directory (searched recursively), a glob pattern "
                    "(quote it) or one image file.", required=True)
flags.DEFINE_string("output_dir", None, "Directory for the PNG grids and the JSON.",
                    required=True)
flags.DEFINE_integer("k", 8, "Examples per set (top, bottom, near zero).", lower_bound=1)
flags.DEFINE_enum("reduce", "max", ["max", "mean"], "Score of an image for a channel: its "
                  "strongest spot (max; min for the bottom set) or the spatial mean.")
flags.DEFINE_string("neuron", None, "Score one position instead of the whole channel: 'x,y' "
                    "(x the row, y the column, as in lucid2's neuron objective) or 'center'.")
flags.DEFINE_integer("batch_size", 16, "Images per forward pass.", lower_bound=1)
flags.DEFINE_integer("image_size", 224, "Images are resized to image_size x image_size.",
                     lower_bound=1)
app_flags.define_model_flags()
flags.DEFINE_bool("progress", True, "Show the search's progress (--noprogress: not; --quiet "
                  "also hides the summary line).")
app_output.define_output_flags()

NEURON_CENTER = "center"


def _parse_neuron(text: str | None):
    if text is None or text.strip().lower() == NEURON_CENTER:
        return None if text is None else NEURON_CENTER
    try:
        x, y = (int(v) for v in text.split(","))
    except ValueError:
        raise app.UsageError(
            f"--neuron must be 'x,y' (two ints) or 'center', got {text!r}.") from None
    return x, y


@app_checks.app_main("lucid2.dataset_examples")
def main(argv: list[str]) -> int:
    """Checks the flags, searches the images, saves the grids and the JSON (all or none)."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; use --images.")
    app_output.start()
    spec = app_flags.model_spec_from_flags()
    neuron = _parse_neuron(FLAGS.neuron)
    # Now, not after the search: a file in the way, a folder that cannot be written.
    output_dir = app_checks.check_output_dir(FLAGS.output_dir, "--output_dir")

    from lucid2.modelzoo import load_from_spec
    from lucid2.recipes.dataset_examples import (UnreadableImagesError, check_readable,
                                                 check_unit, find_examples, list_image_files,
                                                 save_examples)

    try:
        paths = list_image_files(FLAGS.images)
        # Before the model loads: fails when not one file's header is a loadable image.
        check_readable(paths)
    except (ValueError, FileNotFoundError) as error:
        raise app.UsageError(f"--images: {error}") from None

    model = load_from_spec(spec)
    try:
        check_unit(model, FLAGS.layer, FLAGS.channel, neuron=neuron,
                   image_size=FLAGS.image_size)
    except ValueError as error:
        raise app.UsageError(str(error)) from None

    try:
        with app_output.showing_progress():
            result = find_examples(model, FLAGS.layer, FLAGS.channel, paths, neuron=neuron,
                                   k=FLAGS.k, reduce=FLAGS.reduce,
                                   batch_size=FLAGS.batch_size, image_size=FLAGS.image_size,
                                   progress=FLAGS.progress)
    except UnreadableImagesError as error:  # headers fine, but no file's pixels decode
        raise app.UsageError(f"--images: {error}") from None
    with app_checks.saving_to(output_dir), app_checks.removing_new_files(output_dir):
        written = save_examples(result, output_dir)
    best = result.top[0]
    app_output.say(f"{result.num_images} images searched ({len(result.skipped)} skipped); "
                   f"top activation {best.activation:.4g} in {best.source}")
    for name, path in written.items():
        print(f"  {name}: {path}")
    return 0


def run() -> None:
    """Console entry point."""
    app.run(main)


if __name__ == "__main__":
    run()  # app.run exits with main's status
