"""OIDC login state and the nonces already spent, so each id_token is accepted once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lti_badges.clock import utcnow
from lti_badges.extensions import db


class LoginState(db.Model):
    """Issued at /lti/login, consumed (deleted) by the one launch that presents it."""

    __tablename__ = "lti_login_states"

    state: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(100), unique=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str | None] = mapped_column(sa.String(1000))
    new_window: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class UsedNonce(db.Model):
    """Nonces of accepted launches; the primary key makes a second use fail atomically."""

    __tablename__ = "lti_used_nonces"

    nonce: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
