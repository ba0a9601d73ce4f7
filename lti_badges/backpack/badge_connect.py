"""Pushing an OB 2.0 assertion through the Badge Connect API (Open Badges 2.1).

``POST {apiBase}/assertions`` ("Create or update an Assertion") takes one of three
bodies: ``{"id": <hosted assertion URL>}``, ``{"assertion": <assertion object>}`` or
``{"signedAssertion": <compact JWS>}``. Canvas Credentials (Badgr) accepts only the
first and checks the assertion's recipient against the account's verified email.

Every answer carries the status envelope of OB 2.1 (``StatusType``:
``{"status": {"error", "statusCode", "statusText"}, "results": [...]}``). The
OpenAPI binding distinguishes 201 (created) from 200 (updated), which is how we
tell "added" from "already there"; a 409, or an error saying the badge already
exists, also means it is there.
"""

from __future__ import annotations

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

# The body forms, in the order tried when the backpack's preference is not known yet.
FORM_ID = "id"
FORM_ASSERTION = "assertion"
FORM_SIGNED = "signed"
FORMS = (FORM_ID, FORM_ASSERTION, FORM_SIGNED)


def forms_to_try(*, has_signed: bool, preferred: str | None = None) -> list[str]:
    """A signed badge travels best as its JWS (it needs no call back to us); a hosted one
    by its id, which every Badge Connect host (Badgr included) accepts."""
    order = [FORM_SIGNED, FORM_ID, FORM_ASSERTION] if has_signed else [FORM_ID, FORM_ASSERTION]
    if preferred in order:
        order.remove(preferred)
        order.insert(0, preferred)
    return order


def request_body(form: str, *, assertion_url: str, assertion: dict[str, Any],
                 signed_assertion: str | None) -> dict[str, Any]:
    if form == FORM_ID:
        return {"id": assertion_url}
    if form == FORM_ASSERTION:
        return {"assertion": assertion}
    if form == FORM_SIGNED:
        if not signed_assertion:
            raise ValueError("this award has no signed assertion")
        return {"signedAssertion": signed_assertion}
    raise ValueError(f"unknown Badge Connect form {form!r}")


def parse_status(body: Any) -> tuple[int | None, str | None]:
    """(statusCode, error) from the OB 2.1 status envelope; (None, None) when absent."""
    if not isinstance(body, dict) or not isinstance(body.get("status"), dict):
        return None, None
    status = body["status"]
    code = status.get("statusCode")
    error = status.get("error")
    return (code if isinstance(code, int) else None,
            error.strip() if isinstance(error, str) and error.strip() else None)


def _mentions(text: str | None, *words: str) -> bool:
    low = (text or "").lower()
    return any(w in low for w in words)


def interpret(resp: requests.Response) -> PushResult:
    """Turn one answer to ``POST /assertions`` into a :class:`PushResult`."""
    retry = transient_failure(resp, "Badge Connect")
    if retry:
        return retry
    body = json_body(resp)
    envelope_code, error = parse_status(body)
    http = resp.status_code
    if http == 201:
        return PushResult(ADDED, "Added to your backpack.", http)
    if http == 200:
        if envelope_code == 201:
            return PushResult(ADDED, "Added to your backpack.", http)
        return PushResult(ALREADY, "Already in your backpack (the backpack updated it).", http)
    if http == 409 or _mentions(error, "already exist", "already in", "duplicate"):
        return PushResult(ALREADY, "Already in your backpack.", http)
    if http == 401:
        return PushResult(UNAUTHORIZED, "The backpack did not accept the tool's access.", http)
    said = f" The backpack said: “{error}”" if error else ""
    if http == 403 or _mentions(error, "recipient", "email", "identifier"):
        if _mentions(error, "recipient", "email", "identifier", "identity"):
            return PushResult(MISMATCH, "Your backpack refused this badge because it was issued "
                              "to a different email address than the one verified in your "
                              "backpack account. Add and verify that address in the backpack, "
                              f"then retry.{said}", http)
        return PushResult(REFUSED, f"Your backpack refused this badge (HTTP {http}).{said}", http)
    if http in (400, 415, 422):
        return PushResult(UNSUPPORTED, f"The backpack did not accept the badge in this form "
                          f"(HTTP {http}).{said}", http)
    return PushResult(REFUSED, f"Your backpack refused this badge (HTTP {http}).{said}", http)


def post_assertion(api_base: str, access_token: str, body: dict[str, Any],
                   policy: NetPolicy) -> PushResult:
    """One ``POST {apiBase}/assertions``."""
    try:
        resp = request("POST", api_base.rstrip("/") + "/assertions", policy,
                       what="backpack (Badge Connect)", json=body,
                       headers={"Authorization": f"Bearer {access_token}",
                                "Accept": "application/json"})
    except FetchError as exc:
        return network_failure(exc)
    return interpret(resp)


def get_profile(api_base: str, access_token: str, policy: NetPolicy) -> dict[str, Any] | None:
    """``GET {apiBase}/profile`` (first result of the envelope), or None."""
    try:
        resp = request("GET", api_base.rstrip("/") + "/profile", policy,
                       what="backpack (Badge Connect)",
                       headers={"Authorization": f"Bearer {access_token}",
                                "Accept": "application/json"})
    except FetchError:
        return None
    body = json_body(resp)
    if resp.status_code != 200 or not isinstance(body, dict):
        return None
    results = body.get("results")
    return results[0] if isinstance(results, list) and results and isinstance(
        results[0], dict) else None
