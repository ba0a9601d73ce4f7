"""LTI Advantage Dynamic Registration against the independent platform peer, end to end:
registration → stored platform → launches (only once active)."""

from __future__ import annotations

import json
import re

import pytest
import requests

from lti_badges.extensions import db
from lti_badges.lti.dynamic_registration import create_invite, domain_of
from lti_badges.models import Platform


def _invite(app) -> str:
    with app.app_context():
        return create_invite()


def _launchable(peer, client_id):
    peer.add_course("c1")
    peer.add_user("u", name="Uma")
    peer.enroll("c1", "u", roles=["Instructor"])
    return peer.launch(peer.new_browser(), "u", "c1", client_id=client_id)


def test_registration_with_invite_is_active_and_launches(app, tool, peer):
    code = _invite(app)
    resp = peer.dynamic_register(peer.new_browser(), tool.url(f"/lti/register?invite={code}"))
    assert resp.status_code == 200, resp.text
    assert "Registration complete" in resp.text
    assert "org.imsglobal.lti.close" in resp.text
    sent = peer.registrations[-1]["request"]
    conf = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert sent["initiate_login_uri"] == tool.url("/lti/login")
    assert sent["redirect_uris"] == [tool.url("/lti/launch")]
    assert sent["jwks_uri"] == tool.url("/lti/jwks")
    assert conf["domain"] == domain_of(tool.base_url) == f"127.0.0.1:{tool.port}"
    assert set(sent["scope"].split()) >= {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"}
    assert {"name", "email"} <= set(conf["claims"])
    assert any(m["type"] == "LtiDeepLinkingRequest" for m in conf["messages"])
    client_id = peer.registrations[-1]["client_id"]
    with app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(client_id=client_id))
        assert platform.status == "active" and platform.registered_via == "dynamic"
        assert platform.issuer == peer.issuer
        assert [d.deployment_id for d in platform.deployments] == [
            peer.registrations[-1]["deployment_id"]]
    launched = _launchable(peer, client_id)
    assert launched.status_code == 200 and "/course/" in launched.url


def test_invite_works_once_and_without_it_registration_is_pending(app, tool, peer, runner):
    code = _invite(app)
    first = peer.dynamic_register(peer.new_browser(), tool.url(f"/lti/register?invite={code}"))
    assert "Registration complete" in first.text
    second = peer.dynamic_register(peer.new_browser(), tool.url(f"/lti/register?invite={code}"))
    assert second.status_code == 200 and "waiting for approval" in second.text
    client_id = peer.registrations[-1]["client_id"]
    resp = _launchable(peer, client_id)
    assert resp.status_code == 403 and "waiting for approval" in resp.text
    with app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(client_id=client_id))
        pid = platform.id
    result = runner.invoke(args=["platforms", "approve", str(pid), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["status"] == "active"
    ok = peer.launch(peer.new_browser(), "u", "c1", client_id=client_id)
    assert ok.status_code == 200


def test_registration_without_parameters_explains_itself(tool):
    resp = requests.get(tool.url("/lti/register"))
    assert resp.status_code == 400 and "openid_configuration" in resp.text


def test_registration_with_unreachable_configuration(tool):
    resp = requests.get(tool.url("/lti/register"),
                        params={"openid_configuration": "http://127.0.0.1:9/nothing"})
    assert resp.status_code == 400 and "could not be reached" in resp.text


def test_issuer_must_match_configuration_host(app, tool, peer, monkeypatch):
    from lti_badges.lti import dynamic_registration

    real = dynamic_registration.get_json

    def lying(url, policy, **kw):
        doc = dict(real(url, policy, **kw))
        doc["issuer"] = "https://elsewhere.example"
        return doc

    monkeypatch.setattr(dynamic_registration, "get_json", lying)
    resp = peer.dynamic_register(peer.new_browser(), tool.url("/lti/register"))
    assert resp.status_code == 400 and "does not match the host" in resp.text
    assert not peer.registrations


def test_platform_refusal_is_reported(app, tool, peer):
    """A registration token used twice: the platform says token_already_used (401)."""
    token = peer.new_registration_token()
    params = {"openid_configuration": peer.openid_configuration_url, "registration_token": token}
    assert requests.get(tool.url("/lti/register"), params=params).status_code == 200
    again = requests.get(tool.url("/lti/register"), params=params)
    assert again.status_code == 400 and "refused the registration" in again.text


def test_https_required_in_production(app, tool, peer):
    app.config["ENV"] = "production"
    resp = peer.dynamic_register(peer.new_browser(), tool.url("/lti/register"))
    assert resp.status_code == 400 and "HTTPS" in resp.text


@pytest.mark.parametrize("field", ["issuer", "registration_endpoint", "jwks_uri"])
def test_incomplete_configuration(app, tool, peer, monkeypatch, field):
    from lti_badges.lti import dynamic_registration

    real = dynamic_registration.get_json
    monkeypatch.setattr(dynamic_registration, "get_json",
                        lambda url, policy, **kw: {k: v for k, v in real(url, policy, **kw).items()
                                                   if k != field})
    resp = peer.dynamic_register(peer.new_browser(), tool.url("/lti/register"))
    assert resp.status_code == 400 and re.search(field.split("_")[0], resp.text)
