"""Browser tests in headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Every test saves screenshots of the pages it visits under test-artifacts/screenshots/,
and ``assert_accessible`` runs axe-core in the page: no serious or critical violation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, sync_playwright

from tests.integration.conftest import peer, peer_b, registered  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "tests" / "e2e" / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def playwright():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: scripts/test installs it (apt-get install "
                    "chromium chromium-driver)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield browser
    browser.close()


class Shots:
    def __init__(self, test_name: str):
        self.dir = SHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, page: Page, name: str) -> Path:
        self.n += 1
        path = self.dir / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request) -> Shots:
    return Shots(request.node.name)


@pytest.fixture
def browser_context(chromium):
    context = chromium.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context) -> Page:
    return browser_context.new_page()


def assert_accessible(target: Page | Frame, label: str = "") -> None:
    """axe-core in the page or frame: no serious or critical violation."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run tests/verifiers/install-axe.sh (scripts/test does)")
    target.add_script_tag(path=str(AXE))
    result = target.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5]}
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{label}: " + json.dumps(bad, indent=1)


SESSION_PAGE = 'meta[name="lti-badges-session"]'
SHOWN = "main:not(:has(#checking))"  # not the loader (nor the login's cookie check)


def wait_for_tool_page(target: Page | Frame) -> None:
    """Until a page of the launch is shown: the address first answers a loader without data,
    which static/launch.js replaces with the page fetched with the credential."""
    target.wait_for_selector(SESSION_PAGE, state="attached")
    target.wait_for_selector(SHOWN)
    target.wait_for_load_state()


def tool_frame(page: Page) -> Frame:
    """The tool's frame inside the LMS page (the peer's /lms/<hint>), once it shows a page
    of the launch or an error (not the loader)."""
    page.wait_for_selector("#tool")
    frame = page.frame_locator("#tool")
    frame.locator(SHOWN).wait_for()
    return next(f for f in page.frames if f.parent_frame is not None)
