"""Platform connectors: the Moodle Web Services token a platform's admin gave the tool."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models.platform import Platform


class MoodleConnector(db.Model):
    __tablename__ = "moodle_connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("platforms.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(sa.String(1000))
    token_encrypted: Mapped[str] = mapped_column(sa.Text)  # Fernet, key from the app secret
    site_name: Mapped[str | None] = mapped_column(sa.String(255))
    last_checked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # "plugin" when the last site info listed local_ltibadges_get_course_facts, "core" when
    # it did not, None before any check (set by "Test connection" and pairing; a sync asks
    # site info itself, so it follows the plugin being installed or removed).
    mode: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship()
