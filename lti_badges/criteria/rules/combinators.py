"""``all`` / ``any`` / ``at_least N of``: rules made of rules.

Logic is three-valued (Kleene): a combinator is "unknown" only when its
unknown children could still tip it either way.  Progress aggregates the
children's progress: ``all`` the mean, ``any`` the best, ``at_least N`` the
mean of the best N.  With ``math.fsum`` these agree exactly, so
``all == at_least len(of)`` and ``any == at_least 1`` hold to the last bit.
A combinator's ``from`` / ``until`` applies to every fact beneath it
(intersected with the children's own windows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar

from .. import i18n
from ..base import EvalContext, ParseContext, Path, Result, Rule, Status, register
from ..windows import Window

TEXTS = {
    "en": {
        "all": "All of the following",
        "any": "At least one of the following",
        "at_least": "At least {n} of the following",
        "count": "{done} of {total} done",
        "none": "none done yet",
        "met": "done",
        "unknown": "not all checked yet",
    },
    "fr": {
        "all": "Toutes les conditions suivantes",
        "any": "Au moins une des conditions suivantes",
        "at_least": "Au moins {n} des conditions suivantes",
        "count": "{done} sur {total} remplie{s}",
        "none": "aucune remplie pour l’instant",
        "met": "remplie{s}",
        "unknown": "pas encore toutes vérifiées",
    },
}


def _rules_schema() -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/rule"}}


def _parse_list(value: object, path: Path, ctx: ParseContext) -> list[Rule] | None:
    """A non-empty list of rules; every child is parsed to collect all errors."""
    if not isinstance(value, list):
        ctx.error(path, "must be a list of rules", "type")
        return None
    if not value:
        ctx.error(path, "must list at least one rule", "empty")
        return None
    parsed = [ctx.child(item, (*path, i)) for i, item in enumerate(value)]
    if any(p is None for p in parsed):
        return None
    return parsed  # type: ignore[return-value]


def _count(results: Sequence[Result], status: Status) -> int:
    return sum(1 for r in results if r.status == status)


def _best_mean(progress: Sequence[float], n: int) -> float:
    best = sorted(progress, reverse=True)[:n]
    return math.fsum(best) / n if best else 0.0


@dataclass(frozen=True, kw_only=True)
class Combinator(Rule):
    """Shared behaviour: children, evaluation, texts.  ``need()`` says how many must hold."""

    rules: tuple[Rule, ...]

    def need(self) -> int:
        raise NotImplementedError

    def children(self) -> tuple[Rule, ...]:
        return self.rules

    def evaluate(self, ctx: EvalContext) -> Result:
        results = tuple(ctx.child(rule) for rule in self.rules)
        need = max(1, min(self.need(), len(results))) if results else 1
        met = _count(results, "met")
        unknown = _count(results, "unknown")
        status: Status
        if met >= need:
            status = "met"
        elif met + unknown < need:
            status = "unmet"
        else:
            status = "unknown"
        progress = _best_mean([r.progress for r in results], need)
        evidence = {"need": need, "met": met, "unknown": unknown, "of": len(results)}
        return self.result(ctx, status, progress, evidence, results)

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        return i18n.text(TEXTS, lang, self.key, n=self.need())

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        done = _count(result.children, "met")
        plural = "s" if done > 1 else ""
        if result.status == "met":
            if self.key == "any":
                return i18n.text(TEXTS, lang, "met", s=plural)
        elif done == 0:
            return i18n.text(TEXTS, lang, "unknown" if result.status == "unknown" else "none")
        return i18n.text(TEXTS, lang, "count", done=done, total=len(result.children), s=plural)


@register
@dataclass(frozen=True, kw_only=True)
class All(Combinator):
    """Every rule holds."""

    key: ClassVar[str] = "all"
    title: ClassVar[str] = "Every listed rule holds"
    value_schema: ClassVar[dict[str, Any]] = _rules_schema()

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        rules = _parse_list(obj[cls.key], (*path, cls.key), ctx)
        return None if rules is None else cls(rules=tuple(rules), window=window)

    def need(self) -> int:
        return len(self.rules)

    def value_json(self) -> dict[str, Any]:
        return {self.key: [rule.to_json() for rule in self.rules]}


@register
@dataclass(frozen=True, kw_only=True)
class Any_(Combinator):
    """One rule holds."""

    key: ClassVar[str] = "any"
    title: ClassVar[str] = "At least one listed rule holds"
    value_schema: ClassVar[dict[str, Any]] = _rules_schema()

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        rules = _parse_list(obj[cls.key], (*path, cls.key), ctx)
        return None if rules is None else cls(rules=tuple(rules), window=window)

    def need(self) -> int:
        return 1

    def value_json(self) -> dict[str, Any]:
        return {self.key: [rule.to_json() for rule in self.rules]}


@register
@dataclass(frozen=True, kw_only=True)
class AtLeast(Combinator):
    """``{"at_least": N, "of": [...]}``: N of the rules hold."""

    key: ClassVar[str] = "at_least"
    extra_keys: ClassVar[tuple[str, ...]] = ("of",)
    title: ClassVar[str] = "At least N of the rules listed in \"of\" hold"
    value_schema: ClassVar[dict[str, Any]] = {"type": "integer", "minimum": 1}
    extra_schema: ClassVar[dict[str, dict[str, Any]]] = {"of": _rules_schema()}

    n: int

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        before = len(ctx.errors)
        n = obj[cls.key]
        if isinstance(n, float) and n.is_integer():  # JSON Schema counts 2.0 as an integer
            n = int(n)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            ctx.error((*path, cls.key), "must be a whole number of at least 1", "range")
            n = None
        if "of" not in obj:
            ctx.error((*path, "of"), "is required: the list of rules to count", "required")
            return None
        rules = _parse_list(obj["of"], (*path, "of"), ctx)
        if n is not None and rules is not None and n > len(rules):
            ctx.error((*path, cls.key),
                      f"asks for {n} rules but \"of\" lists only {len(rules)}", "range")
        if rules is None or n is None or len(ctx.errors) > before:
            return None
        return cls(n=n, rules=tuple(rules), window=window)

    def need(self) -> int:
        return self.n

    def value_json(self) -> dict[str, Any]:
        return {self.key: self.n, "of": [rule.to_json() for rule in self.rules]}
