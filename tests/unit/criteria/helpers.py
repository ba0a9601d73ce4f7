"""Shared test data for the criteria engine: a clock, facts builders and hypothesis strategies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from lti_badges.criteria import (
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

NOW = datetime(2025, 11, 15, 12, 0, tzinfo=UTC)
ALL_SOURCES = frozenset(SOURCES)


def at(day: str) -> datetime:
    """``at("2025-10-01")`` or ``at("2025-10-01T08:00+02:00")`` as an aware datetime."""
    moment = datetime.fromisoformat(day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def facts(**kwargs: object) -> Facts:
    """Facts with every source read unless ``sources_read`` is given."""
    kwargs.setdefault("sources_read", ALL_SOURCES)
    for key in ("grades", "completions", "launches", "badges", "manual"):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])  # type: ignore[arg-type]
    return Facts(**kwargs)  # type: ignore[arg-type]


# -- hypothesis: valid rules ----------------------------------------------------

ITEMS = ["Quiz 1", "Quiz 2", "quiz", "https://lms.example/lineitems/1", "moodle:cm:4",
         "moodle:gradeitem:5", "final"]
ACTIVITIES = ["Essay 1", "moodle:cm:1", "moodle:cm:4", "welcome"]
LINKS = ["rl-1", "rl-2"]
BADGE_IDS = ["b1", "b2", 7]

_days = st.dates(min_value=datetime(2025, 1, 1).date(), max_value=datetime(2025, 12, 31).date())
_offsets = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])


@st.composite
def bound_texts(draw: st.DrawFn) -> tuple[str, datetime]:
    """An ISO 8601 bound as text, and a UTC moment used to order bounds."""
    day = draw(_days)
    if draw(st.booleans()):
        return day.isoformat(), datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = datetime(day.year, day.month, day.day, draw(st.integers(0, 23)),
                      draw(st.integers(0, 59)), tzinfo=draw(_offsets))
    text = moment.isoformat()
    if text.endswith("+00:00") and draw(st.booleans()):
        text = text[:-6] + "Z"
    return text, moment.astimezone(UTC)


@st.composite
def windows(draw: st.DrawFn) -> dict[str, str]:
    kind = draw(st.sampled_from(["none", "none", "from", "until", "both"]))
    if kind == "none":
        return {}
    a_text, a = draw(bound_texts())
    if kind != "both":
        return {kind: a_text}
    b_text, b = draw(bound_texts())
    # Order the bounds so the window is valid (a date-only until covers its whole day).
    return {"from": a_text, "until": b_text} if a <= b else {"from": b_text, "until": a_text}


def _number(low: float, high: float) -> st.SearchStrategy[float | int]:
    return st.one_of(st.integers(int(low), int(high)),
                     st.floats(low, high, allow_nan=False, allow_infinity=False))


def _leaf_bodies() -> st.SearchStrategy[dict]:
    return st.one_of(
        st.builds(lambda i, p: {"grade": {"item": i, "min_percent": p}},
                  st.sampled_from(ITEMS), _number(0, 100)),
        st.builds(lambda i, p: {"grade": {"item": i, "min_points": p}},
                  st.sampled_from(ITEMS), _number(0, 20)),
        st.builds(lambda a: {"completed": {"activity": a}}, st.sampled_from(ACTIVITIES)),
        st.just({"course_completed": {}}),
        st.builds(lambda r: {"launched": {"resource_link": r}}, st.sampled_from(LINKS)),
        st.builds(lambda b: {"badge": b}, st.sampled_from(BADGE_IDS)),
        st.just({"manual": {}}),
    )


def _with_window(body: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    return st.builds(lambda b, w: {**b, **w}, body, windows())


def rules_json(depth: int = 4) -> st.SearchStrategy[dict]:
    """Valid rule JSON, nested at most ``depth`` levels."""
    leaf = _with_window(_leaf_bodies())
    if depth <= 1:
        return leaf
    sub = st.lists(st.deferred(lambda: rules_json(depth - 1)), min_size=1, max_size=3)

    @st.composite
    def at_least(draw: st.DrawFn) -> dict:
        of = draw(sub)
        return {"at_least": draw(st.integers(1, len(of))), "of": of}

    combo = st.one_of(
        st.builds(lambda rs: {"all": rs}, sub),
        st.builds(lambda rs: {"any": rs}, sub),
        at_least(),
    )
    return st.one_of(leaf, leaf, _with_window(combo))


# -- hypothesis: facts ------------------------------------------------------------

_times = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2026, 1, 31),
                 timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2026, 1, 31),
                 timezones=st.just(UTC)),
)
_names = st.one_of(st.none(), st.sampled_from(ITEMS + ACTIVITIES))


def grade_facts() -> st.SearchStrategy[GradeFact]:
    return st.builds(
        GradeFact,
        item_id=st.sampled_from([*ITEMS, "li-9"]),
        score=st.floats(0, 20, allow_nan=False),
        maximum=st.sampled_from([1, 10, 20, 100]),
        time=_times,
        label=_names,
        tag=_names,
        aliases=st.lists(st.sampled_from(ITEMS), max_size=2).map(tuple),
        minimum=st.sampled_from([0, 0, 1]),
        source=st.sampled_from(["ags", "moodle"]),
    )


def completion_facts() -> st.SearchStrategy[ActivityCompletion]:
    return st.builds(
        ActivityCompletion,
        activity_id=st.sampled_from(ACTIVITIES),
        state=st.sampled_from(list(CompletionState)),
        time=_times,
        label=_names,
        tag=_names,
        aliases=st.just(()),
    )


def launch_facts() -> st.SearchStrategy[Launch]:
    return st.builds(Launch, resource_link_id=st.sampled_from([*LINKS, "rl-3"]), time=_times)


def badge_facts() -> st.SearchStrategy[BadgeHeld]:
    return st.builds(BadgeHeld, badge_id=st.sampled_from(["b1", "b2", "7", "b3"]),
                     time=_times, expires=st.one_of(st.none(), st.none(), _times))


def manual_facts() -> st.SearchStrategy[ManualAward]:
    return st.builds(ManualAward, badge_id=st.sampled_from([None, "this", "other"]), time=_times)


def any_fact() -> st.SearchStrategy[object]:
    return st.one_of(grade_facts(), completion_facts(), launch_facts(), badge_facts(),
                     manual_facts(), st.builds(CourseCompletion, time=_times))


def well_typed_facts() -> st.SearchStrategy[Facts]:
    return st.builds(
        Facts,
        grades=st.lists(grade_facts(), max_size=5).map(tuple),
        completions=st.lists(completion_facts(), max_size=4).map(tuple),
        course_completion=st.one_of(st.none(), st.builds(CourseCompletion, time=_times)),
        launches=st.lists(launch_facts(), max_size=3).map(tuple),
        badges=st.lists(badge_facts(), max_size=3).map(tuple),
        manual=st.lists(manual_facts(), max_size=2).map(tuple),
        # Mostly everything read, so that rules get decided rather than "unknown".
        sources_read=st.one_of(st.just(ALL_SOURCES),
                               st.frozensets(st.sampled_from(sorted(SOURCES)))),
    )


# Junk: whatever an adapter bug could put in a field.
_junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
    st.datetimes(), st.datetimes(timezones=_offsets),
    st.sampled_from(ITEMS + ACTIVITIES + LINKS + ["b1", "7"]),
    st.lists(st.sampled_from(ITEMS), max_size=2), st.just(float("nan")),
    st.sampled_from([datetime.min, datetime.max, datetime.min.replace(tzinfo=UTC),
                     datetime.max.replace(tzinfo=UTC)]),
    st.sampled_from(list(CompletionState)), st.integers(0, 3),
)


def _junk_of(cls: type, **fields: object) -> st.SearchStrategy[object]:
    return st.builds(cls, **{name: _junk for name in fields})


def junk_facts() -> st.SearchStrategy[object]:
    """Facts whose fields hold anything at all (wrong types, NaN, naive or extreme times)."""
    grade = _junk_of(GradeFact, item_id=1, score=1, maximum=1, time=1, label=1, tag=1,
                     aliases=1, minimum=1, source=1)
    completion = _junk_of(ActivityCompletion, activity_id=1, state=1, time=1, label=1, tag=1,
                          aliases=1)
    launch = _junk_of(Launch, resource_link_id=1, time=1, title=1)
    badge = _junk_of(BadgeHeld, badge_id=1, time=1, expires=1)
    manual = _junk_of(ManualAward, badge_id=1, time=1, awarded_by=1, note=1)
    seq = lambda s: st.one_of(st.lists(st.one_of(s, _junk), max_size=4),  # noqa: E731
                              st.lists(s, max_size=4).map(tuple), _junk)
    return st.one_of(
        well_typed_facts(),
        st.builds(
            Facts,
            grades=seq(grade),
            completions=seq(completion),
            course_completion=st.one_of(_junk, _junk_of(CourseCompletion, time=1)),
            launches=seq(launch),
            badges=seq(badge),
            manual=seq(manual),
            sources_read=st.one_of(_junk, st.frozensets(st.sampled_from(sorted(SOURCES)))),
        ),
        _junk,
    )
