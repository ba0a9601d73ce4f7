"""Syncs on Celery workers over Redis: eight simultaneous syncs of one course, from two
worker processes, give one award per qualifying learner — no duplicate, none missing.
On PostgreSQL (the test command's second pass) the workers really run at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lti_badges.extensions import db
from lti_badges.models import Award, SyncRun
from tests.support.redis_server import RedisServer


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(tmp_path)
    yield server.url
    server.stop()


def _worker(app, redis_url: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_BADGES_")}
    env.update({
        "DATABASE_URL": app.config["DATABASE_URL"],
        "LTI_BADGES_BROKER_URL": redis_url,
        "LTI_BADGES_SECRET_KEY": app.config["SECRET_KEY"],
        "LTI_BADGES_BASE_URL": app.config["BASE_URL"],
        "LTI_BADGES_ENV": "test",
        "LTI_BADGES_CONTEXTS_DIR": app.config["CONTEXTS_DIR"],
        # This checkout's code, whatever the editable install points at.
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    })
    exe = Path(sys.executable).with_name("lti-badges")
    return subprocess.Popen([str(exe), "worker", "--concurrency", "4"], cwd=log.parent, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def test_eight_simultaneous_syncs_on_celery(app, course, redis_url, tmp_path):
    course["peer"].set_result(course["quiz"]["id"], "l2", 10, 10)
    course["peer"].set_result(course["quiz"]["id"], "l3", 8, 10)
    workers = [_worker(app, redis_url, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        app.config["BROKER_URL"] = redis_url
        app.extensions.pop("lti_badges.jobs", None)
        with app.app_context():
            from lti_badges.jobs import CeleryBackend, backend, enqueue_sync

            assert isinstance(backend(), CeleryBackend)
            runs = [enqueue_sync(course["id"], "manual").id for _ in range(8)]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                db.session.expire_all()
                states = [db.session.get(SyncRun, r).status for r in runs]
                if all(s in ("done", "partial", "failed") for s in states):
                    break
                time.sleep(0.3)
            logs = "\n".join(p.read_text() for p in tmp_path.glob("worker*.log"))
            assert states == ["done"] * 8, (states, logs[-3000:])
            subs = sorted(a.person.sub for a in db.session.scalars(db.select(Award)))
            assert subs == ["l1", "l2", "l3"], logs[-3000:]
            # Both worker processes took part.
            assert logs.count("succeeded") >= 8 or "lti_badges.sync_course" in logs
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
