"""A sync survives its database: PostgreSQL restarted in the middle of `lti-badges sync`
(fast: connections are told to go; immediate: the server dies) — the command reconnects,
redoes the batch in flight carefully, ends `done` with exit 0 and every award exactly once.

The test starts its own PostgreSQL cluster (it restarts it; the suite's database must not
go away under other tests), as scripts/test does, on a free 127.0.0.1 port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from lti_badges import create_app
from lti_badges.extensions import db
from lti_badges.models import Course
from tests.conftest import ToolServer, _base_config, _migrate
from tests.integration.conftest import register
from tests.peer import PlatformPeer
from tests.support.postgres import PrivateCluster, pg_bin
from tests.support.servers import free_port

pytestmark = pytest.mark.skipif(
    pg_bin() is None, reason="PostgreSQL binaries are missing (scripts/test installs them)")

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 160  # four batches of 50: long enough to restart the database mid-way
QUALIFY = {f"u{i:03d}" for i in range(LEARNERS) if i % 4 != 3}


@pytest.fixture
def cluster():
    pg = PrivateCluster()
    yield pg
    pg.stop()


@pytest.fixture
def world(tmp_path, cluster):
    port = free_port()
    app = create_app(_base_config(tmp_path, cluster.url, f"http://127.0.0.1:{port}"),
                     instance_path=str(tmp_path / "instance"))
    _migrate(app)
    with app.app_context():
        from lti_badges.lti import keys

        keys.ensure_key(app.config["SECRET_KEY"])
        db.session.commit()
    tool = ToolServer(app, port).start()
    with PlatformPeer(name="A") as peer:
        register(app, tool, peer)
        peer.add_course("c1", title="Chimie", label="CHM")
        peer.add_user("t1", name="Teo", email="t1@example.test")
        peer.enroll("c1", "t1", roles=["Instructor"])
        quiz = peer.add_line_item("c1", "Quiz 1", 10)
        for i in range(LEARNERS):
            uid = f"u{i:03d}"
            peer.add_user(uid, name=f"Learner {i}", email=f"{uid}@example.test")
            peer.enroll("c1", uid, roles=["Learner"])
            peer.set_result(quiz["id"], uid, 9 if uid in QUALIFY else 5, 10)
        assert peer.launch(peer.new_browser(), "t1", "c1").status_code == 200
        runner = app.test_cli_runner()
        with app.app_context():
            cid = db.session.scalar(db.select(Course.id).filter_by(context_id="c1"))
        issuer = json.loads(runner.invoke(args=[
            "issuers", "add", "--name", "Cégep", "--url", "https://cegep.example", "--email",
            "b@cegep.example", "--json"]).stdout)
        out = runner.invoke(args=[
            "badges", "add", "--issuer", issuer["id"], "--name", "Quiz 1", "--description", "d",
            "--criteria-text", "c", "--course", str(cid),
            "--rule", '{"grade": {"item": "Quiz 1", "min_percent": 80}}', "--json"])
        assert out.exit_code == 0, out.output
        yield {"app": app, "cid": cid, "tmp": tmp_path}
    tool.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _cli_sync(app, cid: int, cwd: Path, **settings: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_BADGES_")}
    env.update({"DATABASE_URL": app.config["DATABASE_URL"],
                "LTI_BADGES_SECRET_KEY": app.config["SECRET_KEY"],
                "LTI_BADGES_BASE_URL": app.config["BASE_URL"], "LTI_BADGES_ENV": "test",
                "LTI_BADGES_CONTEXTS_DIR": app.config["CONTEXTS_DIR"],
                **{f"LTI_BADGES_{k}": v for k, v in settings.items()},
                # This checkout's code, whatever the editable install points at.
                "PYTHONPATH": str(ROOT)})
    exe = Path(sys.executable).with_name("lti-badges")
    return subprocess.Popen([str(exe), "sync", str(cid), "--json"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _progress(engine: sa.Engine) -> tuple[str, int, int] | None:
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT status, done, total FROM sync_runs "
                                       "ORDER BY id DESC LIMIT 1")).first()
            return tuple(row) if row else None  # type: ignore[return-value]
    except sa.exc.OperationalError:
        return None


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_sync_survives_a_postgresql_restart(world, cluster, mode):
    app, cid = world["app"], world["cid"]
    engine = sa.create_engine(cluster.url.replace("postgresql://", "postgresql+psycopg://"),
                              poolclass=sa.pool.NullPool)
    proc = _cli_sync(app, cid, world["tmp"])
    try:
        # Wait until the first batch of awards is committed, and more are to come.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = _progress(engine)
            if state and state[0] == "running" and 0 < state[1] < state[2]:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        else:
            raise AssertionError(f"the sync never got going: {_progress(engine)}")
        cluster.restart(mode)
        mid = _progress(engine)
        assert mid is not None and mid[0] == "running", \
            f"the sync finished before the restart: make the course bigger ({mid})"
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in stderr and "PendingRollbackError" not in stderr, stderr[-3000:]
    assert proc.returncode == 0, (stdout, stderr[-3000:])
    result = json.loads(stdout)
    assert result["status"] == "done" and result["errors"] == [], result
    assert sorted(a["person_sub"] for a in result["awarded"]) == sorted(QUALIFY)
    with engine.connect() as conn:
        per_person = dict(conn.execute(sa.text(
            "SELECT p.sub, count(*) FROM awards a JOIN people p ON p.id = a.person_id "
            "GROUP BY p.sub")).all())
        run = conn.execute(sa.text("SELECT status, awarded FROM sync_runs "
                                   "ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()
    assert per_person == {sub: 1 for sub in QUALIFY}  # exactly once, none missing
    assert tuple(run) == ("done", len(QUALIFY))


def test_a_database_that_stays_down_fails_the_sync_in_one_line(world, cluster):
    app, cid = world["app"], world["cid"]
    engine = sa.create_engine(cluster.url.replace("postgresql://", "postgresql+psycopg://"),
                              poolclass=sa.pool.NullPool)
    proc = _cli_sync(app, cid, world["tmp"], SYNC_DB_RETRY_SECONDS="4")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = _progress(engine)
            if state and state[0] == "running" and 0 < state[1] < state[2]:
                break
            time.sleep(0.02)
        cluster._ctl("-m", "fast", "stop")  # and it does not come back
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    assert proc.returncode == 1
    assert "Traceback" not in stderr, stderr[-3000:]
    reason = [line for line in stderr.splitlines() if line.startswith(f"course {cid}:")]
    assert len(reason) == 1 and "database could not be reached" in reason[0], stderr[-2000:]
    assert json.loads(stdout)["status"] == "failed"
