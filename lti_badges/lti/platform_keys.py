"""Platform public keys (JWKS) with a cache that refetches when an unknown ``kid`` appears.

1EdTech Security Framework §6.3: the tool resolves the platform's key by
``kid`` from its JWKS. Keys are cached per URL; a token signed with a ``kid``
the cache does not know triggers one refetch (platforms rotate keys), but
never more often than ``min_refetch`` seconds per URL, so forged ``kid``
values cannot make the tool hammer a platform.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from jwcrypto.jwk import JWK

from lti_badges.net import FetchError, NetPolicy, get_json


class UnknownKeyError(Exception):
    pass


@dataclass
class _Entry:
    keys: list[dict[str, Any]]
    fetched: float


@dataclass
class PlatformKeyCache:
    ttl: float = 3600.0
    min_refetch: float = 10.0
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fetch(self, url: str, policy: NetPolicy) -> list[dict[str, Any]]:
        doc = get_json(url, policy, what="platform key set (JWKS)")
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(keys, list):
            raise FetchError(f"The platform key set at {url} has no 'keys' list.")
        entry = _Entry([k for k in keys if isinstance(k, dict)], time.monotonic())
        with self._lock:
            self._entries[url] = entry
        return entry.keys

    def public_key_pem(self, url: str, kid: str, alg: str, policy: NetPolicy) -> bytes:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(url)
        if entry is None or now - entry.fetched > self.ttl:
            keys = self._fetch(url, policy)
        else:
            keys = entry.keys
        found = _find(keys, kid, alg)
        if found is None and entry is not None and now - entry.fetched >= self.min_refetch:
            found = _find(self._fetch(url, policy), kid, alg)
        if found is None:
            raise UnknownKeyError(
                f"The platform's key set does not contain the key {kid!r} ({alg}) that signed "
                "this message."
            )
        return JWK(**found).export_to_pem()


def _find(keys: list[dict[str, Any]], kid: str, alg: str) -> dict[str, Any] | None:
    for key in keys:
        if key.get("kid") == kid and key.get("alg", alg) == alg and key.get("kty") == "RSA":
            return key
    return None
