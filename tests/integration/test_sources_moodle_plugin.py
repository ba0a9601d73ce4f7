"""The connector through the companion plugin (contract (c)): paged whole-course reads,
one-learner reads, and the same facts as the core web services for the same course.

The plugin's answers are tests/fixtures/moodle_plugin (the recorded course, as the plugin
returns it); the core answers are the recorded Moodle 5.0 ones.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lti_badges.criteria.facts import MOODLE
from lti_badges.extensions import db
from lti_badges.models import Award
from lti_badges.net import NetPolicy
from lti_badges.sources import Retry
from lti_badges.sources.moodle import MoodleClient
from tests.support.bridge import moodle_course
from tests.unit.sources.replay import WS_TOKEN, MoodlePluginReplay, MoodleWsReplay

POLICY = NetPolicy(allow_insecure=True, timeout=5)
PLUGIN = "local_ltibadges_get_course_facts"


def connector(replay, **kwargs) -> MoodleClient:
    kwargs.setdefault("retry", Retry(sleep=lambda s: None))
    kwargs.setdefault("perpage", 2)
    return MoodleClient(replay.site_url, WS_TOKEN, POLICY, **kwargs)


@pytest.fixture
def plugin():
    with MoodlePluginReplay() as replay:
        yield replay


def test_site_info_listing_the_plugin_function_switches_to_plugin_mode(plugin):
    conn = connector(plugin)
    assert conn.mode() == "plugin"
    check = conn.test_connection()
    assert check.ok and check.mode == "plugin" and "companion plugin" in check.message
    with MoodleWsReplay() as core:
        assert connector(core).mode() == "core"


def test_a_whole_course_is_read_in_pages_until_hasmore_is_false(plugin):
    progress = []
    facts = connector(plugin).read_course("2", progress=lambda d, t: progress.append((d, t)))
    assert facts.complete, facts.reason
    calls = [(c["wsfunction"], c.get("page"), c.get("perpage")) for c in plugin.calls()]
    assert calls == [("core_webservice_get_site_info", None, None),
                     (PLUGIN, "0", "2"), (PLUGIN, "1", "2")]
    assert plugin.calls(PLUGIN)[0]["since"] == "0"  # re-syncs read in full
    assert progress == [(2, 3), (3, 3)]
    assert {m.user_id for m in facts.roster} == {"3", "4", "5"}
    assert {m.user_id for m in facts.learners} == {"4", "5"}
    assert facts.member("4").sourcedid == "STUDENT1"


def _normalised(facts):
    """Learners' facts, order aside. The plugin's activities carry no instance id, so the
    ``moodle:<module>:<instance>`` alias exists only for graded activities there (their
    grade item names it); rules name ``moodle:cm:`` / ``moodle:gradeitem:`` ids."""
    def alias(aliases):
        return tuple(a for a in aliases if a != "moodle:page:1")

    out = {}
    for member in facts.learners:
        f = facts.facts_for(member.user_id)
        out[member.user_id] = replace(
            f,
            grades=tuple(sorted(f.grades, key=lambda g: g.item_id)),
            completions=tuple(sorted((replace(c, aliases=alias(c.aliases))
                                      for c in f.completions), key=lambda c: c.activity_id)))
    items = {i.item_id: replace(i, aliases=alias(i.aliases)) for i in facts.items}
    return out, items


def test_both_modes_give_identical_facts_for_the_same_course(plugin):
    with MoodleWsReplay() as core:
        core_facts = connector(core).read_course("2")
    plugin_facts = connector(plugin).read_course("2")
    assert core_facts.complete and plugin_facts.complete
    assert {m.user_id for m in core_facts.learners} == {m.user_id for m in plugin_facts.learners}
    core_norm, plugin_norm = _normalised(core_facts), _normalised(plugin_facts)
    assert plugin_norm[0] == core_norm[0]
    assert plugin_norm[1] == core_norm[1]
    # The facts the recorded course holds, to show the comparison is not of two empties.
    student1 = plugin_facts.facts_for("4")
    assert {g.item_id: g.score for g in student1.grades}["moodle:gradeitem:2"] == 85
    assert student1.course_completion is not None
    assert plugin_facts.facts_for("5").course_completion is None


def test_one_learner_is_read_with_the_userid_parameter(plugin):
    facts = connector(plugin).read_course("2", user_id="4")
    assert facts.complete
    assert [c.get("userid") for c in plugin.calls(PLUGIN)] == ["4"]
    assert [m.user_id for m in facts.roster] == ["4"]
    assert len(facts.facts_for("4").grades) == 5


def test_a_failed_page_makes_the_read_incomplete(plugin):
    plugin.overrides[PLUGIN] = "ws-error-function-not-in-service"
    facts = connector(plugin).read_course("2")
    assert not facts.complete and MOODLE not in facts.sources_read
    assert "page 0" in facts.reason


def test_fact_times_are_the_plugins_timemodified(plugin):
    facts = connector(plugin).read_course("2")
    lti = {g.item_id: g for g in facts.facts_for("4").grades}["moodle:gradeitem:4"]
    assert int(lti.time.timestamp()) == 1795328499


def test_a_sync_in_plugin_mode_awards_from_plugin_pages_only(app, runner, plugin):
    ids = moodle_course(app, issuer="http://127.0.0.1:8080", jwks_url="http://127.0.0.1:8080/j",
                        site_url=plugin.site_url, token=WS_TOKEN, people=())
    app.config["MOODLE_PLUGIN_PERPAGE"] = 2
    issuer = json.loads(runner.invoke(args=["issuers", "add", "--name", "P", "--url",
                                            "https://p.example", "--email", "b@p.example",
                                            "--json"]).stdout)
    runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Done",
                        "--description", "d", "--criteria-text", "c", "--course",
                        str(ids["course"]), "--rule", '{"course_completed": {}}'])
    result = runner.invoke(args=["sync", str(ids["course"]), "--json"])
    assert result.exit_code == 0, result.output
    assert [a["recipient"] for a in json.loads(result.stdout)["awarded"]] == [
        "student1@example.invalid"]
    assert {c["wsfunction"] for c in plugin.calls()} == {"core_webservice_get_site_info", PLUGIN}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 1
