"""Launches from an independent LTI 1.3 platform (tests/peer) over HTTP: the happy paths and
every way a launch must be refused, each with a 4xx a person can act on."""

from __future__ import annotations

import http.cookiejar
from urllib.parse import urlsplit

import pytest

from lti_badges.extensions import db
from lti_badges.models import LaunchSession, Platform
from tests.integration.conftest import course_id_of, launch_token, register


def test_learner_launch_lands_on_the_course_page(registered):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1")
    assert resp.status_code == 200, resp.text
    assert "/course/" in resp.url
    assert "Biologie 101" in resp.text
    assert "learner" in resp.text and "Léa Apprenante" in resp.text


@pytest.mark.parametrize(("user", "role_text"), [
    ("teacher", "teacher (design and award)"),
    ("designer", "teacher (design and award)"),
    ("admin", "teacher (design and award)"),
    ("ta", "teaching assistant (view)"),
])
def test_staff_launches(registered, user, role_text):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), user, "c1")
    assert resp.status_code == 200, resp.text
    assert role_text in resp.text


def test_launch_records_person_course_and_services(app, registered):
    peer = registered.peer
    peer.launch(peer.new_browser(), "learner", "c1", locale="fr-CA")
    with app.app_context():
        session = db.session.scalar(db.select(LaunchSession))
        assert session.person.email == "lea@example.test"
        assert session.course.context_id == "c1" and session.course.label == "BIO101"
        assert session.locale == "fr-CA"
        assert session.course.services["nrps_url"] == peer.memberships_url("c1")
        assert session.course.services["ags_lineitems"] == peer.lineitems_url("c1")


def test_replayed_id_token_is_refused_even_in_the_same_browser(registered):
    peer = registered.peer
    browser = peer.new_browser()
    first = peer.launch(browser, "learner", "c1")
    assert first.status_code == 200
    form = peer.last_launch_form
    replay = browser.post(form["action"], data={"id_token": form["id_token"],
                                                "state": form["state"]})
    assert replay.status_code == 401
    assert "already used" in replay.text
    assert "Request id" in replay.text


def test_replay_from_another_browser_is_refused(registered):
    peer = registered.peer
    peer.launch(peer.new_browser(), "learner", "c1")
    form = peer.last_launch_form
    replay = peer.new_browser().post(form["action"], data={"id_token": form["id_token"],
                                                           "state": form["state"]})
    assert replay.status_code in (400, 401)
    assert "open the activity again" in replay.text.lower()


@pytest.mark.parametrize(("tamper", "status", "words"), [
    ({"corrupt_signature": True}, 401, "signature does not verify"),
    ({"sign_with_foreign_key": True}, 401, "key"),
    ({"kid": "unknown-kid"}, 401, "does not contain the key"),
    ({"aud": "someone-else"}, 401, "not registered"),
    ({"exp_offset": -3600}, 401, "expired"),
    ({"iat_offset": 3600}, 401, "future"),
    ({"drop_claims": ["https://purl.imsglobal.org/spec/lti/claim/version"]}, 400, "version"),
    ({"drop_claims": ["https://purl.imsglobal.org/spec/lti/claim/message_type"]}, 400, "message"),
    ({"drop_claims": ["https://purl.imsglobal.org/spec/lti/claim/deployment_id"]}, 400,
     "deployment_id"),
    ({"drop_claims": ["https://purl.imsglobal.org/spec/lti/claim/roles"]}, 400, "Roles"),
    ({"drop_claims": ["https://purl.imsglobal.org/spec/lti/claim/resource_link"]}, 400,
     "Resource Link"),
    ({"drop_claims": ["nonce"]}, 401, "nonce"),
    ({"nonce": "not-the-one-we-issued"}, 401, "nonce"),
    ({"state": "st-forged"}, 400, "state is unknown"),
])
def test_bad_launches_are_refused_with_a_reason(registered, tamper, status, words):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1", tamper=tamper)
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert words in resp.text
    assert "Request id" in resp.text


def test_launch_without_the_state_cookie_is_refused(registered):
    """A browser that drops the tool's cookies (third-party cookies blocked in an iframe)."""
    peer = registered.peer
    browser = peer.new_browser()
    browser.cookies.set_policy(_NoCookiesFrom(registered))
    resp = peer.launch(browser, "learner", "c1")
    assert resp.status_code == 401
    assert "did not send back the cookie" in resp.text


def test_iframe_launch_passes_through_the_cookie_check(registered):
    """In an iframe the login answers a page that checks cookies before going to the
    platform; a browser that keeps cookies follows it and completes the launch."""
    peer = registered.peer
    browser = peer.new_browser()
    browser.headers["Sec-Fetch-Dest"] = "iframe"
    final = peer.launch(browser, "learner", "c1")
    assert final.status_code == 200 and "/course/" in final.url, final.text[:300]


class _NoCookiesFrom:
    """A cookie policy that refuses every cookie the tool sets (keeps the platform's)."""

    def __init__(self, registered):
        self._default = http.cookiejar.DefaultCookiePolicy()
        self.peer_port = registered.peer.port
        self.netscape, self.rfc2965, self.hide_cookie2 = True, False, False

    def set_ok(self, cookie, request):
        port = urlsplit(request.get_full_url()).port
        return port == self.peer_port and self._default.set_ok(cookie, request)

    def return_ok(self, cookie, request):
        return self._default.return_ok(cookie, request)

    def domain_return_ok(self, domain, request):
        return self._default.domain_return_ok(domain, request)

    def path_return_ok(self, path, request):
        return self._default.path_return_ok(path, request)


def test_unknown_deployment_is_refused(registered):
    peer = registered.peer
    peer.tools[registered.client_id].deployment_ids.append("dep-unknown")
    resp = peer.launch(peer.new_browser(), "learner", "c1", deployment_id="dep-unknown")
    assert resp.status_code == 403
    assert "dep-unknown" in resp.text and "not known to this tool" in resp.text


def test_unknown_issuer_is_refused_at_login(app, tool, registered, peer_b):
    peer_b.register_tool("tool-1", ["dep-1"], tool.url("/lti/login"), tool.url("/lti/launch"),
                         tool.url("/lti/jwks"))
    peer_b.add_course("c1")
    peer_b.add_user("u")
    peer_b.enroll("c1", "u")
    resp = peer_b.launch(peer_b.new_browser(), "u", "c1")
    assert resp.status_code == 401
    assert "is not registered with this tool" in resp.text


def test_pending_and_disabled_platforms_cannot_launch(app, tool, peer):
    reg = register(app, tool, peer, status="pending")
    peer.add_course("c1")
    peer.add_user("u")
    peer.enroll("c1", "u")
    resp = peer.launch(peer.new_browser(), "u", "c1")
    assert resp.status_code == 403 and "waiting for approval" in resp.text
    with app.app_context():
        db.session.get(Platform, reg.platform_id).status = "disabled"
        db.session.commit()
    resp = peer.launch(peer.new_browser(), "u", "c1")
    assert resp.status_code == 403 and "disabled" in resp.text


def test_disabling_a_platform_ends_its_sessions(app, registered):
    peer = registered.peer
    browser = peer.new_browser()
    resp = peer.launch(browser, "teacher", "c1")
    token, cid = launch_token(resp), course_id_of(resp)
    assert browser.get(resp.url).status_code == 200
    with app.app_context():
        db.session.get(Platform, registered.platform_id).status = "disabled"
        db.session.commit()
    after = browser.get(resp.url)
    assert after.status_code == 401 and token and cid


def test_platform_key_rotation_is_followed(registered):
    """An id_token signed with a kid the cached key set lacks makes the tool refetch once."""
    peer = registered.peer
    assert peer.launch(peer.new_browser(), "learner", "c1").status_code == 200
    peer.rotate_key()
    assert peer.launch(peer.new_browser(), "learner", "c1").status_code == 200


def test_login_checks_target_link_uri(registered):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1",
                       target_link_uri="https://evil.example/launch")
    assert resp.status_code == 400
    assert "does not belong to this tool" in resp.text


def test_login_with_get_works(registered):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1", login_method="GET")
    assert resp.status_code == 200


def test_launch_without_id_token_or_state(tool, registered):
    import requests

    resp = requests.post(tool.url("/lti/launch"), data={})
    assert resp.status_code == 400 and "no id_token" in resp.text
    resp = requests.post(tool.url("/lti/launch"), data={"id_token": "a.b.c"})
    assert resp.status_code == 400
    resp = requests.post(tool.url("/lti/launch"), data={"id_token": "not-a-jwt", "state": "x"})
    assert resp.status_code == 400 and "JWT" in resp.text
    resp = requests.get(tool.url("/lti/launch"))
    assert resp.status_code == 405


def test_login_without_parameters(tool):
    import requests

    resp = requests.post(tool.url("/lti/login"), data={})
    assert resp.status_code == 400 and "no issuer" in resp.text
    resp = requests.get(tool.url("/lti/login"), params={"iss": "https://nowhere.example",
                                                       "login_hint": "x"})
    assert resp.status_code == 401 and "not registered" in resp.text


def test_iframe_login_checks_cookies_first(registered, tool):
    """In an iframe (Sec-Fetch-Dest), login answers a page that tests cookies before moving on."""
    import requests

    resp = requests.post(tool.url("/lti/login"), headers={"Sec-Fetch-Dest": "iframe"}, data={
        "iss": registered.peer.issuer, "login_hint": "x", "client_id": registered.client_id,
        "target_link_uri": tool.url("/lti/launch")})
    assert resp.status_code == 200
    assert "lti_badges_cookie_check" in resp.text and "lti_badges_new_window" in resp.text
    assert any(c.name.startswith("lti_badges_state_") for c in resp.cookies)


def test_platform_key_set_is_cached_between_launches(registered):
    peer = registered.peer
    for user in ("learner", "teacher", "ta"):
        assert peer.launch(peer.new_browser(), user, "c1").status_code == 200
    fetches = [r for r in peer.request_log if r["path"] == "/jwks" and r["method"] == "GET"]
    assert len(fetches) == 1


def test_forged_kid_does_not_make_the_tool_hammer_the_platform(app, registered):
    """Unknown kids trigger at most one refetch per JWKS_REFETCH_MIN_SECONDS."""
    app.config["JWKS_REFETCH_MIN_SECONDS"] = 3600
    app.extensions["lti_badges.platform_keys"].min_refetch = 3600
    peer = registered.peer
    assert peer.launch(peer.new_browser(), "learner", "c1").status_code == 200
    for _ in range(3):
        resp = peer.launch(peer.new_browser(), "learner", "c1", tamper={"kid": "forged"})
        assert resp.status_code == 401
    fetches = [r for r in peer.request_log if r["path"] == "/jwks" and r["method"] == "GET"]
    assert len(fetches) == 1


def test_launch_locale_picks_french(registered):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1", locale="fr-CA")
    assert resp.status_code == 200
    assert 'lang="fr"' in resp.text and "Connecté·e en tant que" in resp.text
    assert "Mes badges" in resp.text
