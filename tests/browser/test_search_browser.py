"""Issue 13, "Search", in chromium: the facets and the exact total follow the results in a
second request, the any-word fallback, the typo banner and a page with no results; and
screenshots of those pages (1280x900 and 375 px, light and dark) left in test-artifacts/."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.browsers import PHONE, SCREENSHOTS, WIDE

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "search"
PAGES = {"results": "/c/acme/search/?q=redis", "partial": "/c/acme/search/?q=how+to+fix+CORS",
         "typo": "/c/acme/search/?q=kuberntes", "no-results": "/c/acme/search/?q=zzqqxx+wwqqyy&type=problem"}


def test_facets_and_the_exact_total_follow_the_results(new_page):
    errors = []
    page = new_page(errors=errors)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(PAGES["results"])
    expect(page.locator(".facets .facet-sections details").first).to_be_visible()
    assert any("part=facets" in url for url in requests)
    expect(page.locator(".facets-loading")).to_have_count(0)
    expect(page.locator("#search-total")).to_have_text(re.compile(r"^\d[\d,]*$"))
    # A facet link still replaces the whole listing (boosted), not just the facets.
    page.locator(".facets details", has_text="Type").locator("a").first.click()
    expect(page).to_have_url(re.compile(r"type="))
    expect(page.locator(".facets .facet-sections")).to_have_count(1)
    expect(page.locator(".results h1")).to_contain_text("result")
    assert not errors, errors


def test_partial_typo_and_empty_pages_read_right(new_page):
    page = new_page()
    page.goto(PAGES["partial"])
    expect(page.locator(".results-head .note")).to_contain_text("No memory has all the words")
    expect(page.locator(".memories .memory-item.partial").first).to_be_visible()
    expect(page.locator(".memories .partial-head")).to_have_count(0)  # the note says it already
    page.get_by_role("link", name=re.compile("Search exactly for")).click()
    expect(page).to_have_url(re.compile(r"exact=1"))
    expect(page.locator(".memories .empty")).to_contain_text("Nothing matches")
    page.goto("/c/acme/search/?q=safari+cookie")
    expect(page.locator(".results-head .note")).to_contain_text("all the words; below, the best matches")
    expect(page.locator(".memories .partial-head")).to_be_visible()
    page.goto(PAGES["typo"])
    expect(page.locator(".results-head .note")).to_contain_text("Showing results for kubernetes.")
    page.goto(PAGES["no-results"])
    expect(page.locator(".results")).not_to_contain_text("Tag all")
    expect(page.locator(".suggestions")).to_contain_text("popular tag")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_search_pages(new_page, scheme):
    """Left in test-artifacts/screenshots/search/ to be looked at (not compared); no page is
    wider than its viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("1280", WIDE), ("375", PHONE)):
        page = new_page(viewport, scheme)
        for name, url in PAGES.items():
            page.goto(url)
            expect(page.locator(".facets .facet-sections")).to_have_count(1)
            page.screenshot(path=str(SHOTS / f"{name}-{size}-{scheme}.png"), full_page=size == "1280")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} at {size} px is {overflow} px too wide"
