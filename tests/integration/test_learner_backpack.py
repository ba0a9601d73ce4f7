"""A learner connects a backpack from the course page (discovery, RFC 7591 registration,
authorization code with PKCE) and sends an earned badge there; the push goes through the
outbox and the page shows where it stands."""

from __future__ import annotations

import re
import time

import pytest

from lti_badges import awarding
from lti_badges.extensions import db
from lti_badges.models import BackpackPush
from tests.backpack_server import BackpackServer
from tests.integration.conftest import csrf_of, launch_token, with_credential


@pytest.fixture
def backpack():
    server = BackpackServer()
    server.add_account("l1", "l1@example.test")
    server.consent_account = "l1"
    with server:
        yield server


def test_connect_and_push_from_the_learner_page(app, tool, course, backpack):
    with app.app_context():
        assert awarding.sync_course(course["id"]).awarded
    peer = course["peer"]
    browser = peer.new_browser()
    page = peer.launch(browser, "l1", "c1")
    assert page.status_code == 200 and "/learn" in page.url
    token, csrf = launch_token(page), csrf_of(page.text)
    award_id = re.search(r'id="award-([0-9a-f]+)"', page.text).group(1)
    base = tool.url(f"/course/{course['id']}/learn")
    # Accept, then connect the backpack (the consent page is the backpack's).
    assert browser.post(f"{base}/awards/{award_id}/claim",
                        data={"lt": token, "csrf_token": csrf}).status_code == 200
    started = browser.post(f"{base}/backpacks/connect", allow_redirects=False,
                           data={"lt": token, "csrf_token": csrf, "address": backpack.base_url})
    assert started.status_code == 303
    auth_url = started.headers["Location"]
    assert auth_url.startswith(backpack.base_url) and "code_challenge_method=S256" in auth_url
    back = backpack.consent(auth_url)
    done = browser.get(tool.url("/backpack/callback"), params=back)
    assert done.status_code == 200 and 'id="backpack-connected"' in done.text
    page = browser.get(base + "/", headers=with_credential(token))
    connection = re.search(r'name="connection"><option value="(\d+)"', page.text).group(1)
    queued = browser.post(f"{base}/awards/{award_id}/push",
                          data={"lt": token, "csrf_token": csrf, "connection": connection})
    assert queued.status_code == 200 and "on its way to your backpack" in queued.text
    deadline = time.monotonic() + 30
    with app.app_context():
        while time.monotonic() < deadline:
            db.session.expire_all()
            push = db.session.scalar(db.select(BackpackPush))
            if push is not None and push.state in ("done", "failed", "gave_up"):
                break
            time.sleep(0.2)
        assert push.state == "done", (push.state, push.last_message)
    stored = {**backpack.assertions("l1"), **backpack.credentials("l1")}
    assert stored, "the badge did not reach the backpack"
    page = browser.get(base + "/", headers=with_credential(token))
    assert "In your backpack" in page.text


def test_backpack_routes_refuse_strangers_and_bad_input(app, tool, course, backpack):
    with app.app_context():
        awarding.sync_course(course["id"])
    peer = course["peer"]
    other = peer.new_browser()
    page = peer.launch(other, "l2", "c1")
    token, csrf = launch_token(page), csrf_of(page.text)
    base = tool.url(f"/course/{course['id']}/learn")
    with app.app_context():
        from lti_badges.models import Award

        l1_award = db.session.scalar(db.select(Award)).public_id
    resp = other.post(f"{base}/awards/{l1_award}/push",
                      data={"lt": token, "csrf_token": csrf, "connection": "1"})
    assert resp.status_code == 404
    resp = other.post(f"{base}/backpacks/connect", data={"lt": token, "csrf_token": csrf,
                                                         "address": ""})
    assert resp.status_code == 400 and "address (for example" in resp.text
    resp = other.post(f"{base}/backpacks/connect",
                      data={"lt": token, "csrf_token": csrf, "address": "http://127.0.0.1:9"})
    assert 400 <= resp.status_code < 600 and resp.status_code != 500
    resp = other.get(tool.url("/backpack/callback"))
    assert resp.status_code == 400 and "state" in resp.text
    resp = other.get(tool.url("/backpack/callback"), params={"state": "forged", "code": "x"})
    assert 400 <= resp.status_code < 500
