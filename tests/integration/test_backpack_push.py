"""Pushing badges through the durable outbox to the test backpack: every form lands
exactly once, through retries, duplicate-prone failures, throttling, timeouts, expired
and revoked tokens and killed workers. The clock is passed in: nothing sleeps."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from lti_badges.backpack import outbox, service
from lti_badges.backpack.service import BackpackServiceError
from lti_badges.extensions import db
from lti_badges.models import Award, BackpackConnection, BackpackPush, Person
from tests.backpack_server.flows import connect, connection_row, process, push, push_row

pytest_plugins = ["tests.backpack_server.fixtures"]


def _assertion_ids(app, award_ids):
    from lti_badges.issuing import assertion_url

    with app.app_context():
        return {assertion_url(db.session.get(Award, a)) for a in award_ids}


def _credential_id(app, award_id):
    with app.app_context():
        return db.session.get(Award, award_id).credential["id"]


@pytest.mark.parametrize("form", ["id", "assertion", "signed"])
def test_ob21_each_form_lands_once(t0, app, tool, backpack, awards, fast_clock_config, form,
                                   request):
    award_id = request.getfixturevalue("signed_award") if form == "signed" else awards.hosted
    conn = connect(app, backpack, awards_learner(app, award_id), prefer="ob21")
    pid = push(app, award_id, conn, form=form, now=t0)
    assert process(app, t0) == {"done": 1, "processed": 1}
    row = push_row(app, pid)
    assert (row.state, row.last_outcome, row.form) == ("done", "added", form)
    assert row.last_message == "Added to your backpack."
    assert set(backpack.assertions()) == _assertion_ids(app, [award_id])
    key = {"id": "id", "assertion": "assertion", "signed": "signedAssertion"}[form]
    assert backpack.store.log[-1] == {"api": "ob21", "keys": [key]}
    # Queuing it again changes nothing: the pair has one row and it is done.
    assert push(app, award_id, conn, now=t0) == pid
    assert process(app, t0 + timedelta(hours=1)) == {"processed": 0}
    assert len(backpack.assertions()) == 1


def awards_learner(app, award_id):
    with app.app_context():
        return db.session.get(Award, award_id).person_id


@pytest.mark.parametrize("form,ctype", [("json", "application/json"), ("jwt", "text/plain")])
def test_ob30_each_form_lands_once(t0, app, backpack, awards, fast_clock_config, form, ctype):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    pid = push(app, awards.hosted, conn, form=form, now=t0)
    assert process(app, t0)["done"] == 1
    row = push_row(app, pid)
    assert (row.state, row.last_outcome, row.form, row.last_status) == ("done", "added", form, 201)
    stored = backpack.credentials()
    assert list(stored) == [_credential_id(app, awards.hosted)]
    assert form in stored[_credential_id(app, awards.hosted)]
    assert backpack.store.log[-1] == {"api": "ob30", "content_type": ctype}


def test_default_forms_and_the_backpack_preference_is_remembered(t0, app, tool, backpack, awards,
                                                                 fast_clock_config):
    person = awards_learner(app, awards.hosted)
    ob3 = connect(app, backpack, person, prefer="ob30")
    p = push(app, awards.hosted, ob3, now=t0)
    process(app, t0)
    assert push_row(app, p).form == "json"
    assert connection_row(app, ob3).push_form == "json"


@pytest.mark.parametrize("kind", ["ob21", "ob30"])
def test_duplicate_prone_failure_does_not_duplicate(t0, app, tool, backpack, awards,
                                                    fast_clock_config, kind):
    """The backpack stored the badge but answered 500: the retry finds it there."""
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer=kind)
    pid = push(app, awards.hosted, conn, now=t0)
    backpack.fail_next(1, 500, after_store=True)
    assert process(app, t0) == {"pending": 1, "processed": 1}
    row = push_row(app, pid)
    assert row.last_status == 500 and "will try again" in row.last_message
    assert row.next_attempt_at == t0 + timedelta(seconds=30)
    assert process(app, t0 + timedelta(seconds=29)) == {"processed": 0}
    assert process(app, t0 + timedelta(seconds=30)) == {"done": 1, "processed": 1}
    row = push_row(app, pid)
    assert (row.state, row.last_outcome, row.attempts) == ("done", "already", 2)
    stored = backpack.assertions() if kind == "ob21" else backpack.credentials()
    assert len(stored) == 1


def test_429_retry_after_is_honoured(t0, app, backpack, awards, fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    pid = push(app, awards.hosted, conn, now=t0)
    backpack.throttle_next(1, retry_after="600")
    process(app, t0)
    row = push_row(app, pid)
    assert (row.state, row.last_status) == ("pending", 429)
    assert row.next_attempt_at == t0 + timedelta(seconds=600)  # not the 30 s backoff
    assert "in 600 seconds" in row.last_message
    assert process(app, t0 + timedelta(seconds=599)) == {"processed": 0}
    assert process(app, t0 + timedelta(seconds=600))["done"] == 1
    assert len(backpack.credentials()) == 1


def test_backoff_then_give_up_then_manual_retry(t0, app, tool, backpack, awards, fast_clock_config):
    person = awards_learner(app, awards.hosted)
    conn = connect(app, backpack, person, prefer="ob21")
    pid = push(app, awards.hosted, conn, now=t0)
    backpack.fail_next(3, 503)
    process(app, t0)
    assert push_row(app, pid).next_attempt_at == t0 + timedelta(seconds=30)
    process(app, t0 + timedelta(seconds=30))
    assert push_row(app, pid).next_attempt_at == t0 + timedelta(seconds=90)  # 30 + 60
    assert process(app, t0 + timedelta(seconds=90)) == {"gave_up": 1, "processed": 1}
    row = push_row(app, pid)
    assert row.attempts == 3 and "gave up after 3 tries" in row.last_message
    assert backpack.assertions() == {}
    with app.app_context():
        [status] = service.push_status(db.session.get(Person, person))
        assert status["can_retry"] and status["label"] == "Not sent (the tool gave up)"
        service.retry_push(db.session.get(BackpackPush, pid), now=t0 + timedelta(hours=1))
        with pytest.raises(BackpackServiceError, match="not waiting for a retry"):
            service.retry_push(db.session.get(BackpackPush, pid))
    assert process(app, t0 + timedelta(hours=1))["done"] == 1
    assert len(backpack.assertions()) == 1
    with app.app_context():
        [status] = service.push_status(db.session.get(Person, person))
        assert status["label"] == "In your backpack" and not status["can_retry"]


def test_timeout_is_retried_without_duplicate(t0, app, backpack, awards, fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    pid = push(app, awards.hosted, conn, now=t0)
    backpack.slow_next(1, seconds=1.2)  # the client gives up after 0.6 s
    process(app, t0)
    row = push_row(app, pid)
    assert row.state == "pending" and "did not answer in time" in row.last_message
    time.sleep(0.8)  # the slow request completes on the backpack's side and stores the badge
    process(app, t0 + timedelta(seconds=30))
    row = push_row(app, pid)
    assert (row.state, row.last_outcome) == ("done", "already")
    assert len(backpack.credentials()) == 1


def test_expired_access_token_is_refreshed(t0, app, backpack, awards, fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    before = connection_row(app, conn).access_token_enc
    backpack.expire_tokens()  # the backpack answers 401 to the old token
    pid = push(app, awards.hosted, conn, now=t0)
    assert process(app, t0)["done"] == 1
    assert push_row(app, pid).last_outcome == "added"
    after = connection_row(app, conn)
    assert after.access_token_enc != before and after.status == "active"
    assert len(backpack.store.tokens) == 2


def test_token_near_expiry_is_refreshed_before_the_push(app, backpack, awards, fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob21")
    expires = connection_row(app, conn).token_expires_at
    push(app, awards.hosted, conn)
    process(app, expires - timedelta(seconds=30))  # within the refresh margin
    assert len(backpack.store.tokens) == 2
    assert backpack.store.tokens[0].refresh_revoked  # rotated: the old one is spent


def test_revoked_tokens_ask_for_reconnect_and_reconnecting_resumes(t0, app, backpack, awards,
                                                                   fast_clock_config):
    person = awards_learner(app, awards.hosted)
    conn = connect(app, backpack, person, prefer="ob30")
    backpack.revoke_tokens()  # the learner removed the tool in the backpack's settings
    pid = push(app, awards.hosted, conn, now=t0)
    assert process(app, t0) == {"failed": 1, "processed": 1}
    row = push_row(app, pid)
    assert row.last_outcome == "reconnect" and "Connect your backpack again" in row.last_message
    assert connection_row(app, conn).status == "needs_reconnect"
    with app.app_context(), pytest.raises(BackpackServiceError, match="Connect your backpack"):
        service.queue_push(db.session.get(Award, awards.stranger),
                           db.session.get(BackpackConnection, conn))
    assert connect(app, backpack, person, prefer="ob30", now=t0) == conn
    assert push_row(app, pid).state == "pending"
    assert process(app, t0)["done"] == 1
    assert len(backpack.credentials()) == 1


@pytest.mark.parametrize("kind", ["ob21", "ob30"])
def test_recipient_mismatch_is_reported_in_plain_words(t0, app, tool, backpack, awards,
                                                       fast_clock_config, kind):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer=kind)
    pid = push(app, awards.stranger, conn, now=t0)
    assert process(app, t0) == {"failed": 1, "processed": 1}
    row = push_row(app, pid)
    assert row.last_outcome == "mismatch" and row.last_status == 403
    assert "different email address" in row.last_message
    assert backpack.assertions() == {} and backpack.credentials() == {}


def test_badgr_style_takes_only_the_id(t0, app, tool, badgr, awards, signed_award,
                                      fast_clock_config):
    conn = connect(app, badgr, awards_learner(app, signed_award))
    # A signed award goes as its JWS first; Badgr refuses that form, the id works.
    signed = push(app, signed_award, conn, now=t0)
    assert process(app, t0)["done"] == 1
    assert push_row(app, signed).form == "id"
    assert [e["keys"] for e in badgr.store.log] == [["signedAssertion"], ["id"]]
    assert connection_row(app, conn).push_form == "id"
    # Now the tool knows: the next badge goes by id at once.
    hosted = push(app, awards.hosted, conn, now=t0)
    process(app, t0)
    assert push_row(app, hosted).form == "id" and len(badgr.store.log) == 3
    assert set(badgr.assertions()) == _assertion_ids(app, [signed_award, awards.hosted])


def test_badgr_style_already_exists_counts_as_done(t0, app, tool, badgr, awards, fast_clock_config):
    conn = connect(app, badgr, awards_learner(app, awards.hosted))
    pid = push(app, awards.hosted, conn, now=t0)
    badgr.fail_next(1, 502, after_store=True)
    process(app, t0)
    assert push_row(app, pid).state == "pending"
    process(app, t0 + timedelta(minutes=1))
    row = push_row(app, pid)
    assert (row.state, row.last_outcome) == ("done", "already")
    assert row.last_message == "Already in your backpack."
    assert len(badgr.assertions()) == 1


def test_badgr_style_checks_the_recipient(t0, app, tool, badgr, awards, fast_clock_config):
    conn = connect(app, badgr, awards_learner(app, awards.hosted))
    pid = push(app, awards.stranger, conn, now=t0)
    process(app, t0)
    row = push_row(app, pid)
    assert row.state == "failed" and row.last_outcome == "mismatch"


def test_a_killed_workers_row_is_picked_up_after_its_lease(t0, app, backpack, awards,
                                                           fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    pid = push(app, awards.hosted, conn, now=t0)
    with app.app_context():
        assert outbox.claim(pid, "worker-a", t0, lease=60)  # ... and worker A dies here
        assert not outbox.claim(pid, "worker-b", t0, lease=60)  # never two at once
    assert push_row(app, pid).state == "in_progress"
    assert process(app, t0 + timedelta(seconds=59), worker_id="worker-b") == {"processed": 0}
    assert process(app, t0 + timedelta(seconds=60), worker_id="worker-b")["done"] == 1
    row = push_row(app, pid)
    assert row.attempts == 2 and row.lease_owner is None
    # Worker A comes back from the dead with a stale result: it is dropped.
    from lti_badges.backpack.http import RETRY, PushResult

    with app.app_context():
        assert outbox.finish(pid, "worker-a", PushResult(RETRY, "late"), t0,
                             outbox.RetryPolicy()) is None
    assert push_row(app, pid).state == "done"
    assert len(backpack.credentials()) == 1


def test_disconnect_stops_waiting_pushes(t0, app, backpack, awards, fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    pid = push(app, awards.hosted, conn, now=t0)
    with app.app_context():
        service.disconnect(db.session.get(BackpackConnection, conn))
    row = push_row(app, pid)
    assert row.state == "failed" and "disconnected" in row.last_message
    assert process(app, t0) == {"processed": 0}


def test_queue_push_refuses_what_it_must(app, backpack, awards, fast_clock_config):
    conn = connect(app, backpack, awards_learner(app, awards.hosted), prefer="ob30")
    with app.app_context():
        award = db.session.get(Award, awards.hosted)
        connection = db.session.get(BackpackConnection, conn)
        with pytest.raises(BackpackServiceError, match="not a way to send"):
            service.queue_push(award, connection, form="signed")
        other = Person(platform_id=connection.person.platform_id, sub="u-other")
        db.session.add(other)
        db.session.flush()
        award.person_id = other.id
        with pytest.raises(BackpackServiceError, match="someone else"):
            service.queue_push(award, connection)
