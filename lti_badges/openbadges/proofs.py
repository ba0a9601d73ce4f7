"""Proofs for OB 3.0 credentials: Data Integrity ``eddsa-rdfc-2022`` and VC-JWT.

Data Integrity, per W3C "Data Integrity EdDSA Cryptosuites v1.0", section
"eddsa-rdfc-2022" (cited below by its subsection titles):

1. "Transformation (eddsa-rdfc-2022)": canonicalize the document without ``proof`` with
   RDFC-1.0 (= URDNA2015; pyld's ``normalize``) to N-Quads.
2. "Proof Configuration (eddsa-rdfc-2022)": the proof options (type, cryptosuite,
   created, verificationMethod, proofPurpose) with the document's
   ``@context``, canonicalized the same way.
3. "Hashing (eddsa-rdfc-2022)": SHA-256(canonical proof config) || SHA-256(canonical doc).
4. "Proof Serialization (eddsa-rdfc-2022)": Ed25519 signature of those 64 bytes; ``proofValue``
   is multibase base58btc (``z...``).

The proof is appended to a ``proof`` **array**: OB 3.0's JSON Schema requires
an array, and VC Data Integrity ("Proofs", "Proof Sets") allows a set of
proofs. Each proof signs the document without any ``proof`` (proof sets). Canonicalization uses
``base: None`` as jsonld.js does, and the loader runs offline: nothing is
fetched while signing.

VC-JWT, per OB 3.0 §8.2 "JSON Web Token Proof Format" (which profiles
VC-JOSE-COSE for VCDM 2.0): the JOSE header carries only ``alg`` (``EdDSA`` for
Ed25519, ``RS256`` for RSA — the OB baseline), ``kid`` (a URI dereferencing to
the public JWK) and ``typ: "JWT"`` (§8.2.3: no other headers allowed); the
payload is the credential JSON itself plus the registered claims of §8.2.4.1:
``iss`` = issuer.id, ``jti`` = id, ``nbf`` = validFrom, ``sub`` =
credentialSubject.id (only when the subject has an id — a subject known only
by a hashed ``identifier`` has none), ``exp`` = validUntil when present.
Verification follows §8.2.6 and §8.2.6.1 (claims must match the credential).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pyld import jsonld

from . import multibase, rdfc
from .contexts import context_error_in
from .ob3 import check_terms_expand, iso_datetime

__all__ = [
    "CRYPTOSUITE",
    "ProofError",
    "VerificationResult",
    "canonicalize",
    "sign_data_integrity",
    "sign_vc_jwt",
    "vc_jwt_claims",
    "verify_data_integrity",
    "verify_vc_jwt",
]

CRYPTOSUITE = "eddsa-rdfc-2022"
PublicKeyResolver = Callable[[str], Any]


class ProofError(Exception):
    """Signing or verification could not be carried out, or failed (VC-JWT)."""


@dataclass
class VerificationResult:
    """Outcome of a verification: ``verified`` and the reasons when not."""

    verified: bool
    errors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.verified


def _offline(loader: Any) -> Any:
    return loader.offline() if hasattr(loader, "offline") else nullcontext()


def canonicalize(doc: Mapping[str, Any] | list[Any], loader: Any) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of ``doc`` (compact or already
    expanded JSON-LD); offline (no fetching)."""
    with _offline(loader):
        try:
            return jsonld.normalize(
                doc if isinstance(doc, list) else dict(doc),
                {
                    "algorithm": "URDNA2015",
                    "format": "application/n-quads",
                    "documentLoader": loader,
                    "base": None,
                },
            )
        except jsonld.JsonLdError as exc:
            cause = context_error_in(exc)
            if cause is not None:
                raise cause from exc
            raise


def _hash_data(unsecured: Any, proof_config: Any, loader: Any) -> bytes:
    # "Hashing (eddsa-rdfc-2022)": proofConfigHash || transformedDocumentHash.
    config_hash = hashlib.sha256(canonicalize(proof_config, loader).encode("utf-8")).digest()
    doc_hash = hashlib.sha256(canonicalize(unsecured, loader).encode("utf-8")).digest()
    return config_hash + doc_hash


# -- canonicalizer choice: pyld (the reference) or rdfc (exact, faster) ----------
#: ``"fast"``: :mod:`lti_badges.openbadges.rdfc`, which gives byte-identical
#: N-Quads and falls back to pyld for any document outside its subset;
#: ``"pyld"``: always pyld. Used when ``canonicalizer`` is not given.
DEFAULT_CANONICALIZER = "fast"


def _fast_hash_data(
    unsecured: Any, proof_config: Any, loader: Any, canonicalizer: str | None
) -> bytes | None:
    """The fast path's hash data, or None (pyld then does it). The fast path
    accepts only documents whose every term expands, so where it succeeds
    :func:`check_terms_expand` would pass too."""
    choice = canonicalizer or DEFAULT_CANONICALIZER
    if choice not in ("fast", "pyld"):
        raise ProofError(f"unknown canonicalizer {choice!r} (fast or pyld)")
    return rdfc.hash_data(unsecured, proof_config, loader) if choice == "fast" else None


def _proofs_of(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    proof = doc.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def sign_data_integrity(
    doc: Mapping[str, Any],
    private_key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    loader: Any,
    *,
    created: datetime | str | None = None,
    proof_purpose: str = "assertionMethod",
    check_terms: bool = True,
    canonicalizer: str | None = None,
) -> dict[str, Any]:
    """Return a copy of ``doc`` with an ``eddsa-rdfc-2022`` DataIntegrityProof
    appended to its ``proof`` array.

    ``verification_method``: the key's id (e.g. ``<issuer>#z6Mk...``), which
    verifiers dereference to a Multikey whose controller is the issuer.
    With ``check_terms`` (default) the document and proof options must pass
    :func:`lti_badges.openbadges.ob3.check_terms_expand` first.
    ``canonicalizer``: ``"fast"`` or ``"pyld"`` (default :data:`DEFAULT_CANONICALIZER`).
    """
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise ProofError("eddsa-rdfc-2022 needs an Ed25519 private key")
    if "@context" not in doc:
        raise ProofError("the document has no @context")
    unsecured = {k: copy.deepcopy(v) for k, v in doc.items() if k != "proof"}
    options: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": iso_datetime(created or datetime.now(UTC)),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    # "Proof Configuration (eddsa-rdfc-2022)": proofConfig.@context = unsecuredDocument.@context.
    proof_config = {"@context": unsecured["@context"], **options}
    hash_data = _fast_hash_data(unsecured, proof_config, loader, canonicalizer)
    if hash_data is None:
        to_hash: tuple[Any, Any] = (unsecured, proof_config)
        if check_terms:
            # The expanded forms canonicalize to the same N-Quads; reusing them
            # saves a second context-processing pass.
            to_hash = (check_terms_expand(unsecured, loader), check_terms_expand(proof_config, loader))
        hash_data = _hash_data(*to_hash, loader)
    signature = private_key.sign(hash_data)
    proof = {**options, "proofValue": multibase.encode_base58btc(signature)}
    secured = dict(unsecured)
    secured["proof"] = [*_proofs_of(doc), proof]
    return secured


def _resolve(key_or_resolver: Any, key_id: str | None) -> Any:
    if isinstance(key_or_resolver, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        return key_or_resolver
    if isinstance(key_or_resolver, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return key_or_resolver.public_key()
    if callable(key_or_resolver):
        if not key_id:
            raise ProofError("no key id to resolve a public key from")
        return key_or_resolver(key_id)
    raise ProofError("give a public key or a resolver (key id -> public key)")


def verify_data_integrity(
    doc: Mapping[str, Any],
    key_or_resolver: ed25519.Ed25519PublicKey | PublicKeyResolver,
    loader: Any,
    *,
    proof_purpose: str = "assertionMethod",
    canonicalizer: str | None = None,
) -> VerificationResult:
    """Verify every ``eddsa-rdfc-2022`` proof of ``doc`` ("Verify Proof (eddsa-rdfc-2022)").

    ``key_or_resolver``: the Ed25519 public key, or a callable mapping the
    proof's ``verificationMethod`` to one (the caller decides which keys it
    trusts for which issuer). Verified only if there is at least one such
    proof and all of them verify.
    """
    errors: list[str] = []
    proofs = [
        p
        for p in _proofs_of(doc)
        if p.get("type") == "DataIntegrityProof" and p.get("cryptosuite") == CRYPTOSUITE
    ]
    if not proofs:
        return VerificationResult(False, ["no eddsa-rdfc-2022 DataIntegrityProof"])
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    for i, proof in enumerate(proofs):
        where = f"proof[{i}]"
        if proof.get("proofPurpose") != proof_purpose:
            errors.append(f"{where}: proofPurpose is {proof.get('proofPurpose')!r}")
            continue
        value = proof.get("proofValue", "")
        try:
            if not isinstance(value, str) or not value.startswith("z"):
                raise multibase.MultibaseError("proofValue must be base58btc multibase (z...)")
            signature = multibase.decode(value)
            if len(signature) != 64:
                raise multibase.MultibaseError("an Ed25519 signature is 64 bytes")
            public_key = _resolve(key_or_resolver, proof.get("verificationMethod"))
            if not isinstance(public_key, ed25519.Ed25519PublicKey):
                raise ProofError("the verification method is not an Ed25519 key")
            options = {k: v for k, v in proof.items() if k != "proofValue"}
            proof_config = {"@context": unsecured.get("@context"), **options}
            hash_data = _fast_hash_data(unsecured, proof_config, loader, canonicalizer)
            if hash_data is None:
                hash_data = _hash_data(unsecured, proof_config, loader)
            public_key.verify(signature, hash_data)
        except InvalidSignature:
            errors.append(f"{where}: signature does not verify")
        except (multibase.MultibaseError, ProofError, jsonld.JsonLdError, ValueError) as exc:
            errors.append(f"{where}: {exc}")
    return VerificationResult(not errors, errors)


# -- VC-JWT -------------------------------------------------------------------------


def _numeric_date(value: str) -> int:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ProofError(f"date-time {value!r} has no time zone")
    return int(dt.timestamp())


def _issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str):
        raise ProofError("the credential has no issuer id")
    return issuer_id


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject.get("id") if isinstance(subject, dict) else None


def vc_jwt_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The registered claims OB 3.0 §8.2.4.1 derives from the credential."""
    claims: dict[str, Any] = {"iss": _issuer_id(credential)}
    if not isinstance(credential.get("id"), str):
        raise ProofError("the credential has no id (needed for jti)")
    claims["jti"] = credential["id"]
    if "validFrom" not in credential:
        raise ProofError("the credential has no validFrom (needed for nbf)")
    claims["nbf"] = _numeric_date(credential["validFrom"])
    sub = _subject_id(credential)
    if sub:
        claims["sub"] = sub
    if credential.get("validUntil"):
        claims["exp"] = _numeric_date(credential["validUntil"])
    return claims


def _alg_for(key: Any) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    raise ProofError(f"unsupported key type {type(key).__name__}")


def sign_vc_jwt(
    credential: Mapping[str, Any],
    private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
    kid: str,
) -> str:
    """Compact JWS of ``credential`` per OB 3.0 §8.2 (see module docstring)."""
    payload = dict(credential)
    payload.update(vc_jwt_claims(credential))
    return jwt.encode(
        payload, private_key, algorithm=_alg_for(private_key), headers={"kid": kid, "typ": "JWT"}
    )


_ALLOWED_HEADERS = {"alg", "kid", "jwk", "typ"}


def verify_vc_jwt(
    token: str,
    key_or_resolver: Any,
    *,
    leeway: float = 0,
) -> dict[str, Any]:
    """Verify a VC-JWT (OB 3.0 §8.2.6) and return the credential it carries.

    ``key_or_resolver``: a public key, or a callable from the header ``kid``
    to one. Raises :class:`ProofError` on any failure: bad header, bad
    signature, time window (``nbf``/``exp``), or claims that do not match the
    credential (§8.2.6.1).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ProofError(f"not a compact JWS: {exc}") from exc
    extra = set(header) - _ALLOWED_HEADERS
    if extra:
        raise ProofError(f"JOSE header has members OB 3.0 §8.2.3 does not allow: {sorted(extra)}")
    if header.get("typ") not in (None, "JWT"):
        raise ProofError(f"JOSE header typ must be 'JWT', not {header.get('typ')!r}")
    public_key = _resolve(key_or_resolver, header.get("kid"))
    alg = _alg_for(public_key)
    if header.get("alg") != alg:
        raise ProofError(f"JOSE alg {header.get('alg')!r} does not match the key ({alg})")
    try:
        payload = jwt.decode(
            token,
            public_key,
            algorithms=[alg],
            leeway=leeway,
            options={"require": ["iss", "jti", "nbf"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise ProofError(f"VC-JWT does not verify: {exc}") from exc
    credential = {k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf", "sub", "exp")}
    expected = vc_jwt_claims(credential)
    for claim in ("iss", "jti", "nbf", "sub", "exp"):
        if payload.get(claim) != expected.get(claim):
            raise ProofError(
                f"claim {claim!r} ({payload.get(claim)!r}) does not match the credential "
                f"({expected.get(claim)!r}) (OB 3.0 §8.2.6.1)"
            )
    return credential
