"""The LTI endpoints of the URL contract: login, launch, JWKS, registration, configuration."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from lti_badges import sessions, urls
from lti_badges.extensions import db
from lti_badges.lti import dynamic_registration, keys
from lti_badges.lti.launch import LOGIN_PARAMS, LaunchError, start_login, validate_launch
from lti_badges.lti.roles import DESIGN, LEARN
from lti_badges.web import frames
from lti_badges.web.auth import require_launch

bp = Blueprint("lti", __name__, url_prefix="/lti")


def _params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {k: v for k, v in source.items() if isinstance(v, str)}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    params = _params()
    start = start_login(params, current_app.config)
    https = current_app.config["BASE_URL"].startswith("https://")
    in_iframe = request.headers.get("Sec-Fetch-Dest") == "iframe"
    if in_iframe and not params.get("lti_badges_new_window"):
        # Check that the iframe may keep cookies before going on; if not, offer a new window.
        restart = {k: params[k] for k in LOGIN_PARAMS if params.get(k)}
        restart["lti_badges_new_window"] = "1"
        resp = Response(render_template(
            "lti/login_check.html", redirect_url=start.redirect_url,
            new_window_url=url_for("lti.login") + "?" + urlencode(restart), https=https))
    else:
        resp = redirect(start.redirect_url, code=302)
    # Over HTTPS the platform's form POST back to /lti/launch is cross-site: SameSite=None.
    # Over plain http (development) None is refused without Secure, and an explicit Lax
    # would not travel on that POST; no attribute lets browsers apply their Lax-by-default
    # allowance for a top-level POST right after the cookie was set.
    resp.set_cookie(start.cookie_name, start.state, max_age=start.max_age, path="/lti/",
                    secure=https, httponly=True, samesite="None" if https else None)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/launch", methods=["POST"])
def launch() -> Response:
    form = {k: v for k, v in request.form.items() if isinstance(v, str)}
    validated = validate_launch(form, dict(request.cookies), current_app.config,
                                current_app.extensions["lti_badges.platform_keys"])
    launch_session, credential = sessions.open_session(validated, current_app.config)
    frames.learn_origins(launch_session.platform, request.headers.get("Origin"),
                         validated.claims.return_url)
    db.session.commit()
    _queue_learner_sync(launch_session, validated)
    if launch_session.course_id is None:
        raise LaunchError("This launch carries no course (context claim). Add the tool to a "
                          "course and open it from there.", 400, "no_context")
    badge = validated.claims.custom.get("badge")
    course_id = launch_session.course_id
    if validated.claims.is_deep_linking:
        target = url_for("course.deep_link", course_id=course_id)
    elif isinstance(badge, str) and launch_session.can(LEARN):
        # An activity made for one badge (deep linking) opens on that badge's progress.
        target = url_for("learner.index", course_id=course_id, _anchor=f"badge-{badge}")
    elif isinstance(badge, str) and launch_session.can(DESIGN):
        target = url_for("studio.badge", course_id=course_id, public_id=badge)
    else:
        target = url_for("course.home", course_id=course_id)
    # The credential goes into this page's own state, never into an address: the page
    # stores it for its browsing context and moves on to ``target``.
    resp = Response(render_template("lti/continue.html", launching={
        "credential": credential, "target": target, "course_id": course_id,
        "ttl": int(current_app.config["PAGE_CREDENTIAL_TTL_SECONDS"])}))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.delete_cookie("lti_badges_state_" + form.get("state", ""), path="/lti/")
    return resp


@bp.post("/session/renew")
def renew() -> Response:
    """A fresh page credential for the page in use (the one it sends must still be good)."""
    launch = require_launch()
    resp = jsonify({"credential": sessions.issue_credential(launch, current_app.config),
                    "expires_in": int(current_app.config["PAGE_CREDENTIAL_TTL_SECONDS"]),
                    "course_id": launch.course_id})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _queue_learner_sync(launch_session, validated) -> None:
    """A learner's launch re-checks that learner's badges in the background (never slows
    the launch; a failure to queue is logged, not shown)."""
    if not current_app.config.get("SYNC_ON_LAUNCH") or launch_session.course_id is None:
        return
    if not launch_session.can(LEARN) or validated.claims.is_deep_linking:
        return
    if not (launch_session.course.settings or {}).get("auto_sync", True):
        return  # the teacher unticked "Check criteria when a learner opens the tool"
    from lti_badges.models import Badge

    has_rules = db.session.scalar(db.select(Badge.id).where(
        Badge.course_id == launch_session.course_id, Badge.rule.is_not(None),
        Badge.archived.is_(False)).limit(1))
    if not has_rules:
        return
    try:
        from lti_badges.jobs import enqueue_sync

        enqueue_sync(launch_session.course_id, "launch", only_person_sub=validated.claims.subject)
    except Exception:
        current_app.logger.exception("could not queue the launch sync")
        db.session.rollback()


@bp.get("/jwks")
def jwks() -> Response:
    resp = jsonify(keys.public_jwks())
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/register")
def register() -> Response:
    result = dynamic_registration.register(
        request.args.get("openid_configuration"),
        request.args.get("registration_token"),
        request.args.get("invite"),
        current_app.config,
    )
    return Response(render_template("lti/registered.html", result=result))


@bp.get("/config.json")
def config_json() -> Response:
    """What an admin types into a manual LTI 1.3 registration form."""
    config = current_app.config
    doc = dynamic_registration.tool_registration(config, {})
    at = urls.tool_endpoints()
    return jsonify({
        "title": config["TOOL_NAME"],
        "description": config["TOOL_DESCRIPTION"],
        "oidc_initiation_url": at["login_url"],
        "target_link_uri": at["launch_url"],
        "redirect_uris": [at["launch_url"]],
        "public_jwk_url": at["jwks_url"],
        "domain": dynamic_registration.domain_of(config["BASE_URL"]),
        "scopes": doc["scope"].split(),
        "claims": list(dynamic_registration.CLAIMS),
        "messages": doc[dynamic_registration.LTI_TOOL_CONFIG]["messages"],
        "dynamic_registration_url": at["registration_url"],
    })
