"""Course facts read from the LMS, cached per course for one process.

The learner's page and the teacher's studio show progress from the same reading of the
course (``awarding.read_course``): one cache serves both, with a TTL, one read at a time
per course, and stale facts served while a fresh read finishes; the studio drops the
course's entry when a sync it watches finishes, so the next page reads anew. Each read records
the roster (people and memberships: the studio's People page and award list show every
learner before any sync) and when undated facts were first seen (``awarding.observe``).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app

from lti_badges import awarding
from lti_badges.extensions import db
from lti_badges.models import Course
from lti_badges.sources.base import CourseFacts

log = logging.getLogger("lti_badges.facts")

DEFAULT_TTL = 120.0  # seconds a course's facts serve learner pages
ERROR_TTL = 15.0  # seconds a failed read is remembered


@dataclass
class _Entry:
    facts: CourseFacts
    stored: float  # time.monotonic() when stored
    ttl: float


@dataclass
class FactsCache:
    """Course facts per course id for one app: TTL, single flight, stale while revalidate."""

    app: Flask
    entries: dict[int, _Entry] = field(default_factory=dict)
    pending: dict[int, Future] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=2, thread_name_prefix="lti-badges-facts"))

    def get(self, course_id: int, wait: float, *, stale_wait: float = 1.0,
            synced_at: datetime | None = None) -> CourseFacts | None:
        """The course's facts, or None when a first read is still running after ``wait`` s.

        An entry older than its TTL, or than ``synced_at`` (a sync finished since: grades
        have likely moved), is refreshed; the page waits ``stale_wait`` s for the new read
        and otherwise gets the old facts while the read finishes in the background.
        """
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(course_id)
            if entry is not None and now - entry.stored < entry.ttl and not (
                    synced_at is not None and synced_at > entry.facts.read_at):
                return entry.facts
            future = self.pending.get(course_id)
            if future is None:
                future = self.pool.submit(self._read, course_id)
                self.pending[course_id] = future
        try:
            return future.result(timeout=wait if entry is None else min(wait, stale_wait))
        except FutureTimeout:
            return entry.facts if entry is not None else None
        except Exception as exc:  # the reader itself broke: progress unavailable, page fine
            log.exception("the course facts reader failed")
            return CourseFacts(source="error", errors=(f"{exc.__class__.__name__}: {exc}",))

    def put(self, course_id: int, facts: CourseFacts) -> None:
        """Facts another reader just got (e.g. a sync), so learner pages need not read again."""
        ttl = float(self.app.config.get("LEARNER_FACTS_TTL", DEFAULT_TTL))
        with self.lock:
            self.entries[course_id] = _Entry(facts, time.monotonic(),
                                             min(ttl, ERROR_TTL) if failed(facts) else ttl)

    def peek(self, course_id: int) -> CourseFacts | None:
        """The course's facts if a fresh read is cached; never reads."""
        with self.lock:
            entry = self.entries.get(course_id)
            if entry is not None and time.monotonic() - entry.stored < entry.ttl:
                return entry.facts
        return None

    def forget(self, course_id: int, older_than: datetime | None = None) -> None:
        """Drop the course's read (only one made before ``older_than``, when given)."""
        with self.lock:
            entry = self.entries.get(course_id)
            if entry is not None and (older_than is None or entry.facts.read_at < older_than):
                self.entries.pop(course_id, None)

    def _read(self, course_id: int) -> CourseFacts:
        try:
            with self.app.app_context():
                try:
                    course = db.session.get(Course, course_id)
                    if course is None:
                        facts = CourseFacts(source="error",
                                            errors=("The course no longer exists.",))
                    else:
                        facts = awarding.read_course(course)
                        try:  # the roster and first-seen times, so pages show them at once
                            facts = awarding.observe(course, facts)
                        except Exception:  # a page still shows what was read
                            log.exception("recording the read of course %s failed", course_id)
                            db.session.rollback()
                except Exception as exc:  # a source failing outright: the page says unavailable
                    log.exception("reading course %s failed", course_id)
                    facts = CourseFacts(source="error",
                                        errors=(f"{exc.__class__.__name__}: {exc}",))
                finally:
                    db.session.remove()
            self.put(course_id, facts)
            return facts
        finally:
            with self.lock:
                self.pending.pop(course_id, None)


def failed(facts: CourseFacts) -> bool:
    """A read that did not get the whole course."""
    return facts.source in ("error", "none") or bool(facts.errors)




def facts_cache() -> FactsCache:
    """The app's cache (created on first use)."""
    ext = current_app.extensions
    cache = ext.get("lti_badges.learner_facts")
    if cache is None:
        cache = ext.setdefault("lti_badges.learner_facts",
                               FactsCache(current_app._get_current_object()))  # type: ignore[attr-defined]  # noqa: SLF001
    return cache
