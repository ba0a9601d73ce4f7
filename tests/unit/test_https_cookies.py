"""Over HTTPS the tool's cookies are SameSite=None; Secure, as an LMS iframe needs."""

from __future__ import annotations

from lti_badges import create_app
from lti_badges.extensions import db
from lti_badges.models import Deployment, Platform


def test_login_and_session_cookies_over_https(tmp_path, database_url):
    app = create_app({"ENV": "test", "DATABASE_URL": database_url, "SECRET_KEY": "s" * 40,
                      "BASE_URL": "https://badges.example.edu"}, instance_path=str(tmp_path))
    with app.app_context():
        platform = Platform(issuer="https://lms.example.edu", client_id="c", status="active",
                            auth_login_url="https://lms.example.edu/auth",
                            token_url="https://lms.example.edu/token",
                            jwks_url="https://lms.example.edu/jwks")
        platform.deployments.append(Deployment(deployment_id="1"))
        db.session.add(platform)
        db.session.commit()
    client = app.test_client()
    resp = client.post("/lti/login", base_url="https://badges.example.edu", data={
        "iss": "https://lms.example.edu", "login_hint": "u1", "client_id": "c",
        "target_link_uri": "https://badges.example.edu/lti/launch"})
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("https://lms.example.edu/auth?")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("lti_badges_state_"))
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    assert app.config["SESSION_COOKIE_SECURE"] is True
