"""The OAuth 2.0 client side of connecting a backpack.

* Authorization code grant (RFC 6749 §4.1) with a ``state`` bound to the request
  (§10.12) and PKCE S256 (RFC 7636 §4.1–4.2; OB 3.0 §7 requires it).
* Token requests authenticate with ``client_secret_basic`` (RFC 6749 §2.3.1: the id
  and secret are form-urlencoded before Basic encoding).
* Refresh (RFC 6749 §6) and revocation (RFC 7009 §2.1).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import requests

from lti_badges.backpack.http import BackpackError, FetchError, NetPolicy, json_body, request


class OAuthError(BackpackError):
    """A token endpoint said no. ``error`` is the RFC 6749 §5.2 code when there is one;
    ``invalid_grant`` means the learner must connect again."""

    def __init__(self, message: str, *, error: str | None = None, status: int | None = None,
                 transient: bool = False):
        super().__init__(message, status=status, code=error or "oauth")
        self.error = error
        self.transient = transient


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str | None
    auth_method: str = "client_secret_basic"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None  # naive UTC
    scope: str | None
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    """RFC 7636 §4.1: 43–128 characters from the unreserved set (48 random octets,
    base64url: 64 characters)."""
    return secrets.token_urlsafe(48)


def code_challenge_s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(endpoint: str, *, client_id: str, redirect_uri: str, scope: str,
                      state: str, code_verifier: str) -> str:
    """The URL to send the learner to (RFC 6749 §4.1.1 + RFC 7636 §4.3)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": code_challenge_s256(code_verifier),
        "code_challenge_method": "S256",
    }
    parts = urlsplit(endpoint)
    query = parts.query + ("&" if parts.query else "") + urlencode(params, quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _client_auth(client: Client, data: dict[str, str]) -> dict[str, Any]:
    if client.auth_method == "client_secret_basic" and client.client_secret is not None:
        # RFC 6749 §2.3.1: application/x-www-form-urlencoded, then Basic.
        raw = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
        return {"headers": {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}}
    data["client_id"] = client.client_id
    if client.auth_method == "client_secret_post" and client.client_secret is not None:
        data["client_secret"] = client.client_secret
    return {}


def _token_request(url: str, client: Client, data: dict[str, str], policy: NetPolicy,
                   now: datetime, what: str) -> requests.Response:
    extra = _client_auth(client, data)
    headers = {"Accept": "application/json", **extra.get("headers", {})}
    try:
        return request("POST", url, policy, what=what, data=data, headers=headers)
    except FetchError as exc:
        raise OAuthError(f"The backpack's token service could not be reached: {exc}",
                         transient=True) from exc


def _token_set(resp: requests.Response, now: datetime, previous_refresh: str | None,
               action: str) -> TokenSet:
    body = json_body(resp)
    if resp.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        described = body.get("error_description") if isinstance(body, dict) else None
        transient = resp.status_code == 429 or resp.status_code >= 500
        if error == "invalid_grant":
            message = ("The backpack no longer accepts this connection (the authorisation "
                       "expired or was revoked). Connect your backpack again.")
        else:
            message = (f"The backpack refused to {action}: HTTP {resp.status_code}"
                       + (f" ({error}{': ' + described if described else ''})" if error else "")
                       + ".")
        raise OAuthError(message, error=error, status=resp.status_code, transient=transient)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError(f"The backpack's answer to {action} has no access token.")
    token_type = body.get("token_type") or "Bearer"
    if str(token_type).lower() != "bearer":
        raise OAuthError(f"The backpack issued a {token_type!r} token; only Bearer is supported.")
    expires_in = body.get("expires_in")
    expires_at = (now + timedelta(seconds=int(expires_in))
                  if isinstance(expires_in, int | float) and expires_in > 0 else None)
    refresh = body.get("refresh_token")
    # RFC 6749 §6: the server MAY issue a new refresh token; if not, keep the old one.
    return TokenSet(access_token=token,
                    refresh_token=refresh if isinstance(refresh, str) and refresh
                    else previous_refresh,
                    expires_at=expires_at,
                    scope=body.get("scope") if isinstance(body.get("scope"), str) else None)


def exchange_code(token_url: str, client: Client, *, code: str, redirect_uri: str,
                  code_verifier: str, policy: NetPolicy, now: datetime) -> TokenSet:
    """RFC 6749 §4.1.3 access token request, with the RFC 7636 §4.5 ``code_verifier``."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier}
    resp = _token_request(token_url, client, data, policy, now, "backpack token URL")
    return _token_set(resp, now, None, "give this tool access")


def refresh(token_url: str, client: Client, *, refresh_token: str, policy: NetPolicy,
            now: datetime, scope: str | None = None) -> TokenSet:
    """RFC 6749 §6 refresh."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if scope:
        data["scope"] = scope
    resp = _token_request(token_url, client, data, policy, now, "backpack token URL")
    return _token_set(resp, now, refresh_token, "renew this tool's access")


def revoke(revocation_url: str, client: Client, *, token: str, hint: str,
           policy: NetPolicy) -> bool:
    """RFC 7009 §2.1. True when the server confirmed (HTTP 200, also for unknown tokens,
    §2.2); False when it could not be reached or refused."""
    data = {"token": token, "token_type_hint": hint}  # hint: access_token | refresh_token
    extra = _client_auth(client, data)
    try:
        resp = request("POST", revocation_url, policy, what="backpack revocation URL",
                       data=data, headers={"Accept": "application/json",
                                           **extra.get("headers", {})})
    except FetchError:
        return False
    return resp.status_code == 200
