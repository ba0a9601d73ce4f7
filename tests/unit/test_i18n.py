"""English and French everywhere: every message of the templates and code has a French
translation, and the launch's locale picks the language."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "_l": None}


def _messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for _, msg, _, _ in extract_from_file("jinja2.ext.babel_extract", str(path),
                                              options={"extensions": "jinja2.ext.i18n"}):
            found.setdefault(msg if isinstance(msg, str) else msg[0], str(path))
    for path in sorted((ROOT / "lti_badges").rglob("*.py")):
        for _, msg, _, _ in extract_from_file("python", str(path), keywords=KEYWORDS):
            found.setdefault(msg if isinstance(msg, str) else msg[0], str(path))
    return found


def _french() -> dict[str, object]:
    out: dict[str, object] = {}
    for po in sorted((ROOT / "lti_badges" / "i18n" / "fr").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    out[key] = message.string
    return out


def test_every_message_has_a_french_translation():
    french = _french()
    missing = {m: where for m, where in _messages().items()
               if not french.get(m) or (isinstance(french[m], tuple) and not all(french[m]))}
    assert not missing, f"untranslated ({len(missing)}): {missing}"


def test_language_follows_the_request(client):
    assert "Accueil" not in client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).text
    fr = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(as_text=True)
    assert "Un outil LTI 1.3" in fr and 'lang="fr"' in fr
    en = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "An LTI 1.3 tool" in en and 'lang="en"' in en
    err = client.get("/ob/badges/nope", headers={"Accept-Language": "fr", "Accept": "text/html"})
    assert "Rien n’est publié à cette adresse." in err.get_data(as_text=True)
