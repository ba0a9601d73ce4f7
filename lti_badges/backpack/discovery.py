"""Finding a backpack's API from the address a learner types.

Two discovery documents exist:

* Open Badges 2.1 (Badge Connect API) §Discovery: a Manifest at
  ``/.well-known/badgeconnect.json`` whose ``badgeConnectAPI`` entries carry
  ``apiBase``, ``authorizationUrl``, ``tokenUrl``, ``registrationUrl`` and
  ``scopesOffered``.
* Open Badges 3.0 §6.3 Service Discovery: ``GET /ims/ob/v3p0/discovery`` answers an
  OpenAPI document (the Service Description Document) whose
  ``components.securitySchemes.OAuth2ACG`` names ``x-imssf-registrationUrl`` and,
  under ``flows.authorizationCode``, ``authorizationUrl``, ``tokenUrl``,
  ``refreshUrl`` and ``scopes``.

Neither names an RFC 7009 revocation endpoint, so we also read the authorization
server's RFC 8414 metadata when it publishes some, and use its
``revocation_endpoint`` if offered. The parsers are pure functions; a malformed
document raises :class:`DiscoveryError` naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lti_badges.backpack.http import BackpackError, FetchError, NetPolicy, json_body, request

OB21 = "ob21"
OB30 = "ob30"

OB21_WELL_KNOWN = "/.well-known/badgeconnect.json"
OB30_DISCOVERY = "/ims/ob/v3p0/discovery"

# OB 2.1 §Scopes / OB 3.0 §6.2.1: the permission to add a badge to the learner's backpack.
OB21_ASSERTION_CREATE = "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create"
OB21_PROFILE_READONLY = "https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.readonly"
OB30_CREDENTIAL_UPSERT = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
OB30_PROFILE_READONLY = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
OFFLINE_ACCESS = "offline_access"


class DiscoveryError(BackpackError):
    """The address does not lead to a usable backpack; the message says why."""

    def __init__(self, message: str):
        super().__init__(message, code="discovery")


@dataclass(frozen=True)
class BackpackService:
    """What discovery tells us about one backpack."""

    kind: str  # ob21 | ob30
    discovery_url: str
    name: str
    api_base: str
    authorization_url: str
    token_url: str
    registration_url: str
    refresh_url: str | None = None
    revocation_url: str | None = None
    scopes_offered: tuple[str, ...] = ()
    image: str | None = None
    terms_of_service_url: str | None = None
    privacy_policy_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def push_scope(self) -> str:
        return OB21_ASSERTION_CREATE if self.kind == OB21 else OB30_CREDENTIAL_UPSERT

    def requested_scopes(self) -> list[str]:
        """The push permission, plus ``offline_access`` when offered (OB 2.1 backpacks
        issue refresh tokens only with it), plus read-only profile to say who is connected."""
        wanted = [self.push_scope]
        profile = OB21_PROFILE_READONLY if self.kind == OB21 else OB30_PROFILE_READONLY
        for scope in (profile, OFFLINE_ACCESS):
            if scope in self.scopes_offered:
                wanted.append(scope)
        return wanted


def _absolute(value: Any, base: str, label: str, *, required: bool = True) -> str | None:
    """An http(s) URL from the document; relative ones resolve against the document URL."""
    if value is None or value == "":
        if required:
            raise DiscoveryError(f"The backpack's discovery document has no {label}.")
        return None
    if not isinstance(value, str):
        raise DiscoveryError(f"The backpack's discovery document gives {label} as "
                             f"{type(value).__name__}, not a URL.")
    url = urljoin(base, value.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DiscoveryError(f"The backpack's {label} ({value!r}) is not an http(s) URL.")
    return url


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_badge_connect_manifest(doc: Any, url: str) -> BackpackService:
    """Read an OB 2.1 Manifest (Badge Connect API §Discovery, ``badgeConnectAPI`` array)."""
    if not isinstance(doc, dict):
        raise DiscoveryError("The backpack's Badge Connect manifest is not a JSON object.")
    apis = doc.get("badgeConnectAPI")
    if isinstance(apis, dict):
        apis = [apis]
    if not isinstance(apis, list) or not apis:
        raise DiscoveryError("The backpack's Badge Connect manifest lists no badgeConnectAPI.")
    # Several entries may describe several versions; take the first usable one.
    problems: list[str] = []
    for api in apis:
        if not isinstance(api, dict):
            problems.append("an entry of badgeConnectAPI is not an object")
            continue
        try:
            scopes = api.get("scopesOffered") or []
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise DiscoveryError("The backpack's scopesOffered is not a list of scopes.")
            service = BackpackService(
                kind=OB21, discovery_url=url,
                name=_text(api.get("name")) or urlsplit(url).hostname or "Backpack",
                api_base=_absolute(api.get("apiBase"), url, "apiBase").rstrip("/"),
                authorization_url=_absolute(api.get("authorizationUrl"), url, "authorizationUrl"),
                token_url=_absolute(api.get("tokenUrl"), url, "tokenUrl"),
                registration_url=_absolute(api.get("registrationUrl"), url, "registrationUrl"),
                scopes_offered=tuple(scopes),
                image=_text(api.get("image")),
                terms_of_service_url=_text(api.get("termsOfServiceUrl")),
                privacy_policy_url=_text(api.get("privacyPolicyUrl")),
                extra={"version": api.get("version")})
        except DiscoveryError as exc:
            problems.append(exc.message)
            continue
        _require_scope(service)
        return service
    raise DiscoveryError(problems[0] if len(problems) == 1 else
                         "None of the backpack's Badge Connect entries is usable: "
                         + "; ".join(problems))


def parse_ob3_service_description(doc: Any, url: str) -> BackpackService:
    """Read an OB 3.0 Service Description Document (§6.3.1, OpenAPI 3.0 with the
    ``OAuth2ACG`` security scheme of §7)."""
    if not isinstance(doc, dict):
        raise DiscoveryError("The backpack's OB 3.0 discovery document is not a JSON object.")
    components = doc.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if not isinstance(schemes, dict) or not schemes:
        raise DiscoveryError("The backpack's OB 3.0 discovery document has no "
                             "components.securitySchemes.")
    scheme = schemes.get("OAuth2ACG")
    if scheme is None:  # tolerate another name, as long as it is OAuth 2 authorization code
        scheme = next((s for s in schemes.values() if isinstance(s, dict)
                       and s.get("type") == "oauth2"
                       and isinstance(s.get("flows"), dict)
                       and "authorizationCode" in s["flows"]), None)
    if not isinstance(scheme, dict) or scheme.get("type") != "oauth2":
        raise DiscoveryError("The backpack's OB 3.0 discovery document offers no OAuth 2 "
                             "authorization code security scheme (OAuth2ACG).")
    flows = scheme.get("flows")
    flow = flows.get("authorizationCode") if isinstance(flows, dict) else None
    if not isinstance(flow, dict):
        raise DiscoveryError("The backpack's OAuth2ACG scheme has no authorizationCode flow.")
    scopes = flow.get("scopes") or {}
    if not isinstance(scopes, dict):
        raise DiscoveryError("The backpack's OAuth2ACG scopes are not an object.")
    api_base = _ob3_api_base(doc, url)
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    service = BackpackService(
        kind=OB30, discovery_url=url,
        name=_text(scheme.get("x-imssf-name")) or _text(info.get("title"))
        or urlsplit(url).hostname or "Backpack",
        api_base=api_base,
        authorization_url=_absolute(flow.get("authorizationUrl"), url, "authorizationUrl"),
        token_url=_absolute(flow.get("tokenUrl"), url, "tokenUrl"),
        refresh_url=_absolute(flow.get("refreshUrl"), url, "refreshUrl", required=False),
        registration_url=_absolute(scheme.get("x-imssf-registrationUrl"), url,
                                   "x-imssf-registrationUrl"),
        scopes_offered=tuple(k for k in scopes if isinstance(k, str)),
        image=_text(scheme.get("x-imssf-image") or info.get("x-imssf-image")),
        terms_of_service_url=_text(scheme.get("x-imssf-termsOfServiceUrl")),
        privacy_policy_url=_text(scheme.get("x-imssf-privacyPolicyUrl")))
    _require_scope(service)
    return service


def _ob3_api_base(doc: dict[str, Any], url: str) -> str:
    """The base the OB 3.0 paths (``/credentials``, ``/profile``) hang from: the first
    server URL when absolute, else the discovery URL without its ``/discovery``."""
    servers = doc.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        candidate = servers[0].get("url")
        if isinstance(candidate, str) and urlsplit(candidate).scheme in ("http", "https"):
            return candidate.rstrip("/")
    path = urlsplit(url).path
    if path.endswith("/discovery"):
        return url[: len(url) - len("/discovery")].rstrip("/")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/ims/ob/v3p0", "", ""))


def _require_scope(service: BackpackService) -> None:
    if service.scopes_offered and service.push_scope not in service.scopes_offered:
        raise DiscoveryError(f"{service.name} does not let other sites add badges "
                             f"(it does not offer the {service.push_scope} permission).")


# -- fetching --------------------------------------------------------------------------


def normalise_address(address: str) -> str:
    """``backpack.example`` → ``https://backpack.example``; refuses what is not an address."""
    if not isinstance(address, str) or not address.strip():
        raise DiscoveryError("Enter your backpack's address, for example https://backpack.example.")
    address = address.strip()
    if "://" not in address:
        address = "https://" + address
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace()
                                                                          for c in address):
        raise DiscoveryError(f"{address!r} is not a web address.")
    return address


def candidate_urls(address: str) -> list[tuple[str, str]]:
    """Where to look, newest API first: (kind, URL). A full discovery URL is used as is."""
    parts = urlsplit(address)
    if parts.path.endswith("badgeconnect.json"):
        return [(OB21, address)]
    if parts.path.rstrip("/").endswith("/discovery"):
        return [(OB30, address.rstrip("/"))]
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    urls = [(OB30, base + OB30_DISCOVERY)]
    if base != origin:
        urls.append((OB30, origin + OB30_DISCOVERY))
    # Badge Connect §Discovery: the manifest lives at the host's well-known location.
    urls.append((OB21, origin + OB21_WELL_KNOWN))
    return urls


def discover(address: str, policy: NetPolicy, *, prefer: str | None = None) -> BackpackService:
    """Find and validate the backpack at ``address`` (OB 3.0 first, then OB 2.1).

    A document that answers but is malformed is reported rather than silently
    skipped when no other API is found.
    """
    address = normalise_address(address)
    candidates = candidate_urls(address)
    if prefer:
        candidates.sort(key=lambda c: c[0] != prefer)
    malformed: list[str] = []
    unreachable: list[str] = []
    for kind, url in candidates:
        try:
            resp = request("GET", url, policy, what="backpack discovery URL",
                           headers={"Accept": "application/json"})
        except FetchError as exc:
            unreachable.append(str(exc))
            if "non-public" in str(exc) or "must use HTTPS" in str(exc):
                raise DiscoveryError(str(exc)) from exc
            continue
        if resp.status_code != 200:
            unreachable.append(f"{url} answered HTTP {resp.status_code}")
            continue
        doc = json_body(resp)
        if doc is None:
            malformed.append(f"The backpack's discovery document at {url} is not JSON.")
            continue
        try:
            service = (parse_badge_connect_manifest(doc, url) if kind == OB21
                       else parse_ob3_service_description(doc, url))
        except DiscoveryError as exc:
            malformed.append(exc.message)
            continue
        return _with_revocation(service, policy)
    if malformed:
        raise DiscoveryError(malformed[0])
    raise DiscoveryError(f"No Open Badges backpack was found at {address}: it publishes "
                         "neither an OB 3.0 discovery document nor a Badge Connect manifest.")


def _with_revocation(service: BackpackService, policy: NetPolicy) -> BackpackService:
    """Add RFC 8414 §2 ``revocation_endpoint`` when the authorization server publishes it."""
    parts = urlsplit(service.token_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-authorization-server",
                      "", ""))
    try:
        resp = request("GET", url, policy, what="backpack authorization server metadata",
                       headers={"Accept": "application/json"})
    except FetchError:
        return service
    doc = json_body(resp) if resp.status_code == 200 else None
    if not isinstance(doc, dict):
        return service
    try:
        revocation = _absolute(doc.get("revocation_endpoint"), url, "revocation_endpoint",
                               required=False)
    except DiscoveryError:
        return service
    if not revocation:
        return service
    return replace(service, revocation_url=revocation)
