"""The `lti-badges` command line: the DESIGN.md contract, --json, errors on stderr."""

from __future__ import annotations

from lti_badges.extensions import db
from lti_badges.models import Platform, RegistrationInvite
from tests.support.cli import cli_json


def test_platforms_add_list_disable_approve_remove(app, runner):
    add = ["platforms", "add", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
           "--login-url", "https://moodle.example.edu/mod/lti/auth.php",
           "--token-url", "https://moodle.example.edu/mod/lti/token.php",
           "--jwks-url", "https://moodle.example.edu/mod/lti/certs.php",
           "--deployment", "1", "--deployment", "7", "--json"]
    platform = cli_json(runner.invoke(args=add))
    assert platform["status"] == "active" and platform["deployments"] == ["1", "7"]
    # Adding again adds nothing twice.
    assert cli_json(runner.invoke(args=add))["deployments"] == ["1", "7"]
    listed = cli_json(runner.invoke(args=["platforms", "list", "--json"]))
    assert [p["client_id"] for p in listed] == ["abc"]
    pid = str(platform["id"])
    assert cli_json(runner.invoke(args=["platforms", "disable", pid, "--json"]))["status"] == "disabled"
    assert cli_json(runner.invoke(args=["platforms", "approve", pid, "--json"]))["status"] == "active"
    text = runner.invoke(args=["platforms", "list"])
    assert "https://moodle.example.edu" in text.output and "active" in text.output
    removed = cli_json(runner.invoke(args=["platforms", "remove", pid, "--yes", "--json"]))
    assert removed["removed"]["id"] == platform["id"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0


def test_errors_exit_non_zero_with_a_message(runner):
    result = runner.invoke(args=["platforms", "approve", "999"])
    assert result.exit_code != 0 and "No platform with id 999" in result.output
    result = runner.invoke(args=["platforms", "add", "--issuer", "ftp://x", "--client-id", "a",
                                 "--login-url", "x", "--token-url", "x", "--jwks-url", "x",
                                 "--deployment", "1"])
    assert result.exit_code != 0 and "not an http(s) URL" in result.output
    result = runner.invoke(args=["platforms", "add", "--issuer", "https://x.example"])
    assert result.exit_code != 0 and "Missing option" in result.output


def test_production_refuses_http_platform_urls(app, runner):
    app.config["ENV"] = "production"
    result = runner.invoke(args=["platforms", "add", "--issuer", "http://moodle.example.edu",
                                 "--client-id", "a", "--login-url", "http://m/a",
                                 "--token-url", "http://m/t", "--jwks-url", "http://m/j",
                                 "--deployment", "1"])
    assert result.exit_code != 0 and "HTTPS" in result.output


def test_invite_prints_a_one_time_registration_url(app, runner):
    data = cli_json(runner.invoke(args=["platforms", "invite", "--json"]))
    assert data["registration_url"].startswith(app.config["BASE_URL"] + "/lti/register?invite=")
    code = data["registration_url"].split("invite=")[1]
    with app.app_context():
        row = db.session.scalar(db.select(RegistrationInvite))
        assert row.used_at is None and code not in row.code_hash  # only the hash is kept


def test_keys_rotate_keeps_the_old_key_published(app, runner, client):
    before = client.get("/lti/jwks").get_json()["keys"]
    assert len(before) == 1
    data = cli_json(runner.invoke(args=["keys", "rotate", "--json"]))
    after = client.get("/lti/jwks").get_json()["keys"]
    assert [k["kid"] for k in after] == data["published_kids"]
    assert data["active_kid"] == after[0]["kid"] and before[0]["kid"] == after[1]["kid"]
    for key in after:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert "d" not in key and "p" not in key  # public halves only


def test_init_is_idempotent(runner):
    first = cli_json(runner.invoke(args=["init", "--json"]))
    second = cli_json(runner.invoke(args=["init", "--json"]))
    assert first["registration_url"].endswith("/lti/register") and first == second
