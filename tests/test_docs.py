"""The reference documentation: `mkdocs build --strict` passes and its generated pages are complete.

The API pages come from the docstrings (mkdocstrings), the command-line page from the flags each
app defines, the notebooks page from colab/*.ipynb (see docs/_ext/hooks.py). The test extra
installs mkdocs and mkdocstrings, so CI cannot skip the strict build: without them this module
fails to import.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
import re
import subprocess
import sys
import textwrap

import griffe
import mkdocs  # noqa: F401
import mkdocstrings  # noqa: F401
import mkdocstrings_handlers.python  # noqa: F401
import pytest
from absl import flags

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 900
# The modules the reference must have a page for, whatever else it grows.
REQUIRED_MODULES = (
    "lucid2.optvis.objectives", "lucid2.optvis.param", "lucid2.optvis.transform",
    "lucid2.optvis.render", "lucid2.optvis.settings", "lucid2.optvis.metrics",
    "lucid2.modelzoo", "lucid2.kernels", "lucid2.misc.io", "lucid2.recipes.figures",
    "lucid2.recipes.dataset_examples", "lucid2.recipes.appendix", "lucid2.recipes.photo",
)
DIRECTIVE_RE = re.compile(r"^:::\s*(\S+)", re.MULTILINE)


def _load(path: pathlib.Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


hooks = _load(ROOT / "docs" / "_ext" / "hooks.py", "lucid2_docs_hooks")
griffe_lucid2 = _load(ROOT / "docs" / "_ext" / "griffe_lucid2.py", "lucid2_docs_griffe")


def _app_modules() -> list[str]:
    """Top-level modules that run as programs or define their flags with ``define_flags``."""
    apps = []
    for path in sorted((ROOT / "lucid2").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any((isinstance(node, ast.If) and "__main__" in ast.unparse(node.test))
               or (isinstance(node, ast.FunctionDef) and node.name == "define_flags")
               for node in tree.body):
            apps.append(f"lucid2.{path.stem}")
    return apps


def _reference_pages() -> dict[str, str]:
    """identifier -> page name (docs/reference/NAME.md) for every `::: identifier`."""
    pages = {}
    for page in sorted((ROOT / "docs" / "reference").glob("*.md")):
        for identifier in DIRECTIVE_RE.findall(page.read_text(encoding="utf-8")):
            pages[identifier] = page.stem
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-6000:]}"
    return site_dir


@pytest.mark.slow
def test_cli_page_lists_every_app_and_every_render_flag(site):
    page = (site / "cli" / "index.html").read_text(encoding="utf-8")
    apps = _app_modules()
    assert "lucid2.render" in apps and len(apps) >= 6
    for app in apps:
        assert f"python -m {app}" in page, f"{app} is missing from the CLI page"
    from lucid2 import render

    values = flags.FlagValues()
    render.define_flags(values)
    names = [name for name in values if values[name].name == name]
    assert {"objective", "steps", "output", "weights"} <= set(names)
    section = re.search(r'<h2 id="render">.*?(?=<h2 |\Z)', page, re.DOTALL)
    assert section, "the CLI page has no section for render"
    rows = section[0]
    for name in names:
        shown = f"--[no]{name}" if values[name].flag_type() == "bool" else f"--{name}"
        assert f"<tr><td><code>{shown}</code></td>" in rows, f"render's {shown} is missing"
    # The defaults are the flags' own, not copies.
    steps_row = re.search(r"<tr><td><code>--steps</code></td>.*?</tr>", rows, re.DOTALL)[0]
    assert f"<code>{values['steps'].default}</code>" in steps_row


@pytest.mark.slow
def test_every_module_has_its_page(site):
    pages = _reference_pages()
    missing = [module for module in REQUIRED_MODULES if module not in pages]
    assert not missing, f"no reference page for {missing}"
    for identifier, page in pages.items():
        html_path = site / "reference" / page / "index.html"
        assert html_path.is_file(), f"{html_path} was not built"
        html = html_path.read_text(encoding="utf-8")
        assert f'id="{identifier}"' in html, f"{identifier} is not rendered on {page}"
    objectives = (site / "reference" / "optvis.objectives" / "index.html").read_text("utf-8")
    # The package's exports are documented with their docstrings' parameters.
    assert 'id="lucid2.optvis.objectives.channel"' in objectives
    # The recipes' lazily exported names are documented too.
    figures = (site / "reference" / "recipes.figures" / "index.html").read_text("utf-8")
    assert 'id="lucid2.recipes.figures.run_figure"' in figures
    # Sphinx roles in docstrings became code (and links where the target is documented).
    assert ":func:`" not in objectives and ":class:`" not in objectives


@pytest.mark.slow
def test_notebooks_page_links_every_notebook(site):
    page = (site / "notebooks" / "index.html").read_text(encoding="utf-8")
    notebooks = sorted((ROOT / "colab").glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        relative = notebook.relative_to(ROOT).as_posix()
        assert re.search(rf'href="https://colab\.research\.google\.com/github/[^"]+/{relative}"',
                         page), f"no Colab link to {relative}"
        assert re.search(rf'href="https://github\.com/[^"]+/blob/[^"]+/{relative}"', page)


def test_apps_found_by_the_hook_are_the_programs():
    assert hooks.find_apps() == _app_modules()


def test_flags_of_an_app_that_defines_them_on_import(tmp_path, monkeypatch):
    # classify-style apps define their flags at import time: read in a separate interpreter.
    package = tmp_path / "pkg_docs_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tool.py").write_text(textwrap.dedent("""
        from absl import app, flags
        flags.DEFINE_integer("count", 3, "How many.", lower_bound=1)
        flags.DEFINE_enum("mode", "a", ["a", "b"], "Which mode.")
        flags.DEFINE_string("out", None, "Where.", required=True)
    """))
    monkeypatch.setattr(hooks, "ROOT", tmp_path)  # the app's import runs from there
    docs = {doc.name: doc for doc in hooks.flags_defined_on_import("pkg_docs_probe.tool")}
    assert list(docs) == ["count", "mode", "out"]  # absl's own flags are left out
    assert docs["count"].default == "3" and docs["count"].values == "a positive integer"
    assert docs["mode"].values == "one of a, b" and docs["mode"].help == "Which mode."
    assert docs["out"].required and not docs["count"].required


def test_usage_lines_are_split_from_the_docstring():
    summary, usage, details = hooks.split_docstring(textwrap.dedent("""\
        Does a thing.

          python -m lucid2.thing --a=1 \\
              --b=2
          python -m lucid2.thing --c

        More about it.
        """))
    assert summary == "Does a thing."
    assert usage == ["python -m lucid2.thing --a=1 \\", "    --b=2", "python -m lucid2.thing --c"]
    assert details == "More about it."


def test_missing_section_of_an_included_file_is_an_error(tmp_path):
    (tmp_path / "GUIDE.md").write_text("# Guide\n\n## Setup\n\nRun it.\n\n## Other\n\nNo.\n")
    assert hooks.markdown_section("GUIDE.md", "Setup", root=tmp_path) == "Run it.\n"
    with pytest.raises(Exception, match="no '## Layout' section"):
        hooks.markdown_section("GUIDE.md", "Layout", root=tmp_path)


def test_griffe_extension_splits_grouped_parameters_and_rewrites_roles(tmp_path):
    package = tmp_path / "probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent('''
        """Start with :func:`make`; see :class:`Thing` and :func:`nowhere`."""

        LAZY_EXPORTS = {"Later": "probe_pkg.later"}


        class Thing:
            """A thing."""


        def make(w: int, h: int, first, second, third) -> Thing:
            """Makes a :class:`~probe_pkg.Thing`, for example::

                make(1, 2, 3, 4, 5)

            Args:
              w, h: width and height.
              first, second,
                third: as in :func:`make`.
            """
    '''))
    (package / "later.py").write_text('class Later:\n    """Loaded on first use."""\n')
    module = griffe.load("probe_pkg", search_paths=[str(tmp_path)],
                         extensions=griffe.load_extensions(griffe_lucid2.Lucid2Docs))
    make = module["make"]
    sections = make.docstring.parse("google", warnings=False)
    params = next(section for section in sections if section.kind.value == "parameters")
    assert [p.name for p in params.value] == ["w", "h", "first", "second", "third"]
    assert params.value[1].description == "width and height."
    assert ('Makes a <autoref identifier="probe_pkg.Thing" optional><code>Thing</code></autoref>'
            ", for example:\n" in make.docstring.value)
    # Known targets become optional links, unknown ones plain code.
    assert 'identifier="probe_pkg.make"' in module.docstring.value
    assert "<code>nowhere()</code>" in module.docstring.value
    assert "nowhere" not in re.findall(r'identifier="([^"]+)"', module.docstring.value)
    # Lazily exported names are members, as at run time.
    assert module["Later"].target_path == "probe_pkg.later.Later"
    assert list(module.exports) == ["Later"]


def test_relative_links_of_included_text_point_at_the_repository():
    blob = "https://github.com/OWNER/lucid2/blob/main"
    text = "See [the guide](../BUILD.md), [Lucid](https://github.com/tensorflow/lucid), [top](#a)."
    assert hooks.absolute_links(text, "colab", blob) == (
        f"See [the guide]({blob}/BUILD.md), [Lucid](https://github.com/tensorflow/lucid), "
        "[top](#a).")
    # Without a repository address the text stays, the link goes.
    assert hooks.absolute_links("A ![plot](plot.png).", "colab", None) == "A plot."
