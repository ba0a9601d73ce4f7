"""A signed OB 2.0 badge (issuer made with `issuers add --signed`) verifies by its public
URL: the URL answers `Accept: application/jose` with the JWS, /verify and /api/v1/verify
follow it, and the independent 1EdTech OB 2.0 validator accepts the JWS served there."""

from __future__ import annotations

import json

import pytest
import requests

from lti_badges.extensions import db
from lti_badges.models import Award
from tests.support.cli import cli_json
from tests.verifiers.ob2_validator import validate_ob2_many

PEOPLE = ("ana@example.test", "ben@example.test", "chloe@example.test")



@pytest.fixture
def signed(app, tool, runner):
    issuer = cli_json(runner.invoke(args=[
        "issuers", "add", "--name", "Université Signée", "--url", "https://signee.example",
        "--email", "badges@signee.example", "--signed", "--json"]))
    badge = cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Laboratoire", "--description",
        "Sécurité au laboratoire.", "--criteria-text", "Réussir le quiz.", "--json"]))
    awards = {email: cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email",
                                               email, "--json"])) for email in PEOPLE}
    # Two revoked (the validator misreads a one-entry revocation list; VERIFIERS.md).
    for email in PEOPLE[1:]:
        cli_json(runner.invoke(args=["revoke", awards[email]["id"], "--reason", "Plagiat",
                                  "--json"]))
    with app.app_context():
        jws = {email: db.session.scalar(db.select(Award).filter_by(
            public_id=a["id"])).signed_assertion for email, a in awards.items()}
    return {email: {**a, "jws": jws[email]} for email, a in awards.items()}


def _api(tool, **body):
    resp = requests.post(tool.url("/api/v1/verify"), json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_the_assertion_url_serves_its_jws_for_application_jose(signed):
    ana = signed[PEOPLE[0]]
    resp = requests.get(ana["assertion_url"], headers={"Accept": "application/jose"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/jose"
    assert resp.text == ana["jws"] and resp.text.count(".") == 2
    assert "Accept" in resp.headers["Vary"]
    # JSON stays the default; a browser still gets the page.
    as_json = requests.get(ana["assertion_url"], headers={"Accept": "application/ld+json"})
    assert as_json.json()["verification"]["type"] in ("signed", "SignedBadge")
    page = requests.get(ana["assertion_url"], headers={"Accept": "text/html"})
    assert page.headers["Content-Type"].startswith("text/html")


def test_api_and_page_verify_a_signed_badge_by_its_url(tool, signed):
    ana = signed[PEOPLE[0]]
    verdict = _api(tool, input=ana["assertion_url"], recipient_email=PEOPLE[0])
    assert (verdict["status"], verdict["format"]) == ("valid", "ob2-signed"), verdict["reasons"]
    checks = {c["name"]: c["status"] for c in verdict["checks"]}
    assert checks["signature"] == checks["revocation"] == checks["recipient"] == "ok"
    page = requests.post(tool.url("/verify"), data={"input": ana["assertion_url"]})
    assert page.status_code == 200 and "declares verification type" not in page.text
    assert 'id="verdict" class="verdict verdict-valid" data-status="valid"' in page.text
    assert 'id="check-signature" data-status="ok"' in page.text


def test_a_revoked_signed_badge_by_url_is_revoked(tool, signed):
    ben = signed[PEOPLE[1]]
    verdict = _api(tool, input=ben["assertion_url"])
    assert verdict["status"] == "revoked", verdict["reasons"]


def test_the_ob2_validator_accepts_the_jws_served_at_the_url(signed):
    served = {email: requests.get(a["assertion_url"], headers={"Accept": "application/jose"}).text
              for email, a in signed.items()}
    valid, revoked = validate_ob2_many([(served[PEOPLE[0]], PEOPLE[0]),
                                        (served[PEOPLE[1]], PEOPLE[1])])
    assert valid["report"]["valid"], valid["report"]
    assert not revoked["report"]["valid"]
    assert "revoked" in json.dumps(revoked["report"]).lower()


def test_the_fetcher_asks_remote_issuers_for_the_signed_form(app):
    """A remote signed badge: the guarded fetcher sends the Accept the verifier asks for."""
    from werkzeug.wrappers import Request, Response

    from lti_badges.web.verify import make_fetcher
    from tests.support.servers import ServerThread, free_port

    port = free_port()

    def wsgi(environ, start_response):
        accept = Request(environ).headers.get("Accept", "")
        return Response(accept, mimetype="text/plain")(environ, start_response)

    server = ServerThread(wsgi, port).start()
    try:
        with app.test_request_context():
            fetch = make_fetcher()
            url = f"http://127.0.0.1:{port}/assertion"
            assert fetch(url, accept="application/jose") == "application/jose"
            assert fetch(url).startswith("application/ld+json")
    finally:
        server.stop()
