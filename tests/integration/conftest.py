"""Fixtures for tests against the independent LTI platform peer (tests/peer)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests

from lti_badges.extensions import db
from lti_badges.models import Course, Deployment, Platform
from tests.peer import PlatformPeer
from tests.support.cli import cli_json
from tests.support.page_scripts import HEADER as CREDENTIAL

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.fixture
def peer() -> Iterator[PlatformPeer]:
    with PlatformPeer(name="A") as p:
        yield p


@pytest.fixture
def peer_b() -> Iterator[PlatformPeer]:
    with PlatformPeer(name="B") as p:
        yield p


@dataclass
class Registered:
    peer: PlatformPeer
    platform_id: int
    client_id: str
    deployment_id: str


def register(app, tool, peer: PlatformPeer, client_id: str = "tool-1",
             deployment_id: str = "dep-1", status: str = "active") -> Registered:
    """Register the tool on the peer and the peer in the tool, as an admin would by hand."""
    peer.register_tool(client_id, [deployment_id], tool.url("/lti/login"), tool.url("/lti/launch"),
                       tool.url("/lti/jwks"))
    with app.app_context():
        platform = Platform(issuer=peer.issuer, client_id=client_id, status=status,
                            auth_login_url=peer.auth_login_url, token_url=peer.token_url,
                            jwks_url=peer.jwks_url)
        platform.deployments.append(Deployment(deployment_id=deployment_id))
        db.session.add(platform)
        db.session.commit()
        return Registered(peer, platform.id, client_id, deployment_id)


@pytest.fixture
def registered(app, tool, peer) -> Registered:
    reg = register(app, tool, peer)
    peer.add_course("c1", title="Biologie 101", label="BIO101")
    peer.add_course("c2", title="Chimie 201", label="CHM201")
    peer.add_user("learner", name="Léa Apprenante", email="lea@example.test")
    peer.add_user("teacher", name="Tom Teacher", email="tom@example.test")
    peer.add_user("ta", name="Tia Assistant", email="tia@example.test")
    peer.add_user("designer", name="Dana Designer", email="dana@example.test")
    peer.add_user("admin", name="Ada Admin", email="ada@example.test",
                  extra_roles=[LIS + "institution/person#Administrator"])
    for course in ("c1", "c2"):
        peer.enroll(course, "learner", roles=["Learner"])
        peer.enroll(course, "teacher", roles=["Instructor"])
        peer.enroll(course, "ta", roles=[LIS + "membership/Instructor#TeachingAssistant"])
        peer.enroll(course, "designer", roles=["ContentDeveloper"])
    return reg


def launch_token(resp) -> str:
    """The page credential the launch left in its browsing context (sent on the final page)."""
    credential = resp.request.headers.get(CREDENTIAL)
    assert credential, f"no page credential was sent for {resp.url}"
    return credential


def with_credential(token: str, **headers: str) -> dict[str, str]:
    """Request headers carrying a page credential, as static/launch.js sends them."""
    return {CREDENTIAL: token, **headers}


def form_post(url: str, credential: str | None, data=None, files=None, *, session=None,
              headers=None, allow_redirects: bool = True, **kwargs):
    """A form sent from a tool page: the credential in the body (the ``lt`` field
    static/launch.js adds), then a redirect followed as the page loader does, with the
    credential as a header (a redirect cannot carry a body)."""
    import requests

    http = session or requests
    body = list(data.items()) if isinstance(data, dict) else list(data or [])
    if credential is not None and not any(k == "lt" for k, _ in body):
        body.append(("lt", credential))
    resp = http.post(url, data=body, files=files, headers=headers, allow_redirects=False,
                     **kwargs)
    for _ in range(5):
        if not (allow_redirects and resp.is_redirect):
            break
        target = urljoin(resp.url, resp.headers["Location"])
        if urlsplit(target).netloc != urlsplit(url).netloc:
            break
        resp = http.get(target, headers=with_credential(credential) if credential else None,
                        allow_redirects=False, **kwargs)
    return resp


def course_id_of(resp) -> int:
    match = re.search(r"/course/(\d+)/", resp.url)
    assert match, f"not a course page: {resp.url}"
    return int(match.group(1))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class StaffLaunch:
    """A staff member's launch, talking to the course's pages with its page credential (as
    static/launch.js does, with no cookie)."""

    def __init__(self, tool, resp) -> None:
        self.tool, self.token, self.cid = tool, launch_token(resp), course_id_of(resp)
        self.csrf = csrf_of(resp.text)

    def get(self, path: str, **params):
        import requests

        return requests.get(self.tool.url(f"/course/{self.cid}{path}"),
                            headers=with_credential(self.token), params=params)

    def post(self, path: str, data=None, files=None, **params):

        body = {"csrf_token": self.csrf, **(data or {})}
        url = self.tool.url(f"/course/{self.cid}{path}")
        if params:
            url += "?" + urlencode(params)
        return form_post(url, self.token, body, files=files)


def settle(app, timeout: float = 30) -> None:
    """Wait for the syncs that launches queue in the background."""
    import time

    from lti_badges.models import SyncRun

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            busy = db.session.scalar(db.select(db.func.count()).select_from(SyncRun)
                                     .where(SyncRun.status.in_(("queued", "running"))))
            if not busy:
                return
            db.session.expire_all()
            time.sleep(0.1)
    raise AssertionError("background syncs did not finish")


@pytest.fixture
def course(app, tool, peer, runner):
    """A synced-ready course: three learners (one inactive), a teacher, a quiz with results,
    an issuer and a badge for 80 % on the quiz (made with the CLI)."""
    register(app, tool, peer)
    peer.add_course("c1", title="Chimie", label="CHM")
    for uid, name in (("l1", "Ana"), ("l2", "Ben"), ("l3", "Chloé"), ("gone", "Gus"),
                      ("t1", "Teo")):
        peer.add_user(uid, name=name, email=f"{uid}@example.test")
    for uid in ("l1", "l2", "l3"):
        peer.enroll("c1", uid, roles=["Learner"])
    peer.enroll("c1", "gone", roles=["Learner"], status="Inactive")
    peer.enroll("c1", "t1", roles=["Instructor"])
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    peer.set_result(quiz["id"], "l1", 9, 10)
    peer.set_result(quiz["id"], "l2", 6, 10)
    peer.set_result(quiz["id"], "gone", 10, 10)
    peer.set_result(quiz["id"], "t1", 10, 10)
    assert peer.launch(peer.new_browser(), "t1", "c1").status_code == 200
    with app.app_context():
        cid = db.session.scalar(db.select(Course.id).filter_by(context_id="c1"))
    issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Cégep", "--url",
                                       "https://cegep.example", "--email", "b@cegep.example",
                                       "--json"]))
    badge = cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Quiz 1 ≥ 80 %",
        "--description", "d", "--criteria-text", "Obtenir 80 % au quiz 1.", "--course", str(cid),
        "--rule", '{"grade": {"item": "Quiz 1", "min_percent": 80}}', "--json"]))
    return {"id": cid, "quiz": quiz, "issuer": issuer, "badge": badge, "peer": peer}


def launch_as(peer, user, course="c1", **kwargs):
    """A launch by ``user`` in a new browser: (the browser, its page credential)."""
    browser = peer.new_browser()
    resp = peer.launch(browser, user, course, **kwargs)
    assert resp.status_code == 200, resp.text[:500]
    return browser, launch_token(resp)


class Console:
    """An admin's console session: GETs and POSTs carrying the page credential (and CSRF)."""

    def __init__(self, tool, token):
        self.tool, self.token = tool, token
        self._csrf = None

    def get(self, path, **kwargs):
        headers = with_credential(self.token, **kwargs.pop("headers", {}))
        return requests.get(self.tool.url(path), headers=headers,
                            params=kwargs.pop("params", {}), **kwargs)

    @property
    def csrf(self):
        if self._csrf is None:
            self._csrf = csrf_of(self.get("/admin/connector").text)
        return self._csrf

    def post(self, path, data=None, csrf=True, **kwargs):
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return form_post(self.tool.url(path), self.token, form, **kwargs)
