"""The durable outbox of backpack pushes: one row per (award, backpack connection).

A push is written to the database before anything is sent, so nothing is lost when
a worker dies. Workers take due rows with a *claim*: one conditional UPDATE that
succeeds for exactly one worker (``WHERE id = ? AND (state = 'pending' AND due) OR
(state = 'in_progress' AND lease expired)``), setting a lease (``locked_until``).
A worker killed mid-push leaves its row ``in_progress``; when the lease runs out the
row is due again and another worker sends it once more. That second send is safe:
OB 3.0 upsert replaces by credential id and OB 2.1 "create or update" (or an
"already exists" answer) counts as success, so a retry never makes a duplicate.

Retries use exponential backoff on network errors, 429 and 5xx, waiting at least
what ``Retry-After`` asks; after ``max_attempts`` the row is ``gave_up`` and the
learner can retry by hand. The clock is passed in (``now``) so tests never sleep.
No home-made lock service: the database's atomic UPDATE is the lock (DESIGN.md
"Scaling out").
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from lti_badges.backpack.http import RETRY, SUCCESS, PushResult
from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models.backpack import BackpackConnection, BackpackPush
from lti_badges.models.issuing import Award

log = logging.getLogger(__name__)

PENDING, IN_PROGRESS, DONE, FAILED, GAVE_UP = "pending", "in_progress", "done", "failed", "gave_up"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 60.0  # seconds before the second attempt
    max_delay: float = 6 * 3600.0
    max_retry_after: float = 24 * 3600.0  # a longer Retry-After is capped
    lease: float = 120.0  # how long a claim holds a row

    @classmethod
    def from_config(cls, config: Any) -> RetryPolicy:
        return cls(
            max_attempts=int(config.get("BACKPACK_MAX_ATTEMPTS", cls.max_attempts)),
            base_delay=float(config.get("BACKPACK_BACKOFF_BASE_SECONDS", cls.base_delay)),
            max_delay=float(config.get("BACKPACK_BACKOFF_MAX_SECONDS", cls.max_delay)),
            lease=float(config.get("BACKPACK_LEASE_SECONDS", cls.lease)))

    def backoff(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt (1-based): base, 2×base, 4×base…"""
        return min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))

    def delay(self, attempts: int, retry_after: float | None) -> float:
        wait = self.backoff(attempts)
        if retry_after:
            # RFC 9110 §10.2.3 / RFC 6585 §4: never come back sooner than asked.
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


def enqueue(award: Award, connection: BackpackConnection, *, form: str | None = None,
            now: datetime | None = None) -> BackpackPush:
    """The push row for (award, connection), created or re-armed; committed before return.

    An existing ``done`` row is returned as is (the badge is there); ``failed`` and
    ``gave_up`` rows are re-armed (a retry by hand); a row in flight is left alone.
    """
    now = now or utcnow()
    push = db.session.scalar(db.select(BackpackPush).filter_by(award_id=award.id,
                                                               connection_id=connection.id))
    if push is None:
        push = BackpackPush(award=award, connection=connection, form=form, state=PENDING,
                            attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
                            last_message="Waiting to be sent to your backpack.")
        db.session.add(push)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:  # another request enqueued it at the same moment
            db.session.rollback()
            push = db.session.scalar(db.select(BackpackPush).filter_by(
                award_id=award.id, connection_id=connection.id))
        return push
    if push.state in (FAILED, GAVE_UP):
        rearm(push, now=now, form=form)
    return push


def rearm(push: BackpackPush, *, now: datetime | None = None, form: str | None = None) -> bool:
    """Retry by hand: a ``failed`` or ``gave_up`` row becomes due now with a fresh count.
    False when the row is in any other state (nothing to retry)."""
    now = now or utcnow()
    values: dict[str, Any] = {"state": PENDING, "attempts": 0, "next_attempt_at": now,
                              "locked_until": None, "lease_owner": None, "updated_at": now,
                              "last_message": "Waiting to be sent to your backpack again."}
    if form:
        values["form"] = form
    result = db.session.execute(
        sa.update(BackpackPush)
        .where(BackpackPush.id == push.id, BackpackPush.state.in_((FAILED, GAVE_UP)))
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(push)
    return result.rowcount == 1


def _due_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(BackpackPush.state == PENDING, BackpackPush.next_attempt_at <= now),
        # A worker's lease ran out (killed or stuck): the row is due again.
        sa.and_(BackpackPush.state == IN_PROGRESS, BackpackPush.locked_until <= now),
    )


def due_ids(now: datetime, limit: int) -> list[int]:
    return list(db.session.scalars(
        db.select(BackpackPush.id).where(_due_clause(now))
        .order_by(BackpackPush.next_attempt_at, BackpackPush.id).limit(limit)))


def claim(push_id: int, owner: str, now: datetime, lease: float) -> bool:
    """Take one row for ``owner`` until ``now + lease``; True for exactly one caller.

    The attempt is counted here, so an attempt a killed worker never finished counts too.
    """
    result = db.session.execute(
        sa.update(BackpackPush)
        .where(BackpackPush.id == push_id, _due_clause(now))
        .values(state=IN_PROGRESS, lease_owner=owner,
                locked_until=now + timedelta(seconds=lease),
                attempts=BackpackPush.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def finish(push_id: int, owner: str, result: PushResult, now: datetime,
           policy: RetryPolicy) -> str | None:
    """Record an attempt's result; returns the new state, or None when this worker's lease
    had been taken over (the other worker's result stands)."""
    push = db.session.get(BackpackPush, push_id, populate_existing=True)
    if push is None:
        return None
    values: dict[str, Any] = {"last_status": result.status, "last_outcome": result.outcome,
                              "last_message": result.message, "locked_until": None,
                              "lease_owner": None, "updated_at": now}
    if result.outcome in SUCCESS:
        values.update(state=DONE, done_at=now)
        if result.form:
            values["form"] = result.form
    elif result.outcome == RETRY:
        if push.attempts >= policy.max_attempts:
            values.update(state=GAVE_UP, last_message=(
                f"The tool gave up after {push.attempts} tries. Last problem: {result.message} "
                "You can retry."))
        else:
            values.update(state=PENDING, next_attempt_at=now + timedelta(
                seconds=policy.delay(push.attempts, result.retry_after)))
    else:
        values.update(state=FAILED)
    updated = db.session.execute(
        sa.update(BackpackPush)
        .where(BackpackPush.id == push_id, BackpackPush.lease_owner == owner,
               BackpackPush.state == IN_PROGRESS)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    if updated.rowcount != 1:
        log.info("backpack push %s: lease lost by %s, result dropped", push_id, owner)
        return None
    return values["state"]


Deliver = Callable[[BackpackPush, datetime], PushResult]


def process_due(deliver: Deliver, *, now: datetime | None = None, limit: int = 20,
                policy: RetryPolicy | None = None, worker_id: str | None = None) -> dict[str, Any]:
    """Send up to ``limit`` due pushes; returns counts by resulting state."""
    now = now or utcnow()
    policy = policy or RetryPolicy()
    owner = worker_id or secrets.token_hex(8)
    summary: Counter[str] = Counter()
    for push_id in due_ids(now, limit):
        if not claim(push_id, owner, now, policy.lease):
            summary["skipped"] += 1  # another worker got it first
            continue
        push = db.session.get(BackpackPush, push_id, populate_existing=True)
        try:
            result = deliver(push, now)
        except Exception:  # one bad row must not stop the batch; retried with backoff
            log.exception("backpack push %s failed unexpectedly", push_id)
            db.session.rollback()
            result = PushResult(RETRY, "Something went wrong in the tool while sending; "
                                "it will try again.")
        state = finish(push_id, owner, result, now, policy)
        summary[state or "lease_lost"] += 1
    summary["processed"] = sum(v for k, v in summary.items() if k != "skipped")
    return dict(summary)
