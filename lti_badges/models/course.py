"""Courses (LTI contexts), people (platform + sub), memberships and launch sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models.platform import Deployment, Platform


class Course(db.Model):
    __tablename__ = "courses"
    # LTI 1.3 §5.4.1: the context id is unique within the deployment.
    __table_args__ = (sa.UniqueConstraint("deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("platforms.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[int] = mapped_column(sa.ForeignKey("deployments.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(500))
    label: Mapped[str | None] = mapped_column(sa.String(255))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Service endpoints from the latest launch (AGS line items URL, NRPS URL, scopes).
    services: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()
    deployment: Mapped[Deployment] = relationship()

    @property
    def display_name(self) -> str:
        return self.title or self.label or self.context_id


class Person(db.Model):
    __tablename__ = "people"
    __table_args__ = (sa.UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    given_name: Mapped[str | None] = mapped_column(sa.String(255))
    family_name: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    locale: Mapped[str | None] = mapped_column(sa.String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        return self.name or " ".join(p for p in (self.given_name, self.family_name) if p) or (
            self.email or f"#{self.sub}"
        )


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    last_launch_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class LaunchSession(db.Model):
    """What a validated launch allows; every later request is bound to exactly one of these.

    The bearer token itself is never stored, only its SHA-256, so a database dump
    does not hand out sessions.
    """

    __tablename__ = "launch_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[int] = mapped_column(sa.ForeignKey("deployments.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    capabilities: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    locale: Mapped[str | None] = mapped_column(sa.String(20))
    message_type: Mapped[str] = mapped_column(sa.String(64))
    resource_link_id: Mapped[str | None] = mapped_column(sa.String(255))
    # Claims the pages need later: deep-linking settings, return URL, document target.
    claims: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    platform: Mapped[Platform] = relationship()
    deployment: Mapped[Deployment] = relationship()
    course: Mapped[Course | None] = relationship()
    person: Mapped[Person] = relationship()

    def can(self, capability: str) -> bool:
        return capability in (self.capabilities or [])
