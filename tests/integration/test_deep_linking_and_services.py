"""Deep linking answered to the platform, and the platform's NRPS and AGS services answering
the tool's own service token (client assertion signed with the tool's key)."""

from __future__ import annotations

import json
import re

import requests

from lti_badges import awarding
from lti_badges.extensions import db
from lti_badges.lti import ags
from lti_badges.models import Course, Platform
from lti_badges.net import NetPolicy
from lti_badges.sources.lti import LtiSource
from tests.integration.conftest import course_id_of, csrf_of, launch_token, with_credential


def test_deep_linking_request_reaches_the_tool_and_answers_the_platform(registered, tool):
    peer = registered.peer
    browser = peer.new_browser()
    page = peer.launch(browser, "teacher", "c1", message_type="LtiDeepLinkingRequest")
    assert page.status_code == 200 and "/deep-link" in page.url, page.text[:300]
    assert "Add badges to the course" in page.text
    token, cid = launch_token(page), course_id_of(page)
    answer = browser.post(tool.url(f"/course/{cid}/deep-link"),
                          data={"lt": token, "csrf_token": csrf_of(page.text),
                                "title": "Badges du cours"})
    assert answer.status_code == 200 and 'name="JWT"' in answer.text
    done = peer.follow(browser, answer)
    assert "Received 1 content item" in done.text, done.text[:300]
    response = peer.deep_link_responses[-1]
    item = response["content_items"][0]
    assert item["type"] == "ltiResourceLink" and item["title"] == "Badges du cours"
    assert item["url"] == tool.url("/lti/launch")
    assert response["deployment_id"] == registered.deployment_id


def test_deep_linking_page_refuses_learners_and_plain_launches(registered, tool):
    peer = registered.peer
    learner = peer.launch(peer.new_browser(), "learner", "c1",
                          message_type="LtiDeepLinkingRequest")
    assert learner.status_code == 403
    teacher = peer.launch(peer.new_browser(), "teacher", "c1")
    resp = requests.get(tool.url(f"/course/{course_id_of(teacher)}/deep-link"),
                        headers=with_credential(launch_token(teacher)))
    assert resp.status_code == 400 and "deep-linking request" in resp.text


def _course(app, registered):
    peer = registered.peer
    peer.launch(peer.new_browser(), "teacher", "c1")
    with app.app_context():
        return db.session.scalar(db.select(Course).filter_by(context_id="c1")).id


def test_nrps_roster_with_the_tool_token_every_page(app, registered):
    peer = registered.peer
    for i in range(7):
        peer.add_user(f"s{i}", name=f"Student {i}")
        peer.enroll("c1", f"s{i}", roles=["Learner"], status="Inactive" if i == 0 else "Active")
    cid = _course(app, registered)
    with app.test_request_context():
        course = db.session.get(Course, cid)
        # Ask for pages of 3: the service answers with Link rel="next" to follow.
        course.services = {**course.services, "nrps_url": peer.memberships_url("c1") + "?limit=3"}
        members = awarding.lti_source(course).read_roster()
    ids = {m.user_id for m in members}
    assert {"learner", "teacher", "s0", "s6"} <= ids and len(ids) == len(members) == 11
    assert {m.status for m in members if m.user_id == "s0"} == {"Inactive"}


def test_ags_line_items_and_results_with_the_tool_token(app, registered):
    peer = registered.peer
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    peer.add_line_item("c1", "Quiz 2", 20, tag="quiz")
    peer.set_result(quiz["id"], "learner", 8, 10)
    cid = _course(app, registered)
    with app.test_request_context():
        source = awarding.lti_source(db.session.get(Course, cid))
        items = source.read_line_items()
        assert {i["label"] for i in items} >= {"Quiz 1", "Quiz 2"}
        results = source.read_results(quiz["id"])
    assert [(r["userId"], r["resultScore"]) for r in results] == [("learner", 8)]


def test_service_calls_refused_without_a_valid_token(app, registered):
    peer = registered.peer
    source = LtiSource(token_for=lambda scopes: "garbage", policy=NetPolicy(allow_insecure=True),
                       nrps_url=peer.memberships_url("c1"), lineitems_url=peer.lineitems_url("c1"))
    facts = source.read()
    assert not facts.complete and "401" in " ".join(facts.errors)


def test_token_endpoint_refuses_a_tool_whose_key_it_cannot_verify(app, registered):
    cid = _course(app, registered)
    with app.test_request_context():
        platform = db.session.get(Platform, registered.platform_id)
        platform.client_id = "not-the-registered-client"
        db.session.commit()
        facts = awarding.lti_source(db.session.get(Course, cid)).read()
    assert not facts.complete and "refused" in " ".join(facts.errors)


def test_course_without_services_says_so(app, registered):
    cid = _course(app, registered)
    with app.test_request_context():
        course = db.session.get(Course, cid)
        course.services = {}
        assert awarding.lti_source(course) is None
        facts = awarding.read_course(course)
    assert not facts.complete and "no source of facts" in facts.errors[0]


def test_link_header_parser_handles_moodle_quirks():
    from lti_badges.lti.links import parse_links

    moodle = ('<http://m/lineitems?type_id=1&amp;limit=1&amp;from=1>; rel=\u201cnext\u201d, '
              '<http://m/lineitems?type_id=1&amp;limit=1>; rel=\u201cfirst\u201d')
    assert parse_links(moodle) == {"next": "http://m/lineitems?type_id=1&limit=1&from=1",
                                   "first": "http://m/lineitems?type_id=1&limit=1"}
    assert parse_links('<https://p/m?from=2>; rel="next"') == {"next": "https://p/m?from=2"}
    # As requests hands it over: the UTF-8 quote bytes decoded as Latin-1.
    wire = moodle.encode("utf-8").decode("latin-1")
    assert parse_links(wire)["next"] == "http://m/lineitems?type_id=1&limit=1&from=1"
    assert parse_links(None) == {}
    assert re.search("results", ags.sub_url("http://m/2/lineitems/4/lineitem?type_id=1", "results"))
    assert ags.sub_url("http://m/2/lineitems/4/lineitem?type_id=1", "results") == \
        "http://m/2/lineitems/4/lineitem/results?type_id=1"


def test_deep_linked_badges_become_activities_that_open_on_their_badge(app, registered, tool,
                                                                        runner):
    peer = registered.peer
    teacher = peer.new_browser()
    peer.launch(teacher, "teacher", "c1")  # the course exists in the tool now
    with app.app_context():
        cid = db.session.scalar(db.select(Course.id).filter_by(context_id="c1"))
    issuer = json.loads(runner.invoke(args=["issuers", "add", "--name", "U", "--url",
                                            "https://u.example", "--email", "b@u.example",
                                            "--json"]).stdout)
    badges = [json.loads(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", name, "--description", "d",
        "--criteria-text", "c", "--course", str(cid), "--json"]).stdout)
        for name in ("Lab safety", "Titration")]
    page = peer.launch(teacher, "teacher", "c1", message_type="LtiDeepLinkingRequest")
    assert "Lab safety" in page.text and "Titration" in page.text
    answer = teacher.post(tool.url(f"/course/{cid}/deep-link"), data={
        "lt": launch_token(page), "csrf_token": csrf_of(page.text),
        "badge": [badges[1]["id"]], "title": "ignored"})
    done = peer.follow(teacher, answer)
    assert "Received 1 content item" in done.text
    response = peer.deep_link_responses[-1]
    item = response["content_items"][0]
    assert item["title"] == "Titration" and item["custom"] == {"badge": badges[1]["id"]}
    link_id = response["created"][0]["resource_link_id"]
    landing = peer.launch(peer.new_browser(), "learner", "c1", resource_link_id=link_id)
    assert landing.status_code == 200
    assert "/learn" in landing.url and landing.url.endswith(f"#badge-{badges[1]['id']}")
    forged = teacher.post(tool.url(f"/course/{cid}/deep-link"), data={
        "lt": launch_token(page), "csrf_token": csrf_of(page.text), "badge": ["nope"]})
    assert forged.status_code in (400, 401)
