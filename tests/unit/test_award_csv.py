"""The one award CSV reader (services.award_csv), on files as spreadsheets save them:
French Excel (`;`, Windows-1252 or UTF-8 with a BOM, quoted values), Moodle's participant
exports, Excel's "Unicode text"; and nothing dropped silently."""

from __future__ import annotations

from lti_badges.services.award_csv import AwardRow, normalise_header, parse_award_csv


def _ok(data: bytes) -> list[AwardRow]:
    rows, errors = parse_award_csv(data)
    assert errors == [], errors
    return rows


def test_french_excel_windows_1252_with_quotes():
    data = ('Prénom;Nom;Adresse de courriel;Preuve;Commentaire\r\n'
            'Zoé;"Lefèvre; dite Zo";zoe@exemple.fr;https://e.example/1;"Très bon ""TP"""\r\n'
            'Ben;Roy;ben@exemple.fr;;\r\n').encode("cp1252")
    assert _ok(data) == [
        AwardRow(2, "zoe@exemple.fr", "Zoé Lefèvre; dite Zo", "https://e.example/1",
                 'Très bon "TP"'),
        AwardRow(3, "ben@exemple.fr", "Ben Roy", None, None)]


def test_french_headers_with_a_bom_keep_names_and_evidence():
    # The file the studio read as "2 awards made" while dropping Nom and Preuve.
    data = ("\ufeffCourriel;Nom;Preuve;Récit\r\n"
            '"a@x.fr";"Dupont, Marie";"https://e.example/a";"Projet rendu"\r\n'
            '"b@x.fr";"Roy, Ben";"https://e.example/b";\r\n').encode()
    assert [(r.email, r.name, r.evidence_url, r.narrative) for r in _ok(data)] == [
        ("a@x.fr", "Dupont, Marie", "https://e.example/a", "Projet rendu"),
        ("b@x.fr", "Roy, Ben", "https://e.example/b", None)]


def test_separator_comes_from_the_first_line():
    # Commas in the values of later lines do not make ',' the separator.
    rows = _ok(b'email;name\na@x.org;"A, B, C, D"\n')
    assert rows[0].name == "A, B, C, D"
    assert _ok(b"email\tname\na@x.org\tA, B\n")[0].name == "A, B"
    assert _ok(b"Email,Name\na@x.org,Ann\n")[0].name == "Ann"
    assert _ok(b"sep=;\nemail;name\na@x.org;A,B\n") == [AwardRow(3, "a@x.org", "A,B")]


def test_utf16_unicode_text_and_multiline_values():
    data = "E-mail\tNarrative\r\nx@y.org\t\"two\r\nlines\"\r\nz@y.org\tok\r\n"
    rows = _ok(data.encode("utf-16"))
    assert [(r.line, r.narrative) for r in rows] == [(2, "two\r\nlines"), (4, "ok")]


def test_unknown_or_unusable_columns_are_errors_before_anything():
    rows, errors = parse_award_csv(b"email;Groupe;nom\na@x.org;G1;A\n")
    assert rows == [] and len(errors) == 1
    assert "Column 2" in errors[0] and "Groupe" in errors[0]
    rows, errors = parse_award_csv(b"email;courriel\na@x.org;a@x.org\n")
    assert rows == [] and "Columns 1 and 2 give the same field (email address)" in errors[0]
    rows, errors = parse_award_csv(b"email;name;first name\na@x.org;A;B\n")
    assert rows == [] and "not both" in errors[0]
    # An unnamed column is fine while empty (Excel's trailing separators), not with values.
    assert _ok(b"email;name;;\na@x.org;A;;\n") == [AwardRow(2, "a@x.org", "A")]
    rows, errors = parse_award_csv(b"email;name;\na@x.org;A;\nb@x.org;B;oops\n")
    assert errors == ["line 3: a value is in a column that has no name on the first line: "
                      "name the column or remove the value."]
    # A line with more values than the first line has columns (an unquoted separator).
    rows, errors = parse_award_csv(b"email;name\na@x.org;Dupont;Marie\n")
    assert "line 2 has 3 values but the first line names 2 columns" in errors[0]


def test_every_bad_line_is_reported_with_its_number():
    rows, errors = parse_award_csv(
        b"email,name,evidence,narrative\n"
        b"ok@x.org,Ok,,\nnope,No,,\n,Empty,,\nok@X.org,Twice,,\n"
        b"c@x.org,C,ftp://x,\nd@x.org,D,,bad\x07bell\n")
    assert [e.split(":")[0] for e in errors] == [
        "line 3", "line 4", "line 5", "line 6", "line 7"]
    assert "already on line 2" in errors[2]
    assert [r.email for r in rows] == ["ok@x.org"]
    assert "neither UTF-8 nor Windows-1252" in parse_award_csv(b"email\n\x81@x.org\n")[1][0]
    assert "line 2" in parse_award_csv(b'email\n"a@x.org"x\n')[1][0]
    assert parse_award_csv(b"name\nA\n")[1][0].startswith("The first line must name")


def test_header_names_are_matched_loosely():
    assert normalise_header(" Adresse de Courriel ") == "adresse de courriel"
    assert normalise_header("E_MAIL") == normalise_header("e-mail") == "e mail"
    assert normalise_header("Prénom") == "prenom"


def test_messages_are_translated_by_the_callers_gettext():
    def shout(message: str, **values: object) -> str:
        return (message % values if values else message).upper()

    assert parse_award_csv(b"", shout)[1] == ["THE FILE IS EMPTY."]
