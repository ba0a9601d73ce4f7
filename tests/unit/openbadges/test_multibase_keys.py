"""Multibase, Multikey, PEM/JWK and did:web helpers."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_badges.openbadges import keys, multibase

# Test vector from W3C "Data Integrity EdDSA Cryptosuites v1.0" (the key pair of
# its eddsa-rdfc-2022 examples): secret seed and the Multikey it must give.
DI_EDDSA_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
DI_EDDSA_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_base58_known_values_and_leading_zeros():
    assert multibase.b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    for raw in (b"", b"\0", b"\0\0ab", bytes(range(256))):
        assert multibase.b58decode(multibase.b58encode(raw)) == raw
    with pytest.raises(multibase.MultibaseError):
        multibase.b58decode("0OIl")
    with pytest.raises(multibase.MultibaseError):
        multibase.decode("mAAAA")  # base64 (not url) prefix is not supported


def test_multikey_matches_the_w3c_test_vector():
    raw = multibase.decode(DI_EDDSA_SECRET)
    assert raw[:2] == multibase.ED25519_PRIV_HEADER
    key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[2:])
    assert keys.ed25519_public_multibase(key) == DI_EDDSA_PUBLIC
    assert keys.ed25519_secret_multibase(key) == DI_EDDSA_SECRET
    back = keys.ed25519_from_multibase(DI_EDDSA_PUBLIC)
    assert keys.ed25519_public_multibase(back) == DI_EDDSA_PUBLIC


def test_multikey_prefix_and_key_ids(ed_key):
    mb = keys.ed25519_public_multibase(ed_key)
    assert mb.startswith("z6Mk")
    assert keys.key_id("https://x.example/ob/issuers/1", ed_key) == f"https://x.example/ob/issuers/1#{mb}"
    assert keys.key_id("did:web:x.example", ed_key, "key-1") == "did:web:x.example#key-1"
    doc = keys.multikey_document(ed_key, "did:web:x.example#key-1", "did:web:x.example")
    assert doc == {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": "did:web:x.example#key-1",
        "type": "Multikey",
        "controller": "did:web:x.example",
        "publicKeyMultibase": mb,
    }


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_pem_round_trip_plain_and_encrypted(kind, ed_key, rsa_key):
    key = ed_key if kind == "ed25519" else rsa_key
    plain = keys.private_key_to_pem(key)
    assert b"ENCRYPTED" not in plain
    assert keys.public_key_to_pem(keys.private_key_from_pem(plain)) == keys.public_key_to_pem(key)
    enc = keys.private_key_to_pem(key, "correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in enc
    loaded = keys.private_key_from_pem(enc, "correct horse")
    assert keys.public_key_to_pem(loaded) == keys.public_key_to_pem(key)
    with pytest.raises((TypeError, ValueError)):
        keys.private_key_from_pem(enc, "wrong")
    pub = keys.public_key_from_pem(keys.public_key_to_pem(key))
    assert keys.public_jwk(pub) == keys.public_jwk(key)


def test_jwk_export_has_no_private_parts_and_round_trips(ed_key, rsa_key):
    ed = keys.public_jwk(ed_key, "k1")
    assert ed["kty"] == "OKP" and ed["crv"] == "Ed25519" and ed["alg"] == "EdDSA"
    assert ed["kid"] == "k1" and "d" not in ed
    rs = keys.public_jwk(rsa_key, "k2")
    assert rs["kty"] == "RSA" and rs["alg"] == "RS256" and "d" not in rs and rs["e"] == "AQAB"
    for key, jwk in ((ed_key, ed), (rsa_key, rs)):
        assert keys.public_jwk(keys.public_key_from_jwk(jwk)) == keys.public_jwk(key)
    with pytest.raises(ValueError):
        keys.public_key_from_jwk({**ed, "d": "x"})
    assert keys.jwks([(ed_key, "k1"), (rsa_key, "k2")]) == {"keys": [ed, rs]}
    # RFC 7638: the thumbprint is stable and differs per key.
    assert keys.jwk_thumbprint(ed_key) == keys.jwk_thumbprint(ed_key.public_key())
    assert keys.jwk_thumbprint(ed_key) != keys.jwk_thumbprint(rsa_key)


def test_jwk_thumbprint_rfc7638_example():
    # RFC 7638 §3.1: the example RSA key and its thumbprint.
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
            "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
            "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
            "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
    }
    key = keys.public_key_from_jwk(jwk)
    assert keys.jwk_thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rsa_keys_must_be_2048_bits_or_more():
    with pytest.raises(ValueError):
        keys.generate_rsa(1024)


def test_did_web_identifiers_and_documents(ed_key, other_ed_key):
    assert keys.did_web("Badges.Example.edu") == "did:web:badges.example.edu"
    assert keys.did_web("localhost:8443", "u/alice") == "did:web:localhost%3A8443:u:alice"
    assert keys.did_web_url("did:web:badges.example.edu") == "https://badges.example.edu/.well-known/did.json"
    assert keys.did_web_url("did:web:localhost%3A8443:u:alice#k") == "https://localhost:8443/u/alice/did.json"
    with pytest.raises(ValueError):
        keys.did_web("https://x/y")
    doc = keys.did_web_document("badges.example.edu", [(ed_key, "key-1"), (other_ed_key, None)])
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["id"] == "did:web:badges.example.edu"
    ids = [vm["id"] for vm in doc["verificationMethod"]]
    assert ids[0] == "did:web:badges.example.edu#key-1"
    assert ids[1] == "did:web:badges.example.edu#" + keys.ed25519_public_multibase(other_ed_key)
    assert doc["assertionMethod"] == ids
    assert all(vm["controller"] == doc["id"] and vm["type"] == "Multikey" for vm in doc["verificationMethod"])
    json.dumps(doc)  # plain JSON


def test_did_and_controller_documents_expand(loader, ed_key, issuer, vm):
    from lti_badges.openbadges import ob3

    ob3.check_terms_expand(keys.did_web_document("badges.example.edu", [(ed_key, None)]), loader)
    ob3.check_terms_expand(ob3.profile_document(issuer, keys=[(ed_key, vm)]), loader)
