"""The badge studio against the independent platform peer: a teacher designs a badge with a
rule from the course's real line items, previews who would earn it, saves, syncs (the
progress JSON reaches done and the earner appears), awards by hand, imports a CSV (a bad
line refuses the whole file), exports earners, revokes; a TA reads only; a learner gets
403; CSRF and bad input are refused with a message."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest
import requests

from lti_badges.extensions import db
from lti_badges.models import Award, Badge, Issuer, Person
from tests.integration.conftest import (
    course_id_of,
    csrf_of,
    form_post,
    launch_token,
    register,
    with_credential,
)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


class Session:
    """One launch, talking to the tool with requests and the launch token (as in an iframe
    whose cookies are blocked)."""

    def __init__(self, tool, resp):
        self.tool = tool
        self.token = launch_token(resp)
        self.cid = course_id_of(resp)
        self.landing = resp
        self.csrf = csrf_of(resp.text) if 'name="csrf_token"' in resp.text else None

    def url(self, path: str) -> str:
        return self.tool.url(f"/course/{self.cid}/studio{path}")

    def get(self, path: str, **kw):
        return requests.get(self.url(path), headers=with_credential(self.token),
                            params=kw.pop("params", {}), **kw)

    def post(self, path: str, data=None, files=None, csrf: str | None = "", **kw):
        body = {"csrf_token": self.csrf if csrf == "" else (csrf or "")}
        if isinstance(data, list):
            body = list(body.items()) + data
        else:
            body.update(data or {})
        return form_post(self.url(path), self.token, body, files=files, **kw)


@pytest.fixture
def world(app, tool, peer):
    register(app, tool, peer)
    peer.add_course("c1", title="Chimie 101", label="CHM")
    people = {"ana": "Ana Martin", "ben": "Ben Roy", "chloe": "Chloé Tremblay",
              "dan": "Dan Nadeau", "teacher": "Tom Teacher", "ta": "Tia Assistant"}
    for uid, name in people.items():
        peer.add_user(uid, name=name, email=f"{uid}@example.test")
    for uid in ("ana", "ben", "chloe", "dan"):
        peer.enroll("c1", uid, roles=["Learner"])
    peer.enroll("c1", "teacher", roles=["Instructor"])
    peer.enroll("c1", "ta", roles=[LIS + "membership/Instructor#TeachingAssistant"])
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    lab = peer.add_line_item("c1", "Lab report", 20)
    peer.set_result(quiz["id"], "ana", 9, 10)   # 90 %: met
    peer.set_result(quiz["id"], "ben", 6, 10)   # 60 %: 0.75 of 80 %: close
    peer.set_result(quiz["id"], "chloe", 2, 10)  # 20 %: 0.25: not yet
    peer.set_result(lab["id"], "ana", 15, 20)
    teacher = Session(tool, peer.launch(peer.new_browser(), "teacher", "c1"))
    return {"peer": peer, "teacher": teacher, "quiz": quiz, "lab": lab, "app": app,
            "tool": tool}


def _badge_form(**extra):
    data = {"name": "Quiz 1 mastery", "description": "Mastered quiz 1.",
            "criteria_text": "Score at least 80 % in quiz 1.", "language": "en",
            "tags": "chemistry, quiz", "image_mode": "generate", "template": "shield",
            "colour": "green", "expiry_mode": "none", "rule_mode": "builder",
            "c0-type": "grade", "c0-item": "Quiz 1", "c0-threshold": "80", "c0-unit": "percent",
            "combine": "all", "at_least": "1", "issuer": "new", "issuer_name": "Cégep Test",
            "issuer_url": "https://cegep.example", "issuer_email": "badges@cegep.example",
            "a0-name": "Stoichiometry", "a0-url": "https://standards.example/chem/1",
            "a0-code": "CHEM-1", "a0-framework": "Chem standards"}
    data.update(extra)
    return data


def _rows(html: str) -> dict[str, str]:
    """learner id → status, from the preview table."""
    return {learner: status for status, learner
            in re.findall(r'data-status="([a-z_]+)" data-learner="([^"]+)"', html)}


def _create(t, **extra) -> str:
    resp = t.post("/badges/new", _badge_form(action="save", **extra))
    assert resp.status_code == 200, resp.text[:2000]
    match = re.search(r"/studio/badges/([0-9a-f]+)\?", resp.url)
    assert match, resp.url
    return match.group(1)


def test_teacher_lands_on_the_studio_with_the_course_items(world):
    t = world["teacher"]
    assert "/studio/" in t.landing.url and "teacher (design and award)" in t.landing.text
    assert 'id="sync-now"' in t.landing.text and 'id="new-badge"' in t.landing.text
    form = t.get("/badges/new")
    assert form.status_code == 200
    # The builder offers the course's real line items (AGS), by label.
    assert '<option value="Quiz 1"' in form.text and '<option value="Lab report"' in form.text
    assert "max 20" in form.text
    # No issuer profile on this platform yet: the form asks for one inline.
    assert 'name="issuer_name"' in form.text


def test_design_preview_save_sync_and_earners(world):
    t, app = world["teacher"], world["app"]
    # Preview before saving: Ana met, Ben close, Chloé and Dan not yet; nothing saved.
    resp = t.post("/badges/new", _badge_form(action="preview"))
    assert resp.status_code == 200, resp.text[:2000]
    rows = _rows(resp.text)
    assert rows == {"ana": "met", "ben": "close", "chloe": "not_yet", "dan": "not_yet"}
    assert "you have 90%" in resp.text and "you have 60%" in resp.text
    # The builder wrote the rule JSON for export and reuse.
    assert "&#34;min_percent&#34;: 80" in resp.text or '"min_percent": 80' in resp.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Badge)) == 0
    # The preview in French explains in French.
    fr = t.post("/badges/new", _badge_form(action="preview"), params={"lang": "fr"})
    assert "vous avez 90" in fr.text and "Presque" in fr.text

    pid = _create(t)
    with app.app_context():
        badge = db.session.scalar(db.select(Badge).filter_by(public_id=pid))
        assert badge.rule == {"grade": {"item": "Quiz 1", "min_percent": 80}}
        assert badge.tags == ["chemistry", "quiz"] and badge.language == "en"
        assert badge.alignments[0]["target_code"] == "CHEM-1"
        assert badge.issuer.platform_id is not None and badge.issuer.name == "Cégep Test"
        assert badge.image.mime_type == "image/png"

    # The index lists it; progress counts come from a read of the course.
    progress = t.get("/progress.json").json()
    assert progress["badges"][pid] == {"earned": 0, "in_progress": 2, "ready": 1}
    assert "Quiz 1 mastery" in t.get("/").text

    # Sync now: a run whose JSON the page polls until done; Ana is awarded.
    started = t.post("/sync", headers={"Accept": "application/json"})
    assert started.status_code == 202, started.text
    status_url = world["tool"].url(started.json()["status_url"])
    deadline = time.monotonic() + 30
    while True:
        run = requests.get(status_url, headers=with_credential(t.token)).json()
        if run["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert run["status"] == "done" and run["awarded"] == 1 and run["percent"] == 100, run
    page = t.get(f"/badges/{pid}")
    assert "Ana Martin" in page.text and "Ben Roy" not in page.text.split('id="earners"')[1]
    assert 'id="stat-issued">1<' in page.text
    assert "Score at least 80% in Quiz 1" in page.text  # evidence summary
    index = t.get("/")
    assert re.search(rf'id="badge-{pid}".*?class="earned">1<', index.text, re.S)
    assert "1 badge awarded" in index.text

    # Without JS: the form POST redirects to the index showing the run.
    plain = t.post("/sync")
    assert plain.status_code == 200 and "run=" in plain.url and 'data-run="' in plain.text


def test_award_by_hand_revoke_import_and_export(world):
    t, app = world["teacher"], world["app"]
    pid = _create(t, **{"c0-type": "", "rule_mode": "builder"})  # given by hand only
    with app.app_context():
        assert db.session.scalar(db.select(Badge.rule).filter_by(public_id=pid)) is None
        tom = db.session.scalar(db.select(Person.id).filter_by(sub="teacher"))
    page = t.get(f"/badges/{pid}")
    assert "Given by hand only." in page.text
    # By email, with evidence.
    resp = t.post(f"/badges/{pid}/award", {"email": "zoe@example.test", "name": "Zoé",
                                           "narrative": "Great lab work",
                                           "evidence_url": "https://lab.example/zoe"})
    assert resp.status_code == 200 and 'id="notice"' in resp.text
    assert "Zoé" in resp.text and "Great lab work" in resp.text
    # By picking a course member (the teacher launched, so is a member).
    resp = t.post(f"/badges/{pid}/award", {"person": str(tom)})
    assert resp.status_code == 200 and "Tom Teacher" in resp.text
    # Twice: refused with a message.
    again = t.post(f"/badges/{pid}/award", {"email": "zoe@example.test"})
    assert again.status_code == 409 and "already holds this badge" in again.text
    # A person id from another course or made up: refused.
    assert t.post(f"/badges/{pid}/award", {"person": "99999"}).status_code == 400
    bad = t.post(f"/badges/{pid}/award", {"email": "not-an-email"})
    assert bad.status_code == 400 and "is not an email address" in bad.text

    # CSV with one bad line: nothing awarded, every problem listed by line.
    bad_csv = "email,name,evidence\nx1@example.test,X One,\nnope,No,\nx2@example.test,,ftp://x\n"
    resp = t.post(f"/badges/{pid}/import",
                  files={"csv": ("awards.csv", bad_csv.encode(), "text/csv")})
    assert resp.status_code == 400
    assert "Nothing was awarded" in resp.text and "line 3" in resp.text and "line 4" in resp.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 2
    good_csv = "Email;Name\nx1@example.test;X One\nx2@example.test;X Two\nzoe@example.test;Z\n"
    resp = t.post(f"/badges/{pid}/import",
                  files={"csv": ("awards.csv", good_csv.encode(), "text/csv")})
    assert resp.status_code == 200, resp.text[:1500]
    assert "2 award(s) made" in resp.text and "zoe@example.test already holds" in resp.text

    # Revoke with a reason; an empty reason is refused.
    with app.app_context():
        zoe = db.session.scalar(db.select(Award).filter_by(recipient_email="zoe@example.test"))
        zoe_id = zoe.public_id
    assert t.post(f"/awards/{zoe_id}/revoke", {"reason": ""}).status_code == 400
    resp = t.post(f"/awards/{zoe_id}/revoke", {"reason": "Awarded by mistake"})
    assert resp.status_code == 200 and 'data-status="revoked"' in resp.text
    assert "Awarded by mistake" in resp.text and 'id="stat-revoked">1<' in resp.text

    # CSV export of earners.
    export = t.get(f"/badges/{pid}/earners.csv")
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    by_email = {r["email"]: r for r in rows}
    assert set(by_email) == {"zoe@example.test", "teacher@example.test", "x1@example.test",
                             "x2@example.test"}
    assert by_email["zoe@example.test"]["status"] == "revoked"
    assert by_email["zoe@example.test"]["revocation_reason"] == "Awarded by mistake"
    assert by_email["x1@example.test"]["source"] == "csv"
    assert by_email["zoe@example.test"]["evidence"].startswith("Great lab work")
    assert by_email["x2@example.test"]["assertion_url"].startswith(world["tool"].url("/ob/"))


def test_french_excel_import_keeps_names_and_evidence(world):
    """A file saved by French Excel (`;`, Windows-1252, quoted values, French column names):
    every award carries its name, evidence and narrative; the earners export opens in
    French Excel (BOM, `;`)."""
    t, app, peer, tool = world["teacher"], world["app"], world["peer"], world["tool"]
    pid = _create(t, **{"c0-type": "", "rule_mode": "builder"})
    data = ('Prénom;Nom;Adresse de courriel;Preuve;Commentaire\r\n'
            'Zoé;Lefèvre;zoe@example.test;https://lab.example/zoe;"Rapport ""très"" soigné"\r\n'
            'Marc;"Roy, fils";marc@example.test;;\r\n').encode("cp1252")
    resp = t.post(f"/badges/{pid}/import", files={"csv": ("notes.csv", data, "text/csv")})
    assert resp.status_code == 200 and "2 award(s) made" in resp.text, resp.text[:1500]
    with app.app_context():
        awards = {a.recipient_email: a for a in db.session.scalars(db.select(Award))}
        assert awards["zoe@example.test"].recipient_name == "Zoé Lefèvre"
        assert awards["zoe@example.test"].evidence["url"] == "https://lab.example/zoe"
        assert awards["zoe@example.test"].evidence["narrative"] == 'Rapport "très" soigné'
        assert awards["marc@example.test"].recipient_name == "Marc Roy, fils"
    # The English page exports with ',' and a BOM; a French launch with ';'.
    english = t.get(f"/badges/{pid}/earners.csv")
    assert english.content.startswith(b"\xef\xbb\xbfname,email,")
    fr = Session(tool, peer.launch(peer.new_browser(), "teacher", "c1", locale="fr-CA"))
    export = fr.get(f"/badges/{pid}/earners.csv")
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbfname;email;")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert {r["email"]: r["name"] for r in rows} == {"zoe@example.test": "Zoé Lefèvre",
                                                      "marc@example.test": "Marc Roy, fils"}


def test_csv_with_a_column_the_tool_does_not_read_awards_nothing(world):
    t, app, peer, tool = world["teacher"], world["app"], world["peer"], world["tool"]
    pid = _create(t, **{"c0-type": "", "rule_mode": "builder"})
    data = "\ufeffEmail;Nom;Groupe\r\nzoe@example.test;Zoé;G1\r\n".encode()
    resp = t.post(f"/badges/{pid}/import", files={"csv": ("a.csv", data, "text/csv")})
    assert resp.status_code == 400 and "Nothing was awarded" in resp.text
    assert "Column 3, “Groupe”, is not one the tool reads" in resp.text
    fr = Session(tool, peer.launch(peer.new_browser(), "teacher", "c1", locale="fr-CA"))
    resp = fr.post(f"/badges/{pid}/import", files={"csv": ("a.csv", data, "text/csv")})
    assert resp.status_code == 400 and "Rien n’a été décerné" in resp.text
    assert "La colonne 3, « Groupe », n’est pas une colonne que l’outil lit" in resp.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Award)) == 0


def test_edit_prerequisites_json_rule_and_pathway(world):
    t, app = world["teacher"], world["app"]
    first = _create(t)
    form = t.get("/badges/new")
    assert f'<option value="{first}"' in form.text  # prerequisite badges offered
    # The platform's issuer profile is offered now; the inline one only as "a new issuer".
    issuer = re.search(r'<select id="issuer" name="issuer">\s*<option value="([0-9a-f]+)"',
                       form.text).group(1)
    second = _create(t, **{"name": "Chemistry path", "issuer": issuer, "c0-type": "badge",
                           "c0-badge": first, "c1-type": "grade", "c1-item": "Lab report",
                           "c1-threshold": "10", "c1-unit": "points", "combine": "at_least",
                           "at_least": "2"})
    with app.app_context():
        issuers = db.session.scalars(db.select(Issuer)).all()
        assert len(issuers) == 1  # the platform's issuer was chosen, not duplicated
        rule = db.session.scalar(db.select(Badge.rule).filter_by(public_id=second))
    assert rule == {"at_least": 2, "of": [{"badge": first},
                                          {"grade": {"item": "Lab report", "min_points": 10}}]}
    index = t.get("/")
    pathway = index.text.split('id="pathway"')[1]
    assert pathway.index("Quiz 1 mastery") < pathway.index("Chemistry path")
    assert "Step 2" in pathway

    # Edit: the builder shows the saved rule; JSON mode saves a nested rule as written.
    edit = t.get(f"/badges/{second}/edit")
    assert edit.status_code == 200 and 'value="at_least" id="combine-at-least" checked' in edit.text
    nested = {"any": [{"all": [{"badge": first}, {"launched": {"resource_link": "rl-1"}}]},
                      {"manual": {}}], "until": "2030-06-30"}
    data = _badge_form(action="save", name="Chemistry path", rule_mode="json",
                       rule_json=json.dumps(nested), image_mode="keep", issuer="")
    resp = t.post(f"/badges/{second}/edit", data)
    assert resp.status_code == 200, resp.text[:2000]
    with app.app_context():
        assert db.session.scalar(db.select(Badge.rule).filter_by(public_id=second)) == nested
    edit = t.get(f"/badges/{second}/edit")
    assert "edit it as JSON" in edit.text
    # A badge cannot need itself.
    data["rule_json"] = json.dumps({"badge": second})
    selfish = t.post(f"/badges/{second}/edit", data)
    assert selfish.status_code == 400 and "its own prerequisite" in selfish.text


def test_bad_input_is_a_400_with_messages(world):
    t, app = world["teacher"], world["app"]
    # An invalid JSON rule: each error with its path.
    bad_rule = {"all": [{"grade": {"item": "Quiz 1", "min_percent": 180}},
                        {"nope": {}}]}
    resp = t.post("/badges/new", _badge_form(action="save", rule_mode="json",
                                             rule_json=json.dumps(bad_rule)))
    assert resp.status_code == 400
    assert "all[0].grade.min_percent" in resp.text and "all[1].nope" in resp.text
    assert 'aria-invalid="true" aria-describedby="err-rule_json"' in resp.text
    # Builder errors point at their fields; missing text fields are named.
    resp = t.post("/badges/new", _badge_form(action="save", name="", **{"c0-threshold": "x"}))
    assert resp.status_code == 400
    assert 'href="#c0-threshold"' in resp.text and "Name is required" in resp.text
    # A rejected image says why.
    resp = t.post("/badges/new", _badge_form(action="save", image_mode="upload"),
                  files={"image": ("evil.png", b"GIF89a not really a png", "image/png")})
    assert resp.status_code == 400 and "The image was refused" in resp.text
    # An inline issuer with a bad email, and a past expiry date.
    resp = t.post("/badges/new", _badge_form(action="save", issuer_email="nope",
                                             expiry_mode="date", expires_on="2001-01-01"))
    assert resp.status_code == 400 and "must be in the future" in resp.text
    resp = t.post("/badges/new", _badge_form(action="save", issuer_email="nope"))
    assert resp.status_code == 400 and "not a valid email address" in resp.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Badge)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Issuer)) == 0
    # The JSON preview endpoint returns errors by field.
    resp = t.post("/preview", {"rule_mode": "json", "rule_json": "{"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "rule_json"
    ok = t.post("/preview", {"rule_mode": "builder", "c0-type": "grade", "c0-item": "Quiz 1",
                             "c0-threshold": "30", "c0-unit": "percent", "combine": "all"})
    assert ok.status_code == 200
    assert ok.json()["counts"] == {"met": 2, "close": 1, "not_yet": 1, "unknown": 0}
    assert 'id="preview-table"' in ok.json()["html"]
    # An uploaded image is kept, and previewed, across a preview.
    from lti_badges.openbadges.images import generate_badge_png

    png = generate_badge_png("Up", "red", "circle")
    resp = t.post("/badges/new", _badge_form(action="preview", image_mode="upload"),
                  files={"image": ("up.png", png, "image/png")})
    assert resp.status_code == 200 and 'id="image-preview"' in resp.text
    assert re.search(r'name="image_ref" value="[0-9a-f]+"', resp.text)


def test_csrf_and_roles(world):
    t, peer, tool = world["teacher"], world["peer"], world["tool"]
    pid = _create(t)
    # CSRF: missing or foreign tokens are refused on every form.
    for path, data in (("/badges/new", _badge_form(action="save")),
                       (f"/badges/{pid}/award", {"email": "a@example.test"}), ("/sync", {})):
        assert t.post(path, data, csrf=None).status_code == 400
        assert "CSRF" in t.post(path, data, csrf="0" * 64).text

    # The TA sees the index and the earners, read-only.
    ta = Session(tool, peer.launch(peer.new_browser(), "ta", "c1"))
    assert "/studio/" in ta.landing.url and "teaching assistant (view)" in ta.landing.text
    assert 'id="sync-now"' not in ta.landing.text and 'id="new-badge"' not in ta.landing.text
    page = ta.get(f"/badges/{pid}")
    assert page.status_code == 200 and 'id="award-form"' not in page.text
    assert 'id="edit-badge"' not in page.text
    assert ta.get(f"/badges/{pid}/earners.csv").status_code == 200
    # Even with its own valid CSRF token (from the page's meta tag), the TA changes nothing.
    ta.csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', ta.landing.text).group(1)
    for path in ("/sync", f"/badges/{pid}/award", "/badges/new", "/preview"):
        assert ta.post(path, {"email": "a@example.test"}).status_code == 403, path
    assert ta.get("/badges/new").status_code == 403
    assert ta.get(f"/badges/{pid}/edit").status_code == 403

    # Learners: 403 everywhere in the studio.
    learner = peer.launch(peer.new_browser(), "ana", "c1")
    token = launch_token(learner)
    for path in ("/", "/progress.json", f"/badges/{pid}", f"/badges/{pid}/earners.csv",
                 "/badges/new"):
        resp = requests.get(t.url(path), headers=with_credential(token))
        assert resp.status_code == 403, path
    # No token at all: 401; a sync run of another course: 404.
    assert requests.get(t.url("/")).status_code == 401
    assert t.get("/sync/424242").status_code == 404
    assert t.get("/badges/not-a-badge").status_code == 404
