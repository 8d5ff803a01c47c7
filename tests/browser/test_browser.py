"""Browser journeys through the real site: Playwright driving Debian's chromium against live_server.

Opt-in by marker (`-m browser` / `-m "not browser"`); they fail, not skip, without /usr/bin/chromium.
"""
import re

import pytest
from playwright.sync_api import expect

from memories.devdata.demo import demo_graph

pytestmark = pytest.mark.browser

TIMEOUT_MS = 5000


@pytest.fixture
def anonymous(browser, live_server, client_db):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser, live_server, client_db, web):
    """A page in a fresh context, logged in as `user` through the session cookie of the test client."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies(
        [{"name": "sessionid", "value": web.cookies["sessionid"].value, "url": live_server.url}]
    )
    yield context.new_page()
    context.close()


def _mark_document(page):
    """Tag the current document so a later check can tell an htmx swap from a full reload."""
    page.evaluate("window.__marker = 1")


def _expect_same_document(page):
    assert page.evaluate("window.__marker") == 1, "the page fully reloaded instead of swapping a fragment"


def test_login_redirects_and_lands_on_the_list(anonymous, user):
    page = anonymous
    page.goto("/c/acme/memories/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/c/acme/memories/$"))

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw-alice-123")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/c/acme/memories/$"))
    count = len(demo_graph()[0])
    expect(page.locator(".results-head h1")).to_have_text(f"{count} memories")


def test_search_as_you_type(page):
    page.goto("/c/acme/memories/")
    _mark_document(page)
    heading = page.locator(".results-head h1")

    page.locator("#q").press_sequentially("oauth", delay=50)

    expect(heading).to_have_text(re.compile(r"^\d+ results? for “oauth”$"))
    expect(page).to_have_url(re.compile(r"/c/acme/search/\?q=oauth$"))
    expect(page.locator(".memories mark").first).to_have_text(re.compile("oauth", re.I))
    expect(page.locator(".note")).to_have_count(0)
    _expect_same_document(page)

    page.locator("#q").clear()
    page.locator("#q").press_sequentially("terrafrom", delay=50)

    expect(heading).to_have_text(re.compile(r"^\d+ results? for “terrafrom”$"))
    expect(page.locator(".results-head .note")).to_have_text(
        re.compile(r"showing results for terraform\b", re.I)
    )
    expect(page.locator(".memories mark").first).to_have_text(re.compile("terraform", re.I))
    _expect_same_document(page)


def test_add_and_remove_a_tag_inline(page):
    tag = "browser-journey"
    chip = page.locator("#tags .chip", has_text=f"#{tag}")
    facet = page.locator(".facets .tags li", has_text=f"#{tag}")

    page.goto("/c/acme/memories/")
    page.locator(".memory-item a.title").first.click()
    expect(page.locator("#tags")).to_be_visible()
    memory_url = page.url
    _mark_document(page)

    page.get_by_label("Add a tag").fill(tag)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(chip).to_be_visible()
    expect(page.get_by_label("Add a tag")).to_have_value("")
    _expect_same_document(page)

    chip.click()
    expect(page.locator(".results-head h1")).to_have_text("1 memory")
    expect(facet.locator(".n")).to_have_text("1")

    page.goto(memory_url)
    _mark_document(page)
    page.get_by_role("button", name=f"Remove tag {tag}").click()
    expect(chip).to_have_count(0)
    _expect_same_document(page)

    page.goto(f"/c/acme/memories/?tag={tag}")
    expect(page.locator(".results-head h1")).to_have_text("0 memories")
    expect(facet).to_have_count(0)


def test_slash_focuses_the_search_box(page):
    page.goto("/c/acme/memories/")
    expect(page.locator("#q")).not_to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value("")


def test_j_k_move_through_results_and_g_graphs_the_selection(page):
    page.goto("/c/acme/search/?q=redis")
    items = page.locator(".memory-item")
    expect(items.first).to_be_visible()
    page.keyboard.press("j")
    expect(items.nth(0)).to_have_class(re.compile("kb-current"))
    expect(items.nth(0).locator("a.title")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(items.nth(1)).to_have_class(re.compile("kb-current"))
    href = items.nth(1).locator("a.title").get_attribute("href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    page.go_back()
    expect(page.locator(".memory-item").first).to_be_visible()
    page.locator("main").click(position={"x": 2, "y": 2})  # a blank spot: not a link of the list
    page.keyboard.press("g")
    expect(page).to_have_url(re.compile(r"/c/acme/graph/\?view=results&q=redis"))


def test_question_mark_lists_the_shortcuts(page):
    page.goto("/c/acme/memories/")
    dialog = page.locator("dialog#shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Keyboard shortcuts")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Shortcuts (?)").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_theme_toggle_overrides_the_system_and_is_remembered(page):
    page.emulate_media(color_scheme="light")
    page.goto("/c/acme/memories/")
    background = "getComputedStyle(document.documentElement).backgroundColor"
    light = page.evaluate(background)
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_have_text("Theme: as the system")
    toggle.click()
    expect(toggle).to_have_text("Theme: dark")
    assert page.evaluate(background) != light
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) != light
    toggle.click()
    expect(toggle).to_have_text("Theme: light")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == light  # the choice wins over the system's
    toggle.click()
    expect(toggle).to_have_text("Theme: as the system")
    assert page.evaluate(background) != light  # back to following the (now dark) system
