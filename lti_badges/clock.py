"""One clock: the tool's "now" and the two ways it writes a time.

The database keeps naive UTC (the same on SQLite and PostgreSQL): ``utcnow``. Documents
and APIs carry aware UTC at second precision (OB 3.0 DateTimeZ, §B.3; VC-JWT ``nbf``/``exp``
are whole seconds): ``now`` and ``iso_z``. ``aware`` reads a stored naive time as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, naive UTC (database columns)."""
    return datetime.now(UTC).replace(tzinfo=None)


def now() -> datetime:
    """Now, aware UTC, whole seconds (documents)."""
    return datetime.now(UTC).replace(microsecond=0)


def aware(value: datetime) -> datetime:
    """A time as aware UTC (naive values are the database's UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_z(value: datetime | str) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC at second precision; a string is taken as written."""
    if isinstance(value, str):
        return value
    return aware(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")
