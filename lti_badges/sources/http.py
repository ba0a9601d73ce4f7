"""Guarded HTTP with bounded retries, shared by the fact sources.

Every exchange goes through :func:`lti_badges.net.request` (URL policy, size
limits, timeouts).  On top of it: a bounded number of tries with exponential
backoff when the other side is briefly unable to answer (a timeout or a
dropped connection, HTTP 429, HTTP 5xx), honouring ``Retry-After``
(RFC 9110 §10.2.3, and RFC 6585 §4 for 429).  Anything else is answered at
once: retrying a 401 or a 404 cannot help.  ``sleep`` is injectable so tests
run without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from lti_badges.net import FetchError, NetPolicy, request, retry_after_seconds
from lti_badges.sources.base import SourceError


@dataclass(frozen=True)
class Retry:
    """How hard to try: ``tries`` attempts in all, waits ``base_delay * 2**n`` (capped)."""

    tries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a longer Retry-After is reported, not waited for
    sleep: Callable[[float], None] = field(default=time.sleep)

    def backoff(self, attempt: int) -> float:
        """The wait before try ``attempt + 2`` (``attempt`` counts from 0)."""
        return min(self.max_delay, self.base_delay * (2 ** attempt))




def _transient(exc: FetchError) -> bool:
    # net.request wraps the requests exception; a refused URL (policy) has no cause.
    return isinstance(exc.__cause__, requests.Timeout | requests.ConnectionError)


def send(
    method: str,
    url: str,
    policy: NetPolicy,
    *,
    what: str,
    retry: Retry,
    headers: dict[str, str] | None = None,
    data: Any = None,
    session: requests.Session | None = None,
) -> requests.Response:
    """One logical request, tried up to ``retry.tries`` times; returns the last answer.

    Raises :class:`SourceError` when the request never got a usable answer
    (still 429/5xx or timing out after the last try, or refused by the policy).
    Other statuses (2xx, 3xx beyond redirects, 4xx) are returned to the caller.
    """
    last: str = ""
    for attempt in range(retry.tries):
        final = attempt == retry.tries - 1
        try:
            resp = request(method, url, policy, what=what, session=session,
                           headers=dict(headers or {}), data=data)
        except FetchError as exc:
            if not _transient(exc):
                raise SourceError(str(exc)) from exc
            last = str(exc)
            if final:
                break
            retry.sleep(retry.backoff(attempt))
            continue
        if resp.status_code != 429 and resp.status_code < 500:
            return resp
        reason = (resp.reason or "").strip()
        last = f"HTTP {resp.status_code}{' ' + reason if reason else ''}"
        if final:
            break
        wait = retry.backoff(attempt)
        hinted = retry_after_seconds(resp.headers.get("Retry-After"))
        if hinted is not None:
            if hinted > retry.max_retry_after:
                raise SourceError(
                    f"The {what} is overloaded ({last}) and asked to wait {hinted:.0f} s; "
                    "try the sync again later.")
            wait = max(wait, hinted) if resp.status_code != 429 else hinted
        retry.sleep(wait)
    raise SourceError(
        f"The {what} did not answer properly after {retry.tries} tries (last: {last}); "
        "the platform may be overloaded or down, try the sync again later.")
