"""Notice → award latency benchmark (issue 10): how long after Moodle's companion plugin posts
a signed notice of a grade does the learner hold the badge, in-process jobs, SQLite.

Set-up, all on loopback: the independent LTI platform peer (its key signs the notices, as
Moodle's LTI key does), the recorded Moodle 5.0 web services replayed (tests/unit/sources/
replay.py: student1, sub "4", has Essay 1 at 85 %), and the tool with its default in-process
job queue. Each round adds one badge bound to the course (rule: Essay 1 ≥ 30 %), then

- notice: POST /lti/notices for student1 and wait until that learner holds the new badge;
- baseline (same run): what the award costs without notices — a whole-course sync
  (``enqueue_sync``, the Sync now button) until the same kind of new badge is held.

Prints median and p95 of both and their ratio. Not a timed test: figures only.

    .venv/bin/python tests/bench/bench_notices.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lti_badges import create_app  # noqa: E402
from lti_badges.extensions import db  # noqa: E402
from lti_badges.services import catalogue  # noqa: E402
from tests.peer.platform import PlatformPeer  # noqa: E402
from tests.support.bridge import moodle_course, notice_claims, sign_notice  # noqa: E402
from tests.support.servers import free_port  # noqa: E402
from tests.unit.sources.replay import WS_TOKEN, MoodleWsReplay  # noqa: E402

SHARED = ROOT.parent / "shared"
RULE = {"grade": {"item": "moodle:cm:1", "min_percent": 30}}


def _app(tmp: Path):
    from lti_badges.cli import init_database
    from lti_badges.lti import keys

    app = create_app({
        "ENV": "test", "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "BASE_URL": f"http://127.0.0.1:{free_port()}",
        "CONTEXTS_DIR": str(SHARED / "standards" / "contexts"), "JWKS_REFETCH_MIN_SECONDS": 0,
        "SYNC_ON_LAUNCH": 0, "SYNC_INTERVAL_MINUTES": 0,
    }, instance_path=str(tmp / "instance"))
    with app.app_context():
        init_database()
        keys.ensure_key(app.config["SECRET_KEY"])
        db.session.commit()
    return app


def _new_badge(app, issuer_id: int, course_id: int, n: int) -> int:
    from lti_badges.models import Course, Issuer

    with app.app_context():
        badge = catalogue.create_badge(
            db.session.get(Issuer, issuer_id), name=f"Essay 1, round {n}", description="Essay 1 at 30 %",
            criteria_text="Essay 1 at 30 % or more", course=db.session.get(Course, course_id),
            rule=RULE)
        db.session.commit()
        return badge.id


def _held(app, badge_id: int) -> bool:
    from lti_badges.models import Award

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Award).where(
            Award.badge_id == badge_id)) > 0


def _wait_held(app, badge_id: int, started: float, timeout: float = 60.0) -> float:
    while not _held(app, badge_id):
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"badge {badge_id} was not awarded within {timeout:g} s")
        time.sleep(0.002)
    return time.perf_counter() - started


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args(argv)
    notice_s: list[float] = []
    sync_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, PlatformPeer(name="A") as peer, \
            MoodleWsReplay() as moodle:
        app = _app(Path(tmp))
        ids = moodle_course(app, issuer=peer.issuer, jwks_url=peer.jwks_url,
                            site_url=moodle.site_url, token=WS_TOKEN)

        with app.app_context():
            issuer_id = catalogue.create_issuer(name="Pilot", url="https://pilot.example",
                                                email="badges@pilot.example").id
            db.session.commit()
        client = app.test_client()
        for n in range(args.rounds):
            badge = _new_badge(app, issuer_id, ids["course"], 2 * n)
            token = sign_notice(peer, notice_claims(peer.issuer, sub="4"))
            started = time.perf_counter()
            resp = client.post("/lti/notices", json={"jwt": token})
            if resp.status_code != 202:
                raise SystemExit(f"notice refused: {resp.status_code} {resp.get_json()}")
            notice_s.append(_wait_held(app, badge, started))

            badge = _new_badge(app, issuer_id, ids["course"], 2 * n + 1)
            started = time.perf_counter()
            with app.app_context():
                from lti_badges.jobs import enqueue_sync

                enqueue_sync(ids["course"], "manual")
            sync_s.append(_wait_held(app, badge, started))
            time.sleep(0.05)  # let the run finish before the next round's notice
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    figures = {"notice_median_s": statistics.median(notice_s), "notice_p95_s": _p95(notice_s),
               "sync_median_s": statistics.median(sync_s), "sync_p95_s": _p95(sync_s)}
    print(f"Grade → badge latency over {args.rounds} rounds (in-process jobs, SQLite, "
          "recorded Moodle 5.0 web services on loopback)", file=out)
    print(f"  baseline, whole-course sync: median {figures['sync_median_s'] * 1000:7.1f} ms"
          f"  p95 {figures['sync_p95_s'] * 1000:7.1f} ms", file=out)
    print(f"  signed notice, one learner:  median {figures['notice_median_s'] * 1000:7.1f} ms"
          f"  p95 {figures['notice_p95_s'] * 1000:7.1f} ms", file=out)
    print(f"  notice vs sync: {figures['sync_median_s'] / figures['notice_median_s']:.1f}x "
          "(median); without notices the award also waits for the next sync to start", file=out)
    return figures


if __name__ == "__main__":
    main()
