"""The studio's sync panel tells the truth in a real browser: after "Sync now" finishes, the
"Last sync" line says so (finished, badges awarded) without a reload, instead of "The
course has not been synced yet" under "Done: 1 badge awarded"."""

from __future__ import annotations

from tests.e2e.conftest import assert_accessible
from tests.support.cli import cli_json


def test_the_last_sync_line_follows_the_run(registered, browser_context, shots, tool, runner,
                                            app):
    peer = registered.peer
    quiz = peer.add_line_item("c1", "Quiz 1", 10)
    peer.set_result(quiz["id"], "learner", 9, 10)
    page = browser_context.new_page()
    page.goto(peer.start_url(peer.prepare_launch("teacher", "c1", document_target="window")))
    page.wait_for_url("**/studio/**")
    from lti_badges.extensions import db
    from lti_badges.models import Course

    with app.app_context():
        cid = db.session.scalar(db.select(Course.id).filter_by(context_id="c1"))
    issuer = cli_json(runner.invoke(args=["issuers", "add", "--name", "Cégep", "--url",
                                       "https://cegep.example", "--email", "b@cegep.example",
                                       "--json"]))
    cli_json(runner.invoke(args=[
        "badges", "add", "--issuer", issuer["id"], "--name", "Quiz 1 ≥ 80 %", "--description",
        "d", "--criteria-text", "c", "--course", str(cid),
        "--rule", '{"grade": {"item": "Quiz 1", "min_percent": 80}}', "--json"]))
    page.reload()
    last = page.locator("#last-sync")
    assert "not been synced yet" in last.inner_text()
    page.click("#sync-now")
    page.wait_for_function(
        "() => /Done/.test(document.getElementById('sync-message').textContent)")
    shots(page, "sync-done")
    text = last.inner_text()
    assert "not been synced yet" not in text, text
    assert "finished" in text and "1 badge awarded" in text, text
    assert page.locator("#last-sync-status").inner_text() == "finished"
    assert_accessible(page, "studio after a sync")
