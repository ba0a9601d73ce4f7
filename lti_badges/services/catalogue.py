"""Issuers and badges: creating and changing them, with one set of checks and limits.

The studio's badge form, the admin console's issuer form, the CLI (``issuers add``,
``badges add``) and issuing itself (the evidence of an award) check text, URLs and
e-mail addresses here, against the limits of ``LIMITS``; the forms show the same limits
field by field. A refusal is an ``IssuingError`` whose message says what to change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lti_badges import criteria
from lti_badges.extensions import db
from lti_badges.models import Badge, Course, ImageAsset, Issuer, Platform

# Longest accepted values (characters), for every path that writes them.
LIMITS = {"name": 255, "url": 1000, "email": 320, "description": 5000, "criteria": 10000,
          "reason": 1000, "tags": 30}
EXPIRY_DAYS = (1, 36500)

_CONTROL = {c for c in range(32) if c not in (9, 10, 13)} | {127}


def _error(message: str, code: str = "invalid") -> Exception:
    from lti_badges.issuing import IssuingError

    return IssuingError(message, 400, code)


def clean_text(value: str, label: str) -> str:
    """Refuse control characters: they have no place in a badge, and RDFC-1.0 escapes them
    differently across implementations (pyld vs jsonld.js), so a signed credential holding
    one would fail other verifiers."""
    bad = sorted({f"U+{ord(c):04X}" for c in value if ord(c) in _CONTROL})
    if bad:
        raise _error(f"{label} contains control characters ({', '.join(bad)}); remove them.")
    return value


def strip_controls(value: str) -> str:
    """``value`` without control characters (for text from a platform: cleaned, not refused)."""
    return "".join(c for c in value if ord(c) not in _CONTROL)


def required(value: str | None, label: str, limit: int) -> str:
    """``value`` stripped; refused when empty, longer than ``limit`` or holding controls."""
    value = (value or "").strip()
    if not value:
        raise _error(f"{label} is required.")
    if len(value) > limit:
        raise _error(f"{label} is longer than {limit} characters.")
    return clean_text(value, label)


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def checked_url(value: str, label: str) -> str:
    if not is_http_url(value):
        raise _error(f"{label} must be an http(s) URL, not {value!r}.")
    return value


def is_email(value: str) -> bool:
    """something@domain.tld, no spaces, at most ``LIMITS["email"]`` characters."""
    local, _, domain = value.rpartition("@")
    return bool(local) and "." in domain and " " not in value and len(value) <= LIMITS["email"]


def checked_email(value: str, label: str = "The email address") -> str:
    value = value.strip()
    if not is_email(value):
        raise _error(f"{label} {value!r} is not a valid email address.")
    return value


# -- issuers ----------------------------------------------------------------------------


def _issuer_fields(name: str, url: str, email: str, description: str | None) -> dict[str, Any]:
    return {"name": required(name, "The issuer name", LIMITS["name"]),
            "url": checked_url(required(url, "The issuer URL", LIMITS["url"]), "The issuer URL"),
            "email": checked_email(required(email, "The issuer email", LIMITS["email"])),
            "description": clean_text((description or "").strip(), "The description") or None}


def create_issuer(name: str, url: str, email: str, *, platform: Platform | None = None,
                  description: str | None = None, image: ImageAsset | None = None,
                  ob2_verification: str = "hosted") -> Issuer:
    """A new issuer profile with its signing keys (Ed25519 for OB 3.0, RSA for OB 2.0)."""
    from lti_badges import issuing

    if ob2_verification not in ("hosted", "signed"):
        raise _error("OB 2.0 verification is 'hosted' or 'signed'.")
    issuer = Issuer(**_issuer_fields(name, url, email, description), platform=platform,
                    image=image, ob2_verification=ob2_verification)
    db.session.add(issuer)
    db.session.flush()
    issuing.ensure_issuer_keys(issuer)
    return issuer


def update_issuer(issuer: Issuer, *, name: str, url: str, email: str,
                  description: str | None = None) -> Issuer:
    """Change an issuer's profile with the checks of ``create_issuer`` (keys stay)."""
    for key, value in _issuer_fields(name, url, email, description).items():
        setattr(issuer, key, value)
    db.session.flush()
    return issuer


# -- badges -----------------------------------------------------------------------------


def alignments(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Alignments (OB 2.0 AlignmentObject / OB 3.0 Alignment) checked and normalised."""
    out = []
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise _error(f"Alignment {i + 1} must be an object.")
        name = required(item.get("target_name") or item.get("targetName"),
                        f"Alignment {i + 1}: the target name", LIMITS["name"])
        url = checked_url(required(item.get("target_url") or item.get("targetUrl"),
                                   f"Alignment {i + 1}: the target URL", LIMITS["url"]),
                          f"Alignment {i + 1}: the target URL")
        out.append({"target_name": name, "target_url": url,
                    "target_code": item.get("target_code") or item.get("targetCode"),
                    "target_framework": item.get("target_framework")
                    or item.get("targetFramework"),
                    "target_description": item.get("target_description")
                    or item.get("targetDescription")})
    return out


def checked_rule(rule: Any) -> Any:
    """The rule as stored (normalised JSON), or None; refused with every problem listed."""
    if rule is None:
        return None
    errors = criteria.validate(rule)
    if errors:
        raise _error("The rule is not valid: " + "; ".join(str(e) for e in errors),
                     "invalid_rule")
    return criteria.to_json(criteria.parse(rule))


def _badge_fields(name: str, description: str, criteria_text: str, *, rule: Any,
                  expires_after_days: int | None, expires_on: datetime | None,
                  tags: list[str] | None, alignment_items: list[dict[str, Any]] | None,
                  criteria_url: str | None) -> dict[str, Any]:
    low, high = EXPIRY_DAYS
    if expires_after_days is not None and not (low <= expires_after_days <= high):
        raise _error(f"Expiry must be between {low} and {high} days.")
    if expires_after_days and expires_on:
        raise _error("Give either a number of days or a fixed expiry date, not both.")
    return {
        "name": required(name, "The badge name", LIMITS["name"]),
        "description": required(description, "The description", LIMITS["description"]),
        "criteria_text": required(criteria_text, "The criteria", LIMITS["criteria"]),
        "criteria_url": checked_url(criteria_url, "The criteria URL") if criteria_url else None,
        "rule": checked_rule(rule),
        "expires_after_days": expires_after_days, "expires_on": expires_on,
        "tags": [clean_text(t.strip(), "A tag") for t in (tags or [])
                 if t and t.strip()][:LIMITS["tags"]],
        "alignments": alignments(alignment_items),
    }


def create_badge(issuer: Issuer, name: str, description: str, criteria_text: str, *,
                 image: ImageAsset | None = None, course: Course | None = None,
                 rule: Any = None, expires_after_days: int | None = None,
                 expires_on: datetime | None = None, tags: list[str] | None = None,
                 alignments: list[dict[str, Any]] | None = None, language: str | None = None,
                 version: str | None = None, repeatable: bool = False,
                 criteria_url: str | None = None) -> Badge:
    """A new badge of ``issuer`` (an image is generated from its name when none is given)."""
    from lti_badges import issuing

    fields = _badge_fields(name, description, criteria_text, rule=rule,
                           expires_after_days=expires_after_days, expires_on=expires_on,
                           tags=tags, alignment_items=alignments, criteria_url=criteria_url)
    badge = Badge(issuer=issuer, course=course, **fields,
                  image=image or issuing.generated_image(fields["name"]), language=language,
                  version=version, repeatable=repeatable)
    db.session.add(badge)
    db.session.flush()
    return badge


def update_badge(badge: Badge, *, name: str, description: str, criteria_text: str,
                 image: ImageAsset | None = None, rule: Any = None,
                 expires_after_days: int | None = None, expires_on: datetime | None = None,
                 tags: list[str] | None = None, alignments: list[dict[str, Any]] | None = None,
                 language: str | None = None, criteria_url: str | None = None) -> Badge:
    """Change a badge with the checks of ``create_badge``.

    Awards already issued keep their signed OB 3.0 copy of the achievement; the hosted
    OB 2.0 BadgeClass shows the new text."""
    fields = _badge_fields(name, description, criteria_text, rule=rule,
                           expires_after_days=expires_after_days, expires_on=expires_on,
                           tags=tags, alignment_items=alignments, criteria_url=criteria_url)
    for key, value in fields.items():
        setattr(badge, key, value)
    badge.language = language
    if image is not None:
        badge.image = image
    db.session.flush()
    return badge
