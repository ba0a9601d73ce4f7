"""The LTI fact source (NRPS + AGS) over real HTTP.

Two counterparts:

- the independent platform peer (tests/peer), reached through a small fault-injecting
  proxy defined here (429s, 5xx, slow answers), with access tokens from the peer's own
  token endpoint (a client assertion signed by a test tool key, via the tool's
  ``service_token.fetch_token``);
- the recorded Moodle 5.0 NRPS and AGS answers (../shared/moodle/lti-services), replayed
  byte for byte: typographic-quote ``Link`` headers with ``&amp;``, ``rel="last"``
  pointing past the end, ``results?limit=`` failing with an HTML 404.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from lti_badges.criteria.facts import AGS
from lti_badges.lti import ags, nrps
from lti_badges.lti.service_token import fetch_token
from lti_badges.net import NetPolicy
from lti_badges.sources import Retry
from lti_badges.sources.lti import LtiSource
from tests.peer import PlatformPeer
from tests.peer.keys import SigningKey
from tests.support.servers import free_port
from tests.unit.sources.replay import ExactReplay

POLICY = NetPolicy(allow_insecure=True, timeout=5)
ALL_SCOPES = [nrps.SCOPE, ags.SCOPE_LINEITEM, ags.SCOPE_LINEITEM_READONLY,
              ags.SCOPE_RESULT_READONLY, ags.SCOPE_SCORE]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Fault:
    path_part: str
    statuses: list[int]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FaultProxy:
    """Forwards to the peer, rewriting its host to ours; may answer with a fault instead.

    Also serves the test tool's JWKS at ``/tool-jwks`` (the peer fetches it to check the
    client assertion).
    """

    def __init__(self, peer: PlatformPeer, tool_key: SigningKey) -> None:
        self.peer = peer
        self.tool_key = tool_key
        self.port = free_port()
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._http = requests.Session()
        self._http.trust_env = False
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True,
                                   request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, peer_url: str) -> str:
        return peer_url.replace(self.peer.issuer, self.base)

    def fail(self, path_part: str, statuses: list[int], headers: dict[str, str] | None = None,
             delay: float = 0.0) -> None:
        self.faults.append(Fault(path_part, list(statuses), dict(headers or {}), delay))

    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path_part in path and fault.statuses:
                    return fault
        return None

    def _wsgi(self, environ, start_response):
        req = Request(environ)
        query = environ.get("QUERY_STRING", "")
        self.log.append((req.method, req.path, query))
        if req.path == "/tool-jwks":
            jwk = {**self.tool_key.public_jwk(), "kid": self.tool_key.kid}
            return Response(json.dumps({"keys": [jwk]}), mimetype="application/json")(
                environ, start_response)
        fault = self._fault(req.path)
        if fault is not None:
            with self._lock:
                status = fault.statuses.pop(0)
            if fault.delay:
                time.sleep(fault.delay)
            if status:
                return Response("injected", status=status, headers=fault.headers)(
                    environ, start_response)
        upstream = self._http.request(
            req.method, self.peer.issuer + req.path + (f"?{query}" if query else ""),
            headers={k: v for k, v in req.headers.items()
                     if k in ("Authorization", "Accept", "Content-Type")},
            data=req.get_data(), allow_redirects=False, timeout=10)
        host = self.peer.issuer
        body = upstream.content.replace(host.encode(), self.base.encode())
        headers = [(k, v.replace(host, self.base)) for k, v in upstream.headers.items()
                   if k.lower() not in ("content-length", "connection", "content-encoding",
                                        "transfer-encoding", "date", "server")]
        return Response(body, status=upstream.status_code, headers=headers)(environ, start_response)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class PeerTokens:
    """``token_for`` against the peer's token endpoint, caching per scope set like TokenCache."""

    def __init__(self, peer: PlatformPeer, client_id: str, key: SigningKey,
                 ask_all: bool = False) -> None:
        self.platform = SimpleNamespace(client_id=client_id, auth_audience=None,
                                        token_url=peer.token_url)
        self.key = key
        self.ask_all = ask_all  # one token for every service, as a caller might cache it
        self.asked: list[tuple[str, ...]] = []
        self._cache: dict[frozenset[str], Any] = {}

    def __call__(self, scopes):
        self.asked.append(tuple(scopes))
        if self.ask_all:
            scopes = ALL_SCOPES
        wanted = frozenset(scopes)
        if wanted not in self._cache:
            self._cache[wanted] = fetch_token(self.platform, list(scopes), self.key, POLICY)
        return self._cache[wanted]


@dataclass
class Lms:
    peer: PlatformPeer
    proxy: FaultProxy
    tokens: PeerTokens
    sleeps: list[float]

    def source(self, *, nrps_limit: int | None = None, lineitems_limit: int | None = None,
               timeout: float = 5, **kwargs: Any) -> LtiSource:
        nrps_url = self.proxy.url(self.peer.memberships_url("c1"))
        if nrps_limit:
            nrps_url += f"?limit={nrps_limit}"  # NRPS 2.0 §2.4: the platform pages with Link
        lineitems_url = self.proxy.url(self.peer.lineitems_url("c1"))
        if lineitems_limit:
            lineitems_url += f"?limit={lineitems_limit}"
        kwargs.setdefault("token_for", self.tokens)
        return LtiSource(nrps_url=nrps_url, lineitems_url=lineitems_url,
                         policy=NetPolicy(allow_insecure=True, timeout=timeout),
                         retry=Retry(sleep=self.sleeps.append), **kwargs)

    def requests_to(self, part: str) -> list[tuple[str, str, str]]:
        return [r for r in self.proxy.log if part in r[1]]


@pytest.fixture(scope="module")
def tool_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def lms(tool_key):
    with PlatformPeer(name="src") as peer, FaultProxy(peer, tool_key) as proxy:
        peer.register_tool("src-tool", ["d1"], proxy.base + "/login", proxy.base + "/launch",
                           proxy.base + "/tool-jwks")
        peer.add_course("c1", title="Biologie 101", label="BIO101")
        peer.add_user("teacher", name="Tom Teacher", email="tom@example.test")
        peer.enroll("c1", "teacher", roles=["Instructor"])
        for i in range(1, 8):
            peer.add_user(f"s{i}", given_name="Student", family_name=str(i),
                          email=f"s{i}@example.test")
            peer.enroll("c1", f"s{i}", roles=["Learner"],
                        status="Inactive" if i == 7 else "Active")
        yield Lms(peer, proxy, PeerTokens(peer, "src-tool", tool_key), [])


# ---------------------------------------------------------------------- the peer
def test_roster_every_page_with_inactive_members(lms):
    facts = lms.source(nrps_limit=3).read()
    assert facts.roster_read and facts.complete, facts.reason
    assert len(facts.roster) == 8
    assert len(lms.requests_to("/memberships")) == 3  # 8 members, pages of 3
    assert {m.user_id for m in facts.learners} == {f"s{i}" for i in range(1, 7)}
    assert [m.user_id for m in facts.left] == ["s7"]
    s1 = facts.member("s1")
    assert (s1.name, s1.email, s1.given_name) == ("Student 1", "s1@example.test", "Student")
    assert not facts.member("teacher").awardable
    # Every learner has facts stamped with the sources read, even with no grade yet.
    assert facts.facts_for("s3").sources_read == {AGS}
    assert lms.tokens.asked[0] == (nrps.SCOPE,)


def test_line_items_and_results_become_grade_facts(lms):
    peer = lms.peer
    quiz = peer.add_line_item("c1", "Quiz 1", 10, tag="quiz", resource_id="quiz-1")
    essay = peer.add_line_item("c1", "Essay", 20)
    peer.add_line_item("c1", "Not graded yet", 5)
    peer.set_result(quiz["id"], "s1", 8, 10, timestamp="2026-11-20T10:00:00+00:00")
    peer.set_result(quiz["id"], "s2", 4, 10)
    peer.set_result(essay["id"], "s1", 15)
    peer.set_result(essay["id"], "s3", None)  # a result with no score is no grade
    progress: list[tuple[int, int]] = []
    facts = lms.source(lineitems_limit=2).read(progress=lambda d, t: progress.append((d, t)))

    assert facts.complete, facts.reason
    assert facts.sources_read == {AGS}
    by_label = {g.label: g for g in facts.facts_for("s1").grades}
    q = by_label["Quiz 1"]
    assert q.item_id == lms.proxy.url(quiz["id"])
    assert (q.score, q.maximum, q.tag, q.aliases, q.source) == (8, 10, "quiz", ("quiz-1",), AGS)
    assert q.time == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert (by_label["Essay"].score, by_label["Essay"].maximum) == (15, 20)
    assert [g.score for g in facts.facts_for("s2").grades] == [4]
    assert facts.facts_for("s3").grades == ()
    assert {i.label for i in facts.items} == {"Quiz 1", "Essay", "Not graded yet"}
    assert {i.score_maximum for i in facts.items} == {10, 20, 5}
    assert progress == [(1, 3), (2, 3), (3, 3)]
    # Line items paged (limit=2: two pages); results never asked with limit.
    assert len(lms.requests_to("/lineitems")) - len(lms.requests_to("/results")) == 2
    assert all("limit" not in q for _, _, q in lms.requests_to("/results"))
    assert (ags.SCOPE_LINEITEM_READONLY,) in lms.tokens.asked
    assert (ags.SCOPE_RESULT_READONLY,) in lms.tokens.asked


def test_429_is_retried_after_the_time_it_asks(lms):
    item = lms.peer.add_line_item("c1", "Quiz", 10)
    lms.peer.set_result(item["id"], "s1", 9)
    lms.proxy.fail("/results", [429], headers={"Retry-After": "3"})
    facts = lms.source().read()
    assert facts.complete, facts.reason
    assert lms.sleeps == [3.0]
    assert [g.score for g in facts.facts_for("s1").grades] == [9]


def test_500_three_times_then_success(lms):
    item = lms.peer.add_line_item("c1", "Quiz", 10)
    lms.peer.set_result(item["id"], "s2", 7)
    lms.proxy.fail("/memberships", [500, 502, 503])
    facts = lms.source().read()
    assert facts.complete, facts.reason
    assert lms.sleeps == [0.5, 1.0, 2.0]  # exponential backoff
    assert len(lms.requests_to("/memberships")) == 4
    assert [g.score for g in facts.facts_for("s2").grades] == [7]


def test_persistent_500_makes_the_read_incomplete(lms):
    item = lms.peer.add_line_item("c1", "Quiz", 10)
    lms.peer.add_line_item("c1", "Quiz 2", 10)
    lms.peer.set_result(item["id"], "s1", 9)
    lms.proxy.fail("/results", [500] * 10)
    facts = lms.source().read()
    assert not facts.complete
    assert AGS not in facts.sources_read
    assert "Results of Quiz" in facts.reason and "after 4 tries" in facts.reason
    assert "HTTP 500" in facts.reason
    assert "1 other line item(s) were not read" in facts.reason
    assert len(lms.requests_to("/results")) == 4  # bounded, and no more after the failure
    assert {i.label for i in facts.items} == {"Quiz", "Quiz 2"}  # still shown to the builder
    assert facts.roster_read and len(facts.learners) == 6  # the roster was still read
    assert facts.facts_for("s1").sources_read == frozenset()


def test_a_timeout_is_retried(lms):
    lms.proxy.fail("/memberships", [0], delay=0.6)  # 0: no fault status, just slow
    facts = lms.source(timeout=0.3).read()
    assert facts.complete, facts.reason
    assert lms.sleeps == [0.5]


def test_401_is_not_retried(lms):
    facts = lms.source(token_for=lambda scopes: "not-a-token").read()
    assert not facts.complete and not facts.roster_read
    assert "refused the tool's access token (HTTP 401" in facts.reason
    assert lms.sleeps == []


def test_granted_scopes_are_checked_before_use(lms):
    """The peer, like Moodle, drops scopes the tool may not have and grants the rest."""
    lms.peer.register_tool("nrps-only", ["d1"], lms.proxy.base + "/login",
                           lms.proxy.base + "/launch", lms.proxy.base + "/tool-jwks",
                           scopes=[nrps.SCOPE])
    tokens = PeerTokens(lms.peer, "nrps-only", lms.tokens.key, ask_all=True)
    facts = lms.source(token_for=tokens).read()
    assert facts.roster_read
    assert not facts.complete and AGS not in facts.sources_read
    assert "did not grant the tool the line item service scope" in facts.reason
    assert lms.requests_to("/lineitems") == []  # never called without the scope

    # Asked for the AGS scope alone, the token endpoint refuses: reported, not raised.
    facts = lms.source(token_for=PeerTokens(lms.peer, "nrps-only", lms.tokens.key)).read()
    assert "No access token for the line item service" in facts.reason
    assert "invalid_scope" in facts.reason


def test_offered_scopes_pick_what_to_ask(lms):
    lms.source(ags_scopes=[ags.SCOPE_LINEITEM, ags.SCOPE_RESULT_READONLY]).read()
    assert (ags.SCOPE_LINEITEM,) in lms.tokens.asked
    assert (ags.SCOPE_LINEITEM_READONLY,) not in lms.tokens.asked


def test_without_nrps_there_is_no_roster(lms):
    source = lms.source()
    source.nrps_url = None
    facts = source.read()
    assert not facts.roster_read and not facts.complete
    assert facts.sources_read == {AGS}
    assert "roster was not read" in facts.reason


# ---------------------------------------------------------------------- recorded Moodle
AGS_DIR = "lti-services/ags/"
NRPS_DIR = "lti-services/nrps/"
MOODLE_AGS = [AGS_DIR + n + ".json" for n in (
    "ags-lineitems-all-before-create", "ags-lineitems-all-after-create",  # later wins
    "ags-lineitems-limit1-page1", "ags-lineitems-limit1-page2",
    "ags-lineitems-limit1-follow-rel-last",
    "ags-results-before-score", "ags-results-after-score",  # later wins
    "ags-results-created-item", "ags-results-limit1-page1",
)] + [NRPS_DIR + n + ".json" for n in (
    "nrps-all-members", "nrps-limit1-page1", "nrps-limit1-page2", "nrps-limit1-page3")]
M = "http://127.0.0.1:8080/mod/lti/services.php"


@dataclass
class Granted:
    value: str
    scopes: frozenset[str] = frozenset(ALL_SCOPES)


def _moodle_source(replay: ExactReplay, lineitems: str, memberships: str,
                   scopes=frozenset(ALL_SCOPES)) -> LtiSource:
    return LtiSource(token_for=lambda s: Granted("recorded-token", scopes), policy=POLICY,
                     nrps_url=replay.url(memberships), lineitems_url=replay.url(lineitems),
                     retry=Retry(sleep=lambda s: None))


def test_moodle_recordings_every_page_despite_its_link_headers():
    with ExactReplay(MOODLE_AGS) as replay:
        facts = _moodle_source(replay, f"{M}/2/lineitems?type_id=1&limit=1",
                               f"{M}/CourseSection/2/bindings/1/memberships?limit=1").read()
        log = replay.requests

    assert facts.complete, facts.reason
    # NRPS: three pages of one (straight quotes); Moodle's short role names.
    assert [m.user_id for m in facts.roster] == ["5", "4", "3"]
    assert {m.user_id for m in facts.learners} == {"4", "5"}
    assert facts.member("4").sourcedid == "STUDENT1" and facts.member("4").username == "student1"
    # AGS: two pages, followed through rel=“next” with &amp; in the URL; rel=“last”
    # (from=2, one page past the end) is never fetched.
    pages = [r["query"] for r in log if r["path"].endswith("/lineitems")]
    assert pages == [{"type_id": "1", "limit": "1"}, {"type_id": "1", "limit": "1", "from": "1"}]
    item4 = replay.url(f"{M}/2/lineitems/4/lineitem?type_id=1")
    item5 = replay.url(f"{M}/2/lineitems/5/lineitem?type_id=1")
    grades4 = {g.item_id: g for g in facts.facts_for("4").grades}
    # 7/10 posted on a /100 item reads back rescaled: 70/100.
    probe = grades4[item4]
    assert (probe.score, probe.maximum, probe.label) == (70, 100, "Badge Probe activity")
    assert probe.tag is None and probe.aliases == ()  # Moodle sends "" for both
    assert probe.time == datetime(2026, 11, 22, 6, 21, 39, tzinfo=UTC)
    badge = grades4[item5]
    assert (badge.score, badge.maximum, badge.tag, badge.aliases) == (
        1, 1, "badge", ("badge-obp101-completion",))
    assert [(g.item_id, g.score) for g in facts.facts_for("5").grades] == [(item5, 0)]
    assert facts.facts_for("3").grades == ()
    items = {i.item_id: i for i in facts.items}
    assert items[item4].resource_link_id == "1" and items[item5].score_maximum == 1
    # Results: sub-path inserted before ?type_id=1, never with limit; exact media types.
    results = [r for r in log if r["path"].endswith("/results")]
    assert {r["path"] for r in results} == {"/mod/lti/services.php/2/lineitems/4/lineitem/results",
                                            "/mod/lti/services.php/2/lineitems/5/lineitem/results"}
    assert all(r["query"] == {"type_id": "1"} for r in results)
    assert {r["accept"] for r in results} == {ags.RESULT_CONTAINER}
    assert {r["authorization"] for r in log} == {"Bearer recorded-token"}


def test_moodle_recordings_without_paging_give_the_same_facts():
    with ExactReplay(MOODLE_AGS) as replay:
        paged = _moodle_source(replay, f"{M}/2/lineitems?type_id=1&limit=1",
                               f"{M}/CourseSection/2/bindings/1/memberships?limit=1").read()
        whole = _moodle_source(replay, f"{M}/2/lineitems?type_id=1",
                               f"{M}/CourseSection/2/bindings/1/memberships").read()
    assert whole.complete
    assert {m.user_id for m in whole.roster} == {m.user_id for m in paged.roster}
    assert dict(whole.facts) == dict(paged.facts)


def test_moodle_results_failure_is_reported_not_awarded_from():
    """The recorded HTML 404 (what Moodle gives ``results?limit=``) for item 5's results."""
    overrides = {f"{M}/2/lineitems/5/lineitem/results?type_id=1":
                 AGS_DIR + "ags-results-limit1-page1.json"}
    with ExactReplay(MOODLE_AGS, overrides=overrides) as replay:
        facts = _moodle_source(replay, f"{M}/2/lineitems?type_id=1",
                               f"{M}/CourseSection/2/bindings/1/memberships").read()
    assert not facts.complete and AGS not in facts.sources_read
    assert "Badge: Open Badges Pilot completed" in facts.reason and "HTTP 404" in facts.reason


def test_moodle_token_without_ags_scope():
    """Moodle drops unpermitted scopes silently; the source checks what was granted."""
    with ExactReplay(MOODLE_AGS) as replay:
        facts = _moodle_source(replay, f"{M}/2/lineitems?type_id=1",
                               f"{M}/CourseSection/2/bindings/1/memberships",
                               scopes=frozenset({nrps.SCOPE})).read()
        assert not any("lineitems" in r["path"] for r in replay.requests)
    assert facts.roster_read and not facts.complete
    assert "lineitem" in facts.reason
