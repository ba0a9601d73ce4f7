"""The badge studio's use cases, apart from the pages: course facts (cached), the roster (the
People page and the award-by-hand list, in French name order), the "who would earn it now"
preview, progress counts, the flat criteria builder <-> rule JSON, prerequisite
pathways, earners export and per-badge statistics (award CSV files are read by
``services.award_csv``).

Reading a course's facts costs one NRPS call plus one AGS call per line item (and the
Moodle connector's calls where configured), so pages never read them more than once per
request, and a read is kept in the app's facts cache (``services.course_facts``, shared with
the learner pages): the index and the preview show progress "as of" that read, which the
page says. The sync-status poll drops the cached read when the sync has finished.
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import g

from lti_badges import awarding, criteria, issuing, urls
from lti_badges.clock import utcnow
from lti_badges.criteria import refs
from lti_badges.criteria.facts import Facts
from lti_badges.criteria.refs import badge_refs
from lti_badges.extensions import db
from lti_badges.models import (
    Award,
    BackpackPush,
    Badge,
    Course,
    LaunchEvent,
    Membership,
    Person,
)
from lti_badges.services import award_csv
from lti_badges.services.course_facts import facts_cache
from lti_badges.sources.base import CourseFacts, Member

log = logging.getLogger("lti_badges.studio")

CLOSE = 0.5  # progress from which a learner counts as "close" in the preview
MAX_CONDITIONS = 30
MAX_ALIGNMENTS = 20

Translate = Callable[..., str]


def _plain(message: str, **values: Any) -> str:
    return message % values if values else message


# -- course facts, cached --------------------------------------------------------------

# A first read of a course can take a while; the studio waits for it (the learner's page
# does not: it shows "being checked").
FACTS_WAIT_SECONDS = 120.0


def cached_facts(course: Course) -> CourseFacts | None:
    """The course's last read if still fresh; never reads."""
    per_request = g.setdefault("_studio_facts", {})
    if course.id in per_request:
        return per_request[course.id]
    facts = facts_cache().peek(course.id)
    if facts is not None:
        per_request[course.id] = facts
    return facts


def course_facts(course: Course, *, refresh: bool = False) -> CourseFacts:
    """The course's facts from its sources: at most one read per request, shared with the
    learner pages through the app's facts cache."""
    if not refresh:
        found = cached_facts(course)
        if found is not None:
            return found
    cache = facts_cache()
    if refresh:
        cache.forget(course.id)
    facts = cache.get(course.id, FACTS_WAIT_SECONDS) or CourseFacts(
        source="error", errors=("The course is taking too long to read; try again shortly.",))
    g.setdefault("_studio_facts", {})[course.id] = facts
    return facts


def forget_facts(course_id: int, older_than: datetime | None = None) -> None:
    """Drop the cached read (only if taken before ``older_than``, when given)."""
    if older_than is not None and older_than.tzinfo is None:
        older_than = older_than.replace(tzinfo=UTC)
    facts_cache().forget(course_id, older_than)
    g.get("_studio_facts", {}).pop(course_id, None)


def sort_key(text: str | None) -> tuple[str, str]:
    """Names in the order a French reader expects: accents, case and ligatures ignored first
    (Éloïse among the E's, Bélanger before Boucher, Œuvray among the O's), then as written."""
    text = text or ""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text)
                    if not unicodedata.combining(c))
    folded = plain.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    return folded.casefold(), text.casefold()


def person_key(family_name: str | None, display_name: str) -> tuple[tuple[str, str], ...]:
    """One order for every list of people: family name when the platform gives one, then the
    full name."""
    return sort_key(family_name or display_name), sort_key(display_name)


def roster(course: Course) -> tuple[list[tuple[Membership, Person]], CourseFacts]:
    """The course's members as the platform lists them (NRPS, read on demand and cached;
    each read records the people, ``awarding.observe``), plus those known from launches, in
    French name order. The People page and the award-by-hand list read this; the preview
    reads the same facts."""
    facts = course_facts(course)
    rows = [(m, p) for m, p in db.session.execute(
        db.select(Membership, Person).join(Person, Membership.person_id == Person.id)
        .where(Membership.course_id == course.id)).all()]
    rows.sort(key=lambda r: person_key(r[1].family_name, r[1].display_name))
    return rows, facts


@dataclass(frozen=True)
class Learner:
    member: Member
    person: Person | None
    facts: Facts

    @property
    def name(self) -> str:
        if self.person is not None:
            return self.person.display_name
        return self.member.name or self.member.email or f"#{self.member.user_id}"

    @property
    def email(self) -> str | None:
        return self.member.email or (self.person.email if self.person else None)

    @property
    def order(self) -> tuple[tuple[str, str], ...]:
        """Where the learner sits in a list (``person_key``)."""
        family = self.person.family_name if self.person else None
        return person_key(family or self.member.family_name, self.name)


def learners(course: Course, facts: CourseFacts) -> list[Learner]:
    """Active learners with their facts plus what the tool knows (launches, badges held)."""
    members = facts.learners
    subs = [m.user_id for m in members]
    people: dict[str, Person] = {}
    for start in range(0, len(subs), 500):
        for person in db.session.scalars(db.select(Person).where(
                Person.platform_id == course.platform_id, Person.sub.in_(subs[start:start + 500]))):
            people[person.sub] = person
    seen = awarding.learner_facts(course, subs, people, facts)
    out = [Learner(member, people.get(member.user_id), seen[member.user_id])
           for member in members]
    return sorted(out, key=lambda x: x.order)


# -- names and choices for the builder ----------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    detail: str = ""


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def item_choices(facts: CourseFacts, kind: str) -> list[Choice]:
    """Grade items (``kind="grade"``) or activities (``"activity"``) the sources saw.

    The value a rule stores is the item's label when no other item of the course shares
    it (readable, and portable when the rule is reused in another course), else its id.
    """
    seen = [i for i in facts.items if i.kind == kind]
    labels: dict[str, set[str]] = {}
    for item in seen:  # a grade rule looks only at grades, a completion rule at activities
        if item.label:
            labels.setdefault(item.label, set()).add(item.item_id)
    out: dict[str, Choice] = {}
    for item in seen:
        unique = bool(item.label) and len(labels.get(item.label or "", ())) == 1
        value = item.label if unique and item.label else item.item_id
        bits = [item.source.upper()] if item.source else []
        if item.score_maximum is not None:
            bits.append(f"max {_number(item.score_maximum)}")
        if not unique:
            bits.append(item.item_id)
        out.setdefault(value, Choice(value, item.label or item.item_id, " · ".join(bits)))
    return sorted(out.values(), key=lambda c: c.label.lower())


def link_choices(course: Course, facts: CourseFacts | None) -> list[Choice]:
    """Resource links learners can open: those launched in the course and those the line
    items name."""
    found: dict[str, str] = {}
    rows = db.session.execute(
        db.select(LaunchEvent.resource_link_id, db.func.max(LaunchEvent.title))
        .where(LaunchEvent.course_id == course.id).group_by(LaunchEvent.resource_link_id)).all()
    for link_id, title in rows:
        found[link_id] = title or link_id
    for item in (facts.items if facts else ()):
        if item.resource_link_id and item.resource_link_id not in found:
            found[item.resource_link_id] = item.label or item.resource_link_id
    return sorted((Choice(k, v, k) for k, v in found.items()), key=lambda c: c.label.lower())


def display_names(course: Course, facts: CourseFacts | None,
                  badges: Iterable[Badge]) -> dict[str, str]:
    """Ids a rule may name (items, links, badges) → what people call them."""
    names: dict[str, str] = {}
    for item in (facts.items if facts else ()):
        if item.label:
            names[item.item_id] = item.label
            for alias in item.aliases:
                names.setdefault(alias, item.label)
    for choice in link_choices(course, facts):
        names.setdefault(choice.value, choice.label)
    for badge in badges:
        names[badge.public_id] = badge.name
    return names


# -- preview and progress -------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    learner: Learner
    status: str  # met | close | not_yet | unknown
    progress: float
    explanation: str
    holds: bool


STATUS_ORDER = {"met": 0, "close": 1, "not_yet": 2, "unknown": 3}


def preview(rule: Any, rows: list[Learner], *, badge_id: str | None = None,
            lang: str = "en", names: Mapping[str, str] | None = None,
            holders: set[int] | None = None, now: datetime | None = None) -> list[PreviewRow]:
    """Who would earn the badge now (met), who is close (progress ≥ 0.5), who is not yet."""
    parsed = criteria.parse(rule)
    now = now or datetime.now(UTC)
    out = []
    for learner in rows:
        result = criteria.evaluate(parsed, learner.facts, now, badge_id=badge_id)
        if result.met:
            status = "met"
        elif result.status == "unknown":
            status = "unknown"
        elif result.progress >= CLOSE:
            status = "close"
        else:
            status = "not_yet"
        holds = bool(holders and learner.person and learner.person.id in holders)
        out.append(PreviewRow(learner, status, result.progress,
                              criteria.explain(parsed, result, lang, names), holds))
    return sorted(out, key=lambda r: (STATUS_ORDER[r.status], -r.progress, r.learner.order))


def holders(badge_ids: Iterable[int]) -> dict[int, set[int]]:
    """Person ids holding each badge (awards not revoked)."""
    out: dict[int, set[int]] = {i: set() for i in badge_ids}
    if not out:
        return out
    rows = db.session.execute(db.select(Award.badge_id, Award.person_id).where(
        Award.badge_id.in_(list(out)), Award.revoked_at.is_(None),
        Award.person_id.is_not(None))).all()
    for badge_id, person_id in rows:
        out[badge_id].add(person_id)
    return out


@dataclass
class ProgressCounts:
    ready: int = 0  # meet the criteria now, not awarded yet (the next sync awards them)
    in_progress: int = 0  # progress > 0, not met, not held


def progress_counts(badges: list[Badge], rows: list[Learner],
                    now: datetime | None = None) -> dict[int, ProgressCounts]:
    now = now or datetime.now(UTC)
    held = holders(b.id for b in badges)
    out: dict[int, ProgressCounts] = {}
    for badge in badges:
        counts = out[badge.id] = ProgressCounts()
        if not badge.rule:
            continue
        try:
            parsed = criteria.parse(badge.rule)
        except criteria.RuleError:
            continue
        for learner in rows:
            if learner.person is not None and learner.person.id in held[badge.id]:
                continue
            result = criteria.evaluate(parsed, learner.facts, now, badge_id=badge.public_id)
            if result.met:
                counts.ready += 1
            elif result.progress > 0:
                counts.in_progress += 1
    return out


# -- the flat criteria builder -------------------------------------------------------------

CONDITION_TYPES = ("grade", "completed", "course_completed", "launched", "badge", "manual")
COMBINATORS = ("all", "any", "at_least")


@dataclass
class Condition:
    type: str = ""
    item: str = ""
    item_text: str = ""
    threshold: str = ""
    unit: str = "percent"
    link: str = ""
    badge: str = ""
    from_: str = ""
    until: str = ""


@dataclass
class Builder:
    conditions: list[Condition] = field(default_factory=list)
    combine: str = "all"
    at_least: str = "1"
    from_: str = ""
    until: str = ""


@dataclass(frozen=True)
class FieldError:
    field: str  # the form field's id, for the error summary's links
    message: str


def builder_from_form(form: Mapping[str, str]) -> Builder:
    b = Builder(combine=form.get("combine", "all"), at_least=form.get("at_least", "1").strip(),
                from_=form.get("rule_from", "").strip(), until=form.get("rule_until", "").strip())
    for i in range(MAX_CONDITIONS):
        prefix = f"c{i}-"
        if not any(k.startswith(prefix) for k in form):
            continue
        b.conditions.append(Condition(
            type=form.get(prefix + "type", ""), item=form.get(prefix + "item", "").strip(),
            item_text=form.get(prefix + "item_text", "").strip(),
            threshold=form.get(prefix + "threshold", "").strip(),
            unit=form.get(prefix + "unit", "percent"), link=form.get(prefix + "link", "").strip(),
            badge=form.get(prefix + "badge", "").strip(),
            from_=form.get(prefix + "from", "").strip(),
            until=form.get(prefix + "until", "").strip()))
    return b


def _window(rule: dict[str, Any], start: str, end: str) -> dict[str, Any]:
    if start:
        rule["from"] = start
    if end:
        rule["until"] = end
    return rule


def rule_from_builder(b: Builder, _: Translate = _plain) -> tuple[dict[str, Any] | None,
                                                                 list[FieldError]]:
    """The rule JSON the builder describes (None: no condition, the badge is given by hand)."""
    errors: list[FieldError] = []
    leaves: list[dict[str, Any]] = []
    for i, c in enumerate(b.conditions):
        if not c.type:
            continue
        n = i + 1
        fid = f"c{i}-"
        if c.type not in CONDITION_TYPES:
            errors.append(FieldError(fid + "type", _("Condition %(n)d: choose a kind of "
                                                     "condition.", n=n)))
            continue
        item = c.item_text or c.item
        if c.type == "grade":
            if not item:
                errors.append(FieldError(fid + "item", _("Condition %(n)d: choose the graded "
                                                         "item.", n=n)))
                continue
            try:
                value = float(c.threshold.replace(",", "."))
            except ValueError:
                errors.append(FieldError(fid + "threshold", _(
                    "Condition %(n)d: the minimum grade must be a number.", n=n)))
                continue
            if c.unit not in ("percent", "points"):
                errors.append(FieldError(fid + "unit", _("Condition %(n)d: choose percent or "
                                                         "points.", n=n)))
                continue
            if c.unit == "percent" and not 0 < value <= 100:
                errors.append(FieldError(fid + "threshold", _(
                    "Condition %(n)d: a minimum percentage is above 0 and at most 100.", n=n)))
                continue
            if value <= 0 or value != value or value == float("inf"):
                errors.append(FieldError(fid + "threshold", _(
                    "Condition %(n)d: the minimum grade must be above 0.", n=n)))
                continue
            number: float | int = int(value) if value.is_integer() else value
            key = "min_percent" if c.unit == "percent" else "min_points"
            leaf: dict[str, Any] = {"grade": {"item": item, key: number}}
        elif c.type == "completed":
            if not item:
                errors.append(FieldError(fid + "item", _("Condition %(n)d: choose the "
                                                         "activity.", n=n)))
                continue
            leaf = {"completed": {"activity": item}}
        elif c.type == "launched":
            if not c.link:
                errors.append(FieldError(fid + "link", _("Condition %(n)d: choose the link "
                                                         "learners open.", n=n)))
                continue
            leaf = {"launched": {"resource_link": c.link}}
        elif c.type == "badge":
            if not c.badge:
                errors.append(FieldError(fid + "badge", _("Condition %(n)d: choose the "
                                                          "prerequisite badge.", n=n)))
                continue
            leaf = {"badge": c.badge}
        else:
            leaf = {c.type: {}}
        leaves.append(_window(leaf, c.from_, c.until))
    if errors or not leaves:
        if not leaves and (b.from_ or b.until) and not errors:
            errors.append(FieldError("c0-type", _("Add a condition before giving dates.")))
        return None, errors
    if b.combine not in COMBINATORS:
        errors.append(FieldError("combine", _("Choose how the conditions combine.")))
        return None, errors
    if len(leaves) == 1 and b.combine != "at_least":
        root = leaves[0]
        if (b.from_ or b.until) and ("from" in root or "until" in root):
            root = {"all": [root]}
        return _window(root, b.from_, b.until), errors
    if b.combine == "at_least":
        try:
            need = int(b.at_least)
        except ValueError:
            need = 0
        if not 1 <= need <= len(leaves):
            errors.append(FieldError("at_least", _(
                "“At least” needs a whole number from 1 to %(count)d (the number of "
                "conditions).", count=len(leaves))))
            return None, errors
        return _window({"at_least": need, "of": leaves}, b.from_, b.until), errors
    return _window({b.combine: leaves}, b.from_, b.until), errors


def _condition_from(rule: Any) -> Condition | None:
    if not isinstance(rule, dict):
        return None
    extra = {k: rule[k] for k in ("from", "until") if k in rule}
    body = {k: v for k, v in rule.items() if k not in ("from", "until")}
    if len(body) != 1:
        return None
    (kind, value), = body.items()
    c = Condition(type=kind, from_=str(extra.get("from", "")), until=str(extra.get("until", "")))
    if kind == "grade" and isinstance(value, dict):
        c.item = str(value.get("item", ""))
        if "min_percent" in value:
            c.unit, c.threshold = "percent", _number(value["min_percent"])
        else:
            c.unit, c.threshold = "points", _number(value.get("min_points"))
    elif kind == "completed" and isinstance(value, dict):
        c.item = str(value.get("activity", ""))
    elif kind == "launched" and isinstance(value, dict):
        c.link = str(value.get("resource_link", ""))
    elif kind == "badge":
        c.badge = str(value)
    elif kind not in ("course_completed", "manual"):
        return None
    return c


def builder_from_rule(rule: Any) -> Builder | None:
    """The builder's fields for a rule it can show (one level of conditions), else None."""
    if rule is None:
        return Builder()
    if not isinstance(rule, dict):
        return None
    b = Builder(from_=str(rule.get("from", "")), until=str(rule.get("until", "")))
    for combine in COMBINATORS:
        if combine in rule:
            children = rule.get("of") if combine == "at_least" else rule[combine]
            if not isinstance(children, list):
                return None
            b.combine = combine
            if combine == "at_least":
                b.at_least = str(rule["at_least"])
            for child in children:
                c = _condition_from(child)
                if c is None:
                    return None
                b.conditions.append(c)
            return b
    c = _condition_from(rule)
    if c is None:
        return None
    c.from_, c.until = "", ""  # a lone condition's dates show as the rule's dates
    return Builder(conditions=[c], from_=str(rule.get("from", "")),
                   until=str(rule.get("until", "")))


@dataclass(frozen=True)
class Step:
    badge: Badge
    requires: tuple[Badge, ...]
    missing: tuple[str, ...]  # named badge ids that are not badges of this course


def pathway(badges: list[Badge]) -> list[list[Step]]:
    """The course's badges in tiers: tier 1 needs no badge, tier n needs one of tier n-1.

    Empty when no badge names another (no pathway to show)."""
    by_pid = {b.public_id: b for b in badges}
    needs = {b.public_id: badge_refs(b.rule) for b in badges}
    if not any(needs.values()):
        return []
    level = refs.tiers(needs)
    tiers: list[list[Step]] = [[] for _ in range(max(level.values()) + 1)]
    for badge in sorted(badges, key=lambda b: (b.name.lower(), b.id)):
        pid = badge.public_id
        tiers[level[pid]].append(Step(
            badge, tuple(by_pid[d] for d in needs[pid] if d in by_pid),
            tuple(d for d in needs[pid] if d not in by_pid)))
    return tiers


# -- awards: CSV import and export, statistics ---------------------------------------------


# The award CSV reader lives in services/award_csv.py (shared with the CLI); re-exported here
# for the studio's routes.
AwardRow = award_csv.AwardRow
parse_award_csv = award_csv.parse_award_csv
award_rows = award_csv.award_rows


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def evidence_summary(row: Award, lang: str = "en") -> str:
    ev = row.evidence or {}
    summary = ev.get("summary_fr") if lang == "fr" and ev.get("summary_fr") else ev.get("summary")
    parts = [str(p) for p in (summary, ev.get("narrative"), ev.get("url")) if p]
    return "\n".join(parts)


EXPORT_COLUMNS = ("name", "email", "status", "issued_on", "expires", "source", "awarded_by",
                  "evidence", "revocation_reason", "claimed", "assertion_url", "credential_url")


def export_separator(lang: str) -> str:
    """``;`` for French: French Excel reads ``,`` as the decimal mark and puts every line in
    one cell otherwise."""
    return ";" if lang == "fr" else ","


def earners_csv(rows: Iterable[Award], lang: str = "en") -> str:
    """The earners as a CSV document that opens as columns in Excel: a UTF-8 BOM (without it
    Excel reads Windows-1252 and garbles "Zoé"), ``;`` as separator in French."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=export_separator(lang), lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    now = utcnow()
    for a in rows:
        writer.writerow([_cell(v) for v in (
            a.recipient_name or (a.person.display_name if a.person else ""),
            a.recipient_email or "", a.status(now), a.issued_on.isoformat() + "Z",
            a.expires_at.isoformat() + "Z" if a.expires_at else "", a.source,
            a.awarded_by or "", evidence_summary(a, lang), a.revocation_reason or "",
            a.claimed_at.isoformat() + "Z" if a.claimed_at else "",
            urls.assertion_url(a), urls.credential_url(a))])
    return out.getvalue()


@dataclass(frozen=True)
class Stats:
    issued: int
    valid: int
    revoked: int
    expired: int
    claimed: int
    pushed: int
    downloaded: int = 0
    shared: int = 0
    viewed: int = 0


def badge_stats(badge: Badge) -> Stats:
    """What the store records per badge (downloads, shares and views from award events)."""
    now = utcnow()
    awards = db.session.execute(db.select(Award.revoked_at, Award.expires_at, Award.claimed_at)
                                .where(Award.badge_id == badge.id)).all()
    revoked = sum(1 for r, _, _ in awards if r is not None)
    expired = sum(1 for r, e, _ in awards if r is None and e is not None and e <= now)
    events = issuing.event_counts(badge)
    pushed = db.session.scalar(
        db.select(db.func.count(db.distinct(BackpackPush.award_id))).join(Award)
        .where(Award.badge_id == badge.id, BackpackPush.state == "done")) or 0
    return Stats(issued=len(awards), valid=len(awards) - revoked - expired, revoked=revoked,
                 expired=expired, claimed=sum(1 for _, _, c in awards if c is not None),
                 pushed=pushed, downloaded=events["download"], shared=events["share"],
                 viewed=events["view"])


def earned_counts(course_id: int) -> dict[int, int]:
    """People holding each badge of the course (awards not revoked): a person counts once,
    whether the badge came from a sync or by hand (an award by email counts for the member
    it is attached to, see ``issuing.link_email_awards``)."""
    holders: dict[int, set[str]] = {}
    for badge_id, person_id, identity in db.session.execute(
            db.select(Award.badge_id, Award.person_id, Award.identity_key).join(Badge)
            .where(Badge.course_id == course_id, Award.revoked_at.is_(None))):
        holders.setdefault(badge_id, set()).add(
            f"person:{person_id}" if person_id is not None else identity)
    return {badge_id: len(who) for badge_id, who in holders.items()}
