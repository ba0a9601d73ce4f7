"""``/connectors/moodle/pair/<code>``: where the Moodle companion plugin pairs (contract (a)).

POST is server to server (the plugin, JSON in and out; the one-time code is the
credential, so no session or CSRF token); GET is for a person who opened the URL in a
browser: a short page saying where to paste it.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from lti_badges.services.moodle_pairing import PairingError, find_code, pair

bp = Blueprint("moodle_pairing", __name__)


@bp.post("/connectors/moodle/pair/<code>")
def pair_post(code: str) -> Response:
    body = request.get_json(silent=True) if request.is_json else None
    try:
        if body is None:
            raise PairingError("Send the pairing as JSON "
                               "(Content-Type: application/json).", 400, "bad_request")
        answer = pair(code, body)
    except PairingError as exc:
        resp = jsonify({"error": exc.code, "message": exc.message})
        resp.status_code = exc.status
        return resp
    return jsonify(answer)


@bp.get("/connectors/moodle/pair/<code>")
def pair_page(code: str) -> Response:
    try:
        find_code(code)
        problem = None
    except PairingError as exc:
        problem = exc.code
    resp = Response(render_template("moodle_pairing/pair.html", url=request.base_url,
                                    problem=problem),
                    status={None: 200, "unknown_code": 404, "already_used": 409}.get(problem, 410))
    resp.headers["Cache-Control"] = "no-store"
    return resp
