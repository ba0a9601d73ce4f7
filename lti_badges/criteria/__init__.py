"""Criteria rules: a registry of rule types; validation, evaluation and explanation as pure code.

The rule language is the JSON of DESIGN.md's "Rule contract", documented by
``rule.schema.json``.  Typical use by the service layer::

    rule = parse(badge.rule_json)            # RuleError lists every problem
    result = evaluate(rule, facts, now)      # never raises on any facts
    if result.met: award(evidence=result.to_json())
    text = explain(rule, result, lang="fr", names=display_names)

Nothing here imports Flask, SQLAlchemy or the adapters: facts come in as the
frozen dataclasses of :mod:`lti_badges.criteria.facts`.
"""

from .base import MAX_DEPTH, RULE_TYPES, Error, Result, Rule, RuleError, Status, register
from .engine import (
    ExplainLine,
    describe,
    evaluate,
    explain,
    explain_lines,
    needs_sources,
    parse,
    to_json,
    validate,
)
from .facts import (
    SOURCES,
    ActivityCompletion,
    BadgeHeld,
    CompletionState,
    CourseCompletion,
    Facts,
    GradeFact,
    Launch,
    ManualAward,
)
from .schema import build_schema, load_schema

__all__ = [
    "MAX_DEPTH",
    "RULE_TYPES",
    "SOURCES",
    "ActivityCompletion",
    "BadgeHeld",
    "CompletionState",
    "CourseCompletion",
    "Error",
    "ExplainLine",
    "Facts",
    "GradeFact",
    "Launch",
    "ManualAward",
    "Result",
    "Rule",
    "RuleError",
    "Status",
    "build_schema",
    "describe",
    "evaluate",
    "explain",
    "explain_lines",
    "load_schema",
    "needs_sources",
    "parse",
    "register",
    "to_json",
    "validate",
]
