"""Helpers for the Moodle bridge tests: the recorded Moodle course as the tool knows it, and
notices signed like the companion plugin signs them (contract (b)) with the peer's key."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from lti_badges.crypto import fernet
from lti_badges.extensions import db
from lti_badges.models import Course, Deployment, MoodleConnector, Person, Platform
from tests.peer.lib_glue import sign_jwt

CLIENT_ID = "kgDDY3FUnq3wN3I"  # the recorded Moodle's static tool (README "Fixture ids")
DEPLOYMENT = "1"
CONTEXT = "2"  # Moodle course id = LTI context id


def moodle_course(app, *, issuer: str, jwks_url: str, site_url: str | None, token: str = "",
                  people: tuple[str, ...] = ("4", "5"), mode: str | None = None) -> dict[str, int]:
    """Platform (issuer, client id, deployment "1"), course "2", its known people and, with
    ``site_url``, the Moodle connector; returns the ids."""
    with app.app_context():
        platform = Platform(issuer=issuer, client_id=CLIENT_ID, status="active",
                            auth_login_url=issuer + "/auth", token_url=issuer + "/token",
                            jwks_url=jwks_url)
        platform.deployments.append(Deployment(deployment_id=DEPLOYMENT))
        db.session.add(platform)
        db.session.flush()
        course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id,
                        context_id=CONTEXT, title="Open Badges Pilot", settings={}, services={})
        db.session.add(course)
        for sub in people:
            db.session.add(Person(platform_id=platform.id, sub=sub))
        if site_url:
            db.session.add(MoodleConnector(
                platform_id=platform.id, url=site_url, mode=mode,
                token_encrypted=fernet(app.config["SECRET_KEY"], "moodle-token")
                .encrypt(token.encode()).decode()))
        db.session.commit()
        return {"platform": platform.id, "course": course.id}


def notice_claims(issuer: str, *, sub: str = "4", context: str = CONTEXT,
                  kind: str = "LtiBadgesGradeNotice", lifetime: int = 300,
                  iat: int | None = None, aud: Any = CLIENT_ID) -> dict[str, Any]:
    now = int(time.time()) if iat is None else iat
    jti = str(uuid.uuid4())
    return {
        "iss": issuer, "aud": aud, "iat": now, "exp": now + lifetime, "jti": jti, "sub": sub,
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT,
        "https://purl.imsglobal.org/spec/lti/claim/context": {"id": context},
        "https://purl.imsglobal.org/spec/lti/claim/notice": {
            "id": jti, "timestamp": datetime.fromtimestamp(now, UTC).isoformat(), "type": kind},
        "https://lti-badges.org/claim/change": {
            "event": "\\core\\event\\user_graded", "cmid": 1, "itemid": 2, "time": now},
    }


def sign_notice(peer, claims: dict[str, Any], **tamper: Any) -> str:
    """RS256 with the peer's current platform key and kid (tamper knobs of lib_glue)."""
    return sign_jwt(claims, peer.keys.current, tamper=tamper or None)


def wait_for_run(app, run_id: int, timeout: float = 20.0) -> Any:
    from lti_badges.models import SyncRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            run = db.session.get(SyncRun, run_id)
            if run is not None and run.status not in ("queued", "running"):
                db.session.expunge(run)
                return run
        time.sleep(0.02)
    raise AssertionError(f"sync run {run_id} did not finish in {timeout} s")
