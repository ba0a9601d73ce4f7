"""Bounded retries: what is retried, what is not, and how long it waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from werkzeug.wrappers import Response

from lti_badges.net import NetPolicy
from lti_badges.sources.base import SourceError
from lti_badges.sources.http import Retry, send
from lti_badges.sources.http import retry_after_seconds as _retry_after
from tests.support.servers import ServerThread, free_port


def test_retry_after_forms():
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after(later) <= 30
    assert Retry().backoff(0) == 0.5 and Retry().backoff(10) == 8.0


@pytest.fixture(scope="module")
def scripted():
    """A server answering from a script of (status, headers) per request."""
    script: list[tuple[int, dict]] = []
    hits: list[str] = []

    def app(environ, start_response):
        hits.append(environ["PATH_INFO"])
        status, headers = script.pop(0) if script else (200, {})
        return Response("{}", status=status, headers=headers,
                        mimetype="application/json")(environ, start_response)

    port = free_port()
    server = ServerThread(app, port).start()
    yield f"http://127.0.0.1:{port}", script, hits
    server.stop()


def _send(url, sleeps, **kw):
    return send("GET", url, NetPolicy(allow_insecure=True, timeout=2), what="test service",
                retry=Retry(sleep=sleeps.append, **kw))


def test_client_errors_are_not_retried(scripted):
    url, script, hits = scripted
    script[:] = [(404, {})]
    before = len(hits)
    sleeps: list[float] = []
    assert _send(url + "/a", sleeps).status_code == 404 and sleeps == []
    assert len(hits) == before + 1


def test_a_long_retry_after_is_reported_not_waited(scripted):
    url, script, _ = scripted
    script[:] = [(429, {"Retry-After": "3600"})]
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="asked to wait 3600 s"):
        _send(url + "/b", sleeps)
    assert sleeps == []


def test_503_with_retry_after_waits_at_least_that(scripted):
    url, script, _ = scripted
    script[:] = [(503, {"Retry-After": "2"}), (200, {})]
    sleeps: list[float] = []
    assert _send(url + "/c", sleeps).status_code == 200 and sleeps == [2.0]


def test_tries_are_bounded(scripted):
    url, script, _ = scripted
    script[:] = [(500, {})] * 3
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="after 3 tries"):
        _send(url + "/d", sleeps, tries=3)
    assert sleeps == [0.5, 1.0]


def test_a_refused_url_is_not_retried():
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="must use HTTPS"):
        send("GET", "http://example.org/x", NetPolicy(allow_insecure=False), what="test service",
             retry=Retry(sleep=sleeps.append))
    assert sleeps == []


def test_an_unreachable_host_is_retried_then_reported():
    sleeps: list[float] = []
    port = free_port()  # nothing listens there
    with pytest.raises(SourceError, match="could not be reached"):
        send("GET", f"http://127.0.0.1:{port}/", NetPolicy(allow_insecure=True, timeout=1),
             what="test service", retry=Retry(sleep=sleeps.append))
    assert sleeps == [0.5, 1.0, 2.0]
