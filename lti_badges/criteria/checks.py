"""Validation helpers shared by rule types: objects, items, numbers.

Each helper reports to the :class:`~lti_badges.criteria.base.ParseContext`
and returns the checked value, or ``None`` when it is invalid, so a rule type
can report every problem of its JSON in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import ParseContext, Path, finite

MAX_NAME_LENGTH = 2000  # line item URLs are long; anything longer is a mistake
MOODLE_ITEM_PATTERN = r"^moodle:(cm|gradeitem):[0-9]+$"
MOODLE_ACTIVITY_PATTERN = r"^moodle:cm:[0-9]+$"
_MOODLE_ITEM = re.compile(MOODLE_ITEM_PATTERN)
_MOODLE_ACTIVITY = re.compile(MOODLE_ACTIVITY_PATTERN)


def check_object(
    value: object,
    path: Path,
    ctx: ParseContext,
    allowed: tuple[str, ...],
    required: tuple[str, ...] = (),
) -> Mapping[str, Any] | None:
    """A JSON object with only ``allowed`` keys and all ``required`` ones.

    Returns the object whenever it is one (errors about its keys are reported
    and the caller goes on checking the rest), ``None`` otherwise.
    """
    if not isinstance(value, Mapping):
        want = "an empty object {}" if not allowed else "an object"
        ctx.error(path, f"must be {want}", "type")
        return None
    for key in value:
        if key not in allowed:
            hint = f" (expected {', '.join(allowed)})" if allowed else " (expected no keys)"
            ctx.error((*path, str(key)), f"unknown key{hint}", "unknown_key")
    for key in required:
        if key not in value:
            ctx.error((*path, key), "is required", "required")
    return value


def check_name(value: object, path: Path, ctx: ParseContext, what: str) -> str | None:
    """A non-empty string of reasonable length (an id, label or tag)."""
    if not isinstance(value, str) or not value.strip():
        ctx.error(path, f"must be a non-empty string naming {what}", "type")
        return None
    if len(value) > MAX_NAME_LENGTH:
        ctx.error(path, f"is longer than {MAX_NAME_LENGTH} characters", "too_long")
        return None
    return value


def check_item(value: object, path: Path, ctx: ParseContext, *, activity: bool) -> str | None:
    """An ITEM: an id, label or tag, or a well-formed ``moodle:`` reference."""
    what = "an activity" if activity else "a grade item"
    name = check_name(value, path, ctx, what)
    if name is None or not name.startswith("moodle:"):
        return name
    if activity and not _MOODLE_ACTIVITY.match(name):
        ctx.error(path, "a Moodle activity is written moodle:cm:<cmid>", "moodle_ref")
        return None
    if not activity and not _MOODLE_ITEM.match(name):
        ctx.error(
            path, "a Moodle grade item is written moodle:cm:<cmid> or moodle:gradeitem:<id>",
            "moodle_ref",
        )
        return None
    return name


def check_number(
    value: object, path: Path, ctx: ParseContext, low: float, high: float | None
) -> float | int | None:
    """A finite JSON number in ``[low, high]`` (``high=None``: no upper bound)."""
    number = finite(value)  # refuses booleans, NaN and infinities as well
    if number is None or number < low or (high is not None and number > high):
        if high is None:
            ctx.error(path, f"must be a number of at least {low:g}", "range")
        else:
            ctx.error(path, f"must be a number between {low:g} and {high:g}", "range")
        return None
    return value  # type: ignore[return-value]  # kept as written (80 stays 80)
