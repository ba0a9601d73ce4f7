"""Laws of the engine, checked with hypothesis on generated rules and facts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lti_badges.criteria import (
    SOURCES,
    BadgeHeld,
    CourseCompletion,
    Facts,
    GradeFact,
    Launch,
    ManualAward,
    Result,
    describe,
    evaluate,
    explain,
    parse,
    to_json,
    validate,
)

from .helpers import (
    ActivityCompletion,
    any_fact,
    junk_facts,
    rules_json,
    well_typed_facts,
)

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

nows = st.one_of(
    st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2026, 6, 1),
                 timezones=st.just(UTC)),
    st.datetimes(),  # naive: read as UTC
    st.none(),
)


def same(a: Result, b: Result) -> bool:
    return a.status == b.status and a.progress == b.progress


def check_result(result: Result) -> None:
    assert result.status in ("met", "unmet", "unknown")
    assert 0.0 <= result.progress <= 1.0
    assert (result.progress == 1.0) == result.met  # a full bar means met, and only then
    json.dumps(result.to_json(), allow_nan=False)  # evidence is storable JSON
    for child in result.children:
        check_result(child)


@FAST
@given(rules_json(), junk_facts(), nows, st.one_of(st.none(), st.sampled_from(["this", 7])))
def test_evaluation_never_raises_and_results_are_well_formed(rule, facts, now, badge_id) -> None:
    result = evaluate(rule, facts, now, badge_id=badge_id)
    check_result(result)
    parsed = parse(rule)
    for lang in ("en", "fr"):
        assert explain(parsed, result, lang)
        assert describe(parsed, lang)


@FAST
@given(rules_json())
def test_generated_rules_are_valid_and_round_trip(rule) -> None:
    assert validate(rule) == []
    assert to_json(parse(rule)) == rule
    assert parse(to_json(parse(rule))) == parse(rule)


@FAST
@given(rules_json(depth=3), well_typed_facts(), nows)
def test_single_child_combinators_are_the_child(rule, facts, now) -> None:
    alone = evaluate(rule, facts, now)
    assert same(evaluate({"all": [rule]}, facts, now), alone)
    assert same(evaluate({"any": [rule]}, facts, now), alone)
    assert same(evaluate({"at_least": 1, "of": [rule]}, facts, now), alone)


@FAST
@given(st.lists(rules_json(depth=2), min_size=1, max_size=4), well_typed_facts(), nows)
def test_all_and_any_are_at_least_n(rules, facts, now) -> None:
    assert same(evaluate({"all": rules}, facts, now),
                evaluate({"at_least": len(rules), "of": rules}, facts, now))
    assert same(evaluate({"any": rules}, facts, now),
                evaluate({"at_least": 1, "of": rules}, facts, now))


@FAST
@given(st.lists(rules_json(depth=2), min_size=1, max_size=4), well_typed_facts(), nows)
def test_combinators_follow_their_children(rules, facts, now) -> None:
    kids = [evaluate(r, facts, now) for r in rules]
    assert evaluate({"all": rules}, facts, now).met == all(k.met for k in kids)
    assert evaluate({"any": rules}, facts, now).met == any(k.met for k in kids)
    # Duality without negation: "all" unmet iff some child is unmet, "any" unmet iff all are.
    assert (evaluate({"all": rules}, facts, now).status == "unmet") == any(
        k.status == "unmet" for k in kids)
    assert (evaluate({"any": rules}, facts, now).status == "unmet") == all(
        k.status == "unmet" for k in kids)
    # Progress: all ≤ at_least ≤ any.
    all_p = evaluate({"all": rules}, facts, now).progress
    any_p = evaluate({"any": rules}, facts, now).progress
    for n in range(1, len(rules) + 1):
        p = evaluate({"at_least": n, "of": rules}, facts, now).progress
        assert all_p - 1e-12 <= p <= any_p + 1e-12


def _more(facts: Facts, fact: object) -> Facts:
    """``facts`` with one more fact, never changing how an ITEM is looked up.

    A new grade or completion copies the identity (id, label, tag, aliases) of
    one already present, so the id > label > tag precedence picks the same
    level: it is "another grade for a known item", e.g. a later attempt.
    """
    if isinstance(fact, GradeFact):
        if not facts.grades:
            return facts
        twin = facts.grades[hash(fact.score) % len(facts.grades)]
        return replace(facts, grades=(*facts.grades, replace(
            twin, score=fact.score, maximum=fact.maximum, minimum=fact.minimum, time=fact.time)))
    if isinstance(fact, ActivityCompletion):
        if not facts.completions:
            return facts
        twin = facts.completions[0]
        return replace(facts, completions=(*facts.completions,
                                           replace(twin, state=fact.state, time=fact.time)))
    if isinstance(fact, CourseCompletion):
        return facts if facts.course_completion else replace(facts, course_completion=fact)
    if isinstance(fact, Launch):
        return replace(facts, launches=(*facts.launches, fact))
    if isinstance(fact, BadgeHeld):
        return replace(facts, badges=(*facts.badges, fact))
    assert isinstance(fact, ManualAward)
    return replace(facts, manual=(*facts.manual, fact))


@FAST
@given(rules_json(), well_typed_facts(), st.lists(any_fact(), min_size=1, max_size=3), nows)
def test_more_facts_never_undo_a_met_rule(rule, facts, extra, now) -> None:
    before = evaluate(rule, facts, now)
    for fact in extra:
        facts = _more(facts, fact)
    after = evaluate(rule, facts, now)
    if before.met:
        assert after.met


@FAST
@given(rules_json(), well_typed_facts(), st.frozensets(st.sampled_from(sorted(SOURCES))), nows)
def test_reading_more_sources_only_settles_unknowns(rule, facts, more, now) -> None:
    before = evaluate(rule, facts, now)
    after = evaluate(rule, replace(facts, sources_read=facts.sources_read | more), now)
    if before.status != "unknown":
        assert after.status == before.status
    all_read = evaluate(rule, replace(facts, sources_read=frozenset(SOURCES)), now)
    assert all_read.status != "unknown"


@FAST
@given(rules_json(), well_typed_facts(), nows)
def test_needs_sources_is_what_evaluation_reports(rule, facts, now) -> None:
    assert evaluate(rule, facts, now).needs_sources == parse(rule).needs_sources()
    assert parse(rule).needs_sources() <= SOURCES
