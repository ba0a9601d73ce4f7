"""Fact sources: adapters that read a course's criteria facts, all behind one interface.

- :mod:`lti_badges.sources.base`: ``FactSource`` (``read(progress) -> CourseFacts``),
  ``CourseFacts``, ``Member``, ``ItemSeen``, ``SourceError``;
- :mod:`lti_badges.sources.lti`: ``LtiSource`` (NRPS roster, AGS line items and results);
- :mod:`lti_badges.sources.moodle`: ``MoodleClient`` (Moodle Web Services; setup in
  ``MOODLE_SETUP.md``).

No database and no Flask here: adapters take URLs, tokens and a ``NetPolicy``.
"""

from lti_badges.sources.base import (
    CourseFacts,
    FactSource,
    ItemSeen,
    Member,
    ProgressCallback,
    SourceError,
)
from lti_badges.sources.http import Retry

__all__ = [
    "CourseFacts",
    "FactSource",
    "ItemSeen",
    "Member",
    "ProgressCallback",
    "Retry",
    "SourceError",
]
