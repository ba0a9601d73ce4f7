"""eddsa-rdfc-2022 and VC-JWT in Python: round trips, tampering, claims."""

from __future__ import annotations

import copy
import time

import jwt
import pytest

from lti_badges.openbadges import multibase, proofs

from .conftest import CREATED


def test_data_integrity_round_trip_and_proof_shape(shapes, loader, ed_key, vm):
    signed = proofs.sign_data_integrity(shapes["full"], ed_key, vm, loader, created=CREATED)
    assert "proof" not in shapes["full"]  # input untouched
    (proof,) = signed["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["verificationMethod"] == vm
    assert proof["created"] == CREATED
    assert proof["proofValue"].startswith("z") and len(multibase.decode(proof["proofValue"])) == 64
    assert proofs.verify_data_integrity(signed, ed_key.public_key(), loader)
    assert proofs.verify_data_integrity(signed, {vm: ed_key.public_key()}.__getitem__, loader)
    # deterministic: Ed25519 + canonical form give the same proofValue again
    again = proofs.sign_data_integrity(shapes["full"], ed_key, vm, loader, created=CREATED)
    assert again == signed


def test_key_order_does_not_matter(shapes, loader, ed_key, vm):
    doc = shapes["full"]
    reordered = dict(reversed(list(copy.deepcopy(doc).items())))
    a = proofs.sign_data_integrity(doc, ed_key, vm, loader, created=CREATED)
    b = proofs.sign_data_integrity(reordered, ed_key, vm, loader, created=CREATED)
    assert a["proof"] == b["proof"]


def _flip_last(value: str) -> str:
    """Change the last base58 character (always to a different one)."""
    return value[:-1] + ("2" if value[-1] == "1" else "1")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["credentialSubject"]["achievement"].__setitem__("name", "Quiz grandmaster"),
        lambda d: d.__setitem__("validUntil", "2099-01-01T00:00:00Z"),
        lambda d: d["credentialSubject"]["identifier"][0].__setitem__("salt", "other"),
        lambda d: d["proof"][0].__setitem__("created", "2024-05-02T12:00:00Z"),
        lambda d: d["proof"][0].__setitem__("proofPurpose", "authentication"),
        lambda d: d["proof"][0].__setitem__("proofValue", _flip_last(d["proof"][0]["proofValue"])),
        lambda d: d["proof"][0].__setitem__("proofValue", "uAAAA"),
    ],
)
def test_tampered_data_integrity_copies_fail(shapes, loader, ed_key, vm, tamper):
    signed = proofs.sign_data_integrity(shapes["full"], ed_key, vm, loader, created=CREATED)
    bad = copy.deepcopy(signed)
    tamper(bad)
    result = proofs.verify_data_integrity(bad, ed_key.public_key(), loader)
    assert not result.verified and result.errors


def test_wrong_key_and_missing_proof_fail(shapes, loader, ed_key, other_ed_key, vm):
    signed = proofs.sign_data_integrity(shapes["full"], ed_key, vm, loader, created=CREATED)
    assert not proofs.verify_data_integrity(signed, other_ed_key.public_key(), loader)
    assert not proofs.verify_data_integrity(shapes["full"], ed_key.public_key(), loader)


def test_second_proof_is_appended_and_both_verify(shapes, loader, ed_key, other_ed_key, vm):
    one = proofs.sign_data_integrity(shapes["full"], ed_key, vm, loader, created=CREATED)
    vm2 = vm.split("#")[0] + "#key-2"
    two = proofs.sign_data_integrity(one, other_ed_key, vm2, loader, created=CREATED)
    assert [p["verificationMethod"] for p in two["proof"]] == [vm, vm2]
    by_id = {vm: ed_key.public_key(), vm2: other_ed_key.public_key()}
    assert proofs.verify_data_integrity(two, by_id.__getitem__, loader)


def test_signing_never_fetches(shapes, contexts_dir, ed_key, vm):
    from lti_badges.openbadges.contexts import ContextError, ContextLoader

    cold = ContextLoader(fetch=lambda url: pytest.fail("fetched while signing"))
    with pytest.raises(ContextError, match="offline"):
        proofs.sign_data_integrity(shapes["full"], ed_key, vm, cold, created=CREATED, check_terms=False)


def test_sign_requires_ed25519(shapes, loader, rsa_key, vm):
    with pytest.raises(proofs.ProofError):
        proofs.sign_data_integrity(shapes["full"], rsa_key, vm, loader)


# -- VC-JWT -----------------------------------------------------------------------------


def test_vc_jwt_header_claims_and_round_trip(shapes, ed_key, vm):
    cred = shapes["full"]
    token = proofs.sign_vc_jwt(cred, ed_key, vm)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": vm, "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == cred["issuer"]["id"] and claims["jti"] == cred["id"]
    assert claims["sub"] == "mailto:alice@example.org"
    assert claims["nbf"] == 1714564800 and claims["exp"] == 1893456000
    assert claims["credentialSubject"] == cred["credentialSubject"]  # the credential is the payload
    assert proofs.verify_vc_jwt(token, ed_key.public_key()) == cred
    assert proofs.verify_vc_jwt(token, {vm: ed_key.public_key()}.__getitem__) == cred


def test_vc_jwt_without_subject_id_has_no_sub(shapes, ed_key, vm):
    token = proofs.sign_vc_jwt(shapes["minimal-email"], ed_key, vm)
    assert "sub" not in jwt.decode(token, options={"verify_signature": False})
    assert proofs.verify_vc_jwt(token, ed_key)


def test_vc_jwt_rs256(shapes, rsa_key):
    token = proofs.sign_vc_jwt(shapes["subject-id"], rsa_key, "https://x/k#rsa")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert proofs.verify_vc_jwt(token, rsa_key.public_key())["id"] == shapes["subject-id"]["id"]


def test_tampered_or_mismatched_vc_jwts_fail(shapes, ed_key, other_ed_key, vm):
    cred = shapes["full"]
    token = proofs.sign_vc_jwt(cred, ed_key, vm)
    head, _body, sig = token.split(".")
    payload = jwt.decode(token, options={"verify_signature": False})
    payload["credentialSubject"]["achievement"]["name"] = "Forged"
    forged_body = jwt.encode(payload, "k" * 32, algorithm="HS256").split(".")[1]
    with pytest.raises(proofs.ProofError, match="does not verify"):
        proofs.verify_vc_jwt(f"{head}.{forged_body}.{sig}", ed_key.public_key())
    with pytest.raises(proofs.ProofError):
        proofs.verify_vc_jwt(token, other_ed_key.public_key())
    # validly signed, but jti differs from id (OB 3.0 §8.2.6.1)
    mismatched = {**payload, "jti": "urn:uuid:other"}
    bad = jwt.encode(mismatched, ed_key, algorithm="EdDSA", headers={"kid": vm})
    with pytest.raises(proofs.ProofError, match="jti"):
        proofs.verify_vc_jwt(bad, ed_key.public_key())
    # extra JOSE header refused (§8.2.3)
    extra = jwt.encode(payload, ed_key, algorithm="EdDSA", headers={"kid": vm, "cty": "vc"})
    with pytest.raises(proofs.ProofError, match="does not allow"):
        proofs.verify_vc_jwt(extra, ed_key.public_key())


def test_expired_vc_jwt_fails(issuer, achievement, ed_key, vm):
    from lti_badges.openbadges import ob3

    old = ob3.build_credential(
        credential_id="urn:uuid:0b1d",
        issuer=issuer,
        achievement=achievement,
        valid_from="2020-01-01T00:00:00Z",
        valid_until="2021-01-01T00:00:00Z",
        subject_id="did:example:1",
    )
    with pytest.raises(proofs.ProofError, match="expired"):
        proofs.verify_vc_jwt(proofs.sign_vc_jwt(old, ed_key, vm), ed_key.public_key())


def test_sign_times_are_small(shapes, loader, ed_key, vm):
    """A quick timing to report (not a benchmark): DI sign with the term check."""
    doc = shapes["full"]
    proofs.sign_data_integrity(doc, ed_key, vm, loader, created=CREATED)
    n = 20
    t = time.perf_counter()
    for _ in range(n):
        proofs.sign_data_integrity(doc, ed_key, vm, loader, created=CREATED)
    di = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        proofs.sign_vc_jwt(doc, ed_key, vm)
    vj = (time.perf_counter() - t) / n
    print(f"\neddsa-rdfc-2022 sign: {di * 1000:.1f} ms; VC-JWT EdDSA sign: {vj * 1e6:.0f} us")
    assert di < 0.5 and vj < 0.05
