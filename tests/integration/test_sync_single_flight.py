"""One sync per course at a time: learner launches join the run under way instead of piling
up syncs, requests during a run leave one follow-up that starts when it ends, and a run
whose worker died does not block the course. The course is read through the Moodle Web
Services connector (replayed from ../shared/moodle) behind a gate the test holds shut, so
a run is really in the middle of reading while the other requests arrive."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest

from lti_badges.clock import utcnow
from lti_badges.crypto import fernet
from lti_badges.extensions import db
from lti_badges.models import Award, Course, MoodleConnector, SyncRun
from tests.integration.conftest import CREDENTIAL, launch_token, register
from tests.support.cli import cli_json
from tests.unit.sources.replay import WS_TOKEN, MoodleWsReplay


class GatedMoodle(MoodleWsReplay):
    """The recorded Moodle, answering only while ``gate`` is open (a slow site)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def _wsgi(self, environ, start_response):
        self.gate.wait(timeout=30)
        return super()._wsgi(environ, start_response)



@pytest.fixture
def moodle_course(app, tool, peer, runner):
    # Learner pages do not wait for the (gated) read of the course they start.
    app.config["LEARNER_FACTS_WAIT"] = 0
    with GatedMoodle() as moodle:
        reg = register(app, tool, peer)
        # Moodle course 2 and its student1 (Moodle user id 4 = LTI sub), as recorded.
        peer.add_course("2", title="Open Badges Pilot", label="OBP101")
        peer.add_user("4", name="Student One", email="student1@example.invalid")
        peer.add_user("t", name="Tom Teacher", email="tom@example.test")
        peer.enroll("2", "4", roles=["Learner"])
        peer.enroll("2", "t", roles=["Instructor"])
        teacher = peer.new_browser()
        landed = peer.launch(teacher, "t", "2")
        assert landed.status_code == 200
        with app.app_context():
            db.session.add(MoodleConnector(
                platform_id=reg.platform_id, url=moodle.site_url,
                token_encrypted=fernet(app.config["SECRET_KEY"], "moodle-token")
                .encrypt(WS_TOKEN.encode()).decode()))
            db.session.commit()
            cid = db.session.scalar(db.select(Course.id).filter_by(context_id="2"))
        issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Pilot", "--url",
                                           "https://pilot.example", "--email",
                                           "b@pilot.example", "--json"]))
        cli_json(runner.invoke(args=[
            "badges", "add", "--issuer", issuer["id"], "--name", "Essay 1 ≥ 80 %",
            "--description", "d", "--criteria-text", "c", "--course", str(cid),
            "--rule", '{"grade": {"item": "moodle:cm:1", "min_percent": 80}}', "--json"]))
        yield {"id": cid, "moodle": moodle, "peer": peer, "tool": tool, "teacher": teacher,
               "token": launch_token(landed)}
        moodle.gate.set()


def _settle(app, cid: int, timeout: float = 90) -> list[SyncRun]:
    """Every run of the course, once none is queued or running."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            db.session.expire_all()
            runs = db.session.scalars(db.select(SyncRun).filter_by(course_id=cid)
                                      .order_by(SyncRun.id)).all()
            if all(r.status not in ("queued", "running") for r in runs) or \
                    time.monotonic() > deadline:
                for r in runs:
                    db.session.expunge(r)
                return runs


def _wait_running(app, cid: int) -> SyncRun:
    deadline = time.monotonic() + 30
    with app.app_context():
        while time.monotonic() < deadline:
            db.session.expire_all()
            run = db.session.scalar(db.select(SyncRun).filter_by(course_id=cid,
                                                                 status="running"))
            if run is not None:
                return run
            time.sleep(0.05)
    raise AssertionError("no run started")


def _no_overlap(runs: list[SyncRun]) -> None:
    spans = sorted((r.started_at, r.finished_at) for r in runs if r.started_at)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"two runs of the course overlapped: {spans}"


def test_three_launches_in_five_seconds_share_one_sync(app, moodle_course):
    peer, moodle, cid = moodle_course["peer"], moodle_course["moodle"], moodle_course["id"]
    started = time.monotonic()
    for _ in range(3):
        assert peer.launch(peer.new_browser(), "4", "2").status_code == 200
    assert time.monotonic() - started < 5
    _wait_running(app, cid)
    moodle.gate.set()
    runs = _settle(app, cid)
    assert [(r.trigger, r.status) for r in runs] == [("launch", "done")], \
        [r.to_dict() for r in runs]
    calls_for_three_launches = len(moodle.calls())
    # What one read of this course costs, measured the same way.
    with app.app_context():
        from lti_badges.jobs import enqueue_sync

        enqueue_sync(cid, "manual")
    _settle(app, cid)
    one_read = len(moodle.calls()) - calls_for_three_launches
    # And what one learner's read costs (a launch's sync reads only that learner).
    with app.app_context():
        enqueue_sync(cid, "manual", only_person_sub="4")
    _settle(app, cid)
    one_learner = len(moodle.calls()) - calls_for_three_launches - one_read
    # The three learner pages share one read (the facts cache), the three launches one sync.
    assert 0 < one_learner <= one_read
    assert calls_for_three_launches == one_read + one_learner, \
        (calls_for_three_launches, one_read, one_learner)
    with app.app_context():
        assert [a.person.sub for a in db.session.scalars(db.select(Award))] == ["4"]


def test_requests_during_a_run_leave_one_follow_up(app, moodle_course):
    moodle, cid = moodle_course["moodle"], moodle_course["id"]
    with app.app_context():
        from lti_badges.jobs import enqueue_sync

        first = enqueue_sync(cid, "manual").id
        _wait_running(app, cid)
        # Eight requests at once, from threads, while the first run reads the course.
        got: list[int] = []

        def ask() -> None:
            with app.app_context():
                got.append(enqueue_sync(cid, "manual").id)

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(got) == 8 and len(set(got)) == 1 and first not in got, got
        db.session.expire_all()
        states = db.session.execute(db.select(SyncRun.id, SyncRun.status)
                                    .filter_by(course_id=cid).order_by(SyncRun.id)).all()
        assert [tuple(s) for s in states] == [(first, "running"), (got[0], "queued")]
    calls_before = len(moodle.calls())
    moodle.gate.set()
    runs = _settle(app, cid)
    # The follow-up started when the first run ended, in that run's worker.
    assert [(r.id, r.status) for r in runs] == [(first, "done"), (got[0], "done")]
    _no_overlap(runs)
    assert calls_before <= 1  # the first run was held at its first call


def test_a_run_whose_worker_died_does_not_block_the_course(app, moodle_course):
    moodle, cid = moodle_course["moodle"], moodle_course["id"]
    moodle.gate.set()
    with app.app_context():
        # A worker took this run and died: its lease ran out a minute ago.
        dead = SyncRun(course_id=cid, trigger="schedule", status="running",
                       started_at=utcnow() - timedelta(minutes=10),
                       lease_until=utcnow() - timedelta(minutes=1))
        db.session.add(dead)
        db.session.commit()
        dead_id = dead.id
        from lti_badges.jobs import enqueue_sync

        new = enqueue_sync(cid, "manual").id
    runs = {r.id: r for r in _settle(app, cid)}
    assert runs[new].status == "done"
    assert runs[dead_id].status == "failed"
    assert "stopped" in runs[dead_id].errors[0]["error"]


def test_a_live_run_is_not_taken_over(app, moodle_course):
    cid = moodle_course["id"]
    with app.app_context():
        alive = SyncRun(course_id=cid, trigger="schedule", status="running",
                        started_at=utcnow(), lease_until=utcnow() + timedelta(minutes=5))
        db.session.add(alive)
        db.session.commit()
        from lti_badges.jobs import enqueue_sync

        follow_up = enqueue_sync(cid, "manual")
        time.sleep(1.0)  # its task ran and found the course busy
        db.session.expire_all()
        assert db.session.get(SyncRun, alive.id).status == "running"
        assert db.session.get(SyncRun, follow_up.id).status == "queued"
        follow_up_id = follow_up.id
    # The teacher's panel says why it waits.
    status = moodle_course["teacher"].get(
        moodle_course["tool"].url(f"/course/{cid}/studio/sync/{follow_up_id}"),
        headers={CREDENTIAL: moodle_course["token"], "Accept": "application/json"})
    assert status.status_code == 200
    assert status.json()["message"] == "Waiting for the sync under way to finish…"


@pytest.mark.parametrize(("phase", "age", "joins"), [
    ("reading moodle", 2, True),  # still reading: it reads this launch too
    ("evaluating", 2, False),  # it has read the launches already: one follow-up
    ("reading moodle", 120, False),  # it began long before this launch
])
def test_a_launch_joins_a_run_only_while_it_can_still_see_it(app, moodle_course, phase, age,
                                                             joins):
    cid = moodle_course["id"]
    with app.app_context():
        running = SyncRun(course_id=cid, trigger="launch", status="running", phase=phase,
                          person_sub="4", started_at=utcnow() - timedelta(seconds=age),
                          lease_until=utcnow() + timedelta(minutes=5))
        db.session.add(running)
        db.session.commit()
        from lti_badges.jobs import enqueue_sync

        served = enqueue_sync(cid, "launch", only_person_sub="4")
        assert (served.id == running.id) is joins
        assert served.status == ("running" if joins else "queued")
        # Another learner's launch is never served by a run of one learner.
        other = enqueue_sync(cid, "launch", only_person_sub="5")
        assert other.id != running.id and other.status == "queued"
        # Two learners waiting on one queued run: it evaluates the whole course.
        assert other.person_sub == ("5" if joins else None)


def test_a_run_that_lapsed_its_lease_stops_and_the_taker_finishes(app, moodle_course):
    """A worker too slow to renew its lease (here: a Moodle that answers after the lease) is
    taken over; when it wakes up it stops instead of running beside the new run."""
    moodle, cid = moodle_course["moodle"], moodle_course["id"]
    app.config["SYNC_LEASE_SECONDS"] = 1
    with app.app_context():
        from lti_badges.jobs import enqueue_sync

        slow = enqueue_sync(cid, "manual").id
        _wait_running(app, cid)
        time.sleep(1.5)  # held at its first call to Moodle: no sign of life
        taker = enqueue_sync(cid, "manual").id
        assert taker != slow
    app.config["SYNC_LEASE_SECONDS"] = 300
    moodle.gate.set()
    runs = {r.id: r for r in _settle(app, cid)}
    assert runs[slow].status == "failed" and "stopped" in runs[slow].errors[0]["error"]
    assert runs[taker].status == "done"
    with app.app_context():
        assert [a.person.sub for a in db.session.scalars(db.select(Award))] == ["4"]
