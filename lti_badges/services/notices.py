"""Receiving a signed notice: verify it, spend its ``jti``, sync that one learner.

The route answers at once (contract (b): 202 with the queued run); the learner's
sync runs in the job queue and awards through the same exactly-once path as a
full sync (``awarding.sync_course`` with ``only_person_sub``), reading that
learner's facts only where the source can (the Moodle connector).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti_badges.extensions import db
from lti_badges.lti.notices import NOTICE_TYPES, NoticeError, spend_jti, verify_notice
from lti_badges.lti.platform_keys import PlatformKeyCache
from lti_badges.models import Badge, Course, Person


@dataclass(frozen=True)
class NoticeOutcome:
    status: int
    body: dict[str, Any]


def _ignored(reason: str) -> NoticeOutcome:
    return NoticeOutcome(200, {"status": "ignored", "reason": reason})


def receive_notice(token: str, config: Any, key_cache: PlatformKeyCache) -> NoticeOutcome:
    """Contract (b): 202 accepted (run id or null), 200 ignored; raises NoticeError (4xx)."""
    notice = verify_notice(token, config, key_cache)
    try:
        spend_jti(notice)
        db.session.commit()
    except NoticeError:
        db.session.rollback()
        raise
    if notice.type not in NOTICE_TYPES:
        return _ignored(f"unknown notice type {notice.type!r}")
    course = db.session.scalar(db.select(Course).where(
        Course.platform_id == notice.platform.id, Course.context_id == notice.context_id,
        Course.deployment_id == notice.deployment.id))
    if course is None:
        return _ignored(f"unknown course {notice.context_id!r}")
    person = db.session.scalar(db.select(Person).where(
        Person.platform_id == notice.platform.id, Person.sub == notice.subject))
    if person is None:
        return _ignored(f"unknown user {notice.subject!r}")
    has_rules = db.session.scalar(db.select(Badge.id).where(
        Badge.course_id == course.id, Badge.rule.is_not(None), Badge.archived.is_(False))
        .limit(1))
    if not has_rules:
        return NoticeOutcome(202, {"status": "accepted", "run": None})
    from lti_badges.jobs import enqueue_sync

    # "notice" never joins a run already reading: it leaves a follow-up (services.sync_runs).
    run = enqueue_sync(course.id, "notice", only_person_sub=notice.subject)
    return NoticeOutcome(202, {"status": "accepted", "run": run.id})
