"""The launch's page credential: where it lives, how long, and what a launch answers.

(static/launch.js keeps it in sessionStorage; tests/e2e/test_copied_links.py shows the
same in Chromium.)"""

from __future__ import annotations

import time
from datetime import timedelta

import requests

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models import LaunchSession, Platform
from tests.integration.conftest import course_id_of, launch_token, with_credential
from tests.support.page_scripts import launching


def test_the_launch_answers_a_page_holding_the_credential_not_an_address(registered):
    peer = registered.peer
    browser = peer.new_browser()
    type(peer).page_scripts, saved = None, type(peer).page_scripts  # see the raw answer
    try:
        answer = peer.launch(browser, "teacher", "c1")
    finally:
        type(peer).page_scripts = saved
    assert answer.status_code == 200 and answer.url.endswith("/lti/launch")
    assert answer.history == []  # no redirect: nothing of the session went into a Location
    data = launching(answer)
    assert data and data["target"].startswith("/course/") and "lt=" not in data["target"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    # The tool remembers nothing in the browser: no session cookie carries the launch.
    assert not [c for c in browser.cookies if c.name == "session"]
    page = requests.get(answer.url.replace("/lti/launch", data["target"]),
                        headers=with_credential(data["credential"]))
    assert page.status_code == 200 and "Biologie 101" in page.text


def test_every_answer_renews_and_an_old_credential_ends(app, tool, registered):
    app.config["PAGE_CREDENTIAL_TTL_SECONDS"] = 3
    try:
        resp = registered.peer.launch(registered.peer.new_browser(), "teacher", "c1")
        first, cid = launch_token(resp), course_id_of(resp)
        url = tool.url(f"/course/{cid}/people")
        page = requests.get(url, headers=with_credential(first))
        assert page.status_code == 200
        renewed = page.headers["X-Launch-Credential-Next"]
        assert renewed  # (the same string within one second: it is dated to the second)
        # (Credentials are dated to the second: sleeps keep clear of the boundaries.)
        time.sleep(2.0)
        by_post = requests.post(tool.url("/lti/session/renew"), headers=with_credential(renewed))
        assert by_post.status_code == 200 and by_post.headers["Cache-Control"] == "no-store"
        body = by_post.json()
        assert body["course_id"] == cid and body["expires_in"] == 3
        time.sleep(2.2)  # the launch's first credential is now older than its 3 s
        ended = requests.get(url, headers=with_credential(first))
        assert ended.status_code == 401 and "Open the tool again" in ended.text
        assert requests.post(tool.url("/lti/session/renew"),
                             headers=with_credential(first)).status_code == 401
        assert requests.get(url, headers=with_credential(body["credential"])).status_code == 200
    finally:
        app.config["PAGE_CREDENTIAL_TTL_SECONDS"] = 900


def test_credential_is_refused_once_the_session_or_platform_ends(app, tool, registered):
    resp = registered.peer.launch(registered.peer.new_browser(), "learner", "c1")
    token, cid = launch_token(resp), course_id_of(resp)
    url = tool.url(f"/course/{cid}/learn/")
    assert requests.get(url, headers=with_credential(token)).status_code == 200
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                   token.split(".")[0] + ".e30.AAAA", "é" * 40, "a" * 301):
        assert requests.get(url, headers=with_credential(forged)).status_code == 401
    with app.app_context():
        db.session.execute(db.update(Platform).values(status="disabled"))
        db.session.commit()
    assert requests.get(url, headers=with_credential(token)).status_code == 401
    with app.app_context():
        db.session.execute(db.update(Platform).values(status="active"))
        db.session.execute(db.update(LaunchSession).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    assert requests.get(url, headers=with_credential(token)).status_code == 401


def test_renewal_needs_a_credential(tool):
    resp = requests.post(tool.url("/lti/session/renew"))
    assert resp.status_code == 401 and "Open the tool again" in resp.text
