"""Public verification of Open Badges: the ``/verify`` page and ``POST /api/v1/verify``.

Anyone may paste an assertion or credential URL, its JSON, a signed badge (JWS / VC-JWT)
or upload a baked PNG/SVG, and learn whether it is valid, invalid, revoked or expired,
why (reasons and every check), and what the 1EdTech Displayer checklist asks to show
(image, name, description, issuer, issue date, status). The logic is
:func:`lti_badges.openbadges.verify.verify`; this module only feeds it.

Abuse limits: no launch and no CSRF token (nothing is changed, nobody is signed in),
but pasted text, uploads and whole requests are bounded, a verification fetches at most
``MAX_FETCHES`` documents, and every fetch goes through the guarded fetcher of
:mod:`lti_badges.net` (http(s) only; HTTPS and public addresses only in production;
bounded sizes, redirects and time).

Documents on the tool's own ``BASE_URL`` are answered from the database, through the
same view functions that serve them publicly (so the bytes are the ones a remote
verifier gets), instead of over HTTP: a request that fetches from its own server would
deadlock a one-thread server, and costs a round trip otherwise. Every other address is
fetched with :func:`lti_badges.net.request`; that is :func:`lti_badges.net.get_json`
minus its "non-200 is an error" rule, because a hosted OB 2.0 assertion answering
``410 Gone`` means *revoked*, not *unreachable*.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lti_badges import issuing, net, urls
from lti_badges.openbadges.verify import Verdict, verify
from lti_badges.services import catalogue
from lti_badges.web.errors import ApiError, wants_json

bp = Blueprint("verify", __name__)

MAX_TEXT_BYTES = 256 * 1024  # a credential is a few kilobytes; a JWT too
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a baked badge image
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + MAX_TEXT_BYTES + 64 * 1024
MAX_FETCHES = 12  # assertion, badge, issuer, keys, lists, DID document… with room to spare
ACCEPT = "application/ld+json, application/json;q=0.9, application/vc+jwt;q=0.8, */*;q=0.1"

STATUS_LABELS = {
    "valid": lazy_gettext("Valid"),
    "invalid": lazy_gettext("Not valid"),
    "revoked": lazy_gettext("Revoked"),
    "expired": lazy_gettext("Expired"),
}
CHECK_LABELS = {
    "format": lazy_gettext("Badge format"),
    "structure": lazy_gettext("Structure"),
    "hosted": lazy_gettext("Hosted by the issuer"),
    "signature": lazy_gettext("Signature"),
    "issuer": lazy_gettext("Issuer"),
    "revocation": lazy_gettext("Revocation"),
    "validity": lazy_gettext("Validity dates"),
    "recipient": lazy_gettext("Recipient"),
}
CHECK_OUTCOMES = {
    "ok": lazy_gettext("passed"),
    "failed": lazy_gettext("did not pass"),
    "skipped": lazy_gettext("not checked"),
}


class FetchFailed(Exception):
    """A document could not be had; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None, document: Any = None):
        super().__init__(message)
        self.status = status
        self.document = document


class TooLarge(Exception):
    pass


# -- fetching ----------------------------------------------------------------------------


def _own_path(url: str) -> tuple[str, str] | None:
    """(path, query) relative to the app when ``url`` is on the tool's own BASE_URL."""
    base = urlsplit(current_app.config["BASE_URL"])
    parts = urlsplit(url)
    if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        return None
    prefix = base.path.rstrip("/")
    if prefix and not (parts.path == prefix or parts.path.startswith(prefix + "/")):
        return None
    return parts.path[len(prefix):] or "/", parts.query


def _decode(body: bytes, where: str) -> Any:
    text = body.decode("utf-8-sig", errors="replace").strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise FetchFailed(f"{where} did not answer with valid JSON") from exc
    return text  # a VC-JWT (/ob/credentials/<id>.jwt) or a signed assertion


def _fetch_own(path: str, query: str, url: str, accept: str = ACCEPT) -> Any:
    """One of the tool's public Open Badges documents, from the view that serves it."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(path, method="GET", query_args=query)
    except HTTPException as exc:
        raise FetchFailed(f"nothing is published at {url}", status=404) from exc
    if not endpoint.startswith("ob."):
        raise FetchFailed(f"{url} is not an Open Badges document", status=404)
    view = current_app.view_functions[endpoint]
    with current_app.test_request_context(path, query_string=query, headers={"Accept": accept},
                                          base_url=current_app.config["BASE_URL"]):
        try:
            resp = current_app.make_response(view(**args))
        except ApiError as exc:
            raise FetchFailed(exc.message, status=exc.status) from exc
        except issuing.IssuingError as exc:
            raise FetchFailed(exc.message, status=exc.status) from exc
        body = resp.get_data()
        status = resp.status_code
    if status == 410:
        raise FetchFailed(f"{url} answered 410 Gone", status=410, document=_decode(body, url))
    if status != 200:
        raise FetchFailed(f"{url} answered HTTP {status}", status=status)
    return _decode(body, url)


def _fetch_remote(url: str, policy: net.NetPolicy, accept: str = ACCEPT) -> Any:
    try:
        resp = net.request("GET", url, policy, what="badge document",
                           headers={"Accept": accept})
    except net.FetchError as exc:
        raise FetchFailed(str(exc)) from exc
    if resp.status_code == 410:
        try:
            document = json.loads(resp.content)
        except ValueError:
            document = None
        raise FetchFailed(f"{url} answered 410 Gone", status=410, document=document)
    if resp.status_code != 200:
        raise FetchFailed(f"{url} answered HTTP {resp.status_code}", status=resp.status_code)
    return _decode(resp.content, url)


def make_fetcher(policy: net.NetPolicy | None = None,
                 limit: int = MAX_FETCHES) -> Callable[[str], Any]:
    """The guarded fetcher :func:`verify` gets: http(s) URLs and did:web DIDs only, at most
    ``limit`` documents per verification. ``accept`` (``application/jose`` for the signed
    form of an OB 2.0 assertion) replaces the usual ``Accept`` header."""
    policy = policy or net.NetPolicy.from_config(current_app.config)
    count = 0

    def fetch(ref: str, accept: str | None = None) -> Any:
        nonlocal count
        count += 1
        if count > limit:
            raise FetchFailed(f"a verification fetches at most {limit} documents")
        url = ref
        if isinstance(ref, str) and ref.startswith("did:web:"):
            try:
                url = urls.local_url_for_did(ref.split("#", 1)[0])
            except ValueError as exc:
                raise FetchFailed(f"{ref} is not a valid did:web DID") from exc
        if not isinstance(url, str) or urlsplit(url).scheme.lower() not in ("http", "https"):
            raise FetchFailed("only http(s) addresses are fetched")
        own = _own_path(url)
        if own is not None:
            return _fetch_own(own[0], own[1], url, accept or ACCEPT)
        return _fetch_remote(url, policy, accept or ACCEPT)

    return fetch


def run_verification(data: str | bytes | dict[str, Any], recipient_email: str | None) -> Verdict:
    return verify(data, fetch=make_fetcher(), loader=issuing.context_loader(),
                  recipient_email=recipient_email)


# -- input ---------------------------------------------------------------------------------


def _email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    if not catalogue.is_email(value):
        raise ApiError(_("The recipient email address %(email)s is not valid.",
                         email=value[:80]), 400, "invalid_email")
    return value


def _check_length() -> None:
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise TooLarge


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, which JSON can spell as "\ud800"
        raise ApiError(_("The input holds text that is not valid Unicode (a lone surrogate): "
                         "copy the badge again from its source."), 400, "invalid_text") from None
    if size > MAX_TEXT_BYTES:
        raise TooLarge
    return value


def _upload() -> bytes | None:
    upload = request.files.get("file") or request.files.get("image")
    if upload is None:  # an empty file input arrives as an empty part: None below
        return None
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge
    return data or None


def _form_input() -> tuple[str | bytes | None, str | None]:
    _check_length()
    data: str | bytes | None = _upload()
    if data is None:
        data = _text(request.form.get("input"))
    return data, request.form.get("recipient_email")


def _too_large_message() -> str:
    return _("That is too large to be a badge: paste at most %(text)d KB of text or upload an "
             "image of at most %(image)d MB.", text=MAX_TEXT_BYTES // 1024,
             image=MAX_UPLOAD_BYTES // (1024 * 1024))


# -- the page ------------------------------------------------------------------------------


def _page(status: int = 200, **context: Any) -> Response:
    context.setdefault("form", {"input": "", "recipient_email": ""})
    resp = Response(render_template(
        "verify/index.html", status_labels=STATUS_LABELS, check_labels=CHECK_LABELS,
        check_outcomes=CHECK_OUTCOMES, safe_href=safe_href, image_src=image_src,
        show_date=show_date, max_text_kb=MAX_TEXT_BYTES // 1024,
        max_image_mb=MAX_UPLOAD_BYTES // (1024 * 1024), **context))
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


def safe_href(value: Any) -> str | None:
    """Only http(s) links from a verified (or not) document: never javascript: or data:."""
    if isinstance(value, str) and urlsplit(value).scheme.lower() in ("http", "https"):
        return value
    return None


def image_src(value: Any) -> str | None:
    """An image the page may show under its CSP: a data: image, or one of the tool's own."""
    if not isinstance(value, str):
        return None
    if value.startswith("data:image/") and len(value) < 1_000_000:
        return value
    return value if _own_path(value) is not None else None


def show_date(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    from flask_babel import format_datetime

    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return value
    return format_datetime(when, "long" if when.tzinfo else "medium")


@bp.get("/verify")
def page() -> Response:
    return _page()


@bp.post("/verify")
def submit() -> Response:
    form = {"input": (request.form.get("input") or "")[:MAX_TEXT_BYTES],
            "recipient_email": (request.form.get("recipient_email") or "")[:320]}
    try:
        data, email = _form_input()
        email = _email(email)
    except TooLarge:
        return _page(413, error=_too_large_message(), form={"input": "", "recipient_email": ""})
    except ApiError as exc:
        return _page(exc.status, error=exc.message, form=form)
    if data is None:
        return _page(400, error=_("Paste a badge URL, its JSON or its signed text, or choose a "
                                  "baked badge image."), form=form)
    verdict = run_verification(data, email)
    if isinstance(data, bytes):
        form["input"] = ""
    return _page(verdict=verdict, form=form)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    if wants_json():
        resp = jsonify({"error": "too_large", "message": _too_large_message()})
        resp.status_code = 413
        return resp
    return _page(413, error=_too_large_message())


# -- the JSON API --------------------------------------------------------------------------


@bp.post("/api/v1/verify")
def api() -> Response:
    """``{"input": URL | JSON text | JSON object | JWS, "recipient_email"?}``, or multipart
    with ``file`` (a baked image) or ``input``, or the raw image/JWS/JSON as the body.
    Answers the verdict (200 whatever the status), 400 without input, 413 when too large."""
    try:
        _check_length()
        email: Any = None
        data: Any = None
        if request.is_json:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise ApiError('Send a JSON object: {"input": "<badge URL, JSON or JWS>", '
                               '"recipient_email": "<optional>"}.', 400, "invalid_body")
            data = body.get("input")
            if isinstance(data, dict):
                if len(json.dumps(data)) > MAX_TEXT_BYTES:
                    raise TooLarge
            elif data is not None and not isinstance(data, str):
                raise ApiError("'input' is a string (URL, JSON or JWS) or a JSON object.", 400,
                               "invalid_input")
            else:
                data = _text(data)
            email = body.get("recipient_email")
        elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            data, email = _form_input()
        else:
            raw = request.get_data(cache=False)
            if len(raw) > MAX_UPLOAD_BYTES:
                raise TooLarge
            data, email = raw or None, request.args.get("recipient_email")
        email = _email(email)
    except TooLarge:
        raise ApiError(_too_large_message(), 413, "too_large") from None
    if data is None:
        raise ApiError("Nothing to verify: give 'input' (a badge URL, its JSON or its JWS) or "
                       "upload the baked image as 'file'.", 400, "missing_input")
    verdict = run_verification(data, email)
    resp = jsonify({**verdict.to_json(), "labels": {
        "status": str(STATUS_LABELS[verdict.status]),
        "checks": {c.name: str(CHECK_LABELS.get(c.name, c.label)) for c in verdict.checks}}})
    resp.headers["Cache-Control"] = "no-store"
    return resp
