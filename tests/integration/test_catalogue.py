"""services.catalogue: creating and changing issuers and badges go through one set of checks."""

from __future__ import annotations

import pytest

from lti_badges.extensions import db
from lti_badges.issuing import IssuingError
from lti_badges.services import catalogue

GOOD = {"name": "Sécurité", "description": "d", "criteria_text": "c"}
BAD_BADGE = [
    ({"name": "x" * 256}, "longer than 255"),
    ({"name": "  "}, "is required"),
    ({"description": "a\x07b"}, "control characters"),
    ({"criteria_url": "javascript:alert(1)"}, r"http\(s\) URL"),
    ({"tags": ["ok", "bad\x1b"]}, "control characters"),
    ({"expires_after_days": 0}, "between 1 and 36500"),
    ({"alignments": [{"target_name": "C1", "target_url": "ftp://x"}]}, r"http\(s\) URL"),
    ({"rule": {"grade": {"item": "Q"}}}, "The rule is not valid"),
]


@pytest.mark.parametrize("change,message", BAD_BADGE)
def test_create_and_update_refuse_the_same_badges(app, change, message):
    with app.app_context():
        issuer = catalogue.create_issuer("Cégep", "https://c.example", "b@c.example")
        fields = {**GOOD, **change}
        with pytest.raises(IssuingError, match=message):
            catalogue.create_badge(issuer, **fields)
        db.session.rollback()
        issuer = catalogue.create_issuer("Cégep", "https://c.example", "b@c.example")
        badge = catalogue.create_badge(issuer, **GOOD)
        with pytest.raises(IssuingError, match=message):
            catalogue.update_badge(badge, **fields)


def test_update_keeps_what_create_normalises(app):
    with app.app_context():
        issuer = catalogue.create_issuer("Cégep", "https://c.example", "b@c.example")
        badge = catalogue.create_badge(issuer, **GOOD)
        catalogue.update_badge(badge, name="  Renommé ", description="d2", criteria_text="c2",
                               tags=[" a ", "", "b"], rule='{"manual": {}}')
        assert (badge.name, badge.tags, badge.rule) == ("Renommé", ["a", "b"], {"manual": {}})


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "not a valid email"), ("url", "mailto:x@y.z", r"http\(s\) URL"),
    ("name", "", "is required"), ("description", "a\x00b", "control characters")])
def test_create_and_update_refuse_the_same_issuers(app, field, value, message):
    with app.app_context():
        good = {"name": "Cégep", "url": "https://c.example", "email": "b@c.example"}
        with pytest.raises(IssuingError, match=message):
            catalogue.create_issuer(**{**good, field: value})
        db.session.rollback()
        issuer = catalogue.create_issuer(**good)
        with pytest.raises(IssuingError, match=message):
            catalogue.update_issuer(issuer, **{**good, field: value})
        assert len(issuer.keys) == 2  # Ed25519 and RSA, made once


def test_one_email_rule():
    assert catalogue.is_email("léa.tremblay@cegep.qc.ca")
    assert not catalogue.is_email("lea@localhost") and not catalogue.is_email("a b@c.d")
    assert not catalogue.is_email("x" * 316 + "@c.de")
