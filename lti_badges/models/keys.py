"""The tool's own LTI signing keys (RS256). Private halves are stored encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lti_badges.clock import utcnow
from lti_badges.extensions import db


class ToolKey(db.Model):
    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(sa.String(100), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(16), default="lti")
    alg: Mapped[str] = mapped_column(sa.String(16), default="RS256")
    # PKCS#8 PEM encrypted with a key derived from the application secret.
    private_pem: Mapped[str] = mapped_column(sa.Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active | retired
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
