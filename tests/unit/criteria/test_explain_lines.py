"""explain_lines: the explanation as data (depth, text, status); explain() is its bullets."""

from __future__ import annotations

from datetime import UTC, datetime

from lti_badges import criteria
from lti_badges.criteria import GradeFact

RULE = {"all": [{"grade": {"item": "Quiz 1", "min_percent": 80}},
                {"any": [{"badge": "b1"}, {"grade": {"item": "Quiz 2", "min_percent": 50}}]}]}


def test_lines_are_the_tree_in_pre_order_with_statuses():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    facts = criteria.Facts(grades=(GradeFact(item_id="Quiz 1", score=9, maximum=10),),
                           sources_read=frozenset(criteria.SOURCES))
    result = criteria.evaluate(RULE, facts, now)
    lines = criteria.explain_lines(RULE, result, "fr")
    assert [ln.depth for ln in lines] == [0, 1, 1, 2, 2]
    assert lines[1].status == "met" and "90" in lines[1].text
    assert lines[0].status == result.status
    bullets = criteria.explain(RULE, result, "fr").split("\n")
    assert len(bullets) == 5 and bullets[1] == "- " + lines[1].text
    assert bullets[3] == "  - " + lines[3].text


def test_without_a_result_the_lines_describe_the_rule():
    lines = criteria.explain_lines(RULE, None, "en", {"b1": "Fundamentals"})
    assert all(ln.status is None for ln in lines)
    assert any("Fundamentals" in ln.text for ln in lines)
    assert criteria.describe(RULE, "en", {"b1": "Fundamentals"}).count("\n") == len(lines) - 1
