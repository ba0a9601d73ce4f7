"""One person, one badge, against the independent platform peer: an award by hand by email
(studio form, CSV import, CLI) to someone who is, or later becomes, a member of the course is
that member's award. A later sync gives no second award of the badge, the learner's page
shows it with the teacher's evidence, and the studio never counts more earners and learners
on their way than the roster holds. E-mails match case-insensitively; an e-mail two members
share is never guessed between; a link once made stays when the e-mail changes."""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests

from lti_badges import awarding
from lti_badges.extensions import db
from lti_badges.models import Award, Badge, Course, Person
from tests.integration.conftest import StaffLaunch as Staff
from tests.integration.conftest import course_id_of, launch_token, register, settle, with_credential
from tests.support.cli import cli_json


@pytest.fixture
def world(app, tool, peer, runner):
    register(app, tool, peer)
    peer.add_course("c1", title="Chimie", label="CHM")
    peer.add_user("t1", name="Tom Teacher", email="tom@example.test")
    peer.add_user("ana", name="Ana Martin", email="ana@example.test")
    peer.add_user("elo", name="Éloïse Bélanger", email="Eloise.Belanger@Example.test")
    peer.add_user("twin1", name="Jo One", email="family@example.test")
    peer.add_user("twin2", name="Jo Two", email="family@example.test")
    peer.enroll("c1", "t1", roles=["Instructor"])
    peer.enroll("c1", "ana", roles=["Learner"])
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    peer.set_result(quiz["id"], "ana", 5, 10)
    teacher = Staff(tool, peer.launch(peer.new_browser(), "t1", "c1"))
    issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Cégep", "--url",
                                       "https://cegep.example", "--email", "b@cegep.example",
                                       "--json"]))
    badge = cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Quiz 1 ≥ 80 %",
        "--description", "d", "--criteria-text", "Obtenir 80 % au quiz 1.",
        "--course", str(teacher.cid),
        "--rule", '{"grade": {"item": "Quiz 1", "min_percent": 80}}', "--json"]))
    return {"peer": peer, "quiz": quiz, "teacher": teacher, "badge": badge["id"],
            "cid": teacher.cid, "app": app, "tool": tool, "runner": runner}


def _awards(app, badge_pid):
    with app.app_context():
        return [(a.person.sub if a.person else None, a.recipient_email, a.source)
                for a in db.session.scalars(db.select(Award).join(Badge).where(
                    Badge.public_id == badge_pid).order_by(Award.id))]


def _join_and_pass(world, sub="elo"):
    """The learner enrols (after the award by hand) and meets the badge's rule."""
    world["peer"].enroll("c1", sub, roles=["Learner"])
    world["peer"].set_result(world["quiz"]["id"], sub, 9, 10)


def _sync(world):
    return cli_json(world["runner"].invoke(args=["sync", str(world["cid"]), "--json"]))


def _learner_page(world, sub="elo"):
    resp = world["peer"].launch(world["peer"].new_browser(), sub, "c1")
    assert resp.status_code == 200, resp.text[:500]
    settle(world["app"])
    page = requests.get(world["tool"].url(f"/course/{course_id_of(resp)}/learn/"),
                        headers=with_credential(launch_token(resp)))
    assert page.status_code == 200
    return unescape(page.text)


def _earned_and_in_progress(world):
    progress = world["teacher"].get("/studio/progress.json", refresh="1").json()
    counts = progress["badges"][world["badge"]]
    return counts["earned"], counts["in_progress"], counts["ready"], progress["learners"]


def test_studio_award_by_email_before_the_first_launch_then_sync_is_one_award(world):
    t, app = world["teacher"], world["app"]
    # Éloïse is not in the course yet: the teacher awards her by hand, by e-mail, in other case.
    resp = t.post(f"/studio/badges/{world['badge']}/award", {
        "email": "eloise.belanger@EXAMPLE.test", "narrative": "Excellent lab notebook",
        "evidence_url": "https://lab.example/eloise"})
    assert resp.status_code == 200, resp.text[:1000]
    assert _awards(app, world["badge"]) == [(None, "eloise.belanger@EXAMPLE.test", "manual")]

    _join_and_pass(world)
    result = _sync(world)
    assert result["awarded"] == [] and result["errors"] == []
    # One award, now hers.
    assert _awards(app, world["badge"]) == [("elo", "eloise.belanger@EXAMPLE.test", "manual")]

    page = _learner_page(world)
    earned = page.split('id="earned"')[1].split("</section>")[0]
    assert "Quiz 1 ≥ 80 %" in earned
    assert "Excellent lab notebook" in earned
    assert 'href="https://lab.example/eloise"' in earned
    assert _awards(app, world["badge"]) == [("elo", "eloise.belanger@EXAMPLE.test", "manual")]

    earned_n, in_progress, ready, roster = _earned_and_in_progress(world)
    assert (earned_n, ready) == (1, 0)
    assert earned_n + in_progress + ready <= roster == 2
    index = t.get("/studio/").text
    assert re.search(rf'id="badge-{world["badge"]}".*?class="earned">1<', index, re.S)


def test_studio_award_to_a_member_by_email_is_linked_at_once(world):
    t, app = world["teacher"], world["app"]
    world["peer"].set_result(world["quiz"]["id"], "ana", 10, 10)
    # Ana is on the roster (NRPS): an e-mail in another case is still hers.
    resp = t.post(f"/studio/badges/{world['badge']}/award", {"email": "ANA@example.test"})
    assert resp.status_code == 200, resp.text[:1000]
    assert _awards(app, world["badge"]) == [("ana", "ANA@example.test", "manual")]
    again = t.post(f"/studio/badges/{world['badge']}/award", {"email": "ana@example.test"})
    assert again.status_code == 409 and "already holds this badge" in again.text
    assert _sync(world)["awarded"] == []
    assert len(_awards(app, world["badge"])) == 1


def test_csv_import_before_enrolment_then_sync_is_one_award(world):
    t, app = world["teacher"], world["app"]
    data = "email,name,evidence\nELOISE.BELANGER@example.test,Éloïse,https://lab.example/e\n"
    resp = t.post(f"/studio/badges/{world['badge']}/import",
                  files={"csv": ("awards.csv", data.encode(), "text/csv")})
    assert resp.status_code == 200, resp.text[:1000]
    _join_and_pass(world)
    assert _sync(world)["awarded"] == []
    assert _awards(app, world["badge"]) == [("elo", "ELOISE.BELANGER@example.test", "csv")]
    page = _learner_page(world)
    assert 'href="https://lab.example/e"' in page.split('id="earned"')[1]


def test_cli_award_before_the_first_launch_is_hers_at_launch_and_sync_adds_none(world):
    app, runner = world["app"], world["runner"]
    cli_json(runner.invoke(args=["award", "--badge", world["badge"], "--email",
                              "Eloise.Belanger@example.TEST", "--evidence",
                              "https://lab.example/cli", "--json"]))
    _join_and_pass(world)
    # Her first launch attaches the award made to her e-mail (no sync needed for that).
    page = _learner_page(world)
    assert "Quiz 1 ≥ 80 %" in page.split('id="earned"')[1]
    assert _sync(world)["awarded"] == []
    assert _awards(app, world["badge"]) == [("elo", "Eloise.Belanger@example.TEST", "manual")]


def test_two_members_sharing_an_email_are_not_guessed_between(world):
    t, app, peer = world["teacher"], world["app"], world["peer"]
    for sub in ("twin1", "twin2"):
        peer.enroll("c1", sub, roles=["Learner"])
    t.get("/people")  # the roster is read: both are members
    resp = t.post(f"/studio/badges/{world['badge']}/award", {"email": "FAMILY@example.test"})
    assert resp.status_code == 409
    assert "2 members of this course share the email address" in unescape(resp.text)
    assert _awards(app, world["badge"]) == []
    # The CLI says the same and exits non-zero.
    result = world["runner"].invoke(args=["award", "--badge", world["badge"], "--email",
                                          "family@example.test"])
    assert result.exit_code != 0 and "share the email address" in result.output
    # Choosing the person from the list works.
    with app.app_context():
        one = db.session.scalar(db.select(Person.id).filter_by(sub="twin1"))
    assert t.post(f"/studio/badges/{world['badge']}/award",
                  {"person": str(one)}).status_code == 200
    assert _awards(app, world["badge"]) == [("twin1", "family@example.test", "manual")]


def test_an_email_award_made_before_two_members_share_it_stays_unlinked(world):
    app, peer = world["app"], world["peer"]
    cli_json(world["runner"].invoke(args=["award", "--badge", world["badge"], "--email",
                                       "family@example.test", "--json"]))
    for sub in ("twin1", "twin2"):
        peer.enroll("c1", sub, roles=["Learner"])
    _sync(world)
    assert _awards(app, world["badge"]) == [(None, "family@example.test", "manual")]


def test_a_link_once_made_stays_when_the_email_changes(world):
    app, peer = world["app"], world["peer"]
    cli_json(world["runner"].invoke(args=["award", "--badge", world["badge"], "--email",
                                       "eloise.belanger@example.test", "--json"]))
    _join_and_pass(world)
    _sync(world)
    assert _awards(app, world["badge"])[0][0] == "elo"
    peer.users["elo"]["email"] = "eloise@new.example"
    peer.set_result(world["quiz"]["id"], "elo", 10, 10)  # something changed: a real re-run
    result = _sync(world)
    assert result["awarded"] == [] and not result["unchanged"]
    assert _awards(app, world["badge"]) == [("elo", "eloise.belanger@example.test", "manual")]
    with app.app_context():
        assert db.session.scalar(db.select(Person.email).filter_by(sub="elo")) == \
            "eloise@new.example"


def test_sync_after_the_roster_changes_keeps_every_count_within_the_roster(world):
    """Earned + in progress + ready never exceeds the roster's learners, whatever mix of
    hand and synced awards."""
    t, app, peer = world["teacher"], world["app"], world["peer"]
    peer.set_result(world["quiz"]["id"], "ana", 9, 10)
    t.post(f"/studio/badges/{world['badge']}/award", {"email": "eloise.belanger@example.test"})
    _join_and_pass(world)
    _sync(world)
    assert sorted(s for s, _e, _src in _awards(app, world["badge"])) == ["ana", "elo"]
    earned_n, in_progress, ready, roster = _earned_and_in_progress(world)
    assert earned_n == 2 and earned_n + in_progress + ready <= roster
    with app.app_context():
        course = db.session.get(Course, world["cid"])
        assert awarding.sync_course(course.id).awarded == []
