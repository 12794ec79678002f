r"""Renders the appendix: every channel of every layer, resumable, in-process or on Apache Beam.

  python -m lucid2.appendix --output_dir=out/appendix
  python -m lucid2.appendix --output_dir=out --layers=mixed4a,mixed4b --steps=256 --size=96 \
      --channels_per_batch=16 --seed=0 --weights=/path/to/inception5h --dataset='photos/*.jpg'
  python -m lucid2.appendix --output_dir=out --runner=DirectRunner \
      --direct_num_workers=2 --direct_running_mode=multi_processing
  python -m lucid2.appendix --output_dir=gs://bucket/appendix --runner=DataflowRunner \
      --project=PROJECT --region=REGION --temp_location=gs://bucket/tmp --setup_file=./setup.py
  python -m lucid2.appendix --verify --output_dir=out/appendix

Writes one PNG and one JSON record per channel, a manifest and a static HTML
gallery (open OUTPUT_DIR/index.html). Rerunning the same command resumes: it
skips finished channels and re-renders interrupted batches and channels whose
files do not match their records' checksums (it names them); a manifest of
other settings is refused, and so is a second job on the same directory (a
lock file). ``--verify`` checks a finished output without rendering: every
damaged or missing file, exit status 1 if any. Flags this app does not know are
Beam pipeline options, passed to the runner. ``LUCID2_MAX_STEPS`` caps ``--steps``.

Renders use the ``fast`` preset by default (Lucid's 512-step activation in 128 steps;
see BUILD.md); ``--preset=lucid`` renders Lucid's recipe. The manifest records the
preset, and a run is resumed only with the preset it started with (a manifest from
before presets existed is ``lucid``).

Progress goes to standard output: a line per finished batch of channels (done, rate,
time left) and, in-process, each batch's render steps (a progress bar on a terminal, a
line every few seconds otherwise); ``--quiet`` prints only the gallery's address.
"""

from __future__ import annotations

import logging
import sys

from absl import app, flags

from lucid2 import app_checks, app_flags, app_output

IN_PROCESS = "InProcess"
FILE_SCHEME = "file://"
HARNESS_LOG_LEVEL = "default_sdk_harness_log_level"


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the app's flags on ``flag_values`` (the global FLAGS when run as a program)."""
    from lucid2.recipes.appendix import plan

    flags.DEFINE_list("layers", None, "Layers to render, e.g. mixed4a,mixed4b; default: the "
                      "model's main layers (InceptionV1: conv2d0 .. mixed5b).",
                      flag_values=flag_values)
    flags.DEFINE_string("output_dir", None, "Where to write: a local directory or a URL Beam "
                        "knows, e.g. gs://bucket/appendix.", flag_values=flag_values)
    flags.DEFINE_enum("preset", plan.DEFAULT_PRESET, list(plan.PRESET_CHOICES),
                      "Render settings: 'fast' (the default: Lucid's 512-step activation in "
                      "128 steps) or 'lucid' (Lucid's recipe, 512 steps); --steps and "
                      "--learning_rate override its values.", flag_values=flag_values)
    flags.DEFINE_integer("steps", None, "Optimization steps per render (default: the "
                         "preset's).", lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("size", plan.DEFAULT_SIZE, "Render width and height in pixels.",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("channels_per_batch", plan.DEFAULT_CHANNELS_PER_BATCH,
                         "Channels rendered together by one compiled step (one image each).",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_integer("seed", plan.DEFAULT_SEED, "The run's random seed.", lower_bound=0,
                         flag_values=flag_values)
    flags.DEFINE_float("learning_rate", None, "Adam learning rate (default: the preset's).",
                       flag_values=flag_values)
    app_flags.define_model_flags(flag_values)
    flags.DEFINE_string("runner", IN_PROCESS, "InProcess, or an Apache Beam runner: "
                        "DirectRunner, DataflowRunner, FlinkRunner, SparkRunner, ... (needs "
                        "pip install 'lucid2-tf[beam]').", flag_values=flag_values)
    flags.DEFINE_string("dataset", None, "Images (a directory or a quoted glob) to find each "
                        "channel's top dataset examples in, shown in the gallery.",
                        flag_values=flag_values)
    flags.DEFINE_integer("num_examples", plan.DEFAULT_EXAMPLES, "Dataset examples per channel.",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_bool("gallery", True, "Write the HTML gallery (index.html) at the end.",
                      flag_values=flag_values)
    flags.DEFINE_bool("verify", False, "Check the finished output in --output_dir instead of "
                      "rendering (no model is loaded): list every damaged or missing file, exit "
                      "status 1 if there is any.", flag_values=flag_values)
    app_output.define_output_flags(flag_values)


def parse_flags(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> list[str]:
    """Parses the flags this app knows; returns the rest (program name, then pipeline options)."""
    try:
        return flag_values(argv, known_only=True)
    except flags.Error as error:
        print(f"FATAL Flags parsing error: {error}", file=sys.stderr)
        print("Pass --helpshort or --helpfull to see help on flags.", file=sys.stderr)
        sys.exit(1)


def request_from_flags(flag_values: flags.FlagValues = flags.FLAGS):
    """Checks the flags without loading anything; raises app.UsageError."""
    # From the defining modules (the package's lazy re-exports are untyped to a checker).
    from lucid2.recipes.appendix.job import Request
    from lucid2.recipes.appendix.plan import AppendixError, Settings

    if not flag_values.output_dir:
        raise app.UsageError("--output_dir is required, e.g. --output_dir=out/appendix.")
    local = local_output_dir(flag_values.output_dir)
    if local is not None:
        # Now, before the model loads; URLs (gs://...) are left to Beam's filesystems.
        app_checks.check_output_dir(local, "--output_dir")
    spec = app_flags.model_spec_from_flags(flag_values)
    try:
        settings = Settings(steps=flag_values.steps, size=flag_values.size,
                            channels_per_batch=flag_values.channels_per_batch,
                            seed=flag_values.seed, learning_rate=flag_values.learning_rate,
                            preset=flag_values.preset)
    except AppendixError as error:
        raise app.UsageError(str(error)) from None
    layers = tuple(flag_values.layers) if flag_values.layers else None
    return Request(output_dir=flag_values.output_dir, settings=settings, model=spec,
                   layers=layers, dataset=flag_values.dataset,
                   num_examples=flag_values.num_examples)


def local_output_dir(output_dir: str) -> str | None:
    """The local path of ``output_dir`` (a path or a file:// URL), or None for other URLs."""
    from lucid2.recipes.appendix.store import has_scheme

    if output_dir.startswith(FILE_SCHEME):
        return output_dir[len(FILE_SCHEME):]
    return None if has_scheme(output_dir) else output_dir


def interrupted_message(output_dir: str) -> str:
    """What a Ctrl-C leaves: the channels finished so far (counted on a local output)."""
    resume = "rerun the same command to resume"
    local = local_output_dir(output_dir)
    if local is None:
        return f"{app_checks.INTERRUPTED}; the channels finished so far are kept: {resume}"
    from lucid2.recipes.appendix.store import open_store, read_manifest, rendered_channels

    try:
        store = open_store(local)
        manifest = read_manifest(store)
        if manifest is None:
            return f"{app_checks.INTERRUPTED} before any channel was rendered"
        done = sum(map(len, rendered_channels(store, manifest["layers"]).values()))
    except (Exception, KeyboardInterrupt):  # unreadable, or a second Ctrl-C: do not count
        return f"{app_checks.INTERRUPTED}; the channels finished so far are kept: {resume}"
    return (f"{app_checks.INTERRUPTED}; {done} finished channel(s) kept in {store.root}: "
            f"{resume}")


def verify(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """--verify: prints every problem of the output directory; AppendixFailed if any."""
    if not flag_values.output_dir:
        raise app.UsageError("--verify needs --output_dir, the appendix to check.")
    if argv[1:]:
        raise app.UsageError(f"Unknown flags or arguments: {' '.join(argv[1:])}.")
    from lucid2.recipes.appendix.integrity import verify_output
    from lucid2.recipes.appendix.plan import AppendixError

    try:
        report = verify_output(flag_values.output_dir)
    except AppendixError as error:
        raise AppendixFailed(str(error)) from None
    for line in report.lines():
        print(line)
    checked = f"{report.channels} channels in {report.layers} layer(s)"
    if not report.ok:
        raise AppendixFailed(f"{len(report.problems)} problem(s) in {report.root} "
                             f"({checked} checked). Rerun the same command to repair them: "
                             "it renders the damaged and missing channels again.")
    print(f"{report.root}: intact ({checked}, manifest and gallery checked).")


class AppendixFailed(SystemExit):
    """A problem found before rendering (layers, output directory, earlier run); exit status 1."""

    def __init__(self, message: str):
        super().__init__(f"lucid2.appendix: error: {message}")


@app_checks.app_main("lucid2.appendix")
def main(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Checks the flags and runs the job; Ctrl-C says what was kept (a rerun resumes)."""
    if flag_values.verify:
        verify(argv, flag_values)  # reads files only: no TensorFlow to quiet
        return
    app_output.start(flag_values)
    request = request_from_flags(flag_values)
    # What absl did not parse: Beam pipeline options (also in "--flag value" form).
    pipeline_args = list(argv[1:])
    runner = flag_values.runner
    if runner.strip().lower() == IN_PROCESS.lower() and pipeline_args:
        raise app.UsageError(
            f"Unknown flags or arguments: {' '.join(pipeline_args)}. Beam pipeline options "
            "need a Beam runner, e.g. --runner=DirectRunner; everything else is a flag, e.g. "
            "--layers=mixed4a.")

    from lucid2.recipes.appendix.job import run
    from lucid2.recipes.appendix.plan import AppendixError

    if runner.strip().lower() != IN_PROCESS.lower():
        # Beam's own INFO logs (one line per worker message) would drown the progress lines.
        logging.getLogger("apache_beam").setLevel(logging.WARNING)
        if not any(a.startswith(f"--{HARNESS_LOG_LEVEL}") for a in pipeline_args):
            pipeline_args.append(f"--{HARNESS_LOG_LEVEL}=WARNING")
    stream = None if app_output.is_quiet(flag_values) else sys.stdout
    try:
        with app_output.showing_progress(flag_values):
            run(request, runner=runner, pipeline_args=pipeline_args,
                gallery=flag_values.gallery, stream=stream)
    except AppendixError as error:
        raise AppendixFailed(str(error)) from None
    except KeyboardInterrupt:
        raise app_checks.Interrupted(interrupted_message(request.output_dir)) from None
    if flag_values.gallery:
        from lucid2.recipes.appendix.store import open_store

        print(f"Gallery: {open_store(request.output_dir).url('index.html')}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_flags)
