"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from lti_badges.models.backpack import BackpackConnection, BackpackPush
from lti_badges.models.bridge import MoodlePairingCode, UsedNoticeId
from lti_badges.models.connector import MoodleConnector
from lti_badges.models.course import Course, LaunchSession, Membership, Person
from lti_badges.models.issuing import (
    Award,
    AwardEvent,
    Badge,
    ImageAsset,
    Issuer,
    IssuerKey,
    StatusList,
)
from lti_badges.models.keys import ToolKey
from lti_badges.models.lti_state import LoginState, UsedNonce
from lti_badges.models.platform import Deployment, Platform, PlatformStatus, RegistrationInvite
from lti_badges.models.sync import FactSeen, LaunchEvent, SyncRun

__all__ = [
    "Award",
    "AwardEvent",
    "BackpackConnection",
    "BackpackPush",
    "Badge",
    "Course",
    "Deployment",
    "FactSeen",
    "ImageAsset",
    "Issuer",
    "IssuerKey",
    "LaunchEvent",
    "LaunchSession",
    "LoginState",
    "Membership",
    "MoodleConnector",
    "MoodlePairingCode",
    "Person",
    "Platform",
    "PlatformStatus",
    "RegistrationInvite",
    "StatusList",
    "SyncRun",
    "ToolKey",
    "UsedNonce",
    "UsedNoticeId",
]
