"""`lti-badges connectors moodle add|test|list|remove` (DESIGN.md CLI contract), against the
recorded Moodle answers replayed on loopback."""

from __future__ import annotations

import json

import pytest

from lti_badges.cli_connectors import connectors_group
from lti_badges.crypto import fernet
from lti_badges.extensions import db
from lti_badges.models import MoodleConnector, Platform
from tests.unit.sources.replay import BAD_TOKEN, WS_TOKEN, MoodleWsReplay


@pytest.fixture
def platform_id(app):
    with app.app_context():
        row = Platform(issuer="https://moodle.example", client_id="c", status="active",
                       auth_login_url="https://moodle.example/auth",
                       token_url="https://moodle.example/token",
                       jwks_url="https://moodle.example/jwks")
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def moodle():
    with MoodleWsReplay() as replay:
        yield replay


def _invoke(runner, *args):
    return runner.invoke(connectors_group, ["moodle", *args])


def _stored(app):
    with app.app_context():
        row = db.session.scalar(db.select(MoodleConnector))
        if row is None:
            return None
        token = fernet(app.config["SECRET_KEY"], "moodle-token").decrypt(
            row.token_encrypted.encode()).decode()
        return row, token


def test_add_with_check_stores_the_token_encrypted(app, runner, platform_id, moodle):
    result = _invoke(runner, "add", "--platform", str(platform_id), "--url", moodle.site_url,
                     "--token", WS_TOKEN, "--check", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["platform"] == platform_id and data["url"] == moodle.site_url
    assert data["token_hint"] == "…" + WS_TOKEN[-4:]
    assert data["check"]["ok"] is True and data["check"]["site_name"] == "LTI Harness Moodle"
    assert WS_TOKEN not in result.output
    row, token = _stored(app)
    assert token == WS_TOKEN and WS_TOKEN not in row.token_encrypted
    assert row.site_name == "LTI Harness Moodle" and row.last_checked_at is not None

    listed = _invoke(runner, "list", "--json")
    assert json.loads(listed.stdout)[0]["url"] == moodle.site_url and WS_TOKEN not in listed.output
    tested = _invoke(runner, "test", "--platform", str(platform_id), "--json")
    assert tested.exit_code == 0 and json.loads(tested.stdout)["ok"] is True


def test_add_replaces_and_test_reports_moodle_errors(app, runner, platform_id, moodle):
    assert _invoke(runner, "add", "--platform", str(platform_id), "--url", moodle.site_url,
                   "--token", WS_TOKEN).exit_code == 0
    replaced = _invoke(runner, "add", "--platform", str(platform_id), "--url", moodle.site_url,
                       "--token", BAD_TOKEN)
    assert replaced.exit_code == 0 and "connectors moodle test" in replaced.stdout
    assert _stored(app)[1] == BAD_TOKEN
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(MoodleConnector)) == 1
    tested = _invoke(runner, "test", "--platform", str(platform_id))
    assert tested.exit_code == 1
    assert "token is unknown to Moodle" in tested.stderr
    with app.app_context():
        assert "invalidtoken" in db.session.scalar(db.select(MoodleConnector)).last_error
    removed = _invoke(runner, "remove", "--platform", str(platform_id), "--json")
    assert removed.exit_code == 0 and _stored(app) is None


def test_failed_check_saves_nothing(app, runner, platform_id, moodle):
    result = _invoke(runner, "add", "--platform", str(platform_id), "--url", moodle.site_url,
                     "--token", BAD_TOKEN, "--check", "--json")
    assert result.exit_code == 1
    assert "Nothing was saved" in result.stderr and "token is unknown" in result.stderr
    assert result.stdout == ""
    assert _stored(app) is None


@pytest.mark.parametrize(("url", "token", "message"), [
    ("ftp://moodle.example", "a" * 32, "not an http(s) URL"),
    ("https://user:pw@moodle.example", "a" * 32, "user name or password"),
    ("https://moodle.example", "not a token", "does not look like a Moodle web-service token"),
])
def test_add_refuses_bad_input(app, runner, platform_id, url, token, message):
    result = _invoke(runner, "add", "--platform", str(platform_id), "--url", url,
                     "--token", token, "--json")
    assert result.exit_code != 0 and message in result.stderr, result.output
    assert _stored(app) is None


def test_add_refuses_unknown_platform_and_private_urls_in_production(app, runner, platform_id):
    unknown = _invoke(runner, "add", "--platform", "999", "--url", "https://m.example",
                      "--token", "a" * 32)
    assert unknown.exit_code != 0 and "No platform with id 999" in unknown.stderr
    app.config["ENV"] = "production"
    try:
        plain = _invoke(runner, "add", "--platform", str(platform_id), "--url",
                        "http://moodle.example", "--token", "a" * 32)
        assert plain.exit_code != 0 and "must use HTTPS" in plain.stderr
        loopback = _invoke(runner, "add", "--platform", str(platform_id), "--url",
                           "https://127.0.0.1:8443", "--token", "a" * 32)
        assert loopback.exit_code != 0 and "non-public address" in loopback.stderr
    finally:
        app.config["ENV"] = "test"
    assert _stored(app) is None
