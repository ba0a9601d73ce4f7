"""Who is asking: the launch session behind a request, and the access rules as decorators.

Identity comes only from a launch. A request names its launch session by a
bearer token (``X-Launch-Token`` header, ``lt`` form field or query
parameter), or, when cookies work, through the signed Flask session that
remembers the token per course. The session is bound to one platform,
deployment and course; a route for another course answers 403 whatever the
role. Unsafe methods need a CSRF token derived from the launch session.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request, session

from lti_badges import sessions
from lti_badges.models import LaunchSession
from lti_badges.web.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])
_REMEMBERED = 8  # launches remembered per browser cookie


def remember(launch: LaunchSession, token: str) -> None:
    """Keep the token in the signed cookie session too (used when cookies work)."""
    key = str(launch.course_id or f"p{launch.platform_id}")
    tokens = dict(session.get("launches", {}))
    tokens.pop(key, None)
    tokens[key] = token
    session["launches"] = dict(list(tokens.items())[-_REMEMBERED:])


def _explicit_token() -> str | None:
    return (request.headers.get("X-Launch-Token") or request.form.get("lt")
            or request.args.get("lt"))


def current_launch(course_id: int | None = None) -> LaunchSession | None:
    token = _explicit_token()
    if not token:
        key = str(course_id) if course_id is not None else None
        token = session.get("launches", {}).get(key) if key else None
    launch = sessions.resolve(token)
    if launch is not None:
        g.launch = launch
        g.launch_token = token
    return launch


def csrf_token(token: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"csrf:" + hashlib.sha256(token.encode()).digest(),
                    hashlib.sha256).hexdigest()


def _check_csrf() -> None:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    # Bytes: compare_digest raises on str with non-ASCII characters (was a 500).
    if not hmac.compare_digest(sent.encode("utf-8", "replace"),
                               csrf_token(g.launch_token).encode()):
        raise ApiError("This form has expired or did not come from this tool (CSRF check). "
                       "Reload the page and try again.", 400, "csrf_failed")


def course_access(*capabilities: str) -> Callable[[F], F]:
    """For routes under /course/<course_id>/: the launch must be for that course and hold
    one of ``capabilities``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(course_id: int, *args: Any, **kwargs: Any) -> Any:
            launch = current_launch(course_id)
            if launch is None:
                raise ApiError("Your session has ended or this page was opened outside the "
                               "course. Open the tool again from your course.", 401,
                               "no_session")
            if launch.course_id != course_id:
                raise ApiError("This page belongs to another course than the one you opened "
                               "the tool from.", 403, "wrong_course")
            if capabilities and not any(launch.can(c) for c in capabilities):
                raise ApiError("Your role in this course does not allow this page.", 403,
                               "forbidden_role")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                _check_csrf()
            return view(course_id, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
