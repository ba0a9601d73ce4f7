"""The Moodle bridge (the companion plugin ``local_ltibadges``): pairing codes and the
ids of signed notices already accepted."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lti_badges.clock import utcnow
from lti_badges.extensions import db


class MoodlePairingCode(db.Model):
    """A one-time pairing URL's code for a platform; only its SHA-256 is stored."""

    __tablename__ = "moodle_pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"),
                                             index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class UsedNoticeId(db.Model):
    """``jti`` of an accepted notice; the primary key makes a replay fail atomically.
    Rows are purged once the notice has expired (it could not be accepted again anyway)."""

    __tablename__ = "lti_used_notice_ids"

    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"),
                                             primary_key=True)
    jti: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
