"""The service layer between the course and the badge store: sync → evaluate → issue.

``sync_course`` reads the course through its fact sources (NRPS roster and AGS
grades, the Moodle connector where configured), adds what the tool itself
knows (launches, badges already held), evaluates every badge's rule for every
learner with the pure criteria engine, and awards what is earned — exactly
once: the database refuses a second award of a badge to a person, so several
workers syncing one course cannot duplicate one; an award made by hand to a member's email
counts as that member's (``issuing.link_email_awards``). A source that cannot be read
completely stops the sync before anything is awarded, and the run says why.
A revoked award is never re-issued, and a learner who drops below a threshold
keeps what was issued. One sync per course runs at a time (``services.sync_runs``), and
a database restart in the middle of a sync is ridden out (``models._reconnect``).
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
from sqlalchemy.exc import DBAPIError, IntegrityError

from lti_badges import criteria, issuing
from lti_badges.clock import utcnow
from lti_badges.criteria import refs
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
from lti_badges.models._reconnect import DatabaseUnavailable, with_reconnect
from lti_badges.models._upsert import get_or_create
from lti_badges.net import NetPolicy
from lti_badges.services import fact_times, sync_runs
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
    issuing.link_email_awards(course.id)  # awards by email before the person was known
    return people


def observe(course: Course, facts: CourseFacts) -> CourseFacts:
    """What every read of the course records (a page's read as well as a sync's): the roster
    as people and memberships, so the studio lists every learner before any sync, awards made
    by email attached to their person, and when undated facts were first seen. Returns the
    facts with those times."""
    if facts.roster_read:
        _sync_roster(course, facts)
        db.session.commit()
    return fact_times.stamp(course, facts)


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


def learner_facts(course: Course, subs: list[str], people: dict[str, Person],
                  course_facts: CourseFacts | None) -> dict[str, Facts]:
    """What the rules see of each learner (by LTI ``sub``): the facts the sources read
    (``course_facts``; none when None) and what the tool knows itself (launches in this
    course, badges held on the platform). ``people``: the known ones, by ``sub``."""
    known = {sub: people[sub] for sub in subs if sub in people}
    extra = _tool_facts(course, known) if known else {}
    out: dict[str, Facts] = {}
    for sub in subs:
        base = course_facts.facts_for(sub) if course_facts is not None else Facts()
        person = known.get(sub)
        launches, held = extra.get(person.id, ([], [])) if person is not None else ([], [])
        out[sub] = _with_tool_facts(base, launches, held)
    return out


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
    ordered = refs.prerequisite_order({b.public_id: b.rule for b in badges},
                                      [b.public_id for b in sorted(badges, key=lambda b: b.id)])
    return [by_pid[pid] for pid in ordered]


def _db(step: Callable[[], Any], what: str, on_retry: Callable[[], None] | None = None) -> Any:
    """``step`` again after a database restart, for up to ``SYNC_DB_RETRY_SECONDS``."""
    return with_reconnect(step, seconds=float(current_app.config.get("SYNC_DB_RETRY_SECONDS")
                                              or 120), what=what, on_retry=on_retry)


def failure_reason(exc: BaseException) -> str:
    """One line for a person: why a sync stopped."""
    if isinstance(exc, DatabaseUnavailable):
        return f"The sync stopped: {exc}."
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"The sync stopped: {exc.__class__.__name__}: {first}"[:300]


def _outcome(run: SyncRun) -> SyncResult:
    """A run this call joined: what it awarded, read back from the awards it made."""
    awards = db.session.scalars(db.select(Award).filter_by(awarded_by=f"sync:{run.id}")
                                .order_by(Award.id)).all()
    return SyncResult(course_id=run.course_id, run_id=run.id, status=run.status,
                      awarded=[issuing.award_summary(a) for a in awards],
                      errors=list(run.errors or []), unchanged=run.phase == "unchanged")


def sync_course(course_id: int, *, trigger: str = "manual", run_id: int | None = None,
                only_person_sub: str | None = None) -> SyncResult:
    """Evaluate every rule-bound badge of the course and award what is earned.

    One sync per course runs at a time (``services.sync_runs``). A worker passes the queued
    ``run_id`` it was given; a direct call (CLI, tests) queues one like any request and waits
    while another run holds the course. A run that another worker took is joined: its
    outcome is returned. The follow-up left while a run ran is run here next. A database
    restart is ridden out; past ``SYNC_DB_RETRY_SECONDS`` the run fails with a one-line
    reason and ``DatabaseUnavailable`` is raised.
    """
    course = db.session.get(Course, course_id)
    if course is None:
        raise issuing.IssuingError(f"No course {course_id}.", 404, "not_found")
    direct = run_id is None
    if run_id is None:
        run_id = _db(lambda: sync_runs.request_run(course_id, trigger, only_person_sub).id,
                     "queueing the sync")
    state, run = _db(lambda: sync_runs.claim(run_id), "starting the sync")
    while direct and state != "claimed" and run is not None \
            and run.status not in sync_runs.FINISHED:
        time.sleep(0.5)  # another worker holds the course, or runs our run: wait for it
        state, run = _db(lambda: sync_runs.claim(run_id), "starting the sync")
    if run is None:
        raise issuing.IssuingError(f"No sync run {run_id}.", 404, "not_found")
    if state != "claimed":
        return _outcome(run)
    result = _run_claimed(course, run)
    while (next_id := _db(lambda: sync_runs.next_queued(course_id), "follow-up")) is not None:
        state, follow_up = _db(lambda: sync_runs.claim(next_id), "starting the follow-up")
        if state != "claimed" or follow_up is None:
            break
        _run_claimed(course, follow_up)
    return result


def _run_claimed(course: Course, run: SyncRun) -> SyncResult:
    run_id = run.id  # read now: after a failed transaction the row would be reloaded
    try:
        return _sync_run(course, run)
    except Exception as exc:
        sync_runs.fail(run_id, failure_reason(exc))
        raise


def _sync_run(course: Course, run: SyncRun) -> SyncResult:
    course_id, only_person_sub = course.id, run.person_sub
    result = SyncResult(course_id=course.id, run_id=run.id, status="running")

    def save(**fields: Any) -> None:
        def step() -> None:
            db.session.refresh(run, ["status"])  # still ours? a lapsed lease was taken over
            if run.status != "running":
                raise sync_runs.LeaseLost(sync_runs.LEASE_LOST_MESSAGE)
            for key, value in fields.items():
                setattr(run, key, value)
            sync_runs.renew(run)
            db.session.commit()

        _db(step, f"sync run {run.id}")

    last_commit = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        # Progress lives in the run row so the teacher's page (another process) can poll it;
        # committed at most twice a second (a commit per page would cost more than the page).
        run.phase, run.done, run.total = phase, done, total
        if time.monotonic() - last_commit[0] > 0.5 or done == total:
            sync_runs.renew(run)
            try:
                db.session.commit()
            except DBAPIError:  # progress is news, not work: a restart must not stop the read
                db.session.rollback()
            last_commit[0] = time.monotonic()

    clock = time.perf_counter()
    try:
        facts = _db(lambda: read_course(course, progress, only_user=only_person_sub),
                    "reading the course")
    except DatabaseUnavailable:
        raise
    except Exception as exc:  # a source failing outright: report, award nothing
        current_app.logger.exception("sync of course %s could not read its sources", course_id)
        facts = CourseFacts(source="error", errors=(f"{exc.__class__.__name__}: {exc}",))
    result.timings["fetch"] = time.perf_counter() - clock
    if not facts.complete:
        errors = [{"error": e} for e in facts.errors] or [{"error": facts.reason or
                                                           "incomplete"}]
        save(status="partial", phase="stopped", finished_at=utcnow(), errors=errors)
        result.status, result.errors = "partial", errors
        return result

    def roster() -> tuple[list[Badge], dict[str, Person], int, SyncRun | None]:
        badges = db.session.scalars(db.select(Badge).where(
            Badge.course_id == course.id, Badge.archived.is_(False),
            Badge.rule.is_not(None))).all()
        people = _sync_roster(course, facts)
        db.session.commit()
        held_count = db.session.scalar(db.select(db.func.count()).select_from(Award)
                                       .join(Badge).where(Badge.course_id == course.id)) or 0
        last = db.session.scalar(db.select(SyncRun).where(
            SyncRun.course_id == course.id, SyncRun.status == "done", SyncRun.id != run.id)
            .order_by(SyncRun.id.desc()).limit(1))
        return list(badges), people, held_count, last

    clock = time.perf_counter()
    badges, people, held_count, last = _db(roster, "updating the roster")
    # Undated facts take the time the tool first saw them (stored, so a retry is harmless).
    facts = _db(lambda: fact_times.stamp(course, facts), "recording when facts were first seen")
    result.timings["roster"] = time.perf_counter() - clock
    facts_digest = _facts_digest(facts)
    fingerprint = _fingerprint(facts_digest, list(badges), held_count)
    if only_person_sub is None and last is not None and last.fingerprint == fingerprint:
        save(status="done", phase="unchanged", fingerprint=fingerprint, finished_at=utcnow())
        result.status, result.unchanged = "done", True
        return result

    learners = [m for m in facts.learners
                if only_person_sub is None or m.user_id == only_person_sub]
    now = datetime.now(UTC)
    ordered = _order_by_prerequisites([b for b in badges if b.rule])
    rules = {b.id: criteria.parse(b.rule) for b in ordered}  # parse once, evaluate many
    badge_ids = {b.public_id: b.id for b in ordered}

    def prepare() -> tuple[dict[int, tuple[list, list]], dict[str, int], set[tuple[int, int]]]:
        extra = _tool_facts(course, {m.user_id: people[m.user_id] for m in learners})
        held_ids = {(badge_id, person_id) for badge_id, person_id in db.session.execute(
            db.select(Award.badge_id, Award.person_id).where(
                Award.badge_id.in_([b.id for b in ordered]), Award.person_id.is_not(None)))}
        return extra, {sub: p.id for sub, p in people.items()}, held_ids

    # Before the launches are read: a launch joins a run only while it is still reading.
    save(phase="evaluating", done=0, total=len(learners) * max(1, len(ordered)))
    extra, person_ids, held_ids = _db(prepare, "reading what the learners hold")
    clocks = {"evaluate": 0.0, "issue": 0.0}

    def award_batch(batch: list[Member], safe: bool) -> list[dict[str, Any]]:
        """Evaluate and issue for a batch of learners in one transaction. ``safe``: a
        savepoint and a check per award (after a batch lost a race with another worker)."""
        slots = None if safe else issuing.StatusSlots()
        done: list[dict[str, Any]] = []
        for member in batch:
            person = people[member.user_id]
            launches, held = extra[person_ids[member.user_id]]
            learner_facts = _with_tool_facts(facts.facts_for(member.user_id), launches, held)
            for badge in ordered:
                clock = time.perf_counter()
                outcome = criteria.evaluate(rules[badge.id], learner_facts, now,
                                            badge_id=badge.public_id)
                clocks["evaluate"] += time.perf_counter() - clock
                # Held already, or revoked: never re-issued by a sync.
                if not outcome.met or (badge.id, person_ids[member.user_id]) in held_ids:
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
    retried = False
    for start in range(0, len(learners), batch_size):
        batch = learners[start:start + batch_size]
        mark, safe = len(result.errors), [False]

        def redo_carefully(batch: list[Member] = batch, mark: int = mark,
                           safe: list[bool] = safe) -> None:
            # Another worker awarded someone of this batch meanwhile, or the connection went
            # while it committed (did it?): what is held now is skipped, award by award.
            nonlocal retried
            retried = True
            del result.errors[mark:]
            held_ids.update(db.session.execute(
                db.select(Award.badge_id, Award.person_id).where(
                    Award.badge_id.in_([b.id for b in ordered]),
                    Award.person_id.in_([person_ids[m.user_id] for m in batch]))).tuples())
            safe[0] = True

        def attempt(batch: list[Member] = batch, safe: list[bool] = safe) -> list[dict]:
            try:
                return award_batch(batch, safe=safe[0])
            except IntegrityError:
                db.session.rollback()
                redo_carefully()
                return award_batch(batch, safe=True)

        awarded = _db(attempt, f"awarding (sync run {run.id})", on_retry=redo_carefully)
        result.awarded.extend(awarded)
        for summary in awarded:
            held_ids.add((badge_ids[summary["badge"]], person_ids[summary["person_sub"]]))
        save(done=min(len(learners), start + batch_size) * len(ordered))
    evaluate_s, issue_s = clocks["evaluate"], clocks["issue"]
    result.timings["evaluate"], result.timings["issue"] = evaluate_s, issue_s
    if retried:  # a batch whose commit went through unseen: its awards are this run's too
        seen = {a["id"] for a in result.awarded}

        def unseen() -> list[dict[str, Any]]:
            ids = [pid for pid in db.session.scalars(db.select(Award.public_id).filter_by(
                awarded_by=f"sync:{run.id}")) if pid not in seen]
            return [issuing.award_summary(a) for a in db.session.scalars(
                db.select(Award).where(Award.public_id.in_(ids)))] if ids else []

        result.awarded.extend(_db(unseen, "counting this run's awards"))
    fields: dict[str, Any] = {"status": "done", "phase": "finished", "finished_at": utcnow(),
                              "awarded": len(result.awarded), "errors": result.errors}
    if only_person_sub is None and not result.errors:
        # The state after this run's awards: the next run with the same facts finds it.
        fields["fingerprint"] = _fingerprint(facts_digest, list(badges),
                                             held_count + len(result.awarded))
    save(**fields)
    result.status = "done"
    return result

