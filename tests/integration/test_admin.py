"""The administration console over HTTP, from launches of the independent platform peer.

Only a launch with an administrator role opens it, and it shows and changes only the
platform that launch came from: its registrations, its Moodle connector (token stored
encrypted, never shown back; "Test connection" against the recorded Moodle answers), its
issuer profiles and keys, its courses' syncs, the tool's health.
"""

from __future__ import annotations

import re

import pytest
import requests

from lti_badges.crypto import fernet
from lti_badges.extensions import db
from lti_badges.models import Course, Issuer, MoodleConnector, Platform, SyncRun
from tests.integration.conftest import LIS, Console, launch_as, register, with_credential
from tests.unit.sources.replay import BAD_TOKEN, WS_TOKEN, MoodleWsReplay

ADMIN_ROLE = LIS + "institution/person#Administrator"


@pytest.fixture
def admin_a(tool, registered):
    _, token = launch_as(registered.peer, "admin")
    return Console(tool, token)


@pytest.fixture
def platform_b(app, tool, peer_b):
    reg = register(app, tool, peer_b, client_id="tool-b", deployment_id="dep-b")
    peer_b.add_course("c1", title="Platform B course")
    peer_b.add_user("admin", name="Bea Admin", extra_roles=[ADMIN_ROLE])
    peer_b.add_user("learner", name="B learner")
    peer_b.enroll("c1", "learner", roles=["Learner"])
    return reg


@pytest.fixture
def admin_b(tool, platform_b):
    _, token = launch_as(platform_b.peer, "admin")
    return Console(tool, token)


# -------------------------------------------------------------------------- access
@pytest.mark.parametrize("user", ["learner", "teacher", "ta", "designer"])
def test_non_admin_launches_get_403(tool, registered, user):
    browser, token = launch_as(registered.peer, user)
    for path in ("/admin/", "/admin/connector", "/admin/issuers", "/admin/keys", "/admin/sync",
                 "/admin/registrations", "/admin/health"):
        assert requests.get(tool.url(path), headers=with_credential(token)).status_code == 403, path
        # the launch browser's page state (its newest credential) is no way in either
        assert browser.get(tool.url(path)).status_code == 403, path
    resp = requests.post(tool.url("/admin/connector"), data={"lt": token, "url": "http://x"})
    assert resp.status_code == 403


def test_no_session_is_401(tool):
    assert requests.get(tool.url("/admin/")).status_code == 401
    assert requests.get(tool.url("/admin/"), headers=with_credential("nope")).status_code == 401


def test_admin_sees_their_platform(tool, registered, admin_a):
    page = admin_a.get("/admin/")
    assert page.status_code == 200
    assert registered.peer.issuer in page.text
    assert 'id="platform-client-id"><code>tool-1</code>' in page.text
    assert "dep-1" in page.text
    assert 'id="health-database"' in page.text


def test_admin_console_from_the_launch_page_state(tool, registered):
    """/admin/ is outside any course: the page sends the newest credential it holds."""
    browser, _ = launch_as(registered.peer, "admin")
    page = browser.get(tool.url("/admin/"))
    assert page.status_code == 200 and registered.peer.issuer in page.text


def test_console_in_french(tool, registered):
    _, token = launch_as(registered.peer, "admin", locale="fr-CA")
    page = requests.get(tool.url("/admin/connector"), headers=with_credential(token))
    assert 'lang="fr"' in page.text
    assert "Connecteur Moodle" in page.text and "Jeton du service web" in page.text


def test_posts_without_csrf_are_refused(app, tool, registered, admin_a):
    for path, data in (("/admin/connector", {"url": "http://127.0.0.1:9", "token": "a" * 32}),
                       ("/admin/issuers/new", {"name": "X", "url": "https://x.example",
                                               "email": "a@x.example"}),
                       ("/admin/keys/rotate", {}),
                       (f"/admin/registrations/{registered.platform_id}", {"action": "disable"})):
        resp = admin_a.post(path, data, csrf=False)
        assert resp.status_code == 400 and "CSRF" in resp.text, path
        resp = admin_a.post(path, {**data, "csrf_token": "0" * 64}, csrf=False)
        assert resp.status_code == 400, path
    with app.app_context():
        assert db.session.scalar(db.select(MoodleConnector)) is None
        assert db.session.scalar(db.select(Issuer)) is None


# -------------------------------------------------------------------------- registrations
def test_registrations_of_the_same_issuer_only(app, tool, registered, admin_a, admin_b):
    with app.app_context():
        pending = Platform(issuer=registered.peer.issuer, client_id="again", status="pending",
                           auth_login_url="http://127.0.0.1:1/auth", token_url="http://x/t",
                           jwks_url="http://127.0.0.1:1/jwks", registered_via="dynamic")
        db.session.add(pending)
        db.session.commit()
        pending_id = pending.id
    page = admin_a.get("/admin/registrations")
    assert f'id="registration-{registered.platform_id}"' in page.text
    assert f'id="approve-{pending_id}"' in page.text
    assert f'id="approve-{registered.platform_id}"' not in page.text  # not one's own
    assert "tool-b" not in page.text
    # Another platform's admin neither sees nor changes it.
    assert f'id="registration-{pending_id}"' not in admin_b.get("/admin/registrations").text
    assert admin_b.post(f"/admin/registrations/{pending_id}",
                        {"action": "approve"}).status_code == 404
    # One's own registration cannot be switched off from inside it.
    assert admin_a.post(f"/admin/registrations/{registered.platform_id}",
                        {"action": "disable"}).status_code == 400
    done = admin_a.post(f"/admin/registrations/{pending_id}", {"action": "approve"})
    assert done.status_code == 200 and 'id="registration-changed"' in done.text
    with app.app_context():
        assert db.session.get(Platform, pending_id).status == "active"
    admin_a.post(f"/admin/registrations/{pending_id}", {"action": "disable"})
    with app.app_context():
        assert db.session.get(Platform, pending_id).status == "disabled"
    assert f'id="approve-{pending_id}"' not in admin_a.get("/admin/registrations").text
    again = admin_a.post(f"/admin/registrations/{pending_id}", {"action": "approve"})
    assert again.status_code == 400 and "operator" in again.text
    assert admin_a.post(f"/admin/registrations/{pending_id}",
                        {"action": "delete"}).status_code == 400
    with app.app_context():
        assert db.session.get(Platform, pending_id).status == "disabled"
        assert db.session.get(Platform, registered.platform_id).status == "active"


# -------------------------------------------------------------------------- connector
@pytest.fixture
def moodle():
    with MoodleWsReplay() as replay:
        yield replay


def test_connector_token_is_encrypted_and_never_shown(app, tool, registered, admin_a, moodle):
    resp = admin_a.post("/admin/connector", {"url": moodle.site_url + "/", "token": WS_TOKEN})
    assert resp.status_code == 200 and 'id="connector-saved"' in resp.text
    assert WS_TOKEN not in resp.text
    assert f"…{WS_TOKEN[-4:]}" in resp.text
    assert WS_TOKEN[:-4] not in resp.text
    with app.app_context():
        row = db.session.scalar(db.select(MoodleConnector))
        assert row.platform_id == registered.platform_id
        assert row.url == moodle.site_url  # trailing slash dropped
        assert WS_TOKEN not in row.token_encrypted
        secret = app.config["SECRET_KEY"]
        assert fernet(secret, "moodle-token").decrypt(row.token_encrypted.encode()).decode() \
            == WS_TOKEN
    # Saving the URL again with an empty token keeps the stored token.
    admin_a.post("/admin/connector", {"url": moodle.site_url, "token": ""})
    with app.app_context():
        row = db.session.scalar(db.select(MoodleConnector))
        assert fernet(app.config["SECRET_KEY"], "moodle-token").decrypt(
            row.token_encrypted.encode()).decode() == WS_TOKEN


def test_connector_refuses_bad_input(app, tool, registered, admin_a):
    bad_url = admin_a.post("/admin/connector", {"url": "ftp://moodle.example", "token": "a" * 32})
    assert bad_url.status_code == 400 and 'id="connector-error"' in bad_url.text
    assert "not an http(s) URL" in bad_url.text
    no_token = admin_a.post("/admin/connector", {"url": "http://127.0.0.1:9", "token": ""})
    assert no_token.status_code == 400 and "token is required" in no_token.text
    bad_token = admin_a.post("/admin/connector", {"url": "http://127.0.0.1:9",
                                                  "token": "two words"})
    assert bad_token.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(MoodleConnector)) is None


def test_connector_refuses_private_addresses_in_production(app, tool, registered, admin_a):
    app.config["ENV"] = "production"
    try:
        resp = admin_a.post("/admin/connector", {"url": "http://127.0.0.1:9", "token": "a" * 32})
        assert resp.status_code == 400 and "must use HTTPS" in resp.text
        resp = admin_a.post("/admin/connector", {"url": "https://127.0.0.1:9",
                                                 "token": "a" * 32})
        assert resp.status_code == 400 and "non-public address" in resp.text
    finally:
        app.config["ENV"] = "test"


def test_connection_ok_and_invalid_token_in_plain_words(app, tool, registered, admin_a, moodle):
    admin_a.post("/admin/connector", {"url": moodle.site_url, "token": WS_TOKEN})
    ok = admin_a.post("/admin/connector/test")
    assert ok.status_code == 200
    assert 'id="connector-test-result" role="status" data-ok="true"' in ok.text
    assert "Connection OK" in ok.text
    assert "Connected to LTI Harness Moodle (Moodle 5.0.6+" in ok.text
    assert moodle.calls("core_webservice_get_site_info")[-1]["wstoken"] == WS_TOKEN
    with app.app_context():
        row = db.session.scalar(db.select(MoodleConnector))
        assert row.site_name == "LTI Harness Moodle" and row.last_error is None
        assert row.last_checked_at is not None

    admin_a.post("/admin/connector", {"url": moodle.site_url, "token": BAD_TOKEN})
    bad = admin_a.post("/admin/connector/test")
    assert 'data-ok="false"' in bad.text and "Connection failed" in bad.text
    assert "token is unknown to Moodle" in bad.text
    assert "Manage tokens" in bad.text
    assert BAD_TOKEN not in bad.text
    with app.app_context():
        assert "invalidtoken" in db.session.scalar(db.select(MoodleConnector)).last_error


def test_connection_names_missing_functions(tool, registered, admin_a):
    site_info = {"sitename": "Partial Moodle", "username": "badgeconnector", "userid": 3,
                 "release": "5.0", "functions": [{"name": "core_webservice_get_site_info"}]}
    with MoodleWsReplay(overrides={"core_webservice_get_site_info": site_info}) as replay:
        admin_a.post("/admin/connector", {"url": replay.site_url, "token": WS_TOKEN})
        page = admin_a.post("/admin/connector/test")
    assert 'data-ok="false"' in page.text
    missing = re.search(r'<ul id="connector-missing-functions">(.*?)</ul>', page.text, re.S)
    assert missing and "core_enrol_get_enrolled_users" in missing.group(1)
    assert "gradereport_user_get_grade_items" in missing.group(1)


def test_connection_when_web_services_are_off(tool, registered, admin_a):
    with MoodleWsReplay(disabled=True) as replay:
        admin_a.post("/admin/connector", {"url": replay.site_url, "token": WS_TOKEN})
        page = admin_a.post("/admin/connector/test")
    assert 'data-ok="false"' in page.text and "Enable web services" in page.text


def test_second_platform_cannot_see_the_first_ones_connector_or_issuers(
        app, tool, registered, admin_a, admin_b, moodle):
    admin_a.post("/admin/connector", {"url": moodle.site_url, "token": WS_TOKEN})
    created = admin_a.post("/admin/issuers/new", {"name": "Cégep A", "url": "https://a.example",
                                                  "email": "badges@a.example"})
    assert created.status_code == 200
    with app.app_context():
        issuer = db.session.scalar(db.select(Issuer))
        pid = issuer.public_id
        assert issuer.platform_id == registered.platform_id
    b_connector = admin_b.get("/admin/connector")
    assert b_connector.status_code == 200
    assert moodle.site_url not in b_connector.text and 'id="connector-summary"' not in b_connector.text
    assert admin_b.post("/admin/connector/test").status_code == 400
    b_issuers = admin_b.get("/admin/issuers")
    assert "Cégep A" not in b_issuers.text and 'id="no-issuers"' in b_issuers.text
    assert admin_b.get(f"/admin/issuers/{pid}").status_code == 404
    assert admin_b.post(f"/admin/issuers/{pid}", {"name": "Mine now", "url": "https://b.example",
                                                  "email": "b@b.example"}).status_code == 404
    assert admin_b.post("/admin/keys/rotate", {"issuer": pid}).status_code == 404
    assert "Cégep A" not in admin_b.get("/admin/keys").text
    # B's admin using A's launch token explicitly is A's admin, not B's: no mixing.
    with app.app_context():
        assert db.session.scalar(db.select(Issuer).filter_by(public_id=pid)).name == "Cégep A"
        assert db.session.scalar(db.select(db.func.count()).select_from(MoodleConnector)) == 1


# -------------------------------------------------------------------------- issuers and keys
def test_issuer_profiles_create_edit_and_validate(app, tool, registered, admin_a):
    bad = admin_a.post("/admin/issuers/new", {"name": "Cégep", "url": "https://c.example",
                                              "email": "not-an-email"})
    assert bad.status_code == 400 and 'id="issuer-error"' in bad.text
    assert 'value="Cégep"' in bad.text  # the form keeps what was typed
    made = admin_a.post("/admin/issuers/new", {"name": "Cégep Exemple",
                                               "url": "https://cegep.example",
                                               "email": "badges@cegep.example",
                                               "description": "Badges du cégep"})
    assert made.status_code == 200 and 'id="issuer-saved"' in made.text
    with app.app_context():
        issuer = db.session.scalar(db.select(Issuer))
        pid = issuer.public_id
        assert {k.kind for k in issuer.keys} == {"ed25519", "rsa"}
    assert f'id="issuer-{pid}"' in made.text
    edited = admin_a.post(f"/admin/issuers/{pid}", {"name": "Cégep Renommé",
                                                    "url": "https://cegep.example/badges",
                                                    "email": "badges@cegep.example",
                                                    "description": ""})
    assert edited.status_code == 200 and "Cégep Renommé" in edited.text
    profile = requests.get(tool.url(f"/ob/issuers/{pid}"),
                           headers={"Accept": "application/ld+json"}).json()
    assert profile["name"] == "Cégep Renommé" and profile["url"] == "https://cegep.example/badges"
    refused = admin_a.post(f"/admin/issuers/{pid}", {"name": "", "url": "javascript:alert(1)",
                                                     "email": "badges@cegep.example"})
    assert refused.status_code == 400
    with app.app_context():
        row = db.session.scalar(db.select(Issuer))
        assert row.name == "Cégep Renommé" and row.description is None


def test_key_rotation_keeps_old_keys_published(app, tool, registered, admin_a):
    admin_a.post("/admin/issuers/new", {"name": "Cégep", "url": "https://c.example",
                                        "email": "b@c.example"})
    with app.app_context():
        issuer = db.session.scalar(db.select(Issuer))
        pid = issuer.public_id
        old = {k.kid for k in issuer.keys}
        # By the key's kind: an RSA thumbprint may start with "z" as a multibase kid does.
        ed_old = {k.kid for k in issuer.keys if k.kind == "ed25519"}
    page = admin_a.get("/admin/keys")
    for kid in old:
        assert f'data-kid="{kid}" data-status="active"' in page.text
    assert 'id="lti-kids"' in page.text
    rotated = admin_a.post("/admin/keys/rotate", {"issuer": pid})
    assert rotated.status_code == 200 and 'id="keys-rotated"' in rotated.text
    with app.app_context():
        keys = db.session.scalars(db.select(Issuer).filter_by(public_id=pid)).one().keys
        new = {k.kid for k in keys if k.status == "active"}
        assert len(new) == 2 and not new & old
        assert {k.kid for k in keys if k.status == "retired"} == old
    for kid in old:
        assert f'data-kid="{kid}" data-status="retired"' in rotated.text
    for kid in new:
        assert f'data-kid="{kid}" data-status="active" data-new="true"' in rotated.text
    did = requests.get(tool.url(f"/ob/issuers/{pid}/did.json")).json()
    published = {vm["id"].split("#")[1] for vm in did["verificationMethod"]}
    assert ed_old and ed_old <= published  # the retired Ed25519 key still verifies old credentials


# -------------------------------------------------------------------------- sync and health
def test_sync_status_per_course_of_the_platform(app, tool, registered, admin_a, admin_b):
    with app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(
            platform_id=registered.platform_id, context_id="c1"))
        db.session.add(SyncRun(course_id=course.id, trigger="manual", status="done", total=4,
                               done=4, awarded=1))
        db.session.add(SyncRun(course_id=course.id, trigger="schedule", status="partial",
                               total=4, done=2, errors=[{"error": "NRPS answered HTTP 503"}]))
        db.session.commit()
        cid = course.id
    page = admin_a.get("/admin/sync")
    row = re.search(rf'<tr id="sync-course-{cid}" data-status="(\w+)">(.*?)</tr>', page.text,
                    re.S)
    assert row and row.group(1) == "partial"
    assert "NRPS answered HTTP 503" in row.group(2) and "Biologie 101" in row.group(2)
    b_page = admin_b.get("/admin/sync")
    assert f'id="sync-course-{cid}"' not in b_page.text and "Biologie 101" not in b_page.text


def test_health(tool, registered, admin_a):
    page = admin_a.get("/admin/health")
    assert page.status_code == 200
    assert re.search(r'id="health-database"><th scope="row">Database</th>\s*<td>OK', page.text)
    data = admin_a.get("/admin/health", headers={"Accept": "application/json"}).json()
    assert data == requests.get(tool.url("/healthz")).json()
