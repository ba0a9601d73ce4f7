"""``{"grade": {"item": ITEM, "min_percent": 80}}`` (or ``"min_points": 8``).

Met when some grade fact for ITEM, dated inside the window, reaches the
threshold.  ``min_percent`` compares ``(score - minimum) / (maximum - minimum)``
as Moodle's gradebook does; ``min_points`` compares the raw score.  Progress
is the best grade's share of the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar

from .. import i18n
from ..base import (
    EvalContext,
    ParseContext,
    Path,
    Result,
    Rule,
    finite,
    iso,
    json_scalar,
    register,
    utc,
)
from ..checks import check_item, check_number, check_object
from ..facts import AGS, MOODLE
from ..matching import distinct_ids, lookup
from ..windows import Window

# A grade computed as 79.99999999999999 % must still meet "80 %".
EPSILON = 1e-9

TEXTS = {
    "en": {
        "ask": "Score at least {threshold} in {name}",
        "met": "done, you have {value}",
        "below": "you have {value}",
        "outside_window": "your grade of {value} was given outside these dates",
        "outside_seen": "your grade of {value} was first seen by the tool on {date}, outside "
                        "these dates",
        "seen": " (first seen by the tool on {date})",
        "no_grade": "no grade yet",
        "not_read": "not checked yet",
    },
    "fr": {
        "ask": "Obtenir au moins {threshold} à {name}",
        "met": "fait, vous avez {value}",
        "below": "vous avez {value}",
        "outside_window": "votre note de {value} a été obtenue hors de ces dates",
        "outside_seen": "votre note de {value} a été vue pour la première fois par l’outil le "
                        "{date}, hors de ces dates",
        "seen": " (note vue pour la première fois par l’outil le {date})",
        "no_grade": "pas encore de note",
        "not_read": "pas encore vérifié",
    },
}


@register
@dataclass(frozen=True, kw_only=True)
class Grade(Rule):
    """A minimum grade on one item."""

    key: ClassVar[str] = "grade"
    title: ClassVar[str] = "A grade of at least min_percent % or min_points points on ITEM"
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "item": {"$ref": "#/$defs/item"},
            "min_percent": {"type": "number", "minimum": 0, "maximum": 100},
            "min_points": {"type": "number", "minimum": 0},
        },
        "required": ["item"],
        "oneOf": [{"required": ["min_percent"]}, {"required": ["min_points"]}],
        "additionalProperties": False,
    }

    item: str
    min_percent: float | None = None
    min_points: float | None = None

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        before = len(ctx.errors)
        here = (*path, cls.key)
        body = check_object(obj[cls.key], here, ctx, ("item", "min_percent", "min_points"),
                            ("item",))
        if body is None:
            return None
        item = check_item(body["item"], (*here, "item"), ctx, activity=False) if (
            "item" in body) else None
        percent = points = None
        if "min_percent" in body and "min_points" in body:
            ctx.error(here, "give min_percent or min_points, not both", "exclusive")
        elif "min_percent" in body:
            percent = check_number(body["min_percent"], (*here, "min_percent"), ctx, 0, 100)
        elif "min_points" in body:
            points = check_number(body["min_points"], (*here, "min_points"), ctx, 0, None)
        else:
            ctx.error(here, "needs min_percent or min_points", "required")
        if len(ctx.errors) > before or item is None:
            return None
        return cls(item=item, min_percent=percent, min_points=points, window=window)

    def value_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"item": self.item}
        if self.min_percent is not None:
            body["min_percent"] = self.min_percent
        else:
            body["min_points"] = self.min_points
        return {self.key: body}

    def own_sources(self) -> frozenset[str]:
        # Moodle references can only come from the connector; anything else is
        # first of all a line item the tool sees through AGS.
        return frozenset({MOODLE if self.item.startswith("moodle:") else AGS})

    @property
    def by_percent(self) -> bool:
        return self.min_percent is not None

    @property
    def threshold(self) -> float:
        value = self.min_percent if self.by_percent else self.min_points
        return float(value or 0)

    def _value(self, fact: object) -> float | None:
        """The fact's percentage or points, or ``None`` when it cannot be used."""
        score = finite(getattr(fact, "score", None))
        if score is None:
            return None
        if not self.by_percent:
            return score
        maximum = finite(getattr(fact, "maximum", None))
        minimum = finite(getattr(fact, "minimum", 0.0)) or 0.0
        if maximum is None or maximum - minimum <= 0:
            return None
        return finite((score - minimum) / (maximum - minimum) * 100)

    def evaluate(self, ctx: EvalContext) -> Result:
        candidates, level = lookup(ctx.facts.grades, self.item, "item_id")
        best = best_outside = None
        best_value = outside_value = None
        for fact in candidates:
            value = self._value(fact)
            if value is None:
                continue
            if ctx.window.contains(utc(getattr(fact, "time", None))):
                if best_value is None or value > best_value:
                    best, best_value = fact, value
            elif outside_value is None or value > outside_value:
                best_outside, outside_value = fact, value
        threshold = self.threshold
        satisfied = best_value is not None and best_value >= threshold - EPSILON
        status = ctx.decide(satisfied, self.own_sources())
        if best_value is None or threshold <= 0:
            progress = 1.0 if satisfied else 0.0
        else:
            progress = max(0.0, best_value) / threshold
        if satisfied:
            reason = "met"
        elif best is not None:
            reason = "below"
        elif best_outside is not None:
            reason = "outside_window"
        else:
            reason = "no_grade" if status == "unmet" else "not_read"
        shown = best if best is not None else best_outside
        evidence: dict[str, Any] = {
            **self.value_json()[self.key],
            "matched_by": level,
            "candidates": len(candidates),
            "reason": reason,
            "grade": self._grade_evidence(shown) if shown is not None else None,
        }
        ids = distinct_ids(candidates, "item_id")
        if len(ids) > 1:
            evidence["ambiguous"] = ids
        return self.result(ctx, status, progress, evidence)

    def _grade_evidence(self, fact: object) -> dict[str, Any]:
        score = finite(getattr(fact, "score", None))
        maximum = finite(getattr(fact, "maximum", None))
        minimum = finite(getattr(fact, "minimum", 0.0)) or 0.0
        percent = None
        if score is not None and maximum is not None and maximum - minimum > 0:
            percent = finite((score - minimum) / (maximum - minimum) * 100)
        return {
            "item_id": json_scalar(getattr(fact, "item_id", None)),
            "label": json_scalar(getattr(fact, "label", None)),
            "score": score,
            "maximum": maximum,
            "minimum": minimum,
            "percent": percent,
            "time": iso(utc(getattr(fact, "time", None))),
            "time_basis": json_scalar(getattr(fact, "time_basis", None)),
            "source": json_scalar(getattr(fact, "source", None)),
        }

    def _show(self, value: float, lang: str) -> str:
        return i18n.percent(value, lang) if self.by_percent else i18n.points(value, lang)

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        label = None
        if result is not None and isinstance(result.evidence.get("grade"), dict):
            label = result.evidence["grade"].get("label") or None
        name = i18n.name_of(self.item, names, label if isinstance(label, str) else None)
        return i18n.text(TEXTS, lang, "ask", threshold=self._show(self.threshold, lang),
                         name=name)

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        reason = str(result.evidence.get("reason", "not_read"))
        grade = result.evidence.get("grade") or {}
        value = grade.get("percent" if self.by_percent else "score")
        if reason in ("met", "below", "outside_window") and isinstance(value, int | float):
            shown = self._show(value, lang)
            # The source gave no date: say when the tool first saw the grade, never "given".
            when = i18n.parse_time(grade.get("time")) if i18n.first_seen(grade) else None
            if when is not None and reason == "outside_window":
                return i18n.text(TEXTS, lang, "outside_seen", value=shown,
                                 date=i18n.day(when, lang, tz))
            text = i18n.text(TEXTS, lang, reason, value=shown)
            if when is not None and reason == "met" and "window" in result.evidence:
                text += i18n.text(TEXTS, lang, "seen", date=i18n.day(when, lang, tz))
            return text
        key = reason if reason in ("no_grade", "not_read") else "not_read"
        return i18n.text(TEXTS, lang, key)
