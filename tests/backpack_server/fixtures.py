"""Pytest fixtures for the backpack tests: the backpack tables, a learner, awards, a
running test backpack, and a helper that connects the learner to it.

Until the lead's migration adds ``backpack_connections`` and ``backpack_pushes``,
``backpack_tables`` creates them with ``create_all`` (harmless once they exist).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from lti_badges import issuing
from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models import Award, BackpackConnection, BackpackPush, Person, Platform
from lti_badges.services import catalogue
from tests.backpack_server import BackpackServer


@pytest.fixture
def backpack_tables(app):
    with app.app_context():
        db.metadata.create_all(db.engine, tables=[BackpackConnection.__table__,
                                                  BackpackPush.__table__])
    return True


@pytest.fixture
def learner(app, backpack_tables) -> int:
    with app.app_context():
        platform = Platform(issuer="https://lms.example.test", client_id="tool", status="active",
                            auth_login_url="https://lms.example.test/auth",
                            token_url="https://lms.example.test/token",
                            jwks_url="https://lms.example.test/jwks")
        db.session.add(platform)
        db.session.flush()
        person = Person(platform_id=platform.id, sub="u-lea", name="Léa Apprenante",
                        email="lea@example.test")
        db.session.add(person)
        db.session.commit()
        return person.id


@dataclass
class Awards:
    hosted: int  # Award.id of a hosted OB 2.0 award (and its OB 3.0 credential)
    stranger: int  # Award.id of a badge issued to another email address


@pytest.fixture
def awards(app, learner) -> Awards:
    with app.app_context():
        person = db.session.get(Person, learner)
        hosted = catalogue.create_issuer("Cégep Exemple", "https://cegep.example",
                                         "badges@cegep.example")
        image = issuing.generated_image("B")  # one image for all: drawing them is slow
        b1 = catalogue.create_badge(hosted, "Chimie — sécurité", "Le module de sécurité.",
                                    "Au moins 80 % au quiz.", image=image)
        b3 = catalogue.create_badge(hosted, "Biologie", "Cellules.", "Réussir le quiz.",
                                    image=image)
        a1 = issuing.award(b1, person=person)
        a3 = issuing.award(b3, email="someone.else@example.test", name="Someone")
        return Awards(a1.id, a3.id)


@pytest.fixture
def signed_award(app, learner, awards) -> int:
    """An award of an issuer that signs its OB 2.0 assertions (JWS)."""
    with app.app_context():
        person = db.session.get(Person, learner)
        signed = catalogue.create_issuer("Signed U", "https://signed.example",
                                         "badges@signed.example", ob2_verification="signed")
        image = db.session.get(Award, awards.hosted).badge.image
        badge = catalogue.create_badge(signed, "Physique", "Mécanique.", "Réussir le TP.",
                                       image=image)
        return issuing.award(badge, person=person).id


@pytest.fixture
def backpack() -> Iterator[BackpackServer]:
    with BackpackServer() as server:
        yield server


@pytest.fixture
def badgr() -> Iterator[BackpackServer]:
    with BackpackServer(apis=("ob21",), badgr=True, name="Badgr-style") as server:
        yield server


@pytest.fixture
def t0() -> datetime:
    """The tests' clock: a little ahead of real time, so rows queued now are due."""
    return utcnow() + timedelta(seconds=5)


@pytest.fixture
def fast_clock_config(app):
    """Short timeouts and small backoff so failure tests run in well under a second each."""
    app.config.update(BACKPACK_HTTP_TIMEOUT_SECONDS=0.6, BACKPACK_MAX_ATTEMPTS=3,
                      BACKPACK_BACKOFF_BASE_SECONDS=30, BACKPACK_LEASE_SECONDS=60)
    return app
