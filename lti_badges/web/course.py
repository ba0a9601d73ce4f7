"""Pages of a course after a launch. Every route is bound to the launch's course and role."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from pylti1p3.deep_link_resource import DeepLinkResource

from lti_badges import urls
from lti_badges.extensions import db
from lti_badges.lti import keys
from lti_badges.lti.roles import AWARD, DESIGN, LEARN, VIEW_COURSE
from lti_badges.lti.tool_config import DbRegistration
from lti_badges.models import Badge, Course, Membership
from lti_badges.services import studio as studio_svc
from lti_badges.web.auth import course_access
from lti_badges.web.errors import ApiError

bp = Blueprint("course", __name__, url_prefix="/course/<int:course_id>")

LANGUAGES = ("en", "fr")


def _course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:  # the decorator already bound the launch to this id
        raise ApiError("This course no longer exists in the tool.", 404, "not_found")
    return course


@bp.get("/")
@course_access(DESIGN, AWARD, VIEW_COURSE, LEARN)
def home(course_id: int) -> Response:
    """Where a launch lands: the studio for staff, the learner's page for learners."""
    launch = g.launch
    if launch.can(DESIGN) or launch.can(VIEW_COURSE):
        return redirect(url_for("studio.index", course_id=course_id))
    if launch.can(LEARN):
        return redirect(url_for("learner.index", course_id=course_id))
    course = _course(course_id)
    members = db.session.scalar(
        db.select(db.func.count()).select_from(Membership).filter_by(course_id=course_id))
    return Response(render_template("course/home.html", course=course, member_count=members))


@bp.route("/settings", methods=["GET", "POST"])
@course_access(DESIGN)
def settings(course_id: int) -> Response:
    course = _course(course_id)
    saved = False
    if request.method == "POST":
        language = request.form.get("language", "")
        if language not in LANGUAGES:
            raise ApiError(f"Choose a language among {', '.join(LANGUAGES)}.", 400,
                           "invalid_language")
        auto_sync = request.form.get("auto_sync") == "on"
        course.settings = {**(course.settings or {}), "language": language,
                           "auto_sync": auto_sync}
        db.session.commit()
        saved = True
    return Response(render_template("course/settings.html", course=course, saved=saved,
                                    languages=LANGUAGES))


@bp.get("/people")
@course_access(DESIGN, AWARD, VIEW_COURSE)
def people(course_id: int) -> Response:
    course = _course(course_id)
    rows, facts = studio_svc.roster(course)
    return Response(render_template("course/people.html", course=course, rows=rows,
                                    roster_read=facts.roster_read))


@bp.route("/deep-link", methods=["GET", "POST"])
@course_access(DESIGN)
def deep_link(course_id: int) -> Response:
    """LTI Deep Linking 2.0 §4.2: answer the platform with the content items picked here."""
    course = _course(course_id)
    launch = g.launch
    settings = (launch.claims or {}).get("deep_linking_settings")
    if launch.message_type != "LtiDeepLinkingRequest" or not settings:
        raise ApiError("This page answers a deep-linking request from your LMS; open it from the "
                       "LMS's 'add activity' flow.", 400, "not_deep_linking")
    badges = db.session.scalars(db.select(Badge).where(
        Badge.course_id == course_id, Badge.archived.is_(False)).order_by(Badge.name)).all()
    if request.method == "GET":
        return Response(render_template("course/deep_link.html", course=course,
                                        settings=settings, badges=badges))
    launch_url = urls.tool_endpoints()["launch_url"]
    chosen = set(request.form.getlist("badge"))
    resources = []
    for badge in badges:
        if badge.public_id in chosen:
            # One activity per badge: a learner opening it lands on that badge's progress.
            resources.append(DeepLinkResource().set_url(launch_url)
                             .set_title(badge.name[:255])
                             .set_custom_params({"badge": badge.public_id}))
    if chosen - {b.public_id for b in badges}:
        raise ApiError("A chosen badge does not belong to this course.", 400, "unknown_badge")
    if request.form.get("progress_page") == "on" or not resources:
        title = (request.form.get("title") or "").strip()
        if not title or len(title) > 255:
            raise ApiError("Give the activity a title of 1 to 255 characters.", 400,
                           "invalid_title")
        resources.append(DeepLinkResource().set_url(launch_url).set_title(title)
                         .set_custom_params({"badge_view": "progress"}))
    if len(resources) > 1 and settings.get("accept_multiple") is False:
        raise ApiError("Your LMS accepts one activity at a time here: choose one badge.", 400,
                       "one_only")
    registration = DbRegistration(launch.platform,
                                  keys.active_signing_key(current_app.config["SECRET_KEY"]))
    from pylti1p3.deep_link import DeepLink

    deep_link = DeepLink(registration, launch.deployment.deployment_id, settings)
    message = deep_link.get_message_jwt(resources)
    if settings.get("data") is None:
        # Deep Linking §4.4.1: data is echoed only when the request carried it.
        message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
    jwt_value = deep_link.encode_jwt(message)
    return Response(render_template("lti/deep_link_return.html",
                                    return_url=settings["deep_link_return_url"], jwt=jwt_value))
