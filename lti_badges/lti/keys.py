"""The tool's RS256 signing keys for LTI: creation, rotation, the public JWKS.

Private keys live in the database encrypted with a key derived from the
application secret; the repository never holds one. Rotation adds a key and
retires the previous one, which stays in the JWKS so platforms holding
messages signed with it can still verify them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from lti_badges.clock import utcnow
from lti_badges.crypto import passphrase
from lti_badges.extensions import db
from lti_badges.models import ToolKey


class SigningKeyMissing(RuntimeError):
    """The stored keys cannot be used (no key yet, or the secret changed)."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str  # unencrypted PEM, in memory only
    public_pem: str


_DECRYPTED: dict[tuple[str, str], SigningKey] = {}


def _passphrase(secret: str) -> bytes:
    return passphrase(secret, "tool-keys")


def _thumbprint_kid(public_jwk: dict[str, Any]) -> str:
    # RFC 7638 thumbprint: stable, and unique per key.
    members = {k: public_jwk[k] for k in ("e", "kty", "n")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def create_key(secret: str) -> ToolKey:
    """Generate an RSA-2048 key, store it encrypted and make it the active key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(secret)),
    ).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = json.loads(JWK.from_pem(public_pem).export_public())
    kid = _thumbprint_kid(jwk)
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    now = utcnow()
    for old in db.session.scalars(db.select(ToolKey).filter_by(purpose="lti", status="active")):
        old.status = "retired"
        old.retired_at = now
    key = ToolKey(kid=kid, purpose="lti", alg="RS256", private_pem=pem, public_jwk=jwk)
    db.session.add(key)
    db.session.flush()
    return key


def ensure_key(secret: str) -> ToolKey:
    key = db.session.scalar(
        db.select(ToolKey).filter_by(purpose="lti", status="active").order_by(ToolKey.id.desc())
    )
    return key or create_key(secret)


def active_signing_key(secret: str) -> SigningKey:
    key = db.session.scalar(
        db.select(ToolKey).filter_by(purpose="lti", status="active").order_by(ToolKey.id.desc())
    )
    if key is None:
        raise SigningKeyMissing("The tool has no signing key yet: run `lti-badges init`.")
    cached = _DECRYPTED.get((key.kid, secret))
    if cached is not None:
        return cached
    try:
        private = serialization.load_pem_private_key(key.private_pem.encode(), _passphrase(secret))
    except (ValueError, TypeError) as exc:
        raise SigningKeyMissing(
            "The tool's signing key cannot be decrypted: LTI_BADGES_SECRET_KEY changed since the "
            "key was made. Restore the old secret, or run `lti-badges keys rotate`."
        ) from exc
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    signing = SigningKey(kid=key.kid, private_pem=private_pem, public_pem=public_pem)
    _DECRYPTED[(key.kid, secret)] = signing  # the KDF is slow on purpose; pay it once
    return signing


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """Every published key, newest first (retired keys stay until removed)."""
    keys = db.session.scalars(
        db.select(ToolKey).filter_by(purpose="lti").order_by(ToolKey.id.desc())
    )
    return {"keys": [dict(k.public_jwk) for k in keys]}
