"""OIDC login and LTI 1.3 launch validation: pylti1p3's MessageLaunch, made strict.

What pylti1p3 2.0 lacks and this module adds (1EdTech Security Framework
§5.1.3 and LTI 1.3 Core §5.1):

* the nonce is single use: it is bound to the login state in the database and
  spent atomically with the launch, so replaying an id_token fails even in the
  same browser session (pylti1p3 only checks that the nonce was seen);
* the state must come back with the browser's state cookie; pylti1p3 also
  accepts a state it has already validated for the same id_token, which is
  exactly what a replay presents;
* ``aud``/``azp``/``iss`` are verified, ``exp``/``iat`` with a small leeway,
  only RS256 is accepted;
* the token must be readable before anything else looks at it: header and payload
  JSON objects, and text that is valid Unicode (a lone UTF-16 surrogate, which JSON
  can spell as ``"\\ud800"``, cannot be stored or shown). Anyone can send these, so
  they are refused before the signature is checked;
* claim types are checked strictly once the signature verifies (``exp``/``iat``
  numbers, the resource link, context, AGS and NRPS claims objects of the types their
  specs give, ``target_link_uri`` present in a resource link launch), so nothing
  downstream meets a list where it expects an object;
* platform keys are cached, and refetched when an unknown ``kid`` appears;
* registrations and deployments come from the database, with a pending or
  disabled platform refused in words an admin can act on.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException
from sqlalchemy.exc import IntegrityError

from lti_badges.clock import utcnow
from lti_badges.errors import UserError
from lti_badges.extensions import db
from lti_badges.lti.claims import (
    AGS_CLAIM,
    DL_SETTINGS,
    LTI,
    NRPS_CLAIM,
    RESOURCE_LINK_REQUEST,
    LaunchClaims,
    parse_claims,
)
from lti_badges.lti.platform_keys import PlatformKeyCache, UnknownKeyError
from lti_badges.lti.tool_config import DbToolConf
from lti_badges.models import Deployment, LoginState, Platform, PlatformStatus, UsedNonce
from lti_badges.net import FetchError, NetPolicy
from lti_badges.urls import endpoints

STATE_COOKIE_PREFIX = "lti_badges_state_"
LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
)


class LaunchError(UserError):
    """A login or launch the tool refuses; ``message`` is for the person who sees it."""

    code = "invalid_launch"


@dataclass(frozen=True)
class LoginStart:
    redirect_url: str
    state: str
    cookie_name: str
    max_age: int


@dataclass(frozen=True)
class ValidatedLaunch:
    claims: LaunchClaims
    body: dict[str, Any]
    platform: Platform
    deployment: Deployment


def find_platform(iss: str | None, client_id: str | None) -> Platform:
    """The one registration for (iss, client_id), or a LaunchError saying what to do."""
    if not iss:
        raise LaunchError("The login request has no issuer (iss). Open the tool from your LMS.")
    query = db.select(Platform).filter_by(issuer=iss)
    if client_id:
        query = query.filter_by(client_id=client_id)
    rows = db.session.scalars(query).all()
    if not rows:
        raise LaunchError(
            f"The platform {iss} (client id {client_id or 'not given'}) is not registered with "
            "this tool. An LMS administrator must register it first (dynamic registration or "
            "`lti-badges platforms add`).",
            status=401, code="unknown_platform",
        )
    if len(rows) > 1:
        raise LaunchError(
            f"The platform {iss} has several registrations and sent no client_id; "
            "ask the LMS administrator to enable client_id in login requests.",
            code="ambiguous_platform",
        )
    platform = rows[0]
    if platform.status == PlatformStatus.PENDING:
        raise LaunchError(
            f"The registration of {iss} is waiting for approval by the tool's operator "
            f"(`lti-badges platforms approve {platform.id}`).",
            status=403, code="platform_pending",
        )
    if platform.status == PlatformStatus.DISABLED:
        raise LaunchError(
            f"The registration of {iss} has been disabled by the tool's operator.",
            status=403, code="platform_disabled",
        )
    return platform


def purge_expired(now: datetime | None = None) -> int:
    """Delete login states never used and spent nonces past their time (cheaply, by index):
    at every login, and on the schedule (``jobs``) for when logins stop. The caller commits."""
    now = now or utcnow()
    states = db.session.execute(db.delete(LoginState).where(LoginState.expires_at < now))
    db.session.execute(db.delete(UsedNonce).where(UsedNonce.expires_at < now))
    return int(states.rowcount or 0)


def start_login(params: dict[str, str], config: Any) -> LoginStart:
    """Third-party initiated login (LTI 1.3 Core §5.1.1, OIDC §4): answer with the auth request."""
    platform = find_platform(params.get("iss"), params.get("client_id"))
    if not params.get("login_hint"):
        raise LaunchError("The login request has no login_hint. Open the tool from your LMS.")
    target = params.get("target_link_uri") or ""
    base = config["BASE_URL"]
    # OIDC third-party login §4: the tool must check target_link_uri is its own.
    if target and not (target == base or target.startswith(base + "/")):
        raise LaunchError(
            f"The target_link_uri {target} does not belong to this tool ({base}). "
            "Check the tool URL configured in the LMS.",
            code="bad_target_link_uri",
        )
    deployment_hint = params.get("lti_deployment_id")
    if deployment_hint and not find_deployment(platform, deployment_hint):
        raise LaunchError(_unknown_deployment_message(platform, deployment_hint),
                          status=403, code="unknown_deployment")

    now = utcnow()
    ttl = int(config["LOGIN_STATE_TTL_SECONDS"])
    state = "st-" + secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(32)
    db.session.add(LoginState(
        state=state, nonce=nonce, platform_id=platform.id, target_link_uri=target or None,
        new_window=bool(params.get("lti_badges_new_window")), expires_at=now + timedelta(seconds=ttl),
    ))
    purge_expired(now)
    db.session.commit()

    auth = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": endpoints(base)["launch_url"],
        "state": state,
        "nonce": nonce,
        "login_hint": params["login_hint"],
    }
    if params.get("lti_message_hint"):
        auth["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if "?" in platform.auth_login_url else "?"
    return LoginStart(
        redirect_url=platform.auth_login_url + sep + urlencode(auth),
        state=state, cookie_name=STATE_COOKIE_PREFIX + state, max_age=ttl,
    )


def find_deployment(platform: Platform, deployment_id: str) -> Deployment | None:
    """The platform's deployment with that id (launches and signed notices)."""
    return db.session.scalar(
        db.select(Deployment).filter_by(platform_id=platform.id, deployment_id=deployment_id)
    )


def _unknown_deployment_message(platform: Platform, deployment_id: str) -> str:
    return (
        f"The deployment {deployment_id!r} of {platform.issuer} is not known to this tool. "
        f"An operator can add it: `lti-badges platforms add --issuer {platform.issuer} "
        f"--client-id {platform.client_id} --deployment {deployment_id} ...`."
    )


class ToolMessageLaunch(FlaskMessageLaunch):
    """pylti1p3's launch with this tool's stricter checks in its validation chain."""

    def __init__(self, request: FlaskRequest, config: Any, key_cache: PlatformKeyCache,
                 state_cookie: str | None):
        super().__init__(request, DbToolConf(lambda: None))
        self._config = config
        self._key_cache = key_cache
        self._state_cookie = state_cookie
        self._login_state: LoginState | None = None
        self._platform: Platform | None = None

    def validate(self) -> ToolMessageLaunch:
        if self._restored:
            raise LtiException("Can't validate restored launch")
        self._validated = True
        try:
            # Signature before state and nonce: an unsigned token must not spend a nonce.
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_claim_types()
            self.validate_state()
            self.validate_deployment()
            self.validate_message()
            self.validate_nonce()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_jwt_format(self) -> ToolMessageLaunch:
        super().validate_jwt_format()
        header, body = self._jwt["header"], self._jwt["body"]
        if not isinstance(header, dict) or not isinstance(body, dict):
            # RFC 7519 §7.2 step 10 / RFC 7515 §4: the JOSE header and the claims set are
            # JSON objects.
            raise LaunchError(
                "The id_token cannot be read: its header and payload must each be a JSON "
                "object. Open the activity again from your course; if this keeps happening, "
                "the LMS sends malformed launches: tell its administrator.",
                400, "bad_token")
        where = _lone_surrogate(header, "header") or _lone_surrogate(body)
        if where:
            raise LaunchError(
                f"The id_token cannot be read: {where} holds text that is not valid Unicode "
                "(a lone UTF-16 surrogate). Open the activity again from your course; if this "
                "keeps happening, tell the LMS administrator which name or title is garbled.",
                400, "bad_text")
        return self

    def validate_registration(self) -> ToolMessageLaunch:
        body = self._jwt["body"]
        aud = body.get("aud")
        client_id = aud if isinstance(aud, str) else None
        if isinstance(aud, list):
            # OIDC Core §3.1.3.7: with several audiences, azp names the client.
            client_id = body.get("azp") if len(aud) > 1 else (aud[0] if aud else None)
        if not client_id:
            raise LaunchError("The id_token has no audience (aud) naming this tool.", 401, "bad_aud")
        try:
            self._platform = find_platform(_claim_str(body, "iss"), client_id)
        except LaunchError as exc:
            if exc.code == "unknown_platform":
                exc.message = (
                    f"The id_token is addressed to client id {client_id!r} of {body.get('iss')}, "
                    "which is not registered with this tool." if body.get("iss") else
                    "The id_token has no issuer (iss)."
                )
            raise
        return self

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        assert self._platform is not None
        header = self._jwt["header"]
        alg, kid = header.get("alg"), header.get("kid")
        # Security Framework §5.1.3 item 3: RS256 only; never 'none' or HMAC.
        if alg != "RS256":
            raise LaunchError(f"The id_token is signed with {alg!r}; only RS256 is accepted.",
                              401, "bad_signature")
        if not kid:
            raise LaunchError("The id_token header has no key id (kid).", 401, "bad_signature")
        try:
            pem = self._key_cache.public_key_pem(
                self._platform.jwks_url, kid, alg, NetPolicy.from_config(self._config)
            )
        except UnknownKeyError as exc:
            raise LaunchError(str(exc), 401, "unknown_kid") from exc
        except FetchError as exc:
            raise LaunchError(f"The platform's key set could not be read: {exc}", 502,
                              "jwks_unavailable") from exc
        try:
            jwt.decode(
                self._get_id_token(), pem, algorithms=["RS256"],
                audience=self._platform.client_id, issuer=self._platform.issuer,
                leeway=int(self._config["JWT_LEEWAY_SECONDS"]),
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchError(
                "This launch has expired (the id_token is too old). Open the activity again "
                "from your course; if it keeps happening, check the clocks of the LMS and tool.",
                401, "expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise LaunchError("The id_token is not addressed to this tool (aud).", 401,
                              "bad_aud") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchError("The id_token is issued in the future (iat); check the clocks.",
                              401, "bad_iat") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchError(f"The id_token lacks the required claim {exc.claim!r}.", 401,
                              "missing_claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise LaunchError("The id_token's signature does not verify with the platform's "
                              "key.", 401, "bad_signature") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchError(f"The id_token is not valid: {exc}.", 401, "bad_token") from exc
        azp = self._jwt["body"].get("azp")
        if azp is not None and azp != self._platform.client_id:
            raise LaunchError("The id_token's azp names another client.", 401, "bad_azp")
        return self

    def validate_claim_types(self) -> ToolMessageLaunch:
        problem = claim_type_problem(self._jwt["body"])
        if problem:
            raise LaunchError(f"The launch message is malformed: {problem}. Tell the LMS "
                              "administrator; opening the activity again will not help until "
                              "the LMS sends it correctly.", 400, "bad_claim")
        return self

    def validate_state(self) -> ToolMessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LaunchError("The launch has no state. Open the activity again from your course.",
                              400, "missing_state")
        row = db.session.get(LoginState, state)
        nonce = self._jwt["body"].get("nonce")
        if row is None or row.expires_at < utcnow():
            if nonce and db.session.get(UsedNonce, nonce):
                raise LaunchError(
                    "This launch was already used. Each launch works once: open the activity "
                    "again from your course.", 401, "replayed")
            raise LaunchError(
                "The login state is unknown or expired. Open the activity again from your course.",
                400, "unknown_state")
        if row.platform_id != self._platform.id:
            raise LaunchError("The launch does not come from the platform that started the "
                              "login.", 400, "state_platform_mismatch")
        if self._state_cookie != state:
            # The browser did not send the cookie set at login: another browser, or cookies
            # blocked in the LMS iframe after the login page's check. Never accept it. The
            # platform may have spent its login hint, so the way on is a fresh launch.
            raise LaunchError(
                "Your browser did not send back the cookie this tool set when the launch began. "
                "Open the activity again from your course; if this keeps happening, allow "
                "cookies for this site or ask your teacher to open the tool in a new window.",
                401, "state_cookie_missing")
        self._login_state = row
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        assert self._platform is not None
        deployment_id = self._jwt["body"].get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
        if not deployment_id:
            raise LaunchError("The id_token has no deployment_id claim.", 400, "missing_claim")
        if not find_deployment(self._platform, str(deployment_id)):
            raise LaunchError(_unknown_deployment_message(self._platform, str(deployment_id)),
                              403, "unknown_deployment")
        return self

    def validate_message(self) -> ToolMessageLaunch:
        try:
            super().validate_message()
        except LtiException as exc:
            raise LaunchError(f"The launch message is incomplete: {exc}.", 400,
                              "bad_message") from exc
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        assert self._login_state is not None and self._platform is not None
        nonce = self._jwt["body"].get("nonce")
        if nonce != self._login_state.nonce:
            raise LaunchError("The id_token's nonce does not match this login.", 401, "bad_nonce")
        # Spend it: delete the state (one launch per login) and record the nonce. Both in
        # the launch's transaction; a concurrent replay finds no row or hits the key.
        deleted = db.session.execute(
            db.delete(LoginState).where(LoginState.state == self._login_state.state,
                                        LoginState.nonce == nonce)
        ).rowcount
        if deleted != 1:
            raise LaunchError("This launch was already used. Open the activity again from your "
                              "course.", 401, "replayed")
        ttl = int(self._config["LOGIN_STATE_TTL_SECONDS"]) * 2
        try:
            with db.session.begin_nested():
                db.session.add(UsedNonce(nonce=nonce, platform_id=self._platform.id,
                                         expires_at=utcnow() + timedelta(seconds=ttl)))
        except IntegrityError as exc:
            raise LaunchError("This launch was already used. Open the activity again from your "
                              "course.", 401, "replayed") from exc
        return self

    def result(self) -> ValidatedLaunch:
        assert self._platform is not None
        body = self._jwt["body"]
        claims = parse_claims(body)
        deployment = find_deployment(self._platform, claims.deployment_id)
        assert deployment is not None
        return ValidatedLaunch(claims=claims, body=body, platform=self._platform,
                               deployment=deployment)


def _lone_surrogate(value: Any, part: str = "payload") -> str | None:
    """Where a lone surrogate hides in decoded JSON (``the claim 'name'``), if anywhere."""
    stack: list[tuple[Any, str | None]] = [(value, None)]
    while stack:
        item, claim = stack.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return f"the claim {claim!r}" if claim else f"the {part}"
        if isinstance(item, dict):
            for key, sub in item.items():
                if _SURROGATE.search(key):
                    return f"a claim name in the {part}"
                stack.append((sub, claim or key))
        elif isinstance(item, list):
            stack.extend((sub, claim) for sub in item)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
_NUMBER = (int, float)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# Claims that, when present, are JSON objects (LTI 1.3 Core §5.3-5.4, AGS §3.1, NRPS §3.6.1,
# Deep Linking §4.4).
_OBJECT_CLAIMS = {
    LTI + "resource_link": "resource_link", LTI + "context": "context",
    LTI + "tool_platform": "tool_platform", LTI + "launch_presentation": "launch_presentation",
    LTI + "custom": "custom", LTI + "lis": "lis", AGS_CLAIM: "AGS endpoint", NRPS_CLAIM:
    "NRPS namesroleservice", DL_SETTINGS: "deep_linking_settings",
}
# Claims (top level, or in an object claim) that, when present, are strings.
_STRING_CLAIMS = ("iss", "sub", "nonce", "azp", "name", "given_name", "family_name",
                  "middle_name", "email", "locale", LTI + "message_type", LTI + "version",
                  LTI + "deployment_id", LTI + "target_link_uri")
_STRING_MEMBERS = {
    LTI + "resource_link": ("id", "title", "description"),
    LTI + "context": ("id", "title", "label"),
    LTI + "launch_presentation": ("document_target", "return_url", "locale"),
    AGS_CLAIM: ("lineitems", "lineitem"),
    NRPS_CLAIM: ("context_memberships_url",),
    DL_SETTINGS: ("deep_link_return_url",),
}


def claim_type_problem(body: dict[str, Any]) -> str | None:
    """The first claim of the wrong JSON type, in words; None when every claim fits."""
    # RFC 7519 §4.1.4 and §4.1.6: exp and iat are NumericDate, a JSON number (pyjwt would
    # accept the string "9999999999").
    for name in ("exp", "iat", "nbf"):
        if name in body and not _is_number(body[name]):
            return f"the claim {name!r} must be a number (seconds since 1970), not {_kind(body[name])}"
    aud = body.get("aud")
    if not (isinstance(aud, str) or _is_str_list(aud)):
        return f"the claim 'aud' must be a string or a list of strings, not {_kind(aud)}"
    for name in _STRING_CLAIMS:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"the claim {_short(name)!r} must be a string, not {_kind(body[name])}"
    for name, label in _OBJECT_CLAIMS.items():
        if name in body and not isinstance(body[name], dict):
            return f"the {label} claim must be a JSON object, not {_kind(body[name])}"
        for member in _STRING_MEMBERS.get(name, ()):
            value = body.get(name, {}).get(member)
            if value is not None and not isinstance(value, str):
                return (f"'{member}' in the {label} claim must be a string, not "
                        f"{_kind(value)}")
    roles = body.get(LTI + "roles")
    if roles is not None and not _is_str_list(roles):
        # LTI 1.3 Core §5.3.7: an array of role URIs.
        return f"the roles claim must be a list of role URIs, not {_kind(roles)}"
    ags = body.get(AGS_CLAIM, {})
    if "scope" in ags and not _is_str_list(ags["scope"]):
        return f"'scope' in the AGS endpoint claim must be a list of strings, not {_kind(ags['scope'])}"
    nrps = body.get(NRPS_CLAIM, {})
    if "service_versions" in nrps and not _is_str_list(nrps["service_versions"]):
        return "'service_versions' in the NRPS namesroleservice claim must be a list of strings"
    if body.get(LTI + "message_type") == RESOURCE_LINK_REQUEST and not body.get(
            LTI + "target_link_uri"):
        # LTI 1.3 Core §5.3.4 "Target link URI": a required claim of the resource link
        # launch request (§5.3 "Required message claims").
        return ("the resource link launch has no target_link_uri claim, which LTI 1.3 Core "
                "§5.3.4 requires")
    return None


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {str: "a string", int: "a number", float: "a number", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _claim_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) else None


def validate_launch(form: dict[str, str], cookies: dict[str, str], config: Any,
                    key_cache: PlatformKeyCache) -> ValidatedLaunch:
    """Validate a launch POST; on success the nonce is spent in the current transaction."""
    id_token = form.get("id_token")
    if not id_token:
        raise LaunchError("This address receives launches from an LMS (no id_token was sent). "
                          "Open the tool from your course.", 400, "missing_id_token")
    state = form.get("state") or ""
    request = FlaskRequest(cookies=cookies, session={}, request_data=form,
                           request_is_secure=config["BASE_URL"].startswith("https://"))
    launch = ToolMessageLaunch(request, config, key_cache, cookies.get(STATE_COOKIE_PREFIX + state))
    try:
        launch.validate()
    except LtiException as exc:
        raise LaunchError(f"The launch is not valid: {exc}.", 400, "bad_token") from exc
    return launch.result()
