"""The rules decided by one fact: completed, course_completed, launched, badge, manual."""

from __future__ import annotations

from typing import ClassVar

import pytest

from lti_badges.criteria import (
    ActivityCompletion,
    BadgeHeld,
    CompletionState,
    CourseCompletion,
    Launch,
    ManualAward,
    evaluate,
    needs_sources,
)

from .helpers import NOW, at, facts

NOTHING_READ = frozenset()


class TestCompleted:
    rule: ClassVar[dict] = {"completed": {"activity": "moodle:cm:1"}}

    @pytest.mark.parametrize(
        ("state", "met"),
        [
            (CompletionState.COMPLETE, True),
            (CompletionState.COMPLETE_PASS, True),
            (CompletionState.COMPLETE_FAIL, False),
            (CompletionState.INCOMPLETE, False),
        ],
    )
    def test_states(self, state: CompletionState, met: bool) -> None:
        done = ActivityCompletion("moodle:cm:1", state, at("2025-10-01"))
        assert evaluate(self.rule, facts(completions=[done]), NOW).met is met

    def test_moodle_states_map_from_numbers(self) -> None:
        assert [CompletionState.from_moodle(n) for n in range(4)] == list(CompletionState)
        assert CompletionState.from_moodle(99) is CompletionState.INCOMPLETE

    def test_a_failed_completion_says_so(self) -> None:
        fail = ActivityCompletion("moodle:cm:1", CompletionState.COMPLETE_FAIL)
        assert evaluate(self.rule, facts(completions=[fail]), NOW).evidence["reason"] == "failed"

    def test_by_name_and_idnumber(self) -> None:
        done = ActivityCompletion("moodle:cm:1", CompletionState.COMPLETE, label="Essay 1",
                                  tag="ESSAY1")
        assert evaluate({"completed": {"activity": "Essay 1"}}, facts(completions=[done]), NOW).met
        assert evaluate({"completed": {"activity": "ESSAY1"}}, facts(completions=[done]), NOW).met

    def test_needs_moodle(self) -> None:
        assert needs_sources(self.rule) == {"moodle"}
        assert evaluate(self.rule, facts(sources_read=NOTHING_READ), NOW).status == "unknown"
        assert evaluate(self.rule, facts(), NOW).status == "unmet"

    def test_window(self) -> None:
        rule = {**self.rule, "until": "2025-09-30"}
        late = ActivityCompletion("moodle:cm:1", CompletionState.COMPLETE, at("2025-10-01"))
        result = evaluate(rule, facts(completions=[late]), NOW)
        assert not result.met and result.evidence["reason"] == "outside_window"


class TestCourseCompleted:
    rule: ClassVar[dict] = {"course_completed": {}}

    def test_met_only_with_the_fact(self) -> None:
        assert evaluate(self.rule, facts(course_completion=CourseCompletion()), NOW).met
        assert evaluate(self.rule, facts(), NOW).status == "unmet"
        assert evaluate(self.rule, facts(sources_read=NOTHING_READ), NOW).status == "unknown"

    def test_window(self) -> None:
        rule = {**self.rule, "from": "2025-10-01T00:00:00+02:00"}
        early = CourseCompletion(at("2025-09-30T21:59:59"))
        on_time = CourseCompletion(at("2025-09-30T22:00:00"))
        assert not evaluate(rule, facts(course_completion=early), NOW).met
        assert evaluate(rule, facts(course_completion=on_time), NOW).met


class TestLaunched:
    rule: ClassVar[dict] = {"launched": {"resource_link": "rl-1"}}

    def test_exact_resource_link(self) -> None:
        assert evaluate(self.rule, facts(launches=[Launch("rl-1")]), NOW).met
        assert not evaluate(self.rule, facts(launches=[Launch("RL-1")]), NOW).met

    def test_first_launch_inside_the_window_is_the_evidence(self) -> None:
        rule = {**self.rule, "from": "2025-10-01"}
        launches = [Launch("rl-1", at("2025-09-01")), Launch("rl-1", at("2025-10-05")),
                    Launch("rl-1", at("2025-10-02"))]
        result = evaluate(rule, facts(launches=launches), NOW)
        assert result.met
        assert result.evidence["launches"] == 2
        assert result.evidence["time"] == "2025-10-02T00:00:00+00:00"

    def test_needs_launches(self) -> None:
        assert needs_sources(self.rule) == {"launches"}
        assert evaluate(self.rule, facts(sources_read=NOTHING_READ), NOW).status == "unknown"


class TestBadge:
    def test_held(self) -> None:
        assert evaluate({"badge": "b1"}, facts(badges=[BadgeHeld("b1")]), NOW).met
        assert not evaluate({"badge": "b1"}, facts(badges=[BadgeHeld("b2")]), NOW).met

    def test_numeric_ids_compare_as_text(self) -> None:
        assert evaluate({"badge": 7}, facts(badges=[BadgeHeld("7")]), NOW).met

    def test_an_expired_badge_is_not_held(self) -> None:
        old = BadgeHeld("b1", at("2024-01-01"), expires=at("2025-01-01"))
        result = evaluate({"badge": "b1"}, facts(badges=[old]), NOW)
        assert not result.met and result.evidence["reason"] == "expired"
        fresh = BadgeHeld("b1", at("2025-01-01"), expires=at("2026-01-01"))
        assert evaluate({"badge": "b1"}, facts(badges=[fresh]), NOW).met

    def test_window_applies_to_the_award_date(self) -> None:
        rule = {"badge": "b1", "from": "2025-09-01"}
        assert not evaluate(rule, facts(badges=[BadgeHeld("b1", at("2025-08-01"))]), NOW).met
        assert evaluate(rule, facts(badges=[BadgeHeld("b1", at("2025-09-01"))]), NOW).met

    def test_needs_badges(self) -> None:
        assert needs_sources({"badge": "b1"}) == {"badges"}


class TestManual:
    rule: ClassVar[dict] = {"manual": {}}

    def test_met_only_with_a_sign_off(self) -> None:
        assert not evaluate(self.rule, facts(), NOW).met
        assert evaluate(self.rule, facts(manual=[ManualAward()]), NOW).met

    def test_only_sign_offs_for_the_badge_being_evaluated(self) -> None:
        other = facts(manual=[ManualAward(badge_id="b2")])
        assert not evaluate(self.rule, other, NOW, badge_id="b1").met
        mine = facts(manual=[ManualAward(badge_id="b1", awarded_by="teacher1")])
        result = evaluate(self.rule, mine, NOW, badge_id="b1")
        assert result.met and result.evidence["awarded_by"] == "teacher1"

    def test_needs_manual(self) -> None:
        assert needs_sources(self.rule) == {"manual"}
        assert evaluate(self.rule, facts(sources_read=NOTHING_READ), NOW).status == "unknown"
