"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from lti_badges.models.course import Course, LaunchSession, Membership, Person
from lti_badges.models.keys import ToolKey
from lti_badges.models.lti_state import LoginState, UsedNonce
from lti_badges.models.platform import Deployment, Platform, PlatformStatus, RegistrationInvite

__all__ = [
    "Course",
    "Deployment",
    "LaunchSession",
    "LoginState",
    "Membership",
    "Person",
    "Platform",
    "PlatformStatus",
    "RegistrationInvite",
    "ToolKey",
    "UsedNonce",
]
