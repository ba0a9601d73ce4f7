"""Rate limits on the public, unauthenticated endpoints: 429 with Retry-After and a message a
person can act on (in their language), counted per client address — in Redis across app
instances when a broker is configured, in memory otherwise — and login states that nobody
used expire and are purged."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from lti_badges import create_app
from lti_badges.clock import utcnow
from lti_badges.config import DEFAULTS
from lti_badges.extensions import db
from lti_badges.models import LoginState, Platform
from tests.conftest import _base_config
from tests.support.redis_server import RedisServer


def _app(tmp_path, database_url: str, name: str, **settings):
    config = {**_base_config(tmp_path, database_url, "http://127.0.0.1:1"), **settings}
    return create_app(config, instance_path=str(tmp_path / name))


def _verify(client, **headers):
    return client.post("/api/v1/verify", json={"input": ""}, headers=headers)


def test_the_verify_api_answers_429_with_retry_after(tmp_path, database_url):
    client = _app(tmp_path, database_url, "a", RATE_LIMIT_VERIFY_API="3 per minute").test_client()
    assert [_verify(client).status_code for _ in range(3)] == [400, 400, 400]
    refused = _verify(client)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 61
    body = refused.get_json()
    assert body["error"] == "rate_limited" and f"Wait {wait} seconds" in body["message"]


def test_the_defaults_limit_the_verify_api(tmp_path, database_url):
    client = _app(tmp_path, database_url, "a",
                  RATE_LIMIT_VERIFY_API=DEFAULTS["RATE_LIMIT_VERIFY_API"]).test_client()
    allowed = int(DEFAULTS["RATE_LIMIT_VERIFY_API"].split()[0])
    codes = [_verify(client).status_code for _ in range(allowed + 1)]
    assert codes == [400] * allowed + [429]


def test_the_verify_form_is_limited_and_says_so_in_french(tmp_path, database_url):
    client = _app(tmp_path, database_url, "a", RATE_LIMIT_VERIFY_PAGE="2 per minute").test_client()
    for _ in range(2):
        assert client.post("/verify", data={"input": ""}).status_code == 400
    refused = client.post("/verify", data={"input": ""},
                          headers={"Accept-Language": "fr-CA", "Accept": "text/html"})
    assert refused.status_code == 429 and refused.headers["Retry-After"].isdigit()
    page = refused.get_data(as_text=True)
    assert "Trop de demandes depuis votre adresse" in page
    # Looking at the page is not limited: only what makes the tool fetch and check.
    assert client.get("/verify").status_code == 200


def test_login_and_registration_are_limited(app, registered, tmp_path):
    # A second instance on the same database, with low limits (the suite's are high).
    limited = _app(tmp_path, app.config["DATABASE_URL"], "b",
                   RATE_LIMIT_LOGIN="2 per minute", RATE_LIMIT_REGISTER="1 per minute",
                   BASE_URL=app.config["BASE_URL"]).test_client()
    params = {"iss": registered.peer.issuer, "client_id": registered.client_id,
              "login_hint": "learner", "target_link_uri": app.config["BASE_URL"] + "/lti/launch"}
    assert [limited.post("/lti/login", data=params).status_code for _ in range(2)] == [302, 302]
    refused = limited.get("/lti/login", query_string=params)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert limited.get("/lti/register").status_code != 429
    assert limited.get("/lti/register").status_code == 429


def test_behind_a_proxy_each_client_is_counted_apart(tmp_path, database_url):
    client = _app(tmp_path, database_url, "a", RATE_LIMIT_VERIFY_API="1 per minute",
                  PROXY_HOPS=1).test_client()
    assert _verify(client, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 400
    assert _verify(client, **{"X-Forwarded-For": "198.51.100.2"}).status_code == 400
    assert _verify(client, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(tmp_path)
    yield server.url
    server.stop()


def test_two_instances_count_together_in_redis(tmp_path, database_url, redis_url):
    a, b = (_app(tmp_path, database_url, name, BROKER_URL=redis_url,
                 RATE_LIMIT_VERIFY_API="4 per minute").test_client() for name in ("a", "b"))
    codes = [_verify(client).status_code for client in (a, b, a, b, a, b)]
    assert codes == [400, 400, 400, 400, 429, 429]
    # Without a broker each instance counts alone (memory): the same six all pass.
    c, d = (_app(tmp_path, database_url, name, RATE_LIMIT_VERIFY_API="4 per minute")
            .test_client() for name in ("c", "d"))
    assert [_verify(client).status_code for client in (c, d, c, d, c, d)] == [400] * 6


def test_redis_going_away_does_not_break_the_endpoint(tmp_path, database_url):
    server = RedisServer(tmp_path)
    client = _app(tmp_path, database_url, "a", BROKER_URL=server.url,
                  RATE_LIMIT_VERIFY_API="50 per minute").test_client()
    assert _verify(client).status_code == 400
    server.stop()
    assert _verify(client).status_code == 400  # counted in memory meanwhile, never a 500


# -- login states ----------------------------------------------------------------------------


def _login(client, app, registered) -> str:
    resp = client.post("/lti/login", data={
        "iss": registered.peer.issuer, "client_id": registered.client_id,
        "login_hint": "learner", "target_link_uri": app.config["BASE_URL"] + "/lti/launch"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]


def test_an_expired_login_state_is_refused(app, registered):
    app.config["LOGIN_STATE_TTL_SECONDS"] = 0  # expired as soon as it is issued
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1")
    assert resp.status_code == 400 and "unknown or expired" in resp.text


def test_unused_login_states_are_purged_at_login_and_on_the_schedule(app, registered):
    client = app.test_client()
    first = _login(client, app, registered)
    with app.app_context():
        assert db.session.get(LoginState, first) is not None
        db.session.get(LoginState, first).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    second = _login(client, app, registered)  # a login sweeps what expired
    with app.app_context():
        assert db.session.get(LoginState, first) is None
        assert db.session.get(LoginState, second) is not None
        db.session.get(LoginState, second).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # No login comes any more: the schedule's task purges it.
    from lti_badges.jobs import Scheduler

    scheduler = Scheduler(app, 60)
    scheduler.seconds = 0.1
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        with app.app_context():
            while db.session.get(LoginState, second) is not None:
                assert time.monotonic() < deadline, "the scheduled purge did not run"
                time.sleep(0.1)
                db.session.expire_all()
            assert db.session.scalar(db.select(Platform.id)) is not None
    finally:
        scheduler.stopped.set()
        scheduler.join(timeout=10)
