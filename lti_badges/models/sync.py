"""Course sync bookkeeping: launch events (facts for the `launched` rule), sync runs, and when
the tool first saw a value its source does not date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lti_badges.clock import utcnow
from lti_badges.extensions import db


class LaunchEvent(db.Model):
    """A person opened a resource link of a course (one row per launch)."""

    __tablename__ = "launch_events"
    __table_args__ = (sa.Index("ix_launch_events_course_person", "course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(500))
    launched_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncRun(db.Model):
    """One evaluation of a course: progress the teacher's page shows, and what came of it."""

    __tablename__ = "sync_runs"
    # One sync per course at a time, across processes and workers: at most one run running
    # and one queued (the follow-up) per course. The database enforces it; no lock service.
    __table_args__ = tuple(
        sa.Index(f"ix_sync_runs_one_{state}", "course_id", unique=True,
                 sqlite_where=sa.text(f"status = '{state}'"),
                 postgresql_where=sa.text(f"status = '{state}'"))
        for state in ("queued", "running"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    trigger: Mapped[str] = mapped_column(sa.String(16))  # manual | launch | schedule | cli
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    # queued | running | done | failed | partial (a source could not be read: nothing awarded)
    # Whom the run evaluates: one learner (LTI sub) or, when None, the whole course.
    person_sub: Mapped[str | None] = mapped_column(sa.String(255))
    # A running run's worker renews this while it works; past it, the worker is presumed
    # dead and the next sync of the course takes over (the run becomes failed).
    lease_until: Mapped[datetime | None]
    phase: Mapped[str | None] = mapped_column(sa.String(40))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    awarded: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # Fingerprint of the facts last evaluated, so an unchanged course issues nothing.
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        return 100 if self.status in ("done", "partial", "failed") else (
            int(100 * self.done / self.total) if self.total else 0)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "course": self.course_id, "trigger": self.trigger,
                "status": self.status, "phase": self.phase, "done": self.done,
                "total": self.total, "percent": self.percent, "awarded": self.awarded,
                "errors": self.errors or []}


class FactSeen(db.Model):
    """When the tool first saw a learner's value of one item, for facts their source does not
    date (AGS results carry no time; some Moodle completions neither).

    One row per (course, learner, item): the value's digest and the moment a read first found
    that value. A new value (a regrade) restarts the clock; the same value read again keeps it.
    ``item_key`` is a SHA-256 of the source, kind and item id (ids such as AGS line item URLs
    are too long to index).
    """

    __tablename__ = "facts_seen"
    __table_args__ = (sa.UniqueConstraint("course_id", "user_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(sa.String(255))  # the LTI sub, as the roster says
    item_key: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[str] = mapped_column(sa.String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
