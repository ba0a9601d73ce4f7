"""``{"launched": {"resource_link": ID}}``: the learner opened that LTI link.

The id is the LTI resource link id (``https://purl.imsglobal.org/spec/lti/
claim/resource_link`` ``id``), matched exactly.  The LMS may gate the link with
its own access restrictions, which makes this a portable "reached this point".
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
from ..checks import check_name, check_object
from ..facts import LAUNCHES
from ..windows import Window

TEXTS = {
    "en": {"ask": "Open the activity {name}"},
    "fr": {"ask": "Ouvrir l’activité {name}"},
}


@register
@dataclass(frozen=True, kw_only=True)
class Launched(Rule):
    """A launch of one resource link."""

    key: ClassVar[str] = "launched"
    title: ClassVar[str] = "The learner opened the LTI resource link ID"
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"resource_link": {"$ref": "#/$defs/name"}},
        "required": ["resource_link"],
        "additionalProperties": False,
    }

    resource_link: str

    @classmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        before = len(ctx.errors)
        here = (*path, cls.key)
        body = check_object(obj[cls.key], here, ctx, ("resource_link",), ("resource_link",))
        if body is None or "resource_link" not in body:
            return None
        link = check_name(body["resource_link"], (*here, "resource_link"), ctx,
                          "an LTI resource link id")
        if link is None or len(ctx.errors) > before:
            return None
        return cls(resource_link=link, window=window)

    def value_json(self) -> dict[str, Any]:
        return {self.key: {"resource_link": self.resource_link}}

    def own_sources(self) -> frozenset[str]:
        return frozenset({LAUNCHES})

    def evaluate(self, ctx: EvalContext) -> Result:
        mine = [f for f in items(ctx.facts.launches)
                if getattr(f, "resource_link_id", None) == self.resource_link]
        inside = [f for f in mine if ctx.window.contains(utc(getattr(f, "time", None)))]
        status = ctx.decide(bool(inside), self.own_sources())
        if inside:
            reason = "met"
        elif mine:
            reason = "outside_window"
        else:
            reason = "not_yet" if status == "unmet" else "not_read"
        times = [t for t in (utc(getattr(f, "time", None)) for f in inside) if t is not None]
        shown = (inside or mine or [None])[0]
        return self.result(ctx, status, 0.0, {
            "resource_link": self.resource_link,
            "reason": reason,
            "launches": len(inside),
            "time": iso(min(times)) if times else iso(utc(getattr(shown, "time", None))),
            "title": json_scalar(getattr(shown, "title", None)),
        })

    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        title = result.evidence.get("title") if result is not None else None
        name = i18n.name_of(self.resource_link, names, title if isinstance(title, str) else None)
        return i18n.text(TEXTS, lang, "ask", name=name)

    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        return i18n.simple_standing(result.evidence, lang, tz)
