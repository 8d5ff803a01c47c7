"""Fixtures of the browser tests."""
import pytest

from tests.support.browsers import TIMEOUT_MS, WIDE


@pytest.fixture
def new_page(browser, live_server, client_db, handle, web):
    """new_page(viewport, scheme, errors=None): a page of the live server signed in as alice (`web`),
    collecting console errors and uncaught exceptions into ``errors`` when given one."""
    contexts = []

    def make(viewport=WIDE, scheme="light", errors=None):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, color_scheme=scheme)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies(
            [{"name": "sessionid", "value": web.cookies["sessionid"].value, "url": live_server.url}]
        )
        contexts.append(context)
        page = context.new_page()
        if errors is not None:
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()
