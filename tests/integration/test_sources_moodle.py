"""The Moodle Web Services connector against the recorded Moodle 5.0 answers, over loopback HTTP.

Every answer comes from ../shared/moodle/webservices (chosen by ``wsfunction`` and
``userid``, see tests/unit/sources/replay.py); the expected facts are the fixture's
(README "Fixture ids"): student1 (id 4) has Essay 1 85/100, Final project 92/100, the
LTI activity 70/100 and the course complete; student2 (id 5) has Essay 1 40/100, which
Moodle marks complete-fail, and no course completion.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lti_badges.criteria.facts import MOODLE, CompletionState
from lti_badges.net import NetPolicy
from lti_badges.sources import Retry
from lti_badges.sources.moodle import MoodleClient, MoodleError
from tests.support.moodle import recorded
from tests.unit.sources.replay import BAD_TOKEN, WS_TOKEN, MoodleWsReplay

POLICY = NetPolicy(allow_insecure=True, timeout=5)


def connector(replay: MoodleWsReplay, token: str = WS_TOKEN, **kwargs) -> MoodleClient:
    kwargs.setdefault("retry", Retry(sleep=lambda s: None))
    return MoodleClient(replay.site_url, token, POLICY, **kwargs)


@pytest.fixture
def moodle():
    with MoodleWsReplay() as replay:
        yield replay


def _grades(facts, uid):
    return {g.label: g for g in facts.facts_for(uid).grades}


def _completions(facts, uid):
    return {c.label: c for c in facts.facts_for(uid).completions}


# ---------------------------------------------------------------------- the happy path
def test_read_course_gives_the_recorded_facts(moodle):
    progress: list[tuple[int, int]] = []
    facts = connector(moodle).read_course(2, progress=lambda d, t: progress.append((d, t)))

    assert facts.complete, facts.reason
    assert facts.sources_read == {MOODLE}
    assert facts.errors == ()

    # Roster: the teacher is listed but not awardable; both students are learners.
    assert {m.user_id for m in facts.roster} == {"3", "4", "5"}
    assert {m.user_id for m in facts.learners} == {"4", "5"}
    student1 = facts.member("4")
    assert (student1.name, student1.email) == ("Sam Student", "student1@example.invalid")
    assert facts.left == ()

    # student1: grades, keyed by the LTI sub (== Moodle user id).
    g1 = _grades(facts, "4")
    essay = g1["Essay 1"]
    assert (essay.item_id, essay.score, essay.maximum, essay.minimum) == (
        "moodle:gradeitem:2", 85, 100, 0)
    assert essay.aliases == ("moodle:cm:1",) and essay.source == MOODLE
    assert essay.time == datetime.fromtimestamp(1795327550, UTC)
    assert (g1["Final project"].score, g1["Final project"].item_id) == (92, "moodle:gradeitem:3")
    # The LTI activity's AGS score (7/10) was rescaled to the grade item's maximum.
    assert (g1["Badge Probe activity"].score, g1["Badge Probe activity"].maximum) == (70, 100)
    assert g1["Badge Probe activity"].aliases == ("moodle:cm:4",)
    total = g1["Course total"]
    assert (total.item_id, total.score, total.maximum) == ("moodle:gradeitem:1", 248, 301)
    assert total.aliases == ("moodle:course-total",)
    # The tool-created line item is a manual grade item (no cmid, no alias).
    created = g1["Badge: Open Badges Pilot completed"]
    assert (created.score, created.maximum, created.aliases) == (1, 1, ())

    # student1: completion (Welcome ticked by hand, Essay 1 passed, the rest complete).
    c1 = _completions(facts, "4")
    assert c1["Essay 1"].state is CompletionState.COMPLETE_PASS
    assert c1["Essay 1"].activity_id == "moodle:cm:1"
    assert c1["Essay 1"].aliases == ("moodle:assign:1",)
    assert c1["Final project"].state is CompletionState.COMPLETE
    assert c1["Welcome"].state is CompletionState.COMPLETE
    assert c1["Badge Probe activity"].time == datetime.fromtimestamp(1795328499, UTC)
    course = facts.facts_for("4").course_completion
    assert course is not None and course.time == datetime.fromtimestamp(1795327550, UTC)

    # student2: Essay 1 40 → complete-fail (not "done"); no final project grade; not complete.
    g2 = _grades(facts, "5")
    assert g2["Essay 1"].score == 40 and "Final project" not in g2
    assert (g2["Course total"].score, g2["Course total"].maximum) == (40, 101)
    c2 = _completions(facts, "5")
    assert c2["Essay 1"].state is CompletionState.COMPLETE_FAIL and not c2["Essay 1"].state.done
    assert c2["Final project"].state is CompletionState.INCOMPLETE
    assert c2["Final project"].time is None
    assert facts.facts_for("5").course_completion is None
    assert facts.facts_for("5").sources_read == {MOODLE}

    # The teacher is not a learner: no per-user completion calls for them.
    users_asked = {f["userid"] for f in moodle.calls("core_completion_get_course_completion_status")}
    assert users_asked == {"4", "5"}
    assert progress[0] == (0, 2) and progress[-1] == (2, 2)

    # Items for the criteria builder: grade items and activities, with their ids.
    items = {i.item_id: i for i in facts.items}
    assert items["moodle:gradeitem:2"].label == "Essay 1"
    assert items["moodle:gradeitem:2"].score_maximum == 100
    assert items["moodle:gradeitem:1"].score_maximum is None  # differs per learner
    assert items["moodle:cm:3"].label == "Welcome" and items["moodle:cm:3"].kind == "activity"
    assert items["moodle:cm:4"].aliases == ("moodle:lti:1",)


def test_grade_report_is_read_per_learner(moodle):
    """The whole-course report (no userid) answered 500 learners in one 14 MB, 75 s piece
    and timed out; per learner, each answer is small and they run on the pool."""
    connector(moodle).read_course(2)
    calls = moodle.calls("gradereport_user_get_grade_items")
    assert sorted(c.get("userid") for c in calls) == ["4", "5"]


def test_requests_match_what_moodle_accepted(moodle):
    """Each form the connector sends equals the recorded request Moodle answered."""
    conn = connector(moodle)
    conn.site_info()
    conn.course_by_shortname("OBP101")
    conn.activities(2)
    conn.enrolled_users(2)
    conn.grade_report(2)
    conn.activities_completion(2, 4)
    conn.course_completion(2, 5)
    conn.call("mod_assign_get_grades", assignmentids=[1, 2])
    sent = moodle.calls()
    expected = [recorded(f"webservices/{name}.json")["request"]["body_form"] for name in (
        "core_webservice_get_site_info", "core_course_get_courses_by_field-shortname",
        "core_course_get_contents", "core_enrol_get_enrolled_users",
        "gradereport_user_get_grade_items-all-users",
        "core_completion_get_activities_completion_status-student1",
        "core_completion_get_course_completion_status-student2", "mod_assign_get_grades")]
    assert sent == expected
    assert {r["content_type"] for r in moodle.requests} == {"application/x-www-form-urlencoded"}


def test_test_connection_and_course_lookup(moodle):
    conn = connector(moodle)
    check = conn.test_connection()
    assert check.ok and check.username == "badgeconnector" and check.user_id == 6
    assert check.release.startswith("5.0.6") and "LTI Harness Moodle" in check.message
    # The LTI context id is the Moodle course id; the label is its short name.
    assert conn.find_course("2")["shortname"] == "OBP101"
    assert conn.find_course("no-such-id", "OBP101")["id"] == 2
    with pytest.raises(MoodleError, match="No Moodle course"):
        conn.find_course("99")


def test_test_connection_names_missing_functions():
    info = recorded("webservices/core_webservice_get_site_info.json")["response"]["body_json"]
    info = {**info, "functions": [f for f in info["functions"]
                                  if f["name"] != "core_completion_get_course_completion_status"]}
    with MoodleWsReplay(overrides={"core_webservice_get_site_info": info}) as replay:
        check = connector(replay).test_connection()
    assert not check.ok
    assert check.missing_functions == ("core_completion_get_course_completion_status",)
    assert "External services > Functions" in check.message


def test_the_token_never_appears_in_errors_or_repr(moodle):
    conn = connector(moodle, token=BAD_TOKEN)
    with pytest.raises(MoodleError) as err:
        conn.site_info()
    assert BAD_TOKEN not in str(err.value) and BAD_TOKEN not in repr(conn)


# ---------------------------------------------------------------------- recorded errors
def test_invalid_token(moodle):
    with pytest.raises(MoodleError) as err:
        connector(moodle, token=BAD_TOKEN).site_info()
    assert err.value.errorcode == "invalidtoken"
    assert "Manage tokens" in str(err.value) and "LTI badge connector" in str(err.value)


def test_web_services_disabled_is_a_bare_403():
    with MoodleWsReplay(disabled=True) as replay:
        with pytest.raises(MoodleError) as err:
            connector(replay).site_info()
    assert err.value.http_status == 403
    assert "Enable web services" in str(err.value) and "REST protocol" in str(err.value)


def test_function_not_in_service(moodle):
    with pytest.raises(MoodleError) as err:
        connector(moodle).call("core_user_get_users_by_field", field="id", values=[4])
    assert err.value.errorcode == "accessexception" and err.value.capability is None
    message = str(err.value)
    assert "Add the function core_user_get_users_by_field" in message
    assert "External services > Functions" in message
    assert moodle.calls()[-1]["values[0]"] == "4"  # array parameters as name[0]


def test_missing_parameter(moodle):
    with pytest.raises(MoodleError) as err:
        connector(moodle).call("core_course_get_contents")
    assert err.value.errorcode == "invalidparameter"
    assert "Missing required key in single structure: courseid" in str(err.value)


def test_invalid_parameter_value(moodle):
    with pytest.raises(MoodleError, match="Invalid field name") as err:
        connector(moodle).call("core_course_get_courses_by_field", field="nosuchfield", value="x")
    assert err.value.errorcode == "invalidparameter"


def test_function_that_does_not_exist_in_moodle_5(moodle):
    with pytest.raises(MoodleError, match="no web-service function core_grades_get_grades"):
        connector(moodle).call("core_grades_get_grades", courseid=2)


def test_missing_capability_report_completion_view_makes_the_read_incomplete():
    overrides = {"core_completion_get_course_completion_status":
                 "ws-error-missing-capability-report-completion-view"}
    with MoodleWsReplay(overrides=overrides) as replay:
        conn = connector(replay)
        with pytest.raises(MoodleError) as err:
            conn.course_completion(2, 4)
        assert err.value.capability == "report/completion:view"
        assert "Define roles" in str(err.value)
        facts = conn.read_course(2)
    assert not facts.complete and MOODLE not in facts.sources_read
    assert "report/completion:view" in facts.reason
    assert facts.facts_for("4").course_completion is None
    # What was read is kept (progress pages) but the source is not marked as read.
    assert _grades(facts, "4")["Essay 1"].score == 85
    assert facts.facts_for("4").sources_read == frozenset()


def test_capability_errors_from_the_capability_matrix_name_the_capability():
    matrix = recorded("webservices/capability-matrix.json")["without_capability"]
    cases = [
        ("moodle/course:viewparticipants", "core_enrol_get_enrolled_users"),
        ("gradereport/user:view", "gradereport_user_get_grade_items-all-users"),
        ("moodle/grade:viewall", "gradereport_user_get_grade_items-all-users"),
        ("report/progress:view", "core_completion_get_activities_completion_status-student1"),
        ("moodle/course:view", "core_course_get_contents"),
        ("webservice/rest:use", "core_enrol_get_enrolled_users"),
    ]
    with MoodleWsReplay() as replay:
        for capability, call in cases:
            replay.overrides = {call.split("-")[0]: matrix[capability][call]}
            facts = connector(replay).read_course(2)
            assert not facts.complete, capability
            assert capability in facts.reason, (capability, facts.reason)


def test_silently_hidden_activities_are_caught():
    """Without mod/assign:view Moodle drops the assignments from every answer, no error."""
    report = recorded("webservices/gradereport_user_get_grade_items-all-users.json")
    body = json.loads(report["response"]["body"])
    for user in body["usergrades"]:  # what capability-matrix.json says the answer became
        user["gradeitems"] = [g for g in user["gradeitems"] if g.get("itemmodule") != "assign"]
    overrides = {
        "gradereport_user_get_grade_items": body,
        "core_completion_get_activities_completion_status:4":
            "ws-pitfall-no-mod-view-cap-core_completion_get_activities_completion_status-student1",
    }
    with MoodleWsReplay(overrides=overrides) as replay:
        facts = connector(replay).read_course(2)
    assert not facts.complete
    assert "'Essay 1'" in facts.reason and "'Final project'" in facts.reason
    assert "mod/assign:view" in facts.reason


def test_course_without_completion_criteria_is_not_an_error():
    no_criteria = {"exception": "moodle_exception", "errorcode": "nocriteriaset",
                   "message": "No criteria set for this course"}
    with MoodleWsReplay(overrides={"core_completion_get_course_completion_status": no_criteria}) as r:
        facts = connector(r).read_course(2)
    assert facts.complete, facts.reason
    assert facts.facts_for("4").course_completion is None
    assert any("No criteria set" in w for w in facts.warnings)


def test_per_learner_calls_use_a_bounded_pool(moodle):
    facts = connector(moodle, workers=1).read_course(2)
    assert facts.complete
    assert len(moodle.calls("core_completion_get_activities_completion_status")) == 2


def test_moodle_down_is_retried_then_reported():
    """A Moodle answering 503 is retried with backoff, then reported with a clear reason."""
    from werkzeug.wrappers import Response

    from tests.support.servers import ServerThread, free_port

    hits: list[int] = []

    def app(environ, start_response):
        hits.append(1)
        return Response("busy", status=503)(environ, start_response)

    port = free_port()
    server = ServerThread(app, port).start()
    sleeps: list[float] = []
    try:
        conn = MoodleClient(f"http://127.0.0.1:{port}", WS_TOKEN, POLICY,
                               retry=Retry(sleep=sleeps.append))
        facts = conn.read_course(2)
    finally:
        server.stop()
    assert not facts.complete and "after 4 tries" in facts.reason
    assert sleeps[:3] == [0.5, 1.0, 2.0]
    assert facts.roster_read is False
