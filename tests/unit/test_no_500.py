"""Bad input at every route answers 4xx (or a normal page), never a 500."""

from __future__ import annotations

import pytest

JUNK = ["", "x", "../../etc/passwd", "'; DROP TABLE platforms;--", "%00", "\u202e\u0000",
        "a" * 5000, "{\"json\": true}", "eyJhbGciOiJub25lIn0.e30."]


def _paths(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: 1 for arg in rule.arguments}
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "1")
        yield path, rule.methods - {"HEAD", "OPTIONS"}, values


@pytest.mark.parametrize("junk", JUNK)
def test_every_route_with_junk(app, client, junk):
    for path, methods, _ in _paths(app):
        for method in methods:
            params = {k: junk for k in ("iss", "login_hint", "client_id", "target_link_uri",
                                         "id_token", "state", "lt", "openid_configuration",
                                         "registration_token", "invite", "csrf_token",
                                         "language", "title")}
            if method == "GET":
                resp = client.get(path, query_string=params)
            else:
                resp = client.open(path, method=method, data=params)
            assert resp.status_code < 500, (method, path, junk, resp.status_code)
            if resp.status_code >= 400:
                assert resp.headers.get("X-Request-ID")


def test_wrong_methods_and_bodies(app, client):
    for path, methods, _ in _paths(app):
        for method in ("PUT", "DELETE", "PATCH"):
            if method not in methods:
                assert client.open(path, method=method).status_code in (404, 405)
        resp = client.post(path, data=b"\xff\xfe garbage", content_type="application/json")
        assert resp.status_code < 500, path


@pytest.mark.parametrize("body", ['{"input": "\\ud800"}', '{"input": "https://x.example/\\udfff"}'])
def test_verify_api_refuses_text_that_is_not_unicode(client, body):
    resp = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_text"
