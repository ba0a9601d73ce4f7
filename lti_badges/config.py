"""Settings: built-in defaults, then a TOML file under ``config/``, then ``LTI_BADGES_*`` environment.

The precedence is the one DESIGN.md fixes, so an admin can keep secrets in the
environment and everything else in a reviewed file.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("production", "development", "test")

DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "BASE_URL": "http://127.0.0.1:5000",
    "DATABASE_URL": None,  # None: SQLite under the instance folder
    "SECRET_KEY": None,  # None: generated once into the instance folder
    "BROKER_URL": None,
    "CONTEXTS_DIR": None,
    "TOOL_NAME": "LTI Badges",
    "TOOL_DESCRIPTION": "Open Badges for your courses: design, award, verify.",
    "JWT_LEEWAY_SECONDS": 30,
    "LOGIN_STATE_TTL_SECONDS": 600,
    "LAUNCH_SESSION_TTL_SECONDS": 8 * 3600,
    # The page credential a launch leaves in its browsing context; renewed while in use.
    "PAGE_CREDENTIAL_TTL_SECONDS": 900,
    "FRAME_ANCESTORS": "",  # extra origins allowed to frame the tool (space-separated)
    "JWKS_CACHE_SECONDS": 3600,
    "JWKS_REFETCH_MIN_SECONDS": 10,
    "HTTP_TIMEOUT_SECONDS": 10,
    "HTTP_MAX_RESPONSE_BYTES": 2 * 1024 * 1024,
    "SYNC_INTERVAL_MINUTES": 60,  # 0: no scheduled syncs
    "SYNC_ON_LAUNCH": 1,  # a learner's launch queues a sync for that learner
    "SYNC_LEASE_SECONDS": 300,  # a running sync not heard of for this long has stopped
    "SYNC_LAUNCH_JOIN_SECONDS": 15,  # a launch joins a running sync that started this recently
    "SYNC_DB_RETRY_SECONDS": 120,  # how long a sync waits for the database to come back
    # Requests per client address (limits-library syntax; "" turns one off).
    "RATE_LIMIT_VERIFY_API": "60 per minute",
    "RATE_LIMIT_VERIFY_PAGE": "20 per minute",
    "RATE_LIMIT_LOGIN": "300 per minute",
    "RATE_LIMIT_REGISTER": "10 per minute",
    "PROXY_HOPS": 0,  # reverse proxies in front of the tool whose X-Forwarded-For is trusted
    "BACKPACK_HTTP_TIMEOUT_SECONDS": 10,
    "BACKPACK_MAX_ATTEMPTS": 6,
    "BACKPACK_BACKOFF_BASE_SECONDS": 60,
    "BACKPACK_BACKOFF_MAX_SECONDS": 6 * 3600,
    "BACKPACK_LEASE_SECONDS": 120,
    "OUTBOX_INTERVAL_SECONDS": 30,  # in-process outbox worker; 0 to leave it to Celery beat
    # The Moodle connector: learners read at once on core web services (Moodle serves
    # concurrent requests), users per page of the companion plugin's course facts, and
    # the time and size allowed for one call (one learner's reports, or one page).
    "MOODLE_WS_WORKERS": 4,
    "MOODLE_PLUGIN_PERPAGE": 500,
    "MOODLE_WS_TIMEOUT_SECONDS": 60,
    "MOODLE_WS_MAX_RESPONSE_BYTES": 64 * 1024 * 1024,
}

# Keys read from the environment as LTI_BADGES_<KEY>; DATABASE_URL also plain.
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int)}


def _config_file(root: Path) -> Path | None:
    explicit = os.environ.get("LTI_BADGES_CONFIG")
    if explicit:
        return Path(explicit)
    candidate = root / "config" / "lti-badges.toml"
    return candidate if candidate.exists() else None


def load_settings(instance_path: Path, root: Path, overrides: dict[str, Any] | None = None) -> dict:
    """Merge defaults < config file < environment < explicit overrides (tests)."""
    settings = dict(DEFAULTS)
    path = _config_file(root)
    if path is not None:
        if not path.exists():
            raise SystemExit(f"LTI_BADGES_CONFIG points at {path}, which does not exist")
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        settings.update({k.upper(): v for k, v in data.items()})
    for key in DEFAULTS:
        value = os.environ.get(f"LTI_BADGES_{key}")
        if value is None and key == "DATABASE_URL":
            value = os.environ.get("DATABASE_URL")
        if value is not None:
            settings[key] = int(value) if key in _INT_KEYS else value
    if overrides:
        settings.update({k.upper(): v for k, v in overrides.items()})

    if settings["ENV"] not in ENVIRONMENTS:
        raise SystemExit(
            f"LTI_BADGES_ENV must be one of {', '.join(ENVIRONMENTS)}, not {settings['ENV']!r}"
        )
    # Whether someone chose the public URL; `serve --port` follows the port when nobody did.
    settings["BASE_URL_EXPLICIT"] = settings["BASE_URL"] != DEFAULTS["BASE_URL"]
    settings["BASE_URL"] = str(settings["BASE_URL"]).rstrip("/")
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance_path / 'lti-badges.sqlite3'}"
    settings["DATABASE_URL"] = _normalise_db_url(settings["DATABASE_URL"])
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance_path)
    return settings


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgres URLs would ask for psycopg2.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: Path) -> str:
    """A secret generated on first start, kept in the instance folder with mode 0600."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
