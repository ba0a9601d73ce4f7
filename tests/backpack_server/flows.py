"""The steps the backpack tests repeat: connect a learner, queue a push, run the outbox,
read rows back (detached, so they outlive the app context)."""

from __future__ import annotations

from datetime import datetime

from lti_badges.backpack import service
from lti_badges.extensions import db
from lti_badges.models import Award, BackpackConnection, BackpackPush, Person
from tests.backpack_server import BackpackServer


def connect(app, server: BackpackServer, person_id: int, *, prefer: str | None = None,
            address: str | None = None, now: datetime | None = None) -> int:
    """The whole connect flow with the backpack's automatic consent; returns the
    connection id."""
    with app.app_context():
        person = db.session.get(Person, person_id)
        url = service.start_connect(person, address or server.base_url, prefer=prefer, now=now)
    back = server.consent(url)
    assert "code" in back, back
    with app.app_context():
        return service.finish_connect(back["state"], back["code"], now=now).id


def push(app, award_id: int, connection_id: int, form: str | None = None,
         now: datetime | None = None) -> int:
    """Queue a push on the tests' clock (``now``: the ``t0`` fixture), so it is due at it."""
    with app.app_context():
        award = db.session.get(Award, award_id)
        conn = db.session.get(BackpackConnection, connection_id)
        return service.queue_push(award, conn, form=form, now=now).id


def push_row(app, push_id: int) -> BackpackPush:
    with app.app_context():
        row = db.session.get(BackpackPush, push_id)
        db.session.expunge(row)
        return row


def connection_row(app, connection_id: int) -> BackpackConnection:
    with app.app_context():
        row = db.session.get(BackpackConnection, connection_id)
        db.session.expunge(row)
        return row


def process(app, now: datetime | None = None, **kwargs) -> dict:
    with app.app_context():
        return service.process_outbox(now=now, **kwargs)
