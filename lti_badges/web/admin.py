"""The administration console of one platform, for its LMS administrators (from a launch).

Who: a launch session holding the ADMIN capability (institution or system
administrator roles; Moodle's site admin has them), bound to the platform it came
from. Everything shown or changed here belongs to that platform only:

- registrations with the same issuer as the admin's platform (a re-registration of
  the same LMS waits as *pending* until approved); approve the pending ones, disable
  any but the admin's own (that would end the session); re-enabling a disabled one,
  and everything else, is the operator's (CLI);
- the Moodle connector (URL, token stored encrypted and never shown back, "Test
  connection", the mode it reads in: companion plugin or core web services) and "Pair
  with the Moodle plugin" (a one-time pairing URL);
- the platform's issuer profiles (list, create, edit) and their signing keys
  (rotation adds keys; retired keys stay published so old badges still verify);
- the latest sync of each course, and the tool's health (the ``/healthz`` checks).

The tool's own LTI signing key is shared by every platform, so it is shown here but
rotated only by the operator (``lti-badges keys rotate``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lti_badges import issuing, urls
from lti_badges.connectors import (
    ConnectorError,
    check_moodle_connector,
    connector_for,
    save_moodle_connector,
    token_hint,
)
from lti_badges.extensions import db
from lti_badges.lti import keys as lti_keys
from lti_badges.lti.roles import ADMIN
from lti_badges.models import (
    Course,
    Issuer,
    Platform,
    PlatformStatus,
    SyncRun,
)
from lti_badges.services import catalogue
from lti_badges.web.auth import SAFE_METHODS, check_csrf, require_launch
from lti_badges.web.errors import ApiError, wants_json

bp = Blueprint("admin", __name__, url_prefix="/admin")

F = TypeVar("F", bound=Callable[..., Any])


# -- access ----------------------------------------------------------------------------


def platform_admin_access(view: F) -> F:
    """A launch session with the ADMIN capability; the view works on ``g.launch.platform``
    only. Unsafe methods need the CSRF token derived from the launch session."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        launch = require_launch()
        if not launch.can(ADMIN):
            raise ApiError("Only administrators of your LMS can open the administration "
                           "console.", 403, "forbidden_role")
        if request.method not in SAFE_METHODS:
            check_csrf()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _platform() -> Platform:
    return g.launch.platform


def _render(template: str, status: int = 200, **context: Any) -> Response:
    resp = Response(render_template(template, platform=_platform(), **context))
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- overview and health ---------------------------------------------------------------


def health_checks() -> dict[str, Any]:
    """The /healthz checks (database, broker), by calling that view, so both say the same."""
    from lti_badges.web import public

    body = public.healthz().get_json()
    return body if isinstance(body, dict) else {"status": "degraded", "checks": {}}


@bp.get("/")
@platform_admin_access
def index() -> Response:
    platform = _platform()
    connector = connector_for(platform.id)
    issuers = db.session.scalar(db.select(db.func.count()).select_from(Issuer)
                                .filter_by(platform_id=platform.id))
    pending = db.session.scalar(db.select(db.func.count()).select_from(Platform).where(
        Platform.issuer == platform.issuer, Platform.status == PlatformStatus.PENDING))
    return _render("admin/index.html", connector=connector, issuer_count=issuers,
                   pending_count=pending, health=health_checks())


@bp.get("/health")
@platform_admin_access
def health() -> Response:
    checks = health_checks()
    if wants_json():
        return jsonify(checks)
    return _render("admin/health.html", health=checks)


# -- registrations ------------------------------------------------------------------------


def _registrations() -> list[Platform]:
    """Registrations with the admin's issuer: the LMS registered again, or by hand."""
    return list(db.session.scalars(db.select(Platform).where(
        Platform.issuer == _platform().issuer).order_by(Platform.id)))


@bp.get("/registrations")
@platform_admin_access
def registrations() -> Response:
    return _render("admin/registrations.html", registrations=_registrations(),
                   changed=request.args.get("changed"))


@bp.post("/registrations/<int:platform_id>")
@platform_admin_access
def registration_status(platform_id: int) -> Response:
    target = next((p for p in _registrations() if p.id == platform_id), None)
    if target is None:
        raise ApiError("No registration of your LMS has this id.", 404, "not_found")
    if target.id == _platform().id:
        raise ApiError("This is the registration you are using now: it cannot be changed from "
                       "here. Ask the tool's operator (lti-badges platforms disable).", 400,
                       "own_registration")
    action = request.form.get("action", "")
    if action == "approve":
        # Only a registration waiting for approval: one the operator disabled stays off
        # until the operator says otherwise (lti-badges platforms approve).
        if target.status != PlatformStatus.PENDING:
            raise ApiError("Only a registration waiting for approval can be approved here; "
                           "ask the tool's operator to enable a disabled one.", 400,
                           "not_pending")
        target.status = PlatformStatus.ACTIVE
    elif action == "disable":
        target.status = PlatformStatus.DISABLED
    else:
        raise ApiError("The action is 'approve' or 'disable'.", 400, "invalid_action")
    db.session.commit()
    return redirect(url_for("admin.registrations", changed=target.id), code=303)


# -- the Moodle connector ----------------------------------------------------------------


def _connector_page(status: int = 200, **context: Any) -> Response:
    connector = connector_for(_platform().id)
    context.setdefault("form_url", connector.url if connector else "")
    return _render("admin/connector.html", status, connector=connector,
                   token_hint=token_hint(connector), **context)


@bp.get("/connector")
@platform_admin_access
def connector() -> Response:
    return _connector_page(saved=request.args.get("saved") == "1")


@bp.post("/connector")
@platform_admin_access
def connector_save() -> Response:
    url = request.form.get("url", "")
    try:
        save_moodle_connector(_platform(), url, request.form.get("token"))
    except ConnectorError as exc:
        db.session.rollback()
        return _connector_page(400, error=exc.message, error_field=exc.field, form_url=url)
    db.session.commit()
    return redirect(url_for("admin.connector", saved="1"), code=303)


@bp.post("/connector/test")
@platform_admin_access
def connector_test() -> Response:
    connector = connector_for(_platform().id)
    if connector is None:
        return _connector_page(400, error=_("Save the Moodle site URL and token first."))
    result = check_moodle_connector(connector)
    db.session.commit()
    return _connector_page(result=result)


@bp.post("/connector/pair")
@platform_admin_access
def connector_pair() -> Response:
    """A one-time pairing URL for the Moodle companion plugin, shown once on the page."""
    from lti_badges.services.moodle_pairing import create_pairing

    return _connector_page(pairing=create_pairing(_platform()))


@bp.post("/connector/delete")
@platform_admin_access
def connector_delete() -> Response:
    connector = connector_for(_platform().id)
    if connector is not None:
        db.session.delete(connector)
        db.session.commit()
    return _connector_page(deleted=True)


# -- issuer profiles -------------------------------------------------------------------


def _issuers() -> list[Issuer]:
    return list(db.session.scalars(db.select(Issuer).filter_by(platform_id=_platform().id)
                                   .order_by(Issuer.name, Issuer.id)))


def _issuer(public_id: str) -> Issuer:
    row = db.session.scalar(db.select(Issuer).filter_by(public_id=public_id,
                                                        platform_id=_platform().id))
    if row is None:
        raise ApiError("Your LMS has no issuer profile with this id.", 404, "not_found")
    return row


def _issuer_form() -> dict[str, str]:
    return {k: request.form.get(k, "") for k in ("name", "url", "email", "description")}


@bp.get("/issuers")
@platform_admin_access
def issuers() -> Response:
    return _render("admin/issuers.html", issuers=_issuers(),
                   saved=request.args.get("saved"), issuer_url=urls.issuer_url)


@bp.route("/issuers/new", methods=["GET", "POST"])
@platform_admin_access
def issuer_new() -> Response:
    form = _issuer_form()
    if request.method == "POST":
        try:
            row = catalogue.create_issuer(form["name"], form["url"], form["email"],
                                          platform=_platform(), description=form["description"])
        except issuing.IssuingError as exc:
            db.session.rollback()
            return _render("admin/issuer_form.html", 400, issuer=None, form=form,
                           error=exc.message)
        db.session.commit()
        return redirect(url_for("admin.issuers", saved=row.public_id), code=303)
    return _render("admin/issuer_form.html", issuer=None, form=form)


@bp.route("/issuers/<public_id>", methods=["GET", "POST"])
@platform_admin_access
def issuer_edit(public_id: str) -> Response:
    row = _issuer(public_id)
    if request.method == "POST":
        form = _issuer_form()
        try:
            catalogue.update_issuer(row, name=form["name"], url=form["url"],
                                    email=form["email"], description=form["description"])
        except issuing.IssuingError as exc:
            db.session.rollback()
            return _render("admin/issuer_form.html", 400, issuer=row, form=form,
                           error=exc.message)
        db.session.commit()
        return redirect(url_for("admin.issuers", saved=row.public_id), code=303)
    form = {"name": row.name, "url": row.url, "email": row.email,
            "description": row.description or ""}
    return _render("admin/issuer_form.html", issuer=row, form=form,
                   profile_url=urls.issuer_url(row), did=urls.issuer_did(row))


# -- keys ---------------------------------------------------------------------------------


def _keys_page(rotated: dict[str, list[str]] | None = None) -> Response:
    rows = _issuers()
    published = [k["kid"] for k in lti_keys.public_jwks()["keys"]]
    return _render("admin/keys.html", issuers=rows, rotated=rotated or {},
                   lti_kids=published, did_of=urls.issuer_did)


@bp.get("/keys")
@platform_admin_access
def keys() -> Response:
    return _keys_page()


@bp.post("/keys/rotate")
@platform_admin_access
def keys_rotate() -> Response:
    """New Ed25519 and RSA keys for the platform's issuers (one, or all); old keys stay
    published, retired, so every badge signed with them still verifies."""
    wanted = request.form.get("issuer") or ""
    targets = [_issuer(wanted)] if wanted else _issuers()
    if not targets:
        raise ApiError("Your LMS has no issuer profile yet: there is no key to rotate.", 400,
                       "no_issuer")
    rotated = {i.public_id: [k.kid for k in issuing.rotate_issuer_keys(i)] for i in targets}
    db.session.commit()
    return _keys_page(rotated)


# -- sync and jobs ------------------------------------------------------------------------


@bp.get("/sync")
@platform_admin_access
def sync() -> Response:
    platform = _platform()
    latest = (db.select(SyncRun.course_id, db.func.max(SyncRun.id).label("run_id"))
              .group_by(SyncRun.course_id).subquery())
    rows = db.session.execute(
        db.select(Course, SyncRun)
        .outerjoin(latest, latest.c.course_id == Course.id)
        .outerjoin(SyncRun, SyncRun.id == latest.c.run_id)
        .where(Course.platform_id == platform.id)
        .order_by(Course.title, Course.id)).all()
    active = db.session.scalar(
        db.select(db.func.count()).select_from(SyncRun).join(Course)
        .where(Course.platform_id == platform.id, SyncRun.status.in_(("queued", "running"))))
    return _render("admin/sync.html", rows=rows, active=active, health=health_checks())
