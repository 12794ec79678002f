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
skips what is done and renders again whatever does not match its record's
checksums; each channel's render depends only on the settings, its layer and
its index, so resumed and sharded runs give the same bytes. One job at a time
per output directory (a lock file); ``verify_output`` checks a finished one.

The names below are imported on first use (see :mod:`lucid2.recipes.lazy_exports`),
so that the apps' ``--help`` and ``--list`` stay instant.
"""

from lucid2.recipes.lazy_exports import lazy_exports

LAZY_EXPORTS = {
    "build_gallery": "lucid2.recipes.appendix.gallery",
    "index_html": "lucid2.recipes.appendix.gallery",
    "layer_page_html": "lucid2.recipes.appendix.gallery",
    "LayerCheck": "lucid2.recipes.appendix.integrity",
    "Problem": "lucid2.recipes.appendix.integrity",
    "Report": "lucid2.recipes.appendix.integrity",
    "check_layer": "lucid2.recipes.appendix.integrity",
    "verify_output": "lucid2.recipes.appendix.integrity",
    "IN_PROCESS": "lucid2.recipes.appendix.job",
    "Job": "lucid2.recipes.appendix.job",
    "Request": "lucid2.recipes.appendix.job",
    "finish": "lucid2.recipes.appendix.job",
    "prepare": "lucid2.recipes.appendix.job",
    "resolve_layers": "lucid2.recipes.appendix.job",
    "run": "lucid2.recipes.appendix.job",
    "run_in_process": "lucid2.recipes.appendix.job",
    "LockOwner": "lucid2.recipes.appendix.lock",
    "OutputLock": "lucid2.recipes.appendix.lock",
    "AppendixError": "lucid2.recipes.appendix.plan",
    "Settings": "lucid2.recipes.appendix.plan",
    "Task": "lucid2.recipes.appendix.plan",
    "WorkItem": "lucid2.recipes.appendix.plan",
    "item_seed": "lucid2.recipes.appendix.plan",
    "pending_tasks": "lucid2.recipes.appendix.plan",
    "plan_items": "lucid2.recipes.appendix.plan",
    "Progress": "lucid2.recipes.appendix.progress",
    "format_duration": "lucid2.recipes.appendix.progress",
    "BeamStore": "lucid2.recipes.appendix.store",
    "LocalStore": "lucid2.recipes.appendix.store",
    "OutputFull": "lucid2.recipes.appendix.store",
    "Store": "lucid2.recipes.appendix.store",
    "open_store": "lucid2.recipes.appendix.store",
    "read_manifest": "lucid2.recipes.appendix.store",
    "Worker": "lucid2.recipes.appendix.worker",
    "WorkerConfig": "lucid2.recipes.appendix.worker",
    "load_model": "lucid2.recipes.appendix.worker",
    "make_renderer": "lucid2.recipes.appendix.worker",
    "model_fingerprint": "lucid2.recipes.appendix.worker",
    "render_item": "lucid2.recipes.appendix.worker",
}
__getattr__, __dir__ = lazy_exports(__name__, LAZY_EXPORTS)
__all__ = sorted(LAZY_EXPORTS)
