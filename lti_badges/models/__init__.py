"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from lti_badges.models.course import Course, LaunchSession, Membership, Person
from lti_badges.models.issuing import (
    Award,
    Badge,
    ImageAsset,
    Issuer,
    IssuerKey,
    StatusList,
)
from lti_badges.models.keys import ToolKey
from lti_badges.models.lti_state import LoginState, UsedNonce
from lti_badges.models.platform import Deployment, Platform, PlatformStatus, RegistrationInvite

__all__ = [
    "Award",
    "Badge",
    "Course",
    "Deployment",
    "ImageAsset",
    "Issuer",
    "IssuerKey",
    "LaunchSession",
    "LoginState",
    "Membership",
    "Person",
    "Platform",
    "PlatformStatus",
    "RegistrationInvite",
    "StatusList",
    "ToolKey",
    "UsedNonce",
]
