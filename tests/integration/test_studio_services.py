"""The studio's helpers without HTTP: the flat criteria builder and rule JSON round trip, the
award CSV parser (every line checked first), pathway tiers, CSV-injection-safe export."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lti_badges import criteria
from lti_badges.services import studio as svc


def _form(**values: str) -> dict[str, str]:
    return {"combine": "all", "at_least": "1", **values}


@pytest.mark.parametrize("rule", [
    {"grade": {"item": "Quiz 1", "min_percent": 80}},
    {"grade": {"item": "Quiz 1", "min_points": 7.5}, "from": "2026-01-01", "until": "2026-06-30"},
    {"all": [{"completed": {"activity": "moodle:cm:12"}}, {"course_completed": {}}]},
    {"any": [{"launched": {"resource_link": "rl-1"}}, {"manual": {}}]},
    {"at_least": 2, "of": [{"badge": "abc"}, {"grade": {"item": "Lab", "min_percent": 50}},
                           {"completed": {"activity": "Essay"}, "until": "2026-05-01"}]},
])
def test_builder_round_trips_flat_rules(rule):
    builder = svc.builder_from_rule(rule)
    assert builder is not None
    fields = {"combine": builder.combine, "at_least": builder.at_least,
              "rule_from": builder.from_, "rule_until": builder.until}
    for i, c in enumerate(builder.conditions):
        fields.update({f"c{i}-type": c.type, f"c{i}-item": c.item, f"c{i}-threshold": c.threshold,
                       f"c{i}-unit": c.unit, f"c{i}-link": c.link, f"c{i}-badge": c.badge,
                       f"c{i}-from": c.from_, f"c{i}-until": c.until})
    again, errors = svc.rule_from_builder(svc.builder_from_form(fields))
    assert errors == [] and again == rule
    assert criteria.validate(again) == []


def test_nested_rules_are_left_to_the_json():
    assert svc.builder_from_rule({"any": [{"all": [{"manual": {}}]}]}) is None
    assert svc.builder_from_rule(None).conditions == []


def test_builder_errors_name_their_fields():
    rule, errors = svc.rule_from_builder(svc.builder_from_form(_form(**{
        "c0-type": "grade", "c0-item": "", "c0-threshold": "80",
        "c1-type": "grade", "c1-item": "Q", "c1-threshold": "150", "c1-unit": "percent",
        "c2-type": "badge", "c3-type": "launched"})))
    assert rule is None
    assert [e.field for e in errors] == ["c0-item", "c1-threshold", "c2-badge", "c3-link"]
    rule, errors = svc.rule_from_builder(svc.builder_from_form(_form(**{
        "combine": "at_least", "at_least": "3", "c0-type": "manual", "c1-type": "manual"})))
    assert rule is None and errors[0].field == "at_least"
    # Nothing chosen: no rule (given by hand), no error.
    assert svc.rule_from_builder(svc.builder_from_form(_form())) == (None, [])


def test_award_csv_checks_every_line_first():
    rows, errors = svc.parse_award_csv(
        "\ufeffEmail,Name,Evidence\na@x.org,A,https://e.org/a\n\n b@x.org ,,\n".encode())
    assert errors == [] and [(r.line, r.email, r.name, r.evidence_url) for r in rows] == [
        (2, "a@x.org", "A", "https://e.org/a"), (4, "b@x.org", None, None)]
    rows, errors = svc.parse_award_csv(b"email;name\na@x.org;A\nA@x.org;B\nbad;C\n;D\n")
    assert len(errors) == 3
    assert "line 3" in errors[0] and "line 2" in errors[0]  # a duplicate names its first line
    assert "line 4" in errors[1] and "line 5" in errors[2]
    assert svc.parse_award_csv(b"name\nA\n")[1][0].startswith("The first line must name")
    # Windows-1252 (French Excel's "CSV (séparateur : point-virgule)") is read, not refused.
    assert svc.parse_award_csv("email\né@x.org\n".encode("cp1252"))[0][0].email == "é@x.org"
    assert svc.parse_award_csv(b"")[1] == ["The file is empty."]
    assert svc.parse_award_csv(b"email\n\n")[1] == ["The file has no rows to award."]
    assert "evidence" in svc.parse_award_csv(b"email,evidence\na@x.org,javascript:x\n")[1][0]


def test_pathway_tiers_and_cycles():
    def badge(pid, rule=None):
        return SimpleNamespace(public_id=pid, name=pid.upper(), rule=rule, id=hash(pid))

    a, b = badge("a"), badge("b", {"badge": "a"})
    c = badge("c", {"all": [{"badge": "b"}, {"badge": "zzz"}]})
    loop1, loop2 = badge("x", {"badge": "y"}), badge("y", {"badge": "x"})
    tiers = svc.pathway([c, b, a, loop1, loop2])
    names = [[s.badge.public_id for s in tier] for tier in tiers]
    assert names[0][0] == "a" and "b" in names[1] and "c" in names[2]
    step_c = next(s for s in tiers[2] if s.badge is c)
    assert step_c.missing == ("zzz",) and step_c.requires == (b,)
    assert svc.pathway([a, badge("d")]) == []  # no badge needs another: nothing to show


def test_export_cells_cannot_run_as_formulas():
    assert svc._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert svc._cell("@SUM(A1)") == "'@SUM(A1)" and svc._cell("Ana") == "Ana"


def test_studio_assets_are_served(client):
    assert client.get("/static/studio.js").status_code == 200
    assert client.get("/static/studio.css").status_code == 200
