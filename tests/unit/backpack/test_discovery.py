"""Discovery documents of both APIs: valid ones read, malformed ones refused with a
message that names what is wrong, and the production URL policy."""

from __future__ import annotations

import copy

import pytest

from lti_badges.backpack import discovery
from lti_badges.backpack.discovery import DiscoveryError
from lti_badges.net import NetPolicy

URL21 = "https://bp.example/.well-known/badgeconnect.json"
URL30 = "https://bp.example/ims/ob/v3p0/discovery"

MANIFEST = {
    "@context": "https://w3id.org/openbadges/badgeconnect/v1",
    "id": URL21, "type": "Manifest",
    "badgeConnectAPI": [{
        "type": "BadgeConnectAPI", "name": "Example Backpack", "apiBase": "/bc/v1",
        "version": "v1p0", "scopesOffered": [discovery.OB21_ASSERTION_CREATE, "offline_access"],
        "registrationUrl": "https://bp.example/register",
        "authorizationUrl": "https://bp.example/authorize",
        "tokenUrl": "https://bp.example/token"}],
}

SDD = {
    "openapi": "3.0.1", "info": {"title": "Example", "version": "3.0"},
    "servers": [{"url": "https://api.bp.example/ims/ob/v3p0"}],
    "components": {"securitySchemes": {"OAuth2ACG": {
        "type": "oauth2", "x-imssf-name": "Example OB3",
        "x-imssf-registrationUrl": "https://bp.example/register",
        "flows": {"authorizationCode": {
            "authorizationUrl": "https://bp.example/authorize",
            "tokenUrl": "https://bp.example/token", "refreshUrl": "https://bp.example/token",
            "scopes": {discovery.OB30_CREDENTIAL_UPSERT: "...",
                       discovery.OB30_PROFILE_READONLY: "..."}}}}}},
}


def test_badge_connect_manifest():
    service = discovery.parse_badge_connect_manifest(MANIFEST, URL21)
    assert service.kind == "ob21" and service.name == "Example Backpack"
    assert service.api_base == "https://bp.example/bc/v1"  # relative resolved
    assert service.requested_scopes() == [discovery.OB21_ASSERTION_CREATE, "offline_access"]


def test_ob3_service_description():
    service = discovery.parse_ob3_service_description(SDD, URL30)
    assert service.kind == "ob30" and service.name == "Example OB3"
    assert service.api_base == "https://api.bp.example/ims/ob/v3p0"
    assert service.refresh_url == "https://bp.example/token"
    assert service.requested_scopes() == [discovery.OB30_CREDENTIAL_UPSERT,
                                          discovery.OB30_PROFILE_READONLY]
    no_servers = {k: v for k, v in SDD.items() if k != "servers"}
    assert discovery.parse_ob3_service_description(no_servers, URL30).api_base == \
        "https://bp.example/ims/ob/v3p0"


def _broken21(mutate):
    doc = copy.deepcopy(MANIFEST)
    mutate(doc["badgeConnectAPI"][0])
    return doc


@pytest.mark.parametrize("doc,words", [
    ([], "not a JSON object"),
    ({"badgeConnectAPI": []}, "lists no badgeConnectAPI"),
    (_broken21(lambda a: a.pop("tokenUrl")), "no tokenUrl"),
    (_broken21(lambda a: a.update(authorizationUrl="javascript:alert(1)")),
     "authorizationUrl ('javascript:alert(1)') is not an http(s) URL"),
    (_broken21(lambda a: a.update(apiBase=42)), "apiBase as int"),
    (_broken21(lambda a: a.update(scopesOffered="all")), "not a list of scopes"),
    (_broken21(lambda a: a.update(scopesOffered=["offline_access"])),
     "does not let other sites add badges"),
])
def test_malformed_manifest(doc, words):
    with pytest.raises(DiscoveryError) as err:
        discovery.parse_badge_connect_manifest(doc, URL21)
    assert words in err.value.message


def _broken30(mutate):
    doc = copy.deepcopy(SDD)
    mutate(doc)
    return doc


def _flow(doc):
    return doc["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]


@pytest.mark.parametrize("doc,words", [
    ("<html>", "not a JSON object"),
    ({"openapi": "3.0.1"}, "no components.securitySchemes"),
    (_broken30(lambda d: d["components"]["securitySchemes"].update(
        OAuth2ACG={"type": "apiKey"})), "OAuth2ACG"),
    (_broken30(lambda d: d["components"]["securitySchemes"]["OAuth2ACG"].pop("flows")),
     "no authorizationCode flow"),
    (_broken30(lambda d: _flow(d).pop("tokenUrl")), "no tokenUrl"),
    (_broken30(lambda d: d["components"]["securitySchemes"]["OAuth2ACG"].pop(
        "x-imssf-registrationUrl")), "no x-imssf-registrationUrl"),
    (_broken30(lambda d: _flow(d).update(scopes=["x"])), "scopes are not an object"),
])
def test_malformed_service_description(doc, words):
    with pytest.raises(DiscoveryError) as err:
        discovery.parse_ob3_service_description(doc, URL30)
    assert words in err.value.message


def test_addresses():
    assert discovery.normalise_address(" bp.example ") == "https://bp.example"
    for bad in ("", "   ", "not an address", "ftp://bp.example"):
        with pytest.raises(DiscoveryError):
            discovery.normalise_address(bad)
    assert discovery.candidate_urls("https://bp.example/u") == [
        ("ob30", "https://bp.example/u/ims/ob/v3p0/discovery"),
        ("ob30", "https://bp.example/ims/ob/v3p0/discovery"),
        ("ob21", "https://bp.example/.well-known/badgeconnect.json")]
    assert discovery.candidate_urls(URL21) == [("ob21", URL21)]
    assert discovery.candidate_urls(URL30 + "/") == [("ob30", URL30)]


PRODUCTION = NetPolicy(allow_insecure=False, timeout=2)


@pytest.mark.parametrize("address,words", [
    ("http://bp.example", "must use HTTPS"),
    ("https://127.0.0.1:8443", "non-public address"),
    ("https://10.1.2.3", "non-public address"),
    ("https://[::1]", "non-public address"),
    ("https://169.254.169.254", "non-public address"),
])
def test_production_policy_refuses_http_and_private_addresses(address, words):
    with pytest.raises(DiscoveryError) as err:
        discovery.discover(address, PRODUCTION)
    assert words in err.value.message
