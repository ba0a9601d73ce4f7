"""Open Badges 3.0 documents: issuer Profile, Achievement, OpenBadgeCredential.

Builders return plain ``dict`` JSON-LD documents, unsigned; sign them with
:mod:`lti_badges.openbadges.proofs`. Shapes follow OB 3.0 §B.1 (data model)
and validate against 1EdTech's ``achievementcredential`` JSON Schema.

Choices, each because of a rule elsewhere:

* ``@context`` is exactly ``[VC 2.0, OB 3.0.3]`` — 1EdTech's validator
  requires this pair for OpenBadgeCredential (VerifiableCredential.java) and
  the schema's ``@context`` items enforce its order.
* ``credentialSchema.type`` is ``JsonSchema`` (VC 2.0 context; VC JSON Schema
  §3.1), *not* ``1EdTechJsonSchemaValidator2019``: no pinned context defines
  the latter, so JSON-LD safe-mode verifiers reject it and pyld would sign a
  relative IRI.
* ``credentialStatus`` is a ``BitstringStatusListEntry`` (VC 2.0 context;
  Bitstring Status List v1.0 data model). The schema allows one status object.
* :func:`check_terms_expand` proves, before signing, that every term expands
  to an absolute IRI under the pinned contexts: an undefined term would be
  silently dropped from the signed RDF (so left unprotected) by pyld and
  refused outright by jsonld.js in safe mode.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyld import jsonld

from lti_badges.clock import iso_z

from .contexts import OB3_CONTEXT, VC_V2, context_error_in

__all__ = [
    "ACHIEVEMENT_CREDENTIAL_SCHEMA_URL",
    "OB3_CONTEXTS",
    "Achievement",
    "Alignment",
    "Evidence",
    "Profile",
    "TermExpansionError",
    "achievement_document",
    "build_credential",
    "check_terms_expand",
    "hash_identity",
    "identity_object",
    "iso_datetime",
    "profile_document",
]

OB3_CONTEXTS: list[str] = [VC_V2, OB3_CONTEXT]
# The schema URL credentials in the wild reference (OB 3.0 §B.1 AchievementCredential,
# credentialSchema); the same content as shared/standards/schema/ob_v3p0_achievementcredential.json.
ACHIEVEMENT_CREDENTIAL_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)


def iso_datetime(value: datetime | str) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` (DateTimeZ, OB 3.0 §B.3) in UTC, second precision.

    Second precision keeps VC-JWT ``nbf``/``exp`` (whole seconds) equal to
    ``validFrom``/``validUntil`` as OB 3.0 §8.2.6.1 requires.
    """
    return iso_z(value)


def hash_identity(identity: str, salt: str | None) -> str:
    """IdentityHash (OB 3.0 §B.3 "IdentityHash", same as OB 2.0): ``sha256$`` + hex
    SHA-256 of the UTF-8 identity followed by the salt."""
    return "sha256$" + hashlib.sha256((identity + (salt or "")).encode("utf-8")).hexdigest()


def identity_object(
    identity: str, salt: str | None, *, identity_type: str = "emailAddress", hashed: bool = True
) -> dict[str, Any]:
    """An ``IdentityObject`` (OB 3.0 §B.1.13). Email addresses are trimmed and
    lower-cased before hashing so a backpack holding the same address matches."""
    if identity_type == "emailAddress":
        identity = identity.strip().lower()
    obj: dict[str, Any] = {
        "type": "IdentityObject",
        "hashed": hashed,
        "identityHash": hash_identity(identity, salt) if hashed else identity,
        "identityType": identity_type,
    }
    if hashed and salt:
        obj["salt"] = salt
    return obj


@dataclass(frozen=True)
class Profile:
    """An issuer (or creator) Profile (OB 3.0 §B.1.17); ``id`` is its HTTPS URL
    (``/ob/issuers/<id>``) or a DID."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image: str | None = None
    phone: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The embedded form (no ``@context``)."""
        doc: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        for key in ("url", "email", "phone", "description"):
            value = getattr(self, key)
            if value:
                doc[key] = value
        if self.image:
            doc["image"] = {"id": self.image, "type": "Image"}
        return doc


@dataclass(frozen=True)
class Alignment:
    """An Alignment (OB 3.0 §B.1.5): ``targetName`` and ``targetUrl`` are required."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None
    target_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": ["Alignment"],
            "targetName": self.target_name,
            "targetUrl": self.target_url,
        }
        for attr, key in (
            ("target_description", "targetDescription"),
            ("target_framework", "targetFramework"),
            ("target_code", "targetCode"),
            ("target_type", "targetType"),
        ):
            value = getattr(self, attr)
            if value:
                doc[key] = value
        return doc


@dataclass(frozen=True)
class Achievement:
    """An Achievement (OB 3.0 §B.1.2) — the OB 3.0 face of a badge class
    (``/ob/badges/<id>``). ``criteria_narrative`` may be Markdown."""

    id: str
    name: str
    description: str
    criteria_narrative: str | None = None
    criteria_url: str | None = None
    image: str | None = None
    image_caption: str | None = None
    achievement_type: str | None = "Badge"
    alignments: Sequence[Alignment] = ()
    tags: Sequence[str] = ()
    language: str | None = None
    version: str | None = None
    creator: Profile | None = None
    human_code: str | None = None
    field_of_study: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The embedded form (no ``@context``)."""
        criteria: dict[str, Any] = {}
        if self.criteria_url:
            criteria["id"] = self.criteria_url
        if self.criteria_narrative:
            criteria["narrative"] = self.criteria_narrative
        if not criteria:
            raise ValueError("an Achievement needs criteria: a narrative and/or a URL")
        doc: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "name": self.name,
            "description": self.description,
            "criteria": criteria,
        }
        if self.achievement_type:
            doc["achievementType"] = self.achievement_type
        if self.image:
            image: dict[str, Any] = {"id": self.image, "type": "Image"}
            if self.image_caption:
                image["caption"] = self.image_caption
            doc["image"] = image
        if self.alignments:
            doc["alignment"] = [a.to_json() for a in self.alignments]
        if self.tags:
            doc["tag"] = list(self.tags)
        if self.language:
            doc["inLanguage"] = self.language
        if self.version:
            doc["version"] = self.version
        if self.human_code:
            doc["humanCode"] = self.human_code
        if self.field_of_study:
            doc["fieldOfStudy"] = self.field_of_study
        if self.creator:
            doc["creator"] = self.creator.to_json()
        return doc


@dataclass(frozen=True)
class Evidence:
    """Evidence (OB 3.0 §B.1.10); ``id`` is a URL (or data URI) when there is one."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    genre: str | None = None
    audience: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.id:
            doc["id"] = self.id
        doc["type"] = ["Evidence"]
        for key in ("name", "description", "narrative", "genre", "audience"):
            value = getattr(self, key)
            if value:
                doc[key] = value
        return doc


def profile_document(
    profile: Profile,
    *,
    keys: Sequence[tuple[Any, str]] = (),
) -> dict[str, Any]:
    """The issuer profile served at ``/ob/issuers/<id>`` (JSON-LD).

    With ``keys`` (``(Ed25519 key, key id)`` pairs) it is also the controller
    document of those keys: ``verificationMethod`` (Multikey) and
    ``assertionMethod``, with the DID v1 and Multikey contexts first — what
    Data Integrity verifiers read to check that the issuer controls the
    signing key (VC Data Integrity §4.4 "Verify Proof" retrieves the
    verification method and checks its proof purpose; Digital Bazaar's
    CredentialIssuancePurpose requires controller == issuer).
    """
    from .keys import controller_document  # local: keys imports contexts only

    body = profile.to_json()
    if keys:
        return controller_document(profile.id, keys, extra_contexts=[OB3_CONTEXT], extra=body)
    return {"@context": list(OB3_CONTEXTS), **body}


def achievement_document(achievement: Achievement) -> dict[str, Any]:
    """The Achievement as a standalone JSON-LD document (``/ob/badges/<id>``)."""
    return {"@context": list(OB3_CONTEXTS), **achievement.to_json()}


def build_credential(
    *,
    credential_id: str,
    issuer: Profile,
    achievement: Achievement,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    recipient_email: str | None = None,
    salt: str | None = None,
    subject_id: str | None = None,
    evidence: Sequence[Evidence] = (),
    credential_status: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    image: str | None = None,
    awarded_date: datetime | str | None = None,
    credential_type: str = "OpenBadgeCredential",
    credential_schema: bool = True,
    narrative: str | None = None,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential / AchievementCredential (OB 3.0 §B.1.1).

    The subject is identified by ``subject_id`` (a URL/DID) and/or a hashed
    ``recipient_email`` with ``salt`` (``identifier``: IdentityObject);
    AchievementSubject requires one of them (OB 3.0 §B.1.3).
    ``credential_status``: from :func:`lti_badges.openbadges.status_list.status_list_entry`.
    """
    if credential_type not in ("OpenBadgeCredential", "AchievementCredential"):
        raise ValueError("credential_type must be OpenBadgeCredential or AchievementCredential")
    if not subject_id and not recipient_email:
        raise ValueError("a credential subject needs an id or a recipient email (identifier)")
    subject: dict[str, Any] = {}
    if subject_id:
        subject["id"] = subject_id
    subject["type"] = ["AchievementSubject"]
    if recipient_email:
        subject["identifier"] = [identity_object(recipient_email, salt)]
    if narrative:
        subject["narrative"] = narrative
    subject["achievement"] = achievement.to_json()

    doc: dict[str, Any] = {
        "@context": list(OB3_CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", credential_type],
        "name": name or achievement.name,
    }
    if description:
        doc["description"] = description
    if image:
        doc["image"] = {"id": image, "type": "Image"}
    doc["issuer"] = issuer.to_json()
    doc["validFrom"] = iso_datetime(valid_from)
    if valid_until is not None:
        doc["validUntil"] = iso_datetime(valid_until)
    if awarded_date is not None:
        doc["awardedDate"] = iso_datetime(awarded_date)
    doc["credentialSubject"] = subject
    if evidence:
        doc["evidence"] = [e.to_json() for e in evidence]
    if credential_status is not None:
        doc["credentialStatus"] = credential_status
    if credential_schema:
        doc["credentialSchema"] = [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA_URL, "type": "JsonSchema"}]
    return doc


# -- term expansion check ---------------------------------------------------------


class TermExpansionError(ValueError):
    """Some term or type of a document does not expand under its contexts."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "JSON-LD terms that do not expand (they would be dropped or signed as relative "
            "IRIs): " + "; ".join(problems)
        )


_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _compact_leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(_compact_leaves(v) for k, v in node.items() if k != "@context")
    if isinstance(node, list):
        return sum(_compact_leaves(v) for v in node)
    return 0 if node is None else 1


def _json_leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(_json_leaves(v) for v in node.values())
    if isinstance(node, list):
        return sum(_json_leaves(v) for v in node)
    return 0 if node is None else 1


def _expanded_leaves(node: Any, path: str, problems: list[str]) -> int:
    """Count values in expanded JSON-LD and collect non-absolute IRIs."""
    if isinstance(node, list):
        return sum(_expanded_leaves(v, path, problems) for v in node)
    if not isinstance(node, dict):
        return 0 if node is None else 1
    if "@value" in node:  # value object: count the value only, not its @type/@language
        return _json_leaves(node["@value"])
    count = 0
    for key, value in node.items():
        if key == "@id":
            if not (value.startswith("_:") or _ABSOLUTE_IRI.match(value)):
                problems.append(f"{path}: relative @id {value!r}")
            count += 1
        elif key == "@type":
            for t in value if isinstance(value, list) else [value]:
                if not _ABSOLUTE_IRI.match(t):
                    problems.append(f"{path}: type {t!r} is not defined by the contexts")
                count += 1
        elif key.startswith("@"):
            count += _expanded_leaves(value, path, problems)
        else:
            if not _ABSOLUTE_IRI.match(key):
                problems.append(f"{path}: property {key!r} expands to a relative IRI")
            count += _expanded_leaves(value, f"{path}/{key.rsplit('#', 1)[-1]}", problems)
    return count


def _expand(doc: Any, loader: Any) -> Any:
    # base None: pyld 3 otherwise resolves relative IRIs against a default base
    # ("http://example.org/base/"), hiding undefined types; jsonld.js uses null too.
    return jsonld.expand(doc, {"documentLoader": loader, "base": None})


def _dropped_paths(doc: dict[str, Any], loader: Any, reference: Any) -> list[str]:
    """Slow path, only on failure: the compact keys whose removal leaves the
    expansion unchanged, i.e. the ones JSON-LD dropped."""
    work = copy.deepcopy(doc)
    dropped: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")
            return
        if not isinstance(node, dict):
            return
        for key in [k for k in node if k != "@context"]:
            value = node.pop(key)
            try:
                unchanged = _expand(work, loader) == reference
            except jsonld.JsonLdError:
                unchanged = False
            node[key] = value
            if unchanged:
                dropped.append(f"{path}/{key}")
            else:
                walk(value, f"{path}/{key}")

    walk(work, "")
    return dropped


def check_terms_expand(doc: dict[str, Any], loader: Any) -> list[Any]:
    """Raise :class:`TermExpansionError` unless every term and type of ``doc``
    expands to an absolute IRI under its contexts (served by ``loader``).

    Detects: properties dropped because no context defines them (the expanded
    document then carries fewer values than the compact one), types and
    ``@id`` values that stay relative, and JSON-LD errors such as a
    redefinition of a ``@protected`` term. Mirrors jsonld.js "safe mode",
    which pyld lacks. Returns the expanded document (signing canonicalizes
    it directly rather than expanding twice).
    """
    try:
        expanded = _expand(doc, loader)
    except jsonld.JsonLdError as exc:
        cause = context_error_in(exc)
        if cause is not None:
            raise cause from exc
        raise TermExpansionError([f"JSON-LD expansion failed: {exc}"]) from exc
    problems: list[str] = []
    got = _expanded_leaves(expanded, "", problems)
    want = _compact_leaves(doc)
    if got != want:
        dropped = _dropped_paths(doc, loader, expanded)
        problems.extend(f"{p} is not defined by the contexts (dropped)" for p in dropped)
        if not dropped:
            problems.append(f"{want - got} value(s) dropped during expansion")
    if problems:
        raise TermExpansionError(problems)
    return expanded
