"""The badge studio: teachers and course designers create badges and their criteria, preview
who would earn them, sync, award by hand or from a CSV, revoke and export; teaching
assistants see the same pages read-only.

Every route is bound to the launch's course (``course_access``); badges, awards, issuers
and people are looked up *within* that course or platform, never trusted from a
parameter. Pages speak English or French (``flask_babel``); criteria explanations come
from ``criteria.explain`` in the page's language.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from lti_badges import criteria, issuing, jobs, urls
from lti_badges.extensions import db
from lti_badges.lti.roles import AWARD, DESIGN, VIEW_COURSE
from lti_badges.models import Award, Badge, Course, ImageAsset, Issuer, Membership, Person, SyncRun
from lti_badges.openbadges import images
from lti_badges.services import catalogue, sync_runs
from lti_badges.services import studio as svc
from lti_badges.web.auth import course_access
from lti_badges.web.errors import ApiError, wants_json

bp = Blueprint("studio", __name__, url_prefix="/course/<int:course_id>/studio")

STAFF = (DESIGN, AWARD, VIEW_COURSE)
BADGE_LANGUAGES = ("en", "fr")
FINISHED = sync_runs.FINISHED


def _lang() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def _course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise ApiError(_("This course no longer exists in the tool."), 404, "not_found")
    return course


def _course_badges(course_id: int) -> list[Badge]:
    return list(db.session.scalars(db.select(Badge).where(
        Badge.course_id == course_id, Badge.archived.is_(False)).order_by(Badge.name, Badge.id)))


def _badge(course_id: int, public_id: str) -> Badge:
    badge = db.session.scalar(db.select(Badge).filter_by(public_id=public_id,
                                                         course_id=course_id))
    if badge is None:
        raise ApiError(_("This course has no such badge."), 404, "not_found")
    return badge


def _issuers() -> list[Issuer]:
    return list(db.session.scalars(db.select(Issuer).filter_by(
        platform_id=g.launch.platform_id).order_by(Issuer.name, Issuer.id)))


def _last_run(course_id: int) -> SyncRun | None:
    return db.session.scalar(db.select(SyncRun).filter_by(course_id=course_id)
                             .order_by(SyncRun.id.desc()).limit(1))


def _progress(course: Course, badges: list[Badge], *, read: bool,
              refresh: bool = False) -> tuple[dict[int, svc.ProgressCounts] | None, Any]:
    """In-progress counts from the course's facts: from the cached read, or reading now."""
    facts = (svc.course_facts(course, refresh=refresh) if read or refresh
             else svc.cached_facts(course))
    if facts is None:
        return None, None
    return svc.progress_counts(badges, svc.learners(course, facts)), facts


# -- index and sync -------------------------------------------------------------------------


@bp.get("/")
@course_access(*STAFF)
def index(course_id: int) -> Response:
    course = _course(course_id)
    badges = _course_badges(course_id)
    read = request.args.get("progress") == "1"
    counts, facts = _progress(course, badges, read=read)
    return Response(render_template(
        "studio/index.html", course=course, badges=badges, earned=svc.earned_counts(course_id),
        counts=counts, facts=facts, last_run=_last_run(course_id),
        pathway=svc.pathway(badges), lang=_lang()))


@bp.get("/progress.json")
@course_access(*STAFF)
def progress_json(course_id: int) -> Response:
    course = _course(course_id)
    badges = _course_badges(course_id)
    counts, facts = _progress(course, badges, read=True,
                              refresh=request.args.get("refresh") == "1")
    assert counts is not None and facts is not None
    earned = svc.earned_counts(course_id)
    return jsonify({
        "read_at": facts.read_at.isoformat(), "complete": facts.complete,
        "errors": list(facts.errors), "learners": len(facts.learners),
        "badges": {b.public_id: {"earned": earned.get(b.id, 0),
                                 "in_progress": counts[b.id].in_progress,
                                 "ready": counts[b.id].ready} for b in badges}})


@bp.post("/sync")
@course_access(AWARD)
def sync_now(course_id: int) -> Response:
    _course(course_id)
    run = jobs.enqueue_sync(course_id, "manual")
    status_url = url_for("studio.sync_status", course_id=course_id, run_id=run.id)
    if wants_json():
        resp = jsonify({"run": run.to_dict(), "status_url": status_url})
        resp.status_code = 202
        return resp
    return redirect(url_for("studio.index", course_id=course_id, run=run.id), 303)


@bp.get("/sync/<int:run_id>")
@course_access(*STAFF)
def sync_status(course_id: int, run_id: int) -> Response:
    run = db.session.scalar(db.select(SyncRun).filter_by(id=run_id, course_id=course_id))
    if run is None:
        raise ApiError(_("This course has no such sync."), 404, "not_found")
    if run.status in FINISHED and run.finished_at:
        svc.forget_facts(course_id, older_than=run.finished_at)
    return jsonify({**run.to_dict(), "finished": run.status in FINISHED,
                    "message": _run_message(run),
                    # The panel's "Last sync" line, as the page would show it now.
                    "last_sync_html": render_template("studio/_last_sync.html",
                                                      last_run=run)})


def _run_message(run: SyncRun) -> str:
    if run.status == "queued":
        if sync_runs.active(run.course_id, "running") is not None:
            return _("Waiting for the sync under way to finish…")
        return _("Waiting to start…")
    if run.status == "running":
        return _("Checking: %(done)d of %(total)d", done=run.done, total=run.total)
    if run.status == "done":
        if run.phase == "unchanged":
            return _("Done: nothing changed since the last sync.")
        return _("Done: %(num)d badge(s) awarded.", num=run.awarded)
    if run.status == "partial":
        return _("Stopped: a source could not be read, so nothing was awarded.")
    return _("The sync failed.")


# -- the badge form -------------------------------------------------------------------------


def _defaults(badge: Badge | None) -> dict[str, Any]:
    if badge is None:
        return {"rule_mode": "builder", "image_mode": "generate", "template": "circle",
                "colour": "blue", "expiry_mode": "none", "language": _lang(), "issuer": "",
                "rule_json": "", "alignments": [{}]}
    if badge.expires_after_days:
        expiry = "days"
    elif badge.expires_on:
        expiry = "date"
    else:
        expiry = "none"
    return {
        "name": badge.name, "description": badge.description,
        "criteria_text": badge.criteria_text, "criteria_url": badge.criteria_url or "",
        "tags": ", ".join(badge.tags or []), "language": badge.language or "",
        "image_mode": "keep", "template": "circle", "colour": "blue",
        "expiry_mode": expiry, "expires_after_days": str(badge.expires_after_days or ""),
        "expires_on": badge.expires_on.date().isoformat() if badge.expires_on else "",
        "issuer": badge.issuer.public_id,
        "rule_json": json.dumps(badge.rule, indent=2, ensure_ascii=False) if badge.rule else "",
        "rule_mode": "builder" if svc.builder_from_rule(badge.rule) is not None else "json",
        "alignments": [{"name": a.get("target_name") or "", "url": a.get("target_url") or "",
                        "code": a.get("target_code") or "",
                        "framework": a.get("target_framework") or ""}
                       for a in badge.alignments or []] + [{}],
    }


def _alignment_rows(form: Any) -> list[dict[str, str]]:
    rows = []
    for i in range(svc.MAX_ALIGNMENTS):
        if not any(k.startswith(f"a{i}-") for k in form):
            continue
        rows.append({k: form.get(f"a{i}-{k}", "").strip()
                     for k in ("name", "url", "code", "framework")})
    return rows


def _values(form: Any) -> dict[str, Any]:
    keys = ("name", "description", "criteria_text", "criteria_url", "tags", "language",
            "image_mode", "template", "colour", "image_ref", "expiry_mode",
            "expires_after_days", "expires_on", "issuer", "issuer_name", "issuer_url",
            "issuer_email", "rule_json", "rule_mode")
    values: dict[str, Any] = {k: form.get(k, "") for k in keys}
    values["alignments"] = _alignment_rows(form) or [{}]
    if any(values["alignments"][-1].values()):
        values["alignments"].append({})
    return values


class _Draft:
    """What the badge form's POST says, checked field by field."""

    def __init__(self, form: Any, files: Any, badge: Badge | None):
        self.form, self.files, self.badge = form, files, badge
        self.values = _values(form)
        self.errors: list[svc.FieldError] = []
        self.rule: Any = None
        self.builder = svc.builder_from_form(form)
        self.image: ImageAsset | None = None

    def error(self, field: str, message: str) -> None:
        self.errors.append(svc.FieldError(field, message))

    def read_rule(self) -> None:
        mode = self.values["rule_mode"]
        if mode == "json":
            text = self.values["rule_json"].strip()
            if not text:
                self.rule = None
            else:
                problems = criteria.validate(text)
                for p in problems:
                    where = p.path or _("(the whole rule)")
                    self.error("rule_json", f"{where}: {p.message}")
                if not problems:
                    self.rule = criteria.to_json(criteria.parse(text))
                    flat = svc.builder_from_rule(self.rule)
                    if flat is not None:
                        self.builder = flat
        elif mode == "builder":
            rule, problems = svc.rule_from_builder(self.builder, _)
            self.errors.extend(problems)
            if not problems and rule is not None:
                for p in criteria.validate(rule):
                    self.error("rule_json", f"{p.path or _('(the whole rule)')}: {p.message}")
            if not self.errors:
                self.rule = rule
                self.values["rule_json"] = (json.dumps(rule, indent=2, ensure_ascii=False)
                                            if rule is not None else "")
        else:
            self.error("rule_mode", _("Choose the builder or the JSON for the criteria."))
        if self.rule is not None and self.badge is not None and (
                self.badge.public_id in svc.badge_refs(self.rule)):
            self.error("rule_json", _("A badge cannot be its own prerequisite."))

    def read_image(self) -> None:
        mode = self.values["image_mode"]
        upload = self.files.get("image")
        if upload is not None and upload.filename:
            mode = "upload"
        if mode == "upload":
            if upload is None or not upload.filename:
                self.error("image", _("Choose an image file to upload."))
                return
            data = upload.read(images.MAX_UPLOAD_BYTES + 1)
            try:
                self.image = issuing.store_image(data, filename=upload.filename,
                                                 declared_type=upload.mimetype)
            except issuing.IssuingError as exc:
                self.error("image", _("The image was refused: %(reason)s", reason=exc.message))
                return
        elif mode == "generate":
            template, colour = self.values["template"], self.values["colour"]
            if template not in images.TEMPLATES:
                self.error("template", _("Choose one of the shapes offered."))
                return
            if colour not in images.COLOURS:
                self.error("colour", _("Choose one of the colours offered."))
                return
            text = self.values["name"].strip() or "Badge"
            try:
                self.image = issuing.generated_image(text[:60], colour, template)
            except issuing.IssuingError as exc:
                self.error("template", exc.message)
                return
        elif mode == "keep":
            ref = self.values["image_ref"]
            if ref:  # an image stored by an earlier preview of this form
                self.image = db.session.scalar(db.select(ImageAsset).filter_by(public_id=ref))
            if self.image is None and self.badge is None:
                self.error("image_mode", _("Upload an image or generate one."))
                return
        else:
            self.error("image_mode", _("Upload an image or generate one."))
            return
        if self.image is not None:
            self.values["image_ref"] = self.image.public_id
            self.values["image_mode"] = "keep"
            # Kept even if the badge is not saved: the next submit of this form uses it.
            db.session.commit()

    def read_expiry(self) -> tuple[int | None, datetime | None]:
        mode = self.values["expiry_mode"]
        if mode == "days":
            try:
                days = int(self.values["expires_after_days"])
            except ValueError:
                days = 0
            if not 1 <= days <= 36500:
                self.error("expires_after_days", _("Give a number of days from 1 to 36500."))
                return None, None
            return days, None
        if mode == "date":
            try:
                day = datetime.strptime(self.values["expires_on"], "%Y-%m-%d")
            except ValueError:
                self.error("expires_on", _("Give the expiry date as YYYY-MM-DD."))
                return None, None
            if day.replace(tzinfo=UTC) <= datetime.now(UTC):
                self.error("expires_on", _("The expiry date must be in the future."))
                return None, None
            return None, day
        if mode != "none":
            self.error("expiry_mode", _("Choose how the badge expires."))
        return None, None

    def read_text(self) -> None:
        limits = catalogue.LIMITS
        for key, label, limit in (("name", _("Name"), limits["name"]),
                                  ("description", _("Description"), limits["description"]),
                                  ("criteria_text", _("What learners must do"),
                                   limits["criteria"])):
            value = self.values[key].strip()
            if not value:
                self.error(key, _("%(field)s is required.", field=label))
            elif len(value) > limit:
                self.error(key, _("%(field)s is longer than %(limit)d characters.",
                                  field=label, limit=limit))
        if self.values["language"] not in ("", *BADGE_LANGUAGES):
            self.error("language", _("Choose a language among those offered."))
        url = self.values["criteria_url"].strip()
        if url and not catalogue.is_http_url(url):
            self.error("criteria_url", _("The criteria page must be an http(s) address."))
        for i, row in enumerate(self.values["alignments"]):
            if not any(row.values()):
                continue
            if not row.get("name"):
                self.error(f"a{i}-name", _("Alignment %(n)d: give the name of what the badge "
                                           "aligns to.", n=i + 1))
            if not catalogue.is_http_url(row.get("url", "")):
                self.error(f"a{i}-url", _("Alignment %(n)d: give its http(s) address.", n=i + 1))

    def alignments(self) -> list[dict[str, Any]]:
        return [{"target_name": r["name"], "target_url": r["url"],
                 "target_code": r.get("code") or None,
                 "target_framework": r.get("framework") or None}
                for r in self.values["alignments"] if any(r.values())]

    def tags(self) -> list[str]:
        return [t.strip() for t in self.values["tags"].split(",") if t.strip()]

    def issuer(self) -> Issuer | None:
        """The platform's issuer chosen, or a new one for the launch's platform."""
        choice = self.values["issuer"]
        if choice and choice != "new":
            issuer = db.session.scalar(db.select(Issuer).filter_by(
                public_id=choice, platform_id=g.launch.platform_id))
            if issuer is None:
                self.error("issuer", _("Choose one of the issuers offered."))
            return issuer
        if self.badge is not None and not choice:
            return self.badge.issuer
        missing = [(k, label) for k, label in (("issuer_name", _("Issuer name")),
                                               ("issuer_url", _("Issuer website")),
                                               ("issuer_email", _("Issuer email")))
                   if not self.values[k].strip()]
        for key, label in missing:
            self.error(key, _("%(field)s is required.", field=label))
        if missing:
            return None
        try:
            return catalogue.create_issuer(self.values["issuer_name"], self.values["issuer_url"],
                                           self.values["issuer_email"],
                                           platform=g.launch.platform)
        except issuing.IssuingError as exc:
            db.session.rollback()
            self.error("issuer_name", exc.message)
            return None


def _form_context(course: Course, badge: Badge | None, values: dict[str, Any],
                  builder: svc.Builder | None, **extra: Any) -> dict[str, Any]:
    facts = svc.course_facts(course)
    badges = [b for b in _course_badges(course.id) if badge is None or b.id != badge.id]
    conditions = list(builder.conditions) if builder else []
    conditions = [c for c in conditions if c.type] + [svc.Condition()]
    return {
        "course": course, "badge": badge, "v": values,
        "builder": builder or svc.Builder(), "conditions": conditions,
        "builder_ok": builder is not None,
        "grade_items": svc.item_choices(facts, "grade"),
        "activities": svc.item_choices(facts, "activity"),
        "links": svc.link_choices(course, facts), "other_badges": badges,
        "facts": facts, "issuers": _issuers(), "templates": images.TEMPLATES,
        "colours": list(images.COLOURS), "languages": BADGE_LANGUAGES,
        "condition_types": svc.CONDITION_TYPES, "lang": _lang(),
        "errors": [], "preview": None,
        "image_preview": _image_for(values, badge), **extra,
    }


def _image_for(values: dict[str, Any], badge: Badge | None) -> ImageAsset | None:
    ref = values.get("image_ref")
    if ref:
        found = db.session.scalar(db.select(ImageAsset).filter_by(public_id=ref))
        if found is not None:
            return found
    return badge.image if badge is not None else None


def _preview_rows(course: Course, rule: Any, badge: Badge | None) -> dict[str, Any]:
    facts = svc.course_facts(course)
    badges = _course_badges(course.id)
    learners = svc.learners(course, facts)
    held = svc.holders([badge.id])[badge.id] if badge is not None else set()
    rows = svc.preview(rule, learners, badge_id=badge.public_id if badge else None,
                       lang=_lang(), names=svc.display_names(course, facts, badges),
                       holders=held)
    counts = {s: sum(1 for r in rows if r.status == s) for s in svc.STATUS_ORDER}
    needs = sorted(criteria.needs_sources(rule))
    available = facts.sources_read | {"launches", "badges", "manual"}
    return {"rows": rows, "counts": counts, "facts": facts,
            "needs": [(s, s in available) for s in needs]}


def _badge_form(course_id: int, badge: Badge | None) -> Response:
    course = _course(course_id)
    if request.method == "GET":
        values = _defaults(badge)
        builder = svc.builder_from_rule(badge.rule) if badge is not None else svc.Builder()
        return Response(render_template("studio/badge_form.html",
                                        **_form_context(course, badge, values, builder)))
    action = request.form.get("action", "save")
    draft = _Draft(request.form, request.files, badge)
    draft.read_rule()
    preview = None
    if action == "preview":
        rule_ok = not draft.errors
        draft.read_image()
        if draft.rule is not None and rule_ok:
            preview = _preview_rows(course, draft.rule, badge)
        elif draft.rule is None and rule_ok:
            draft.error("c0-type", _("Add at least one condition to preview who would earn "
                                     "the badge."))
        status = 400 if draft.errors else 200
        context = _form_context(course, badge, draft.values, draft.builder,
                                errors=draft.errors, preview=preview)
        return Response(render_template("studio/badge_form.html", **context), status)
    if action != "save":
        raise ApiError(_("Unknown action."), 400, "bad_action")
    draft.read_text()
    days, on = draft.read_expiry()
    draft.read_image()
    if draft.errors:
        return _form_error(course, badge, draft)
    issuer = draft.issuer()
    if draft.errors or issuer is None:
        db.session.rollback()
        return _form_error(course, badge, draft)
    v = draft.values
    try:
        if badge is None:
            badge = catalogue.create_badge(
                issuer, v["name"], v["description"], v["criteria_text"], image=draft.image,
                course=course, rule=draft.rule, expires_after_days=days, expires_on=on,
                tags=draft.tags(), alignments=draft.alignments(),
                language=v["language"] or None, criteria_url=v["criteria_url"].strip() or None)
        else:
            badge.issuer = issuer
            catalogue.update_badge(
                badge, name=v["name"], description=v["description"],
                criteria_text=v["criteria_text"], image=draft.image, rule=draft.rule,
                expires_after_days=days, expires_on=on, tags=draft.tags(),
                alignments=draft.alignments(), language=v["language"] or None,
                criteria_url=v["criteria_url"].strip() or None)
        db.session.commit()
    except issuing.IssuingError as exc:
        db.session.rollback()
        draft.error("name", exc.message)
        return _form_error(course, badge, draft)
    svc.forget_facts(course_id)
    return redirect(url_for("studio.badge", course_id=course_id, public_id=badge.public_id,
                         notice="saved"), 303)


def _form_error(course: Course, badge: Badge | None, draft: _Draft) -> Response:
    context = _form_context(course, badge, draft.values, draft.builder, errors=draft.errors)
    return Response(render_template("studio/badge_form.html", **context), 400)


@bp.route("/badges/new", methods=["GET", "POST"])
@course_access(DESIGN)
def new_badge(course_id: int) -> Response:
    return _badge_form(course_id, None)


@bp.route("/badges/<public_id>/edit", methods=["GET", "POST"])
@course_access(DESIGN)
def edit_badge(course_id: int, public_id: str) -> Response:
    return _badge_form(course_id, _badge(course_id, public_id))


@bp.post("/preview")
@course_access(DESIGN)
def preview(course_id: int) -> Response:
    """The criteria preview as JSON (for the page's script): the rule the builder makes,
    its errors by path, and the rendered table."""
    course = _course(course_id)
    ref = request.form.get("badge", "")
    badge = _badge(course_id, ref) if ref else None
    draft = _Draft(request.form, request.files, badge)
    draft.read_rule()
    body: dict[str, Any] = {"rule": draft.rule, "rule_json": draft.values["rule_json"],
                            "errors": [{"field": e.field, "message": e.message}
                                       for e in draft.errors]}
    if draft.rule is not None and not draft.errors:
        data = _preview_rows(course, draft.rule, badge)
        body["counts"] = data["counts"]
        body["learners"] = [{"name": r.learner.name, "status": r.status,
                             "progress": round(r.progress, 4), "explanation": r.explanation,
                             "holds": r.holds} for r in data["rows"]]
        body["html"] = render_template("studio/_preview.html", preview=data, lang=_lang())
    resp = jsonify(body)
    resp.status_code = 400 if draft.errors else 200
    return resp


# -- one badge: earners, awarding, revoking, export ----------------------------------------

NOTICES = {
    "saved": lambda n: _("The badge is saved."),
    "awarded": lambda n: _("The badge was awarded."),
    "revoked": lambda n: _("The award was revoked."),
    "imported": lambda n: _("%(num)d award(s) made from the file.", num=n),
}


def _earners(badge: Badge) -> list[Award]:
    return list(db.session.scalars(db.select(Award).filter_by(badge_id=badge.id)
                                   .order_by(Award.issued_on.desc(), Award.id.desc())))


def _members(course: Course) -> list[Person]:
    """Who may be awarded by hand: the active members of the course's roster (the same read
    as the People page and the preview)."""
    rows, _facts = svc.roster(course)
    return [person for membership, person in rows if membership.status == "active"]


def _badge_page(course_id: int, badge: Badge, *, errors: list[str] | None = None,
                status: int = 200, notice: str | None = None, skipped: list[str] | None = None,
                values: dict[str, str] | None = None) -> Response:
    course = _course(course_id)
    badges = _course_badges(course_id)
    names = svc.display_names(course, svc.cached_facts(course), badges)
    try:
        rule_text = criteria.describe(badge.rule, _lang(), names) if badge.rule else None
    except criteria.RuleError:
        rule_text = None
    required_by = [b for b in badges if badge.public_id in svc.badge_refs(b.rule)]
    requires = [b for b in badges if b.public_id in svc.badge_refs(badge.rule)]
    return Response(render_template(
        "studio/badge.html", course=course, badge=badge, earners=_earners(badge),
        stats=svc.badge_stats(badge), members=_members(course), errors=errors or [],
        notice=notice, skipped=skipped or [], rule_text=rule_text, lang=_lang(),
        required_by=required_by, requires=requires, v=values or {},
        evidence=svc.evidence_summary, badge_url=urls.badge_url(badge)), status)


@bp.get("/badges/<public_id>")
@course_access(*STAFF)
def badge(course_id: int, public_id: str) -> Response:
    row = _badge(course_id, public_id)
    code = request.args.get("notice", "")
    try:
        count = int(request.args.get("count", "0"))
    except ValueError:
        count = 0
    notice = NOTICES[code](count) if code in NOTICES else None
    return _badge_page(course_id, row, notice=notice)


@bp.post("/badges/<public_id>/award")
@course_access(AWARD)
def award(course_id: int, public_id: str) -> Response:
    row = _badge(course_id, public_id)
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("person", "email", "name", "narrative",
                                                   "evidence_url")}
    person = None
    if values["person"]:
        try:
            person_id = int(values["person"])
        except ValueError:
            person_id = -1
        person = db.session.scalar(
            db.select(Person).join(Membership, Membership.person_id == Person.id)
            .where(Membership.course_id == course_id, Person.id == person_id))
        if person is None:
            return _badge_page(course_id, row, status=400, values=values,
                               errors=[_("Choose a member of this course.")])
    elif not values["email"]:
        return _badge_page(course_id, row, status=400, values=values,
                           errors=[_("Choose a course member or give an email address.")])
    elif not catalogue.is_email(values["email"]):
        return _badge_page(course_id, row, status=400, values=values, errors=[
            _("“%(email)s” is not an email address.", email=values["email"])])
    if values["evidence_url"] and not catalogue.is_http_url(values["evidence_url"]):
        return _badge_page(course_id, row, status=400, values=values,
                           errors=[_("The evidence must be an http(s) address.")])
    try:
        issuing.award(row, person=person, email=None if person else values["email"],
                      name=None if person else values["name"] or None,
                      narrative=values["narrative"] or None,
                      evidence_url=values["evidence_url"] or None, source="manual",
                      awarded_by=f"person:{g.launch.person_id}")
    except issuing.AlreadyAwarded as exc:
        db.session.rollback()
        return _badge_page(course_id, row, status=409, values=values, errors=[
            _("%(who)s already holds this badge.",
              who=exc.award.recipient_name or exc.award.recipient_email or "?")])
    except issuing.IssuingError as exc:
        db.session.rollback()
        return _badge_page(course_id, row, status=exc.status, values=values,
                           errors=[exc.message])
    return redirect(url_for("studio.badge", course_id=course_id, public_id=public_id,
                         notice="awarded"), 303)


@bp.post("/badges/<public_id>/import")
@course_access(AWARD)
def import_csv(course_id: int, public_id: str) -> Response:
    row = _badge(course_id, public_id)
    upload = request.files.get("csv")
    if upload is None or not upload.filename:
        return _badge_page(course_id, row, status=400, errors=[_("Choose a CSV file.")])
    data = upload.read(2 * 1024 * 1024 + 1)
    if len(data) > 2 * 1024 * 1024:
        return _badge_page(course_id, row, status=400,
                           errors=[_("The file is larger than 2 MB: split it.")])
    rows, problems = svc.parse_award_csv(data, _)
    if problems:
        return _badge_page(course_id, row, status=400, errors=[
            _("Nothing was awarded. Fix these lines first:"), *problems])
    done = svc.award_rows(row, rows, awarded_by=f"person:{g.launch.person_id}")
    awarded = len(done.awarded)
    skipped = [_("line %(line)d: %(email)s already holds this badge.", line=r.line,
                 email=r.email) for r, _message in done.skipped]
    failed = [_("line %(line)d: %(error)s", line=r.line, error=message)
              for r, message in done.failed]
    if failed:
        return _badge_page(course_id, row, status=400, skipped=skipped, errors=[
            _("%(num)d award(s) made; these lines failed:", num=awarded), *failed])
    if skipped:
        return _badge_page(course_id, row, skipped=skipped,
                           notice=_("%(num)d award(s) made from the file.", num=awarded))
    return redirect(url_for("studio.badge", course_id=course_id, public_id=public_id,
                         notice="imported", count=awarded), 303)


@bp.post("/awards/<public_id>/revoke")
@course_access(AWARD)
def revoke(course_id: int, public_id: str) -> Response:
    row = db.session.scalar(db.select(Award).join(Badge).where(
        Award.public_id == public_id, Badge.course_id == course_id))
    if row is None:
        raise ApiError(_("This course has no such award."), 404, "not_found")
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _badge_page(course_id, row.badge, status=400,
                           errors=[_("Give a reason for the revocation: the verification "
                                     "pages show it.")])
    try:
        issuing.revoke(row, reason[:1000])
    except issuing.IssuingError as exc:
        db.session.rollback()
        return _badge_page(course_id, row.badge, status=exc.status, errors=[exc.message])
    return redirect(url_for("studio.badge", course_id=course_id, public_id=row.badge.public_id,
                         notice="revoked"), 303)


@bp.get("/badges/<public_id>/earners.csv")
@course_access(*STAFF)
def export_csv(course_id: int, public_id: str) -> Response:
    row = _badge(course_id, public_id)
    body = svc.earners_csv(_earners(row), _lang())
    safe = "".join(ch if ch.isalnum() else "-" for ch in row.name.lower()).strip("-")[:40]
    resp = Response(body, mimetype="text/csv")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="earners-{safe or "badge"}-{row.public_id[:8]}.csv"')
    resp.headers["Cache-Control"] = "no-store"
    return resp
