"""Glue between the peer and the ``lti1p3platform`` library.

The library does the LTI work it is good at: building the id_token claim set and signing
it (``LTIAdvantageMessageLaunchAbstract``), the OIDC initiation URL (``OIDCLoginAbstract``),
checking tool-signed JWTs against the tool's JWKS (``tool_validate_and_decode``,
``validate_deeplinking_resp``), minting access tokens (``get_access_token``) and checking
them (``validate_token``). This module only adapts it: a Flask request adapter, a
``Registration`` whose signing honours the tests' tamper knobs, and a platform config that
refuses to fetch anything but loopback URLs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import flask
import jwt
from lti1p3platform.exceptions import LtiException
from lti1p3platform.ltiplatform import JWKS, LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest

from .keys import SigningKey, foreign_key

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def ensure_loopback(url: str) -> None:
    """Refuse any URL off this machine: the peer must never reach the network."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or parsed.hostname not in LOOPBACK_HOSTS:
        raise LtiException(f"peer refuses to fetch non-loopback URL {url!r}")


class FlaskRequest(Request):
    """lti1p3platform's request interface over the current Flask request."""

    def build_metadata(self, request: flask.Request) -> TRequest:
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": request.args.to_dict(),
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": request.get_json(silent=True),
        }


def _corrupt(token: str) -> str:
    head, body, sig = token.split(".")
    # Change the first signature character: always alters the decoded bytes.
    first = "A" if sig[:1] != "A" else "B"
    return f"{head}.{body}.{first}{sig[1:]}"


def sign_jwt(
    payload: dict[str, Any],
    key: SigningKey,
    *,
    lifetime: int | None = None,
    tamper: dict[str, Any] | None = None,
) -> str:
    """Sign ``payload`` with RS256 and ``kid``, applying the test tamper knobs.

    Knobs: kid (None drops the header), sign_with_foreign_key, aud, nonce, exp_offset,
    iat_offset, claims (override), drop_claims, corrupt_signature, alg="none".
    """
    tamper = tamper or {}
    payload = dict(payload)
    if lifetime is not None:
        now = int(time.time())
        payload["iat"] = now + int(tamper.get("iat_offset", 0))
        payload["exp"] = now + lifetime + int(tamper.get("exp_offset", 0))
    if "nonce" in tamper:
        payload["nonce"] = tamper["nonce"]
    if "aud" in tamper:
        payload["aud"] = tamper["aud"]
    payload.update(tamper.get("claims", {}))
    for claim in tamper.get("drop_claims", []):
        payload.pop(claim, None)

    signer = foreign_key() if tamper.get("sign_with_foreign_key") else key
    # A foreign signature keeps the platform kid: the tool must fail on the signature itself.
    headers: dict[str, Any] = {"kid": key.kid}
    if "kid" in tamper:
        if tamper["kid"] is None:
            headers.pop("kid")
        else:
            headers["kid"] = tamper["kid"]

    if tamper.get("alg") == "none":
        token = jwt.encode(payload, None, algorithm="none", headers=headers)
    else:
        token = Registration.encode_and_sign(payload, signer.private_pem, headers=headers)
    if tamper.get("corrupt_signature"):
        token = _corrupt(token)
    return token


class PeerRegistration(Registration):
    """A library ``Registration`` that signs with a chosen peer key and the tamper knobs."""

    def __init__(
        self,
        key: SigningKey,
        tamper: dict[str, Any] | None = None,
        on_signed: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.signing_key = key
        self.tamper = tamper or {}
        self._on_signed = on_signed
        self.set_platform_private_key(key.private_pem)
        self.set_platform_public_key(key.public_pem)

    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        token = sign_jwt(payload, self.signing_key, lifetime=expiration or 60, tamper=self.tamper)
        if self._on_signed:
            self._on_signed(token, payload)
        return token


class PeerPlatformConfig(LTI1P3PlatformConfAbstract):
    """Platform config for one tool registration; JWKS fetches are loopback-only and logged."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self._peer_registration: Registration = kwargs["registration"]
        self._on_fetch: Callable[[str], None] | None = kwargs.get("on_fetch")

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._peer_registration

    def fetch_public_key(self, key_set_url: str) -> JWKS:
        ensure_loopback(key_set_url)
        if self._on_fetch:
            self._on_fetch(key_set_url)
        return super().fetch_public_key(key_set_url)


class PeerMessageLaunch(LTIAdvantageMessageLaunchAbstract):
    """The library's launch builder; "rendering" just hands back id_token, state and URL."""

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


class PeerOIDCLogin(OIDCLoginAbstract):
    """The library's third-party initiated login URL builder."""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url
