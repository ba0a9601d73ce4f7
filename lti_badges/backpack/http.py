"""What every backpack exchange shares: the URL policy, JSON bodies, ``Retry-After``, errors.

All HTTP goes through :func:`lti_badges.net.request`, so HTTPS and public addresses
only outside development and test, bounded redirects and sizes, and a timeout on
every call hold for discovery, registration, tokens and pushes alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from lti_badges.net import (
    FetchError,
    NetPolicy,
    request,
    retry_after_seconds,
)

__all__ = ["BackpackError", "FetchError", "NetPolicy", "PushResult", "json_body",
           "policy_from_config", "request", "retry_after_seconds"]

# What one push attempt came to (PushResult.outcome):
ADDED = "added"  # the backpack stored it now
ALREADY = "already"  # it was there already (updated, or "already exists")
MISMATCH = "mismatch"  # the badge's recipient is not the backpack account's owner
REFUSED = "refused"  # a definite no; retrying the same request cannot help
UNSUPPORTED = "unsupported"  # this form of the badge is not accepted; try another form
UNAUTHORIZED = "unauthorized"  # the access token was refused: refresh, then try again
RETRY = "retry"  # network trouble, 429 or 5xx: try again later
RECONNECT = "reconnect"  # the connection is gone (revoked, expired, disconnected)
SUCCESS = (ADDED, ALREADY)


class BackpackError(Exception):
    """A backpack exchange failed; ``message`` says what happened, in plain words."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "backpack"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class PushResult:
    outcome: str
    message: str  # plain words for the learner
    status: int | None = None  # HTTP status; None when the backpack did not answer
    retry_after: float | None = None  # seconds, from Retry-After
    form: str | None = None  # the form of the badge that was sent

    @property
    def ok(self) -> bool:
        return self.outcome in SUCCESS


def policy_from_config(config: Any) -> NetPolicy:
    """The app's outbound policy; ``BACKPACK_HTTP_TIMEOUT_SECONDS`` may shorten the timeout."""
    base = NetPolicy.from_config(config)
    timeout = config.get("BACKPACK_HTTP_TIMEOUT_SECONDS")
    if timeout:
        return NetPolicy(allow_insecure=base.allow_insecure, timeout=float(timeout),
                         max_bytes=base.max_bytes, max_redirects=base.max_redirects)
    return base


def json_body(resp: requests.Response) -> Any:
    """The body as JSON, or None when it is not JSON (never raises)."""
    try:
        return json.loads(resp.content) if resp.content else None
    except ValueError:
        return None




def network_failure(exc: FetchError) -> PushResult:
    """No answer (timeout, refused connection): the badge may or may not have landed,
    so it is retried; both APIs' create-or-update semantics make that safe."""
    return PushResult(RETRY, f"The backpack could not be reached ({exc}); "
                      "the tool will try again.")


def transient_failure(resp: requests.Response, what: str) -> PushResult | None:
    """429 (RFC 6585 §4) and 5xx answers are worth retrying; None for anything else."""
    if resp.status_code == 429:
        wait = retry_after_seconds(resp.headers.get("Retry-After"))
        return PushResult(RETRY, "The backpack asked the tool to slow down; it will try again"
                          + (f" in {int(wait)} seconds." if wait else " later."),
                          429, wait)
    if resp.status_code >= 500:
        return PushResult(RETRY, f"The backpack had a problem ({what}, HTTP "
                          f"{resp.status_code}); the tool will try again.",
                          resp.status_code, retry_after_seconds(resp.headers.get("Retry-After")))
    return None
