"""In-memory state of the test backpack: OAuth clients, codes and tokens (Authlib's
mixins), learner accounts with what they hold, and the failure-injection knobs."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, scope_to_list


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str | None
    metadata: dict[str, Any]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.metadata.get("redirect_uris") or []
        return uris[0] if uris else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.metadata.get("scope") or ""))
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.metadata.get("redirect_uris") or [])

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.metadata.get("token_endpoint_auth_method", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.metadata.get("response_types") or ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.metadata.get("grant_types") or ["authorization_code"])


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    account: str
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_auth_time(self) -> float:
        return self.auth_time

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > 300


@dataclass
class Token(TokenMixin):
    client_id: str
    account: str
    access_token: str
    refresh_token: str | None
    scope: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    access_revoked: bool = False
    refresh_revoked: bool = False
    forced_expired: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.forced_expired or time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> str:
        return self.account

    def get_client(self) -> Any:
        return None


@dataclass
class Account:
    """A backpack user. ``emails`` are the verified addresses."""

    name: str
    emails: list[str]
    assertions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → stored form
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → stored form


@dataclass
class Fault:
    kind: str  # status | slow
    status: int = 500
    retry_after: str | None = None
    after_store: bool = False  # do the work, then answer the error (duplicate-prone)
    seconds: float = 0.0


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: list[Token] = []
        self.accounts: dict[str, Account] = {}
        self.faults: deque[Fault] = deque()
        self.log: list[dict[str, Any]] = []  # API requests seen: method, path, body kind
        self.registrations = 0
        self.revocations: list[str] = []

    def token_by_access(self, value: str) -> Token | None:
        with self.lock:
            return next((t for t in self.tokens if t.access_token == value), None)

    def token_by_refresh(self, value: str) -> Token | None:
        with self.lock:
            return next((t for t in self.tokens if t.refresh_token == value), None)

    def next_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None
