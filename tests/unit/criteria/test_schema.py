"""rule.schema.json: generated from the registry, valid 2020-12, and in step with validate()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from lti_badges import criteria
from lti_badges.criteria import build_schema, load_schema, validate
from lti_badges.criteria.windows import INSTANT_PATTERN

from .helpers import rules_json

SCHEMA = load_schema()
VALIDATOR = Draft202012Validator(SCHEMA)


def test_the_published_file_is_the_generated_schema() -> None:
    # Regenerate with: python -m lti_badges.criteria > lti_badges/criteria/rule.schema.json
    assert SCHEMA == build_schema()
    path = Path(criteria.__file__).with_name("rule.schema.json")
    assert json.loads(path.read_text(encoding="utf-8")) == SCHEMA


def test_it_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$defs"]["instant"]["pattern"] == INSTANT_PATTERN


def test_every_registered_type_is_in_the_schema() -> None:
    refs = {ref["$ref"] for ref in SCHEMA["$defs"]["rule"]["oneOf"]}
    assert refs == {f"#/$defs/{key}" for key in criteria.RULE_TYPES}


@pytest.mark.parametrize(
    "rule",
    [
        {"grade": {"item": "Q", "min_percent": 120}},
        {"grade": {"item": "Q"}},
        {"grade": {"item": "Q", "min_percent": 1, "min_points": 1}},
        {"grade": {"item": "moodle:quiz:1", "min_points": 1}},
        {"completed": {"activity": "moodle:gradeitem:1"}},
        {"completed": {"activity": " "}},
        {"manual": {"x": 1}},
        {"badge": ""},
        {"badge": True},
        {"all": []},
        {"all": [{"manual": {}}], "any": [{"manual": {}}]},
        {"all": [{"manual": {}}], "of": []},
        {"at_least": 0, "of": [{"manual": {}}]},
        {"manual": {}, "from": "2025-09-01T08:00"},
        {"manual": {}, "until": "soon"},
        {"nope": {}},
        {},
    ],
)
def test_shape_errors_are_refused_by_both(rule: dict) -> None:
    assert validate(rule)
    assert not VALIDATOR.is_valid(rule)


@pytest.mark.parametrize(
    "rule",
    [
        {"manual": {}, "from": "2025-02-30"},
        {"manual": {}, "from": "2025-09-02", "until": "2025-09-01"},
        {"at_least": 2, "of": [{"manual": {}}]},
    ],
)
def test_what_only_validate_can_see(rule: dict) -> None:
    assert VALIDATOR.is_valid(rule)
    assert validate(rule)


# jsonschema takes a few milliseconds per nested rule: keep these runs small.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_json(depth=3))
def test_generated_valid_rules_pass_both(rule: dict) -> None:
    assert validate(rule) == []
    assert VALIDATOR.is_valid(rule), list(VALIDATOR.iter_errors(rule))


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.sampled_from(["", "x", "2025-01-01", "moodle:cm:1", "grade", "all"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["grade", "item", "min_percent", "all", "of",
                                       "at_least", "from", "manual", "badge"]), inner,
                      max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_rules(draw: st.DrawFn) -> object:
    """A valid rule with one value somewhere replaced by arbitrary JSON."""
    rule = draw(rules_json(depth=3))
    node: object = rule
    holder, key = None, None
    while True:
        children = (list(node.items()) if isinstance(node, dict)
                    else list(enumerate(node)) if isinstance(node, list) else [])
        if not children or draw(st.integers(0, 3)) == 0:
            break
        key, child = draw(st.sampled_from(children))
        holder, node = node, child
    replacement = draw(_json)
    if holder is None:
        return replacement
    holder[key] = replacement  # type: ignore[index]
    return rule


@settings(max_examples=80, deadline=None)
@given(mutated_rules())
def test_validate_is_at_least_as_strict_as_the_schema(rule: object) -> None:
    if not VALIDATOR.is_valid(rule):
        assert validate(rule)
    if not validate(rule):
        assert VALIDATOR.is_valid(rule)
