"""OB 2.0 document shapes and recipient hashing.

Full OB 2.0 validation runs against the IMS validator in the integration
suite (tests/verifiers/ob2_validator*); here: shapes, hashing, JWS."""

from __future__ import annotations

import hashlib
import json

import pytest
from jwcrypto import jwk, jws

from lti_badges.openbadges import keys, ob2, ob3

BASE = "https://badges.example.edu"


def test_hash_email_is_sha256_of_email_plus_salt():
    expected = "sha256$" + hashlib.sha256(b"learner@example.orgs4lt").hexdigest()
    assert ob2.hash_email("learner@example.org", "s4lt") == expected
    # normalised: trimmed and lower-cased before hashing
    assert ob2.hash_email("  Learner@Example.ORG ", "s4lt") == expected
    # The example in 1EdTech's IdentityHash definition (OB 3.0 schema, same rule as 2.0)
    assert ob3.hash_identity("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


def test_recipient_identity_objects():
    r = ob2.recipient_email("learner@example.org", "pepper")
    assert r == {
        "type": "email",
        "hashed": True,
        "salt": "pepper",
        "identity": "sha256$" + hashlib.sha256(b"learner@example.orgpepper").hexdigest(),
    }
    fresh = ob2.recipient_email("learner@example.org")
    assert len(fresh["salt"]) == 32 and fresh["salt"] != ob2.recipient_email("x@y.z")["salt"]
    assert ob2.recipient_url("https://lms.example/user/5") == {
        "type": "url",
        "hashed": False,
        "identity": "https://lms.example/user/5",
    }


@pytest.fixture(scope="module")
def issuer2():
    return ob2.Issuer2(
        id=f"{BASE}/ob/issuers/1",
        name="Example University",
        url="https://example.edu",
        email="badges@example.edu",
        image=f"{BASE}/img/issuer-1.png",
        public_key_url=f"{BASE}/ob/issuers/1/key",
        revocation_list_url=f"{BASE}/ob/revocations/1",
    )


def test_issuer_profile_and_key(issuer2, rsa_key):
    doc = ob2.issuer_profile(issuer2)
    assert doc["@context"] == "https://w3id.org/openbadges/v2"
    assert doc["type"] == "Issuer" and doc["id"] == issuer2.id
    assert doc["publicKey"] == f"{BASE}/ob/issuers/1/key"
    assert doc["revocationList"] == f"{BASE}/ob/revocations/1"
    key_doc = ob2.cryptographic_key(issuer2.public_key_url, issuer2.id, rsa_key)
    assert key_doc["type"] == "CryptographicKey" and key_doc["owner"] == issuer2.id
    assert key_doc["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in key_doc["publicKeyPem"]


def test_badge_class_shape():
    doc = ob2.badge_class(
        ob2.BadgeClass2(
            id=f"{BASE}/ob/badges/7",
            issuer_id=f"{BASE}/ob/issuers/1",
            name="Quiz master",
            description="80 % in every quiz",
            image=f"{BASE}/img/badge-7.png",
            criteria_url=f"{BASE}/ob/badges/7#criteria",
            criteria_narrative="Score 80 %",
            tags=["algebra"],
            alignments=[ob2.Alignment2("LE1", "https://frameworks.example/LE1", target_code="LE1")],
        )
    )
    assert doc["type"] == "BadgeClass"
    assert doc["criteria"] == {"id": f"{BASE}/ob/badges/7#criteria", "narrative": "Score 80 %"}
    assert doc["issuer"] == f"{BASE}/ob/issuers/1" and doc["tags"] == ["algebra"]
    assert doc["alignment"] == [
        {"targetName": "LE1", "targetUrl": "https://frameworks.example/LE1", "targetCode": "LE1"}
    ]
    with pytest.raises(ValueError):
        ob2.badge_class(ob2.BadgeClass2("i", "j", "n", "d", "img"))


def test_hosted_assertion_shape():
    doc = ob2.assertion(
        assertion_id=f"{BASE}/ob/assertions/42",
        badge_id=f"{BASE}/ob/badges/7",
        recipient=ob2.recipient_email("learner@example.org", "pepper"),
        issued_on="2024-05-01T12:00:00Z",
        expires="2026-05-01T12:00:00Z",
        evidence=[ob2.Evidence2(id="https://lms.example/e/1", narrative="92 %")],
        image=f"{BASE}/ob/assertions/42.png",
    )
    assert doc["type"] == "Assertion" and doc["verification"] == {"type": "hosted"}
    assert doc["badge"] == f"{BASE}/ob/badges/7"
    assert doc["issuedOn"] == "2024-05-01T12:00:00Z" and doc["expires"] == "2026-05-01T12:00:00Z"
    assert doc["evidence"] == [{"type": "Evidence", "id": "https://lms.example/e/1", "narrative": "92 %"}]


def test_ob2_documents_use_only_terms_of_the_ob2_context(loader, issuer2, rsa_key):
    """Every property expands under https://w3id.org/openbadges/v2; the only
    relative IRIs are the IdentityObject types ('email'/'url'), as the spec has them."""
    docs = [
        ob2.issuer_profile(issuer2),
        ob2.cryptographic_key(issuer2.public_key_url, issuer2.id, rsa_key),
        ob2.assertion(
            assertion_id=f"{BASE}/ob/assertions/42",
            badge_id=f"{BASE}/ob/badges/7",
            recipient=ob2.recipient_email("learner@example.org", "p"),
            issued_on="2024-05-01T12:00:00Z",
            evidence=[ob2.Evidence2(narrative="n", genre="g", audience="a", name="x", description="d")],
            narrative="n",
            signing_key_url=issuer2.public_key_url,
        ),
        ob2.revoked_assertion(f"{BASE}/ob/assertions/43", "mistake"),
        ob2.revocation_list(issuer2.revocation_list_url, issuer2.id, [(f"{BASE}/ob/assertions/43", "m")]),
    ]
    for doc in docs:
        try:
            ob3.check_terms_expand(doc, loader)
        except ob3.TermExpansionError as exc:
            assert all("type 'email'" in p for p in exc.problems), exc.problems


def test_revoked_assertion_and_revocation_list_shapes():
    assert ob2.revoked_assertion(f"{BASE}/ob/assertions/43", "Issued by mistake") == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": f"{BASE}/ob/assertions/43",
        "revoked": True,
        "revocationReason": "Issued by mistake",
    }
    rl = ob2.revocation_list(
        f"{BASE}/ob/revocations/1",
        f"{BASE}/ob/issuers/1",
        [(f"{BASE}/ob/assertions/43", "Issued by mistake"), (f"{BASE}/ob/assertions/44", None)],
    )
    assert rl["type"] == "RevocationList" and rl["issuer"] == f"{BASE}/ob/issuers/1"
    assert rl["revokedAssertions"] == [
        {"id": f"{BASE}/ob/assertions/43", "revocationReason": "Issued by mistake"},
        {"id": f"{BASE}/ob/assertions/44"},
    ]


def test_signed_assertion_is_an_rs256_jws_another_library_verifies(rsa_key, other_ed_key):
    doc = ob2.assertion(
        assertion_id="urn:uuid:7b0e0c4e-1111-4222-8333-944445555666",
        badge_id=f"{BASE}/ob/badges/7",
        recipient=ob2.recipient_email("learner@example.org", "pepper"),
        issued_on="2024-05-01T12:00:00Z",
        signing_key_url=f"{BASE}/ob/issuers/1/key",
    )
    assert doc["verification"] == {"type": "signed", "creator": f"{BASE}/ob/issuers/1/key"}
    token = ob2.sign_assertion(doc, rsa_key)
    # verified with jwcrypto from the published PEM, not with our own code
    pub = jwk.JWK.from_pem(keys.public_key_to_pem(rsa_key))
    obj = jws.JWS()
    obj.deserialize(token)
    obj.verify(pub, alg="RS256")
    assert json.loads(obj.payload) == doc
    assert ob2.verify_signed_assertion(token, rsa_key.public_key()) == doc
    head, body, sig = token.split(".")
    tampered = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    with pytest.raises(jws.InvalidJWSSignature):
        obj2 = jws.JWS()
        obj2.deserialize(tampered)
        obj2.verify(pub, alg="RS256")
    with pytest.raises(ValueError):
        ob2.sign_assertion({**doc, "verification": {"type": "hosted"}}, rsa_key)
    with pytest.raises(TypeError):
        ob2.sign_assertion(doc, other_ed_key)
