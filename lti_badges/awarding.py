"""The service layer between the course and the badge store: sync → evaluate → issue.

``sync_course`` reads the course through its fact sources (NRPS roster and AGS
grades, the Moodle connector where configured), adds what the tool itself
knows (launches, badges already held), evaluates every badge's rule for every
learner with the pure criteria engine, and awards what is earned — exactly
once: the database refuses a second award of a badge to a person, so several
workers syncing one course cannot duplicate one. A source that cannot be read
completely stops the sync before anything is awarded, and the run says why.
A revoked award is never re-issued, and a learner who drops below a threshold
keeps what was issued.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from lti_badges import criteria, issuing
from lti_badges.criteria.facts import BadgeHeld, Facts, Launch
from lti_badges.extensions import db
from lti_badges.models import (
    Award,
    Badge,
    Course,
    LaunchEvent,
    Membership,
    Person,
    SyncRun,
)
from lti_badges.models._time import utcnow
from lti_badges.models._upsert import get_or_create
from lti_badges.net import NetPolicy
from lti_badges.sources.base import CourseFacts, FactSource, Member

Progress = Callable[[str, int, int], None]


@dataclass
class SyncResult:
    course_id: int
    run_id: int
    status: str
    # Award objects of the CLI contract (summaries, not ORM rows: a large first sync must
    # not keep ten thousand signed credentials in memory).
    awarded: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    unchanged: bool = False
    # Seconds per phase: fetch, roster, evaluate, issue (the benchmark reports them).
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: {"course", "awarded": [award objects], "errors": [...]}."""
        return {"course": self.course_id, "status": self.status, "run": self.run_id,
                "awarded": list(self.awarded),
                "errors": self.errors, "unchanged": self.unchanged}


def _policy() -> NetPolicy:
    return NetPolicy.from_config(current_app.config)


def lti_source(course: Course) -> FactSource | None:
    from lti_badges.platform_services import access_token
    from lti_badges.sources.lti import LtiSource

    services = course.services or {}
    if not services.get("nrps_url") and not services.get("ags_lineitems"):
        return None

    def token_for(scopes: Any) -> Any:
        return access_token(course.platform, list(scopes))

    return LtiSource(token_for=token_for, policy=_policy(), nrps_url=services.get("nrps_url"),
                     lineitems_url=services.get("ags_lineitems"),
                     ags_scopes=services.get("ags_scopes"))


def moodle_source(course: Course) -> FactSource | None:
    """The Moodle Web Services connector, when the platform's admin configured one."""
    from lti_badges.connectors import connector_for, decrypt_token, moodle_client

    row = connector_for(course.platform_id)
    if row is None:
        return None
    return moodle_client(row.url, decrypt_token(row), interactive=False).source(course.context_id)


SOURCE_FACTORIES: list[Callable[[Course], FactSource | None]] = [lti_source, moodle_source]


def sources_for(course: Course) -> list[FactSource]:
    return [s for s in (factory(course) for factory in SOURCE_FACTORIES) if s is not None]


def read_course(course: Course, progress: Progress | None = None,
                only_user: str | None = None) -> CourseFacts:
    """Every source's facts, merged; ``only_user``: sources that can read one learner
    (``read_user``, e.g. the Moodle connector) read just that learner, the others in full."""
    sources = sources_for(course)
    if not sources:
        return CourseFacts(source="none", errors=(
            "The course has no source of facts yet: open the tool from the course once (so "
            "the platform shares its roster and grade services), or configure the Moodle "
            "connector.",))
    merged: CourseFacts | None = None
    for source in sources:
        def report(done: int, total: int, _name: str = source.name) -> None:
            if progress:
                progress(f"reading {_name}", done, total)

        read_user = getattr(source, "read_user", None)
        facts = (read_user(only_user, progress=report) if only_user is not None and read_user
                 else source.read(progress=report))
        merged = facts if merged is None else merged.merge(facts)
    assert merged is not None
    return merged


def _person_for(course: Course, member: Member) -> Person:
    person = get_or_create(Person, platform_id=course.platform_id, sub=member.user_id)
    for attr in ("name", "email", "given_name", "family_name"):
        value = getattr(member, attr)
        if value and getattr(person, attr) != value:
            setattr(person, attr, value)
    return person


def _sync_roster(course: Course, facts: CourseFacts) -> dict[str, Person]:
    """People of the course by LTI user id; memberships follow the roster's status.

    Existing rows are read in one query each; only new ones are created one by one
    (get-or-create survives a concurrent sync creating the same person).
    """
    def known_people() -> dict[str, Person]:
        return {p.sub: p for p in db.session.scalars(
            db.select(Person).where(Person.platform_id == course.platform_id,
                                    Person.sub.in_([m.user_id for m in facts.roster])))}

    known = known_people()
    missing = [m for m in facts.roster if m.user_id not in known]
    if missing:
        try:
            with db.session.begin_nested():  # all new people in one flush
                db.session.add_all(Person(platform_id=course.platform_id, sub=m.user_id)
                                   for m in missing)
        except IntegrityError:  # a concurrent sync created some: take theirs
            pass
        known = known_people()
    people: dict[str, Person] = {}
    for member in facts.roster:
        person = known.get(member.user_id) or _person_for(course, member)
        for attr in ("name", "email", "given_name", "family_name"):
            value = getattr(member, attr)
            if value and getattr(person, attr) != value:
                setattr(person, attr, value)
        people[member.user_id] = person
    db.session.flush()

    def known_memberships() -> dict[int, Membership]:
        return {m.person_id: m for m in db.session.scalars(
            db.select(Membership).filter_by(course_id=course.id))}

    memberships = known_memberships()
    new_ids = {people[m.user_id].id for m in facts.roster} - set(memberships)
    if new_ids:
        try:
            with db.session.begin_nested():
                db.session.add_all(Membership(course_id=course.id, person_id=pid, roles=[],
                                              status="active") for pid in new_ids)
        except IntegrityError:
            pass
        memberships = known_memberships()
    for member in facts.roster:
        person = people[member.user_id]
        row = memberships.get(person.id) or get_or_create(Membership, course_id=course.id,
                                                           person_id=person.id)
        roles, status = list(member.roles), "active" if member.active else "left"
        if row.roles != roles:
            row.roles = roles
        if row.status != status:
            row.status = status
    db.session.flush()
    return people


def _tool_facts(course: Course, people: dict[str, Person]) -> dict[int, tuple[list, list]]:
    """Launches in this course and badges held (anywhere on the platform), per person id."""
    ids = [p.id for p in people.values()]
    launches: dict[int, list[Launch]] = {i: [] for i in ids}
    for ev in db.session.scalars(db.select(LaunchEvent).where(
            LaunchEvent.course_id == course.id, LaunchEvent.person_id.in_(ids))):
        launches[ev.person_id].append(Launch(resource_link_id=ev.resource_link_id,
                                             time=ev.launched_at.replace(tzinfo=UTC),
                                             title=ev.title))
    held: dict[int, list[BadgeHeld]] = {i: [] for i in ids}
    rows = db.session.execute(db.select(Award, Badge.public_id).join(Badge).where(
        Award.person_id.in_(ids), Award.revoked_at.is_(None))).all()
    for award, badge_pid in rows:
        held[award.person_id].append(BadgeHeld(
            badge_id=badge_pid, time=award.issued_on.replace(tzinfo=UTC),
            expires=award.expires_at.replace(tzinfo=UTC) if award.expires_at else None))
    return {i: (launches[i], held[i]) for i in ids}


def _with_tool_facts(base: Facts, launches: list, held: list) -> Facts:
    return replace(base, launches=tuple(base.launches) + tuple(launches),
                   badges=tuple(base.badges) + tuple(held),
                   sources_read=frozenset(base.sources_read) | {"launches", "badges", "manual"})


def _facts_digest(facts: CourseFacts) -> str:
    """A digest of the course's facts, fed piece by piece (a large course's facts would
    otherwise be one huge string in memory). Computed once per sync."""
    digest = hashlib.sha256()
    for member in sorted(facts.roster, key=lambda m: m.user_id):
        digest.update(repr((member.user_id, member.status, tuple(member.roles))).encode())
    for uid in sorted(facts.facts):
        digest.update(uid.encode())
        digest.update(repr(facts.facts[uid]).encode())
    return digest.hexdigest()


def _fingerprint(facts_digest: str, badges: list[Badge], held: int) -> str:
    """Everything a sync decides from: the facts, the rules, how many awards exist."""
    digest = hashlib.sha256(facts_digest.encode())
    for badge in badges:
        digest.update(json.dumps([badge.public_id, badge.rule, badge.updated_at.isoformat()],
                                 sort_keys=True, default=str).encode())
    digest.update(str(held).encode())
    return digest.hexdigest()


def _order_by_prerequisites(badges: list[Badge]) -> list[Badge]:
    """Prerequisites first, so a badge earned in this run counts for the next one."""
    by_pid = {b.public_id: b for b in badges}

    def deps(badge: Badge) -> set[str]:
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("badge"), str | int):
                    found.add(str(node["badge"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(badge.rule)
        return found & set(by_pid)

    ordered: list[Badge] = []
    seen: set[str] = set()

    def visit(badge: Badge, stack: frozenset[str]) -> None:
        if badge.public_id in seen or badge.public_id in stack:
            return
        for dep in sorted(deps(badge)):
            visit(by_pid[dep], stack | {badge.public_id})
        seen.add(badge.public_id)
        ordered.append(badge)

    for badge in sorted(badges, key=lambda b: b.id):
        visit(badge, frozenset())
    return ordered


def start_run(course: Course, trigger: str) -> SyncRun:
    run = SyncRun(course_id=course.id, trigger=trigger, status="queued")
    db.session.add(run)
    db.session.commit()
    return run


def sync_course(course_id: int, *, trigger: str = "manual", run_id: int | None = None,
                only_person_sub: str | None = None) -> SyncResult:
    """Evaluate every rule-bound badge of the course and award what is earned."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise issuing.IssuingError(f"No course {course_id}.", 404, "not_found")
    run = db.session.get(SyncRun, run_id) if run_id else None
    if run is None:
        run = start_run(course, trigger)
    run.status, run.started_at, run.phase = "running", utcnow(), "reading"
    db.session.commit()
    result = SyncResult(course_id=course.id, run_id=run.id, status="running")

    last_commit = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        # Progress lives in the run row so the teacher's page (another process) can poll it;
        # committed at most twice a second (a commit per page would cost more than the page).
        run.phase, run.done, run.total = phase, done, total
        if time.monotonic() - last_commit[0] > 0.5 or done == total:
            db.session.commit()
            last_commit[0] = time.monotonic()

    clock = time.perf_counter()
    try:
        facts = read_course(course, progress, only_user=only_person_sub)
    except Exception as exc:  # a source failing outright: report, award nothing
        current_app.logger.exception("sync of course %s could not read its sources", course_id)
        facts = CourseFacts(source="error", errors=(f"{exc.__class__.__name__}: {exc}",))
    result.timings["fetch"] = time.perf_counter() - clock
    if not facts.complete:
        run.status, run.phase, run.finished_at = "partial", "stopped", utcnow()
        run.errors = [{"error": e} for e in facts.errors] or [{"error": facts.reason or
                                                               "incomplete"}]
        db.session.commit()
        result.status, result.errors = "partial", run.errors
        return result

    badges = db.session.scalars(db.select(Badge).where(
        Badge.course_id == course.id, Badge.archived.is_(False), Badge.rule.is_not(None))).all()
    clock = time.perf_counter()
    people = _sync_roster(course, facts)
    db.session.commit()
    result.timings["roster"] = time.perf_counter() - clock
    held_count = db.session.scalar(db.select(db.func.count()).select_from(Award).join(Badge)
                                   .where(Badge.course_id == course.id)) or 0
    facts_digest = _facts_digest(facts)
    fingerprint = _fingerprint(facts_digest, list(badges), held_count)
    last = db.session.scalar(db.select(SyncRun).where(
        SyncRun.course_id == course.id, SyncRun.status == "done", SyncRun.id != run.id)
        .order_by(SyncRun.id.desc()).limit(1))
    if only_person_sub is None and last is not None and last.fingerprint == fingerprint:
        run.status, run.phase, run.fingerprint, run.finished_at = "done", "unchanged", \
            fingerprint, utcnow()
        db.session.commit()
        result.status, result.unchanged = "done", True
        return result

    learners = [m for m in facts.learners
                if only_person_sub is None or m.user_id == only_person_sub]
    extra = _tool_facts(course, {m.user_id: people[m.user_id] for m in learners})
    now = datetime.now(UTC)
    ordered = _order_by_prerequisites([b for b in badges if b.rule])
    rules = {b.id: criteria.parse(b.rule) for b in ordered}  # parse once, evaluate many
    badge_ids = {b.public_id: b.id for b in ordered}
    person_ids = {sub: p.id for sub, p in people.items()}
    held_ids = {(badge_id, person_id) for badge_id, person_id in db.session.execute(
        db.select(Award.badge_id, Award.person_id).where(
            Award.badge_id.in_([b.id for b in ordered]), Award.person_id.is_not(None)))}
    run.phase, run.done, run.total = "evaluating", 0, len(learners) * max(1, len(ordered))
    db.session.commit()
    clocks = {"evaluate": 0.0, "issue": 0.0}

    def award_batch(batch: list[Member], safe: bool) -> list[dict[str, Any]]:
        """Evaluate and issue for a batch of learners in one transaction. ``safe``: a
        savepoint and a check per award (after a batch lost a race with another worker)."""
        slots = None if safe else issuing.StatusSlots()
        done: list[dict[str, Any]] = []
        for member in batch:
            person = people[member.user_id]
            launches, held = extra[person.id]
            learner_facts = _with_tool_facts(facts.facts_for(member.user_id), launches, held)
            for badge in ordered:
                clock = time.perf_counter()
                outcome = criteria.evaluate(rules[badge.id], learner_facts, now,
                                            badge_id=badge.public_id)
                clocks["evaluate"] += time.perf_counter() - clock
                # Held already, or revoked: never re-issued by a sync.
                if not outcome.met or (badge.id, person.id) in held_ids:
                    continue
                clock = time.perf_counter()
                evidence = {"rule": badge.rule, "result": outcome.to_json(),
                            "summary": criteria.explain(rules[badge.id], outcome, "en"),
                            "summary_fr": criteria.explain(rules[badge.id], outcome, "fr"),
                            "evaluated_at": now.isoformat(), "run": run.id}
                try:
                    award = issuing.award(badge, person=person, evidence=evidence,
                                          source="rule", awarded_by=f"sync:{run.id}",
                                          commit=False, slots=slots, known_new=not safe)
                    done.append(issuing.award_summary(award))
                    # The new badge is a fact for the badges after it in this run.
                    learner_facts = replace(learner_facts, badges=(
                        *learner_facts.badges, BadgeHeld(badge_id=badge.public_id, time=now)))
                except issuing.AlreadyAwarded:
                    pass  # another worker was faster: exactly once all the same
                except issuing.IssuingError as exc:
                    result.errors.append({"badge": badge.public_id, "person": member.user_id,
                                          "error": exc.message})
                finally:
                    clocks["issue"] += time.perf_counter() - clock
        clock = time.perf_counter()
        db.session.commit()
        clocks["issue"] += time.perf_counter() - clock
        return done

    batch_size = 50
    for start in range(0, len(learners), batch_size):
        batch = learners[start:start + batch_size]
        try:
            awarded = award_batch(batch, safe=False)
        except IntegrityError:
            # Another worker awarded someone of this batch meanwhile: redo it carefully.
            db.session.rollback()
            held_ids |= {(badge_id, person_id) for badge_id, person_id in db.session.execute(
                db.select(Award.badge_id, Award.person_id).where(
                    Award.badge_id.in_([b.id for b in ordered]),
                    Award.person_id.in_([people[m.user_id].id for m in batch])))}
            awarded = award_batch(batch, safe=True)
        result.awarded.extend(awarded)
        for summary in awarded:
            held_ids.add((badge_ids[summary["badge"]], person_ids[summary["person_sub"]]))
        run.done = min(len(learners), start + batch_size) * len(ordered)
        db.session.commit()
    evaluate_s, issue_s = clocks["evaluate"], clocks["issue"]
    result.timings["evaluate"], result.timings["issue"] = evaluate_s, issue_s
    run.status, run.phase, run.finished_at = "done", "finished", utcnow()
    run.awarded = len(result.awarded)
    run.errors = result.errors
    if only_person_sub is None and not result.errors:
        # The state after this run's awards: the next run with the same facts finds it.
        run.fingerprint = _fingerprint(facts_digest, list(badges),
                                       held_count + len(result.awarded))
    db.session.commit()
    result.status = "done"
    return result

