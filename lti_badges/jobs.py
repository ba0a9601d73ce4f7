"""Background work: in-process threads by default, Celery workers on Redis when
``LTI_BADGES_BROKER_URL`` is set (DESIGN.md "Scaling out").

Callers enqueue by task name; both back ends run the same task functions
inside an application context. Progress and outcome live in the database
(``SyncRun``), never in the broker, so any process can show them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

log = logging.getLogger("lti_badges.jobs")


def _sync_task(course_id: int, run_id: int, trigger: str,
               only_person_sub: str | None = None) -> dict[str, Any]:
    from lti_badges.awarding import sync_course

    return sync_course(course_id, trigger=trigger, run_id=run_id,
                       only_person_sub=only_person_sub).to_json()


def _sync_all_task() -> dict[str, Any]:
    return {"queued": [run.id for run in enqueue_all("schedule")]}


def _outbox_task() -> dict[str, Any]:
    from lti_badges.backpack.service import process_outbox

    return process_outbox()


TASKS: dict[str, Callable[..., Any]] = {"sync_course": _sync_task, "sync_all": _sync_all_task,
                                        "process_outbox": _outbox_task,
                                        "sync_learner": _sync_task}


def _mark_failed(run_id: int | None, exc: BaseException) -> None:
    from lti_badges.extensions import db
    from lti_badges.models import SyncRun
    from lti_badges.models._time import utcnow

    db.session.rollback()
    if run_id is None:
        return
    run = db.session.get(SyncRun, run_id)
    if run is not None and run.status in ("queued", "running"):
        run.status, run.finished_at = "failed", utcnow()
        run.errors = [*(run.errors or []), {"error": f"{exc.__class__.__name__}: {exc}"}]
        db.session.commit()


def run_task(app: Flask, name: str, kwargs: dict[str, Any]) -> Any:
    with app.app_context():
        try:
            return TASKS[name](**kwargs)
        except Exception as exc:
            log.exception("task %s failed", name)
            _mark_failed(kwargs.get("run_id"), exc)
            raise


class InProcessBackend:
    """A small thread pool in the web process: the embedded default."""

    def __init__(self, app: Flask, workers: int = 2):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lti-badges-job")

    def submit(self, name: str, **kwargs: Any) -> Future:
        return self.pool.submit(run_task, self.app, name, kwargs)


class CeleryBackend:
    def __init__(self, app: Flask, broker_url: str):
        self.app = app
        self.celery = make_celery(app, broker_url)

    def submit(self, name: str, **kwargs: Any) -> Any:
        return self.celery.send_task(f"lti_badges.{name}", kwargs=kwargs)


def make_celery(app: Flask, broker_url: str) -> Any:
    from celery import Celery

    celery = Celery("lti_badges", broker=broker_url)
    celery.conf.update(task_acks_late=True, task_reject_on_worker_lost=True,
                       worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True,
                       task_ignore_result=True)
    for name in TASKS:
        def task(_name: str = name, **kwargs: Any) -> Any:
            return run_task(app, _name, kwargs)

        celery.task(name=f"lti_badges.{name}")(task)
    schedule: dict[str, Any] = {}
    interval = int(app.config.get("SYNC_INTERVAL_MINUTES") or 0)
    if interval:
        schedule["sync-all"] = {"task": "lti_badges.sync_all", "schedule": interval * 60.0}
    outbox = int(app.config.get("OUTBOX_INTERVAL_SECONDS") or 0)
    if outbox:
        schedule["outbox"] = {"task": "lti_badges.process_outbox", "schedule": float(outbox)}
    celery.conf.beat_schedule = schedule
    return celery


def backend() -> InProcessBackend | CeleryBackend:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    existing = app.extensions.get("lti_badges.jobs")
    if existing is None:
        broker = app.config.get("BROKER_URL")
        existing = CeleryBackend(app, broker) if broker else InProcessBackend(app)
        app.extensions["lti_badges.jobs"] = existing
    return existing


def enqueue_sync(course_id: int, trigger: str, only_person_sub: str | None = None) -> Any:
    """Queue a sync; returns its SyncRun at once (status queued)."""
    from lti_badges.awarding import start_run
    from lti_badges.extensions import db
    from lti_badges.models import Course

    course = db.session.get(Course, course_id)
    run = start_run(course, trigger)
    backend().submit("sync_course", course_id=course_id, run_id=run.id, trigger=trigger,
                     only_person_sub=only_person_sub)
    return run


def enqueue_learner_sync(course_id: int, person_sub: str, trigger: str = "notice") -> Any:
    """Queue a sync of one learner (a signed notice): every rule-bound badge of the course,
    that learner's facts only; its own task, so course-wide scheduling does not hold it."""
    from lti_badges.awarding import start_run
    from lti_badges.extensions import db
    from lti_badges.models import Course

    run = start_run(db.session.get(Course, course_id), trigger)
    backend().submit("sync_learner", course_id=course_id, run_id=run.id, trigger=trigger,
                     only_person_sub=person_sub)
    return run


def enqueue_all(trigger: str = "schedule") -> list[Any]:
    """A sync for every course with rule-bound badges on an active platform."""
    from lti_badges.extensions import db
    from lti_badges.models import Badge, Course, Platform

    ids = db.session.scalars(
        db.select(Course.id).join(Platform).where(Platform.status == "active")
        .where(Course.id.in_(db.select(Badge.course_id).where(Badge.rule.is_not(None),
                                                               Badge.archived.is_(False))))
        .order_by(Course.id)).all()
    return [enqueue_sync(cid, trigger) for cid in ids]


def kick_outbox() -> None:
    """Try due backpack pushes now (a push queued by a learner should not wait a cycle)."""
    backend().submit("process_outbox")


class Scheduler(threading.Thread):
    """The in-process schedule: every ``SYNC_INTERVAL_MINUTES``, queue every active course."""

    def __init__(self, app: Flask, minutes: int):
        super().__init__(daemon=True, name="lti-badges-scheduler")
        self.app, self.seconds = app, minutes * 60
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds):
            with self.app.app_context():
                try:
                    enqueue_all("schedule")
                except Exception:
                    log.exception("scheduled sync failed to start")


class OutboxWorker(threading.Thread):
    """The in-process outbox: every ``OUTBOX_INTERVAL_SECONDS``, push what is due. Rows are
    claimed with a lease in the database, so this may run beside Celery workers safely."""

    def __init__(self, app: Flask, seconds: int):
        super().__init__(daemon=True, name="lti-badges-outbox")
        self.app, self.seconds = app, seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds):
            try:
                run_task(self.app, "process_outbox", {})
            except Exception:
                log.exception("outbox round failed")
