"""Dynamic registration against Moodle 5.0's recorded answers (../shared/moodle)."""

from __future__ import annotations

import pytest

from lti_badges.extensions import db
from lti_badges.lti.dynamic_registration import RegistrationError, register
from lti_badges.models import Platform
from tests.support.moodle import ReplayServer, recorded

CONFIG = "/mod/lti/openid-configuration.php"
REGISTER = "/mod/lti/openid-registration.php"


def _moodle(answer: str) -> ReplayServer:
    return ReplayServer({
        CONFIG: recorded("dynamic-registration/openid-configuration.json"),
        REGISTER: recorded(f"dynamic-registration/{answer}.json"),
    }, rewrite_host=True)


def test_moodle_registration_success_is_stored_pending(app):
    with _moodle("registration-success") as moodle, app.app_context():
        result = register(moodle.base_url + CONFIG, "recorded-token", None, app.config)
        platform = db.session.get(Platform, result.platform.id)
        assert platform.client_id == "e3wAWSgY8JOUvSK"
        assert [d.deployment_id for d in platform.deployments] == ["2"]
        assert platform.status == "pending" and platform.product_family == "moodle"
        assert platform.auth_login_url == moodle.base_url + "/mod/lti/auth.php"
        assert platform.jwks_url == moodle.base_url + "/mod/lti/certs.php"
        assert ("POST", REGISTER) in [(m, p.rstrip("?")) for m, p in moodle.requests]


@pytest.mark.parametrize(("answer", "words"), [
    ("registration-error-domain-mismatch", "domain_targetlinkuri_mismatch"),
    ("registration-error-token-already-used", "token_already_used"),
    ("registration-error-no-token", "missing_registration_token"),
])
def test_moodle_refusals_are_shown_plainly(app, answer, words):
    with _moodle(answer) as moodle, app.app_context():
        with pytest.raises(RegistrationError) as err:
            register(moodle.base_url + CONFIG, "recorded-token", None, app.config)
        assert words in err.value.message and err.value.status == 400
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0
