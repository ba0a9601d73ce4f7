"""CourseFacts: completeness, the roster's learners and leavers, merging two sources."""

from __future__ import annotations

from lti_badges.criteria.facts import AGS, MOODLE, ActivityCompletion, CompletionState, Facts, GradeFact
from lti_badges.sources.base import CourseFacts, ItemSeen, Member, build_course_facts

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _lti() -> CourseFacts:
    roster = [Member("4", name="Sam", roles=("Learner",), source="nrps"),
              Member("5", roles=(LEARNER,), status="Inactive", source="nrps"),
              Member("3", name="Terry", roles=("Instructor",), source="nrps")]
    grade = GradeFact("http://lms/li/1", 7, 10)
    return build_course_facts("lti", roster=roster, facts={"4": Facts(grades=(grade,))},
                              sources_read={AGS}, items=[ItemSeen("http://lms/li/1")])


def _moodle(errors=()) -> CourseFacts:
    roster = [Member("4", name="Sam Student", email="s1@x.test", roles=(LEARNER,), source=MOODLE),
              Member("5", roles=(LEARNER,), source=MOODLE),
              Member("9", roles=(LEARNER,), source=MOODLE)]
    done = ActivityCompletion("moodle:cm:1", CompletionState.COMPLETE)
    return build_course_facts(MOODLE, roster=roster, facts={"4": Facts(completions=(done,))},
                              sources_read=() if errors else {MOODLE}, errors=errors)


def test_learners_and_leavers():
    facts = _lti()
    assert facts.complete and facts.reason is None
    assert [m.user_id for m in facts.learners] == ["4"]  # short and full role names both count
    assert [m.user_id for m in facts.left] == ["5"]
    assert not facts.member("3").awardable


def test_every_roster_member_gets_stamped_facts():
    facts = _lti()
    assert facts.facts_for("3").sources_read == {AGS}
    assert facts.facts_for("unknown").sources_read == {AGS}
    assert facts.facts_for("4").grades[0].score == 7


def test_no_roster_is_incomplete():
    facts = build_course_facts("lti", roster=None, facts={}, sources_read={AGS})
    assert not facts.complete and "roster was not read" in facts.reason


def test_errors_make_it_incomplete_with_the_reason():
    facts = _moodle(errors=["Moodle said no."])
    assert not facts.complete and facts.reason == "Moodle said no."
    assert facts.facts_for("4").sources_read == frozenset()


def test_merge_keeps_the_nrps_roster_and_combines_facts():
    merged = _lti().merge(_moodle())
    assert merged.complete and merged.sources_read == {AGS, MOODLE}
    # NRPS's roster is authoritative (status), Moodle only fills in missing fields.
    assert [m.user_id for m in merged.roster] == ["4", "5", "3"]
    assert merged.member("4").name == "Sam" and merged.member("4").email == "s1@x.test"
    assert merged.member("5").status == "Inactive"
    sam = merged.facts_for("4")
    assert len(sam.grades) == 1 and len(sam.completions) == 1
    assert sam.sources_read == {AGS, MOODLE}
    assert len(merged.items) == 1
    # Either order: the result that read a roster wins over one that did not.
    no_roster = build_course_facts("lti", roster=None, facts={}, sources_read={AGS})
    assert [m.user_id for m in no_roster.merge(_moodle()).roster] == ["4", "5", "9"]
    assert no_roster.merge(_moodle()).complete


def test_merge_with_a_failed_source_is_incomplete():
    merged = _lti().merge(_moodle(errors=["completion not read"]))
    assert not merged.complete and merged.sources_read == {AGS}
    assert "completion not read" in merged.reason
