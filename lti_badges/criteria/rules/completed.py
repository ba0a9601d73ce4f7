"""``{"completed": {"activity": ITEM}}``: the learner completed an activity.

Read from the Moodle connector (no LTI service reports completion).  Counts
Moodle's "complete" and "complete, passed" states, not "complete, failed"
(which Moodle itself does not treat as overall complete).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar

from .. import i18n
from ..base import EvalContext, ParseContext, Path, Result, Rule, iso, json_scalar, register, utc
from ..checks import check_item, check_object
from ..facts import MOODLE, CompletionState
from ..matching import distinct_ids, lookup
from ..windows import Window

TEXTS = {
    "en": {"ask": "Complete {name}", "failed": "finished, but not passed"},
    "fr": {"ask": "Terminer {name}", "failed": "terminé, mais sans réussite"},
}


def _done(fact: object) -> bool:
    state = getattr(fact, "state", None)
    if isinstance(state, int) and not isinstance(state, bool):  # a raw Moodle state
        state = CompletionState.from_moodle(state)
    try:
        return CompletionState(state).done
    except ValueError:
        return False


@register
@dataclass(frozen=True, kw_only=True)
class Completed(Rule):
    """An activity's completion."""

    key: ClassVar[str] = "completed"
    title: ClassVar[str] = "The learner completed the activity ITEM (Moodle connector)"
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"activity": {"$ref": "#/$defs/activity"}},
        "required": ["activity"],
        "additionalProperties": False,
    }

    activity: str

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        before = len(ctx.errors)
        here = (*path, cls.key)
        body = check_object(obj[cls.key], here, ctx, ("activity",), ("activity",))
        if body is None or "activity" not in body:
            return None
        activity = check_item(body["activity"], (*here, "activity"), ctx, activity=True)
        if activity is None or len(ctx.errors) > before:
            return None
        return cls(activity=activity, window=window)

    def value_json(self) -> dict[str, Any]:
        return {self.key: {"activity": self.activity}}

    def own_sources(self) -> frozenset[str]:
        return frozenset({MOODLE})

    def evaluate(self, ctx: EvalContext) -> Result:
        candidates, level = lookup(ctx.facts.completions, self.activity, "activity_id")
        done = [f for f in candidates if _done(f)]
        inside = [f for f in done if ctx.window.contains(utc(getattr(f, "time", None)))]
        status = ctx.decide(bool(inside), self.own_sources())
        if inside:
            reason, shown = "met", inside[0]
        elif done:
            reason, shown = "outside_window", done[0]
        elif any(getattr(f, "state", None) in (CompletionState.COMPLETE_FAIL, 3)
                 for f in candidates):
            reason, shown = "failed", None
        else:
            reason, shown = ("not_yet" if status == "unmet" else "not_read"), None
        evidence: dict[str, Any] = {
            "activity": self.activity,
            "matched_by": level,
            "reason": reason,
            "activity_id": json_scalar(getattr(shown, "activity_id", None)),
            "label": json_scalar(getattr(shown, "label", None)),
            "state": json_scalar(getattr(shown, "state", None)),
            "time": iso(utc(getattr(shown, "time", None))),
            "time_basis": json_scalar(getattr(shown, "time_basis", None)),
        }
        ids = distinct_ids(candidates, "activity_id")
        if len(ids) > 1:
            evidence["ambiguous"] = ids
        return self.result(ctx, status, 0.0, evidence)

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        label = result.evidence.get("label") if result is not None else None
        name = i18n.name_of(self.activity, names, label if isinstance(label, str) else None)
        return i18n.text(TEXTS, lang, "ask", name=name)

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        return i18n.simple_standing(result.evidence, lang, tz, TEXTS)
