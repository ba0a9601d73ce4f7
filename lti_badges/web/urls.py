"""URLs that carry the launch token, for pages in an LMS iframe whose cookies are blocked."""

from __future__ import annotations

from flask import g, url_for


def lurl(endpoint: str, **values: object) -> str:
    """url_for that carries the launch token (``lt``) of the current launch."""
    token = g.get("launch_token")
    if token:
        values.setdefault("lt", token)
    return url_for(endpoint, **values)
