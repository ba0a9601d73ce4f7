"""Loopback replays of the recorded Moodle 5.0 exchanges for the fact-source tests.

``tests/support/moodle.ReplayServer`` routes by path only; these two route the way the
recordings need:

- :class:`MoodleWsReplay`: Moodle Web Services use one path and pick the function with
  the ``wsfunction`` form field, so the recorded file is chosen by ``wsfunction`` (+
  ``userid``, ``field``, missing ``courseid``), from ../shared/moodle/webservices;
- :class:`ExactReplay`: the LTI services page by query string (``?limit=1&from=1``), so
  exchanges are keyed by method, path and query, from ../shared/moodle/lti-services.

Headers go out as the recording's bytes: Moodle's AGS ``Link`` header carries UTF-8
typographic quotes, which reach a Python client as Latin-1 mojibake, exactly as the real
Moodle's would.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.support.moodle import MOODLE, recorded
from tests.support.servers import free_port

RECORDED_HOST = "127.0.0.1:8080"
_DROP = ("content-length", "connection", "transfer-encoding", "date", "server", "keep-alive")


def wire(value: str) -> str:
    """A header value whose Latin-1 encoding (what WSGI servers send) is its UTF-8 bytes."""
    return value.encode("utf-8").decode("latin-1")


def _response(exchange: dict[str, Any], host: str | None = None) -> Response:
    response = exchange["response"]
    body = response.get("body") or ""
    if host:
        body = body.replace(RECORDED_HOST, host)
    headers = []
    for name, value in response.get("headers", []):
        if name.lower() in _DROP:
            continue
        if host:
            value = value.replace(RECORDED_HOST, host)
        headers.append((name, wire(value)))
    resp = Response(body, status=response["status"], headers=headers)
    if response.get("reason"):
        resp.status = f"{response['status']} {wire(response['reason'][:200])}"
    return resp


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict[str, Any]] = []
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True,
                                   request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wsgi(self, environ, start_response):  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # A short poll interval: werkzeug's default (0.5 s) makes every stop slow.
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


WS = "webservices/"
WS_TOKEN = recorded(WS + "core_webservice_get_site_info.json")["request"]["body_form"]["wstoken"]
BAD_TOKEN = recorded(WS + "ws-error-invalid-token.json")["request"]["body_form"]["wstoken"]
STUDENTS = {"4": "student1", "5": "student2"}


class MoodleWsReplay(_Server):
    """``POST /webservice/rest/server.php`` answered from the recorded web-service files.

    ``overrides`` maps ``wsfunction`` (or ``wsfunction:userid``) to a recorded file name
    (without .json) or to a body (any JSON value) to answer instead; ``disabled`` answers
    every call like Moodle before "Enable web services" (bare 403).
    """

    def __init__(self, overrides: dict[str, Any] | None = None, disabled: bool = False) -> None:
        super().__init__()
        self.overrides = dict(overrides or {})
        self.disabled = disabled

    @property
    def site_url(self) -> str:
        return self.base_url

    def calls(self, function: str | None = None) -> list[dict[str, str]]:
        return [r["form"] for r in self.requests
                if function is None or r["form"].get("wsfunction") == function]

    def _pick(self, form: dict[str, str]) -> str | Any:
        fn = form.get("wsfunction", "")
        user = form.get("userid")
        for key in (f"{fn}:{user}", fn):
            if key in self.overrides:
                return self.overrides[key]
        if form.get("wstoken") != WS_TOKEN:
            return "ws-error-invalid-token"
        if fn == "core_course_get_courses_by_field":
            if form.get("field") not in ("id", "shortname"):
                return "ws-error-invalid-parameter-value"
            # Only the shortname lookup was recorded; the id lookup answers the same course.
            if form.get("value") in ("2", "OBP101"):
                return "core_course_get_courses_by_field-shortname"
            return {"courses": [], "warnings": []}
        if fn == "core_course_get_contents" and "courseid" not in form:
            return "ws-error-missing-parameter"
        if fn in ("gradereport_user_get_grade_items",
                  "core_completion_get_activities_completion_status",
                  "core_completion_get_course_completion_status"):
            if user is None:
                return f"{fn}-all-users"
            return f"{fn}-{STUDENTS.get(user, 'unknown')}"
        return {
            "core_webservice_get_site_info": "core_webservice_get_site_info",
            "core_course_get_contents": "core_course_get_contents",
            "core_enrol_get_enrolled_users": "core_enrol_get_enrolled_users",
            "mod_assign_get_grades": "mod_assign_get_grades",
            "core_grades_get_gradeitems": "core_grades_get_gradeitems",
            "core_grades_get_grades": "core_grades_get_grades-does-not-exist",
        }.get(fn, "ws-error-function-not-in-service")

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        form = request.form.to_dict()
        self.requests.append({"method": request.method, "path": request.path, "form": form,
                              "content_type": request.mimetype})
        if request.path != "/webservice/rest/server.php" or request.method != "POST":
            return Response("not recorded", status=404)(environ, start_response)
        if self.disabled:
            return _response(recorded(WS + "ws-error-webservices-disabled.json"))(
                environ, start_response)
        picked = self._pick(form)
        if isinstance(picked, str):
            path = MOODLE / WS / f"{picked}.json"
            if not path.exists():
                return Response(f"not recorded: {picked}", status=404)(environ, start_response)
            return _response(json.loads(path.read_text()))(environ, start_response)
        return Response(json.dumps(picked), mimetype="application/json")(environ, start_response)


def _key(method: str, url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    return method, parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class ExactReplay(_Server):
    """Answers each (method, path, query) with its recorded exchange; the host is rewritten.

    ``exchanges`` are recorded file names relative to ../shared/moodle (later ones win
    on the same request); ``overrides`` map a recorded-style URL
    (``http://127.0.0.1:8080/…``) to another recorded file.
    """

    def __init__(self, exchanges: list[str], overrides: dict[str, str] | None = None) -> None:
        super().__init__()
        self.routes: dict[Any, dict[str, Any]] = {}
        for name in exchanges:
            exchange = recorded(name)
            req = exchange["request"]
            self.routes[_key(req["method"], req["url"])] = exchange
        for url, name in (overrides or {}).items():
            self.routes[_key("GET", url)] = recorded(name)

    def url(self, recorded_url: str) -> str:
        return recorded_url.replace(RECORDED_HOST, f"127.0.0.1:{self.port}")

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        self.requests.append({"method": request.method, "path": request.path,
                              "query": dict(parse_qsl(environ.get("QUERY_STRING", ""))),
                              "authorization": request.headers.get("Authorization"),
                              "accept": request.headers.get("Accept")})
        key = (request.method, request.path,
               tuple(sorted(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))))
        exchange = self.routes.get(key)
        if exchange is None:
            return Response("not recorded", status=404)(environ, start_response)
        return _response(exchange, host=f"127.0.0.1:{self.port}")(environ, start_response)


def recorded_names(folder: str, prefix: str = "") -> list[str]:
    """Recorded exchange files of a folder (relative names, sorted), optionally by prefix."""
    return sorted(f"{folder}/{p.name}" for p in (MOODLE / folder).glob(f"{prefix}*.json"))




PLUGIN_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "moodle_plugin"


def plugin_fixture(name: str) -> Any:
    return json.loads((PLUGIN_FIXTURES / f"{name}.json").read_text())


class MoodlePluginReplay(MoodleWsReplay):
    """The recorded Moodle with the companion plugin installed: site info also lists
    ``local_ltibadges_get_course_facts``, answered from tests/fixtures/moodle_plugin
    (pages of 2 users, or ``userid=4``); everything else as :class:`MoodleWsReplay`."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        info = recorded(WS + "core_webservice_get_site_info.json")["response"]["body_json"]
        plugin = {**info, "functions": [*info["functions"], {
            "name": "local_ltibadges_get_course_facts", "version": "2026120200"}]}
        super().__init__({"core_webservice_get_site_info": plugin, **(overrides or {})})

    def _pick(self, form: dict[str, str]) -> str | Any:
        if form.get("wsfunction") != "local_ltibadges_get_course_facts" \
                or "local_ltibadges_get_course_facts" in self.overrides:
            return super()._pick(form)
        if form.get("wstoken") != WS_TOKEN:
            return "ws-error-invalid-token"
        if form.get("userid", "0") not in ("0", ""):
            if form["userid"] == "4":
                return plugin_fixture("get_course_facts-userid4")
            return {**plugin_fixture("get_course_facts-userid4"), "users": [], "grades": [],
                    "completions": [], "coursecompletions": [], "totalusers": 0}
        return plugin_fixture(f"get_course_facts-perpage2-page{form.get('page', '0')}")
