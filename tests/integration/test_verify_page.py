"""The public verification page and JSON API, with badges the tool issued (CLI runner),
fetched from its public URLs over HTTP: URL, pasted credential JSON, VC-JWT, signed OB 2.0
JWS, uploaded baked PNG; revoked, expired, tampered, garbage and oversize inputs."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.wrappers import Request, Response

from lti_badges import issuing
from lti_badges.extensions import db
from lti_badges.models import Award, Badge
from lti_badges.net import NetPolicy
from lti_badges.web.verify import FetchFailed, make_fetcher
from tests.support.cli import cli_json
from tests.support.servers import ServerThread, free_port

ANA, BEN, CHLOE, DEV = ("ana@example.test", "ben@example.test", "chloe@example.test",
                        "dev@example.test")



@pytest.fixture
def issued(app, tool, runner):
    issuer = cli_json(runner.invoke(args=[
        "issuers", "add", "--name", "Cégep Exemple", "--url", "https://cegep.example",
        "--email", "badges@cegep.example", "--json"]))
    badge = cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Chimie — sécurité",
        "--description", "Réussir le module de sécurité au laboratoire.",
        "--criteria-text", "Obtenir au moins 80 % au quiz de sécurité.",
        "--expires-after", "365", "--json"]))
    out = {"issuer": issuer, "badge": badge}
    for key, email in (("valid", ANA), ("revoked", BEN)):
        out[key] = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email", email,
                                              "--name", "Learner", "--json"]))
    cli_json(runner.invoke(args=["revoke", out["revoked"]["id"], "--reason", "Plagiat", "--json"]))
    with app.app_context():
        row = db.session.scalar(db.select(Badge).filter_by(public_id=badge["id"]))
        old = issuing.award(row, email=CHLOE, name="Old",
                            issued_on=datetime.now(UTC) - timedelta(days=800))
        out["expired"] = issuing.award_summary(old)
    return out


@pytest.fixture
def signed_jws(app, runner):
    issuer = cli_json(runner.invoke(args=[
        "issuers", "add", "--name", "Signed U", "--url", "https://signed.example",
        "--email", "badges@signed.example", "--signed", "--json"]))
    badge = cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Signé", "--description", "D",
        "--criteria-text", "C", "--json"]))
    award = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email", DEV,
                                      "--json"]))
    with app.app_context():
        return db.session.scalar(db.select(Award).filter_by(public_id=award["id"])) \
            .signed_assertion


def api(tool, **body):
    resp = requests.post(tool.url("/api/v1/verify"), json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _checks(verdict):
    return {c["name"]: c["status"] for c in verdict["checks"]}


# -------------------------------------------------------------------------- valid badges
def test_assertion_and_credential_urls_verify(tool, issued):
    hosted = api(tool, input=issued["valid"]["assertion_url"])
    assert hosted["status"] == "valid", hosted["reasons"]
    assert hosted["format"] == "ob2-hosted"
    assert set(_checks(hosted).values()) <= {"ok", "skipped"}
    display = hosted["display"]
    assert display["name"] == "Chimie — sécurité"
    assert display["description"] == "Réussir le module de sécurité au laboratoire."
    assert display["issuer_name"] == "Cégep Exemple" and display["status"] == "valid"
    assert display["image"] and display["issued_on"] and display["expires"]

    cred = api(tool, input=issued["valid"]["credential_url"], recipient_email=ANA)
    assert cred["status"] == "valid", cred["reasons"]
    assert cred["format"] == "ob3-data-integrity"
    assert _checks(cred) == {n: "ok" for n in ("format", "structure", "signature", "issuer",
                                                "revocation", "validity", "recipient")}
    assert cred["labels"]["status"] == "Valid"


def test_pasted_credential_json_vc_jwt_and_signed_jws(tool, issued, signed_jws):
    cred = requests.get(issued["valid"]["credential_url"]).json()
    as_text = api(tool, input=json.dumps(cred))
    as_object = api(tool, input=cred)
    assert as_text["status"] == as_object["status"] == "valid", as_text["reasons"]
    assert as_text["display"]["name"] == "Chimie — sécurité"
    jwt_text = requests.get(issued["valid"]["credential_url"] + ".jwt").text
    vc_jwt = api(tool, input=jwt_text)
    assert vc_jwt["status"] == "valid" and vc_jwt["format"] == "ob3-vc-jwt", vc_jwt["reasons"]
    ob2 = api(tool, input=signed_jws, recipient_email=DEV)
    assert ob2["status"] == "valid" and ob2["format"] == "ob2-signed", ob2["reasons"]
    assert _checks(ob2)["recipient"] == "ok"


def test_wrong_recipient_is_invalid(tool, issued):
    verdict = api(tool, input=issued["valid"]["credential_url"], recipient_email=BEN)
    assert verdict["status"] == "invalid"
    assert _checks(verdict)["recipient"] == "failed"
    assert any(BEN in r for r in verdict["reasons"])


def test_uploaded_baked_png_api_and_page(tool, issued):
    png = requests.get(issued["valid"]["assertion_url"] + ".png").content
    verdict = requests.post(tool.url("/api/v1/verify"),
                            files={"file": ("badge.png", png, "image/png")}).json()
    assert verdict["status"] == "valid" and verdict["display"]["baked"] == "png"
    raw = requests.post(tool.url("/api/v1/verify"), data=png,
                        headers={"Content-Type": "image/png"}).json()
    assert raw["status"] == "valid"
    ob3_png = requests.get(issued["valid"]["credential_url"] + ".png").content
    page = requests.post(tool.url("/verify"), files={"file": ("b.png", ob3_png, "image/png")},
                         data={"input": "", "recipient_email": ANA})
    assert page.status_code == 200
    assert 'id="verdict" class="verdict verdict-valid" data-status="valid"' in page.text
    assert '<h2 id="verdict-status">Valid</h2>' in page.text
    assert 'id="display-name">Chimie — sécurité<' in page.text
    assert 'id="display-issuer"' in page.text and "Cégep Exemple" in page.text
    assert re.search(r'<img id="display-image" src="http://127\.0\.0\.1:\d+/ob/images/', page.text)
    assert 'id="check-signature" data-status="ok"' in page.text
    assert 'id="check-recipient" data-status="ok"' in page.text


# -------------------------------------------------------------------------- not valid
def test_revoked_by_url_json_and_page(tool, issued):
    hosted = api(tool, input=issued["revoked"]["assertion_url"])
    assert hosted["status"] == "revoked" and any("Plagiat" in r for r in hosted["reasons"])
    cred = requests.get(issued["revoked"]["credential_url"]).json()
    ob3 = api(tool, input=cred)
    assert ob3["status"] == "revoked" and _checks(ob3)["revocation"] == "failed"
    assert _checks(ob3)["signature"] == "ok"
    page = requests.post(tool.url("/verify"), data={"input": issued["revoked"]["credential_url"]})
    assert 'data-status="revoked"' in page.text and '<h2 id="verdict-status">Revoked</h2>' \
        in page.text


def test_expired(tool, issued):
    verdict = api(tool, input=issued["expired"]["credential_url"])
    assert verdict["status"] == "expired", verdict["reasons"]
    assert _checks(verdict)["validity"] == "failed" and _checks(verdict)["signature"] == "ok"
    assert api(tool, input=issued["expired"]["assertion_url"])["status"] == "expired"


def test_tampered_json_and_jwt_are_invalid(tool, issued):
    cred = requests.get(issued["valid"]["credential_url"]).json()
    tampered = copy.deepcopy(cred)
    tampered["credentialSubject"]["achievement"]["name"] = "Something else"
    verdict = api(tool, input=json.dumps(tampered))
    assert verdict["status"] == "invalid" and _checks(verdict)["signature"] == "failed"
    assert verdict["reasons"]
    jwt_text = requests.get(issued["valid"]["credential_url"] + ".jwt").text
    head, payload, sig = jwt_text.split(".")
    forged = api(tool, input=f"{head}.{payload[:-4]}AAAA.{sig}")
    assert forged["status"] == "invalid"
    # A hosted assertion is judged by what the issuer serves: a copy that differs fails.
    assertion = requests.get(issued["valid"]["assertion_url"],
                             headers={"Accept": "application/ld+json"}).json()
    assertion["recipient"]["identity"] = "sha256$" + "0" * 64
    copy_verdict = api(tool, input=assertion)
    assert copy_verdict["status"] == "invalid" and _checks(copy_verdict)["hosted"] == "failed"


@pytest.mark.parametrize("garbage", [
    "hello", "{not json", "[1, 2]", "eyJhbGciOiJub25lIn0.e30.", "file:///etc/passwd",
    "ftp://example.test/badge.json", '{"@context": "https://w3id.org/openbadges/v2"}', "a.b",
])
def test_garbage_gets_an_invalid_verdict_with_a_reason(tool, garbage):
    verdict = api(tool, input=garbage)
    assert verdict["status"] == "invalid" and verdict["reasons"] and verdict["reasons"][0]


def test_bad_requests_are_400_never_500(tool):
    url = tool.url("/api/v1/verify")
    for kwargs in ({"json": {}}, {"json": {"input": ""}}, {"json": {"input": 5}},
                   {"json": [1]}, {"json": {"input": "x", "recipient_email": "nope"}},
                   {"data": b"{garbage", "headers": {"Content-Type": "application/json"}},
                   {"data": b""}):
        resp = requests.post(url, **kwargs)
        assert resp.status_code == 400, (kwargs, resp.status_code, resp.text)
        assert resp.json()["message"]
    page = requests.post(tool.url("/verify"), data={"input": "  "})
    assert page.status_code == 400 and 'id="verify-error"' in page.text
    binary = requests.post(url, files={"file": ("x.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")})
    assert binary.status_code == 200 and binary.json()["status"] == "invalid"


def test_oversize_is_413_with_a_message(tool, client):
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 1024 * 1024)
    resp = requests.post(tool.url("/api/v1/verify"), files={"file": ("big.png", big, "image/png")})
    assert resp.status_code == 413 and "too large to be a badge" in resp.json()["message"]
    page = requests.post(tool.url("/verify"), files={"file": ("big.png", big, "image/png")})
    assert page.status_code == 413 and 'id="verify-error"' in page.text
    assert "too large to be a badge" in page.text
    text = requests.post(tool.url("/api/v1/verify"), json={"input": "x" * (300 * 1024)})
    assert text.status_code == 413
    huge = client.post("/verify", data={"file": (__import__("io").BytesIO(b"\0" * (9 << 20)),
                                                 "huge.png")})
    assert huge.status_code == 413 and "too large to be a badge" in huge.get_data(as_text=True)


# -------------------------------------------------------------------------- the page
def test_page_form_is_accessible_and_french(tool):
    page = requests.get(tool.url("/verify"))
    assert page.status_code == 200
    for field in ("verify-input", "verify-file", "verify-email"):
        assert f'<label for="{field}">' in page.text and f'id="{field}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    fr = requests.get(tool.url("/verify"), headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert 'lang="fr"' in fr.text and "Vérifier un badge" in fr.text


def test_french_verdict(tool, issued):
    page = requests.post(tool.url("/verify"), data={"input": issued["revoked"]["assertion_url"]},
                         headers={"Accept-Language": "fr"})
    assert '<h2 id="verdict-status">Révoqué' in page.text
    assert "Vérifications" in page.text


def test_untrusted_documents_cannot_inject_markup(tool):
    evil = {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
            "id": "javascript:alert(1)", "verification": {"type": "hosted"},
            "recipient": {"type": "email", "hashed": False, "identity": "<b>x</b>"},
            "issuedOn": "2024-01-01T00:00:00Z",
            "badge": {"name": "<script>alert(1)</script>", "image": "javascript:alert(2)",
                      "description": "<img src=x onerror=alert(3)>"}}
    page = requests.post(tool.url("/verify"), data={"input": json.dumps(evil)})
    assert page.status_code == 200 and 'data-status="invalid"' in page.text
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert 'href="javascript:' not in page.text and 'src="javascript:' not in page.text
    assert "&lt;script&gt;" in page.text


# -------------------------------------------------------------------------- the fetcher
@pytest.fixture
def remote():
    """Another issuer's server on loopback: a hosted assertion answering 410 Gone, and a
    document that is not a badge."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def wsgi(environ, start_response):
        path = Request(environ).path
        if path == "/gone":
            body = {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                    "id": base + "/gone", "revoked": True, "revocationReason": "Erreur"}
            resp = Response(json.dumps(body), status=410, mimetype="application/ld+json")
        elif path == "/thing":
            resp = Response(json.dumps({"id": base + "/thing", "type": "Thing"}),
                            mimetype="application/json")
        else:
            resp = Response("no", status=404)
        return resp(environ, start_response)

    server = ServerThread(wsgi, port).start()
    yield base
    server.stop()


def test_remote_documents_go_through_the_guarded_fetcher(app, tool, remote):
    gone = api(tool, input=remote + "/gone")
    assert gone["status"] == "revoked" and any("Erreur" in r for r in gone["reasons"])
    thing = api(tool, input=remote + "/thing")
    assert thing["status"] == "invalid" and "neither" in thing["reasons"][0]
    missing = api(tool, input=remote + "/missing")
    assert missing["status"] == "invalid" and "HTTP 404" in json.dumps(missing["checks"])
    with app.test_request_context():
        strict = make_fetcher(NetPolicy(allow_insecure=False, timeout=2))
        with pytest.raises(FetchFailed, match="must use HTTPS"):
            strict(remote + "/thing")
        with pytest.raises(FetchFailed, match="only http"):
            strict("file:///etc/passwd")
        limited = make_fetcher(limit=1)
        limited(remote + "/thing")
        with pytest.raises(FetchFailed, match="at most 1 documents"):
            limited(remote + "/thing")
        own = make_fetcher()
        with pytest.raises(FetchFailed) as not_ob:
            own(app.config["BASE_URL"] + "/admin/")
        assert not_ob.value.status == 404


def test_own_documents_come_from_the_database_not_over_http(app, client, runner):
    """No server listens on the app's BASE_URL here: verifying the tool's own badges must not
    make the tool request itself (that deadlocks a one-thread server)."""
    issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Local", "--url",
                                       "https://local.example", "--email", "b@local.example",
                                       "--json"]))
    badge = cli_json(runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "B",
                                      "--description", "D", "--criteria-text", "C", "--json"]))
    award = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email", ANA,
                                      "--json"]))
    for url in (award["assertion_url"], award["credential_url"], award["credential_url"] + ".jwt"):
        resp = client.post("/api/v1/verify", json={"input": url})
        assert resp.status_code == 200 and resp.get_json()["status"] == "valid", url
