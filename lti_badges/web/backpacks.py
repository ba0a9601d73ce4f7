"""The learner's backpacks: connect one (OAuth 2 with PKCE), push a badge, see and retry pushes.

Routes under the learner's course pages carry the launch; the OAuth callback does not
(the backpack redirects the browser there in a top-level window): the one-time ``state``
the tool stored identifies the pending connection and its person.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from lti_badges.backpack import service
from lti_badges.extensions import db
from lti_badges.jobs import kick_outbox
from lti_badges.lti.roles import LEARN
from lti_badges.models import Award, BackpackConnection, BackpackPush
from lti_badges.web.auth import course_access
from lti_badges.web.errors import ApiError

bp = Blueprint("backpacks", __name__)
PREFIX = "/course/<int:course_id>/learn/backpacks"


def _back(course_id: int, done: str) -> Response:
    return redirect(url_for("learner.index", course_id=course_id, done=done,
                         _anchor="backpacks"), code=303)


def _mine(model: type, row_id: int, what: str):
    row = db.session.get(model, row_id)
    owner = row.person_id if isinstance(row, BackpackConnection) else (
        row.connection.person_id if row is not None else None)
    if row is None or owner != g.launch.person_id:
        raise ApiError(f"No {what} of yours has this number.", 404, "not_found")
    return row


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except service.BackpackServiceError as exc:
        raise ApiError(exc.message, exc.status, f"backpack_{exc.code}") from exc


@bp.post(PREFIX + "/connect")
@course_access(LEARN)
def connect(course_id: int) -> Response:
    address = (request.form.get("address") or "").strip()
    if not address or len(address) > 1000:
        raise ApiError("Type your backpack's address (for example https://backpack.example).",
                       400, "missing_address")
    url = _call(service.start_connect, g.launch.person, address)
    return redirect(url, code=303)


@bp.get("/backpack/callback")
def callback() -> Response:
    """Where the backpack sends the learner back (RFC 6749 §4.1.2)."""
    state = request.args.get("state") or ""
    if not state:
        raise ApiError("This address is where a backpack sends you back after you allow the "
                       "tool; it needs the 'state' the backpack adds.", 400, "missing_state")
    connection = _call(service.finish_connect, state, request.args.get("code"),
                       error=request.args.get("error"),
                       error_description=request.args.get("error_description"))
    kick_outbox()  # pushes waiting for this connection go now
    return Response(render_template("learner/backpack_connected.html", connection=connection))


@bp.post(PREFIX + "/<int:connection_id>/disconnect")
@course_access(LEARN)
def disconnect(course_id: int, connection_id: int) -> Response:
    _call(service.disconnect, _mine(BackpackConnection, connection_id, "backpack"))
    return _back(course_id, "disconnected")


@bp.post("/course/<int:course_id>/learn/awards/<public_id>/push")
@course_access(LEARN)
def push(course_id: int, public_id: str) -> Response:
    award = db.session.scalar(db.select(Award).filter_by(public_id=public_id,
                                                         person_id=g.launch.person_id))
    if award is None or award.badge.course_id != course_id:
        raise ApiError("No badge of yours has this id in this course.", 404, "not_found")
    if award.claimed_at is None:
        raise ApiError("Accept the badge before sending it to a backpack.", 409, "not_claimed")
    try:
        connection_id = int(request.form.get("connection", ""))
    except ValueError as exc:
        raise ApiError("Choose one of your backpacks.", 400, "missing_connection") from exc
    connection = _mine(BackpackConnection, connection_id, "backpack")
    _call(service.queue_push, award, connection)
    kick_outbox()
    return _back(course_id, "queued")


@bp.post(PREFIX + "/pushes/<int:push_id>/retry")
@course_access(LEARN)
def retry(course_id: int, push_id: int) -> Response:
    _call(service.retry_push, _mine(BackpackPush, push_id, "sending"))
    kick_outbox()
    return _back(course_id, "queued")
