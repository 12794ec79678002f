"""Dataset examples: the images that make a channel or neuron fire most, least and not at all.

The "Feature Visualization" article pairs each optimized image with dataset
examples: photos, cropped around the spot where the unit fires. Typical use::

    from lucid2.modelzoo import InceptionV1
    from lucid2.recipes.dataset_examples import find_examples, save_examples, spectrum_grid

    result = find_examples(InceptionV1(), "mixed4a_pre_relu", 492, "photos/*.jpg", k=8)
    save_examples(result, "out/")  # top / bottom / near-zero / spectrum PNGs and a JSON
    grid = spectrum_grid(result)  # the same labeled grid as an array, e.g. for io.show

    # Every channel of a layer from one pass over the images (same results per channel):
    results = find_layer_examples(InceptionV1(), "mixed4a", "photos/", k=8)

From the command line: ``python -m lucid2.dataset_examples --help``.
"""

from lucid2.recipes.dataset_examples.output import (activation_text, example_grid, save_examples,
                                                    save_grid, save_json, save_spectrum,
                                                    set_grid, spectrum_grid)
from lucid2.recipes.dataset_examples.receptive_field import (POINTWISE_LAYERS, ReceptiveField,
                                                             UnknownLayerError,
                                                             receptive_field)
from lucid2.recipes.dataset_examples.results import SETS, DatasetExamples, Example
from lucid2.recipes.dataset_examples.search import (FALLBACK_PATCH_FRACTION, REDUCTIONS,
                                                    LayerScan, Unit, check_unit, find_examples,
                                                    find_layer_examples, scan_layer)
from lucid2.recipes.dataset_examples.sources import (IMAGE_SUFFIXES, UnreadableImagesError,
                                                     check_readable, list_image_files)

__all__ = ["FALLBACK_PATCH_FRACTION", "IMAGE_SUFFIXES", "POINTWISE_LAYERS", "REDUCTIONS", "SETS",
           "DatasetExamples", "Example", "LayerScan", "ReceptiveField", "Unit",
           "UnknownLayerError", "UnreadableImagesError", "activation_text", "check_readable",
           "check_unit", "example_grid", "find_examples", "find_layer_examples",
           "list_image_files", "receptive_field", "save_examples", "save_grid", "save_json",
           "save_spectrum", "scan_layer", "set_grid", "spectrum_grid"]
