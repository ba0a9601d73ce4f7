"""Pure pieces of the protocol: PKCE, the authorization URL, Retry-After, backoff, and
reading the answers of both push APIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from lti_badges.backpack import badge_connect, oauth, ob3_api
from lti_badges.backpack.http import retry_after_seconds
from lti_badges.backpack.outbox import RetryPolicy


def test_pkce_s256_matches_rfc7636_appendix_b():
    assert oauth.code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier = oauth.new_code_verifier()
    assert 43 <= len(verifier) <= 128 and verifier != oauth.new_code_verifier()


def test_authorization_url_carries_state_and_challenge():
    url = oauth.authorization_url("https://bp.example/auth?tenant=x", client_id="c 1",
                                  redirect_uri="https://tool.example/cb", scope="a b",
                                  state="s", code_verifier="v" * 43)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {"tenant": "x", "response_type": "code", "client_id": "c 1",
                     "redirect_uri": "https://tool.example/cb", "scope": "a b", "state": "s",
                     "code_challenge": oauth.code_challenge_s256("v" * 43),
                     "code_challenge_method": "S256"}


def test_retry_after_forms():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 12:05:00 GMT", now) == 300
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_is_exponential_capped_and_respects_retry_after():
    policy = RetryPolicy(base_delay=60, max_delay=600)
    assert [policy.backoff(n) for n in range(1, 6)] == [60, 120, 240, 480, 600]
    assert policy.delay(1, 3600) == 3600
    assert policy.delay(3, 10) == 240
    assert RetryPolicy(max_retry_after=100).delay(1, 10 ** 6) == 100


def _resp(status, body=None, headers=None, text=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = (text if text is not None else json.dumps(body)).encode() if (
        body is not None or text is not None) else b""
    resp.headers.update(headers or {})
    return resp


def _env(code, error=None):
    return {"status": {"error": error, "statusCode": code, "statusText": "x"}}


@pytest.mark.parametrize("status,body,headers,outcome,words", [
    (201, _env(201), {}, "added", "Added"),
    (200, _env(200), {}, "already", "Already"),
    (409, _env(409, "conflict"), {}, "already", "Already"),
    (400, _env(400, "This badge already exists in your backpack."), {}, "already", "Already"),
    (403, _env(403, "The assertion's recipient does not match"), {}, "mismatch",
     "different email address"),
    (403, _env(403, "Account suspended"), {}, "refused", "Account suspended"),
    (400, _env(400, "Only {\"id\"} is supported"), {}, "unsupported", "in this form"),
    (401, {"error": "invalid_token"}, {}, "unauthorized", "access"),
    (429, None, {"Retry-After": "30"}, "retry", "in 30 seconds"),
    (503, None, {}, "retry", "HTTP 503"),
    (404, None, {}, "refused", "HTTP 404"),
])
def test_badge_connect_answers(status, body, headers, outcome, words):
    result = badge_connect.interpret(_resp(status, body, headers))
    assert result.outcome == outcome and words in result.message
    if status == 429:
        assert result.retry_after == 30


def _imsx(description):
    return {"imsx_codeMajor": "failure", "imsx_severity": "error",
            "imsx_description": description,
            "imsx_codeMinor": {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": "forbidden"}]}}


@pytest.mark.parametrize("status,body,outcome", [
    (201, {}, "added"), (200, {}, "already"), (304, None, "already"),
    (403, _imsx("The credential's recipient does not match"), "mismatch"),
    (403, _imsx("Quota exceeded"), "refused"),
    (415, _imsx("Unsupported content type"), "unsupported"),
    (401, None, "unauthorized"), (500, _imsx("boom"), "retry"),
])
def test_ob3_answers(status, body, outcome):
    assert ob3_api.interpret(_resp(status, body)).outcome == outcome


def test_ob3_status_info_is_read():
    info = ob3_api.parse_status_info(_imsx("Nope"))
    assert info == {"code_major": "failure", "severity": "error", "description": "Nope",
                    "code_minor": ["forbidden"]}
    assert ob3_api.parse_status_info("junk") == {}


def test_badge_connect_forms():
    assert badge_connect.forms_to_try(has_signed=True) == ["signed", "id", "assertion"]
    assert badge_connect.forms_to_try(has_signed=False, preferred="assertion") == [
        "assertion", "id"]
    assert badge_connect.request_body("id", assertion_url="https://t/a/1", assertion={},
                                      signed_assertion=None) == {"id": "https://t/a/1"}
    with pytest.raises(ValueError):
        badge_connect.request_body("signed", assertion_url="u", assertion={},
                                   signed_assertion=None)
