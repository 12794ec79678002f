"""lucid2's import architecture, checked from the source with ``ast`` (nothing is imported).

In the spirit of import-linter's contracts, each test states one rule:

* layers, top to bottom: the command-line apps (``lucid2/*.py``, e.g.
  ``lucid2.render``, ``lucid2.app_flags``); ``lucid2.recipes``;
  ``lucid2.optvis`` and ``lucid2.modelzoo`` side by side (neither imports the
  other); ``lucid2.kernels`` (device-specific fast paths: only ``misc`` below
  it); ``lucid2.misc``. Imports point down, or sideways within one package.
  ``lucid2/__init__.py`` imports no subpackage (``import lucid2`` stays cheap),
  so any module may import it (for ``__version__``).
* no library module (anything in a subpackage) imports an app module;
* no import circle between modules (top-level imports);
* no function-local imports in library modules, except of the optional extras
  in ``LAZY_IMPORTS``;
* no private name (leading underscore) used from another package.

The last tests run each rule on a small made-up package with one violation,
so that every rule is known to be able to fail.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
ROOT = "lucid2"
APPS = "apps"
# Layer -> the layers its modules may import (its own: sideways within one package).
# A missing package (e.g. lucid2.kernels before it exists) simply has no modules.
ALLOWED_LAYERS = {
    APPS: {APPS, "recipes", "optvis", "modelzoo", "kernels", "misc"},
    "recipes": {"recipes", "optvis", "modelzoo", "kernels", "misc"},
    "optvis": {"optvis", "kernels", "misc"},
    "modelzoo": {"modelzoo", "kernels", "misc"},
    "kernels": {"kernels", "misc"},
    "misc": {"misc"},
}
# What a library module may import inside a function (a module and its submodules), and why.
LAZY_IMPORTS = {
    "apache_beam": "the optional [beam] extra; its import also installs a root log handler",
    "IPython": "optional: only notebooks have it",
    "lucid2.recipes.appendix.beam_pipeline": "imports apache_beam, only for a Beam runner",
}
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# A package's table of names it re-exports lazily (read as imports of those modules).
LAZY_EXPORTS_NAME = "LAZY_EXPORTS"


# ------------------------------------------------------------------ the code base
@dataclasses.dataclass(frozen=True)
class Import:
    """One imported module (and, for ``from M import a, b``, the names taken from it)."""

    importer: str
    target: str                     # absolute module name, resolved to a submodule if it is one
    names: tuple[str, ...]          # names taken from ``target`` that are not modules
    line: int
    local: bool                     # inside a function body
    path: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclasses.dataclass(frozen=True)
class Attribute:
    """``alias._name`` where ``alias`` is a lucid2 module bound by an import."""

    importer: str
    module: str
    name: str
    line: int
    path: str


@dataclasses.dataclass
class Module:
    name: str
    path: str
    is_package: bool
    tree: ast.Module


class Codebase:
    """The modules of one top-level package, parsed."""

    def __init__(self, modules: dict[str, Module], root: str = ROOT):
        self.root = root
        self.modules = modules

    @classmethod
    def from_directory(cls, directory: pathlib.Path, root: str = ROOT) -> "Codebase":
        modules = {}
        for file in sorted(directory.rglob("*.py")):
            parts = list(file.relative_to(directory.parent).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            rel = file.relative_to(directory.parent).as_posix()
            modules[name] = Module(name, rel, is_package,
                                   ast.parse(file.read_text(encoding="utf-8"), filename=rel))
        return cls(modules, root)

    @classmethod
    def from_sources(cls, sources: dict[str, str], root: str = ROOT) -> "Codebase":
        """``{"pkg/sub/__init__.py": source, ...}``, for the tests of the rules themselves."""
        modules = {}
        for rel, source in sources.items():
            parts = rel[:-len(".py")].split("/")
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            modules[name] = Module(name, rel, is_package, ast.parse(source, filename=rel))
        return cls(modules, root)

    # ------------------------------------------------------------- naming
    def package_of(self, module: str) -> str:
        """The package a module belongs to (a package belongs to itself)."""
        known = self.modules.get(module)
        if known is not None and known.is_package:
            return module
        return module.rpartition(".")[0]

    def layer(self, module: str) -> str | None:
        """The layer of a module of this code base: None for the root package itself."""
        parts = module.split(".")
        if module == self.root:
            return None
        if len(parts) == 2 and not self._is_subpackage(parts[1]):
            return APPS
        return parts[1]

    def _is_subpackage(self, name: str) -> bool:
        prefix = f"{self.root}.{name}"
        return name in ALLOWED_LAYERS and name != APPS or any(
            m.startswith(prefix + ".") or (m == prefix and mod.is_package)
            for m, mod in self.modules.items())

    def is_ours(self, module: str) -> bool:
        return module == self.root or module.startswith(self.root + ".")

    # ------------------------------------------------------------ imports
    def imports(self) -> list[Import]:
        found = []
        for module in self.modules.values():
            found.extend(self._module_imports(module))
        return found

    def _module_imports(self, module: Module) -> list[Import]:
        found = []

        def visit(node: ast.AST, local: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        found.append(Import(module.name, alias.name, (), child.lineno, local,
                                            module.path))
                elif isinstance(child, ast.ImportFrom):
                    found.extend(self._from_imports(module, child, local))
                visit(child, local or isinstance(child, FUNCTION_NODES))

        visit(module.tree, False)
        found.extend(self._lazy_exports(module))
        return found

    @staticmethod
    def _lazy_exports(module: Module) -> list[Import]:
        """A package's ``LAZY_EXPORTS = {name: module}`` (see lucid2.recipes.lazy_exports):
        imports made on first use, which count here as the package's own."""
        found = []
        for node in module.tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                    and any(isinstance(t, ast.Name) and t.id == LAZY_EXPORTS_NAME
                            for t in node.targets)):
                for key, value in zip(node.value.keys, node.value.values):
                    if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                        found.append(Import(module.name, value.value, (key.value,), key.lineno,
                                            False, module.path))
        return found

    def _from_imports(self, module: Module, node: ast.ImportFrom, local: bool) -> list[Import]:
        base = self._absolute(module, node.module, node.level)
        found, names = [], []
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in self.modules:
                found.append(Import(module.name, submodule, (), node.lineno, local, module.path))
            else:
                names.append(alias.name)
        if names or not found:
            found.append(Import(module.name, base, tuple(names), node.lineno, local, module.path))
        return found

    def _absolute(self, module: Module, name: str | None, level: int) -> str:
        if level == 0:
            return name or ""
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        parts = package.split(".")
        base = ".".join(parts[:len(parts) - (level - 1)])
        return f"{base}.{name}" if name else base

    def module_aliases(self, module: Module) -> dict[str, str]:
        """Names bound to one of our modules by the module's imports (``import a.b as c``,
        ``from a import b`` where ``a.b`` is a module)."""
        aliases = {}
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and self.is_ours(alias.name):
                        aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(module, node.module, node.level)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in self.modules:
                        aliases[alias.asname or alias.name] = submodule
        return aliases

    def private_attributes(self) -> list[Attribute]:
        found = []
        for module in self.modules.values():
            aliases = self.module_aliases(module)
            for node in ast.walk(module.tree):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                        and node.value.id in aliases and _is_private(node.attr)):
                    found.append(Attribute(module.name, aliases[node.value.id], node.attr,
                                           node.lineno, module.path))
        return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# -------------------------------------------------------------------- the rules
def layer_violations(code: Codebase) -> list[str]:
    problems = []
    for module in code.modules.values():
        layer = code.layer(module.name)
        if layer is not None and layer not in ALLOWED_LAYERS:
            problems.append(f"{module.path}: {module.name} is in no layer (package "
                            f"{code.root}.{layer}); add it to ALLOWED_LAYERS in "
                            "tests/test_layering.py")
    for imp in code.imports():
        if not code.is_ours(imp.target) or imp.target == code.root:
            continue
        source, target = code.layer(imp.importer), code.layer(imp.target)
        if source is None:
            problems.append(f"{imp.where}: {imp.importer} imports {imp.target}; the root package "
                            "imports no subpackage, so that importing it stays cheap")
        elif source in ALLOWED_LAYERS and target not in ALLOWED_LAYERS[source]:
            allowed = ", ".join(sorted(ALLOWED_LAYERS[source]))
            problems.append(f"{imp.where}: {imp.importer} ({source}) imports {imp.target} "
                            f"({target}); {source} may import only: {allowed}")
    return problems


def app_import_violations(code: Codebase) -> list[str]:
    problems = []
    for imp in code.imports():
        source = code.layer(imp.importer)
        if source not in (None, APPS) and code.is_ours(imp.target) \
                and code.layer(imp.target) == APPS:
            problems.append(f"{imp.where}: library module {imp.importer} imports the app module "
                            f"{imp.target}; move what it needs into the library")
    return problems


def import_circles(code: Codebase) -> list[str]:
    """One circle per group of modules that import each other (top-level imports only)."""
    edges: dict[str, dict[str, int]] = {name: {} for name in code.modules}
    for imp in code.imports():
        if not imp.local and imp.target in code.modules and imp.target != imp.importer:
            edges[imp.importer].setdefault(imp.target, imp.line)
    problems = []
    for group in _strongly_connected(edges):
        if len(group) > 1:
            cycle = min((_cycle_through(start, group, edges) for start in group), key=len)
            steps = " -> ".join(f"{a} (line {edges[a][b]})" for a, b in zip(cycle, cycle[1:]))
            problem = f"import circle: {steps} -> {cycle[0]}"
            if len(group) > len(cycle) - 1:
                problem += f" (modules that import each other: {', '.join(group)})"
            problems.append(problem)
    return problems


def _strongly_connected(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on long chains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups


def _cycle_through(start: str, group: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """A shortest circle from ``start`` back to it inside a strongly connected group
    (breadth first), as ``[start, ..., start]``."""
    members = set(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node]):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start] + path[::-1][1:] + [start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no circle in {group}")


def local_import_violations(code: Codebase) -> list[str]:
    problems = []
    for imp in code.imports():
        if not imp.local or code.layer(imp.importer) in (None, APPS):
            continue
        if any(imp.target == allowed or imp.target.startswith(allowed + ".")
               for allowed in LAZY_IMPORTS):
            continue
        what = imp.target + (f" ({', '.join(imp.names)})" if imp.names else "")
        problems.append(f"{imp.where}: {imp.importer} imports {what} inside a function; "
                        "import it at the top of the module")
    return problems


def private_name_violations(code: Codebase) -> list[str]:
    problems = []

    def check(importer: str, owner: str, what: str, where: str) -> None:
        package = code.package_of(importer)
        if package != owner and not package.startswith(owner + "."):
            problems.append(f"{where}: {importer} uses {what}, private to {owner}; make it "
                            f"public in {owner}'s API instead")

    for imp in code.imports():
        if not code.is_ours(imp.target):
            continue
        parts = imp.target.split(".")
        private = [i for i, part in enumerate(parts) if _is_private(part)]
        if private:
            check(imp.importer, ".".join(parts[:private[0]]), imp.target, imp.where)
        for name in imp.names:
            if _is_private(name):
                check(imp.importer, code.package_of(imp.target), f"{imp.target}.{name}",
                      imp.where)
    for attr in code.private_attributes():
        check(attr.importer, code.package_of(attr.module), f"{attr.module}.{attr.name}",
              f"{attr.path}:{attr.line}")
    return problems


# ------------------------------------------------------------------- contracts
@pytest.fixture(scope="module")
def lucid2_code() -> Codebase:
    return Codebase.from_directory(REPO_ROOT / ROOT)


def _report(problems: list[str]) -> str:
    return f"{len(problems)} violation(s):\n" + "\n".join(problems)


def test_imports_point_down_the_layers(lucid2_code):
    problems = layer_violations(lucid2_code)
    assert not problems, _report(problems)


def test_no_library_module_imports_an_app(lucid2_code):
    problems = app_import_violations(lucid2_code)
    assert not problems, _report(problems)


def test_no_import_circles(lucid2_code):
    problems = import_circles(lucid2_code)
    assert not problems, _report(problems)


def test_library_imports_are_at_module_top(lucid2_code):
    problems = local_import_violations(lucid2_code)
    assert not problems, _report(problems)


def test_no_private_names_from_other_packages(lucid2_code):
    problems = private_name_violations(lucid2_code)
    assert not problems, _report(problems)


def test_the_code_base_is_found(lucid2_code):
    layers = {lucid2_code.layer(name) for name in lucid2_code.modules}
    assert {APPS, "recipes", "optvis", "modelzoo", "misc"} <= layers
    assert "lucid2.recipes.appendix.job" in lucid2_code.modules


# ----------------------------------------------------- every rule can fail
CLEAN = {
    "lucid2/__init__.py": '__version__ = "0"\n',
    "lucid2/app.py": "from lucid2.recipes import recipe\n"
                     "def main():\n    import lucid2.optvis.render\n",
    "lucid2/recipes/__init__.py": "",
    "lucid2/recipes/recipe.py": "from lucid2.optvis import render\nfrom lucid2 import __version__\n"
                                "from lucid2.modelzoo.zoo import Model\n",
    "lucid2/optvis/__init__.py": "from lucid2.optvis.render import render\n",
    "lucid2/optvis/render.py": "from lucid2.misc.io import save\nfrom . import _helpers\n"
                               "from lucid2.kernels.fast import fast\n"
                               "def render():\n    import apache_beam\n",
    "lucid2/optvis/_helpers.py": "",
    "lucid2/modelzoo/__init__.py": "",
    "lucid2/modelzoo/zoo.py": "import lucid2.misc.io as io\nModel = io.save\n",
    "lucid2/kernels/__init__.py": "",
    "lucid2/kernels/fast.py": "from lucid2.misc.io import save\n",
    "lucid2/misc/__init__.py": "",
    "lucid2/misc/io.py": "def save():\n    from IPython.display import display\n",
}
RULES = {
    "layers": layer_violations,
    "apps": app_import_violations,
    "circles": import_circles,
    "local": local_import_violations,
    "private": private_name_violations,
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rules_accept_a_clean_package(rule):
    assert RULES[rule](Codebase.from_sources(CLEAN)) == []


@pytest.mark.parametrize("rule, path, source, expected", [
    ("layers", "lucid2/optvis/render.py", "from lucid2.modelzoo.zoo import Model\n",
     "lucid2/optvis/render.py:1: lucid2.optvis.render (optvis) imports lucid2.modelzoo.zoo"),
    ("layers", "lucid2/modelzoo/zoo.py", "from lucid2.optvis import render\n",
     "lucid2.modelzoo.zoo (modelzoo) imports lucid2.optvis.render (optvis)"),
    ("layers", "lucid2/misc/io.py", "def save():\n    from lucid2.recipes import recipe\n",
     "lucid2.misc.io (misc) imports lucid2.recipes.recipe (recipes)"),
    ("layers", "lucid2/kernels/fast.py", "from ..optvis.render import render\n",
     "lucid2.kernels.fast (kernels) imports lucid2.optvis.render (optvis)"),
    ("layers", "lucid2/__init__.py", "from lucid2 import misc\n",
     "lucid2/__init__.py:1: lucid2 imports lucid2.misc; the root package"),
    ("layers", "lucid2/extra/__init__.py", "",
     "lucid2.extra is in no layer"),
    ("layers", "lucid2/optvis/__init__.py", 'LAZY_EXPORTS = {"recipe": "lucid2.recipes.recipe"}\n',
     "lucid2/optvis/__init__.py:1: lucid2.optvis (optvis) imports lucid2.recipes.recipe (recipes)"),
    ("apps", "lucid2/recipes/recipe.py", "from lucid2.app import main\n",
     "lucid2/recipes/recipe.py:1: library module lucid2.recipes.recipe imports the app module "
     "lucid2.app"),
    ("circles", "lucid2/misc/io.py", "from lucid2.optvis.render import render\n",
     "import circle: lucid2.misc.io (line 1) -> lucid2.optvis.render (line 1) -> lucid2.misc.io"),
    ("local", "lucid2/modelzoo/zoo.py", "def load():\n    import numpy as np\n",
     "lucid2/modelzoo/zoo.py:2: lucid2.modelzoo.zoo imports numpy inside a function"),
    ("local", "lucid2/recipes/recipe.py", "def f():\n    from lucid2.optvis import render\n",
     "lucid2.recipes.recipe imports lucid2.optvis.render inside a function"),
    ("private", "lucid2/recipes/recipe.py", "from lucid2.optvis._helpers import x\n",
     "lucid2/recipes/recipe.py:1: lucid2.recipes.recipe uses lucid2.optvis._helpers, private "
     "to lucid2.optvis"),
    ("private", "lucid2/recipes/recipe.py", "from lucid2.optvis.render import _step\n",
     "lucid2.recipes.recipe uses lucid2.optvis.render._step, private to lucid2.optvis"),
    ("private", "lucid2/app.py", "from lucid2.optvis import render\nrender._step()\n",
     "lucid2/app.py:2: lucid2.app uses lucid2.optvis.render._step, private to lucid2.optvis"),
])
def test_rules_report_a_violation(rule, path, source, expected):
    sources = dict(CLEAN)
    sources[path] = source + sources.get(path, "")  # first, so that its lines keep their numbers
    problems = RULES[rule](Codebase.from_sources(sources))
    assert any(expected in problem for problem in problems), problems
