"""Lazy re-exports for the recipe packages (PEP 562).

The command-line apps read light modules of these packages (the figure catalog, the
appendix defaults) for ``--help`` and ``--list``, which must not load TensorFlow; but
importing any submodule first runs its packages' ``__init__``. So the packages re-export
their heavy names lazily: ``package.name`` imports the module that defines it on first
use. Each package lists its exports as ``LAZY_EXPORTS = {name: module}``, a literal that
``tests/test_layering.py`` reads as imports.
"""

from __future__ import annotations

import importlib
from typing import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str],
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose public ``name`` is defined in
    the module ``exports[name]``."""

    def __getattr__(name: str) -> object:  # noqa: N807 (the module's PEP 562 hook)
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:  # noqa: N807 (the module's PEP 562 hook)
        return sorted(set(exports) | set(vars(importlib.import_module(package))))

    return __getattr__, __dir__
