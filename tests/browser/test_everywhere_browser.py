"""Issue 13, "Everywhere", in chromium: the client switcher, a one-line header on a phone with the
menu behind "Menu" and the facets behind "Filters", the editor's preview and tag suggestions, the
admin's mode-dependent fields, the relationship ✕ asking first, no htmx console error; and
screenshots of the main pages (1280x900 and 375 px, light and dark) left in test-artifacts/."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from tests.support.browsers import PHONE, SCREENSHOTS, TIMEOUT_MS, WIDE
from tests.support.clients import register_client

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "everywhere"


@pytest.fixture
def site(browser, live_server, client_db, handle, empty_file, web):
    """(new_page(viewport, scheme, staff=False), memory id with relationships): pages logged in as alice."""
    register_client("team", empty_file, name="Team notes")
    admin = get_user_model().objects.create_superuser("root", "", "pw-root-123")
    staff = Client()
    staff.force_login(admin)
    contexts = []

    def new_page(viewport=WIDE, scheme="light", as_staff=False, console=None):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, color_scheme=scheme)
        context.set_default_timeout(TIMEOUT_MS)
        session = (staff if as_staff else web).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        if console is not None:
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        return page

    memory_id = handle.readmodel.conn.execute(
        "SELECT from_id FROM edge GROUP BY from_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    yield new_page, memory_id
    for context in contexts:
        context.close()


def test_the_switcher_opens_another_client_database(site):
    new_page, _ = site
    page = new_page()
    page.goto("/c/acme/memories/")
    switcher = page.locator("details.switcher")
    expect(switcher.locator("summary")).to_contain_text("Acme")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name="Team notes")).to_be_visible()
    switcher.get_by_role("link", name="Team notes").click()
    expect(page).to_have_url(re.compile(r"/c/team/memories/$"))
    expect(page.locator("details.switcher summary")).to_contain_text("Team notes")
    expect(page.get_by_text("Team notes has no memories yet")).to_be_visible()
    expect(page.locator(".welcome").get_by_role("link", name="Import a memory file")).to_be_visible()


def test_the_phone_header_is_one_line_and_the_menu_opens(site):
    new_page, memory_id = site
    page = new_page(PHONE)
    for url in ("/c/acme/memories/", f"/c/acme/memories/{memory_id}/", "/c/acme/memories/new/",
                "/c/acme/tags/", "/c/acme/import/", "/sync/", "/c/acme/nothing-here/"):
        page.goto(url)
        height = page.locator("header.top").bounding_box()["height"]
        assert height <= 64, (url, height)
    page.goto("/c/acme/memories/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.locator("details.menu > summary").click()
    expect(nav.get_by_role("link", name="Tags")).to_be_visible()
    nav.get_by_role("link", name="Tags").click()
    expect(page).to_have_url(re.compile(r"/c/acme/tags/$"))
    # On a wide screen the same menu is inline, no "Menu" button.
    wide = new_page(WIDE)
    wide.goto("/c/acme/memories/")
    expect(wide.get_by_role("navigation", name="Main").get_by_role("link", name="Tags")).to_be_visible()
    expect(wide.locator("details.menu > summary")).to_be_hidden()
    assert wide.locator("header.top").bounding_box()["height"] <= 64


def test_the_phone_facets_come_first_behind_filters(site):
    new_page, _ = site
    page = new_page(PHONE)
    page.goto("/c/acme/memories/")
    toggle = page.get_by_role("button", name="Filters")
    expect(toggle).to_be_visible()
    results = page.locator(".results").bounding_box()
    assert toggle.bounding_box()["y"] < results["y"] < 900, results
    facet = page.locator(".facets details").first
    expect(facet).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(facet).to_be_visible()
    page.locator(".facets details").first.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"type="))
    expect(page.get_by_role("button", name=re.compile(r"^Filters \(1\)$"))).to_be_visible()


def test_typing_a_search_logs_no_htmx_error(site):
    new_page, _ = site
    errors = []
    page = new_page(console=errors)
    page.goto("/c/acme/memories/?type=problem")
    page.locator("#q").press_sequentially("redis", delay=40)
    expect(page).to_have_url(re.compile(r"/c/acme/search/\?q=redis&type=problem$"))
    page.goto("/c/acme/memories/")
    page.locator("#q").press_sequentially("oauth", delay=40)
    expect(page).to_have_url(re.compile(r"/c/acme/search/\?q=oauth$"))
    assert not [e for e in errors if "hx-include" in e or "htmx" in e.lower()], errors


def test_the_editor_previews_markdown_and_suggests_tags(site):
    new_page, _ = site
    page = new_page()
    page.goto("/c/acme/memories/new/")
    page.get_by_label("Content").fill("# Heading\n\n**bold** <script>window.pwned = 1</script>")
    preview = page.locator("#content-preview")
    expect(preview.locator("h1")).to_have_text("Heading")
    expect(preview.locator("strong")).to_have_text("bold")
    assert page.evaluate("window.pwned") is None and preview.locator("script").count() == 0
    tags = page.get_by_label("Tags")
    tags.press_sequentially("first, re", delay=40)
    options = page.locator("#tag-options option")
    expect(options.first).to_have_attribute("value", re.compile(r"^first, re"))
    page.screenshot(path=str(SHOTS / "editor-preview-1280-light.png"), full_page=True)


def test_the_relationship_x_asks_first(site):
    new_page, memory_id = site
    page = new_page()
    page.goto(f"/c/acme/memories/{memory_id}/")
    before = page.locator(".relationships li").count()
    page.locator(".relationships button.remove").first.click()
    expect(page.get_by_role("heading", name="Remove this relationship?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".relationships li")).to_have_count(before)
    page.locator(".relationships button.remove").first.click()
    page.get_by_role("button", name="Remove relationship").click()
    expect(page.locator(".messages")).to_contain_text("Relationship removed.")
    expect(page.locator(".relationships li")).to_have_count(before - 1)


def test_the_admin_hides_synced_fields_in_local_mode(site):
    new_page, _ = site
    page = new_page(as_staff=True)
    page.goto("/admin/memories/clientdatabase/add/")
    expect(page.locator(".form-row.field-path")).to_be_visible()
    for name in ("remote_url", "token_ref", "sync_interval", "source"):
        expect(page.locator(f".form-row.field-{name}")).to_be_hidden()
    page.locator("#id_mode").select_option("synced")
    for name in ("remote_url", "token_ref", "sync_interval", "source"):
        expect(page.locator(f".form-row.field-{name}")).to_be_visible()
    expect(page.locator(".form-row.field-remote_url .help")).to_contain_text("libsql://<db>.turso.io")


def test_favicon_loads(site):
    new_page, _ = site
    page = new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto("/c/acme/memories/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(href).status == 200
    assert not failed, failed


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_main_pages(site, scheme):
    """Left in test-artifacts/screenshots/everywhere/ to be looked at (not compared)."""
    new_page, memory_id = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"list": "/c/acme/memories/", "detail": f"/c/acme/memories/{memory_id}/",
             "edit": f"/c/acme/memories/{memory_id}/edit/", "tags": "/c/acme/tags/",
             "import": "/c/acme/import/",
             "empty": "/c/team/memories/", "error-404": "/c/acme/memories/no-such-memory/",
             "error-400": "/c/acme/memories/?band=huge", "sync": "/sync/",
             "admin-clients": "/admin/memories/clientdatabase/"}
    for size, viewport in (("1280", WIDE), ("375", PHONE)):
        page = new_page(viewport, scheme, as_staff=True)
        for name, url in pages.items():
            page.goto(url)
            if name == "edit":
                page.get_by_label("Content").press("Control+End")
                page.get_by_label("Content").type("\n\n**Previewed** as you type.")
                expect(page.locator("#content-preview strong")).to_have_text("Previewed")
            page.screenshot(path=str(SHOTS / f"{name}-{size}-{scheme}.png"), full_page=size == "1280")
        if size == "375":
            page.goto("/c/acme/memories/")
            page.locator("details.menu > summary").click()
            page.screenshot(path=str(SHOTS / f"menu-open-375-{scheme}.png"))
            page.locator("details.menu > summary").click()
            page.get_by_role("button", name="Filters").click()
            page.screenshot(path=str(SHOTS / f"filters-open-375-{scheme}.png"))
        else:
            page.goto("/c/acme/memories/")
            page.locator("details.switcher summary").click()
            page.screenshot(path=str(SHOTS / f"switcher-open-1280-{scheme}.png"))
    assert len(list(SHOTS.glob(f"*-{scheme}.png"))) >= 2 * len(pages)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_new_pages_and_open_menus_have_no_wcag_violations(site, handle, scheme):
    from tests.support.browsers import violations

    new_page, memory_id = site
    rel_id = handle.readmodel.conn.execute(
        "SELECT id FROM edge WHERE from_id = ?", (memory_id,)).fetchone()[0]
    found = {}
    page = new_page(WIDE, scheme)
    for url in (
        f"/c/acme/relationships/{rel_id}/delete/?memory={memory_id}", "/c/team/memories/",
        "/c/acme/memories/no-such-memory/", "/c/acme/memories/?band=huge",
    ):
        page.goto(url)
        found[url] = violations(page)
    page.goto("/c/acme/memories/")
    page.locator("details.switcher summary").click()
    found["switcher open"] = violations(page)
    phone = new_page(PHONE, scheme)
    phone.goto("/c/acme/memories/")
    phone.locator("details.menu > summary").click()
    phone.get_by_role("button", name="Filters").click()
    found["phone menu and filters open"] = violations(phone)
    problems = {url: v for url, v in found.items() if v}
    assert not problems, problems
