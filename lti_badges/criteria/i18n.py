"""English and French formatting for rule explanations: numbers, dates, windows.

Small on purpose (no Babel): the engine speaks two languages and only needs
numbers, percentages, points and dates.  French follows the Imprimerie
nationale habits: decimal comma, narrow no-break space between thousands,
no-break space before ``%`` and ``:``, "1er" for the first day of a month.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo

from .facts import FIRST_SEEN
from .windows import Window, display_bound

LANGS = ("en", "fr")
NBSP = "\u00a0"  # before % and : in French
NNBSP = "\u202f"  # French thousands separator

_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
        "août", "septembre", "octobre", "novembre", "décembre",
    ),
}  # fmt: skip


def lang_of(lang: object) -> str:
    """``"fr"`` for any French tag (``fr``, ``fr-CA``, ``fr_FR``), else ``"en"``."""
    if isinstance(lang, str) and lang[:2].lower() == "fr":
        return "fr"
    return "en"


def number(value: float, lang: str) -> str:
    """At most two decimals, no trailing zeros: ``72.5`` / ``72,5``; ``1,234`` / ``1 234``."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "?"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if lang == "fr":
        text = text.replace(",", NNBSP).replace(".", ",")
    return text


def percent(value: float, lang: str) -> str:
    return f"{number(value, lang)}{NBSP}%" if lang == "fr" else f"{number(value, lang)}%"


def points(value: float, lang: str) -> str:
    if lang == "fr":  # French: singular below 2 ("1,5 point")
        return f"{number(value, lang)} point" + ("" if abs(value) < 2 else "s")
    return f"{number(value, lang)} point" + ("" if value == 1 else "s")


def colon(lang: str) -> str:
    return f"{NBSP}:" if lang == "fr" else ":"


def day(moment: datetime, lang: str, tz: tzinfo | None = None) -> str:
    """``3 May 2025`` / ``3 mai 2025`` / ``1er mai 2025`` (in ``tz``, default UTC)."""
    try:
        local = moment.astimezone(tz or UTC) if moment.tzinfo else moment
    except (OverflowError, ValueError):
        local = moment
    d = str(local.day)
    if lang == "fr" and local.day == 1:
        d = "1er"
    return f"{d} {_MONTHS[lang][local.month - 1]} {local.year}"


def _offset(moment: datetime) -> str:
    off = moment.utcoffset()
    if not off:
        return "UTC"
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def bound(raw: str, lang: str) -> str:
    """A window bound as the rule wrote it: a day, or a day, a time and its offset."""
    try:
        moment, date_only = display_bound(raw)
    except (ValueError, OverflowError):
        return raw
    text = day(moment, lang, moment.tzinfo)
    if date_only:
        return text
    if lang == "fr":
        return f"{text} à {moment.hour} h {moment.minute:02d} ({_offset(moment)})"
    return f"{text} at {moment.hour:02d}:{moment.minute:02d} ({_offset(moment)})"


def window_phrase(window: Window, lang: str) -> str:
    """`` between A and B`` / `` entre le A et le B`` (with a leading space), or ``""``."""
    start, end = window.from_raw, window.until_raw
    if start and end:
        if lang == "fr":
            return f" entre le {bound(start, lang)} et le {bound(end, lang)}"
        return f" between {bound(start, lang)} and {bound(end, lang)}"
    if start:
        return f" à partir du {bound(start, lang)}" if lang == "fr" else (
            f" on or after {bound(start, lang)}"
        )
    if end:
        return f" au plus tard le {bound(end, lang)}" if lang == "fr" else (
            f" by {bound(end, lang)}"
        )
    return ""


def text(catalog: Mapping[str, Mapping[str, str]], lang: str, key: str, **values: object) -> str:
    """Look ``key`` up in a ``{lang: {key: template}}`` catalogue and fill it in."""
    return catalog[lang][key].format(**values)


def name_of(key: object, names: Mapping[str, str] | None, fallback: str | None = None) -> str:
    """A display name: ``names[key]``, else the fact's own label, else the key itself."""
    if names:
        try:
            found = names.get(str(key))
        except Exception:  # a caller's odd mapping must not break an explanation
            found = None
        if isinstance(found, str) and found:
            return found
    if fallback:
        return fallback
    return str(key)


# Standing phrases shared by the "did it happen?" rules; types may override keys.
STANDING: dict[str, dict[str, str]] = {
    "en": {
        "met": "done",
        "met_on": "done on {date}",
        "met_seen": "done (first seen by the tool on {date})",
        "not_yet": "not yet",
        "outside_window": "done, but outside these dates",
        "outside_seen": "done, but first seen by the tool on {date}, outside these dates",
        "not_read": "not checked yet",
        "error": "could not be checked",
    },
    "fr": {
        "met": "fait",
        "met_on": "fait le {date}",
        "met_seen": "fait (vu pour la première fois par l’outil le {date})",
        "not_yet": "pas encore",
        "outside_window": "fait, mais hors de ces dates",
        "outside_seen": "fait, mais vu pour la première fois par l’outil le {date}, hors de ces "
                        "dates",
        "not_read": "pas encore vérifié",
        "error": "vérification impossible",
    },
}


def parse_time(value: object) -> datetime | None:
    """Read back an evidence time (ISO text) for display."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def simple_standing(
    evidence: Mapping[str, object],
    lang: str,
    tz: tzinfo | None,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """Standing for rules decided by one fact: ``done on 3 May 2025``, ``not yet``…

    A time the tool only first saw (``time_basis`` ``first_seen``) is said to be that, never
    the LMS's date."""
    reason = str(evidence.get("reason", "error"))
    catalog = {**STANDING[lang], **(overrides or {}).get(lang, {})}
    when = parse_time(evidence.get("time"))
    if when is not None and first_seen(evidence):
        if reason == "met":
            return catalog["met_seen"].format(date=day(when, lang, tz))
        if reason == "outside_window":
            return catalog["outside_seen"].format(date=day(when, lang, tz))
    if reason == "met" and when is not None:
        return catalog["met_on"].format(date=day(when, lang, tz))
    return catalog.get(reason, catalog["error"])


def first_seen(evidence: Mapping[str, object]) -> bool:
    """Whether an evidence time is when the tool first saw the fact (not the LMS's date)."""
    return evidence.get("time_basis") == FIRST_SEEN
