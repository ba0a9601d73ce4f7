"""SVG sanitising: dangerous parts go, the drawing stays."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from lti_badges.openbadges.images import (
    SVG_NS,
    XLINK_NS,
    ImageRejected,
    process_upload,
    sanitize_svg,
)

HEAD = f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" viewBox="0 0 100 100">'
PNG_DATA = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/"
    "iZk9HQAAAABJRU5ErkJggg=="
)


def clean(body: str, head: str = HEAD) -> str:
    return sanitize_svg(head + body + "</svg>")


def tree(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


def tags(svg: str) -> list[str]:
    return [el.tag.split("}")[-1] for el in tree(svg).iter()]


def all_attrs(svg: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in tree(svg).iter():
        out.update(el.attrib)
    return out


def rejected(data: str | bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        sanitize_svg(data)
    return info.value


# --- stripped ---------------------------------------------------------------------


def test_script_elements_are_removed() -> None:
    out = clean('<script>alert(1)</script><circle r="4"/><g><script type="text/ecmascript">x</script></g>')
    assert "script" not in out.lower() and "alert" not in out
    assert tags(out) == ["svg", "circle", "g"]


def test_event_handlers_are_removed() -> None:
    out = sanitize_svg(
        f'<svg xmlns="{SVG_NS}" onload="alert(1)" viewBox="0 0 1 1">'
        '<rect width="1" height="1" onclick="steal()" ONMOUSEOVER="x()" fill="red"/></svg>'
    )
    assert "alert" not in out and "steal" not in out and "x()" not in out
    assert all_attrs(out) == {"viewBox": "0 0 1 1", "width": "1", "height": "1", "fill": "red"}


@pytest.mark.parametrize(
    "body",
    [
        '<image href="https://tracker.example/pixel.png" width="10" height="10"/>',
        '<image xlink:href="http://169.254.169.254/latest" width="10" height="10"/>',
        '<use href="https://evil.example/sprites.svg#icon"/>',
        '<use xlink:href="file:///etc/passwd#x"/>',
        '<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="1" height="1"/>',
        '<image href="data:text/html;base64,PHNjcmlwdD4=" width="1" height="1"/>',
    ],
)
def test_external_references_are_removed(body: str) -> None:
    out = clean(body)
    assert "http" not in out.replace(SVG_NS, "").replace(XLINK_NS, "")
    assert "file:" not in out and "data:text" not in out and "svg+xml;base64" not in out
    assert "href" not in out


def test_local_and_embedded_references_are_kept() -> None:
    out = clean(
        '<defs><circle id="dot" r="2"/></defs>'
        '<use href="#dot" x="5"/><use xlink:href="#dot" x="9"/>'
        f'<image href="{PNG_DATA}" width="1" height="1"/>'
    )
    root = tree(out)
    uses = root.findall(f".//{{{SVG_NS}}}use")
    assert uses[0].get("href") == "#dot"
    assert uses[1].get(f"{{{XLINK_NS}}}href") == "#dot"
    assert root.find(f".//{{{SVG_NS}}}image").get("href") == PNG_DATA


def test_foreign_object_is_removed_with_its_content() -> None:
    out = clean(
        '<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
        '<iframe src="https://evil.example"/><p>hi</p></body></foreignObject><rect width="5" height="5"/>'
    )
    assert "foreignObject" not in out and "iframe" not in out and "evil" not in out
    assert tags(out) == ["svg", "rect"]


def test_javascript_links_are_removed_but_drawing_kept() -> None:
    out = clean(
        '<a href="javascript:alert(1)"><circle r="3" fill="blue"/></a>'
        '<a xlink:href="https://example.org"><rect width="1" height="1"/></a>'
    )
    assert "javascript" not in out and "example.org" not in out
    assert tags(out) == ["svg", "circle", "rect"]


def test_link_text_inside_text_is_kept() -> None:
    out = clean('<text>Visit <a href="javascript:x()">our <tspan>site</tspan></a> now</text>')
    assert "javascript" not in out
    text = tree(out).find(f"{{{SVG_NS}}}text")
    assert "".join(text.itertext()) == "Visit our site now"


def test_javascript_in_other_attributes_is_removed() -> None:
    out = clean('<rect width="1" height="1" fill="javascript:alert(1)" style="fill:red"/>')
    assert "javascript" not in out
    assert all_attrs(out)["style"] == "fill:red"


def test_animation_that_could_rewrite_links_is_removed() -> None:
    out = clean(
        '<a><circle r="3"/><set attributeName="href" to="javascript:alert(1)"/>'
        '<animate attributeName="href" values="javascript:alert(1)"/></a>'
    )
    assert "javascript" not in out and "set" not in tags(out) and "animate" not in tags(out)


@pytest.mark.parametrize(
    "css",
    [
        "@import url(https://evil.example/x.css);",
        "circle { fill: url(https://evil.example/track) }",
        "rect { background: url('//evil.example/p.png') }",
        "g { behavior: url(x.htc) }",
        "p { width: expression(alert(1)) }",
        "a { fill: \\75 rl(https://evil.example) }",
    ],
)
def test_dangerous_style_elements_are_removed(css: str) -> None:
    out = clean(f"<style>{css}</style><circle r='1'/>")
    assert "style" not in tags(out) and "evil" not in out and "expression" not in out


def test_dangerous_style_attributes_are_removed() -> None:
    out = clean(
        '<rect width="1" height="1" style="fill: url(https://evil.example/x)"/>'
        '<rect width="1" height="1" fill="url(http://evil.example/#g)"/>'
    )
    assert "evil" not in out


def test_safe_styles_and_paint_servers_are_kept() -> None:
    out = clean(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
        "<style>.a { fill: url(#g); stroke: #000 }</style>"
        '<rect class="a" width="1" height="1" style="fill:url(#g)" fill="url(#g)"/>'
    )
    assert ".a { fill: url(#g); stroke: #000 }" in out
    assert all_attrs(out)["style"] == "fill:url(#g)"


def test_editor_namespaces_and_metadata_are_removed() -> None:
    out = sanitize_svg(
        f'<svg xmlns="{SVG_NS}" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" inkscape:version="1.0" '
        'viewBox="0 0 2 2"><metadata><rdf:RDF><rdf:Description about="Jane Secret"/></rdf:RDF>'
        '</metadata><inkscape:thing/><rect inkscape:label="x" width="2" height="2"/></svg>'
    )
    assert "inkscape" not in out and "Jane" not in out and "metadata" not in out
    assert tags(out) == ["svg", "rect"]


# --- refused -----------------------------------------------------------------------


def test_billion_laughs_is_refused() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [\n' + "\n".join(entities) + "\n]>\n"
        f'<svg xmlns="{SVG_NS}"><text>&lol9;</text></svg>'
    )
    assert "&lol8;&lol8;" in laughs
    err = rejected(laughs)
    assert err.code == "svg_doctype"
    assert "DOCTYPE" in err.message
    with pytest.raises(ImageRejected):
        process_upload(laughs.encode(), filename="laughs.svg")


def test_external_entity_is_refused() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<svg xmlns="{SVG_NS}"><text>&x;</text></svg>'
    )
    assert rejected(xxe).code == "svg_doctype"


def test_plain_doctype_is_refused_too() -> None:
    doc = (
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        f'<svg xmlns="{SVG_NS}"/>'
    )
    assert rejected(doc).code == "svg_doctype"
    # and through the upload path, which sniffs past the DOCTYPE first
    with pytest.raises(ImageRejected) as info:
        process_upload(doc.encode(), filename="a.svg")
    assert info.value.code == "svg_doctype"


def test_use_bomb_is_refused() -> None:
    layers = ['<g id="l0"><rect width="1" height="1"/></g>']
    for i in range(1, 8):
        layers.append(f'<g id="l{i}">' + f'<use href="#l{i - 1}"/>' * 10 + "</g>")
    assert rejected(HEAD + "<defs>" + "".join(layers) + "</defs></svg>").code == "svg_too_complex"


def test_use_loop_is_refused() -> None:
    body = '<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'
    assert rejected(HEAD + body + "</svg>").code == "svg_too_complex"


def test_deep_nesting_is_refused() -> None:
    assert rejected(HEAD + "<g>" * 100 + "</g>" * 100 + "</svg>").code == "svg_too_complex"


def test_malformed_and_wrong_root() -> None:
    assert rejected(HEAD + "<g></svg>").code == "svg_malformed"
    assert rejected("<html><svg/></html>").code == "unsupported_type"
    assert rejected(b"\xff\xfe<svg").code == "svg_malformed"


def test_oversize_svg_is_refused() -> None:
    big = HEAD + "<!--" + "x" * (2 * 1024 * 1024) + "--></svg>"
    assert rejected(big).code == "too_large"


# --- kept ----------------------------------------------------------------------------

CLEAN_BADGE = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" width="512" height="512" viewBox="0 0 512 512">
  <title>Team Player</title>
  <defs>
    <radialGradient id="bg" cx="50%" cy="40%" r="60%">
      <stop offset="0" stop-color="#4f8ef7"/>
      <stop offset="1" stop-color="#1f5fbf"/>
    </radialGradient>
    <filter id="shadow"><feDropShadow dx="0" dy="4" stdDeviation="6" flood-opacity="0.4"/></filter>
    <clipPath id="clip"><circle cx="256" cy="256" r="200"/></clipPath>
    <path id="arc" d="M 96 256 A 160 160 0 0 1 416 256"/>
  </defs>
  <style>.label {{ font: bold 40px sans-serif; fill: #fff }}</style>
  <circle cx="256" cy="256" r="240" fill="url(#bg)" filter="url(#shadow)"/>
  <g clip-path="url(#clip)" transform="rotate(-5 256 256)" opacity="0.9">
    <polygon points="256,120 290,220 396,220 310,280 340,380 256,320 172,380 202,280 116,220 222,220"
             fill="#ffd54f" stroke="#8a6d00" stroke-width="4" stroke-linejoin="round"/>
  </g>
  <text class="label" x="256" y="440" text-anchor="middle"
    >Team <tspan font-style="italic">Player</tspan> 2024</text>
  <text font-size="24" fill="#fff"
    ><textPath xlink:href="#arc" startOffset="50%" text-anchor="middle">Open Badges</textPath></text>
  <use xlink:href="#arc" stroke="#fff" fill="none" stroke-dasharray="4 6"/>
</svg>
"""


def _normalise(el: ET.Element) -> tuple:
    return (
        el.tag,
        sorted(el.attrib.items()),
        (el.text or "").strip(),
        (el.tail or "").strip(),
        [_normalise(c) for c in el],
    )


def test_clean_svg_is_kept_equivalent() -> None:
    out = sanitize_svg(CLEAN_BADGE.encode())
    # Same elements, attributes and text, in the same order: the same drawing.
    assert _normalise(tree(out)) == _normalise(tree(CLEAN_BADGE))


def test_sanitising_is_idempotent() -> None:
    once = sanitize_svg(CLEAN_BADGE)
    assert sanitize_svg(once) == once


def test_text_is_escaped_on_output() -> None:
    out = clean("<text>Fish &amp; Chips &lt;3</text>")
    assert "Fish &amp; Chips &lt;3" in out
    assert tree(out).find(f"{{{SVG_NS}}}text").text == "Fish & Chips <3"


def test_svg_without_namespace_is_accepted_and_fixed() -> None:
    out = sanitize_svg('<svg viewBox="0 0 10 10"><rect width="10" height="10"/></svg>')
    assert tree(out).tag == f"{{{SVG_NS}}}svg"


def test_svg_upload_result() -> None:
    out = process_upload(CLEAN_BADGE.encode(), filename="team.svg", declared_type="image/svg+xml")
    assert out.mime_type == "image/svg+xml" and out.extension == "svg"
    assert (out.width, out.height) == (512, 512)
    assert out.source_type == "svg" and out.warnings == ()
    wide = process_upload(f'<svg xmlns="{SVG_NS}" viewBox="0 0 300 100"/>'.encode())
    assert (wide.width, wide.height) == (300, 100) and wide.warnings == ("not_square",)
