"""LTI Advantage services on the peer: the OAuth2 token endpoint, NRPS 2.0 and AGS 2.0.

Spec-correct where lti1p3platform is lenient: client assertions are checked for aud, jti
replay and required claims; scopes are limited to what the tool was granted; containers
are bare JSON arrays (AGS) or membership containers (NRPS) paged with a
``Link: <…>; rel="next"`` header; bad bearer tokens answer 401 JSON, never 500.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from flask import Flask, Response, request
from lti1p3platform.exceptions import (
    LtiException,
    MissingRequiredClaim,
    UnsupportedGrantType,
)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration

from .lib_glue import PeerPlatformConfig
from .vocab import (
    CLIENT_ASSERTION_TYPE,
    MT_LINEITEM,
    MT_LINEITEMS,
    MT_MEMBERSHIPS,
    MT_RESULTS,
    MT_SCORE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_RO,
    SCOPE_NRPS,
    SCOPE_RESULT_RO,
    SCOPE_SCORE,
    is_learner,
    role_uri,
    short_role,
)

if TYPE_CHECKING:
    from .platform import PlatformPeer


class ServiceError(Exception):
    """An error answered as JSON with a status code."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(description or error)
        self.status = status
        self.error = error
        self.description = description


def _json(body: Any, status: int = 200, mimetype: str = "application/json", **headers: str) -> Response:
    resp = Response(json.dumps(body), status=status, mimetype=mimetype)
    for name, value in headers.items():
        resp.headers[name.replace("_", "-")] = value
    return resp


def _error_response(err: ServiceError) -> Response:
    resp = _json({"error": err.error, "error_description": err.description}, err.status)
    if err.status == 401:
        # RFC 6750 §3: tell the client which scheme and why.
        resp.headers["WWW-Authenticate"] = f'Bearer error="{err.error}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---------------------------------------------------------------- token endpoint
def _token(peer: PlatformPeer) -> Response:
    """OAuth 2.0 client_credentials with a JWT client assertion (1EdTech Security §4.1)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise ServiceError(400, "invalid_request", "the token request must be form encoded")
    data = request.form.to_dict()
    if data.get("grant_type") != "client_credentials":
        raise ServiceError(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if data.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise ServiceError(400, "invalid_request", f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    assertion = data.get("client_assertion", "")
    if not assertion:
        raise ServiceError(400, "invalid_request", "client_assertion is required")
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise ServiceError(401, "invalid_client", f"client_assertion is not a JWT: {exc}")
    client_id = unverified.get("iss")
    tool = peer.tools.get(client_id) if isinstance(client_id, str) else None
    if tool is None:
        raise ServiceError(401, "invalid_client", f"unknown client {client_id!r}")

    registration = peer.lib_registration(tool)
    config = PeerPlatformConfig(
        registration=registration, on_fetch=lambda url: peer.jwks_fetches.append(url)
    )
    config.get_registration()
    try:
        # Signature against the tool's JWKS (fetched over HTTP), exp/iat/nbf by pyjwt.
        claims = config.tool_validate_and_decode(assertion)
    except (LtiException, jwt.PyJWTError, ValueError, KeyError) as exc:
        raise ServiceError(401, "invalid_client", f"client_assertion rejected: {exc}")

    # What the library does not check (Security §4.1.1: iss, sub, aud, iat, exp, jti).
    for claim in ("sub", "aud", "iat", "exp", "jti"):
        if claim not in claims:
            raise ServiceError(401, "invalid_client", f"client_assertion lacks {claim}")
    if claims["sub"] != client_id:
        raise ServiceError(401, "invalid_client", "client_assertion sub must equal iss (client_id)")
    auds = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if peer.token_url not in auds and peer.issuer not in auds:
        raise ServiceError(
            401, "invalid_client", f"client_assertion aud {claims['aud']!r} is not this token endpoint"
        )
    with peer.lock:
        key = (client_id, str(claims["jti"]))
        if key in peer.seen_jti:
            raise ServiceError(401, "invalid_client", "client_assertion jti was already used")
        peer.seen_jti.add(key)

    requested = data.get("scope", "").split()
    granted = [s for s in requested if s in tool.scopes]  # unpermitted ones dropped, like Moodle
    if not granted:
        raise ServiceError(400, "invalid_scope", "none of the requested scopes is granted to this tool")
    try:
        token = config.get_access_token({**data, "scope": " ".join(granted)})
    except (MissingRequiredClaim, UnsupportedGrantType, LtiException, jwt.PyJWTError) as exc:
        raise ServiceError(400, "invalid_request", str(exc))
    from .platform import AccessToken

    with peer.lock:
        peer.access_tokens[token["access_token"]] = AccessToken(
            client_id=client_id,
            scopes=token["scope"].split(),
            expires_at=time.time() + peer.access_token_lifetime,
            key=registration.signing_key,
        )
        peer.token_grants.append({"client_id": client_id, "scopes": token["scope"].split()})
    body = {
        "access_token": token["access_token"],
        "token_type": "Bearer",
        "expires_in": peer.access_token_lifetime,
        "scope": token["scope"],
    }
    return _json(body, Cache_Control="no-store")


def _bearer(peer: PlatformPeer, any_of: list[str]) -> str:
    """Check the request's bearer token; return the client_id it was granted to."""
    parts = request.headers.get("Authorization", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise ServiceError(401, "invalid_token", "a Bearer access token is required")
    token = parts[1]
    record = peer.access_tokens.get(token)
    key = record.key if record else peer.keys.current
    registration = Registration().set_iss(peer.issuer).set_platform_public_key(key.public_pem)
    config: LTI1P3PlatformConfAbstract = PeerPlatformConfig(registration=registration)
    config.get_registration()
    try:
        has_scope = config.validate_token(token, allowed_scopes=any_of)
    except Exception as exc:  # lti1p3platform lets garbage raise (500): it is a 401
        raise ServiceError(401, "invalid_token", f"access token rejected: {exc}")
    if record is None or record.client_id not in peer.tools:
        raise ServiceError(401, "invalid_token", "unknown or revoked access token")
    if record.expires_at < time.time():
        raise ServiceError(401, "invalid_token", "access token expired")
    if not has_scope:
        # RFC 6750 §3.1: a valid token without the scope is 403 insufficient_scope.
        raise ServiceError(403, "insufficient_scope", f"token lacks one of {any_of}")
    return record.client_id


def _accepts(media_type: str) -> None:
    accept = request.headers.get("Accept", "")
    if not accept:
        return
    offered = [part.split(";")[0].strip() for part in accept.split(",")]
    if media_type not in offered and "*/*" not in offered:
        raise ServiceError(406, "not_acceptable", f"this endpoint answers {media_type}")


def _content_type(media_type: str) -> Any:
    if request.mimetype != media_type:
        raise ServiceError(415, "unsupported_media_type", f"send Content-Type: {media_type}")
    try:
        body = json.loads(request.get_data(as_text=True))
    except ValueError:
        raise ServiceError(400, "invalid_request", "body is not JSON")
    if not isinstance(body, dict):
        raise ServiceError(400, "invalid_request", "body must be a JSON object")
    return body


def _page(items: list[Any]) -> tuple[list[Any], str | None]:
    """Apply ``limit``/``from``; return the page and the next page's URL (if any)."""
    args = request.args.to_dict()
    if "limit" not in args:
        return items, None
    try:
        limit = int(args["limit"])
        start = int(args.get("from", "0"))
    except ValueError:
        raise ServiceError(400, "invalid_request", "limit and from must be integers")
    if limit < 1 or start < 0:
        raise ServiceError(400, "invalid_request", "limit must be >= 1 and from >= 0")
    page = items[start : start + limit]
    if start + limit >= len(items):
        return page, None
    args["from"] = str(start + limit)
    return page, f"{request.base_url}?{urlencode(args)}"


def _paged(body: Any, mimetype: str, next_url: str | None) -> Response:
    resp = _json(body, mimetype=mimetype)
    if next_url:
        resp.headers["Link"] = f'<{next_url}>; rel="next"'
    return resp


# ---------------------------------------------------------------- NRPS 2.0
def _memberships(peer: PlatformPeer, context_id: str) -> Response:
    client_id = _bearer(peer, [SCOPE_NRPS])
    _accepts(MT_MEMBERSHIPS)
    course = peer.courses.get(context_id)
    if course is None:
        raise ServiceError(404, "not_found", f"no context {context_id!r}")
    tool = peer.tools[client_id]
    rlid = request.args.get("rlid")
    if rlid and (context_id, rlid) not in peer.resource_links:
        # NRPS 2.0 §3.3: deny a resource link that is not in the context.
        raise ServiceError(403, "forbidden", f"resource link {rlid!r} is not in this context")
    role_filter = request.args.get("role")
    wanted = None
    if role_filter:
        try:
            wanted = role_uri(role_filter).lower()
        except ValueError:
            wanted = role_filter.lower()

    members = []
    with peer.lock:
        enrollments = [(uid, e) for (ctx, uid), e in peer.enrollments.items() if ctx == context_id]
    for user_id, enrollment in enrollments:
        # Case-insensitive: pylti1p3 lowercases the next-page URL it reads from Link.
        if wanted and wanted not in [r.lower() for r in enrollment["roles"]]:
            continue
        user = peer.users[user_id]
        roles = enrollment["roles"]
        member: dict[str, Any] = {
            "status": enrollment["status"],
            "roles": [short_role(r) for r in roles] if peer.nrps_short_roles else list(roles),
            "user_id": user_id,
        }
        if user.get("sourcedid"):
            member["lis_person_sourcedid"] = user["sourcedid"]
        if tool.shares_name:
            for key in ("name", "given_name", "family_name"):
                if user.get(key):
                    member[key] = user[key]
        if tool.shares_email and user.get("email"):
            member["email"] = user["email"]
        members.append(member)

    page, next_url = _page(members)
    body = {
        "id": peer.memberships_url(context_id),
        "context": {"id": course["id"], "label": course["label"], "title": course["title"]},
        "members": page,
    }
    return _paged(body, MT_MEMBERSHIPS, next_url)


# ---------------------------------------------------------------- AGS 2.0
def _visible_item(peer: PlatformPeer, client_id: str, context_id: str, number: str) -> dict[str, Any]:
    item = peer.line_items.get(number)
    if item is None or item["_context"] != context_id or item["_owner"] not in (None, client_id):
        raise ServiceError(404, "not_found", "line item does not exist")
    return item


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _lineitem_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validate line item JSON (AGS 2.0 §3.2): label and a positive scoreMaximum."""
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ServiceError(400, "invalid_request", "label is required")
    if not _number(body.get("scoreMaximum")) or body["scoreMaximum"] <= 0:
        raise ServiceError(400, "invalid_request", "scoreMaximum must be a number > 0")
    fields = {"label": label, "scoreMaximum": body["scoreMaximum"]}
    for key in ("resourceLinkId", "resourceId", "tag", "startDateTime", "endDateTime",
                "gradesReleased"):
        if key in body and body[key] is not None:
            fields[key] = body[key]
    for key in ("startDateTime", "endDateTime"):
        if key in fields:
            _timestamp(fields[key], key)
    return fields


def _timestamp(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ServiceError(400, "invalid_request", f"{name} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ServiceError(400, "invalid_request", f"{name} is not ISO 8601: {value!r}")
    if parsed.tzinfo is None:
        raise ServiceError(400, "invalid_request", f"{name} needs a time zone offset")
    return parsed


def _lineitems(peer: PlatformPeer, context_id: str) -> Response:
    # Authenticate first: an anonymous caller learns nothing about which contexts exist.
    scopes = [SCOPE_LINEITEM] if request.method == "POST" else [SCOPE_LINEITEM, SCOPE_LINEITEM_RO]
    client_id = _bearer(peer, scopes)
    if context_id not in peer.courses:
        raise ServiceError(404, "not_found", f"no context {context_id!r}")
    if request.method == "POST":
        fields = _lineitem_fields(_content_type(MT_LINEITEM))
        if fields.get("resourceLinkId") and (context_id, fields["resourceLinkId"]) not in peer.resource_links:
            raise ServiceError(400, "invalid_request", "resourceLinkId is not a link of this context")
        item = peer.add_line_item(context_id, fields.pop("label"), fields.pop("scoreMaximum"),
                                  owner=client_id)
        number = peer._line_item_number(item["id"])
        with peer.lock:
            peer.line_items[number].update(fields)
            created = _public(peer.line_items[number])
        return _json(created, 201, mimetype=MT_LINEITEM, Location=created["id"])

    _accepts(MT_LINEITEMS)
    filters = {
        "resourceLinkId": request.args.get("resource_link_id"),
        "resourceId": request.args.get("resource_id"),
        "tag": request.args.get("tag"),
    }
    with peer.lock:
        items = [
            _public(item)
            for item in peer.line_items.values()
            if item["_context"] == context_id and item["_owner"] in (None, client_id)
            and all(v is None or item.get(k) == v for k, v in filters.items())
        ]
    page, next_url = _page(items)
    return _paged(page, MT_LINEITEMS, next_url)


def _lineitem(peer: PlatformPeer, context_id: str, number: str) -> Response:
    if request.method == "GET":
        client_id = _bearer(peer, [SCOPE_LINEITEM, SCOPE_LINEITEM_RO])
        _accepts(MT_LINEITEM)
        return _json(_public(_visible_item(peer, client_id, context_id, number)), mimetype=MT_LINEITEM)
    client_id = _bearer(peer, [SCOPE_LINEITEM])
    item = _visible_item(peer, client_id, context_id, number)
    if request.method == "DELETE":
        with peer.lock:
            peer.line_items.pop(number, None)
            peer.results.pop(number, None)
        return Response(status=204)
    body = _content_type(MT_LINEITEM)
    if body.get("id") not in (None, item["id"]):
        raise ServiceError(400, "invalid_request", "id in the body differs from the URL")
    fields = _lineitem_fields(body)
    with peer.lock:
        for key in ("resourceLinkId", "resourceId", "tag", "startDateTime", "endDateTime",
                    "gradesReleased"):
            item.pop(key, None)  # PUT replaces the representation
        item.update(fields)
        updated = _public(item)
    return _json(updated, mimetype=MT_LINEITEM)


def _results(peer: PlatformPeer, context_id: str, number: str) -> Response:
    client_id = _bearer(peer, [SCOPE_RESULT_RO])
    _accepts(MT_RESULTS)
    _visible_item(peer, client_id, context_id, number)
    user_id = request.args.get("user_id")
    with peer.lock:
        results = [
            dict(r) for uid, r in peer.results.get(number, {}).items()
            if user_id is None or uid == user_id
        ]
        if not peer.results_carry_timestamp:
            results = [{k: v for k, v in r.items() if k != "timestamp"} for r in results]
    page, next_url = _page(results)
    return _paged(page, MT_RESULTS, next_url)


def _stamp_of(result: dict[str, Any]) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(result.get("timestamp")))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


_ACTIVITY = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
_GRADING = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


def _scores(peer: PlatformPeer, context_id: str, number: str) -> Response:
    """Score publish service (AGS 2.0 §3.4): validate, rescale, keep the newest."""
    client_id = _bearer(peer, [SCOPE_SCORE])
    item = _visible_item(peer, client_id, context_id, number)
    score = _content_type(MT_SCORE)
    user_id = score.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ServiceError(400, "invalid_request", "userId (a string) is required")
    stamp = _timestamp(score.get("timestamp"), "timestamp")
    if score.get("activityProgress") not in _ACTIVITY:
        raise ServiceError(400, "invalid_request", f"activityProgress must be one of {sorted(_ACTIVITY)}")
    if score.get("gradingProgress") not in _GRADING:
        raise ServiceError(400, "invalid_request", f"gradingProgress must be one of {sorted(_GRADING)}")
    given = score.get("scoreGiven")
    maximum = score.get("scoreMaximum")
    if given is not None:
        if not _number(given) or given < 0:
            raise ServiceError(400, "invalid_request", "scoreGiven must be a number >= 0")
        if not _number(maximum) or maximum <= 0:
            raise ServiceError(400, "invalid_request", "scoreMaximum (> 0) is required with scoreGiven")
    enrollment = peer.enrollments.get((context_id, user_id))
    if enrollment is None:
        raise ServiceError(400, "invalid_request", f"user {user_id!r} is not in this context")
    if peer.scores_require_learner and not any(is_learner(r) for r in enrollment["roles"]):
        raise ServiceError(400, "invalid_request", f"user {user_id!r} is not gradable (not a Learner)")

    with peer.lock:
        previous = peer.results.setdefault(number, {}).get(user_id)
        if previous and _stamp_of(previous) and stamp < _stamp_of(previous):
            # AGS 2.0 §3.4.4: never overwrite with an older score (Moodle answers 409).
            raise ServiceError(409, "conflict", "score is older than the stored one")
        result: dict[str, Any] = {
            "id": f"{item['id']}/results/{user_id}",
            "scoreOf": item["id"],
            "userId": user_id,
            "resultMaximum": item["scoreMaximum"],
            "timestamp": score["timestamp"],
        }
        if given is not None:
            # Rescale to the line item's maximum, as Moodle does (7/10 on a /100 item → 70).
            result["resultScore"] = given / maximum * item["scoreMaximum"]
        if score.get("comment") is not None:
            result["comment"] = score["comment"]
        peer.results[number][user_id] = result
        peer.scores.append(
            {"context_id": context_id, "line_item": item["id"], "client_id": client_id,
             "score": score}
        )
    return Response(status=200, mimetype=MT_SCORE)


def register(app: Flask, peer: PlatformPeer) -> None:
    """Add the token, NRPS and AGS routes to ``app``."""

    def guarded(handler: Any) -> Any:
        def view(**kwargs: Any) -> Response:
            try:
                return handler(peer, **kwargs)
            except ServiceError as err:
                return _error_response(err)

        view.__name__ = handler.__name__
        return view

    app.add_url_rule("/token", view_func=guarded(_token), methods=["POST"])
    app.add_url_rule("/nrps/<context_id>/memberships", view_func=guarded(_memberships))
    app.add_url_rule("/ags/<context_id>/lineitems", view_func=guarded(_lineitems),
                     methods=["GET", "POST"])
    app.add_url_rule("/ags/<context_id>/lineitems/<number>/lineitem", view_func=guarded(_lineitem),
                     methods=["GET", "PUT", "DELETE"])
    app.add_url_rule("/ags/<context_id>/lineitems/<number>/lineitem/results",
                     view_func=guarded(_results))
    app.add_url_rule("/ags/<context_id>/lineitems/<number>/lineitem/scores",
                     view_func=guarded(_scores), methods=["POST"])
