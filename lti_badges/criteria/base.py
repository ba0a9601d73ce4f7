"""The rule type contract and its registry (after CTFd's challenge types).

Each rule type is one small frozen dataclass in ``criteria/rules/``, decorated
with :func:`register`.  It owns everything about itself: parsing and
validation of its JSON, its JSON Schema fragment, its evaluation over
:class:`~lti_badges.criteria.facts.Facts`, its needed sources and its English
and French texts.  Adding a type means adding one module there; the package
discovers it.

Also here: the value types shared by every rule (:class:`Result`,
:class:`Error`) and the small contexts the engine hands to rules.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Literal

from .facts import Facts
from .windows import NO_WINDOW, Window

MAX_DEPTH = 10  # nesting levels a rule may have; keeps evaluation and explanations sane

ALMOST_ONE = math.nextafter(1.0, 0.0)

Status = Literal["met", "unmet", "unknown"]
Path = tuple[str | int, ...]


def render_path(path: Path) -> str:
    """``("all", 1, "grade", "min_percent")`` → ``all[1].grade.min_percent``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Error:
    """One validation error: where (a JSON path) and what, plus a stable code."""

    path: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.path or '(rule)'}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "code": self.code}


class RuleError(ValueError):
    """Raised by :func:`~lti_badges.criteria.parse` for an invalid rule."""

    def __init__(self, errors: list[Error]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors) or "invalid rule")


@dataclass(frozen=True)
class Result:
    """The outcome of evaluating one rule (and, recursively, its children).

    ``status`` is three-valued: "unknown" when no fact decides the rule and a
    source it needs was not fully read.  ``evidence`` is plain JSON data
    (which rule, which items, which scores, when) fit to store with an award.
    """

    rule: str
    status: Status
    progress: float
    evidence: dict[str, Any]
    needs_sources: frozenset[str]
    children: tuple[Result, ...] = ()

    @property
    def met(self) -> bool:
        return self.status == "met"

    @property
    def known(self) -> bool:
        return self.status != "unknown"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "met": self.met,
            "progress": self.progress,
            "needs_sources": sorted(self.needs_sources),
            "evidence": self.evidence,
            "children": [child.to_json() for child in self.children],
        }


@dataclass
class ParseContext:
    """Collects errors while parsing; parses nested rules one level deeper."""

    errors: list[Error]
    depth: int
    parse_rule: Callable[[object, Path, int, list[Error]], Rule | None]

    def error(self, path: Path, message: str, code: str = "invalid") -> None:
        self.errors.append(Error(render_path(path), message, code))

    def child(self, value: object, path: Path) -> Rule | None:
        return self.parse_rule(value, path, self.depth + 1, self.errors)


@dataclass(frozen=True)
class EvalContext:
    """What a rule sees while evaluating: facts, the clock and the window in force."""

    facts: Facts
    now: datetime | None
    window: Window
    sources_read: frozenset[str]
    badge_id: str | None
    run: Callable[[Rule, EvalContext], Result]

    def child(self, rule: Rule) -> Result:
        """Evaluate a nested rule (safely, with the windows intersected)."""
        return self.run(rule, self)

    def decide(self, satisfied: bool, sources: Iterable[str]) -> Status:
        """Leaf status: a satisfying fact decides; else unknown if a source is unread."""
        if satisfied:
            return "met"
        return "unmet" if set(sources) <= self.sources_read else "unknown"

    def window_evidence(self) -> dict[str, Any]:
        if not self.window.bounded:
            return {}
        return {"window": {**self.window.to_json(), "state": self.window.state(self.now)}}


@dataclass(frozen=True, kw_only=True)
class Rule(ABC):
    """Base of every rule type.  Subclasses are frozen dataclasses."""

    key: ClassVar[str]  # the JSON key naming the type: {"grade": {...}}
    extra_keys: ClassVar[tuple[str, ...]] = ()  # other keys the type owns ("of")
    title: ClassVar[str] = ""  # one line for the JSON Schema
    value_schema: ClassVar[dict[str, Any]] = {}
    extra_schema: ClassVar[dict[str, dict[str, Any]]] = {}

    window: Window = NO_WINDOW

    # -- parsing ----------------------------------------------------------
    @classmethod
    @abstractmethod
    def parse(
        cls, obj: Mapping[str, Any], path: Path, ctx: ParseContext, window: Window
    ) -> Rule | None:
        """Build the rule from its JSON object, reporting errors to ``ctx``."""

    @abstractmethod
    def value_json(self) -> dict[str, Any]:
        """The rule's JSON without ``from`` / ``until``."""

    def to_json(self) -> dict[str, Any]:
        return {**self.value_json(), **self.window.to_json()}

    # -- structure --------------------------------------------------------
    def children(self) -> tuple[Rule, ...]:
        return ()

    def walk(self) -> Iterator[Rule]:
        """This rule and every rule under it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def own_sources(self) -> frozenset[str]:
        """Sources this rule itself reads (leaves); combinators use their children."""
        return frozenset()

    def needs_sources(self) -> frozenset[str]:
        out = set(self.own_sources())
        for child in self.children():
            out |= child.needs_sources()
        return frozenset(out)

    # -- evaluation and texts ---------------------------------------------
    @abstractmethod
    def evaluate(self, ctx: EvalContext) -> Result:
        """Evaluate against ``ctx.facts``; must tolerate any facts."""

    @abstractmethod
    def describe(
        self, lang: str, names: Mapping[str, str] | None, result: Result | None = None
    ) -> str:
        """What the rule asks, without window or standing ("Score at least 80% in Quiz 2").

        With a ``result``, a leaf may use what evaluation found (an item's own
        label) when ``names`` has no display name.
        """

    @abstractmethod
    def standing(
        self, result: Result, lang: str, names: Mapping[str, str] | None, tz: tzinfo | None
    ) -> str:
        """Where the learner stands, e.g. ``you have 72%`` (no leading dash)."""

    # -- helpers for subclasses -------------------------------------------
    def result(
        self,
        ctx: EvalContext,
        status: Status,
        progress: float,
        evidence: dict[str, Any],
        children: tuple[Result, ...] = (),
    ) -> Result:
        """Build a Result with the window evidence and the sources filled in."""
        evidence = {"rule": self.key, **evidence, **ctx.window_evidence()}
        # Progress is 1 exactly when met, so a full bar never shows for an unmet rule
        # (a mean of values just under 1 can round up to 1.0).
        progress = 1.0 if status == "met" else min(clamp(progress), ALMOST_ONE)
        return Result(
            rule=self.key,
            status=status,
            progress=progress,
            evidence=evidence,
            needs_sources=self.needs_sources(),
            children=children,
        )


RULE_TYPES: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule type known by its JSON key."""
    if cls.key in RULE_TYPES and RULE_TYPES[cls.key] is not cls:
        raise ValueError(f"rule type {cls.key!r} is already registered")
    RULE_TYPES[cls.key] = cls
    return cls


# -- defensive readers: facts come from adapters and may be odd -------------


def clamp(value: float) -> float:
    if not isinstance(value, int | float) or math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def finite(value: object) -> float | None:
    """A finite float, or ``None`` for anything else (bools, NaN, strings...)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except (OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def utc(value: object) -> datetime | None:
    """An aware UTC datetime (naive read as UTC), or ``None`` when unusable."""
    if not isinstance(value, datetime):
        return None
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def items(value: object) -> tuple[Any, ...]:
    """Iterate a facts field that should be a tuple but might be anything."""
    if value is None or isinstance(value, str | bytes | Mapping):
        return ()
    try:
        return tuple(value)  # type: ignore[arg-type]
    except TypeError:
        return ()


def json_scalar(value: object) -> str | int | float | bool | None:
    """A value safe to put in evidence JSON (finite numbers, strings, None)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


__all__ = [
    "MAX_DEPTH",
    "RULE_TYPES",
    "Error",
    "EvalContext",
    "ParseContext",
    "Path",
    "Result",
    "Rule",
    "RuleError",
    "Status",
    "clamp",
    "finite",
    "iso",
    "items",
    "json_scalar",
    "register",
    "render_path",
    "utc",
]
