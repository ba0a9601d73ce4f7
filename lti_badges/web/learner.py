"""The learner's page: progress toward the course's badges, and the badges earned.

Progress design (a page load never waits long on the LMS):

- Facts come from :func:`lti_badges.awarding.read_course` — the same reading the
  sync uses — through the course facts cache of :mod:`lti_badges.services.course_facts`
  (shared with the studio: a TTL, a failed read kept briefly, one read per course at a
  time that learners opening the page together wait on).
- A first read waits at most ``LEARNER_FACTS_WAIT`` seconds (default 4); past
  that the page answers at once with "progress is being checked" (learner.js
  reloads it a few times) and the read finishes in the background, filling the
  cache. An entry past its TTL, or older than the course's latest finished
  sync (grades have likely moved), is read again: the page waits at most one
  second for it and otherwise shows the previous facts, dated, while the read
  finishes (stale while revalidate). So with a slow or unreachable LMS no page
  load waits more than a few seconds, and most wait for nothing.
- What the tool itself knows (the learner's launches and badges held) is read
  from the database on every page load, so a badge earned a moment ago counts
  for the badges that need it at once.
- Rules are evaluated with the pure criteria engine and explained rule by rule
  in the launch's language (``criteria.explain``), with display names taken
  from the items the sources saw. When the sources cannot be read the badges
  are still listed, with "progress unavailable right now".

No new storage: the alternative, showing the latest ``SyncRun``, would give no
per-learner, per-rule progress (a run stores only counts).

Every route is bound to the launch's course and needs the LEARN capability; a
learner only ever sees and changes their own awards (another person's award id
answers 404, exactly like an id that does not exist).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from lti_badges import awarding, criteria, issuing, urls
from lti_badges.backpack import service as backpack_service
from lti_badges.clock import utcnow
from lti_badges.criteria.refs import badge_refs
from lti_badges.extensions import db
from lti_badges.lti.roles import LEARN
from lti_badges.models import Award, Badge, Course, SyncRun
from lti_badges.services.course_facts import facts_cache
from lti_badges.services.course_facts import failed as _failed
from lti_badges.sources.base import CourseFacts
from lti_badges.web.auth import course_access
from lti_badges.web.errors import ApiError

bp = Blueprint("learner", __name__, url_prefix="/course/<int:course_id>/learn")

log = logging.getLogger("lti_badges.learner")

DEFAULT_WAIT = 4.0  # seconds a page waits for a first read


def _last_sync(course_id: int) -> datetime | None:
    """When the course's latest complete sync finished (it read the course afresh)."""
    when = db.session.scalar(db.select(db.func.max(SyncRun.finished_at)).where(
        SyncRun.course_id == course_id, SyncRun.status == "done"))
    return when.replace(tzinfo=UTC) if when is not None else None


# -- progress -------------------------------------------------------------------------------


@dataclass
class Line:
    """One rule of a badge's rule, explained, with its own standing and the rules inside it."""

    text: str
    status: str | None
    children: list[Line] = field(default_factory=list)


@dataclass
class BadgeProgress:
    badge: Badge
    state: str  # met | unmet | unknown | pending | unavailable | manual
    percent: int = 0
    lines: list[Line] = field(default_factory=list)


def _lang() -> str:
    locale = get_locale()
    return locale.language if locale and locale.language in ("en", "fr") else "en"


def _lines(rule_json: Any, result: criteria.Result | None, lang: str,
           names: dict[str, str]) -> list[Line]:
    """The rule's explanation as a tree of lines (criteria.explain_lines, by depth)."""
    roots: list[Line] = []
    stack: list[Line] = []
    for item in criteria.explain_lines(rule_json, result, lang, names):
        line = Line(item.text, item.status)
        del stack[item.depth:]
        (stack[-1].children if stack else roots).append(line)
        stack.append(line)
    return roots


def _names(facts: CourseFacts | None, badges: list[Badge]) -> dict[str, str]:
    """Display names for the ids rules name: items the sources saw, and badges."""
    names: dict[str, str] = {}
    for item in (facts.items if facts is not None else ()):
        if item.label:
            for key in (item.item_id, *item.aliases):
                names.setdefault(key, item.label)
            if item.resource_link_id:
                names.setdefault(item.resource_link_id, item.label)
    wanted: set[str] = set()
    for badge in badges:
        names[badge.public_id] = badge.name
        wanted.update(badge_refs(badge.rule))
    missing = wanted - set(names)
    if missing:
        for pid, name in db.session.execute(db.select(Badge.public_id, Badge.name)
                                            .where(Badge.public_id.in_(missing))):
            names[pid] = name
    return names


def _progress(course: Course, badges: list[Badge], facts: CourseFacts | None,
              lang: str) -> list[BadgeProgress]:
    person = g.launch.person
    learner_facts = awarding.learner_facts(course, [person.sub], {person.sub: person},
                                           facts)[person.sub]
    unreadable = facts is None or _failed(facts)
    names = _names(facts, badges)
    now = datetime.now(UTC)
    out: list[BadgeProgress] = []
    for badge in badges:
        if not badge.rule:
            out.append(BadgeProgress(badge, "manual"))
            continue
        try:
            if facts is None:
                out.append(BadgeProgress(badge, "pending", lines=_lines(badge.rule, None, lang, names)))
                continue
            result = criteria.evaluate(badge.rule, learner_facts, now, badge_id=badge.public_id)
        except criteria.RuleError:
            log.warning("badge %s has an invalid rule", badge.public_id)
            out.append(BadgeProgress(badge, "unavailable"))
            continue
        state = result.status
        if state == "unknown" and unreadable:
            state = "unavailable"
        percent = round(result.progress * 100) if result.met else min(99, int(result.progress * 100))
        out.append(BadgeProgress(badge, state, percent, _lines(badge.rule, result, lang, names)))
    return out


# -- earned badges --------------------------------------------------------------------------


def _my_awards(course_id: int) -> list[Award]:
    return list(db.session.scalars(
        db.select(Award).join(Badge, Award.badge_id == Badge.id)
        .where(Badge.course_id == course_id, Award.person_id == g.launch.person_id)
        .order_by(Award.issued_on.desc(), Award.id.desc())))


def _my_award(course_id: int, public_id: str) -> Award:
    """One of the learner's own awards in this course; anything else is 'not found'."""
    row = db.session.scalar(
        db.select(Award).join(Badge, Award.badge_id == Badge.id)
        .where(Award.public_id == public_id, Badge.course_id == course_id,
               Award.person_id == g.launch.person_id))
    if row is None:
        raise ApiError("You hold no badge with this id in this course.", 404, "not_found")
    return row


def linkedin_url(row: Award) -> str:
    """LinkedIn's "Add to profile" form, prefilled (certification)."""
    params: dict[str, Any] = {
        "startTask": "CERTIFICATION_NAME",
        "name": row.badge.name,
        "organizationName": row.badge.issuer.name,
        "issueYear": row.issued_on.year,
        "issueMonth": row.issued_on.month,
        "certUrl": urls.assertion_url(row),
        "certId": row.public_id,
    }
    if row.expires_at:
        params["expirationYear"] = row.expires_at.year
        params["expirationMonth"] = row.expires_at.month
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def _award_view(row: Award, lang: str) -> dict[str, Any]:
    evidence = row.evidence or {}
    summary = evidence.get("summary_fr") if lang == "fr" else None
    summary = summary or evidence.get("summary")
    ext = row.badge.image.extension
    return {
        "award": row, "badge": row.badge, "status": row.status(),
        "summary_lines": [s.strip().removeprefix("- ") for s in summary.split("\n")
                          if s.strip()] if isinstance(summary, str) else [],
        # A teacher's award by hand: their words and link are the evidence.
        "narrative": evidence.get("narrative") if isinstance(evidence.get("narrative"), str)
        else None,
        "evidence_url": evidence.get("url") if isinstance(evidence.get("url"), str) else None,
        "assertion_url": urls.assertion_url(row),
        "credential_url": urls.credential_url(row),
        "image_ext": ext,
        "linkedin_url": linkedin_url(row),
        "qr_data_uri": _qr_svg(row).svg_data_uri(scale=5, border=4)
        if row.claimed_at is not None else None,
    }


def _qr_svg(row: Award):
    """The QR code of the credential's URL (inline in the page: an image request cannot
    carry the launch's credential)."""
    import segno

    return segno.make(urls.credential_url(row), error="m")


# -- routes ---------------------------------------------------------------------------------


def _course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise ApiError("This course no longer exists in the tool.", 404, "not_found")
    return course


@bp.get("/")
@course_access(LEARN)
def index(course_id: int) -> Response:
    course = _course(course_id)
    lang = _lang()
    awards = _my_awards(course_id)
    held_badges = {a.badge_id for a in awards}
    badges = list(db.session.scalars(
        db.select(Badge).where(Badge.course_id == course_id, Badge.archived.is_(False))
        .order_by(Badge.name, Badge.id)))
    # A badge already given (even revoked or expired) is not re-issued by a sync: it shows
    # among the earned ones, not as progress. Repeatable badges stay in progress too.
    to_earn = [b for b in badges if b.id not in held_badges or b.repeatable]
    facts = None
    if any(b.rule for b in to_earn):
        wait = float(current_app.config.get("LEARNER_FACTS_WAIT", DEFAULT_WAIT))
        facts = facts_cache().get(course_id, wait, synced_at=_last_sync(course_id))
    progress = _progress(course, to_earn, facts, lang)
    read_at = None
    if facts is not None and facts.source not in ("error", "none"):
        read_at = format_datetime(facts.read_at, "short")
    notice = request.args.get("done")
    return Response(render_template(
        "learner/index.html", course=course, person=g.launch.person, lang=lang,
        earned=[_award_view(a, lang) for a in awards], progress=progress,
        pending=facts is None and any(p.state == "pending" for p in progress),
        partial=facts is not None and bool(facts.errors) and facts.source not in ("error", "none"),
        read_at=read_at,
        notice=notice if notice in ("claimed", "hidden", "shown", "queued", "disconnected")
        else None,
        backpacks=backpack_service.connections(g.launch.person),
        pushes=backpack_service.push_status(g.launch.person)))


@bp.post("/awards/<public_id>/claim")
@course_access(LEARN)
def claim(course_id: int, public_id: str) -> Response:
    """Accept an earned badge (sets ``claimed_at``; accepting twice changes nothing)."""
    row = _my_award(course_id, public_id)
    if row.status() == "revoked":
        raise ApiError("This badge was revoked; it can no longer be accepted.", 409, "revoked")
    if row.claimed_at is None:
        row.claimed_at = utcnow()
        db.session.commit()
    return _back(course_id, row, "claimed")


@bp.post("/awards/<public_id>/visibility")
@course_access(LEARN)
def visibility(course_id: int, public_id: str) -> Response:
    """Show or hide the badge on its public pages: ``hidden`` = 1 or 0 (absent: toggle)."""
    row = _my_award(course_id, public_id)
    wanted = request.form.get("hidden")
    if wanted not in (None, "0", "1"):
        raise ApiError("The field 'hidden' is 1 (hide) or 0 (show).", 400, "invalid_hidden")
    row.hidden = (not row.hidden) if wanted is None else wanted == "1"
    db.session.commit()
    return _back(course_id, row, "hidden" if row.hidden else "shown")


def _back(course_id: int, row: Award, done: str) -> Response:
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"id": row.public_id, "claimed": row.claimed_at is not None,
                        "hidden": row.hidden, "status": row.status()})
    return redirect(url_for("learner.index", course_id=course_id, done=done,
                         _anchor=f"award-{row.public_id}"), code=303)


@bp.get("/awards/<public_id>/credential.json")
@course_access(LEARN)
def credential_download(course_id: int, public_id: str) -> Response:
    """The signed OB 3.0 credential as a file (its public URL answers browsers with a page)."""
    row = _my_award(course_id, public_id)
    issuing.record_event(row, "download", "ob3.json")
    resp = Response(json.dumps(row.credential, ensure_ascii=False, indent=2),
                    mimetype="application/vc+ld+json")
    resp.headers["Content-Disposition"] = f'attachment; filename="{_file_name(row)}.json"'
    return resp


@bp.post("/awards/<public_id>/share/linkedin")
@course_access(LEARN)
def share_linkedin(course_id: int, public_id: str) -> Response:
    """Counts the share (a POST: a link preview or a prefetch counts nothing), then goes to
    LinkedIn's "add to profile" form."""
    row = _my_award(course_id, public_id)
    issuing.record_event(row, "share", "linkedin")
    return redirect(linkedin_url(row), code=303)


@bp.get("/awards/<public_id>/qr.svg")
@course_access(LEARN)
def qr(course_id: int, public_id: str) -> Response:
    """A QR code of the credential's URL, for a wallet app to scan."""
    row = _my_award(course_id, public_id)
    code = _qr_svg(row)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=5, border=4, xmldecl=False,
              title=_("QR code of the credential for %(name)s", name=row.badge.name))
    resp = Response(out.getvalue(), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    if request.args.get("download"):
        resp.headers["Content-Disposition"] = f'attachment; filename="{_file_name(row)}-qr.svg"'
    return resp


def _file_name(row: Award) -> str:
    return "".join(c if c.isalnum() else "-" for c in row.badge.name)[:60].strip("-") or "badge"
