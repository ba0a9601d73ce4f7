"""Backpacks: a learner's connections to Badge Connect (OB 2.1) and OB 3.0 API hosts, and
the durable outbox of pushes to them.

Secrets (client secret, access and refresh tokens, the PKCE verifier of a connect in
progress) are stored encrypted with a key derived from the app secret
(``lti_badges.backpack.secrets``); the OAuth ``state`` is stored only as its SHA-256.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models.course import Person
from lti_badges.models.issuing import Award


class BackpackConnection(db.Model):
    """One learner's authorisation at one backpack.

    ``status``: ``pending`` (sent to the backpack to authorise, ``state_hash`` set),
    ``active``, ``needs_reconnect`` (the backpack refused our tokens: expired or revoked)
    or ``disconnected`` (the learner removed it; tokens wiped).
    """

    __tablename__ = "backpack_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # ob21 | ob30
    name: Mapped[str | None] = mapped_column(sa.String(255))
    address: Mapped[str] = mapped_column(sa.String(1000))  # as the learner typed it
    discovery_url: Mapped[str] = mapped_column(sa.String(1000), index=True)
    api_base: Mapped[str] = mapped_column(sa.String(1000))
    authorization_url: Mapped[str] = mapped_column(sa.String(1000))
    token_url: Mapped[str] = mapped_column(sa.String(1000))
    refresh_url: Mapped[str | None] = mapped_column(sa.String(1000))
    registration_url: Mapped[str | None] = mapped_column(sa.String(1000))
    revocation_url: Mapped[str | None] = mapped_column(sa.String(1000))
    redirect_uri: Mapped[str] = mapped_column(sa.String(1000))
    # RFC 7591 client registration (shared by every connection to the same backpack).
    client_id: Mapped[str] = mapped_column(sa.String(255))
    client_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    client_auth_method: Mapped[str] = mapped_column(sa.String(40), default="client_secret_basic")
    # Tokens (encrypted) and what the backpack granted.
    access_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    token_expires_at: Mapped[datetime | None]
    scopes: Mapped[str | None] = mapped_column(sa.Text)
    # The authorization request in flight (RFC 6749 §10.12 state, RFC 7636 verifier).
    state_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    pkce_verifier_enc: Mapped[str | None] = mapped_column(sa.Text)
    state_expires_at: Mapped[datetime | None]
    # How this backpack takes badges, learned from its answers (None: not known yet).
    push_form: Mapped[str | None] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    connected_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()


class BackpackPush(db.Model):
    """One award sent to one backpack: a row of the durable outbox.

    ``state``: ``pending`` (due at ``next_attempt_at``), ``in_progress`` (claimed by a
    worker until ``locked_until``; a killed worker's row becomes due again then),
    ``done``, ``failed`` (the backpack refused it for good: the learner must act) or
    ``gave_up`` (retries exhausted). ``failed`` and ``gave_up`` rows can be retried by hand.
    """

    __tablename__ = "backpack_pushes"
    __table_args__ = (sa.UniqueConstraint("award_id", "connection_id"),
                      sa.Index("ix_backpack_pushes_due", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("awards.id", ondelete="CASCADE"),
                                          index=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("backpack_connections.id", ondelete="CASCADE"), index=True)
    form: Mapped[str | None] = mapped_column(sa.String(20))  # id|assertion|signed|json|jwt
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    last_status: Mapped[int | None]  # the backpack's HTTP status, None for network errors
    last_outcome: Mapped[str | None] = mapped_column(sa.String(20))
    last_message: Mapped[str | None] = mapped_column(sa.Text)  # plain words, for the learner
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    award: Mapped[Award] = relationship()
    connection: Mapped[BackpackConnection] = relationship()
