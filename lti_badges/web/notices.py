"""``POST /lti/notices``: signed grade, completion and enrolment notices from a platform
(the Moodle companion plugin; contract (b), checks in ``lti_badges.lti.notices``).

A server-to-server endpoint: no session, no CSRF token (the signature is the proof),
JSON in and out.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from lti_badges.lti.notices import NoticeError
from lti_badges.services.notices import receive_notice

bp = Blueprint("notices", __name__, url_prefix="/lti")


def _answer(status: int, body: dict) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/notices")
def notices() -> Response:
    token = None
    if request.is_json:
        body = request.get_json(silent=True)
        token = body.get("jwt") if isinstance(body, dict) else None
    else:
        token = request.form.get("jwt")
    if not isinstance(token, str) or not token.strip():
        return _answer(400, {"error": "bad_request",
                             "message": "Send the notice as JSON {\"jwt\": \"<compact JWS>\"} "
                                        "or as the form field jwt."})
    try:
        outcome = receive_notice(token.strip(), current_app.config,
                                 current_app.extensions["lti_badges.platform_keys"])
    except NoticeError as exc:
        return _answer(exc.status, {"error": exc.code, "message": exc.message})
    return _answer(outcome.status, outcome.body)
