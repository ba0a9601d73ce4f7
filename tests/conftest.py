"""Fixtures: a fresh app and database per test, on SQLite or PostgreSQL.

``LTI_BADGES_TEST_DATABASE_URL`` (set by scripts/test for the PostgreSQL pass)
selects PostgreSQL: the schema is migrated once per run and every table is
emptied before each test. Otherwise each test gets its own SQLite file, copied
from one migrated template.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lti_badges import create_app
from lti_badges.extensions import db
from tests.peer import PlatformPeer
from tests.support import page_scripts
from tests.support.servers import ServerThread, free_port

# The peer's "browser" runs the tool's launch page script (static/launch.js) as Chromium would.
PlatformPeer.page_scripts = staticmethod(page_scripts.run)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
PG_URL = os.environ.get("LTI_BADGES_TEST_DATABASE_URL")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_report_header(config: pytest.Config) -> str:
    return f"lti-badges database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing (looked at {SHARED}); the tests replay its Moodle data")
    return SHARED


def _base_config(tmp: Path, url: str, base_url: str) -> dict:
    return {
        "ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BASE_URL": base_url,
        "CONTEXTS_DIR": str(SHARED / "standards" / "contexts"),
        "JWKS_REFETCH_MIN_SECONDS": 0,
        # No test is throttled by accident; tests/integration/test_rate_limits.py sets its own.
        **dict.fromkeys(("RATE_LIMIT_VERIFY_API", "RATE_LIMIT_VERIFY_PAGE", "RATE_LIMIT_LOGIN",
                         "RATE_LIMIT_REGISTER"), "100000 per minute"),
    }


def _migrate(app) -> None:
    from lti_badges.cli import init_database

    with app.app_context():
        init_database()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    if PG_URL:
        return None
    tmp = tmp_path_factory.mktemp("template")
    path = tmp / "template.sqlite3"
    app = create_app(_base_config(tmp, f"sqlite:///{path}", "http://127.0.0.1:1"),
                     instance_path=str(tmp))
    _migrate(app)
    with app.app_context():
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> bool:
    if not PG_URL:
        return False
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = create_app(_base_config(Path("/tmp"), PG_URL, "http://127.0.0.1:1"),
                     instance_path="/tmp/lti-badges-pg-instance")
    _migrate(app)
    with app.app_context():
        db.engine.dispose()
    return True


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path | None, pg_migrated: bool) -> str:
    if PG_URL:
        engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                "AND tablename <> 'alembic_version'"))]
            if tables:
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                     + " RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


class ToolServer:
    """The tool under test, served over HTTP on loopback."""

    def __init__(self, app, port: int):
        self.app = app
        self.port = port
        self.base_url = app.config["BASE_URL"]
        self._thread = ServerThread(app, port)

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> ToolServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()


@pytest.fixture
def app(tmp_path: Path, database_url: str):
    port = free_port()
    app = create_app(_base_config(tmp_path, database_url, f"http://127.0.0.1:{port}"),
                     instance_path=str(tmp_path / "instance"))
    app.config["_TEST_PORT"] = port
    with app.app_context():
        from lti_badges.lti import keys

        keys.ensure_key(app.config["SECRET_KEY"])
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def tool(app) -> Iterator[ToolServer]:
    server = ToolServer(app, app.config["_TEST_PORT"]).start()
    yield server
    server.stop()
