"""Endpoints that need no launch, request ids, error answers, headers."""

from __future__ import annotations

import os
import stat

from lti_badges import create_app


def test_jwks_and_config_json(client, app):
    jwks = client.get("/lti/jwks")
    assert jwks.status_code == 200 and jwks.get_json()["keys"][0]["kid"]
    config = client.get("/lti/config.json").get_json()
    base = app.config["BASE_URL"]
    assert config["oidc_initiation_url"] == base + "/lti/login"
    assert config["target_link_uri"] == base + "/lti/launch"
    assert config["public_jwk_url"] == base + "/lti/jwks"
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in \
        config["scopes"]


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok",
                                                          "broker": "in-process"}}


def test_errors_carry_a_request_id(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    rid = resp.headers["X-Request-ID"]
    assert rid in resp.get_data(as_text=True)
    as_json = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert as_json.get_json()["request_id"] == as_json.headers["X-Request-ID"]
    assert as_json.get_json()["error"] == "not_found"
    given = client.get("/no/such/page", headers={"X-Request-ID": "lms-req-12345678"})
    assert given.headers["X-Request-ID"] == "lms-req-12345678"
    junk = client.get("/no/such/page", headers={"X-Request-ID": "<script>"})
    assert junk.headers["X-Request-ID"] != "<script>"


def test_unexpected_errors_are_500_with_request_id_and_nothing_saved(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("kaboom")

    resp = client.get("/boom-for-test")
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert "kaboom" not in body and resp.headers["X-Request-ID"] in body


def test_pages_are_embeddable_by_platforms_only_and_do_not_leak_referrers(client):
    resp = client.get("/")
    # No platform registered: only the tool itself may frame it (tests/unit/test_frames.py).
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]
    assert "frame-ancestors *" not in resp.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in resp.headers
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_wrong_methods_are_405(client):
    assert client.get("/lti/launch").status_code == 405
    assert client.post("/lti/jwks").status_code == 405


def test_secret_key_generated_once_with_private_mode(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("LTI_BADGES_SECRET_KEY", raising=False)
    instance = tmp_path / "inst"
    app = create_app({"ENV": "test", "DATABASE_URL": database_url}, instance_path=str(instance))
    secret = instance / "secret_key"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    again = create_app({"ENV": "test", "DATABASE_URL": database_url}, instance_path=str(instance))
    assert app.config["SECRET_KEY"] == again.config["SECRET_KEY"]


def test_settings_precedence(tmp_path, database_url, monkeypatch):
    conf = tmp_path / "conf.toml"
    conf.write_text('base_url = "https://from-file.example"\ntool_name = "File name"\n')
    monkeypatch.setenv("LTI_BADGES_CONFIG", str(conf))
    monkeypatch.setenv("LTI_BADGES_TOOL_NAME", "Env name")
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x" * 32},
                     instance_path=str(tmp_path))
    assert app.config["BASE_URL"] == "https://from-file.example"
    assert app.config["TOOL_NAME"] == "Env name"
    assert app.config["ENV"] == "production"
    # HTTPS base URL: cookies an LMS iframe can carry.
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None" and app.config["SESSION_COOKIE_SECURE"]


def test_bad_environment_name_is_refused(tmp_path, database_url):
    import pytest

    with pytest.raises(SystemExit, match="LTI_BADGES_ENV"):
        create_app({"ENV": "staging", "DATABASE_URL": database_url}, instance_path=str(tmp_path))


def test_models_match_migrations(app):
    """Every model change comes with a migration (autogenerate finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from lti_badges.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_healthz_reports_an_unreachable_broker(app, client):
    app.config["BROKER_URL"] = "redis://127.0.0.1:9/0"
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["broker"].startswith("error")
