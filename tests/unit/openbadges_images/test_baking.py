"""Baking OB 2.0 assertions and OB 3.0 credentials into PNG and SVG."""

from __future__ import annotations

import io
import json

import openbadges_bakery
import pytest
from defusedxml.minidom import parseString
from PIL import Image

from lti_badges.openbadges.baking import (
    OB2_SVG_NS,
    OB3_SVG_NS,
    BakingError,
    bake_ob2,
    bake_ob3,
    image_kind,
    unbake_ob2,
    unbake_ob3,
)
from lti_badges.openbadges.images import generate_badge_png, sanitize_svg

from .helpers import chunk, png_bytes, png_chunks

HOSTED_URL = "https://badges.example.org/ob/assertions/7f3c"
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6InVybjp1dWlkOjEifQ.c2lnbmF0dXJl-_x"
ASSERTION = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": HOSTED_URL,
    "recipient": {"type": "email", "hashed": False, "identity": "zoë@example.org"},
}
CREDENTIAL = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": "urn:uuid:0c3a0d0e-1111-4222-8333-444455556666",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Ünïcode ✓ badge",
    "proof": [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}],
}
VC_JWT = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.AAECAwQ"


@pytest.fixture(scope="module")
def png() -> bytes:
    return generate_badge_png("Bake me", "green", "circle", size=128)


@pytest.fixture(scope="module")
def svg() -> bytes:
    return sanitize_svg(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        b'<circle cx="50" cy="50" r="45" fill="#1f5fbf"/><text x="50" y="55">Hi</text></svg>'
    ).encode()


def text_chunks(data: bytes) -> list[tuple[bytes, str]]:
    """(chunk type, keyword) of every text chunk."""
    return [
        (ctype, body.split(b"\x00", 1)[0].decode())
        for ctype, body in png_chunks(data)
        if ctype in (b"iTXt", b"tEXt", b"zTXt")
    ]


def elements(svg_bytes: bytes, ns: str, local: str):
    return parseString(svg_bytes).getElementsByTagNameNS(ns, local)


# --- OB 2.0 ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [HOSTED_URL, JWS, json.dumps(ASSERTION)])
def test_ob2_png_round_trip(png: bytes, payload: str) -> None:
    baked = bake_ob2(png, payload)
    assert unbake_ob2(baked) == payload
    assert text_chunks(baked) == [(b"iTXt", "openbadges")]
    # the reference library reads it the same way
    assert openbadges_bakery.unbake(io.BytesIO(baked)) == payload
    # Pillow sees an uncompressed iTXt with that keyword, and the same pixels
    img = Image.open(io.BytesIO(baked))
    assert img.text["openbadges"] == payload
    assert img.tobytes() == Image.open(io.BytesIO(png)).tobytes()


def test_ob2_png_itxt_is_uncompressed(png: bytes) -> None:
    baked = bake_ob2(png, HOSTED_URL)
    (body,) = [b for t, b in png_chunks(baked) if t == b"iTXt"]
    assert body == b"openbadges\x00\x00\x00\x00\x00" + HOSTED_URL.encode()


def test_ob2_mapping_payload_is_compact_json(png: bytes) -> None:
    baked = bake_ob2(png, ASSERTION)
    assert json.loads(unbake_ob2(baked)) == ASSERTION
    assert unbake_ob2(baked) == json.dumps(ASSERTION, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("payload", [HOSTED_URL, JWS, json.dumps(ASSERTION)])
def test_ob2_svg_round_trip(svg: bytes, payload: str) -> None:
    baked = bake_ob2(svg, payload)
    assert unbake_ob2(baked) == payload
    root = parseString(baked).documentElement
    (el,) = root.getElementsByTagNameNS(OB2_SVG_NS, "assertion")
    # verify: the URL for hosted, the JWS for signed, the assertion id for JSON
    assert el.getAttribute("verify") == (HOSTED_URL if payload.startswith("{") else payload)
    assert root.firstChild is el  # directly after <svg>
    # the drawing is untouched
    assert len(root.getElementsByTagName("circle")) == 1


def test_ob2_rebake_png_replaces(png: bytes) -> None:
    once = bake_ob2(png, HOSTED_URL)
    twice = bake_ob2(once, JWS)
    assert unbake_ob2(twice) == JWS
    assert text_chunks(twice) == [(b"iTXt", "openbadges")]
    assert bake_ob2(twice, HOSTED_URL) == once  # nothing accumulates


def test_ob2_rebake_svg_replaces(svg: bytes) -> None:
    twice = bake_ob2(bake_ob2(svg, HOSTED_URL), JWS)
    assert unbake_ob2(twice) == JWS
    assert len(elements(twice, OB2_SVG_NS, "assertion")) == 1
    assert bake_ob2(twice, HOSTED_URL) == bake_ob2(svg, HOSTED_URL)


def test_legacy_text_chunk_is_replaced() -> None:
    base = png_bytes((64, 64))
    legacy = base[:33] + chunk(b"tEXt", b"openbadges\x00https://old.example/a") + base[33:]
    assert unbake_ob2(legacy) == "https://old.example/a"
    baked = bake_ob2(legacy, HOSTED_URL)
    assert text_chunks(baked) == [(b"iTXt", "openbadges")]
    assert unbake_ob2(baked) == HOSTED_URL


def test_other_text_chunks_survive_baking() -> None:
    base = png_bytes((64, 64))
    with_note = base[:33] + chunk(b"tEXt", b"Software\x00lti-badges") + base[33:]
    baked = bake_ob3(bake_ob2(with_note, HOSTED_URL), VC_JWT)
    assert (b"tEXt", "Software") in text_chunks(baked)


# --- OB 3.0 --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [VC_JWT, json.dumps(CREDENTIAL, ensure_ascii=False)])
def test_ob3_png_round_trip(png: bytes, payload: str) -> None:
    baked = bake_ob3(png, payload)
    assert unbake_ob3(baked) == payload
    assert unbake_ob2(baked) is None
    assert text_chunks(baked) == [(b"iTXt", "openbadgecredential")]
    (body,) = [b for t, b in png_chunks(baked) if t == b"iTXt"]
    # keyword, NUL, compression flag 0, method 0, empty language, empty translation
    assert body.startswith(b"openbadgecredential\x00\x00\x00\x00\x00")
    assert Image.open(io.BytesIO(baked)).text["openbadgecredential"] == payload
    # placed right after IHDR, where a reader stopping at the first find sees it
    assert [t for t, _ in png_chunks(baked)][:2] == [b"IHDR", b"iTXt"]


def test_ob3_mapping_round_trip(png: bytes, svg: bytes) -> None:
    for image in (png, svg):
        assert json.loads(unbake_ob3(bake_ob3(image, CREDENTIAL))) == CREDENTIAL


def test_ob3_svg_jwt_goes_in_verify(svg: bytes) -> None:
    baked = bake_ob3(svg, VC_JWT)
    assert unbake_ob3(baked) == VC_JWT
    (el,) = elements(baked, OB3_SVG_NS, "credential")
    assert el.getAttribute("verify") == VC_JWT
    assert not el.childNodes
    assert parseString(baked).documentElement.getAttribute("xmlns:openbadges") == OB3_SVG_NS


def test_ob3_svg_embedded_proof_goes_in_cdata(svg: bytes) -> None:
    text = json.dumps(CREDENTIAL, ensure_ascii=False)
    baked = bake_ob3(svg, text)
    assert unbake_ob3(baked) == text
    (el,) = elements(baked, OB3_SVG_NS, "credential")
    assert not el.hasAttribute("verify")
    assert el.firstChild.nodeType == el.CDATA_SECTION_NODE


def test_ob3_rebake_replaces(png: bytes, svg: bytes) -> None:
    p = bake_ob3(bake_ob3(png, CREDENTIAL), VC_JWT)
    assert unbake_ob3(p) == VC_JWT
    assert text_chunks(p) == [(b"iTXt", "openbadgecredential")]
    s = bake_ob3(bake_ob3(svg, CREDENTIAL), VC_JWT)
    assert unbake_ob3(s) == VC_JWT
    assert len(elements(s, OB3_SVG_NS, "credential")) == 1
    assert bake_ob3(s, CREDENTIAL) == bake_ob3(svg, CREDENTIAL)
    assert bake_ob3(p, CREDENTIAL) == bake_ob3(png, CREDENTIAL)


def test_ob3_refuses_other_payloads(png: bytes) -> None:
    with pytest.raises(BakingError):
        bake_ob3(png, HOSTED_URL)


# --- both together ---------------------------------------------------------------------


@pytest.mark.parametrize("order", ["ob2-first", "ob3-first"])
def test_ob2_and_ob3_coexist(png: bytes, svg: bytes, order: str) -> None:
    for image in (png, svg):
        if order == "ob2-first":
            baked = bake_ob3(bake_ob2(image, HOSTED_URL), VC_JWT)
        else:
            baked = bake_ob2(bake_ob3(image, VC_JWT), HOSTED_URL)
        # and baking either again replaces only its own payload
        baked = bake_ob2(bake_ob3(baked, VC_JWT), HOSTED_URL)
        assert unbake_ob2(baked) == HOSTED_URL
        assert unbake_ob3(baked) == VC_JWT
        if image is svg:
            assert len(elements(baked, OB2_SVG_NS, "assertion")) == 1
            assert len(elements(baked, OB3_SVG_NS, "credential")) == 1
        else:
            assert sorted(text_chunks(baked)) == [
                (b"iTXt", "openbadgecredential"),
                (b"iTXt", "openbadges"),
            ]


# --- not bakeable ------------------------------------------------------------------------


def test_unbaked_images_give_none(png: bytes, svg: bytes) -> None:
    for image in (png, svg):
        assert unbake_ob2(image) is None
        assert unbake_ob3(image) is None


def test_bad_inputs() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 64)).save(jpeg, format="JPEG")
    for data in (jpeg.getvalue(), b"plain text", b""):
        with pytest.raises(BakingError):
            bake_ob2(data, HOSTED_URL)
        with pytest.raises(BakingError):
            image_kind(data)
    truncated = png_bytes((64, 64))[:-20]
    with pytest.raises(BakingError):
        bake_ob2(truncated, HOSTED_URL)
    with pytest.raises(BakingError):
        bake_ob3(truncated, VC_JWT)
    doctype = b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(BakingError):
        bake_ob2(doctype, HOSTED_URL)
    with pytest.raises(BakingError):
        bake_ob2(png_bytes((64, 64)), "  ")
