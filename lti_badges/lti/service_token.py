"""OAuth 2 access tokens for LTI Advantage services (1EdTech Security Framework §4.1).

The tool authenticates with a JWT client assertion signed by its own key
(RFC 7523, ``private_key_jwt``) and caches each token until shortly before it
expires. Moodle labels the JSON answer ``text/html`` and silently drops
scopes it does not grant, so the body is parsed whatever its type and the
granted scopes are read from the answer.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt

from lti_badges.lti.keys import SigningKey
from lti_badges.models import Platform
from lti_badges.net import FetchError, NetPolicy, request


class ServiceTokenError(Exception):
    pass


@dataclass(frozen=True)
class AccessToken:
    value: str
    scopes: frozenset[str]
    expires_at: float


def client_assertion(platform: Platform, key: SigningKey, lifetime: int = 300) -> str:
    now = int(time.time())
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.auth_audience or platform.token_url,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(24),
    }
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


class TokenCache:
    def __init__(self) -> None:
        self._tokens: dict[tuple[int, frozenset[str]], AccessToken] = {}
        self._lock = threading.Lock()

    def get(self, platform: Platform, scopes: list[str], key: SigningKey,
            policy: NetPolicy) -> AccessToken:
        wanted = frozenset(scopes)
        cache_key = (platform.id, wanted)
        with self._lock:
            cached = self._tokens.get(cache_key)
        if cached and cached.expires_at - 30 > time.time():
            return cached
        token = fetch_token(platform, scopes, key, policy)
        with self._lock:
            self._tokens[cache_key] = token
        return token

    def forget(self, platform: Platform) -> None:
        with self._lock:
            for k in [k for k in self._tokens if k[0] == platform.id]:
                del self._tokens[k]


def fetch_token(platform: Platform, scopes: list[str], key: SigningKey,
                policy: NetPolicy) -> AccessToken:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(platform, key),
        "scope": " ".join(scopes),
    }
    try:
        resp = request("POST", platform.token_url, policy, what="platform token endpoint",
                       data=data, headers={"Accept": "application/json"})
    except FetchError as exc:
        raise ServiceTokenError(str(exc)) from exc
    body: Any
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        detail = body.get("error") if isinstance(body, dict) else resp.text[:200]
        raise ServiceTokenError(
            f"The platform's token endpoint refused the tool (HTTP {resp.status_code}: {detail}).")
    granted = body.get("scope")
    granted_scopes = frozenset(granted.split()) if isinstance(granted, str) else frozenset(scopes)
    expires_in = body.get("expires_in")
    lifetime = int(expires_in) if isinstance(expires_in, int | float) else 3600
    return AccessToken(value=str(body["access_token"]), scopes=granted_scopes,
                       expires_at=time.time() + lifetime)
