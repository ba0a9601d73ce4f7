"""RFC 8288 ``Link`` headers as LTI services send them, Moodle's included.

Moodle's AGS writes ``rel=“next”`` with typographic quotes and ``&amp;`` inside
the URL (see ../shared/moodle/README.md); ``requests.utils.parse_header_links``
cuts such URLs at the ``;`` of ``&amp;`` and keeps the curly quotes, so a
check for ``rel == "next"`` never matches. This parser takes the URL between
angle brackets whole, unescapes ``&amp;``, and accepts any quote style.
"""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^,<]*)*)")
_REL = re.compile(r"""rel\s*=\s*["“”']?([^"“”';,]+)["“”']?""", re.IGNORECASE)


def repair(header: str) -> str:
    """HTTP clients decode header bytes as Latin-1 (RFC 9110 §5.5), so Moodle's UTF-8
    quotes arrive as ``â\x80\x9c``; undo that when the bytes are valid UTF-8."""
    try:
        return header.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header


def parse_links(header: str | None) -> dict[str, str]:
    """{rel: url} for every link in the header (first wins for a repeated rel)."""
    out: dict[str, str] = {}
    if not header:
        return out
    header = repair(header)
    for match in _LINK.finditer(header):
        url = html.unescape(match.group(1).strip())
        for rel_match in _REL.finditer(match.group(2)):
            for rel in rel_match.group(1).split():
                out.setdefault(rel.lower(), url)
    return out
