"""Open Badges 2.0 documents: Issuer Profile, BadgeClass, Assertion, RevocationList.

Builders take plain dataclasses holding the URLs the caller chose (the
DESIGN URL contract: ``/ob/issuers/<id>``, ``/ob/badges/<id>``,
``/ob/assertions/<id>``, ``/ob/revocations/<issuer-id>``) and return ``dict``
documents with ``@context: https://w3id.org/openbadges/v2``. Section numbers
refer to the IMS "Open Badges v2.0 Final" specification.

* Hosted verification (§ VerificationObject, type ``hosted``): the assertion
  lives at its ``id`` URL; revocation is served there (``revoked: true``) and
  in the issuer's ``revocationList``.
* Signed verification (type ``signed``, ``creator`` = the CryptographicKey
  URL): the assertion is the payload of a compact JWS signed RS256
  (§ "Signed Badges"); the issuer profile names the key in ``publicKey``.
* The recipient is an IdentityObject: a salted SHA-256 of the email
  (``sha256$<hex>``, § IdentityObject / IdentityHash), or a URL identity
  when no email is known.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .contexts import OB2_CONTEXT
from .keys import public_key_to_pem
from .ob3 import hash_identity, iso_datetime

__all__ = [
    "OB2_CONTEXT",
    "Alignment2",
    "BadgeClass2",
    "Evidence2",
    "Issuer2",
    "assertion",
    "badge_class",
    "cryptographic_key",
    "hash_email",
    "issuer_profile",
    "new_salt",
    "recipient_email",
    "recipient_url",
    "revocation_list",
    "revoked_assertion",
    "sign_assertion",
    "verify_signed_assertion",
]


def new_salt() -> str:
    """A fresh random salt for a recipient hash (hex, 128 bits)."""
    return secrets.token_hex(16)


def hash_email(email: str, salt: str | None) -> str:
    """``sha256$`` + hex SHA-256 of (normalised email + salt) (§ IdentityHash).

    The email is trimmed and lower-cased first: addresses are compared
    case-insensitively in practice and a backpack hashes the address it holds.
    """
    return hash_identity(email.strip().lower(), salt)


def recipient_email(email: str, salt: str | None = None) -> dict[str, Any]:
    """A hashed email IdentityObject (§ IdentityObject); pass the stored salt."""
    salt = salt if salt is not None else new_salt()
    return {"type": "email", "hashed": True, "salt": salt, "identity": hash_email(email, salt)}


def recipient_url(url: str) -> dict[str, Any]:
    """A URL IdentityObject (unhashed), when the platform shares no email."""
    return {"type": "url", "hashed": False, "identity": url}


@dataclass(frozen=True)
class Issuer2:
    """An issuer Profile; ``public_key_url`` and ``revocation_list_url`` are
    required for signed assertions (§ Profile: publicKey, revocationList)."""

    id: str
    name: str
    url: str
    email: str | None = None
    description: str | None = None
    image: str | None = None
    telephone: str | None = None
    public_key_url: str | None = None
    revocation_list_url: str | None = None


def issuer_profile(issuer: Issuer2) -> dict[str, Any]:
    """The Issuer Profile document served at ``/ob/issuers/<id>``."""
    doc: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer.id,
        "name": issuer.name,
        "url": issuer.url,
    }
    for key in ("email", "description", "image", "telephone"):
        value = getattr(issuer, key)
        if value:
            doc[key] = value
    if issuer.public_key_url:
        doc["publicKey"] = issuer.public_key_url
    if issuer.revocation_list_url:
        doc["revocationList"] = issuer.revocation_list_url
    return doc


def cryptographic_key(key_url: str, owner: str, public_key: Any) -> dict[str, Any]:
    """A CryptographicKey document (§ CryptographicKey) with ``publicKeyPem``."""
    return {
        "@context": OB2_CONTEXT,
        "type": "CryptographicKey",
        "id": key_url,
        "owner": owner,
        "publicKeyPem": public_key_to_pem(public_key).decode("ascii"),
    }


@dataclass(frozen=True)
class Alignment2:
    """An AlignmentObject (§ AlignmentObject)."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"targetName": self.target_name, "targetUrl": self.target_url}
        for attr, key in (
            ("target_description", "targetDescription"),
            ("target_framework", "targetFramework"),
            ("target_code", "targetCode"),
        ):
            value = getattr(self, attr)
            if value:
                doc[key] = value
        return doc


@dataclass(frozen=True)
class BadgeClass2:
    """A BadgeClass (§ BadgeClass). ``criteria_url`` and/or ``criteria_narrative``."""

    id: str
    issuer_id: str
    name: str
    description: str
    image: str
    criteria_url: str | None = None
    criteria_narrative: str | None = None
    tags: Sequence[str] = ()
    alignments: Sequence[Alignment2] = ()


def badge_class(badge: BadgeClass2) -> dict[str, Any]:
    """The BadgeClass document served at ``/ob/badges/<id>``."""
    criteria: dict[str, Any] = {}
    if badge.criteria_url:
        criteria["id"] = badge.criteria_url
    if badge.criteria_narrative:
        criteria["narrative"] = badge.criteria_narrative
    if not criteria:
        raise ValueError("a BadgeClass needs criteria: a URL and/or a narrative")
    doc: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge.id,
        "name": badge.name,
        "description": badge.description,
        "image": badge.image,
        "criteria": criteria,
        "issuer": badge.issuer_id,
    }
    if badge.tags:
        doc["tags"] = list(badge.tags)
    if badge.alignments:
        doc["alignment"] = [a.to_json() for a in badge.alignments]
    return doc


@dataclass(frozen=True)
class Evidence2:
    """Evidence (§ Evidence): a URL ``id`` and/or a narrative."""

    id: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": "Evidence"}
        for key in ("id", "narrative", "name", "description", "genre", "audience"):
            value = getattr(self, key)
            if value:
                doc[key] = value
        return doc


def assertion(
    *,
    assertion_id: str,
    badge_id: str,
    recipient: dict[str, Any],
    issued_on: datetime | str,
    expires: datetime | str | None = None,
    evidence: Sequence[Evidence2] = (),
    narrative: str | None = None,
    image: str | None = None,
    signing_key_url: str | None = None,
) -> dict[str, Any]:
    """An Assertion (§ Assertion). Hosted by default; with ``signing_key_url``
    the verification is ``{"type": "signed", "creator": signing_key_url}``
    and the result is meant for :func:`sign_assertion`."""
    verification: dict[str, Any] = (
        {"type": "signed", "creator": signing_key_url} if signing_key_url else {"type": "hosted"}
    )
    doc: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_id,
        "recipient": recipient,
        "badge": badge_id,
        "verification": verification,
        "issuedOn": iso_datetime(issued_on),
    }
    if expires is not None:
        doc["expires"] = iso_datetime(expires)
    if image:
        doc["image"] = image
    if narrative:
        doc["narrative"] = narrative
    if evidence:
        doc["evidence"] = [e.to_json() for e in evidence]
    return doc


def revoked_assertion(assertion_id: str, reason: str | None = None) -> dict[str, Any]:
    """What a hosted assertion URL serves once revoked (§ Assertion ``revoked``;
    the spec lets the issuer stop serving the rest and return this minimum)."""
    doc: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_id,
        "revoked": True,
    }
    if reason:
        doc["revocationReason"] = reason
    return doc


def revocation_list(
    list_url: str, issuer_id: str, revoked: Iterable[tuple[str, str | None]]
) -> dict[str, Any]:
    """The issuer's RevocationList (§ RevocationList) at ``/ob/revocations/<issuer-id>``:
    ``revokedAssertions`` entries are ``{"id", "revocationReason"?}``."""
    entries = []
    for assertion_id, reason in revoked:
        entry: dict[str, Any] = {"id": assertion_id}
        if reason:
            entry["revocationReason"] = reason
        entries.append(entry)
    return {
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": list_url,
        "issuer": issuer_id,
        "revokedAssertions": entries,
    }


def sign_assertion(assertion_doc: dict[str, Any], private_key: rsa.RSAPrivateKey) -> str:
    """A signed badge: compact JWS, RS256, payload = the assertion JSON
    (§ "Signed Badges"). The assertion must name its key in verification.creator."""
    verification = assertion_doc.get("verification") or {}
    if verification.get("type") not in ("signed", "SignedBadge") or not verification.get("creator"):
        raise ValueError("a signed assertion needs verification {type: signed, creator: key URL}")
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise TypeError("OB 2.0 signed assertions use RS256: give an RSA private key")
    payload = json.dumps(assertion_doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return jwt.api_jws.encode(payload, private_key, algorithm="RS256")


def verify_signed_assertion(token: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """Check an RS256 signed assertion and return its payload (raises jwt errors)."""
    payload = jwt.api_jws.decode(token, public_key, algorithms=["RS256"])
    return json.loads(payload)
