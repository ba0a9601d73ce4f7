"""Self-tests of the LTI platform peer (tests/peer), driven by a stand-in tool.

They prove the peer is a trustworthy counterpart before any test of the real tool leans on
it: good traffic is accepted, and the strict checks lti1p3platform leaves out (redirect_uri,
auth request parameters, jti replay, bearer errors as 401, paging headers, registration
errors) really refuse bad traffic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests

from tests.peer import PlatformPeer
from tests.peer.browser import parse_forms
from tests.peer.vocab import (
    AGS_ENDPOINT,
    CONTEXT,
    DL_SETTINGS,
    LAUNCH_PRESENTATION,
    MESSAGE_TYPE,
    MT_LINEITEM,
    MT_LINEITEMS,
    MT_MEMBERSHIPS,
    MT_RESULTS,
    MT_SCORE,
    NRPS_CLAIM,
    RESOURCE_LINK,
    ROLES,
    SCOPE_LINEITEM,
    SCOPE_NRPS,
    SCOPE_RESULT_RO,
    SCOPE_SCORE,
    TOOL_PLATFORM,
)

from .mini_tool import MiniTool

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TOOLSETTING = "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting"


@pytest.fixture(scope="module")
def _mini_tool_server() -> Iterator[MiniTool]:
    tool = MiniTool().start()
    yield tool
    tool.stop()


@pytest.fixture
def mini_tool(_mini_tool_server: MiniTool) -> MiniTool:
    _mini_tool_server.reset()
    return _mini_tool_server


@pytest.fixture
def peer(mini_tool: MiniTool) -> Iterator[PlatformPeer]:
    with PlatformPeer(name="S") as p:
        mini_tool.configure(p.issuer, "client-1")
        p.register_tool("client-1", ["dep-1"], mini_tool.login_url, mini_tool.launch_url,
                        mini_tool.jwks_url)
        p.add_course("c1", title="Course One", label="C1")
        p.add_user("u1", name="Ann Learner", email="ann@example.invalid", given_name="Ann",
                   family_name="Learner", sourcedid="ANN")
        p.add_user("u2", name="Bob Dropped", email="bob@example.invalid")
        p.add_user("t1", name="Tess Teacher", email="tess@example.invalid")
        p.enroll("c1", "u1", ["Learner"])
        p.enroll("c1", "u2", ["Learner"], status="Inactive")
        p.enroll("c1", "t1", ["Instructor"])
        yield p


def _bearer(token: str, accept: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if accept:
        headers["Accept"] = accept
    return headers


# ---------------------------------------------------------------- launches
def test_launch_delivers_a_full_moodle_like_claim_set(peer: PlatformPeer, mini_tool: MiniTool):
    resp = peer.launch(peer.new_browser(), "u1", "c1")

    assert resp.status_code == 200, resp.text
    claims = resp.json()["claims"]
    assert claims[MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/version"] == "1.3.0"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "dep-1"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"] == mini_tool.launch_url
    assert claims[ROLES] == [LEARNER]
    assert claims[CONTEXT]["id"] == "c1" and claims[CONTEXT]["title"] == "Course One"
    assert claims[RESOURCE_LINK]["id"] == "rl-c1"
    assert claims[LAUNCH_PRESENTATION]["locale"] == "en"
    assert claims[LAUNCH_PRESENTATION]["document_target"] == "iframe"
    assert claims[TOOL_PLATFORM]["product_family_code"] == "peer"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/lis"]["person_sourcedid"] == "ANN"
    assert (claims["name"], claims["email"], claims["given_name"]) == (
        "Ann Learner", "ann@example.invalid", "Ann")
    assert claims[AGS_ENDPOINT]["lineitems"] == peer.lineitems_url("c1")
    assert set(claims[AGS_ENDPOINT]["scope"]) == {
        SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT_RO,
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"}
    assert claims[NRPS_CLAIM]["context_memberships_url"] == peer.memberships_url("c1")
    assert jwt.get_unverified_header(peer.last_id_token)["kid"] == peer.keys.current.kid
    assert peer.last_launch_form["action"] == mini_tool.launch_url


@pytest.mark.parametrize("login_method", ["POST", "GET"])
@pytest.mark.parametrize("answer", ["302", "js", "meta", "form", "pylti_cookie_check"])
def test_launch_follows_every_kind_of_login_redirect(peer: PlatformPeer, mini_tool: MiniTool,
                                                     login_method: str, answer: str):
    mini_tool.login_answer = answer
    resp = peer.launch(peer.new_browser(), "t1", "c1", login_method=login_method, locale="fr")
    assert resp.status_code == 200, resp.text
    assert resp.json()["claims"][LAUNCH_PRESENTATION]["locale"] == "fr"


def test_auth_rejects_an_unregistered_redirect_uri(peer: PlatformPeer, mini_tool: MiniTool):
    mini_tool.redirect_uri_override = mini_tool.base + "/elsewhere"
    resp = peer.launch(peer.new_browser(), "u1", "c1")
    assert resp.status_code == 400
    assert "redirect_uri" in resp.text
    assert mini_tool.last_claims is None


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"scope": "profile"}, "openid"),
        ({"response_type": "code"}, "response_type"),
        ({"response_mode": "query"}, "response_mode"),
        ({"prompt": "login"}, "prompt"),
        ({"nonce": None}, "nonce"),
        ({"state": None}, "state"),
        ({"login_hint": "u2"}, "login_hint"),
        ({"lti_message_hint": "forged"}, "lti_message_hint"),
        ({"client_id": "nobody"}, "client_id"),
    ],
)
def test_auth_checks_every_oidc_parameter(peer: PlatformPeer, mini_tool: MiniTool,
                                          override: dict, needle: str):
    mini_tool.auth_params_override = override
    resp = peer.launch(peer.new_browser(), "u1", "c1")
    assert resp.status_code == 400
    assert needle in resp.text


def test_auth_needs_the_platform_session_and_is_single_use(peer: PlatformPeer,
                                                           mini_tool: MiniTool):
    mini_tool.login_answer = "show"  # the tool prints the auth URL instead of redirecting
    browser = peer.new_browser()
    auth_url = peer.launch(browser, "u1", "c1").text
    assert auth_url.startswith(peer.auth_login_url)

    stranger = peer.new_browser().get(auth_url)
    assert stranger.status_code == 400 and "signed in" in stranger.text

    first = browser.get(auth_url)
    assert first.status_code == 200
    form = parse_forms(first.text)[0]
    assert form.action == mini_tool.launch_url and set(form.fields) == {"id_token", "state"}

    again = browser.get(auth_url)
    assert again.status_code == 400 and "already used" in again.text


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        ({"kid": "unknown"}, "unknown kid"),
        ({"sign_with_foreign_key": True}, "InvalidSignatureError"),
        ({"corrupt_signature": True}, "InvalidSignatureError"),
        ({"aud": "wrong"}, "InvalidAudienceError"),
        ({"exp_offset": -3600}, "ExpiredSignatureError"),
        ({"iat_offset": 3600}, "ImmatureSignatureError"),
        ({"nonce": "fixed"}, "bad nonce"),
        ({"state": "other"}, "unknown state"),
        ({"claims": {"iss": "http://evil.invalid"}}, "InvalidIssuerError"),
    ],
)
def test_tamper_knobs_reach_the_tool(peer: PlatformPeer, tamper: dict, error: str):
    resp = peer.launch(peer.new_browser(), "u1", "c1", tamper=tamper)
    assert resp.status_code == 400
    assert error in resp.json()["error"]


def test_drop_and_override_claims(peer: PlatformPeer):
    resp = peer.launch(peer.new_browser(), "u1", "c1",
                       tamper={"drop_claims": [ROLES], "claims": {"email": "x@y.invalid"}},
                       extra_claims={"https://example.invalid/claim": 1})
    claims = resp.json()["claims"]
    assert ROLES not in claims
    assert claims["email"] == "x@y.invalid"
    assert claims["https://example.invalid/claim"] == 1


def test_rotated_key_signs_and_old_key_stays_published(peer: PlatformPeer):
    old = peer.keys.current.kid
    new = peer.rotate_key()
    kids = [k["kid"] for k in requests.get(peer.jwks_url, timeout=5).json()["keys"]]
    assert kids == [old, new]
    assert peer.launch(peer.new_browser(), "u1", "c1").status_code == 200
    assert jwt.get_unverified_header(peer.last_id_token)["kid"] == new


def test_two_peers_keep_their_sessions_apart_in_one_browser(mini_tool: MiniTool):
    browser = requests.Session()
    with PlatformPeer(name="A") as a, PlatformPeer(name="B") as b:
        for peer in (a, b, a):
            mini_tool.reset()
            mini_tool.configure(peer.issuer, "shared-client")
            peer.register_tool("shared-client", ["d"], mini_tool.login_url, mini_tool.launch_url,
                               mini_tool.jwks_url)
            peer.add_course("c")
            peer.add_user("x")
            peer.enroll("c", "x")
            resp = peer.launch(browser, "x", "c")
            assert resp.status_code == 200, resp.text
            assert resp.json()["claims"]["iss"] == peer.issuer
        names = {c.name for c in browser.cookies if c.name.startswith("lti_peer_")}
        assert names == {f"lti_peer_A_{a.port}", f"lti_peer_B_{b.port}"}


# ---------------------------------------------------------------- deep linking
def _deep_link_claims(peer: PlatformPeer) -> dict:
    resp = peer.launch(peer.new_browser(), "t1", "c1", message_type="LtiDeepLinkingRequest")
    assert resp.status_code == 200, resp.text
    return resp.json()["claims"]


def test_deep_linking_round_trip_creates_the_link(peer: PlatformPeer, mini_tool: MiniTool):
    claims = _deep_link_claims(peer)
    assert claims[MESSAGE_TYPE] == "LtiDeepLinkingRequest"
    assert RESOURCE_LINK not in claims
    settings = claims[DL_SETTINGS]
    assert settings["deep_link_return_url"] == peer.deep_link_return_url and settings["data"]

    item = {"type": "ltiResourceLink", "title": "Badge A", "url": mini_tool.launch_url,
            "custom": {"badge": "a"}, "lineItem": {"scoreMaximum": 10, "label": "Badge A"}}
    jwt_value = mini_tool.deep_link_response(claims, [item])
    resp = requests.post(peer.deep_link_return_url, data={"JWT": jwt_value}, timeout=5)
    assert resp.status_code == 200, resp.text
    received = peer.deep_link_responses[-1]
    assert received["content_items"] == [item]
    link_id = received["created"][0]["resource_link_id"]
    assert peer.resource_links[("c1", link_id)]["custom"] == {"badge": "a"}
    assert received["created"][0]["line_item"]["resourceLinkId"] == link_id

    replay = requests.post(peer.deep_link_return_url, data={"JWT": jwt_value}, timeout=5)
    assert replay.status_code == 400 and "already answered" in replay.text

    launched = peer.launch(peer.new_browser(), "u1", "c1", link_id).json()["claims"]
    assert launched["https://purl.imsglobal.org/spec/lti/claim/custom"] == {"badge": "a"}
    assert launched[AGS_ENDPOINT]["lineitem"] == received["created"][0]["line_item"]["id"]


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"aud": ["http://other.invalid"]}, "aud"),
        ({"https://purl.imsglobal.org/spec/lti-dl/claim/data": None}, "data"),
        ({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-x"}, "deployment_id"),
        ({"nonce": None}, "nonce"),
        ({"https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest"},
         "Deep Linking Response"),
        ({"exp": 1}, "expired"),
    ],
)
def test_deep_link_return_refuses_bad_responses(peer: PlatformPeer, mini_tool: MiniTool,
                                                override: dict, needle: str):
    claims = _deep_link_claims(peer)
    jwt_value = mini_tool.deep_link_response(claims, [{"type": "ltiResourceLink"}], **override)
    resp = requests.post(peer.deep_link_return_url, data={"JWT": jwt_value}, timeout=5)
    assert resp.status_code == 400
    assert needle in resp.text
    assert peer.deep_link_responses == []


def test_deep_link_return_refuses_an_unknown_kid(peer: PlatformPeer, mini_tool: MiniTool):
    claims = _deep_link_claims(peer)
    payload = jwt.decode(mini_tool.deep_link_response(claims, []),
                         options={"verify_signature": False})
    resp = requests.post(peer.deep_link_return_url,
                         data={"JWT": mini_tool.sign(payload, kid="rotated-away")}, timeout=5)
    assert resp.status_code == 400 and "public key" in resp.text


# ---------------------------------------------------------------- token endpoint
def test_token_grants_only_permitted_scopes(peer: PlatformPeer, mini_tool: MiniTool):
    peer.tools["client-1"].scopes = [SCOPE_NRPS]
    resp = mini_tool.token_request(peer.token_url, [SCOPE_NRPS, SCOPE_SCORE])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["scope"] == SCOPE_NRPS
    assert body["expires_in"] == 3600

    only_unpermitted = mini_tool.token_request(peer.token_url, [TOOLSETTING])
    assert only_unpermitted.status_code == 400
    assert only_unpermitted.json()["error"] == "invalid_scope"


def test_token_refuses_a_replayed_jti(peer: PlatformPeer, mini_tool: MiniTool):
    assertion = mini_tool.client_assertion(peer.token_url, jti="same")
    assert mini_tool.token_request(peer.token_url, [SCOPE_NRPS], assertion=assertion).ok
    replay = mini_tool.token_request(peer.token_url, [SCOPE_NRPS], assertion=assertion)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client" and "jti" in replay.text


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"aud": "http://elsewhere.invalid/token"}, "aud"),
        ({"exp": 1000}, "expired"),
        ({"jti": None}, "jti"),
        ({"sub": "someone-else"}, "sub"),
        ({"iss": "no-such-client", "sub": "no-such-client"}, "unknown client"),
    ],
)
def test_token_refuses_bad_client_assertions(peer: PlatformPeer, mini_tool: MiniTool,
                                             override: dict, needle: str):
    resp = mini_tool.token_request(peer.token_url, [SCOPE_NRPS], **override)
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"
    assert needle in resp.json()["error_description"]


def test_token_refuses_a_json_body(peer: PlatformPeer, mini_tool: MiniTool):
    resp = requests.post(peer.token_url, json={
        "grant_type": "client_credentials",
        "client_assertion": mini_tool.client_assertion(peer.token_url)}, timeout=5)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


# ---------------------------------------------------------------- NRPS
def test_nrps_pages_with_a_link_header(peer: PlatformPeer, mini_tool: MiniTool):
    token = mini_tool.access_token(peer.token_url, [SCOPE_NRPS])
    url, seen, pages = peer.memberships_url("c1") + "?limit=1", [], 0
    while url:
        resp = requests.get(url, headers=_bearer(token, MT_MEMBERSHIPS), timeout=5)
        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"].startswith(MT_MEMBERSHIPS)
        body = resp.json()
        assert body["context"] == {"id": "c1", "label": "C1", "title": "Course One"}
        seen += body["members"]
        pages += 1
        link = resp.links.get("next")
        url = link["url"] if link else None
    assert pages == 3
    assert [m["user_id"] for m in seen] == ["u1", "u2", "t1"]
    assert seen[1]["status"] == "Inactive"
    assert seen[0]["roles"] == [LEARNER] and seen[0]["email"] == "ann@example.invalid"


@pytest.mark.parametrize("role", ["Learner", LEARNER])
def test_nrps_role_filter_and_short_roles(peer: PlatformPeer, mini_tool: MiniTool, role: str):
    peer.nrps_short_roles = True
    token = mini_tool.access_token(peer.token_url, [SCOPE_NRPS])
    resp = requests.get(peer.memberships_url("c1"), params={"role": role},
                        headers=_bearer(token, MT_MEMBERSHIPS), timeout=5)
    members = resp.json()["members"]
    assert [m["user_id"] for m in members] == ["u1", "u2"]
    assert members[0]["roles"] == ["Learner"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer garbage", "Bearer a.b.c", "Basic Zm9vOmJhcg==",
     "Bearer " + jwt.encode({"iss": "x"}, "k" * 32, algorithm="HS256")],
)
def test_bad_bearer_tokens_get_401_json_not_500(peer: PlatformPeer, authorization: str | None):
    headers = {"Authorization": authorization} if authorization else {}
    for url in (peer.memberships_url("c1"), peer.lineitems_url("c1")):
        resp = requests.get(url, headers=headers, timeout=5)
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"] == "invalid_token"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_scope_and_revocation_checks(peer: PlatformPeer, mini_tool: MiniTool):
    nrps_only = mini_tool.access_token(peer.token_url, [SCOPE_NRPS])
    resp = requests.get(peer.lineitems_url("c1"), headers=_bearer(nrps_only, MT_LINEITEMS),
                        timeout=5)
    assert resp.status_code == 403 and resp.json()["error"] == "insufficient_scope"
    wrong_accept = requests.get(peer.memberships_url("c1"),
                                headers=_bearer(nrps_only, "application/json"), timeout=5)
    assert wrong_accept.status_code == 406
    peer.invalidate_access_tokens()
    resp = requests.get(peer.memberships_url("c1"), headers=_bearer(nrps_only), timeout=5)
    assert resp.status_code == 401

    peer.access_token_lifetime = -1  # already expired when granted
    stale = mini_tool.access_token(peer.token_url, [SCOPE_NRPS])
    resp = requests.get(peer.memberships_url("c1"), headers=_bearer(stale), timeout=5)
    assert resp.status_code == 401 and "expired" in resp.json()["error_description"]


# ---------------------------------------------------------------- AGS
def test_ags_line_items_scores_and_results(peer: PlatformPeer, mini_tool: MiniTool):
    token = mini_tool.access_token(peer.token_url,
                                   [SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT_RO])
    peer.add_line_item("c1", "Platform column", 100, tag="grade")
    other = peer.add_line_item("c1", "Other tool's column", 5, owner="client-2")

    created = requests.post(
        peer.lineitems_url("c1"),
        data=json.dumps({"label": "Badge earned", "scoreMaximum": 100, "tag": "badge"}),
        headers={**_bearer(token, MT_LINEITEM), "Content-Type": MT_LINEITEM}, timeout=5)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"].startswith(MT_LINEITEM)
    item = created.json()
    assert item["id"].startswith(peer.lineitems_url("c1") + "/")

    first = requests.get(peer.lineitems_url("c1") + "?limit=1",
                         headers=_bearer(token, MT_LINEITEMS), timeout=5)
    assert first.headers["Content-Type"].startswith(MT_LINEITEMS)
    assert isinstance(first.json(), list) and len(first.json()) == 1
    second = requests.get(first.links["next"]["url"], headers=_bearer(token, MT_LINEITEMS),
                          timeout=5)
    assert second.json() == [item] and "next" not in second.links
    tagged = requests.get(peer.lineitems_url("c1"), params={"tag": "badge"},
                          headers=_bearer(token, MT_LINEITEMS), timeout=5)
    assert tagged.json() == [item]
    hidden = requests.get(other["id"], headers=_bearer(token, MT_LINEITEM), timeout=5)
    assert hidden.status_code == 404

    now = datetime.now(UTC)
    score = {"userId": "u1", "scoreGiven": 7, "scoreMaximum": 10, "timestamp": now.isoformat(),
             "activityProgress": "Completed", "gradingProgress": "FullyGraded"}
    scores_url = item["id"] + "/scores"
    wrong_type = requests.post(scores_url, json=score, headers=_bearer(token), timeout=5)
    assert wrong_type.status_code == 415
    posted = requests.post(scores_url, data=json.dumps(score),
                           headers={**_bearer(token), "Content-Type": MT_SCORE}, timeout=5)
    assert posted.status_code == 200, posted.text
    older = {**score, "timestamp": (now - timedelta(minutes=1)).isoformat()}
    conflict = requests.post(scores_url, data=json.dumps(older),
                             headers={**_bearer(token), "Content-Type": MT_SCORE}, timeout=5)
    assert conflict.status_code == 409
    teacher = {**score, "userId": "t1"}
    refused = requests.post(scores_url, data=json.dumps(teacher),
                            headers={**_bearer(token), "Content-Type": MT_SCORE}, timeout=5)
    assert refused.status_code == 400

    results = requests.get(item["id"] + "/results", params={"user_id": "u1"},
                           headers=_bearer(token, MT_RESULTS), timeout=5)
    assert results.headers["Content-Type"].startswith(MT_RESULTS)
    assert [(r["userId"], r["resultScore"], r["resultMaximum"]) for r in results.json()] == [
        ("u1", 70.0, 100)]

    updated = requests.put(item["id"], data=json.dumps({**item, "label": "Renamed"}),
                           headers={**_bearer(token, MT_LINEITEM), "Content-Type": MT_LINEITEM},
                           timeout=5)
    assert updated.status_code == 200 and updated.json()["label"] == "Renamed"
    deleted = requests.delete(item["id"], headers=_bearer(token), timeout=5)
    assert deleted.status_code == 204
    assert requests.get(item["id"], headers=_bearer(token), timeout=5).status_code == 404


def test_ags_validates_score_bodies(peer: PlatformPeer, mini_tool: MiniTool):
    token = mini_tool.access_token(peer.token_url, [SCOPE_SCORE])
    item = peer.add_line_item("c1", "Quiz", 10)
    base = {"userId": "u1", "timestamp": datetime.now(UTC).isoformat(),
            "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "scoreGiven": 1, "scoreMaximum": 1}
    for broken in ({"timestamp": "yesterday"}, {"activityProgress": "Done"},
                   {"scoreMaximum": None}, {"userId": 1}, {"timestamp": "2024-01-01T00:00:00"}):
        body = {**base, **broken}
        resp = requests.post(item["id"] + "/scores", data=json.dumps(body),
                             headers={**_bearer(token), "Content-Type": MT_SCORE}, timeout=5)
        assert resp.status_code == 400, broken


# ---------------------------------------------------------------- dynamic registration
def test_dynamic_registration_then_launch(peer: PlatformPeer, mini_tool: MiniTool):
    config = requests.get(peer.openid_configuration_url, timeout=5).json()
    assert config["issuer"] == peer.issuer
    assert config["registration_endpoint"] == peer.registration_url
    assert config["https://purl.imsglobal.org/spec/lti-platform-configuration"][
        "product_family_code"] == "peer"

    resp = peer.dynamic_register(peer.new_browser(), mini_tool.register_url)
    assert resp.status_code == 200, resp.text
    answer = json.loads(resp.text)
    client_id = answer["client_id"]
    deployment_id = answer["https://purl.imsglobal.org/spec/lti-tool-configuration"][
        "deployment_id"]
    assert answer["scope"] == SCOPE_NRPS  # the tool-settings scope is not offered
    assert peer.registrations[-1]["client_id"] == client_id

    launch = peer.launch(peer.new_browser(), "u1", "c1", client_id=client_id)
    claims = launch.json()["claims"]
    assert claims["aud"] == client_id
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == deployment_id
    assert claims["name"] == "Ann Learner" and "email" not in claims  # claims: iss, sub, name
    assert AGS_ENDPOINT not in claims and NRPS_CLAIM in claims


def _register(peer: PlatformPeer, body: dict, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(peer.registration_url, json=body, headers=headers, timeout=5)


def test_registration_token_is_single_use(peer: PlatformPeer, mini_tool: MiniTool):
    token = peer.new_registration_token()
    assert _register(peer, mini_tool.registration_body(), token).status_code == 200
    again = _register(peer, mini_tool.registration_body(), token)
    assert (again.status_code, again.text) == (401, "token_already_used")


def _without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


def _tool_config(body: dict, **changes) -> dict:
    key = "https://purl.imsglobal.org/spec/lti-tool-configuration"
    config = {k: v for k, v in body[key].items() if changes.get(k, "") is not None}
    config.update({k: v for k, v in changes.items() if v is not None})
    return {**body, key: config}


@pytest.mark.parametrize(
    ("mutate", "status", "text"),
    [
        (lambda b: _tool_config(b, domain=None), 400, "missing_domain"),
        (lambda b: _tool_config(b, domain="badges.example.org"), 400,
         "domain_targetlinkuri_mismatch"),
        (lambda b: _tool_config(b, domain="127.0.0.1:1"), 400, "domain_targetlinkuri_mismatch"),
        (lambda b: _without(b, "initiate_login_uri"), 400,
         "missing required attribute initiate_login_uri"),
        (lambda b: _without(b, "jwks_uri"), 400, "missing required attribute jwks_uri"),
        (lambda b: {**b, "token_endpoint_auth_method": "client_secret_basic"}, 400,
         "invalid_token_endpoint_auth_method"),
    ],
)
def test_registration_errors_match_moodle(peer: PlatformPeer, mini_tool: MiniTool, mutate,
                                          status: int, text: str):
    token = peer.new_registration_token()
    resp = _register(peer, mutate(mini_tool.registration_body()), token)
    assert (resp.status_code, resp.text) == (status, text)
    # A refused registration does not use the token up (as in Moodle).
    assert _register(peer, mini_tool.registration_body(), token).status_code == 200


def test_registration_needs_a_token_the_peer_signed(peer: PlatformPeer, mini_tool: MiniTool):
    no_token = _register(peer, mini_tool.registration_body(), None)
    assert (no_token.status_code, no_token.text) == (401, "missing_registration_token")
    forged = mini_tool.sign({"sub": "x", "scope": "reg"})
    assert _register(peer, mini_tool.registration_body(), forged).status_code == 401


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_initiation_carries_the_spec_parameters(peer: PlatformPeer, mini_tool: MiniTool,
                                                method: str):
    peer.launch(peer.new_browser(), "u1", "c1", login_method=method)
    assert mini_tool.last_login.pop("method") == method
    hint = mini_tool.last_login.pop("lti_message_hint")
    assert hint and hint != "u1"
    assert mini_tool.last_login == {
        "iss": peer.issuer,
        "login_hint": "u1",
        "target_link_uri": mini_tool.launch_url,
        "client_id": "client-1",
        "lti_deployment_id": "dep-1",
    }
