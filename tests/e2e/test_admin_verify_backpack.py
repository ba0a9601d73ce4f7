"""Browser tests of the admin console, the /verify page and the learner's backpack flow
(connect in a new window, consent at the backpack, send a badge), each page checked
with axe-core and screenshotted."""

from __future__ import annotations

import json

import pytest

from lti_badges import awarding
from tests.backpack_server import BackpackServer
from tests.e2e.conftest import assert_accessible
from tests.integration.conftest import course  # noqa: F401  (fixture)


def test_admin_console_pages(registered, page, shots):
    peer = registered.peer
    page.goto(peer.start_url(peer.prepare_launch("admin", "c1", document_target="window")))
    page.wait_for_url("**/studio/**")
    page.click("#nav-admin")
    page.wait_for_selector("#platform-summary")
    shots(page, "admin-home")
    assert_accessible(page, "admin home")
    assert registered.peer.issuer in page.inner_text("#platform-issuer")
    for name in ("registrations", "connector", "issuers", "keys", "sync", "health"):
        page.click(f"nav a[href*='/admin/{name}']")
        page.wait_for_load_state()
        shots(page, f"admin-{name}")
        assert_accessible(page, f"admin {name}")


def test_verify_page_with_a_baked_image(app, tool, runner, page, shots, tmp_path):
    out = lambda r: json.loads(r.stdout)  # noqa: E731
    issuer = out(runner.invoke(args=["issuers", "add", "--name", "Cégep", "--url",
                                     "https://c.example", "--email", "b@c.example", "--json"]))
    badge = out(runner.invoke(args=["badges", "add", "--issuer", issuer["id"], "--name",
                                    "Chimie", "--description", "d", "--criteria-text", "c",
                                    "--json"]))
    award = out(runner.invoke(args=["award", "--badge", badge["id"], "--email",
                                    "ana@example.test", "--json"]))
    page.goto(tool.url("/verify"))
    shots(page, "verify-form")
    assert_accessible(page, "verify form")
    png = tmp_path / "badge.png"
    import requests

    png.write_bytes(requests.get(award["assertion_url"] + ".png").content)
    page.set_input_files("#verify-file", str(png))
    page.fill("#verify-email", "ana@example.test")
    page.click("#verify-submit")
    page.wait_for_selector("#verdict-status")
    shots(page, "verify-valid")
    assert_accessible(page, "verify verdict")
    assert "Chimie" in page.inner_text("#display-name")
    assert page.inner_text("#verdict-status").strip().lower().startswith("valid")


@pytest.fixture
def backpack():
    server = BackpackServer()
    server.add_account("l1", "l1@example.test")
    server.consent_account = "l1"
    with server:
        yield server


def test_learner_connects_a_backpack_and_sends_a_badge(app, tool, course, backpack,  # noqa: F811
                                                      browser_context, shots):
    with app.app_context():
        assert awarding.sync_course(course["id"]).awarded
    peer = course["peer"]
    page = browser_context.new_page()
    page.goto(peer.start_url(peer.prepare_launch("l1", "c1", document_target="window")))
    page.wait_for_url("**/learn/**")
    award_id = page.locator("#earned li.award").first.get_attribute("data-award")
    page.click(f"#claim-{award_id}")
    page.wait_for_selector(f"#download-image-{award_id}")
    page.fill("#backpack-address", backpack.base_url)
    with browser_context.expect_page() as popup_info:
        page.click("#connect-backpack button[type=submit]")
    popup = popup_info.value
    popup.wait_for_selector("#backpack-connected")
    shots(popup, "backpack-connected")
    assert_accessible(popup, "backpack connected")
    popup.close()
    page.reload()
    page.select_option(f"#push-{award_id}-to", index=0)
    page.click(f"#push-{award_id} button[type=submit]")
    page.wait_for_selector("#pushes")
    for _ in range(40):
        if "In your backpack" in page.inner_text("#pushes"):
            break
        page.wait_for_timeout(300)
        page.reload()
    shots(page, "learner-pushed")
    assert_accessible(page, "learner page with backpacks")
    assert "In your backpack" in page.inner_text("#pushes")
    assert {**backpack.assertions("l1"), **backpack.credentials("l1")}
