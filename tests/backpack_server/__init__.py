"""A standards-following backpack on loopback, for the tool's backpack tests.

It runs Authlib's OAuth 2 server (RFC 7591 registration, authorization code with
PKCE S256 required, rotated refresh tokens, RFC 7009 revocation, RFC 8414 metadata)
and implements both push APIs as their specifications define them:

* Open Badges 2.1 Badge Connect: ``/.well-known/badgeconnect.json``, and under
  ``/ims/ob/v2p1``: ``GET``/``POST /assertions`` (status envelope; 201 created,
  200 updated) and ``GET /profile``. ``POST`` takes ``id``, ``assertion`` or
  ``signedAssertion``; hosted assertions are fetched from their id, signed ones
  verified against their creator key, and the recipient must hash to one of the
  account's verified emails (403 otherwise).
* Open Badges 3.0: ``GET /ims/ob/v3p0/discovery`` (Service Description Document),
  ``GET``/``POST /ims/ob/v3p0/credentials`` (upsert by credential id: 201 created,
  200 replaced; JSON with proof or text/plain compact JWS; Imsx_StatusInfo errors)
  and ``GET /ims/ob/v3p0/profile``. The JWS signature is not checked here (the
  tool's own tests verify its credentials), the structure and recipient are.

``badgr=True`` is the Canvas Credentials (Badgr) flavour: ``POST /assertions``
takes only ``{"id": url}`` and answers a second post of the same badge with a
400 "already exists" instead of 200.

Consent is automatic (there is no login page): ``consent_account`` names the
account that authorises, ``deny_consent`` makes it refuse.

Knobs: ``fail_next(n, status, retry_after, after_store)`` (``after_store``: the
badge is stored and then the answer is the error, the duplicate-prone case),
``throttle_next(n, retry_after)``, ``slow_next(n, seconds)``, ``expire_tokens()``,
``revoke_tokens()``, ``malformed = {"ob21"|"ob30": "not_json" | "empty" |
"missing_token_url" | "bad_url" | "no_push_scope"}``, ``apis`` (which discovery
documents exist), ``offer_revocation``.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.serving import make_server

from tests.backpack_server.app import create_backpack_app
from tests.backpack_server.store import Account, Fault, Store
from tests.support.servers import free_port

__all__ = ["BackpackServer"]


class BackpackServer:
    def __init__(self, *, apis: tuple[str, ...] = ("ob21", "ob30"), badgr: bool = False,
                 name: str = "Test Backpack", token_lifetime: int = 3600):
        self.store = Store()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.apis = set(apis)
        self.badgr = badgr
        self.name = name
        self.token_lifetime = token_lifetime
        self.consent_account = "lea"
        self.deny_consent = False
        self.offer_revocation = True
        self.malformed: dict[str, str] | None = None
        self.add_account("lea", "lea@example.test")
        self.app = create_backpack_app(self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> BackpackServer:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        # A short poll interval: stopping takes milliseconds, not half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> BackpackServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- accounts ------------------------------------------------------------------------

    def add_account(self, name: str, *emails: str) -> Account:
        with self.store.lock:
            acct = Account(name=name, emails=list(emails))
            self.store.accounts[name] = acct
            return acct

    def assertions(self, account: str = "lea") -> dict[str, dict[str, Any]]:
        with self.store.lock:
            return dict(self.store.accounts[account].assertions)

    def credentials(self, account: str = "lea") -> dict[str, dict[str, Any]]:
        with self.store.lock:
            return dict(self.store.accounts[account].credentials)

    def consent(self, authorization_url: str) -> dict[str, str]:
        """Play the learner's browser at the authorization endpoint; return the query of
        the redirect back to the tool (code and state, or error)."""
        resp = requests.get(authorization_url, allow_redirects=False, timeout=5)
        assert resp.status_code == 302, (resp.status_code, resp.text)
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
        return {k: v[0] for k, v in query.items()}

    # -- knobs -----------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, *, retry_after: str | None = None,
                  after_store: bool = False) -> None:
        with self.store.lock:
            for _ in range(n):
                self.store.faults.append(Fault("status", status, retry_after, after_store))

    def throttle_next(self, n: int = 1, retry_after: str = "120") -> None:
        self.fail_next(n, 429, retry_after=retry_after)

    def slow_next(self, n: int = 1, seconds: float = 2.0) -> None:
        with self.store.lock:
            for _ in range(n):
                self.store.faults.append(Fault("slow", seconds=seconds))

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired (refresh tokens still work)."""
        with self.store.lock:
            for token in self.store.tokens:
                token.forced_expired = True

    def revoke_tokens(self) -> None:
        """The user revoked the tool in the backpack's settings: nothing works any more."""
        with self.store.lock:
            for token in self.store.tokens:
                token.access_revoked = True
                token.refresh_revoked = True

    def active_tokens(self) -> int:
        with self.store.lock:
            return sum(1 for t in self.store.tokens if not t.access_revoked and not t.is_expired())
