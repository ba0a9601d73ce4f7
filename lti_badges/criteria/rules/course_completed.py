"""``{"course_completed": {}}``: Moodle marked the course complete for the learner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar

from .. import i18n
from ..base import EvalContext, ParseContext, Path, Result, Rule, iso, json_scalar, register, utc
from ..checks import check_object
from ..facts import MOODLE
from ..windows import Window

TEXTS = {"en": {"ask": "Complete the course"}, "fr": {"ask": "Terminer le cours"}}


@register
@dataclass(frozen=True, kw_only=True)
class CourseCompleted(Rule):
    """Course completion."""

    key: ClassVar[str] = "course_completed"
    title: ClassVar[str] = "The learner completed the course (Moodle connector)"
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "object", "maxProperties": 0, "additionalProperties": False,
    }

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        before = len(ctx.errors)
        check_object(obj[cls.key], (*path, cls.key), ctx, ())
        return None if len(ctx.errors) > before else cls(window=window)

    def value_json(self) -> dict[str, Any]:
        return {self.key: {}}

    def own_sources(self) -> frozenset[str]:
        return frozenset({MOODLE})

    def evaluate(self, ctx: EvalContext) -> Result:
        fact = ctx.facts.course_completion
        when = utc(getattr(fact, "time", None))
        inside = fact is not None and ctx.window.contains(when)
        status = ctx.decide(inside, self.own_sources())
        if inside:
            reason = "met"
        elif fact is not None:
            reason = "outside_window"
        else:
            reason = "not_yet" if status == "unmet" else "not_read"
        return self.result(ctx, status, 0.0, {
            "reason": reason, "time": iso(when),
            "time_basis": json_scalar(getattr(fact, "time_basis", None))})

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        return i18n.text(TEXTS, lang, "ask")

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        return i18n.simple_standing(result.evidence, lang, tz)
