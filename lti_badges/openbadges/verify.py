"""Verifying Open Badges 2.0 assertions and 3.0 credentials: the logic behind
the ``/verify`` page and the JSON API.

Pure code: no Flask, no database, no network of its own. :func:`verify` takes
what a person pasted or uploaded — an assertion or credential URL, JSON, a
compact JWS/JWT, or the bytes of a baked PNG/SVG — and returns a
:class:`Verdict`: a status (``valid``, ``invalid``, ``revoked``,
``expired``), reasons in plain English, every named check with its outcome,
and what the 1EdTech Displayer checklist asks a displayer to show.

Documents are obtained only through the ``fetch`` callable the caller gives
(the web layer's guarded fetcher): parsed JSON for ``http(s)`` URLs, and for a
``did:web`` DID the DID document (the fetcher resolves it with
:func:`lti_badges.openbadges.keys.did_web_url`, which lets it map the host to
plain HTTP in development). Called as ``fetch(url, accept=JOSE)`` it asks the
address for its signed form (content negotiation, ``Accept: application/jose``)
and answers the text: that is how a *signed* OB 2.0 assertion given by its URL
is verified, from the JWS the issuer serves there. A fetcher may raise an exception carrying
``status`` (or ``status_code``) 410 for a hosted assertion answered with
``410 Gone``; it is then treated as revoked (OB 2.0 § "Revoking Hosted
Assertions"). Nothing else is ever fetched, and JSON-LD contexts come from the
given :class:`~lti_badges.openbadges.contexts.ContextLoader` only.

Which spec rule each step follows:

* OB 2.0 (IMS "Open Badges v2.0", § Verification): *HostedBadge* — the input
  only identifies the hosted URL; the document fetched there is verified, its
  ``id`` must be that URL, and assertion and BadgeClass must be in the issuer
  Profile's hosted scope (same origin by default, or its VerificationObject's
  ``startsWith`` / ``allowedOrigins``). *SignedBadge* — steps 1-8 of "Steps to
  verify a JWS-signed badge Assertion": the key named in
  ``verification.creator`` must be listed in the issuer Profile's
  ``publicKey`` and owned by the issuer; RS256; the issuer's
  ``revocationList`` must not list the assertion.
* OB 3.0 §9.1 "OpenBadgeCredential Verification": (1) conformance — contexts,
  types, a subject with ``id`` and/or ``identifier``; (2) the proof — VC-JWT
  per §8.2.6 or an embedded ``eddsa-rdfc-2022`` proof, with keys from the
  issuer's DID document (``assertionMethod``); (4) status — the
  ``BitstringStatusListEntry`` bit in a status list credential that is itself
  signed by the issuer, then ``validFrom`` / ``validUntil``; (5) the
  recipient, when a known email is given (§9.3 "Verify the Recipient Using an
  Identifier"). Refresh (3) and endorsements (6) are not supported.
* The ``display`` dict carries what the OB 3.0 Displayer conformance tests ask
  to show: image, name, description, issuer name, issued date, status — plus
  expiry, criteria and the recipient as "hashed email".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pyld import jsonld

from lti_badges.clock import iso_z

from . import baking, keys, multibase, ob2, proofs
from .contexts import OB2_CONTEXT, VC_V2, ContextError, context_error_in
from .ob3 import TermExpansionError, check_terms_expand
from .status_list import BitstringStatusList, StatusListError

__all__ = [
    "CHECK_LABELS",
    "JOSE",
    "Check",
    "Fetcher",
    "Verdict",
    "verify",
]

Status = Literal["valid", "invalid", "revoked", "expired"]
CheckStatus = Literal["ok", "failed", "skipped"]
Fetcher = Callable[..., Any]  # fetch(url) or fetch(url, accept=JOSE)
JOSE = "application/jose"

VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB3_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
OB2_CONTEXTS = frozenset({OB2_CONTEXT, "https://openbadgespec.org/v2/context.json"})
OB3_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "exp", "iat", "aud")

# Inputs beyond this are refused before parsing (the web layer limits uploads
# too; this keeps the pure code safe when called from elsewhere).
MAX_INPUT_BYTES = 5 * 1024 * 1024
# verify_vc_jwt checks nbf/exp against the wall clock; verification here uses
# the caller's ``now`` (and reports "expired" rather than a bad signature), so
# the JWT library's own time checks are neutralised with a leeway of ~3000 years.
_NO_JWT_TIME_CHECK = 10**11

CHECK_LABELS: Mapping[str, str] = {
    "format": "Badge format",
    "structure": "Structure",
    "hosted": "Hosted by the issuer",
    "signature": "Signature",
    "issuer": "Issuer",
    "revocation": "Revocation",
    "validity": "Validity dates",
    "recipient": "Recipient",
}
_PLANS: Mapping[str, tuple[str, ...]] = {
    "ob2-hosted": ("format", "structure", "hosted", "issuer", "revocation", "validity", "recipient"),
    "ob2-signed": ("format", "structure", "signature", "issuer", "revocation", "validity", "recipient"),
    "ob3-data-integrity": (
        "format",
        "structure",
        "signature",
        "issuer",
        "revocation",
        "validity",
        "recipient",
    ),
    "ob3-vc-jwt": ("format", "structure", "signature", "issuer", "revocation", "validity", "recipient"),
}
_NOT_REACHED = "Not checked: an earlier step failed."
_BAD_SIGNATURE = "The signature does not match the issuer's key."
_SIGNED_BY = "Signed by {}, whose DID document lists the key for issuing (assertionMethod)."

_HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_JWS_LIKE = re.compile(r"^[A-Za-z0-9_=-]*(\.[A-Za-z0-9_=-]*)+$")


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass
class Check:
    """One named verification step: ``ok``, ``failed`` or ``skipped``, and why."""

    name: str
    status: CheckStatus
    message: str
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            self.label = CHECK_LABELS.get(self.name, self.name.capitalize())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    """The outcome of :func:`verify`; :meth:`to_json` is the JSON API's body."""

    status: Status
    reasons: list[str]
    checks: list[Check]
    format: str
    display: dict[str, Any]
    document: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def check(self, name: str) -> Check | None:
        """The check called ``name``, if it was planned."""
        return next((c for c in self.checks if c.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reasons": list(self.reasons),
            "checks": [c.to_json() for c in self.checks],
            "format": self.format,
            "display": self.display,
            "document": self.document,
        }


class _Stop(Exception):
    """Verification cannot go on; the failure is already recorded."""


@dataclass
class _Run:
    """The state of one verification: checks so far, flags, display, fetch cache."""

    fetch: Fetcher
    loader: Any
    now: datetime
    recipient_email: str | None
    checks: dict[str, Check] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    format: str = "unknown"
    display: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] | None = None
    invalid: bool = False
    revoked: bool = False
    expired: bool = False
    current: str = "format"
    origin: str = ""
    _cache: dict[str, Any] = field(default_factory=dict)

    # -- checks -------------------------------------------------------------

    def plan(self, fmt: str) -> None:
        self.format = fmt
        for name in _PLANS[fmt]:
            self.checks.setdefault(name, Check(name, "skipped", _NOT_REACHED))

    def step(self, name: str) -> None:
        self.current = name

    def ok(self, name: str, message: str) -> None:
        self.checks[name] = Check(name, "ok", message)

    def skip(self, name: str, message: str) -> None:
        self.checks[name] = Check(name, "skipped", message)

    def fail(
        self,
        name: str,
        message: str,
        reason: str | None = None,
        *,
        kind: Literal["invalid", "revoked", "expired"] = "invalid",
        stop: bool = True,
    ) -> None:
        """Record a failed check (and the person-facing reason); stop unless told not to."""
        self.checks[name] = Check(name, "failed", message)
        text = reason or message
        if text not in self.reasons:
            self.reasons.append(text)
        if kind == "invalid":
            self.invalid = True
        elif kind == "revoked":
            self.revoked = True
        else:
            self.expired = True
        if stop:
            raise _Stop

    # -- fetching -----------------------------------------------------------

    def get(self, url: Any, what: str, check: str, *, gone_ok: bool = False) -> Any:
        """``fetch(url)``, cached; a failure fails ``check`` with "The <what> at <url>
        could not be fetched." Only http(s) URLs and did:web DIDs are fetched."""
        if not isinstance(url, str) or not (_HTTP_URL.match(url) or url.startswith("did:web:")):
            self.fail(check, f"The {what} is identified by {_show(url)}, which is not an HTTP(S) URL.")
        if url in self._cache:
            return self._cache[url]
        where = url
        if url.startswith("did:web:"):
            try:
                where = f"{url} ({keys.did_web_url(url)})"
            except ValueError:
                self.fail(check, f"The {what} {_show(url)} is not a valid did:web DID.")
        try:
            doc = self.fetch(url)
        except Exception as exc:
            status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
            if gone_ok and status == 410:
                # OB 2.0 "Revoking Hosted Assertions": 410 Gone means revoked.
                body = getattr(exc, "document", None)
                doc = body if isinstance(body, dict) else {"id": url, "revoked": True}
            else:
                detail = _exc_detail(exc)
                self.fail(
                    check,
                    f"The {what} at {where} could not be fetched{detail}.",
                    f"The {what} at {where} could not be fetched.",
                )
        if isinstance(doc, bytes | bytearray):
            try:
                doc = json.loads(doc)
            except (ValueError, RecursionError):
                self.fail(check, f"The {what} at {where} is not JSON.")
        if not isinstance(doc, dict | str):
            self.fail(check, f"The {what} at {where} is not a JSON object.")
        self._cache[url] = doc
        return doc

    def get_signed(self, url: str) -> str:
        """The signed form (compact JWS) the address of a signed OB 2.0 assertion serves
        when asked for ``application/jose``; a failure fails ``format``."""
        key = "jose " + url
        if key not in self._cache:
            try:
                text = self.fetch(url, accept=JOSE)
            except Exception as exc:
                self.fail(
                    "format",
                    f"The assertion at {url} is signed, but its signed form (JWS) could not be "
                    f"fetched there{_exc_detail(exc)}.",
                    f"The assertion at {url} is signed, but its signed form could not be fetched.",
                )
            if isinstance(text, bytes | bytearray):
                text = bytes(text).decode("utf-8", errors="replace")
            text = text.strip() if isinstance(text, str) else ""
            if not (_JWS_LIKE.match(text) and text.count(".") == 2):
                self.fail(
                    "format",
                    f"The assertion at {url} is signed (verification type signed), but that address "
                    f"does not answer {JOSE} with its JWS. Verify the signed badge itself: its JWS "
                    "or the baked image.",
                )
            self._cache[key] = text
        return self._cache[key]

    def get_object(self, url: Any, what: str, check: str, *, id_required: bool = True) -> dict[str, Any]:
        """A fetched JSON object that identifies itself by the URL it came from
        (``id`` may be absent only when ``id_required`` is false)."""
        doc = self.get(url, what, check)
        if not isinstance(doc, dict):
            self.fail(check, f"The {what} at {url} is not a JSON object.")
        allowed = (url,) if id_required else (None, url)
        if doc.get("id") not in allowed:
            self.fail(
                check,
                f"The {what} fetched from {url} says its id is {_show(doc.get('id'))}.",
                f"The {what} at {url} does not identify itself by that URL.",
            )
        return doc

    # -- result -------------------------------------------------------------

    def verdict(self) -> Verdict:
        status: Status
        if self.invalid:
            status = "invalid"
        elif self.revoked:
            status = "revoked"
        elif self.expired:
            status = "expired"
        else:
            status = "valid"
        if status == "valid":
            issuer = self.display.get("issuer_name") or "its issuer"
            self.reasons = [f"This badge is authentic: issued by {issuer}, not revoked and not expired."]
        if not self.checks:
            self.checks["format"] = Check("format", "failed", self.reasons[0] if self.reasons else "")
        self.display["status"] = status
        order = list(_PLANS.get(self.format, ("format",)))
        checks = [self.checks[n] for n in order if n in self.checks]
        checks += [c for n, c in self.checks.items() if n not in order]
        return Verdict(status, self.reasons, checks, self.format, self.display, self.document)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def verify(
    input: str | bytes | dict[str, Any],
    *,
    fetch: Fetcher,
    loader: Any,
    now: datetime | None = None,
    recipient_email: str | None = None,
) -> Verdict:
    """Verify an Open Badge given as a URL, JSON (text or dict), a compact
    JWS/JWT, or a baked PNG/SVG image. Never raises: anything malformed ends
    as an ``invalid`` verdict with a reason."""
    when = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    email = recipient_email.strip() if isinstance(recipient_email, str) and recipient_email.strip() else None
    run = _Run(fetch=fetch, loader=loader, now=when, recipient_email=email)
    try:
        _dispatch(run, input, allow_url=True)
    except _Stop:
        pass
    except Exception as exc:  # the page and API promise a verdict, never an error
        try:
            run.fail(
                run.current,
                f"Verification stopped on an unexpected error ({type(exc).__name__}: {_clip(str(exc))}).",
                "The badge could not be verified: it is malformed in a way this verifier did not expect.",
                stop=False,
            )
        except _Stop:  # pragma: no cover - stop=False never raises
            pass
    return run.verdict()


def _dispatch(run: _Run, data: Any, *, allow_url: bool) -> None:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > MAX_INPUT_BYTES:
            run.fail("format", "The input is too large to be a badge.")
        kind = _image_kind(raw)
        if kind:
            _verify_image(run, raw, kind)
            return
        try:
            data = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            run.fail("format", "The file is neither a PNG or SVG image nor text (JSON, URL or JWS).")
    if isinstance(data, Mapping):
        _verify_document(run, dict(data))
    elif isinstance(data, str):
        _verify_text(run, data, allow_url=allow_url)
    else:
        run.fail("format", f"Cannot verify a {type(data).__name__}: give a URL, JSON, a JWS or an image.")


def _image_kind(raw: bytes) -> str | None:
    try:
        return baking.image_kind(raw)
    except baking.BakingError:
        return None


def _verify_image(run: _Run, raw: bytes, kind: str) -> None:
    """Baked badge: the OB 3.0 credential if there is one (OB 3.0 §5.3 "Baked
    Badge"), else the OB 2.0 assertion (Open Badges Baking 2.0)."""
    run.display["baked"] = kind
    try:
        payload = baking.unbake_ob3(raw)
        run.origin = f" (baked in a {kind.upper()} image)"
        if payload is None:
            payload = baking.unbake_ob2(raw)
    except (baking.BakingError, UnicodeDecodeError, ValueError) as exc:
        run.fail("format", f"The {kind.upper()} image could not be read: {_clip(str(exc))}")
    if payload is None:
        run.fail(
            "format",
            f"The {kind.upper()} image carries no Open Badge: nothing is baked into it.",
        )
    _dispatch(run, payload, allow_url=True)


def _verify_text(run: _Run, text: str, *, allow_url: bool) -> None:
    s = text.strip().lstrip("\ufeff")
    if not s:
        run.fail("format", "Nothing to verify: the input is empty.")
    if len(s) > MAX_INPUT_BYTES:
        run.fail("format", "The input is too large to be a badge.")
    if s.startswith("{"):
        try:
            doc = json.loads(s)
        except json.JSONDecodeError as exc:
            run.fail(
                "format",
                f"The JSON is not valid: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
                "The text looks like JSON but is not valid JSON.",
            )
        except RecursionError:
            run.fail("format", "The JSON is nested too deeply.")
        _verify_document(run, doc)
        return
    if s.startswith("["):
        run.fail("format", "The JSON is a list; a badge is a single JSON object.")
    if s.startswith("<"):
        kind = _image_kind(s.encode("utf-8"))
        if kind:
            _verify_image(run, s.encode("utf-8"), kind)
            return
    if _HTTP_URL.match(s):
        if not allow_url:
            run.fail("format", "The URL points to another URL instead of a badge.")
        _verify_url(run, s)
        return
    if _JWS_LIKE.match(s):
        parts = s.split(".")
        if len(parts) != 3:
            run.fail(
                "format",
                f"A signed badge (JWS/JWT) has three parts separated by dots; this one has {len(parts)}.",
            )
        _verify_jws(run, s)
        return
    run.fail(
        "format",
        "This is not a badge: give an assertion or credential URL, its JSON, "
        "a signed badge (JWS/JWT) or a baked PNG/SVG image.",
    )


def _verify_url(run: _Run, url: str) -> None:
    doc = run.get(url, "badge", "format", gone_ok=True)
    if isinstance(doc, str):  # e.g. /ob/credentials/<id>.jwt
        _verify_text(run, doc, allow_url=False)
        return
    if _is_ob3(doc):
        _verify_ob3(run, doc)
    elif _is_ob2(doc) and doc.get("revoked") is not True and _verification_type(doc) == "signed":
        _verify_ob2_signed_at(run, url, doc)
    elif _is_ob2(doc) or doc.get("revoked") is True:
        _verify_ob2_hosted(run, url, fetched=doc, given=None)
    else:
        run.fail("format", _unsupported(doc, where=f" at {url}"))


def _verify_document(run: _Run, doc: dict[str, Any]) -> None:
    if _is_ob3(doc):
        _verify_ob3(run, doc)
        return
    if _is_ob2(doc):
        vtype = _verification_type(doc)
        if vtype == "hosted":
            _verify_ob2_hosted(run, doc.get("id"), fetched=None, given=doc)
            return
        if vtype == "signed":
            run.plan("ob2-signed")
            run.ok("format", "Open Badges 2.0 signed assertion" + run.origin)
            run.document = doc
            run.fail(
                "signature",
                "A signed assertion must be given as its JWS (the signed text): its JSON alone "
                "carries no signature to check.",
            )
        run.fail(
            "format",
            f"The assertion's verification type {_show(_verification_raw(doc))} is neither "
            "hosted nor signed.",
        )
    run.fail("format", _unsupported(doc))


def _jws_parts(run: _Run, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _sig = token.split(".")
    try:
        header = json.loads(multibase.b64url_decode(head))
        payload = json.loads(multibase.b64url_decode(body))
    except (multibase.MultibaseError, ValueError, RecursionError):
        run.fail("format", "The signed badge's header or payload is not base64url-encoded JSON.")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        run.fail("format", "The signed badge's header and payload must be JSON objects.")
    return header, payload


def _verify_jws(run: _Run, token: str) -> None:
    header, payload = _jws_parts(run, token)
    if _is_ob3(payload) or isinstance(payload.get("vc"), dict):
        _verify_vc_jwt(run, token, header, payload)
    elif _is_ob2(payload):
        _verify_ob2_signed(run, token, header, payload)
    else:
        run.fail("format", _unsupported(payload, what="The signed data"))


# --------------------------------------------------------------------------
# Open Badges 2.0
# --------------------------------------------------------------------------


def _verify_ob2_hosted(
    run: _Run, url: Any, *, fetched: dict[str, Any] | None, given: dict[str, Any] | None
) -> None:
    """OB 2.0 § "HostedBadge Verification"."""
    run.plan("ob2-hosted")
    run.ok("format", "Open Badges 2.0 hosted assertion" + run.origin)
    if given is not None:
        run.document = given
        _ob2_display(run, given, None, None)
        if not isinstance(url, str) or not _HTTP_URL.match(url):
            run.step("structure")
            run.fail(
                "structure",
                f"The assertion's id {_show(url)} is not an HTTP(S) URL, so the issuer's copy "
                "cannot be checked.",
            )
        # "the input data should only be trusted to identify the URI of the hosted
        # verification file": the document fetched there is what gets verified.
    run.step("hosted")
    doc = fetched if fetched is not None else run.get(url, "hosted assertion", "hosted", gone_ok=True)
    if not isinstance(doc, dict):
        run.fail("hosted", f"The hosted assertion at {url} is not a JSON object.")
    run.document = doc
    if doc.get("id") != url:
        run.fail(
            "hosted",
            f"The assertion at {url} gives its id as {_show(doc.get('id'))}; a hosted assertion "
            "must be served at its own id.",
            "The assertion is not served at its own address (its id does not match the URL).",
        )
    if doc.get("revoked") is True:
        # OB 2.0 "Revoking Hosted Assertions": only id and revoked are required.
        run.ok("hosted", f"The issuer serves this assertion at {url}.")
        why = _s(doc.get("revocationReason"))
        run.fail(
            "revocation",
            "The issuer marks this assertion as revoked" + (f": {why}" if why else "."),
            "The issuer has revoked this badge" + (f": {why}" if why else "."),
            kind="revoked",
            stop=False,
        )
        for name in ("structure", "issuer", "validity", "recipient"):
            run.skip(name, "Not checked: the issuer serves only the revocation record.")
        if given is not None:
            _ob2_display(run, given, None, None)
        return
    run.step("structure")
    _ob2_assertion_structure(run, doc)
    if _verification_type(doc) != "hosted":
        # A signed assertion's JSON proves nothing by being hosted: its JWS is the proof.
        run.fail(
            "structure",
            f"The assertion at {url} declares verification type "
            f"{_show(_verification_raw(doc))}; only hosted assertions are verified by their URL.",
            "The assertion at that URL is not a hosted assertion.",
        )
    if given is not None:
        differs = [
            k
            for k in ("recipient", "badge", "issuedOn", "expires", "evidence", "narrative", "verification")
            if given.get(k) != doc.get(k)
        ]
        if differs:
            run.fail(
                "hosted",
                f"The assertion given differs from the one the issuer hosts at {url} ({', '.join(differs)}).",
                f"The badge was altered: it differs from the issuer's copy ({', '.join(differs)}).",
            )
    run.ok("hosted", f"The issuer serves this assertion at its id, {url}.")
    _ob2_display(run, doc, None, None)
    badge, issuer = _ob2_badge_and_issuer(run, doc)
    _ob2_display(run, doc, badge, issuer)
    run.step("issuer")
    _ob2_hosted_scope(run, doc, badge, issuer)
    run.ok(
        "issuer",
        f"Issued by {_s(issuer.get('name'))} ({issuer.get('id')}), the issuer of the badge class; "
        "the assertion is hosted within the issuer's scope.",
    )
    _ob2_revocation(run, doc, issuer)
    _ob2_validity(run, doc)
    _ob2_recipient(run, doc)


def _verify_ob2_signed_at(run: _Run, url: str, doc: dict[str, Any]) -> None:
    """A signed OB 2.0 assertion given by its URL. Its JSON proves nothing (OB 2.0 §
    SignedBadge: the JWS is the proof), so the address is asked for the signed form and
    the JWS is verified; it must be the same assertion as the JSON served there."""
    token = run.get_signed(url)
    header, payload = _jws_parts(run, token)
    if not _is_ob2(payload) or payload.get("id") != doc.get("id"):
        run.plan("ob2-signed")
        run.fail(
            "format",
            f"The signed form served at {url} is not the assertion {_show(doc.get('id'))} "
            f"(its payload's id is {_show(payload.get('id'))}).",
            "The signed badge served at that address is not the assertion found there.",
        )
    run.origin = f" (its JWS, served at {url})"
    _verify_ob2_signed(run, token, header, payload)


def _verify_ob2_signed(run: _Run, token: str, header: dict[str, Any], payload: dict[str, Any]) -> None:
    """OB 2.0 § "SignedBadge Verification", steps 1-8."""
    run.plan("ob2-signed")
    run.ok("format", "Open Badges 2.0 signed assertion (JWS)" + run.origin)
    run.document = payload
    _ob2_display(run, payload, None, None)
    run.step("structure")
    _ob2_assertion_structure(run, payload, signed=True)
    if _verification_type(payload) != "signed":
        run.fail(
            "structure",
            "The signed assertion's verification type is not 'signed' "
            f"({_show(_verification_raw(payload))}).",
        )
    badge, issuer = _ob2_badge_and_issuer(run, payload)
    _ob2_display(run, payload, badge, issuer)

    run.step("signature")
    if header.get("alg") != "RS256":
        run.fail(
            "signature",
            f"The signature uses {_show(header.get('alg'))}; OB 2.0 signed badges are checked with RS256.",
            "The signature does not use an algorithm this verifier accepts (RS256).",
        )
    issuer_id = issuer.get("id")
    listed = _ids(issuer.get("publicKey"))
    creator = (payload.get("verification") or {}).get("creator")
    # Step 4: "Do not trust a key that is not properly linked from the issuer Profile."
    if creator is not None:
        if creator not in listed:
            run.step("issuer")
            run.fail(
                "issuer",
                f"The signing key {_show(creator)} is not listed in the issuer's profile ({issuer_id}, "
                "publicKey).",
                "The badge was signed with a key the issuer does not publish.",
            )
        candidates = [creator]
    else:
        candidates = listed
        if not candidates:
            run.fail("signature", "The issuer's profile lists no public key (publicKey) to check with.")
    embedded = {k.get("id"): k for k in _as_list(issuer.get("publicKey")) if isinstance(k, dict)}
    for key_url in candidates:
        key_doc = embedded.get(key_url) or run.get_object(key_url, "issuer's public key", "signature")
        owner = key_doc.get("owner")
        if owner != issuer_id:
            run.step("issuer")
            run.fail(
                "issuer",
                f"The key {key_url} belongs to {_show(owner)}, not to the issuer {issuer_id}.",
                "The badge was signed with a key that belongs to someone other than its issuer.",
            )
        try:
            public_key = keys.public_key_from_pem(key_doc.get("publicKeyPem") or "")
        except (ValueError, TypeError):
            run.fail("signature", f"The key at {key_url} has no usable publicKeyPem.")
        if not isinstance(public_key, rsa.RSAPublicKey):
            run.fail("signature", f"The key at {key_url} is not an RSA key (RS256).")
        try:
            verified = ob2.verify_signed_assertion(token, public_key)
        except (jwt.PyJWTError, ValueError):
            continue
        if verified == payload:
            run.ok("signature", f"The RS256 signature verifies with the issuer's key {key_url}.")
            break
    else:
        run.fail("signature", _BAD_SIGNATURE)
    run.ok(
        "issuer",
        f"Issued by {_s(issuer.get('name'))} ({issuer_id}), the issuer of the badge class, "
        "which lists and owns the signing key.",
    )
    _ob2_revocation(run, payload, issuer)
    _ob2_validity(run, payload)
    _ob2_recipient(run, payload)


def _ob2_assertion_structure(run: _Run, doc: dict[str, Any], *, signed: bool = False) -> None:
    """Data validation of an Assertion (OB 2.0 § Assertion: required properties)."""
    run.step("structure")
    problems: list[str] = []
    if not OB2_CONTEXTS & set(_contexts(doc)):
        problems.append(f"its @context is not the Open Badges 2.0 context ({OB2_CONTEXT})")
    if "Assertion" not in _types(doc):
        problems.append("its type is not Assertion")
    if not isinstance(doc.get("id"), str) or not doc["id"]:
        problems.append("it has no id")
    recipient = doc.get("recipient")
    if not isinstance(recipient, dict) or not isinstance(recipient.get("identity"), str):
        problems.append("it has no recipient identity")
    elif not isinstance(recipient.get("type"), str):
        problems.append("its recipient has no identity type")
    elif recipient.get("hashed") not in (None, True, False, "true", "false"):
        problems.append("its recipient's hashed flag is not a boolean")
    elif not isinstance(recipient.get("salt", ""), str | None):
        problems.append("its recipient's salt is not text")
    if not isinstance(doc.get("badge"), str | dict):
        problems.append("it names no badge class")
    if not isinstance(doc.get("verification"), dict):
        problems.append("it has no verification object")
    for key in ("issuedOn", "expires"):
        if key in doc and _parse_date(doc[key]) is None:
            problems.append(f"its {key} {_show(doc[key])} is not an ISO 8601 date-time")
    if "issuedOn" not in doc:
        problems.append("it has no issuedOn date")
    if problems:
        run.fail(
            "structure",
            "The assertion is not a valid Open Badges 2.0 Assertion: " + "; ".join(problems) + ".",
            "The badge is malformed: " + "; ".join(problems) + ".",
        )


def _ob2_badge_and_issuer(run: _Run, doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load the BadgeClass and the issuer Profile (OB 2.0 § Data Validation:
    "All required Badge Objects are appropriately linked and available")."""
    run.step("structure")
    ref = doc.get("badge")
    badge = ref if isinstance(ref, dict) else run.get_object(ref, "badge class", "structure")
    problems = []
    if not isinstance(ref, dict) and not OB2_CONTEXTS & set(_contexts(badge)):
        problems.append("its @context is not the Open Badges 2.0 context")
    if "BadgeClass" not in _types(badge):
        problems.append("its type is not BadgeClass")
    for key in ("name", "description"):
        if not isinstance(badge.get(key), str):
            problems.append(f"it has no {key}")
    if not isinstance(badge.get("criteria"), str | dict):
        problems.append("it has no criteria")
    if not isinstance(badge.get("image"), str | dict):
        problems.append("it has no image")
    issuer_ref = badge.get("issuer")
    issuer_url = issuer_ref.get("id") if isinstance(issuer_ref, dict) else issuer_ref
    if not isinstance(issuer_url, str):
        problems.append("it names no issuer")
    if problems:
        run.fail(
            "structure",
            f"The badge class {_show(badge.get('id'))} is not valid: " + "; ".join(problems) + ".",
            "The badge class is malformed: " + "; ".join(problems) + ".",
        )
    run.ok("structure", "A well-formed Open Badges 2.0 Assertion, BadgeClass and issuer Profile.")
    run.step("issuer")
    # Always the issuer's own copy: an embedded profile could name any key.
    issuer = run.get_object(issuer_url, "issuer's profile", "issuer")
    problems = []
    if not OB2_CONTEXTS & set(_contexts(issuer)):
        problems.append("its @context is not the Open Badges 2.0 context")
    if not {"Issuer", "Profile"} & set(_types(issuer)):
        problems.append("its type is not Issuer or Profile")
    if not isinstance(issuer.get("name"), str):
        problems.append("it has no name")
    if problems:
        run.fail("issuer", f"The issuer's profile at {issuer_url} is not valid: " + "; ".join(problems) + ".")
    if issuer.get("id") != issuer_url:
        run.fail("issuer", f"The issuer's profile at {issuer_url} does not identify itself by that URL.")
    return badge, issuer


def _ob2_hosted_scope(run: _Run, doc: dict[str, Any], badge: dict[str, Any], issuer: dict[str, Any]) -> None:
    """OB 2.0 § "HostedBadge Verification": the Assertion (and BadgeClass) must be
    within the issuer Profile's hosted scope — its VerificationObject's
    ``startsWith`` / ``allowedOrigins``, by default the issuer id's origin."""
    policy = issuer.get("verification") if isinstance(issuer.get("verification"), dict) else {}
    starts = [s for s in _as_list(policy.get("startsWith")) if isinstance(s, str)]
    origins = [o for o in _as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
    issuer_origin = _origin(issuer.get("id"))

    def in_scope(url: Any) -> bool:
        if not isinstance(url, str):
            return False
        if starts:
            return any(url.startswith(s) for s in starts)
        if origins:
            return urlsplit(url).netloc.lower() in {o.lower() for o in origins}
        return _origin(url) == issuer_origin

    for what, url in (("assertion", doc.get("id")), ("badge class", badge.get("id"))):
        if isinstance(doc.get("badge"), dict) and what == "badge class":
            continue
        if not in_scope(url):
            run.fail(
                "issuer",
                f"The {what} {_show(url)} is not hosted where the issuer {issuer.get('id')} allows "
                "(by default, the issuer's own site).",
                f"The {what} is not hosted by its issuer.",
            )


def _ob2_revocation(run: _Run, doc: dict[str, Any], issuer: dict[str, Any]) -> None:
    """Step 7 of SignedBadge verification (and the hosted ``revoked`` flag)."""
    run.step("revocation")
    assertion_id = doc.get("id")
    if doc.get("revoked") is True:
        why = _s(doc.get("revocationReason"))
        run.fail(
            "revocation",
            "The assertion is marked revoked" + (f": {why}" if why else "."),
            "The issuer has revoked this badge" + (f": {why}" if why else "."),
            kind="revoked",
            stop=False,
        )
        return
    list_url = issuer.get("revocationList")
    if list_url is None:
        run.ok("revocation", "Not revoked (the issuer publishes no revocation list).")
        return
    rl = run.get_object(list_url, "issuer's revocation list", "revocation", id_required=False)
    if "RevocationList" not in _types(rl) or not isinstance(rl.get("revokedAssertions", []), list):
        run.fail("revocation", f"The issuer's revocation list at {list_url} is not a RevocationList.")
    if rl.get("issuer") not in (None, issuer.get("id")):
        run.fail("revocation", f"The revocation list at {list_url} belongs to another issuer.")
    for entry in rl.get("revokedAssertions", []):
        entry_id = entry if isinstance(entry, str) else entry.get("id") if isinstance(entry, dict) else None
        if entry_id is not None and entry_id == assertion_id:
            why = _s(entry.get("revocationReason")) if isinstance(entry, dict) else None
            run.fail(
                "revocation",
                f"The issuer's revocation list ({list_url}) lists this assertion"
                + (f": {why}" if why else "."),
                "The issuer has revoked this badge" + (f": {why}" if why else "."),
                kind="revoked",
                stop=False,
            )
            return
    run.ok("revocation", f"Not on the issuer's revocation list ({list_url}).")


def _ob2_validity(run: _Run, doc: dict[str, Any]) -> None:
    _validity(run, _parse_date(doc.get("issuedOn")), _parse_date(doc.get("expires")), issued=True)


def _ob2_recipient(run: _Run, doc: dict[str, Any]) -> None:
    """OB 2.0 § IdentityObject: compare the known email with the (salted) hash."""
    run.step("recipient")
    recipient = doc.get("recipient") or {}
    label = _ob2_recipient_label(recipient)
    email = run.recipient_email
    if email is None:
        run.skip("recipient", f"Issued to a {label}; give the recipient's email address to check it.")
        return
    rtype = str(recipient.get("type", "")).lower()
    identity = recipient.get("identity")
    if rtype != "email":
        matched = False
    elif recipient.get("hashed") is True or recipient.get("hashed") == "true":
        matched = _hash_matches(identity, email, _s(recipient.get("salt")))
    else:
        matched = isinstance(identity, str) and identity.strip().lower() == email.lower()
    _recipient_result(run, matched, email, label)


def _ob2_recipient_label(recipient: Mapping[str, Any]) -> str:
    rtype = str(recipient.get("type", "")).lower()
    hashed = recipient.get("hashed") is True or recipient.get("hashed") == "true"
    name = {"email": "email", "url": "URL", "telephone": "telephone number"}.get(rtype, rtype or "identity")
    if hashed:
        return f"hashed {name}"
    return f"{name} {_s(recipient.get('identity')) or ''}".strip()


def _ob2_display(
    run: _Run, doc: dict[str, Any], badge: dict[str, Any] | None, issuer: dict[str, Any] | None
) -> None:
    d = run.display
    d["id"] = _s(doc.get("id"))
    badge = badge if badge is not None else doc.get("badge") if isinstance(doc.get("badge"), dict) else {}
    badge_id = badge.get("id") or doc.get("badge")
    d["badge_id"] = _s(badge_id)
    d["image"] = _image_url(doc.get("image")) or _image_url(badge.get("image"))
    d["name"] = _s(badge.get("name"))
    d["description"] = _s(badge.get("description"))
    criteria = badge.get("criteria")
    d["criteria"] = (
        {"url": criteria, "narrative": None}
        if isinstance(criteria, str)
        else {"url": _s(criteria.get("id")), "narrative": _s(criteria.get("narrative"))}
        if isinstance(criteria, dict)
        else None
    )
    if issuer is not None:
        d["issuer_name"] = _s(issuer.get("name"))
        d["issuer_url"] = _s(issuer.get("url")) or _s(issuer.get("id"))
    else:
        d.setdefault("issuer_name", None)
        d.setdefault("issuer_url", None)
    d["issued_on"] = _s(doc.get("issuedOn"))
    d["expires"] = _s(doc.get("expires"))
    recipient = doc.get("recipient")
    d["recipient"] = _ob2_recipient_label(recipient) if isinstance(recipient, dict) else None
    d["revocation_reason"] = _s(doc.get("revocationReason"))


# --------------------------------------------------------------------------
# Open Badges 3.0
# --------------------------------------------------------------------------


def _verify_ob3(run: _Run, credential: dict[str, Any]) -> None:
    """OB 3.0 §9.1 with an embedded proof (Data Integrity, eddsa-rdfc-2022)."""
    run.plan("ob3-data-integrity")
    run.ok("format", "Open Badges 3.0 credential with an embedded proof" + run.origin)
    run.document = credential
    _ob3_display(run, credential)
    issuer_id = _ob3_structure(run, credential, check_terms=True)

    run.step("signature")
    all_proofs = _as_list(credential.get("proof"))
    ours = [
        p
        for p in all_proofs
        if isinstance(p, dict)
        and p.get("type") == "DataIntegrityProof"
        and p.get("cryptosuite") == proofs.CRYPTOSUITE
    ]
    if not ours:
        found = sorted(
            {_s(p.get("cryptosuite") or p.get("type")) or "?" for p in all_proofs if isinstance(p, dict)}
        )
        run.fail(
            "signature",
            "The credential has no eddsa-rdfc-2022 Data Integrity proof"
            + (f" (it has: {', '.join(found)})." if found else " (it is not signed)."),
            "The credential is not signed in a way this verifier supports (eddsa-rdfc-2022)."
            if found
            else "The credential is not signed.",
        )
    key_map = _ob3_keys_for(run, ours, issuer_id, "credential", "issuer")
    _check_data_integrity(run, credential, key_map, "signature")
    run.ok("signature", f"The eddsa-rdfc-2022 proof verifies with the issuer's key {', '.join(key_map)}.")
    run.ok("issuer", _SIGNED_BY.format(issuer_id))
    _ob3_rest(run, credential, issuer_id)


def _verify_vc_jwt(run: _Run, token: str, header: dict[str, Any], payload: dict[str, Any]) -> None:
    """OB 3.0 §9.1 with a VC-JWT proof (§8.2.6 "Verify a Credential")."""
    run.plan("ob3-vc-jwt")
    run.ok("format", "Open Badges 3.0 credential signed as a VC-JWT" + run.origin)
    if isinstance(payload.get("vc"), dict) and not _is_ob3(payload):
        run.document = payload["vc"]
        _ob3_display(run, payload["vc"])
        run.fail(
            "structure",
            "This VC-JWT carries the credential in a 'vc' claim (VC Data Model 1.1 style); OB 3.0 §8.2 "
            "puts the credential itself in the payload, and only that form is supported.",
        )
    credential = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    run.document = credential
    _ob3_display(run, credential)
    # The JWS protects the exact JSON, so undefined JSON-LD terms are not a risk here.
    issuer_id = _ob3_structure(run, credential, check_terms=False)

    run.step("signature")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        run.fail(
            "signature",
            "The VC-JWT header names no key (kid), so the issuer's key cannot be looked up.",
        )
    if kid.startswith("#"):
        kid = issuer_id + kid
    key_map = _ob3_keys_for(run, [{"verificationMethod": kid}], issuer_id, "credential", "issuer")
    run.step("signature")
    try:
        proofs.verify_vc_jwt(token, key_map[kid], leeway=_NO_JWT_TIME_CHECK)
    except proofs.ProofError as exc:
        cause = exc.__cause__
        if isinstance(cause, jwt.InvalidSignatureError):
            run.fail("signature", "The VC-JWT signature does not verify.", _BAD_SIGNATURE)
        if "does not match the credential" in str(exc):
            run.fail(
                "signature",
                f"{exc}",
                "The signed claims (iss, jti, nbf, sub, exp) do not match the credential.",
            )
        run.fail("signature", f"The VC-JWT does not verify: {_clip(str(exc))}", "The signature is not valid.")
    run.ok("signature", f"The VC-JWT ({header.get('alg')}) verifies with the issuer's key {kid}.")
    run.ok("issuer", _SIGNED_BY.format(issuer_id))
    _ob3_rest(run, credential, issuer_id)


def _ob3_rest(run: _Run, credential: dict[str, Any], issuer_id: str) -> None:
    """§9.1 step 4 (status, then validity dates) and step 5 (recipient)."""
    _ob3_status(run, credential, issuer_id)
    valid_from = _parse_date(credential.get("validFrom", credential.get("issuanceDate")))
    valid_until = _parse_date(credential.get("validUntil", credential.get("expirationDate")))
    _validity(run, valid_from, valid_until, issued=False)
    _ob3_recipient(run, credential)


def _ob3_structure(run: _Run, doc: dict[str, Any], *, check_terms: bool) -> str:
    """§9.1 step 1: conformance (contexts, types, subject identified), and the
    issuer id. Returns the issuer id."""
    run.step("structure")
    problems: list[str] = []
    contexts = doc.get("@context")
    ctx = _contexts(doc)
    if any(not isinstance(c, str) for c in _as_list(contexts)):
        # Inline contexts could redefine any term; only published, pinned ones are accepted.
        problems.append("its @context contains inline definitions, which are not accepted")
    if not ctx or ctx[0] not in (VC_V2, VC_V1):
        problems.append(f"its first @context is not the Verifiable Credentials context ({VC_V2})")
    if not any(c.startswith(OB3_CONTEXT_PREFIX) for c in ctx):
        problems.append("it does not use the Open Badges 3.0 context")
    types = _types(doc)
    if "VerifiableCredential" not in types or not OB3_TYPES & set(types):
        problems.append("its type is not [VerifiableCredential, OpenBadgeCredential]")
    issuer = doc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or not issuer_id:
        problems.append("it has no issuer id")
    subjects = _as_list(doc.get("credentialSubject"))
    if not subjects or not all(isinstance(s, dict) for s in subjects):
        problems.append("it has no credentialSubject")
    elif not all(s.get("id") or s.get("identifier") for s in subjects):
        problems.append("its credentialSubject has neither an id nor an identifier (OB 3.0 §9.1 step 1)")
    elif not isinstance(subjects[0].get("achievement"), dict | str):
        problems.append("its credentialSubject names no achievement")
    v1 = bool(ctx) and ctx[0] == VC_V1
    start_key = "issuanceDate" if v1 else "validFrom"
    if start_key not in doc:
        problems.append(f"it has no {start_key}")
    for key in ("validFrom", "validUntil", "issuanceDate", "expirationDate", "awardedDate"):
        if key in doc and _parse_date(doc[key]) is None:
            problems.append(f"its {key} {_show(doc[key])} is not a date-time with a time zone")
    if problems:
        run.fail(
            "structure",
            "The credential is not a valid OpenBadgeCredential: " + "; ".join(problems) + ".",
            "The badge is malformed: " + "; ".join(problems) + ".",
        )
    if check_terms:
        unsecured = {k: v for k, v in doc.items() if k != "proof"}
        try:
            check_terms_expand(unsecured, run.loader)
        except TermExpansionError as exc:
            run.fail(
                "structure",
                "The credential has properties its JSON-LD contexts do not define: "
                f"{_clip('; '.join(exc.problems))}.",
                "The credential contains data its signature cannot protect (terms no context defines).",
            )
        except ContextError as exc:
            run.fail(
                "structure",
                f"A JSON-LD context of the credential cannot be loaded: {_clip(str(exc))}",
                "The credential uses a JSON-LD context this verifier does not know.",
            )
        except (jsonld.JsonLdError, ValueError, TypeError, RecursionError) as exc:
            cause = context_error_in(exc)
            run.fail(
                "structure",
                f"The credential is not valid JSON-LD: {_clip(str(cause or exc))}",
                "The credential is not valid JSON-LD.",
            )
    run.ok("structure", "A well-formed OpenBadgeCredential (VC Data Model, Open Badges 3.0 contexts).")
    assert isinstance(issuer_id, str)
    return issuer_id


def _controller_document(run: _Run, issuer_id: str, check: str) -> dict[str, Any]:
    """The issuer's DID document (did:web) or, for an HTTPS issuer id, its profile
    acting as controller document (VC Data Integrity §4.4 retrieves the
    verification method from its controller)."""
    if issuer_id.startswith("did:web:"):
        what = "issuer's DID document"
    elif _HTTP_URL.match(issuer_id):
        what = "issuer's profile"
    else:
        run.fail(
            check,
            f"The issuer {_show(issuer_id)} is neither a did:web DID nor an HTTP(S) URL; its keys "
            "cannot be looked up.",
            "The issuer's keys cannot be looked up (unsupported issuer identifier).",
        )
    doc = run.get(issuer_id, what, check)
    if not isinstance(doc, dict):
        run.fail(check, f"The {what} for {issuer_id} is not a JSON object.")
    if doc.get("id") != issuer_id:
        run.fail(
            check,
            f"The {what} fetched for {issuer_id} identifies itself as {_show(doc.get('id'))}.",
            f"The {what} does not belong to the issuer named in the badge.",
        )
    return doc


def _ob3_keys_for(
    run: _Run, proof_list: Iterable[dict[str, Any]], issuer_id: str, what: str, check: str
) -> dict[str, Any]:
    """Public keys for each proof's verification method, only from the issuer's
    own DID document and only if listed under ``assertionMethod`` (VC Data
    Integrity §4.4 "Verify Proof": the method must be authorised for the
    proof purpose; the controller must be the issuer)."""
    run.step(check)
    found: dict[str, Any] = {}
    for proof in proof_list:
        vm = proof.get("verificationMethod")
        vm_id = vm.get("id") if isinstance(vm, dict) else vm
        if not isinstance(vm_id, str) or not vm_id:
            run.fail("signature", f"The {what}'s proof names no verification method (key).")
        controller = vm_id.split("#", 1)[0]
        if controller != issuer_id:
            run.fail(
                check,
                f"The {what} was signed with a key of {controller}, not of its issuer {issuer_id}.",
                f"The {what} was signed with another issuer's key ({controller}), not its issuer's.",
            )
        doc = _controller_document(run, issuer_id, check)
        listed = {_absolute(i, issuer_id) for i in _ids(doc.get("assertionMethod"))}
        if vm_id not in listed:
            run.fail(
                check,
                f"The key {vm_id} is not listed for issuing (assertionMethod) in the issuer's DID document.",
                f"The {what} was signed with a key the issuer does not publish.",
            )
        methods = [
            m
            for m in _as_list(doc.get("verificationMethod")) + _as_list(doc.get("assertionMethod"))
            if isinstance(m, dict) and _absolute(m.get("id"), issuer_id) == vm_id
        ]
        if not methods:
            run.fail(check, f"The issuer's DID document does not describe the key {vm_id}.")
        method = methods[0]
        if method.get("controller") not in (None, issuer_id):
            run.fail(
                check,
                f"The key {vm_id} is controlled by {_show(method.get('controller'))}, not by the issuer.",
                f"The {what} was signed with a key the issuer does not control.",
            )
        try:
            if isinstance(method.get("publicKeyMultibase"), str):
                key: Any = keys.ed25519_from_multibase(method["publicKeyMultibase"])
            elif isinstance(method.get("publicKeyJwk"), dict):
                key = keys.public_key_from_jwk(method["publicKeyJwk"])
            else:
                raise ValueError("no publicKeyMultibase or publicKeyJwk")
        except (ValueError, TypeError, KeyError, multibase.MultibaseError) as exc:
            run.fail(check, f"The key {vm_id} in the issuer's DID document is unusable: {_clip(str(exc))}.")
        found[vm_id] = key
    return found


def _check_data_integrity(run: _Run, doc: dict[str, Any], key_map: dict[str, Any], check: str) -> None:
    """Verify the eddsa-rdfc-2022 proofs (Data Integrity EdDSA Cryptosuites,
    "Verify Proof (eddsa-rdfc-2022)") with the issuer's keys."""
    run.step(check)
    unknown = object()

    def resolve(vm_id: str) -> Any:
        key = key_map.get(vm_id, unknown)
        if key is unknown or not isinstance(key, ed25519.Ed25519PublicKey):
            raise proofs.ProofError(f"no Ed25519 key for {vm_id}")
        return key

    try:
        result = proofs.verify_data_integrity(doc, resolve, run.loader)
    except ContextError as exc:
        run.fail(
            check,
            f"A JSON-LD context cannot be loaded: {_clip(str(exc))}",
            "The document uses a JSON-LD context this verifier does not know.",
        )
    if not result.verified:
        detail = "; ".join(result.errors)
        if any("signature does not verify" in e for e in result.errors):
            reason = _BAD_SIGNATURE
        elif any("proofPurpose" in e for e in result.errors):
            reason = "The proof is not an issuing proof (proofPurpose is not assertionMethod)."
        else:
            reason = "The signature could not be checked: " + _clip(detail)
        run.fail(check, f"The proof does not verify: {_clip(detail)}", reason)


def _ob3_status(run: _Run, credential: dict[str, Any], issuer_id: str) -> None:
    """§9.1 step 4 "Check the status" with a W3C Bitstring Status List (the
    Displayer conformance tests: revoked = a BitstringStatusListEntry with
    statusPurpose revocation whose bit is set), or a 1EdTechRevocationList."""
    run.step("revocation")
    entries = _as_list(credential.get("credentialStatus"))
    if not entries:
        run.ok("revocation", "The credential carries no status entry (credentialStatus); nothing to check.")
        return
    messages = []
    for entry in entries:
        if not isinstance(entry, dict):
            run.fail("revocation", "The credential's status entry is not an object.")
        etype = entry.get("type")
        if etype == "BitstringStatusListEntry":
            messages.append(_bitstring_status(run, entry, issuer_id))
        elif etype == "1EdTechRevocationList":
            messages.append(_revocation_list_1edtech(run, entry, credential))
        else:
            run.fail(
                "revocation",
                f"The status type {_show(etype)} is not supported, so revocation cannot be checked.",
                "The badge's revocation status cannot be checked (unsupported status type).",
            )
        if run.revoked:
            return
    run.ok("revocation", " ".join(m for m in messages if m))


def _bitstring_status(run: _Run, entry: dict[str, Any], issuer_id: str) -> str:
    """Bitstring Status List v1.0 § "Validate Algorithm": fetch the status list
    credential, verify it (its own proof, by the same issuer), check its
    purpose and validity, expand the list and read the bit."""
    list_url = entry.get("statusListCredential")
    purpose = entry.get("statusPurpose")
    index_text = entry.get("statusListIndex")
    if not isinstance(index_text, str | int) or not str(index_text).isdigit():
        run.fail("revocation", f"The status entry's statusListIndex {_show(index_text)} is not a number.")
    index = int(index_text)
    if entry.get("statusSize", 1) not in (1, "1"):
        run.fail("revocation", "Status entries wider than one bit (statusSize) are not supported.")
    slc = run.get_object(list_url, "status list", "revocation", id_required=False)
    if "BitstringStatusListCredential" not in _types(slc):
        run.fail("revocation", f"The document at {list_url} is not a BitstringStatusListCredential.")
    slc_issuer = slc.get("issuer")
    slc_issuer_id = slc_issuer.get("id") if isinstance(slc_issuer, dict) else slc_issuer
    if slc_issuer_id != issuer_id:
        run.fail(
            "revocation",
            f"The status list at {list_url} is issued by {_show(slc_issuer_id)}, not by the badge's "
            f"issuer {issuer_id}.",
            "The badge's status list is not published by its issuer.",
        )
    slc_proofs = [
        p
        for p in _as_list(slc.get("proof"))
        if isinstance(p, dict)
        and p.get("type") == "DataIntegrityProof"
        and p.get("cryptosuite") == proofs.CRYPTOSUITE
    ]
    if not slc_proofs:
        run.fail(
            "revocation",
            f"The status list at {list_url} is not signed (eddsa-rdfc-2022).",
            "The badge's status list is not signed, so revocation cannot be trusted.",
        )
    key_map = _ob3_keys_for(run, slc_proofs, issuer_id, "status list", "revocation")
    run.step("revocation")
    saved = list(run.reasons)
    try:
        _check_data_integrity(run, slc, key_map, "revocation")
    except _Stop:
        run.reasons[:] = saved
        run.fail(
            "revocation",
            f"The status list at {list_url} does not verify: {run.checks['revocation'].message}",
            "The issuer's status list is not authentic (its signature does not verify), so revocation "
            "cannot be checked.",
        )
    # Bitstring Status List "Validate Algorithm": the list must be valid now.
    until = _parse_date(slc.get("validUntil"))
    start = _parse_date(slc.get("validFrom"))
    if until is not None and until <= run.now:
        run.fail(
            "revocation",
            f"The status list at {list_url} expired on {slc.get('validUntil')}.",
            "The issuer's status list has expired, so revocation cannot be checked.",
        )
    if start is not None and start > run.now:
        run.fail("revocation", f"The status list at {list_url} is not valid before {slc.get('validFrom')}.")
    subject = slc.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    if not isinstance(subject, dict) or not isinstance(subject.get("encodedList"), str):
        run.fail("revocation", f"The status list at {list_url} has no encodedList.")
    list_purposes = _as_list(subject.get("statusPurpose"))
    if purpose not in list_purposes:
        run.fail(
            "revocation",
            f"The status list at {list_url} is for {_show(subject.get('statusPurpose'))}, "
            f"not {_show(purpose)}.",
        )
    try:
        bits = BitstringStatusList.decode(subject["encodedList"])
        is_set = bits.get(index)
    except (StatusListError, multibase.MultibaseError) as exc:
        run.fail(
            "revocation",
            f"The status list at {list_url} cannot be read: {_clip(str(exc))}",
            "The issuer's status list cannot be read, so revocation cannot be checked.",
        )
    if is_set and purpose in ("revocation", "suspension"):
        verb = "revoked" if purpose == "revocation" else "suspended"
        run.fail(
            "revocation",
            f"The issuer has {verb} this credential (bit {index} of {list_url} is set).",
            f"The issuer has {verb} this badge.",
            kind="revoked",
            stop=False,
        )
        return ""
    if purpose not in ("revocation", "suspension"):
        return f"Status {_show(purpose)} bit {index} is {'set' if is_set else 'not set'} ({list_url})."
    verb = "revoked" if purpose == "revocation" else "suspended"
    return f"Not {verb} (bit {index} of the signed status list {list_url})."


def _revocation_list_1edtech(run: _Run, entry: dict[str, Any], credential: dict[str, Any]) -> str:
    """OB 3.0 §9.1 step 4 with a 1EdTechRevocationList (VCRL 1.0): the list
    names revoked credential ids."""
    list_url = entry.get("id")
    rl = run.get_object(list_url, "revocation list", "revocation", id_required=False)
    for item in _as_list(rl.get("revokedCredentials")):
        if isinstance(item, dict) and item.get("id") == credential.get("id") and item.get("revoked", True):
            why = _s(item.get("revocationReason"))
            run.fail(
                "revocation",
                f"The revocation list at {list_url} lists this credential" + (f": {why}" if why else "."),
                "The issuer has revoked this badge" + (f": {why}" if why else "."),
                kind="revoked",
                stop=False,
            )
            return ""
    return f"Not on the revocation list {list_url}."


def _ob3_recipient(run: _Run, credential: dict[str, Any]) -> None:
    """§9.1 step 5 and §9.3 "Verify the Recipient Using an Identifier"."""
    run.step("recipient")
    subjects = [s for s in _as_list(credential.get("credentialSubject")) if isinstance(s, dict)]
    label = run.display.get("recipient") or "recipient"
    email = run.recipient_email
    if email is None:
        run.skip("recipient", f"Issued to a {label}; give the recipient's email address to check it.")
        return
    matched = False
    for subject in subjects:
        sid = subject.get("id")
        if isinstance(sid, str) and sid.lower() == f"mailto:{email.lower()}":
            matched = True
        for ident in _as_list(subject.get("identifier")):
            if not isinstance(ident, dict) or ident.get("identityType") != "emailAddress":
                continue  # "If identifier.identityType does not match ... skip"
            value = ident.get("identityHash")
            if ident.get("hashed") is True:
                matched = matched or _hash_matches(value, email, _s(ident.get("salt")))
            elif isinstance(value, str) and value.strip().lower() == email.lower():
                matched = True
    _recipient_result(run, matched, email, label)


def _ob3_display(run: _Run, credential: dict[str, Any]) -> None:
    d = run.display
    subjects = [s for s in _as_list(credential.get("credentialSubject")) if isinstance(s, dict)]
    subject = subjects[0] if subjects else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    issuer = credential.get("issuer")
    d["id"] = _s(credential.get("id"))
    d["badge_id"] = _s(achievement.get("id"))
    d["image"] = _image_url(credential.get("image")) or _image_url(achievement.get("image"))
    d["name"] = _s(achievement.get("name")) or _s(credential.get("name"))
    d["credential_name"] = _s(credential.get("name"))
    d["description"] = _s(achievement.get("description")) or _s(credential.get("description"))
    criteria = achievement.get("criteria")
    d["criteria"] = (
        {"url": _s(criteria.get("id")), "narrative": _s(criteria.get("narrative"))}
        if isinstance(criteria, dict)
        else None
    )
    d["issuer_name"] = _s(issuer.get("name")) if isinstance(issuer, dict) else None
    d["issuer_url"] = (
        _s(issuer.get("url")) or _s(issuer.get("id")) if isinstance(issuer, dict) else _s(issuer)
    )
    d["issued_on"] = (
        _s(credential.get("awardedDate"))
        or _s(credential.get("validFrom"))
        or _s(credential.get("issuanceDate"))
    )
    d["expires"] = _s(credential.get("validUntil")) or _s(credential.get("expirationDate"))
    d["recipient"] = _ob3_recipient_label(subject)


def _ob3_recipient_label(subject: Mapping[str, Any]) -> str | None:
    for ident in _as_list(subject.get("identifier")):
        if isinstance(ident, dict):
            kind = {"emailAddress": "email", "url": "URL", "phoneNumber": "phone number"}.get(
                str(ident.get("identityType")), str(ident.get("identityType") or "identity")
            )
            if ident.get("hashed") is True:
                return f"hashed {kind}"
            return f"{kind} {_s(ident.get('identityHash')) or ''}".strip()
    sid = _s(subject.get("id"))
    return sid


# --------------------------------------------------------------------------
# Shared steps and helpers
# --------------------------------------------------------------------------


def _validity(run: _Run, start: datetime | None, end: datetime | None, *, issued: bool) -> None:
    """OB 3.0 §9.1 step 4: before validFrom → not yet valid; after validUntil →
    expired. OB 2.0: ``expires`` past → expired; an ``issuedOn`` in the future
    is treated the same as a future validFrom."""
    run.step("validity")
    start_word = "issued on" if issued else "valid from"
    if start is not None and start > run.now:
        run.fail(
            "validity",
            f"Not yet valid: {start_word} {_iso(start)}, which is in the future.",
            f"The badge is not yet valid (it is {start_word} {_iso(start)}).",
            stop=False,
        )
        return
    if end is not None and end <= run.now:
        run.fail(
            "validity",
            f"Expired on {_iso(end)}.",
            f"The badge expired on {_iso(end)}.",
            kind="expired",
            stop=False,
        )
        return
    since = f"{start_word[0].upper()}{start_word[1:]} {_iso(start)}" if start else "No start date"
    run.ok("validity", f"{since}; " + (f"expires {_iso(end)}." if end else "no expiry date."))


def _recipient_result(run: _Run, matched: bool, email: str, label: str) -> None:
    if matched:
        run.ok("recipient", f"Issued to {email} (matches the {label}).")
        run.display["recipient"] = f"{email} (matches the {label})"
    else:
        run.fail(
            "recipient",
            f"The {label} does not match {email}.",
            f"The badge was not issued to {email}.",
            stop=False,
        )


def _hash_matches(identity_hash: Any, email: str, salt: str | None) -> bool:
    """IdentityHash (OB 2.0 and OB 3.0 §B "IdentityHash"): ``sha256$`` or ``md5$``
    + hex of (identity + salt), hex case-insensitive. The address is tried as
    given and lower-cased (this tool lower-cases before hashing)."""
    if not isinstance(identity_hash, str) or "$" not in identity_hash:
        return False
    algorithm, _, digest = identity_hash.partition("$")
    hasher = {"sha256": hashlib.sha256, "md5": hashlib.md5}.get(algorithm.lower())
    if hasher is None:
        return False
    for candidate in {email.strip(), email.strip().lower()}:
        data = (candidate + (salt or "")).encode("utf-8")
        if hasher(data, usedforsecurity=False).hexdigest() == digest.lower():
            return True
    return False


def _is_ob3(doc: Mapping[str, Any]) -> bool:
    ctx = _contexts(doc)
    return "VerifiableCredential" in _types(doc) or any(
        c in (VC_V2, VC_V1) or c.startswith(OB3_CONTEXT_PREFIX) for c in ctx
    )


def _is_ob2(doc: Mapping[str, Any]) -> bool:
    """An OB 2.0 Assertion (a BadgeClass or Profile is not something to verify)."""
    types = _types(doc)
    if "Assertion" in types:
        return True
    return bool(OB2_CONTEXTS & set(_contexts(doc))) and not types and "recipient" in doc


def _verification_raw(doc: Mapping[str, Any]) -> Any:
    verification = doc.get("verification")
    return verification.get("type") if isinstance(verification, dict) else None


def _verification_type(doc: Mapping[str, Any]) -> str | None:
    """``hosted`` / ``signed`` for the OB 2.0 names (HostedBadge, SignedBadge) and
    their short aliases."""
    raw = _verification_raw(doc)
    if not isinstance(raw, str):
        return None
    value = raw.lower().removesuffix("badge")
    return value if value in ("hosted", "signed") else None


def _unsupported(doc: Mapping[str, Any], *, what: str = "This JSON", where: str = "") -> str:
    types = _types(doc)
    kind = f" (type {', '.join(types)})" if types else ""
    hint = ""
    if {"BadgeClass", "Issuer", "Profile", "Achievement"} & set(types):
        hint = " Give the assertion or credential itself, not the badge class or issuer."
    return (
        f"{what}{where} is neither an Open Badges 2.0 assertion nor an Open Badges 3.0 "
        f"credential{kind}.{hint}"
    )


def _contexts(doc: Mapping[str, Any]) -> list[str]:
    return [c for c in _as_list(doc.get("@context")) if isinstance(c, str)]


def _types(doc: Mapping[str, Any]) -> list[str]:
    raw = doc.get("type", doc.get("@type"))
    return [t for t in _as_list(raw) if isinstance(t, str)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _ids(value: Any) -> list[str]:
    """Ids from a string, an object with ``id``, or a list of those."""
    out = []
    for item in _as_list(value):
        ident = item.get("id") if isinstance(item, dict) else item
        if isinstance(ident, str):
            out.append(ident)
    return out


def _absolute(ident: Any, controller: str) -> str | None:
    if not isinstance(ident, str):
        return None
    return controller + ident if ident.startswith("#") else ident


def _origin(url: Any) -> tuple[str, str] | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _parse_date(value: Any) -> datetime | None:
    """An ISO 8601 date-time with a time zone (OB 2.0 § DateTime, OB 3.0 DateTimeZ);
    None when absent or unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed


def _iso(value: datetime | None) -> str:
    return iso_z(value) if value is not None else ""


def _image_url(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return _clip(value if isinstance(value, str) else json.dumps(value, default=str), 120)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _exc_detail(exc: BaseException) -> str:
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f" (HTTP {status})"
    text = str(exc).strip()
    return f" ({_clip(text, 160)})" if text else ""
