"""What ``static/launch.js`` does in a browser, for a ``requests.Session`` playing one.

The launch answers with a page holding a page credential; the script keeps it in the
browsing context's sessionStorage (per course) and goes to the tool's page, sending the
credential as ``X-Launch-Credential`` on every request to the tool and keeping the renewed
one each answer brings. ``CredentialStore`` is that sessionStorage for one "browser": it
sends the credential only to the tool's own origin, as the script does.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

HEADER = "X-Launch-Credential"
_LAUNCHING = re.compile(r'<script type="application/json" id="launch-credential">(.*?)</script>',
                        re.S)
_COURSE = re.compile(r"^/course/(\d+)(/|$)")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class CredentialStore(AuthBase):
    """Per course (and the newest, for the tool's pages outside a course), per origin."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], str] = {}

    def put(self, origin: str, course_id: int | str | None, credential: str) -> None:
        if course_id:
            self.by_key[(origin, str(course_id))] = credential
        self.by_key[(origin, "last")] = credential

    def for_url(self, url: str) -> str | None:
        origin, path = _origin(url), urlsplit(url).path
        m = _COURSE.match(path)
        if m:
            return self.by_key.get((origin, m.group(1)))
        return self.by_key.get((origin, "last"))

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        credential = self.for_url(r.url or "")
        if credential and HEADER not in r.headers:
            r.headers[HEADER] = credential
            r.register_hook("response", self._keep_next)
        return r

    def _keep_next(self, resp: requests.Response, **_: object) -> requests.Response:
        nxt = resp.headers.get(HEADER + "-Next")
        if nxt:
            m = _COURSE.match(urlsplit(resp.url).path)
            self.put(_origin(resp.url), m.group(1) if m else None, nxt)
        return resp


def launching(resp: requests.Response) -> dict | None:
    """The launch page's credential, course and target, or None for another page."""
    m = _LAUNCHING.search(resp.text or "")
    return json.loads(m.group(1)) if m else None


def run(browser: requests.Session, resp: requests.Response) -> requests.Response:
    """After a launch's answer: keep its credential and open its target, as the script
    does; any other answer is returned as it is."""
    data = launching(resp)
    if data is None:
        return resp
    store = browser.auth if isinstance(browser.auth, CredentialStore) else CredentialStore()
    browser.auth = store
    store.put(_origin(resp.url), data["course_id"], data["credential"])
    return browser.get(urljoin(resp.url, data["target"]), timeout=30)
