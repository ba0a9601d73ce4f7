"""LTI Advantage Dynamic Registration 1.0 (1EdTech), the tool's side.

The platform opens ``/lti/register?openid_configuration=…&registration_token=…``
(§3.3). The tool fetches the platform's OpenID configuration, checks it
(§3.5.1: the issuer and the configuration URL share a host; HTTPS outside
development), posts its own client registration (§3.5.2, RFC 7591) with the
registration token, stores the platform and its deployment, and the page
closes itself with ``{subject: "org.imsglobal.lti.close"}`` (§3.6).

A registration carrying a valid one-time invite code (``lti-badges platforms
invite``) becomes active at once; any other is stored as pending until an
operator approves it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from lti_badges.clock import utcnow
from lti_badges.errors import UserError
from lti_badges.extensions import db
from lti_badges.models import Deployment, Platform, PlatformStatus, RegistrationInvite
from lti_badges.net import FetchError, NetPolicy, check_url, get_json, request
from lti_badges.urls import endpoints

SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
LTI_PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
LTI_TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class RegistrationError(UserError):
    """A dynamic registration the tool refuses (the page says why)."""

    code = "registration_failed"


@dataclass(frozen=True)
class RegistrationResult:
    platform: Platform
    deployment_id: str
    active: bool


def invite_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invite(days: int = 7) -> str:
    """A one-time code for the registration URL; only its hash is kept."""
    code = secrets.token_urlsafe(18)
    db.session.add(RegistrationInvite(code_hash=invite_hash(code),
                                      expires_at=utcnow() + timedelta(days=days)))
    db.session.commit()
    return code


def domain_of(url: str) -> str:
    """host[:port] as Moodle compares it with target_link_uri (it rejects a port mismatch)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port and parts.port != default else host


def tool_registration(config: Any, platform_config: dict[str, Any]) -> dict[str, Any]:
    """The client registration document the tool sends (Dynamic Registration §3.5.2)."""
    base = config["BASE_URL"]
    at = endpoints(base)
    supported = platform_config.get("scopes_supported")
    scopes = [s for s in SCOPES if not isinstance(supported, list) or s in supported]
    messages: list[dict[str, Any]] = [{
        "type": "LtiDeepLinkingRequest",
        "target_link_uri": at["launch_url"],
        "label": "Open Badges",
        "label#fr": "Badges numériques",
    }]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": at["login_url"],
        "redirect_uris": [at["launch_url"]],
        "client_name": config["TOOL_NAME"],
        "client_name#fr": "Badges LTI",
        "jwks_uri": at["jwks_url"],
        "logo_uri": at["logo_url"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        LTI_TOOL_CONFIG: {
            "domain": domain_of(base),
            "description": config["TOOL_DESCRIPTION"],
            "description#fr": "Des badges numériques pour vos cours : créer, décerner, vérifier.",
            "target_link_uri": at["launch_url"],
            "claims": list(CLAIMS),
            "messages": messages,
        },
    }


def _check_platform_config(url: str, doc: Any, policy: NetPolicy) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise RegistrationError("The platform's OpenID configuration is not a JSON object.")
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise RegistrationError("The platform's OpenID configuration has no issuer.")
    # Dynamic Registration §3.5.1: issuer and configuration URL must share the host.
    if urlsplit(issuer).hostname != urlsplit(url).hostname:
        raise RegistrationError(
            f"The platform's issuer {issuer} does not match the host of its configuration URL "
            f"{url}; registration refused.")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri",
                           "registration_endpoint") if not isinstance(doc.get(k), str)]
    if missing:
        raise RegistrationError(
            "The platform's OpenID configuration lacks " + ", ".join(missing) + ".")
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                "registration_endpoint"):
        try:
            check_url(doc[key], policy, f"platform {key}")
        except FetchError as exc:
            raise RegistrationError(str(exc)) from exc
    methods = doc.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise RegistrationError("The platform does not support private_key_jwt client "
                                "authentication, which this tool needs for its services.")
    algs = doc.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and "RS256" not in algs:
        raise RegistrationError("The platform does not sign id_tokens with RS256.")
    return doc


def _consume_invite(code: str | None) -> RegistrationInvite | None:
    if not code:
        return None
    # Spend the code atomically: a second registration with it finds nothing to update.
    now = utcnow()
    row = db.session.scalar(db.select(RegistrationInvite).filter_by(code_hash=invite_hash(code)))
    if row is None or row.used_at is not None or row.expires_at < now:
        return None
    updated = db.session.execute(
        db.update(RegistrationInvite)
        .where(RegistrationInvite.id == row.id, RegistrationInvite.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    return row if updated == 1 else None


def register(openid_configuration: str | None, registration_token: str | None,
             invite_code: str | None, config: Any) -> RegistrationResult:
    """Run the whole registration; commits on success, raises RegistrationError otherwise."""
    policy = NetPolicy.from_config(config)
    if not openid_configuration:
        raise RegistrationError(
            "This address starts LTI Advantage dynamic registration and needs the "
            "openid_configuration parameter the LMS adds. Paste the registration URL into your "
            "LMS's tool registration page instead of opening it directly.")
    try:
        doc = get_json(openid_configuration, policy, what="platform OpenID configuration")
    except FetchError as exc:
        raise RegistrationError(str(exc), 400) from exc
    platform_config = _check_platform_config(openid_configuration, doc, policy)
    body = tool_registration(config, platform_config)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = "Bearer " + registration_token
    try:
        resp = request("POST", platform_config["registration_endpoint"], policy,
                       what="platform registration endpoint", json=body, headers=headers)
    except FetchError as exc:
        raise RegistrationError(str(exc), 502) from exc
    if resp.status_code not in (200, 201):
        detail = resp.text.strip()[:300] or resp.reason
        raise RegistrationError(
            f"The platform refused the registration (HTTP {resp.status_code}): {detail}", 400)
    try:
        answer = resp.json()
    except ValueError as exc:
        raise RegistrationError("The platform's registration answer is not JSON.", 502) from exc
    client_id = answer.get("client_id") if isinstance(answer, dict) else None
    tool_conf = answer.get(LTI_TOOL_CONFIG) if isinstance(answer, dict) else None
    deployment_id = tool_conf.get("deployment_id") if isinstance(tool_conf, dict) else None
    if not client_id:
        raise RegistrationError("The platform's registration answer has no client_id.", 502)

    platform = db.session.scalar(
        db.select(Platform).filter_by(issuer=platform_config["issuer"], client_id=str(client_id))
    )
    if platform is None:
        platform = Platform(issuer=platform_config["issuer"], client_id=str(client_id))
        db.session.add(platform)
    lti_conf = platform_config.get(LTI_PLATFORM_CONFIG) or {}
    platform.auth_login_url = platform_config["authorization_endpoint"]
    platform.token_url = platform_config["token_endpoint"]
    platform.jwks_url = platform_config["jwks_uri"]
    platform.auth_audience = platform_config.get("authorization_server") or None
    platform.registered_via = "dynamic"
    platform.product_family = lti_conf.get("product_family_code") if isinstance(lti_conf, dict) else None
    platform.name = platform.name or platform_config["issuer"]
    platform.platform_config = platform_config
    db.session.flush()
    invite = _consume_invite(invite_code)
    if invite is not None:
        invite.platform_id = platform.id
        platform.status = PlatformStatus.ACTIVE
    elif platform.status != PlatformStatus.ACTIVE:
        platform.status = PlatformStatus.PENDING
    if deployment_id is not None and not db.session.scalar(
        db.select(Deployment).filter_by(platform_id=platform.id, deployment_id=str(deployment_id))
    ):
        db.session.add(Deployment(platform_id=platform.id, deployment_id=str(deployment_id)))
    db.session.commit()
    return RegistrationResult(platform=platform, deployment_id=str(deployment_id or ""),
                              active=platform.status == PlatformStatus.ACTIVE)
