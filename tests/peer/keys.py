"""The peer's RS256 signing keys: generation, rotation and the published JWKS.

The kid is the RFC 7638 thumbprint that ``lti1p3platform.Registration.get_kid`` computes,
so tokens signed through the library and tokens signed here carry the same kid.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.registration import Registration


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair in PEM form, with its kid."""

    kid: str
    private_pem: str
    public_pem: str

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        kid = Registration.get_jwk(public_pem)["kid"]
        return cls(kid=kid, private_pem=private_pem, public_pem=public_pem)

    def public_jwk(self) -> dict[str, Any]:
        return Registration.get_jwk(self.public_pem)


_foreign_lock = threading.Lock()
_foreign_key: SigningKey | None = None


def foreign_key() -> SigningKey:
    """A key no peer publishes, for "signed by someone else" tests (made once per process)."""
    global _foreign_key
    with _foreign_lock:
        if _foreign_key is None:
            _foreign_key = SigningKey.generate()
        return _foreign_key


class KeySet:
    """The platform keys: the newest one signs, all of them stay in the JWKS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = [SigningKey.generate()]

    @property
    def current(self) -> SigningKey:
        with self._lock:
            return self._keys[-1]

    def rotate(self) -> SigningKey:
        new = SigningKey.generate()
        with self._lock:
            self._keys.append(new)
        return new

    def by_kid(self, kid: str | None) -> SigningKey | None:
        with self._lock:
            return next((k for k in self._keys if k.kid == kid), None)

    def all(self) -> list[SigningKey]:
        with self._lock:
            return list(self._keys)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [k.public_jwk() for k in self.all()]}
