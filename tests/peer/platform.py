"""``PlatformPeer``: an independent LTI 1.3 platform that tests drive over real HTTP.

The peer holds an LMS's data in memory (courses, users, enrolments, resource links, line
items, results), serves the platform side of LTI 1.3 and LTI Advantage on 127.0.0.1 with
werkzeug, and plays the user's browser for launches and dynamic registration.
None of it comes from the tool under test; the LTI mechanics come from ``lti1p3platform``
(see ``lib_glue``) plus the stricter checks the library leaves out.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import browser as nav
from .keys import KeySet, SigningKey
from .lib_glue import PeerRegistration
from .vocab import ALL_SERVICE_SCOPES, role_uri


@dataclass
class ToolRegistration:
    """The platform's record of one tool (a client_id with its deployments)."""

    client_id: str
    deployment_ids: list[str]
    login_url: str
    launch_url: str
    jwks_url: str
    redirect_uris: list[str]
    deep_link_url: str | None = None
    scopes: list[str] = field(default_factory=lambda: list(ALL_SERVICE_SCOPES))
    name: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    # Identity claims the tool asked for at dynamic registration; None shares everything.
    claims: list[str] | None = None
    source: str = "manual"

    @property
    def shares_name(self) -> bool:
        return self.claims is None or bool({"name", "given_name", "family_name"} & set(self.claims))

    @property
    def shares_email(self) -> bool:
        return self.claims is None or "email" in self.claims


@dataclass
class PendingLaunch:
    """A launch the platform started: what ``lti_message_hint`` stands for until used."""

    hint: str
    client_id: str
    deployment_id: str
    user_id: str
    context_id: str | None
    resource_link_id: str | None
    message_type: str
    target_link_uri: str
    locale: str
    roles: list[str]
    login_method: str
    document_target: str
    tamper: dict[str, Any]
    extra_claims: dict[str, Any]
    used: bool = False


@dataclass
class AccessToken:
    """A bearer token the token endpoint granted."""

    client_id: str
    scopes: list[str]
    expires_at: float
    key: SigningKey


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class PlatformPeer:
    """An LTI 1.3 platform on 127.0.0.1; its issuer is its own base URL."""

    # What the browser's scripts do with the tool's answer to a launch (set by the tests:
    # tests/support/page_scripts.py); None: the answer as it came.
    page_scripts: Callable[[requests.Session, requests.Response], requests.Response] | None = None

    def __init__(self, name: str = "A", *, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the peer binds loopback only")
        self.name = name
        self.host = host
        self.keys = KeySet()
        self.lock = threading.RLock()

        # Behaviour knobs tests may flip.
        self.nrps_short_roles = False  # Moodle's NRPS emits "Learner", not the full URI
        self.id_token_lifetime = 60  # seconds; Moodle uses 60
        self.access_token_lifetime = 3600
        self.dl_accept_types: list[str] = ["ltiResourceLink", "link", "html", "image", "file"]
        self.scores_require_learner = True  # Moodle refuses scores for non-learners (400)
        # AGS 2.0 §3.3 gives a result no time; Moodle adds a "timestamp". False: as the spec.
        self.results_carry_timestamp = True

        # LMS data.
        self.tools: dict[str, ToolRegistration] = {}
        self.courses: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.enrollments: dict[tuple[str, str], dict[str, Any]] = {}
        self.resource_links: dict[tuple[str, str], dict[str, Any]] = {}
        self.line_items: dict[str, dict[str, Any]] = {}  # number -> item (+ _context, _owner)
        self.results: dict[str, dict[str, dict[str, Any]]] = {}  # number -> user -> result

        # Protocol state.
        self.pending_launches: dict[str, PendingLaunch] = {}
        self.dl_requests: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.seen_jti: set[tuple[str, str]] = set()
        self.registration_tokens: dict[str, str] = {}  # client_id -> token issued

        # What happened, for assertions.
        self.last_id_token: str | None = None
        self.last_id_token_claims: dict[str, Any] | None = None
        self.last_launch_form: dict[str, str] | None = None
        self.deep_link_responses: list[dict[str, Any]] = []
        self.registrations: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []
        self.token_grants: list[dict[str, Any]] = []
        self.jwks_fetches: list[str] = []
        self.request_log: list[dict[str, Any]] = []

        self._seq = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> PlatformPeer:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        from .app import create_app  # late: app imports this module for typing

        if self._server is not None:
            return self
        app = create_app(self)
        self._server = make_server(
            self.host, 0, app, threaded=True, request_handler=_QuietHandler
        )
        self._port = self._server.server_port
        # Two apps on 127.0.0.1 share cookies across ports: a name per peer and port.
        app.config["SESSION_COOKIE_NAME"] = f"lti_peer_{self.name}_{self._port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns quickly
            name=f"lti-peer-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> PlatformPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ URLs
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("peer not started")
        return self._port

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL on the peer for ``path`` (which starts with /)."""
        return self.issuer + path

    @property
    def jwks_url(self) -> str:
        return self.url("/jwks")

    @property
    def token_url(self) -> str:
        return self.url("/token")

    @property
    def auth_login_url(self) -> str:
        """The OIDC authorization endpoint (the tool redirects the browser here)."""
        return self.url("/auth")

    @property
    def openid_configuration_url(self) -> str:
        return self.url("/.well-known/openid-configuration")

    @property
    def registration_url(self) -> str:
        return self.url("/register")

    @property
    def deep_link_return_url(self) -> str:
        return self.url("/deep_link_return")

    def memberships_url(self, context_id: str) -> str:
        return self.url(f"/nrps/{context_id}/memberships")

    def lineitems_url(self, context_id: str) -> str:
        return self.url(f"/ags/{context_id}/lineitems")

    def lineitem_url(self, context_id: str, number: str) -> str:
        return self.url(f"/ags/{context_id}/lineitems/{number}/lineitem")

    def _next_id(self) -> str:
        with self.lock:
            self._seq += 1
            return str(self._seq)

    # ------------------------------------------------------------------ setup
    def register_tool(
        self,
        client_id: str,
        deployment_ids: list[str] | str,
        login_url: str,
        launch_url: str,
        jwks_url: str,
        redirect_uris: list[str] | None = None,
        deep_link_url: str | None = None,
        scopes: list[str] | None = None,
        *,
        name: str = "",
        custom: dict[str, str] | None = None,
        claims: list[str] | None = None,
    ) -> ToolRegistration:
        """Manual registration on the platform side (what an admin types into the LMS).

        ``redirect_uris`` defaults to the launch URL (and the deep-link URL if different);
        ``scopes`` to all AGS and NRPS scopes.
        """
        if isinstance(deployment_ids, str):
            deployment_ids = [deployment_ids]
        if redirect_uris is None:
            redirect_uris = [launch_url]
            if deep_link_url and deep_link_url != launch_url:
                redirect_uris.append(deep_link_url)
        tool = ToolRegistration(
            client_id=client_id,
            deployment_ids=list(deployment_ids),
            login_url=login_url,
            launch_url=launch_url,
            jwks_url=jwks_url,
            redirect_uris=list(redirect_uris),
            deep_link_url=deep_link_url,
            scopes=list(ALL_SERVICE_SCOPES if scopes is None else scopes),
            name=name,
            custom=dict(custom or {}),
            claims=claims,
        )
        with self.lock:
            self.tools[client_id] = tool
        return tool

    def add_course(
        self,
        context_id: str,
        title: str = "Course",
        label: str = "",
        *,
        sourcedid: str | None = None,
        context_type: str = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering",
    ) -> dict[str, Any]:
        course = {
            "id": context_id,
            "title": title,
            "label": label or context_id,
            "sourcedid": sourcedid,
            "type": context_type,
        }
        with self.lock:
            self.courses[context_id] = course
        return course

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        email: str | None = None,
        given_name: str | None = None,
        family_name: str | None = None,
        *,
        username: str | None = None,
        sourcedid: str | None = None,
        extra_roles: list[str] | None = None,
    ) -> dict[str, Any]:
        """A platform user; ``extra_roles`` are institution/system roles sent on every launch."""
        if name is None and (given_name or family_name):
            name = " ".join(p for p in (given_name, family_name) if p)
        user = {
            "user_id": str(user_id),
            "name": name,
            "email": email,
            "given_name": given_name,
            "family_name": family_name,
            "username": username or str(user_id),
            "sourcedid": sourcedid,
            "extra_roles": [role_uri(r) for r in (extra_roles or [])],
        }
        with self.lock:
            self.users[str(user_id)] = user
        return user

    def enroll(
        self,
        context_id: str,
        user_id: str,
        roles: list[str] | None = None,
        status: str = "Active",
    ) -> dict[str, Any]:
        if status not in ("Active", "Inactive", "Deleted"):
            raise ValueError("status is Active, Inactive or Deleted (NRPS 2.0 §2.3)")
        if context_id not in self.courses:
            raise KeyError(f"no course {context_id!r}")
        if str(user_id) not in self.users:
            raise KeyError(f"no user {user_id!r}")
        enrollment = {
            "roles": [role_uri(r) for r in (roles or ["Learner"])],
            "status": status,
        }
        with self.lock:
            self.enrollments[(context_id, str(user_id))] = enrollment
        return enrollment

    def add_resource_link(
        self,
        context_id: str,
        resource_link_id: str,
        title: str = "",
        *,
        description: str = "",
        target_link_uri: str | None = None,
        custom: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        link = {
            "id": resource_link_id,
            "title": title,
            "description": description,
            "target_link_uri": target_link_uri,
            "custom": dict(custom or {}),
        }
        with self.lock:
            self.resource_links[(context_id, resource_link_id)] = link
        return link

    def add_line_item(
        self,
        context_id: str,
        label: str,
        score_maximum: float,
        resource_link_id: str | None = None,
        tag: str | None = None,
        resource_id: str | None = None,
        *,
        owner: str | None = None,
    ) -> dict[str, Any]:
        """A gradebook column; ``owner`` (a client_id) hides it from other tools."""
        number = self._next_id()
        item: dict[str, Any] = {
            "id": self.lineitem_url(context_id, number),
            "label": label,
            "scoreMaximum": score_maximum,
        }
        if resource_link_id:
            item["resourceLinkId"] = resource_link_id
        if tag:
            item["tag"] = tag
        if resource_id:
            item["resourceId"] = resource_id
        with self.lock:
            self.line_items[number] = {**item, "_context": context_id, "_owner": owner}
            self.results[number] = {}
        return item

    def _line_item_number(self, line_item_id: str | dict[str, Any]) -> str:
        url = line_item_id["id"] if isinstance(line_item_id, dict) else line_item_id
        if url in self.line_items:
            return url
        parts = urlsplit(url).path.rstrip("/").split("/")
        # …/ags/<context>/lineitems/<number>/lineitem
        if len(parts) >= 2 and parts[-1] == "lineitem" and parts[-2] in self.line_items:
            return parts[-2]
        raise KeyError(f"no line item {url!r}")

    def set_result(
        self,
        line_item_id: str | dict[str, Any],
        user_id: str,
        score_given: float | None,
        score_maximum: float | None = None,
        timestamp: str | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """A grade entered on the platform side (what AGS results then report)."""
        number = self._line_item_number(line_item_id)
        item = self.line_items[number]
        result: dict[str, Any] = {
            "id": f"{item['id']}/results/{user_id}",
            "scoreOf": item["id"],
            "userId": str(user_id),
            "resultMaximum": score_maximum if score_maximum is not None else item["scoreMaximum"],
            "timestamp": timestamp or time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        if score_given is not None:
            result["resultScore"] = score_given
        if comment is not None:
            result["comment"] = comment
        with self.lock:
            self.results[number][str(user_id)] = result
        return result

    def line_item(self, line_item_id: str | dict[str, Any]) -> dict[str, Any]:
        """The public view of a line item (by id URL or number)."""
        number = self._line_item_number(line_item_id)
        return {k: v for k, v in self.line_items[number].items() if not k.startswith("_")}

    def results_for(self, line_item_id: str | dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The stored results of a line item, by user id."""
        return dict(self.results[self._line_item_number(line_item_id)])

    def rotate_key(self) -> str:
        """Add a new signing key (new kid) and sign with it; old keys stay in the JWKS."""
        return self.keys.rotate().kid

    def invalidate_access_tokens(self) -> None:
        """Forget every granted access token (they answer 401 from now on)."""
        with self.lock:
            self.access_tokens.clear()

    # ------------------------------------------------------------------ browser side
    def new_browser(self) -> requests.Session:
        """A fresh "browser": its own cookie jar, no proxies from the environment."""
        session = requests.Session()
        session.trust_env = False
        session.headers["User-Agent"] = "Mozilla/5.0 (lti-peer browser)"
        session.headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
        return session

    def _pick_tool(self, client_id: str | None) -> ToolRegistration:
        with self.lock:
            if client_id is not None:
                if client_id not in self.tools:
                    raise KeyError(f"no tool registered with client_id {client_id!r}")
                return self.tools[client_id]
            if not self.tools:
                raise RuntimeError("no tool registered on the peer")
            return list(self.tools.values())[-1]  # the most recently registered

    def prepare_launch(
        self,
        user_id: str,
        context_id: str | None = None,
        resource_link_id: str | None = None,
        *,
        client_id: str | None = None,
        deployment_id: str | None = None,
        message_type: str = "LtiResourceLinkRequest",
        locale: str = "en",
        tamper: dict[str, Any] | None = None,
        extra_claims: dict[str, Any] | None = None,
        login_method: str = "POST",
        roles: list[str] | None = None,
        target_link_uri: str | None = None,
        document_target: str = "iframe",
    ) -> str:
        """Prepare a launch and return its hint: a real browser (Playwright) then opens
        ``start_url(hint)`` or ``lms_page_url(hint)``; ``launch`` plays it with requests."""
        if message_type not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
            raise ValueError(f"unsupported message type {message_type!r}")
        if login_method not in ("POST", "GET"):
            raise ValueError("login_method is POST or GET")
        tool = self._pick_tool(client_id)
        user_id = str(user_id)
        if user_id not in self.users:
            raise KeyError(f"no user {user_id!r}")
        if context_id is not None and context_id not in self.courses:
            raise KeyError(f"no course {context_id!r}")
        deep_linking = message_type == "LtiDeepLinkingRequest"

        if not deep_linking and context_id is not None and resource_link_id is None:
            links = [rl for (ctx, rl) in self.resource_links if ctx == context_id]
            if links:
                resource_link_id = links[0]
            else:
                resource_link_id = f"rl-{context_id}"
                self.add_resource_link(context_id, resource_link_id, "Badges")
        link = self.resource_links.get((context_id or "", resource_link_id or ""))

        if target_link_uri is None:
            if deep_linking:
                target_link_uri = tool.deep_link_url or tool.launch_url
            else:
                target_link_uri = (link or {}).get("target_link_uri") or tool.launch_url

        if roles is None:
            enrollment = self.enrollments.get((context_id or "", user_id))
            roles = list(enrollment["roles"]) if enrollment else []
            roles += [r for r in self.users[user_id]["extra_roles"] if r not in roles]
        else:
            roles = [role_uri(r) for r in roles]

        hint = secrets.token_urlsafe(16)
        pending = PendingLaunch(
            hint=hint,
            client_id=tool.client_id,
            deployment_id=deployment_id or tool.deployment_ids[0],
            user_id=user_id,
            context_id=context_id,
            resource_link_id=None if deep_linking else resource_link_id,
            message_type=message_type,
            target_link_uri=target_link_uri,
            locale=locale,
            roles=roles,
            login_method=login_method,
            document_target=document_target,
            tamper=dict(tamper or {}),
            extra_claims=dict(extra_claims or {}),
        )
        with self.lock:
            self.pending_launches[hint] = pending

        return hint

    def launch(
        self,
        browser: requests.Session,
        user_id: str,
        context_id: str | None = None,
        resource_link_id: str | None = None,
        *,
        client_id: str | None = None,
        deployment_id: str | None = None,
        message_type: str = "LtiResourceLinkRequest",
        locale: str = "en",
        tamper: dict[str, Any] | None = None,
        extra_claims: dict[str, Any] | None = None,
        login_method: str = "POST",
        roles: list[str] | None = None,
        target_link_uri: str | None = None,
        document_target: str = "iframe",
    ) -> requests.Response:
        """Play a user's launch end to end over HTTP and return the tool's final response.

        Third-party initiated login (form POST or GET) → the tool's redirect (302 or an
        HTML page that moves on) → the peer's strict auth endpoint → the auto-submitted
        id_token form to the redirect_uri. If the peer's auth endpoint refuses, its 400 is
        returned; if the tool's login answer does not lead to the peer, that answer is.
        ``client_id`` defaults to the most recently registered tool, ``deployment_id`` to
        its first deployment, ``roles`` to the enrolment's (plus the user's extra roles).
        """
        hint = self.prepare_launch(
            user_id, context_id, resource_link_id, client_id=client_id,
            deployment_id=deployment_id, message_type=message_type, locale=locale, tamper=tamper,
            extra_claims=extra_claims, login_method=login_method, roles=roles,
            target_link_uri=target_link_uri, document_target=document_target)
        # The LMS page that starts the launch: signs the user in on the peer (a session
        # cookie the auth endpoint checks) and sends the initiation to the tool.
        start = browser.get(self.url(f"/launch/{hint}"), allow_redirects=False, timeout=30)
        auth_resp, reached = nav.navigate_until(browser, start, self.auth_login_url)
        if not reached or auth_resp.status_code != 200:
            return auth_resp
        forms = nav.parse_forms(auth_resp.text)
        if not forms:
            return auth_resp
        form = forms[0]
        resp = browser.post(form.action, data=form.fields, allow_redirects=True, timeout=30)
        # The scripts of the tool's page, as a browser with JavaScript would run them.
        return type(self).page_scripts(browser, resp) if type(self).page_scripts else resp

    def start_url(self, hint: str) -> str:
        """The LMS page that starts a prepared launch (the browser goes here)."""
        return self.url(f"/launch/{hint}")

    def lms_page_url(self, hint: str) -> str:
        """An LMS course page embedding the prepared launch in an iframe, as Moodle does."""
        return self.url(f"/lms/{hint}")

    def follow(self, browser: requests.Session, resp: requests.Response) -> requests.Response:
        """Let the browser move on by itself from ``resp`` (auto-submitting forms, JS or meta
        redirects, 302s) until a page stays put; e.g. a tool's deep-linking response form."""
        for _ in range(nav.MAX_HOPS):
            step = nav.next_navigation(resp)
            if step is None:
                return resp
            resp = nav.perform(browser, step)
        raise RuntimeError("the page kept navigating")

    def new_registration_token(self, *, lifetime: int = 3600) -> str:
        """A registration token (JWT signed by the peer, scope "reg", sub = a new client_id)."""
        client_id = secrets.token_urlsafe(12)
        now = int(time.time())
        from .lib_glue import sign_jwt

        token = sign_jwt(
            {"sub": client_id, "scope": "reg", "iat": now, "exp": now + lifetime},
            self.keys.current,
        )
        with self.lock:
            self.registration_tokens[client_id] = token
        return token

    def dynamic_register(
        self,
        browser: requests.Session,
        tool_register_url: str,
        extra_query: dict[str, str] | None = None,
    ) -> requests.Response:
        """Start LTI Dynamic Registration: the admin's browser opens the tool's URL.

        GETs ``tool_register_url?openid_configuration=…&registration_token=…`` and returns
        what the tool answered (its back end calls the peer's /register meanwhile).
        """
        params = {
            "openid_configuration": self.openid_configuration_url,
            "registration_token": self.new_registration_token(),
            **(extra_query or {}),
        }
        sep = "&" if "?" in tool_register_url else "?"
        return browser.get(tool_register_url + sep + urlencode(params), timeout=30)

    # ------------------------------------------------------------------ signing helper
    def lib_registration(
        self,
        tool: ToolRegistration,
        *,
        deployment_id: str | None = None,
        tamper: dict[str, Any] | None = None,
        deep_link_url: str | None = None,
    ) -> PeerRegistration:
        """An ``lti1p3platform`` Registration for ``tool``, signing with the current key."""

        def on_signed(token: str, payload: dict[str, Any]) -> None:
            with self.lock:
                self.last_id_token = token
                self.last_id_token_claims = dict(payload)

        reg = PeerRegistration(self.keys.current, tamper=tamper, on_signed=on_signed)
        reg.set_iss(self.issuer).set_client_id(tool.client_id).set_deployment_id(
            deployment_id or tool.deployment_ids[0]
        ).set_launch_url(tool.launch_url).set_oidc_login_url(tool.login_url).set_tool_key_set_url(
            tool.jwks_url
        )
        if deep_link_url:
            reg.set_deeplink_launch_url(deep_link_url)
        return reg

    def tool_platform_claim(self) -> dict[str, str]:
        return {
            "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.issuer)),
            "name": f"LTI peer {self.name}",
            "description": "Independent LTI 1.3 platform for tests",
            "product_family_code": "peer",
            "version": "1.0",
        }
