"""Encryption at rest for backpack secrets (client secrets, tokens, PKCE verifiers).

Fernet (AES-128-CBC + HMAC-SHA256, authenticated) with a key derived from the app
secret for this purpose only (``lti_badges.crypto.passphrase``), so a database dump
alone opens no backpack.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from lti_badges.crypto import passphrase

PURPOSE = "backpack-tokens"


def _fernet(secret: str | None = None) -> Fernet:
    return Fernet(passphrase(secret or current_app.config["SECRET_KEY"], PURPOSE))


def encrypt(value: str | None, *, secret: str | None = None) -> str | None:
    if value is None:
        return None
    return _fernet(secret).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str | None, *, secret: str | None = None) -> str | None:
    """The plain text, or None when absent or undecipherable (the app secret changed)."""
    if not value:
        return None
    try:
        return _fernet(secret).decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return None
