"""Launch sessions: what a validated launch lets its browser do afterwards.

A launch creates the person, the course and the membership it names (attaching awards made
by hand to that person's email before, see ``issuing.link_email_awards``), and a
session bound to exactly that platform, deployment, course and role set, stored here
(``LAUNCH_SESSION_TTL_SECONDS``).

The browser never holds the session itself, only a *page credential*: a signed,
short-lived (``PAGE_CREDENTIAL_TTL_SECONDS``) reference to it that the launch page
keeps in that browsing context's sessionStorage and sends as a header or a posted
field, renewed while the page is in use. It is never put in a URL, so a copied,
bookmarked or logged address carries no access, and it needs no cookie, so the tool
works in an LMS iframe whose cookies the browser blocks.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_badges import issuing
from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.lti.launch import ValidatedLaunch
from lti_badges.lti.roles import capabilities_for
from lti_badges.models import Course, LaunchEvent, LaunchSession, Membership, Person
from lti_badges.models._upsert import get_or_create


def _upsert_person(launch: ValidatedLaunch) -> Person:
    claims = launch.claims
    person = get_or_create(Person, platform_id=launch.platform.id, sub=claims.subject)
    # Keep what the platform shares; never erase a known value with an absent claim.
    for attr in ("name", "given_name", "family_name", "email", "locale"):
        value = getattr(claims, attr)
        if value:
            setattr(person, attr, value[:320])
    return person


def _upsert_course(launch: ValidatedLaunch) -> Course | None:
    claims = launch.claims
    if not claims.context_id:
        return None
    course = get_or_create(Course, platform_id=launch.platform.id,
                           deployment_id=launch.deployment.id, context_id=claims.context_id)
    course.settings = course.settings or {}
    course.services = course.services or {}
    if claims.context_title:
        course.title = claims.context_title[:500]
    if claims.context_label:
        course.label = claims.context_label[:255]
    services = claims.services()
    if services:
        course.services = {**(course.services or {}), **services}
    return course


def open_session(launch: ValidatedLaunch, config: Any) -> tuple[LaunchSession, str]:
    """Record the launch's person, course and membership; return the session and a first
    page credential for it."""
    claims = launch.claims
    person = _upsert_person(launch)
    course = _upsert_course(launch)
    db.session.flush()
    if course is not None:
        membership = get_or_create(Membership, course_id=course.id, person_id=person.id)
        membership.roles = claims.roles
        membership.status = "active"
        membership.last_launch_at = utcnow()
        db.session.flush()
        issuing.link_email_awards(course.id)  # awards made to this email before the launch
        if claims.resource_link_id and not claims.is_deep_linking:
            # A fact for the `launched` rule: this person opened this link, now.
            db.session.add(LaunchEvent(course_id=course.id, person_id=person.id,
                                       resource_link_id=claims.resource_link_id,
                                       title=(claims.resource_link_title or "")[:500] or None))

    session = LaunchSession(
        # The session's secret reference, named in page credentials and CSRF tokens (no raw
        # token is handed out any more: a random value serves where its hash used to).
        token_hash=secrets.token_hex(32),
        platform_id=launch.platform.id,
        deployment_id=launch.deployment.id,
        course_id=course.id if course else None,
        person_id=person.id,
        roles=claims.roles,
        capabilities=capabilities_for(claims.roles),
        locale=claims.locale,
        message_type=claims.message_type,
        resource_link_id=claims.resource_link_id,
        claims={
            "deep_linking_settings": claims.deep_linking_settings or None,
            "return_url": claims.return_url,
            "document_target": claims.document_target,
        },
        expires_at=utcnow() + timedelta(seconds=int(config["LAUNCH_SESSION_TTL_SECONDS"])),
    )
    db.session.add(session)
    db.session.flush()
    return session, issue_credential(session, config)


def _serializer(config: Any) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt="lti-badges page credential")


def issue_credential(session: LaunchSession, config: Any) -> str:
    """A new page credential for ``session``: signed, dated now, good for
    ``PAGE_CREDENTIAL_TTL_SECONDS`` (renewing is issuing another one)."""
    return _serializer(config).dumps(session.token_hash)


def resolve_credential(credential: str | None, config: Any) -> LaunchSession | None:
    """The live session a page credential names, or None (bad signature, credential older
    than its lifetime, session ended or platform disabled)."""
    if not credential or len(credential) > 300:
        return None
    try:
        ref = _serializer(config).loads(credential,
                                        max_age=int(config["PAGE_CREDENTIAL_TTL_SECONDS"]))
    except (BadSignature, UnicodeError):
        return None
    if not isinstance(ref, str):
        return None
    session = db.session.scalar(db.select(LaunchSession).filter_by(token_hash=ref))
    if session is None or session.expires_at < utcnow():
        return None
    if not session.platform.is_active:
        return None
    return session
