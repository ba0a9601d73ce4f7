"""A deliberately tiny LTI 1.3 tool (Flask + pyjwt) used only to exercise the peer.

It is not the tool under test and shares no code with it: just enough of the tool side
(OIDC login, id_token check, JWKS, client assertions, deep-linking response, dynamic
registration) for the self-tests to prove the peer accepts good traffic and refuses bad.
Knobs on the instance let a test make it misbehave (wrong redirect_uri, JS redirect…).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request
from jwt.algorithms import RSAAlgorithm
from pylti1p3.cookies_allowed_check import CookiesAllowedCheckPage
from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class MiniTool:
    """Tool side of LTI 1.3 in ~200 lines, served on 127.0.0.1."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "mini-1"
        self.reset()
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.app.config["SESSION_COOKIE_NAME"] = f"mini_tool_{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def reset(self) -> None:
        """Forget the platform and every misbehaviour knob (one server serves many tests)."""
        self.client_id = ""
        self.platform_issuer = ""
        self.platform_jwks_url = ""
        self.auth_url = ""
        # Misbehaviour knobs.
        self.redirect_uri_override: str | None = None
        self.auth_params_override: dict[str, str | None] = {}
        self.login_answer = "302"  # "302", "js", "meta", "form", "pylti_cookie_check", "show"
        self.states: dict[str, str] = {}  # state -> nonce
        self.seen_nonces: set[str] = set()
        self.last_claims: dict[str, Any] | None = None
        self.last_login: dict[str, str] = {}

    # URLs the platform is configured with.
    @property
    def login_url(self) -> str:
        return self.base + "/login"

    @property
    def launch_url(self) -> str:
        return self.base + "/launch"

    @property
    def jwks_url(self) -> str:
        return self.base + "/jwks"

    @property
    def register_url(self) -> str:
        return self.base + "/register"

    def start(self) -> MiniTool:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def configure(self, issuer: str, client_id: str) -> None:
        self.platform_issuer = issuer
        self.client_id = client_id
        self.platform_jwks_url = issuer + "/jwks"
        self.auth_url = issuer + "/auth"

    # -- signing
    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def sign(self, payload: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def client_assertion(self, token_url: str, **override: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": token_url,
            "iat": now - 5,
            "exp": now + 60,
            "jti": secrets.token_hex(8),
        }
        payload.update(override)
        return self.sign({k: v for k, v in payload.items() if v is not None})

    def token_request(self, token_url: str, scopes: list[str], **override: Any) -> requests.Response:
        assertion = override.pop("assertion", None) or self.client_assertion(token_url, **override)
        return requests.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(scopes),
            },
            timeout=10,
        )

    def access_token(self, token_url: str, scopes: list[str]) -> str:
        resp = self.token_request(token_url, scopes)
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    # -- the web app
    def _make_app(self) -> Flask:
        app = Flask("mini_tool")
        app.secret_key = secrets.token_hex(8)

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(self.jwks())

        @app.route("/login", methods=["GET", "POST"])
        def login() -> Response:
            params = request.values
            self.last_login = {"method": request.method, **params.to_dict()}
            if params.get("iss") != self.platform_issuer:
                return Response("unknown issuer", 400)
            state, nonce = secrets.token_hex(8), secrets.token_hex(8)
            self.states[state] = nonce
            query: dict[str, str | None] = {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "client_id": params.get("client_id", self.client_id),
                "redirect_uri": self.redirect_uri_override or self.launch_url,
                "state": state,
                "nonce": nonce,
                "login_hint": params.get("login_hint"),
                "lti_message_hint": params.get("lti_message_hint"),
            }
            query.update(self.auth_params_override)
            url = self.auth_url + "?" + urlencode({k: v for k, v in query.items() if v is not None})
            if self.login_answer == "pylti_cookie_check" and "lti1p3_new_window" not in params:
                # pylti1p3's real page: JS reloads the login URL with the params in the query.
                page = CookiesAllowedCheckPage(
                    {"lti1p3_new_window": "1", **params.to_dict()}, "http", "no cookies", "open",
                    "loading",
                )
                return Response(page.get_html(), mimetype="text/html")
            if self.login_answer == "show":
                return Response(url, mimetype="text/plain")
            if self.login_answer == "js":
                return Response(f'<script>window.location="{url}";</script>', mimetype="text/html")
            if self.login_answer == "meta":
                html_url = url.replace("&", "&amp;")
                return Response(
                    f'<meta http-equiv="refresh" content="0; url={html_url}">', mimetype="text/html"
                )
            if self.login_answer == "form":
                fields = "".join(
                    f'<input type="hidden" name="{k}" value="{v}">'
                    for k, v in query.items()
                    if v is not None
                )
                return Response(
                    f'<form action="{self.auth_url}" method="post">{fields}</form>'
                    "<script>document.forms[0].submit();</script>",
                    mimetype="text/html",
                )
            return Response(status=302, headers={"Location": url})

        @app.post("/launch")
        def launch() -> Response:
            state = request.form.get("state", "")
            nonce = self.states.pop(state, None)
            if nonce is None:
                return jsonify(error="unknown state"), 400
            token = request.form.get("id_token", "")
            try:
                kid = jwt.get_unverified_header(token).get("kid")
                keys = requests.get(self.platform_jwks_url, timeout=5).json()["keys"]
                jwk = next((k for k in keys if k.get("kid") == kid), None)
                if jwk is None:
                    return jsonify(error=f"unknown kid {kid}"), 400
                claims = jwt.decode(
                    token,
                    RSAAlgorithm.from_jwk(jwk),
                    algorithms=["RS256"],
                    audience=self.client_id,
                    issuer=self.platform_issuer,
                )
            except jwt.PyJWTError as exc:
                return jsonify(error=f"{type(exc).__name__}: {exc}"), 400
            if claims.get("nonce") != nonce or claims["nonce"] in self.seen_nonces:
                return jsonify(error="bad nonce"), 400
            self.seen_nonces.add(claims["nonce"])
            self.last_claims = claims
            return jsonify(ok=True, claims=claims)

        @app.get("/register")
        def register() -> Response:
            config_url = request.args["openid_configuration"]
            token = request.args["registration_token"]
            config = requests.get(config_url, timeout=5).json()
            body = self.registration_body()
            resp = requests.post(
                config["registration_endpoint"],
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            if resp.ok:
                self.configure(config["issuer"], resp.json()["client_id"])
            return Response(resp.text, resp.status_code, mimetype="text/plain")

        return app

    def registration_body(self) -> dict[str, Any]:
        domain = self.base.split("://", 1)[1]
        return {
            "application_type": "web",
            "response_types": ["id_token"],
            "grant_types": ["implicit", "client_credentials"],
            "initiate_login_uri": self.login_url,
            "redirect_uris": [self.launch_url],
            "client_name": "Mini tool",
            "jwks_uri": self.jwks_url,
            "token_endpoint_auth_method": "private_key_jwt",
            "scope": "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly "
            "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                "domain": domain,
                "target_link_uri": self.launch_url,
                "claims": ["iss", "sub", "name"],
                "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": self.launch_url}],
            },
        }

    def deep_link_response(self, settings_claims: dict[str, Any], items: list[dict[str, Any]],
                           **override: Any) -> str:
        """Sign an LtiDeepLinkingResponse answering the request claims ``settings_claims``."""
        settings = settings_claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
        now = int(time.time())
        payload = {
            "iss": self.client_id,
            "aud": [self.platform_issuer],
            "iat": now,
            "exp": now + 60,
            "nonce": secrets.token_hex(8),
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": settings_claims[
                "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
            ],
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": items,
            "https://purl.imsglobal.org/spec/lti-dl/claim/data": settings.get("data"),
        }
        payload.update(override)
        return self.sign({k: v for k, v in payload.items() if v is not None})
