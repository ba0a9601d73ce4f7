"""The one error a person can act on.

``UserError`` carries what the web layer and the CLI need to answer a refusal: a message
for a person (what to change), an HTTP status and a stable code for scripts. Each area
names its own kind (``LaunchError``, ``IssuingError``, ``RegistrationError``,
``NoticeError``, ``PairingError``, ``ConnectorError``, the web's ``ApiError``) with its
default status and code; one handler in ``web/errors.py`` answers them all.
"""

from __future__ import annotations


class UserError(Exception):
    """A refusal with ``message`` (for a person), ``status`` (HTTP) and ``code`` (stable)."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status if status is not None else type(self).status
        self.code = code if code is not None else type(self).code
