"""Recorded Moodle 5.0 exchanges from ../shared/moodle, and a loopback server replaying them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.servers import ServerThread, free_port

MOODLE = Path(__file__).resolve().parents[3] / "shared" / "moodle"
ISSUER = "http://127.0.0.1:8080"
CLIENT_ID = "kgDDY3FUnq3wN3I"


def recorded(relative: str) -> dict[str, Any]:
    return json.loads((MOODLE / relative).read_text())


def launch_fixture(name: str) -> dict[str, Any]:
    return recorded(f"lti-launch/{name}.json")


class ReplayServer:
    """Answers each path with a recorded response (status, headers, body byte for byte)."""

    def __init__(self, routes: dict[str, dict[str, Any]], rewrite_host: bool = False):
        self.routes = routes
        # Recorded bodies name Moodle at 127.0.0.1:8080; point them at this server instead.
        self.rewrite_host = rewrite_host
        self.port = free_port()
        self.requests: list[tuple[str, str]] = []
        self._thread = ServerThread(self._wsgi, self.port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.method, request.full_path))
        exchange = self.routes.get(request.path)
        if exchange is None:
            return Response("not recorded", status=404)(environ, start_response)
        response = exchange["response"]
        body = response.get("body", "")
        if not isinstance(body, str):
            body = json.dumps(body)
        if self.rewrite_host:
            body = body.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}")
        headers = [(k, v) for k, v in response.get("headers", [])
                   if k.lower() not in ("content-length", "connection", "transfer-encoding",
                                        "date", "server")]
        return Response(body, status=response["status"], headers=headers)(environ, start_response)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.stop()
