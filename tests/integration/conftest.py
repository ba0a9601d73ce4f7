"""Fixtures for tests against the independent LTI platform peer (tests/peer)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from lti_badges.extensions import db
from lti_badges.models import Deployment, Platform
from tests.peer import PlatformPeer

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
    """The launch-scoped token the tool carries in its pages (from the final URL)."""
    match = re.search(r"[?&]lt=([^&#]+)", resp.url)
    assert match, f"no launch token in {resp.url}"
    return match.group(1)


def course_id_of(resp) -> int:
    match = re.search(r"/course/(\d+)/", resp.url)
    assert match, f"not a course page: {resp.url}"
    return int(match.group(1))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class StaffLaunch:
    """A staff member's launch, talking to the course's pages with its launch token (as in an
    iframe whose cookies are blocked)."""

    def __init__(self, tool, resp) -> None:
        self.tool, self.token, self.cid = tool, launch_token(resp), course_id_of(resp)
        self.csrf = csrf_of(resp.text)

    def get(self, path: str, **params):
        import requests

        return requests.get(self.tool.url(f"/course/{self.cid}{path}"),
                            params={"lt": self.token, **params})

    def post(self, path: str, data=None, files=None, **params):
        import requests

        body = {"lt": self.token, "csrf_token": self.csrf, **(data or {})}
        return requests.post(self.tool.url(f"/course/{self.cid}{path}"), data=body,
                             files=files, params=params)


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
