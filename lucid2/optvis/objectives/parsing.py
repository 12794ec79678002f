"""Objectives from strings: ``"mixed4a:97"``, ``"0.5*mixed4a:476 - mixed3b:5"``.

Grammar (whitespace is ignored)::

    objective := ["-"] term (("+" | "-") term)*
    term      := [number "*"] target
    target    := layer ":" channel      -> channel(layer, channel)
               | layer                  -> deepdream(layer)

A bare layer name means DeepDream of the whole layer (the mean squared
activation, the article's "layer" objective); Lucid's ``as_objective`` only
accepted ``layer:channel``.
"""

from __future__ import annotations

import re

from lucid2.optvis.objectives.core import Objective, Sum
from lucid2.optvis.objectives.layers import channel, deepdream

GRAMMAR = ("objective := ['-'] term (('+'|'-') term)*; term := [number '*'] layer[':' channel], "
           "e.g. 'mixed4a:97', 'mixed4a' (DeepDream of the layer), "
           "'mixed4a:476+mixed4a:460', '0.5*mixed4a:476-mixed3b:5'")

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?=\s*\*))
  | (?P<target>[A-Za-z_][A-Za-z0-9_.]*(?:\s*:\s*\d+)?)
  | (?P<op>[-+*])
""", re.VERBOSE)


def _error(text: str, position: int, problem: str) -> ValueError:
    return ValueError(
        f"Cannot parse objective {text!r}: {problem} at position {position}. "
        f"Expected {GRAMMAR}.")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise _error(text, position, f"unexpected {text[position]!r}")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group().strip(), position))
        position = match.end()
    return tokens


def _target(token: str) -> Objective:
    if ":" in token:
        layer, index = (part.strip() for part in token.split(":"))
        return channel(layer, int(index))
    return deepdream(token)


def parse_objective(text: str) -> Objective:
    """Parses a sum of weighted channel / layer terms (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"Expected an objective string, got {type(text).__name__}.")
    tokens = _tokens(text)
    if not tokens:
        raise ValueError(f"The objective string is empty. Expected {GRAMMAR}.")
    terms: list[Objective] = []
    index = 0
    sign = 1.0
    if tokens[0][:2] == ("op", "-"):
        sign, index = -1.0, 1
    while True:
        factor = 1.0
        if index < len(tokens) and tokens[index][0] == "number":
            factor = float(tokens[index][1])
            index += 2  # the number and the "*" its lookahead guaranteed
        if index >= len(tokens):
            raise _error(text, len(text), "missing a layer name")
        kind, value, position = tokens[index]
        if kind != "target":
            raise _error(text, position, f"expected a layer name, got {value!r}")
        term = _target(value)
        weight = sign * factor
        terms.append(term if weight == 1 else weight * term)
        index += 1
        if index == len(tokens):
            break
        kind, value, position = tokens[index]
        if kind != "op" or value not in "+-":
            raise _error(text, position, f"expected '+' or '-', got {value!r}")
        sign = 1.0 if value == "+" else -1.0
        index += 1
        if index == len(tokens):
            raise _error(text, len(text), f"nothing after {value!r}")
    # One flat sum at once (what sum() of the terms gives, without copying it per term).
    return terms[0] if len(terms) == 1 else Sum(terms)


def as_objective(obj) -> Objective:
    """An Objective from an Objective (returned as is), a string, or a callable.

    Strings follow :data:`GRAMMAR`; a callable ``fn(ctx)`` (Lucid's ``fn(T)``)
    becomes :meth:`Objective.from_function` ``(fn)``, its layers found by probing.
    """
    if isinstance(obj, Objective):
        return obj
    if isinstance(obj, str):
        return parse_objective(obj)
    if callable(obj):
        return Objective.from_function(obj)
    raise TypeError(
        f"Cannot make an objective from {type(obj).__name__}; give an Objective, a string "
        f"({GRAMMAR}) or a callable taking the activations context.")
