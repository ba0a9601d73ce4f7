"""Against the independent platform peer: the studio reads the roster before any sync (the
People page, the award-by-hand list and the preview list every NRPS learner, in French name
order), and date windows work on facts whose source gives no time (AGS results as the spec
defines them): such a grade counts from when the tool first saw it, and the explanation says
so instead of claiming an LMS date."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from lti_badges.extensions import db
from lti_badges.models import Award, FactSeen, SyncRun
from tests.integration.conftest import StaffLaunch as Staff
from tests.integration.conftest import register
from tests.support.cli import cli_json

LEARNERS = [  # (sub, NRPS fields), in the order a French reader expects them
    ("u2", {"given_name": "Anne", "family_name": "Bélanger"}),
    ("u1", {"given_name": "Marc", "family_name": "Boucher"}),
    ("v1", {"name": "Éloïse"}),
    ("v2", {"name": "emma"}),
    ("u3", {"given_name": "Inès", "family_name": "Émond"}),
    ("u4", {"given_name": "Paul", "family_name": "Ethier"}),
    ("u5", {"given_name": "Luc", "family_name": "Fortin"}),
]
NAMES = ["Anne Bélanger", "Marc Boucher", "Éloïse", "emma", "Inès Émond", "Paul Ethier",
         "Luc Fortin"]



@pytest.fixture
def world(app, tool, peer, runner):
    register(app, tool, peer)
    peer.add_course("c1", title="Français 101", label="FRA")
    peer.add_user("t1", name="Tom Teacher", given_name="Tom", family_name="Teacher",
                  email="tom@example.test")
    peer.enroll("c1", "t1", roles=["Instructor"])
    # Enrolled in an order that is not the reading order.
    for sub, fields in reversed(LEARNERS):
        peer.add_user(sub, email=f"{sub}@example.test", **fields)
        peer.enroll("c1", sub, roles=["Learner"])
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    teacher = Staff(tool, peer.launch(peer.new_browser(), "t1", "c1"))
    issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Cégep", "--url",
                                       "https://cegep.example", "--email", "b@cegep.example",
                                       "--json"]))
    return {"peer": peer, "quiz": quiz, "teacher": teacher, "cid": teacher.cid, "app": app,
            "runner": runner, "issuer": issuer["id"]}


def _badge(world, rule):
    return cli_json(world["runner"].invoke(args=[
        "badges", "add", "--issuer", world["issuer"], "--name", "Quiz 1", "--description", "d",
        "--criteria-text", "c", "--course", str(world["cid"]), "--rule", json.dumps(rule),
        "--json"]))["id"]


def _in_order(html: str, names: list[str]) -> list[str]:
    found = sorted((html.index(n), n) for n in names if n in html)
    return [n for _, n in found]


def _no_sync(app) -> None:
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SyncRun)) == 0


def test_a_teacher_who_just_launched_sees_every_learner_in_french_order(world):
    t, app = world["teacher"], world["app"]
    people = unescape(t.get("/people").text)
    assert _in_order(people, NAMES) == NAMES

    badge = _badge(world, {"grade": {"item": "Quiz 1", "min_percent": 80}})
    page = unescape(t.get(f"/studio/badges/{badge}").text)
    choices = page.split('id="award-person"')[1].split("</select>")[0]
    assert _in_order(choices, NAMES) == NAMES

    preview = t.post("/studio/preview", {
        "rule_mode": "builder", "c0-type": "grade", "c0-item": "Quiz 1", "c0-threshold": "80",
        "c0-unit": "percent", "combine": "all", "at_least": "1"}).json()
    assert [row["name"] for row in preview["learners"]] == NAMES
    _no_sync(app)


def test_sort_key_puts_accented_names_among_their_letters():
    from lti_badges.services.studio import sort_key

    names = ["Zoé", "Boucher", "Éloïse", "Bélanger", "eric", "Œuvray", "Olivier", "Emma"]
    assert sorted(names, key=sort_key) == ["Bélanger", "Boucher", "Éloïse", "Emma", "eric",
                                           "Œuvray", "Olivier", "Zoé"]


def _window(days_before: int, days_after: int) -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": (today - timedelta(days=days_before)).isoformat(),
            "until": (today + timedelta(days=days_after)).isoformat()}


def test_an_undated_ags_grade_inside_the_window_counts_from_when_the_tool_first_saw_it(world):
    app, peer = world["app"], world["peer"]
    peer.results_carry_timestamp = False  # AGS 2.0 §3.3: a result carries no time
    peer.set_result(world["quiz"]["id"], "u1", 9, 10)
    rule = {"grade": {"item": "Quiz 1", "min_percent": 80}, **_window(1, 1)}
    badge = _badge(world, rule)

    # The preview meets it (the read records when the grade was first seen).
    t = world["teacher"]
    preview = t.post("/studio/preview", {
        "badge": badge, "rule_mode": "json", "rule_json": json.dumps(rule)}).json()
    assert preview.get("counts", {}).get("met") == 1, preview
    marc = next(r for r in preview["learners"] if r["name"] == "Marc Boucher")
    assert "first seen by the tool on" in marc["explanation"]
    assert "outside" not in marc["explanation"]

    result = cli_json(world["runner"].invoke(args=["sync", str(world["cid"]), "--json"]))
    assert [a["recipient"] for a in result["awarded"]] == ["u1@example.test"]
    with app.app_context():
        award = db.session.scalar(db.select(Award))
        assert "first seen by the tool on" in award.evidence["summary"]
        assert "première fois par l’outil" in award.evidence["summary_fr"]
        grade = award.evidence["result"]["evidence"]["grade"]
        assert grade["time_basis"] == "first_seen"
        seen = db.session.scalars(db.select(FactSeen)).all()
        assert [s.user_id for s in seen] == ["u1"]
        assert seen[0].first_seen_at.date() == datetime.now(UTC).date()


def test_an_undated_grade_first_seen_before_the_window_says_so(world):
    peer, t = world["peer"], world["teacher"]
    peer.results_carry_timestamp = False
    peer.set_result(world["quiz"]["id"], "u1", 9, 10)
    rule = {"grade": {"item": "Quiz 1", "min_percent": 80}, **_window(-2, 5)}  # opens later
    preview = t.post("/studio/preview", {"rule_mode": "json",
                                         "rule_json": json.dumps(rule)}).json()
    assert preview["counts"]["met"] == 0
    marc = next(r for r in preview["learners"] if r["name"] == "Marc Boucher")
    assert "was first seen by the tool on" in marc["explanation"]
    assert "was given" not in marc["explanation"]
    fr = t.post("/studio/preview", {"rule_mode": "json", "rule_json": json.dumps(rule)},
                lang="fr").json()
    marc = next(r for r in fr["learners"] if r["name"] == "Marc Boucher")
    assert "vue pour la première fois par l’outil le" in marc["explanation"]


def test_a_dated_grade_keeps_the_platform_time(world):
    """Where the platform does send a time (Moodle's results carry a timestamp), it is used
    and nothing is recorded as first seen."""
    app, peer, t = world["app"], world["peer"], world["teacher"]
    peer.set_result(world["quiz"]["id"], "u1", 9, 10, timestamp="2020-01-15T10:00:00+00:00")
    rule = {"grade": {"item": "Quiz 1", "min_percent": 80}, **_window(1, 1)}
    preview = t.post("/studio/preview", {"rule_mode": "json",
                                         "rule_json": json.dumps(rule)}).json()
    marc = next(r for r in preview["learners"] if r["name"] == "Marc Boucher")
    assert "was given outside these dates" in marc["explanation"]
    assert "first seen" not in marc["explanation"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(FactSeen)) == 0


def test_the_builder_says_what_time_a_fact_has(world):
    form = unescape(world["teacher"].get("/studio/badges/new").text)
    hint = form.split('id="dates-hint"')[1].split("</p>")[0]
    assert "first saw" in hint and re.search(r"Moodle", hint)


def test_first_seen_keeps_its_time_until_the_value_changes(world):
    from lti_badges.criteria.facts import Facts, GradeFact
    from lti_badges.models import Course
    from lti_badges.services import fact_times
    from lti_badges.sources.base import build_course_facts

    def read(score: float, source_time=None):
        grade = GradeFact("li-1", score, 10, time=source_time)
        return build_course_facts("ags", roster=(), facts={"u1": Facts(grades=(grade,))},
                                  sources_read=("ags",))

    day = [datetime(2026, 3, d, 9, tzinfo=UTC) for d in (1, 2, 3)]
    with world["app"].app_context():
        course = db.session.get(Course, world["cid"])

        def time_of(facts):
            (grade,) = facts.facts_for("u1").grades
            return grade.time, grade.time_basis

        assert time_of(fact_times.stamp(course, read(8), day[0])) == (day[0], "first_seen")
        assert time_of(fact_times.stamp(course, read(8), day[1])) == (day[0], "first_seen")
        assert time_of(fact_times.stamp(course, read(9), day[2])) == (day[2], "first_seen")
        # A time from the source is never replaced.
        assert time_of(fact_times.stamp(course, read(9, day[0]), day[2])) == (day[0], "source")
