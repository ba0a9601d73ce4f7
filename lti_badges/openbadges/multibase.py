"""Multibase and multicodec helpers: base58btc (``z``) and base64url (``u``).

Only what the project needs, written out so no extra dependency is pulled in:

* base58btc with the Bitcoin alphabet, multibase prefix ``z`` — used for
  Data Integrity ``proofValue`` (VC DI EdDSA §2.2.1) and Multikey
  ``publicKeyMultibase`` (Controlled Identifiers / VC DI §2.2.2 Multikey);
* base64url without padding, multibase prefix ``u`` — used for the Bitstring
  Status List ``encodedList`` (Bitstring Status List v1.0 §2.2).
"""

from __future__ import annotations

import base64

__all__ = [
    "ED25519_PRIV_HEADER",
    "ED25519_PUB_HEADER",
    "MultibaseError",
    "b58decode",
    "b58encode",
    "b64url_decode",
    "b64url_encode",
    "decode",
    "encode_base58btc",
    "encode_base64url",
]

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}

# Multicodec varint headers (https://github.com/multiformats/multicodec table):
# ed25519-pub = 0xed, ed25519-priv = 0x1300 (varint 0x80 0x26).
ED25519_PUB_HEADER = b"\xed\x01"
ED25519_PRIV_HEADER = b"\x80\x26"


class MultibaseError(ValueError):
    """A value is not valid multibase / base58 / base64url."""


def b58encode(data: bytes) -> str:
    """Encode bytes as base58 (Bitcoin alphabet); leading zero bytes become ``1``."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_ALPHABET[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet)."""
    n = 0
    for ch in text:
        try:
            n = n * 58 + _INDEX[ch]
        except KeyError:
            raise MultibaseError(f"invalid base58 character {ch!r}") from None
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url, padding optional; rejects characters outside the alphabet."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise MultibaseError(f"invalid base64url: {exc}") from None


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: ``z`` + base58."""
    return "z" + b58encode(data)


def encode_base64url(data: bytes) -> str:
    """Multibase base64url (no padding): ``u`` + base64url."""
    return "u" + b64url_encode(data)


def decode(value: str) -> bytes:
    """Decode a multibase string with prefix ``z`` (base58btc) or ``u`` (base64url)."""
    if not value:
        raise MultibaseError("empty multibase value")
    prefix, body = value[0], value[1:]
    if prefix == "z":
        return b58decode(body)
    if prefix == "u":
        return b64url_decode(body)
    raise MultibaseError(f"unsupported multibase prefix {prefix!r}")
