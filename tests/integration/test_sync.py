"""Course sync against the independent platform peer: rules evaluated on NRPS + AGS facts,
awards issued exactly once with evidence, revoked awards never re-issued, partial reads
award nothing, launches queue a learner's sync."""

from __future__ import annotations

import json
import threading
import time

from lti_badges import awarding
from lti_badges.extensions import db
from lti_badges.models import Award, Course, SyncRun
from tests.support.cli import cli_json


def _sync(runner, cid):
    return cli_json(runner.invoke(args=["sync", str(cid), "--json"]))


def test_sync_awards_what_is_earned_with_evidence(app, runner, course):
    result = _sync(runner, course["id"])
    assert result["course"] == course["id"] and result["errors"] == []
    assert [a["recipient"] for a in result["awarded"]] == ["l1@example.test"]
    with app.app_context():
        award = db.session.scalar(db.select(Award))
        assert award.person.sub == "l1" and award.source == "rule"
        assert "90" in award.evidence["summary"] and "80" in award.evidence["summary"]
        assert award.evidence["summary_fr"] != award.evidence["summary"]
        assert award.evidence["result"]["status"] == "met"


def test_resync_with_nothing_changed_issues_nothing(app, runner, course):
    _sync(runner, course["id"])
    again = _sync(runner, course["id"])
    assert again["awarded"] == [] and again["unchanged"] is True


def test_new_grades_are_picked_up_and_drops_keep_the_badge(app, runner, course):
    peer = course["peer"]
    _sync(runner, course["id"])
    peer.set_result(course["quiz"]["id"], "l2", 8, 10)
    peer.set_result(course["quiz"]["id"], "l1", 2, 10)  # l1 drops below the threshold
    result = _sync(runner, course["id"])
    assert [a["recipient"] for a in result["awarded"]] == ["l2@example.test"]
    with app.app_context():
        holders = {a.person.sub for a in db.session.scalars(db.select(Award))
                   if a.revoked_at is None}
    assert holders == {"l1", "l2"}


def test_revoked_award_is_not_reissued(app, runner, course):
    first = _sync(runner, course["id"])
    cli_json(runner.invoke(args=["revoke", first["awarded"][0]["id"], "--reason", "Erreur",
                              "--json"]))
    course["peer"].set_result(course["quiz"]["id"], "l3", 5, 10)  # change something
    result = _sync(runner, course["id"])
    assert result["awarded"] == [] and not result["unchanged"]


def test_prerequisite_badges_chain_in_one_run(app, runner, course):
    second = cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", course["issuer"]["id"], "--name", "Next step",
        "--description", "d", "--criteria-text", "c", "--course", str(course["id"]),
        "--rule", json.dumps({"badge": course["badge"]["id"]}), "--json"]))
    result = _sync(runner, course["id"])
    assert sorted((a["badge"], a["recipient"]) for a in result["awarded"]) == sorted([
        (course["badge"]["id"], "l1@example.test"), (second["id"], "l1@example.test")])


def test_unreadable_source_awards_nothing_and_says_why(app, runner, course):
    with app.app_context():
        row = db.session.get(Course, course["id"])
        row.services = {**row.services, "nrps_url": "http://127.0.0.1:9/memberships"}
        db.session.commit()
    result = runner.invoke(args=["sync", str(course["id"]), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "partial" and data["awarded"] == []
    assert "could not be reached" in json.dumps(data["errors"]) or data["errors"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 0


def test_concurrent_syncs_never_duplicate(app, course):
    """Several workers syncing one course at once: one award per learner, none missing."""
    course["peer"].set_result(course["quiz"]["id"], "l2", 10, 10)
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                awarding.sync_course(course["id"], trigger="manual")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        subs = sorted(a.person.sub for a in db.session.scalars(db.select(Award)))
    assert subs == ["l1", "l2"]


def test_learner_launch_queues_their_sync(app, course):
    peer = course["peer"]
    assert peer.launch(peer.new_browser(), "l1", "c1").status_code == 200
    deadline = time.monotonic() + 60
    with app.app_context():
        while time.monotonic() < deadline:
            run = db.session.scalar(db.select(SyncRun).filter_by(trigger="launch"))
            if run is not None and run.status in ("done", "partial", "failed"):
                break
            db.session.expire_all()
            time.sleep(0.2)
        assert run is not None and run.status == "done", run and run.to_dict()
        awards = db.session.scalars(db.select(Award)).all()
        assert [a.person.sub for a in awards] == ["l1"]


def test_a_course_without_auto_sync_queues_nothing_on_launch(app, course):
    with app.app_context():
        row = db.session.get(Course, course["id"])
        row.settings = {**(row.settings or {}), "auto_sync": False}
        db.session.commit()
    peer = course["peer"]
    assert peer.launch(peer.new_browser(), "l1", "c1").status_code == 200
    with app.app_context():  # a launch queues its sync before it answers
        assert db.session.scalar(db.select(SyncRun).filter_by(trigger="launch")) is None


def test_sync_cli_errors(runner):
    assert runner.invoke(args=["sync"]).exit_code != 0
    result = runner.invoke(args=["sync", "999"])
    assert result.exit_code != 0 and "No course" in result.output
    result = runner.invoke(args=["sync", "x:y"])
    assert result.exit_code != 0


def test_scheduled_syncs_cover_active_courses_only(app, course):
    from lti_badges.jobs import Scheduler, enqueue_all
    from lti_badges.models import Platform

    scheduler = Scheduler(app, 60)
    scheduler.seconds = 0.2  # the schedule's loop, quickly
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        with app.app_context():
            while time.monotonic() < deadline:
                db.session.expire_all()
                runs = db.session.scalars(db.select(SyncRun).filter_by(trigger="schedule")).all()
                if runs and any(r.status == "done" for r in runs):
                    break
                time.sleep(0.2)
            assert any(r.status == "done" for r in runs), [r.to_dict() for r in runs]
    finally:
        scheduler.stopped.set()
        scheduler.join(timeout=10)
    with app.app_context():
        assert {a.person.sub for a in db.session.scalars(db.select(Award))} == {"l1"}
        db.session.scalar(db.select(Platform)).status = "disabled"
        db.session.commit()
        assert enqueue_all("schedule") == []


def test_public_page_explains_the_evidence_in_the_readers_language(app, runner, course, tool):
    import requests

    award = _sync(runner, course["id"])["awarded"][0]
    en = requests.get(award["assertion_url"], headers={"Accept": "text/html",
                                                       "Accept-Language": "en"}).text
    fr = requests.get(award["assertion_url"], headers={"Accept": "text/html",
                                                       "Accept-Language": "fr-CA"}).text
    assert "Score at least 80%" in en
    assert "Obtenir au moins 80" in fr and "Score at least" not in fr
