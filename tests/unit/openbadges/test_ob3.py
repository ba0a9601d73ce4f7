"""OB 3.0 credential shapes: 1EdTech JSON Schema, term expansion, builders."""

from __future__ import annotations

import copy
import hashlib

import pytest

from lti_badges.openbadges import ob3, proofs, status_list

from .conftest import CREATED, ISSUER_ID, validate_schema

_validate = validate_schema


def test_every_shape_validates_against_the_1edtech_schema_unsigned_and_signed(
    shapes, achievement_schema, loader, ed_key, vm
):
    assert len(shapes) >= 4
    for name, doc in shapes.items():
        _validate(achievement_schema, doc)
        signed = proofs.sign_data_integrity(doc, ed_key, vm, loader, created=CREATED)
        assert isinstance(signed["proof"], list), name  # the schema wants an array
        _validate(achievement_schema, signed)


def test_every_shape_expands_fully(shapes, loader):
    for doc in shapes.values():
        ob3.check_terms_expand(doc, loader)


def test_the_schema_validator_really_checks(achievement_schema, shapes):
    bad = copy.deepcopy(shapes["full"])
    bad["credentialSubject"]["identifier"][0]["identityType"] = "shoeSize"
    with pytest.raises(AssertionError):
        _validate(achievement_schema, bad)
    bad = copy.deepcopy(shapes["full"])
    bad["proof"] = {"type": "DataIntegrityProof"}  # not an array
    with pytest.raises(AssertionError):
        _validate(achievement_schema, bad)
    bad = copy.deepcopy(shapes["full"])
    bad["validFrom"] = "yesterday"  # format checker on
    with pytest.raises(AssertionError):
        _validate(achievement_schema, bad)


def test_context_type_schema_and_status_choices(shapes):
    full = shapes["full"]
    assert full["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert full["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert shapes["achievement-credential"]["type"] == ["VerifiableCredential", "AchievementCredential"]
    assert full["credentialSchema"] == [{"id": ob3.ACHIEVEMENT_CREDENTIAL_SCHEMA_URL, "type": "JsonSchema"}]
    assert full["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert full["validFrom"] == "2024-05-01T12:00:00Z" and full["validUntil"] == "2030-01-01T00:00:00Z"
    assert full["issuer"]["id"] == ISSUER_ID and full["issuer"]["type"] == ["Profile"]
    ach = full["credentialSubject"]["achievement"]
    assert ach["type"] == ["Achievement"] and ach["tag"] == ["algebra", "quiz"]
    assert ach["criteria"]["narrative"].startswith("Score") and ach["inLanguage"] == "en"
    assert ach["image"] == {
        "id": "https://badges.example.edu/img/badge-7.png",
        "type": "Image",
        "caption": "A golden star",
    }
    assert ach["alignment"][0]["type"] == ["Alignment"]


def test_identity_object_is_a_salted_sha256_of_the_normalised_email(shapes):
    ident = shapes["full"]["credentialSubject"]["identifier"][0]
    assert ident == {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": "sha256$" + hashlib.sha256(b"alice.smith@example.orgc0ffee").hexdigest(),
        "identityType": "emailAddress",
        "salt": "c0ffee",
    }
    assert "identifier" not in shapes["subject-id"]["credentialSubject"]
    assert shapes["subject-id"]["credentialSubject"]["id"] == "did:example:learner-2"


def test_builder_refuses_incomplete_input(issuer, achievement):
    with pytest.raises(ValueError, match="id or a recipient"):
        ob3.build_credential(
            credential_id="urn:uuid:1", issuer=issuer, achievement=achievement, valid_from=CREATED
        )
    with pytest.raises(ValueError, match="criteria"):
        ob3.Achievement(id="urn:a", name="n", description="d").to_json()
    with pytest.raises(ValueError, match="credential_type"):
        ob3.build_credential(
            credential_id="urn:uuid:1",
            issuer=issuer,
            achievement=achievement,
            valid_from=CREATED,
            subject_id="did:example:1",
            credential_type="Badge",
        )


def test_profile_and_achievement_documents(issuer, achievement, ed_key, vm, loader, profile_schema):
    plain = ob3.profile_document(issuer)
    assert plain["@context"] == ob3.OB3_CONTEXTS
    with_keys = ob3.profile_document(issuer, keys=[(ed_key, vm)])
    assert with_keys["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert with_keys["assertionMethod"] == [vm]
    assert with_keys["verificationMethod"][0]["controller"] == issuer.id
    for doc in (plain, with_keys):
        _validate(profile_schema, doc)
        ob3.check_terms_expand(doc, loader)
    ach = ob3.achievement_document(achievement)
    ob3.check_terms_expand(ach, loader)
    assert ach["id"] == achievement.id


# -- check_terms_expand refuses what would not be signed faithfully ---------------------


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.__setitem__("favouriteColour", "blue"), "/favouriteColour"),
        (lambda d: d["credentialSubject"].__setitem__("score", 92), "/credentialSubject/score"),
        (
            lambda d: d["credentialSubject"]["achievement"].__setitem__("level", {"name": "gold"}),
            "/credentialSubject/achievement/level",
        ),
        (
            lambda d: d.__setitem__(
                "credentialSchema", [{"id": "https://x/s.json", "type": "1EdTechJsonSchemaValidator2019"}]
            ),
            "1EdTechJsonSchemaValidator2019",
        ),
        (
            lambda d: d.__setitem__(
                "credentialStatus", {"id": "https://x/s", "type": "1EdTechRevocationList"}
            ),
            "1EdTechRevocationList",
        ),
        (lambda d: d["credentialSubject"].__setitem__("id", "learner-5"), "relative @id"),
        (
            lambda d: d["@context"].append({"name": "https://evil.example/name"}),
            "expansion failed",  # redefining a @protected term
        ),
    ],
)
def test_check_terms_expand_refuses_unknown_terms(shapes, loader, mutate, expected):
    doc = copy.deepcopy(shapes["full"])
    mutate(doc)
    with pytest.raises(ob3.TermExpansionError) as info:
        ob3.check_terms_expand(doc, loader)
    assert expected in str(info.value)


def test_signing_refuses_a_document_with_an_unknown_term(shapes, loader, ed_key, vm):
    doc = copy.deepcopy(shapes["full"])
    doc["credentialSubject"]["grade"] = "A"
    with pytest.raises(ob3.TermExpansionError, match="grade"):
        proofs.sign_data_integrity(doc, ed_key, vm, loader, created=CREATED)


def test_status_entry_is_defined_by_the_vc_context(loader, shapes):
    doc = copy.deepcopy(shapes["minimal-email"])
    doc["credentialStatus"] = status_list.status_list_entry("https://x.example/ob/status/2", 3)
    ob3.check_terms_expand(doc, loader)
