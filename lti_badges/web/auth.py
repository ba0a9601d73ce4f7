"""Who is asking: the launch session behind a request, and the access rules as decorators.

Identity comes only from a launch. A request names its launch session by a page
credential (see ``sessions``): the ``X-Launch-Credential`` header (scripts, and the
page loader of ``static/launch.js``) or, on a form post, the ``lt`` field the page adds
when the form is sent. Never a query parameter and never a cookie: an address opened
anywhere else than the page the launch made answers with ``lti/continue.html``, which
finds no credential there and says to open the tool from the course.

The session is bound to one platform, deployment and course; a route for another
course answers 403 whatever the role. Unsafe methods need a CSRF token derived from
the launch session. Authenticated answers are ``no-store`` and carry a renewed
credential (``X-Launch-Credential-Next``) for the page to keep.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, render_template, request

from lti_badges import sessions
from lti_badges.models import LaunchSession
from lti_badges.web.errors import ApiError, wants_json

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "X-Launch-Credential"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def sent_credential() -> str | None:
    """The page credential this request carries: the header, or the posted ``lt`` field."""
    sent = request.headers.get(HEADER)
    if not sent and request.method not in SAFE_METHODS:
        sent = request.form.get("lt")
    return sent or None


def current_launch() -> LaunchSession | None:
    """The live launch session named by this request's credential (also set on ``g``)."""
    launch = sessions.resolve_credential(sent_credential(), current_app.config)
    if launch is not None:
        g.launch = launch
    return launch


def csrf_token(launch: LaunchSession) -> str:
    """Stable for the whole launch session (credentials renew, forms stay valid)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"csrf:" + launch.token_hash.encode(), "sha256").hexdigest()


def check_csrf() -> None:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    # Bytes: compare_digest raises on str with non-ASCII characters (was a 500).
    if not hmac.compare_digest(sent.encode("utf-8", "replace"),
                               csrf_token(g.launch).encode()):
        raise ApiError("This form has expired or did not come from this tool (CSRF check). "
                       "Reload the page and try again.", 400, "csrf_failed")


class NoCredential(Exception):
    """An address opened without the page that holds its credential (a copied link, a
    bookmark, a new tab): answered by the page loader, see ``continue_page``."""


def continue_page() -> Response:
    """The answer to a page address opened without a credential: a page with no data that
    loads the address again with the credential its browsing context holds, if any, and
    otherwise says to open the tool from the course (it works without a cookie)."""
    resp = Response(render_template("lti/continue.html", launching=None), status=401)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def require_launch() -> LaunchSession:
    """The request's launch session, or the answer for a request without one."""
    launch = current_launch()
    if launch is not None:
        return launch
    if sent_credential() is None and request.method in SAFE_METHODS and not wants_json():
        raise NoCredential()
    raise ApiError("Your session has ended or this page was opened outside the course. Open "
                   "the tool again from your course.", 401, "no_session")


def course_access(*capabilities: str) -> Callable[[F], F]:
    """For routes under /course/<course_id>/: the launch must be for that course and hold
    one of ``capabilities``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(course_id: int, *args: Any, **kwargs: Any) -> Any:
            launch = require_launch()
            if launch.course_id != course_id:
                raise ApiError("This page belongs to another course than the one you opened "
                               "the tool from.", 403, "wrong_course")
            if capabilities and not any(launch.can(c) for c in capabilities):
                raise ApiError("Your role in this course does not allow this page.", 403,
                               "forbidden_role")
            if request.method not in SAFE_METHODS:
                check_csrf()
            return view(course_id, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def init_app(app: Any) -> None:
    app.register_error_handler(NoCredential, lambda exc: continue_page())

    @app.after_request
    def _authenticated(resp: Response) -> Response:
        launch = g.get("launch")
        if launch is not None:
            # Pages made for one person: not kept by the browser, proxies or the back cache.
            resp.headers["Cache-Control"] = "no-store"
            resp.headers[HEADER + "-Next"] = sessions.issue_credential(launch, app.config)
        return resp
