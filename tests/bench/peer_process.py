"""A platform peer with a large course, in its own process (so the benchmark measures the
tool's memory alone). Prints one JSON line with its URLs, then serves until stdin closes."""

from __future__ import annotations

import argparse
import json
import random
import sys

from tests.peer import PlatformPeer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=5000)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--tool", required=True, help="the tool's base URL")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    peer = PlatformPeer(name="bench").start()
    peer.register_tool("bench-tool", ["d1"], args.tool + "/lti/login", args.tool + "/lti/launch",
                       args.tool + "/lti/jwks")
    peer.add_course("c1", title="Large course")
    peer.add_user("t1", name="Teacher", email="t1@example.test")
    peer.enroll("c1", "t1", roles=["Instructor"])
    for i in range(args.learners):
        uid = f"u{i}"
        peer.add_user(uid, name=f"Learner {i}", email=f"{uid}@example.test")
        peer.enroll("c1", uid, roles=["Learner"])
    for j in range(args.items):
        item = peer.add_line_item("c1", f"Item {j}", 100)
        for i in range(args.learners):
            if rng.random() < 0.9:  # some learners have no result yet
                peer.set_result(item["id"], f"u{i}", rng.randint(0, 100), 100)
    print(json.dumps({"issuer": peer.issuer, "auth": peer.auth_login_url, "token": peer.token_url,
                      "jwks": peer.jwks_url, "nrps": peer.memberships_url("c1") + "?limit=1000",
                      "lineitems": peer.lineitems_url("c1") + "?limit=20"}), flush=True)
    sys.stdin.read()  # serve until the benchmark closes our stdin
    peer.stop()


if __name__ == "__main__":
    main()
