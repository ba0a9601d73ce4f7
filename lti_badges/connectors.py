"""The Moodle Web Services connector of a platform: its encrypted token, the client, the
connection check. Used by the admin console, the CLI and the sync."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app

from lti_badges.clock import utcnow
from lti_badges.crypto import fernet
from lti_badges.errors import UserError
from lti_badges.extensions import db
from lti_badges.models import MoodleConnector, Platform
from lti_badges.net import FetchError, NetPolicy, check_url

PURPOSE = "moodle-token"
# Moodle makes 32 hex characters; accept any plausible token, refuse what cannot be one.
_TOKEN = re.compile(r"^[A-Za-z0-9_\-.]{8,255}$")


class ConnectorError(UserError):
    """Refused connector input; the message says what to change, ``field`` which one."""

    code = "invalid_connector"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- the connector service -----------------------------------------------------------


def _fernet() -> Any:
    return fernet(current_app.config["SECRET_KEY"], PURPOSE)


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode("utf-8")).decode("ascii")


def decrypt_token(connector: MoodleConnector) -> str:
    try:
        return _fernet().decrypt(connector.token_encrypted.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise ConnectorError("The stored Moodle token cannot be decrypted: the tool's secret key "
                             "changed since it was saved. Enter the token again.", "token") from exc


def token_hint(connector: MoodleConnector | None) -> str | None:
    """At most the last four characters of the token, for a person to recognise it."""
    if connector is None:
        return None
    try:
        token = decrypt_token(connector)
    except ConnectorError:
        return None
    return "…" + token[-4:] if len(token) >= 12 else "…"


def connector_for(platform_id: int) -> MoodleConnector | None:
    return db.session.scalar(db.select(MoodleConnector).filter_by(platform_id=platform_id))


def clean_site_url(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        raise ConnectorError("The Moodle site URL is required (the address of the Moodle front "
                             "page, e.g. https://moodle.example.edu).", "url")
    if len(url) > 1000:
        raise ConnectorError("The Moodle site URL is longer than 1000 characters.", "url")
    try:
        check_url(url, NetPolicy.from_config(current_app.config), "Moodle site URL")
    except FetchError as exc:
        raise ConnectorError(str(exc), "url") from exc
    if "?" in url or "#" in url:
        raise ConnectorError("The Moodle site URL is the front page's address, without ? or #.",
                             "url")
    return url.rstrip("/")


def clean_token(token: str | None) -> str:
    token = (token or "").strip()
    if not _TOKEN.match(token):
        raise ConnectorError("The token does not look like a Moodle web-service token (letters "
                             "and digits, usually 32 characters). Copy it from Site "
                             "administration > Server > Web services > Manage tokens.", "token")
    return token


def save_moodle_connector(platform: Platform, url: str, token: str | None) -> MoodleConnector:
    """Create or update the platform's connector; ``token`` None or empty keeps the stored one."""
    site = clean_site_url(url)
    connector = connector_for(platform.id)
    if connector is None and not (token or "").strip():
        raise ConnectorError("The token is required for a new connector.", "token")
    if connector is None:
        connector = MoodleConnector(platform_id=platform.id, url=site, token_encrypted="")
        db.session.add(connector)
    changed = connector.url != site
    connector.url = site
    if (token or "").strip():
        connector.token_encrypted = encrypt_token(clean_token(token))
        changed = True
    if changed:  # an earlier check said nothing about this URL or token
        connector.site_name = None
        connector.last_checked_at = None
        connector.last_error = None
    db.session.flush()
    return connector


def moodle_client(url: str, token: str, *, interactive: bool = True,
                  mode: str | None = None) -> Any:
    """The Web Services client (lti_badges.sources.moodle) with the configured network policy.

    ``interactive``: a person waits ("Test connection"), so one try, no back-off and the
    usual timeout; a sync keeps the client's retries with back-off, and each call may take
    ``MOODLE_WS_TIMEOUT_SECONDS`` and bring ``MOODLE_WS_MAX_RESPONSE_BYTES`` (one learner's
    reports, or one page of the plugin's course facts). ``mode``: "plugin" or "core" when
    known (site info decides otherwise).
    """
    from lti_badges.sources import Retry
    from lti_badges.sources.moodle import MoodleClient

    config = current_app.config
    policy = NetPolicy.from_config(config)
    if not interactive:
        policy = replace(policy, timeout=float(config["MOODLE_WS_TIMEOUT_SECONDS"]),
                         max_bytes=int(config["MOODLE_WS_MAX_RESPONSE_BYTES"]))
    return MoodleClient(url, token, policy, retry=Retry(tries=1) if interactive else None,
                        workers=int(config["MOODLE_WS_WORKERS"]),
                        perpage=int(config["MOODLE_PLUGIN_PERPAGE"]), mode=mode)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    site_name: str | None = None
    missing_functions: tuple[str, ...] = ()
    capability: str | None = None
    errorcode: str | None = None
    mode: str | None = None  # "plugin" | "core" once site info answered
    functions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "message": self.message, "site_name": self.site_name,
                "missing_functions": list(self.missing_functions),
                "capability": self.capability, "errorcode": self.errorcode,
                "mode": self.mode, "mode_label": mode_label(self.mode)}


def check_connection(url: str, token: str) -> CheckResult:
    """MoodleClient.test_connection in plain words; never raises for Moodle's refusals."""
    from lti_badges.sources import SourceError
    from lti_badges.sources.moodle import MoodleError

    try:
        site = moodle_client(url, token).test_connection()
    except MoodleError as exc:
        return CheckResult(False, str(exc), capability=exc.capability, errorcode=exc.errorcode)
    except (SourceError, FetchError) as exc:
        return CheckResult(False, str(exc))
    return CheckResult(site.ok, site.message, site_name=site.site_name,
                       missing_functions=tuple(site.missing_functions), mode=site.mode,
                       functions=site.functions)


def check_moodle_connector(connector: MoodleConnector) -> CheckResult:
    """Test a stored connector and remember the outcome on it (the caller commits)."""
    try:
        token = decrypt_token(connector)
    except ConnectorError as exc:
        result = CheckResult(False, exc.message)
    else:
        result = check_connection(connector.url, token)
    connector.last_checked_at = utcnow()
    connector.last_error = None if result.ok else result.message
    if result.site_name:
        connector.site_name = result.site_name[:255]
    if result.mode:
        connector.mode = result.mode
    return result


def mode_label(mode: str | None) -> str | None:
    """How a platform's connector reads Moodle, in the words the CLI and console show."""
    return {"plugin": "plugin", "core": "core web services"}.get(mode or "")


def connector_summary(connector: MoodleConnector) -> dict[str, Any]:
    """What may be shown of a connector: never the token, at most its last four characters."""
    return {"platform": connector.platform_id, "url": connector.url,
            "token_hint": token_hint(connector), "site_name": connector.site_name,
            "last_checked_at": connector.last_checked_at.isoformat() + "Z"
            if connector.last_checked_at else None,
            "last_error": connector.last_error,
            "mode": connector.mode, "mode_label": mode_label(connector.mode)}


# -- the commands --------------------------------------------------------------------


