"""MkDocs hooks: the pages that are generated from the repository at build time.

A page asks for generated content with a marker comment on a line of its own:

- ``<!-- lucid2:apps -->``: every command-line app (a top-level module ``lucid2/NAME.py`` run
  as a program), its usage lines and a table of its flags, read from the flags the app
  defines (``define_flags(flag_values)`` on a fresh ``FlagValues``; apps that define theirs at
  import time are imported in a fresh interpreter).
- ``<!-- lucid2:notebooks -->``: every ``colab/*.ipynb``, its title and first paragraph, with
  links to it on the repository (``repo_url``) and in Colab.
- ``<!-- lucid2:include FILE#HEADING -->``: the section of a Markdown file of the repository
  under that ``##`` heading.

An unknown marker, an app whose flags cannot be read or a missing section stops the build.
"""

from __future__ import annotations

import ast
import dataclasses
import html
import importlib
import json
import pathlib
import posixpath
import re
import subprocess
import sys
import textwrap
from typing import Any
from urllib.parse import urlsplit

from mkdocs.exceptions import PluginError

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "lucid2"
NOTEBOOK_DIR = "colab"
# A Markdown link or image; a relative image becomes a link to the file.
LINK_RE = re.compile(r"!?\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")
MARKER_RE = re.compile(r"^<!--\s*lucid2:(?P<kind>[a-z]+)(?:\s+(?P<arg>\S+))?\s*-->\s*$",
                       re.MULTILINE)
ROLE_RE = re.compile(r":(?:py:)?(?:func|class|mod|data|meth|attr|exc|obj|const):`~?\.?([^`]+)`")
USAGE_PREFIX = f"python -m {PACKAGE}."
DEFINE_FLAGS = "define_flags"
# Apps that define their flags at import time are read in a fresh interpreter, with a deadline
# so a hanging import cannot hang the build.
FLAG_DUMP_TIMEOUT_S = 120
# The notebook a newcomer opens first leads the page; the others follow by name.
FIRST_NOTEBOOK = "quickstart.ipynb"
COLAB_GITHUB = "https://colab.research.google.com/github"
DEFAULT_BRANCH = "main"


@dataclasses.dataclass(frozen=True)
class FlagDoc:
    """One flag as the CLI page shows it."""

    name: str
    kind: str  # absl's flag type: "string", "int", "float", "bool", "string enum", ...
    values: str  # the accepted values, in absl's words where it has some ("a positive integer")
    default: str | None  # serialized, None when the flag has no default
    required: bool
    help: str


@dataclasses.dataclass(frozen=True)
class AppDoc:
    """One command-line app: its module, its docstring and its flags."""

    module: str
    summary: str
    usage: list[str]
    details: str
    flags: list[FlagDoc]


def find_apps(root: pathlib.Path = ROOT) -> list[str]:
    """The command-line apps: top-level modules of the package that run as programs (an
    ``if __name__ == "__main__":`` block) or define their flags with ``define_flags``."""
    apps = []
    for path in sorted((root / PACKAGE).glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _is_program(tree) or _defines_flags(tree):
            apps.append(f"{PACKAGE}.{path.stem}")
    return apps


def _is_program(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
               and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
               and any(isinstance(c, ast.Constant) and c.value == "__main__"
                       for c in node.test.comparators)
               for node in tree.body)


def _defines_flags(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == DEFINE_FLAGS
               for node in tree.body)


def _flag_doc(flag: Any) -> FlagDoc:
    """What the CLI page shows of one ``absl.flags.Flag``."""
    validators = getattr(flag, "validators", [])
    # absl marks a flag required with a validator rejecting None; its message says so.
    required = any("must have a value other than None" in str(getattr(v, "message", ""))
                   for v in validators)
    default = None if flag.default is None else flag.serialize()
    if default is not None:
        # serialize() writes "--name=value"; booleans write "--name" or "--noname".
        prefix = f"--{flag.name}="
        if default.startswith(prefix):
            default = default[len(prefix):]
        elif flag.flag_type() == "bool":
            default = str(bool(flag.default)).lower()
    help_text = flag.help or ""
    choices = getattr(flag.parser, "enum_values", None)
    if choices:
        values = "one of " + ", ".join(str(choice) for choice in choices)
        # absl starts an enum's help with its choices ("<a|b>: ..."); the values column has them.
        help_text = re.sub(r"^<[^>]*>:\s*", "", help_text)
    else:
        values = getattr(flag.parser, "syntactic_help", "") or flag.flag_type()
    return FlagDoc(name=flag.name, kind=flag.flag_type(), values=values, default=default,
                   required=required, help=help_text)


def flags_from_define_flags(module_name: str) -> list[FlagDoc]:
    """The flags ``module.define_flags`` defines on a fresh ``FlagValues``, in order."""
    from absl import flags

    module = importlib.import_module(module_name)
    values = flags.FlagValues()
    module.define_flags(values)
    return [_flag_doc(values[name]) for name in _own_names(values, set())]


def _own_names(values: Any, before: set[str]) -> list[str]:
    # Iterating FlagValues gives every name in definition order, short names among them.
    return [name for name in values if name not in before and values[name].name == name]


def dump_flags_defined_on_import(module_name: str) -> None:
    """Prints, as JSON, the flags that importing ``module_name`` defines on the global FLAGS."""
    from absl import app, flags  # noqa: F401 (absl.app defines its own flags on import)

    before = set(flags.FLAGS)
    importlib.import_module(module_name)
    docs = [_flag_doc(flags.FLAGS[name]) for name in _own_names(flags.FLAGS, before)]
    print(json.dumps([dataclasses.asdict(doc) for doc in docs]))


def flags_defined_on_import(module_name: str) -> list[FlagDoc]:
    """The flags a module defines on the global ``FLAGS`` when imported, read in a fresh
    interpreter (two such apps may define the same names, which one process refuses)."""
    script = ("import importlib.util, sys; "
              "spec = importlib.util.spec_from_file_location('lucid2_docs_hooks', sys.argv[1]); "
              "hooks = sys.modules[spec.name] = importlib.util.module_from_spec(spec); "
              "spec.loader.exec_module(hooks); "
              "hooks.dump_flags_defined_on_import(sys.argv[2])")
    try:
        result = subprocess.run([sys.executable, "-c", script, __file__, module_name], cwd=ROOT,
                                capture_output=True, text=True, timeout=FLAG_DUMP_TIMEOUT_S,
                                check=False)
    except subprocess.TimeoutExpired:
        raise PluginError(f"Reading the flags of {module_name} took over "
                          f"{FLAG_DUMP_TIMEOUT_S} s.") from None
    if result.returncode != 0:
        raise PluginError(f"Cannot read the flags of {module_name}: {result.stderr.strip()}")
    return [FlagDoc(**doc) for doc in json.loads(result.stdout.strip().splitlines()[-1])]


def app_doc(module_name: str) -> AppDoc:
    """The CLI page's view of one app (read from its source: importing an app that defines its
    flags at import time would define them on this process's global FLAGS)."""
    path = ROOT / (module_name.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if _defines_flags(tree):
        flag_docs = flags_from_define_flags(module_name)
    else:
        flag_docs = flags_defined_on_import(module_name)
    summary, usage, details = split_docstring(ast.get_docstring(tree) or "")
    return AppDoc(module=module_name, summary=summary, usage=usage, details=details,
                  flags=flag_docs)


def split_docstring(doc: str) -> tuple[str, list[str], str]:
    """A module docstring as (summary line, usage lines, the remaining paragraphs)."""
    lines = textwrap.dedent(doc).strip().splitlines()
    if not lines:
        return "", [], ""
    summary, rest = lines[0].strip(), lines[1:]
    usage: list[str] = []
    other: list[str] = []
    continuing = False
    for line in rest:
        stripped = line.strip()
        if stripped.startswith(USAGE_PREFIX) or continuing:
            # Continuation lines keep their indentation relative to the command.
            usage.append(stripped if not continuing else "    " + stripped)
            continuing = stripped.endswith("\\")
        else:
            other.append(stripped)
    details = "\n".join(other).strip()
    return summary, usage, details


def plain_markdown(text: str) -> str:
    """Docstring prose as Markdown: Sphinx roles become code."""
    return ROLE_RE.sub(lambda m: f"`{m[1]}`", text)


def render_apps(apps: list[AppDoc]) -> str:
    """The CLI page's body: one section per app, its usage and its flags."""
    out = []
    for app in apps:
        name = app.module.split(".", 1)[1]
        out.append(f"## {name}\n")
        out.append(f"`python -m {app.module}`: {plain_markdown(app.summary)}\n")
        if app.usage:
            out.append("```bash\n" + "\n".join(app.usage) + "\n```\n")
        if app.details:
            out.append(plain_markdown(app.details) + "\n")
        out.append(render_flag_table(app.flags))
    return "\n".join(out)


def render_flag_table(flag_docs: list[FlagDoc]) -> str:
    """An HTML table (so that help texts need no Markdown escaping) of the flags."""
    rows = []
    for flag in flag_docs:
        name = f"--[no]{flag.name}" if flag.kind == "bool" else f"--{flag.name}"
        if flag.required:
            default = "<em>required</em>"
        elif flag.default is None:
            default = "&mdash;"
        else:
            default = f"<code>{html.escape(flag.default)}</code>"
        values = html.escape(flag.values)
        rows.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{values}</td>"
                    f"<td>{default}</td><td>{html.escape(flag.help)}</td></tr>")
    return ("<table>\n<thead><tr><th>flag</th><th>values</th><th>default</th><th>meaning</th>"
            "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n")


def absolute_links(markdown: str, source_dir: str, blob: str | None) -> str:
    """Markdown from a repository file with its relative links made absolute (to the file on
    the repository, or plain text when there is no ``repo_url``): on a docs page they would
    point nowhere, which a strict build refuses."""

    def replace(match: re.Match) -> str:
        target = match["target"]
        if urlsplit(target).scheme or target.startswith(("#", "/")):
            return match[0]
        if blob is None:
            return match["text"]
        path = posixpath.normpath(posixpath.join(source_dir, target))
        return f"[{match['text']}]({blob}/{path})"

    return LINK_RE.sub(replace, markdown)


def repository_links(repo_url: str | None, branch: str) -> tuple[str | None, str | None]:
    """Base URLs of the repository's files on GitHub and in Colab (None when unknown)."""
    if not repo_url:
        return None, None
    base = repo_url.rstrip("/")
    blob = f"{base}/blob/{branch}"
    parts = urlsplit(base)
    colab = (f"{COLAB_GITHUB}{parts.path}/blob/{branch}" if parts.netloc == "github.com"
             else None)
    return blob, colab


def notebook_summary(path: pathlib.Path) -> tuple[str, str]:
    """A notebook's title (its first heading) and the first paragraph after it."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell.get("source", []))
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        if not paragraphs:
            continue
        title = paragraphs[0].lstrip("#").strip()
        intro = paragraphs[1] if len(paragraphs) > 1 and not paragraphs[1].startswith(
            ("#", "```", "|")) else ""
        return title, intro
    return path.stem, ""


def render_notebooks(repo_url: str | None, branch: str, root: pathlib.Path = ROOT) -> str:
    """The notebooks page's body: one entry per notebook, with its links."""
    blob, colab = repository_links(repo_url, branch)
    out = []
    notebooks = sorted((root / NOTEBOOK_DIR).glob("*.ipynb"),
                       key=lambda path: (path.name != FIRST_NOTEBOOK, path.name))
    for path in notebooks:
        relative = path.relative_to(root).as_posix()
        title, intro = notebook_summary(path)
        links = [f"`{relative}`"]
        if colab:
            links.append(f"[open in Colab]({colab}/{relative})")
        if blob:
            links.append(f"[view on GitHub]({blob}/{relative})")
        out.append(f"## {title}\n\n{' · '.join(links)}\n")
        if intro:
            out.append(absolute_links(intro, NOTEBOOK_DIR, blob) + "\n")
    if not out:
        raise PluginError(f"No notebooks found in {root / NOTEBOOK_DIR}.")
    return "\n".join(out)


def markdown_section(relative: str, heading: str, root: pathlib.Path = ROOT) -> str:
    """The body of the ``## heading`` section of a Markdown file of the repository."""
    text = (root / relative).read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\s*$(?P<body>.*?)(?=^## |\Z)", text,
                      re.MULTILINE | re.DOTALL)
    if match is None:
        raise PluginError(f"{relative} has no '## {heading}' section.")
    return match["body"].strip() + "\n"


_cache: dict[str, str] = {}


def _branch(config: Any) -> str:
    return (config.get("extra") or {}).get("source_branch", DEFAULT_BRANCH)


def _generated(kind: str, arg: str | None, config: Any) -> str:
    key = f"{kind} {arg}"
    if key not in _cache:
        if kind == "apps":
            _cache[key] = render_apps([app_doc(name) for name in find_apps()])
        elif kind == "notebooks":
            _cache[key] = render_notebooks(config.get("repo_url"), _branch(config))
        elif kind == "include" and arg and "#" in arg:
            relative, heading = arg.split("#", 1)
            blob, _ = repository_links(config.get("repo_url"), _branch(config))
            source = f"\n[{relative} on GitHub]({blob}/{relative})\n" if blob else ""
            section = absolute_links(markdown_section(relative, heading),
                                     pathlib.PurePosixPath(relative).parent.as_posix(), blob)
            _cache[key] = section + source
        else:
            raise PluginError(f"Unknown docs marker 'lucid2:{kind} {arg or ''}'.")
    return _cache[key]


def on_startup(**kwargs: Any) -> None:
    # The apps import lucid2 from the checkout, as mkdocstrings reads it.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def on_pre_build(config: Any, **kwargs: Any) -> None:
    # `mkdocs serve` rebuilds on changes: read the apps and notebooks again.
    _cache.clear()


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    return MARKER_RE.sub(lambda m: _generated(m["kind"], m["arg"], config), markdown)
