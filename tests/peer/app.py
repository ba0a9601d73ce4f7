"""The peer's Flask app: JWKS, launch start, the strict OIDC auth endpoint, deep-link return.

Service endpoints (token, NRPS, AGS) live in ``services``; dynamic registration in
``dynreg``. Every handler reads and writes the ``PlatformPeer`` it was built for.
"""

from __future__ import annotations

import html
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import flask
import jwt
from flask import Flask, Response, request, session
from lti1p3platform.exceptions import LtiDeepLinkingResponseException, LtiException

from . import dynreg, services
from .lib_glue import FlaskRequest, PeerMessageLaunch, PeerOIDCLogin, PeerPlatformConfig
from .vocab import (
    AGS_ENDPOINT,
    AGS_SCOPES,
    DL_DATA,
    DL_ERRORLOG,
    DL_ERRORMSG,
    DL_LOG,
    DL_MSG,
    LAUNCH_PRESENTATION,
    LIS,
    SCOPE_LINEITEM,
    SCOPE_NRPS,
    SCOPE_RESULT_RO,
    SCOPE_SCORE,
    TOOL_PLATFORM,
)

if TYPE_CHECKING:
    from .platform import PendingLaunch, PlatformPeer, ToolRegistration


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def auto_submit_form(action: str, fields: dict[str, str]) -> str:
    """An HTML page that POSTs ``fields`` to ``action`` on load (what LMSs send)."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
        for k, v in fields.items()
    )
    return (
        "<!DOCTYPE html><html><head><title>Launching…</title></head><body>"
        f'<form id="lti_auto_submit" action="{html.escape(action)}" method="POST">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('lti_auto_submit').submit();</script>"
        "</body></html>"
    )


# LTI 1.3 Core §5.4.4 / Appendix: custom parameter substitution variables we resolve.
def _substitute(
    custom: dict[str, str],
    user: dict[str, Any],
    course: dict[str, Any] | None,
    link: dict[str, Any] | None,
    roles: list[str],
) -> dict[str, str]:
    values = {
        "$User.id": user["user_id"],
        "$User.username": user.get("username"),
        "$Person.name.full": user.get("name"),
        "$Person.name.given": user.get("given_name"),
        "$Person.name.family": user.get("family_name"),
        "$Person.email.primary": user.get("email"),
        "$Person.sourcedId": user.get("sourcedid"),
        "$Context.id": course and course["id"],
        "$Context.title": course and course["title"],
        "$Context.label": course and course["label"],
        "$ResourceLink.id": link and link["id"],
        "$ResourceLink.title": link and link["title"],
        "$Membership.role": ",".join(roles),
    }
    out = {}
    for key, value in custom.items():
        resolved = values.get(value) if isinstance(value, str) else None
        out[key] = resolved if resolved is not None else value  # unknown: sent as is
    return out


def _auth_error(peer: PlatformPeer, params: dict[str, str]) -> tuple[str | None, Any]:
    """Check an OIDC authentication request (LTI 1.3 Core §5.1.1.2, Security §5.1.1.2).

    lti1p3platform only checks nonce, state, redirect_uri presence and client_id; a real
    platform also checks the rest, so the peer does.
    """
    scope = params.get("scope", "").split()
    if "openid" not in scope:
        return "invalid_scope: scope must include openid", None
    if params.get("response_type") != "id_token":
        return "unsupported_response_type: response_type must be id_token", None
    if params.get("response_mode") != "form_post":
        return "invalid_request: response_mode must be form_post", None
    if params.get("prompt") != "none":
        return "invalid_request: prompt must be none", None
    client_id = params.get("client_id", "")
    tool = peer.tools.get(client_id)
    if tool is None:
        return f"unauthorized_client: unknown client_id {client_id!r}", None
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in tool.redirect_uris:
        return f"invalid_request: redirect_uri {redirect_uri!r} is not registered", None
    if not params.get("nonce"):
        return "invalid_request: nonce is required", None
    if not params.get("state"):
        # OIDC makes state only RECOMMENDED; lti1p3platform (and every real LMS flow) needs it.
        return "invalid_request: state is required by this platform", None
    pending = peer.pending_launches.get(params.get("lti_message_hint", ""))
    if pending is None or pending.used:
        return "invalid_request: lti_message_hint unknown or already used", None
    if pending.client_id != client_id:
        return "invalid_request: client_id does not match the launch", None
    if params.get("login_hint") != pending.user_id:
        return "login_required: login_hint does not match the launch", None
    if session.get("user_id") != pending.user_id:
        return "login_required: login_hint is not the user signed in to the platform", None
    return None, (tool, pending)


def _build_launch(
    peer: PlatformPeer, tool: ToolRegistration, pending: PendingLaunch
) -> dict[str, Any]:
    """Build and sign the id_token with lti1p3platform; returns id_token, state, launch_url."""
    deep_linking = pending.message_type == "LtiDeepLinkingRequest"
    user = peer.users[pending.user_id]
    course = peer.courses.get(pending.context_id or "")
    link = peer.resource_links.get((pending.context_id or "", pending.resource_link_id or ""))

    registration = peer.lib_registration(
        tool,
        deployment_id=pending.deployment_id,
        tamper=pending.tamper,
        deep_link_url=pending.target_link_uri if deep_linking else None,
    )
    config = PeerPlatformConfig(registration=registration)
    launch = PeerMessageLaunch(FlaskRequest(request), config)
    launch.set_user_data(
        pending.user_id,
        pending.roles,
        full_name=user["name"] if tool.shares_name else None,
        email_address=user["email"] if tool.shares_email else None,
    )
    if course:
        launch.set_launch_context_claim(
            course["id"], [course["type"]], course["title"], course["label"]
        )
    if link and not deep_linking:
        launch.set_resource_link_claim(link["id"], link["description"] or None, link["title"])
    elif pending.resource_link_id and not deep_linking:
        launch.set_resource_link_claim(pending.resource_link_id)  # a link the LMS never stored
    custom = _substitute({**tool.custom, **(link or {}).get("custom", {})}, user, course, link,
                         pending.roles)
    if custom:
        launch.set_custom_parameters_claim(custom)
    launch.set_launch_url(pending.target_link_uri)

    if course and set(AGS_SCOPES) & set(tool.scopes):
        lineitem_url = None
        if link and not deep_linking:
            own = [
                item["id"]
                for item in peer.line_items.values()
                if item["_context"] == course["id"] and item.get("resourceLinkId") == link["id"]
            ]
            lineitem_url = own[0] if len(own) == 1 else None
        launch.set_ags(
            peer.lineitems_url(course["id"]),
            lineitem_url,
            allow_creating_lineitems=SCOPE_LINEITEM in tool.scopes,
            results_service_enabled=SCOPE_RESULT_RO in tool.scopes,
            scores_service_enabled=SCOPE_SCORE in tool.scopes,
        )
        # The library offers lineitem *or* lineitem.readonly; list what the tool may use.
        launch.extra_claims[AGS_ENDPOINT]["scope"] = [s for s in AGS_SCOPES if s in tool.scopes]
    if course and SCOPE_NRPS in tool.scopes:
        launch.set_nrps(peer.memberships_url(course["id"]))

    if deep_linking:
        data = secrets.token_urlsafe(12)
        with peer.lock:
            peer.dl_requests[data] = {
                "client_id": tool.client_id,
                "deployment_id": pending.deployment_id,
                "context_id": pending.context_id,
                "user_id": pending.user_id,
                "accept_types": list(peer.dl_accept_types),
                "answered": False,
            }
        launch.set_dl(
            peer.deep_link_return_url,
            title=(course or {}).get("title", ""),
            description="Choose a badge to add",
            accept_types=set(peer.dl_accept_types),
            extra_data=data,  # type: ignore[arg-type]  # DL 2.0 §4.4.1: an opaque string
        )

    extra: dict[str, Any] = {
        TOOL_PLATFORM: peer.tool_platform_claim(),
        LIS: {
            "person_sourcedid": user.get("sourcedid") or "",
            "course_section_sourcedid": (course or {}).get("sourcedid") or (course or {}).get(
                "label", ""
            ),
        },
        LAUNCH_PRESENTATION: {"locale": pending.locale}
        if deep_linking
        else {
            "locale": pending.locale,
            "document_target": pending.document_target,
            "return_url": peer.url("/return"),
        },
    }
    if tool.shares_name:
        for key in ("given_name", "family_name"):
            if user.get(key):
                extra[key] = user[key]
    launch.set_extra_claims(extra)
    launch.set_extra_claims(pending.extra_claims)
    launch.set_id_token_expiration(peer.id_token_lifetime)
    return launch.lti_launch()


def create_app(peer: PlatformPeer) -> Flask:
    """The Flask app serving ``peer``."""
    app = Flask(f"lti_peer_{peer.name}")
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_NAME"] = f"lti_peer_{peer.name}"

    @app.after_request
    def log_request(resp: Response) -> Response:
        with peer.lock:
            peer.request_log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.args.to_dict(),
                    "status": resp.status_code,
                }
            )
        return resp

    @app.get("/jwks")
    def jwks() -> Response:
        return flask.jsonify(peer.keys.jwks())

    @app.get("/lms/<hint>")
    def lms_page(hint: str) -> Response:
        # What Moodle shows for "embed": the tool in an iframe inside the course page.
        if hint not in peer.pending_launches:
            return _text(404, "no such launch")
        src = html.escape(f"/launch/{hint}")
        return Response(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Course — LMS</title>"
            "</head><body><header><h1>LMS course page</h1></header><main>"
            f'<iframe id="tool" title="Badges" src="{src}" width="1000" height="800" '
            'allow="clipboard-write"></iframe></main></body></html>', mimetype="text/html")

    @app.get("/launch/<hint>")
    def launch_start(hint: str) -> Response:
        pending = peer.pending_launches.get(hint)
        if pending is None or pending.used:
            return _text(404, "no such launch")
        tool = peer.tools[pending.client_id]
        session["user_id"] = pending.user_id  # the user is signed in to the LMS
        registration = peer.lib_registration(tool, deployment_id=pending.deployment_id)
        login = PeerOIDCLogin(None, PeerPlatformConfig(registration=registration))
        login.set_lti_message_hint(hint=hint)
        login.set_launch_url(pending.target_link_uri)
        url = login.initiate_login(pending.user_id)
        if pending.login_method == "GET":
            return flask.redirect(url, code=302)
        # LTI 1.3 Core §5.1.1: the initiation may be a form POST; keep the login URL's own query.
        own = dict(parse_qsl(urlsplit(tool.login_url).query))
        fields = {k: v for k, v in parse_qsl(urlsplit(url).query) if k not in own}
        return Response(auto_submit_form(tool.login_url, fields), mimetype="text/html")

    @app.route("/auth", methods=["GET", "POST"])
    def auth() -> Response:
        params = (request.form if request.method == "POST" else request.args).to_dict()
        with peer.lock:
            error, found = _auth_error(peer, params)
            if error:
                return _text(400, error)
            tool, pending = found
            pending.used = True
        try:
            data = _build_launch(peer, tool, pending)
        except Exception as exc:  # a bug in the peer: say so rather than a bare 500
            return _text(500, f"peer failed to build the launch: {exc!r}")
        state = str(pending.tamper.get("state", data["state"]))
        action = data["launch_url"]
        with peer.lock:
            peer.last_launch_form = {"action": action, "id_token": data["id_token"], "state": state}
        return Response(
            auto_submit_form(action, {"id_token": data["id_token"], "state": state}),
            mimetype="text/html",
        )

    @app.get("/return")
    def launch_return() -> Response:
        return _text(200, "returned to the platform")

    @app.post("/deep_link_return")
    def deep_link_return() -> Response:
        return _deep_link_return(peer)

    services.register(app, peer)
    dynreg.register(app, peer)
    return app


def _deep_link_return(peer: PlatformPeer) -> Response:
    """Validate an LtiDeepLinkingResponse (DL 2.0 §4.5) and record its content items."""
    token = request.form.get("JWT")
    if not token:
        return _text(400, "missing JWT form parameter")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        return _text(400, f"malformed JWT: {exc}")
    client_id = unverified.get("iss")
    tool = peer.tools.get(client_id) if isinstance(client_id, str) else None
    if tool is None:
        return _text(400, f"iss {client_id!r} is not a registered client_id")

    dl_request = peer.dl_requests.get(str(unverified.get(DL_DATA)))
    accept_types = dl_request["accept_types"] if dl_request else peer.dl_accept_types
    registration = peer.lib_registration(tool)
    config = PeerPlatformConfig(
        registration=registration, on_fetch=lambda url: peer.jwks_fetches.append(url)
    )
    config.get_registration()
    config.set_accepted_deeplinking_types(accept_types)
    try:
        claims = config.tool_validate_and_decode(token)
        items = config.validate_deeplinking_resp({"JWT": token})
    except (LtiException, LtiDeepLinkingResponseException, jwt.PyJWTError) as exc:
        return _text(400, f"invalid deep linking response: {exc}")
    except Exception as exc:  # e.g. a content item without "type"
        return _text(400, f"invalid deep linking response: {exc!r}")

    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    problems = []
    if peer.issuer not in auds:
        problems.append(f"aud {aud!r} must be the platform issuer {peer.issuer}")
    for claim in ("exp", "iat", "nonce"):
        if not claims.get(claim):
            problems.append(f"{claim} is required")
    if claims.get("https://purl.imsglobal.org/spec/lti/claim/version") != "1.3.0":
        problems.append("version must be 1.3.0")
    deployment_id = claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
    if deployment_id not in tool.deployment_ids:
        problems.append(f"deployment_id {deployment_id!r} is not one of this tool's")
    if dl_request is None:
        problems.append("data claim must echo deep_linking_settings.data")
    else:
        if dl_request["answered"]:
            problems.append("this deep linking request was already answered")
        if dl_request["client_id"] != client_id:
            problems.append("response comes from another client than the request went to")
        if dl_request["deployment_id"] != deployment_id:
            problems.append("deployment_id differs from the request's")
    for item in items:
        line_item = item.get("lineItem") if isinstance(item, dict) else None
        if line_item is not None:
            maximum = line_item.get("scoreMaximum")
            if not isinstance(maximum, int | float) or isinstance(maximum, bool) or maximum <= 0:
                problems.append("lineItem.scoreMaximum must be a positive number")
    if problems:
        return _text(400, "invalid deep linking response: " + "; ".join(problems))

    created = []
    with peer.lock:
        dl_request["answered"] = True
        context_id = dl_request["context_id"]
        if context_id:
            # auto_create: the LMS adds the chosen resource links (and their grade columns).
            for item in items:
                if item.get("type") != "ltiResourceLink":
                    continue
                link_id = f"dl-{peer._next_id()}"
                peer.add_resource_link(
                    context_id,
                    link_id,
                    item.get("title", ""),
                    description=item.get("text", ""),
                    target_link_uri=item.get("url"),
                    custom=item.get("custom") or {},
                )
                entry: dict[str, Any] = {"resource_link_id": link_id}
                if item.get("lineItem"):
                    li = item["lineItem"]
                    entry["line_item"] = peer.add_line_item(
                        context_id,
                        li.get("label") or item.get("title", ""),
                        li["scoreMaximum"],
                        resource_link_id=link_id,
                        tag=li.get("tag"),
                        resource_id=li.get("resourceId"),
                        owner=client_id,
                    )
                created.append(entry)
        peer.deep_link_responses.append(
            {
                "client_id": client_id,
                "deployment_id": deployment_id,
                "context_id": context_id,
                "content_items": items,
                "msg": claims.get(DL_MSG),
                "errormsg": claims.get(DL_ERRORMSG),
                "log": claims.get(DL_LOG),
                "errorlog": claims.get(DL_ERRORLOG),
                "created": created,
                "claims": claims,
            }
        )
    body = f"<p>Received {len(items)} content item(s).</p>"
    if claims.get(DL_MSG):
        body += f"<p>{html.escape(str(claims[DL_MSG]))}</p>"
    return Response(body, mimetype="text/html")

