"""LTI platforms (issuer + client_id), their deployments, and one-time registration invites."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_badges.clock import utcnow
from lti_badges.extensions import db


class PlatformStatus(enum.StrEnum):
    PENDING = "pending"  # arrived by dynamic registration without a valid invite
    ACTIVE = "active"
    DISABLED = "disabled"


class Platform(db.Model):
    __tablename__ = "platforms"
    __table_args__ = (sa.UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(500))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    auth_login_url: Mapped[str] = mapped_column(sa.String(1000))
    token_url: Mapped[str] = mapped_column(sa.String(1000))
    jwks_url: Mapped[str] = mapped_column(sa.String(1000))
    auth_audience: Mapped[str | None] = mapped_column(sa.String(1000))
    status: Mapped[str] = mapped_column(sa.String(16), default=PlatformStatus.PENDING)
    registered_via: Mapped[str] = mapped_column(sa.String(16), default="manual")
    product_family: Mapped[str | None] = mapped_column(sa.String(100))
    platform_config: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Origins of the platform's pages seen framing launches (web.frames): the LMS site can
    # differ from the issuer and login host (Canvas: canvas.instructure.com vs the school's).
    frame_origins: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )

    @property
    def is_active(self) -> bool:
        return self.status == PlatformStatus.ACTIVE

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "name": self.name,
            "status": self.status,
            "registered_via": self.registered_via,
            "product_family": self.product_family,
            "login_url": self.auth_login_url,
            "token_url": self.token_url,
            "jwks_url": self.jwks_url,
            "deployments": [d.deployment_id for d in self.deployments],
            "created_at": self.created_at.isoformat() + "Z",
        }


class Deployment(db.Model):
    __tablename__ = "deployments"
    __table_args__ = (sa.UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class RegistrationInvite(db.Model):
    """A one-time code carried in the dynamic-registration URL; only its hash is stored."""

    __tablename__ = "registration_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    platform_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("platforms.id", ondelete="SET NULL")
    )
