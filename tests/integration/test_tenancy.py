"""Roles and tenancy as a matrix: platform × course × role × route.

A launch session opens exactly its own course on its own platform, with what
its role allows; everything else is 401/403, never another course's data.
"""

from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import course_id_of, csrf_of, launch_token, register, with_credential

ROUTES = {
    # route: (method, path template, roles allowed)
    "home": ("GET", "/course/{cid}/", {"learner", "teacher", "ta", "designer"}),
    "people": ("GET", "/course/{cid}/people", {"teacher", "ta", "designer"}),
    "settings": ("GET", "/course/{cid}/settings", {"teacher", "designer"}),
    "settings_post": ("POST", "/course/{cid}/settings", {"teacher", "designer"}),
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
                                headers=with_credential(s["token"]))
            s["csrf"] = csrf_of(page.text)
    course_ids = {label: sessions[(label, "learner")]["cid"] for label in ("A/c1", "A/c2", "B/c1")}
    assert len(set(course_ids.values())) == 3  # same context id on A and B: two courses
    return {"sessions": sessions, "courses": course_ids}


def _call(tool, method, path, token, csrf):
    if method == "GET":
        return requests.get(tool.url(path), headers=with_credential(token))
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
    page = requests.get(tool.url(f"/course/{s['cid']}/people"), headers=with_credential(s["token"]))
    assert "Léa Apprenante" in page.text and "B learner" not in page.text
    b = world["sessions"][("B/c1", "teacher")]
    page = requests.get(tool.url(f"/course/{b['cid']}/people"), headers=with_credential(b["token"]))
    assert "B learner" in page.text and "Léa Apprenante" not in page.text


def test_no_session_and_forged_tokens(tool, world):
    cid = world["courses"]["A/c1"]
    # No credential at all: the page loader, which holds no data and says where to go.
    bare = requests.get(tool.url(f"/course/{cid}/"))
    assert bare.status_code == 401 and "Open the tool from your course" in bare.text
    assert bare.headers["Cache-Control"] == "no-store"
    for token in ("", "forged-token", "x" * 500):
        resp = requests.get(tool.url(f"/course/{cid}/"), headers=with_credential(token))
        assert resp.status_code == 401
        assert "Open the tool" in resp.text
    # Scripts asking for JSON get the JSON error, not the page loader.
    api = requests.get(tool.url(f"/course/{cid}/"), headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json()["error"] == "no_session"


def test_a_copied_address_is_not_a_session(tool, world):
    """The credential never rides in an address: a URL with it in the query, the launch
    browser's cookies, or another course's credential give nothing."""
    s = world["sessions"][("A/c1", "teacher")]
    page = tool.url(f"/course/{s['cid']}/people")
    good = requests.get(page, headers=with_credential(s["token"]))
    assert good.status_code == 200 and "Léa Apprenante" in good.text
    assert good.headers["Cache-Control"] == "no-store"
    assert "lt=" not in good.text and s["token"] not in good.text
    for pasted in (f"{page}?lt={s['token']}", f"{page}?credential={s['token']}"):
        resp = requests.get(pasted)
        assert resp.status_code == 401 and "Léa Apprenante" not in resp.text
    # The launch browser's cookie jar alone (another tab of it, no page state) is nothing.
    tab = requests.Session()
    tab.cookies.update(s["browser"].cookies)
    assert tab.get(page).status_code == 401
    # A form post needs the credential in its body, not in the address.
    post = requests.post(tool.url(f"/course/{s['cid']}/settings") + f"?lt={s['token']}",
                         data={"csrf_token": s["csrf"], "language": "fr"})
    assert post.status_code == 401
    # This launch's credential is for its course only.
    other = world["courses"]["A/c2"]
    resp = requests.get(tool.url(f"/course/{other}/people"), headers=with_credential(s["token"]))
    assert resp.status_code == 403


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
    # A POST carrying the credential but not the CSRF field is refused.
    forged = s["browser"].post(tool.url(path), data={"language": "fr"})
    assert forged.status_code == 400


def test_bad_form_input_is_a_clear_400(tool, world):
    s = world["sessions"][("A/c1", "teacher")]
    resp = requests.post(tool.url(f"/course/{s['cid']}/settings"),
                         data={"lt": s["token"], "csrf_token": s["csrf"], "language": "de"})
    assert resp.status_code == 400 and "Choose a language" in resp.text
