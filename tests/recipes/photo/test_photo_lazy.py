"""The photo package's lazy exports, and apps whose --help loads no TensorFlow."""

import importlib
import subprocess
import sys

import pytest

from lucid2.recipes import photo as photo_package

APPS = ("lucid2.invert", "lucid2.caricature", "lucid2.style_transfer", "lucid2.deepdream",
        "lucid2.render")


def test_every_lazy_export_is_the_defining_modules_object():
    assert sorted(photo_package.__all__) == sorted(photo_package.LAZY_EXPORTS)
    for name, source in photo_package.LAZY_EXPORTS.items():
        assert getattr(photo_package, name) is getattr(importlib.import_module(source), name)
        assert name in dir(photo_package)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        photo_package.no_such_name  # noqa: B018 (the lookup itself is the test)


def test_no_lazy_name_is_shadowed_by_a_submodule():
    # Importing a submodule sets it as an attribute of the package: a submodule named like
    # an export would replace the function.
    for source in set(photo_package.LAZY_EXPORTS.values()):
        importlib.import_module(source)
    for name in photo_package.LAZY_EXPORTS:
        assert callable(getattr(photo_package, name)) or name.isupper() or name[0].isupper()
        assert name not in {source.rsplit(".", 1)[1] for source in
                            photo_package.LAZY_EXPORTS.values()}


@pytest.mark.parametrize("module", APPS + ("lucid2.recipes.photo.defaults",
                                            "lucid2.photo_app_flags"))
def test_the_apps_and_the_defaults_load_no_tensorflow(module):
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout
