"""The grade rule: thresholds, item lookup, sources, windows and evidence."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from lti_badges.criteria import GradeFact, evaluate, needs_sources, parse

from .helpers import NOW, at, facts


def grade(item: str = "Quiz 2", **threshold: float) -> dict:
    return {"grade": {"item": item, **(threshold or {"min_percent": 80})}}


def quiz(score: float, maximum: float = 100, **kw: object) -> GradeFact:
    kw.setdefault("label", "Quiz 2")
    return GradeFact("https://lms.example/lineitems/2", score, maximum, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "maximum", "met"),
    [(80, 100, True), (8, 10, True), (9.5, 10, True), (79.99, 100, False), (0, 100, False)],
)
def test_min_percent_threshold(score: float, maximum: float, met: bool) -> None:
    result = evaluate(grade(), facts(grades=[quiz(score, maximum)]), NOW)
    assert result.met is met
    assert result.status == ("met" if met else "unmet")


def test_a_percentage_rounded_just_below_the_threshold_still_meets_it() -> None:
    score = 0.7 + 0.1  # 0.7999999999999999
    assert evaluate(grade(), facts(grades=[quiz(score, 1)]), NOW).met


def test_min_points_compares_the_raw_score() -> None:
    rule = grade(min_points=8)
    assert evaluate(rule, facts(grades=[quiz(8, 20)]), NOW).met
    assert not evaluate(rule, facts(grades=[quiz(7.5, 10)]), NOW).met


def test_percent_uses_the_grade_minimum_like_moodle() -> None:
    # (60 - 50) / (100 - 50) = 20 %
    result = evaluate(grade(min_percent=20), facts(grades=[quiz(60, minimum=50)]), NOW)
    assert result.met
    assert result.evidence["grade"]["percent"] == pytest.approx(20)


def test_progress_is_the_share_of_the_threshold() -> None:
    result = evaluate(grade(), facts(grades=[quiz(72)]), NOW)
    assert result.progress == pytest.approx(0.9)
    assert evaluate(grade(), facts(), NOW).progress == 0


def test_zero_threshold_is_met_by_any_grade_but_not_by_none() -> None:
    assert evaluate(grade(min_percent=0), facts(grades=[quiz(0)]), NOW).met
    assert not evaluate(grade(min_percent=0), facts(), NOW).met


def test_an_unusable_maximum_is_no_grade() -> None:
    result = evaluate(grade(), facts(grades=[quiz(5, 0)]), NOW)
    assert result.status == "unmet"
    assert result.evidence["reason"] == "no_grade"


def test_the_best_candidate_counts() -> None:
    result = evaluate(grade(), facts(grades=[quiz(50), quiz(90), quiz(70)]), NOW)
    assert result.met
    assert result.evidence["grade"]["score"] == 90


class TestItemLookup:
    def test_id_then_label_then_tag(self) -> None:
        by_id = GradeFact("Quiz 2", 10, 100)
        by_label = GradeFact("li-1", 90, 100, label="Quiz 2")
        by_tag = GradeFact("li-2", 95, 100, tag="Quiz 2")
        assert evaluate(grade(), facts(grades=[by_id, by_label, by_tag]), NOW).evidence[
            "matched_by"] == "id"
        result = evaluate(grade(), facts(grades=[by_id, by_label, by_tag]), NOW)
        assert not result.met  # the id wins even though the label and tag items are better
        result = evaluate(grade(), facts(grades=[by_label, by_tag]), NOW)
        assert result.met and result.evidence["matched_by"] == "label"
        result = evaluate(grade(), facts(grades=[by_tag]), NOW)
        assert result.met and result.evidence["matched_by"] == "tag"

    def test_matching_is_exact(self) -> None:
        result = evaluate(grade(), facts(grades=[GradeFact("x", 90, 100, label="quiz 2 ")]), NOW)
        assert result.evidence["reason"] == "no_grade"

    def test_moodle_references_match_ids_and_aliases(self) -> None:
        moodle = GradeFact("moodle:gradeitem:4", 70, 100, aliases=("moodle:cm:4",),
                           source="moodle")
        assert evaluate(grade("moodle:gradeitem:4", min_percent=70),
                        facts(grades=[moodle]), NOW).met
        assert evaluate(grade("moodle:cm:4", min_percent=70), facts(grades=[moodle]), NOW).met

    def test_ambiguous_labels_are_reported_and_the_best_counts(self) -> None:
        a = GradeFact("li-1", 50, 100, label="Quiz")
        b = GradeFact("li-2", 90, 100, label="Quiz")
        result = evaluate(grade("Quiz"), facts(grades=[a, b]), NOW)
        assert result.met
        assert result.evidence["ambiguous"] == ["li-1", "li-2"]

    def test_the_same_item_from_two_sources_is_not_ambiguous(self) -> None:
        ags = GradeFact("https://lms/li/4", 7, 10, label="Probe",
                        aliases=("moodle:gradeitem:4",))
        moodle = GradeFact("moodle:gradeitem:4", 70, 100, label="Probe", source="moodle")
        result = evaluate(grade("Probe", min_percent=70), facts(grades=[ags, moodle]), NOW)
        assert result.met and "ambiguous" not in result.evidence


class TestSources:
    def test_plain_items_need_ags_and_moodle_references_need_moodle(self) -> None:
        assert needs_sources(grade()) == {"ags"}
        assert needs_sources(grade("moodle:cm:3")) == {"moodle"}

    def test_unknown_when_nothing_found_and_the_source_was_not_read(self) -> None:
        result = evaluate(grade(), facts(sources_read=frozenset({"moodle"})), NOW)
        assert result.status == "unknown"
        assert not result.met
        assert result.evidence["reason"] == "not_read"

    def test_unmet_when_the_source_was_read(self) -> None:
        result = evaluate(grade(), facts(sources_read=frozenset({"ags"})), NOW)
        assert result.status == "unmet"

    def test_a_satisfying_fact_decides_even_if_a_source_was_not_read(self) -> None:
        result = evaluate(grade(), facts(grades=[quiz(90)], sources_read=frozenset()), NOW)
        assert result.met


class TestWindow:
    rule: ClassVar[dict] = {**grade(), "from": "2025-09-01", "until": "2025-10-31"}

    def test_inside(self) -> None:
        assert evaluate(self.rule, facts(grades=[quiz(90, time=at("2025-10-31T23:59"))]),
                        NOW).met

    def test_outside(self) -> None:
        result = evaluate(self.rule, facts(grades=[quiz(90, time=at("2025-11-01"))]), NOW)
        assert result.status == "unmet"
        assert result.evidence["reason"] == "outside_window"
        assert result.progress == 0

    def test_a_grade_without_time_does_not_count_inside_a_window(self) -> None:
        assert not evaluate(self.rule, facts(grades=[quiz(90)]), NOW).met
        assert evaluate(grade(), facts(grades=[quiz(90)]), NOW).met

    def test_an_older_good_grade_inside_and_a_newer_one_outside(self) -> None:
        grades = [quiz(90, time=at("2025-10-01")), quiz(40, time=at("2025-11-02"))]
        assert evaluate(self.rule, facts(grades=grades), NOW).met

    def test_window_state_is_reported_against_now(self) -> None:
        result = evaluate(self.rule, facts(), NOW)
        assert result.evidence["window"] == {
            "from": "2025-09-01", "until": "2025-10-31", "state": "closed"}


def test_evidence_is_plain_json() -> None:
    fact = quiz(72, time=at("2025-10-01T10:00"), source="ags")
    result = evaluate(grade(), facts(grades=[fact]), NOW)
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["evidence"] == {
        "rule": "grade",
        "item": "Quiz 2",
        "min_percent": 80,
        "matched_by": "label",
        "candidates": 1,
        "reason": "below",
        "grade": {
            "item_id": "https://lms.example/lineitems/2",
            "label": "Quiz 2",
            "score": 72.0,
            "maximum": 100.0,
            "minimum": 0.0,
            "percent": 72.0,
            "time": "2025-10-01T10:00:00+00:00",
            "time_basis": "source",
            "source": "ags",
        },
    }
    assert data["needs_sources"] == ["ags"]


def test_parse_keeps_the_rule() -> None:
    rule = parse(grade(min_points=7.5))
    assert rule.to_json() == grade(min_points=7.5)
