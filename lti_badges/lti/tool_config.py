"""pylti1p3's tool configuration, read from the database instead of a JSON file."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti_badges.extensions import db
from lti_badges.lti.keys import SigningKey
from lti_badges.models import Deployment, Platform


class DbRegistration(Registration):
    """A pylti1p3 registration that knows its platform row and signs with our active key."""

    def __init__(self, platform: Platform, key: SigningKey | None):
        super().__init__()
        self.platform = platform
        self.set_issuer(platform.issuer)
        self.set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.token_url)
        self.set_key_set_url(platform.jwks_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)
        self._kid = key.kid if key else None
        if key:
            self.set_tool_private_key(key.private_pem)
            self.set_tool_public_key(key.public_pem)

    def get_kid(self) -> str | None:
        return self._kid


class DbToolConf(ToolConfAbstract):
    """Every issuer may have many client ids (LTI 1.3 allows it; Moodle makes one per tool type).

    Lookups return platforms in any status; the launch layer decides what a
    pending or disabled platform may do, so it can say so plainly.
    """

    def __init__(self, key_provider: Any):
        super().__init__()
        self._key_provider = key_provider

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def platform(self, iss: str, client_id: str | None) -> Platform | None:
        query = db.select(Platform).filter_by(issuer=iss)
        if client_id:
            query = query.filter_by(client_id=client_id)
        rows = db.session.scalars(query).all()
        return rows[0] if len(rows) == 1 else None

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        platform = self.platform(iss, None)
        return DbRegistration(platform, self._key_provider()) if platform else None

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        platform = self.platform(iss, client_id)
        return DbRegistration(platform, self._key_provider()) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        platform = self.platform(iss, client_id)
        if platform is None:
            return None
        row = db.session.scalar(
            db.select(Deployment).filter_by(platform_id=platform.id, deployment_id=deployment_id)
        )
        return LtiDeployment().set_deployment_id(row.deployment_id) if row else None
