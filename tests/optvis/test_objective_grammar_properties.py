"""Property-based tests (Hypothesis) of the objective string grammar (``parse_objective``):
any string either parses or raises ValueError, and valid expressions built from the
grammar parse into the objective they spell, whatever the whitespace."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lucid2.optvis import objectives as obj

# Modest: the parser is pure Python, but the suite runs on two shared cores.
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
MAX_TERMS = 6

LAYER_START = string.ascii_letters + "_"
LAYER_REST = string.ascii_letters + string.digits + "_."
LAYERS = st.builds(lambda first, rest: first + rest, st.sampled_from(LAYER_START),
                   st.text(LAYER_REST, max_size=10))
SPACE = st.text(" \t\n", max_size=2)
# Weights as written: integers, decimals and exponents (always positive: signs are
# the operators').
WEIGHTS = st.one_of(
    st.integers(0, 1000).map(str),
    st.floats(1e-4, 1e4, allow_nan=False, allow_infinity=False).map(repr),
    st.floats(1e-4, 1e4, allow_nan=False, allow_infinity=False).map(lambda x: f"{x:e}"),
    st.sampled_from([".5", "2.", "1e-3", "3E2"]),
)
# The grammar's tokens, a few near misses, and characters it never accepts.
TOKENS = st.one_of(
    LAYERS, st.integers(0, 10 ** 6).map(str), WEIGHTS,
    st.sampled_from([":", "+", "-", "*", " ", "\t", "4a", ":97", "**", "::", "(", ")", "/",
                     ".", "e5", "1e999", "-1", "mixed4a:", "\u0661", "\U0001d7ce", "\x00"]),
)


def _parse_or_value_error(text: str):
    """The parsed objective, or None when parsing raised ValueError (anything else fails)."""
    try:
        objective = obj.parse_objective(text)
    except ValueError:
        return None
    assert isinstance(objective, obj.Objective)
    assert objective.description  # every parsed objective can say what it is
    return objective


@PROPERTY_SETTINGS
@given(st.text(max_size=40))
def test_random_strings_parse_or_raise_value_error(text):
    _parse_or_value_error(text)


@PROPERTY_SETTINGS
@given(st.lists(TOKENS, max_size=12).map("".join))
def test_near_valid_strings_parse_or_raise_value_error(text):
    _parse_or_value_error(text)


@st.composite
def expressions(draw):
    """(text, expected objective) for a valid expression of the grammar."""
    count = draw(st.integers(1, MAX_TERMS))
    pieces, expected = [], None
    for index in range(count):
        negative = draw(st.booleans())
        if index == 0:
            pieces.append("-" if negative else "")
        else:
            pieces.append("-" if negative else "+")
        weight_text = draw(st.none() | WEIGHTS)
        layer = draw(LAYERS)
        n = draw(st.none() | st.integers(0, 5000))
        target = obj.deepdream(layer) if n is None else obj.channel(layer, n)
        if weight_text is not None:
            pieces += [weight_text, "*"]
        pieces += [layer] if n is None else [layer, ":", str(n)]
        weight = (-1.0 if negative else 1.0) * (1.0 if weight_text is None
                                                 else float(weight_text))
        term = target if weight == 1 else weight * target
        expected = term if expected is None else expected + term
    spaces = draw(st.lists(SPACE, min_size=len(pieces) + 1, max_size=len(pieces) + 1))
    text = spaces[0] + "".join(p + s for p, s in zip(pieces, spaces[1:]))
    return text, expected


@PROPERTY_SETTINGS
@given(expressions())
def test_valid_expressions_parse_and_describe_themselves(case):
    text, expected = case
    parsed = obj.parse_objective(text)
    assert parsed.description == expected.description
    assert str(parsed) == expected.description
    # Whitespace is ignored.
    compact = "".join(text.split())
    assert obj.parse_objective(compact).description == expected.description
    assert obj.as_objective(text).description == expected.description


@PROPERTY_SETTINGS
@given(st.one_of(st.integers(), st.floats(), st.binary(), st.none()))
def test_non_strings_raise_type_error(value):
    with pytest.raises(TypeError, match="objective string"):
        obj.parse_objective(value)
