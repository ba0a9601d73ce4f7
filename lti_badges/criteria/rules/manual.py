"""``{"manual": {}}``: a teacher signs the learner off.

Met only when a :class:`~lti_badges.criteria.facts.ManualAward` exists for
the badge being evaluated (inside the window, if any).  Combined with other
rules it expresses "meets the grades *and* the teacher agrees".
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
    iso,
    items,
    json_scalar,
    register,
    utc,
)
from ..checks import check_object
from ..facts import MANUAL
from ..windows import Window

TEXTS = {
    "en": {
        "ask": "Get a teacher’s approval",
        "met_on": "approved on {date}",
        "met": "approved",
        "outside_window": "approved, but outside these dates",
    },
    "fr": {
        "ask": "Obtenir la validation d’un enseignant",
        "met_on": "validé le {date}",
        "met": "validé",
        "outside_window": "validé, mais hors de ces dates",
    },
}


@register
@dataclass(frozen=True, kw_only=True)
class Manual(Rule):
    """A teacher's sign-off."""

    key: ClassVar[str] = "manual"
    title: ClassVar[str] = "A teacher signs the learner off for this badge"
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
        return frozenset({MANUAL})

    def evaluate(self, ctx: EvalContext) -> Result:
        def for_this_badge(fact: object) -> bool:
            signed = getattr(fact, "badge_id", None)
            return ctx.badge_id is None or signed is None or str(signed) == str(ctx.badge_id)

        mine = [f for f in items(ctx.facts.manual) if for_this_badge(f)]
        inside = [f for f in mine if ctx.window.contains(utc(getattr(f, "time", None)))]
        status = ctx.decide(bool(inside), self.own_sources())
        if inside:
            reason = "met"
        elif mine:
            reason = "outside_window"
        else:
            reason = "not_yet" if status == "unmet" else "not_read"
        shown = (inside or mine or [None])[0]
        return self.result(ctx, status, 0.0, {
            "reason": reason,
            "time": iso(utc(getattr(shown, "time", None))),
            "awarded_by": json_scalar(getattr(shown, "awarded_by", None)),
            "note": json_scalar(getattr(shown, "note", None)),
        })

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        return i18n.text(TEXTS, lang, "ask")

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        return i18n.simple_standing(result.evidence, lang, tz, TEXTS)
