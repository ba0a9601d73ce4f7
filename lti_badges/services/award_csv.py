"""Award CSV files, for the studio's import and the CLI's ``award --csv``: the one reader
(:func:`parse_award_csv`) and the one bulk award (:func:`award_rows`).

A file is read whole and checked whole: :func:`parse_award_csv` returns the rows to award
*and* every problem found (with its line number), and the caller awards nothing unless the
problem list is empty. Nothing is dropped silently: a column the tool does not read, a
value in a column without a name, or a line with more values than the first line has
columns is a problem, not a shrug.

What it accepts, as spreadsheets save it (French Excel first):

* encoding: UTF-8 with or without a BOM, UTF-16 with a BOM ("Unicode text"), else
  Windows-1252 (Excel's "CSV (séparateur : point-virgule)" on Windows);
* separator: ``;``, ``,`` or tab, read from the first line (the one that names the
  columns; a value such as "Dupont, Marie" in later lines cannot fool it), or from an
  Excel ``sep=;`` first line;
* values in double quotes, with ``""`` for a quote and line breaks inside quotes;
* column names in English or French, case, accents, spaces, ``-`` and ``_`` ignored:

  ============  ==========================================================
  field         first-line names
  ============  ==========================================================
  email         email, e-mail, mail, email address, courriel, adresse courriel,
                adresse de courriel, adresse électronique, adresse mail
  name          name, full name, nom, nom complet
  given name    first name, given name, prénom
  family name   last name, family name, surname, nom de famille (and "nom"
                when a "prénom" column is present, as in Moodle's French exports)
  evidence URL  evidence, evidence url, preuve, url de la preuve, lien de la preuve
  narrative     narrative, comment, commentaire, récit, justification
  ============  ==========================================================

:func:`award_rows` then awards the rows one by one in their own transactions: a row whose
person already holds a non-repeatable badge is *skipped* (a file imported twice gives
nobody a second badge), a row the issuing refuses is *failed* with its message, and the
others are awarded.

Each row is an :class:`AwardRow`: ``line`` (the file line it starts on), ``email``,
``name`` (the full name, or given + family name; None when absent), ``evidence_url``
and ``narrative`` (None when absent). Messages go through the ``_`` translator the caller
gives (the studio's gettext; plain English for the CLI).
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lti_badges.services import catalogue

MAX_ROWS = 5000
MAX_NAME = catalogue.LIMITS["name"]
MAX_NARRATIVE = catalogue.LIMITS["criteria"]  # as long as a badge's criteria
SEPARATORS = (";", ",", "\t")

Translate = Callable[..., str]


def _plain(message: str, **values: Any) -> str:
    return message % values if values else message


@dataclass(frozen=True)
class AwardRow:
    """One person to award: what the file says, checked."""

    line: int
    email: str
    name: str | None = None
    evidence_url: str | None = None
    narrative: str | None = None


# Normalised first-line name -> field. "nom" is the full name unless a given-name column
# is present (then it is the family name).
COLUMNS: dict[str, str] = {
    **dict.fromkeys(("email", "e mail", "mail", "email address", "e mail address",
                     "courriel", "adresse courriel", "adresse de courriel",
                     "adresse electronique", "adresse mail", "adresse e mail"), "email"),
    **dict.fromkeys(("name", "full name", "nom", "nom complet"), "name"),
    **dict.fromkeys(("first name", "given name", "prenom"), "given_name"),
    **dict.fromkeys(("last name", "family name", "surname", "nom de famille"), "family_name"),
    **dict.fromkeys(("evidence", "evidence url", "preuve", "url de la preuve",
                     "lien de la preuve", "url preuve", "lien preuve"), "evidence"),
    **dict.fromkeys(("narrative", "comment", "commentaire", "recit", "justification"),
                    "narrative"),
}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_header(value: str) -> str:
    """``Adresse de courriel`` -> ``adresse de courriel``; ``E-mail`` -> ``e mail``."""
    text = unicodedata.normalize("NFKD", value.replace("\ufeff", "").strip().casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def decode(data: bytes) -> str | None:
    """The file's text: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: not Windows-1252 either
        return None


def _separator(first_line: str) -> str:
    """The separator the first line uses most, outside quotes (``,`` for one column)."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(SEPARATORS, key=lambda s: counts[s])  # ties: ";" first, as French Excel
    return best if counts[best] else ","


def parse_award_csv(data: bytes, _: Translate = _plain) -> tuple[list[AwardRow], list[str]]:
    """Rows to award from an award CSV, and every problem found (file-level ones first,
    then by line): the caller awards nothing unless the list is empty."""
    text = decode(data)
    if text is None:
        return [], [_("The file is neither UTF-8 nor Windows-1252 text. Save it as “CSV "
                      "UTF-8” and try again.")]
    lines = text.splitlines(keepends=True)
    offset = 0
    match = re.fullmatch(r"\s*sep=(.)\s*", lines[0]) if lines else None
    if match:
        separator, lines, offset = match.group(1), lines[1:], 1
    else:
        separator = _separator(lines[0] if lines else "")
    if not "".join(lines).strip():
        return [], [_("The file is empty.")]
    reader = csv.reader(lines, delimiter=separator, quotechar='"', doublequote=True,
                        strict=True)
    try:
        header = [h.replace("\ufeff", "").strip() for h in next(reader)]
    except csv.Error as exc:
        return [], [_("The file is not readable as CSV: %(error)s", error=str(exc))]
    fields, errors = _columns(header, _)
    if errors:
        return [], errors
    rows: list[AwardRow] = []
    first_line: dict[str, int] = {}
    start = reader.line_num + 1
    try:
        for raw in reader:
            line, start = start + offset, reader.line_num + 1
            cells = [c.strip() for c in raw]
            if not any(cells):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(_("More than %(max)d lines: split the file.", max=MAX_ROWS))
                break
            problem, row = _row(line, cells, fields, first_line, _)
            if problem:
                errors.append(problem)
            elif row:
                first_line[row.email.lower()] = line
                rows.append(row)
    except csv.Error as exc:
        errors.append(_("line %(line)d: %(error)s", line=start + offset, error=str(exc)))
    if not rows and not errors:
        errors.append(_("The file has no rows to award."))
    return rows, errors


def _columns(header: list[str], _: Translate) -> tuple[list[str | None], list[str]]:
    """The field of each column (None for an unnamed one), or the problems with the
    first line."""
    names = [normalise_header(h) for h in header]
    has_given = "given_name" in (COLUMNS.get(n) for n in names)
    fields: list[str | None] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, (raw, name) in enumerate(zip(header, names, strict=True), start=1):
        if not name:
            fields.append(None)
            continue
        field = COLUMNS.get(name)
        if field == "name" and name == "nom" and has_given:
            field = "family_name"
        if field is None:
            errors.append(_("Column %(number)d, “%(column)s”, is not one the tool reads. Name "
                            "the columns email, name, evidence, narrative (or courriel, nom, "
                            "preuve, commentaire), or remove that column.",
                            number=number, column=raw[:80]))
        elif field in seen:
            errors.append(_("Columns %(first)d and %(number)d give the same field "
                            "(%(field)s): keep one.", first=seen[field], number=number,
                            field=_field_label(field, _)))
        else:
            seen[field] = number
        fields.append(field)
    if "email" not in seen and not errors:
        errors.append(_("The first line must name the columns, with at least “email” (or "
                        "“courriel”), and optionally “name”, “evidence” and “narrative”."))
    if "name" in seen and ("given_name" in seen or "family_name" in seen):
        errors.append(_("Give either a full name column or first and last name columns, "
                        "not both."))
    return fields, errors


def _field_label(field: str, _: Translate) -> str:
    return {"email": _("email address"), "name": _("name"), "given_name": _("first name"),
            "family_name": _("last name"), "evidence": _("evidence URL"),
            "narrative": _("narrative")}[field]


def _row(line: int, cells: list[str], fields: list[str | None], first_line: dict[str, int],
         _: Translate) -> tuple[str | None, AwardRow | None]:
    if len(cells) > len(fields) and any(cells[len(fields):]):
        return _("line %(line)d has %(count)d values but the first line names %(columns)d "
                 "columns: a value holding the separator must be in double quotes.",
                 line=line, count=len(cells), columns=len(fields)), None
    values: dict[str, str] = {}
    for field, cell in zip(fields, cells, strict=False):
        if field is None:
            if cell:
                return _("line %(line)d: a value is in a column that has no name on the first "
                         "line: name the column or remove the value.", line=line), None
            continue
        values[field] = cell
    email = values.get("email", "")
    name = values.get("name") or " ".join(
        v for v in (values.get("given_name"), values.get("family_name")) if v) or None
    evidence = values.get("evidence") or None
    narrative = values.get("narrative") or None
    if not email:
        return _("line %(line)d: the email is missing.", line=line), None
    if not catalogue.is_email(email):
        return _("line %(line)d: “%(email)s” is not an email address.", line=line,
                 email=email[:80]), None
    if email.lower() in first_line:
        return _("line %(line)d: %(email)s is already on line %(first)d.", line=line,
                 email=email, first=first_line[email.lower()]), None
    if name and len(name) > MAX_NAME:
        return _("line %(line)d: the name is longer than 255 characters.", line=line), None
    if evidence:
        if not catalogue.is_http_url(evidence):
            return _("line %(line)d: the evidence must be an http(s) address.", line=line), None
    if narrative and len(narrative) > MAX_NARRATIVE:
        return _("line %(line)d: the narrative is longer than %(max)d characters.", line=line,
                 max=MAX_NARRATIVE), None
    if any(_CONTROL.search(v) for v in (name or "", narrative or "")):
        return _("line %(line)d: the name or narrative contains control characters; remove "
                 "them.", line=line), None
    return None, AwardRow(line, email, name, evidence, narrative)


@dataclass
class BulkResult:
    """What :func:`award_rows` did, row by row (each list in file order)."""

    awarded: list[tuple[AwardRow, Any]]  # (row, the Award)
    skipped: list[tuple[AwardRow, str]]  # the person already holds the badge (message)
    failed: list[tuple[AwardRow, str]]  # (row, the refusal's message)


def award_rows(badge: Any, rows: list[AwardRow], *, awarded_by: str) -> BulkResult:
    """Award ``badge`` to every row (checked by :func:`parse_award_csv` first), each in its
    own transaction, so one refused row loses no other."""
    from lti_badges import issuing
    from lti_badges.extensions import db

    result = BulkResult([], [], [])
    for row in rows:
        try:
            award = issuing.award(badge, email=row.email, name=row.name,
                                  evidence_url=row.evidence_url, narrative=row.narrative,
                                  source="csv", awarded_by=awarded_by)
        except issuing.AlreadyAwarded as exc:
            db.session.rollback()
            result.skipped.append((row, exc.message))
        except issuing.IssuingError as exc:
            db.session.rollback()
            result.failed.append((row, exc.message))
        else:
            result.awarded.append((row, award))
    return result
