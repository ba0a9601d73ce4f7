"""Generated badge images draw French names: accented letters are real glyphs, not boxes."""

from PIL import Image, ImageDraw

from lti_badges.openbadges.images import badge_font


def _render(text: str) -> bytes:
    img = Image.new("L", (120, 60), 0)
    ImageDraw.Draw(img).text((10, 10), text, font=badge_font(32), fill=255)
    return img.tobytes()


def test_accented_letters_have_their_own_glyphs():
    # A font without "é" draws the same missing-glyph box for it as for an unknown char.
    assert _render("é") != _render("\uffff")
    assert _render("é") != _render("e")
    assert _render("ç") != _render("c")
