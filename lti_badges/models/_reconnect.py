"""Riding out a database restart: roll back, wait for the database, do the step again.

The engine pings a pooled connection before lending it (``pool_pre_ping``), so once the
server is back the next checkout reconnects; what a restart breaks is the transaction in
flight. A step given to :func:`with_reconnect` must therefore be safe to run again from
its beginning: it sets what it writes and commits, or reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from lti_badges.extensions import db

log = logging.getLogger("lti_badges.db")
T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database did not come back in time; ``str()`` is one line for a person."""


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection (server restarting), or SQLite busy: worth a retry."""
    return isinstance(exc, DBAPIError) and (
        bool(exc.connection_invalidated) or isinstance(exc, OperationalError | InterfaceError))


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{orig.__class__.__name__}: {first}"[:300]


def with_reconnect(step: Callable[[], T], *, seconds: float, what: str = "database work",
                   on_retry: Callable[[], None] | None = None) -> T:
    """Run ``step``; on a transient database error roll back, wait until the database answers
    (at most ``seconds`` in all) and run it again. ``on_retry`` runs before each new try."""
    deadline = time.monotonic() + seconds
    retrying = False
    while True:
        try:
            if retrying and on_retry is not None:
                on_retry()
            return step()
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            db.session.rollback()
            if time.monotonic() > deadline:
                raise DatabaseUnavailable(
                    f"the database kept failing ({_one_line(exc)})") from exc
            log.warning("%s: the database connection failed (%s); retrying", what, _one_line(exc))
            _wait_for_database(deadline, exc)
            retrying = True


def _wait_for_database(deadline: float, first: BaseException) -> None:
    delay = 0.2
    last: BaseException = first
    while time.monotonic() < deadline:
        time.sleep(delay)
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
            return
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            db.session.rollback()
            last = exc
            delay = min(delay * 2, 2.0)
    raise DatabaseUnavailable(f"the database could not be reached ({_one_line(last)})") from last
