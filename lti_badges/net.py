"""Outbound HTTP with the guards every fetch of a platform- or user-supplied URL needs.

HTTPS only and public addresses only in production (no requests into the
tool's own network), bounded redirects and response sizes, a timeout on
every call. In ``development`` and ``test`` plain http and loopback are
allowed so a local Moodle or the test platform can be reached.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

USER_AGENT = "lti-badges/0.1 (+LTI 1.3 tool)"


class FetchError(Exception):
    """A URL could not be fetched safely; the message says why, for a person."""


@dataclass(frozen=True)
class NetPolicy:
    allow_insecure: bool  # http:// and private/loopback addresses
    timeout: float = 10.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3

    @classmethod
    def from_config(cls, config: Any) -> NetPolicy:
        return cls(
            allow_insecure=config["ENV"] in ("development", "test"),
            timeout=float(config["HTTP_TIMEOUT_SECONDS"]),
            max_bytes=int(config["HTTP_MAX_RESPONSE_BYTES"]),
        )


def check_url(url: str, policy: NetPolicy, what: str = "URL") -> str:
    """Refuse URLs the policy does not allow; return the URL unchanged."""
    if not isinstance(url, str) or not url:
        raise FetchError(f"The {what} is missing.")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError(f"The {what} {url!r} is not an http(s) URL.")
    if parts.username or parts.password:
        raise FetchError(f"The {what} must not carry a user name or password.")
    if policy.allow_insecure:
        return url
    if parts.scheme != "https":
        raise FetchError(f"The {what} {url} must use HTTPS.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"The host of the {what} ({parts.hostname}) does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError(
                f"The {what} {url} resolves to a non-public address ({address}); refused."
            )
    return url


def request(
    method: str,
    url: str,
    policy: NetPolicy,
    *,
    what: str = "URL",
    session: requests.Session | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One guarded HTTP exchange, following at most ``policy.max_redirects`` redirects."""
    sess = session or requests.Session()
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    current = url
    for _ in range(policy.max_redirects + 1):
        check_url(current, policy, what)
        try:
            resp = sess.request(
                method, current, headers=headers, timeout=policy.timeout,
                allow_redirects=False, stream=True, **kwargs,
            )
        except requests.Timeout as exc:
            raise FetchError(f"The {what} {current} did not answer in time.") from exc
        except requests.RequestException as exc:
            raise FetchError(f"The {what} {current} could not be reached ({exc}).") from exc
        if resp.is_redirect and resp.headers.get("Location"):
            current = urljoin(current, resp.headers["Location"])
            if resp.status_code in (301, 302, 303):
                method = "GET"
                kwargs.pop("data", None)
                kwargs.pop("json", None)
            resp.close()
            continue
        _read_bounded(resp, policy.max_bytes, what)
        return resp
    raise FetchError(f"The {what} {url} redirected too many times.")


def _read_bounded(resp: requests.Response, max_bytes: int, what: str) -> None:
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        resp.close()
        raise FetchError(f"The {what} answered with {declared} bytes, more than allowed.")
    chunks, size = [], 0
    for chunk in resp.iter_content(65536):
        size += len(chunk)
        if size > max_bytes:
            resp.close()
            raise FetchError(f"The {what} answered with more than {max_bytes} bytes.")
        chunks.append(chunk)
    resp._content = b"".join(chunks)  # noqa: SLF001  (requests has no public setter; .json()/.text read it)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now.replace(tzinfo=UTC) if now and now.tzinfo is None else (now or datetime.now(UTC))
    return max(0.0, (when - current).total_seconds())


def get_json(url: str, policy: NetPolicy, *, what: str = "URL", **kwargs: Any) -> Any:
    resp = request("GET", url, policy, what=what, **kwargs)
    if resp.status_code != 200:
        raise FetchError(f"The {what} {url} answered HTTP {resp.status_code}.")
    try:
        # Some platforms label JSON as text/html (Moodle's token endpoint): trust the body.
        return json.loads(resp.content)
    except ValueError as exc:
        raise FetchError(f"The {what} {url} did not answer with JSON.") from exc


def fetch_context(url: str) -> bytes:
    """A JSON-LD context's bytes from its canonical URL, for ``openbadges.contexts``:
    HTTPS only (redirects too), bounded in size and time."""
    from lti_badges.openbadges.contexts import MAX_CONTEXT_BYTES, ContextError

    if not url.startswith("https://"):
        raise ContextError(f"refusing to fetch a context over non-HTTPS URL {url}")
    with requests.get(
        url,
        timeout=10,
        stream=True,
        headers={"Accept": "application/ld+json, application/json;q=0.9"},
    ) as resp:
        if not resp.url.startswith("https://"):
            raise ContextError(f"context {url} redirected to non-HTTPS {resp.url}")
        resp.raise_for_status()
        body = resp.raw.read(MAX_CONTEXT_BYTES + 1, decode_content=True)
    if len(body) > MAX_CONTEXT_BYTES:
        raise ContextError(f"context {url} is larger than {MAX_CONTEXT_BYTES} bytes")
    return body
