"""all / any / at_least: three-valued logic, progress, nesting and windows."""

from __future__ import annotations

import pytest

from lti_badges.criteria import BadgeHeld, GradeFact, evaluate, needs_sources

from .helpers import NOW, at, facts

MET = {"badge": "held"}
UNMET = {"badge": "missing"}  # "badges" is read, so this one is decided
UNKNOWN = {"launched": {"resource_link": "rl"}}  # "launches" is not read
FACTS = facts(badges=[BadgeHeld("held")], sources_read=frozenset({"badges", "ags", "moodle"}))


def status(rule: dict) -> str:
    return evaluate(rule, FACTS, NOW).status


@pytest.mark.parametrize(
    ("children", "expected_all", "expected_any"),
    [
        ([MET, MET], "met", "met"),
        ([MET, UNMET], "unmet", "met"),
        ([UNMET, UNMET], "unmet", "unmet"),
        ([MET, UNKNOWN], "unknown", "met"),
        ([UNMET, UNKNOWN], "unmet", "unknown"),
        ([UNKNOWN, UNKNOWN], "unknown", "unknown"),
    ],
)
def test_kleene_logic(children: list, expected_all: str, expected_any: str) -> None:
    assert status({"all": children}) == expected_all
    assert status({"any": children}) == expected_any


@pytest.mark.parametrize(
    ("n", "children", "expected"),
    [
        (2, [MET, MET, UNMET], "met"),
        (2, [MET, UNMET, UNMET], "unmet"),
        (2, [MET, UNKNOWN, UNMET], "unknown"),
        (3, [MET, UNKNOWN, UNKNOWN], "unknown"),
        (1, [UNMET, UNMET, MET], "met"),
    ],
)
def test_at_least(n: int, children: list, expected: str) -> None:
    assert status({"at_least": n, "of": children}) == expected


def test_progress_aggregates() -> None:
    grades = [GradeFact("a", 40, 100), GradeFact("b", 20, 100), GradeFact("c", 80, 100)]
    kids = [{"grade": {"item": i, "min_percent": 80}} for i in "abc"]  # 0.5, 0.25, 1.0
    f = facts(grades=grades)
    assert evaluate({"all": kids}, f, NOW).progress == pytest.approx((0.5 + 0.25 + 1) / 3)
    assert evaluate({"any": kids}, f, NOW).progress == 1
    assert evaluate({"at_least": 2, "of": kids}, f, NOW).progress == pytest.approx(0.75)


def test_children_results_and_evidence() -> None:
    result = evaluate({"at_least": 1, "of": [UNMET, MET]}, FACTS, NOW)
    assert [child.status for child in result.children] == ["unmet", "met"]
    assert result.evidence == {"rule": "at_least", "need": 1, "met": 1, "unknown": 0, "of": 2}
    assert result.needs_sources == {"badges"}


def test_needs_sources_is_the_union_of_the_children() -> None:
    rule = {"any": [{"grade": {"item": "moodle:cm:3", "min_points": 1}},
                    {"all": [UNKNOWN, {"manual": {}}]}]}
    assert needs_sources(rule) == {"moodle", "launches", "manual"}


def test_an_outer_window_applies_to_every_fact_beneath() -> None:
    rule = {"all": [{"badge": "b1"}, {"badge": "b2", "until": "2025-06-30"}],
            "from": "2025-06-01"}
    inside = facts(badges=[BadgeHeld("b1", at("2025-06-02")), BadgeHeld("b2", at("2025-06-30"))])
    assert evaluate(rule, inside, NOW).met
    too_early = facts(badges=[BadgeHeld("b1", at("2025-05-31")), BadgeHeld("b2", at("2025-06-10"))])
    assert not evaluate(rule, too_early, NOW).met
    too_late = facts(badges=[BadgeHeld("b1", at("2025-06-02")), BadgeHeld("b2", at("2025-07-01"))])
    assert not evaluate(rule, too_late, NOW).met
    child = evaluate(rule, too_early, NOW).children[1]
    assert child.evidence["window"]["from"] == "2025-06-01"
    assert child.evidence["window"]["until"] == "2025-06-30"


def test_an_inner_window_cannot_widen_the_outer_one() -> None:
    rule = {"all": [{"badge": "b1", "from": "2025-01-01"}], "from": "2025-06-01"}
    assert not evaluate(rule, facts(badges=[BadgeHeld("b1", at("2025-03-01"))]), NOW).met
