"""The appendix as an Apache Beam pipeline (optional extra: ``pip install 'lucid2-tf[beam]'``).

One element per task (a batch of channels of one layer), reshuffled across
workers; each worker loads the model once (``DoFn.setup``) and writes its
results atomically into the output directory, exactly as the in-process
runner does, so both give the same files. The driver checks everything and
writes the manifest before the pipeline starts, watches the output directory
for progress while it runs, and completes the manifest and the gallery after.

Locally, several processes::

    python -m lucid2.appendix --output_dir=out --runner=DirectRunner \
        --direct_num_workers=2 --direct_running_mode=multi_processing

Unchanged on Dataflow, Flink or Spark: pass ``--runner`` and that runner's
options (workers need lucid2 installed, e.g. ``--setup_file`` or a container).
"""

from __future__ import annotations

import sys
import threading
from typing import Sequence, TextIO

from lucid2.recipes.appendix import store as store_lib
from lucid2.recipes.appendix.plan import AppendixError, Task
from lucid2.recipes.appendix.progress import Progress
from lucid2.recipes.appendix.worker import Worker

try:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
except ImportError:  # the optional extra is not installed; require_beam() says so
    beam = None  # type: ignore[assignment]  # an optional module: None when absent

# How often the driver counts the records written while the pipeline runs.
WATCH_INTERVAL_SECONDS = 30.0


def beam_installed() -> bool:
    """Whether ``apache_beam`` can be imported."""
    return beam is not None


def require_beam(runner: str) -> None:
    """Raises AppendixError with the install command when Beam is missing."""
    if not beam_installed():
        raise AppendixError(
            f"--runner={runner} needs Apache Beam, which is not installed: "
            "pip install 'lucid2-tf[beam]'. Without it use --runner=InProcess (the default).")


if beam is not None:

    class RenderTasks(beam.DoFn):
        """Does the tasks it receives; the model is loaded once per DoFn instance (setup)."""

        def __init__(self, config):
            super().__init__()
            self.config = config
            self.worker: Worker | None = None  # made in setup(), on the Beam worker
            self.channels = beam.metrics.Metrics.counter("lucid2.appendix", "channels_rendered")
            self.tasks = beam.metrics.Metrics.counter("lucid2.appendix", "tasks_done")

        def setup(self):
            self.worker = Worker(self.config)
            self.worker.setup()

        def process(self, element):
            if self.worker is None:
                raise RuntimeError("Beam called process() before setup().")
            rendered = self.worker.run(Task.from_dict(element))
            self.channels.inc(rendered)
            self.tasks.inc()
            yield rendered


class _Watcher:
    """Counts finished channels in the store every ``interval`` seconds and reports progress."""

    def __init__(self, job, interval: float, stream: TextIO | None):
        self.job = job
        self.interval = interval
        self.layers = list(job.layer_channels)
        self.before = self._count()
        self.progress = Progress(job.pending_channels, stream=stream)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="appendix-progress", daemon=True)

    def _count(self) -> int:
        done = store_lib.rendered_channels(self.job.store, self.layers)
        return sum(len(channels) for channels in done.values())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.progress.update(self._count() - self.before, "(counted in the output)")
            except Exception as error:  # a listing failure must not stop the pipeline
                print(f"appendix: progress unavailable: {error}", file=sys.stderr)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def run_pipeline(job, runner: str, pipeline_args: Sequence[str] = (),
                 stream: TextIO | None = sys.stderr,
                 watch_interval: float = WATCH_INTERVAL_SECONDS) -> None:
    """Runs the job's tasks on Beam and waits for the pipeline to finish.

    Args:
      job: a prepared :class:`~lucid2.recipes.appendix.job.Job`.
      runner: a Beam runner name, e.g. "DirectRunner" or "DataflowRunner".
      pipeline_args: that runner's options, as command-line flags.
      stream: where progress goes (None: silent).
      watch_interval: seconds between progress reports.
    """
    require_beam(runner)
    options = PipelineOptions([f"--runner={runner}", *pipeline_args])
    tasks = [task.to_dict() for task in job.tasks]
    with _Watcher(job, watch_interval, stream):
        pipeline = beam.Pipeline(options=options)
        _ = (pipeline
             | "Tasks" >> beam.Create(tasks)
             # Spreads the tasks over the workers instead of one bundle on one.
             | "Spread" >> beam.Reshuffle()
             | "Render" >> beam.ParDo(RenderTasks(job.config)))
        try:
            result = pipeline.run()
            result.wait_until_finish()
        except Exception as error:
            # A worker's full disk reaches the driver wrapped in the runner's error and
            # traceback: keep its one line.
            line = store_lib.output_full_line(str(error))
            if line is None:
                raise
            raise AppendixError(line) from None
        state = str(getattr(result, "state", "DONE"))
        if "FAIL" in state.upper() or "CANCEL" in state.upper():
            raise AppendixError(f"The Beam pipeline ended in state {state}; rerun to resume.")
