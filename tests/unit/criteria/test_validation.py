"""validate() and parse(): every problem reported once, with a JSON path."""

from __future__ import annotations

import json

import pytest

from lti_badges.criteria import MAX_DEPTH, RuleError, parse, to_json, validate

GOOD = {"grade": {"item": "Quiz 2", "min_percent": 80}}


def messages(rule: object) -> list[str]:
    return [str(error) for error in validate(rule)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"all": [GOOD, {"grade": {"item": "Quiz 2", "min_percent": 120}}]},
         "all[1].grade.min_percent: must be a number between 0 and 100"),
        ({"grade": {"item": "Quiz 2", "min_percent": "80"}},
         "grade.min_percent: must be a number between 0 and 100"),
        ({"grade": {"item": "Quiz 2", "min_percent": True}},
         "grade.min_percent: must be a number between 0 and 100"),
        ({"grade": {"item": "Quiz 2", "min_points": -1}},
         "grade.min_points: must be a number of at least 0"),
        ({"grade": {"item": "Quiz 2"}}, "grade: needs min_percent or min_points"),
        ({"grade": {"item": "Q", "min_percent": 1, "min_points": 1}},
         "grade: give min_percent or min_points, not both"),
        ({"grade": {"min_percent": 80}}, "grade.item: is required"),
        ({"grade": {"item": "", "min_percent": 80}},
         "grade.item: must be a non-empty string naming a grade item"),
        ({"grade": {"item": "Q", "min_percent": 80, "weight": 2}},
         "grade.weight: unknown key (expected item, min_percent, min_points)"),
        ({"grade": {"item": "moodle:quiz:3", "min_percent": 80}},
         "grade.item: a Moodle grade item is written moodle:cm:<cmid> or moodle:gradeitem:<id>"),
        ({"completed": {"activity": "moodle:gradeitem:3"}},
         "completed.activity: a Moodle activity is written moodle:cm:<cmid>"),
        ({"course_completed": {"when": 1}},
         "course_completed.when: unknown key (expected no keys)"),
        ({"manual": []}, "manual: must be an empty object {}"),
        ({"launched": {}}, "launched.resource_link: is required"),
        ({"badge": ""}, "badge: must be a badge id (a non-empty string or a whole number)"),
        ({"badge": 1.5}, "badge: must be a badge id (a non-empty string or a whole number)"),
        ({"grades": {}}, "grades: unknown rule type (expected one of: all, any, at_least, "
                         "badge, completed, course_completed, grade, launched, manual)"),
        ({}, "(rule): has no rule type (expected one of: all, any, at_least, badge, "
             "completed, course_completed, grade, launched, manual)"),
        ([GOOD], '(rule): must be a rule object, e.g. {"grade": {...}}'),
        ({"all": [GOOD], "any": [GOOD]},
         "(rule): has several rule types (all, any); put each in its own object"),
        ({"all": [GOOD], "of": [GOOD]}, "of: unknown key for a all rule"),
        ({"all": []}, "all: must list at least one rule"),
        ({"any": GOOD}, "any: must be a list of rules"),
        ({"at_least": 3, "of": [GOOD, GOOD]}, 'at_least: asks for 3 rules but "of" lists only 2'),
        ({"at_least": 0, "of": [GOOD]}, "at_least: must be a whole number of at least 1"),
        ({"at_least": 1}, "of: is required: the list of rules to count"),
        ({**GOOD, "from": "2025-02-30"},
         "from: is not a real date or time (check the day, month and hour)"),
        ({**GOOD, "until": "next week"},
         "until: must be an ISO 8601 date (2025-09-01) or date-time with offset "
         "(2025-09-01T08:00:00+02:00)"),
        ({**GOOD, "from": "2025-09-01T08:00:00"},
         "from: must be an ISO 8601 date (2025-09-01) or date-time with offset "
         "(2025-09-01T08:00:00+02:00)"),
        ({**GOOD, "from": "2025-09-02", "until": "2025-09-01"}, "until: is before from"),
        ({"all": [{"any": [{**GOOD, "from": "2025-09-01T10:00Z",
                            "until": "2025-09-01T09:59+00:00"}]}]},
         "all[0].any[0].until: is before from"),
    ],
)
def test_error_messages(rule: object, expected: str) -> None:
    assert messages(rule) == [expected]


def test_every_error_is_reported_in_one_pass() -> None:
    rule = {"all": [{"grade": {"item": 3, "min_percent": 101}}, {"nope": 1},
                    {"at_least": 2, "of": [{"manual": {"x": 1}}]}]}
    assert messages(rule) == [
        "all[0].grade.item: must be a non-empty string naming a grade item",
        "all[0].grade.min_percent: must be a number between 0 and 100",
        "all[1].nope: unknown rule type (expected one of: all, any, at_least, badge, "
        "completed, course_completed, grade, launched, manual)",
        "all[2].of[0].manual.x: unknown key (expected no keys)",
    ]


def test_same_day_and_same_instant_windows_are_valid() -> None:
    assert validate({**GOOD, "from": "2025-09-01", "until": "2025-09-01"}) == []
    assert validate({**GOOD, "from": "2025-09-01T10:00Z", "until": "2025-09-01T12:00+02:00"}) == []


def _nested(depth: int) -> dict:
    rule: dict = GOOD
    for _ in range(depth - 1):
        rule = {"all": [rule]}
    return rule


def test_nesting_depth() -> None:
    assert validate(_nested(MAX_DEPTH)) == []
    errors = validate(_nested(MAX_DEPTH + 1))
    assert [e.code for e in errors] == ["depth"]
    assert errors[0].path == ".".join(["all[0]"] * MAX_DEPTH)
    # Absurd depths are refused without recursing through them.
    assert [e.code for e in validate(_nested(5000))] == ["depth"]
    assert [e.code for e in validate('{"all": [' * 100000 + "]}" * 100000)] == ["depth"]


def test_json_text_is_accepted_and_checked() -> None:
    assert validate(json.dumps(GOOD)) == []
    assert validate(json.dumps(GOOD).encode()) == []
    assert validate("{") [0].message.startswith("is not valid JSON")
    duplicate = '{"grade": {"item": "a", "item": "b", "min_percent": 1}}'
    assert "duplicate key 'item'" in validate(duplicate)[0].message
    nan = '{"grade": {"item": "a", "min_percent": NaN}}'
    assert messages(nan) == ["grade.min_percent: must be a number between 0 and 100"]


def test_parse_raises_with_all_errors() -> None:
    with pytest.raises(RuleError) as caught:
        parse({"all": [{"manual": 1}, {"badge": None}]})
    assert [e.path for e in caught.value.errors] == ["all[0].manual", "all[1].badge"]
    assert isinstance(caught.value, ValueError)
    assert caught.value.errors[0].to_json() == {
        "path": "all[0].manual", "message": "must be an empty object {}", "code": "type"}


def test_round_trip_keeps_the_text() -> None:
    rule = {
        "at_least": 2,
        "of": [
            {"grade": {"item": "moodle:gradeitem:5", "min_points": 7.5}, "until": "2025-12-31"},
            {"completed": {"activity": "Essay 1"}, "from": "2025-09-01T08:00:00+02:00"},
            {"course_completed": {}},
            {"launched": {"resource_link": "rl-1"}},
            {"badge": 12},
            {"manual": {}},
            {"any": [{"badge": "b1"}]},
        ],
        "from": "2025-09-01",
    }
    assert to_json(parse(rule)) == rule
    assert parse(to_json(parse(rule))) == parse(rule)
    assert parse(json.dumps(rule)) == parse(rule)


def test_integral_floats_count_as_integers_like_in_json_schema() -> None:
    assert to_json(parse({"at_least": 1.0, "of": [GOOD]})) == {"at_least": 1, "of": [GOOD]}
    assert to_json(parse({"badge": 7.0})) == {"badge": 7}
