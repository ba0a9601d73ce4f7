"""Signed notices a platform pushes to ``POST /lti/notices`` (the Moodle companion plugin).

Issue 10, contract (b): the body carries ``{"jwt": "<compact JWS>"}``, a JWT the
platform signs with the very key it signs launches with, so the tool trusts it
exactly as it trusts an id_token (1EdTech Security Framework §5.1.3):

* RS256 only, and a ``kid`` resolved in the platform's JWKS through the same
  cache as launches (:class:`~lti_badges.lti.platform_keys.PlatformKeyCache`:
  an unknown ``kid`` triggers at most one refetch);
* ``iss`` + ``aud`` (a string, or a list containing the client id) must name an
  active registration (:func:`~lti_badges.lti.launch.find_platform`), and the
  deployment claim one of its deployments;
* ``exp`` is checked with the launches' leeway, and a notice may live at most
  10 minutes (``exp - iat``): a long-lived notice would be a long replay window;
* ``jti`` is accepted once: stored with the notice's expiry, purged afterwards
  (an expired notice is refused by ``exp`` anyway).

Notice types follow the LTI Platform Notification Service's claim shape
(``https://purl.imsglobal.org/spec/lti/claim/notice``: ``id``, ``timestamp``,
``type``) with this tool's own type names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.exc import IntegrityError

from lti_badges.clock import utcnow
from lti_badges.errors import UserError
from lti_badges.extensions import db
from lti_badges.lti.launch import LaunchError, find_deployment, find_platform
from lti_badges.lti.platform_keys import PlatformKeyCache, UnknownKeyError
from lti_badges.models import Deployment, Platform, UsedNoticeId
from lti_badges.net import FetchError, NetPolicy

DEPLOYMENT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"
NOTICE_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/notice"
CHANGE_CLAIM = "https://lti-badges.org/claim/change"
NOTICE_TYPES = frozenset({
    "LtiBadgesGradeNotice",
    "LtiBadgesActivityCompletionNotice",
    "LtiBadgesCourseCompletionNotice",
    "LtiBadgesEnrolmentNotice",
})
MAX_LIFETIME_SECONDS = 600


class NoticeError(UserError):
    """A notice the tool refuses: ``status``/``code`` as contract (b) names them."""

    status = 401
    code = "invalid_notice"


@dataclass(frozen=True)
class Notice:
    """A notice whose signature and claims verified (its ``jti`` not yet spent)."""

    platform: Platform
    deployment: Deployment
    jti: str
    subject: str
    context_id: str
    type: str
    expires_at: datetime
    change: dict[str, Any] = field(default_factory=dict)


def _invalid(message: str) -> NoticeError:
    return NoticeError(message, 401, "invalid_notice")


def _platform_for(iss: Any, aud: Any) -> Platform:
    if not isinstance(iss, str) or not iss:
        raise _invalid("The notice has no issuer (iss).")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    audiences = [a for a in audiences if isinstance(a, str) and a]
    if not audiences:
        raise _invalid("The notice has no audience (aud) naming this tool's client id.")
    client_ids = db.session.scalars(db.select(Platform.client_id).where(
        Platform.issuer == iss, Platform.client_id.in_(audiences))).all()
    if not client_ids:
        raise _invalid(f"The notice is addressed to {', '.join(audiences)} of {iss}, which is "
                       "not registered with this tool.")
    try:
        return find_platform(iss, client_ids[0])
    except LaunchError as exc:  # pending or disabled: its notices are refused like launches
        raise _invalid(exc.message) from exc


def verify_notice(token: str, config: Any, key_cache: PlatformKeyCache) -> Notice:
    """Check a notice JWT; raises :class:`NoticeError` (400 not a notice, 401 invalid)."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise NoticeError("The body's jwt is not a compact JWS.", 400, "bad_request") from exc
    if not isinstance(unverified, dict):
        raise NoticeError("The notice's payload is not a JSON object.", 400, "bad_request")
    alg, kid = header.get("alg"), header.get("kid")
    # Security Framework §5.1.3 item 3: RS256 only; never 'none' or HMAC.
    if alg != "RS256":
        raise _invalid(f"The notice is signed with {alg!r}; only RS256 is accepted.")
    if not isinstance(kid, str) or not kid:
        raise _invalid("The notice's header has no key id (kid).")
    platform = _platform_for(unverified.get("iss"), unverified.get("aud"))
    try:
        pem = key_cache.public_key_pem(platform.jwks_url, kid, alg,
                                       NetPolicy.from_config(config))
    except UnknownKeyError as exc:
        raise _invalid(str(exc)) from exc
    except FetchError as exc:
        raise NoticeError(f"The platform's key set could not be read: {exc}", 502,
                          "jwks_unavailable") from exc
    try:
        claims = jwt.decode(token, pem, algorithms=["RS256"], audience=platform.client_id,
                            issuer=platform.issuer, leeway=int(config["JWT_LEEWAY_SECONDS"]),
                            options={"require": ["exp", "iat", "iss", "aud", "jti", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise _invalid("The notice has expired (exp).") from exc
    except jwt.ImmatureSignatureError as exc:
        raise _invalid("The notice is issued in the future (iat); check the clocks.") from exc
    except jwt.InvalidAudienceError as exc:
        raise _invalid("The notice is not addressed to this tool (aud).") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _invalid(f"The notice lacks the required claim {exc.claim!r}.") from exc
    except jwt.InvalidSignatureError as exc:
        raise _invalid("The notice's signature does not verify with the platform's key.") \
            from exc
    except jwt.PyJWTError as exc:
        raise _invalid(f"The notice is not valid: {exc}.") from exc
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int | float) or not isinstance(exp, int | float) \
            or exp - iat > MAX_LIFETIME_SECONDS:
        raise _invalid("The notice lives longer than 10 minutes (exp - iat); it is refused.")
    jti, sub = claims["jti"], claims["sub"]
    if not isinstance(jti, str) or not jti or len(jti) > 100:
        raise _invalid("The notice's jti is not a string of at most 100 characters.")
    if not isinstance(sub, str) or not sub:
        raise NoticeError("The notice names no user (sub).", 400, "bad_request")
    deployment_id = claims.get(DEPLOYMENT_CLAIM)
    deployment = find_deployment(platform, str(deployment_id)) if deployment_id else None
    if deployment is None:
        raise _invalid(f"The deployment {deployment_id!r} is not one of {platform.issuer}'s "
                       "deployments known to this tool.")
    context = claims.get(CONTEXT_CLAIM)
    context_id = context.get("id") if isinstance(context, dict) else None
    if not isinstance(context_id, str | int) or context_id == "":
        raise NoticeError("The notice has no context claim with the course id.", 400,
                          "bad_request")
    notice = claims.get(NOTICE_CLAIM)
    if not isinstance(notice, dict) or not isinstance(notice.get("type"), str):
        raise NoticeError("The notice has no notice claim with its type.", 400, "bad_request")
    change = claims.get(CHANGE_CLAIM)
    return Notice(platform=platform, deployment=deployment, jti=jti, subject=sub,
                  context_id=str(context_id), type=notice["type"],
                  expires_at=datetime.fromtimestamp(exp, UTC).replace(tzinfo=None)
                  + timedelta(seconds=int(config["JWT_LEEWAY_SECONDS"])),
                  change=change if isinstance(change, dict) else {})


def spend_jti(notice: Notice) -> None:
    """Accept the notice's ``jti`` once (in the caller's transaction); a replay raises 409."""
    now = utcnow()
    db.session.execute(db.delete(UsedNoticeId).where(UsedNoticeId.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(UsedNoticeId(platform_id=notice.platform.id, jti=notice.jti,
                                        expires_at=max(notice.expires_at, now)))
    except IntegrityError as exc:
        raise NoticeError("This notice was already received (its jti was used).", 409,
                          "replayed") from exc
