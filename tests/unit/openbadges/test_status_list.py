"""W3C Bitstring Status List and the 1EdTech-style revocation list."""

from __future__ import annotations

import base64
import gzip

import pytest

from lti_badges.openbadges import status_list
from lti_badges.openbadges.status_list import MIN_BITS, BitstringStatusList, StatusListError


def test_set_get_round_trip_through_encoding():
    bl = BitstringStatusList()
    assert len(bl) == MIN_BITS == 131072
    for i in (0, 1, 7, 8, 4242, MIN_BITS - 1):
        assert not bl.get(i)
        bl.set(i)
        assert bl.get(i)
    bl.set(1, False)
    assert not bl.get(1)
    encoded = bl.encode()
    assert encoded.startswith("u") and "=" not in encoded
    back = BitstringStatusList.decode(encoded)
    assert back.set_indices() == [0, 7, 8, 4242, MIN_BITS - 1]
    assert bl.encode() == encoded  # deterministic (gzip mtime 0)


def test_bit_order_and_encoding_decoded_independently():
    # Bitstring Status List, "Bitstring Generation Algorithm": index 0 is the left-most bit.
    bl = BitstringStatusList()
    bl.set(0)
    bl.set(10)
    raw = gzip.decompress(base64.urlsafe_b64decode(bl.encode()[1:] + "=="))
    assert len(raw) == MIN_BITS // 8
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0010_0000 and not any(raw[2:])


def test_sizes_and_ranges_are_enforced():
    with pytest.raises(StatusListError):
        BitstringStatusList(1024)
    bl = BitstringStatusList()
    with pytest.raises(StatusListError):
        bl.get(MIN_BITS)
    with pytest.raises(StatusListError):
        bl.set(-1)
    short = "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 100)).decode().rstrip("=")
    with pytest.raises(StatusListError, match="shorter"):
        BitstringStatusList.decode(short)
    with pytest.raises(StatusListError, match="GZIP"):
        BitstringStatusList.decode("uAAAA")
    assert len(BitstringStatusList(MIN_BITS * 2)) == MIN_BITS * 2


def test_entry_and_status_list_credential_shapes(loader):
    from lti_badges.openbadges import ob3

    entry = status_list.status_list_entry("https://x.example/ob/status/3", 77)
    assert entry == {
        "id": "https://x.example/ob/status/3#77",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "77",
        "statusListCredential": "https://x.example/ob/status/3",
    }
    cred = status_list.status_list_credential(
        "https://x.example/ob/status/3",
        "https://x.example/ob/issuers/1",
        BitstringStatusList().encode(),
        valid_from="2024-01-01T00:00:00Z",
        valid_until="2024-01-02T00:00:00Z",
        ttl_ms=300000,
    )
    assert cred["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert cred["credentialSubject"]["type"] == "BitstringStatusList"
    assert cred["credentialSubject"]["id"] == "https://x.example/ob/status/3#list"
    ob3.check_terms_expand(cred, loader)


def test_1edtech_revocation_list_shape():
    doc = status_list.revocation_list_1edtech(
        "https://x.example/ob/revocations/1",
        "https://x.example/ob/issuers/1",
        [("https://x.example/ob/credentials/1", "cheating"), ("urn:uuid:2", None)],
    )
    assert doc == {
        "id": "https://x.example/ob/revocations/1",
        "issuer": "https://x.example/ob/issuers/1",
        "revokedCredentials": [
            {"id": "https://x.example/ob/credentials/1", "revoked": True, "revocationReason": "cheating"},
            {"id": "urn:uuid:2", "revoked": True},
        ],
    }
