"""Finding the facts a rule's ``ITEM`` names.

An ``ITEM`` is matched exactly (case and spaces count), by precedence:

1. ids: the fact's ``item_id`` / ``activity_id`` or one of its ``aliases``
   (an AGS line item URL, ``moodle:gradeitem:<id>``, ``moodle:cm:<cmid>``);
2. otherwise labels (line item label, Moodle item or activity name);
3. otherwise tags (AGS line item tag, Moodle idnumber).

The first level with a match wins; lower levels are not consulted.  Inside
that level every matching fact is a candidate, and a rule holds when any
candidate (inside the window) satisfies it.  This keeps evaluation monotone:
one more grade for the same item never undoes a badge.  When candidates name
*different* items (two line items labelled "Quiz", or a tag shared by
several items) the match is ambiguous: the engine still decides as above but
lists the item ids in the evidence under ``"ambiguous"`` so the criteria
builder can warn the teacher to use an id instead.  Facts that share an id or
alias count as one item, so an adapter that knows two sources report the same
item (AGS and the Moodle connector both see the LTI activity) links them with
an alias and no ambiguity is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import items

LEVELS = ("id", "label", "tag")


def _aliases(fact: object) -> tuple[Any, ...]:
    return items(getattr(fact, "aliases", ()))


def _matches(fact: object, item: str, level: str, id_attr: str) -> bool:
    if level == "id":
        return getattr(fact, id_attr, None) == item or item in _aliases(fact)
    return getattr(fact, level, None) == item


def _build_index(pool: tuple[Any, ...], id_attr: str) -> dict[str, dict[Any, list[Any]]]:
    """level -> key -> facts (in pool order), equivalent to scanning with ``_matches``."""
    index: dict[str, dict[Any, list[Any]]] = {level: {} for level in LEVELS}

    def put(level: str, key: Any, fact: object) -> None:
        try:
            bucket = index[level].setdefault(key, [])
        except TypeError:  # an unhashable value never equals a str ITEM
            return
        if not bucket or bucket[-1] is not fact:
            bucket.append(fact)

    for fact in pool:
        try:
            put("id", getattr(fact, id_attr, None), fact)
            for alias in _aliases(fact):
                put("id", alias, fact)
            put("label", getattr(fact, "label", None), fact)
            put("tag", getattr(fact, "tag", None), fact)
        except Exception:  # noqa: S112 - a malformed fact is skipped, never fatal
            continue
    return index


# Evaluating every badge of a course for one learner looks items up in the same facts
# again and again: index them once per facts tuple (tuples are immutable). Bounded.
_INDEX_CACHE: dict[tuple[int, str], tuple[tuple[Any, ...], dict[str, dict[Any, list[Any]]]]] = {}


def lookup(facts: Iterable[object], item: str, id_attr: str) -> tuple[list[Any], str | None]:
    """The candidate facts for ``item`` and the level that matched (``None``: no match)."""
    pool = facts if isinstance(facts, tuple) else items(facts)
    if not isinstance(pool, tuple):
        pool = items(pool)
    key = (id(pool), id_attr)
    cached = _INDEX_CACHE.get(key)
    if cached is None or cached[0] is not pool:
        if len(_INDEX_CACHE) > 256:
            _INDEX_CACHE.clear()
        cached = (pool, _build_index(pool, id_attr))
        _INDEX_CACHE[key] = cached
    index = cached[1]
    for level in LEVELS:
        try:
            found = index[level].get(item)
        except TypeError:
            found = None
        if found:
            return list(found), level
    return [], None


def distinct_ids(candidates: Iterable[object], id_attr: str) -> list[str]:
    """One id per distinct item among candidates (more than one means ambiguous).

    Facts sharing an id or an alias are the same item.
    """
    groups: list[tuple[str, set[str]]] = []
    for fact in candidates:
        ident = str(getattr(fact, id_attr, ""))
        names = {ident} | {str(a) for a in _aliases(fact)}
        joined = [g for g in groups if g[1] & names]
        if not joined:
            groups.append((ident, names))
            continue
        first = joined[0]
        for other in joined[1:]:
            first[1].update(other[1])
            groups.remove(other)
        first[1].update(names)
    return [ident for ident, _ in groups]
