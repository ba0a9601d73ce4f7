"""Raster uploads: real types, limits, bombs, metadata, re-encoding; generated badges."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from lti_badges.openbadges import images
from lti_badges.openbadges.images import (
    ImageRejected,
    generate_badge_png,
    process_raster,
    process_upload,
    sniff_image_type,
)

from .helpers import image_bytes, png_bytes, png_chunks, png_declaring, png_with_metadata


def rejected(data: bytes, **kw) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process_upload(data, **kw)
    err = info.value
    assert err.message and err.message[0].isupper()  # a sentence for a person
    return err


def open_png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return img


# --- real types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (png_bytes(), "png"),
        (image_bytes("JPEG"), "jpeg"),
        (image_bytes("GIF"), "gif"),
        (image_bytes("WEBP"), "webp"),
        (b'<?xml version="1.0"?>\n<!-- x --><svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (b"hello, I am text", None),
        (b"<html><body>hi</body></html>", None),
        (b"", None),
    ],
)
def test_sniff_uses_bytes(data: bytes, kind: str | None) -> None:
    assert sniff_image_type(data) == kind


def test_png_named_svg_is_refused() -> None:
    err = rejected(png_bytes(), filename="badge.svg")
    assert err.code == "type_mismatch"
    assert "badge.svg" in err.message and "PNG" in err.message


def test_png_declared_as_svg_is_refused() -> None:
    err = rejected(png_bytes(), filename="badge.png", declared_type="image/svg+xml")
    assert err.code == "type_mismatch"


def test_jpeg_named_png_is_refused() -> None:
    assert rejected(image_bytes("JPEG"), filename="photo.png").code == "type_mismatch"


def test_text_file_named_png_is_refused() -> None:
    err = rejected(b"just some notes\n" * 20, filename="badge.png", declared_type="image/png")
    assert err.code == "unsupported_type"


def test_svg_named_png_is_refused() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"/>'
    assert rejected(svg, filename="x.png").code == "type_mismatch"


def test_uninformative_declared_type_is_fine() -> None:
    out = process_upload(png_bytes(), filename="BADGE.PNG", declared_type="application/octet-stream")
    assert out.mime_type == "image/png"


def test_empty_upload() -> None:
    assert rejected(b"").code == "empty"


# --- limits and bombs ---------------------------------------------------------


def test_decompression_bomb_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = png_declaring(100_000, 100_000)  # 10^10 pixels declared
    assert len(bomb) < 200
    loaded = []
    original_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loaded.append(1) or original_load(self))
    err = rejected(bomb, filename="bomb.png")
    assert err.code == "too_many_pixels"
    assert "decompression bomb" in err.message
    assert loaded == []  # refused from the header alone


def test_declared_pixels_over_our_limit_are_refused_by_our_check() -> None:
    # Below Pillow's own threshold, above ours: our explicit check answers.
    err = rejected(png_declaring(3000, 3000))
    assert err.code == "too_many_pixels"
    assert "3000×3000" in err.message


def test_pillow_bomb_protection_is_caught_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Even if our own pixel check were lifted, Pillow's bomb warning/error
    # comes back as an ImageRejected rather than an exception or a decode.
    monkeypatch.setattr(images, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(images, "MAX_DIMENSION", 10**6)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    err = rejected(png_declaring(1500, 1500))
    assert err.code == "too_many_pixels"


def test_oversize_bytes_are_refused_without_parsing() -> None:
    data = png_bytes() + b"\x00" * (images.MAX_UPLOAD_BYTES + 1)
    err = rejected(data)
    assert err.code == "too_large"
    assert "2.0 MiB" in err.message


def test_dimension_limits() -> None:
    assert rejected(png_bytes((32, 32))).code == "too_small_dimensions"
    assert rejected(png_bytes((64, 20))).code == "too_small_dimensions"
    assert rejected(png_bytes((2100, 100), mode="RGB")).code == "too_big_dimensions"
    ok = process_upload(png_bytes((64, 64)))
    assert (ok.width, ok.height) == (64, 64)


def test_truncated_image_is_corrupt() -> None:
    data = image_bytes("JPEG", (300, 300), quality=95)
    assert rejected(data[: len(data) // 3]).code == "corrupt"


def test_garbage_after_png_signature_is_corrupt() -> None:
    assert rejected(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100).code == "corrupt"


# --- re-encoding ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP", "PNG"])
def test_converted_to_png(fmt: str) -> None:
    out = process_upload(image_bytes(fmt, (300, 300)))
    assert out.mime_type == "image/png" and out.extension == "png"
    assert out.source_type == fmt.lower()
    img = open_png(out.data)
    assert img.size == (300, 300) == (out.width, out.height)
    r, g, b = img.convert("RGB").getpixel((150, 150))
    assert abs(r - 20) < 12 and abs(g - 120) < 12 and abs(b - 200) < 12


def test_metadata_is_stripped() -> None:
    out = process_upload(png_with_metadata())
    kinds = {ctype for ctype, _ in png_chunks(out.data)}
    assert kinds <= {b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS"}, kinds
    assert b"Jane" not in out.data and b"GPS" not in out.data


def test_jpeg_exif_is_stripped_and_orientation_applied() -> None:
    img = Image.new("RGB", (120, 80), (250, 250, 250))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    exif[0x013B] = "Jane Secret"  # Artist
    out_buf = io.BytesIO()
    img.save(out_buf, format="JPEG", exif=exif.tobytes())
    out = process_upload(out_buf.getvalue(), filename="me.jpg", declared_type="image/jpeg")
    assert (out.width, out.height) == (80, 120)
    assert b"Jane" not in out.data and b"Exif" not in out.data
    assert "exif" not in open_png(out.data).info


def test_large_image_is_scaled_down_to_target() -> None:
    out = process_upload(png_bytes((1024, 1024)))
    assert (out.width, out.height) == (512, 512)
    assert open_png(out.data).size == (512, 512)
    kept = process_upload(png_bytes((1024, 1024)), target_size=None)
    assert (kept.width, kept.height) == (1024, 1024)


def test_not_square_is_a_warning_not_an_error() -> None:
    out = process_upload(png_bytes((400, 200)))
    assert out.warnings == ("not_square",)
    assert process_upload(png_bytes((200, 200))).warnings == ()


def test_transparency_is_kept() -> None:
    img = Image.new("P", (100, 100), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.info["transparency"] = 0
    buf = io.BytesIO()
    img.save(buf, format="GIF", transparency=0)
    out = process_upload(buf.getvalue())
    decoded = open_png(out.data)
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((5, 5))[3] == 0


def test_animated_gif_keeps_first_frame() -> None:
    frames = [Image.new("RGB", (80, 80), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    out = process_upload(buf.getvalue())
    r, g, _b = open_png(out.data).convert("RGB").getpixel((40, 40))
    assert r > 200 and g < 50


def test_process_raster_refuses_svg() -> None:
    with pytest.raises(ImageRejected) as info:
        process_raster(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert info.value.code == "unsupported_type"


def test_svg_can_be_disallowed() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>'
    assert rejected(svg, allow_svg=False).code == "svg_not_allowed"


def test_error_is_a_value_error_with_repr() -> None:
    err = ImageRejected("Nope.", "x")
    assert isinstance(err, ValueError) and str(err) == "Nope." and "code='x'" in repr(err)


# --- generated badges -------------------------------------------------------------


@pytest.mark.parametrize("template", images.TEMPLATES)
@pytest.mark.parametrize("colour", ["blue", "gold", "#fff", "#1A2B3C"])
def test_generated_badges(template: str, colour: str) -> None:
    data = generate_badge_png("Outstanding Contribution to Open Science", colour, template)
    img = open_png(data)
    assert img.size == (512, 512) and img.mode == "RGBA"
    assert img.getpixel((256, 256))[3] == 255  # the shape covers the centre
    assert img.getpixel((0, 0))[3] == 0  # transparent corners
    # and the result passes our own upload checks
    assert process_upload(data).width == 512


def test_generated_badge_draws_text() -> None:
    with_text = open_png(generate_badge_png("ABC", "navy", "circle", size=128)).convert("RGB")
    without = open_png(generate_badge_png("", "navy", "circle", size=128)).convert("RGB")
    assert with_text.tobytes() != without.tobytes()


def test_generated_badge_bad_arguments() -> None:
    with pytest.raises(ImageRejected) as info:
        generate_badge_png("x", "blue", "star")
    assert info.value.code == "unknown_template"
    with pytest.raises(ImageRejected) as info:
        generate_badge_png("x", "url(javascript:1)", "circle")
    assert info.value.code == "bad_colour"
    with pytest.raises(ImageRejected) as info:
        generate_badge_png("x", "blue", "circle", size=10_000)
    assert info.value.code == "bad_size"
