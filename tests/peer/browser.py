"""A scripted browser for the LTI launch dance: follows what a real browser would.

A tool answers the login initiation with a 302, or with an HTML page that moves on by
itself: an auto-submitting form, a meta refresh, a JavaScript ``location`` assignment, or
pylti1p3's cookie-check page (which reloads the login URL with its parameters in the
query). ``next_navigation`` reads such a page; ``navigate_until`` follows the chain.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

MAX_HOPS = 12


@dataclass
class Form:
    """One HTML form: where it goes and the fields a browser would send."""

    action: str
    method: str = "GET"
    fields: dict[str, str] = field(default_factory=dict)
    id: str | None = None


@dataclass
class Navigation:
    """What the browser does next: a GET of a URL or a form submission."""

    method: str
    url: str
    data: dict[str, str] | None = None


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.meta_refresh: str | None = None
        self.scripts: list[str] = []
        self.body_onload = ""
        self._in_script = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(
                    action=a.get("action", ""),
                    method=(a.get("method") or "GET").upper(),
                    id=a.get("id"),
                )
            )
        elif tag == "input" and self.forms and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("hidden", "text", "email", "password", "number", "url"):
                self.forms[-1].fields[a["name"]] = a.get("value", "")
            elif kind in ("checkbox", "radio") and "checked" in a:
                self.forms[-1].fields[a["name"]] = a.get("value", "on")
        elif tag == "textarea" and self.forms and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields[a["name"]] = ""
        elif tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\"]+)", a.get("content", ""), re.I)
            if m:
                self.meta_refresh = m.group(1).strip()
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")
        elif tag == "body":
            self.body_onload = a.get("onload", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        elif self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data


def parse_forms(page: str) -> list[Form]:
    """All forms of an HTML page."""
    parser = _PageParser()
    parser.feed(page)
    return parser.forms


def _js_string(raw: str, quote: str) -> str:
    if quote == '"':
        try:
            return json.loads(f'"{raw}"')
        except ValueError:
            pass
    return raw.replace("\\/", "/")


_JS_ASSIGN = re.compile(
    r"""(?:window\.|document\.|top\.|self\.|parent\.)?location(?:\.href)?\s*=\s*(["'])(.+?)\1"""
)
_JS_CALL = re.compile(r"""location\.(?:replace|assign)\(\s*(["'])(.+?)\1\s*\)""")
_PYLTI_PARAMS = re.compile(r"var\s+urlParams\s*=\s*(\{.*?\});", re.S)


def _with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    present = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = {k: v for k, v in params.items() if k not in present}
    query = parts.query + ("&" if parts.query and extra else "") + urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def next_navigation(resp: requests.Response) -> Navigation | None:
    """The navigation a browser would perform on its own after ``resp``, if any."""
    if resp.is_redirect or resp.status_code in (301, 302, 303, 307, 308):
        location = resp.headers.get("Location")
        if not location:
            return None
        target = urljoin(resp.url, location)
        if resp.status_code in (307, 308) and resp.request.method == "POST":
            body = resp.request.body or ""
            if isinstance(body, bytes):
                body = body.decode()
            return Navigation("POST", target, dict(parse_qsl(body, keep_blank_values=True)))
        return Navigation("GET", target)
    if "html" not in resp.headers.get("Content-Type", "") or resp.status_code != 200:
        return None

    parser = _PageParser()
    parser.feed(resp.text)
    scripts = "\n".join(parser.scripts)
    auto_submit = ".submit()" in scripts or ".submit()" in parser.body_onload
    if parser.forms and auto_submit:
        form = parser.forms[0]
        target = urljoin(resp.url, form.action or resp.url)
        if form.method == "POST":
            return Navigation("POST", target, form.fields)
        return Navigation("GET", _with_params(target, form.fields))
    if parser.meta_refresh:
        # HTMLParser already decoded the attribute's entities: do not unescape twice.
        return Navigation("GET", urljoin(resp.url, parser.meta_refresh))
    m = _PYLTI_PARAMS.search(scripts)
    if m and "getUpdatedUrl" in scripts:
        # pylti1p3's cookie check: it reloads the same URL with the login params appended.
        params = {k: html.unescape(str(v)) for k, v in json.loads(m.group(1)).items()}
        return Navigation("GET", _with_params(resp.url, params))
    m = _JS_ASSIGN.search(scripts) or _JS_CALL.search(scripts)
    if m:
        return Navigation("GET", urljoin(resp.url, _js_string(m.group(2), m.group(1))))
    return None


def perform(session: requests.Session, nav: Navigation) -> requests.Response:
    """Do one navigation without following redirects (the caller inspects each hop)."""
    if nav.method == "POST":
        return session.post(nav.url, data=nav.data or {}, allow_redirects=False, timeout=30)
    return session.get(nav.url, allow_redirects=False, timeout=30)


def navigate_until(
    session: requests.Session, resp: requests.Response, stop_prefix: str
) -> tuple[requests.Response, bool]:
    """Follow self-driving navigations from ``resp`` until one reaches ``stop_prefix``.

    Returns the response of the request made to ``stop_prefix`` and True, or the last
    response (a page that does not move on) and False.
    """
    for _ in range(MAX_HOPS):
        nav = next_navigation(resp)
        if nav is None:
            return resp, False
        resp = perform(session, nav)
        if nav.url.startswith(stop_prefix):
            return resp, True
    raise RuntimeError(f"more than {MAX_HOPS} navigations without reaching {stop_prefix}")
