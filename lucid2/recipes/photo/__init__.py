"""Starting from a photo: feature inversion, caricature, style transfer, DeepDream and
feature accentuation, one call each.

Each recipe returns a :class:`PhotoResult` (the image and the numbers it measured);
:func:`save_result` writes ``NAME.png`` and ``NAME.json`` beside it::

    from lucid2.modelzoo import InceptionV1
    from lucid2.recipes.photo import invert, save_result

    result = invert(InceptionV1(), "dog.jpg", "mixed4a", steps=512, seed=0)
    save_result(result, "inv.png")

From the command line: ``python -m lucid2.invert``, ``lucid2.caricature``,
``lucid2.style_transfer``, ``lucid2.deepdream``, and ``python -m lucid2.render
--init=PHOTO --init_pull=WEIGHT`` for feature accentuation.

Modules: ``inversion``, ``caricatures``, ``style``, ``deep_dream``, ``accentuation`` (each
named apart from its function, so that the lazy names stay functions), ``common``,
``result`` and ``defaults``.

The names below are imported on first use (see :mod:`lucid2.recipes.lazy_exports`), so
that the apps read :mod:`lucid2.recipes.photo.defaults` without loading TensorFlow.
"""

from lucid2.recipes.lazy_exports import lazy_exports

LAZY_EXPORTS = {
    "accentuate": "lucid2.recipes.photo.accentuation",
    "accentuation_objective": "lucid2.recipes.photo.accentuation",
    "pull_penalty": "lucid2.recipes.photo.accentuation",
    "caricature": "lucid2.recipes.photo.caricatures",
    "Progress": "lucid2.recipes.photo.common",
    "cover_crop": "lucid2.recipes.photo.common",
    "fitted_size": "lucid2.recipes.photo.common",
    "inversion_transforms": "lucid2.recipes.photo.common",
    "photo_at_size": "lucid2.recipes.photo.common",
    "deepdream": "lucid2.recipes.photo.deep_dream",
    "octave_sizes": "lucid2.recipes.photo.deep_dream",
    "invert": "lucid2.recipes.photo.inversion",
    "inversion_objective": "lucid2.recipes.photo.inversion",
    "PhotoResult": "lucid2.recipes.photo.result",
    "json_path_for": "lucid2.recipes.photo.result",
    "load_record": "lucid2.recipes.photo.result",
    "save_result": "lucid2.recipes.photo.result",
    "style_transfer": "lucid2.recipes.photo.style",
    "style_transfer_objective": "lucid2.recipes.photo.style",
    "style_transforms": "lucid2.recipes.photo.style",
}
__getattr__, __dir__ = lazy_exports(__name__, LAZY_EXPORTS)
__all__ = sorted(LAZY_EXPORTS)
