"""The recipe packages' lazy re-exports: every name resolves, and the modules the apps read
for --help and --list load no TensorFlow."""

import importlib
import subprocess
import sys

import pytest

PACKAGES = ("lucid2.recipes", "lucid2.recipes.figures", "lucid2.recipes.appendix",
            "lucid2.recipes.photo")
# What the apps import before parsing flags.
LIGHT_MODULES = ("lucid2.recipes.figures.registry", "lucid2.recipes.appendix.plan",
                 "lucid2.recipes.photo.defaults")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_lazy_export_is_the_defining_modules_object(package):
    module = importlib.import_module(package)
    assert module.LAZY_EXPORTS and sorted(module.__all__) == sorted(module.LAZY_EXPORTS)
    for name, source in module.LAZY_EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name
        assert name in dir(module)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        getattr(module, "no_such_name")


def test_from_imports_work_through_the_lazy_exports():
    from lucid2.recipes import diversity_figure
    from lucid2.recipes.figures import diversity, run_figure  # a submodule and a name

    assert diversity_figure is diversity.diversity_figure and callable(run_figure)


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_the_apps_light_modules_load_no_tensorflow(module):
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout
