"""frame-ancestors follows the registered platforms (web.frames)."""

from __future__ import annotations

import pytest

from lti_badges.extensions import db
from lti_badges.models import Platform
from lti_badges.web import frames


def _platform(issuer: str, login: str, status: str = "active", client_id: str = "c") -> Platform:
    row = Platform(issuer=issuer, client_id=client_id, status=status, auth_login_url=login,
                   token_url=login + "/token", jwks_url=login + "/jwks")
    db.session.add(row)
    db.session.commit()
    return row


def _ancestors(client) -> list[str]:
    csp = client.get("/").headers["Content-Security-Policy"]
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors"))
    return directive.split()[1:]


@pytest.mark.parametrize("url,origin", [
    ("https://moodle.example/", "https://moodle.example"),
    ("https://moodle.example:8443/mod/lti/auth.php", "https://moodle.example:8443"),
    ("HTTP://Moodle.Example/x", "http://moodle.example"),
    ("https://[::1]:8080/x", "https://[::1]:8080"),
    ("javascript:alert(1)", None), ("https://a b/", None), ("https://*.example", None),
    ("https://x.example;script-src", None), ("", None), (None, None), ("https://é.example", None),
    ("https://x.example:99999/", None),
])
def test_origin_of(url, origin):
    assert frames.origin_of(url) == origin


def test_frame_ancestors_are_the_active_platforms_and_what_their_launches_showed(app, client):
    with app.app_context():
        assert _ancestors(client) == ["'self'"]
        moodle = _platform("https://moodle.example", "https://moodle.example/mod/lti/auth.php")
        _platform("https://canvas.instructure.com", "https://sso.canvaslms.com/api/lti/authorize",
                  client_id="c2")
        _platform("https://old.example", "https://old.example/auth", status="disabled",
                  client_id="c3")
        got = _ancestors(client)
        assert got == ["'self'", "https://moodle.example", "https://canvas.instructure.com",
                       "https://sso.canvaslms.com"]
        assert "https://old.example" not in got and "*" not in got
        # A school's Canvas site differs from the issuer: its launches teach the tool.
        frames.learn_origins(moodle, "https://school.instructure.com", "javascript:x",
                             "https://moodle.example/course/view.php?id=2")
        db.session.commit()
        assert "https://school.instructure.com" in _ancestors(client)
        assert moodle.frame_origins == ["https://school.instructure.com"]


def test_operator_can_add_origins(app, client):
    app.config["FRAME_ANCESTORS"] = "https://portal.example https://bad.example;x"
    with app.app_context():
        assert _ancestors(client) == ["'self'", "https://portal.example"]
