"""LTI Dynamic Registration 1.0 on the peer: the platform configuration and /register.

Validation and error texts follow Moodle 5.0's ``registration_helper`` (the recorded
answers in ../shared/moodle/dynamic-registration/): plain-text errors, 401 for token
problems, 400 for the registration body. Unlike Moodle, the new tool is active at once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import flask
import jwt
from flask import Flask, Response, request

from .vocab import ALL_SERVICE_SCOPES, PLATFORM_CONFIGURATION, TOOL_CONFIGURATION

if TYPE_CHECKING:
    from .platform import PlatformPeer

# Moodle's LTI_URL_DOMAIN_REGEX: host[:port] after an optional scheme and "www.".
_DOMAIN = re.compile(r"(?:https?://)?(?:www\.)?([^/]+)(?:/|$)", re.I)


def _domain(url: str) -> str | None:
    m = _DOMAIN.match(url or "")
    return m.group(1).lower() if m else None


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


class _RegistrationError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def openid_configuration(peer: PlatformPeer) -> dict[str, Any]:
    """The platform's OpenID configuration (Dynamic Registration §3.3), Moodle-shaped."""
    return {
        "issuer": peer.issuer,
        "token_endpoint": peer.token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": peer.jwks_url,
        "authorization_endpoint": peer.auth_login_url,
        "registration_endpoint": peer.registration_url,
        "scopes_supported": [*ALL_SERVICE_SCOPES, "openid"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "peer",
            "version": "1.0",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
            ],
            "variables": [
                "User.id",
                "User.username",
                "Person.name.full",
                "Person.name.given",
                "Person.name.family",
                "Person.email.primary",
                "Person.sourcedId",
                "Context.id",
                "Context.title",
                "Context.label",
                "ResourceLink.id",
                "ResourceLink.title",
                "Membership.role",
            ],
        },
    }


def _check_token(peer: PlatformPeer) -> str:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise _RegistrationError("missing_registration_token", 401)
    token = header[7:].strip()
    try:
        key = peer.keys.by_kid(jwt.get_unverified_header(token).get("kid"))
        if key is None:
            raise jwt.InvalidTokenError("unknown kid")
        claims = jwt.decode(token, key.public_pem, algorithms=["RS256"])
    except jwt.PyJWTError as exc:
        raise _RegistrationError(f"invalid_registration_token: {exc}", 401)
    if claims.get("scope") != "reg":
        raise _RegistrationError("Incorrect scope", 403)
    client_id = str(claims.get("sub", ""))
    if client_id in peer.tools:
        raise _RegistrationError("token_already_used", 401)
    if peer.registration_tokens.get(client_id) != token:
        raise _RegistrationError("invalid_registration_token: not issued by this platform", 401)
    return client_id


def _required(payload: dict[str, Any], name: str) -> Any:
    value = payload.get(name)
    if value is None or value == "" or value == []:
        raise _RegistrationError(f"missing required attribute {name}")
    return value


def _to_tool(payload: dict[str, Any]) -> dict[str, Any]:
    """Moodle's ``registration_to_config`` checks, in its order."""
    response_types = _required(payload, "response_types")
    login_uri = _required(payload, "initiate_login_uri")
    redirect_uris = _required(payload, "redirect_uris")
    client_name = _required(payload, "client_name")
    jwks_uri = _required(payload, "jwks_uri")
    auth_method = _required(payload, "token_endpoint_auth_method")
    config = _required(payload, TOOL_CONFIGURATION)
    if not isinstance(config, dict):
        raise _RegistrationError(f"invalid {TOOL_CONFIGURATION}")

    domain = config.get("domain")
    if not domain:
        raise _RegistrationError("missing_domain")
    target_link_uri = config.get("target_link_uri") or f"https://{domain}"
    if _domain(domain) != _domain(target_link_uri):
        raise _RegistrationError("domain_targetlinkuri_mismatch")
    if not isinstance(response_types, list) or "id_token" not in response_types:
        raise _RegistrationError("invalid_response_types")
    if not isinstance(redirect_uris, list):
        raise _RegistrationError("invalid_redirect_uris")
    if auth_method != "private_key_jwt":
        raise _RegistrationError("invalid_token_endpoint_auth_method")
    if payload.get("application_type") not in (None, "", "web"):
        raise _RegistrationError("invalid_application_type")
    # Dynamic Registration §3.1 (not checked by Moodle): both grants are required.
    grant_types = payload.get("grant_types") or []
    if not {"implicit", "client_credentials"} <= set(grant_types):
        raise _RegistrationError("invalid_grant_types")

    messages = config.get("messages") or []
    deep_link_url = None
    for message in messages:
        if isinstance(message, dict) and message.get("type") == "LtiDeepLinkingRequest":
            deep_link_url = message.get("target_link_uri") or target_link_uri
    requested = str(payload.get("scope") or "").split()
    return {
        "client_name": client_name,
        "login_url": login_uri,
        "launch_url": target_link_uri,
        "jwks_url": jwks_uri,
        "redirect_uris": list(redirect_uris),
        "deep_link_url": deep_link_url,
        "scopes": [s for s in requested if s in ALL_SERVICE_SCOPES],
        "custom": dict(config.get("custom_parameters") or {}),
        "claims": list(config.get("claims") or ["iss", "sub"]),
        "domain": domain,
        "description": config.get("description", ""),
        "messages": [
            # Moodle drops labels (and their translations) from the echo.
            {k: v for k, v in m.items() if not k.startswith("label")}
            for m in messages
            if isinstance(m, dict)
        ],
        "logo_uri": payload.get("logo_uri", ""),
    }


def _register(peer: PlatformPeer) -> Response:
    try:
        client_id = _check_token(peer)
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise _RegistrationError("invalid_registration_request: body must be JSON")
        info = _to_tool(payload)
    except _RegistrationError as err:
        return _text(err.status, str(err))

    with peer.lock:
        if client_id in peer.tools:  # a concurrent request won the race
            return _text(401, "token_already_used")
        deployment_id = f"dyn-{peer._next_id()}"
        tool = peer.register_tool(
            client_id,
            [deployment_id],
            info["login_url"],
            info["launch_url"],
            info["jwks_url"],
            redirect_uris=info["redirect_uris"],
            deep_link_url=info["deep_link_url"],
            scopes=info["scopes"],
            name=info["client_name"],
            custom=info["custom"],
            claims=info["claims"],
        )
        tool.source = "dynamic"
        answer = {
            "client_id": client_id,
            "response_types": ["id_token"],
            "jwks_uri": info["jwks_url"],
            "initiate_login_uri": info["login_url"],
            "grant_types": ["client_credentials", "implicit"],
            "redirect_uris": info["redirect_uris"],
            "application_type": "web",
            "token_endpoint_auth_method": "private_key_jwt",
            "client_name": info["client_name"],
            "logo_uri": info["logo_uri"],
            "scope": " ".join(info["scopes"]),
            TOOL_CONFIGURATION: {
                "version": "1.3.0",
                "deployment_id": deployment_id,
                "target_link_uri": info["launch_url"],
                "domain": info["domain"],
                "description": info["description"],
                "messages": info["messages"],
                "custom_parameters": info["custom"],
                "claims": info["claims"],
            },
        }
        peer.registrations.append(
            {
                "client_id": client_id,
                "deployment_id": deployment_id,
                "request": payload,
                "response": answer,
                "tool": tool,
            }
        )
    return flask.jsonify(answer)


def register(app: Flask, peer: PlatformPeer) -> None:
    """Add the dynamic registration routes to ``app``."""

    @app.get("/.well-known/openid-configuration")
    def openid_config() -> Response:
        return flask.jsonify(openid_configuration(peer))

    @app.post("/register")
    def register_tool() -> Response:
        return _register(peer)
