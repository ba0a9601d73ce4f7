"""Who may frame the tool: ``Content-Security-Policy: frame-ancestors`` from the platforms.

The tool runs in LMS iframes, so it cannot forbid framing; it allows it to the origins
of the registered, active platforms only: each platform's issuer and login host, the
origins its launches came from (the launch form's ``Origin`` and the launch's
``return_url``; an LMS site may differ from its issuer, as Canvas's schools do), and
the operator's ``FRAME_ANCESTORS``. The list is kept a few seconds per application
process.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_app_context

from lti_badges.extensions import db
from lti_badges.models import Platform, PlatformStatus

_MAX_LEARNED = 20  # origins kept per platform (newest first)
_CACHE_SECONDS = 10.0
_KEY = "lti_badges.frame_origins"  # app.extensions: (read at, FRAME_ANCESTORS, origins)
_lock = threading.Lock()


@sa.event.listens_for(Platform, "after_insert")
@sa.event.listens_for(Platform, "after_update")
@sa.event.listens_for(Platform, "after_delete")
def _platforms_changed(*_: Any) -> None:
    if has_app_context():
        with _lock:
            current_app.extensions.pop(_KEY, None)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None for anything else."""
    if not url or not isinstance(url, str) or len(url) > 2000:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return None
    if any(c in host for c in " ;,'\"*") or not host.isascii():
        return None
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port else "")


def learn_origins(platform: Platform, *urls: str | None) -> None:
    """Remember where this platform's launches came from (no commit)."""
    known = list(platform.frame_origins or [])
    implied = {origin_of(platform.issuer), origin_of(platform.auth_login_url)}
    new = []
    for origin in (origin_of(u) for u in urls):
        if origin and origin not in known and origin not in implied and origin not in new:
            new.append(origin)
    if new:
        platform.frame_origins = (new + known)[:_MAX_LEARNED]


def allowed_origins(config: Any) -> list[str]:
    """The origins that may frame the tool's pages, in a stable order (kept per app for a
    few seconds: other processes' changes show within ``_CACHE_SECONDS``)."""
    now = time.monotonic()
    extra = str(config.get("FRAME_ANCESTORS") or "")
    with _lock:
        hit = current_app.extensions.get(_KEY)
        if hit is not None and now - hit[0] < _CACHE_SECONDS and hit[1] == extra:
            return hit[2]
    found: list[str] = []
    rows = db.session.execute(db.select(Platform.issuer, Platform.auth_login_url,
                                        Platform.frame_origins)
                              .where(Platform.status == PlatformStatus.ACTIVE)).all()
    for issuer, login, learned in rows:
        for origin in (origin_of(issuer), origin_of(login),
                       *(origin_of(u) for u in (learned or []))):
            if origin and origin not in found:
                found.append(origin)
    for item in extra.split():
        origin = origin_of(item)
        if origin and origin not in found:
            found.append(origin)
    with _lock:
        current_app.extensions[_KEY] = (now, extra, found)
    return found


def frame_ancestors(config: Any) -> str:
    """The CSP directive's value: the tool itself and the platforms' origins."""
    try:
        origins = allowed_origins(config)
    except Exception:  # no database yet (first start, a health check): the tool only
        db.session.rollback()
        origins = []
    return " ".join(["'self'", *origins])
