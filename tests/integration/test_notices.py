"""``POST /lti/notices``: notices signed with the platform peer's own LTI key (contract (b)),
the learner's sync they queue, and every way a notice is refused.

The tool trusts the peer's JWKS for launches; the Moodle facts come from the recorded
Moodle 5.0 web-service answers (tests/unit/sources/replay.py): student1 (sub "4") has
Essay 1 85/100, student2 (sub "5") 40/100.
"""

from __future__ import annotations

import json
import time

import pytest

from lti_badges.extensions import db
from lti_badges.models import Award, SyncRun, UsedNoticeId
from tests.support.bridge import moodle_course, notice_claims, sign_notice, wait_for_run
from tests.unit.sources.replay import WS_TOKEN, MoodleWsReplay

RULE = '{"grade": {"item": "moodle:cm:1", "min_percent": 30}}'  # both students hold it


@pytest.fixture
def moodle():
    with MoodleWsReplay() as replay:
        yield replay


@pytest.fixture
def course(app, runner, peer, moodle):
    ids = moodle_course(app, issuer=peer.issuer, jwks_url=peer.jwks_url,
                        site_url=moodle.site_url, token=WS_TOKEN)
    issuer = json.loads(runner.invoke(args=[
        "issuers", "add", "--name", "Pilot", "--url", "https://pilot.example", "--email",
        "b@pilot.example", "--json"]).stdout)
    badge = json.loads(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Essay 1", "--description", "d",
        "--criteria-text", "c", "--course", str(ids["course"]), "--rule", RULE,
        "--json"]).stdout)
    return {**ids, "badge": badge["id"]}


def post(client, token: str, form: bool = False):
    if form:
        return client.post("/lti/notices", data={"jwt": token})
    return client.post("/lti/notices", json={"jwt": token})


def awarded_subs(app) -> list[str]:
    with app.app_context():
        return sorted(a.person.sub for a in db.session.scalars(db.select(Award)))


def test_a_valid_notice_awards_that_learner_only_reading_only_their_facts(
        app, client, peer, moodle, course):
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer, sub="4")))
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "accepted" and isinstance(body["run"], int)
    run = wait_for_run(app, body["run"])
    assert (run.status, run.trigger, run.awarded) == ("done", "notice", 1), run.errors
    assert awarded_subs(app) == ["4"]  # student2 meets the rule too, but was not notified
    # Only the learner's own calls (core web services mode: per-user calls).
    per_user = [c.get("userid") for c in moodle.calls()
                if c["wsfunction"].startswith(("gradereport", "core_completion"))]
    assert per_user and set(per_user) == {"4"}


def test_the_award_is_exactly_once_across_notices(app, client, peer, course):
    for _ in range(2):
        resp = post(client, sign_notice(peer, notice_claims(peer.issuer, sub="4")), form=True)
        assert resp.status_code == 202
        wait_for_run(app, resp.get_json()["run"])
    assert awarded_subs(app) == ["4"]


def test_a_replayed_notice_is_409(app, client, peer, course):
    token = sign_notice(peer, notice_claims(peer.issuer))
    assert post(client, token).status_code == 202
    again = post(client, token)
    assert again.status_code == 409 and again.get_json()["error"] == "replayed"


def test_an_expired_notice_is_401(client, peer, course):
    now = int(time.time())
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer, iat=now - 400)))
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "invalid_notice" and "expired" in resp.get_json()["message"]


def test_a_notice_living_more_than_ten_minutes_is_401(client, peer, course):
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer, lifetime=601)))
    assert resp.status_code == 401 and "10 minutes" in resp.get_json()["message"]


@pytest.mark.parametrize("aud", ["someone-else", ["someone-else"]])
def test_a_notice_for_another_audience_is_401(client, peer, course, aud):
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer, aud=aud)))
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_notice"


def test_aud_may_be_a_list_containing_the_client_id(app, client, peer, course):
    claims = notice_claims(peer.issuer, aud=["other", "kgDDY3FUnq3wN3I"])
    resp = post(client, sign_notice(peer, claims))
    assert resp.status_code == 202
    wait_for_run(app, resp.get_json()["run"])


def test_an_unknown_kid_is_401_after_at_most_one_jwks_refetch(app, client, peer, course):
    assert post(client, sign_notice(peer, notice_claims(peer.issuer))).status_code == 202
    before = len(peer.jwks_fetches)
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer), kid="no-such-kid"))
    assert resp.status_code == 401 and "no-such-kid" in resp.get_json()["message"]
    assert len(peer.jwks_fetches) - before <= 1


def test_a_rotated_platform_key_is_fetched_and_accepted(app, client, peer, course):
    assert post(client, sign_notice(peer, notice_claims(peer.issuer))).status_code == 202
    peer.rotate_key()
    assert post(client, sign_notice(peer, notice_claims(peer.issuer))).status_code == 202


@pytest.mark.parametrize("tamper", [{"sign_with_foreign_key": True}, {"corrupt_signature": True},
                                    {"alg": "none"}, {"kid": None}])
def test_bad_signatures_are_401(client, peer, course, tamper):
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer), **tamper))
    assert resp.status_code == 401, resp.get_json()
    assert resp.get_json()["error"] == "invalid_notice"


def test_wrong_issuer_or_deployment_is_401(client, peer, course):
    claims = notice_claims(peer.issuer)
    claims["iss"] = "https://moodle.elsewhere.example"
    assert post(client, sign_notice(peer, claims)).status_code == 401
    claims = notice_claims(peer.issuer)
    claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = "99"
    assert post(client, sign_notice(peer, claims)).status_code == 401


@pytest.mark.parametrize("claims,reason", [
    ({"sub": "999"}, "unknown user"),
    ({"context": "77"}, "unknown course"),
    ({"kind": "LtiBadgesSomethingElse"}, "unknown notice type"),
])
def test_unknown_course_user_or_type_is_acknowledged_and_ignored(app, client, peer, course,
                                                                 claims, reason):
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer, **claims)))
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "ignored" and reason in resp.get_json()["reason"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SyncRun)) == 0


@pytest.mark.parametrize("body", [{}, {"jwt": ""}, {"jwt": "not-a-jws"}, {"jwt": 5}])
def test_a_body_that_is_not_a_notice_is_400(client, course, body):
    resp = client.post("/lti/notices", json=body)
    assert resp.status_code == 400 and resp.get_json()["error"] == "bad_request"


def test_spent_ids_are_purged_after_expiry(app, client, peer, course):
    from datetime import timedelta

    from lti_badges.clock import utcnow

    assert post(client, sign_notice(peer, notice_claims(peer.issuer))).status_code == 202
    with app.app_context():
        db.session.execute(db.update(UsedNoticeId).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    assert post(client, sign_notice(peer, notice_claims(peer.issuer))).status_code == 202
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(UsedNoticeId)) == 1


def test_awards_list_shows_the_award_with_its_status(app, client, runner, peer, course):
    resp = post(client, sign_notice(peer, notice_claims(peer.issuer, sub="4")))
    wait_for_run(app, resp.get_json()["run"])
    result = runner.invoke(args=["awards", "list", "--badge", course["badge"], "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(a["badge"], a["status"]) for a in listed] == [(course["badge"], "active")]
    assert {"id", "badge", "recipient", "assertion_url", "credential_url"} <= set(listed[0])
    revoke = runner.invoke(args=["revoke", listed[0]["id"], "--reason", "test"])
    assert revoke.exit_code == 0, revoke.output
    by_course = json.loads(runner.invoke(args=["awards", "list", "--course",
                                               str(course["course"]), "--json"]).stdout)
    assert [a["status"] for a in by_course] == ["revoked"]
    unknown = runner.invoke(args=["awards", "list", "--course", "1:nope", "--json"])
    assert unknown.exit_code != 0 and "No course" in unknown.output


def test_in_plugin_mode_the_learner_is_read_with_the_userid_parameter(app, client, runner, peer):
    from tests.unit.sources.replay import MoodlePluginReplay

    with MoodlePluginReplay() as plugin:
        ids = moodle_course(app, issuer=peer.issuer, jwks_url=peer.jwks_url,
                            site_url=plugin.site_url, token=WS_TOKEN)
        issuer = json.loads(runner.invoke(args=[
            "issuers", "add", "--name", "P", "--url", "https://p.example", "--email",
            "b@p.example", "--json"]).stdout)
        runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "E",
                            "--description", "d", "--criteria-text", "c", "--course",
                            str(ids["course"]), "--rule", RULE])
        resp = post(client, sign_notice(peer, notice_claims(peer.issuer, sub="4")))
        run = wait_for_run(app, resp.get_json()["run"])
        assert run.status == "done" and run.awarded == 1, run.errors
        assert [c.get("userid") for c in plugin.calls("local_ltibadges_get_course_facts")] \
            == ["4"]
        assert plugin.calls("gradereport_user_get_grade_items") == []
