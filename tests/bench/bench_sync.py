"""Sync benchmark (issue 4): a course of LEARNERS x ITEMS line items x BADGES rule-bound badges,
served by the platform peer over loopback (in its own process).

Prints: first-sync time, no-change re-sync time, peak RSS of this process (the tool),
learner-rule evaluations per second, and the share of time spent fetching, evaluating and
issuing — with a baseline measured in the same run: the time to fetch the same data
with a bare HTTP loop (the floor any sync pays). Not a timed test.

    .venv/bin/python tests/bench/bench_sync.py [--learners 5000 --items 40 --badges 15]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lti_badges import create_app  # noqa: E402
from lti_badges.extensions import db  # noqa: E402
from lti_badges.services import catalogue  # noqa: E402
from tests.support.servers import ServerThread, free_port  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=5000)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--badges", type=int, default=15)
    ap.add_argument("--database-url", default=os.environ.get("LTI_BADGES_TEST_DATABASE_URL"))
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="lti-badges-bench-"))
    port = free_port()
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"ENV": "test", "DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40,
                      "BASE_URL": f"http://127.0.0.1:{port}", "SYNC_ON_LAUNCH": 0,
                      "CONTEXTS_DIR": str(ROOT.parent / "shared" / "standards" / "contexts")},
                     instance_path=str(tmp / "instance"))
    from lti_badges.cli import init_database

    with app.app_context():
        if args.database_url:
            db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        init_database()
    server = ServerThread(app, port).start()
    t0 = time.perf_counter()
    peer = subprocess.Popen([sys.executable, "-m", "tests.bench.peer_process",
                             "--learners", str(args.learners), "--items", str(args.items),
                             "--tool", f"http://127.0.0.1:{port}"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = json.loads(peer.stdout.readline())
    setup = time.perf_counter() - t0
    try:
        run(app, info, args, setup)
    finally:
        peer.stdin.close()
        peer.wait(timeout=30)
        server.stop()


def run(app, info, args, setup: float) -> None:
    from lti_badges import awarding
    from lti_badges.models import Course, Deployment, Platform

    with app.app_context():
        platform = Platform(issuer=info["issuer"], client_id="bench-tool", status="active",
                            auth_login_url=info["auth"], token_url=info["token"],
                            jwks_url=info["jwks"])
        platform.deployments.append(Deployment(deployment_id="d1"))
        db.session.add(platform)
        db.session.flush()
        course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id,
                        context_id="c1", title="Large course", settings={},
                        services={"nrps_url": info["nrps"], "ags_lineitems": info["lineitems"],
                                  "ags_scopes": [
                                      "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                      "https://purl.imsglobal.org/spec/lti-ags/scope/"
                                      "result.readonly"]})
        db.session.add(course)
        issuer = catalogue.create_issuer("Bench U", "https://bench.example", "b@bench.example")
        for k in range(args.badges):
            a, b = k % args.items, (k * 7 + 3) % args.items
            rule = ({"grade": {"item": f"Item {a}", "min_percent": 90}} if k % 3 == 0 else
                    {"all": [{"grade": {"item": f"Item {a}", "min_percent": 60}},
                             {"grade": {"item": f"Item {b}", "min_points": 70}}]} if k % 3 == 1
                    else {"at_least": 2, "of": [{"grade": {"item": f"Item {(a + d) % args.items}",
                                                           "min_percent": 75}}
                                                for d in range(4)]})
            catalogue.create_badge(issuer, f"Badge {k}", "d", "c", course=course, rule=rule)
        db.session.commit()
        cid = course.id

        # Baseline in the same run: fetch the same pages with a bare HTTP loop.
        from lti_badges.platform_services import access_token
        from lti_badges.sources.lti import LtiSource  # noqa: F401

        token = access_token(platform, [
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"]).value
        t = time.perf_counter()
        bare_bytes = _bare_fetch(info, token)
        bare = time.perf_counter() - t

        t = time.perf_counter()
        first = awarding.sync_course(cid, trigger="cli")
        first_s = time.perf_counter() - t
        rss_after_first = rss_mb()
        t = time.perf_counter()
        again = awarding.sync_course(cid, trigger="cli")
        again_s = time.perf_counter() - t

    evals = args.learners * args.badges
    tm = first.timings
    total = sum(tm.values()) or 1.0
    print(f"lti-badges sync benchmark — {args.learners} learners x {args.items} line items x "
          f"{args.badges} badges, peer over loopback in its own process, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"(peer set-up {setup:.1f} s, not counted)")
    print(f"baseline: bare HTTP fetch of the same pages     {bare:8.2f} s  "
          f"({bare_bytes / 1e6:.1f} MB)")
    print(f"first sync                                      {first_s:8.2f} s  "
          f"(target <= 60 s)   status {first.status}, {len(first.awarded)} awarded")
    print(f"no-change re-sync                               {again_s:8.2f} s  "
          f"(target <= 10 s)   unchanged={again.unchanged}, {len(again.awarded)} awarded")
    print(f"peak RSS of the tool process                    {rss_after_first:8.0f} MB "
          f"(target <= 300 MB)")
    if tm.get("evaluate"):
        print(f"learner-rule evaluations per second            {evals / tm['evaluate']:10,.0f}")
    for phase in ("fetch", "roster", "evaluate", "issue"):
        print(f"  {phase:<10} {tm.get(phase, 0.0):8.2f} s  {100 * tm.get(phase, 0.0) / total:5.1f} %")
    print(f"first sync vs bare fetch: {first_s / bare:.1f}x; re-sync vs bare fetch: "
          f"{again_s / bare:.1f}x")


def _bare_fetch(info, token: str) -> int:
    s = requests.Session()
    total = 0
    url = info["nrps"]
    while url:
        r = s.get(url, headers={"Authorization": "Bearer " + token,
                                "Accept": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"})
        total += len(r.content)
        url = r.links.get("next", {}).get("url")
    url, items = info["lineitems"], []
    while url:
        r = s.get(url, headers={"Authorization": "Bearer " + token,
                                "Accept": "application/vnd.ims.lis.v2.lineitemcontainer+json"})
        total += len(r.content)
        items += r.json()
        url = r.links.get("next", {}).get("url")
    for item in items:
        base, _, query = item["id"].partition("?")
        r = s.get(base + "/results" + ("?" + query if query else ""),
                  headers={"Authorization": "Bearer " + token,
                           "Accept": "application/vnd.ims.lis.v2.resultcontainer+json"})
        total += len(r.content)
    return total


if __name__ == "__main__":
    main()
