"""Read an LTI 1.3 id_token's claims into plain data (pure code).

Claim names are those of LTI 1.3 Core §5, AGS §3.1, NRPS §3.6.1 and Deep
Linking §4.4. Moodle quirks handled here: service URLs carry ``?type_id=``
(kept verbatim), roles arrive as full URIs, and the deep-linking request has
no resource link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class LaunchClaims:
    issuer: str
    audience: str | list[str]
    subject: str | None
    deployment_id: str
    message_type: str
    roles: list[str]
    context_id: str | None = None
    context_title: str | None = None
    context_label: str | None = None
    resource_link_id: str | None = None
    resource_link_title: str | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    locale: str | None = None
    document_target: str | None = None
    return_url: str | None = None
    target_link_uri: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    ags: dict[str, Any] = field(default_factory=dict)  # scope, lineitems, lineitem
    nrps_url: str | None = None
    deep_linking_settings: dict[str, Any] = field(default_factory=dict)
    platform_product: str | None = None

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == DEEP_LINKING_REQUEST

    def services(self) -> dict[str, Any]:
        """The course-level service endpoints worth remembering between launches."""
        out: dict[str, Any] = {}
        if self.ags.get("lineitems"):
            out["ags_lineitems"] = self.ags["lineitems"]
            out["ags_scopes"] = [s for s in self.ags.get("scope", []) if isinstance(s, str)]
        if self.nrps_url:
            out["nrps_url"] = self.nrps_url
        return out


def parse_claims(body: dict[str, Any]) -> LaunchClaims:
    """Plain data from a validated id_token body; tolerant of absent optional claims."""
    context = _dict(body.get(LTI + "context"))
    link = _dict(body.get(LTI + "resource_link"))
    presentation = _dict(body.get(LTI + "launch_presentation"))
    roles = body.get(LTI + "roles")
    ags = _dict(body.get(AGS_CLAIM))
    nrps = _dict(body.get(NRPS_CLAIM))
    return LaunchClaims(
        issuer=_str(body.get("iss")) or "",
        audience=body.get("aud") or "",
        subject=_str(body.get("sub")),
        deployment_id=_str(body.get(LTI + "deployment_id")) or "",
        message_type=_str(body.get(LTI + "message_type")) or "",
        roles=[r for r in roles if isinstance(r, str)] if isinstance(roles, list) else [],
        context_id=_str(context.get("id")),
        context_title=_str(context.get("title")),
        context_label=_str(context.get("label")),
        resource_link_id=_str(link.get("id")),
        resource_link_title=_str(link.get("title")),
        name=_str(body.get("name")),
        given_name=_str(body.get("given_name")),
        family_name=_str(body.get("family_name")),
        email=_str(body.get("email")),
        locale=_str(presentation.get("locale")),
        document_target=_str(presentation.get("document_target")),
        return_url=_str(presentation.get("return_url")),
        target_link_uri=_str(body.get(LTI + "target_link_uri")),
        custom=_dict(body.get(LTI + "custom")),
        ags={k: ags[k] for k in ("scope", "lineitems", "lineitem") if k in ags},
        nrps_url=_str(nrps.get("context_memberships_url")),
        deep_linking_settings=_dict(body.get(DL_SETTINGS)),
        platform_product=_str(_dict(body.get(LTI + "tool_platform")).get("product_family_code")),
    )
