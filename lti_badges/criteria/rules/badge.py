"""``{"badge": BADGE_ID}``: a prerequisite badge the learner holds.

Held means awarded, not revoked (the adapter leaves revoked awards out) and
not expired at ``now``; the window applies to when it was awarded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar

from .. import i18n
from ..base import EvalContext, ParseContext, Path, Result, Rule, iso, items, register, utc
from ..checks import MAX_NAME_LENGTH
from ..facts import BADGES
from ..windows import Window

TEXTS = {
    "en": {
        "ask": "Earn the badge {name}",
        "met_on": "earned on {date}",
        "met": "earned",
        "expired": "expired",
        "outside_window": "earned, but outside these dates",
    },
    "fr": {
        "ask": "Obtenir le badge {name}",
        "met_on": "obtenu le {date}",
        "met": "obtenu",
        "expired": "expiré",
        "outside_window": "obtenu, mais hors de ces dates",
    },
}


@register
@dataclass(frozen=True, kw_only=True)
class Badge(Rule):
    """A prerequisite badge."""

    key: ClassVar[str] = "badge"
    title: ClassVar[str] = "The learner holds the badge BADGE_ID (not expired)"
    value_schema: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {"$ref": "#/$defs/name"},
            {"type": "integer", "minimum": 0},
        ],
    }

    badge: str | int  # kept as written, so the rule round-trips; compared as text

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        value = obj[cls.key]
        here = (*path, cls.key)
        if isinstance(value, float) and value.is_integer():  # JSON Schema: 7.0 is an integer
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return cls(badge=value, window=window)
        if isinstance(value, str) and value.strip() and len(value) <= MAX_NAME_LENGTH:
            return cls(badge=value, window=window)
        ctx.error(here, "must be a badge id (a non-empty string or a whole number)", "type")
        return None

    def value_json(self) -> dict[str, Any]:
        return {self.key: self.badge}

    def own_sources(self) -> frozenset[str]:
        return frozenset({BADGES})

    def evaluate(self, ctx: EvalContext) -> Result:
        wanted = str(self.badge)
        mine = [f for f in items(ctx.facts.badges) if str(getattr(f, "badge_id", None)) == wanted]
        now = utc(ctx.now)

        def valid(fact: object) -> bool:
            expires = utc(getattr(fact, "expires", None))
            return expires is None or now is None or expires > now

        current = [f for f in mine if valid(f)]
        inside = [f for f in current if ctx.window.contains(utc(getattr(f, "time", None)))]
        status = ctx.decide(bool(inside), self.own_sources())
        if inside:
            reason, shown = "met", inside[0]
        elif current:
            reason, shown = "outside_window", current[0]
        elif mine:
            reason, shown = "expired", mine[0]
        else:
            reason, shown = ("not_yet" if status == "unmet" else "not_read"), None
        return self.result(ctx, status, 0.0, {
            "badge": self.badge,
            "reason": reason,
            "time": iso(utc(getattr(shown, "time", None))),
            "expires": iso(utc(getattr(shown, "expires", None))),
        })

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        return i18n.text(TEXTS, lang, "ask", name=i18n.name_of(self.badge, names))

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        return i18n.simple_standing(result.evidence, lang, tz, TEXTS)
