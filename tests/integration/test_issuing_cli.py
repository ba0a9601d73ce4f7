"""The issuing CLI and service on bad input: clear errors, nothing half-written."""

from __future__ import annotations

import json

import requests

from lti_badges import issuing, urls
from lti_badges.extensions import db
from lti_badges.models import Award, Badge, Issuer, IssuerKey
from lti_badges.openbadges import proofs
from tests.support.cli import cli_json


def _issuer(runner, *extra):
    return cli_json(runner.invoke(args=["issuers", "add", "--name", "Université Test", "--url",
                                     "https://u.example", "--email", "b@u.example", "--json",
                                     *extra]))


def _badge(runner, issuer_id, *extra):
    return cli_json(runner.invoke(args=["badges", "add", "--issuer", issuer_id, "--name", "Quiz",
                                     "--description", "d", "--criteria-text", "c", "--json",
                                     *extra]))


def test_bad_issuer_input(runner, app):
    for args, words in (
        (["--name", "X", "--url", "not a url", "--email", "a@b.example"], "http(s) URL"),
        (["--name", "X", "--url", "https://x.example", "--email", "nope"], "not a valid email"),
        (["--name", " ", "--url", "https://x.example", "--email", "a@b.example"], "required"),
    ):
        result = runner.invoke(args=["issuers", "add", *args])
        assert result.exit_code != 0 and words in result.output, result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Issuer)) == 0


def test_private_keys_are_encrypted_at_rest(runner, app):
    _issuer(runner)
    with app.app_context():
        for key in db.session.scalars(db.select(IssuerKey)):
            assert "ENCRYPTED PRIVATE KEY" in key.private_pem


def test_bad_rule_names_the_faulty_part(runner, app):
    issuer = _issuer(runner)
    result = runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Q",
                                 "--description", "d", "--criteria-text", "c", "--rule",
                                 '{"all": [{"grade": {"item": "q1", "min_percent": 180}}]}'])
    assert result.exit_code != 0 and "all[0].grade.min_percent" in result.output
    result = runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Q",
                                 "--description", "d", "--criteria-text", "c", "--rule", "{oops"])
    assert result.exit_code != 0 and "not valid JSON" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Badge)) == 0
    ok = _badge(runner, issuer["id"], "--rule",
                '{"grade": {"item": "Quiz 2", "min_percent": 80}}')
    assert ok["rule"] == {"grade": {"item": "Quiz 2", "min_percent": 80}}


def test_lying_image_is_refused(runner, tmp_path):
    issuer = _issuer(runner)
    fake = tmp_path / "badge.png"
    fake.write_text("<html>not an image</html>")
    result = runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Q",
                                 "--description", "d", "--criteria-text", "c",
                                 "--image", str(fake)])
    assert result.exit_code != 0 and "image" in result.output.lower()


def test_csv_bulk_award_checks_every_line_first(runner, app, tmp_path):
    badge = _badge(runner, _issuer(runner)["id"])
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\nok@example.test,Ok\nnot-an-email,Bad\n")
    result = runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(bad)])
    assert result.exit_code != 0 and "line 3" in result.output and "Nothing was awarded" in \
        result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 0
    good = tmp_path / "good.csv"
    good.write_text("Email,Name,Evidence\na@example.test,A,https://e.example/1\n"
                    "b@example.test,B,\n\n")
    awarded = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(good),
                                        "--json"]))
    assert [a["recipient"] for a in awarded] == ["a@example.test", "b@example.test"]
    # The same file again (one new line): nobody gets a second badge; the held lines are
    # reported by line (services.award_csv.award_rows, as the studio's import reports them).
    again = tmp_path / "again.csv"
    again.write_text("Email,Name\na@example.test,A\nc@example.test,C\nb@example.test,B\n")
    result = runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(again),
                                 "--json"])
    assert result.exit_code == 1
    assert [a["recipient"] for a in json.loads(result.stdout)] == ["c@example.test"]
    assert "line 2 (a@example.test): a@example.test already holds this badge." in result.stderr
    assert "line 4 (b@example.test)" in result.stderr
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 3
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("Adresse\nx@example.test\n")
    result = runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(nocol)])
    assert result.exit_code != 0 and "Column 1, “Adresse”, is not one the tool reads" in \
        result.stderr
    nomail = tmp_path / "nomail.csv"
    nomail.write_text("name\nX\n")
    result = runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(nomail)])
    assert result.exit_code != 0 and "at least “email” (or “courriel”)" in result.stderr


def test_csv_award_reads_french_excel_files(runner, app, tmp_path):
    """The CLI reads CSV files with the studio's reader: `;`, Windows-1252, quoted values
    and French column names, and refuses a column it does not read before awarding."""
    badge = _badge(runner, _issuer(runner)["id"])
    french = tmp_path / "fr.csv"
    french.write_bytes(("Courriel;Nom;Preuve;Commentaire\r\n"
                        "zoe@example.test;\"Lefèvre, Zoé\";https://e.example/z;Très bien\r\n"
                        ).encode("cp1252"))
    awarded = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(french),
                                        "--json"]))
    assert [a["recipient"] for a in awarded] == ["zoe@example.test"]
    with app.app_context():
        award = db.session.scalar(db.select(Award))
        assert award.recipient_name == "Lefèvre, Zoé"
        assert award.evidence["url"] == "https://e.example/z"
        assert award.evidence["narrative"] == "Très bien"
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("email;name;groupe\nn@example.test;N;G1\n")
    result = runner.invoke(args=["award", "--badge", badge["id"], "--csv", str(unknown)])
    assert result.exit_code != 0 and "Nothing was awarded" in result.stderr
    assert "Column 3, “groupe”" in result.stderr
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 1


def test_expiry_and_revocation_state(runner, app):
    badge = _badge(runner, _issuer(runner)["id"], "--expires-after", "30")
    award = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email",
                                      "e@example.test", "--json"]))
    assert award["expires"] is not None
    with app.app_context():
        row = db.session.scalar(db.select(Award).filter_by(public_id=award["id"]))
        assert row.assertion["expires"] and row.credential["validUntil"]
    result = runner.invoke(args=["revoke", award["id"], "--reason", "  "])
    assert result.exit_code != 0 and "reason" in result.output.lower()
    cli_json(runner.invoke(args=["revoke", award["id"], "--reason", "Erreur", "--json"]))
    again = runner.invoke(args=["revoke", award["id"], "--reason", "Encore"])
    assert again.exit_code != 0 and "already revoked" in again.output
    missing = runner.invoke(args=["revoke", "nope", "--reason", "x"])
    assert missing.exit_code != 0 and "No award" in missing.output


def test_key_rotation_keeps_old_credentials_verifiable(runner, app, tool):
    badge = _badge(runner, _issuer(runner)["id"])
    old = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email",
                                    "old@example.test", "--json"]))
    cli_json(runner.invoke(args=["keys", "rotate", "--json"]))
    new = cli_json(runner.invoke(args=["award", "--badge", badge["id"], "--email",
                                    "new@example.test", "--json"]))
    with app.app_context():
        loader = issuing.context_loader()

        def resolve(vm_id):
            did_doc = requests.get(urls.local_url_for_did(vm_id)).json()
            for vm in did_doc["verificationMethod"]:
                if vm["id"] == vm_id:
                    from lti_badges.openbadges import keys as okeys

                    return okeys.ed25519_from_multibase(vm["publicKeyMultibase"])
            raise KeyError(vm_id)

        creds = [requests.get(a["credential_url"]).json() for a in (old, new)]
        assert creds[0]["proof"][0]["verificationMethod"] != \
            creds[1]["proof"][0]["verificationMethod"]
        for cred in creds:
            result = proofs.verify_data_integrity(
                cred, lambda vm_id: resolve(vm_id), loader)
            assert result.verified, result.errors


def test_unknown_documents_are_404_not_500(client):
    for path in ("/ob/issuers/nope", "/ob/badges/nope", "/ob/assertions/nope",
                 "/ob/assertions/nope.png", "/ob/credentials/nope", "/ob/credentials/nope.jwt",
                 "/ob/revocations/nope", "/ob/status/nope", "/ob/images/nope.png",
                 "/ob/issuers/nope/did.json", "/ob/issuers/nope/keys/k"):
        resp = client.get(path)
        assert resp.status_code == 404, path


def test_control_characters_are_refused_before_signing(runner, app):
    """pyld and jsonld.js escape control characters differently in RDFC-1.0: a credential
    holding one would not verify elsewhere, so the text is refused up front."""
    issuer = _issuer(runner)
    result = runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name",
                                 "Quiz\x08", "--description", "d", "--criteria-text", "c"])
    assert result.exit_code != 0 and "control characters (U+0008)" in result.output
    ok = runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name", "Quiz",
                             "--description", "line one\nline two\ttab", "--criteria-text", "c"])
    assert ok.exit_code == 0, ok.output
