"""The issuing service: issuers, badges, awards and revocation, with their published documents.

One function per use case (``create_issuer``, ``create_badge``, ``award``,
``revoke``); documents come from the pure builders in ``openbadges/``. An
award is written with its evidence, its OB 2.0 assertion, its signed OB 3.0
credential (Data Integrity proof and VC-JWT) and its status-list index in
one transaction, or not at all. Signed documents are never rewritten:
revocation and expiry travel through the revocation list and status list.

Identifiers: OB 2.0 documents live at the HTTPS URLs of DESIGN.md. The OB 3.0
issuer is a path-based ``did:web`` per issuer
(``did:web:<host>:ob:issuers:<id>``, document at ``/ob/issuers/<id>/did.json``)
because one URL cannot serve both the OB 2.0 Issuer and the DID controller
document Data Integrity verifiers dereference.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from lti_badges import clock, net, urls
from lti_badges.clock import utcnow
from lti_badges.crypto import passphrase
from lti_badges.errors import UserError
from lti_badges.extensions import db
from lti_badges.models import (
    Award,
    AwardEvent,
    Badge,
    ImageAsset,
    Issuer,
    IssuerKey,
    Membership,
    Person,
    StatusList,
)
from lti_badges.models.issuing import public_id
from lti_badges.openbadges import baking, images, ob2, ob3, proofs, status_list
from lti_badges.openbadges import keys as okeys
from lti_badges.openbadges.contexts import ContextLoader, loader_from_config
from lti_badges.services import catalogue
from lti_badges.urls import (
    assertion_url,
    badge_url,
    credential_url,
    image_url,
    issuer_did,
    issuer_key_url,
    issuer_url,
    revocation_list_url,
    status_list_url,
)


class IssuingError(UserError):
    """Refused input; ``message`` says what to change."""

    code = "invalid"


class AlreadyAwarded(IssuingError):
    def __init__(self, award: Award):
        super().__init__(f"{award.recipient_email or award.recipient_name or 'This person'} "
                         f"already holds this badge.", 409, "already_awarded")
        self.award = award


# -- addresses: the URL contract lives in services/urls.py ------------------------------


# -- keys and contexts ---------------------------------------------------------------


def context_loader() -> ContextLoader:
    """One loader per app, preloaded, so signing never fetches (DESIGN.md: contexts offline)."""
    ext = current_app.extensions
    loader = ext.get("lti_badges.contexts")
    if loader is None:
        config = dict(current_app.config)
        config.setdefault("CONTEXTS_CACHE_DIR", None)
        if not config.get("CONTEXTS_CACHE_DIR"):
            config["CONTEXTS_CACHE_DIR"] = current_app.instance_path + "/contexts"
        loader = loader_from_config(config, fetch=net.fetch_context)
        try:
            loader.preload()
        except Exception as exc:
            raise IssuingError(
                "The JSON-LD contexts needed to sign credentials could not be loaded "
                f"({exc}). Set LTI_BADGES_CONTEXTS_DIR to a directory holding them, or let "
                "the tool reach the standards' URLs once.", 503, "contexts_unavailable") from exc
        ext["lti_badges.contexts"] = loader
    return loader


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _new_key(issuer: Issuer, kind: str) -> IssuerKey:
    private = okeys.generate_ed25519() if kind == "ed25519" else okeys.generate_rsa()
    kid = (okeys.ed25519_public_multibase(private) if kind == "ed25519"
           else okeys.jwk_thumbprint(private))
    pem = okeys.private_key_to_pem(private, passphrase(_secret(), "issuer-keys")).decode()
    return IssuerKey(issuer=issuer, kid=kid, kind=kind, private_pem=pem,
                     public_pem=okeys.public_key_to_pem(private).decode())


def _active_key(issuer: Issuer, kind: str) -> IssuerKey:
    for key in reversed(issuer.keys):
        if key.kind == kind and key.status == "active":
            return key
    key = _new_key(issuer, kind)
    db.session.add(key)
    db.session.flush()
    return key


_KEY_CACHE: dict[tuple[str, str], Any] = {}


def _private(key: IssuerKey) -> ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey:
    # Decrypting a PEM runs a deliberately slow KDF; a sync issuing thousands of awards
    # must not pay it each time. Keyed by the encrypted PEM itself, so rotation is safe.
    cache_key = (hashlib.sha256(key.private_pem.encode()).hexdigest(), _secret())
    cached = _KEY_CACHE.get(cache_key)
    if cached is not None:
        return cached
    try:
        private = okeys.private_key_from_pem(key.private_pem, passphrase(_secret(), "issuer-keys"))
    except (ValueError, TypeError) as exc:
        raise IssuingError("The issuer's signing key cannot be decrypted: the application "
                           "secret changed since it was made.", 500, "key_unreadable") from exc
    if len(_KEY_CACHE) > 256:
        _KEY_CACHE.clear()
    _KEY_CACHE[cache_key] = private
    return private


def rotate_issuer_keys(issuer: Issuer) -> list[IssuerKey]:
    """New Ed25519 and RSA keys; the old ones stay published (retired) for old credentials."""
    now = utcnow()
    for key in issuer.keys:
        if key.status == "active":
            key.status, key.retired_at = "retired", now
    fresh = [_new_key(issuer, "ed25519"), _new_key(issuer, "rsa")]
    db.session.add_all(fresh)
    db.session.flush()
    return fresh


def verification_method(issuer: Issuer, key: IssuerKey) -> str:
    return f"{issuer_did(issuer)}#{key.kid}"


# -- images --------------------------------------------------------------------------


def store_image(data: bytes, *, filename: str | None = None,
                declared_type: str | None = None) -> ImageAsset:
    try:
        processed = images.process_upload(data, filename=filename, declared_type=declared_type)
    except images.ImageRejected as exc:
        raise IssuingError(exc.message, 400, f"image_{exc.code}") from exc
    return _image_row(processed.data, processed.mime_type, processed.width, processed.height)


def _image_row(data: bytes, mime: str, width: int | None, height: int | None) -> ImageAsset:
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(db.select(ImageAsset).filter_by(sha256=digest, mime_type=mime))
    if existing:
        return existing
    row = ImageAsset(sha256=digest, mime_type=mime, data=data, width=width, height=height)
    db.session.add(row)
    db.session.flush()
    return row


def generated_image(text: str, colour: str = "blue", template: str = "circle") -> ImageAsset:
    try:
        data = images.generate_badge_png(text, colour, template)
    except images.ImageRejected as exc:
        raise IssuingError(exc.message, 400, f"image_{exc.code}") from exc
    return _image_row(data, "image/png", 512, 512)


# -- issuers and badges: services/catalogue.py (one set of checks) ----------------------


def ensure_issuer_keys(issuer: Issuer) -> None:
    """An active signing key of each kind the documents need (Ed25519, RSA)."""
    _active_key(issuer, "ed25519")
    _active_key(issuer, "rsa")


# -- awards ------------------------------------------------------------------------------


class StatusSlots:
    """Hands out status-list indices within one transaction without a query per award: the
    list row is locked (FOR UPDATE) at first use and counted in memory until commit. Make a
    new one after each commit."""

    def __init__(self) -> None:
        self._lists: dict[int, StatusList] = {}

    def take(self, issuer: Issuer) -> tuple[StatusList, int]:
        current = self._lists.get(issuer.id)
        if current is None or current.next_index >= current.size:
            current, index = _status_slot(issuer)
            self._lists[issuer.id] = current
            return current, index
        index = current.next_index
        current.next_index = index + 1
        return current, index


def _status_slot(issuer: Issuer) -> tuple[StatusList, int]:
    query = (db.select(StatusList).filter_by(issuer_id=issuer.id, purpose="revocation")
             .order_by(StatusList.id.desc()).with_for_update())
    current = db.session.scalar(query)
    if current is None or current.next_index >= current.size:
        current = StatusList(issuer=issuer, purpose="revocation")
        db.session.add(current)
        db.session.flush()
        _sign_status_list(current, set())
    index = current.next_index
    current.next_index = index + 1
    return current, index


def _sign_status_list(sl: StatusList, revoked_indices: set[int]) -> None:
    bits = status_list.BitstringStatusList(sl.size)
    for index in revoked_indices:
        bits.set(index)
    issuer = sl.issuer
    key = _active_key(issuer, "ed25519")
    doc = status_list.status_list_credential(
        status_list_url(sl), issuer_did(issuer), bits.encode(), valid_from=clock.now(),
        purpose=sl.purpose, name=f"{issuer.name} — revocation list")
    sl.credential = proofs.sign_data_integrity(doc, _private(key), verification_method(issuer, key),
                                               context_loader())


def award(badge: Badge, *, email: str | None = None, name: str | None = None,
          person: Person | None = None, evidence: dict[str, Any] | None = None,
          evidence_url: str | None = None, narrative: str | None = None,
          source: str = "manual", awarded_by: str | None = None,
          issued_on: datetime | None = None, commit: bool = True,
          slots: StatusSlots | None = None, known_new: bool = False) -> Award:
    """Issue ``badge``: OB 2.0 assertion + OB 3.0 credential, in one transaction.

    Raises AlreadyAwarded when the recipient holds it (and it is not repeatable).
    Bulk issuing (a sync) passes ``slots`` and ``known_new=True`` (it checked the recipient
    holds nothing) and ``commit=False``: no query, savepoint or flush per award; a twin
    written meanwhile by another worker then fails the caller's batch commit, which the
    caller retries award by award.
    """
    if badge.archived:
        raise IssuingError("This badge is archived and can no longer be awarded.")
    email = catalogue.checked_email(email) if email else (person.email if person else None)
    name = (name or (person.display_name if person else None) or "").strip()
    name = name[:catalogue.LIMITS["name"]] or None
    if name:
        name = catalogue.strip_controls(name)  # from the LMS: clean, not refuse
    if narrative:
        catalogue.clean_text(narrative, "The narrative")
    if not email and person is None:
        raise IssuingError("An award needs the recipient's email address.")
    if evidence_url:
        catalogue.checked_url(evidence_url, "The evidence URL")
    if person is None and badge.course_id is not None:
        # One person, one badge: an email that is a course member's is that member's award.
        person = member_for_email(badge.course_id, email)
        if person is not None:
            _link_own_email_award(badge, person, email)
            name = name or person.display_name[:255]
    identity_key = (f"person:{person.id}" if person is not None
                    else "email:" + email.strip().lower())
    if not known_new:
        existing = db.session.scalar(db.select(Award).filter_by(
            badge_id=badge.id, identity_key=identity_key, award_key="once"))
        if existing is not None and not badge.repeatable:
            raise AlreadyAwarded(existing)

    issuer = badge.issuer
    issued = clock.aware(issued_on) if issued_on else clock.now()
    expires = None
    if badge.expires_after_days:
        expires = issued + timedelta(days=badge.expires_after_days)
    elif badge.expires_on:
        expires = clock.aware(badge.expires_on)
    salt = secrets.token_hex(8)
    sl, index = slots.take(issuer) if slots is not None else _status_slot(issuer)
    row = Award(public_id=public_id(), badge=badge, person=person, identity_key=identity_key,
                award_key=secrets.token_hex(8) if badge.repeatable else "once",
                recipient_email=email, recipient_name=name,
                recipient_url=None if email else urls.recipient_url(person), salt=salt,
                issued_on=issued.replace(tzinfo=None),
                expires_at=expires.replace(tzinfo=None) if expires else None,
                evidence={**(evidence or {}), **({"url": evidence_url} if evidence_url else {}),
                          **({"narrative": narrative} if narrative else {})},
                source=source, awarded_by=awarded_by, status_list=sl, status_index=index,
                assertion={}, credential={}, credential_jwt="")
    savepoint = None if known_new else db.session.begin_nested()  # a twin undoes only this
    db.session.add(row)
    if savepoint is not None:
        try:
            db.session.flush()  # a concurrent twin fails here
        except IntegrityError as exc:
            savepoint.rollback()
            twin = db.session.scalar(db.select(Award).filter_by(
                badge_id=badge.id, identity_key=identity_key, award_key="once"))
            if twin is not None:
                raise AlreadyAwarded(twin) from exc
            raise

    evidence_items = _evidence(row)
    rsa_key = _active_key(issuer, "rsa")
    signed = issuer.ob2_verification == "signed"
    recipient = (ob2.recipient_email(email, salt) if email
                 else ob2.recipient_url(row.recipient_url))
    row.assertion = ob2.assertion(
        assertion_id=assertion_url(row), badge_id=badge_url(badge), recipient=recipient,
        issued_on=issued, expires=expires,
        evidence=[ob2.Evidence2(id=e.get("id"), narrative=e.get("narrative"))
                  for e in evidence_items],
        image=f"{assertion_url(row)}.png",
        signing_key_url=issuer_key_url(issuer, rsa_key) if signed else None)
    if signed:
        row.signed_assertion = ob2.sign_assertion(row.assertion, _private(rsa_key))

    ed_key = _active_key(issuer, "ed25519")
    credential = ob3.build_credential(
        credential_id=credential_url(row), issuer=ob3_profile(issuer),
        achievement=ob3_achievement(badge), valid_from=issued, valid_until=expires,
        recipient_email=email, salt=salt if email else None,
        subject_id=None if email else row.recipient_url,
        evidence=[ob3.Evidence(id=e.get("id"), narrative=e.get("narrative"))
                  for e in evidence_items],
        credential_status=status_list.status_list_entry(status_list_url(sl), index),
        awarded_date=issued, image=image_url(badge.image))
    try:
        row.credential = proofs.sign_data_integrity(
            credential, _private(ed_key), verification_method(issuer, ed_key), context_loader())
    except Exception as exc:  # TermExpansionError, ProofError: refuse rather than half-issue
        if savepoint is not None:
            savepoint.rollback()
        else:
            db.session.expunge(row)
        raise IssuingError(f"The credential could not be signed: {exc}", 400,
                           "unsignable") from exc
    row.credential_jwt = proofs.sign_vc_jwt(credential, _private(ed_key),
                                            verification_method(issuer, ed_key))
    if savepoint is not None:
        savepoint.commit()
    if commit:
        try:
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            again = db.session.scalar(db.select(Award).filter_by(
                badge_id=badge.id, identity_key=identity_key, award_key="once"))
            if again is not None:
                raise AlreadyAwarded(again) from exc
            raise
    return row


# -- awards by email and the people they belong to ---------------------------------------
# The rule (README, "One person, one badge"): an award by email for a badge of a course is
# the award of the course member whose email the platform gives (NRPS or a launch) as that
# address, compared case-insensitively. Made before the person is known, it is attached to
# them when they appear; once attached it stays with them (their email may change later).
# Two members sharing one email are never guessed between.


def _email_members(course_id: int, email: str) -> list[Person]:
    return list(db.session.scalars(
        db.select(Person).join(Membership, Membership.person_id == Person.id)
        .where(Membership.course_id == course_id,
               db.func.lower(Person.email) == email.strip().lower())
        .order_by(Person.id)))


def member_for_email(course_id: int, email: str) -> Person | None:
    """The member of the course with this email (case-insensitive), or None when nobody is.

    Raises IssuingError when several members share it: the caller must choose the person."""
    found = _email_members(course_id, email)
    if len(found) > 1:
        raise IssuingError(
            f"{len(found)} members of this course share the email address {email.strip()}: "
            "choose the person from the course's member list instead.", 409, "ambiguous_email")
    return found[0] if found else None


def _link_own_email_award(badge: Badge, person: Person, email: str) -> None:
    """An award made to this email before the person was known becomes theirs now."""
    row = db.session.scalar(db.select(Award).filter_by(
        badge_id=badge.id, identity_key="email:" + email.strip().lower(), person_id=None))
    if row is not None:
        _attach(row, person.id)


def _attach(row: Award, person_id: int) -> None:
    row.person_id = person_id
    key = f"person:{person_id}"
    twin = db.session.scalar(db.select(Award.id).filter_by(
        badge_id=row.badge_id, identity_key=key, award_key=row.award_key))
    if twin is None:  # the person's own key: a later award to them finds this one
        row.identity_key = key
    db.session.flush()


def link_email_awards(course_id: int) -> int:
    """Attach the course's awards made by email alone to the member with that email; an
    email two members share is left alone. Returns how many were attached."""
    rows = db.session.scalars(db.select(Award).join(Badge, Award.badge_id == Badge.id).where(
        Badge.course_id == course_id, Award.person_id.is_(None),
        Award.recipient_email.is_not(None))).all()
    if not rows:
        return 0
    owners: dict[str, list[int]] = {}
    for pid, email in db.session.execute(
            db.select(Person.id, Person.email).join(Membership, Membership.person_id == Person.id)
            .where(Membership.course_id == course_id, Person.email.is_not(None))):
        owners.setdefault(email.strip().lower(), []).append(pid)
    linked = 0
    for row in rows:
        ids = owners.get((row.recipient_email or "").strip().lower(), [])
        if len(ids) == 1:
            _attach(row, ids[0])
            linked += 1
    return linked


def _evidence(row: Award) -> list[dict[str, Any]]:
    ev = row.evidence or {}
    items = []
    if ev.get("url") or ev.get("narrative"):
        items.append({"id": ev.get("url"), "narrative": ev.get("narrative")})
    if ev.get("rule"):
        items.append({"narrative": ev.get("summary") or "Met the badge's criteria in the course."})
    return items


def revoke(row: Award, reason: str) -> Award:
    reason = catalogue.required(reason, "A reason for the revocation",
                              catalogue.LIMITS["reason"])
    if row.revoked_at is not None:
        raise IssuingError("This award is already revoked.", 409, "already_revoked")
    row.revoked_at = utcnow()
    row.revocation_reason = reason
    db.session.flush()
    sl = row.status_list
    revoked = set(db.session.scalars(
        db.select(Award.status_index).where(Award.status_list_id == sl.id,
                                            Award.revoked_at.is_not(None))))
    _sign_status_list(sl, revoked)
    db.session.commit()
    return row


def award_summary(row: Award) -> dict[str, Any]:
    """The award object of the CLI contract."""
    return {
        "id": row.public_id,
        "badge": row.badge.public_id,
        "recipient": row.recipient_email or row.recipient_url,
        "person_sub": row.person.sub if row.person is not None else None,
        "assertion_url": assertion_url(row),
        "credential_url": credential_url(row),
        "status": row.status(),
        "issued_on": row.issued_on.isoformat() + "Z",
        "expires": row.expires_at.isoformat() + "Z" if row.expires_at else None,
    }


# -- published documents ----------------------------------------------------------------


def ob3_profile(issuer: Issuer) -> ob3.Profile:
    return ob3.Profile(id=issuer_did(issuer), name=issuer.name, url=issuer.url,
                       email=issuer.email, description=issuer.description,
                       image=image_url(issuer.image) if issuer.image else None)


def ob3_achievement(badge: Badge) -> ob3.Achievement:
    return ob3.Achievement(
        id=badge_url(badge), name=badge.name, description=badge.description,
        criteria_narrative=badge.criteria_text, criteria_url=badge.criteria_url,
        image=image_url(badge.image), tags=tuple(badge.tags or ()),
        alignments=tuple(ob3.Alignment(**_alignment_kwargs(a)) for a in badge.alignments or []),
        language=badge.language, version=badge.version)


def _alignment_kwargs(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a.get(k) for k in ("target_name", "target_url", "target_code",
                                  "target_framework", "target_description")}


def issuer_ob2_document(issuer: Issuer) -> dict[str, Any]:
    rsa_key = _active_key(issuer, "rsa")
    doc = ob2.issuer_profile(ob2.Issuer2(
        id=issuer_url(issuer), name=issuer.name, url=issuer.url, email=issuer.email,
        description=issuer.description,
        image=image_url(issuer.image) if issuer.image else None,
        public_key_url=issuer_key_url(issuer, rsa_key),
        revocation_list_url=revocation_list_url(issuer)))
    keys = [issuer_key_url(issuer, k) for k in issuer.keys if k.kind == "rsa"]
    if len(keys) > 1:
        doc["publicKey"] = keys
    return doc


def issuer_key_document(issuer: Issuer, key: IssuerKey) -> dict[str, Any]:
    if key.kind == "rsa":
        return ob2.cryptographic_key(issuer_key_url(issuer, key), issuer_url(issuer),
                                     okeys.public_key_from_pem(key.public_pem))
    return okeys.multikey_document(okeys.public_key_from_pem(key.public_pem),
                                   verification_method(issuer, key), issuer_did(issuer))


def issuer_did_document(issuer: Issuer) -> dict[str, Any]:
    eds = [(okeys.public_key_from_pem(k.public_pem), verification_method(issuer, k))
           for k in issuer.keys if k.kind == "ed25519"]
    return okeys.controller_document(issuer_did(issuer), eds)


def badge_ob2_document(badge: Badge) -> dict[str, Any]:
    return ob2.badge_class(ob2.BadgeClass2(
        id=badge_url(badge), issuer_id=issuer_url(badge.issuer), name=badge.name,
        description=badge.description, image=image_url(badge.image),
        criteria_url=badge.criteria_url, criteria_narrative=badge.criteria_text,
        tags=tuple(badge.tags or ()),
        alignments=tuple(ob2.Alignment2(**_alignment_kwargs(a)) for a in badge.alignments or [])))


def badge_ob3_document(badge: Badge) -> dict[str, Any]:
    return ob3.achievement_document(ob3_achievement(badge))


def assertion_document(row: Award) -> dict[str, Any]:
    """The hosted assertion. A revoked one is stripped to ``id``, ``revoked`` and the reason
    (OB 2.0 § Assertion, revoked: "only revoked and id are required properties")."""
    if row.revoked_at:
        return ob2.revoked_assertion(assertion_url(row), row.revocation_reason)
    return row.assertion


def revocation_list_document(issuer: Issuer) -> dict[str, Any]:
    revoked = db.session.execute(
        db.select(Award.public_id, Award.revocation_reason).join(Badge)
        .where(Badge.issuer_id == issuer.id, Award.revoked_at.is_not(None))
        .order_by(Award.revoked_at)).all()
    return ob2.revocation_list(revocation_list_url(issuer), issuer_url(issuer),
                               [(assertion_url(pid), reason)
                                for pid, reason in revoked])


def baked_image(row: Award, kind: str, flavour: str = "ob2") -> bytes:
    """The badge image baked with the OB 2.0 assertion (its URL, or the JWS when the issuer
    signs) or, for ``flavour="ob3"``, with the signed OB 3.0 credential."""
    mime = row.badge.image.mime_type
    if (kind == "svg") != (mime == "image/svg+xml"):
        other = "svg" if mime == "image/svg+xml" else "png"
        raise IssuingError(f"This badge's image is a {other.upper()}; download the .{other} "
                           "instead.", 404, "other_format")
    image = row.badge.image.data
    if flavour == "ob3":
        return baking.bake_ob3(image, row.credential)
    return baking.bake_ob2(image, row.signed_assertion or assertion_url(row))


EVENT_KINDS = ("download", "share", "view")


def record_event(row: Award, kind: str, detail: str | None = None) -> None:
    """Count a download, share or view; never fails the request that reports it."""
    if kind not in EVENT_KINDS:
        raise ValueError(kind)
    try:
        db.session.add(AwardEvent(award_id=row.id, kind=kind, detail=(detail or "")[:40] or None))
        db.session.commit()
    except Exception:  # analytics are best effort
        current_app.logger.exception("could not record an award event")
        db.session.rollback()


def event_counts(badge: Badge) -> dict[str, int]:
    rows = db.session.execute(
        db.select(AwardEvent.kind, db.func.count()).join(Award)
        .where(Award.badge_id == badge.id).group_by(AwardEvent.kind)).all()
    return {kind: 0 for kind in EVENT_KINDS} | {kind: n for kind, n in rows}
