"""Which badges a rule needs first, and the order and tiers that follow (pure).

A prerequisite is a ``{"badge": ID}`` rule anywhere in a rule's tree (``Rule.walk`` over
the parsed rule objects, so only what the rule language means by it counts). The sync
evaluates prerequisites first (``prerequisite_order``) so a badge earned in a run counts for
the next one; the studio and learner pages draw pathways in tiers (``tiers``). Cycles are
tolerated (the designer sees them; nothing recurses forever).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .base import RuleError
from .engine import parse
from .rules.badge import Badge


def badge_refs(rule_json: Any) -> list[str]:
    """Badge ids ``rule_json`` names as prerequisites, in order, once each. A rule that does
    not parse names none (it is never evaluated either)."""
    if rule_json is None:
        return []
    try:
        rule = parse(rule_json)
    except RuleError:
        return []
    found = [str(node.badge) for node in rule.walk() if isinstance(node, Badge)]
    return list(dict.fromkeys(found))


def prerequisite_order(rules: Mapping[str, Any], order: Iterable[str]) -> list[str]:
    """The ids of ``rules`` (id → rule JSON) with every prerequisite before the badges that
    need it; otherwise in ``order``."""
    refs = {pid: [d for d in badge_refs(rule) if d in rules] for pid, rule in rules.items()}
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(pid: str, stack: frozenset[str]) -> None:
        if pid in seen or pid in stack:
            return
        for dep in sorted(refs[pid]):
            visit(dep, stack | {pid})
        seen.add(pid)
        ordered.append(pid)

    for pid in order:
        if pid in rules:
            visit(pid, frozenset())
    return ordered


def tiers(refs: Mapping[str, list[str]]) -> dict[str, int]:
    """Tier (0-based) of each id of ``refs`` (id → ids it needs): 0 needs no badge of these,
    n needs one of tier n-1. In a cycle the repeated badge counts as tier 0."""
    level: dict[str, int] = {}

    def depth(pid: str, stack: frozenset[str]) -> int:
        if pid in level:
            return level[pid]
        if pid in stack:
            return 0
        deps = [d for d in refs[pid] if d in refs]
        value = 1 + max((depth(d, stack | {pid}) for d in deps), default=-1)
        level[pid] = value
        return value

    for pid in refs:
        depth(pid, frozenset())
    return level
