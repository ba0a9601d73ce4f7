"""The badge store: issuers and their keys, badges, awards, status lists, images."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models.course import Course, Person
from lti_badges.models.platform import Platform


def public_id() -> str:
    """Opaque ids for public URLs: not guessable, not enumerable, and never starting with
    '-' (a command line would read that as an option)."""
    return secrets.token_hex(10)


class ImageAsset(db.Model):
    __tablename__ = "image_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=public_id)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    mime_type: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def extension(self) -> str:
        return "svg" if self.mime_type == "image/svg+xml" else "png"


class Issuer(db.Model):
    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=public_id)
    platform_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("platforms.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    url: Mapped[str] = mapped_column(sa.String(1000))
    email: Mapped[str] = mapped_column(sa.String(320))
    description: Mapped[str | None] = mapped_column(sa.Text)
    image_id: Mapped[int | None] = mapped_column(sa.ForeignKey("image_assets.id"))
    # OB 2.0 verification for new awards: hosted (default) or signed (JWS).
    ob2_verification: Mapped[str] = mapped_column(sa.String(16), default="hosted")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform | None] = relationship()
    image: Mapped[ImageAsset | None] = relationship()
    keys: Mapped[list[IssuerKey]] = relationship(
        back_populates="issuer", cascade="all, delete-orphan", order_by="IssuerKey.id")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.public_id, "name": self.name, "url": self.url, "email": self.email,
                "platform": self.platform_id, "description": self.description,
                "ob2_verification": self.ob2_verification}


class IssuerKey(db.Model):
    """Signing keys of an issuer: Ed25519 for OB 3.0 proofs, RSA for OB 2.0 JWS.

    Retired keys stay published so every credential signed with them still verifies.
    """

    __tablename__ = "issuer_keys"
    __table_args__ = (sa.UniqueConstraint("issuer_id", "kid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("issuers.id", ondelete="CASCADE"))
    kid: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))  # ed25519 | rsa
    private_pem: Mapped[str] = mapped_column(sa.Text)  # encrypted with the app secret
    public_pem: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    issuer: Mapped[Issuer] = relationship(back_populates="keys")


class Badge(db.Model):
    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=public_id)
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text)
    image_id: Mapped[int] = mapped_column(sa.ForeignKey("image_assets.id"))
    criteria_text: Mapped[str] = mapped_column(sa.Text)
    criteria_url: Mapped[str | None] = mapped_column(sa.String(1000))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    alignments: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    language: Mapped[str | None] = mapped_column(sa.String(20))
    version: Mapped[str | None] = mapped_column(sa.String(40))
    expires_after_days: Mapped[int | None]
    expires_on: Mapped[datetime | None]
    # none_as_null: "no rule" is SQL NULL, not JSON null, so `rule IS NOT NULL` means a rule.
    rule: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    repeatable: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    issuer: Mapped[Issuer] = relationship()
    course: Mapped[Course | None] = relationship()
    image: Mapped[ImageAsset] = relationship()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.public_id, "issuer": self.issuer.public_id, "name": self.name,
                "description": self.description, "criteria": self.criteria_text,
                "course": self.course_id, "rule": self.rule, "tags": self.tags,
                "alignments": self.alignments, "language": self.language,
                "version": self.version, "expires_after_days": self.expires_after_days,
                "expires_on": self.expires_on.isoformat() + "Z" if self.expires_on else None,
                "repeatable": self.repeatable}


class StatusList(db.Model):
    """A W3C Bitstring Status List for one issuer's OB 3.0 credentials (revocation)."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=public_id)
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("issuers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(sa.String(16), default="revocation")
    size: Mapped[int] = mapped_column(default=131072)
    next_index: Mapped[int] = mapped_column(default=0)
    # The signed status list credential, re-signed whenever a bit changes.
    credential: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    issuer: Mapped[Issuer] = relationship()


class Award(db.Model):
    """One badge given to one recipient, with everything needed to prove it.

    ``identity_key`` + ``award_key`` make "one award per (badge, person)" a
    database constraint: ``award_key`` is ``"once"`` unless the badge is
    repeatable, so concurrent syncs cannot give the same badge twice.
    """

    __tablename__ = "awards"
    __table_args__ = (
        sa.UniqueConstraint("badge_id", "identity_key", "award_key"),
        sa.UniqueConstraint("status_list_id", "status_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=public_id)
    badge_id: Mapped[int] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"),
                                          index=True)
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("people.id", ondelete="SET NULL"), index=True)
    identity_key: Mapped[str] = mapped_column(sa.String(400))
    award_key: Mapped[str] = mapped_column(sa.String(40), default="once")
    recipient_email: Mapped[str | None] = mapped_column(sa.String(320))
    recipient_name: Mapped[str | None] = mapped_column(sa.String(255))
    recipient_url: Mapped[str | None] = mapped_column(sa.String(1000))
    salt: Mapped[str] = mapped_column(sa.String(64))
    issued_on: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    source: Mapped[str] = mapped_column(sa.String(16))  # manual | csv | rule
    awarded_by: Mapped[str | None] = mapped_column(sa.String(255))
    status_list_id: Mapped[int] = mapped_column(sa.ForeignKey("status_lists.id"))
    status_index: Mapped[int]
    assertion: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    signed_assertion: Mapped[str | None] = mapped_column(sa.Text)
    credential: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    credential_jwt: Mapped[str] = mapped_column(sa.Text)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.Text)
    claimed_at: Mapped[datetime | None]
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    badge: Mapped[Badge] = relationship()
    person: Mapped[Person | None] = relationship()
    status_list: Mapped[StatusList] = relationship()

    def status(self, now: datetime | None = None) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= (now or utcnow()):
            return "expired"
        return "valid"


class AwardEvent(db.Model):
    """What happened to an award after issuing, for the badge's simple analytics:
    ``download`` (a baked image, the credential or its JWT), ``share`` (LinkedIn, the public
    link copied), ``view`` (its public page opened by a person)."""

    __tablename__ = "award_events"
    __table_args__ = (sa.Index("ix_award_events_award_kind", "award_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("awards.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str | None] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
