"""Badge images: checking, cleaning and generating them.

Everything here is pure (bytes in, bytes out; no Flask, no database), so the
web layer, the CLI and the tests all go through the same checks.

* Raster uploads (PNG, JPEG, WebP, GIF) are identified from their bytes, never
  from the file name or the browser's MIME type, are checked against byte,
  pixel and dimension limits (decompression bombs included), lose all their
  metadata (EXIF, text chunks, ICC profiles: they can carry personal data) and
  are re-encoded as PNG, the format Open Badges can bake.
* SVG uploads are parsed with defusedxml (no DTDs, no entities) and rebuilt
  from a whitelist of elements and attributes, so scripts, event handlers,
  ``foreignObject``, external references and CSS that loads things are gone.
* :func:`generate_badge_png` draws a simple badge for designers without an
  image.

Every refusal is an :class:`ImageRejected` with an English message a person
can act on and a stable ``code`` the UI can translate.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final
from xml.etree.ElementTree import Element  # only the type; parsing is defusedxml's
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_quoteattr

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

__all__ = [
    "COLOURS",
    "DEFAULT_TARGET_SIZE",
    "MAX_DIMENSION",
    "MAX_PIXELS",
    "MAX_SVG_ELEMENTS",
    "MAX_UPLOAD_BYTES",
    "MIN_DIMENSION",
    "TEMPLATES",
    "ImageRejected",
    "ProcessedImage",
    "generate_badge_png",
    "process_raster",
    "process_upload",
    "sanitize_svg",
    "sniff_image_type",
]

MAX_UPLOAD_BYTES: Final = 2 * 1024 * 1024
MIN_DIMENSION: Final = 64
MAX_DIMENSION: Final = 2048
MAX_PIXELS: Final = MAX_DIMENSION * MAX_DIMENSION
DEFAULT_TARGET_SIZE: Final = 512
# An SVG's rendering cost, counted as elements after <use> references are
# expanded; stops "use bombs" (the SVG cousin of billion laughs).
MAX_SVG_ELEMENTS: Final = 10_000
MAX_SVG_DEPTH: Final = 64
# Aspect ratio beyond which we warn that the badge will look odd in a circle.
_SQUARE_TOLERANCE: Final = 1.25

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"


class ImageRejected(ValueError):
    """An image we will not accept.

    ``message`` is English and tells the person what to do; ``code`` is stable
    (``too_large``, ``type_mismatch``, ...) so a UI can show its own translation.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"ImageRejected({self.message!r}, code={self.code!r})"


@dataclass(frozen=True)
class ProcessedImage:
    """A checked, cleaned image ready to store."""

    data: bytes
    mime_type: str  # "image/png" or "image/svg+xml"
    width: int | None  # pixels; for SVG from width/height/viewBox when known
    height: int | None
    source_type: str  # what the upload really was: png, jpeg, gif, webp, svg
    warnings: tuple[str, ...] = field(default=())  # stable codes, e.g. "not_square"

    @property
    def extension(self) -> str:
        return "svg" if self.mime_type == "image/svg+xml" else "png"


# --------------------------------------------------------------------------
# Type sniffing
# --------------------------------------------------------------------------

_EXTENSIONS: Final = {
    "png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "gif": "gif",
    "webp": "webp",
    "svg": "svg",
}
_MIME_TYPES: Final = {
    "image/png": "png",
    "image/x-png": "png",
    "image/apng": "png",
    "image/jpeg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/svg+xml": "svg",
}
# Declared types that say nothing: browsers send these when they don't know.
_UNINFORMATIVE_MIME: Final = {"", "application/octet-stream", "binary/octet-stream"}
_TYPE_NAMES: Final = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WebP", "svg": "SVG"}
_SVG_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>/]",
    re.DOTALL | re.IGNORECASE,
)


def sniff_image_type(data: bytes) -> str | None:
    """The real type of ``data`` from its leading bytes, or None.

    Returns one of ``png``, ``jpeg``, ``gif``, ``webp``, ``svg``.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    # SVG is text: look for the <svg> root after an optional XML declaration,
    # comments and doctype (the doctype is refused later, with a clear message).
    if _SVG_START.match(data[:4096]):
        return "svg"
    return None


def _check_declared(real: str, filename: str | None, declared_type: str | None) -> None:
    real_name = _TYPE_NAMES[real]
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].strip().lower()
        claimed = _EXTENSIONS.get(ext)
        if claimed != real:
            raise ImageRejected(
                f"The file is named “{filename}” but its content is a {real_name} image. "
                f"Rename it to end in .{_preferred_ext(real)} (or export it again) and upload "
                "it again.",
                "type_mismatch",
            )
    if declared_type is not None:
        mime = declared_type.split(";", 1)[0].strip().lower()
        if mime not in _UNINFORMATIVE_MIME and _MIME_TYPES.get(mime) != real:
            raise ImageRejected(
                f"The upload says it is “{mime}” but its content is a {real_name} image. "
                "Upload the original image file.",
                "type_mismatch",
            )


def _preferred_ext(kind: str) -> str:
    return {"jpeg": "jpg"}.get(kind, kind)


# --------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------


def process_upload(
    data: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    target_size: int | None = DEFAULT_TARGET_SIZE,
    allow_svg: bool = True,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> ProcessedImage:
    """Check and clean an uploaded badge image.

    The type comes from the bytes; ``filename`` and ``declared_type`` (the
    browser's MIME type) are only checked against it, and a mismatch is
    refused. Rasters come back as PNG (scaled down so the longer side is at
    most ``target_size``, if given); SVG comes back sanitised.
    """
    if not data:
        raise ImageRejected("The file is empty. Choose an image file and try again.", "empty")
    _check_size(len(data), max_bytes)
    kind = sniff_image_type(data)
    if kind is None:
        raise ImageRejected(
            "This file is not an image we can use. Upload a PNG, JPEG, WebP, GIF or SVG image.",
            "unsupported_type",
        )
    _check_declared(kind, filename, declared_type)
    if kind == "svg":
        if not allow_svg:
            raise ImageRejected(
                "SVG images are not accepted here. Upload a PNG or JPEG image instead.",
                "svg_not_allowed",
            )
        text = sanitize_svg(data, max_bytes=max_bytes)
        width, height = _svg_dimensions(text)
        notes: list[str] = []
        if width and height and not _is_squareish(width, height):
            notes.append("not_square")
        return ProcessedImage(
            data=text.encode("utf-8"),
            mime_type="image/svg+xml",
            width=width,
            height=height,
            source_type="svg",
            warnings=tuple(notes),
        )
    return process_raster(data, target_size=target_size, max_bytes=max_bytes)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ImageRejected(
            f"The image is {_human_bytes(size)}; the limit is {_human_bytes(max_bytes)}. "
            "Export it smaller (512×512 pixels is plenty for a badge) and upload it again.",
            "too_large",
        )


def _human_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"


def _is_squareish(width: float, height: float) -> bool:
    return max(width, height) / max(min(width, height), 1e-9) <= _SQUARE_TOLERANCE


def process_raster(
    data: bytes,
    *,
    target_size: int | None = DEFAULT_TARGET_SIZE,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> ProcessedImage:
    """Decode a PNG/JPEG/WebP/GIF safely and re-encode it as a clean PNG."""
    _check_size(len(data), max_bytes)
    kind = sniff_image_type(data)
    if kind is None or kind == "svg":
        raise ImageRejected(
            "This file is not a PNG, JPEG, WebP or GIF image. Upload one of those formats.",
            "unsupported_type",
        )
    # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that; we check
    # the declared size ourselves *before* decoding, and turn the warning into
    # an error as a second line of defence.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            if img.format is None or img.format.lower() not in ("png", "jpeg", "gif", "webp"):
                raise ImageRejected(
                    "This image format is not supported. Upload a PNG, JPEG, WebP or GIF image.",
                    "unsupported_type",
                )
            width, height = img.size
            _check_dimensions(width, height)
            img.seek(0)  # first frame of an animation only
            img.load()
            # Honour the camera's rotation before the EXIF goes away.
            img = ImageOps.exif_transpose(img)
            clean = _strip_to_pixels(img)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(
                "The image declares far more pixels than a badge needs (a possible "
                "“decompression bomb”). Export it at 512×512 pixels and upload it again.",
                "too_many_pixels",
            )
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRejected(
                "The image file is damaged or incomplete and cannot be read. "
                "Export it again from your image editor and upload the new file.",
                "corrupt",
            ) from exc

    notes: list[str] = []
    if not _is_squareish(*clean.size):
        notes.append("not_square")
    if target_size is not None and max(clean.size) > target_size:
        clean.thumbnail((target_size, target_size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No pnginfo/icc/exif arguments and an empty .info: nothing but pixels.
    clean.save(out, format="PNG", optimize=True)
    return ProcessedImage(
        data=out.getvalue(),
        mime_type="image/png",
        width=clean.width,
        height=clean.height,
        source_type=kind,
        warnings=tuple(notes),
    )


def _check_dimensions(width: int, height: int) -> None:
    if width * height > MAX_PIXELS or width > 4 * MAX_DIMENSION or height > 4 * MAX_DIMENSION:
        raise ImageRejected(
            f"The image declares {width}×{height} pixels, far more than a badge needs (a "
            "possible “decompression bomb”). Export it at 512×512 pixels and upload it again.",
            "too_many_pixels",
        )
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; the largest allowed is "
            f"{MAX_DIMENSION}×{MAX_DIMENSION}. Resize it (512×512 is recommended) and "
            "upload it again.",
            "too_big_dimensions",
        )
    if width < MIN_DIMENSION or height < MIN_DIMENSION:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; it must be at least "
            f"{MIN_DIMENSION}×{MIN_DIMENSION} (512×512 is recommended). Upload a larger image.",
            "too_small_dimensions",
        )


def _strip_to_pixels(img: Image.Image) -> Image.Image:
    """A new image holding only the pixels of ``img`` (no metadata at all)."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    mode = "RGBA" if has_alpha else "RGB"
    converted = img.convert(mode) if img.mode != mode else img
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    clean.info = {}
    return clean


# --------------------------------------------------------------------------
# SVG sanitising
# --------------------------------------------------------------------------

_SVG_ELEMENTS: Final = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "title", "desc", "switch",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
        "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "pattern",
        "clipPath", "mask", "marker", "image", "style",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
        "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight",
        "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
        "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset",
        "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
    }
)  # fmt: skip
# Elements whose children are kept but which are themselves dropped
# (a link is not needed in a badge; its drawing is).
_UNWRAP_ELEMENTS: Final = frozenset({"a"})
_TEXT_ELEMENTS: Final = frozenset({"text", "tspan", "textPath", "title", "desc", "style"})

_SVG_ATTRIBUTES: Final = frozenset(
    {
        # core and structure
        "id", "class", "style", "lang", "tabindex", "version", "baseProfile",
        "width", "height", "x", "y", "viewBox", "preserveAspectRatio",
        "transform", "role", "focusable", "aria-label", "aria-hidden", "aria-labelledby",
        "aria-describedby", "requiredFeatures", "requiredExtensions", "systemLanguage",
        # shapes
        "d", "cx", "cy", "r", "rx", "ry", "x1", "y1", "x2", "y2", "points", "pathLength",
        # text
        "dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset", "method",
        "spacing", "side", "text-anchor", "dominant-baseline", "alignment-baseline",
        "baseline-shift", "font-family", "font-size", "font-size-adjust", "font-stretch",
        "font-style", "font-variant", "font-weight", "letter-spacing", "word-spacing",
        "text-decoration", "writing-mode", "direction", "unicode-bidi", "text-rendering",
        # painting
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-dasharray",
        "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
        "stroke-opacity", "stroke-width", "opacity", "color", "display", "visibility",
        "overflow", "clip", "clip-path", "clip-rule", "mask", "filter", "marker",
        "marker-start", "marker-mid", "marker-end", "paint-order", "vector-effect",
        "shape-rendering", "image-rendering", "color-interpolation",
        "color-interpolation-filters", "color-rendering", "isolation", "mix-blend-mode",
        "stop-color", "stop-opacity", "flood-color", "flood-opacity", "lighting-color",
        # gradients, patterns, clips, masks, markers
        "gradientUnits", "gradientTransform", "spreadMethod", "fx", "fy", "fr", "offset",
        "patternUnits", "patternContentUnits", "patternTransform", "clipPathUnits",
        "maskUnits", "maskContentUnits", "markerUnits", "markerWidth", "markerHeight",
        "refX", "refY", "orient",
        # filters
        "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "mode",
        "operator", "k1", "k2", "k3", "k4", "values", "type", "tableValues", "slope",
        "intercept", "amplitude", "exponent", "order", "kernelMatrix", "divisor", "bias",
        "targetX", "targetY", "edgeMode", "kernelUnitLength", "preserveAlpha",
        "surfaceScale", "diffuseConstant", "specularConstant", "specularExponent",
        "azimuth", "elevation", "z", "pointsAtX", "pointsAtY", "pointsAtZ",
        "limitingConeAngle", "scale", "xChannelSelector", "yChannelSelector",
        "baseFrequency", "numOctaves", "seed", "stitchTiles", "radius",
        # links (checked separately)
        "href",
    }
)  # fmt: skip
_SAFE_DATA_URI = re.compile(r"^data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=\s]*$", re.IGNORECASE)
# url(...) in CSS or paint attributes: only same-document fragments are safe.
_CSS_URL = re.compile(r"url\s*\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_DANGER = re.compile(
    r"@import|expression\s*\(|javascript:|vbscript:|behavio(?:u)?r\s*:|-moz-binding|"
    r"\\[0-9a-f]",  # CSS escapes are how filters get dodged; a badge needs none
    re.IGNORECASE,
)
_SCRIPTY_VALUE = re.compile(r"^\s*(?:javascript|vbscript|data:text)", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px)?\s*$")


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


def _css_is_safe(css: str) -> bool:
    if _CSS_DANGER.search(css):
        return False
    return all(m.group(2).strip().startswith("#") for m in _CSS_URL.finditer(css))


def _clean_attribute(name: str, ns: str | None, value: str) -> tuple[str, str] | None:
    """The attribute to write out (qualified name, value), or None to drop it."""
    if ns not in (None, XLINK_NS, XML_NS):
        return None  # inkscape:*, sodipodi:*, foreign namespaces
    if name.lower().startswith("on"):
        return None  # event handlers
    if ns == XML_NS:
        return (f"xml:{name}", value) if name in ("space", "lang") else None
    if ns == XLINK_NS and name != "href":
        return None  # xlink:show/actuate/arcrole: link behaviour, not drawing
    if name not in _SVG_ATTRIBUTES:
        return None
    if name == "href":
        target = value.strip()
        if not (target.startswith("#") or _SAFE_DATA_URI.match(target)):
            return None  # external references: privacy leak, SSRF, script
        return ("xlink:href" if ns == XLINK_NS else "href", target)
    if _SCRIPTY_VALUE.match(value) or "javascript:" in value.lower():
        return None
    if (name == "style" or "url(" in value.lower()) and not _css_is_safe(value):
        return None
    return (name, value)


@dataclass
class _SvgNode:
    name: str
    attrs: list[tuple[str, str]]
    children: list[_SvgNode | str]


def sanitize_svg(data: bytes | str, *, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Parse ``data`` safely and return a cleaned SVG document as text.

    Refuses DTDs and entities outright; drops every element and attribute not
    on the whitelist (scripts, ``foreignObject``, event handlers, animation,
    external ``href``/``xlink:href``, CSS with ``url()`` to elsewhere or
    ``@import``, ``javascript:`` values).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    _check_size(len(raw), max_bytes)
    try:
        root = DefusedET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ImageRejected(
            "The SVG contains a DOCTYPE or entity declarations, which are not allowed. "
            "Export it again as “plain SVG” (without a DOCTYPE) and upload it again.",
            "svg_doctype",
        )
    except Exception as exc:  # ParseError, encoding errors, ...
        raise ImageRejected(
            "The SVG file is not well-formed XML and cannot be read. Export it again from "
            "your drawing program and upload the new file.",
            "svg_malformed",
        ) from exc

    ns, name = _local(root.tag)
    if name != "svg" or ns not in (SVG_NS, None):
        raise ImageRejected("The file's top element is not <svg>. Upload an SVG image.", "unsupported_type")
    lenient = ns is None  # an <svg> without xmlns: treat unqualified elements as SVG
    counter = [0]
    cleaned = _clean_element(root, lenient, depth=0, counter=counter)
    assert cleaned is not None  # the root is <svg>, always on the list
    _check_svg_cost(cleaned)
    return _serialise(cleaned)


def _clean_element(
    el: Element, lenient: bool, depth: int, counter: list[int]
) -> _SvgNode | list[_SvgNode | str] | None:
    if depth > MAX_SVG_DEPTH:
        raise ImageRejected(
            f"The SVG nests elements more than {MAX_SVG_DEPTH} levels deep. Simplify the "
            "drawing (flatten groups) and upload it again.",
            "svg_too_complex",
        )
    counter[0] += 1
    if counter[0] > MAX_SVG_ELEMENTS:
        raise ImageRejected(
            f"The SVG has more than {MAX_SVG_ELEMENTS} elements. Simplify the drawing and upload it again.",
            "svg_too_complex",
        )
    if not isinstance(el.tag, str):
        return None  # comments, processing instructions
    ns, name = _local(el.tag)
    if not (ns == SVG_NS or (lenient and ns is None)):
        return None  # foreign elements (inkscape:*, html, ...)
    unwrap = name in _UNWRAP_ELEMENTS
    if name not in _SVG_ELEMENTS and not unwrap:
        return None  # script, foreignObject, animate, set, iframe, metadata, ...
    children: list[_SvgNode | str] = []
    # An unwrapped <a> hands its text up; its parent decides whether text counts.
    keep_text = name in _TEXT_ELEMENTS or unwrap
    if keep_text and el.text:
        children.append(el.text)
    for child in el:
        cleaned = _clean_element(child, lenient, depth + 1, counter)
        if isinstance(cleaned, list):
            children.extend(c for c in cleaned if keep_text or not isinstance(c, str))
        elif cleaned is not None:
            children.append(cleaned)
        if keep_text and child.tail:
            children.append(child.tail)
    if unwrap:
        return children
    if name == "style":
        css = "".join(c for c in children if isinstance(c, str))
        if not _css_is_safe(css):
            return None
        children = [css]
    attrs: list[tuple[str, str]] = []
    for key, value in el.attrib.items():
        a_ns, a_name = _local(key)
        kept = _clean_attribute(a_name, a_ns, value)
        if kept is not None:
            attrs.append(kept)
    if name == "image" and not any(k in ("href", "xlink:href") for k, _ in attrs):
        return None  # an <image> that pointed elsewhere draws nothing now
    return _SvgNode(name, attrs, children)


def _check_svg_cost(root: _SvgNode) -> None:
    """Refuse <use> chains that expand to a huge (or endless) drawing."""
    by_id: dict[str, _SvgNode] = {}

    def index(node: _SvgNode) -> None:
        for k, v in node.attrs:
            if k == "id":
                by_id.setdefault(v, node)
        for c in node.children:
            if isinstance(c, _SvgNode):
                index(c)

    index(root)
    memo: dict[int, int] = {}
    visiting: set[int] = set()

    def cost(node: _SvgNode) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in visiting:
            raise ImageRejected(
                "The SVG has <use> elements that refer to themselves in a loop. Fix the "
                "drawing and upload it again.",
                "svg_too_complex",
            )
        visiting.add(key)
        total = 1
        for c in node.children:
            if isinstance(c, _SvgNode):
                total += cost(c)
        if node.name == "use":
            ref = next((v for k, v in node.attrs if k in ("href", "xlink:href")), "")
            target = by_id.get(ref[1:]) if ref.startswith("#") else None
            if target is not None:
                total += cost(target)
        visiting.discard(key)
        memo[key] = min(total, MAX_SVG_ELEMENTS + 1)
        if total > MAX_SVG_ELEMENTS:
            raise ImageRejected(
                "The SVG repeats its shapes so many times (through <use>) that it would be "
                "very slow to draw. Simplify the drawing and upload it again.",
                "svg_too_complex",
            )
        return total

    cost(root)


def _serialise(root: _SvgNode) -> str:
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    uses_xlink = False

    def scan(node: _SvgNode) -> None:
        nonlocal uses_xlink
        if any(k.startswith("xlink:") for k, _ in node.attrs):
            uses_xlink = True
        for c in node.children:
            if isinstance(c, _SvgNode):
                scan(c)

    scan(root)

    def write(node: _SvgNode, is_root: bool) -> None:
        out.append(f"<{node.name}")
        if is_root:
            out.append(f' xmlns="{SVG_NS}"')
            if uses_xlink:
                out.append(f' xmlns:xlink="{XLINK_NS}"')
        for k, v in node.attrs:
            out.append(f" {k}={_xml_quoteattr(v)}")
        if not node.children:
            out.append("/>")
            return
        out.append(">")
        for c in node.children:
            if isinstance(c, str):
                out.append(_xml_escape(c))
            else:
                write(c, False)
        out.append(f"</{node.name}>")

    write(root, True)
    return "".join(out) + "\n"


def _svg_dimensions(text: str) -> tuple[int | None, int | None]:
    root = DefusedET.fromstring(text.encode("utf-8"), forbid_dtd=True)
    width = _parse_length(root.get("width"))
    height = _parse_length(root.get("height"))
    if (width is None or height is None) and root.get("viewBox"):
        parts = re.split(r"[\s,]+", root.get("viewBox", "").strip())
        if len(parts) == 4:
            try:
                vb_w, vb_h = float(parts[2]), float(parts[3])
            except ValueError:
                vb_w = vb_h = 0
            if vb_w > 0 and vb_h > 0:
                width = width or round(vb_w)
                height = height or round(vb_h)
    return width, height


def _parse_length(value: str | None) -> int | None:
    if not value:
        return None
    m = _NUMBER.match(value)
    return round(float(m.group(1))) if m else None


# --------------------------------------------------------------------------
# Generated badges
# --------------------------------------------------------------------------

TEMPLATES: Final = ("circle", "shield", "hexagon", "ribbon")
COLOURS: Final = {
    "blue": "#1f5fbf",
    "green": "#1e7f4f",
    "red": "#b3261e",
    "orange": "#c25e00",
    "purple": "#6b3fa0",
    "teal": "#00796b",
    "gold": "#b8860b",
    "grey": "#4a5568",
    "navy": "#1a2a57",
}


def generate_badge_png(
    text: str,
    colour: str = "blue",
    template: str = "circle",
    *,
    size: int = DEFAULT_TARGET_SIZE,
) -> bytes:
    """Draw a simple badge: a ``template`` shape in ``colour`` with ``text``.

    ``colour`` is a name from :data:`COLOURS` or ``#rgb``/``#rrggbb``;
    ``template`` one of :data:`TEMPLATES`. Returns PNG bytes, ``size`` square.
    """
    if template not in TEMPLATES:
        raise ImageRejected(
            f"Unknown badge template “{template}”. Choose one of: {', '.join(TEMPLATES)}.",
            "unknown_template",
        )
    if not (MIN_DIMENSION <= size <= MAX_DIMENSION):
        raise ImageRejected(
            f"A generated badge must be between {MIN_DIMENSION} and {MAX_DIMENSION} pixels.",
            "bad_size",
        )
    rgb = _parse_colour(colour)
    ss = 4  # draw large and scale down: Pillow's shapes are not antialiased
    big = size * ss
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    dark = _mix(rgb, (0, 0, 0), 0.35)
    light = _mix(rgb, (255, 255, 255), 0.25)
    text_box = _draw_template(draw, template, big, rgb, dark, light)
    ink = _contrasting_ink(rgb)
    _draw_text(draw, text, text_box, ink)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _parse_colour(colour: str) -> tuple[int, int, int]:
    value = COLOURS.get(colour.strip().lower(), colour.strip())
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
        raise ImageRejected(
            f"“{colour}” is not a colour we know. Use one of {', '.join(COLOURS)} or a hex "
            "code such as #1f5fbf.",
            "bad_colour",
        )
    r, g, b = ImageColor.getrgb(value)[:3]
    return r, g, b


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _luminance(rgb: tuple[int, int, int]) -> float:
    def chan(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (chan(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrasting_ink(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    # WCAG contrast against white vs. near-black; pick the better one.
    lum = _luminance(rgb)
    white = 1.05 / (lum + 0.05)
    black = (lum + 0.05) / (_luminance((17, 17, 17)) + 0.05)
    return (255, 255, 255) if white >= black else (17, 17, 17)


def _regular_polygon(cx: float, cy: float, r: float, n: int, rot: float) -> list[tuple[float, float]]:
    return [
        (cx + r * math.cos(rot + 2 * math.pi * i / n), cy + r * math.sin(rot + 2 * math.pi * i / n))
        for i in range(n)
    ]


def _draw_template(
    draw: ImageDraw.ImageDraw,
    template: str,
    s: int,
    rgb: tuple[int, int, int],
    dark: tuple[int, int, int],
    light: tuple[int, int, int],
) -> tuple[float, float, float, float]:
    """Draw the shape; return the box (x0, y0, x1, y1) the text must fit in."""
    c = s / 2
    if template == "circle":
        draw.ellipse((s * 0.03, s * 0.03, s * 0.97, s * 0.97), fill=dark)
        draw.ellipse((s * 0.07, s * 0.07, s * 0.93, s * 0.93), fill=rgb)
        draw.ellipse((s * 0.12, s * 0.12, s * 0.88, s * 0.88), outline=light, width=round(s * 0.012))
        return (s * 0.2, s * 0.25, s * 0.8, s * 0.75)
    if template == "hexagon":
        draw.polygon(_regular_polygon(c, c, s * 0.48, 6, -math.pi / 2), fill=dark)
        draw.polygon(_regular_polygon(c, c, s * 0.43, 6, -math.pi / 2), fill=rgb)
        draw.polygon(_regular_polygon(c, c, s * 0.38, 6, -math.pi / 2), outline=light, width=round(s * 0.012))
        return (s * 0.2, s * 0.28, s * 0.8, s * 0.72)
    if template == "shield":

        def shield(m: float) -> list[tuple[float, float]]:
            top, bottom, waist = s * 0.04 + m, s * 0.97 - m, s * 0.5
            left, right = s * 0.1 + m, s * 0.9 - m

            # Straight sides down to the waist, then a quadratic Bézier curve
            # from each side to the point at the bottom centre.
            def curve(x_side: float) -> list[tuple[float, float]]:
                ctrl = (x_side, s * 0.8 - m * 0.5)
                out = []
                for i in range(1, 21):
                    t = i / 20
                    out.append(
                        (
                            (1 - t) ** 2 * x_side + 2 * (1 - t) * t * ctrl[0] + t * t * c,
                            (1 - t) ** 2 * waist + 2 * (1 - t) * t * ctrl[1] + t * t * bottom,
                        )
                    )
                return out

            return [
                (left, top),
                (right, top),
                (right, waist),
                *curve(right),
                *reversed(curve(left)[:-1]),
                (left, waist),
            ]

        draw.polygon(shield(0), fill=dark)
        draw.polygon(shield(s * 0.035), fill=rgb)
        draw.line([*shield(s * 0.07), shield(s * 0.07)[0]], fill=light, width=round(s * 0.012))
        return (s * 0.22, s * 0.16, s * 0.78, s * 0.62)
    # ribbon: a medallion with two tails
    tail_w = s * 0.14
    for sign in (-1, 1):
        x = c + sign * s * 0.16
        draw.polygon(
            [
                (x - tail_w, s * 0.55),
                (x + tail_w, s * 0.55),
                (x + tail_w + sign * s * 0.04, s * 0.97),
                (x + sign * s * 0.02, s * 0.88),
                (x - tail_w + sign * s * 0.04, s * 0.97),
            ],
            fill=dark,
        )
    draw.ellipse((s * 0.12, s * 0.03, s * 0.88, s * 0.79), fill=dark)
    draw.ellipse((s * 0.155, s * 0.065, s * 0.845, s * 0.755), fill=rgb)
    draw.ellipse((s * 0.2, s * 0.11, s * 0.8, s * 0.71), outline=light, width=round(s * 0.012))
    return (s * 0.25, s * 0.22, s * 0.75, s * 0.6)


def _wrap(words: list[str], fits: Callable[[str], bool]) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}".strip()
        if fits(trial) or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _draw_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: tuple[float, float, float, float],
    ink: tuple[int, int, int],
) -> None:
    words = text.split()
    if not words:
        return
    x0, y0, x1, y1 = box
    box_w, box_h = x1 - x0, y1 - y0
    # Largest font size at which the wrapped text (at most 4 lines) fits.
    for font_size in _sizes(int(box_h * 0.45), max(8, int(box_h * 0.08))):
        font = badge_font(font_size)
        lines = _wrap(words, lambda t, f=font: draw.textlength(t, font=f) <= box_w)
        line_h = font_size * 1.15
        widest = max(draw.textlength(line, font=font) for line in lines)
        if len(lines) <= 4 and widest <= box_w and line_h * len(lines) <= box_h:
            break
    else:
        lines = lines[:4]
        line_h = font_size * 1.15
    top = y0 + (box_h - line_h * len(lines)) / 2
    for i, line in enumerate(lines):
        draw.text(((x0 + x1) / 2, top + line_h * (i + 0.5)), line, font=font, fill=ink, anchor="mm")


# Fonts with the accented letters French badge names need (Pillow's built-in font draws
# "é" as a box). Debian's fonts-dejavu-core first; Pillow's font only as a last resort.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


def badge_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _sizes(start: int, stop: int) -> Iterable[int]:
    size = start
    while size > stop:
        yield size
        size = int(size * 0.9)
    yield stop
