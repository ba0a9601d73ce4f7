"""Third-party cookies blocked (Chromium's third-party-cookie phase-out mode), the tool
served from another site than the LMS: the login page notices inside the iframe that it
cannot keep its cookie and offers a new window, where the launch completes — with the
state and nonce checks unchanged."""

from __future__ import annotations

import pytest

from lti_badges import create_app
from lti_badges.extensions import db
from lti_badges.models import Deployment, Platform
from tests.conftest import _base_config
from tests.e2e.conftest import ARGS, CHROMIUM, wait_for_tool_page
from tests.peer import PlatformPeer
from tests.support.servers import ServerThread, free_port


@pytest.fixture
def cross_site(tmp_path, database_url):
    """The tool at http://localhost:P (another site than the LMS at 127.0.0.1)."""
    port = free_port()
    app = create_app(_base_config(tmp_path, database_url, f"http://localhost:{port}"),
                     instance_path=str(tmp_path / "instance"))
    server = ServerThread(app, port).start()
    with PlatformPeer(name="X") as peer:
        base = f"http://localhost:{port}"
        peer.register_tool("tool-x", ["d1"], base + "/lti/login", base + "/lti/launch",
                           base + "/lti/jwks")
        with app.app_context():
            from lti_badges.lti import keys

            keys.ensure_key(app.config["SECRET_KEY"])
            platform = Platform(issuer=peer.issuer, client_id="tool-x", status="active",
                                auth_login_url=peer.auth_login_url, token_url=peer.token_url,
                                jwks_url=peer.jwks_url)
            platform.deployments.append(Deployment(deployment_id="d1"))
            db.session.add(platform)
            db.session.commit()
        peer.add_course("c1", title="Biologie 101")
        peer.add_user("lea", name="Léa", email="lea@example.test")
        peer.enroll("c1", "lea", roles=["Learner"])
        peer.add_user("tom", name="Tom", email="tom@example.test")
        peer.enroll("c1", "tom", roles=["Instructor"])
        yield peer
    server.stop()


def _blocked_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=[*ARGS, "--test-third-party-cookie-phaseout"])


def _new_window_from_the_blocked_iframe(browser, peer, user, shots):
    """The LMS page's iframe offers a new window (its cookie check fails); open it."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(peer.lms_page_url(peer.prepare_launch(user, "c1")))
    frame = page.frame_locator("#tool")
    frame.locator("#blocked").wait_for(state="visible")
    shots(page, f"cookies-blocked-in-iframe-{user}")
    with context.expect_page() as popup_info:
        frame.locator("#blocked a").click()
    window = popup_info.value
    window.wait_for_url("**/course/**")
    wait_for_tool_page(window)
    return window


def test_blocked_third_party_cookies_fall_back_to_a_new_window(cross_site, shots, playwright):
    browser = _blocked_browser(playwright)
    try:
        window = _new_window_from_the_blocked_iframe(browser, cross_site, "lea", shots)
        shots(window, "launched-in-new-window")
        assert "Biologie 101" in window.content()
    finally:
        browser.close()


def test_blocked_cookies_new_window_keeps_navigation_forms_and_sync(cross_site, shots,
                                                                    playwright):
    """The teacher's new window (opened from the blocked iframe) works on the page credential:
    links, a form, and Sync now."""
    browser = _blocked_browser(playwright)
    try:
        window = _new_window_from_the_blocked_iframe(browser, cross_site, "tom", shots)
        assert "/studio/" in window.url and "lt=" not in window.url
        window.click("text=People")
        window.wait_for_url("**/people")
        wait_for_tool_page(window)
        assert "Léa" in window.inner_text("main")
        window.click("text=Settings")
        window.wait_for_url("**/settings")
        wait_for_tool_page(window)
        window.click("button[type=submit]")
        window.locator("#saved").wait_for()
        window.goto(window.url.rsplit("/settings", 1)[0] + "/studio/")
        wait_for_tool_page(window)
        window.click("#sync-now")
        window.wait_for_function(
            "() => /Done/.test(document.getElementById('sync-message').textContent)")
        shots(window, "synced-in-new-window")
    finally:
        browser.close()
