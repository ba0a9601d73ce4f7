"""Backpack use cases, one function each, for the web layer and the worker.

* :func:`start_connect` — discover the backpack, register the tool (RFC 7591, reused
  per backpack), remember a pending request (state + PKCE verifier), return the URL
  to send the learner to.
* :func:`finish_connect` — the backpack sent the learner back: check the state,
  exchange the code, store the tokens (encrypted).
* :func:`disconnect` — revoke the tokens where the backpack offers RFC 7009, forget them.
* :func:`queue_push` / :func:`retry_push` — put an award in the outbox.
* :func:`process_outbox` — send what is due (the worker calls this).
* :func:`push_status` / :func:`connections` — rows for the learner's page.

Every function raises :class:`BackpackServiceError` (``message`` in plain words,
``status`` an HTTP status for the web layer) on refused input.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lti_badges.backpack import badge_connect, discovery, oauth, ob3_api, outbox, rfc7591, vault
from lti_badges.backpack.http import (
    RECONNECT,
    REFUSED,
    RETRY,
    UNAUTHORIZED,
    UNSUPPORTED,
    BackpackError,
    NetPolicy,
    PushResult,
    policy_from_config,
)
from lti_badges.clock import iso_z, utcnow
from lti_badges.extensions import db
from lti_badges.issuing import assertion_url
from lti_badges.models.backpack import BackpackConnection, BackpackPush
from lti_badges.models.course import Person
from lti_badges.models.issuing import Award

CONNECT_TTL = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(seconds=60)  # refresh a token this long before it expires


class BackpackServiceError(BackpackError):
    def __init__(self, message: str, status: int = 400, code: str = "invalid"):
        super().__init__(message, status=status, code=code)


def _policy() -> NetPolicy:
    return policy_from_config(current_app.config)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def redirect_uri() -> str:
    """Where backpacks send learners back (``BACKPACK_REDIRECT_URI``, default
    ``{BASE_URL}/backpack/callback``): registered with every backpack, so keep it stable."""
    return current_app.config.get("BACKPACK_REDIRECT_URI") or \
        f"{current_app.config['BASE_URL']}/backpack/callback"


def _client(conn: BackpackConnection) -> oauth.Client:
    return oauth.Client(conn.client_id, vault.decrypt(conn.client_secret_enc),
                        conn.client_auth_method)


# -- connecting ------------------------------------------------------------------------


def _registration(service: discovery.BackpackService, redirect: str) -> tuple[str, str | None, str]:
    """(client_id, encrypted secret, auth method): an earlier registration with this
    backpack for the same redirect URI, or a new one (RFC 7591 §3)."""
    earlier = db.session.scalar(
        db.select(BackpackConnection)
        .where(BackpackConnection.discovery_url == service.discovery_url,
               BackpackConnection.redirect_uri == redirect,
               BackpackConnection.registration_url == service.registration_url)
        .order_by(BackpackConnection.id.desc()).limit(1))
    if earlier is not None:
        return earlier.client_id, earlier.client_secret_enc, earlier.client_auth_method
    base = current_app.config["BASE_URL"]
    metadata = rfc7591.client_metadata(
        client_name=current_app.config.get("TOOL_NAME") or "LTI Badges", client_uri=base,
        redirect_uri=redirect, scopes=service.requested_scopes(),
        logo_uri=current_app.config.get("BACKPACK_CLIENT_LOGO_URI"),
        tos_uri=current_app.config.get("BACKPACK_CLIENT_TOS_URI"),
        policy_uri=current_app.config.get("BACKPACK_CLIENT_POLICY_URI"))
    reg = rfc7591.register(service.registration_url, metadata, _policy())
    return reg.client_id, vault.encrypt(reg.client_secret), reg.token_endpoint_auth_method


def start_connect(person: Person, address: str, *, now: datetime | None = None,
                  prefer: str | None = None) -> str:
    """Discover and register, store the pending request; return the authorization URL."""
    now = now or utcnow()
    policy = _policy()
    try:
        service = discovery.discover(address, policy, prefer=prefer)
        redirect = redirect_uri()
        client_id, secret_enc, method = _registration(service, redirect)
    except BackpackError as exc:
        raise BackpackServiceError(exc.message, 502 if exc.code != "discovery" else 400,
                                   exc.code) from exc
    state = oauth.new_state()
    verifier = oauth.new_code_verifier()
    scope = " ".join(service.requested_scopes())
    conn = BackpackConnection(
        person_id=person.id, kind=service.kind, name=service.name[:255], address=address[:1000],
        discovery_url=service.discovery_url, api_base=service.api_base,
        authorization_url=service.authorization_url, token_url=service.token_url,
        refresh_url=service.refresh_url, registration_url=service.registration_url,
        revocation_url=service.revocation_url, redirect_uri=redirect, client_id=client_id,
        client_secret_enc=secret_enc, client_auth_method=method, scopes=scope,
        state_hash=_hash(state), pkce_verifier_enc=vault.encrypt(verifier),
        state_expires_at=now + CONNECT_TTL, status="pending", created_at=now, updated_at=now)
    db.session.add(conn)
    # Pending requests nobody finished are of no use to anyone.
    db.session.execute(sa.delete(BackpackConnection).where(
        BackpackConnection.status == "pending", BackpackConnection.state_expires_at < now))
    db.session.commit()
    return oauth.authorization_url(service.authorization_url, client_id=client_id,
                                   redirect_uri=redirect, scope=scope, state=state,
                                   code_verifier=verifier)


def finish_connect(state: str, code: str | None, *, error: str | None = None,
                   error_description: str | None = None,
                   now: datetime | None = None) -> BackpackConnection:
    """The learner is back from the backpack (RFC 6749 §4.1.2): check ``state``, exchange
    ``code``. Connecting again to a backpack already connected refreshes that connection
    (its pushes keep their history; pushes that failed for want of a connection re-arm)."""
    now = now or utcnow()
    if not state:
        raise BackpackServiceError("The backpack sent you back without the request's state.")
    pending = db.session.scalar(db.select(BackpackConnection).filter_by(
        state_hash=_hash(state), status="pending"))
    if pending is None:
        raise BackpackServiceError("This backpack connection request is unknown or was already "
                                   "used. Start again from the badges page.", 400, "state")
    if pending.state_expires_at is None or pending.state_expires_at < now:
        db.session.delete(pending)
        db.session.commit()
        raise BackpackServiceError("This backpack connection request expired. Start again.",
                                   400, "expired")
    if error or not code:
        db.session.delete(pending)
        db.session.commit()
        if error == "access_denied":
            raise BackpackServiceError("You did not allow the tool to add badges to your "
                                       "backpack, so nothing was connected.", 400, error)
        raise BackpackServiceError(f"The backpack did not connect: {error or 'no code'}"
                                   + (f" ({error_description})" if error_description else "")
                                   + ".", 400, error or "no_code")
    verifier = vault.decrypt(pending.pkce_verifier_enc)
    try:
        tokens = oauth.exchange_code(pending.token_url, _client(pending), code=code,
                                     redirect_uri=pending.redirect_uri,
                                     code_verifier=verifier or "", policy=_policy(), now=now)
    except oauth.OAuthError as exc:
        db.session.delete(pending)
        db.session.commit()
        raise BackpackServiceError(exc.message, 502, exc.code) from exc
    push_scope = (discovery.OB21_ASSERTION_CREATE if pending.kind == discovery.OB21
                  else discovery.OB30_CREDENTIAL_UPSERT)
    if tokens.scope is not None and push_scope not in tokens.scope.split():
        db.session.delete(pending)
        db.session.commit()
        raise BackpackServiceError("The backpack did not grant the permission to add badges, "
                                   "so nothing was connected.", 400, "scope")
    existing = db.session.scalar(
        db.select(BackpackConnection)
        .where(BackpackConnection.person_id == pending.person_id,
               BackpackConnection.discovery_url == pending.discovery_url,
               BackpackConnection.status != "pending", BackpackConnection.id != pending.id)
        .order_by(BackpackConnection.id.desc()).limit(1))
    conn = existing or pending
    if existing is not None:
        for attr in ("kind", "name", "api_base", "authorization_url", "token_url", "refresh_url",
                     "registration_url", "revocation_url", "redirect_uri", "client_id",
                     "client_secret_enc", "client_auth_method"):
            setattr(existing, attr, getattr(pending, attr))
        db.session.delete(pending)
    _store_tokens(conn, tokens, now)
    conn.scopes = tokens.scope or pending.scopes
    conn.status = "active"
    conn.last_error = None
    conn.connected_at = now
    conn.state_hash = None
    conn.pkce_verifier_enc = None
    conn.state_expires_at = None
    db.session.commit()
    for push in db.session.scalars(db.select(BackpackPush).filter_by(
            connection_id=conn.id, state=outbox.FAILED, last_outcome=RECONNECT)):
        outbox.rearm(push, now=now)
    return conn


def _store_tokens(conn: BackpackConnection, tokens: oauth.TokenSet, now: datetime) -> None:
    conn.access_token_enc = vault.encrypt(tokens.access_token)
    conn.refresh_token_enc = vault.encrypt(tokens.refresh_token)
    conn.token_expires_at = tokens.expires_at
    conn.updated_at = now


def disconnect(connection: BackpackConnection, *, now: datetime | None = None) -> dict[str, Any]:
    """Revoke (RFC 7009) where offered, forget the tokens, stop the pushes still waiting.

    Returns ``{"revoked": bool, "message": str}``; the connection is gone from the tool
    either way.
    """
    now = now or utcnow()
    revoked = False
    if connection.revocation_url and connection.status in ("active", "needs_reconnect"):
        client = _client(connection)
        policy = _policy()
        # RFC 7009 §2.1: revoking the refresh token SHOULD also invalidate its access
        # tokens; we revoke the access token too for servers that do not.
        refresh = vault.decrypt(connection.refresh_token_enc)
        access = vault.decrypt(connection.access_token_enc)
        results = []
        if refresh:
            results.append(oauth.revoke(connection.revocation_url, client, token=refresh,
                                        hint="refresh_token", policy=policy))
        if access:
            results.append(oauth.revoke(connection.revocation_url, client, token=access,
                                        hint="access_token", policy=policy))
        revoked = bool(results) and all(results)
    connection.access_token_enc = None
    connection.refresh_token_enc = None
    connection.token_expires_at = None
    connection.status = "disconnected"
    connection.updated_at = now
    db.session.execute(
        sa.update(BackpackPush)
        .where(BackpackPush.connection_id == connection.id,
               BackpackPush.state.in_((outbox.PENDING, outbox.IN_PROGRESS)))
        .values(state=outbox.FAILED, last_outcome=RECONNECT, locked_until=None,
                lease_owner=None, updated_at=now,
                last_message="Not sent: you disconnected this backpack.")
        .execution_options(synchronize_session=False))
    db.session.commit()
    if revoked:
        message = f"Disconnected from {connection.name}; the backpack cancelled the tool's access."
    elif connection.revocation_url:
        message = (f"Disconnected from {connection.name}. The backpack could not confirm it "
                   "cancelled the tool's access; you can remove it in the backpack's settings.")
    else:
        message = (f"Disconnected from {connection.name}. This backpack offers no way for the "
                   "tool to cancel its access; remove it in the backpack's settings.")
    return {"revoked": revoked, "message": message}


# -- pushing ---------------------------------------------------------------------------


def queue_push(award: Award, connection: BackpackConnection, *, form: str | None = None,
               now: datetime | None = None) -> BackpackPush:
    """Put ``award`` in the outbox for ``connection`` (idempotent: one row per pair).

    ``form`` forces how the badge travels (OB 2.1: id | assertion | signed; OB 3.0:
    json | jwt); by default the tool picks and remembers what the backpack accepts.
    """
    if award.person_id is not None and award.person_id != connection.person_id:
        raise BackpackServiceError("This badge belongs to someone else.", 403, "forbidden")
    if award.revoked_at is not None:
        raise BackpackServiceError("This badge was revoked; it cannot be sent to a backpack.",
                                   409, "revoked")
    if connection.status != "active":
        raise BackpackServiceError("Connect your backpack again before sending badges to it.",
                                   409, "not_connected")
    allowed = badge_connect.FORMS if connection.kind == discovery.OB21 else ob3_api.FORMS
    if form is not None and form not in allowed:
        raise BackpackServiceError(f"{form!r} is not a way to send a badge to this backpack "
                                   f"(one of: {', '.join(allowed)}).")
    if form == badge_connect.FORM_SIGNED and not award.signed_assertion:
        raise BackpackServiceError("This badge has no signed assertion to send.")
    return outbox.enqueue(award, connection, form=form, now=now)


def retry_push(push: BackpackPush, *, now: datetime | None = None) -> BackpackPush:
    """The learner's "retry" on a push the tool gave up on (or that was refused)."""
    if push.connection.status != "active":
        raise BackpackServiceError("Connect your backpack again, then retry.", 409,
                                   "not_connected")
    if not outbox.rearm(push, now=now):
        raise BackpackServiceError("This badge is not waiting for a retry.", 409, "not_retryable")
    return push


def process_outbox(now: datetime | None = None, limit: int = 20,
                   worker_id: str | None = None) -> dict[str, Any]:
    """Send the due pushes (the worker's job). Returns counts by resulting state."""
    return outbox.process_due(deliver, now=now or utcnow(), limit=limit,
                              policy=outbox.RetryPolicy.from_config(current_app.config),
                              worker_id=worker_id)


class _Reconnect(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _access_token(conn: BackpackConnection, now: datetime, *, force: bool = False) -> str:
    """A usable access token, refreshed (RFC 6749 §6) when expired, nearly expired or
    refused. Raises _Reconnect when only the learner can fix it; OAuthError(transient)
    when the token service is briefly unavailable."""
    access = vault.decrypt(conn.access_token_enc)
    fresh = conn.token_expires_at is None or conn.token_expires_at > now + REFRESH_MARGIN
    if access and fresh and not force:
        return access
    refresh_token = vault.decrypt(conn.refresh_token_enc)
    if not refresh_token:
        if access and not force:
            return access  # no way to renew; let the backpack decide
        _needs_reconnect(conn, "The backpack's access expired and it gave no way to renew it.")
    seen = conn.access_token_enc
    try:
        tokens = oauth.refresh(conn.refresh_url or conn.token_url, _client(conn),
                               refresh_token=refresh_token, policy=_policy(), now=now)
    except oauth.OAuthError as exc:
        if exc.transient:
            raise
        # Another worker may have rotated the refresh token a moment ago.
        db.session.refresh(conn)
        if conn.access_token_enc != seen and conn.status == "active":
            return vault.decrypt(conn.access_token_enc) or ""
        _needs_reconnect(conn, exc.message)
    _store_tokens(conn, tokens, now)
    db.session.commit()
    return tokens.access_token


def _needs_reconnect(conn: BackpackConnection, message: str) -> None:
    conn.status = "needs_reconnect"
    conn.last_error = message
    db.session.commit()
    raise _Reconnect(message)


def deliver(push: BackpackPush, now: datetime) -> PushResult:
    """One attempt at one push: the outbox's ``deliver`` callable."""
    conn, award = push.connection, push.award
    if conn.status != "active":
        return PushResult(RECONNECT, "Not sent: the backpack connection needs renewing. "
                          "Connect your backpack again; the badge will then be sent.")
    if award.revoked_at is not None:
        return PushResult(REFUSED, "Not sent: this badge was revoked.")
    try:
        token = _access_token(conn, now)
    except _Reconnect as exc:
        return PushResult(RECONNECT, f"Not sent: {exc.message}")
    except oauth.OAuthError as exc:
        return PushResult(RETRY, exc.message, exc.status)
    policy = _policy()
    if conn.kind == discovery.OB21:
        forms = [push.form] if push.form else badge_connect.forms_to_try(
            has_signed=bool(award.signed_assertion), preferred=conn.push_form)
        forms = [f for f in forms if f != badge_connect.FORM_SIGNED or award.signed_assertion]
    else:
        forms = [push.form] if push.form else ob3_api.forms_to_try(conn.push_form)

    def send(form: str, access: str) -> PushResult:
        if conn.kind == discovery.OB21:
            body = badge_connect.request_body(form, assertion_url=assertion_url(award),
                                              assertion=award.assertion,
                                              signed_assertion=award.signed_assertion)
            return badge_connect.post_assertion(conn.api_base, access, body, policy)
        return ob3_api.upsert_credential(conn.api_base, access, form, credential=award.credential,
                                         credential_jwt=award.credential_jwt, policy=policy)

    result = PushResult(REFUSED, "Nothing to send.")
    for form in forms:
        result = send(form, token)
        if result.outcome == UNAUTHORIZED:
            try:
                token = _access_token(conn, now, force=True)
            except _Reconnect as exc:
                return PushResult(RECONNECT, f"Not sent: {exc.message}", result.status)
            except oauth.OAuthError as exc:
                return PushResult(RETRY, exc.message, exc.status)
            result = send(form, token)
            if result.outcome == UNAUTHORIZED:
                return PushResult(RETRY, "The backpack refused the tool's renewed access; the "
                                  "tool will try again.", result.status)
        if result.outcome == UNSUPPORTED:
            continue
        if result.ok and not push.form and conn.push_form != form:
            conn.push_form = form
            db.session.commit()
        return PushResult(result.outcome, result.message, result.status, result.retry_after, form)
    if result.outcome == UNSUPPORTED:
        return PushResult(REFUSED, "Your backpack did not accept this badge in any form the "
                          f"tool can send. {result.message}", result.status)
    return result


# -- display ---------------------------------------------------------------------------

STATE_LABELS = {
    outbox.PENDING: "Waiting to be sent",
    outbox.IN_PROGRESS: "Sending",
    outbox.DONE: "In your backpack",
    outbox.FAILED: "Not sent",
    outbox.GAVE_UP: "Not sent (the tool gave up)",
}


def _iso(value: datetime | None) -> str | None:
    return iso_z(value) if value else None


def push_status(person: Person) -> list[dict[str, Any]]:
    """Every push of ``person``'s badges, newest first, for display."""
    rows = db.session.scalars(
        db.select(BackpackPush).join(BackpackConnection)
        .where(BackpackConnection.person_id == person.id)
        .order_by(BackpackPush.created_at.desc(), BackpackPush.id.desc()))
    out = []
    for push in rows:
        out.append({
            "id": push.id,
            "award": push.award.public_id,
            "badge": push.award.badge.name,
            "backpack": push.connection.name,
            "connection": push.connection_id,
            "kind": push.connection.kind,
            "state": push.state,
            "label": STATE_LABELS.get(push.state, push.state),
            "outcome": push.last_outcome,
            "message": push.last_message,
            "attempts": push.attempts,
            "next_attempt_at": _iso(push.next_attempt_at) if push.state == outbox.PENDING
            else None,
            "can_retry": push.state in (outbox.FAILED, outbox.GAVE_UP),
            "updated_at": _iso(push.updated_at),
        })
    return out


def connections(person: Person) -> list[dict[str, Any]]:
    """``person``'s backpack connections (not pending ones), for display."""
    rows = db.session.scalars(
        db.select(BackpackConnection)
        .where(BackpackConnection.person_id == person.id,
               BackpackConnection.status != "pending")
        .order_by(BackpackConnection.id))
    return [{"id": c.id, "name": c.name, "kind": c.kind, "address": c.address,
             "status": c.status, "message": c.last_error, "connected_at": _iso(c.connected_at)}
            for c in rows]
