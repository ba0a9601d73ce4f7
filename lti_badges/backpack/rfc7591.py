"""OAuth 2.0 Dynamic Client Registration (RFC 7591), as OB 2.1 and OB 3.0 §7.2 use it.

The tool registers itself once per backpack (the registration is reused by every
learner who connects to the same one) with the metadata both specifications list:
names and URLs for the consent screen, the redirect URI, ``client_secret_basic``,
the authorization code and refresh token grants, ``code`` responses and the scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lti_badges.backpack.http import BackpackError, FetchError, NetPolicy, json_body, request


class ClientRegistrationError(BackpackError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message, status=status, code="registration")


@dataclass(frozen=True)
class ClientRegistration:
    """RFC 7591 §3.2.1 Client Information Response, the parts we keep."""

    client_id: str
    client_secret: str | None
    token_endpoint_auth_method: str
    client_secret_expires_at: int = 0
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)


def client_metadata(*, client_name: str, client_uri: str, redirect_uri: str, scopes: list[str],
                    logo_uri: str | None = None, tos_uri: str | None = None,
                    policy_uri: str | None = None, software_id: str = "lti-badges",
                    software_version: str = "0.1.0",
                    contacts: list[str] | None = None) -> dict[str, Any]:
    """The registration request body (RFC 7591 §2 client metadata)."""
    body: dict[str, Any] = {
        "client_name": client_name,
        "client_uri": client_uri,
        "redirect_uris": [redirect_uri],
        # OB 3.0 §7.2.1: confidential clients authenticate with HTTP Basic.
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": " ".join(scopes),
        "software_id": software_id,
        "software_version": software_version,
    }
    for key, value in (("logo_uri", logo_uri), ("tos_uri", tos_uri),
                       ("policy_uri", policy_uri), ("contacts", contacts)):
        if value:
            body[key] = value
    return body


def register(registration_url: str, metadata: dict[str, Any], policy: NetPolicy) -> ClientRegistration:
    """POST the metadata as JSON (RFC 7591 §3.1) and read the answer (§3.2.1 / §3.2.2)."""
    try:
        resp = request("POST", registration_url, policy, what="backpack registration URL",
                       json=metadata, headers={"Accept": "application/json"})
    except FetchError as exc:
        raise ClientRegistrationError(f"The backpack could not register this tool: {exc}") from exc
    body = json_body(resp)
    if resp.status_code not in (200, 201):
        # §3.2.2: {"error": "invalid_redirect_uri" | "invalid_client_metadata" | ...}
        detail = ""
        if isinstance(body, dict) and body.get("error"):
            detail = f" ({body['error']}: {body.get('error_description') or ''})".replace(": )", ")")
        raise ClientRegistrationError(f"The backpack refused to register this tool: HTTP "
                                f"{resp.status_code}{detail}.", resp.status_code)
    if not isinstance(body, dict) or not isinstance(body.get("client_id"), str) \
            or not body["client_id"]:
        raise ClientRegistrationError("The backpack's registration answer has no client_id.")
    secret = body.get("client_secret")
    method = body.get("token_endpoint_auth_method") or (
        "client_secret_basic" if secret else "none")
    if method not in ("client_secret_basic", "client_secret_post", "none"):
        raise ClientRegistrationError(f"The backpack registered this tool for {method!r} client "
                                "authentication, which the tool does not support.")
    if method != "none" and not isinstance(secret, str):
        raise ClientRegistrationError("The backpack's registration answer has no client_secret.")
    expires = body.get("client_secret_expires_at") or 0
    return ClientRegistration(client_id=body["client_id"],
                              client_secret=secret if isinstance(secret, str) else None,
                              token_endpoint_auth_method=method,
                              client_secret_expires_at=int(expires) if isinstance(
                                  expires, int | float) else 0,
                              metadata=body)
