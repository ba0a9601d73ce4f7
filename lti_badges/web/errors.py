"""Request ids, security headers and error answers: a person-readable 4xx, never a bare 500.

Every response carries ``X-Request-ID``; error pages show it and the log line
of the error carries it, so an admin can find what happened from a screenshot.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import lazy_gettext
from werkzeug.exceptions import HTTPException

from lti_badges.errors import UserError

log = logging.getLogger("lti_badges")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class ApiError(UserError):
    """An error a route raises on purpose: status, stable code, message for a person."""


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/lti/jwks", "/lti/config.json", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"]


# What a person should do, in their language; the precise message stays below it.
GUIDANCE = {
    "replayed": lazy_gettext("This launch link was already used. Open the activity again from "
                             "your course."),
    "expired": lazy_gettext("The launch took too long. Open the activity again from your course."),
    "unknown_state": lazy_gettext("The launch could not be matched. Open the activity again from "
                                  "your course."),
    "state_cookie_missing": lazy_gettext("Your browser blocked a cookie this tool needs. Open the "
                                         "activity again, or open the tool in a new window."),
    "unknown_platform": lazy_gettext("Your LMS is not registered with this tool yet. Contact "
                                     "your LMS administrator."),
    "platform_pending": lazy_gettext("Your LMS's registration is waiting for approval. Contact "
                                     "your LMS administrator."),
    "platform_disabled": lazy_gettext("This tool has been turned off for your LMS. Contact your "
                                      "LMS administrator."),
    "unknown_deployment": lazy_gettext("This tool is not set up for this part of your LMS. "
                                       "Contact your LMS administrator."),
    "bad_claim": lazy_gettext("Your LMS sent a launch this tool cannot read. Contact your LMS "
                              "administrator."),
    "bad_text": lazy_gettext("Your LMS sent a launch this tool cannot read. Open the activity "
                             "again; if it happens again, contact your LMS administrator."),
    "no_session": lazy_gettext("Your session has ended. Open the tool again from your course."),
    "wrong_course": lazy_gettext("This page belongs to another course."),
    "forbidden_role": lazy_gettext("Your role in this course does not allow this page."),
    "csrf_failed": lazy_gettext("This form has expired. Reload the page and try again."),
    "not_found": lazy_gettext("Nothing is published at this address."),
}


def error_response(message: str, status: int, code: str, **extra: object) -> Response:
    request_id = g.get("request_id", "-")
    log_fn = log.warning if status < 500 else log.error
    log_fn("%s %s -> %s %s: %s", request.method, request.path, status, code, message)
    if wants_json():
        resp = jsonify({"error": code, "message": message, "request_id": request_id})
    else:
        guidance = GUIDANCE.get(code)
        resp = Response(render_template("error.html", message=message, status=status, code=code,
                                        request_id=request_id,
                                        guidance=str(guidance) if guidance else None, **extra))
    resp.status_code = status
    return resp


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(_RequestIdFilter())
    if not any(isinstance(f, _RequestIdFilter) for h in log.handlers for f in h.filters):
        log.addHandler(handler)
    log.setLevel(logging.INFO)

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]

    @app.before_request
    def _refuse_nul() -> None:
        # No field of ours can hold NUL, and PostgreSQL text refuses it: stop it at the edge.
        for source in (request.args, request.form):
            for key, value in source.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    raise ApiError(f"The field {key.replace(chr(0), '')!r} contains a NUL "
                                   "character, which no field accepts.", 400, "nul_character")

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["X-Request-ID"] = g.get("request_id", "-")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Addresses stay on this site (course and award ids are nobody else's business).
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        # Framed by the registered platforms' pages only (web.frames); nothing else loosened.
        from lti_badges.web.frames import frame_ancestors

        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; form-action *; base-uri 'none'; "
            "frame-ancestors " + frame_ancestors(app.config),
        )
        return resp

    @app.errorhandler(UserError)
    def _user_error(exc: UserError) -> Response:
        return error_response(exc.message, exc.status, exc.code)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return error_response(exc.description or exc.name, exc.code or 400,
                              (exc.name or "error").lower().replace(" ", "_"))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        from lti_badges.extensions import db

        db.session.rollback()
        return error_response(
            "Something went wrong on our side. Nothing was saved. Give this request id to the "
            "tool's administrator.", 500, "internal_error")
