"""The public operations on rules: parse, validate, evaluate, explain, describe.

All pure: no I/O, no clock (``now`` is an argument), no global state besides
the registry of rule types filled at import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from . import i18n, rules  # noqa: F401  (importing rules registers every type)
from .base import (
    MAX_DEPTH,
    RULE_TYPES,
    Error,
    EvalContext,
    ParseContext,
    Path,
    Result,
    Rule,
    RuleError,
    Status,
    items,
    render_path,
    utc,
)
from .facts import Facts
from .windows import NO_WINDOW, Window, parse_bound

WINDOW_KEYS = ("from", "until")

RuleJSON = Mapping[str, Any] | str | bytes


# -- parsing and validation --------------------------------------------------


def _parse_window(obj: Mapping[str, Any], path: Path, errors: list[Error]) -> Window | None:
    start = end = None
    ok = True
    for key in WINDOW_KEYS:
        if key not in obj:
            continue
        try:
            bound = parse_bound(obj[key], end=(key == "until"))
        except ValueError as exc:
            errors.append(Error(render_path((*path, key)), str(exc), "date"))
            ok = False
            continue
        if key == "from":
            start = bound
        else:
            end = bound
    if not ok:
        return None
    if start is not None and end is not None and start >= end:
        errors.append(Error(render_path((*path, "until")), "is before from", "window_order"))
        return None
    return Window(obj.get("from"), obj.get("until"), start, end)


def _parse_rule(value: object, path: Path, depth: int, errors: list[Error]) -> Rule | None:
    here = render_path(path)
    if depth > MAX_DEPTH:
        errors.append(Error(here, f"rules nest too deeply (at most {MAX_DEPTH} levels)", "depth"))
        return None
    if not isinstance(value, Mapping):
        errors.append(Error(here, 'must be a rule object, e.g. {"grade": {...}}', "type"))
        return None
    types = [key for key in value if key in RULE_TYPES]
    known = ", ".join(sorted(RULE_TYPES))
    if not types:
        others = [key for key in value if key not in WINDOW_KEYS]
        for key in others or [None]:
            where = render_path((*path, str(key))) if key is not None else here
            what = "unknown rule type" if key is not None else "has no rule type"
            errors.append(Error(where, f"{what} (expected one of: {known})", "unknown_type"))
        return None
    if len(types) > 1:
        errors.append(Error(here, f"has several rule types ({', '.join(types)}); "
                                  "put each in its own object", "several_types"))
        return None
    cls = RULE_TYPES[types[0]]
    allowed = (cls.key, *cls.extra_keys, *WINDOW_KEYS)
    before = len(errors)
    for key in value:
        if key not in allowed:
            errors.append(Error(render_path((*path, str(key))),
                                f"unknown key for a {cls.key} rule", "unknown_key"))
    window = _parse_window(value, path, errors)
    rule = cls.parse(value, path, ParseContext(errors, depth, _parse_rule), window or NO_WINDOW)
    return rule if len(errors) == before else None


def _load(rule_json: object) -> tuple[object, list[Error]]:
    """Decode JSON text (str or bytes); pass Python objects through."""
    if not isinstance(rule_json, str | bytes | bytearray):
        return rule_json, []

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"duplicate key {key!r}")
            out[key] = value
        return out

    try:
        return json.loads(rule_json, object_pairs_hook=no_duplicates), []
    except RecursionError:
        return None, [Error("", f"rules nest too deeply (at most {MAX_DEPTH} levels)", "depth")]
    except ValueError as exc:  # JSONDecodeError and duplicate keys; also bad UTF-8
        return None, [Error("", f"is not valid JSON: {exc}", "json")]


def validate(rule_json: RuleJSON | Rule) -> list[Error]:
    """Every problem in a rule (JSON text or decoded JSON); ``[]`` when valid."""
    if isinstance(rule_json, Rule):
        return []
    value, errors = _load(rule_json)
    if errors:
        return errors
    _parse_rule(value, (), 1, errors)
    return errors


def parse(rule_json: RuleJSON | Rule) -> Rule:
    """The rule as objects; raises :class:`RuleError` (a ``ValueError``) listing all errors."""
    if isinstance(rule_json, Rule):
        return rule_json
    value, errors = _load(rule_json)
    rule = None if errors else _parse_rule(value, (), 1, errors)
    if rule is None or errors:
        raise RuleError(errors)
    return rule


def to_json(rule: Rule) -> dict[str, Any]:
    """The rule as JSON-ready data; ``parse(to_json(r)) == r``."""
    return rule.to_json()


def needs_sources(rule: RuleJSON | Rule) -> frozenset[str]:
    """The fact sources a rule reads ("ags", "moodle", "launches", "manual", "badges")."""
    return parse(rule).needs_sources()


# -- evaluation ----------------------------------------------------------------


def _normalise(facts: object) -> Facts:
    """A well-formed Facts from whatever came in (lists become tuples; junk becomes empty)."""
    sources = frozenset(s for s in items(getattr(facts, "sources_read", ())) if isinstance(s, str))
    return Facts(
        grades=items(getattr(facts, "grades", ())),
        completions=items(getattr(facts, "completions", ())),
        course_completion=getattr(facts, "course_completion", None),
        launches=items(getattr(facts, "launches", ())),
        badges=items(getattr(facts, "badges", ())),
        manual=items(getattr(facts, "manual", ())),
        sources_read=sources,
    )


def _run(rule: Rule, parent: EvalContext) -> Result:
    try:
        return rule.evaluate(replace(parent, window=parent.window.intersect(rule.window)))
    except Exception as exc:
        # Evaluation must never raise on any facts: an unexpected shape makes
        # this one rule "unknown" (never met) instead of blocking a whole sync.
        key = str(getattr(rule, "key", "?"))
        try:
            sources = rule.needs_sources()
        except Exception:
            sources = frozenset()
        return Result(key, "unknown", 0.0,
                      {"rule": key, "reason": "error", "error": type(exc).__name__}, sources)


def evaluate(
    rule: RuleJSON | Rule,
    facts: Facts,
    now: datetime | None,
    *,
    badge_id: str | int | None = None,
) -> Result:
    """Evaluate a rule for one learner at ``now``.  Never raises on any facts.

    ``now`` decides whether a prerequisite badge has expired and whether a
    window is still open (reported in the evidence); it does not filter facts
    by their own time, so a few seconds of clock skew between the LMS and the
    tool cannot hide a fresh grade.  ``badge_id`` restricts ``manual`` rules
    to sign-offs for that badge.  Only a rule that is not valid raises
    (:class:`RuleError`), when given as JSON.
    """
    parsed = parse(rule)
    known = _normalise(facts)
    ctx = EvalContext(
        facts=known,
        now=utc(now),
        window=NO_WINDOW,
        sources_read=known.sources_read,
        badge_id=None if badge_id is None else str(badge_id),
        run=_run,
    )
    return _run(parsed, ctx)


# -- texts ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainLine:
    """One rule's line: its depth in the tree (0 = the whole rule), its text (what it asks,
    its window and, with a result, the learner's standing) and its status (None: no result)."""

    depth: int
    text: str
    status: Status | None


def _lines(
    rule: Rule,
    result: Result | None,
    lang: str,
    names: Mapping[str, str] | None,
    tz: tzinfo | None,
    depth: int,
    out: list[ExplainLine],
) -> None:
    try:
        head = rule.describe(lang, names, result) + i18n.window_phrase(rule.window, lang)
    except Exception:  # a display name of an odd type must not break a page
        head = rule.describe(lang, None)
    line = head
    if result is not None:
        try:
            if result.evidence.get("reason") == "error":
                standing = i18n.STANDING[lang]["error"]
            else:
                standing = rule.standing(result, lang, names, tz)
        except Exception:
            standing = i18n.STANDING[lang]["error"]
        line = f"{head} — {standing}"
    if rule.children():
        line += i18n.colon(lang)
    out.append(ExplainLine(depth, line, result.status if result is not None else None))
    kids = result.children if result is not None else ()
    for i, child in enumerate(rule.children()):
        _lines(child, kids[i] if i < len(kids) else None, lang, names, tz, depth + 1, out)


def explain_lines(
    rule: RuleJSON | Rule,
    result: Result | None,
    lang: str = "en",
    names: Mapping[str, str] | None = None,
    *,
    tz: tzinfo | None = None,
) -> list[ExplainLine]:
    """``explain`` (with a result) or ``describe`` (without) as lines, one per rule in
    pre-order, for pages that draw the tree themselves."""
    out: list[ExplainLine] = []
    _lines(parse(rule), result, i18n.lang_of(lang), names, tz, 0, out)
    return out


def _bullets(lines: list[ExplainLine]) -> str:
    return "\n".join(("  " * (ln.depth - 1) + "- " if ln.depth else "") + ln.text
                     for ln in lines)


def explain(
    rule: RuleJSON | Rule,
    result: Result,
    lang: str = "en",
    names: Mapping[str, str] | None = None,
    *,
    tz: tzinfo | None = None,
) -> str:
    """The learner's standing, one line per rule, nested rules as indented bullets.

    ``"Score at least 80% in Quiz 2 — you have 72%"`` /
    ``"Obtenir au moins 80 % à Quiz 2 — vous avez 72 %"``.  ``names`` maps item,
    resource link and badge ids to display names; ``tz`` is the zone for the
    dates of facts (UTC by default; window bounds show as written).
    """
    return _bullets(explain_lines(rule, result, lang, names, tz=tz))


def describe(rule: RuleJSON | Rule, lang: str = "en",
             names: Mapping[str, str] | None = None) -> str:
    """What the rule asks, for teachers and badge pages (no learner standing)."""
    return _bullets(explain_lines(rule, None, lang, names))
