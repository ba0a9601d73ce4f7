"""Baking Open Badges into images, and getting them out again.

Pure functions over bytes.

* OB 2.0 (Open Badges Baking 2.0): PNG gets an uncompressed ``iTXt`` chunk
  with keyword ``openbadges``; SVG gets ``<openbadges:assertion>`` (namespace
  ``http://openbadges.org``) right after ``<svg>``, with a ``verify``
  attribute. The text is the assertion URL for a hosted badge, the compact
  JWS for a signed one (JSON is accepted too). Done with ``openbadges_bakery``,
  the reference implementation the OB 2.0 validator also uses to unbake.
* OB 3.0 (spec section 5.3 "Baked Badge"): PNG gets an uncompressed ``iTXt``
  chunk with keyword ``openbadgecredential``; SVG gets
  ``<openbadges:credential>`` (namespace ``https://purl.imsglobal.org/ob/v3p0``).
  A VC-JWT goes in as the compact JWS (SVG: in ``verify``); a credential with
  an embedded proof goes in as its JSON (SVG: in a CDATA section).
  ``openbadges_bakery`` only knows the OB 2.0 keyword, so this is done here
  with a small PNG chunk reader/writer.

The two coexist: an image may carry both an OB 2.0 assertion and an OB 3.0
credential. Baking again replaces the payload of the same kind instead of
adding a second one (both specs say there MUST be only one), and unbaking
returns exactly the text that was baked.
"""

from __future__ import annotations

import io
import json
import re
import struct
import warnings
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, Final
from xml.dom.minidom import Document
from xml.dom.minidom import Element as DomElement

import openbadges_bakery
from defusedxml import DefusedXmlException
from defusedxml.minidom import parseString

__all__ = [
    "OB2_PNG_KEYWORD",
    "OB2_SVG_NS",
    "OB3_PNG_KEYWORD",
    "OB3_SVG_NS",
    "BakingError",
    "bake_ob2",
    "bake_ob3",
    "image_kind",
    "unbake_ob2",
    "unbake_ob3",
]

OB2_PNG_KEYWORD: Final = "openbadges"
OB3_PNG_KEYWORD: Final = "openbadgecredential"
OB2_SVG_NS: Final = "http://openbadges.org"
OB3_SVG_NS: Final = "https://purl.imsglobal.org/ob/v3p0"
_OB2_SVG_TAG: Final = "assertion"
_OB3_SVG_TAG: Final = "credential"

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")

Payload = str | Mapping[str, Any]


class BakingError(ValueError):
    """The image cannot be baked or unbaked (not a PNG/SVG, or damaged)."""


def image_kind(image: bytes) -> str:
    """``"png"`` or ``"svg"``; raises :class:`BakingError` for anything else."""
    if image.startswith(_PNG_SIGNATURE):
        return "png"
    head = image[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in image[:65536]:
        return "svg"
    raise BakingError("Only PNG and SVG images can be baked.")


def _payload_text(payload: Payload) -> str:
    if isinstance(payload, str):
        text = payload.strip()
    elif isinstance(payload, Mapping):
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    else:
        raise TypeError("payload must be a str (URL, JWS or JSON) or a mapping")
    if not text:
        raise BakingError("Nothing to bake: the payload is empty.")
    if "\x00" in text:
        raise BakingError("The payload contains a NUL character.")
    return text


# --------------------------------------------------------------------------
# OB 2.0
# --------------------------------------------------------------------------


def bake_ob2(image: bytes, payload: Payload) -> bytes:
    """Bake an OB 2.0 assertion into a PNG or SVG image.

    ``payload`` is the hosted assertion's URL, a signed assertion's compact
    JWS, or the assertion itself (a JSON string or a mapping). Any OB 2.0 data
    already in the image is replaced.
    """
    text = _payload_text(payload)
    kind = image_kind(image)
    if kind == "png":
        # The bakery drops earlier ``openbadges`` chunks (iTXt and legacy tEXt)
        # and puts the new one right after IHDR.
        try:
            baked = openbadges_bakery.bake(io.BytesIO(image), text, io.BytesIO())
        except Exception as exc:  # pypng's FormatError, ChunkError, ...
            raise BakingError(f"The PNG image is damaged: {exc}") from exc
        return baked.getvalue()
    # SVG: the bakery appends a new element without removing the old one, so
    # take earlier OB 2.0 payloads out first.
    doc = _parse_svg(image)
    _remove_payload_elements(doc, OB2_SVG_NS, _OB2_SVG_TAG)
    svg = doc.documentElement
    if svg.getAttribute("xmlns:openbadges") == OB3_SVG_NS:
        # The bakery binds "openbadges" on <svg> to the OB 2.0 namespace; keep
        # an OB 3.0 credential in its own namespace by declaring it locally.
        for element in _payload_elements(doc, OB3_SVG_NS, _OB3_SVG_TAG):
            element.setAttribute("xmlns:openbadges", OB3_SVG_NS)
        svg.removeAttribute("xmlns:openbadges")
    cleaned = doc.toxml(encoding="utf-8")
    try:
        with warnings.catch_warnings():
            # The bakery's URL check uses rfc3986 APIs that warn about their
            # own deprecation; nothing we can act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            baked = openbadges_bakery.bake(io.BytesIO(cleaned), text, io.BytesIO())
    except Exception as exc:
        raise BakingError(f"The SVG image could not be baked: {exc}") from exc
    return baked.getvalue()


def unbake_ob2(image: bytes) -> str | None:
    """The OB 2.0 payload baked into ``image`` (exactly as baked), or None."""
    kind = image_kind(image)
    if kind == "png":
        # Our own reader rather than the bakery's: the bakery strips the iTXt
        # header with a regex and would also mangle a payload containing it.
        for keyword, text in _png_text_chunks(image):
            if keyword == OB2_PNG_KEYWORD:
                return text
        return None
    return _svg_payload(_parse_svg(image), OB2_SVG_NS, _OB2_SVG_TAG)


# --------------------------------------------------------------------------
# OB 3.0
# --------------------------------------------------------------------------


def bake_ob3(image: bytes, credential: Payload) -> bytes:
    """Bake an OB 3.0 OpenBadgeCredential into a PNG or SVG image.

    ``credential`` is a VC-JWT (compact JWS) or the credential with an
    embedded proof (a JSON string or a mapping). Any OB 3.0 credential
    already in the image is replaced; OB 2.0 data is left alone.
    """
    text = _payload_text(credential)
    is_jws = bool(_JWS.match(text))
    if not is_jws and not text.startswith("{"):
        raise BakingError("An OB 3.0 credential must be a VC-JWT or a JSON object.")
    kind = image_kind(image)
    if kind == "png":
        chunk = _itxt_chunk(OB3_PNG_KEYWORD, text)
        return _png_replace_text_chunk(image, OB3_PNG_KEYWORD, chunk)

    doc = _parse_svg(image)
    _remove_payload_elements(doc, OB3_SVG_NS, _OB3_SVG_TAG)
    svg = doc.documentElement
    prefix = "openbadges"
    existing = svg.getAttribute(f"xmlns:{prefix}")
    element = doc.createElementNS(OB3_SVG_NS, f"{prefix}:{_OB3_SVG_TAG}")
    if not existing or existing == OB3_SVG_NS:
        svg.setAttribute(f"xmlns:{prefix}", OB3_SVG_NS)
    else:
        # The same prefix is already bound to the OB 2.0 namespace (both specs
        # chose "openbadges"): bind it again on the element itself.
        element.setAttribute(f"xmlns:{prefix}", OB3_SVG_NS)
    if is_jws:
        element.setAttribute("verify", text)
    else:
        element.appendChild(doc.createCDATASection(text))
    svg.insertBefore(element, svg.firstChild)
    return doc.toxml(encoding="utf-8")


def unbake_ob3(image: bytes) -> str | None:
    """The OB 3.0 credential baked into ``image`` (exactly as baked), or None."""
    kind = image_kind(image)
    if kind == "png":
        for keyword, text in _png_text_chunks(image):
            if keyword == OB3_PNG_KEYWORD:
                return text
        return None
    return _svg_payload(_parse_svg(image), OB3_SVG_NS, _OB3_SVG_TAG)


# --------------------------------------------------------------------------
# PNG chunks
# --------------------------------------------------------------------------


def _iter_png_chunks(png: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(type, data, raw bytes of the whole chunk), checking lengths and CRCs."""
    if not png.startswith(_PNG_SIGNATURE):
        raise BakingError("Not a PNG image.")
    pos = len(_PNG_SIGNATURE)
    while pos < len(png):
        if pos + 8 > len(png):
            raise BakingError("The PNG image is truncated.")
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        ctype = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(png):
            raise BakingError("The PNG image is truncated.")
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[end - 4 : end])
        if zlib.crc32(ctype + data) & 0xFFFFFFFF != crc:
            raise BakingError(f"The PNG image is damaged (bad checksum in {ctype!r}).")
        yield ctype, data, png[pos:end]
        pos = end
        if ctype == b"IEND":
            return
    raise BakingError("The PNG image has no IEND chunk.")


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(ctype + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def _itxt_chunk(keyword: str, text: str) -> bytes:
    # keyword NUL, compression flag 0, method 0, empty language tag NUL,
    # empty translated keyword NUL, UTF-8 text: uncompressed, as both specs ask.
    data = keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    return _png_chunk(b"iTXt", data)


def _parse_text_chunk(ctype: bytes, data: bytes) -> tuple[str, str] | None:
    keyword, sep, rest = data.partition(b"\x00")
    if not sep:
        return None
    name = keyword.decode("latin-1")
    if ctype == b"tEXt":
        return name, rest.decode("latin-1")
    if ctype == b"iTXt":
        if len(rest) < 2:
            return None
        compressed, _method, rest = rest[0], rest[1], rest[2:]
        _lang, _, rest = rest.partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        if compressed:
            text = zlib.decompressobj().decompress(text, 16 * 1024 * 1024)
        return name, text.decode("utf-8")
    return None


def _png_text_chunks(png: bytes) -> Iterator[tuple[str, str]]:
    """(keyword, text) of every tEXt/iTXt chunk, iTXt ones first."""
    itxt: list[tuple[str, str]] = []
    text: list[tuple[str, str]] = []
    for ctype, data, _raw in _iter_png_chunks(png):
        if ctype in (b"iTXt", b"tEXt"):
            parsed = _parse_text_chunk(ctype, data)
            if parsed:
                (itxt if ctype == b"iTXt" else text).append(parsed)
    # The spec says the iTXt chunk wins over a legacy tEXt one.
    yield from itxt
    yield from text


def _png_replace_text_chunk(png: bytes, keyword: str, new_chunk: bytes) -> bytes:
    prefix = keyword.encode("latin-1") + b"\x00"
    out = [_PNG_SIGNATURE]
    for ctype, data, raw in _iter_png_chunks(png):
        if ctype in (b"iTXt", b"tEXt", b"zTXt") and data.startswith(prefix):
            continue  # the old payload
        out.append(raw)
        if ctype == b"IHDR":
            out.append(new_chunk)  # early, so readers that stop at the first find it
    return b"".join(out)


# --------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------


def _parse_svg(image: bytes) -> Document:
    try:
        doc = parseString(image, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BakingError("SVG images with a DOCTYPE or entities cannot be baked.") from exc
    except Exception as exc:
        raise BakingError(f"The SVG image is not well-formed XML: {exc}") from exc
    root = doc.documentElement
    if root is None or root.localName != "svg":
        raise BakingError("The image's top element is not <svg>.")
    return doc


def _payload_elements(doc: Document, ns: str, local: str) -> list[DomElement]:
    found = list(doc.getElementsByTagNameNS(ns, local))
    if not found:
        # Files baked by tools that forgot the namespace declaration.
        found = [
            e for e in doc.getElementsByTagName(f"openbadges:{local}") if e.namespaceURI in (None, "", ns)
        ]
    return found


def _remove_payload_elements(doc: Document, ns: str, local: str) -> None:
    for element in _payload_elements(doc, ns, local):
        parent = element.parentNode
        # Drop the whitespace the old element was indented with, too.
        nxt = element.nextSibling
        parent.removeChild(element)
        if nxt is not None and nxt.nodeType == nxt.TEXT_NODE and not nxt.data.strip():
            parent.removeChild(nxt)
    root = doc.documentElement
    if root.getAttribute("xmlns:openbadges") == ns:
        # Baking adds it again; removing it keeps a re-bake byte-identical.
        root.removeAttribute("xmlns:openbadges")


def _svg_payload(doc: Document, ns: str, local: str) -> str | None:
    elements = _payload_elements(doc, ns, local)
    if not elements:
        return None
    element = elements[0]
    cdata = "".join(
        n.data for n in element.childNodes if n.nodeType in (n.CDATA_SECTION_NODE, n.TEXT_NODE)
    ).strip()
    verify = element.getAttribute("verify").strip()
    # The full text if the element carries one (JSON assertion/credential, or
    # the bakery's copy of a URL/JWS); otherwise the verify attribute.
    return cdata or verify or None
