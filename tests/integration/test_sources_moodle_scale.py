"""The core web-services path at scale, against a fake Moodle on loopback that answers for
many learners from the recorded answers (tests/support/fake_moodle.py): per-learner calls on
a bounded pool, progress, timeouts sized to one call, partial reads that award nothing, and
the plugin path giving the same facts."""

from __future__ import annotations

import json
import threading
import time

import pytest

from lti_badges.extensions import db
from lti_badges.models import Award, SyncRun
from lti_badges.net import NetPolicy
from lti_badges.sources import Retry
from lti_badges.sources.moodle import MoodleClient
from tests.support.bridge import moodle_course
from tests.support.fake_moodle import TOKEN, FakeMoodle

POLICY = NetPolicy(allow_insecure=True, timeout=10)


def connector(fake, **kwargs) -> MoodleClient:
    kwargs.setdefault("retry", Retry(sleep=lambda s: None))
    return MoodleClient(fake.site_url, TOKEN, POLICY, **kwargs)


@pytest.mark.parametrize("workers", [1, 4])
def test_per_learner_calls_run_on_a_pool_of_the_configured_size(workers):
    with FakeMoodle(40, latency=0.02) as fake:
        facts = connector(fake, workers=workers).read_course(2)
    assert facts.complete, facts.reason
    assert len(facts.learners) == 40
    assert fake.calls["gradereport_user_get_grade_items"] == 40  # one per learner, with userid
    assert fake.calls["core_completion_get_activities_completion_status"] == 40
    if workers == 1:
        assert fake.max_in_flight == 1
    else:
        assert 2 <= fake.max_in_flight <= workers


def test_the_pool_size_and_the_timeout_come_from_the_settings(app):
    from lti_badges.connectors import moodle_client

    app.config.update(MOODLE_WS_WORKERS=7, MOODLE_WS_TIMEOUT_SECONDS=90,
                      MOODLE_PLUGIN_PERPAGE=250)
    with app.app_context():
        sync = moodle_client("http://127.0.0.1:9", TOKEN, interactive=False)
        person = moodle_client("http://127.0.0.1:9", TOKEN)
    assert (sync.workers, sync.perpage, sync.policy.timeout) == (7, 250, 90.0)
    assert sync.policy.max_bytes == app.config["MOODLE_WS_MAX_RESPONSE_BYTES"]
    # "Test connection": a person waits, the usual short timeout.
    assert person.policy.timeout == float(app.config["HTTP_TIMEOUT_SECONDS"])


def test_core_and_plugin_give_the_same_facts_for_many_learners():
    with FakeMoodle(60) as core, FakeMoodle(60, plugin=True) as plugin:
        a = connector(core).read_course(2)
        b = connector(plugin, perpage=25).read_course(2)
    assert a.complete and b.complete
    assert plugin.calls["local_ltibadges_get_course_facts"] == 3  # 61 users, 25 a page
    assert plugin.calls["gradereport_user_get_grade_items"] == 0

    def norm(facts):
        def alias(c):
            return tuple(x for x in c.aliases if not x.startswith("moodle:page:"))
        return {m.user_id: (sorted((g.item_id, g.score, g.maximum, g.time) for g in
                                   facts.facts_for(m.user_id).grades),
                            sorted((c.activity_id, c.state, c.time, alias(c)) for c in
                                   facts.facts_for(m.user_id).completions),
                            facts.facts_for(m.user_id).course_completion)
                for m in facts.learners}
    assert norm(a) == norm(b)


def test_one_failed_learner_makes_the_read_partial_and_nothing_is_awarded(app, runner):
    with FakeMoodle(30, fail_user=117) as fake:
        facts = connector(fake).read_course(2)
        assert not facts.complete and "were not read" in facts.reason
        ids = moodle_course(app, issuer="http://127.0.0.1:8080", jwks_url="http://x/j",
                            site_url=fake.site_url, token=TOKEN, people=())
        issuer = json.loads(runner.invoke(args=["issuers", "add", "--name", "P", "--url",
                                                "https://p.example", "--email", "b@p.example",
                                                "--json"]).stdout)
        runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Essay",
                            "--description", "d", "--criteria-text", "c", "--course",
                            str(ids["course"]), "--rule",
                            '{"grade": {"item": "moodle:cm:1", "min_percent": 30}}'])
        result = runner.invoke(args=["sync", str(ids["course"]), "--json"])
    out = json.loads(result.stdout)
    assert out["status"] == "partial" and out["awarded"] == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 0


def test_the_sync_run_shows_its_progress_while_it_reads(app, runner):
    from lti_badges.awarding import sync_course
    from lti_badges.services import sync_runs

    with FakeMoodle(60, latency=0.01) as fake:
        ids = moodle_course(app, issuer="http://127.0.0.1:8080", jwks_url="http://x/j",
                            site_url=fake.site_url, token=TOKEN, people=())
        app.config["MOODLE_WS_WORKERS"] = 2
        issuer = json.loads(runner.invoke(args=["issuers", "add", "--name", "P", "--url",
                                                "https://p.example", "--email", "b@p.example",
                                                "--json"]).stdout)
        runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Done",
                            "--description", "d", "--criteria-text", "c", "--course",
                            str(ids["course"]), "--rule", '{"course_completed": {}}'])
        with app.app_context():
            run_id = sync_runs.request_run(ids["course"], "manual", None).id
        seen: list[tuple[str, int, int]] = []

        def work() -> None:
            with app.app_context():
                sync_course(ids["course"], run_id=run_id)

        worker = threading.Thread(target=work)
        worker.start()
        while worker.is_alive():
            with app.app_context():
                run = db.session.get(SyncRun, run_id)
                seen.append((run.phase, run.done, run.total))
            time.sleep(0.05)
        worker.join()
    reading = [(d, t) for phase, d, t in seen if phase == "reading moodle"]
    assert reading and any(0 < d < t == 60 for d, t in reading), seen
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        assert run.status == "done" and run.awarded == sum(
            1 for lr in fake.learners.values() if lr.completed)
