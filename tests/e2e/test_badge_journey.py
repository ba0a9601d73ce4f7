"""The whole journey in a real browser, through real launches from the platform peer:
a designer creates a badge with a rule and attaches it through deep linking; scores
arrive; a learner launches, sees progress, earns, accepts and downloads the baked image,
which the 1EdTech OB 2.0 validator accepts; the teacher revokes it and the public page
says revoked. Every page visited is screenshotted and checked with axe-core."""

from __future__ import annotations

import json

import requests

from tests.e2e.conftest import assert_accessible, wait_for_tool_page
from tests.verifiers.ob2_validator import validate_ob2

RULE = {"grade": {"item": "Quiz 1", "min_percent": 80}}


def test_designer_to_learner_to_revocation(registered, browser_context, shots, tool):
    peer = registered.peer
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    peer.set_result(quiz["id"], "learner", 6, 10)
    page = browser_context.new_page()

    # 1. The designer opens the tool in a new window and creates a badge with a rule.
    page.goto(peer.start_url(peer.prepare_launch("designer", "c1", document_target="window")))
    page.wait_for_url("**/studio/**")
    wait_for_tool_page(page)
    shots(page, "studio-empty")
    assert_accessible(page, "studio index")
    # An address typed in the same tab: its page state (sessionStorage) still holds the
    # credential, so the loader opens it (tests/e2e/test_copied_links.py: another tab cannot).
    page.goto(page.url.split("/studio/")[0] + "/studio/badges/new")
    wait_for_tool_page(page)
    page.fill("#name", "Sécurité au labo")
    page.fill("#description", "Réussir le quiz de sécurité.")
    page.fill("#criteria_text", "Obtenir au moins 80 % au quiz 1.")
    if page.locator("#issuer_name").count() and page.locator("#issuer_name").is_visible():
        page.fill("#issuer_name", "Cégep Exemple")
        page.fill("#issuer_url", "https://cegep.example")
        page.fill("#issuer_email", "badges@cegep.example")
    page.check("#rule-mode-json")
    page.fill("#rule_json", json.dumps(RULE))
    shots(page, "badge-form")
    assert_accessible(page, "badge form")
    page.click("#save")
    page.wait_for_url("**notice=saved**")
    wait_for_tool_page(page)
    shots(page, "badge-saved")
    assert "Sécurité au labo" in page.content()
    assert_accessible(page, "badge page")
    assert "lt=" not in page.url
    course_base = page.url.split("/studio/")[0]
    for path, label in (("/people", "people"), ("/settings", "course settings")):
        page.goto(f"{course_base}{path}")
        wait_for_tool_page(page)
        shots(page, label.replace(" ", "-"))
        assert_accessible(page, label)

    # 2. The designer attaches it to the course with deep linking.
    page.goto(peer.start_url(peer.prepare_launch("designer", "c1",
                                                 message_type="LtiDeepLinkingRequest",
                                                 document_target="window")))
    page.wait_for_selector("#deep-link-form")
    shots(page, "deep-link-picker")
    assert_accessible(page, "deep-link picker")
    page.locator("input[name=badge]").first.check()
    page.click("#deep-link-submit")
    page.wait_for_selector("text=Received 1 content item")
    link_id = peer.deep_link_responses[-1]["created"][0]["resource_link_id"]

    # 3. Scores arrive; the learner opens the badge's activity in the LMS iframe.
    peer.set_result(quiz["id"], "learner", 9, 10)
    page.goto(peer.lms_page_url(peer.prepare_launch("learner", "c1", link_id)))
    frame = page.frame_locator("#tool")
    frame.locator("#earned").wait_for()
    tool_frame = next(f for f in page.frames if f.parent_frame is not None)
    # The launch queued the learner's sync; the page shows the badge once it is issued.
    for _ in range(40):
        if tool_frame.locator("#earned li.award").count():
            break
        page.wait_for_timeout(500)
        tool_frame.evaluate("location.reload()")  # the URL ends in #badge-…: goto would not
        wait_for_tool_page(tool_frame)
    shots(page, "learner-earned")
    assert_accessible(tool_frame, "learner page")
    card = tool_frame.locator("#earned li.award").first
    award_id = card.get_attribute("data-award")
    tool_frame.click(f"#claim-{award_id}")
    tool_frame.locator(f"#download-image-{award_id}").wait_for()
    shots(page, "learner-claimed")
    href = tool_frame.get_attribute(f"#download-image-{award_id}", "href")
    with page.expect_download() as download:
        tool_frame.click(f"#download-image-{award_id}")
    baked = open(download.value.path(), "rb").read()
    assert baked[:8] == b"\x89PNG\r\n\x1a\n" and href.endswith(".png")
    report = validate_ob2(baked, "lea@example.test")
    assert report["valid"], report["messages"]

    # 4. The teacher revokes it; the public page says so.
    page.goto(peer.start_url(peer.prepare_launch("teacher", "c1", document_target="window")))
    page.wait_for_url("**/studio/**")
    wait_for_tool_page(page)
    page.click("text=Sécurité au labo")
    page.locator(f"#award-{award_id} details summary").click()
    page.fill(f"#reason-{award_id}", "Erreur de saisie")
    page.locator(f"#award-{award_id} button[type=submit]").click()
    page.wait_for_url("**notice=revoked**")
    wait_for_tool_page(page)
    shots(page, "teacher-revoked")
    public = tool.url(f"/ob/assertions/{award_id}")
    page.goto(public)
    shots(page, "public-revoked")
    assert_accessible(page, "public award page")
    assert "Revoked" in page.inner_text("#award-status")
    assert requests.get(public, headers={"Accept": "application/ld+json"}).status_code == 410
