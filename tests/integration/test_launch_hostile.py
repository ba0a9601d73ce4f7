"""Hostile or malformed id_tokens answer a 4xx a person can act on, never a 500.

The unsigned ones (a payload that is not a JSON object, text that is not Unicode) are
refused before any signature check: anyone can send them. The signed ones come from the
independent platform peer (tests/peer), which signs whatever claims a test asks for."""

from __future__ import annotations

import base64

import pytest
import requests

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _unsigned(header: str, payload: str) -> str:
    return f"{_b64(header)}.{_b64(payload)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(("payload", "words"), [
    ('["iss", "aud"]', "JSON object"),
    ('"just a string"', "JSON object"),
    ('{"iss": "\\ud800", "aud": "tool-1"}', "not valid Unicode"),
    ('{"iss": "https://x.example", "aud": "tool-1", "name": "\\udfff"}', "not valid Unicode"),
])
def test_unsigned_garbage_is_refused_before_the_signature(tool, registered, payload, words):
    token = _unsigned('{"alg": "RS256", "kid": "k"}', payload)
    resp = requests.post(tool.url("/lti/launch"), data={"id_token": token, "state": "st-x"})
    assert resp.status_code == 400, (resp.status_code, resp.text[:500])
    assert words in resp.text and "Request id" in resp.text


def test_header_that_is_not_an_object_is_refused(tool, registered):
    token = _unsigned('["RS256"]', '{"iss": "x"}')
    resp = requests.post(tool.url("/lti/launch"), data={"id_token": token, "state": "st-x"})
    assert resp.status_code == 400 and "JSON object" in resp.text


@pytest.mark.parametrize(("tamper", "words"), [
    ({"claims": {LTI + "resource_link": ["rl-1"]}}, "resource_link"),
    ({"claims": {LTI + "resource_link": "rl-1"}}, "resource_link"),
    ({"claims": {AGS: ["https://x.example/lineitems"]}}, "endpoint"),
    ({"claims": {AGS: {"scope": "one-scope", "lineitems": "https://x.example/li"}}}, "scope"),
    ({"claims": {AGS: {"lineitems": ["https://x.example/li"]}}}, "lineitems"),
    ({"claims": {NRPS: "https://x.example/members"}}, "namesroleservice"),
    ({"claims": {NRPS: {"context_memberships_url": 42}}}, "context_memberships_url"),
    ({"claims": {LTI + "context": ["c1"]}}, "context"),
    ({"claims": {LTI + "custom": ["badge"]}}, "custom"),
    ({"claims": {LTI + "launch_presentation": "iframe"}}, "launch_presentation"),
    ({"claims": {"name": "L\udc80a"}}, "not valid Unicode"),
    ({"claims": {LTI + "context": {"id": "c1", "title": "Bio \ud83d"}}}, "not valid Unicode"),
    ({"claims": {"exp": "9999999999"}}, "exp"),
    ({"claims": {"iat": "0"}}, "iat"),
    ({"claims": {"exp": True}}, "exp"),
    ({"drop_claims": [LTI + "target_link_uri"]}, "target_link_uri"),
    ({"claims": {LTI + "target_link_uri": 7}}, "target_link_uri"),
    ({"claims": {LTI + "roles": "Learner"}}, "roles"),
    ({"claims": {"sub": 12}}, "Subject"),  # pyjwt checks it with the signature
])
def test_signed_launch_with_bad_claim_types_is_refused(registered, tamper, words):
    peer = registered.peer
    resp = peer.launch(peer.new_browser(), "learner", "c1", tamper=tamper)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:800])
    assert words in resp.text, resp.text[:800]
    assert "Request id" in resp.text


def test_refusal_speaks_french_to_a_french_browser(tool, registered):
    token = _unsigned('{"alg": "RS256"}', '{"iss": "\\ud800"}')
    resp = requests.post(tool.url("/lti/launch"), data={"id_token": token, "state": "st-x"},
                         headers={"Accept-Language": "fr"})
    assert resp.status_code == 400
    assert "un lancement que cet outil ne peut pas lire" in resp.text
