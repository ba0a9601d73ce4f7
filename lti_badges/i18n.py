"""English and French for every page (Flask-Babel).

The launch decides the language (``launch_presentation.locale``: ``fr-CA`` →
French), then the course's setting, then the browser's ``Accept-Language``.
Catalogs are plain ``.po`` files under ``lti_badges/i18n/fr/<domain>.po``, one
domain per area of the site (core, studio, learner, admin) so each area keeps
its own; they are compiled to ``.mo`` in the instance folder when the app starts,
so no binary lands in the repository and no build step is forgotten.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel

LANGUAGES = ("en", "fr")
SOURCE = Path(__file__).resolve().parent / "i18n"


def domains() -> list[str]:
    return sorted(p.stem for p in (SOURCE / "fr").glob("*.po"))


def compile_catalogs(target: Path) -> None:
    for po_path in sorted((SOURCE / "fr").glob("*.po")):
        out = target / "fr" / "LC_MESSAGES" / (po_path.stem + ".mo")
        if out.exists() and out.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale="fr", domain=po_path.stem)
        tmp = out.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        tmp.replace(out)  # atomic: several workers may start at once


def pick(value: str | None) -> str | None:
    if not value:
        return None
    code = value.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def select_locale() -> str:
    launch = g.get("launch")
    forced = pick(request.args.get("lang")) if request else None
    if forced:
        return forced
    if launch is not None:
        chosen = pick(launch.locale)
        if chosen:
            return chosen
        course = launch.course
        if course is not None and pick((course.settings or {}).get("language")):
            return pick(course.settings["language"])  # type: ignore[return-value]
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    target = Path(app.instance_path) / "translations"
    compile_catalogs(target)
    names = domains()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(target) for _ in names)
    app.config["BABEL_DOMAIN"] = ";".join(names)
    Babel(app, locale_selector=select_locale)
