"""Connecting a learner's backpack: discovery, RFC 7591 registration, authorization code
with PKCE S256, tokens stored encrypted, refresh, and disconnect with RFC 7009 revocation,
against the test backpack (both OB 2.1 Badge Connect and the OB 3.0 API)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from lti_badges.backpack import service, vault
from lti_badges.backpack.service import BackpackServiceError
from lti_badges.clock import utcnow
from lti_badges.extensions import db
from lti_badges.models import BackpackConnection, Person
from tests.backpack_server.flows import connect, connection_row

pytest_plugins = ["tests.backpack_server.fixtures"]


@pytest.mark.parametrize("kind", ["ob30", "ob21"])
def test_connect_discovers_registers_and_stores_tokens_encrypted(app, backpack, learner, kind):
    with app.app_context():
        person = db.session.get(Person, learner)
        url = service.start_connect(person, backpack.base_url, prefer=kind)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(backpack.base_url + "/oauth/authorize?")
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and query["state"]
    push_scope = ("https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert" if kind ==
                  "ob30" else "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create")
    assert push_scope in query["scope"].split()
    assert backpack.store.registrations == 1
    client = backpack.store.clients[query["client_id"]]
    assert client.metadata["redirect_uris"] == [app.config["BASE_URL"] + "/backpack/callback"]
    assert client.metadata["token_endpoint_auth_method"] == "client_secret_basic"

    back = backpack.consent(url)
    with app.app_context():
        conn = service.finish_connect(back["state"], back["code"])
        assert conn.status == "active" and conn.kind == kind
        assert conn.name == "Test Backpack"
        assert conn.revocation_url == backpack.base_url + "/oauth/revoke"
        # Encrypted at rest: the stored values are not the tokens the backpack issued.
        issued = backpack.store.tokens[-1]
        assert issued.access_token not in (conn.access_token_enc or "")
        assert vault.decrypt(conn.access_token_enc) == issued.access_token
        assert vault.decrypt(conn.refresh_token_enc) == issued.refresh_token
        assert vault.decrypt(conn.client_secret_enc) == client.client_secret
        assert conn.state_hash is None and conn.pkce_verifier_enc is None
        assert service.connections(db.session.get(Person, learner))[0]["status"] == "active"
        # The state works once.
        with pytest.raises(BackpackServiceError, match="unknown or was already used"):
            service.finish_connect(back["state"], back["code"])


def test_registration_is_reused_and_reconnecting_updates_the_same_connection(
        app, backpack, learner):
    first = connect(app, backpack, learner, prefer="ob30")
    second = connect(app, backpack, learner, prefer="ob30")
    assert first == second
    assert backpack.store.registrations == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(BackpackConnection)) == 1


def test_pkce_is_checked_by_the_backpack(app, backpack, learner):
    """A code stolen on the way back is useless without the verifier only the tool holds."""
    with app.app_context():
        url = service.start_connect(db.session.get(Person, learner), backpack.base_url)
    back = backpack.consent(url)
    client_id = parse_qs(urlsplit(url).query)["client_id"][0]
    secret = backpack.store.clients[client_id].client_secret
    stolen = requests.post(backpack.base_url + "/oauth/token", data={
        "grant_type": "authorization_code", "code": back["code"],
        "redirect_uri": app.config["BASE_URL"] + "/backpack/callback",
        "code_verifier": "x" * 50}, auth=(client_id, secret), timeout=5)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_learner_declining_connects_nothing(app, backpack, learner):
    backpack.deny_consent = True
    with app.app_context():
        url = service.start_connect(db.session.get(Person, learner), backpack.base_url)
    back = backpack.consent(url)
    assert back["error"] == "access_denied"
    with app.app_context():
        with pytest.raises(BackpackServiceError, match="did not allow"):
            service.finish_connect(back["state"], None, error=back["error"])
        assert db.session.scalar(db.select(db.func.count()).select_from(BackpackConnection)) == 0


def test_expired_connect_request_is_refused(app, backpack, learner):
    with app.app_context():
        url = service.start_connect(db.session.get(Person, learner), backpack.base_url)
    back = backpack.consent(url)
    with app.app_context():
        with pytest.raises(BackpackServiceError, match="expired"):
            service.finish_connect(back["state"], back["code"],
                                   now=utcnow() + timedelta(minutes=11))


def test_disconnect_revokes_the_tokens(app, backpack, learner):
    conn_id = connect(app, backpack, learner)
    assert backpack.active_tokens() == 1
    with app.app_context():
        conn = db.session.get(BackpackConnection, conn_id)
        access = vault.decrypt(conn.access_token_enc)
        result = service.disconnect(conn)
        assert result["revoked"] is True and "cancelled" in result["message"]
    assert backpack.active_tokens() == 0
    assert sorted(backpack.store.revocations) == ["access_token", "refresh_token"]
    after = connection_row(app, conn_id)
    assert after.status == "disconnected" and after.access_token_enc is None
    denied = requests.get(backpack.base_url + "/ims/ob/v3p0/profile",
                          headers={"Authorization": f"Bearer {access}"}, timeout=5)
    assert denied.status_code == 401


def test_disconnect_without_revocation_endpoint_says_so(app, backpack, learner):
    backpack.offer_revocation = False
    conn_id = connect(app, backpack, learner)
    with app.app_context():
        result = service.disconnect(db.session.get(BackpackConnection, conn_id))
    assert result["revoked"] is False and "backpack's settings" in result["message"]
