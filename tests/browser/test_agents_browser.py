"""The API keys page in chromium: reached from the menu by a client's admin, a new key and the setup
lines a developer pastes copied with their buttons; screenshots (1280x900 and 375 px, light and
dark) left in test-artifacts/screenshots/agents/ to be looked at (not compared)."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from memories.models import Membership
from tests.support.browsers import PHONE, SCREENSHOTS, TIMEOUT_MS, WIDE

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "agents"


@pytest.fixture
def open_page(browser, live_server, client_db, user):
    Membership.objects.filter(user=user, client=client_db).update(role=Membership.ADMIN)
    web = Client()
    web.force_login(user)
    contexts = []

    def make(viewport=WIDE, scheme="light"):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, color_scheme=scheme,
                                      is_mobile=viewport["width"] < 500,
                                      permissions=["clipboard-read", "clipboard-write"])
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([{"name": "sessionid", "value": web.cookies["sessionid"].value,
                              "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _create(page, name):
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key")).to_contain_text("mg_")


def test_an_admin_finds_the_keys_page_and_copies_the_setup_lines(open_page, live_server):
    page = open_page()
    page.goto("/c/acme/memories/")
    page.locator("details.account > summary").click()  # under the user's name, with Jobs
    page.get_by_role("link", name="API keys of Acme").click()
    expect(page.get_by_role("heading", name="API keys of Acme")).to_be_visible()
    _create(page, "alice laptop")
    raw = page.locator("#new-key").inner_text().strip()
    created = page.locator(".created-key")
    created.get_by_role("button", name="Copy key").click()
    expect(created.locator("[data-copy-status]").first).to_have_text("Copied the key.")
    assert page.evaluate("navigator.clipboard.readText()") == raw
    created.get_by_role("button", name="Copy endpoint command").click()
    expect(created.locator("[data-copy-status]").last).to_have_text("Copied the endpoint command.")
    assert page.evaluate("navigator.clipboard.readText()") == (
        f"claude mcp add --transport http team-kb {live_server.url}/c/acme/mcp/ "
        f"--header 'Authorization: Bearer {raw}'")
    created.get_by_role("button", name="Copy command").click()
    command = page.evaluate("navigator.clipboard.readText()")
    assert command.startswith("claude mcp add memorygraph -e MEMORY_BACKEND=cloud ")
    assert f"-e MEMORYGRAPH_API_KEY={raw} -- memorygraph" in command
    created.get_by_role("button", name="Copy JSON").click()
    assert f'"MEMORYGRAPH_API_KEY": "{raw}"' in page.evaluate("navigator.clipboard.readText()")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_keys_page(open_page, scheme):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("1280", WIDE), ("375", PHONE)):
        page = open_page(viewport, scheme)
        page.goto("/c/acme/keys/")
        _create(page, f"agent {size} {scheme}")
        # Nothing widens the page: the keys table and the JSON scroll in their own boxes.
        wide = page.evaluate("""() =>
            document.documentElement.scrollWidth > document.documentElement.clientWidth
            && [...document.querySelectorAll('main *')].filter((e) => !e.closest('pre, .keys-scroll')
                && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map((e) => e.tagName + ' ' + e.textContent.slice(0, 40))""")
        assert not wide, wide
        page.screenshot(path=str(SHOTS / f"keys-created-{size}-{scheme}.png"), full_page=True)
        page.goto("/c/acme/keys/")
        page.screenshot(path=str(SHOTS / f"keys-{size}-{scheme}.png"), full_page=True)
