"""Pure parts of the Moodle connector: parameter encoding, error explanations, mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lti_badges.lti.roles import is_learner
from lti_badges.sources.moodle import (
    REQUIRED_CAPABILITIES,
    REQUIRED_FUNCTIONS,
    ROLE_MAP,
    _course_completion,
    encode_params,
    from_unix,
    moodle_error,
)
from tests.support.moodle import MOODLE, recorded


def test_encode_params_like_moodle_rest():
    assert encode_params({"assignmentids": [1, 2]}) == [("assignmentids[0]", "1"),
                                                        ("assignmentids[1]", "2")]
    assert encode_params({"options": [{"name": "onlyactive", "value": True}], "x": None}) == [
        ("options[0][name]", "onlyactive"), ("options[0][value]", "1")]
    assert encode_params({"courseid": 2, "field": "shortname"}) == [("courseid", "2"),
                                                                    ("field", "shortname")]


def test_recorded_request_forms_round_trip():
    form = recorded("webservices/mod_assign_get_grades.json")["request"]["body_form"]
    assert encode_params({"assignmentids": [1, 2]}) == [
        (k, v) for k, v in form.items() if k.startswith("assignmentids")]


MATRIX = recorded("webservices/capability-matrix.json")["without_capability"]


@pytest.mark.parametrize("capability", [c for c, calls in MATRIX.items() if isinstance(calls, dict)])
def test_every_recorded_capability_error_names_a_capability(capability):
    for call, body in MATRIX[capability].items():
        if not (isinstance(body, dict) and "errorcode" in body):
            continue  # silently shortened answers: caught elsewhere (hidden grade items)
        function = call.split("-")[0]
        err = moodle_error(function, body)
        assert err.capability, (capability, call, str(err))
        # The named capability is the one removed (gradereport names its pair).
        assert capability in err.capability or (
            capability == "webservice/rest:use" and "webservice/rest:use" in str(err)), (
            capability, call, err.capability)
        assert "Define roles" in str(err)


def test_recorded_error_bodies_are_explained():
    def body(name):
        return recorded(f"webservices/{name}.json")["response"]["body_json"]

    assert "Manage tokens" in str(moodle_error("core_webservice_get_site_info",
                                               body("ws-error-invalid-token")))
    err = moodle_error("core_user_get_users_by_field", body("ws-error-function-not-in-service"))
    assert "Add the function core_user_get_users_by_field" in str(err)
    # Without debuginfo (production sites) the advice is the same.
    bare = {k: v for k, v in body("ws-error-function-not-in-service").items() if k != "debuginfo"}
    assert "Add the function" in str(moodle_error("core_user_get_users_by_field", bare))
    err = moodle_error("core_completion_get_course_completion_status",
                       body("ws-error-missing-capability-report-completion-view"))
    assert err.capability == "report/completion:view"
    err = moodle_error("core_grades_get_grades", body("core_grades_get_grades-does-not-exist"))
    assert "no web-service function" in str(err)


def test_required_functions_match_the_recorded_service():
    info = recorded("webservices/core_webservice_get_site_info.json")["response"]["body_json"]
    assert {f["name"] for f in info["functions"]} == set(REQUIRED_FUNCTIONS)


def test_setup_doc_lists_every_function_and_capability():
    from pathlib import Path

    import lti_badges.sources

    doc = (Path(lti_badges.sources.__file__).parent / "MOODLE_SETUP.md").read_text()
    for name in (*REQUIRED_FUNCTIONS, *REQUIRED_CAPABILITIES):
        assert f"`{name}`" in doc, name
    assert MOODLE.is_dir()


def test_roles_and_times():
    assert is_learner([ROLE_MAP["student"]]) and not is_learner([ROLE_MAP["editingteacher"]])
    assert from_unix(0) is None and from_unix(None) is None
    assert from_unix(1795327550) == datetime.fromtimestamp(1795327550, UTC)


def test_course_completion_time_follows_the_aggregation():
    status = {"completed": True, "aggregation": 1, "completions": [
        {"complete": True, "timecompleted": 100}, {"complete": True, "timecompleted": 200}]}
    assert _course_completion(status).time == from_unix(200)
    assert _course_completion({**status, "aggregation": 2}).time == from_unix(100)
    assert _course_completion({**status, "completed": False}) is None


def test_facts_carry_moodles_timemodified_as_their_time():
    from lti_badges.sources.moodle import _completion, _read_grades, fact_time

    # A grade whose record has timemodified (when its value last changed) uses it first.
    report = [{"userid": 4, "gradeitems": [
        {"id": 2, "itemname": "Essay 1", "itemtype": "mod", "cmid": 1, "graderaw": 85,
         "grademin": 0, "grademax": 100, "timemodified": 1795327000,
         "gradedategraded": 1795327550, "gradedatesubmitted": None},
        {"id": 3, "itemname": "Final project", "itemtype": "mod", "cmid": 2, "graderaw": 92,
         "grademin": 0, "grademax": 100, "gradedategraded": None, "gradedatesubmitted": None}]}]
    grades: dict = {}
    _read_grades(report, grades, {}, {})
    essay, final = grades["4"]
    assert essay.time == from_unix(1795327000) and essay.time_basis == "source"
    assert final.time is None  # Moodle gives no time: the tool records when it first saw it
    # A completion without timecompleted uses its record's timemodified.
    done = _completion({"cmid": 3, "state": 1, "timecompleted": 0, "timemodified": 1795327550},
                       {}, {})
    assert done.time == from_unix(1795327550)
    assert _completion({"cmid": 3, "state": 1, "timecompleted": 0}, {}, {}).time is None
    assert fact_time({"timecompleted": 5, "timemodified": 9}, "timecompleted",
                     "timemodified") == from_unix(5)
