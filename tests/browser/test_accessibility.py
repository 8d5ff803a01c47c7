"""WCAG 2.1 AA on the main pages, checked with axe-core (vendored in static/) in chromium,
in the light and the dark theme."""
import pytest
from django.contrib.auth import get_user_model

from graphs.models import EmbedToken
from tests.support.browsers import violations

pytestmark = pytest.mark.browser

@pytest.fixture
def pages(browser, live_server, client_db, handle):
    admin = get_user_model().objects.create_superuser("root", "", "pw-root-123")
    from django.test import Client

    staff = Client()
    staff.force_login(admin)
    memory_id = handle.readmodel.conn.execute(
        "SELECT from_id FROM edge GROUP BY from_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    embed = EmbedToken.objects.create(client=client_db, view=f"memory={memory_id}&depth=1", title="Embed")
    urls = [
        "/c/acme/memories/", "/c/acme/search/?q=redis", f"/c/acme/memories/{memory_id}/",
        f"/c/acme/memories/{memory_id}/edit/", "/c/acme/tags/", "/c/acme/unresolved/",
        f"/c/acme/graph/?memory={memory_id}&depth=1", "/c/acme/import/", "/sync/", f"/embed/{embed.token}/",
        "/c/acme/search/?q=how+to+fix+CORS", "/c/acme/search/?q=kuberntes",
        "/c/acme/search/?q=zzqqxx&type=error",
    ]
    return live_server.url, staff.cookies["sessionid"].value, urls


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_have_no_wcag_violations(browser, pages, scheme):
    base, session, urls = pages
    context = browser.new_context(base_url=base, color_scheme=scheme)
    context.set_default_timeout(10_000)
    page = context.new_page()
    found = {}
    try:
        page.goto("/accounts/login/")
        found["/accounts/login/"] = violations(page)
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        for url in urls:
            page.goto(url)
            if "/search/" in url:  # the facets follow in a second request
                page.wait_for_selector(".facets .facet-sections", state="attached")
            if "/graph/" in url or "/embed/" in url:
                page.wait_for_selector("#graph-canvas[data-stable='1']")
            found[url] = violations(page)
    finally:
        context.close()
    problems = {url: v for url, v in found.items() if v}
    assert not problems, "\n".join(f"{url}:\n  " + "\n  ".join(v) for url, v in problems.items())


def test_main_pages_fit_a_phone(browser, pages):
    """No sideways scrolling at 375 px on the pages people read on a phone."""
    base, session, urls = pages
    context = browser.new_context(base_url=base, viewport={"width": 375, "height": 800}, is_mobile=True)
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    try:
        too_wide = {}
        for url in ["/c/acme/memories/", "/c/acme/search/?q=redis", urls[2], "/c/acme/tags/", "/sync/"]:
            page.goto(url)
            width = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if width[0] > width[1] + 1:
                too_wide[url] = width
        assert not too_wide, too_wide
    finally:
        context.close()
