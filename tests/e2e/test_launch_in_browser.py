"""Real launches in Chromium, in the LMS iframe and in a new window, with accessibility checks."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_accessible, tool_frame, wait_for_tool_page


@pytest.mark.parametrize("user", ["teacher", "learner"])
def test_launch_in_the_lms_iframe(registered, page, shots, user):
    peer = registered.peer
    hint = peer.prepare_launch(user, "c1")
    page.goto(peer.lms_page_url(hint))
    frame = tool_frame(page)
    frame.wait_for_load_state()
    assert "/course/" in frame.url
    assert "Biologie 101" in frame.content()
    shots(page, f"{user}-in-iframe")
    assert_accessible(frame, f"{user} course page")


def test_launch_in_a_new_window_in_french(registered, page, shots):
    peer = registered.peer
    hint = peer.prepare_launch("teacher", "c1", locale="fr-CA", document_target="window")
    page.goto(peer.start_url(hint))
    page.wait_for_url("**/course/**")
    wait_for_tool_page(page)
    assert page.locator("html").get_attribute("lang") == "fr"
    shots(page, "teacher-new-window-fr")
    assert_accessible(page, "teacher page, French")


def test_error_page_is_readable(registered, page, shots):
    peer = registered.peer
    hint = peer.prepare_launch("learner", "c1", tamper={"exp_offset": -3600})
    page.goto(peer.lms_page_url(hint))
    frame = tool_frame(page)
    frame.wait_for_selector("#error-message")
    assert "expired" in frame.inner_text("#error-message")
    assert frame.inner_text("#request-id")
    shots(page, "expired-launch")
    assert_accessible(frame, "error page")


def test_tool_asks_the_lms_to_size_its_frame(registered, page):
    """The page posts lti.frameResize with its height to the LMS page around it."""
    peer = registered.peer
    page.goto(peer.lms_page_url(peer.prepare_launch("teacher", "c1")))
    page.evaluate("""() => { window.__resize = []; window.addEventListener('message',
        e => { if (e.data && e.data.subject === 'lti.frameResize') window.__resize.push(e.data); });
    }""")
    frame = tool_frame(page)
    frame.evaluate("location.reload()")
    page.wait_for_function("() => window.__resize.length > 0")
    assert page.evaluate("() => window.__resize[0].height") > 100
