"""One sync per course at a time, across web processes and Celery workers.

The ``SyncRun`` rows are the lock (DESIGN.md "Scaling out": the database's constraints, no
home-made lock service): two partial unique indexes allow a course one run ``running`` and
one ``queued``. So:

- asking for a sync while one is queued joins that run (its scope widens to the whole
  course when another learner asks);
- asking while one runs leaves the one follow-up (the queued run), which the worker of the
  running run starts when it ends — however many ask meanwhile;
- a learner's launch joins a run that covers them, started less than
  ``SYNC_LAUNCH_JOIN_SECONDS`` ago and is still reading the course (it reads the launches,
  the news of a launch, after that) instead;
- a running run renews its lease (``SYNC_LEASE_SECONDS``) while it works; a run whose lease
  ran out lost its worker, and the next request for the course marks it failed and goes on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models import SyncRun

ACTIVE = ("queued", "running")
FINISHED = ("done", "partial", "failed")
# Triggers whose request joins a run already under way rather than leaving a follow-up.
JOINS_RUNNING = frozenset({"launch"})
LEASE_LOST_MESSAGE = ("this sync gave no sign of life for too long and another sync of the "
                      "course took over (raise SYNC_LEASE_SECONDS if the course is slow to read)")
STALE_MESSAGE = ("The worker running this sync stopped (no sign of life for {s} s); the next "
                 "sync of the course took over.")


class LeaseLost(Exception):
    """The run was taken over (its lease lapsed): its worker stops before writing more."""


def _seconds(key: str, default: int) -> int:
    return int(current_app.config.get(key) or default)


def lease_seconds() -> int:
    return _seconds("SYNC_LEASE_SECONDS", 300)


def covers(run: SyncRun, person_sub: str | None) -> bool:
    """Whether ``run`` evaluates the learner ``person_sub`` (None: the whole course)."""
    return run.person_sub is None or run.person_sub == person_sub


def active(course_id: int, status: str) -> SyncRun | None:
    return db.session.scalar(db.select(SyncRun).filter_by(course_id=course_id, status=status))


def _stale_since(now: datetime) -> Any:
    lease = timedelta(seconds=lease_seconds())
    return or_(SyncRun.lease_until < now,
               SyncRun.lease_until.is_(None) & (SyncRun.started_at < now - lease))


def reap_stale(course_id: int) -> bool:
    """Mark failed a running run whose worker stopped renewing its lease; True if one was.
    A read first: the write (a lock on SQLite) only when there is one to mark."""
    now = utcnow()
    lease = lease_seconds()
    stale = _stale_since(now)
    if db.session.scalar(db.select(SyncRun.id).where(
            SyncRun.course_id == course_id, SyncRun.status == "running", stale)) is None:
        return False
    res = db.session.execute(
        update(SyncRun).where(SyncRun.course_id == course_id, SyncRun.status == "running",
                              stale)
        .values(status="failed", phase="stopped", finished_at=now,
                errors=[{"error": STALE_MESSAGE.format(s=lease)}])
        .execution_options(synchronize_session=False))
    db.session.commit()
    return bool(res.rowcount)


def request_run(course_id: int, trigger: str, person_sub: str | None = None) -> SyncRun:
    """The run that will serve this request: one joined, or a new queued one (committed)."""
    joined: SyncRun | None = None
    for _ in range(10):  # each turn loses a race to another request at most
        reap_stale(course_id)
        if trigger in JOINS_RUNNING:
            running = active(course_id, "running")
            recent = utcnow() - timedelta(seconds=_seconds("SYNC_LAUNCH_JOIN_SECONDS", 15))
            if running is not None and covers(running, person_sub) and running.started_at \
                    and running.started_at >= recent and (running.phase or "").startswith(
                        "reading"):
                return running
        queued = active(course_id, "queued")
        if queued is not None:
            widen = not covers(queued, person_sub)
            res = db.session.execute(
                update(SyncRun).where(SyncRun.id == queued.id, SyncRun.status == "queued")
                .values(person_sub=None if widen else SyncRun.person_sub)
                .execution_options(synchronize_session=False))
            db.session.commit()
            if res.rowcount:
                db.session.refresh(queued)
                return queued
            joined = queued
            continue  # a worker took it just now: it is the running one, look again
        run = SyncRun(course_id=course_id, trigger=trigger, status="queued",
                      person_sub=person_sub)
        db.session.add(run)
        try:
            db.session.commit()
            return run
        except IntegrityError:  # another request queued one at the same moment: join it
            db.session.rollback()
    assert joined is not None
    return joined


def claim(run_id: int) -> tuple[str, SyncRun | None]:
    """Take the queued run ``run_id`` to run it here: ``("claimed", run)``; ``("busy", run)``
    while another run of the course holds it; ``("gone", run)`` when the run is no longer
    queued (another worker took it, or it finished)."""
    for _ in range(3):
        now = utcnow()
        try:
            res = db.session.execute(
                update(SyncRun).where(SyncRun.id == run_id, SyncRun.status == "queued")
                .values(status="running", started_at=now, phase="reading",
                        lease_until=now + timedelta(seconds=lease_seconds()))
                .execution_options(synchronize_session=False))
            db.session.commit()
        except IntegrityError:  # the course has a running run
            db.session.rollback()
            run = db.session.get(SyncRun, run_id)
            if run is not None and reap_stale(run.course_id):
                continue
            return "busy", run
        run = db.session.get(SyncRun, run_id)
        if run is not None:
            db.session.refresh(run)
        return ("claimed" if res.rowcount else "gone"), run
    return "busy", db.session.get(SyncRun, run_id)


def renew(run: SyncRun) -> None:
    """The worker is alive: push the lease on (the caller's next commit writes it)."""
    run.lease_until = utcnow() + timedelta(seconds=lease_seconds())


def next_queued(course_id: int) -> int | None:
    return db.session.scalar(db.select(SyncRun.id).filter_by(course_id=course_id,
                                                              status="queued"))


def fail(run_id: int, reason: str) -> None:
    """Best effort: the run ends ``failed`` with a one-line reason (the database may be
    the reason, so a failure here is left to the lease)."""
    try:
        db.session.rollback()
        run = db.session.get(SyncRun, run_id)
        if run is not None and run.status in ACTIVE:
            run.status, run.phase, run.finished_at = "failed", "stopped", utcnow()
            run.errors = [*(run.errors or []), {"error": reason}]
            db.session.commit()
    except Exception as exc:  # the lease will say it later
        current_app.logger.warning("could not mark sync run %s failed: %s", run_id,
                                   exc.__class__.__name__)
        db.session.rollback()
