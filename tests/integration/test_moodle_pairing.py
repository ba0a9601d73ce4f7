"""Pairing with the Moodle companion plugin (contract (a)): the CLI's one-time URL, the
plugin's POST, and every refusal; Moodle is the recorded web-service replay on loopback
(its token check answers like the real Moodle: ``invalidtoken`` for a wrong token)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lti_badges.clock import utcnow
from lti_badges.connectors import decrypt_token
from lti_badges.extensions import db
from lti_badges.models import MoodleConnector, MoodlePairingCode
from tests.support.bridge import moodle_course
from tests.support.moodle import recorded
from tests.unit.sources.replay import BAD_TOKEN, WS_TOKEN, MoodleWsReplay

SITE_INFO = recorded("webservices/core_webservice_get_site_info.json")["response"]["body_json"]


@pytest.fixture
def moodle():
    with MoodleWsReplay() as replay:
        yield replay


@pytest.fixture
def platform_id(app, moodle) -> int:
    return moodle_course(app, issuer=moodle.site_url, jwks_url=moodle.site_url + "/jwks",
                         site_url=None)["platform"]


def pairing_url(runner, platform_id: int) -> str:
    result = runner.invoke(args=["connectors", "moodle", "pair", "--platform", str(platform_id),
                                 "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["url"]


def body(site_url: str, token: str = WS_TOKEN, **extra):
    return {"site_url": site_url, "token": token, "service": "local_ltibadges",
            "plugin_version": 2026120200, "moodle_release": "5.0.6+ (Build: 20260403)",
            "functions": ["core_webservice_get_site_info", "local_ltibadges_get_course_facts"],
            **extra}


def path_of(app, url: str) -> str:
    return url.removeprefix(app.config["BASE_URL"])


def test_pair_url_is_one_time_random_and_stored_hashed(app, runner, platform_id):
    url = pairing_url(runner, platform_id)
    prefix = app.config["BASE_URL"] + "/connectors/moodle/pair/"
    assert url.startswith(prefix)
    code = url.removeprefix(prefix)
    assert len(code) >= 43  # 32 random bytes, URL-safe base64
    with app.app_context():
        row = db.session.scalar(db.select(MoodlePairingCode))
        assert row.code_hash != code and code not in row.code_hash
        assert timedelta(hours=23) < row.expires_at - utcnow() <= timedelta(hours=24)
    assert pairing_url(runner, platform_id) != url


def test_a_good_code_pairs_and_stores_the_connector(app, client, runner, moodle, platform_id):
    url = pairing_url(runner, platform_id)
    resp = client.post(path_of(app, url), json=body(moodle.site_url + "/"))
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert answer["status"] == "paired" and answer["platform_id"] == platform_id
    assert answer["client_id"] == "kgDDY3FUnq3wN3I" and answer["deployment_ids"] == ["1"]
    assert answer["notices_url"] == app.config["BASE_URL"] + "/lti/notices"
    assert answer["issuer"] == moodle.site_url
    assert [c["wsfunction"] for c in moodle.calls()] == ["core_webservice_get_site_info"]
    with app.app_context():
        connector = db.session.get(MoodleConnector, answer["connector_id"])
        assert connector.url == moodle.site_url and WS_TOKEN not in connector.token_encrypted
        assert decrypt_token(connector) == WS_TOKEN
        assert connector.mode == "core"  # the recorded service has no plugin function
        assert db.session.scalar(db.select(MoodlePairingCode)).used_at is not None
    listed = runner.invoke(args=["connectors", "moodle", "list"])
    assert "mode core web services" in listed.output


def test_pairing_replaces_an_existing_connector_and_sees_the_plugin(app, client, runner, moodle,
                                                                    platform_id):
    runner.invoke(args=["connectors", "moodle", "add", "--platform", str(platform_id), "--url",
                        moodle.site_url, "--token", "0123456789abcdef0123456789abcdef"])
    moodle.overrides["core_webservice_get_site_info"] = {
        **SITE_INFO, "functions": [*SITE_INFO["functions"],
                                   {"name": "local_ltibadges_get_course_facts", "version": "1"}]}
    resp = client.post(path_of(app, pairing_url(runner, platform_id)), json=body(moodle.site_url))
    assert resp.status_code == 200, resp.get_json()
    with app.app_context():
        rows = db.session.scalars(db.select(MoodleConnector)).all()
        assert len(rows) == 1 and decrypt_token(rows[0]) == WS_TOKEN and rows[0].mode == "plugin"
    listed = json.loads(runner.invoke(args=["connectors", "moodle", "list", "--json"]).stdout)
    assert listed[0]["mode_label"] == "plugin"


def test_a_used_code_is_409(app, client, runner, moodle, platform_id):
    path = path_of(app, pairing_url(runner, platform_id))
    assert client.post(path, json=body(moodle.site_url)).status_code == 200
    again = client.post(path, json=body(moodle.site_url))
    assert again.status_code == 409 and again.get_json()["error"] == "already_used"


def test_an_expired_code_is_410(app, client, runner, moodle, platform_id):
    path = path_of(app, pairing_url(runner, platform_id))
    with app.app_context():
        db.session.execute(db.update(MoodlePairingCode).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    resp = client.post(path, json=body(moodle.site_url))
    assert resp.status_code == 410 and resp.get_json()["error"] == "expired"
    assert moodle.calls() == []


def test_an_unknown_code_is_404(client, moodle, platform_id):
    resp = client.post("/connectors/moodle/pair/" + "x" * 43, json=body(moodle.site_url))
    assert resp.status_code == 404 and resp.get_json()["error"] == "unknown_code"


def test_another_site_is_refused_and_the_code_stays_usable(app, client, runner, moodle,
                                                           platform_id):
    path = path_of(app, pairing_url(runner, platform_id))
    resp = client.post(path, json=body("https://moodle.elsewhere.example"))
    assert resp.status_code == 400 and resp.get_json()["error"] == "site_mismatch"
    assert moodle.calls() == []
    assert client.post(path, json=body(moodle.site_url)).status_code == 200


def test_a_token_moodle_rejects_stores_nothing(app, client, runner, moodle, platform_id):
    path = path_of(app, pairing_url(runner, platform_id))
    resp = client.post(path, json=body(moodle.site_url, token=BAD_TOKEN))
    assert resp.status_code == 400 and resp.get_json()["error"] == "token_rejected"
    assert "invalidtoken" in resp.get_json()["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(MoodleConnector)) == 0
        assert db.session.scalar(db.select(MoodlePairingCode)).used_at is None


@pytest.mark.parametrize("payload", [None, [], {"site_url": ""}, {"token": "abc"},
                                     {"site_url": "x", "token": "abcdefgh", "functions": "no"}])
def test_a_bad_body_is_400(app, client, runner, platform_id, payload):
    path = path_of(app, pairing_url(runner, platform_id))
    if payload is None:
        resp = client.post(path, data="site_url=x")
    else:
        resp = client.post(path, json=payload)
    assert resp.status_code == 400 and resp.get_json()["error"] == "bad_request"


def test_get_explains_where_to_paste_it_in_french(app, client, runner, platform_id):
    path = path_of(app, pairing_url(runner, platform_id))
    page = client.get(path, headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert "collez-la dans la page de jumelage" in page.get_data(as_text=True)
    gone = client.get("/connectors/moodle/pair/nope", headers={"Accept-Language": "en"})
    assert gone.status_code == 404 and "not known" in gone.get_data(as_text=True)


def test_connectors_moodle_add_still_works(runner, moodle, platform_id):
    result = runner.invoke(args=["connectors", "moodle", "add", "--platform", str(platform_id),
                                 "--url", moodle.site_url, "--token", WS_TOKEN, "--check"])
    assert result.exit_code == 0, result.output
    test = runner.invoke(args=["connectors", "moodle", "test", "--platform", str(platform_id)])
    assert test.exit_code == 0 and "Mode: core web services." in test.output


def test_the_admin_console_shows_a_pairing_url_and_the_mode(app, tool, registered, moodle):
    import re

    import requests

    from tests.integration.conftest import Console, launch_as

    _, token = launch_as(registered.peer, "admin")
    console = Console(tool, token)
    page = console.get("/admin/connector")
    assert 'id="connector-pair"' in page.text and "Pair with the Moodle plugin" in page.text
    resp = console.post("/admin/connector/pair")
    assert resp.status_code == 200
    url = re.search(r'<code id="pairing-url">([^<]+)</code>', resp.text).group(1)
    assert url.startswith(tool.url("/connectors/moodle/pair/"))
    assert requests.get(url).status_code == 200
    # The code belongs to the admin's platform: another site cannot use it.
    refused = requests.post(url, json=body(moodle.site_url))
    assert refused.status_code == 400 and refused.json()["error"] == "site_mismatch"
    console.post("/admin/connector", {"url": moodle.site_url, "token": WS_TOKEN})
    tested = console.post("/admin/connector/test")
    assert re.search(r'id="connector-mode">core web services<', tested.text)
