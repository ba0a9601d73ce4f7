"""lti-badges: an LTI 1.3 tool that awards Open Badges from inside LMS courses.

``create_app`` builds the Flask application; nothing runs at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from lti_badges.config import load_settings
from lti_badges.extensions import db, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """The application factory: defaults < config/ file < environment < ``config``."""
    app = Flask(
        __name__,
        instance_path=instance_path or str(Path.cwd() / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).resolve().parent / "static"),
    )
    settings = load_settings(Path(app.instance_path), PROJECT_ROOT, config)
    https = settings["BASE_URL"].startswith("https://")
    app.config.update(
        settings,
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # In an LMS iframe the session cookie is third-party: None+Secure over HTTPS.
        SESSION_COOKIE_NAME="lti_badges_session",
        SESSION_COOKIE_SAMESITE="None" if https else None,
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        TESTING=settings["ENV"] == "test" or bool((config or {}).get("TESTING")),
    )
    if settings["DATABASE_URL"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    import lti_badges.models  # noqa: F401  (register the models with SQLAlchemy)
    from lti_badges.lti.platform_keys import PlatformKeyCache

    app.extensions["lti_badges.platform_keys"] = PlatformKeyCache(
        ttl=float(settings["JWKS_CACHE_SECONDS"]),
        min_refetch=float(settings["JWKS_REFETCH_MIN_SECONDS"]),
    )

    from lti_badges import i18n

    i18n.init_app(app)

    from lti_badges.web import register_web

    register_web(app)

    from lti_badges.cli import register_cli

    register_cli(app)
    return app
