"""What the rule engine knows about one learner: plain, frozen data.

Adapters (AGS and NRPS readers, the Moodle Web Services connector, the launch
log, the award store, teachers' sign-offs) fill a :class:`Facts`; the engine
only reads it.  Nothing here imports Flask, SQLAlchemy or any adapter.

Conventions the engine relies on:

- Times are timezone-aware ``datetime`` objects.  A naive time is read as UTC;
  a missing time (``None``) is fine unless a rule has a ``from``/``until``
  window, in which case that fact does not count (its time cannot be placed
  inside the window).
- ``time_basis`` says what a grade's or completion's time is: ``"source"``
  (the LMS's own date: the Moodle connector's ``timemodified`` /
  ``timecompleted``, an AGS result's ``timestamp`` where the platform sends
  one) or ``"first_seen"`` (the source gave no date: the time is when the
  tool first saw that value, recorded by the sync or a preview).  Explanations
  never present a first-seen time as the LMS's date.
- Items (grade items and activities) carry an ``item_id`` / ``activity_id``
  plus optional ``label``, ``tag`` and ``aliases``.  A rule's ``ITEM`` is
  looked up exactly: first against ids and aliases, then labels, then tags
  (see :mod:`lti_badges.criteria.matching`).  Suggested ids: the AGS line item
  URL for AGS results; ``moodle:gradeitem:<id>`` with alias
  ``moodle:cm:<cmid>`` for Moodle grade items; ``moodle:cm:<cmid>`` for Moodle
  activity completions (label = activity name, tag = Moodle idnumber).
- ``sources_read`` lists the sources that were read *completely* in this sync.
  When a rule finds no fact and one of its sources is missing there, its
  result is "unknown" rather than "not met".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The fact sources a rule may need (DESIGN.md, "Where criteria facts come from").
AGS = "ags"  # LTI Assignment and Grade Services: line items and results the tool can see
MOODLE = "moodle"  # the Moodle Web Services connector: every grade item and completion
LAUNCHES = "launches"  # the tool's own log of LTI resource link launches
MANUAL = "manual"  # teachers' sign-offs and CSV imports
BADGES = "badges"  # badges the learner already holds (the tool's award store)
SOURCES: frozenset[str] = frozenset({AGS, MOODLE, LAUNCHES, MANUAL, BADGES})

# What a fact's time is (see ``time_basis`` in the module docstring).
SOURCE_TIME = "source"
FIRST_SEEN = "first_seen"


class CompletionState(StrEnum):
    """Activity completion state, named after Moodle's ``COMPLETION_*`` constants."""

    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    COMPLETE_PASS = "complete_pass"  # noqa: S105 (not a password)
    COMPLETE_FAIL = "complete_fail"

    @classmethod
    def from_moodle(cls, state: int) -> CompletionState:
        """Map ``core_completion_get_activities_completion_status`` states (0–3)."""
        return _MOODLE_STATES.get(state, cls.INCOMPLETE)

    @property
    def done(self) -> bool:
        """Whether the state counts as "completed" for a ``completed`` rule.

        Moodle reports ``complete_fail`` with ``isoverallcomplete: false``
        (recorded in ``shared/moodle/webservices``), so it does not count.
        """
        return self in (CompletionState.COMPLETE, CompletionState.COMPLETE_PASS)


_MOODLE_STATES = {
    0: CompletionState.INCOMPLETE,
    1: CompletionState.COMPLETE,
    2: CompletionState.COMPLETE_PASS,
    3: CompletionState.COMPLETE_FAIL,
}


@dataclass(frozen=True, slots=True)
class GradeFact:
    """The learner's grade on one grade item (an AGS result or a Moodle grade).

    ``percent`` is ``(score - minimum) / (maximum - minimum) * 100``, as Moodle
    computes it; AGS results have ``minimum`` 0.  Several facts may name the
    same item (e.g. AGS and Moodle both report the LTI activity, or the history
    of attempts): the rule holds when any of them, inside the window, does.
    """

    item_id: str
    score: float
    maximum: float
    time: datetime | None = None
    label: str | None = None
    tag: str | None = None
    aliases: tuple[str, ...] = ()
    minimum: float = 0.0
    source: str = AGS
    time_basis: str = SOURCE_TIME


@dataclass(frozen=True, slots=True)
class ActivityCompletion:
    """An activity's completion state for the learner (Moodle connector)."""

    activity_id: str
    state: CompletionState
    time: datetime | None = None
    label: str | None = None
    tag: str | None = None
    aliases: tuple[str, ...] = ()
    source: str = MOODLE
    time_basis: str = SOURCE_TIME


@dataclass(frozen=True, slots=True)
class CourseCompletion:
    """The learner completed the course (present only when completed)."""

    time: datetime | None = None
    source: str = MOODLE
    time_basis: str = SOURCE_TIME


@dataclass(frozen=True, slots=True)
class Launch:
    """The learner opened an LTI resource link (one fact per launch, or the first)."""

    resource_link_id: str
    time: datetime | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class BadgeHeld:
    """A badge the learner holds: not revoked; ``expires`` is checked against ``now``."""

    badge_id: str
    time: datetime | None = None
    expires: datetime | None = None


@dataclass(frozen=True, slots=True)
class ManualAward:
    """A teacher's sign-off for a badge (what a ``manual`` rule waits for).

    ``badge_id`` says which badge was signed off; ``evaluate(..., badge_id=...)``
    counts only sign-offs for that badge (or with no badge id).
    """

    badge_id: str | None = None
    time: datetime | None = None
    awarded_by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything known about one learner in one course, at one sync."""

    grades: tuple[GradeFact, ...] = ()
    completions: tuple[ActivityCompletion, ...] = ()
    course_completion: CourseCompletion | None = None
    launches: tuple[Launch, ...] = ()
    badges: tuple[BadgeHeld, ...] = ()
    manual: tuple[ManualAward, ...] = ()
    sources_read: frozenset[str] = frozenset()
