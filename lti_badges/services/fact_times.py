"""What time a fact has, when its source gives none.

A rule's ``from`` / ``until`` window needs a time for every fact. The source's own time is
used where it has one (the Moodle connector's ``timemodified`` / ``timecompleted``, an AGS
result's ``timestamp`` where the platform sends one); AGS 2.0 results carry no time at all
(§3.3), nor do some Moodle completions. For those the time is **when the tool first saw
that value**: every read of the course (a sync, the studio's preview, the learner page)
records, per (course, learner, item), the value and the moment it was first read; a new
value (a regrade) restarts the clock, the same value read again keeps it. Such facts carry
``time_basis="first_seen"`` and the rule explanations say "first seen by the tool on …",
never that the LMS gave the grade that day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy.exc import IntegrityError

from lti_badges.criteria.facts import FIRST_SEEN, Facts
from lti_badges.extensions import db
from lti_badges.models import Course, FactSeen
from lti_badges.sources.base import CourseFacts


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()


def _undated(facts: Facts) -> Iterator[tuple[str, str, Any]]:
    """(item key, value digest, fact) for each fact of a learner that has no time."""
    for grade in facts.grades:
        if grade.time is None:
            yield (_digest("grade", grade.source, grade.item_id),
                   _digest(grade.score, grade.maximum, grade.minimum), grade)
    for done in facts.completions:
        if done.time is None:
            yield (_digest("completion", done.source, done.activity_id),
                   _digest(str(done.state)), done)
    course = facts.course_completion
    if course is not None and course.time is None:
        yield _digest("course", course.source), _digest("complete"), course


def stamp(course: Course, facts: CourseFacts, now: datetime | None = None) -> CourseFacts:
    """``facts`` with every undated fact given the time the tool first saw its value (stored,
    and committed, here). Facts that carry their source's time are left alone."""
    wanted: dict[tuple[str, str], str] = {}
    for uid, learner in facts.facts.items():
        for key, value, _ in _undated(learner):
            wanted.setdefault((uid, key), value)
    if not wanted:
        return facts
    seen_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    known = _record(course.id, wanted, seen_at)

    def dated(uid: str, learner: Facts) -> Facts:
        times: dict[int, datetime] = {}
        for key, value, fact in _undated(learner):
            row = known.get((uid, key))
            if row is not None and row[0] == value:
                times[id(fact)] = row[1].replace(tzinfo=UTC)

        def fix(fact: Any) -> Any:
            when = times.get(id(fact))
            return fact if when is None else replace(fact, time=when, time_basis=FIRST_SEEN)

        if not times:
            return learner
        return replace(learner, grades=tuple(fix(g) for g in learner.grades),
                       completions=tuple(fix(c) for c in learner.completions),
                       course_completion=fix(learner.course_completion)
                       if learner.course_completion is not None else None)

    return replace(facts, facts=MappingProxyType(
        {uid: dated(uid, learner) for uid, learner in facts.facts.items()}))


def _load(course_id: int) -> dict[tuple[str, str], FactSeen]:
    return {(r.user_id, r.item_key): r for r in db.session.scalars(
        db.select(FactSeen).where(FactSeen.course_id == course_id))}


def _record(course_id: int, wanted: dict[tuple[str, str], str],
            seen_at: datetime) -> dict[tuple[str, str], tuple[str, datetime]]:
    """Store first-seen rows for ``wanted`` values; return (value, first seen) per key."""
    for _attempt in range(2):
        rows = _load(course_id)
        new = [(k, v) for k, v in wanted.items() if k not in rows]
        for key, value in wanted.items():
            row = rows.get(key)
            if row is not None and row.value != value:  # a new value: the clock restarts
                row.value, row.first_seen_at = value, seen_at
        try:
            with db.session.begin_nested():
                db.session.add_all(FactSeen(course_id=course_id, user_id=uid, item_key=key,
                                            value=value, first_seen_at=seen_at)
                                   for (uid, key), value in new)
            db.session.commit()
            break
        except IntegrityError:  # another reader of the course stored some first: take theirs
            db.session.rollback()
    else:
        return {}
    return {k: (r.value, r.first_seen_at) for k, r in _load(course_id).items() if k in wanted}
