"""The registry: a new rule type is one class, and every operation picks it up."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_badges.criteria import (
    RULE_TYPES,
    Result,
    Rule,
    RuleError,
    build_schema,
    describe,
    evaluate,
    explain,
    needs_sources,
    parse,
    register,
    to_json,
    validate,
)
from lti_badges.criteria.base import EvalContext, ParseContext, Path
from lti_badges.criteria.windows import Window

from .helpers import NOW, facts


@dataclass(frozen=True, kw_only=True)
class Always(Rule):
    """A toy type: ``{"always": true}`` is met, ``{"always": false}`` is not."""

    key: ClassVar[str] = "always"
    title: ClassVar[str] = "A constant"
    value_schema: ClassVar[dict[str, Any]] = {"type": "boolean"}

    value: bool

    @classmethod
    def parse(cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext,
              window: Window) -> Rule | None:
        if not isinstance(obj[cls.key], bool):
            ctx.error((*path, cls.key), "must be true or false")
            return None
        return cls(value=obj[cls.key], window=window)

    def value_json(self) -> dict[str, Any]:
        return {self.key: self.value}

    def evaluate(self, ctx: EvalContext) -> Result:
        return self.result(ctx, "met" if self.value else "unmet", 0.0, {})

    def describe(self, lang: str, names: Mapping[str, str] | None,
                 result: Result | None = None) -> str:
        return "Nothing to do" if lang == "en" else "Rien à faire"

    def standing(self, result: Result, lang: str, names: Mapping[str, str] | None,
                 tz: tzinfo | None) -> str:
        return result.status


@pytest.fixture
def always() -> Iterator[type[Rule]]:
    register(Always)
    try:
        yield Always
    finally:
        del RULE_TYPES["always"]


def test_a_registered_type_works_everywhere(always: type[Rule]) -> None:
    rule = {"any": [{"always": False}, {"always": True, "from": "2025-01-01"}]}
    assert validate(rule) == []
    assert to_json(parse(rule)) == rule
    assert needs_sources(rule) == frozenset()
    result = evaluate(rule, facts(), NOW)
    assert result.met
    assert explain(rule, result) == "\n".join([
        "At least one of the following — done:",
        "- Nothing to do — unmet",
        "- Nothing to do on or after 1 January 2025 — met",
    ])
    assert describe({"always": True}, "fr") == "Rien à faire"
    assert "always" in build_schema()["$defs"]
    assert [str(e) for e in validate({"always": 1})] == ["always: must be true or false"]


def test_a_key_cannot_be_registered_twice() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Impostor(Always):
        key: ClassVar[str] = "grade"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)


def test_the_contract_types_are_registered() -> None:
    assert set(RULE_TYPES) == {"all", "any", "at_least", "grade", "completed",
                               "course_completed", "launched", "badge", "manual"}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
    | st.sampled_from(["grade", "all", "2025-01-01", "moodle:cm:1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["grade", "item", "min_percent", "min_points", "all", "any", "of",
                         "at_least", "from", "until", "manual", "badge", "completed",
                         "activity", "launched", "resource_link", "course_completed"]),
        inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_json, st.text(max_size=20), st.binary(max_size=20)))
def test_validate_and_parse_never_crash_on_any_input(value: object) -> None:
    errors = validate(value)
    assert all(str(e) for e in errors)
    try:
        parse(value)
    except RuleError as exc:
        assert exc.errors == errors and errors
    else:
        assert errors == []
