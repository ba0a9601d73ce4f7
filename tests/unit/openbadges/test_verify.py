"""The verifier behind /verify: every input form, every format, and the ways a
badge can be wrong (tampered, revoked, expired, not yet valid, another
recipient, an unknown key, another issuer's key, unreachable documents,
garbage). Documents come from the project's builders and are served by an
in-memory fetch (verify_fixtures.Site), the publication the web layer does."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lti_badges.openbadges import baking, keys, multibase, ob2, ob3, proofs, status_list
from lti_badges.openbadges.verify import JOSE, Verdict, verify

from . import verify_fixtures as vf
from .verify_fixtures import BASE, DID1, DID2, EMAIL, HOSTED_URL, NOW, STATUS_URL, Site

BAD_SIGNATURE = "The signature does not match the issuer's key."
UNEXPECTED = "unexpected error"


@pytest.fixture(scope="module")
def world(ed_key, other_ed_key, rsa_key, loader) -> vf.World:
    return vf.build_world(ed_key, other_ed_key, rsa_key, loader)


def run(world: vf.World, data, *, site: Site | None = None, **kwargs) -> Verdict:
    kwargs.setdefault("now", NOW)
    verdict = verify(data, fetch=(site or world.site).fetch, loader=world.loader, **kwargs)
    json.dumps(verdict.to_json())  # always JSON-serialisable
    assert verdict.reasons, "every verdict says why"
    assert not any(UNEXPECTED in c.message for c in verdict.checks), verdict.checks
    return verdict


def statuses(verdict: Verdict) -> dict[str, str]:
    return {c.name: c.status for c in verdict.checks}


def reasons(verdict: Verdict) -> str:
    return " | ".join(verdict.reasons)


def _b64json(obj) -> str:
    return multibase.b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def _retamper_jws(token: str, change) -> str:
    """Same header and signature, changed payload."""
    head, body, sig = token.split(".")
    payload = json.loads(multibase.b64url_decode(body))
    change(payload)
    return f"{head}.{_b64json(payload)}.{sig}"


# --------------------------------------------------------------------------
# Valid badges, every format and input form
# --------------------------------------------------------------------------


def test_ob3_data_integrity_is_valid_with_display(world):
    v = run(world, world.credential, recipient_email=EMAIL)
    assert (v.status, v.format) == ("valid", "ob3-data-integrity")
    assert set(statuses(v).values()) == {"ok"}
    assert [c.name for c in v.checks] == [
        "format", "structure", "signature", "issuer", "revocation", "validity", "recipient",
    ]  # fmt: skip
    d = v.display
    assert d["name"] == "Quiz master" and d["issuer_name"] == "Example University"
    assert d["image"] == f"{BASE}/img/badge-7.png"
    assert d["description"].startswith("Scored at least 80 %")
    assert d["issued_on"] == "2024-05-01T12:00:00Z" and d["expires"] == "2030-01-01T00:00:00Z"
    assert d["criteria"]["narrative"].startswith("Score **80 %**")
    assert d["recipient"].startswith(EMAIL) and d["status"] == "valid"
    assert v.document == world.credential
    # did:web resolved through fetch (the web layer maps it with keys.did_web_url)
    assert DID1 in world.site.requests and STATUS_URL in world.site.requests


def test_without_email_the_recipient_is_a_hashed_email(world):
    v = run(world, world.credential)
    assert v.status == "valid" and v.display["recipient"] == "hashed email"
    assert statuses(v)["recipient"] == "skipped"


@pytest.mark.parametrize(
    "form",
    [
        lambda w: w.jwt,
        lambda w: f"  {w.jwt}\n",
        lambda w: w.jwt.encode(),
        lambda w: f"{BASE}/ob/credentials/1.jwt",
    ],
)
def test_ob3_vc_jwt_is_valid(world, form):
    v = run(world, form(world), recipient_email="  Learner@Example.ORG ")
    assert (v.status, v.format) == ("valid", "ob3-vc-jwt"), v.reasons
    assert v.display["name"] == "Quiz master"


@pytest.mark.parametrize(
    "form",
    [
        lambda w: json.dumps(w.credential),
        lambda w: json.dumps(w.credential).encode(),
        lambda w: f"{BASE}/ob/credentials/1",
    ],
)
def test_ob3_credential_as_json_text_bytes_or_url(world, form):
    v = run(world, form(world))
    assert (v.status, v.format) == ("valid", "ob3-data-integrity"), v.reasons


@pytest.mark.parametrize(
    "form", [lambda w: HOSTED_URL, lambda w: w.hosted, lambda w: json.dumps(w.hosted, indent=2)]
)
def test_ob2_hosted_is_valid(world, form):
    v = run(world, form(world), recipient_email=EMAIL)
    assert (v.status, v.format) == ("valid", "ob2-hosted"), v.reasons
    assert set(statuses(v).values()) == {"ok"}
    d = v.display
    assert (d["name"], d["issuer_name"], d["issuer_url"]) == (
        "Quiz master",
        "Example University",
        "https://example.edu",
    )
    assert d["criteria"]["narrative"] and d["issued_on"] == "2024-05-01T12:00:00Z"
    assert HOSTED_URL in world.site.requests  # the issuer's copy is what gets verified


def test_ob2_signed_is_valid(world):
    v = run(world, world.signed, recipient_email=EMAIL)
    assert (v.status, v.format) == ("valid", "ob2-signed"), v.reasons
    assert set(statuses(v).values()) == {"ok"}
    assert v.display["recipient"].startswith(EMAIL)


# --------------------------------------------------------------------------
# OB 3.0: tampering, keys, issuer
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["credentialSubject"]["achievement"].__setitem__("name", "Quiz grandmaster"),
        lambda d: d["credentialSubject"]["identifier"][0].__setitem__(
            "identityHash", ob3.hash_identity("mallory@example.org", vf.SALT)
        ),
        lambda d: d.__setitem__("validUntil", "2099-01-01T00:00:00Z"),
        lambda d: d.__setitem__("validFrom", "2020-01-01T00:00:00Z"),
        lambda d: d["issuer"].__setitem__("name", "Harvard"),
        lambda d: d["credentialStatus"].__setitem__("statusListIndex", "6"),
        lambda d: d["proof"][0].__setitem__("created", "2024-05-02T12:00:00Z"),
        lambda d: d["proof"][0].__setitem__(
            "proofValue",
            d["proof"][0]["proofValue"][:-1] + ("2" if d["proof"][0]["proofValue"][-1] == "1" else "1"),
        ),
    ],
)
def test_tampered_data_integrity_credential_is_invalid(world, tamper):
    bad = copy.deepcopy(world.credential)
    tamper(bad)
    v = run(world, bad)
    assert v.status == "invalid"
    assert BAD_SIGNATURE in v.reasons
    assert statuses(v)["signature"] == "failed"


def test_undefined_terms_are_refused_before_the_signature(world):
    bad = copy.deepcopy(world.credential)
    bad["credentialSubject"]["grade"] = "A+"  # no context defines it: the proof would not cover it
    v = run(world, bad)
    assert v.status == "invalid" and statuses(v)["structure"] == "failed"
    assert "signature cannot protect" in reasons(v)


def test_unsigned_credential_is_invalid(world):
    v = run(world, world.unsigned)
    assert v.status == "invalid" and "not signed" in reasons(v)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p["credentialSubject"]["achievement"].__setitem__("name", "Quiz grandmaster"),
        lambda p: p.__setitem__("validUntil", "2099-01-01T00:00:00Z"),
        lambda p: p["issuer"].__setitem__("name", "Harvard"),
    ],
)
def test_tampered_vc_jwt_is_invalid(world, tamper):
    v = run(world, _retamper_jws(world.jwt, tamper))
    assert (v.status, v.format) == ("invalid", "ob3-vc-jwt")
    assert BAD_SIGNATURE in v.reasons


def test_vc_jwt_claims_must_match_the_credential(world):
    # Signed correctly, but nbf disagrees with validFrom (OB 3.0 §8.2.6.1).
    payload = dict(world.unsigned)
    payload.update(proofs.vc_jwt_claims(world.unsigned))
    payload["nbf"] += 3600
    import jwt as pyjwt

    token = pyjwt.encode(payload, world.ed_key, algorithm="EdDSA", headers={"kid": world.vm1, "typ": "JWT"})
    v = run(world, token)
    assert v.status == "invalid" and "do not match the credential" in reasons(v)


def test_unknown_key_of_the_issuer_is_refused(world):
    # A key with the issuer's DID as controller in its id, but not in the DID document.
    rogue_vm = keys.key_id(DID1, world.other_ed_key)
    v = run(world, world.sign_di(world.unsigned, world.other_ed_key, rogue_vm))
    assert v.status == "invalid" and statuses(v)["issuer"] == "failed"
    assert "a key the issuer does not publish" in reasons(v)
    token = proofs.sign_vc_jwt(world.unsigned, world.other_ed_key, rogue_vm)
    v = run(world, token)
    assert v.status == "invalid" and "a key the issuer does not publish" in reasons(v)


def test_key_of_another_issuer_is_refused(world):
    # Issuer 2 signs a credential that names issuer 1: its key is genuine, but not issuer 1's.
    vm2 = keys.key_id(DID2, world.other_ed_key)
    v = run(world, world.sign_di(world.unsigned, world.other_ed_key, vm2))
    assert v.status == "invalid" and statuses(v)["issuer"] == "failed"
    assert "another issuer's key" in reasons(v) and DID2 in reasons(v)
    v = run(world, proofs.sign_vc_jwt(world.unsigned, world.other_ed_key, vm2))
    assert v.status == "invalid" and "another issuer's key" in reasons(v)


def test_key_listed_but_not_for_assertion_method_is_refused(world):
    site = world.site.clone()
    did_doc = site.docs[keys.did_web_url(DID1)]
    did_doc["assertionMethod"] = []
    v = run(world, world.credential, site=site)
    assert v.status == "invalid" and "does not publish" in reasons(v)


def test_did_document_of_someone_else_is_refused(world):
    site = world.site.clone()
    site.publish(keys.did_web_url(DID1), keys.did_web_document(DID2, [(world.ed_key, None)]))
    v = run(world, world.credential, site=site)
    assert v.status == "invalid" and statuses(v)["issuer"] == "failed"


def test_unreachable_did_document(world):
    site = world.site.clone()
    del site.docs[keys.did_web_url(DID1)]
    v = run(world, world.credential, site=site)
    assert v.status == "invalid"
    assert (
        f"The issuer's DID document at {DID1} ({keys.did_web_url(DID1)}) could not be fetched." in v.reasons
    )


# --------------------------------------------------------------------------
# OB 3.0: status list, dates, recipient
# --------------------------------------------------------------------------


def test_ob3_revoked_by_status_list_bit(world):
    site = world.site.clone().publish(STATUS_URL, world.status_list_revoked)
    for form in (world.credential, world.jwt):
        v = run(world, form, site=site)
        assert v.status == "revoked", v.reasons
        assert v.reasons == ["The issuer has revoked this badge."]
        assert statuses(v)["revocation"] == "failed" and v.display["status"] == "revoked"


def test_other_bits_do_not_revoke(world):
    site = world.site.clone().publish(
        STATUS_URL, vf.status_list_doc(world.ed_key, world.vm1, world.loader, revoked=(4, 6))
    )
    assert run(world, world.credential, site=site).status == "valid"


def test_status_list_must_be_authentic(world):
    site = world.site.clone()
    forged = copy.deepcopy(world.status_list_revoked)
    forged["proof"] = world.status_list_clear["proof"]  # a valid proof from another list
    site.publish(STATUS_URL, forged)
    v = run(world, world.credential, site=site)
    assert v.status == "invalid" and "status list is not authentic" in reasons(v)
    # A list signed by another issuer's key does not count either.
    vm2 = keys.key_id(DID2, world.other_ed_key)
    bits = status_list.BitstringStatusList()
    slc = status_list.status_list_credential(STATUS_URL, DID2, bits.encode(), valid_from=vf.VALID_FROM)
    site.publish(STATUS_URL, world.sign_di(slc, world.other_ed_key, vm2))
    v = run(world, world.credential, site=site)
    assert v.status == "invalid" and "not published by its issuer" in reasons(v)


def test_unreachable_status_list(world):
    site = world.site.clone()
    del site.docs[STATUS_URL]
    v = run(world, world.credential, site=site)
    assert v.status == "invalid"
    assert f"The status list at {STATUS_URL} could not be fetched." in v.reasons


def test_ob3_expired_and_not_yet_valid(world):
    expired = world.credential_with(valid_until=datetime(2025, 1, 1, tzinfo=UTC))
    for form in (world.sign_di(expired), proofs.sign_vc_jwt(expired, world.ed_key, world.vm1)):
        v = run(world, form)
        assert v.status == "expired", v.reasons
        assert v.reasons == ["The badge expired on 2025-01-01T00:00:00Z."]
        assert statuses(v)["signature"] == "ok"
    future = world.credential_with(valid_from=datetime(2026, 1, 1, tzinfo=UTC))
    for form in (world.sign_di(future), proofs.sign_vc_jwt(future, world.ed_key, world.vm1)):
        v = run(world, form)
        assert v.status == "invalid" and "not yet valid" in reasons(v)
    # The same credential is valid once its time has come (``now`` is the caller's).
    assert run(world, world.sign_di(future), now=datetime(2026, 2, 1, tzinfo=UTC)).status == "valid"


def test_revoked_wins_over_expired(world):
    expired = world.sign_di(world.credential_with(valid_until=datetime(2025, 1, 1, tzinfo=UTC)))
    site = world.site.clone().publish(STATUS_URL, world.status_list_revoked)
    v = run(world, expired, site=site)
    assert v.status == "revoked" and len(v.reasons) == 2


def test_ob3_wrong_recipient(world):
    v = run(world, world.credential, recipient_email="mallory@example.org")
    assert v.status == "invalid" and statuses(v)["recipient"] == "failed"
    assert "The badge was not issued to mallory@example.org." in v.reasons
    by_id = world.sign_di(world.credential_with(recipient_email=None, subject_id=f"mailto:{EMAIL}"))
    assert run(world, by_id, recipient_email=EMAIL).status == "valid"
    assert run(world, by_id, recipient_email="mallory@example.org").status == "invalid"


def test_vcdm_1_1_vc_claim_is_explained(world):
    header = {"alg": "EdDSA", "typ": "JWT", "kid": world.vm1}
    token = f"{_b64json(header)}.{_b64json({'vc': world.unsigned, 'iss': DID1})}.c2ln"
    v = run(world, token)
    assert v.status == "invalid" and "'vc' claim" in reasons(v)


# --------------------------------------------------------------------------
# OB 2.0
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recipient", ob2.recipient_email("mallory@example.org", vf.SALT)),
        ("badge", f"{BASE}/ob/badges/8"),
        ("expires", "2099-01-01T00:00:00Z"),
        ("issuedOn", "2020-01-01T00:00:00Z"),
    ],
)
def test_ob2_hosted_tampered_copy_is_invalid(world, field, value):
    bad = copy.deepcopy(world.hosted)
    bad[field] = value
    v = run(world, bad)
    assert v.status == "invalid" and statuses(v)["hosted"] == "failed"
    assert "altered" in reasons(v) and field in reasons(v)


def test_ob2_hosted_id_must_match_the_url(world):
    site = world.site.clone()
    site.publish(f"{BASE}/ob/assertions/99", world.hosted)  # served elsewhere than its id
    v = run(world, f"{BASE}/ob/assertions/99", site=site)
    assert v.status == "invalid" and "not served at its own address" in reasons(v)


def test_ob2_hosted_outside_the_issuers_scope(world):
    site = world.site.clone()
    url = "https://evil.example/assertions/1"
    site.publish(url, world.ob2_assertion(assertion_id=url))
    v = run(world, url, site=site)
    assert v.status == "invalid" and statuses(v)["issuer"] == "failed"
    assert "not hosted by its issuer" in reasons(v)


def test_ob2_hosted_revoked_shape_and_gone(world):
    site = world.site.clone()
    site.publish(HOSTED_URL, ob2.revoked_assertion(HOSTED_URL, "Awarded by mistake"))
    for data in (HOSTED_URL, world.hosted):
        v = run(world, data, site=site)
        assert (v.status, v.format) == ("revoked", "ob2-hosted")
        assert v.reasons == ["The issuer has revoked this badge: Awarded by mistake"]
    site.gone.add(HOSTED_URL)  # OB 2.0: 410 Gone means revoked
    assert run(world, HOSTED_URL, site=site).status == "revoked"


def test_ob2_revocation_list(world):
    site = world.site.clone()
    site.publish(
        vf.OB2_REVOCATIONS,
        ob2.revocation_list(
            vf.OB2_REVOCATIONS, vf.OB2_ISSUER, [(HOSTED_URL, "Cheating"), (vf.SIGNED_ID, None)]
        ),
    )
    v = run(world, HOSTED_URL, site=site)
    assert v.status == "revoked" and "Cheating" in reasons(v)
    v = run(world, world.signed, site=site)
    assert (v.status, v.format) == ("revoked", "ob2-signed")
    assert v.reasons == ["The issuer has revoked this badge."]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.__setitem__("recipient", ob2.recipient_email("mallory@example.org", vf.SALT)),
        lambda p: p.__setitem__("expires", "2099-01-01T00:00:00Z"),
        lambda p: p.__setitem__("badge", f"{BASE}/ob/badges/7?x"),
        lambda p: p.__setitem__("issuedOn", "2020-01-01T00:00:00Z"),
    ],
)
def test_ob2_signed_tampered_is_invalid(world, tamper):
    other_badge = {**world.site.docs[vf.OB2_BADGE], "id": f"{BASE}/ob/badges/7?x"}
    site = world.site.clone().publish(other_badge["id"], other_badge)
    v = run(world, _retamper_jws(world.signed, tamper), site=site)
    assert (v.status, v.format) == ("invalid", "ob2-signed")
    assert BAD_SIGNATURE in v.reasons


def test_ob2_signed_with_a_key_the_issuer_does_not_have(world):
    # creator names the issuer's key, but another key signed it
    forged = ob2.sign_assertion(world.signed_doc, world.other_rsa_key)
    v = run(world, forged)
    assert v.status == "invalid" and BAD_SIGNATURE in v.reasons
    # creator names a key the issuer's profile does not list
    doc = world.ob2_assertion(assertion_id=vf.SIGNED_ID, signing_key_url=f"{vf.OB2_ISSUER}/keys/99")
    v = run(world, ob2.sign_assertion(doc, world.other_rsa_key))
    assert v.status == "invalid" and "a key the issuer does not publish" in reasons(v)


def test_ob2_signed_with_another_issuers_key(world):
    # Issuer B signs an assertion of issuer A's badge with B's own (genuine) key.
    doc = world.ob2_assertion(assertion_id=vf.SIGNED_ID, signing_key_url=vf.OB2_KEY_B)
    v = run(world, ob2.sign_assertion(doc, world.other_rsa_key))
    assert v.status == "invalid" and statuses(v)["issuer"] == "failed"
    assert "a key the issuer does not publish" in reasons(v)
    # Issuer A's profile lists B's key (misconfigured): the key's owner still says B.
    site = world.site.clone()
    site.docs[vf.OB2_ISSUER]["publicKey"] = [vf.OB2_KEY, vf.OB2_KEY_B]
    v = run(world, ob2.sign_assertion(doc, world.other_rsa_key), site=site)
    assert v.status == "invalid" and "belongs to someone other than its issuer" in reasons(v)


def test_ob2_badge_issuer_must_be_the_key_owner(world):
    # A badge class of issuer B, asserted with issuer A's key.
    site = world.site.clone()
    badge_b = copy.deepcopy(site.docs[vf.OB2_BADGE])
    badge_b.update(id=f"{BASE}/ob/badges/9", issuer=vf.OB2_ISSUER_B)
    site.publish(badge_b["id"], badge_b)
    doc = world.ob2_assertion(assertion_id=vf.SIGNED_ID, badge_id=badge_b["id"], signing_key_url=vf.OB2_KEY)
    v = run(world, ob2.sign_assertion(doc, world.rsa_key), site=site)
    assert v.status == "invalid" and "a key the issuer does not publish" in reasons(v)


def test_ob2_expired_and_not_yet_valid(world):
    site = world.site.clone()
    expired = world.ob2_assertion(expires="2025-01-01T00:00:00Z")
    site.publish(HOSTED_URL, expired)
    v = run(world, HOSTED_URL, site=site)
    assert v.status == "expired" and v.reasons == ["The badge expired on 2025-01-01T00:00:00Z."]
    signed = world.ob2_assertion(
        assertion_id=vf.SIGNED_ID, signing_key_url=vf.OB2_KEY, issued_on="2026-01-01T00:00:00Z"
    )
    v = run(world, ob2.sign_assertion(signed, world.rsa_key))
    assert v.status == "invalid" and "not yet valid" in reasons(v)


def test_ob2_wrong_recipient_and_url_identity(world):
    v = run(world, world.signed, recipient_email="mallory@example.org")
    assert v.status == "invalid" and "The badge was not issued to mallory@example.org." in v.reasons
    site = world.site.clone()
    site.publish(HOSTED_URL, world.ob2_assertion(recipient=ob2.recipient_url("https://lms.example/u/5")))
    v = run(world, HOSTED_URL, site=site)
    assert v.status == "valid" and v.display["recipient"] == "URL https://lms.example/u/5"
    assert run(world, HOSTED_URL, site=site, recipient_email=EMAIL).status == "invalid"


def test_ob2_signed_json_without_its_jws_is_refused(world):
    v = run(world, world.signed_doc)
    assert (v.status, v.format) == ("invalid", "ob2-signed")
    assert "JWS" in reasons(v)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (vf.OB2_ISSUER, f"The issuer's profile at {vf.OB2_ISSUER} could not be fetched."),
        (vf.OB2_BADGE, f"The badge class at {vf.OB2_BADGE} could not be fetched."),
        (vf.OB2_REVOCATIONS, f"The issuer's revocation list at {vf.OB2_REVOCATIONS} could not be fetched."),
        (vf.OB2_KEY, f"The issuer's public key at {vf.OB2_KEY} could not be fetched."),
    ],
)
def test_ob2_fetch_failures_are_explained(world, missing, message):
    site = world.site.clone()
    del site.docs[missing]
    v = run(world, world.signed, site=site)
    assert v.status == "invalid" and message in v.reasons


def test_unreachable_badge_url(world):
    v = run(world, f"{BASE}/ob/assertions/404")
    assert v.status == "invalid" and v.format == "unknown"
    assert v.reasons == [f"The badge at {BASE}/ob/assertions/404 could not be fetched."]
    assert "HTTP 404" in v.checks[0].message


def test_only_http_urls_and_did_web_are_fetched(world):
    site = world.site.clone()
    doc = world.ob2_assertion()
    doc["badge"] = "file:///etc/passwd"
    site.publish(HOSTED_URL, doc)
    v = run(world, doc, site=site)
    assert v.status == "invalid" and "not an HTTP(S) URL" in reasons(v)
    assert "file:///etc/passwd" not in site.requests


# --------------------------------------------------------------------------
# Baked images
# --------------------------------------------------------------------------


@pytest.mark.parametrize("image", [vf.png_bytes(), vf.SVG], ids=["png", "svg"])
def test_baked_round_trips(world, image):
    kind = baking.image_kind(image)
    cases = [
        (baking.bake_ob3(image, world.credential), "ob3-data-integrity"),
        (baking.bake_ob3(image, world.jwt), "ob3-vc-jwt"),
        (baking.bake_ob2(image, HOSTED_URL), "ob2-hosted"),
        (baking.bake_ob2(image, world.signed), "ob2-signed"),
    ]
    for baked, fmt in cases:
        v = run(world, baked, recipient_email=EMAIL)
        assert (v.status, v.format) == ("valid", fmt), (fmt, v.reasons)
        assert v.display["baked"] == kind and v.display["image"]
        assert f"baked in a {kind.upper()} image" in v.checks[0].message


def test_baked_image_with_both_verifies_ob3_first(world):
    both = baking.bake_ob3(baking.bake_ob2(vf.png_bytes(), HOSTED_URL), world.credential)
    assert run(world, both).format == "ob3-data-integrity"


def test_baked_tampered_and_revoked(world):
    bad = copy.deepcopy(world.credential)
    bad["credentialSubject"]["achievement"]["name"] = "Quiz grandmaster"
    v = run(world, baking.bake_ob3(vf.png_bytes(), bad))
    assert v.status == "invalid" and BAD_SIGNATURE in v.reasons
    site = world.site.clone().publish(HOSTED_URL, ob2.revoked_assertion(HOSTED_URL))
    assert run(world, baking.bake_ob2(vf.SVG, HOSTED_URL), site=site).status == "revoked"


@pytest.mark.parametrize("image", [vf.png_bytes(), vf.SVG], ids=["png", "svg"])
def test_image_without_a_badge(world, image):
    v = run(world, image)
    assert v.status == "invalid" and "carries no Open Badge" in reasons(v)


# --------------------------------------------------------------------------
# Garbage never raises
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"@context": ', "not valid JSON"),
        ("[1, 2]", "list"),
        ("header.payload", "has 2"),
        ("a.b.c.d.e", "has 5"),
        ("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "not base64url-encoded JSON"),
        ("hello world", "This is not a badge"),
        ({"type": "Foo"}, "neither an Open Badges 2.0 assertion"),
        ({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass"}, "not the badge class"),
        ({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion"}, "neither hosted nor signed"),
        (12345, "Cannot verify a int"),
        (None, "Cannot verify a NoneType"),
        (b"\xff\xfe\x00garbage", "neither a PNG or SVG image nor text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "could not be read"),
        (b"<svg", "could not be read"),
        ("did:web:example.com", "This is not a badge"),
        ("ftp://example.com/badge", "This is not a badge"),
    ],
)
def test_malformed_inputs_are_invalid_with_a_clear_reason(world, data, expected):
    v = run(world, data)
    assert v.status == "invalid"
    assert expected in reasons(v), v.reasons


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__("@context", [{"@vocab": "https://evil.example/"}, *d["@context"]]),
        lambda d: d.__setitem__("@context", ["https://evil.example/context.json", *d["@context"]]),
        lambda d: d.__setitem__("@context", [ob3.VC_V2, "https://evil.example/context.json"]),
        lambda d: d.__setitem__("credentialSubject", {"type": ["AchievementSubject"]}),
        lambda d: d.__setitem__("validFrom", "yesterday"),
        lambda d: d.__setitem__("issuer", 42),
        lambda d: d.__setitem__("proof", "nope"),
        lambda d: d.__setitem__("proof", [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}]),
        lambda d: d["proof"][0].__setitem__("verificationMethod", "https://evil.example/key"),
        lambda d: d.__setitem__("credentialStatus", {"type": "SomethingElse"}),
        lambda d: d["credentialStatus"].__setitem__("statusListIndex", "x"),
    ],
)
def test_malformed_credentials_are_invalid(world, mutate):
    bad = copy.deepcopy(world.credential)
    mutate(bad)
    assert run(world, bad).status == "invalid"


def _always_fails(url):
    raise ConnectionError(f"no network in this test: {url}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_arbitrary_input_never_raises(loader, data):
    v = verify(data, fetch=_always_fails, loader=loader, now=NOW)
    assert v.status == "invalid" and v.reasons
    assert not any(UNEXPECTED in c.message for c in v.checks), v.checks
    json.dumps(v.to_json())


_JWS_PART = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.lists(_JWS_PART, min_size=1, max_size=5).map(".".join),
        st.dictionaries(
            st.sampled_from(["@context", "type", "id", "issuer", "proof", "badge"]),
            st.recursive(
                st.none() | st.integers() | st.text(max_size=20),
                lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                max_leaves=8,
            ),
        ),
    )
)
def test_arbitrary_jws_and_documents_never_raise(loader, data):
    v = verify(data, fetch=_always_fails, loader=loader, now=NOW)
    assert v.status == "invalid" and v.reasons
    assert not any(UNEXPECTED in c.message for c in v.checks), v.checks


def test_a_url_serving_a_signed_assertions_json_is_not_hosted_verification(world):
    # Its JSON proves nothing, and the address does not serve the JWS: invalid, and why.
    site = world.site.clone().publish(HOSTED_URL, world.ob2_assertion(signing_key_url=vf.OB2_KEY))
    v = run(world, HOSTED_URL, site=site)
    assert v.status == "invalid" and "does not answer application/jose with its JWS" in reasons(v)


def _signed_site(world, jws=None) -> Site:
    """The signed assertion's JSON at its URL, and its JWS for Accept: application/jose."""
    return (world.site.clone().publish(vf.SIGNED_ID, world.signed_doc)
            .publish(vf.SIGNED_ID, world.signed if jws is None else jws, accept=JOSE))


def test_a_signed_assertion_is_verified_from_its_url_through_its_jws(world):
    site = _signed_site(world)
    v = run(world, vf.SIGNED_ID, site=site, recipient_email=EMAIL)
    assert (v.status, v.format) == ("valid", "ob2-signed"), v.reasons
    assert statuses(v)["signature"] == "ok" and statuses(v)["recipient"] == "ok"
    assert "its JWS, served at" in v.check("format").message
    # The JWS verified is the one the address served: tampered, it fails.
    tampered = _retamper_jws(world.signed, lambda p: p.__setitem__("issuedOn",
                                                                   "2020-01-01T00:00:00Z"))
    v = run(world, vf.SIGNED_ID, site=_signed_site(world, tampered))
    assert (v.status, statuses(v)["signature"]) == ("invalid", "failed")


def test_a_signed_assertion_by_url_is_revoked_by_the_revocation_list(world):
    site = _signed_site(world).publish(vf.OB2_REVOCATIONS, ob2.revocation_list(
        vf.OB2_REVOCATIONS, vf.OB2_ISSUER, [(vf.SIGNED_ID, "Plagiarism")]))
    v = run(world, vf.SIGNED_ID, site=site)
    assert (v.status, v.format) == ("revoked", "ob2-signed") and "Plagiarism" in reasons(v)


def test_the_jws_served_at_a_url_must_be_that_assertion(world):
    other = ob2.sign_assertion(world.ob2_assertion(assertion_id=f"{BASE}/ob/assertions/9",
                                                   signing_key_url=vf.OB2_KEY), world.rsa_key)
    v = run(world, vf.SIGNED_ID, site=_signed_site(world, other))
    assert v.status == "invalid" and "is not the assertion" in reasons(v)
    v = run(world, vf.SIGNED_ID, site=_signed_site(world, "not a jws"))
    assert v.status == "invalid" and "does not answer application/jose" in reasons(v)


def test_badge_class_and_issuer_must_be_ob2_documents(world):
    site = world.site.clone()
    site.docs[vf.OB2_ISSUER]["@context"] = "https://evil.example/context"
    v = run(world, HOSTED_URL, site=site)
    assert v.status == "invalid" and statuses(v)["issuer"] == "failed"
    site = world.site.clone()
    del site.docs[vf.OB2_BADGE]["id"]
    v = run(world, HOSTED_URL, site=site)
    assert v.status == "invalid" and "does not identify itself by that URL" in reasons(v)
