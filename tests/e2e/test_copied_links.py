"""A copied link is never a session, in real Chromium.

The studio and learner addresses a launch shows carry no credential: opened in another
browser (a new context, no cookies, no page state) or another tab, they show a page that
says to open the tool from the course and no data. Inside the LMS iframe, with no cookie
reaching the tool after the launch, navigation, forms and Sync now work (the page
credential travels in sessionStorage and headers), the credential renews while the page is
used, and only the registered platform's pages may frame the tool.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from flask import Flask

from tests.e2e.conftest import SHOWN, assert_accessible, tool_frame, wait_for_tool_page
from tests.support.servers import ServerThread, free_port


def _launch_in_iframe(page, peer, user):
    page.goto(peer.lms_page_url(peer.prepare_launch(user, "c1")))
    frame = tool_frame(page)
    wait_for_tool_page(frame)
    return frame


def _refused_elsewhere(chromium, url, shots, label):
    """``url`` opened in a fresh browser (context): the loader says where to go, no data."""
    context = chromium.new_context(locale="en-US")
    try:
        page = context.new_page()
        answer = page.goto(url)
        assert answer.status == 401
        page.locator("#open-from-course").wait_for()
        shots(page, f"{label}-copied-link")
        body = page.inner_text("body")
        assert "Open the tool from your course" in body
        assert "Biologie 101" not in body and "Léa" not in body
        assert answer.headers["cache-control"] == "no-store"
        assert_accessible(page, f"{label} opened elsewhere")
    finally:
        context.close()


def test_copied_studio_and_learner_addresses_give_no_access(registered, chromium, page, shots):
    peer = registered.peer
    peer.add_line_item("c1", "Quiz 1", 10)
    for user, label in (("teacher", "studio"), ("learner", "learner")):
        frame = _launch_in_iframe(page, peer, user)
        assert "Biologie 101" in frame.content()
        url = frame.url
        assert "lt=" not in url and "credential" not in url
        assert frame.evaluate("() => !!window.ltiBadges.credential()")
        _refused_elsewhere(chromium, url, shots, label)
        # Another tab of the same browser has its own (empty) page state.
        tab = page.context.new_page()
        answer = tab.goto(url)
        tab.locator("#open-from-course").wait_for()
        assert answer.status == 401 and "Biologie 101" not in tab.inner_text("body")
        tab.close()


def test_iframe_without_cookies_navigation_forms_and_sync_work(registered, browser_context,
                                                               shots, tool):
    """After the launch, no cookie reaches the tool (as when the browser blocks the iframe's
    cookies); the tool keeps working on its page credential alone."""
    peer = registered.peer
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    peer.set_result(quiz["id"], "learner", 9, 10)
    tool_origin = tool.url("")
    cookies_set: list[str] = []

    def no_cookies(route, request):
        path = urlsplit(request.url).path
        headers = dict(request.headers)
        if path != "/lti/launch":  # the launch's own state check keeps its cookie
            headers.pop("cookie", None)
        answer = route.fetch(headers=headers)
        if "set-cookie" in {k.lower() for k in answer.headers}:
            cookies_set.append(path)
        out = {k: v for k, v in answer.headers.items()
               if k.lower() != "set-cookie" or path == "/lti/login"}
        route.fulfill(response=answer, headers=out)

    browser_context.route(re.compile(re.escape(tool_origin) + ".*"), no_cookies)
    page = browser_context.new_page()
    frame = _launch_in_iframe(page, peer, "teacher")
    shots(page, "studio-in-iframe")

    # Navigation: a plain link, to a page that lists the roster.
    frame.click("text=People")
    frame.wait_for_url("**/people")
    wait_for_tool_page(frame)
    assert "Léa Apprenante" in frame.inner_text("main")
    # A form: the course settings, saved.
    frame.click("text=Settings")
    frame.wait_for_url("**/settings")
    wait_for_tool_page(frame)
    frame.select_option("#language", "fr")
    frame.click("button[type=submit]")
    frame.locator("#saved").wait_for()
    shots(page, "settings-saved-in-iframe")
    # Back (the form's page again, loaded anew: nothing is kept in the cache), then Sync now
    # (a script's POST, then polling, all with the credential header).
    frame.evaluate("history.back()")
    frame.wait_for_url("**/settings")
    wait_for_tool_page(frame)
    assert frame.locator("#language").count() == 1
    frame.goto(frame.url.rsplit("/settings", 1)[0] + "/studio/")
    wait_for_tool_page(frame)
    frame.click("#sync-now")
    frame.wait_for_function(
        "() => /Done|Terminé/.test(document.getElementById('sync-message').textContent)")
    shots(page, "synced-in-iframe")
    assert "lt=" not in frame.url
    # The tool set no cookie but the login's state (and the launch's deletion of it).
    assert set(cookies_set) <= {"/lti/login", "/lti/launch"}, cookies_set


def test_the_credential_renews_while_the_page_is_used(registered, app, page):
    app.config["PAGE_CREDENTIAL_TTL_SECONDS"] = 6
    try:
        frame = _launch_in_iframe(page, registered.peer, "teacher")
        first = frame.evaluate("() => window.ltiBadges.credential()")
        time.sleep(2.5)
        frame.click("main")  # in use
        frame.evaluate("() => window.ltiBadges.renewIfDue()")
        frame.wait_for_function(f"() => window.ltiBadges.credential() !== {first!r}")
        time.sleep(5)  # the launch's first credential has now ended; the renewed one has not
        status = frame.evaluate("""(old) => fetch(location.href, {headers:
            {'X-Launch-Credential': old}}).then(r => r.status)""", first)
        assert status == 401
        frame.evaluate("() => location.reload()")
        wait_for_tool_page(frame)
        assert "Biologie 101" in frame.content()
    finally:
        app.config["PAGE_CREDENTIAL_TTL_SECONDS"] = 900


def test_only_registered_platforms_may_frame_the_tool(registered, tool, page):
    """A page on an origin no platform has is refused the frame (CSP frame-ancestors)."""
    port = free_port()
    other = Flask("elsewhere")
    target = tool.url("/verify")

    @other.get("/")
    def embed():
        return f'<!doctype html><title>x</title><iframe id="t" src="{target}"></iframe>'

    server = ServerThread(other, port).start()
    try:
        page.goto(f"http://localhost:{port}/")
        page.wait_for_timeout(1500)
        framed = next(f for f in page.frames if f.parent_frame is not None)
        assert framed.url.startswith("chrome-error://") or not framed.locator(SHOWN).count()
        # The platform's LMS page frames it.
        frame = _launch_in_iframe(page, registered.peer, "learner")
        assert "Biologie 101" in frame.content()
    finally:
        server.stop()


def test_where_session_storage_is_refused_the_page_keeps_it_in_memory(registered, chromium,
                                                                       shots):
    """Some browsers refuse storage to a third-party iframe: the credential then lives in the
    page's memory and links and forms load in place (the address still carries nothing)."""
    context = chromium.new_context(locale="en-US")
    context.add_init_script("""Object.defineProperty(window, 'sessionStorage', {
        get() { throw new DOMException('storage refused', 'SecurityError'); } });""")
    try:
        page = context.new_page()
        page.goto(registered.peer.lms_page_url(registered.peer.prepare_launch("teacher", "c1")))
        frame = tool_frame(page)
        wait_for_tool_page(frame)
        assert "Biologie 101" in frame.content()
        frame.click("text=People")
        frame.wait_for_function("() => location.pathname.endsWith('/people') && "
                                "document.body.innerText.includes('Léa Apprenante')")
        frame.click("text=Settings")
        frame.wait_for_function("() => !!document.getElementById('language')")
        frame.click("button[type=submit]")
        frame.locator("#saved").wait_for()
        shots(page, "memory-only-settings-saved")
        assert "lt=" not in frame.url
    finally:
        context.close()
