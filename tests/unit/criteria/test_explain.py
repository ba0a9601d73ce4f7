"""explain() and describe(): English and French, numbers and dates localised."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from lti_badges.criteria import (
    ActivityCompletion,
    BadgeHeld,
    CompletionState,
    CourseCompletion,
    GradeFact,
    Launch,
    ManualAward,
    describe,
    evaluate,
    explain,
    parse,
)

from .helpers import NOW, at, facts

NBSP = "\u00a0"
QUIZ = {"grade": {"item": "li-2", "min_percent": 80}}
NAMES = {"li-2": "Quiz 2", "b1": "Pioneer", "rl-1": "Welcome tour"}


def explained(rule: dict, f: object, lang: str = "en", **kw: object) -> str:
    parsed = parse(rule)
    return explain(parsed, evaluate(parsed, f, NOW), lang, **kw)  # type: ignore[arg-type]


def test_the_design_example_in_both_languages() -> None:
    f = facts(grades=[GradeFact("li-2", 72, 100)])
    assert explained(QUIZ, f, names=NAMES) == "Score at least 80% in Quiz 2 — you have 72%"
    assert explained(QUIZ, f, "fr", names=NAMES) == (
        f"Obtenir au moins 80{NBSP}% à Quiz 2 — vous avez 72{NBSP}%")


def test_numbers_are_localised() -> None:
    f = facts(grades=[GradeFact("li-2", 72.5, 100)])
    assert explained(QUIZ, f, names=NAMES).endswith("you have 72.5%")
    assert explained(QUIZ, f, "fr-CA", names=NAMES).endswith(f"vous avez 72,5{NBSP}%")
    points = {"grade": {"item": "li-2", "min_points": 1500}}
    f = facts(grades=[GradeFact("li-2", 1234.5, 2000)])
    assert explained(points, f) == "Score at least 1,500 points in li-2 — you have 1,234.5 points"
    assert explained(points, f, "fr") == (
        "Obtenir au moins 1\u202f500 points à li-2 — vous avez 1\u202f234,5 points")


def test_points_agree_in_number() -> None:
    one = {"grade": {"item": "q", "min_points": 1}}
    f = facts(grades=[GradeFact("q", 1.5, 2)])
    assert explained(one, f) == "Score at least 1 point in q — done, you have 1.5 points"
    assert explained(one, f, "fr") == "Obtenir au moins 1 point à q — fait, vous avez 1,5 point"


def test_the_item_label_names_the_item_when_no_name_is_given() -> None:
    f = facts(grades=[GradeFact("https://lms/li/9", 90, 100, label="Final exam")])
    rule = {"grade": {"item": "https://lms/li/9", "min_percent": 50}}
    assert explained(rule, f) == "Score at least 50% in Final exam — done, you have 90%"


def test_grade_standings() -> None:
    window = {**QUIZ, "until": "2025-10-31"}
    late = facts(grades=[GradeFact("li-2", 90, 100, at("2025-11-02"))])
    assert explained(window, late, names=NAMES) == (
        "Score at least 80% in Quiz 2 by 31 October 2025 — "
        "your grade of 90% was given outside these dates")
    assert explained(QUIZ, facts(), "fr", names=NAMES).endswith("— pas encore de note")
    assert explained(QUIZ, facts(sources_read=frozenset()), names=NAMES).endswith(
        "— not checked yet")


def test_windows_and_dates_are_localised() -> None:
    rule = {"completed": {"activity": "moodle:cm:1"}, "from": "2025-09-01",
            "until": "2025-12-31T23:59:00+01:00"}
    f = facts(completions=[ActivityCompletion("moodle:cm:1", CompletionState.COMPLETE,
                                              at("2025-10-01T09:00"), label="Essay 1")])
    assert explained(rule, f) == (
        "Complete Essay 1 between 1 September 2025 and 31 December 2025 at 23:59 (UTC+01:00)"
        " — done on 1 October 2025")
    assert explained(rule, f, "fr") == (
        "Terminer Essay 1 entre le 1er septembre 2025 et le 31 décembre 2025 à 23 h 59 "
        "(UTC+01:00) — fait le 1er octobre 2025")


def test_fact_dates_follow_the_requested_time_zone() -> None:
    rule = {"course_completed": {}}
    f = facts(course_completion=CourseCompletion(at("2025-10-01T23:30")))
    assert explained(rule, f).endswith("done on 1 October 2025")
    paris = timezone(timedelta(hours=2))
    assert explained(rule, f, "fr", tz=paris).endswith("fait le 2 octobre 2025")


def test_combinators_nest_as_bullets() -> None:
    rule = {
        "all": [QUIZ, {"at_least": 1, "of": [{"badge": "b1"}, {"manual": {}}]}],
        "from": "2025-09-01",
    }
    f = facts(grades=[GradeFact("li-2", 85, 100, at("2025-10-01"))],
              badges=[BadgeHeld("b1", at("2025-09-15"))])
    assert explained(rule, f, names=NAMES) == "\n".join([
        "All of the following on or after 1 September 2025 — 2 of 2 done:",
        "- Score at least 80% in Quiz 2 — done, you have 85%",
        "- At least 1 of the following — 1 of 2 done:",
        "  - Earn the badge Pioneer — earned on 15 September 2025",
        "  - Get a teacher’s approval — not yet",
    ])
    assert explained(rule, f, "fr", names=NAMES) == "\n".join([
        f"Toutes les conditions suivantes à partir du 1er septembre 2025 — 2 sur 2 remplies{NBSP}:",
        f"- Obtenir au moins 80{NBSP}% à Quiz 2 — fait, vous avez 85{NBSP}%",
        f"- Au moins 1 des conditions suivantes — 1 sur 2 remplie{NBSP}:",
        "  - Obtenir le badge Pioneer — obtenu le 15 septembre 2025",
        "  - Obtenir la validation d’un enseignant — pas encore",
    ])


def test_describe_is_for_teachers_without_standing() -> None:
    rule = {"any": [QUIZ, {"launched": {"resource_link": "rl-1"}}]}
    assert describe(rule, names=NAMES) == "\n".join([
        "At least one of the following:",
        "- Score at least 80% in Quiz 2",
        "- Open the activity Welcome tour",
    ])
    assert describe(rule, "fr", NAMES) == "\n".join([
        f"Au moins une des conditions suivantes{NBSP}:",
        f"- Obtenir au moins 80{NBSP}% à Quiz 2",
        "- Ouvrir l’activité Welcome tour",
    ])


EXAMPLES = [
    (QUIZ, facts(grades=[GradeFact("li-2", 50, 100)])),
    ({"grade": {"item": "li-2", "min_points": 5}}, facts()),
    ({"completed": {"activity": "Essay 1"}}, facts()),
    ({"course_completed": {}}, facts(course_completion=CourseCompletion())),
    ({"launched": {"resource_link": "rl-1"}}, facts(launches=[Launch("rl-1", at("2025-01-02"))])),
    ({"badge": "b1"}, facts(badges=[BadgeHeld("b1", expires=at("2025-01-01"))])),
    ({"manual": {}, "until": "2025-12-31"}, facts(manual=[ManualAward(time=at("2025-03-01"))])),
    ({"all": [{"manual": {}}]}, facts()),
    ({"any": [{"manual": {}}]}, facts(sources_read=frozenset())),
    ({"at_least": 1, "of": [{"manual": {}}, {"badge": "b1"}]}, facts(badges=[BadgeHeld("b1")])),
]


@pytest.mark.parametrize(("rule", "f"), EXAMPLES)
def test_every_rule_type_explains_itself_in_both_languages(rule: dict, f: object) -> None:
    en, fr = explained(rule, f), explained(rule, f, "fr")
    assert en and fr and en != fr
    assert " — " in en.splitlines()[0] and " — " in fr.splitlines()[0]
    assert describe(rule) and describe(rule, "fr") and describe(rule) != describe(rule, "fr")


def test_the_examples_cover_every_rule_type() -> None:
    from lti_badges.criteria import RULE_TYPES

    assert {next(iter(rule)) for rule, _ in EXAMPLES} == set(RULE_TYPES)


class Exploding:
    """A fact whose score raises when read: an adapter bug the engine must survive."""

    item_id = "li-2"

    @property
    def score(self) -> float:
        raise RuntimeError("boom")


def test_an_evaluation_error_is_unknown_and_explained_not_raised() -> None:
    broken = facts(grades=[Exploding()])
    result = evaluate(QUIZ, broken, NOW)
    assert result.status == "unknown"
    assert result.evidence == {"rule": "grade", "reason": "error", "error": "RuntimeError"}
    assert explained(QUIZ, broken, names=NAMES) == (
        "Score at least 80% in Quiz 2 — could not be checked")
    assert explained(QUIZ, broken, "fr", names=NAMES).endswith("— vérification impossible")
