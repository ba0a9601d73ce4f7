"""Calls from the tool to a course's LTI Advantage services (NRPS roster, AGS line items).

The service layer's single place that combines a course's stored endpoints,
the platform registration, the tool's signing key and the token cache.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from lti_badges.lti import ags, keys, nrps
from lti_badges.lti.service_token import AccessToken, TokenCache
from lti_badges.models import Course, Platform
from lti_badges.net import NetPolicy


class ServiceUnavailable(Exception):
    """The course has no such service, or the platform did not grant its scope."""


def _token_cache() -> TokenCache:
    return current_app.extensions.setdefault("lti_badges.service_tokens", TokenCache())


def access_token(platform: Platform, scopes: list[str]) -> AccessToken:
    key = keys.active_signing_key(current_app.config["SECRET_KEY"])
    return _token_cache().get(platform, scopes, key, NetPolicy.from_config(current_app.config))


def read_roster(course: Course) -> list[dict[str, Any]]:
    url = (course.services or {}).get("nrps_url")
    if not url:
        raise ServiceUnavailable("The platform did not offer the membership service (NRPS) for "
                                 "this course; enable it in the LMS's tool settings.")
    token = access_token(course.platform, [nrps.SCOPE])
    if nrps.SCOPE not in token.scopes:
        raise ServiceUnavailable("The platform did not grant the membership scope.")
    return nrps.read_members(url, token.value, NetPolicy.from_config(current_app.config))


def read_line_items(course: Course) -> list[dict[str, Any]]:
    services = course.services or {}
    url = services.get("ags_lineitems")
    offered = set(services.get("ags_scopes") or [])
    wanted = [s for s in (ags.SCOPE_LINEITEM_READONLY, ags.SCOPE_LINEITEM) if s in offered]
    if not url or not wanted:
        raise ServiceUnavailable("The platform did not offer the grade service (AGS) line items "
                                 "for this course; enable it in the LMS's tool settings.")
    token = access_token(course.platform, [*wanted, ags.SCOPE_RESULT_READONLY])
    if not token.scopes & set(wanted):
        raise ServiceUnavailable("The platform did not grant the line item scopes.")
    return ags.read_line_items(url, token.value, NetPolicy.from_config(current_app.config))


def read_results(course: Course, lineitem_url: str) -> list[dict[str, Any]]:
    token = access_token(course.platform, [ags.SCOPE_RESULT_READONLY])
    return ags.read_results(lineitem_url, token.value, NetPolicy.from_config(current_app.config))
