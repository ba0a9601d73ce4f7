"""Pushing an OB 3.0 credential through the Open Badges API (OB 3.0 §6.2.3 upsertCredential).

``POST {base}/credentials`` creates or replaces the credential: as JSON with its
embedded proof (``Content-Type: application/json``) or, for VC-JWT, as the compact
JWS in ``text/plain``. 201 means created, 200 replaced; the resource server compares
credentials by id (§6.2.3, "credential equality"), so sending the same credential
twice never makes two — which is what makes our retries safe.

Errors come as ``Imsx_StatusInfo`` (``imsx_codeMajor``, ``imsx_severity``,
``imsx_description``, ``imsx_codeMinor``).
"""

from __future__ import annotations

import json
from typing import Any

import requests

from lti_badges.backpack.http import (
    ADDED,
    ALREADY,
    MISMATCH,
    REFUSED,
    UNAUTHORIZED,
    UNSUPPORTED,
    FetchError,
    NetPolicy,
    PushResult,
    json_body,
    network_failure,
    request,
    transient_failure,
)

FORM_JSON = "json"
FORM_JWT = "jwt"
FORMS = (FORM_JSON, FORM_JWT)


def forms_to_try(preferred: str | None = None) -> list[str]:
    """The JSON credential with its Data Integrity proof first, then the VC-JWT."""
    order = [FORM_JSON, FORM_JWT]
    if preferred in order:
        order.remove(preferred)
        order.insert(0, preferred)
    return order


def parse_status_info(body: Any) -> dict[str, Any]:
    """The Imsx_StatusInfo fields that matter, tolerant of missing parts."""
    if not isinstance(body, dict):
        return {}
    minor = body.get("imsx_codeMinor")
    minor_values = []
    if isinstance(minor, dict) and isinstance(minor.get("imsx_codeMinorField"), list):
        minor_values = [f.get("imsx_codeMinorFieldValue") for f in minor["imsx_codeMinorField"]
                        if isinstance(f, dict)]
    description = body.get("imsx_description")
    return {"code_major": body.get("imsx_codeMajor"), "severity": body.get("imsx_severity"),
            "description": description.strip() if isinstance(description, str) else None,
            "code_minor": [v for v in minor_values if isinstance(v, str)]}


def _mentions(text: str | None, *words: str) -> bool:
    low = (text or "").lower()
    return any(w in low for w in words)


def interpret(resp: requests.Response) -> PushResult:
    retry = transient_failure(resp, "OB 3.0 API")
    if retry:
        return retry
    http = resp.status_code
    if http == 201:
        return PushResult(ADDED, "Added to your backpack.", http)
    if http in (200, 304):
        return PushResult(ALREADY, "Already in your backpack (the backpack updated it).", http)
    info = parse_status_info(json_body(resp))
    description = info.get("description")
    said = f" The backpack said: “{description}”" if description else ""
    if http == 401:
        return PushResult(UNAUTHORIZED, "The backpack did not accept the tool's access.", http)
    if _mentions(description, "recipient", "identifier", "email", "subject"):
        return PushResult(MISMATCH, "Your backpack refused this badge because it was issued to "
                          "someone else as far as the backpack can tell (a different email "
                          f"address than the one verified in your backpack account).{said}", http)
    if http in (400, 415, 422):
        return PushResult(UNSUPPORTED, f"The backpack did not accept the badge in this form "
                          f"(HTTP {http}).{said}", http)
    return PushResult(REFUSED, f"Your backpack refused this badge (HTTP {http}).{said}", http)


def upsert_credential(api_base: str, access_token: str, form: str, *,
                      credential: dict[str, Any], credential_jwt: str | None,
                      policy: NetPolicy) -> PushResult:
    """One ``POST {base}/credentials`` in ``form`` (json | jwt)."""
    headers = {"Authorization": f"Bearer {access_token}"}
    if form == FORM_JSON:
        data = json.dumps(credential, ensure_ascii=False).encode("utf-8")
        headers.update({"Content-Type": "application/json", "Accept": "application/json"})
    elif form == FORM_JWT:
        if not credential_jwt:
            raise ValueError("this award has no VC-JWT")
        data = credential_jwt.encode("ascii")
        # §6.2.3.1: a VC-JWT travels as text/plain CompactJws.
        headers.update({"Content-Type": "text/plain", "Accept": "text/plain, application/json"})
    else:
        raise ValueError(f"unknown OB 3.0 form {form!r}")
    try:
        resp = request("POST", api_base.rstrip("/") + "/credentials", policy,
                       what="backpack (OB 3.0 API)", data=data, headers=headers)
    except FetchError as exc:
        return network_failure(exc)
    return interpret(resp)


def get_profile(api_base: str, access_token: str, policy: NetPolicy) -> dict[str, Any] | None:
    """``GET {base}/profile`` (§6.2.4), or None."""
    try:
        resp = request("GET", api_base.rstrip("/") + "/profile", policy,
                       what="backpack (OB 3.0 API)",
                       headers={"Authorization": f"Bearer {access_token}",
                                "Accept": "application/json"})
    except FetchError:
        return None
    body = json_body(resp)
    return body if resp.status_code == 200 and isinstance(body, dict) else None
