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


def _sync_task(course_id: int, run_id: int, trigger: str = "manual",
               only_person_sub: str | None = None) -> dict[str, Any]:
    """Run the queued run ``run_id`` (its scope is on the row; the other arguments stay for
    messages queued by an older version)."""
    from lti_badges.awarding import sync_course

    return sync_course(course_id, trigger=trigger, run_id=run_id).to_json()


def _sync_all_task() -> dict[str, Any]:
    return {"queued": [run.id for run in enqueue_all("schedule")]}


def _purge_task() -> dict[str, Any]:
    from lti_badges.extensions import db
    from lti_badges.lti.launch import purge_expired

    purged = purge_expired()
    db.session.commit()
    return {"login_states_purged": purged}


def _outbox_task() -> dict[str, Any]:
    from lti_badges.backpack.service import process_outbox

    return process_outbox()


TASKS: dict[str, Callable[..., Any]] = {"sync_course": _sync_task, "sync_all": _sync_all_task,
                                        "process_outbox": _outbox_task,
                                        "purge_login_states": _purge_task}


def _mark_failed(run_id: int | None, exc: BaseException) -> None:
    from lti_badges.extensions import db
    from lti_badges.services import sync_runs

    db.session.rollback()
    if run_id is not None:
        sync_runs.fail(run_id, f"{exc.__class__.__name__}: {exc}")


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
    # Login states nobody used: gone within a lifetime of theirs after they expire.
    schedule["purge-login-states"] = {"task": "lti_badges.purge_login_states",
                                      "schedule": float(app.config["LOGIN_STATE_TTL_SECONDS"])}
    outbox = int(app.config.get("OUTBOX_INTERVAL_SECONDS") or 0)
    if outbox:
        schedule["outbox"] = {"task": "lti_badges.process_outbox", "schedule": float(outbox)}
    celery.conf.beat_schedule = schedule
    return celery


def backend() -> InProcessBackend | CeleryBackend:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    existing = app.extensions.get("lti_badges.jobs")
    if existing is None:
        broker = app.config.get("BROKER_URL")
        existing = CeleryBackend(app, broker) if broker else InProcessBackend(app)
        app.extensions["lti_badges.jobs"] = existing
    return existing


def enqueue_sync(course_id: int, trigger: str = "manual", only_person_sub: str | None = None,
                 *, person_id: int | None = None) -> Any:
    """Ask for a sync of the course — of one learner with ``only_person_sub`` (LTI sub) or
    ``person_id`` — and return at once the SyncRun that will serve it: a new queued run, or
    the run it joined (one sync per course at a time, see ``services.sync_runs``).

    The one entry point for every trigger: "manual" (studio), "launch", "schedule", "notice"
    (a platform's signed notice of a grade change: never joins a run already reading)."""
    from lti_badges.extensions import db
    from lti_badges.models import Person
    from lti_badges.services import sync_runs

    if person_id is not None and only_person_sub is None:
        person = db.session.get(Person, person_id)
        only_person_sub = person.sub if person is not None else None
    run = sync_runs.request_run(course_id, trigger, only_person_sub)
    if run.status == "queued":
        # Also when it joined a queued run: a worker that finds it taken does nothing, and a
        # run whose task was lost (its worker died) gets one.
        backend().submit("sync_course", course_id=course_id, run_id=run.id, trigger=trigger)
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
            try:
                run_task(self.app, "purge_login_states", {})
            except Exception:
                log.exception("purging expired login states failed")
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
