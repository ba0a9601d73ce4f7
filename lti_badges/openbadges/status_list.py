"""Status lists: W3C Bitstring Status List v1.0 and a 1EdTech-style revocation list.

OB 3.0 credentials point at a ``BitstringStatusListEntry`` — a type the VC 2.0
context defines (``https://www.w3.org/ns/credentials/v2``), so it signs and
verifies under JSON-LD safe mode. ``1EdTechRevocationList`` is defined in no
context we pin (it lives in an OB "extensions" context), so it is never put
in a signed credential; :func:`revocation_list_1edtech` only builds the plain
JSON list some 1EdTech tools read, for the service layer to publish if wanted.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from lti_badges.clock import iso_z

from . import multibase
from .contexts import VC_V2

__all__ = [
    "MIN_BITS",
    "BitstringStatusList",
    "StatusListError",
    "revocation_list_1edtech",
    "status_list_credential",
    "status_list_entry",
]

# Bitstring Status List v1.0, "Bitstring Generation Algorithm": the
# uncompressed bitstring MUST be at least 16KB (131,072 entries) for
# group privacy.
MIN_BITS = 131_072
# Refuse decoded lists beyond this (a gzip bomb guard; the spec's security
# considerations ask verifiers to bound decompression).
MAX_BITS = 16 * 1024 * 1024 * 8


class StatusListError(ValueError):
    """A status list is malformed, too large, or an index is out of range."""


class BitstringStatusList:
    """A 1-bit-per-entry status list (``statusSize`` 1).

    Bit order per Bitstring Status List v1.0 "Bitstring Generation Algorithm":
    index 0 is the left-most (most significant) bit of the first byte.
    """

    def __init__(self, length: int = MIN_BITS, *, data: bytes | bytearray | None = None) -> None:
        if data is not None:
            self._bits = bytearray(data)
        else:
            if length < MIN_BITS:
                raise StatusListError(f"a status list needs at least {MIN_BITS} entries")
            if length % 8:
                raise StatusListError("status list length must be a multiple of 8")
            self._bits = bytearray(length // 8)

    def __len__(self) -> int:
        return len(self._bits) * 8

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or index < 0 or index >= len(self):
            raise StatusListError(f"status list index {index!r} out of range 0..{len(self) - 1}")
        return index // 8, 7 - index % 8

    def get(self, index: int) -> bool:
        """The status bit at ``index`` (True = set, e.g. revoked)."""
        byte, shift = self._locate(index)
        return bool((self._bits[byte] >> shift) & 1)

    def set(self, index: int, value: bool = True) -> None:
        """Set (or clear) the status bit at ``index``."""
        byte, shift = self._locate(index)
        if value:
            self._bits[byte] |= 1 << shift
        else:
            self._bits[byte] &= ~(1 << shift) & 0xFF

    def set_indices(self) -> list[int]:
        """Every index whose bit is set, ascending."""
        out = []
        for i, b in enumerate(self._bits):
            if b:
                out.extend(i * 8 + j for j in range(8) if (b >> (7 - j)) & 1)
        return out

    def encode(self) -> str:
        """``encodedList``: multibase base64url (``u``, no padding) of the GZIP'd bits
        ("BitstringStatusListCredential" in the data model). ``mtime=0`` keeps it deterministic."""
        return multibase.encode_base64url(gzip.compress(bytes(self._bits), mtime=0))

    @classmethod
    def decode(cls, encoded: str) -> BitstringStatusList:
        """Parse an ``encodedList`` (``u`` prefix optional, as some issuers omit it)."""
        body = encoded[1:] if encoded.startswith("u") else encoded
        compressed = multibase.b64url_decode(body)
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as gz:
                data = gz.read(MAX_BITS // 8 + 1)
        except (OSError, EOFError) as exc:
            raise StatusListError(f"encodedList is not valid GZIP: {exc}") from exc
        if len(data) > MAX_BITS // 8:
            raise StatusListError("decoded status list is too large")
        if len(data) * 8 < MIN_BITS:
            raise StatusListError(f"decoded status list is shorter than {MIN_BITS} bits")
        return cls(data=data)


def status_list_entry(status_list_url: str, index: int, *, purpose: str = "revocation") -> dict[str, Any]:
    """A ``credentialStatus`` entry (Bitstring Status List v1.0 data model,
    BitstringStatusListEntry). ``statusListIndex`` is a string of the integer,
    as the spec requires; ``id`` is the list URL plus ``#<index>``."""
    if index < 0:
        raise StatusListError("status list index must be >= 0")
    return {
        "id": f"{status_list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": status_list_url,
    }


def status_list_credential(
    status_list_url: str,
    issuer: str | dict[str, Any],
    encoded_list: str,
    *,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    purpose: str = "revocation",
    ttl_ms: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (data model) served at
    ``status_list_url`` (``/ob/status/<list-id>``); sign it with
    :func:`lti_badges.openbadges.proofs.sign_data_integrity` like any credential.

    Only the VC 2.0 context is needed: it defines every term used here.
    """
    subject: dict[str, Any] = {
        "id": f"{status_list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    doc: dict[str, Any] = {
        "@context": [VC_V2],
        "id": status_list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": iso_z(valid_from),
    }
    if name:
        doc["name"] = name
    if valid_until is not None:
        doc["validUntil"] = iso_z(valid_until)
    doc["credentialSubject"] = subject
    return doc


def revocation_list_1edtech(
    list_url: str,
    issuer_id: str,
    revoked: Iterable[tuple[str, str | None]],
) -> dict[str, Any]:
    """A plain-JSON revocation list in the shape 1EdTech's reference tools serve
    for ``credentialStatus.type == "1EdTechRevocationList"``:
    ``{"id", "issuer", "revokedCredentials": [{"id", "revoked": true,
    "revocationReason"?}]}``. Not JSON-LD, not signed; see module docstring."""
    entries = []
    for cred_id, reason in revoked:
        entry: dict[str, Any] = {"id": cred_id, "revoked": True}
        if reason:
            entry["revocationReason"] = reason
        entries.append(entry)
    return {"id": list_url, "issuer": issuer_id, "revokedCredentials": entries}
