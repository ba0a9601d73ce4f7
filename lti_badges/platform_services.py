"""Access tokens for a platform's LTI Advantage services, cached per platform and scopes.

The single place that combines the platform registration, the tool's signing key and
the token cache; the readers (``lti_badges.sources.lti``) take ``access_token`` as their
``token_for``.
"""

from __future__ import annotations

from flask import current_app

from lti_badges.lti import keys
from lti_badges.lti.service_token import AccessToken, TokenCache
from lti_badges.models import Platform
from lti_badges.net import NetPolicy


def _token_cache() -> TokenCache:
    return current_app.extensions.setdefault("lti_badges.service_tokens", TokenCache())


def access_token(platform: Platform, scopes: list[str]) -> AccessToken:
    key = keys.active_signing_key(current_app.config["SECRET_KEY"])
    return _token_cache().get(platform, scopes, key, NetPolicy.from_config(current_app.config))
