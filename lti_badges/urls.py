"""The URL contract (DESIGN.md), written once: the tool's LTI endpoints and the addresses
of published Open Badges documents, all under ``BASE_URL``.

Issuing, the CLI, ``/lti/config.json``, dynamic registration and deep linking build their
addresses here (a base module, like ``clock``: every layer may use it); ``endpoints(base)``
needs no application, the rest read the running app's ``BASE_URL``.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import current_app

from lti_badges.models import Award, Badge, ImageAsset, Issuer, IssuerKey, Person, StatusList
from lti_badges.openbadges import keys as okeys

LOGIN, LAUNCH, JWKS, REGISTER, CONFIG = ("/lti/login", "/lti/launch", "/lti/jwks",
                                         "/lti/register", "/lti/config.json")
NOTICES, LOGO = "/lti/notices", "/static/logo.svg"


def endpoints(base: str) -> dict[str, str]:
    """The tool's LTI endpoints under ``base`` (what an admin types into an LMS)."""
    return {"login_url": base + LOGIN, "launch_url": base + LAUNCH, "jwks_url": base + JWKS,
            "registration_url": base + REGISTER, "config_url": base + CONFIG,
            "notices_url": base + NOTICES, "logo_url": base + LOGO}


def base_url() -> str:
    return current_app.config["BASE_URL"]


def tool_endpoints() -> dict[str, str]:
    return endpoints(base_url())


def issuer_url(issuer: Issuer) -> str:
    return f"{base_url()}/ob/issuers/{issuer.public_id}"


def issuer_did(issuer: Issuer) -> str:
    return okeys.did_web(urlsplit(base_url()).netloc, f"ob/issuers/{issuer.public_id}")


def issuer_key_url(issuer: Issuer, key: IssuerKey) -> str:
    return f"{issuer_url(issuer)}/keys/{key.kid}"


def badge_url(badge: Badge) -> str:
    return f"{base_url()}/ob/badges/{badge.public_id}"


def assertion_url(award: Award | str) -> str:
    """An award's hosted OB 2.0 assertion (the award, or its public id)."""
    public_id = award if isinstance(award, str) else award.public_id
    return f"{base_url()}/ob/assertions/{public_id}"


def recipient_url(person: Person) -> str:
    """A stable, opaque id for an award's recipient (no e-mail or platform id in it)."""
    digest = hashlib.sha256(f"{person.platform_id}:{person.sub}".encode()).hexdigest()[:32]
    return f"{base_url()}/ob/recipients/{digest}"


def credential_url(award: Award) -> str:
    return f"{base_url()}/ob/credentials/{award.public_id}"


def revocation_list_url(issuer: Issuer) -> str:
    return f"{base_url()}/ob/revocations/{issuer.public_id}"


def status_list_url(sl: StatusList) -> str:
    return f"{base_url()}/ob/status/{sl.public_id}"


def image_url(image: ImageAsset) -> str:
    return f"{base_url()}/ob/images/{image.public_id}.{image.extension}"


def local_url_for_did(did_url: str) -> str:
    """did:web resolves over HTTPS; in development the tool itself may be on http."""
    url = okeys.did_web_url(did_url)
    ours = urlsplit(base_url())
    parts = urlsplit(url)
    if parts.netloc == ours.netloc:
        return parts._replace(scheme=ours.scheme).geturl()
    return url
