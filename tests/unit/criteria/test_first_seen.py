"""A fact whose time is only when the tool first saw it (``time_basis="first_seen"``): it
counts inside a window like any time, and no explanation presents it as the LMS's date."""

from __future__ import annotations

from lti_badges.criteria import ActivityCompletion, CompletionState, GradeFact, evaluate, parse
from lti_badges.criteria import explain as explain_rule
from lti_badges.criteria.facts import FIRST_SEEN

from .helpers import NOW, at, facts

WINDOW = {"from": "2025-11-01", "until": "2025-11-30"}
QUIZ = {"grade": {"item": "li-2", "min_percent": 80}}


def explained(rule: dict, f: object, lang: str = "en") -> tuple[bool, str]:
    parsed = parse(rule)
    result = evaluate(parsed, f, NOW)  # type: ignore[arg-type]
    return result.met, explain_rule(parsed, result, lang)


def test_a_grade_first_seen_inside_the_window_is_met_and_says_first_seen() -> None:
    grade = GradeFact("li-2", 90, 100, time=at("2025-11-10"), time_basis=FIRST_SEEN)
    met, text = explained({**QUIZ, **WINDOW}, facts(grades=[grade]))
    assert met and text.endswith("done, you have 90% (first seen by the tool on 10 November "
                                 "2025)")
    met, text = explained({**QUIZ, **WINDOW}, facts(grades=[grade]), "fr")
    assert met and "(note vue pour la première fois par l’outil le 10 novembre 2025)" in text


def test_a_grade_first_seen_outside_the_window_never_says_given() -> None:
    grade = GradeFact("li-2", 90, 100, time=at("2025-10-20"), time_basis=FIRST_SEEN)
    met, text = explained({**QUIZ, **WINDOW}, facts(grades=[grade]))
    assert not met and "given" not in text
    assert text.endswith("your grade of 90% was first seen by the tool on 20 October 2025, "
                         "outside these dates")


def test_a_grade_dated_by_its_source_keeps_the_old_wording() -> None:
    grade = GradeFact("li-2", 90, 100, time=at("2025-10-20"))
    _met, text = explained({**QUIZ, **WINDOW}, facts(grades=[grade]))
    assert text.endswith("your grade of 90% was given outside these dates")
    _met, text = explained(QUIZ, facts(grades=[GradeFact("li-2", 90, 100, time=at("2025-11-10"),
                                                         time_basis=FIRST_SEEN)]))
    assert "first seen" not in text  # no window: the date does not matter, none is shown


def test_a_completion_first_seen_says_so_instead_of_done_on() -> None:
    rule = {"completed": {"activity": "moodle:cm:4"}, **WINDOW}
    done = ActivityCompletion("moodle:cm:4", CompletionState.COMPLETE, time=at("2025-11-03"),
                              time_basis=FIRST_SEEN)
    met, text = explained(rule, facts(completions=[done]))
    assert met and text.endswith("done (first seen by the tool on 3 November 2025)")
    late = ActivityCompletion("moodle:cm:4", CompletionState.COMPLETE, time=at("2025-12-03"),
                              time_basis=FIRST_SEEN)
    met, text = explained(rule, facts(completions=[late]), "fr")
    assert not met and text.endswith(
        "fait, mais vu pour la première fois par l’outil le 3 décembre 2025, hors de ces dates")
    dated = ActivityCompletion("moodle:cm:4", CompletionState.COMPLETE, time=at("2025-11-03"))
    assert explained(rule, facts(completions=[dated]))[1].endswith("done on 3 November 2025")
