"""LTI vocabulary the peer speaks: claim names, scopes, media types and LIS role URIs.

Kept in one place so every module of the peer spells a spec constant the same way.
"""

from __future__ import annotations

# LTI 1.3 Core §5.3 / §5.4: claim names.
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
VERSION = CLAIM + "version"
DEPLOYMENT_ID = CLAIM + "deployment_id"
TARGET_LINK_URI = CLAIM + "target_link_uri"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
RESOURCE_LINK = CLAIM + "resource_link"
LAUNCH_PRESENTATION = CLAIM + "launch_presentation"
TOOL_PLATFORM = CLAIM + "tool_platform"
CUSTOM = CLAIM + "custom"
LIS = CLAIM + "lis"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
DL_LOG = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
DL_ERRORLOG = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

# Scopes (AGS 2.0 §3.1, NRPS 2.0 §2.2).
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_RO, SCOPE_RESULT_RO, SCOPE_SCORE]
ALL_SERVICE_SCOPES = [*AGS_SCOPES, SCOPE_NRPS]

# Media types (AGS 2.0 §3.2–3.4, NRPS 2.0 §2.1).
MT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MT_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MT_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
MT_SCORE = "application/vnd.ims.lis.v1.score+json"
MT_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# LIS v2 role vocabularies (LTI 1.3 Core Appendix A.2).
_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_MEMBERSHIP_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

CONTEXT_ROLES = {
    "Administrator",
    "ContentDeveloper",
    "Instructor",
    "Learner",
    "Mentor",
    "Manager",
    "Member",
    "Officer",
}


def role_uri(role: str) -> str:
    """Expand a short role name to its full LIS URI.

    Accepts full URIs unchanged, context role short names (``Learner``), sub-roles
    (``Instructor#TeachingAssistant``), the bare ``TeachingAssistant`` shorthand, and
    ``institution:Administrator`` / ``system:Administrator`` for the other vocabularies.
    """
    if "://" in role:
        return role
    if role.startswith("institution:"):
        return _INSTITUTION + role.split(":", 1)[1]
    if role.startswith("system:"):
        return _SYSTEM + role.split(":", 1)[1]
    if role == "TeachingAssistant":
        return _MEMBERSHIP_SUB + "Instructor#TeachingAssistant"
    if "#" in role:
        return _MEMBERSHIP_SUB + role
    if role not in CONTEXT_ROLES:
        raise ValueError(f"unknown LIS context role short name: {role!r}")
    return _MEMBERSHIP + role


def short_role(uri: str) -> str:
    """The short name Moodle's NRPS emits for a context role URI (``…#Learner`` → ``Learner``)."""
    if uri.startswith(_MEMBERSHIP):
        return uri[len(_MEMBERSHIP) :]
    if uri.startswith(_MEMBERSHIP_SUB):
        return uri[len(_MEMBERSHIP_SUB) :]
    return uri


def is_learner(uri: str) -> bool:
    """True for the Learner context role (and its sub-roles)."""
    return uri == _MEMBERSHIP + "Learner" or uri.startswith(_MEMBERSHIP_SUB + "Learner#")
