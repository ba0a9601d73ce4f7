"""Signing keys: generation, PEM, JWK, Multikey, did:web and controller documents.

Pure functions over ``cryptography`` key objects and bytes; storage and
rotation belong to the service layer.

* Ed25519 signs OB 3.0 Data Integrity proofs (``eddsa-rdfc-2022``) and VC-JWTs
  (``alg: EdDSA``); RSA (RS256) signs OB 2.0 signed assertions and is the
  OB 3.0 VC-JWT baseline algorithm (OB 3.0 §8.2.3 "Create the JOSE Header").
* A Multikey (VC Data Integrity §2.2.2 / Controlled Identifiers "Multikey") is
  ``publicKeyMultibase`` = ``z`` + base58btc(0xed01 || raw 32-byte key), which
  starts ``z6Mk`` for Ed25519.
* Verifiers such as Digital Bazaar's check that the proof's verification
  method is listed under ``assertionMethod`` of its controller and that the
  controller is the credential's issuer, so the issuer's published document
  must be a controller document: :func:`controller_document` and
  :func:`did_web_document` build one.
* Verification method ids: ``<controller>#<fragment>`` works where the
  verifier resolves fragments inside the controller document (DID resolvers
  do); plain HTTP document loaders drop fragments, so for an HTTPS issuer a
  standalone key URL serving :func:`multikey_document` is the portable choice.
  Both are exercised against Digital Bazaar's verifier in the tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from . import multibase
from .contexts import DID_V1, MULTIKEY_V1

__all__ = [
    "PrivateKey",
    "PublicKey",
    "controller_document",
    "did_web",
    "did_web_document",
    "did_web_url",
    "ed25519_from_multibase",
    "ed25519_public_multibase",
    "ed25519_secret_multibase",
    "generate_ed25519",
    "generate_rsa",
    "jwk_thumbprint",
    "jwks",
    "key_id",
    "multikey_document",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_jwk",
    "public_key_from_jwk",
    "public_key_from_pem",
    "public_key_of",
    "public_key_to_pem",
]

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey


# -- generation and PEM -----------------------------------------------------


def generate_ed25519() -> ed25519.Ed25519PrivateKey:
    """A new Ed25519 private key."""
    return ed25519.Ed25519PrivateKey.generate()


def generate_rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A new RSA private key (e = 65537); 2048 bits at least (RFC 7518 §3.3)."""
    if bits < 2048:
        raise ValueError("RSA keys must be at least 2048 bits (RFC 7518 §3.3)")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_key_of(key: PrivateKey | PublicKey) -> PublicKey:
    """The public half of ``key`` (or ``key`` itself when already public)."""
    if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return key.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        return key
    raise TypeError(f"unsupported key type {type(key).__name__}")


def _passphrase(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None or passphrase == b"" or passphrase == "":
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def private_key_to_pem(key: PrivateKey, passphrase: str | bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given."""
    pw = _passphrase(passphrase)
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(pw) if pw else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def private_key_from_pem(pem: bytes | str, passphrase: str | bytes | None = None) -> PrivateKey:
    """Load an Ed25519 or RSA private key from PEM (PKCS#8 or traditional)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=_passphrase(passphrase))
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"unsupported private key type {type(key).__name__}")
    return key


def public_key_to_pem(key: PrivateKey | PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public key."""
    return public_key_of(key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes | str) -> PublicKey:
    """Load an Ed25519 or RSA public key from SubjectPublicKeyInfo PEM."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise TypeError(f"unsupported public key type {type(key).__name__}")
    return key


# -- JWK ----------------------------------------------------------------------


def _int_b64(n: int) -> str:
    return multibase.b64url_encode(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def _raw_ed25519(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk(
    key: PrivateKey | PublicKey, kid: str | None = None, *, use: str | None = "sig"
) -> dict[str, Any]:
    """The public JWK (RFC 7517; OKP per RFC 8037 for Ed25519) — never ``d``.

    ``alg`` is set (``EdDSA`` or ``RS256``) so verifiers need not guess.
    """
    pub = public_key_of(key)
    jwk: dict[str, Any]
    if isinstance(pub, ed25519.Ed25519PublicKey):
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": multibase.b64url_encode(_raw_ed25519(pub))}
        jwk["alg"] = "EdDSA"
    else:
        nums = pub.public_numbers()
        jwk = {"kty": "RSA", "n": _int_b64(nums.n), "e": _int_b64(nums.e), "alg": "RS256"}
    if use:
        jwk["use"] = use
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Load a public key from an OKP/Ed25519 or RSA JWK (a ``d`` member is refused)."""
    if "d" in jwk:
        raise ValueError("refusing a JWK that carries a private key ('d')")
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(multibase.b64url_decode(jwk["x"]))
    if jwk.get("kty") == "RSA":
        n = int.from_bytes(multibase.b64url_decode(jwk["n"]), "big")
        e = int.from_bytes(multibase.b64url_decode(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    raise ValueError(f"unsupported JWK kty/crv {jwk.get('kty')}/{jwk.get('crv')}")


def jwk_thumbprint(key: PrivateKey | PublicKey) -> str:
    """RFC 7638 JWK SHA-256 thumbprint, base64url — a stable ``kid``."""
    jwk = public_jwk(key, use=None)
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    data = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return multibase.b64url_encode(hashlib.sha256(data.encode()).digest())


def jwks(keys: Iterable[tuple[PrivateKey | PublicKey, str]]) -> dict[str, Any]:
    """A JWK Set ``{"keys": [...]}`` from ``(key, kid)`` pairs."""
    return {"keys": [public_jwk(k, kid) for k, kid in keys]}


# -- Multikey -------------------------------------------------------------------


def ed25519_public_multibase(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> str:
    """Multikey ``publicKeyMultibase``: ``z`` + base58btc(0xed01 || key) -> ``z6Mk...``."""
    pub = public_key_of(key)
    if not isinstance(pub, ed25519.Ed25519PublicKey):
        raise TypeError("Multikey encoding here is for Ed25519 keys")
    return multibase.encode_base58btc(multibase.ED25519_PUB_HEADER + _raw_ed25519(pub))


def ed25519_secret_multibase(key: ed25519.Ed25519PrivateKey) -> str:
    """Multikey ``secretKeyMultibase``: ``z`` + base58btc(0x8026 || 32-byte seed).

    For handing a key to another implementation in tests; never publish it.
    """
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return multibase.encode_base58btc(multibase.ED25519_PRIV_HEADER + seed)


def ed25519_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    """Decode a ``z6Mk...`` Multikey value back to an Ed25519 public key."""
    raw = multibase.decode(value)
    if not raw.startswith(multibase.ED25519_PUB_HEADER) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey (expected 0xed01 header and 32 bytes)")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


def key_id(controller: str, key: PrivateKey | PublicKey, fragment: str | None = None) -> str:
    """A verification method id under ``controller``: ``<controller>#<fragment>``.

    The default fragment is the Multikey value for Ed25519 (the convention of
    1EdTech's examples and Digital Bazaar's libraries) and the JWK thumbprint
    for RSA, so ids are stable and never collide across rotations.
    """
    if fragment is None:
        pub = public_key_of(key)
        if isinstance(pub, ed25519.Ed25519PublicKey):
            fragment = ed25519_public_multibase(pub)
        else:
            fragment = jwk_thumbprint(pub)
    return f"{controller.split('#', 1)[0]}#{fragment}"


def multikey_document(
    key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey,
    vm_id: str,
    controller: str,
    *,
    with_context: bool = True,
) -> dict[str, Any]:
    """A Multikey verification method (with ``@context`` when standing alone)."""
    doc: dict[str, Any] = {}
    if with_context:
        doc["@context"] = MULTIKEY_V1
    doc.update(
        {
            "id": vm_id,
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": ed25519_public_multibase(key),
        }
    )
    return doc


def controller_document(
    controller_id: str,
    keys: Sequence[tuple[ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey, str]],
    *,
    extra_contexts: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A controller document listing Ed25519 ``(key, key_id)`` pairs as
    ``verificationMethod`` and ``assertionMethod``.

    ``@context`` starts with the DID v1 context (whose terms define
    ``verificationMethod``/``assertionMethod``) then Multikey v1, then
    ``extra_contexts`` (e.g. the OB 3.0 context for an issuer profile).
    ``extra`` adds members (``type``, ``name``...).
    """
    doc: dict[str, Any] = {"@context": [DID_V1, MULTIKEY_V1, *extra_contexts], "id": controller_id}
    if extra:
        doc.update({k: v for k, v in extra.items() if k not in ("@context", "id")})
    doc["verificationMethod"] = [
        multikey_document(k, kid, controller_id, with_context=False) for k, kid in keys
    ]
    doc["assertionMethod"] = [kid for _, kid in keys]
    return doc


# -- did:web ------------------------------------------------------------------


def did_web(host: str, path: str | None = None) -> str:
    """``did:web:<host>[:<path segments>]``; a port's colon is percent-encoded
    (did:web method spec §3.2 "Create")."""
    host = host.strip().lower().rstrip("/")
    if not host or "/" in host:
        raise ValueError(f"not a host name: {host!r}")
    did = "did:web:" + quote(host, safe="")
    if path:
        did += "".join(":" + quote(seg, safe="") for seg in path.strip("/").split("/") if seg)
    return did


def did_web_url(did: str) -> str:
    """Where a did:web document is served (did:web spec §3.2 "Read (Resolve)")."""
    if not did.startswith("did:web:"):
        raise ValueError(f"not a did:web DID: {did}")
    parts = [unquote(p) for p in did[len("did:web:") :].split("#", 1)[0].split(":")]
    host, segments = parts[0], parts[1:]
    if segments:
        return f"https://{host}/{'/'.join(segments)}/did.json"
    return f"https://{host}/.well-known/did.json"


def did_web_document(
    host_or_did: str,
    keys: Sequence[tuple[ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey, str | None]],
) -> dict[str, Any]:
    """The DID document for ``did:web:<host>``: one Multikey per ``(key, fragment)``
    (fragment ``None`` -> the Multikey value), all listed in ``assertionMethod``."""
    did = host_or_did if host_or_did.startswith("did:web:") else did_web(host_or_did)
    pairs = [(k, key_id(did, k, frag)) for k, frag in keys]
    return controller_document(did, pairs)
