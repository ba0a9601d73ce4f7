"""Keys derived from the application secret (for encrypting private keys at rest)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def passphrase(secret: str, purpose: str) -> bytes:
    """A per-purpose passphrase, so one leaked derived key does not open the others."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=f"lti-badges/{purpose}".encode(),
                info=b"pem")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def fernet(secret: str, purpose: str) -> Fernet:
    """Symmetric encryption for secrets stored in the database (tokens)."""
    return Fernet(passphrase(secret, purpose))
