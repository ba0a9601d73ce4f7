"""One-step set-up with the Moodle companion plugin: pairing URLs (issue 10, contract (a)).

The tool's operator (``lti-badges connectors moodle pair``) or the platform's admin
(admin console) makes a one-time URL ``{BASE_URL}/connectors/moodle/pair/{CODE}``;
the Moodle admin pastes it into the plugin, which creates its web service and token
and POSTs them there.  The tool then checks the code (known, unused, not expired:
24 h; only its SHA-256 is stored), that ``site_url`` is the platform's issuer (a
code made for one platform cannot connect another Moodle), that the token works
(``core_webservice_get_site_info`` through the connector's client), and stores the
platform's connector (token encrypted as for ``connectors moodle add``) while spending
the code, in one transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from lti_badges import urls
from lti_badges.clock import utcnow
from lti_badges.connectors import (
    ConnectorError,
    clean_site_url,
    clean_token,
    moodle_client,
    save_moodle_connector,
)
from lti_badges.errors import UserError
from lti_badges.extensions import db
from lti_badges.models import MoodlePairingCode, Platform

PAIRING_TTL = timedelta(hours=24)
PAIR_PATH = "/connectors/moodle/pair/"


class PairingError(UserError):
    """A refused pairing: ``code``/``status`` as contract (a) names them."""


@dataclass(frozen=True)
class PairingUrl:
    url: str
    platform_id: int
    expires_at: Any

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "platform": self.platform_id,
                "expires_at": self.expires_at.isoformat() + "Z"}


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_pairing(platform: Platform) -> PairingUrl:
    """A new one-time pairing URL for the platform (committed)."""
    code = secrets.token_urlsafe(32)  # 32 random bytes, URL-safe
    expires = utcnow() + PAIRING_TTL
    db.session.add(MoodlePairingCode(platform_id=platform.id, code_hash=_hash(code),
                                     expires_at=expires))
    db.session.commit()
    return PairingUrl(current_app.config["BASE_URL"] + PAIR_PATH + code, platform.id, expires)


def same_site(a: str, b: str) -> bool:
    """Moodle's wwwroot and the LTI issuer name the same site (case of scheme and host, and a
    trailing slash, aside)."""
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return ((pa.scheme.lower(), (pa.netloc or "").lower(), pa.path.rstrip("/"))
            == (pb.scheme.lower(), (pb.netloc or "").lower(), pb.path.rstrip("/")))


def _body_fields(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise PairingError("The body must be a JSON object with site_url "
                           "and token (application/json).", 400, "bad_request")
    site_url, token = body.get("site_url"), body.get("token")
    if not isinstance(site_url, str) or not site_url.strip():
        raise PairingError("site_url (Moodle's wwwroot) is missing.", 400, "bad_request")
    if not isinstance(token, str) or not token.strip():
        raise PairingError("token (the web-service token) is missing.", 400, "bad_request")
    functions = body.get("functions")
    if functions is not None and not (isinstance(functions, list)
                                      and all(isinstance(f, str) for f in functions)):
        raise PairingError("functions must be a list of function names.", 400, "bad_request")
    return site_url.strip(), token.strip()


def find_code(code: str) -> MoodlePairingCode:
    """The pairing code row, or the contract's error for an unknown, used or expired code."""
    row = db.session.scalar(db.select(MoodlePairingCode).filter_by(code_hash=_hash(code or "")))
    if row is None:
        raise PairingError("This pairing URL is not known to the tool. "
                           "Make a new one (lti-badges connectors moodle pair, or the tool's "
                           "administration console).", 404, "unknown_code")
    if row.used_at is not None:
        raise PairingError("This pairing URL was already used. Make a new "
                           "one to pair again.", 409, "already_used")
    if row.expires_at <= utcnow():
        raise PairingError("This pairing URL has expired (it is valid for 24 "
                           "hours). Make a new one.", 410, "expired")
    return row


def pair(code: str, body: Any) -> dict[str, Any]:
    """Contract (a): check, confirm the token with Moodle, store the connector, spend the code."""
    row = find_code(code)
    site_url, token = _body_fields(body)
    platform = db.session.get(Platform, row.platform_id)
    assert platform is not None  # the code's row goes with its platform (ON DELETE CASCADE)
    if not same_site(site_url, platform.issuer):
        raise PairingError(f"This pairing URL was made for "
                           f"{platform.issuer}, not for {site_url}. Make the pairing URL for "
                           "this Moodle's registration.", 400, "site_mismatch")
    try:
        site, clean = clean_site_url(platform.issuer), clean_token(token)
    except ConnectorError as exc:
        raise PairingError(exc.message, 400, "bad_request") from exc
    check = _check_token(site, clean)
    # One transaction: the code is spent (a concurrent pairing finds it used) and the
    # connector stored together, or neither.
    spent = db.session.execute(
        db.update(MoodlePairingCode)
        .where(MoodlePairingCode.id == row.id, MoodlePairingCode.used_at.is_(None))
        .values(used_at=utcnow())).rowcount
    if spent != 1:
        db.session.rollback()
        raise PairingError("This pairing URL was already used.", 409, "already_used")
    try:
        connector = save_moodle_connector(platform, site, clean)
    except ConnectorError as exc:
        db.session.rollback()
        raise PairingError(exc.message, 400, "bad_request") from exc
    connector.mode = check.mode
    connector.site_name = (check.site_name or "")[:255] or None
    connector.last_checked_at = utcnow()
    connector.last_error = None
    db.session.commit()
    return {"status": "paired", "platform_id": platform.id, "connector_id": connector.id,
            "client_id": platform.client_id,
            "deployment_ids": [d.deployment_id for d in platform.deployments],
            "notices_url": urls.tool_endpoints()["notices_url"], "issuer": platform.issuer}


def _check_token(site: str, token: str) -> Any:
    from lti_badges.sources import SourceError
    from lti_badges.sources.moodle import MoodleError

    try:
        check = moodle_client(site, token).test_connection()
    except (MoodleError, SourceError) as exc:
        raise PairingError(f"Moodle did not accept the token: {exc}", 400, "token_rejected") \
            from exc
    if not check.ok:
        raise PairingError(check.message, 400, "token_rejected")
    return check
