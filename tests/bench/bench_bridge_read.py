"""Moodle whole-course read benchmark (issue 10): the companion plugin's pages against the
core web services' per-learner calls, for the same answers from one fake Moodle on loopback
(tests/support/fake_moodle.py).

Prints, for LEARNERS learners: calls, seconds, learners read per second for

- baseline (same run): core web services, per-learner calls on the pool (WORKERS at once);
- the plugin's pages (PERPAGE users a page);

and whether both reads gave the same facts. ``--latency-ms`` adds Moodle's own work per call
(the real Moodle 5.0 took a median 1.6 s per completion call and 0.9 s per course completion
for a 500-learner course; 0 measures the tool's side only). Not a timed test.

    .venv/bin/python tests/bench/bench_bridge_read.py [--learners 5000 --workers 4 --perpage 500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lti_badges.net import NetPolicy  # noqa: E402
from lti_badges.sources import Retry  # noqa: E402
from lti_badges.sources.moodle import MoodleClient  # noqa: E402
from tests.support.fake_moodle import TOKEN, FakeMoodle  # noqa: E402


def _signature(facts) -> dict:
    """Learners' facts as comparable tuples (order aside; the ``moodle:page:`` alias only
    core names, see test_sources_moodle_plugin)."""
    out = {}
    for member in facts.learners:
        f = facts.facts_for(member.user_id)
        out[member.user_id] = (
            sorted((g.item_id, g.score, g.maximum, g.time) for g in f.grades),
            sorted((c.activity_id, c.state, c.time) for c in f.completions),
            f.course_completion)
    return out


def _read(fake: FakeMoodle, **kwargs) -> tuple[float, int, object]:
    policy = NetPolicy(allow_insecure=True, timeout=300, max_bytes=512 * 1024 * 1024)
    conn = MoodleClient(fake.site_url, TOKEN, policy, retry=Retry(sleep=lambda s: None),
                           **kwargs)
    before = sum(fake.calls.values())
    t = time.perf_counter()
    facts = conn.read_course(2)
    took = time.perf_counter() - t
    if not facts.complete:
        raise SystemExit(f"the read was incomplete: {facts.reason}")
    return took, sum(fake.calls.values()) - before, facts


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--perpage", type=int, default=500)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    args = ap.parse_args(argv)
    latency = args.latency_ms / 1000
    with FakeMoodle(args.learners, latency=latency) as core, \
            FakeMoodle(args.learners, plugin=True, latency=latency) as plugin:
        core_s, core_calls, core_facts = _read(core, workers=args.workers)
        plugin_s, plugin_calls, plugin_facts = _read(plugin, perpage=args.perpage)
    same = _signature(core_facts) == _signature(plugin_facts)
    n = args.learners
    print(f"Whole-course read of {n} learners (fake Moodle on loopback, "
          f"{args.latency_ms:g} ms of Moodle work per call)", file=out)
    print(f"  baseline, core web services ({args.workers} at once): {core_calls:6d} calls "
          f"{core_s:8.2f} s  {n / core_s:8.0f} learners/s  max in flight {core.max_in_flight}",
          file=out)
    print(f"  companion plugin ({args.perpage} a page):       {plugin_calls:6d} calls "
          f"{plugin_s:8.2f} s  {n / plugin_s:8.0f} learners/s", file=out)
    print(f"  plugin vs core: {core_s / plugin_s:.1f}x faster, "
          f"{core_calls / max(plugin_calls, 1):.0f}x fewer calls; same facts: "
          f"{'yes' if same else 'NO'}", file=out)
    return {"core_s": core_s, "plugin_s": plugin_s, "core_calls": core_calls,
            "plugin_calls": plugin_calls, "same": float(same)}


if __name__ == "__main__":
    main()
