"""Date windows: the optional ``from`` / ``until`` any rule may carry.

A bound is ISO 8601: a calendar date (``2025-09-01``, read as that UTC day)
or a date-time with an explicit offset (``2025-09-01T08:00:00+02:00``).  A
date-time without an offset is refused: a rule travels between courses and
servers, and "08:00 somewhere" would silently shift by hours.

``from`` is inclusive; ``until`` is inclusive too (a date-only ``until``
covers that whole day).  Internally a window is the half-open UTC interval
``[start, end)`` so that intersecting nested windows is a max and a min.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# Kept identical to "$defs/instant" in rule.schema.json (a test checks it).
INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$"
)
_INSTANT_RE = re.compile(INSTANT_PATTERN)
_DATE_ONLY_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def is_date_only(raw: str) -> bool:
    """Whether a bound names a whole day rather than an instant."""
    return bool(_DATE_ONLY_RE.match(raw))


def parse_bound(raw: object, *, end: bool) -> datetime:
    """Parse a ``from`` (``end=False``) or ``until`` (``end=True``) bound to UTC.

    Returns the inclusive start, or the exclusive end, of the interval.  Raises
    ``ValueError`` with a message fit for a validation error.
    """
    if not isinstance(raw, str) or not _INSTANT_RE.match(raw):
        raise ValueError(
            "must be an ISO 8601 date (2025-09-01) or date-time with offset "
            "(2025-09-01T08:00:00+02:00)"
        )
    try:
        if is_date_only(raw):
            day = date.fromisoformat(raw)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(raw).astimezone(UTC)
        # Inclusive "until" as an exclusive end: datetimes have microsecond resolution.
        return moment + timedelta(microseconds=1) if end else moment
    except (ValueError, OverflowError):
        raise ValueError("is not a real date or time (check the day, month and hour)")


def display_bound(raw: str) -> tuple[datetime, bool]:
    """The bound as written (its own offset kept) and whether it is date-only."""
    if is_date_only(raw):
        day = date.fromisoformat(raw)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    return datetime.fromisoformat(raw), False


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval ``[start, end)``; ``None`` means unbounded.

    ``from_raw`` / ``until_raw`` keep the rule's text for round trips and
    explanations.
    """

    from_raw: str | None = None
    until_raw: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def contains(self, moment: datetime | None) -> bool:
        """Whether a fact at ``moment`` counts; an unknown time counts only when unbounded."""
        if not self.bounded:
            return True
        if moment is None:
            return False
        if self.start is not None and moment < self.start:
            return False
        return not (self.end is not None and moment >= self.end)

    def intersect(self, inner: Window) -> Window:
        """The window in force inside a nested rule: both must hold."""
        start, from_raw = self.start, self.from_raw
        if inner.start is not None and (start is None or inner.start > start):
            start, from_raw = inner.start, inner.from_raw
        end, until_raw = self.end, self.until_raw
        if inner.end is not None and (end is None or inner.end < end):
            end, until_raw = inner.end, inner.until_raw
        return Window(from_raw, until_raw, start, end)

    def state(self, now: datetime | None) -> str | None:
        """``"not_open"`` / ``"open"`` / ``"closed"`` at ``now`` (``None`` if unbounded)."""
        if not self.bounded or now is None:
            return None
        if self.start is not None and now < self.start:
            return "not_open"
        if self.end is not None and now >= self.end:
            return "closed"
        return "open"

    def to_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.from_raw is not None:
            out["from"] = self.from_raw
        if self.until_raw is not None:
            out["until"] = self.until_raw
        return out


NO_WINDOW = Window()
