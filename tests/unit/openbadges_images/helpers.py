"""Small image factories shared by these tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin


def png_bytes(size: tuple[int, int] = (256, 256), mode: str = "RGBA", **save_kw) -> bytes:
    img = Image.new(mode, size, (200, 30, 30, 255) if mode == "RGBA" else (200, 30, 30))
    out = io.BytesIO()
    img.save(out, format="PNG", **save_kw)
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (256, 256), **save_kw) -> bytes:
    img = Image.new("RGB", size, (20, 120, 200))
    out = io.BytesIO()
    img.save(out, format=fmt, **save_kw)
    return out.getvalue()


def png_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret <jane@example.org>")
    info.add_itxt("Comment", "GPS 51.5N 0.1W", zip=False)
    img = Image.new("RGB", (128, 128), (10, 200, 10))
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed-looking PNG whose header claims width x height."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # A few rows of zeros compressed: decoding the full image would need
    # width*height*3 bytes of memory.
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    pos, out = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        out.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out
