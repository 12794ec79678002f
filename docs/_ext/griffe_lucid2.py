"""A Griffe extension that lets mkdocstrings read lucid2's source as Python itself does.

What static analysis and Markdown would not see as Python and Sphinx do:

- The recipe packages re-export their names lazily (``LAZY_EXPORTS = {name: module}``, see
  ``lucid2.recipes.lazy_exports``): Python resolves ``lucid2.recipes.figures.run_figure`` on
  first use, Griffe sees only a dict. Each such name becomes an alias of its definition and
  the package's public names (``__all__``) are the dict's keys, as at run time.
- Google-style ``Args:`` entries that describe several parameters at once (``w, h: width and
  height``) become one entry per parameter, so each matches the signature.
- A paragraph ending in ``::`` introduces a literal block (reStructuredText); in Markdown the
  indented block is code already, so ``text::`` becomes ``text:``.
- The docstrings write cross-references as Sphinx roles (``:func:`image```, ``:class:`.X```).
  Each becomes an *optional* cross-reference: a link where the target is rendered on some page,
  plain code elsewhere (so a strict build never fails on a reference to an undocumented name).
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from typing import Any

import griffe

LAZY_EXPORTS_NAME = "LAZY_EXPORTS"
# A Sphinx role: optional domain, the role, an optional "~" (short title), the target.
ROLE_RE = re.compile(r":(?:py:)?(?P<role>func|class|mod|data|meth|attr|exc|obj|const):"
                     r"`(?P<tilde>~?)(?P<target>[^`]+)`")
# A Google-style parameters section, and an entry of it naming several parameters.
PARAM_SECTION_RE = re.compile(r"^(?P<indent>\s*)(?:Args|Arguments|Parameters|Params|"
                              r"Keyword Args|Keyword Arguments|Other Parameters):\s*$")
GROUPED_ENTRY_RE = re.compile(r"^(?P<names>\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)+)\s*,?\s*"
                              r"(?P<type>\([^)]*\))?\s*:\s*(?P<text>.*)$", re.DOTALL)
# reStructuredText's "text::" before a literal block.
LITERAL_INTRO_RE = re.compile(r"(?<=\S)::$", re.MULTILINE)


def _lazy_exports(module: griffe.Module) -> dict[str, str] | None:
    """The module's ``LAZY_EXPORTS`` literal, or None when it has none."""
    attribute = module.members.get(LAZY_EXPORTS_NAME)
    if not isinstance(attribute, griffe.Attribute) or attribute.value is None:
        return None
    try:
        value = ast.literal_eval(str(attribute.value))
    except (ValueError, SyntaxError):
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        return None
    return value


def _modules(module: griffe.Module) -> Iterator[griffe.Module]:
    yield module
    for member in module.modules.values():
        if not member.is_alias:
            yield from _modules(member)


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """The full path of ``target`` as written in ``obj``'s docstring, or None if unknown."""
    module = obj if obj.is_module else obj.module
    if target.startswith("."):
        # Relative to the package (".reference") or to the enclosing names (".X").
        name = target.lstrip(".")
        for scope in (module.parent, module, obj):
            if scope is not None and _lookup(obj, f"{scope.path}.{name}"):
                return f"{scope.path}.{name}"
        return None
    if target.split(".", 1)[0] == module.package.name:
        return target if _lookup(obj, target) else None
    head, _, rest = target.partition(".")
    try:
        path = obj.resolve(head)
    except griffe.NameResolutionError:
        return None
    full = f"{path}.{rest}" if rest else path
    return full if _lookup(obj, full) else None


def _lookup(obj: griffe.Object, path: str) -> bool:
    try:
        obj.modules_collection.get_member(path)
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _split_grouped_params(text: str) -> str:
    """Rewrites ``a, b: text`` parameter entries as one ``a: text`` entry per name."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        header = PARAM_SECTION_RE.match(lines[i])
        i += 1
        if header is None:
            continue
        section_indent = len(header["indent"])
        item_indent = None
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > section_indent):
            if not lines[i].strip():
                out.append(lines[i])
                i += 1
                continue
            if item_indent is None:
                item_indent = _indent(lines[i])
            # One entry: its first line and the more-indented lines that continue it.
            entry = [lines[i]]
            i += 1
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) > item_indent:
                entry.append(lines[i])
                i += 1
            out.extend(_split_entry(entry, item_indent))
    return "\n".join(out)


def _split_entry(entry: list[str], item_indent: int) -> list[str]:
    joined = " ".join(line.strip() for line in entry)
    match = GROUPED_ENTRY_RE.match(joined)
    if match is None:
        return entry
    pad = " " * item_indent
    kind = f" {match['type']}" if match["type"] else ""
    return [f"{pad}{name.strip()}{kind}: {match['text']}" for name in match["names"].split(",")]


def _rewrite_roles(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match) -> str:
        target = match["target"].strip()
        shown = target.lstrip(".")
        if match["tilde"]:
            shown = shown.rsplit(".", 1)[-1]
        if match["role"] in ("func", "meth"):
            shown += "()"
        code = f"<code>{html.escape(shown)}</code>"
        path = _resolve(obj, target)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE_RE.sub(replace, text)


class Lucid2Docs(griffe.Extension):
    """Lazy exports as aliases, Sphinx roles as optional cross-references."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Runs once the whole package is loaded (Griffe 2; Griffe 1 calls the hook below)."""
        for module in _modules(pkg):
            exports = _lazy_exports(module)
            if exports is None:
                continue
            for name, source in exports.items():
                if name not in module.members:
                    module.set_member(name, griffe.Alias(name, f"{source}.{name}",
                                                         parent=module))
            module.exports = list(exports)
        for obj in _objects(pkg):
            if obj.docstring is not None:
                text = _split_grouped_params(obj.docstring.value)
                text = LITERAL_INTRO_RE.sub(":", text)
                obj.docstring.value = _rewrite_roles(obj, text)

    def on_package_loaded(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Griffe 1's name for :meth:`on_package` (each step is idempotent)."""
        self.on_package(pkg=pkg, **kwargs)
