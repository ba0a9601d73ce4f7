"""Roles and tenancy as a matrix: platform × course × role × route.

A launch session opens exactly its own course on its own platform, with what
its role allows; everything else is 401/403, never another course's data.
"""

from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import course_id_of, csrf_of, launch_token, register

ROUTES = {
    # route: (method, path template, roles allowed)
    "home": ("GET", "/course/{cid}/", {"learner", "teacher", "ta", "designer"}),
    "people": ("GET", "/course/{cid}/people", {"teacher", "ta", "designer"}),
    "settings": ("GET", "/course/{cid}/settings", {"teacher", "designer"}),
    "settings_post": ("POST", "/course/{cid}/settings", {"teacher", "designer"}),
    "me": ("GET", "/course/{cid}/me", {"learner"}),
}
ROLES = ("learner", "teacher", "ta", "designer")


@pytest.fixture
def world(app, tool, registered, peer_b):
    """Platform A with courses c1 and c2; platform B with its own c1 (same context id)."""
    register(app, tool, peer_b, client_id="tool-b", deployment_id="dep-b")
    peer_b.add_course("c1", title="Platform B course")
    for user in ROLES:
        peer_b.add_user(user, name=f"B {user}")
    peer_b.enroll("c1", "learner", roles=["Learner"])
    peer_b.enroll("c1", "teacher", roles=["Instructor"])
    peer_b.enroll("c1", "ta", roles=["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"])
    peer_b.enroll("c1", "designer", roles=["ContentDeveloper"])
    sessions = {}
    for label, peer, course in (("A/c1", registered.peer, "c1"), ("A/c2", registered.peer, "c2"),
                                ("B/c1", peer_b, "c1")):
        for role in ROLES:
            browser = peer.new_browser()
            resp = peer.launch(browser, role, course)
            assert resp.status_code == 200, (label, role, resp.text[:300])
            sessions[(label, role)] = {
                "browser": browser, "token": launch_token(resp), "cid": course_id_of(resp),
                "csrf": None,
            }
    # CSRF tokens come from the pages the staff can open.
    for (label, role), s in sessions.items():
        if role in ("teacher", "designer"):
            page = requests.get(tool.url(f"/course/{s['cid']}/settings"),
                                params={"lt": s["token"]})
            s["csrf"] = csrf_of(page.text)
    course_ids = {label: sessions[(label, "learner")]["cid"] for label in ("A/c1", "A/c2", "B/c1")}
    assert len(set(course_ids.values())) == 3  # same context id on A and B: two courses
    return {"sessions": sessions, "courses": course_ids}


def _call(tool, method, path, token, csrf):
    if method == "GET":
        return requests.get(tool.url(path), params={"lt": token})
    return requests.post(tool.url(path), data={"lt": token, "csrf_token": csrf or "",
                                               "language": "fr", "auto_sync": "on"})


def test_matrix(tool, world):
    failures = []
    for (label, role), s in world["sessions"].items():
        for target_label, cid in world["courses"].items():
            for route, (method, template, allowed) in ROUTES.items():
                resp = _call(tool, method, template.format(cid=cid), s["token"], s["csrf"])
                if target_label != label:
                    expected = {403}
                elif role in allowed:
                    expected = {200}
                else:
                    expected = {403}
                if resp.status_code not in expected:
                    failures.append((label, role, target_label, route, resp.status_code))
                if resp.status_code == 200 and target_label != label:
                    failures.append(("LEAK", label, role, target_label, route))
    assert not failures, failures


def test_pages_show_only_their_own_course(tool, world):
    s = world["sessions"][("A/c1", "teacher")]
    page = requests.get(tool.url(f"/course/{s['cid']}/people"), params={"lt": s["token"]})
    assert "Léa Apprenante" in page.text and "B learner" not in page.text
    b = world["sessions"][("B/c1", "teacher")]
    page = requests.get(tool.url(f"/course/{b['cid']}/people"), params={"lt": b["token"]})
    assert "B learner" in page.text and "Léa Apprenante" not in page.text


def test_no_session_and_forged_tokens(tool, world):
    cid = world["courses"]["A/c1"]
    for token in (None, "", "forged-token", "x" * 500):
        params = {"lt": token} if token is not None else {}
        resp = requests.get(tool.url(f"/course/{cid}/"), params=params)
        assert resp.status_code == 401 and "Open the tool again" in resp.text


def test_cookie_session_is_per_course(tool, world):
    """With cookies working, the browser's signed session finds the launch of that course only."""
    s = world["sessions"][("A/c1", "teacher")]
    browser = s["browser"]
    assert browser.get(tool.url(f"/course/{s['cid']}/people")).status_code == 200
    other = world["courses"]["A/c2"]
    # The same browser never launched into c2 as this teacher: its cookie has no token for it.
    assert browser.get(tool.url(f"/course/{other}/people")).status_code == 401


def test_csrf_on_forms(tool, world):
    s = world["sessions"][("A/c1", "teacher")]
    path = f"/course/{s['cid']}/settings"
    assert _call(tool, "POST", path, s["token"], None).status_code == 400
    assert "CSRF" in _call(tool, "POST", path, s["token"], "0" * 64).text
    # A token with characters outside ASCII is a plain CSRF refusal, not a 500.
    for odd in ("é" * 64, "\u202e" + "0" * 63, "日本"):
        refused = _call(tool, "POST", path, s["token"], odd)
        assert refused.status_code == 400 and "CSRF" in refused.text
    # A token from another launch session does not work either.
    other = world["sessions"][("A/c1", "designer")]["csrf"]
    assert _call(tool, "POST", path, s["token"], other).status_code == 400
    ok = _call(tool, "POST", path, s["token"], s["csrf"])
    assert ok.status_code == 200 and 'id="saved"' in ok.text
    # Cookie-authenticated cross-site POST without the CSRF field is refused.
    forged = s["browser"].post(tool.url(path), data={"language": "fr"})
    assert forged.status_code == 400


def test_bad_form_input_is_a_clear_400(tool, world):
    s = world["sessions"][("A/c1", "teacher")]
    resp = requests.post(tool.url(f"/course/{s['cid']}/settings"),
                         data={"lt": s["token"], "csrf_token": s["csrf"], "language": "de"})
    assert resp.status_code == 400 and "Choose a language" in resp.text
