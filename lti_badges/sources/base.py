"""The one interface every fact source implements, and what it returns.

DESIGN.md, "Where criteria facts come from": facts come from several kinds of
source (LTI services on every platform, platform connectors such as Moodle
Web Services, people), each an adapter behind one interface.  An adapter is a
plain object with ``read(progress=None) -> CourseFacts``; it takes URLs,
tokens and a :class:`~lti_badges.net.NetPolicy`, never a database session or
a Flask app, so the sync (and tests) can run it anywhere.

A :class:`CourseFacts` carries

- the roster (``Member``: platform user id = LTI ``sub``, name, email, roles,
  status).  Only learners are awardable; members whose status is not
  ``Active`` are listed as having left (NRPS 2.0 §2.3);
- per-learner criteria :class:`~lti_badges.criteria.facts.Facts`, keyed by
  the LTI user id (``sub``);
- ``sources_read``: the criteria sources read *completely* (``ags``,
  ``moodle``).  A source that could not read everything leaves its name out
  and adds an error; the facts it did read are kept (for progress pages) but
  ``complete`` is then ``False`` with a ``reason``, and the sync must not
  award from such a result;
- the items seen (grade items and activities: id, label, tag, maximum) for
  the teacher's criteria builder;
- errors (each one makes the result incomplete) and warnings (do not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol

from lti_badges.criteria.facts import Facts
from lti_badges.lti.roles import is_learner

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: called as a source works through its slow part."""

ACTIVE = "Active"  # NRPS 2.0 §2.3: a member's status when absent is Active


class SourceError(Exception):
    """A source could not read something; the message says why, for a person."""


@dataclass(frozen=True)
class Member:
    """One person in the course roster.

    ``user_id`` is the platform's user id as LTI sends it: the id_token's
    ``sub`` and NRPS's ``user_id`` (NRPS 2.0 §2.2: the same value).  In Moodle
    it is also the Moodle user id (see ``lti_badges.sources.moodle``).
    ``roles`` keep the platform's spelling (NRPS short names, LIS URIs).
    """

    user_id: str
    name: str | None = None
    email: str | None = None
    roles: tuple[str, ...] = ()
    status: str = ACTIVE
    given_name: str | None = None
    family_name: str | None = None
    sourcedid: str | None = None
    username: str | None = None
    source: str = ""

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_learner(self) -> bool:
        return is_learner(self.roles)

    @property
    def awardable(self) -> bool:
        """A learner still in the course: the only members the sync may award."""
        return self.active and self.is_learner


@dataclass(frozen=True)
class ItemSeen:
    """A grade item or activity a source saw, for the criteria builder.

    ``item_id`` is what a rule's ``ITEM`` names (an AGS line item URL,
    ``moodle:gradeitem:<id>``, ``moodle:cm:<cmid>``); ``aliases`` are other
    ids that name it too.  ``kind`` is ``grade`` or ``activity``.
    """

    item_id: str
    label: str | None = None
    tag: str | None = None
    score_maximum: float | None = None
    kind: str = "grade"
    source: str = ""
    aliases: tuple[str, ...] = ()
    resource_link_id: str | None = None


@dataclass(frozen=True)
class CourseFacts:
    """What one read of a course's sources found (see the module docstring)."""

    source: str
    roster: tuple[Member, ...] = ()
    facts: Mapping[str, Facts] = field(default_factory=lambda: MappingProxyType({}))
    sources_read: frozenset[str] = frozenset()
    items: tuple[ItemSeen, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    roster_read: bool = False
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def complete(self) -> bool:
        """True only when the roster and every source this result covers were read in full."""
        return self.roster_read and not self.errors

    @property
    def reason(self) -> str | None:
        """Why the result is incomplete (None when complete)."""
        if self.complete:
            return None
        reasons = list(self.errors)
        if not self.roster_read:
            reasons.append("The course roster was not read, so nobody can be awarded.")
        return " ".join(reasons)

    @property
    def learners(self) -> tuple[Member, ...]:
        """Members the sync may award: active learners."""
        return tuple(m for m in self.roster if m.awardable)

    @property
    def left(self) -> tuple[Member, ...]:
        """Members whose status is not Active (they left or were removed)."""
        return tuple(m for m in self.roster if not m.active)

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.roster if m.user_id == user_id), None)

    def facts_for(self, user_id: str) -> Facts:
        """The learner's facts; a learner with none still gets ``sources_read``.

        Without it a rule would read "unknown" for a learner who simply has no
        grade yet, although the source was read in full.
        """
        return self.facts.get(user_id) or Facts(sources_read=self.sources_read)

    def merge(self, other: CourseFacts) -> CourseFacts:
        """Combine two reads of the same course (e.g. LTI services + Moodle connector).

        The roster of the first result that read one is authoritative (NRPS
        knows membership status, Moodle's enrolled-user list does not); the
        other only fills in missing names and emails.  Facts are combined per
        learner; ``sources_read`` is the union.
        """
        if self.roster_read or not other.roster_read:
            main, extra = self.roster, other.roster
        else:
            main, extra = other.roster, self.roster
        by_id = {m.user_id: m for m in extra}
        roster = tuple(_fill(m, by_id.get(m.user_id)) for m in main)
        sources_read = self.sources_read | other.sources_read
        users = list(dict.fromkeys([*self.facts, *other.facts, *(m.user_id for m in roster)]))
        facts = {uid: _merge_facts(self.facts.get(uid), other.facts.get(uid), sources_read)
                 for uid in users}
        return CourseFacts(
            source=f"{self.source}+{other.source}",
            roster=roster,
            facts=MappingProxyType(facts),
            sources_read=sources_read,
            items=self.items + other.items,
            errors=self.errors + other.errors,
            warnings=self.warnings + other.warnings,
            roster_read=self.roster_read or other.roster_read,
            read_at=min(self.read_at, other.read_at),
        )


class FactSource(Protocol):
    """What every adapter offers (LTI services, Moodle connector, …)."""

    name: str

    def read(self, progress: ProgressCallback | None = None) -> CourseFacts:
        """Read the whole course; never raises for a platform's answer, reports it instead."""
        ...


def _fill(member: Member, other: Member | None) -> Member:
    if other is None:
        return member
    return replace(
        member,
        name=member.name or other.name,
        email=member.email or other.email,
        given_name=member.given_name or other.given_name,
        family_name=member.family_name or other.family_name,
        sourcedid=member.sourcedid or other.sourcedid,
        username=member.username or other.username,
    )


def _merge_facts(a: Facts | None, b: Facts | None, sources_read: frozenset[str]) -> Facts:
    a = a or Facts()
    b = b or Facts()
    return Facts(
        grades=a.grades + b.grades,
        completions=a.completions + b.completions,
        course_completion=a.course_completion or b.course_completion,
        launches=a.launches + b.launches,
        badges=a.badges + b.badges,
        manual=a.manual + b.manual,
        sources_read=sources_read,
    )


def build_course_facts(
    source: str,
    *,
    roster: Iterable[Member] | None,
    facts: Mapping[str, Facts],
    sources_read: Iterable[str],
    items: Iterable[ItemSeen] = (),
    errors: Iterable[str] = (),
    warnings: Iterable[str] = (),
) -> CourseFacts:
    """Assemble a result: every roster member gets a Facts stamped with ``sources_read``.

    ``roster=None`` means the roster was not read (the result is then incomplete).
    """
    read = frozenset(sources_read)
    members = tuple(roster or ())
    users = list(dict.fromkeys([*(m.user_id for m in members), *facts]))
    stamped = {uid: replace(facts.get(uid) or Facts(), sources_read=read) for uid in users}
    return CourseFacts(
        source=source,
        roster=members,
        facts=MappingProxyType(stamped),
        sources_read=read,
        items=tuple(items),
        errors=tuple(errors),
        warnings=tuple(warnings),
        roster_read=roster is not None,
    )


def number(value: Any) -> float | None:
    """A number from JSON that may carry it as a number or a string; booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
