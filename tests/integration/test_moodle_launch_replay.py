"""Real Moodle 5.0 id_tokens (../shared/moodle/lti-launch) through the tool's launch validation.

The tokens are the bytes Moodle signed; the platform key set is replayed over
HTTP from the recording. The clock is set to the moment of recording, so the
60-second id_token lifetime Moodle uses is checked for real.
"""

from __future__ import annotations

import datetime as dt

import jwt.api_jwt
import pytest

from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.lti.launch import STATE_COOKIE_PREFIX, LaunchError, validate_launch
from lti_badges.lti.roles import ADMIN, DESIGN, LEARN
from lti_badges.models import Deployment, LoginState, Platform
from lti_badges.sessions import open_session
from tests.support.moodle import CLIENT_ID, ISSUER, ReplayServer, launch_fixture, recorded


def _freeze_jwt_clock(monkeypatch, epoch: int) -> None:
    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.fromtimestamp(epoch, tz=tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Frozen)


@pytest.fixture
def moodle_jwks():
    with ReplayServer({"/mod/lti/certs.php": recorded("lti-launch/platform-jwks-certs.json")}) as s:
        yield s


def _register_moodle(app, jwks_url: str) -> Platform:
    platform = Platform(issuer=ISSUER, client_id=CLIENT_ID, status="active",
                        auth_login_url=ISSUER + "/mod/lti/auth.php",
                        token_url=ISSUER + "/mod/lti/token.php", jwks_url=jwks_url)
    platform.deployments.append(Deployment(deployment_id="1"))
    db.session.add(platform)
    db.session.commit()
    return platform


def _replay(app, name: str, monkeypatch, jwks_url: str, seconds_after_iat: int = 5):
    fixture = launch_fixture(name)
    payload = fixture["payload"]
    _freeze_jwt_clock(monkeypatch, payload["iat"] + seconds_after_iat)
    platform = db.session.scalar(db.select(Platform).filter_by(issuer=ISSUER)) or \
        _register_moodle(app, jwks_url)
    state = "st-recorded"
    db.session.add(LoginState(state=state, nonce=payload["nonce"], platform_id=platform.id,
                              expires_at=utcnow() + dt.timedelta(minutes=5)))
    db.session.commit()
    form = {"id_token": fixture["raw_id_token"], "state": state}
    return validate_launch(form, {STATE_COOKIE_PREFIX + state: state}, app.config,
                           app.extensions["lti_badges.platform_keys"])


def test_learner_launch_from_moodle(app, moodle_jwks, monkeypatch):
    with app.app_context():
        jwks_url = moodle_jwks.base_url + "/mod/lti/certs.php"
        launch = _replay(app, "id_token-learner-student1", monkeypatch, jwks_url)
        claims = launch.claims
        assert claims.subject == "4" and claims.context_id == "2"
        assert claims.context_title == "Open Badges Pilot"
        assert claims.resource_link_id == "1"
        # Moodle's service URLs keep their ?type_id= query.
        assert claims.ags["lineitems"].endswith("/2/lineitems?type_id=1")
        assert claims.nrps_url.endswith("/CourseSection/2/bindings/1/memberships")
        session, _token = open_session(launch, app.config)
        db.session.commit()
        assert session.capabilities == [LEARN]
        assert session.locale == "en"
        assert session.course.services["ags_lineitems"] == claims.ags["lineitems"]
        assert session.person.email == "student1@example.invalid"
        assert len(moodle_jwks.requests) == 1


def test_instructor_and_admin_launches_from_moodle(app, moodle_jwks, monkeypatch):
    with app.app_context():
        jwks_url = moodle_jwks.base_url + "/mod/lti/certs.php"
        teacher = _replay(app, "id_token-instructor-teacher1", monkeypatch, jwks_url)
        session, _ = open_session(teacher, app.config)
        assert DESIGN in session.capabilities and LEARN not in session.capabilities
        admin = _replay(app, "id_token-admin", monkeypatch, jwks_url)
        session, _ = open_session(admin, app.config)
        assert ADMIN in session.capabilities and DESIGN in session.capabilities
        # The key set is cached between launches (Moodle's own tool fetched it every time).
        assert len(moodle_jwks.requests) == 1


def test_deep_linking_request_from_moodle(app, moodle_jwks, monkeypatch):
    with app.app_context():
        launch = _replay(app, "id_token-deeplinking-teacher1", monkeypatch,
                         moodle_jwks.base_url + "/mod/lti/certs.php")
        assert launch.claims.is_deep_linking
        assert launch.claims.resource_link_id is None
        settings = launch.claims.deep_linking_settings
        assert settings["accept_types"] == ["ltiResourceLink"]
        assert "contentitem_return.php" in settings["deep_link_return_url"]


def test_moodle_token_expires_after_its_60_seconds(app, moodle_jwks, monkeypatch):
    with app.app_context():
        leeway = app.config["JWT_LEEWAY_SECONDS"]
        with pytest.raises(LaunchError) as err:
            _replay(app, "id_token-learner-student1", monkeypatch,
                    moodle_jwks.base_url + "/mod/lti/certs.php",
                    seconds_after_iat=60 + leeway + 1)
        assert err.value.code == "expired" and err.value.status == 401


def test_recorded_token_is_refused_by_a_registration_with_another_client_id(
        app, moodle_jwks, monkeypatch):
    with app.app_context():
        platform = _register_moodle(app, moodle_jwks.base_url + "/mod/lti/certs.php")
        platform.client_id = "someone-else"
        db.session.commit()
        with pytest.raises(LaunchError) as err:
            _replay(app, "id_token-learner-student1", monkeypatch,
                    moodle_jwks.base_url + "/mod/lti/certs.php")
        assert err.value.code == "unknown_platform" and "kgDDY3FUnq3wN3I" in err.value.message
