"""The article's appendix at scale: every channel of every layer, resumable, optionally on Beam.

Typical use, from Python::

    from lucid2.recipes import appendix

    request = appendix.Request("out/appendix", settings=appendix.Settings(steps=512, size=128),
                               layers=("mixed4a",))
    manifest = appendix.run(request)                     # in this process
    manifest = appendix.run(request, runner="DirectRunner",
                            pipeline_args=["--direct_num_workers=2",
                                           "--direct_running_mode=multi_processing"])

or ``python -m lucid2.appendix --help``. Output: one PNG and one JSON record
per channel, a manifest, and a static HTML gallery (``index.html``). A rerun
skips what is done; each channel's render depends only on the settings, its
layer and its index, so resumed and sharded runs give the same bytes.
"""

from lucid2.recipes.appendix.gallery import build_gallery, index_html, layer_page_html
from lucid2.recipes.appendix.job import (IN_PROCESS, Job, Request, finish, prepare,
                                         resolve_layers, run, run_in_process)
from lucid2.recipes.appendix.plan import (AppendixError, Settings, Task, WorkItem, item_seed,
                                          pending_tasks, plan_items)
from lucid2.recipes.appendix.progress import Progress, format_duration
from lucid2.recipes.appendix.store import (BeamStore, LocalStore, Store, open_store,
                                           read_manifest)
from lucid2.recipes.appendix.worker import (Worker, WorkerConfig, load_model, make_renderer,
                                            model_fingerprint, render_item)

__all__ = [
    "IN_PROCESS", "AppendixError", "BeamStore", "Job", "LocalStore", "Progress", "Request",
    "Settings", "Store", "Task", "WorkItem", "Worker", "WorkerConfig", "build_gallery", "finish",
    "format_duration", "index_html", "item_seed", "layer_page_html", "load_model",
    "make_renderer", "model_fingerprint", "open_store", "pending_tasks", "plan_items", "prepare",
    "read_manifest", "render_item", "resolve_layers", "run", "run_in_process",
]
